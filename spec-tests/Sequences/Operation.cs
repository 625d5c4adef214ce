using Mmspec.SpecTests.Execution;

namespace Mmspec.SpecTests.Sequences;

/// <summary>
/// One step of a generated sequence. Steps name what they act on by position (the n-th page the client
/// holds, the n-th region), never by address, so a sequence stays meaningful when shrinking drops steps.
/// </summary>
public abstract record Operation
{
    /// <summary>The clause a state mismatch found after this step is reported against.</summary>
    public abstract string Clause { get; }

    /// <summary>Every clause this step can report, for traceability.</summary>
    public abstract IReadOnlyList<string> Clauses { get; }

    /// <summary>Makes the call(s) and checks results against the model; false when the step does not apply now.</summary>
    public abstract bool Apply(SequenceContext ctx);

    /// <summary>Smaller variants of this step, tried while shrinking.</summary>
    public virtual IEnumerable<Operation> Simpler() => [];

    /// <summary>The step as the C# that builds it, as it appears in reports and reproducers.</summary>
    public sealed override string ToString() => Reproducers.CSharpLiteral.Of(this);
}
