using BenchmarkDotNet.Attributes;
using Mmspec.Bench.Report;
using Mmspec.Reference.Api;

namespace Mmspec.Bench.Algorithms;

/// <summary>
/// One mm_map_single, mm_map_get and mm_umap_single of a user page. The baseline maps into an empty 512 GiB
/// slot, so map creates the PDPT, PD and PT and umap frees them again; the other maps next to a page that
/// keeps its tables alive, so the triple is three walks and no table work.
/// </summary>
[Scenario("mm_map_single, mm_map_get and mm_umap_single of one user page. Baseline: the page lies in an empty 512 GiB slot, so the map creates a PDPT, a PD and a PT and the unmap frees them again; the other row maps beside a live page, so its tables stay.")]
public class MappingBenchmarks
{
    public const string Category = "mm_map_single + mm_map_get + mm_umap_single";

    private const ulong EmptySlot = 1UL << 39;
    private const ulong LiveTable = 2UL << 39;
    private const ulong Flags = MmApi.MM_PAGE_USER | MmApi.MM_PAGE_WRITE;

    private MmApi api = null!;
    private ulong space;
    private ulong frame;

    [GlobalSetup]
    public void Setup()
    {
        api = new MmApi();
        space = api.mm_space_create();
        frame = api.mm_phys_alloc_page();
        if (api.mm_map_single(space, LiveTable, api.mm_phys_alloc_page(), Flags) != 0)
            throw new InvalidOperationException("setup: the page that keeps the tables alive could not be mapped");
        if (CreatingTables() != frame || InLiveTable() != frame)
            throw new InvalidOperationException("mm_umap_single must return the mapped frame");
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Category)]
    public ulong CreatingTables() => MapGetUnmap(EmptySlot);

    [Benchmark]
    [BenchmarkCategory(Category)]
    public ulong InLiveTable() => MapGetUnmap(LiveTable + MmApi.MM_PAGE_SIZE);

    private ulong MapGetUnmap(ulong virt)
    {
        ulong flags = 0;
        if (api.mm_map_single(space, virt, frame, Flags) != 0 || api.mm_map_get(space, virt, ref flags) != frame)
            throw new InvalidOperationException($"mapping 0x{virt:X} failed");
        return api.mm_umap_single(space, virt, 1);
    }
}
