namespace Mmspec.Models.State;

/// <summary>The spec's address-space facts, restated here so the model depends on nothing it checks.</summary>
public static class AddressSpaceLayout
{
    public const ulong PageSize = 4096;
    public const ulong LargePageSize = 2UL << 20;
    public const ulong KernelBase = 0xFFFFFF0000000000;
    public const ulong DirectMapSize = 1UL << 30;
    public const ulong Naddr = ulong.MaxValue;

    public static bool IsKernel(ulong virt) => virt >= KernelBase;

    public static bool IsCanonical(ulong virt) => (virt >> 47) is 0 or 0x1FFFF;

    public static bool IsPageAligned(ulong value) => (value & (PageSize - 1)) == 0;

    /// <summary>The canonical pieces a region may lie in: it never crosses the hole or the kernel boundary.</summary>
    public static readonly (ulong First, ulong Last, bool Kernel)[] Segments =
    [
        (0, 0x00007FFFFFFFFFFF, false),
        (0xFFFF800000000000, KernelBase - 1, false),
        (KernelBase, ulong.MaxValue, true),
    ];
}
