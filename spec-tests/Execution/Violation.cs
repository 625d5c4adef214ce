namespace Mmspec.SpecTests.Execution;

/// <summary>
/// A broken clause: which one, at which step, and what was seen. When the broken check was about the value
/// the step's call returned, <paramref name="Expected"/> is the C condition that value had to meet, with
/// <c>r</c> standing for it (e.g. <c>r == 0x101000</c>). When it was about the state after the step,
/// <paramref name="State"/> says what that state should have been (<see cref="StateCheck"/>).
/// <paramref name="Actions"/> is what the suite did to the machine besides the recorded calls (the marks it wrote,
/// its counts of free pages), each placed in the trace, so that a C reproducer can do the same.
/// </summary>
public sealed record Violation(string Clause, string Message, int Step, string? Expected = null,
    IReadOnlyList<StateCheck>? State = null, IReadOnlyList<SuiteAction>? Actions = null)
{
    public override string ToString() => $"[{Clause}] step {Step}: {Message}";
}

/// <summary>Ends a sequence at its first violation; the runner turns it into a result.</summary>
public sealed class ViolationException(Violation violation) : Exception(violation.ToString())
{
    public Violation Violation { get; } = violation;
}

/// <summary>How a call ended.</summary>
public enum CallEnd
{
    Returned,
    Panicked,
    Crashed,
}

/// <summary>
/// One call the sequence made, with what the implementation returned (or how it ended). <paramref name="Detail"/>
/// names the panic reason or the exception of a crash.
/// </summary>
public sealed record CallRecord(int Step, ApiCall Call, CallEnd End, CallOutcome Outcome, string Detail = "")
{
    /// <summary>The suite made the call on its own after the step, to compare the API's view with the model (<see cref="ApiViewCheck"/>).</summary>
    public bool CrossCheck { get; init; }

    /// <summary>The frames of RAM the call wrote, in increasing order; null where the implementation cannot tell (<see cref="Port.IWriteTracking"/>).</summary>
    public IReadOnlyList<ulong>? Written { get; init; }

    /// <summary>
    /// One of a batch of calls made together (a hog, a drain's give-back): what they wrote is known only as a whole
    /// (<see cref="SequenceContext.UnjudgedWrites"/>), so no call of it is judged by its writes.
    /// </summary>
    public bool InBatch { get; init; }

    public string Returned => End switch
    {
        CallEnd.Panicked => $"panic {Detail}",
        CallEnd.Crashed => $"crash {Detail}",
        _ when Call.Returns == ReturnKind.Void => "returned",
        _ => Call.ShowResult(Outcome),
    };

    public override string ToString() => $"{Call};  // -> {Returned}{(CrossCheck ? $" (the suite's cross-check after step {Step})" : "")}";
}
