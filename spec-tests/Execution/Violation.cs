namespace Mmspec.SpecTests.Execution;

/// <summary>A broken clause: which one, at which step, and what was seen.</summary>
public sealed record Violation(string Clause, string Message, int Step)
{
    public override string ToString() => $"[{Clause}] step {Step}: {Message}";
}

/// <summary>Ends a sequence at its first violation; the runner turns it into a result.</summary>
public sealed class ViolationException(Violation violation) : Exception(violation.ToString())
{
    public Violation Violation { get; } = violation;
}

/// <summary>One call the sequence made, rendered as C, with what the implementation returned.</summary>
public sealed record CallRecord(int Step, string Call, string Returned)
{
    public override string ToString() => Returned.Length == 0 ? $"{Call};" : $"{Call};  // -> {Returned}";
}
