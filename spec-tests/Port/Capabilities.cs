namespace Mmspec.SpecTests.Port;

/// <summary>
/// What an implementation declares about choices the spec leaves to it, so the suite knows what to expect.
/// </summary>
[Flags]
public enum Capabilities
{
    None = 0,

    /// <summary>The kernel half maps the direct map (low 1 GiB) with 2 MiB pages, visible to mm_map_get.</summary>
    DirectMapLargePages = 1 << 0,

    /// <summary>All spaces share one kernel half: a kernel mapping made in one space shows in every space.</summary>
    SharedKernelHalf = 1 << 1,

    /// <summary>Fatal misuse (double free, foreign pointer) raises a recognisable panic instead of undefined behaviour.</summary>
    PanicsOnMisuse = 1 << 2,

    /// <summary>Behaves as the reference on every implementation-defined point: the strict profile applies.</summary>
    ReferenceDecisions = 1 << 3,
}
