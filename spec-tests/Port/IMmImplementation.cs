namespace Mmspec.SpecTests.Port;

/// <summary>
/// The implementation under test: the spec's C API, word for word (mm_space_t, uintptr_t and size_t are
/// 64-bit values), plus the few hooks a black-box suite needs. One instance is one fresh machine.
/// Misuse that the implementation treats as fatal surfaces as <see cref="ImplementationPanicException"/>.
/// </summary>
public interface IMmImplementation : IDisposable
{
    /// <summary>Bytes of simulated RAM, starting at physical address 0.</summary>
    ulong RamSize { get; }

    ulong mm_phys_alloc_page();

    ulong mm_phys_alloc_contiguous(ulong count);

    void mm_phys_free_page(ulong addr);

    ulong kmalloc(ulong size);

    void kfree(ulong ptr);

    int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags);

    ulong mm_map_get(ulong space, ulong virt, out ulong flags);

    /// <summary>mm_map_get with a NULL flags pointer: the spec makes the out-parameter optional.</summary>
    ulong mm_map_get(ulong space, ulong virt);

    ulong mm_umap_single(ulong space, ulong virt, uint size);

    ulong vmfind(ulong space, ulong from, ulong to, ulong npages);

    ulong vmalloc(ulong space, ulong from, ulong to, ulong npages, ulong flags);

    int vmfree(ulong space, ulong addr, ulong npages);

    /// <summary>The implementation's MM_PAGE_SIZE.</summary>
    ulong MM_PAGE_SIZE { get; }

    /// <summary>The implementation's MM_VIRTUALIZE macro: physical address to direct-map pointer.</summary>
    ulong MM_VIRTUALIZE(ulong phys);

    /// <summary>The implementation's MM_PHYS macro: direct-map pointer to physical address.</summary>
    ulong MM_PHYS(ulong virt);

    /// <summary>Hook: a new address space (mm_space_t), or MM_NADDR when memory is exhausted.</summary>
    ulong CreateSpace();

    /// <summary>Hook: the physical address of a space's top-level table (what CR3 would hold).</summary>
    ulong SpaceRoot(ulong space);

    /// <summary>Hook: the machine's physical memory, read and written as the CPU would through the direct map.</summary>
    IRamAccess Ram { get; }

    /// <summary>The frames each call writes (<see cref="IWriteTracking"/>), or null where they cannot be learned.</summary>
    IWriteTracking? Writes => null;

    /// <summary>
    /// This machine as it stands, kept apart, for machines to be made in the same state (<see cref="IMachineSnapshot"/>);
    /// null where the implementation cannot be copied. The suite snapshots a machine it has just set up, and starts the
    /// sequences after it (shrink candidates above all) from that snapshot instead of booting and setting up again.
    /// </summary>
    IMachineSnapshot? Snapshot() => null;

    /// <summary>
    /// Batched <see cref="mm_phys_alloc_page"/>: calls it until it returns MM_NADDR or <paramref name="limit"/>
    /// pages were handed out, and returns them in order. The suite counts free memory this way several times
    /// per sequence; an implementation behind a process boundary overrides it to answer in a few round trips.
    /// </summary>
    IReadOnlyList<ulong> AllocatePagesUntilExhausted(int limit) => UntilFailure(mm_phys_alloc_page, ulong.MaxValue, limit);

    /// <summary>
    /// Batched <see cref="kmalloc"/>: calls kmalloc(<paramref name="size"/>) until it returns NULL or <paramref name="count"/>
    /// blocks were handed out, and returns the blocks in order (a kmalloc burst fills a slab with tens of them).
    /// </summary>
    IReadOnlyList<ulong> KmallocUntilNull(ulong size, int count) => UntilFailure(() => kmalloc(size), 0, count);

    /// <summary>
    /// <paramref name="call"/> until it returns <paramref name="failed"/> or <paramref name="limit"/> results came, in order:
    /// the loop the two batches above stand for, for a port that makes them its own way (the reference logs each call's writes).
    /// </summary>
    /// <param name="expected">How many results to make room for at first (at most <paramref name="limit"/>; by default, as many as a drain of RAM could take).</param>
    public static List<ulong> UntilFailure(Func<ulong> call, ulong failed, int limit, int expected = 1 << 16)
    {
        var results = new List<ulong>(Math.Clamp(expected, 0, Math.Min(limit, 1 << 16))); // a drain takes every free page: grown once, not a dozen times
        while (results.Count < limit)
        {
            ulong result = call();
            if (result == failed)
                break;
            results.Add(result);
        }
        return results;
    }

    /// <summary>Batched <see cref="mm_phys_free_page"/>: frees each page in order.</summary>
    void FreePages(IReadOnlyList<ulong> pages)
    {
        foreach (ulong page in pages)
            mm_phys_free_page(page);
    }

    /// <summary>
    /// Batched <see cref="mm_map_get(ulong, ulong, out ulong)"/> (flags wanted, starting at 0): asks about each (space, virt)
    /// in order and adds each answer to <paramref name="answers"/> as it comes, so that after a panic or crash the answers
    /// before it are there. The suite's cross-check asks a few dozen after every step.
    /// </summary>
    void MapGetAll(IReadOnlyList<(ulong Space, ulong Virt)> queries, List<(ulong Result, ulong Flags)> answers)
    {
        foreach ((ulong space, ulong virt) in queries)
        {
            ulong result = mm_map_get(space, virt, out ulong flags);
            answers.Add((result, flags));
        }
    }

    /// <summary>Batched <see cref="kfree"/>: frees each block in order (the teardown gives back every block at once).</summary>
    void KfreeAll(IReadOnlyList<ulong> pointers)
    {
        foreach (ulong pointer in pointers)
            kfree(pointer);
    }
}

/// <summary>Direct access to the simulated physical memory of an implementation.</summary>
public interface IRamAccess
{
    ulong ReadU64(ulong phys);

    void WriteU64(ulong phys, ulong value);

    void Read(ulong phys, Span<byte> destination);

    void Write(ulong phys, ReadOnlySpan<byte> source);
}

/// <summary>Creates fresh instances of one implementation; each property run starts from a new machine.</summary>
public interface IImplementationFactory
{
    /// <summary>A short, stable name (e.g. "reference", "zoo:vmfind-inclusive-to").</summary>
    string Name { get; }

    IMmImplementation Create(ulong ramSize);
}
