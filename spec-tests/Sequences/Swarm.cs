using FsCheck;
using FsCheck.Fluent;

namespace Mmspec.SpecTests.Sequences;

/// <summary>
/// A kind of step a property draws: its name as reports show it, the operation it makes, and its generator,
/// which may follow the sequence's <see cref="Swarm"/> configuration.
/// </summary>
public sealed record StepKind(string Name, Type Produces, Func<Swarm, Gen<Operation>> Generator);

/// <summary>
/// Swarm testing (Groce et al., ISSTA 2012): each sequence first draws a configuration, then its steps from it.
/// Leaving kinds out lets the others pile up (a sequence without frees fills a slab size class, one without
/// unmaps fills a table); favoured kmalloc sizes fill one size class; the weight of the newest live item makes
/// steps reuse what was just allocated. Part of the counterexample: it shrinks to what the shrunk steps still use.
/// </summary>
/// <param name="Kinds">The step kinds the sequence draws from, by name.</param>
/// <param name="KmallocSizes">Sizes kmalloc draws half the time (none: every size as usual).</param>
/// <param name="NewestWeight">How often, against 6 uniform and 2 beside the last freed, a step picks the newest live item.</param>
/// <param name="Areas">Address areas steps draw half their addresses from (none: every area as usual), so that steps keep meeting the same few pages.</param>
public sealed record Swarm(IReadOnlyList<string> Kinds, IReadOnlyList<ulong> KmallocSizes, int NewestWeight, IReadOnlyList<Area> Areas)
{
    public Swarm(IReadOnlyList<string> kinds, IReadOnlyList<ulong> kmallocSizes, int newestWeight) : this(kinds, kmallocSizes, newestWeight, []) { }

    public const int UsualNewestWeight = 3;

    /// <summary>Every kind, no favourites: what a sequence without swarm testing draws from.</summary>
    public static Swarm Plain(IEnumerable<StepKind> kinds) => new(kinds.Select(kind => kind.Name).ToList(), [], UsualNewestWeight);

    /// <summary>Sizes that share a slab class in many heaps, and the edges of a page.</summary>
    private static readonly Gen<ulong> FavouredSize =
        Gen.Frequency((3, Gen.Elements<ulong>(8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 512, 1024, 2048)),
                      (1, Gen.Elements<ulong>(4000, 4080, 4096, 4097, 8192)), (1, Gen.Choose(1, 3000).Select(size => (ulong)size)));

    public static Gen<Swarm> Generator(IReadOnlyList<StepKind> kinds) =>
        from included in Gen.ListOf(Gen.Elements(true, false), kinds.Count)
        from fallback in Gen.Choose(0, kinds.Count - 1)
        from sizes in Gen.Frequency((1, Gen.Constant(0)), (2, Gen.Choose(1, 3))).SelectMany(count => FavouredSize.ListOf(count))
        from newest in Gen.Elements(0, UsualNewestWeight, 12)
        from areas in Gen.Frequency((1, Gen.Constant(0)), (1, Gen.Choose(1, 2))).SelectMany(count => Gen.Elements(Enum.GetValues<Area>()).ListOf(count))
        select new Swarm(Chosen(kinds, included.ToList(), fallback), sizes.Distinct().ToList(), newest, areas.Distinct().ToList());

    /// <summary>An address from <paramref name="usual"/>, or half the time from one of the favoured areas.</summary>
    public Gen<AddressPick> Address(Gen<AddressPick> usual) =>
        Areas.Count == 0
            ? usual
            : Gen.Frequency((1, usual), (1, from area in Gen.Elements(Areas.ToArray()) from index in Gen.Choose(0, AddressPick.PoolSize - 1) select new AddressPick(area, index)));

    /// <summary>The configuration as far as <paramref name="steps"/> still use it: kinds they hold, sizes they allocate.</summary>
    public Swarm UsedBy(IReadOnlyList<Operation> steps, IReadOnlyList<StepKind> kinds)
    {
        var produced = steps.Select(step => step.GetType()).ToHashSet();
        var sizes = steps.OfType<Kmalloc>().Select(step => step.Size).Concat(steps.OfType<KmallocBurst>().Select(step => step.Size)).ToHashSet();
        var areas = steps.SelectMany(AreasOf).ToHashSet();
        return new Swarm(
            Kinds.Where(name => kinds.Any(kind => kind.Name == name && produced.Contains(kind.Produces))).ToList(),
            KmallocSizes.Where(sizes.Contains).ToList(),
            NewestWeight,
            Areas.Where(areas.Contains).ToList());
    }

    public override string ToString() =>
        $"steps drawn from {string.Join(", ", Kinds)}"
        + (KmallocSizes.Count > 0 ? $"; kmalloc favours {string.Join(", ", KmallocSizes)}" : "")
        + $"; newest-item weight {NewestWeight}"
        + (Areas.Count > 0 ? $"; addresses favour {string.Join(", ", Areas)}" : "");

    private static IEnumerable<Area> AreasOf(Operation step) => step switch
    {
        MapSingle map => [map.Virt.Area],
        MapGet get => [get.Virt.Area],
        UnmapSingle unmap => [unmap.Virt.Area],
        VmFind find => [find.Range.From.Area],
        VmAlloc alloc => [alloc.Range.From.Area],
        VmAllocRemaining remaining => [remaining.From.Area],
        _ => [],
    };

    private static List<string> Chosen(IReadOnlyList<StepKind> kinds, List<bool> included, int fallback)
    {
        List<string> names = kinds.Where((_, i) => included[i]).Select(kind => kind.Name).ToList();
        return names.Count > 0 ? names : [kinds[fallback].Name]; // never an empty mix
    }
}
