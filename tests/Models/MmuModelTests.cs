using Mmspec.Models.Mmu;
using static Mmspec.Tests.Models.PageTableBuilder;

namespace Mmspec.Tests.Models;

/// <summary>Translation and permission rules of the MMU model, on tables built by hand.</summary>
public class MmuModelTests
{
    private const ulong Virt4K = 0x0000_1234_5678_9000;
    private const ulong Phys4K = 0x0000_0ABC_DEF0_1000;

    private static readonly Access[] AllAccesses =
    [
        Access.UserRead, Access.UserWrite, Access.UserExecute,
        Access.SupervisorRead, Access.SupervisorWrite, Access.SupervisorExecute,
    ];

    private static PageTableBuilder UserPage4K()
    {
        var b = new PageTableBuilder();
        b.Map4K(Virt4K, Phys4K, P | RW | US);
        return b;
    }

    private static Translation Translate(PageTableBuilder b, ulong virt, Access access) =>
        Mmu.Translate(b.Ram, b.Root, virt, access);

    private static void AssertFault(Translation t, FaultReason reason, int level)
    {
        Assert.False(t.IsOk, $"expected {reason} at level {level}, got {t}");
        Assert.Equal(new PageFault(reason, (PagingLevel)level), t.Fault);
    }

    // ---- successful translations -------------------------------------------------------------

    [Fact]
    public void FourKiBPage_TranslatesWithOffsetAndReportsTheLeaf()
    {
        var b = UserPage4K();

        Translation t = Translate(b, Virt4K + 0xABC, Access.UserRead);

        Assert.True(t.IsOk, t.ToString());
        Assert.Equal(Phys4K + 0xABC, t.PhysicalAddress);
        Assert.Equal(Virt4K + 0xABC, t.VirtualAddress);
        Assert.Equal(new MappedLeaf(Virt4K, Phys4K, PageSize.Size4KiB, new Permissions(true, true, true)), t.Leaf);
        Assert.Equal(PagingLevel.Pt, t.Leaf.Level);
    }

    [Fact]
    public void FourKiBPage_NeighbourPagesAreNotPresentInTheSamePageTable()
    {
        var b = UserPage4K();

        AssertFault(Translate(b, Virt4K - 1, Access.SupervisorRead), FaultReason.NotPresent, 1);
        AssertFault(Translate(b, Virt4K + 0x1000, Access.SupervisorRead), FaultReason.NotPresent, 1);
        Assert.Equal(Phys4K + 0xFFF, Translate(b, Virt4K + 0xFFF, Access.SupervisorRead).PhysicalAddress);
    }

    [Fact]
    public void FullyPermissivePage_AllowsEveryAccess()
    {
        var b = UserPage4K();

        foreach (Access access in AllAccesses)
        {
            Translation t = Translate(b, Virt4K + 8, access);
            Assert.True(t.IsOk, $"{access}: {t}");
            Assert.Equal(Phys4K + 8, t.PhysicalAddress);
        }
    }

    [Fact]
    public void TwoMiBPage_TranslatesWithOffsetsUpToItsLastByte()
    {
        const ulong virt = 0x0000_0040_0060_0000;
        const ulong phys = 0x0000_0008_0020_0000;
        var b = new PageTableBuilder();
        b.Map2M(virt, phys, P | RW | US);

        Translation t = Translate(b, virt + 0x1_2345, Access.UserWrite);

        Assert.True(t.IsOk, t.ToString());
        Assert.Equal(phys + 0x1_2345, t.PhysicalAddress);
        Assert.Equal(PageSize.Size2MiB, t.Size);
        Assert.Equal(virt, t.Leaf.VirtualBase);
        Assert.Equal(phys, t.Leaf.PhysicalBase);
        Assert.Equal(PagingLevel.Pd, t.Leaf.Level);
        Assert.Equal(phys + 0x1F_FFFF, Translate(b, virt + 0x1F_FFFF, Access.UserRead).PhysicalAddress);
        AssertFault(Translate(b, virt + 0x20_0000, Access.UserRead), FaultReason.NotPresent, 2);
    }

