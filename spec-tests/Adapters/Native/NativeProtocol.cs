namespace Mmspec.SpecTests.Adapters.Native;

/// <summary>
/// The binary protocol between the suite and <c>mmspec-host</c> (native/README.md): one fixed-size
/// little-endian request (u32 opcode, u32 reserved, five u64 arguments), one response (u32 status,
/// u32 text length, u64 result, u64 flags, then the text), strictly alternating.
/// </summary>
public static class NativeProtocol
{
    public const int RequestBytes = 48;
    public const int ResponseBytes = 24;
    public const int MaxText = 1024;
    public const uint AbiVersion = 1;

    public const uint StatusOk = 0;
    public const uint StatusPanic = 1;
    public const uint StatusBadRequest = 2;
}

/// <summary>Request opcodes; the values are the wire format.</summary>
public enum NativeOp : uint
{
    Hello = 0,
    PhysAllocPage = 1,
    PhysAllocContiguous = 2,
    PhysFreePage = 3,
    Kmalloc = 4,
    Kfree = 5,
    MapSingle = 6,
    MapGet = 7,
    UmapSingle = 8,
    Vmfind = 9,
    Vmalloc = 10,
    Vmfree = 11,
    SpaceCreate = 12,
    SpaceRoot = 13,
    Exit = 14,
}
