namespace Mmspec.Models.Mmu;

/// <summary>
/// One raw 64-bit entry, with only the bits this model's configuration gives a meaning to.
/// Everything else (accessed, dirty, global, PWT/PCD, the OS-available bits 9..11 and 52..62,
/// protection keys since CR4.PKE is off) is ignored by the walk, as it is by the CPU.
/// </summary>
public readonly record struct PageTableEntry(ulong Raw)
{
    public const ulong PresentBit = 1UL << 0;
    public const ulong WritableBit = 1UL << 1;
    public const ulong UserBit = 1UL << 2;

    /// <summary>Bit 7: "this is a leaf" in a PDPTE/PDE, reserved in a PML4E, PAT in a PTE.</summary>
    public const ulong PageSizeBit = 1UL << 7;

    /// <summary>Bit 63: honoured because EFER.NXE is assumed set (otherwise it would be reserved).</summary>
    public const ulong NoExecuteBit = 1UL << 63;

    /// <summary>Bits 12..51: with MAXPHYADDR = 52 every bit of the field is address, none reserved.</summary>
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000;

    public bool Present => (Raw & PresentBit) != 0;
    public bool Writable => (Raw & WritableBit) != 0;
    public bool User => (Raw & UserBit) != 0;
    public bool PageSize => (Raw & PageSizeBit) != 0;
    public bool NoExecute => (Raw & NoExecuteBit) != 0;

    /// <summary>Bits 12..51 as an address: the next table, or a 4 KiB frame. Huge leaves mask it further.</summary>
    public ulong Address => Raw & AddressMask;

    public override string ToString() => $"0x{Raw:X16}";
}