    [Fact]
    public void OneGiBPage_TranslatesWithOffset()
    {
        const ulong virt = 0x0000_0080_4000_0000; // PML4 slot 1, PDPT slot 1
        const ulong phys = 0x0000_0100_0000_0000;
        var b = new PageTableBuilder();
        b.Map1G(virt, phys, P | RW | US);

        Translation t = Translate(b, virt + 0x3ABC_DEF1, Access.UserExecute);

        Assert.True(t.IsOk, t.ToString());
        Assert.Equal(phys + 0x3ABC_DEF1, t.PhysicalAddress);
        Assert.Equal(new MappedLeaf(virt, phys, PageSize.Size1GiB, new Permissions(true, true, true)), t.Leaf);
        Assert.Equal(PagingLevel.Pdpt, t.Leaf.Level);
        AssertFault(Translate(b, virt - 1, Access.UserRead), FaultReason.NotPresent, 3);
    }

    [Fact]
    public void PteBit7IsPatNotPageSize_PageStaysFourKiB()
    {
        var b = new PageTableBuilder();
        b.Map4K(Virt4K, Phys4K, P | RW | US | PS);

        Translation t = Translate(b, Virt4K + 0x10, Access.UserRead);

        Assert.True(t.IsOk, t.ToString());
        Assert.Equal(PageSize.Size4KiB, t.Size);
        Assert.Equal(Phys4K + 0x10, t.PhysicalAddress);
    }

    [Fact]
    public void AddressFieldIsBits12To51_HighTablesAndIgnoredBitsDoNotDisturbTheWalk()
    {
        // Tables at the very top of the 52-bit physical space, and every entry carrying the bits the CPU
        // ignores (9..11 available, 52..62 available/protection key), which must not leak into addresses.
        const ulong ignored = 0x7FF0_0000_0000_0E00;
        var b = new PageTableBuilder(firstTablePage: 0x000F_FFFF_FFFF_C000);
        b.Map4K(Virt4K, 0x000F_FFFF_FFFF_B000, P | RW | US | ignored, UserTable | ignored);

        Translation t = Translate(b, Virt4K + 0x7F8, Access.UserWrite);

        Assert.Equal(0x000F_FFFF_FFFF_F000UL, b.Tables[^1]);
        Assert.True(t.IsOk, t.ToString());
        Assert.Equal(0x000F_FFFF_FFFF_B7F8UL, t.PhysicalAddress);
        Assert.Equal(new Permissions(true, true, true), t.Permissions);
    }

    [Fact]
    public void UpperHalf_Pml4Slot510IsTheKernelBase()
    {
        var b = new PageTableBuilder();
        b.Map2M(0xFFFF_FF00_0000_0000, 0, P | RW | NX, KernelTable);

        Translation t = Translate(b, 0xFFFF_FF00_0012_3456, Access.SupervisorWrite);

        Assert.Equal(510, Index(0xFFFF_FF00_0000_0000, 4));
        Assert.True(t.IsOk, t.ToString());
        Assert.Equal(0x12_3456UL, t.PhysicalAddress);
        Assert.Equal(0xFFFF_FF00_0000_0000UL, t.Leaf.VirtualBase);
        Assert.Equal(new Permissions(Writable: true, User: false, Executable: false), t.Permissions);
        AssertFault(Translate(b, 0xFFFF_FF00_0012_3456, Access.UserRead), FaultReason.UserToSupervisor, 4);
        AssertFault(Translate(b, 0xFFFF_FF80_0000_0000, Access.SupervisorRead), FaultReason.NotPresent, 4);
    }

    [Fact]
    public void UpperHalf_LastPageOfTheAddressSpace()
    {
        var b = new PageTableBuilder();
        b.Map4K(0xFFFF_FFFF_FFFF_F000, 0x5000, P | RW, KernelTable);

        Translation t = Translate(b, ulong.MaxValue, Access.SupervisorRead);

        Assert.True(t.IsOk, t.ToString());
        Assert.Equal(0x5FFFUL, t.PhysicalAddress);
        Assert.True(t.Leaf.Contains(ulong.MaxValue));
        Assert.False(t.Leaf.Contains(0));
    }

    // ---- canonical addresses ----------------------------------------------------------------

    /// <summary>
    /// Tables where the non-canonical neighbours of the hole index real mappings: without the canonical
    /// check, 0x0000800000000000 would walk slot 256 and 0xFFFF7FFFFFFFFFFF slot 255 successfully.
    /// </summary>
    private static PageTableBuilder MappingsAroundTheHole()
    {
        var b = new PageTableBuilder();
        b.Map4K(0x0000_7FFF_FFFF_F000, 0x7000, P | RW | US);
        b.Map4K(0xFFFF_8000_0000_0000, 0x8000, P | RW | US);
        return b;
    }

