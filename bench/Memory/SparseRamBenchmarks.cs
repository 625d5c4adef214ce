using BenchmarkDotNet.Attributes;
using Mmspec.Bench.Report;
using Mmspec.Reference.Api;

namespace Mmspec.Bench.Memory;

/// <summary>
/// Host memory of the simulated machine: boot a kernel over 1 GiB of simulated RAM and write every byte of
/// TouchedMiB of pages. MemoryDiagnoser's Allocated column is what that cost the host, and it should follow
/// TouchedMiB, not the 1 GiB.
/// </summary>
[Scenario("Host memory: boot a kernel over 1 GiB of simulated RAM and write every byte of TouchedMiB of pages. Allocated should follow TouchedMiB: the fixed part is the frame index (8 bytes per simulated frame, 2 MiB for 1 GiB) and the allocator's bitmap; each touched 4 KiB frame adds its own backing.")]
public class SparseRamBenchmarks
{
    public const string Category = "memory: boot 1 GiB simulated RAM, touch N MiB";

    private readonly byte[] pattern = Enumerable.Repeat((byte)0xA5, (int)MmApi.MM_PAGE_SIZE).ToArray();

    [Params(0, 4, 16)]
    public int TouchedMiB { get; set; }

    [Benchmark]
    [BenchmarkCategory(Category)]
    public int BootAndTouch()
    {
        var api = new MmApi();
        for (ulong page = 0; page < (ulong)TouchedMiB * (1 << 20) / MmApi.MM_PAGE_SIZE; page++)
            api.Kernel.Ram.Write(api.mm_phys_alloc_page(), pattern);
        return api.Kernel.Ram.BackedFrames;
    }
}
