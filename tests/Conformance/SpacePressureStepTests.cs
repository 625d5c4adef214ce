using Mmspec.Models.State;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Reproducers;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;

namespace Mmspec.Tests.Conformance;

/// <summary>The steps that reach states setup never makes (issue 16): spaces created late, memory hogged, a slab filled.</summary>
public sealed class SpacePressureStepTests
{
    private static readonly ReferenceFactory Reference = new();

    private static AddressPick User(int index) => new(Area.UserLow, index);

    [Fact]
    public void A_space_created_after_mappings_starts_empty_and_later_steps_use_it()
    {
        IReadOnlyList<Operation> steps =
        [
            new AllocPages(1, false), new MapSingle(0, User(0), 0, Rights.Write), new CreateSpace(),
            new AllocPages(1, false), new MapSingle(2, User(0), 1, Rights.User), new MapGet(2, User(0), 0),
        ];
        SequenceResult result = SequenceRunner.Run(Reference, Profile.Strict, steps);

        Assert.True(result.Passed, result.Violation?.ToString());
        Assert.Contains(result.Trace, call => call.Call.Function == ApiFunction.mmspec_space_create && call.Call.ToC() == "mmspec_space_create()");
        // pick 2 names the new space: the map and the lookup went there, and the teardown unmapped it there
        Assert.Contains(result.Trace, call => call.Call.Function == ApiFunction.mm_map_get && call.Call.ToC().StartsWith("mm_map_get(space2, 0x400000", StringComparison.Ordinal));
    }

    [Fact]
    public void Picks_wrap_over_the_spaces_that_exist()
    {
        SequenceResult result = SequenceRunner.Run(Reference, Profile.Default, [new AllocPages(1, false), new MapSingle(5, User(0), 0, Rights.None)]);

        Assert.True(result.Passed, result.Violation?.ToString());
        Assert.Contains(result.Trace, call => call.Call.ToC().StartsWith("mm_map_single(space1,", StringComparison.Ordinal)); // 5 % 2
    }

    [Fact]
    public void A_new_space_with_a_user_mapping_nobody_made_breaks_MAP_16_at_its_creation()
    {
        var factory = new DecoratedFactory("space-born-mapped", inner => new SpaceBornMapped(inner));
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, [new CreateSpace()]);