    [Theory]
    [InlineData(0x0000_8000_0000_0000UL)]
    [InlineData(0xFFFF_7FFF_FFFF_FFFFUL)]
    [InlineData(0x8000_0000_0000_0000UL)]
    [InlineData(0x7FFF_FFFF_FFFF_F000UL)]
    [InlineData(0x0001_0000_0000_0000UL)]
    public void NonCanonicalAddress_FaultsBeforeTheWalk(ulong virt)
    {
        var b = MappingsAroundTheHole();
        long readsBefore = b.Ram.Reads;

        AssertFault(Translate(b, virt, Access.SupervisorRead), FaultReason.NonCanonical, 0);
        AssertFault(Mmu.Lookup(b.Ram, b.Root, virt), FaultReason.NonCanonical, 0);
        Assert.False(Mmu.IsCanonical(virt));
        Assert.Equal(readsBefore, b.Ram.Reads);
    }

    [Theory]
    [InlineData(0xFFFF_8000_0000_0000UL, 0x8000UL)]
    [InlineData(0x0000_7FFF_FFFF_F000UL, 0x7000UL)]
    [InlineData(0x0000_7FFF_FFFF_FFFFUL, 0x7FFFUL)]
    public void CanonicalAddressesAtTheEdgesOfTheHole_Translate(ulong virt, ulong expectedPhys)
    {
        var b = MappingsAroundTheHole();

        Translation t = Translate(b, virt, Access.UserRead);

        Assert.True(Mmu.IsCanonical(virt));
        Assert.True(t.IsOk, t.ToString());
        Assert.Equal(expectedPhys, t.PhysicalAddress);
    }

    [Theory]
    [InlineData(0x0000_8000_0000_0000UL, 0xFFFF_8000_0000_0000UL)]
    [InlineData(0x0000_7FFF_FFFF_FFFFUL, 0x0000_7FFF_FFFF_FFFFUL)]
    [InlineData(0x0000_FF00_0000_0000UL, 0xFFFF_FF00_0000_0000UL)]
    [InlineData(0xFFFF_FF00_0000_0000UL, 0xFFFF_FF00_0000_0000UL)]
    public void SignExtend_CopiesBit47Upwards(ulong virt, ulong expected)
    {
        Assert.Equal(expected, Mmu.SignExtend(virt));
        Assert.True(Mmu.IsCanonical(Mmu.SignExtend(virt)));
    }

    // ---- not present and reserved bits --------------------------------------------------------

    [Theory]
    [InlineData(4)]
    [InlineData(3)]
    [InlineData(2)]
    [InlineData(1)]
    public void NotPresentEntry_FaultsAtItsLevel(int level)
    {
        var b = UserPage4K();
        b.Update(Virt4K, level, clear: P);

        AssertFault(Translate(b, Virt4K, Access.SupervisorRead), FaultReason.NotPresent, level);
        AssertFault(Mmu.Lookup(b.Ram, b.Root, Virt4K + 0x123), FaultReason.NotPresent, level);
    }

    [Fact]
    public void NotPresentEntry_OtherBitsAreIgnored_EvenAReservedPs()
    {
        var b = new PageTableBuilder();
        b.SetEntry(b.Root, Index(Virt4K, 4), 0x20_0000 | RW | US | PS | NX);

        AssertFault(Translate(b, Virt4K, Access.SupervisorRead), FaultReason.NotPresent, 4);
    }

    [Fact]
    public void EmptyRoot_FaultsNotPresentAtPml4()
    {
        var b = new PageTableBuilder();

        AssertFault(Translate(b, 0, Access.SupervisorRead), FaultReason.NotPresent, 4);
        AssertFault(Translate(b, 0xFFFF_FF00_0000_0000, Access.SupervisorRead), FaultReason.NotPresent, 4);
    }

    [Fact]
    public void PageSizeBitInPml4Entry_IsReserved()
    {
        var b = UserPage4K();
        b.Update(Virt4K, 4, set: PS);

        AssertFault(Translate(b, Virt4K, Access.SupervisorRead), FaultReason.ReservedBit, 4);
        AssertFault(Mmu.Lookup(b.Ram, b.Root, Virt4K), FaultReason.ReservedBit, 4);
    }

