using Mmspec.Bench.Baselines;
using Mmspec.Reference.Api;

namespace Mmspec.Bench.Scenarios;

/// <summary>Shapes of the 1 GiB simulated RAM that the physical-allocation benchmarks start from.</summary>
public static class FragmentedRam
{
    /// <summary>
    /// Takes every free frame, then gives back those of the first 90 % of RAM except one frame in every
    /// <paramref name="stride"/>, and all of the last 10 %: below 90 % every free run is stride - 1 frames long,
    /// one too short for a request of stride frames. Returns the first frame of the first run that fits.
    /// </summary>
    public static ulong Fragment(MmApi api, int stride)
    {
        List<ulong> taken = TakeAll(api);
        ulong fragmentedEnd = api.Kernel.Ram.Size / 10 * 9, lastKept = 0;
        foreach (ulong frame in taken)
        {
            bool keep = frame < fragmentedEnd && frame / MmApi.MM_PAGE_SIZE % (ulong)stride == 0;
            if (keep)
                lastKept = Math.Max(lastKept, frame);
            else
                api.mm_phys_free_page(frame);
        }
        return lastKept + MmApi.MM_PAGE_SIZE;
    }

    /// <summary>A busy machine: every frame of the lower half of RAM is in use, the upper half is free.</summary>
    public static void FillLowerHalf(MmApi api)
    {
        foreach (ulong frame in TakeAll(api))
            if (frame >= api.Kernel.Ram.Size / 2)
                api.mm_phys_free_page(frame);
    }

    private static List<ulong> TakeAll(MmApi api)
    {
        var naive = api.Kernel.Frames as PageByPageFrameAllocator;
        naive?.ScanPageByPage = false;
        var taken = new List<ulong>();
        for (ulong frame = api.mm_phys_alloc_page(); frame != MmApi.MM_NADDR; frame = api.mm_phys_alloc_page())
            taken.Add(frame);
        naive?.ScanPageByPage = true;
        return taken;
    }
}
