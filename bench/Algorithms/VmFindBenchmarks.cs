using BenchmarkDotNet.Attributes;
using Mmspec.Bench.Baselines;
using Mmspec.Bench.Report;
using Mmspec.Bench.Scenarios;
using Mmspec.Reference.Api;
using Mmspec.Reference.Memory;

namespace Mmspec.Bench.Algorithms;

/// <summary>vmfind past a fragmented 1 GiB range (see <see cref="FragmentedAddressSpace"/>), against asking mm_map_get page by page.</summary>
[Scenario("vmfind on a 1 GiB user range whose first 90 % is fragmented: one 4 KiB page mapped every Stride pages, so every hole there is one page too short for the request of Stride pages, which only fits right after the fragmented part. Baseline: a page-by-page scan calling mm_map_get on every page (PageByPageVmFind).")]
public class VmFindFragmentedBenchmarks
{
    public const string Category = "vmfind: 1 GiB, first 90 % fragmented";

    private FragmentedAddressSpace scenario = null!;

    /// <summary>One page mapped every Stride pages; the request is Stride pages.</summary>
    [Params(16, 512, 4096)]
    public int Stride { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        scenario = new FragmentedAddressSpace(Stride);
        Expect(PageByPageMapGet(), nameof(PageByPageMapGet));
        Expect(Vmfind(), nameof(Vmfind));
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Category)]
    public ulong PageByPageMapGet() =>
        PageByPageVmFind.Find(scenario.Api, scenario.Space, FragmentedAddressSpace.RangeStart, scenario.RangeEnd, scenario.Request);

    [Benchmark]
    [BenchmarkCategory(Category)]
    public ulong Vmfind() =>
        scenario.Api.vmfind(scenario.Space, FragmentedAddressSpace.RangeStart, scenario.RangeEnd, scenario.Request);

    private void Expect(ulong found, string method)
    {
        if (found != scenario.Expected)
            throw new InvalidOperationException($"{method} found 0x{found:X}, expected 0x{scenario.Expected:X}");
    }
}

/// <summary>
/// vmfind for 1 GiB in an empty 128 TiB user range (the whole lower canonical half). The page-by-page scan has
/// to ask about all 262,144 pages of the region it returns; vmfind sees empty top-level entries.
/// </summary>
[Scenario("vmfind for 1 GiB (262,144 pages) in an empty 128 TiB user range (the whole lower half) of a fresh space. Baseline: the same page-by-page mm_map_get scan, which must look at every page of the region it returns.")]
public class VmFindEmptyBenchmarks
{
    public const string Category = "vmfind: 1 GiB in an empty 128 TiB user range";

    private const ulong Request = (1UL << 30) / MmApi.MM_PAGE_SIZE;

    private MmApi api = null!;
    private ulong space;

    [GlobalSetup]
    public void Setup()
    {
        api = new MmApi();
        space = api.mm_space_create();
        if (PageByPageMapGet() != 0 || Vmfind() != 0)
            throw new InvalidOperationException("an empty user range must yield its first page");
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Category)]
    public ulong PageByPageMapGet() => PageByPageVmFind.Find(api, space, 0, Layout.LowerHalfEnd, Request);

    [Benchmark]
    [BenchmarkCategory(Category)]
    public ulong Vmfind() => api.vmfind(space, 0, Layout.LowerHalfEnd, Request);
}
