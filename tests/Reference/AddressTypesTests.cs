using Mmspec.Reference.Api;
using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;
using Mmspec.Reference.Virtual;

namespace Mmspec.Tests.Reference;

public class AddressTypesTests
{
    [Fact]
    public void ApiConstants_MatchTheDecisions()
    {
        Assert.Equal(4096UL, MmApi.MM_PAGE_SIZE);
        Assert.Equal(0xFFFFFFFFFFFFFFFFUL, MmApi.MM_NADDR);
        Assert.Equal(0xFFFFFF0000000000UL, MmApi.MM_KERNEL_BASE);
        Assert.Equal(1UL, MmApi.MM_PAGE_USER);
        Assert.Equal(2UL, MmApi.MM_PAGE_WRITE);
        Assert.Equal(4UL, MmApi.MM_PAGE_EXEC);
        Assert.Equal(22, MmApi.EINVAL);
        Assert.Equal(17, MmApi.EEXIST);
        Assert.Equal(12, MmApi.ENOMEM);
    }

    [Theory]
    [InlineData(0UL, true)]
    [InlineData(0x00007FFFFFFFFFFFUL, true)]
    [InlineData(0x0000800000000000UL, false)]
    [InlineData(0x0001000000000000UL, false)]
    [InlineData(0x8000000000000000UL, false)]
    [InlineData(0xFFFF7FFFFFFFFFFFUL, false)]
    [InlineData(0xFFFF800000000000UL, true)]
    [InlineData(0xFFFFFF0000000000UL, true)]
    [InlineData(0xFFFFFFFFFFFFFFFFUL, true)]
    [InlineData(0x7FFFFFFFFFFFFFFFUL, false)]
    public void VirtAddr_Canonicality(ulong value, bool canonical)
    {
        Assert.Equal(canonical, VirtAddr.IsCanonical(value));
        Assert.Equal(canonical, VirtAddr.TryCreate(value, out VirtAddr address));
        if (canonical)
            Assert.Equal(value, address.Value);
        else
            Assert.Throws<ArgumentOutOfRangeException>(() => new VirtAddr(value));
    }

    [Theory]
    [InlineData(0xFFFFFEFFFFFFFFFFUL, false)]
    [InlineData(0xFFFFFF0000000000UL, true)]
    [InlineData(0xFFFF800000000000UL, false)]
    [InlineData(0x00007FFFFFFFF000UL, false)]
    [InlineData(0xFFFFFFFFFFFFF000UL, true)]
    public void VirtAddr_KernelHalfStartsAtTheBoundary(ulong value, bool kernel) =>
        Assert.Equal(kernel, new VirtAddr(value).IsKernel);

    [Fact]
    public void VirtAddr_TableIndices()
    {
        // PML4 510, PDPT 3, PD 17, PT 300, offset 0x123
        ulong value = 0xFFFF000000000000UL | (510UL << 39) | (3UL << 30) | (17UL << 21) | (300UL << 12) | 0x123;
        var address = new VirtAddr(value);

        Assert.Equal(510, address.TableIndex(PageLevel.Pml4));
        Assert.Equal(3, address.TableIndex(PageLevel.Pdpt));
        Assert.Equal(17, address.TableIndex(PageLevel.Pd));
        Assert.Equal(300, address.TableIndex(PageLevel.Pt));
        Assert.False(address.IsPageAligned);
        Assert.Equal(256, new VirtAddr(0xFFFF800000000000).TableIndex(PageLevel.Pml4));
        Assert.Equal(511, new VirtAddr(ulong.MaxValue).TableIndex(PageLevel.Pml4));
        Assert.Equal(511, new VirtAddr(ulong.MaxValue).TableIndex(PageLevel.Pt));
    }

    [Fact]
    public void PhysAddr_FitsIn52Bits()
    {
        Assert.True(PhysAddr.TryCreate((1UL << 52) - 1, out PhysAddr top));
        Assert.Equal((1UL << 52) - 1, top.Value);
        Assert.False(PhysAddr.TryCreate(1UL << 52, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhysAddr(1UL << 52));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhysAddr((1UL << 52) - 4096) + 4096);
    }

    [Fact]
    public void PhysAddr_FrameHelpers()
    {
        var address = new PhysAddr(0x12345);

        Assert.Equal(0x12UL, address.FrameIndex);
        Assert.Equal(0x12000UL, address.PageBase.Value);
        Assert.False(address.IsPageAligned);
        Assert.True(address.PageBase.IsPageAligned);
        Assert.Equal(0x13345UL, (address + 0x1000).Value);
    }

    [Fact]
    public void Layout_Helpers()
    {
        Assert.True(Layout.IsPageAligned(0));
        Assert.True(Layout.IsPageAligned(0xFFFFFFFFFFFFF000));
        Assert.False(Layout.IsPageAligned(0x800));
        Assert.Equal(0x200000UL, Layout.AlignDown(0x3FFFFF, Layout.LargePageSize));
        Assert.Equal(2UL << 20, Layout.LargePageSize);
        Assert.Equal(1UL << 30, Layout.HugePageSize);
        Assert.Equal(1UL << 20, Layout.ReservedLowMemory);
        Assert.Equal(1UL << 30, Layout.MaxRamSize);
    }

