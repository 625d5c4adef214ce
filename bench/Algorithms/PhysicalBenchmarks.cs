using BenchmarkDotNet.Attributes;
using Mmspec.Bench.Baselines;
using Mmspec.Bench.Report;
using Mmspec.Bench.Scenarios;
using Mmspec.Reference.Api;
using Mmspec.Reference.Kernel;

namespace Mmspec.Bench.Algorithms;

/// <summary>
/// mm_phys_alloc_contiguous on fragmented RAM (see <see cref="FragmentedRam.Fragment"/>), against the same kernel
/// with a page-by-page frame search. Each call frees its run again, so every invocation sees the same RAM.
/// </summary>
[Scenario("mm_phys_alloc_contiguous of Stride pages on 1 GiB RAM whose first 90 % is fragmented (one used frame every Stride frames, free runs one frame too short), then freeing them. Baseline: the same kernel whose allocator tests frames one by one from frame 0 through the public IsAllocated query (PageByPageFrameAllocator).")]
public class ContiguousAllocationBenchmarks
{
    public const string Category = "mm_phys_alloc_contiguous: 1 GiB RAM, first 90 % fragmented";

    private MmApi reference = null!;
    private MmApi pageByPage = null!;
    private ulong expected;

    /// <summary>One frame in use every Stride frames; the request is Stride frames.</summary>
    [Params(16, 64)]
    public int Stride { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        reference = new MmApi();
        pageByPage = new MmApi(new MemoryManager(null, new PageByPageComponents()));
        expected = FragmentedRam.Fragment(reference, Stride);
        if (FragmentedRam.Fragment(pageByPage, Stride) != expected || PageByPage() != expected || Reference() != expected)
            throw new InvalidOperationException($"both allocators must return the first fitting run, 0x{expected:X}");
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Category)]
    public ulong PageByPage() => AllocateAndFree(pageByPage, (ulong)Stride);

    [Benchmark]
    [BenchmarkCategory(Category)]
    public ulong Reference() => AllocateAndFree(reference, (ulong)Stride);

    internal static ulong AllocateAndFree(MmApi api, ulong count)
    {
        ulong run = api.mm_phys_alloc_contiguous(count);
        for (ulong page = 0; page < count; page++)
            api.mm_phys_free_page(run + page * MmApi.MM_PAGE_SIZE);
        return run;
    }
}

/// <summary>One mm_phys_alloc_page and its mm_phys_free_page on a busy machine whose lower 512 MiB are in use.</summary>
[Scenario("mm_phys_alloc_page then mm_phys_free_page on a busy machine: the lower 512 MiB of the 1 GiB RAM are in use. Baseline: the page-by-page allocator, which tests frames one by one from frame 0.")]
public class PhysicalPairBenchmarks
{
    public const string Category = "mm_phys_alloc_page + mm_phys_free_page: lower half of RAM in use";

    private MmApi reference = null!;
    private MmApi pageByPage = null!;

    [GlobalSetup]
    public void Setup()
    {
        reference = new MmApi();
        pageByPage = new MmApi(new MemoryManager(null, new PageByPageComponents()));
        FragmentedRam.FillLowerHalf(reference);
        FragmentedRam.FillLowerHalf(pageByPage);
        if (PageByPage() != Reference())
            throw new InvalidOperationException("both allocators must return the lowest free frame");
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Category)]
    public ulong PageByPage() => AllocatePairOn(pageByPage);

    [Benchmark]
    [BenchmarkCategory(Category)]
    public ulong Reference() => AllocatePairOn(reference);

    private static ulong AllocatePairOn(MmApi api)
    {
        ulong page = api.mm_phys_alloc_page();
        api.mm_phys_free_page(page);
        return page;
    }
}
