namespace Mmspec.SpecTests.Port;

/// <summary>An implementation stopped deliberately (a kernel panic), as opposed to crashing.</summary>
public sealed class ImplementationPanicException(string reason, string message, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>The implementation's own name for the panic, e.g. "HeapDoubleFree".</summary>
    public string Reason { get; } = reason;
}
