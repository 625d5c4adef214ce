using FsCheck;
using FsCheck.Fluent;
using Mmspec.Models.State;

namespace Mmspec.SpecTests.Sequences;

/// <summary>
/// Generators for steps, biased toward where bugs hide: small address pools (so pages are reused and
/// freed pages come back), table edges, the kernel boundary, the direct map, and a RAM small enough
/// to run out.
/// </summary>
public static class OperationGenerators
{
    /// <summary>A space by index; picks wrap over the spaces that exist (two at first, more after CreateSpace steps).</summary>
    private static readonly Gen<int> Space = Gen.Choose(0, Execution.SequenceContext.MaxSpaces - 1);
    /// <summary>Which live item a step acts on; the swarm sets how often that is the newest.</summary>
    private static Gen<LivePick> Which(Swarm swarm) => LivePick.Weighted(swarm.NewestWeight);

    private static readonly Gen<Rights> Flags = Gen.Choose(0, 7).Select(bits => (Rights)bits);

    public static readonly Gen<AddressPick> UserAddress = Pick(Area.UserLow, Area.UserLow, Area.Edge2MiB, Area.Edge1GiB, Area.Edge512GiB, Area.UserTop, Area.UpperUser, Area.BelowKernelBoundary);

    public static readonly Gen<AddressPick> KernelAddress = Pick(Area.KernelAboveDirectMap, Area.KernelAboveDirectMap, Area.KernelTop, Area.DirectMap);

    public static readonly Gen<AddressPick> AnyAddress = Gen.Frequency((6, UserAddress), (3, KernelAddress), (1, Pick(Area.NonCanonical)));

    public static readonly StepKind AllocPage = Kind<AllocPages>("AllocPage", Gen.Constant<Operation>(new AllocPages(1, false)));

    public static readonly StepKind AllocContiguous = Kind<AllocPages>("AllocContiguous",
        Gen.Frequency((6, Gen.Choose(1, 8)), (2, Gen.Choose(9, 600)), (1, Gen.Constant(0)), (1, Gen.Choose(2000, 4000)))
            .Select(count => (Operation)new AllocPages((ulong)count, true)));

    public static readonly StepKind FreePage = Kind<FreePage>("FreePage", swarm => Which(swarm).Select(which => (Operation)new FreePage(which)));

    public static readonly StepKind FreeBad = Kind<FreeBadPage>("FreeBad", Gen.Elements(Enum.GetValues<BadFree>()).Select(kind => (Operation)new FreeBadPage(kind)));

    private static readonly Gen<ulong> KmallocSize =
        Gen.Frequency(
            (12, Gen.Frequency(
                    (5, Gen.Choose(1, 64)), (3, Gen.Choose(65, 2048)), (2, Gen.Choose(2049, 20000)),
                    (1, Gen.Elements(0, 16, 2048, 4096, 4097)), (1, Gen.Constant(16 << 20)))
                .Select(size => (ulong)size)),
            (1, Gen.Elements(Misuse.ImpossibleSizes)));

    /// <summary>Sizes over wide bands, or half the time one of the swarm's favoured sizes (so that one size class fills).</summary>
    public static readonly StepKind Kmalloc = Kind<Kmalloc>("Kmalloc", swarm =>
        (swarm.KmallocSizes.Count == 0 ? KmallocSize : Gen.Frequency((1, KmallocSize), (1, Gen.Elements(swarm.KmallocSizes.ToArray()))))
            .Select(size => (Operation)new Kmalloc(size)));

    /// <summary>Small sizes (many per page) most often, so that a burst fills a slab and starts the next; a favoured size when the swarm has one.</summary>
    public static readonly StepKind KmallocBurst = Kind<KmallocBurst>("KmallocBurst", swarm =>
        from size in swarm.KmallocSizes.Count > 0 ? Gen.Elements(swarm.KmallocSizes.ToArray()) : Gen.Elements<ulong>(8, 16, 24, 32, 48, 64, 96, 128, 256, 768, 2048)
        from count in Gen.Elements(8, 33, 65, 100, 130, 260)
        select (Operation)new KmallocBurst(size, count));

    public static readonly StepKind Kfree = Kind<Kfree>("Kfree", swarm =>
        Gen.Frequency((8, Gen.Constant(KfreeKind.Live)), (1, Gen.Constant(KfreeKind.Null)), (1, Gen.Constant(KfreeKind.Double)), (1, Gen.Elements(KfreeKind.Interior, KfreeKind.Foreign)))
            .SelectMany(kind => Which(swarm).Select(which => (Operation)new Kfree(which, kind))));

    public static readonly StepKind Map = Kind<MapSingle>("Map", swarm =>
        from space in Space
        from virt in swarm.Address(Gen.Frequency((3, UserAddress), (1, KernelAddress), (1, AnyAddress), (1, Misuse.TwinPage)))
        from which in Which(swarm)
        from flags in Flags
        from bad in Gen.Frequency((12, Gen.Constant(BadMapping.None)), (1, Gen.Elements(BadMapping.UnalignedVirt, BadMapping.UnalignedPhys, BadMapping.InvalidFlags, BadMapping.PhysBeyondRam)))
        select (Operation)new MapSingle(space, virt, which, virt.IsKernel ? flags & ~Rights.User : flags, bad));

    public static readonly StepKind MapKernelUser = Kind<MapSingle>("MapKernelUser", swarm =>
        from space in Space
        from virt in swarm.Address(KernelAddress).Where(pick => pick.IsKernel)
        from which in Which(swarm)
        select (Operation)new MapSingle(space, virt, which, Rights.User | Rights.Write));

