using Mmspec.Reference.Api;
using Mmspec.Reference.Kernel;
using Mmspec.Reference.Memory;
using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Adapters;

/// <summary>The reference kernel behind the port. It reaches only the reference's spec-shaped edge, MmApi.</summary>
public class ReferenceImplementation(MmApi api) : IMmImplementation, IRamAccess, IWriteTracking
{
    public ulong RamSize => api.Kernel.Ram.Size;

    public IRamAccess Ram => this;

    public IWriteTracking Writes => this;

    public IReadOnlyList<ulong> TakeWrittenFrames() => api.Kernel.Ram.TakeWrittenFrames();

    /// <summary>A copy of the kernel as it stands (the reference's own kernel; a zoo member cannot be copied).</summary>
    public IMachineSnapshot? Snapshot() => api.Kernel.Copy() is { } copy ? new KernelSnapshot(copy) : null;

    // The kept copy is never called: each restore copies it again, so restores share nothing and may run at once.
    private sealed class KernelSnapshot(MemoryManager kept) : IMachineSnapshot
    {
        public IMmImplementation? Restore() => new ReferenceImplementation(new MmApi(kept.Copy()!));
    }

    public ulong mm_phys_alloc_page() => api.mm_phys_alloc_page();

    public ulong mm_phys_alloc_contiguous(ulong count) => api.mm_phys_alloc_contiguous(count);

    public void mm_phys_free_page(ulong addr) => Guard(() => api.mm_phys_free_page(addr));

    public ulong kmalloc(ulong size) => api.kmalloc(size);

    public void kfree(ulong ptr) => Guard(() => api.kfree(ptr));

    public int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags) => Guard(() => api.mm_map_single(space, virt, phys, flags));

    public ulong mm_map_get(ulong space, ulong virt, out ulong flags)
    {
        ulong reported = 0;
        ulong result = Guard(() => api.mm_map_get(space, virt, ref reported));
        flags = reported;
        return result;
    }

    public ulong mm_map_get(ulong space, ulong virt)
    {
        ulong ignored = 0;
        return Guard(() => api.mm_map_get(space, virt, ref ignored));
    }

    public ulong MM_PAGE_SIZE => MmApi.MM_PAGE_SIZE;

    public ulong MM_VIRTUALIZE(ulong phys) => MmApi.MM_VIRTUALIZE(phys);

    public ulong MM_PHYS(ulong virt) => MmApi.MM_PHYS(virt);

    public ulong mm_umap_single(ulong space, ulong virt, uint size) => Guard(() => api.mm_umap_single(space, virt, size));

    public ulong vmfind(ulong space, ulong from, ulong to, ulong npages) => Guard(() => api.vmfind(space, from, to, npages));

    public ulong vmalloc(ulong space, ulong from, ulong to, ulong npages, ulong flags) => Guard(() => api.vmalloc(space, from, to, npages, flags));

    public int vmfree(ulong space, ulong addr, ulong npages) => Guard(() => api.vmfree(space, addr, npages));

    public ulong CreateSpace() => api.mm_space_create();

    public ulong SpaceRoot(ulong space) => Guard(() => api.mm_space_root(space));

    // The batches as the loops they stand for, under one guard: the suite makes thousands of these calls per sequence.
    // The dirty log is taken after each call, so that each is judged by what it wrote (TakeBatchWrites).
    public void FreePages(IReadOnlyList<ulong> pages) => EachCall(pages, api.mm_phys_free_page);

    public void KfreeAll(IReadOnlyList<ulong> pointers) => EachCall(pointers, api.kfree);

    public void MapGetAll(IReadOnlyList<(ulong Space, ulong Virt)> queries, List<(ulong Result, ulong Flags)> answers) =>
        EachCall(queries, query =>
        {
            ulong flags = 0;
            ulong result = api.mm_map_get(query.Space, query.Virt, ref flags);
            answers.Add((result, flags));
        });

    private void EachCall<T>(IReadOnlyList<T> arguments, Action<T> call) => Guard(() =>
    {
        CallWriteLog log = StartBatch();
        foreach (T argument in arguments)
        {
            call(argument);
            log.Add(api.Kernel.Ram.TakeWrittenFrames());
        }
    });

    // Room for the pages the allocator says are free (a drain after a hog finds a few, not all of RAM): a hint, a list grows past it.
    public IReadOnlyList<ulong> AllocatePagesUntilExhausted(int limit) =>
        UntilFailure(api.mm_phys_alloc_page, MmApi.MM_NADDR, limit, expected: api.Kernel.Frames.FreeFrames + 1);

    public IReadOnlyList<ulong> KmallocUntilNull(ulong size, int count) => UntilFailure(() => api.kmalloc(size), 0, count, expected: count);

    // The interface's loop, with the dirty log taken after each call.
    private List<ulong> UntilFailure(Func<ulong> call, ulong failed, int limit, int expected)
    {
        CallWriteLog log = StartBatch();
        return IMmImplementation.UntilFailure(() =>
        {
            ulong result = call();
            log.Add(api.Kernel.Ram.TakeWrittenFrames());
            return result;
        }, failed, limit, expected);
    }

    // What each call of the batch under way wrote so far: a batch that panics leaves the calls before it here, and the
    // suite learns their writes as the batch's whole.
    private CallWriteLog? batchWrites;

    public IReadOnlyList<IReadOnlyList<ulong>>? TakeBatchWrites()
    {
        CallWriteLog? taken = batchWrites;
        batchWrites = null;
        return taken;
    }

    private CallWriteLog StartBatch() => batchWrites = new CallWriteLog();

    public ulong ReadU64(ulong phys) => api.Kernel.Ram.ReadU64(phys);

    public void WriteU64(ulong phys, ulong value) => api.Kernel.Ram.WriteU64(phys, value);

    public void Read(ulong phys, Span<byte> destination) => api.Kernel.Ram.Read(phys, destination);

    public void Write(ulong phys, ReadOnlySpan<byte> source) => api.Kernel.Ram.Write(phys, source);

    /// <summary>The machine ends: its RAM's frames go back for the next machine to reuse (<see cref="SimulatedRam.Release"/>).</summary>
    public void Dispose()
    {
        api.Kernel.Ram.Release();
        GC.SuppressFinalize(this);
    }

    private static void Guard(Action call) => Guard(() => { call(); return 0; });

    private static T Guard<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (KernelPanicException panic)
        {
            throw new ImplementationPanicException(panic.Reason.ToString(), panic.Message, panic);
        }
    }
}

/// <summary>Fresh reference machines; a variant kernel (a zoo member) passes its own component factory.</summary>
public class ReferenceFactory(string name = "reference", ComponentFactory? components = null) : IImplementationFactory
{
    public string Name { get; } = name;

    public virtual IMmImplementation Create(ulong ramSize) =>
        new ReferenceImplementation(new MmApi(new MemoryManager(new MachineOptions(ramSize), components)));
}