    [Theory]
    [InlineData(13)]
    [InlineData(17)]
    [InlineData(20)]
    public void TwoMiBLeafWithMisalignedFrame_IsReserved(int bit)
    {
        var b = new PageTableBuilder();
        b.Map2M(0x4000_0000, 0x20_0000 | (1UL << bit), P | RW | US);

        AssertFault(Translate(b, 0x4000_0000, Access.UserRead), FaultReason.ReservedBit, 2);
    }

    [Theory]
    [InlineData(13)]
    [InlineData(21)]
    [InlineData(29)]
    public void OneGiBLeafWithMisalignedFrame_IsReserved(int bit)
    {
        var b = new PageTableBuilder();
        b.Map1G(0x4000_0000, 0x4000_0000 | (1UL << bit), P | RW | US);

        AssertFault(Translate(b, 0x4000_0000, Access.UserRead), FaultReason.ReservedBit, 3);
    }

    [Fact]
    public void HugeLeafBit12IsPat_IgnoredForTheFrameAndNotReserved()
    {
        // SDM tables 4-17/4-18: in a 1 GiB or 2 MiB leaf, bit 12 selects the memory type; the frame starts at bit 30 / 21.
        var b = new PageTableBuilder();
        b.Map1G(0x4000_0000, 0x8000_0000 | 0x1000, P | RW | US);
        b.Map2M(0x8000_0000, 0x60_0000 | 0x1000, P | RW | US);

        Translation giant = Translate(b, 0x4000_0010, Access.UserRead);
        Translation huge = Translate(b, 0x8000_0010, Access.UserRead);

        Assert.Equal(0x8000_0010UL, giant.PhysicalAddress);
        Assert.Equal(0x8000_0000UL, giant.Leaf.PhysicalBase);
        Assert.Equal(0x60_0010UL, huge.PhysicalAddress);
    }

    [Fact]
    public void AlignedHugeFramesWithHighBits_AreAccepted()
    {
        var b = new PageTableBuilder();
        b.Map1G(0x4000_0000, 0x000F_FFFF_C000_0000, P | RW | US);
        b.Map2M(0x8000_0000, 0x000F_FFFF_FFE0_0000, P | RW | US);

        Assert.Equal(0x000F_FFFF_C000_0001UL, Translate(b, 0x4000_0001, Access.UserRead).PhysicalAddress);
        Assert.Equal(0x000F_FFFF_FFE0_0001UL, Translate(b, 0x8000_0001, Access.UserRead).PhysicalAddress);
    }

    // ---- permissions across levels ------------------------------------------------------------

    [Fact]
    public void PdeWithoutUserBit_MakesAUserPteSupervisorOnly()
    {
        var b = UserPage4K();
        b.Update(Virt4K, 2, clear: US);

        AssertFault(Translate(b, Virt4K, Access.UserRead), FaultReason.UserToSupervisor, 2);
        Assert.True(Translate(b, Virt4K, Access.SupervisorRead).IsOk);
        Assert.False(Mmu.Lookup(b.Ram, b.Root, Virt4K).Permissions.User);
    }

    [Fact]
    public void PdpteWithoutWriteBit_MakesThePageReadOnlyForEveryone()
    {
        var b = UserPage4K();
        b.Update(Virt4K, 3, clear: RW);

        AssertFault(Translate(b, Virt4K, Access.UserWrite), FaultReason.WriteToReadOnly, 3);
        AssertFault(Translate(b, Virt4K, Access.SupervisorWrite), FaultReason.WriteToReadOnly, 3); // CR0.WP = 1
        Assert.True(Translate(b, Virt4K, Access.UserRead).IsOk);
        Assert.False(Mmu.Lookup(b.Ram, b.Root, Virt4K).Permissions.Writable);
    }

    [Fact]
    public void NoExecuteOnAnIntermediateLevel_StopsFetchesButNotData()
    {
        var b = UserPage4K();
        b.Update(Virt4K, 3, set: NX);

        AssertFault(Translate(b, Virt4K, Access.UserExecute), FaultReason.ExecuteNoExecute, 3);
        AssertFault(Translate(b, Virt4K, Access.SupervisorExecute), FaultReason.ExecuteNoExecute, 3);
        Assert.True(Translate(b, Virt4K, Access.UserWrite).IsOk);
        Assert.Equal(new Permissions(true, true, false), Mmu.Lookup(b.Ram, b.Root, Virt4K).Permissions);
    }