    [Fact]
    public void PageLevel_Spans()
    {
        Assert.Equal(4096UL, PageLevel.EntrySpan(PageLevel.Pt));
        Assert.Equal(2UL << 20, PageLevel.EntrySpan(PageLevel.Pd));
        Assert.Equal(1UL << 30, PageLevel.EntrySpan(PageLevel.Pdpt));
        Assert.Equal(512UL << 30, PageLevel.EntrySpan(PageLevel.Pml4));
        Assert.False(PageLevel.CanBeLargeLeaf(PageLevel.Pt));
        Assert.True(PageLevel.CanBeLargeLeaf(PageLevel.Pd));
        Assert.True(PageLevel.CanBeLargeLeaf(PageLevel.Pdpt));
        Assert.False(PageLevel.CanBeLargeLeaf(PageLevel.Pml4));
    }

    [Fact]
    public void PageTableEntry_EncodesAddressInBits12To51()
    {
        var frame = new PhysAddr((1UL << 52) - 4096);
        PageTableEntry entry = PageTableEntry.Create(frame, EntryFlags.Present | EntryFlags.NoExecute);

        Assert.Equal(0x800FFFFFFFFFF001UL, entry.Raw);
        Assert.Equal(frame, entry.Address);
        Assert.Equal(EntryFlags.Present | EntryFlags.NoExecute, entry.Flags);
        Assert.True(entry.IsPresent);
        Assert.False(entry.IsPageSize);
        Assert.False(PageTableEntry.Empty.IsPresent);
        Assert.Throws<ArgumentException>(() => PageTableEntry.Create(new PhysAddr(0x1800), EntryFlags.Present));
    }

    [Theory]
    [InlineData(0UL, EntryFlags.Present | EntryFlags.NoExecute)]
    [InlineData(1UL, EntryFlags.Present | EntryFlags.User | EntryFlags.NoExecute)]
    [InlineData(2UL, EntryFlags.Present | EntryFlags.Writable | EntryFlags.NoExecute)]
    [InlineData(3UL, EntryFlags.Present | EntryFlags.User | EntryFlags.Writable | EntryFlags.NoExecute)]
    [InlineData(4UL, EntryFlags.Present)]
    [InlineData(5UL, EntryFlags.Present | EntryFlags.User)]
    [InlineData(6UL, EntryFlags.Present | EntryFlags.Writable)]
    [InlineData(7UL, EntryFlags.Present | EntryFlags.User | EntryFlags.Writable)]
    public void PageAccess_ToLeafAndBack(ulong flags, EntryFlags leaf)
    {
        Assert.True(PageAccessBits.IsValid(flags));
        Assert.Equal(leaf, PageAccessBits.ToLeafFlags((PageAccess)flags));
        Assert.Equal((PageAccess)flags, PageAccessBits.FromLeaf(PageTableEntry.Create(new PhysAddr(0x5000), leaf)));
    }

    [Theory]
    [InlineData(8UL)]
    [InlineData(0x10UL)]
    [InlineData(1UL << 63)]
    [InlineData(ulong.MaxValue)]
    public void PageAccess_OtherBitsAreInvalid(ulong flags) => Assert.False(PageAccessBits.IsValid(flags));

    [Fact]
    public void TableFlags_GrantUserOnlyInTheUserHalf()
    {
        Assert.Equal(EntryFlags.Present | EntryFlags.Writable | EntryFlags.User, PageAccessBits.TableFlagsFor(new VirtAddr(0x1000)));
        Assert.Equal(EntryFlags.Present | EntryFlags.Writable | EntryFlags.User, PageAccessBits.TableFlagsFor(new VirtAddr(0xFFFFFEFFFFFFF000)));
        Assert.Equal(EntryFlags.Present | EntryFlags.Writable, PageAccessBits.TableFlagsFor(new VirtAddr(0xFFFFFF0000000000)));
    }

    [Theory]
    [InlineData(0UL, 0)]
    [InlineData(0x00007FFFFFFFFFFFUL, 0)]
    [InlineData(0xFFFF800000000000UL, 1)]
    [InlineData(0xFFFFFEFFFFFFFFFFUL, 1)]
    [InlineData(0xFFFFFF0000000000UL, 2)]
    [InlineData(0xFFFFFFFFFFFFFFFFUL, 2)]
    [InlineData(0x0000800000000000UL, -1)]
    [InlineData(0xFFFF7FFFFFFFFFFFUL, -1)]
    public void Segments_SplitTheCanonicalSpace(ulong address, int segment)
    {
        Segment? found = Segment.Of(address);
        if (segment < 0)
            Assert.Null(found);
        else
            Assert.Equal(Segment.All[segment], found);
        Assert.Equal(3, Segment.All.Length);
        Assert.False(Segment.All[0].IsKernel);
        Assert.False(Segment.All[1].IsKernel);
        Assert.True(Segment.All[2].IsKernel);
    }

    [Fact]
    public void AddressSpaceHandle_IsTheRootsKernelPointer() =>
        Assert.Equal(0xFFFFFF0000105000UL, new AddressSpace(new PhysAddr(0x105000)).Handle);
}
