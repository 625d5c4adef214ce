namespace Mmspec.SpecTests.Catalogue;

/// <summary>What backs a clause: the spec's words, mmspec's reading of informal words, or a decision of the reference.</summary>
public enum ClauseKind
{
    /// <summary>The spec says it (heading kind <c>normative</c>).</summary>
    Normative,

    /// <summary>The spec is informal; the clause is mmspec's reading of it (heading kind <c>interpretation</c>).</summary>
    Interpretation,

    /// <summary>The spec is silent; the clause is a decision of the reference (heading kind <c>implementation-defined</c>).</summary>
    ImplementationDefined,
}

/// <summary>The part of the API a clause is about; the prefix of its ID.</summary>
public enum ClauseArea
{
    /// <summary><c>PHYS</c>: mm_phys_alloc_page, mm_phys_alloc_contiguous, mm_phys_free_page.</summary>
    Phys,

    /// <summary><c>HEAP</c>: kmalloc, kfree.</summary>
    Heap,

    /// <summary><c>DMAP</c>: the kernel/user boundary, the direct map, MM_VIRTUALIZE/MM_PHYS, constants.</summary>
    Dmap,

    /// <summary><c>MAP</c>: mm_map_single, mm_map_get, mm_umap_single.</summary>
    Map,

    /// <summary><c>VM</c>: vmfind, vmalloc, vmfree.</summary>
    Vm,
}

/// <summary>Which clauses a conformance run checks.</summary>
public enum Profile
{
    /// <summary>Normative and interpretation clauses: what any implementation of the spec must pass.</summary>
    Default,

    /// <summary>All clauses, including implementation-defined ones: what the reference passes.</summary>
    Strict,
}

/// <summary>One numbered clause of <c>spec/clauses.md</c>.</summary>
/// <param name="Id">The clause ID, e.g. <c>PHYS-01</c> or <c>MAP-D03</c>.</param>
/// <param name="Kind">What backs the clause.</param>
/// <param name="Area">The area named by the ID prefix.</param>
/// <param name="Quote">The quoted spec text (lines joined with '\n', "&gt; " removed), or null when the clause has none.</param>
/// <param name="Interpretation">The interpretation paragraph (lines joined with a space), or null when the clause has none.</param>
/// <param name="Line">The 1-based line of the clause heading in clauses.md.</param>
public sealed record Clause(
    string Id,
    ClauseKind Kind,
    ClauseArea Area,
    string? Quote,
    string? Interpretation,
    int Line)
{
    /// <summary>True for implementation-defined clauses, which only the strict profile checks.</summary>
    public bool IsImplementationDefined => Kind == ClauseKind.ImplementationDefined;

    /// <summary>Whether a run under <paramref name="profile"/> checks this clause.</summary>
    public bool InProfile(Profile profile) => profile switch
    {
        Profile.Default => !IsImplementationDefined,
        Profile.Strict => true,
        _ => throw new ArgumentOutOfRangeException(nameof(profile), profile, "Unknown profile."),
    };

    /// <summary>The ID, for test names and messages.</summary>
    public override string ToString() => Id;
}
