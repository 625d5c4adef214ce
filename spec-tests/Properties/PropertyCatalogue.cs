using FsCheck;
using FsCheck.Fluent;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Sequences;
using G = Mmspec.SpecTests.Sequences.OperationGenerators;

namespace Mmspec.SpecTests.Properties;

/// <summary>
/// The one catalogue of properties every front end runs (xunit, the CLI). Each names the clauses it can
/// report; together they must cover every normative clause of spec/clauses.md.
/// </summary>
public static class PropertyCatalogue
{
    public const int MaxSteps = 150;

    /// <summary>Clauses the audit after every step can report, whatever the step was.</summary>
    private static readonly string[] AuditClauses = ["PHYS-01", "PHYS-09", "PHYS-05", "PHYS-06", "HEAP-03", "HEAP-04", "DMAP-01", "DMAP-04", "MAP-04", "MAP-02", "MAP-06", "VM-06", "DMAP-10", "DMAP-11", "MAP-18", "MAP-D05", "DMAP-D07"];

    public static IReadOnlyList<ISpecProperty> All { get; } =
    [
        Stateful("stateful.physical", "Physical pages: allocate, allocate contiguous, free, misuse",
            (5, G.AllocPage), (3, G.AllocContiguous), (4, G.FreePage), (1, G.FreeBad), (1, G.Hog), (1, G.Release), (1, G.CreateSpace)),
        Stateful("stateful.heap", "Kernel heap: kmalloc/kfree as malloc(3)/free(3)",
            (6, G.Kmalloc), (1, G.KmallocBurst), (5, G.Kfree), (1, G.AllocPage), (1, G.FreePage), (1, G.Hog), (1, G.Release)),
        Stateful("stateful.mapping", "Single-page mappings: map, look up, unmap (4 KiB and the direct map's 2 MiB pages)",
            (4, G.AllocPage), (6, G.Map), (4, G.MapGet), (4, G.Unmap), (1, G.MapKernelUser), (1, G.FreePage), (1, G.CreateSpace), (1, G.Hog), (1, G.Release),
            (1, Misuse.VmFreeNotRegion)),
        Stateful("stateful.regions", "Virtual regions: vmfind, vmalloc, vmfree",
            (4, G.VmFind), (5, G.VmAlloc), (1, G.VmAllocRemaining), (3, G.VmFree), (2, G.MapGet), (1, G.Unmap), (1, G.AllocContiguous),
            (1, G.CreateSpace), (1, G.Hog), (1, G.Release)),
        Stateful("stateful.mixed", "Everything at once, in two spaces and those steps create",
            (3, G.AllocPage), (1, G.AllocContiguous), (2, G.FreePage), (1, G.FreeBad), (3, G.Kmalloc), (1, G.KmallocBurst), (2, G.Kfree),
            (4, G.Map), (3, G.MapGet), (3, G.Unmap), (2, G.VmFind), (3, G.VmAlloc), (2, G.VmFree), (1, G.CreateSpace), (1, G.Hog), (1, G.Release)),
        new DirectMapProperty(),
        OneStep("heap.alignment", "kmalloc on a fresh machine: 16-byte aligned blocks inside RAM for sizes from 0 bytes to 16 MiB", G.Kmalloc),
        OneStep("phys.alignment", "Physical allocation on a fresh machine: page-aligned pages and runs inside RAM", G.AllocPage, G.AllocContiguous),
        OneStep("vmfind.bounds", "vmfind on fresh spaces: inside [from, to), aligned, free, and MM_NADDR only when nothing fits", G.VmFind),
        Build("boot.layout", "Strict: the kernel half at boot is the reference's (shared slots, 512 direct-map pages of 2 MiB)", 1,
            [(1, G.Kind<CheckBootLayout>("CheckBootLayout", Gen.Constant<Operation>(new CheckBootLayout())))], Profile.Strict),
    ];

    public static ISpecProperty Find(string id) =>
        All.FirstOrDefault(property => property.Id == id) ?? throw new KeyNotFoundException($"no property '{id}'");

    private static StatefulProperty Stateful(string id, string title, params (int Weight, StepKind Kind)[] mix) =>
        Build(id, title, MaxSteps, mix);

    /// <summary>
    /// What needs no sequence: one call on a fresh machine, still checked by the whole audit and teardown, so that
    /// it reports and reproduces like every other property.
    /// </summary>
    private static StatefulProperty OneStep(string id, string title, params StepKind[] kinds) =>
        Build(id, title, 1, kinds.Select(kind => (1, kind)).ToArray());

    private static StatefulProperty Build(string id, string title, int maxSteps, (int Weight, StepKind Kind)[] mix, Profile minimumProfile = Profile.Default)
    {
        Swarm plain = Swarm.Plain(mix.Select(entry => entry.Kind));
        // Every step kind is sampled to learn the clauses it can report: a kind's clauses do not depend on its arguments.
        var clauses = mix.SelectMany(entry => entry.Kind.Generator(plain).Sample(64, 1)).SelectMany(op => op.Clauses)
            .Concat(AuditClauses).Distinct().Order(StringComparer.Ordinal).ToList();
        return new StatefulProperty(id, title, mix, maxSteps, clauses, minimumProfile);
    }
}
