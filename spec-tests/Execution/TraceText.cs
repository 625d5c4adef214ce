namespace Mmspec.SpecTests.Execution;

/// <summary>
/// A trace as people read it: a long run of one function within one step (a hog's thousands of allocations, the
/// teardown's frees) shows its first and last calls and how many it left out. Reproducers replay every call.
/// </summary>
public static class TraceText
{
    private const int Kept = 3;

    public static IEnumerable<string> Lines(IReadOnlyList<CallRecord> trace)
    {
        for (int start = 0; start < trace.Count;)
        {
            int end = start + 1;
            while (end < trace.Count && SameRun(trace[start], trace[end]))
                end++;
            int length = end - start;
            if (length <= 3 * Kept)
                for (int i = start; i < end; i++)
                    yield return trace[i].ToString();
            else
            {
                for (int i = start; i < start + Kept; i++)
                    yield return trace[i].ToString();
                yield return $"// ... {length - 2 * Kept:N0} more {trace[start].Call.Function}() calls in step {trace[start].Step} ...";
                for (int i = end - Kept; i < end; i++)
                    yield return trace[i].ToString();
            }
            start = end;
        }
    }

    private static bool SameRun(CallRecord first, CallRecord next) =>
        next.Step == first.Step && next.Call.Function == first.Call.Function && next.End == CallEnd.Returned && first.End == CallEnd.Returned;
}