    [Fact]
    public void SupervisorPage_FaultsEveryUserAccess()
    {
        var b = new PageTableBuilder();
        b.Map4K(Virt4K, Phys4K, P | RW);

        AssertFault(Translate(b, Virt4K, Access.UserRead), FaultReason.UserToSupervisor, 1);
        AssertFault(Translate(b, Virt4K, Access.UserWrite), FaultReason.UserToSupervisor, 1);
        AssertFault(Translate(b, Virt4K, Access.UserExecute), FaultReason.UserToSupervisor, 1);
    }

    [Fact]
    public void SupervisorMayReadWriteAndExecuteUserPages_SmapAndSmepOff()
    {
        var b = UserPage4K();

        Assert.True(Translate(b, Virt4K, Access.SupervisorRead).IsOk);
        Assert.True(Translate(b, Virt4K, Access.SupervisorWrite).IsOk);
        Assert.True(Translate(b, Virt4K, Access.SupervisorExecute).IsOk);
    }

    [Fact]
    public void ReadOnlyLeaf_FaultsSupervisorWritesToo()
    {
        var b = new PageTableBuilder();
        b.Map4K(Virt4K, Phys4K, P | US);

        AssertFault(Translate(b, Virt4K, Access.SupervisorWrite), FaultReason.WriteToReadOnly, 1);
        Assert.True(Translate(b, Virt4K, Access.SupervisorExecute).IsOk);
    }

    [Fact]
    public void ReadOnlyNoExecuteSupervisorPage_StillReadable()
    {
        var b = new PageTableBuilder();
        b.Map2M(0x20_0000, 0x40_0000, P | NX, KernelTable);

        Translation t = Translate(b, 0x20_0008, Access.SupervisorRead);

        Assert.True(t.IsOk, t.ToString());
        Assert.Equal(new Permissions(false, false, false), t.Permissions);
        Assert.Equal(new Permissions(false, false, false), Mmu.Lookup(b.Ram, b.Root, 0x20_0008).Permissions);
    }

    public enum Restriction
    {
        ClearWrite,
        ClearUser,
        SetNoExecute,
    }

    public static TheoryData<int, Restriction> EveryLevelAndRestriction()
    {
        var data = new TheoryData<int, Restriction>();
        foreach (int level in new[] { 4, 3, 2, 1 })
        {
            foreach (Restriction r in Enum.GetValues<Restriction>())
            {
                data.Add(level, r);
            }
        }

        return data;
    }

    /// <summary>One restrictive bit at one level, all six accesses: exactly the accesses the bit forbids fault, at that level.</summary>
    [Theory]
    [MemberData(nameof(EveryLevelAndRestriction))]
    public void OneRestrictiveEntry_DecidesForTheWholePath(int level, Restriction restriction)
    {
        var b = UserPage4K();
        switch (restriction)
        {
            case Restriction.ClearWrite: b.Update(Virt4K, level, clear: RW); break;
            case Restriction.ClearUser: b.Update(Virt4K, level, clear: US); break;
            default: b.Update(Virt4K, level, set: NX); break;
        }

        foreach (Access access in AllAccesses)
        {
            FaultReason? expected = restriction switch
            {
                Restriction.ClearWrite when access.Kind == AccessKind.Write => FaultReason.WriteToReadOnly,
                Restriction.ClearUser when access.Privilege == Privilege.User => FaultReason.UserToSupervisor,
                Restriction.SetNoExecute when access.Kind == AccessKind.Execute => FaultReason.ExecuteNoExecute,
                _ => null,
            };

            Translation t = Translate(b, Virt4K + 0x40, access);
            if (expected is { } reason)
            {
                AssertFault(t, reason, level);
            }
            else
            {
                Assert.True(t.IsOk, $"{access}: {t}");
                Assert.Equal(Phys4K + 0x40, t.PhysicalAddress);
            }
        }
    }

