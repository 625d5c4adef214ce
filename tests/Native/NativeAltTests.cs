using Mmspec.Models.State;
using Mmspec.NativeClient;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Sequences;
using Xunit.Abstractions;

namespace Mmspec.Tests.Native;

/// <summary>
/// native/alt makes every choice the spec leaves open differently from the reference (1 GiB direct map over
/// 4 GiB, a private table pool, one kernel slot shared, an in-band heap, best fit, highest-fit vmfind, ...). The
/// default profile must accept it on every RAM size; strict must reject it, and only at the
/// implementation-defined clauses it departs from.
/// </summary>
[Trait("Category", "Native")]
public sealed class NativeAltTests(ITestOutputHelper output)
{
    private static string Alt => Path.Combine(NativeBuild.BuildFolder, "libalt.so");

    /// <summary>The clauses alt departs from, each with a sequence that shows it.</summary>
    public static TheoryData<string, string, Operation[]> Departures() => new()
    {
        { "PHYS-D02", "the highest free page, not the lowest", [new AllocPages(1, false)] },
        { "PHYS-D02", "best fit from page 1: no low 1 MiB reserved", [new AllocPages(4, true)] },
        { "VM-D02", "the highest fitting region", [new VmFind(0, new SearchRange(new AddressPick(Area.UserLow, 0), 4, 0), 1)] },
        { "MAP-D08", "unmapping inside a 1 GiB page returns the 4 KiB frame", [new UnmapSingle(0, new AddressPick(Area.DirectMap, 1), 0)] },
        { "HEAP-D02", "kmalloc(0) returns NULL", [new Kmalloc(0)] },
        { "VM-D04", "a MM_PAGE_USER region in kernel space, mapped supervisor-only",
            [new VmAlloc(0, new SearchRange(new AddressPick(Area.KernelTop, 3), 2, 0), 1, Rights.User | Rights.Write)] },
        { "DMAP-D06", "only PML4 slot 510 is shared", [new CheckBootLayout()] },
    };

    /// <summary>
    /// The departures above, and one no sequence can show alone: alt maps MM_PAGE_USER at a kernel address as
    /// asked (DMAP-D05), but mapping needs a page, and allocating one departs first (PHYS-D02).
    /// </summary>
    private static readonly HashSet<string> DepartureClauses = [.. Departures().Select(row => (string)row[0]), "DMAP-D05"];

    [Theory, MemberData(nameof(Departures))]
    public void Each_departure_fails_strict_at_its_clause_and_passes_default(string clause, string why, Operation[] steps)
    {
        using var factory = new NativeFactory(Alt);
        SequenceResult strict = SequenceRunner.Run(factory, Profile.Strict, steps);
        Assert.True(strict.Violation?.Clause == clause, $"{why}: expected {clause} in strict, got {strict.Violation?.Clause ?? "a pass"} ({strict.Violation?.Message})");
        SequenceResult lenient = SequenceRunner.Run(factory, Profile.Default, steps);
        Assert.True(lenient.Passed, $"{why}: the default profile must accept it: {lenient.Violation?.Clause} {lenient.Violation?.Message}");
    }

    public static TheoryData<string, ulong> DefaultCases()
    {
        var cases = new TheoryData<string, ulong>();
        foreach (ISpecProperty property in PropertyCatalogue.All.Where(p => p.MinimumProfile == Profile.Default))
            foreach (ulong ram in new[] { SequenceRunner.DefaultRamSize, 5UL << 20, 16UL << 20 })
                cases.Add(property.Id, ram);
        return cases;
    }

    [Theory, MemberData(nameof(DefaultCases))]
    public void Alt_passes_the_default_profile(string propertyId, ulong ramSize)
    {
        using var factory = new NativeFactory(Alt);
        PropertyResult result = PropertyCatalogue.Find(propertyId).Check(factory, new RunSettings(Profile.Default, RamSize: ramSize));
        output.WriteLine($"alt {propertyId} at {ramSize >> 20} MiB: {result.Tests} sequences, {result.Steps} checked steps in {result.Elapsed.TotalSeconds:F2} s");
        Assert.True(result.Verdict == Verdict.Passed, result.Failure?.Describe());
    }

    [Fact]
    public void In_strict_every_property_fails_only_at_a_departure()
    {
        using var factory = new NativeFactory(Alt);
        var failed = new List<string>();
        foreach (ISpecProperty property in PropertyCatalogue.All)
        {
            PropertyResult result = property.Check(factory, new RunSettings(Profile.Strict, MaxTest: 20));
            if (result.Failure is not { } failure)
                continue;
            output.WriteLine($"{property.Id}: {failure.Violation.Clause} {failure.Violation.Message}");
            Assert.Contains(failure.Violation.Clause, DepartureClauses);
            Assert.True(ClauseCatalogue.Load().TryGet(failure.Violation.Clause, out Clause? clause) && clause.IsImplementationDefined);
            failed.Add(property.Id);
        }
        Assert.Contains("boot.layout", failed);
        Assert.True(failed.Count >= 5, $"strict should reject alt in most properties, failed only: {string.Join(", ", failed)}");
    }
}
