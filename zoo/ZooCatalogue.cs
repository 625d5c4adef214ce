using Mmspec.Reference.Kernel;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Port;
using Mmspec.Zoo.Bugs;

namespace Mmspec.Zoo;

/// <summary>One deliberately broken kernel: the reference with one realistic bug.</summary>
/// <param name="CaughtBy">The id of the property (PropertyCatalogue) that catches it in the default profile.</param>
/// <param name="MaxShrunkSteps">The longest shrunk counterexample the suite may report for it.</param>
public sealed record ZooMember(string Name, string Description, string CaughtBy, int MaxShrunkSteps, IImplementationFactory Factory);

/// <summary>The bug zoo: implementations the suite must reject, each with the property that rejects it.</summary>
public static class ZooCatalogue
{
    private const string Physical = "stateful.physical";
    private const string Heap = "stateful.heap";
    private const string Mapping = "stateful.mapping";
    private const string Regions = "stateful.regions";

    public static IReadOnlyList<ZooMember> All { get; } =
    [
        Components("contiguous-includes-used-page", "mm_phys_alloc_contiguous's run search lets a single used frame inside a run pass as free",
            Physical, 5, new ZooComponents { Allocator = (ram, low) => new RunAcrossUsedFrame(ram, low) }),
        Components("contiguous-short-by-one", "mm_phys_alloc_contiguous marks count - 1 pages used: the run's last page is handed out again",
            Physical, 3, new ZooComponents { Allocator = (ram, low) => new ContiguousShortByOne(ram, low) }),
        Components("table-not-zeroed", "new page-table pages are not zeroed, so stale data becomes entries",
            Mapping, 6, new ZooComponents { Tables = (ram, frames) => new UnzeroedTables(ram, frames) }),
        Components("leaks-tables", "pruning clears the parent entry of an empty table but never frees the table page",
            Mapping, 6, new ZooComponents { Tables = (ram, frames) => new PruneWithoutFree(ram, frames) }),
        Components("heap-large-rounds-down", "kmalloc sizes large blocks in pages rounded down: a block's tail overlaps the next allocation",
            Heap, 4, new ZooComponents { Heap = frames => new LargeRoundsDown(frames) }),
        Components("kmalloc-misaligned", "slab slots start 8 bytes in (a header), so blocks are only 8-byte aligned",
            Heap, 3, new ZooComponents { Heap = frames => new MisalignedSlots(frames) }),
        Components("vmfind-inclusive-to", "vmfind treats to as inclusive: a region may end one page past to",
            Regions, 3, new ZooComponents { Regions = (ram, frames, tables) => new InclusiveTo(ram, frames, tables) }),
        Components("vmfind-ignores-large-pages", "vmfind only sees 4 KiB leaves: the direct map's 2 MiB pages look free",
            Regions, 3, new ZooComponents { Regions = (ram, frames, tables) => new IgnoresLargePages(ram, frames, tables) }),
        Components("intermediate-without-user", "vmalloc creates intermediate tables without U/S, so user regions are not user-accessible",
            Regions, 3, new ZooComponents { Regions = (ram, frames, tables) => new TablesWithoutUser(ram, frames, tables) }),
        Components("vmalloc-exec-ignored", "vmalloc ignores MM_PAGE_EXEC: every region page is no-execute",
            Regions, 3, new ZooComponents { Regions = (ram, frames, tables) => new ExecIgnored(ram, frames, tables) }),
        Components("free-page-still-mapped", "vmfree frees the region's physical pages but leaves them mapped",
            Regions, 3, new ZooComponents { Regions = (ram, frames, tables) => new FreeStillMapped(ram, frames, tables) }),
        Kernel("map-get-large-page-offset", "mm_map_get adds virt & 0xFFF as the offset even inside a 2 MiB page",
            Mapping, 3, options => new LargePageOffsetMasked(options)),
        Kernel("umap-leaves-present", "mm_umap_single returns the page's address but never clears the entry",
            Mapping, 4, options => new UnmapLeavesPresent(options)),
        Kernel("umap-wrong-phys", "mm_umap_single returns the raw page-table entry (flags included) instead of the physical address",
            Mapping, 3, options => new UnmapReturnsEntry(options)),
        Kernel("umap-size1-removes-large", "mm_umap_single ignores size 1 and removes 2 MiB pages too",
            Mapping, 3, options => new UnmapSmallRemovesLarge(options)),
        Kernel("boundary-off-by-one", "the USER/kernel check is one page early: a USER mapping of the last user page is refused",
            Mapping, 4, options => new BoundaryOffByOne(options)),
        Kernel("map-always-writable", "mm_map_single hard-codes R/W: read-only mappings come out writable",
            Mapping, 4, options => new MapAlwaysWritable(options)),
        Components("vmfree-first-page-only", "vmfree's loop stops after the first page: the rest of the region stays mapped",
            Regions, 3, new ZooComponents { Regions = (ram, frames, tables) => new FreeFirstPageOnly(ram, frames, tables) }),
        Port("map-get-drops-offset", "mm_map_get returns the page's physical address without the in-page offset",
            Mapping, 3, inner => new MapGetDropsOffset(inner)),
        Components("vmalloc-no-rollback", "vmalloc that runs out half way leaves the pages it already mapped allocated and mapped",
            Regions, 3, new ZooComponents { Regions = (ram, frames, tables) => new NoRollback(ram, frames, tables) }),
        Components("vmfind-rounds-from-down", "vmfind rounds an unaligned from down instead of up: the region may start before from",
            Regions, 3, new ZooComponents { Regions = (ram, frames, tables) => new FromRoundedDown(ram, frames, tables) }),
        Port("kfree-poisons-neighbour", "kfree poisons one word past the block's end: the next block's first word",
            Heap, 5, inner => new KfreePoisonsNeighbour(inner)),
        Kernel("noncanonical-alias", "mm_map_single does not reject non-canonical addresses: the walk uses bits 47..12, aliasing the upper half",
            Mapping, 3, options => new NonCanonicalAlias(options)),
    ];


    /// <summary>
    /// Two members' bugs in one kernel, both caught by the same property: what the gate's own tests use to show
    /// that a clause listed in --expect does not hide the other bug. Not part of <see cref="All"/> (each bug is there on its own).
    /// </summary>
    public static IReadOnlyList<ZooMember> Combinations { get; } =
    [
        new("umap-wrong-phys+map-get-drops-offset", "umap-wrong-phys and map-get-drops-offset in one kernel", Mapping, 4,
            new DecoratedFactory("zoo:umap-wrong-phys+map-get-drops-offset", inner => new MapGetDropsOffset(inner),
                over: new KernelVariantFactory("umap-wrong-phys", options => new UnmapReturnsEntry(options)))),
    ];

    public static ZooMember Find(string name) =>
        All.Concat(Combinations).FirstOrDefault(member => member.Name == name) ?? throw new KeyNotFoundException($"no zoo member '{name}'");

    private static ZooMember Components(string name, string description, string caughtBy, int maxSteps, ComponentFactory components) =>
        new(name, description, caughtBy, maxSteps, new ReferenceFactory("zoo:" + name, components));

    private static ZooMember Kernel(string name, string description, string caughtBy, int maxSteps, Func<MachineOptions, MemoryManager> kernel) =>
        new(name, description, caughtBy, maxSteps, new KernelVariantFactory("zoo:" + name, kernel));

    private static ZooMember Port(string name, string description, string caughtBy, int maxSteps, Func<IMmImplementation, IMmImplementation> decorate) =>
        new(name, description, caughtBy, maxSteps, new DecoratedFactory("zoo:" + name, decorate));
}
