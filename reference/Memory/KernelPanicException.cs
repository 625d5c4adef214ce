namespace Mmspec.Reference.Memory;

public enum PanicReason
{
    FreeOfUnalignedAddress,
    FreeOutsideRam,
    FreeOfReservedPage,
    FreeOfUnallocatedPage,
    HeapFreeOfForeignPointer,
    HeapDoubleFree,
    UnknownAddressSpace,
}

/// <summary>
/// What a real kernel would do on a misuse it cannot survive: stop. One type, so a test suite can
/// recognise a deliberate panic and tell it apart from a crash of the implementation.
/// </summary>
public sealed class KernelPanicException(PanicReason reason, string message)
    : Exception($"kernel panic ({reason}): {message}")
{
    public PanicReason Reason { get; } = reason;
}
