using Mmspec.Models.Mmu;

namespace Mmspec.Tests.Models;

/// <summary>
/// A successful <see cref="Translation"/> can only be built for an address inside its leaf, so the physical
/// address it reports (frame base plus offset) is never computed from a page the address is not in.
/// </summary>
public class TranslationTests
{
    private static readonly Permissions Rw = new(Writable: true, User: false, Executable: false);

    [Theory]
    [InlineData(0x0000_0000_0040_0000UL, 0x1000UL, PageSize.Size4KiB, 0x0000_0000_0040_0000UL, 0x1000UL)]
    [InlineData(0x0000_0000_0040_0000UL, 0x1000UL, PageSize.Size4KiB, 0x0000_0000_0040_0FFFUL, 0x1FFFUL)]
    [InlineData(0x0000_0000_0040_0000UL, 0x20_0000UL, PageSize.Size2MiB, 0x0000_0000_005F_FFFFUL, 0x3F_FFFFUL)]
    [InlineData(0xFFFF_FFFF_FFFF_F000UL, 0x1000UL, PageSize.Size4KiB, 0xFFFF_FFFF_FFFF_FFFFUL, 0x1FFFUL)]
    public void Success_InsideTheLeaf_ReportsFrameBasePlusOffset(ulong virtualBase, ulong physicalBase, PageSize size, ulong virt, ulong expectedPhys)
    {
        var leaf = new MappedLeaf(virtualBase, physicalBase, size, Rw);

        Translation translation = Translation.Success(virt, leaf);

        Assert.True(translation.IsOk);
        Assert.Equal(expectedPhys, translation.PhysicalAddress);
        Assert.Equal(size, translation.Size);
        Assert.Equal(Rw, translation.Permissions);
    }

    [Theory]
    [InlineData(0x0000_0000_0040_0000UL, PageSize.Size4KiB, 0x0000_0000_0040_1000UL)]
    [InlineData(0x0000_0000_0040_0000UL, PageSize.Size4KiB, 0x0000_0000_003F_FFFFUL)]
    [InlineData(0x0000_0000_0040_0000UL, PageSize.Size2MiB, 0x0000_0000_0060_0000UL)]
    [InlineData(0xFFFF_FFFF_FFFF_F000UL, PageSize.Size4KiB, 0UL)]
    public void Success_OutsideTheLeaf_IsRefused(ulong virtualBase, PageSize size, ulong virt)
    {
        var leaf = new MappedLeaf(virtualBase, 0x20_0000, size, Rw);

        ArgumentException refused = Assert.Throws<ArgumentException>(() => Translation.Success(virt, leaf));

        Assert.Equal("leaf", refused.ParamName);
        Assert.Contains($"0x{virt:X16}", refused.Message);
    }
}
