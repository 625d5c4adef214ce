using Mmspec.SpecTests.Execution;

namespace Mmspec.SpecTests.Sequences;

/// <summary>
/// Strict: the kernel half the implementation built at boot is the reference's (DMAP-D06, DMAP-D07). A step of
/// its own property, not part of every setup, so that the strict run of the other properties shows each other
/// departure from the reference under its own clause.
/// </summary>
public sealed record CheckBootLayout : Operation
{
    public override string Clause => "DMAP-D07";

    public override IReadOnlyList<string> Clauses => ["DMAP-D06", "DMAP-D07"];

    public override bool Apply(SequenceContext ctx)
    {
        if (!ctx.Strict)
            return false;
        BootState.CheckReferenceLayout(ctx);
        return true;
    }
}
