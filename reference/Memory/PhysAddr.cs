namespace Mmspec.Reference.Memory;

/// <summary>A physical address that fits a page-table entry's address field (below 2^52).</summary>
public readonly record struct PhysAddr
{
    public const ulong Limit = 1UL << 52;

    public PhysAddr(ulong value)
    {
        if (value >= Limit)
            throw new ArgumentOutOfRangeException(nameof(value), $"physical address 0x{value:X} does not fit in 52 bits");
        Value = value;
    }

    public ulong Value { get; }

    public static bool TryCreate(ulong value, out PhysAddr address)
    {
        address = value < Limit ? new PhysAddr(value) : default;
        return value < Limit;
    }

    public bool IsPageAligned => Layout.IsPageAligned(Value);

    public ulong FrameIndex => Value / Layout.PageSize;

    public PhysAddr PageBase => new(Layout.AlignDown(Value, Layout.PageSize));

    public static PhysAddr operator +(PhysAddr address, ulong offset) => new(address.Value + offset);

    public override string ToString() => $"phys 0x{Value:X}";
}
