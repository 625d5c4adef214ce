namespace Mmspec.SpecTests.Execution;

/// <summary>
/// A trace as people read it: a long run of one function within one step (a hog's thousands of allocations, the
/// teardown's frees) shows its first and last calls and how many it left out. Reproducers replay every call.
/// </summary>
public static class TraceText
{
    private const int Kept = 3;

    public static IEnumerable<string> Lines(IReadOnlyList<CallRecord> trace) => Entries(trace).Select(line => line.Text);

    /// <summary>The lines of <see cref="Lines"/> with the step each belongs to and its call (null for the line that stands for calls left out).</summary>
    public static IEnumerable<TraceLine> Entries(IReadOnlyList<CallRecord> trace)
    {
        for (int start = 0; start < trace.Count;)
        {
            int end = start + 1;
            while (end < trace.Count && SameRun(trace[start], trace[end]))
                end++;
            int length = end - start;
            if (length <= 3 * Kept)
                for (int i = start; i < end; i++)
                    yield return Line(trace[i]);
            else
            {
                for (int i = start; i < start + Kept; i++)
                    yield return Line(trace[i]);
                yield return new TraceLine(trace[start].Step, null, $"// ... {length - 2 * Kept:N0} more {trace[start].Call.Function}() calls in step {trace[start].Step} ...");
                for (int i = end - Kept; i < end; i++)
                    yield return Line(trace[i]);
            }
            start = end;
        }
    }

    private static TraceLine Line(CallRecord call) => new(call.Step, call, call.ToString());

    private static bool SameRun(CallRecord first, CallRecord next) =>
        next.Step == first.Step && next.Call.Function == first.Call.Function && next.End == CallEnd.Returned && first.End == CallEnd.Returned;
}

/// <summary>One line of a trace as people read it: a call of <paramref name="Step"/>, or with no call, how many were left out.</summary>
public sealed record TraceLine(int Step, CallRecord? Call, string Text);