        Assert.Equal("MAP-16", result.Violation?.Clause);
        Assert.Contains("the new space2's user half maps", result.Violation!.Message);
        Assert.Equal(ApiFunction.mmspec_space_create, result.Trace[^1].Call.Function);
    }

    [Fact]
    public void The_C_reproducer_creates_the_space_and_walks_it_from_its_root()
    {
        var factory = new DecoratedFactory("space-born-mapped", inner => new SpaceBornMapped(inner));
        PropertyResult result = PropertyCatalogue.Find("stateful.mapping").Check(factory, new RunSettings(Profile.Default));
        Assert.Equal("MAP-16", result.Failure?.Violation.Clause);

        string c = Reproducer.C(result, new RunSettings(Profile.Default), "space-born-mapped");

        Assert.Contains("mm_space_t space2 = MM_NADDR;", c);
        Assert.Contains("space2 = mmspec_space_create();", c);
        Assert.Contains("roots[spaces++] = mmspec_space_root(space2);", c);
        Assert.Contains("mmspec_repro_unmapped(roots[2], 0x400000", c);
    }

    [Fact]
    public void The_space_limit_makes_a_further_CreateSpace_not_apply()
    {
        IReadOnlyList<Operation> steps = Enumerable.Repeat<Operation>(new CreateSpace(), SequenceContext.MaxSpaces).ToList();
        SequenceResult result = SequenceRunner.Run(Reference, Profile.Strict, steps);

        Assert.True(result.Passed, result.Violation?.ToString());
        Assert.Equal(SequenceContext.MaxSpaces - SequenceContext.BootSpaces, result.StepsApplied);
    }

    [Theory]
    [InlineData(0, LeaveFree.Lowest)]
    [InlineData(3, LeaveFree.Highest)]
    [InlineData(4, LeaveFree.Scattered)]
    [InlineData(4, LeaveFree.WordEdges)]
    public void A_hog_leaves_exactly_its_pages_free_and_the_reference_fails_cleanly_at_exhaustion(int leave, LeaveFree shape)
    {
        IReadOnlyList<Operation> steps =
        [
            new Hog(leave, shape), new Kmalloc(4000), new AllocPages(2, true), new CreateSpace(), new MapSingle(0, new AddressPick(Area.Edge512GiB, 1), 0, Rights.Write),
            new Release(2), new Release(1), new AllocPages(8, true),
        ];
        SequenceResult result = SequenceRunner.Run(Reference, Profile.Strict, steps);

        Assert.True(result.Passed, result.Violation?.ToString());
        List<CallRecord> hog = result.Trace.TakeWhile(call => call.Step == 1).ToList();
        Assert.Equal(AddressSpaceLayout.Naddr, hog.Last(call => call.Call.Function == ApiFunction.mm_phys_alloc_page).Outcome.Value);
        Assert.Equal(leave, hog.Count(call => call.Call.Function == ApiFunction.mm_phys_free_page));
    }

    [Fact]
    public void Word_edges_are_the_pages_either_side_of_a_full_64_page_word()
    {
        SequenceResult result = SequenceRunner.Run(Reference, Profile.Default, [new Hog(2, LeaveFree.WordEdges)]);

        ulong[] back = result.Trace.Where(call => call.Step == 1 && call.Call.Function == ApiFunction.mm_phys_free_page)
            .Select(call => call.Call.Args[0].Value).Order().ToArray();
        Assert.Equal(2, back.Length);
        const ulong word = 64 * AddressSpaceLayout.PageSize;
        Assert.Equal(0UL, (back[0] + AddressSpaceLayout.PageSize) % word);
        Assert.Equal(back[0] + AddressSpaceLayout.PageSize + word, back[1]);
    }

    [Fact]
    public void A_contiguous_search_that_joins_runs_across_a_full_word_is_caught_after_a_word_edge_hog()
    {
        var factory = new DecoratedFactory("contiguous-across-word", inner => new ContiguousAcrossWord(inner));
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, [new Hog(2, LeaveFree.WordEdges), new AllocPages(2, true)]);

        Assert.Equal("PHYS-03", result.Violation?.Clause);
        Assert.Contains("still in use", result.Violation!.Message);
    }

    [Fact]
    public void A_kmalloc_that_crashes_at_exhaustion_is_a_verdict_on_kmalloc()
    {
        var factory = new DecoratedFactory("kmalloc-crashes-when-full", inner => new KmallocCrashesWhenFull(inner));
        SequenceResult result = SequenceRunner.Run(factory, Profile.Default, [new Hog(0), new KmallocBurst(16, 300)]);

        Assert.Equal("HEAP-01", result.Violation?.Clause);
        Assert.Contains("crashed", result.Violation!.Message);
    }

    [Fact]
    public void A_burst_fills_one_size_class_and_shrinks_to_fewer_blocks()
    {
        SequenceResult result = SequenceRunner.Run(Reference, Profile.Strict, [new KmallocBurst(32, 130)]);

        Assert.True(result.Passed, result.Violation?.ToString());
        Assert.Equal(130, result.Trace.Count(call => call.Call.Function == ApiFunction.kmalloc));
        Assert.Equal([new KmallocBurst(32, 65), new KmallocBurst(32, 129)], new KmallocBurst(32, 130).Simpler());
        Assert.Equal([new Kmalloc(32)], new KmallocBurst(32, 1).Simpler());
    }

    /// <summary>Creating a space also maps a page into its user half, as a kernel that copies another space's PML4 would.</summary>
    private sealed class SpaceBornMapped(IMmImplementation inner) : PortDecorator(inner)
    {
        private int created;

        public override ulong CreateSpace()
        {
            ulong space = base.CreateSpace();
            if (++created > SequenceContext.BootSpaces)
                base.mm_map_single(space, 0x400000, 0x200000, 0);
            return space;
        }
    }

    /// <summary>A contiguous search that counts the free pages at the end of a word and at the start of the word after a full one as one run.</summary>
    private sealed class ContiguousAcrossWord(IMmImplementation inner) : PortDecorator(inner)
    {
        public override ulong mm_phys_alloc_contiguous(ulong count)
        {
            ulong result = base.mm_phys_alloc_contiguous(count);
            if (result != AddressSpaceLayout.Naddr || count != 2)
                return result;
            ulong page = base.mm_phys_alloc_page(); // the lowest free page: the one before the full word
            if (page != AddressSpaceLayout.Naddr)
                base.mm_phys_free_page(page);
            return page; // and the page after it, in use, is "the run's" second page
        }
    }

    /// <summary>kmalloc dereferences MM_NADDR when the heap needs a page and none is left.</summary>
    private sealed class KmallocCrashesWhenFull(IMmImplementation inner) : PortDecorator(inner)
    {
        public override ulong kmalloc(ulong size)
        {
            ulong pointer = base.kmalloc(size);
            return pointer != 0 ? pointer : throw new NullReferenceException("slab page MM_NADDR");
        }
    }
}
