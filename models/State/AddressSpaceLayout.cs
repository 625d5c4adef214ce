namespace Mmspec.Models.State;

/// <summary>The spec's address-space facts, restated here so the model depends on nothing it checks.</summary>
public static class AddressSpaceLayout
{
    public const ulong PageSize = 4096;
    public const ulong LargePageSize = 2UL << 20;
    public const ulong KernelBase = 0xFFFFFF0000000000;
    public const ulong DirectMapSize = 1UL << 30;
    public const ulong HugePageSize = 1UL << 30;
    public const ulong Naddr = ulong.MaxValue;

    /// <summary>The page sizes of 4-level paging, smallest first.</summary>
    public static readonly ulong[] PageSizes = [PageSize, LargePageSize, HugePageSize];

    /// <summary>The PML4 slots of kernel space: [0xFFFFFF0000000000, 2^64) is the last two.</summary>
    public static readonly int[] KernelSlots = [510, 511];

    /// <summary>The PML4 entry (0..511) that translates virt.</summary>
    public static int Pml4Slot(ulong virt) => (int)((virt >> 39) & 511);

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
