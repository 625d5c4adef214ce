namespace Mmspec.Reference.Memory;

/// <summary>The fixed geometry of the simulated x86-64 machine and of the spec's address-space split.</summary>
public static class Layout
{
    public const ulong PageSize = 4096;
    public const int PageShift = 12;
    public const ulong LargePageSize = 2UL << 20;
    public const ulong HugePageSize = 1UL << 30;

    /// <summary>Addresses at or above it are kernel space, below it user space (the spec's boundary).</summary>
    public const ulong KernelBase = 0xFFFFFF0000000000;

    /// <summary>The direct map covers the low 1 GiB of physical memory.</summary>
    public const ulong DirectMapSize = 1UL << 30;

    /// <summary>Real machines keep firmware and legacy devices in the first MiB; it is never handed out.</summary>
    public const ulong ReservedLowMemory = 1UL << 20;

    public const ulong MaxRamSize = DirectMapSize;
    public const ulong DefaultRamSize = DirectMapSize;

    /// <summary>Lowest address of the upper canonical half.</summary>
    public const ulong UpperHalfStart = 0xFFFF800000000000;

    /// <summary>One past the highest address of the lower canonical half.</summary>
    public const ulong LowerHalfEnd = 0x0000800000000000;

    public static bool IsPageAligned(ulong value) => (value & (PageSize - 1)) == 0;

    public static ulong AlignDown(ulong value, ulong alignment) => value & ~(alignment - 1);
}
