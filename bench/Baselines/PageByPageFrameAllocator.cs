using Mmspec.Reference.Kernel;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Physical;

namespace Mmspec.Bench.Baselines;

/// <summary>
/// The physical allocator a naive implementer writes: the same bitmap, but every search tests frames one by
/// one from frame 0 through the public per-frame query (<see cref="PhysicalAllocator.IsAllocated"/>), with no
/// word-at-a-time skipping and no hint of where free frames start. Freeing is the reference's.
/// </summary>
public sealed class PageByPageFrameAllocator(ulong ramSize, ulong reservedLow) : PhysicalAllocator(ramSize, reservedLow)
{
    /// <summary>
    /// Off only while a scenario is set up: draining 262,144 frames with one scan from frame 0 each would take
    /// minutes, and the state it builds is the same either way.
    /// </summary>
    public bool ScanPageByPage { get; set; } = true;

    public override PhysAddr? AllocatePage() => ScanPageByPage ? AllocateContiguous(1) : base.AllocatePage();

    public override PhysAddr? AllocateContiguous(ulong count)
    {
        if (count == 0)
            return null;
        int frames = (int)(RamSize / Layout.PageSize), runStart = 0, run = 0;
        for (int frame = 0; frame < frames; frame++)
        {
            ulong address = (ulong)frame * Layout.PageSize;
            if (IsReserved(address) || IsAllocated(address))
            {
                run = 0;
                continue;
            }
            if (run++ == 0)
                runStart = frame;
            if ((ulong)run == count)
            {
                MarkUsed(runStart, run);
                return new PhysAddr((ulong)runStart * Layout.PageSize);
            }
        }
        return null;
    }
}

/// <summary>A reference kernel whose frame allocator is the page-by-page one: everything else is unchanged.</summary>
public sealed class PageByPageComponents : ComponentFactory
{
    public override PhysicalAllocator CreateAllocator(ulong ramSize, ulong reservedLow) => new PageByPageFrameAllocator(ramSize, reservedLow);
}
