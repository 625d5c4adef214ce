namespace Mmspec.Zoo;

/// <summary>Why a native zoo member is there: to test the host's containment, as an ordinary bug, or as a field bug of issue 16.</summary>
public enum NativeZooGroup
{
    Hostile,
    Ordinary,
    Field,
}

/// <summary>
/// One member of the native zoo: <c>native/sample</c> built with <c>-DMMSPEC_BUG_&lt;NAME&gt;</c> as
/// <c>native/build/libsample-&lt;name&gt;.so</c>, the property that catches it in the default profile at the default seed, the clauses
/// it may be reported under (prefixes, any of them), and a text the violation's message must contain, if any.
/// </summary>
public sealed record NativeZooMember(string Name, NativeZooGroup Group, string CaughtBy, IReadOnlyList<string> Clauses, string? Message = null)
{
    public string Library(string buildFolder) => Path.Combine(buildFolder, $"libsample-{Name}.so");

    public bool IsCaughtUnder(string clause) => Clauses.Any(prefix => clause.StartsWith(prefix, StringComparison.Ordinal));
}

/// <summary>The native zoo members the default profile catches (the tests check each; the bench times them). native/FIELD-BUGS.md describes the field bugs.</summary>
public static class NativeZooCatalogue
{
    public static IReadOnlyList<NativeZooMember> All { get; } =
    [
        new("umap-segfault", NativeZooGroup.Hostile, "stateful.mapping", ["MAP-"], "host crashed: SIGSEGV"),
        new("contiguous-abort", NativeZooGroup.Hostile, "stateful.physical", ["PHYS-"], "host crashed: SIGABRT"),
        new("vmfind-hang", NativeZooGroup.Hostile, "vmfind.bounds", ["VM-"], "host hung: no reply within"),
        new("kmalloc-large-panics", NativeZooGroup.Hostile, "heap.alignment", ["HEAP-"], "panicked (HeapLargeUnsupported)"),
        // a free that scribbles into the next page: a mark lost, or (a space created in the last page) a table broken
        new("free-scribbles-next", NativeZooGroup.Hostile, "stateful.physical", ["PHYS-01", "PHYS-06", "PHYS-09"]),
        new("panic-text-controls", NativeZooGroup.Hostile, "stateful.physical", ["PHYS-"], "no contiguous allocator\\x1B[0m\\x07"),
        new("vmfind-inclusive-to", NativeZooGroup.Ordinary, "vmfind.bounds", ["VM-01"]),
        new("umap-returns-entry", NativeZooGroup.Ordinary, "stateful.mapping", ["MAP-1"]),
        new("kmalloc-misaligned", NativeZooGroup.Ordinary, "heap.alignment", ["HEAP-02"]),
        new("contiguous-includes-used", NativeZooGroup.Ordinary, "stateful.physical", ["PHYS-03"]),
        // vmalloc's rollback releases pages as vmfree does: the leak is traced to the vmalloc that failed (VM-07)
        new("vmfree-leaks", NativeZooGroup.Ordinary, "stateful.regions", ["VM-09", "PHYS-06", "VM-07"]),
        new("map-ignores-exec", NativeZooGroup.Ordinary, "stateful.mapping", ["MAP-04"]),
        // swarm testing fills one size class
        new("slab-last-slot-crosses-page", NativeZooGroup.Field, "stateful.heap", ["HEAP-0"]),
        // CreateSpace steps: a new space's user half must be empty, whatever page its PML4 is
        new("space-copies-user-half", NativeZooGroup.Field, "stateful.mapping", ["MAP-16"], "user half maps"),
        new("space-root-not-zeroed", NativeZooGroup.Field, "stateful.physical", ["MAP-16"]),
        // memory pressure (Hog): kmalloc and mm_map_single at exhaustion
        new("heap-grows-unchecked", NativeZooGroup.Field, "stateful.heap", ["HEAP-01"], "crashed"),
        new("map-enomem-dangling-table", NativeZooGroup.Field, "stateful.mapping", ["PHYS-01", "MAP-18"]),
        // a burst of kmallocs of one size fills a slab past 64 blocks
        new("slab-slot-word-offset", NativeZooGroup.Field, "stateful.heap", ["HEAP-03"]),
        // a hog that leaves free the pages on both sides of a full 64-page word
        new("contiguous-run-across-full-word", NativeZooGroup.Field, "stateful.physical", ["PHYS-03"]),
        // the suite cross-checks mm_map_get's answers after every step (ApiViewCheck)
        new("map-get-cache-ignores-space", NativeZooGroup.Field, "stateful.mapping", ["MAP-09"], "the suite's cross-check after step"),
        new("map-get-cache-survives-vmfree", NativeZooGroup.Field, "stateful.regions", ["MAP-09"], "the suite's cross-check after step"),
        // misuse in the default profile: non-canonical addresses beside their canonical twins, maps over large pages
        new("map-noncanonical-aliases", NativeZooGroup.Field, "stateful.mapping", ["MAP-19"], "but no page can map the non-canonical"),
        new("umap-noncanonical-aliases", NativeZooGroup.Field, "stateful.mapping", ["MAP-19"], "(its canonical twin"),
        new("map-get-noncanonical-aliases", NativeZooGroup.Field, "stateful.mapping", ["MAP-19", "MAP-09"], "non-canonical"),
        new("map-into-large-page", NativeZooGroup.Field, "stateful.mapping", ["MAP-20"]),
    ];

    public static NativeZooMember Find(string name) =>
        All.FirstOrDefault(member => member.Name == name) ?? throw new KeyNotFoundException($"no native zoo member '{name}'");
}