    public static readonly StepKind MapGet = Kind<MapGet>("MapGet", swarm =>
        from space in Space
        from virt in swarm.Address(Gen.Frequency((4, AnyAddress), (1, Misuse.NonCanonicalTwin)))
        from offset in Gen.Frequency((2, Gen.Constant(0UL)), (1, Gen.Elements(1UL, 0x7FFUL, 0xFFFUL, 0x1234UL, 0x1FFFFFUL)))
        from withFlags in Gen.Frequency((5, Gen.Constant(true)), (1, Gen.Constant(false)))
        select (Operation)new MapGet(space, virt, offset, withFlags));

    public static readonly StepKind Unmap = Kind<UnmapSingle>("Unmap", swarm =>
        from space in Space
        from virt in swarm.Address(Gen.Frequency((4, UserAddress), (2, KernelAddress), (1, AnyAddress), (1, Misuse.NonCanonicalTwin)))
        from size in Gen.Frequency((5, Gen.Constant(1u)), (4, Gen.Constant(0u)), (1, Gen.Constant(2u)))
        select (Operation)new UnmapSingle(space, virt, size));

    public static Gen<SearchRange> Range(Swarm swarm) =>
        from start in swarm.Address(AnyAddress)
        from span in Gen.Elements<ulong>(1, 2, 3, 4, 8, 16, 64, 513, 1UL << 18, 1UL << 35)
        from misalign in Gen.Frequency((8, Gen.Constant(0UL)), (1, Gen.Elements(1UL, 0x800UL, 0xFFFUL)))
        from reversed in Gen.Frequency((30, Gen.Constant(false)), (1, Gen.Constant(true)))
        select new SearchRange(start, span, misalign, reversed);

    public static readonly Gen<ulong> RegionPages = Gen.Frequency(
        (30, Gen.Frequency((6, Gen.Choose(1, 4)), (3, Gen.Choose(5, 40)), (1, Gen.Elements(0, 600, 3000))).Select(pages => (ulong)pages)),
        (1, Gen.Elements(Misuse.ImpossiblePages)));

    public static readonly StepKind VmFind = Kind<VmFind>("VmFind", swarm =>
        from space in Space
        from range in Range(swarm)
        from pages in RegionPages
        select (Operation)new VmFind(space, range, pages));

    public static readonly StepKind VmAlloc = Kind<VmAlloc>("VmAlloc", swarm =>
        from space in Space
        from range in Range(swarm)
        from pages in RegionPages
        from flags in Flags
        select (Operation)new VmAlloc(space, range, pages, flags));

    public static readonly StepKind VmAllocRemaining = Kind<VmAllocRemaining>("VmAllocRemaining",
        from space in Space
        from start in Pick(Area.Edge512GiB, Area.Edge1GiB, Area.UpperUser, Area.KernelAboveDirectMap)
        from slack in Gen.Choose(-1, 3)
        from flags in Flags
        select (Operation)new VmAllocRemaining(space, start, slack, start.IsKernel ? flags & ~Rights.User : flags));

    public static readonly StepKind VmFree = Kind<VmFree>("VmFree", swarm =>
        from which in Which(swarm)
        from extent in Gen.Frequency((6, Gen.Constant(FreeExtent.Whole)), (2, Gen.Constant(FreeExtent.FirstHalf)), (1, Gen.Constant(FreeExtent.WithMargins)))
        select (Operation)new VmFree(which, extent));

    public static readonly StepKind CreateSpace = Kind<CreateSpace>("CreateSpace", Gen.Constant<Operation>(new CreateSpace()));

    /// <summary>Every free page but a few, left free in one of several shapes.</summary>
    public static readonly StepKind Hog = Kind<Hog>("Hog",
        from leave in Gen.Elements(0, 1, 2, 3, 4, 8)
        from shape in Gen.Elements(Enum.GetValues<LeaveFree>())
        select (Operation)new Hog(leave, shape));

    public static readonly StepKind Release = Kind<Release>("Release", Gen.Elements(1, 1, 2).Select(every => (Operation)new Release(every)));

    /// <summary>A step kind whose generator ignores the swarm's favourites (it can still be left out).</summary>
    public static StepKind Kind<T>(string name, Gen<Operation> generator) where T : Operation => new(name, typeof(T), _ => generator);

    public static StepKind Kind<T>(string name, Func<Swarm, Gen<Operation>> generator) where T : Operation => new(name, typeof(T), generator);

    /// <summary>A list of 1 to <paramref name="maxSteps"/> steps whose length grows with FsCheck's size.</summary>
    public static Gen<List<Operation>> Sequence(Gen<Operation> step, int maxSteps) =>
        Gen.Sized(size => Gen.Choose(1, Math.Clamp(size * 3 / 2, 1, maxSteps)))
            .SelectMany(length => step.ListOf(length))
            .Select(list => list.ToList());

    /// <summary>Shorter sequences first (drop halves, quarters, ... single steps), then simpler steps.</summary>
    public static IEnumerable<List<Operation>> Shrink(List<Operation> steps)
    {
        for (int chunk = steps.Count / 2; chunk >= 1; chunk /= 2)
            for (int start = 0; start + chunk <= steps.Count; start += chunk)
                yield return [.. steps.Take(start), .. steps.Skip(start + chunk)];
        for (int index = 0; index < steps.Count; index++)
            foreach (Operation simpler in steps[index].Simpler())
                yield return [.. steps.Take(index), simpler, .. steps.Skip(index + 1)];
    }

    private static Gen<AddressPick> Pick(params Area[] areas) =>
        from area in Gen.Elements(areas)
        from index in Gen.Choose(0, AddressPick.PoolSize - 1)
        select new AddressPick(area, index);
}
