using Mmspec.Models.State;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;
using Mmspec.Zoo.Bugs;
using Xunit.Abstractions;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// Misuse in the default profile (MAP-19 to MAP-24, PHYS-08, HEAP-09, HEAP-10, VM-12), judged by what any kernel
/// may do: an error with nothing changed, a panic before anything changed, or, where the spec's words allow a
/// success, exactly what was asked. Kernels here are the reference behind a decorator that answers one misuse
/// differently: the accepted answers pass, the others are reported with the misuse's clause.
/// </summary>
public sealed partial class MisuseDefaultTests(ITestOutputHelper output)
{
    private static readonly AddressPick UserPage = new(Area.UserLow, 0);
    private static readonly AddressPick NonCanonical = new(Area.NonCanonical, 0);
    private static readonly AddressPick Twin = new(Area.UpperUser, 0); // NonCanonical[0] with bits 63..48 set
    private static readonly AddressPick LargePage = new(Area.DirectMap, 1); // the direct map's second 2 MiB page
    private static readonly AddressPick KernelPage = new(Area.KernelTop, 0);
    private static readonly Operation Page = new AllocPages(1, Contiguous: false);

    private SequenceResult Run(Func<IMmImplementation, IMmImplementation> decorate, params Operation[] steps) =>
        Run(new DecoratedFactory("misuse", decorate), steps);

