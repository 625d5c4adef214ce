using FsCheck;
using FsCheck.Fluent;
using Mmspec.Models.State;
using Mmspec.SpecTests.Sequences;

namespace Mmspec.SpecTests.Properties;

/// <summary>
/// A generated sequence, the RAM it runs on (the run's RAM size less <see cref="ShortPages"/> pages, so that
/// sequences also meet RAM that ends inside a 64-page bitmap word; shrinks to 0) and the swarm configuration its
/// steps were drawn from (see <see cref="Sequences.Swarm"/>). The counterexample.
/// </summary>
public sealed record SequenceRam(int ShortPages, List<Operation> Steps, Swarm Swarm)
{
    /// <summary>A few sizes, not a range: machines behind a process boundary reuse RAM of the same size.</summary>
    private static readonly Gen<int> Short = Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Elements(1, 7, 33, 63)));

    public ulong RamSize(RunSettings settings)
    {
        ulong shorter = settings.RamSize - (ulong)ShortPages * AddressSpaceLayout.PageSize;
        return shorter >= RunSettings.MinRamSize && shorter <= settings.RamSize ? shorter : settings.RamSize;
    }

    public static Gen<SequenceRam> Generator(Gen<Swarm> swarms, Func<Swarm, Gen<List<Operation>>> steps) =>
        from shortPages in Short
        from swarm in swarms
        from sequence in steps(swarm)
        select new SequenceRam(shortPages, sequence, swarm);

    /// <summary>The whole RAM first, then shorter sequences and simpler steps.</summary>
    public static IEnumerable<SequenceRam> Shrink(SequenceRam sequence)
    {
        if (sequence.ShortPages != 0)
            yield return sequence with { ShortPages = 0 };
        foreach (List<Operation> steps in OperationGenerators.Shrink(sequence.Steps))
            yield return sequence with { Steps = steps };
    }

    public override string ToString() => $"RAM less {ShortPages} page(s): {Steps.Count} step(s), {Swarm}";
}
