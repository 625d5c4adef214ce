using Mmspec.Models.State;

namespace Mmspec.SpecTests.Sequences;

/// <summary>Places in the address space where bugs live: table edges, the hole, the kernel boundary, the direct map.</summary>
public enum Area
{
    UserLow,
    Edge2MiB,
    Edge1GiB,
    Edge512GiB,
    UserTop,
    UpperUser,
    BelowKernelBoundary,
    KernelAboveDirectMap,
    DirectMap,
    KernelTop,
    NonCanonical,
}

/// <summary>A virtual page chosen from a small pool per area, so that sequences keep meeting the same pages.</summary>
public readonly record struct AddressPick(Area Area, int Index)
{
    public const int PoolSize = 4;

    private const ulong Page = AddressSpaceLayout.PageSize;

    public ulong Resolve() => Area switch
    {
        Area.UserLow => 0x400000 + (ulong)Index * Page,
        Area.Edge2MiB => 0x800000 - 2 * Page + (ulong)Index * Page,
        Area.Edge1GiB => 0x40000000 - 2 * Page + (ulong)Index * Page,
        Area.Edge512GiB => 0x8000000000 - 2 * Page + (ulong)Index * Page,
        Area.UserTop => 0x00007FFFFFFFF000 - (ulong)Index * Page,
        Area.UpperUser => 0xFFFF800000000000 + (ulong)Index * Page,
        Area.BelowKernelBoundary => AddressSpaceLayout.KernelBase - (ulong)(Index + 1) * Page,
        Area.KernelAboveDirectMap => AddressSpaceLayout.KernelBase + AddressSpaceLayout.DirectMapSize - 2 * Page + (ulong)Index * Page,
        Area.DirectMap => AddressSpaceLayout.KernelBase + (ulong)Index * AddressSpaceLayout.LargePageSize,
        Area.KernelTop => 0xFFFFFFFFFFFFF000 - (ulong)Index * Page,
        Area.NonCanonical => 0x0000800000000000 + (ulong)Index * Page,
        _ => throw new ArgumentOutOfRangeException(nameof(Area)),
    };

    public bool IsKernel => AddressSpaceLayout.IsKernel(Resolve());

    public override string ToString() => $"{Area}[{Index}]";
}