    private SequenceResult Run(IImplementationFactory factory, params Operation[] steps)
    {
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, steps);
        foreach (CallRecord call in result.Trace)
            output.WriteLine($"step {call.Step}: {call.Call} -> {call.End} {call.Call.ShowResult(call.Outcome)} {call.Detail}");
        if (result.Violation is { } violation)
            output.WriteLine($"[{violation.Clause}] {violation.Message}");
        return result;
    }

    private static void AssertPassed(SequenceResult result) =>
        Assert.True(result.Passed, $"{result.Violation?.Clause}: {result.Violation?.Message}");

    private static void AssertReported(SequenceResult result, string clause, string? message = null)
    {
        Assert.True(result.Violation?.Clause == clause, $"expected {clause}, got {result.Violation?.Clause ?? "a pass"}: {result.Violation?.Message}");
        if (message is not null)
            Assert.Contains(message, result.Violation!.Message, StringComparison.Ordinal);
    }

    /// <summary>The last call of that function a step made (not the suite's cross-check after it).</summary>
    private static CallRecord Last(SequenceResult result, ApiFunction function) => result.Trace.Last(call => call.Call.Function == function && !call.CrossCheck);

    // ---- the reference: an error code for every misuse, or a panic ----

    public static TheoryData<string, Operation[]> EveryMisuse() => new()
    {
        { "MAP-19 map", [Page, new MapSingle(0, NonCanonical, 0, Rights.Write)] },
        { "MAP-19 map, twin mapped", [Page, new MapSingle(0, Twin, 0, Rights.Write), new MapSingle(0, NonCanonical, 0, Rights.Write)] },
        { "MAP-19 get", [Page, new MapSingle(0, Twin, 0, Rights.Write), new MapGet(0, NonCanonical, 0)] },
        { "MAP-19 umap", [Page, new MapSingle(0, Twin, 0, Rights.Write), new UnmapSingle(0, NonCanonical, 1), new UnmapSingle(0, NonCanonical, 0)] },
        { "MAP-20 remap", [Page, new MapSingle(0, UserPage, 0, Rights.Write), new MapSingle(0, UserPage, 0, Rights.None)] },
        { "MAP-20 large page", [Page, new MapSingle(0, LargePage, 0, Rights.Write)] },
        { "MAP-21 kernel user", [Page, new MapSingle(0, KernelPage, 0, Rights.User | Rights.Write)] },
        { "MAP-22 virt", [Page, new MapSingle(0, UserPage, 0, Rights.Write, BadMapping.UnalignedVirt)] },
        { "MAP-22 phys", [Page, new MapSingle(0, UserPage, 0, Rights.Write, BadMapping.UnalignedPhys)] },
        { "MAP-23 flags", [Page, new MapSingle(0, UserPage, 0, Rights.Write, BadMapping.InvalidFlags)] },
        { "MAP-24 device", [Page, new MapSingle(0, UserPage, 0, Rights.Write, BadMapping.PhysBeyondRam), new MapGet(0, UserPage, 0)] },
        { "PHYS-08", [Page, new FreeBadPage(BadFree.Unaligned), new FreeBadPage(BadFree.Reserved), new FreeBadPage(BadFree.OutsideRam), new FreeBadPage(BadFree.NotAllocated)] },
        { "HEAP-09", [Page, new Kmalloc(64), new Kfree(0, KfreeKind.Interior), new Kfree(0, KfreeKind.Foreign), new Kfree(0), new Kfree(0, KfreeKind.Double)] },
        { "HEAP-10", [.. Misuse.ImpossibleSizes.Select(size => (Operation)new Kmalloc(size))] },
        { "VM-12", [
            new VmFind(0, new SearchRange(UserPage, 16, 0), 0), new VmAlloc(0, new SearchRange(UserPage, 16, 0), 0, Rights.Write),
            new VmFind(0, new SearchRange(UserPage, 16, 0), 1UL << 52), new VmAlloc(0, new SearchRange(UserPage, 16, 0), (1UL << 52) + 1, Rights.Write),
            new VmFind(0, new SearchRange(UserPage, 16, 0, Reversed: true), 1), new VmFind(0, new SearchRange(NonCanonical, 16, 0), 1)] },
        { "VM-13", [.. TwoClientPages, new VmFreeNotRegion(0, UserPage, 2), new VmFreeNotRegion(0, LargePage, 4), new VmFreeNotRegion(0, NonCanonical, 1)] },
    };

    /// <summary>Two pages the client mapped itself at UserLow[0] and UserLow[1]: a range that is no region.</summary>
    private static readonly Operation[] TwoClientPages =
        [Page, Page, new MapSingle(0, UserPage, 0, Rights.Write), new MapSingle(0, new AddressPick(Area.UserLow, 1), 1, Rights.Write)];

    [Theory, MemberData(nameof(EveryMisuse))]
    public void The_reference_passes_every_misuse_in_the_default_and_in_the_strict_profile(string misuse, Operation[] steps)
    {
        SequenceResult result = Run(new ReferenceFactory(), steps);
        Assert.True(result.Passed, $"{misuse}: {result.Violation?.Clause}: {result.Violation?.Message}");
        SequenceResult strict = SequenceRunner.Run(new ReferenceFactory(), Profile.Strict, steps);
        Assert.True(strict.Passed, $"{misuse}, strict: {strict.Violation?.Clause}: {strict.Violation?.Message}");
    }

    // ---- accepted: a panic before anything changed ----

    [Fact]
    public void A_panic_on_a_remap_is_accepted()
    {
        SequenceResult result = Run(inner => new PanicsOnRemap(inner),
            Page, new MapSingle(0, UserPage, 0, Rights.Write), new MapSingle(0, UserPage, 0, Rights.None), new MapGet(0, UserPage, 0));
        AssertPassed(result);
        Assert.Equal(CallEnd.Panicked, result.Trace.Where(call => call.Call.Function == ApiFunction.mm_map_single).ElementAt(1).End);
    }

    [Fact]
    public void A_panic_on_every_non_canonical_map_and_unmap_is_accepted()
    {
        SequenceResult result = Run(inner => new PanicsOnNonCanonical(inner),
            Page, new MapSingle(0, Twin, 0, Rights.Write), new MapSingle(0, NonCanonical, 0, Rights.Write), new UnmapSingle(0, NonCanonical, 1), new MapGet(0, Twin, 0));
        AssertPassed(result);
        CallRecord[] nonCanonical = result.Trace.Where(call => call.Call.Function is ApiFunction.mm_map_single or ApiFunction.mm_umap_single && !Canonical(call.Call.Args[1].Value)).ToArray();
        Assert.Equal(2, nonCanonical.Length);
        Assert.All(nonCanonical, call => Assert.Equal(CallEnd.Panicked, call.End));
    }

    [Fact]
    public void A_panic_on_a_non_canonical_lookup_is_reported_since_MM_NADDR_is_the_answer()
    {
        SequenceResult result = Run(inner => new PanicsOnNonCanonical(inner), new MapGet(0, NonCanonical, 0));
        AssertReported(result, "MAP-19", "panicked");
    }

    // ---- accepted: the success that does exactly what was asked ----

    [Fact]
    public void A_remap_that_replaces_the_old_page_is_accepted_and_the_model_follows()
    {
        SequenceResult result = Run(inner => new ReplacesOnRemap(inner),
            Page, Page, new MapSingle(0, UserPage, 0, Rights.Write), new MapSingle(0, UserPage, 1, Rights.None), new MapGet(0, UserPage, 0), new UnmapSingle(0, UserPage, 1));
        AssertPassed(result);
        Assert.Equal(0UL, result.Trace.Where(call => call.Call.Function == ApiFunction.mm_map_single).ElementAt(1).Outcome.Value);
    }

    [Fact]
    public void A_remap_that_replaces_a_vmalloc_page_leaves_the_old_frame_to_the_client()
    {
        SequenceResult result = Run(inner => new ReplacesOnRemap(inner),
            new VmAlloc(0, new SearchRange(UserPage, 4, 0), 2, Rights.Write), Page, new MapSingle(0, UserPage, 0, Rights.Write), new FreePage(0), new FreePage(0));
        AssertPassed(result);
        Assert.Equal(0UL, Last(result, ApiFunction.mm_map_single).Outcome.Value);
    }

    [Fact]
    public void A_remap_inside_a_large_page_is_refused_even_by_a_kernel_that_replaces_4_KiB_pages()
    {
        SequenceResult result = Run(inner => new ReplacesOnRemap(inner), Page, new MapSingle(0, LargePage, 0, Rights.Write));
        AssertPassed(result);
        Assert.NotEqual(0UL, Last(result, ApiFunction.mm_map_single).Outcome.Value);
    }

    [Fact]
    public void A_user_mapping_of_a_kernel_address_made_as_asked_is_accepted()
    {
        SequenceResult result = Run(inner => new KernelUserHonoured(inner),
            Page, new MapSingle(0, KernelPage, 0, Rights.User | Rights.Write), new MapGet(1, KernelPage, 0), new MapGet(0, LargePage, 0));
        AssertPassed(result);
        Assert.Equal(0UL, Last(result, ApiFunction.mm_map_single).Outcome.Value);
        Assert.Equal((ulong)(Rights.User | Rights.Write), result.Trace.First(call => call.Call.Function == ApiFunction.mm_map_get && !call.CrossCheck).Outcome.Flags);
    }

    [Fact]
    public void A_user_mapping_of_a_kernel_address_that_only_the_leaf_grants_is_reported_when_mm_map_get_claims_user_access()
    {
        // The leaf has U/S but the kernel half's upper entries do not: user code cannot reach the page, yet mm_map_get says it can.
        var factory = new KernelVariantFactory("kernel-user-accepted", options => new KernelUserAccepted(options));
        SequenceResult result = Run(factory, Page, new MapSingle(0, KernelPage, 0, Rights.User | Rights.Write), new MapGet(1, KernelPage, 0));
        AssertReported(result, "MAP-04", "reported flags MM_PAGE_USER | MM_PAGE_WRITE");
        Assert.Equal(0UL, Last(result, ApiFunction.mm_map_single).Outcome.Value);
    }

    [Fact]
    public void A_user_mapping_of_a_kernel_address_made_supervisor_only_is_accepted()
    {
        SequenceResult result = Run(inner => new KernelUserAs(inner, Rights.User), Page, new MapSingle(0, KernelPage, 0, Rights.User | Rights.Write), new MapGet(0, KernelPage, 0));
        AssertPassed(result);
        Assert.Equal(0UL, Last(result, ApiFunction.mm_map_single).Outcome.Value);
        Assert.Equal((ulong)Rights.Write, Last(result, ApiFunction.mm_map_get).Outcome.Flags);
    }

    [Fact]
    public void An_unknown_flag_bit_ignored_and_a_device_page_refused_are_accepted()
    {
        SequenceResult result = Run(inner => new IgnoresUnknownFlagsRefusesDevices(inner),
            Page, new MapSingle(0, UserPage, 0, Rights.Write, BadMapping.InvalidFlags), new MapSingle(0, new AddressPick(Area.UserLow, 1), 0, Rights.Write, BadMapping.PhysBeyondRam),
            new MapGet(0, UserPage, 0));
        AssertPassed(result);
        Assert.Equal([0, -22], result.Trace.Where(call => call.Call.Function == ApiFunction.mm_map_single).Select(call => (int)call.Outcome.Value));
    }

    [Fact]
    public void A_search_for_no_pages_that_returns_an_empty_place_is_accepted()
    {
        SequenceResult result = Run(inner => new EmptySearchFindsOnePage(inner),
            new VmFind(0, new SearchRange(UserPage, 16, 0), 0), new VmAlloc(0, new SearchRange(UserPage, 16, 0), 0, Rights.Write));
        AssertPassed(result);
        Assert.Equal(UserPage.Resolve(), Last(result, ApiFunction.vmalloc).Outcome.Value);
    }

    [Fact]
    public void A_vmfree_that_refuses_what_is_no_region_is_accepted()
    {
        SequenceResult result = Run(inner => new VmfreeOnly(inner, refuse: true), [.. TwoClientPages, new VmFreeNotRegion(0, UserPage, 2), new MapGet(0, UserPage, 0)]);
        AssertPassed(result);
        Assert.Equal(-22, (int)Last(result, ApiFunction.vmfree).Outcome.Value);
    }

    [Fact]
    public void A_vmfree_that_releases_the_clients_pages_as_a_regions_is_accepted_and_the_pages_are_free()
    {
        SequenceResult result = Run(new ReferenceFactory(), [.. TwoClientPages, new VmFreeNotRegion(0, UserPage, 2), new MapGet(0, UserPage, 0), new AllocPages(2, Contiguous: false)]);
        AssertPassed(result);
        Assert.Equal(0, (int)Last(result, ApiFunction.vmfree).Outcome.Value);
    }

    // ---- accepted: ignored, nothing changed ----

    [Theory]
    [InlineData(BadFree.Unaligned)]
    [InlineData(BadFree.Reserved)]
    [InlineData(BadFree.OutsideRam)]
    [InlineData(BadFree.NotAllocated)]
    public void A_bad_page_free_that_is_ignored_is_accepted(BadFree kind)
    {
        SequenceResult result = Run(inner => new IgnoresBadFrees(inner), Page, new FreeBadPage(kind), Page, new FreePage(0));
        AssertPassed(result);
        Assert.Equal(CallEnd.Returned, result.Trace.Last(call => call.Call.Function == ApiFunction.mm_phys_free_page && call.Step == 2).End);
    }

    [Theory]
    [InlineData(KfreeKind.Double)]
    [InlineData(KfreeKind.Interior)]
    [InlineData(KfreeKind.Foreign)]
    public void A_bad_kfree_that_is_ignored_is_accepted(KfreeKind kind)
    {
        SequenceResult result = Run(inner => new IgnoresBadFrees(inner), Page, new Kmalloc(100), new Kmalloc(32), new Kfree(1), new Kfree(0, kind), new Kmalloc(32));
        AssertPassed(result);
        Assert.Equal(CallEnd.Returned, result.Trace.Single(call => call.Step == 5 && !call.CrossCheck).End);
    }

    // ---- reported: a success that does something other than what was asked ----

    [Fact]
    public void A_non_canonical_map_that_maps_the_canonical_twin_is_reported()
    {
        SequenceResult result = Run(inner => new AliasesNonCanonical(inner), Page, new MapSingle(0, NonCanonical, 0, Rights.Write));
        AssertReported(result, "MAP-19", "canonical twin 0xFFFF800000000000");
    }

    [Fact]
    public void A_non_canonical_unmap_that_removes_the_twin_is_reported()
    {
        SequenceResult result = Run(inner => new AliasesNonCanonical(inner), Page, new MapSingle(0, Twin, 0, Rights.Write), new UnmapSingle(0, NonCanonical, 1));
        AssertReported(result, "MAP-19", "its canonical twin 0xFFFF800000000000 maps");
    }

    [Fact]
    public void A_non_canonical_lookup_that_reports_the_twin_is_reported()
    {
        SequenceResult result = Run(inner => new AliasesNonCanonical(inner), Page, new MapSingle(0, Twin, 0, Rights.Write), new MapGet(0, NonCanonical, 0));
        AssertReported(result, "MAP-19", "returned 0x");
    }

    [Fact]
    public void A_refused_non_canonical_map_that_maps_the_twin_all_the_same_is_reported()
    {
        SequenceResult result = Run(inner => new RefusesButMapsTheTwin(inner), Page, new MapSingle(0, NonCanonical, 0, Rights.Write));
        AssertReported(result, "MAP-19", "which the model does not have");
        Assert.Equal(-22, (int)Last(result, ApiFunction.mm_map_single).Outcome.Value);
    }

    [Fact]
    public void A_success_inside_a_large_page_is_reported()
    {
        SequenceResult result = Run(inner => new PretendsToMapInsideLargePages(inner), Page, new MapSingle(0, LargePage, 0, Rights.Write));
        AssertReported(result, "MAP-20", "inside the 2 MiB page 0xFFFFFF0000200000");
    }

    [Fact]
    public void A_user_mapping_of_a_kernel_address_with_other_rights_is_reported()
    {
        SequenceResult result = Run(inner => new KernelUserAs(inner, Rights.Write), Page, new MapSingle(0, KernelPage, 0, Rights.User | Rights.Write));
        AssertReported(result, "MAP-21", "may be mapped with");
    }

    [Fact]
    public void An_unaligned_map_that_maps_the_page_around_it_is_reported()
    {
        SequenceResult result = Run(inner => new RoundsUnalignedDown(inner), Page, new MapSingle(0, UserPage, 0, Rights.Write, BadMapping.UnalignedVirt));
        AssertReported(result, "MAP-22", "not page aligned");
    }

    [Fact]
    public void An_unknown_flag_bit_read_as_another_right_is_reported()
    {
        SequenceResult result = Run(inner => new UnknownFlagMeansExec(inner), Page, new MapSingle(0, UserPage, 0, Rights.Write, BadMapping.InvalidFlags));
        AssertReported(result, "MAP-04", "effective permissions");
    }

    [Fact]
    public void An_unaligned_page_free_that_frees_the_page_around_it_is_reported()
    {
        SequenceResult result = Run(inner => new RoundsUnalignedDown(inner), Page, new FreeBadPage(BadFree.Unaligned));
        AssertReported(result, "PHYS-08", "which is a page the client allocated: the call freed it");
    }

    [Fact]
    public void An_interior_kfree_that_frees_the_enclosing_block_is_reported()
    {
        SequenceResult result = Run(inner => new InteriorFreesEnclosingBlock(inner), new Kmalloc(64), new Kfree(0, KfreeKind.Interior));
        AssertReported(result, "HEAP-09", "which is heap block");
    }

    [Fact]
    public void An_interior_kfree_that_frees_the_enclosing_block_is_caught_by_the_next_kmalloc_when_the_page_stays()
    {
        SequenceResult result = Run(inner => new InteriorFreesEnclosingBlock(inner), new Kmalloc(64), new Kmalloc(64), new Kfree(0, KfreeKind.Interior), new Kmalloc(64));
        AssertReported(result, "HEAP-03", "already live");
    }

    [Fact]
    public void A_huge_kmalloc_whose_size_wraps_to_a_small_block_is_reported()
    {
        SequenceResult result = Run(inner => new KmallocSizeWraps(inner), new Kmalloc(ulong.MaxValue - 15));
        AssertReported(result, "HEAP-10", "no block of");
    }

    [Fact]
    public void A_search_whose_page_count_overflows_to_one_page_is_reported()
    {
        SequenceResult result = Run(inner => new PageCountWraps(inner), new VmFind(0, new SearchRange(UserPage, 16, 0), (1UL << 52) + 1));
        AssertReported(result, "VM-12", "more than the address space holds");
    }

    [Fact]
    public void A_vmfree_that_releases_part_of_what_is_no_region_is_reported()
    {
        SequenceResult result = Run(inner => new VmfreeOnly(inner, refuse: false), [.. TwoClientPages, new VmFreeNotRegion(0, UserPage, 2)]);
        AssertReported(result, "VM-13", "unmapped 1 of the 2 pages");
    }

    // ---- whole properties: a kernel that answers misuse differently from the reference still passes ----

    [Theory]
    [Trait("Category", "Zoo")] // whole stateful searches: too slow for every mutant of a mutation run
    [InlineData("stateful.mapping", "replaces-on-remap")]
    [InlineData("stateful.mapping", "panics-on-non-canonical")]
    [InlineData("stateful.physical", "ignores-bad-frees")]
    [InlineData("stateful.heap", "ignores-bad-frees")]
    public void A_kernel_that_answers_misuse_another_accepted_way_passes_the_property(string propertyId, string kernel)
    {
        Func<IMmImplementation, IMmImplementation> decorate = kernel switch
        {
            "replaces-on-remap" => inner => new ReplacesOnRemap(inner),
            "panics-on-non-canonical" => inner => new PanicsOnNonCanonical(inner, lookups: false),
            _ => inner => new IgnoresBadFrees(inner),
        };
        PropertyResult result = PropertyCatalogue.Find(propertyId).Check(new DecoratedFactory(kernel, decorate), new RunSettings(Profile.Default));
        Assert.True(result.Verdict == Verdict.Passed, result.Failure?.Describe());
    }
}
