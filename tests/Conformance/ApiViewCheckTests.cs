using Mmspec.Models.State;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Reproducers;
using Mmspec.SpecTests.Sequences;
using Mmspec.Tests.Reproducers;
using Mmspec.Zoo;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// After every step the suite asks mm_map_get itself (<see cref="ApiViewCheck"/>): a stale translation cache, which
/// the audit's own walk of the tables cannot see, is caught there, and the calls are in the trace the reproducers replay.
/// </summary>
public sealed class ApiViewCheckTests(ITestOutputHelper output)
{
    private static readonly AddressPick UserLow = new(Area.UserLow, 0);

    private static readonly IReadOnlyList<Operation> MapOnePage = [new AllocPages(1, Contiguous: false), new MapSingle(0, UserLow, 0, Rights.Write)];

    private static readonly IReadOnlyList<Operation> AllocThenFreeRegion =
        [new VmAlloc(0, new SearchRange(UserLow, 1024, 0), 1, Rights.Write), new VmFree(0, FreeExtent.Whole)];

    private static DecoratedFactory Cached(bool keyedBySpace) =>
        new(keyedBySpace ? "lookup-cache-survives-vmfree" : "lookup-cache-ignores-space", inner => new LookupCache(inner, keyedBySpace));

    [Fact]
    public void A_lookup_cache_blind_to_spaces_gives_the_other_space_the_mapped_page_and_is_caught_after_the_mapping()
    {
        SequenceResult result = SequenceRunner.Run(Cached(keyedBySpace: false), Profile.Default, MapOnePage);
        Violation violation = result.Violation!;
        output.WriteLine(violation.ToString());

        Assert.Equal("MAP-09", violation.Clause);
        Assert.Equal(2, violation.Step);
        Assert.Equal("r == MM_NADDR", violation.Expected);
        Assert.Matches(@"^the suite's cross-check after step 2: mm_map_get\(space1, 0x400000\) returned 0x[0-9A-F]+; the page is not mapped in space1 \(space0 maps it to 0x[0-9A-F]+\)$", violation.Message);
        CallRecord last = result.Trace[^1];
        Assert.True(last.CrossCheck);
        Assert.Equal(2, last.Step);
        Assert.Equal(ApiCall.MapGet(1, 0x400000, wantFlags: true).ToC(), last.Call.ToC());
        Assert.Contains("(the suite's cross-check after step 2)", last.ToString());
    }

    [Fact]
    public void A_lookup_cache_that_vmfree_does_not_empty_is_caught_after_the_vmfree()
    {
        SequenceResult result = SequenceRunner.Run(Cached(keyedBySpace: true), Profile.Default, AllocThenFreeRegion);
        Violation violation = result.Violation!;
        output.WriteLine(violation.ToString());

        Assert.Equal("MAP-09", violation.Clause);
        Assert.Equal(2, violation.Step);
        ulong region = result.Trace.Single(call => call.Call.Function == ApiFunction.vmalloc).Outcome.Value;
        Assert.StartsWith($"the suite's cross-check after step 2: mm_map_get(space0, 0x{region:X}) returned 0x", violation.Message);
        Assert.True(result.Trace[^1].CrossCheck);
    }

    [Fact]
    public void A_panic_in_the_cross_check_is_a_violation_that_names_the_suite_as_the_caller()
    {
        var factory = new DecoratedFactory("map-get-panics", inner => new MapGetPanics(inner));
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, MapOnePage);
        Violation violation = result.Violation!;

