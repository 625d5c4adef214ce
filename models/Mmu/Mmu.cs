namespace Mmspec.Models.Mmu;

/// <summary>
/// A model of the x86-64 page walk in one fixed configuration: 4-level paging (CR4.PAE, EFER.LME),
/// EFER.NXE = 1, CR0.WP = 1, SMEP and SMAP off, CR4.PKE off, MAXPHYADDR = 52.
/// It is written from the SDM's description of the walk, not from any kernel, so a kernel's tables
/// can be judged by what the CPU would do with them. It shares no code with the reference.
/// </summary>
public static partial class Mmu
{
    /// <summary>True when bits 63..47 are all equal, i.e. the address is a sign extension of its low 48 bits.</summary>
    public static bool IsCanonical(ulong virt)
    {
        long top = (long)virt >> 47;
        return top == 0 || top == -1;
    }

    /// <summary>Copies bit 47 into bits 48..63: the canonical form of a 48-bit address.</summary>
    public static ulong SignExtend(ulong virt) => (ulong)(((long)virt << 16) >> 16);

    /// <summary>
    /// Translates <paramref name="virt"/> for <paramref name="access"/>: the walk's structural faults first
    /// (non-canonical, not present, reserved bit, from the root down), then the permission check against the
    /// rights of the whole path. Allocates nothing, so it can be run for every address of a test.
    /// </summary>
    public static Translation Translate(IPhysicalMemory ram, ulong rootTablePhys, ulong virt, Access access)
    {
        Translation walk = Walk(ram, rootTablePhys, virt, out Withdrawals withdrawn);
        if (!walk.IsOk)
        {
            return walk;
        }

        // The CPU reports one #PF whatever the number of broken rules; the model checks privilege first,
        // then the kind of access, so a user write to a supervisor read-only page says UserToSupervisor.
        Permissions rights = walk.Permissions;
        if (access.Privilege == Privilege.User && !rights.User)
        {
            return Translation.Failure(virt, new PageFault(FaultReason.UserToSupervisor, withdrawn.UserAt));
        }

        // CR0.WP = 1: read-only binds the supervisor too. SMAP off: a supervisor may touch user pages.
        if (access.Kind == AccessKind.Write && !rights.Writable)
        {
            return Translation.Failure(virt, new PageFault(FaultReason.WriteToReadOnly, withdrawn.WritableAt));
        }

        // SMEP off: the supervisor may fetch from user pages; only XD stops a fetch.
        if (access.Kind == AccessKind.Execute && !rights.Executable)
        {
            return Translation.Failure(virt, new PageFault(FaultReason.ExecuteNoExecute, withdrawn.ExecutableAt));
        }

        return walk;
    }

    /// <summary>
    /// The walk without an access check: the leaf containing <paramref name="virt"/> with its effective rights,
    /// or the structural fault (NonCanonical, NotPresent, ReservedBit) that stops every access to it.
    /// </summary>
    public static Translation Lookup(IPhysicalMemory ram, ulong rootTablePhys, ulong virt) =>
        Walk(ram, rootTablePhys, virt, out _);

    /// <summary>
    /// One table per level, from the root down, stopping at the first leaf; each step reads exactly one entry.
    /// </summary>
    private static Translation Walk(IPhysicalMemory ram, ulong rootTablePhys, ulong virt, out Withdrawals withdrawn)
    {
        CheckArguments(ram, rootTablePhys);
        withdrawn = default;

        if (!IsCanonical(virt))
        {
            return Translation.Failure(virt, new PageFault(FaultReason.NonCanonical, PagingLevel.None));
        }

        ulong table = rootTablePhys;
        Permissions rights = Permissions.All;
        for (PagingLevel level = PagingLevel.Pml4; ; level = level.Next())
        {
            PageTableEntry entry = ReadEntry(ram, table, level.IndexOf(virt));
            EntryKind kind = Classify(entry, level);
            if (kind == EntryKind.NotPresent)
            {
                return Translation.Failure(virt, new PageFault(FaultReason.NotPresent, level));
            }

            if (kind == EntryKind.Reserved)
            {
                return Translation.Failure(virt, new PageFault(FaultReason.ReservedBit, level));
            }

            withdrawn.Note(entry, level);
            rights = rights.Restrict(entry);

            if (kind == EntryKind.Leaf)
            {
                PageSize size = LeafSize(level);
                ulong virtualBase = virt & ~((ulong)size - 1);
                return Translation.Success(virt, new MappedLeaf(virtualBase, LeafFrame(entry, size), size, rights));
            }

            table = entry.Address;
        }
    }

