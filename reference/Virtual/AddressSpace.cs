using Mmspec.Reference.Memory;

namespace Mmspec.Reference.Virtual;

/// <summary>A space is its PML4; the handle (mm_space_t) is the PML4's kernel pointer in the direct map.</summary>
public sealed record AddressSpace(PhysAddr Root)
{
    public ulong Handle => Layout.KernelBase + Root.Value;
}

/// <summary>The parts of the canonical address space a region may lie in: it never crosses the hole or the user/kernel boundary.</summary>
public readonly record struct Segment(ulong First, ulong Last, bool IsKernel)
{
    public static readonly Segment[] All =
    [
        new(0, Layout.LowerHalfEnd - 1, false),
        new(Layout.UpperHalfStart, Layout.KernelBase - 1, false),
        new(Layout.KernelBase, ulong.MaxValue, true),
    ];

    public bool Contains(ulong address) => First <= address && address <= Last;

    public static Segment? Of(ulong address)
    {
        foreach (Segment segment in All)
            if (segment.Contains(address))
                return segment;
        return null;
    }
}

public enum RegionFreeStatus
{
    Freed,
    InvalidArgument,
}