        Assert.Equal("MAP-07", violation.Clause);
        Assert.Equal(2, violation.Step);
        Assert.StartsWith("the suite's cross-check after step 2: mm_map_get(space0, 0x400000, &flags) panicked (LookupRefused) on a valid call", violation.Message);
        Assert.Equal(CallEnd.Panicked, result.Trace[^1].End);
        Assert.True(result.Trace[^1].CrossCheck);
    }

    [Fact]
    public void The_reference_passes_and_its_trace_holds_the_cross_check_of_every_space_and_a_neighbour()
    {
        SequenceResult result = SequenceRunner.Run(new ReferenceFactory(), Profile.Default, MapOnePage);
        Assert.True(result.Passed, result.Violation?.ToString());
        foreach (CallRecord call in result.Trace)
            output.WriteLine($"step {call.Step}: {call}");

        ulong page = result.Trace.Single(call => call.Call.Function == ApiFunction.mm_phys_alloc_page).Outcome.Value;
        List<CallRecord> asked = result.Trace.Where(call => call.CrossCheck && call.Step == 2).ToList();
        Assert.All(asked, call => Assert.True(call.Call.WantsFlags));
        Assert.Equal(
            [$"mm_map_get(space0, 0x400000, &flags) -> 0x{page:X}, flags = MM_PAGE_WRITE", "mm_map_get(space1, 0x400000, &flags) -> MM_NADDR", "mm_map_get(space0, 0x401000, &flags) -> MM_NADDR"],
            asked.Select(call => $"{call.Call.ToC()} -> {call.Returned}"));
        // The allocation touched no page and nothing was mapped yet: nothing to ask after step 1.
        Assert.DoesNotContain(result.Trace, call => call.CrossCheck && call.Step == 1);
        Assert.True(SequenceRunner.Run(new ReferenceFactory(), Profile.Default, AllocThenFreeRegion).Passed);
    }

    [Fact]
    public void A_large_region_is_sampled_first_last_and_between_not_read_back_whole()
    {
        const ulong pages = 600;
        SequenceResult result = SequenceRunner.Run(new ReferenceFactory(), Profile.Default, [new VmAlloc(0, new SearchRange(UserLow, 4096, 0), pages, Rights.Write)]);
        Assert.True(result.Passed, result.Violation?.ToString());

        ulong region = result.Trace.Single(call => call.Call.Function == ApiFunction.vmalloc).Outcome.Value;
        List<ulong> asked = result.Trace.Where(call => call.CrossCheck).Select(call => call.Call.Args[1].Value).ToList();
        Assert.InRange(asked.Count, ApiViewCheck.TouchedSample, ApiViewCheck.TouchedSample * SequenceContext.BootSpaces + ApiViewCheck.OtherSample + 1);
        Assert.Contains(region, asked);
        Assert.Contains(region + (pages - 1) * AddressSpaceLayout.PageSize, asked);
    }

    [Fact]
    public void Both_reproducers_replay_the_cross_check_and_the_C_one_asserts_the_failing_answer()
    {
        var settings = new RunSettings(Profile.Default);
        PropertyResult result = PropertyCatalogue.Find("stateful.mapping").Check(Cached(keyedBySpace: false), settings);
        Failure failure = result.Failure!;
        output.WriteLine(failure.Describe());
        Assert.Equal("MAP-09", failure.Violation.Clause);

        string c = Reproducer.C(result, settings, "lookup-cache-ignores-space");
        output.WriteLine(c);
        string failing = c[c.LastIndexOf("/* step ", StringComparison.Ordinal)..];
        Assert.StartsWith($"/* step {failure.Violation.Step}, the suite's cross-check after it: MAP-09 is broken here */", failing);
        Assert.Contains($"uintptr_t r{failure.Trace.Count} = {failure.Trace[^1].Call.ToC()};", failing);
        Assert.Contains($"assert(r{failure.Trace.Count} == MM_NADDR);", failing);

        (string className, string method) = CSharpReproducer.EntryPoint(result);
        string factory = $"new Mmspec.Zoo.DecoratedFactory(\"cached\", inner => new {typeof(LookupCache).FullName!.Replace('+', '.')}(inner, false))";
        Exception? onBug = InMemoryCompiler.Run(InMemoryCompiler.Compile(Reproducer.CSharp(result, settings, factory)), className, method);
        Assert.IsType<TrueException>(onBug);
        Assert.Contains("the suite's cross-check after step", onBug.Message);
        Assert.Null(InMemoryCompiler.Run(InMemoryCompiler.Compile(Reproducer.CSharp(result, settings, "new ReferenceFactory()")), className, method));
    }

    private sealed class MapGetPanics(IMmImplementation inner) : PortDecorator(inner)
    {
        public override ulong mm_map_get(ulong space, ulong virt, out ulong flags) =>
            throw new ImplementationPanicException("LookupRefused", "kernel panic (LookupRefused): no lookups today");
    }

    /// <summary>
    /// A one-entry cache of the last mm_map_get hit, as the native zoo's map-get-cache members keep (a software TLB): emptied
    /// by mm_map_single and mm_umap_single but not by vmfree, whose unmaps go round them; keyed by page, and by space only
    /// when <paramref name="keyedBySpace"/>. Public so that a C# reproducer can name it.
    /// </summary>
    public sealed class LookupCache(IMmImplementation inner, bool keyedBySpace) : PortDecorator(inner)
    {
        private (ulong Space, ulong Page, ulong Frame, ulong Flags)? last;

        public override ulong mm_map_get(ulong space, ulong virt, out ulong flags)
        {
            ulong page = virt & ~(AddressSpaceLayout.PageSize - 1);
            if (last is { } hit && hit.Page == page && (!keyedBySpace || hit.Space == space))
            {
                flags = hit.Flags;
                return hit.Frame + (virt - page);
            }
            ulong phys = Inner.mm_map_get(space, virt, out flags);
            if (phys != AddressSpaceLayout.Naddr)
                last = (space, page, phys - (virt - page), flags);
            return phys;
        }

        public override ulong mm_map_get(ulong space, ulong virt) => mm_map_get(space, virt, out _);

        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags)
        {
            last = null;
            return Inner.mm_map_single(space, virt, phys, flags);
        }

        public override ulong mm_umap_single(ulong space, ulong virt, uint size)
        {
            last = null;
            return Inner.mm_umap_single(space, virt, size);
        }
    }
}