    internal enum EntryKind
    {
        NotPresent,
        Table,
        Leaf,
        Reserved,
    }

    /// <summary>
    /// What a present entry means at a level. Only P is looked at in a non-present entry: the CPU ignores
    /// every other bit there, so garbage in a cleared entry must not turn into a reserved-bit fault.
    /// </summary>
    internal static EntryKind Classify(PageTableEntry entry, PagingLevel level)
    {
        if (!entry.Present)
        {
            return EntryKind.NotPresent;
        }

        switch (level)
        {
            case PagingLevel.Pml4:
                // There are no 512 GiB pages: PS is a reserved bit in a PML4E.
                return entry.PageSize ? EntryKind.Reserved : EntryKind.Table;
            case PagingLevel.Pdpt:
            case PagingLevel.Pd:
                if (!entry.PageSize)
                {
                    return EntryKind.Table;
                }

                return (entry.Raw & HugeReservedMask(level)) != 0 ? EntryKind.Reserved : EntryKind.Leaf;
            default:
                // Bit 7 of a PTE is PAT, not PS: level 1 entries are always 4 KiB leaves.
                return EntryKind.Leaf;
        }
    }

    /// <summary>
    /// The address-field bits a huge leaf must keep clear so that its frame is aligned to its size:
    /// bits 13..29 for 1 GiB, 13..20 for 2 MiB. Bit 12 is not among them: in a huge leaf it is the
    /// PAT bit (SDM Vol. 3A, tables 4-17 and 4-18), a memory-type selector, not part of the frame.
    /// </summary>
    internal static ulong HugeReservedMask(PagingLevel level) =>
        (level.EntrySpan() - 1) & ~((1UL << 13) - 1);

    internal static PageSize LeafSize(PagingLevel level) => level switch
    {
        PagingLevel.Pdpt => PageSize.Size1GiB,
        PagingLevel.Pd => PageSize.Size2MiB,
        _ => PageSize.Size4KiB,
    };

    /// <summary>The frame of a leaf: the address field with the in-page bits (and a huge leaf's PAT bit) dropped.</summary>
    internal static ulong LeafFrame(PageTableEntry entry, PageSize size) => entry.Address & ~((ulong)size - 1);

    internal static PageTableEntry ReadEntry(IPhysicalMemory ram, ulong table, int index) =>
        new(ram.ReadU64(table + ((ulong)index * 8)));

    /// <summary>
    /// The root is the PML4's physical address, not a raw CR3 value: the PCID/PWT/PCD bits a CR3 may carry
    /// would only hide a caller passing the wrong number, so they are refused instead of masked.
    /// </summary>
    internal static void CheckArguments(IPhysicalMemory ram, ulong rootTablePhys)
    {
        ArgumentNullException.ThrowIfNull(ram);
        if ((rootTablePhys & ~PageTableEntry.AddressMask) != 0)
        {
            ThrowBadRoot(rootTablePhys);
        }
    }

    private static void ThrowBadRoot(ulong rootTablePhys) =>
        throw new ArgumentOutOfRangeException(
            nameof(rootTablePhys), $"0x{rootTablePhys:X} is not a 4 KiB aligned physical address below 2^52");

    /// <summary>
    /// Where each right was first taken away on the way down, so a permission fault can name the entry
    /// responsible (the highest one, as the walk meets it first). None means the right was never withdrawn.
    /// </summary>
    private struct Withdrawals
    {
        public PagingLevel WritableAt;
        public PagingLevel UserAt;
        public PagingLevel ExecutableAt;

        public void Note(PageTableEntry entry, PagingLevel level)
        {
            if (!entry.Writable && WritableAt == PagingLevel.None)
            {
                WritableAt = level;
            }

            if (!entry.User && UserAt == PagingLevel.None)
            {
                UserAt = level;
            }

            if (entry.NoExecute && ExecutableAt == PagingLevel.None)
            {
                ExecutableAt = level;
            }
        }
    }
}
