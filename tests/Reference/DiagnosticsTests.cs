using Mmspec.Reference.Memory;
using Mmspec.Reference.Paging;

namespace Mmspec.Tests.Reference;

/// <summary>
/// The text the reference puts into failure messages and debugger views: a counterexample that names a
/// page-table entry or a panic is only useful if that text says which entry, which address and why.
/// </summary>
public class DiagnosticsTests
{
    [Fact]
    public void Addresses_PrintTheirKindAndHexValue()
    {
        Assert.Equal("phys 0x1FF000", new PhysAddr(0x1FF000).ToString());
        Assert.Equal("virt 0xFFFFFF0000001000", new VirtAddr(0xFFFFFF0000001000).ToString());
    }

    [Fact]
    public void APresentEntry_PrintsItsRawValueFrameAndFlags()
    {
        PageTableEntry entry = PageTableEntry.Create(new PhysAddr(0x5000), EntryFlags.Present | EntryFlags.Writable | EntryFlags.NoExecute);

        Assert.Equal("PTE 0x8000000000005003 -> phys 0x5000 [Present, Writable, NoExecute]", entry.ToString());
    }

    [Fact]
    public void AnEntryWithoutThePresentBit_PrintsAsNotPresent()
    {
        Assert.Equal("PTE (not present)", PageTableEntry.Empty.ToString());
        Assert.Equal("PTE (not present)", new PageTableEntry(0x5002).ToString()); // an address and flags, but not present
    }

    [Fact]
    public void APanic_NamesItsReasonAndTheMisuse()
    {
        var panic = new KernelPanicException(PanicReason.HeapDoubleFree, "kfree: block at 0x1000 (physical) is already free");

        Assert.Equal(PanicReason.HeapDoubleFree, panic.Reason);
        Assert.Equal("kernel panic (HeapDoubleFree): kfree: block at 0x1000 (physical) is already free", panic.Message);
    }
}
