namespace Mmspec.Reference.Memory;

/// <summary>A canonical 48-bit virtual address: bits 63..47 are all equal.</summary>
public readonly record struct VirtAddr
{
    public VirtAddr(ulong value)
    {
        if (!IsCanonical(value))
            throw new ArgumentOutOfRangeException(nameof(value), $"virtual address 0x{value:X} is not canonical");
        Value = value;
    }

    public ulong Value { get; }

    /// <summary>Bits 48..63 are copies of bit 47: shifted arithmetically, the top 17 bits are all zeros or all ones.</summary>
    public static bool IsCanonical(ulong value)
    {
        long top = (long)value >> 47;
        return top == 0 || top == -1;
    }

    public static bool TryCreate(ulong value, out VirtAddr address)
    {
        bool ok = IsCanonical(value);
        address = ok ? new VirtAddr(value) : default;
        return ok;
    }

    public bool IsKernel => Value >= Layout.KernelBase;

    public bool IsPageAligned => Layout.IsPageAligned(Value);

    /// <summary>The 9-bit table index this address selects at a level (4 = PML4 .. 1 = PT).</summary>
    public int TableIndex(int level) => (int)((Value >> (Layout.PageShift + 9 * (level - 1))) & 0x1FF);

    public override string ToString() => $"virt 0x{Value:X}";
}