    [Fact]
    public void PermissionFault_NamesTheHighestLevelThatWithdrewTheRight()
    {
        var b = UserPage4K();
        b.Update(Virt4K, 3, clear: RW);
        b.Update(Virt4K, 1, clear: RW | US);
        b.Update(Virt4K, 2, clear: US, set: NX);
        b.Update(Virt4K, 4, set: NX);

        AssertFault(Translate(b, Virt4K, Access.SupervisorWrite), FaultReason.WriteToReadOnly, 3);
        AssertFault(Translate(b, Virt4K, Access.UserRead), FaultReason.UserToSupervisor, 2);
        AssertFault(Translate(b, Virt4K, Access.SupervisorExecute), FaultReason.ExecuteNoExecute, 4);
    }

    [Fact]
    public void SeveralBrokenRules_PrivilegeIsReportedFirst()
    {
        var b = new PageTableBuilder();
        b.Map4K(Virt4K, Phys4K, P | NX);

        AssertFault(Translate(b, Virt4K, Access.UserWrite), FaultReason.UserToSupervisor, 1);
        AssertFault(Translate(b, Virt4K, Access.UserExecute), FaultReason.UserToSupervisor, 1);
    }

    // ---- result type and arguments --------------------------------------------------------------

    [Fact]
    public void FaultedTranslation_RefusesToGiveAnAddress()
    {
        var b = new PageTableBuilder();
        Translation t = Translate(b, Virt4K, Access.UserRead);

        var e = Assert.Throws<InvalidOperationException>(() => t.PhysicalAddress);
        Assert.Contains("NotPresent", e.Message);
        Assert.Throws<InvalidOperationException>(() => t.Leaf);

        Translation ok = Translate(UserPage4K(), Virt4K, Access.UserRead);
        Assert.Throws<InvalidOperationException>(() => ok.Fault);
    }

    [Fact]
    public void ToString_NamesTheFaultOrThePage()
    {
        var b = new PageTableBuilder();
        b.Map2M(0x20_0000, 0x40_0000, P | RW);

        Assert.Equal("0x0000800000000000: fault NonCanonical",
            Translate(b, 0x0000_8000_0000_0000, Access.UserRead).ToString());
        Assert.Equal("0x0000000000400000: fault NotPresent at PD (level 2)",
            Translate(b, 0x40_0000, Access.UserRead).ToString());
        Assert.Equal("0x0000000000200010: fault UserToSupervisor at PD (level 2)",
            Translate(b, 0x20_0010, Access.UserRead).ToString());

        string ok = Translate(b, 0x20_0010, Access.SupervisorRead).ToString();
        Assert.Equal("0x0000000000200010 -> 0x400010 via 2 MiB page 0x0000000000200000 -> 0x400000 (supervisor rwx)", ok);
    }

    [Theory]
    [InlineData(0x1001UL)]
    [InlineData(0x8UL)]
    [InlineData(0x0010_0000_0000_0000UL)]
    public void RootThatIsNotATablePageAddress_IsRejected(ulong root)
    {
        var ram = new FakePhysicalMemory();

        Assert.Throws<ArgumentOutOfRangeException>(() => Mmu.Translate(ram, root, 0, Access.UserRead));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mmu.Lookup(ram, root, 0));
    }

    [Fact]
    public void NullMemory_IsRejected()
    {
        Assert.Throws<ArgumentNullException>(() => Mmu.Translate(null!, 0x1000, 0, Access.UserRead));
    }

    [Fact]
    public void Translate_AllocatesNothing()
    {
        var b = UserPage4K();
        b.Map2M(0x4000_0000, 0x20_0000, P | US);
        b.Map1G(0x80_0000_0000, 0x4000_0000, P | RW | NX, KernelTable);
        ulong[] addresses = [Virt4K + 1, 0x4000_0123, 0x80_0000_1000, 0x0000_8000_0000_0000, 0xFFFF_FF00_0000_0000, 0];

        ulong checksum = 0;
        void RunAll()
        {
            foreach (ulong virt in addresses)
            {
                foreach (Access access in AllAccesses)
                {
                    Translation t = Mmu.Translate(b.Ram, b.Root, virt, access);
                    checksum += t.IsOk ? t.PhysicalAddress : (ulong)t.Fault.Reason;
                }
            }
        }

        // Warm-up: JIT, static initialisation and tiered recompilation (after 30 calls, and again with OSR) may allocate;
        // enough calls that the code measured below is the final tier.
        for (int i = 0; i < 100; i++)
        {
            RunAll();
        }
        Thread.Sleep(200); // the background tier-1 compile of the hot methods has finished
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            RunAll();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.NotEqual(0UL, checksum);
    }
}
