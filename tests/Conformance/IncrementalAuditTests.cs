using Mmspec.Models.Mmu;
using Mmspec.Models.State;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// The pieces that make an audit cost what a step changed: the ownership map followed through the model's history
/// must be the map built whole; the marks are re-read only in written frames; the shared kernel slots (the direct
/// map) are walked again only when a table under them was written; an unchanged boot is observed once. Each is shown
/// to agree with the whole audit, and, where an implementation hides its writes, to be caught by the full audit.
/// </summary>
public sealed class IncrementalAuditTests
{
    private const ulong Page = AddressSpaceLayout.PageSize;
    private const ulong Ram = 8UL << 20;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void The_ownership_map_followed_step_by_step_is_the_map_built_whole(int seed)
    {
        var random = new Random(seed);
        ApiState model = ApiState.Initial(2, sharedKernelHalf: true, directMapLargePages: false);
        var tables = new Dictionary<ulong, (PagingLevel, TableReach)> { [0x1000] = (PagingLevel.Pml4, new TableReach(1, false)) };
        (OwnershipMap kept, Conflict? none) = OwnershipMap.Build(model, tables, Ram);
        Assert.Null(none);
        var free = Enumerable.Range(0x100, 0x300).Select(frame => (ulong)frame * Page).ToList();
        PageSet baseline = PageSet.Of(free.Where((_, index) => index % 3 == 0));
        Assert.Equal(0, kept.CountIn(baseline));
        for (int step = 0; step < 300; step++)
        {
            for (int change = random.Next(1, 6); change > 0; change--)
                (model, tables) = RandomChange(random, model, tables, free);
            Assert.True(kept.Follow(model, tables), $"step {step}: the map could not follow");
            (OwnershipMap built, Conflict? conflict) = OwnershipMap.Build(model, tables, Ram);
            Assert.Null(conflict);
            Assert.True(kept.SameAs(built), $"step {step}: the map followed differs from the map built whole");
            Assert.Equal(built.CountIn(baseline), kept.CountIn(baseline)); // kept counts as it follows, built counts afresh
            Assert.Equal(built.Entries().Count(entry => baseline.Contains(entry.Page)), kept.CountIn(baseline));
            Assert.Equal(built.Entries().Count(), kept.Count);
        }
    }

    [Fact]
    public void A_page_with_two_owners_stops_the_followed_map_and_the_whole_build_names_it()
    {
        ApiState model = ApiState.Initial(2, sharedKernelHalf: true, directMapLargePages: false);
        var tables = new Dictionary<ulong, (PagingLevel, TableReach)> { [0x5000] = (PagingLevel.Pt, new TableReach(1, false)) };
        (OwnershipMap kept, _) = OwnershipMap.Build(model, tables, Ram);
        ApiState twice = model.PageAllocated(0x5000);

        Assert.False(kept.Follow(twice, tables));
        (_, Conflict? conflict) = OwnershipMap.Build(twice, tables, Ram);
        Assert.Equal("physical page 0x5000 is both a PT page table and a page the client allocated", conflict?.Message);
    }

    [Fact]
    public void Marks_are_reread_only_in_the_frames_written()
    {
        using IMmImplementation machine = new ReferenceFactory().Create(Ram);
        var book = new PatternBook(machine.Ram, () => (0, 0), []);
        book.MarkPage(0x20_0000);
        book.MarkBlock(AddressSpaceLayout.KernelBase + 0x30_0010, 64);
        machine.Ram.WriteU64(0x30_0010, 0); // the block's first mark

        Assert.False(book.DamageIn([0x20_0000, 0x40_0000]));
        Assert.True(book.DamageIn([0x30_0000]));
        Assert.Contains("heap block", book.FirstDamage()?.Message);
        book.ForgetBlock(AddressSpaceLayout.KernelBase + 0x30_0010);
        Assert.False(book.DamageIn([0x30_0000]));
        Assert.Null(book.FirstDamage());
    }

    [Fact]
    public void A_hidden_scribble_on_a_marked_page_is_caught_by_the_full_audit_and_both_disagree() =>
        FullAuditCatchesWhatBothDisagreeOn(
            new DecoratedFactory("kmalloc-scribbles-hiding-writes", inner => new KmallocScribblesOnLastPage(inner, hide: true)),
            [new AllocPages(1, Contiguous: false), new Kmalloc(16)],
            "lost the pattern", "the marks in the frames the step wrote hold");

    [Fact]
    public void A_direct_map_entry_cleared_by_a_user_mapping_is_found_by_the_incremental_audit_through_the_write_set()
    {
        var honest = new DecoratedFactory("map-clears-direct-map", inner => new MapClearsDirectMapEntry(inner, hide: false));

        SequenceResult incremental = SequenceRunner.Run(honest, Profile.Default, MapOnePage);

        Assert.Equal(2, incremental.Violation?.Step);
        Assert.Contains("0xFFFFFF0000600000 should map", incremental.Violation!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hidden_write_under_the_shared_slots_is_caught_by_the_full_audit_and_both_disagree() =>
        FullAuditCatchesWhatBothDisagreeOn(
            new DecoratedFactory("map-clears-direct-map-hiding-writes", inner => new MapClearsDirectMapEntry(inner, hide: true)),
            MapOnePage, "0xFFFFFF0000600000 should map", "the shared kernel slots of space0");

    private static readonly IReadOnlyList<Operation> MapOnePage =
        [new AllocPages(1, Contiguous: false), new MapSingle(0, new AddressPick(Area.UserLow, 0), 0, Rights.Write)];

    /// <summary>The full audit finds the hidden write at the last step; both audits together stop on their disagreement.</summary>
    private static void FullAuditCatchesWhatBothDisagreeOn(DecoratedFactory factory, IReadOnlyList<Operation> steps, string found, string disagreement)
    {
        SequenceResult full = SequenceRunner.Run(factory, Profile.Default, steps, audit: AuditMode.Full);
        Assert.Equal(steps.Count, full.Violation?.Step);
        Assert.Contains(found, full.Violation!.Message, StringComparison.Ordinal);

        var stopped = Assert.Throws<AuditDisagreementException>(() => SequenceRunner.Run(factory, Profile.Default, steps, audit: AuditMode.Both));
        Assert.Contains(disagreement, stopped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unchanged_boot_is_observed_once_and_a_changed_one_afresh()
    {
        (IMmImplementation first, ulong[] firstRoots) = BootTwoSpaces();
        (IMmImplementation second, ulong[] secondRoots) = BootTwoSpaces();
        using (first)
        using (second)
        {
            BootObservation seen = BootState.Observe(new RamView(first.Ram, Ram), firstRoots);
            Assert.Same(seen, BootState.Observe(new RamView(second.Ram, Ram), secondRoots));

            ulong directMapTable = DirectMapTable(second, secondRoots[0]);
            second.Ram.WriteU64(directMapTable + 8, 0); // the second 2 MiB of the direct map
            BootObservation changed = BootState.Observe(new RamView(second.Ram, Ram), secondRoots);

            Assert.NotSame(seen, changed);
            Assert.NotNull(seen.State.Lookup(0, AddressSpaceLayout.KernelBase + 0x20_0000));
            Assert.Null(changed.State.Lookup(0, AddressSpaceLayout.KernelBase + 0x20_0000));
        }
    }

    private static (IMmImplementation Machine, ulong[] Roots) BootTwoSpaces()
    {
        IMmImplementation machine = new ReferenceFactory().Create(Ram);
        return (machine, [machine.SpaceRoot(machine.CreateSpace()), machine.SpaceRoot(machine.CreateSpace())]);
    }

    /// <summary>The page directory of the direct map: PML4 slot 510, PDPT entry 0.</summary>
    private static ulong DirectMapTable(IMmImplementation machine, ulong root)
    {
        const ulong frame = 0x000F_FFFF_FFFF_F000;
        ulong pdpt = machine.Ram.ReadU64(root + 510 * 8) & frame;
        return machine.Ram.ReadU64(pdpt) & frame;
    }

    private static (ApiState, Dictionary<ulong, (PagingLevel, TableReach)>) RandomChange(
        Random random, ApiState model, Dictionary<ulong, (PagingLevel, TableReach)> tables, List<ulong> free)
    {
        ulong Take()
        {
            int index = random.Next(free.Count);
            ulong page = free[index];
            free.RemoveAt(index);
            return page;
        }
        var next = new Dictionary<ulong, (PagingLevel, TableReach)>(tables);
        switch (random.Next(9))
        {
            case 0:
                return (model.PageAllocated(Take()), next);
            case 1 when !model.ClientPages.IsEmpty:
                ulong page = model.ClientPages[random.Next(model.ClientPages.Count)];
                free.Add(page);
                return (model.PageFreed(page), next);
            case 2:
                // Blocks share pages, and some reach into the next page.
                ulong pointer = AddressSpaceLayout.KernelBase + 0x7F_0000 + (ulong)random.Next(0, 0x8000) * 16;
                return (model.HeapBlocks.ContainsKey(pointer) ? model : model.BlockAllocated(pointer, (ulong)random.Next(1, 6000)), next);
            case 3 when !model.HeapBlocks.IsEmpty:
                return (model.BlockFreed(model.HeapBlocks.Keys.ElementAt(random.Next(model.HeapBlocks.Count))), next);
            case 4:
                int space = random.Next(-1, 2);
                ulong virt = (space < 0 ? AddressSpaceLayout.KernelBase + 0x4000_0000 : 0x4000_0000) + (ulong)random.Next(64) * Page;
                return (model.Mapped(Math.Max(space, 0), virt, Take(), Rights.Write, MappingKind.Region), next);
            case 5:
                var regions = model.DistinctMappings().Where(entry => entry.Mapping.Kind == MappingKind.Region).ToList();
                if (regions.Count == 0)
                    return (model, next);
                (int owner, ulong at, Mapping mapping) = regions[random.Next(regions.Count)];
                free.Add(mapping.Phys);
                return (model.Unmapped(Math.Max(owner, 0), at), next);
            case 6:
                next[Take()] = (PagingLevel.Pt, new TableReach((ulong)random.Next(1, 4), random.Next(2) == 0));
                return (model, next);
            case 7 when next.Count > 1:
                ulong table = next.Keys.Where(key => key != 0x1000).ElementAt(random.Next(next.Count - 1));
                next.Remove(table);
                free.Add(table);
                return (model, next);
            case 8 when next.Count > 1:
                ulong reached = next.Keys.Where(key => key != 0x1000).ElementAt(random.Next(next.Count - 1));
                next[reached] = (PagingLevel.Pd, new TableReach((ulong)random.Next(1, 4), false));
                return (model, next);
            default:
                return (model, next);
        }
    }

    /// <summary>kmalloc also overwrites the first word of the page allocated last (a mark), and, hiding, says it wrote nothing.</summary>
    private sealed class KmallocScribblesOnLastPage(IMmImplementation inner, bool hide) : PortDecorator(inner)
    {
        private ulong? last;

        public override IWriteTracking? Writes => hide ? new Blind(Inner.Writes!) : Inner.Writes;

        public override ulong mm_phys_alloc_page()
        {
            ulong page = Inner.mm_phys_alloc_page();
            last = page == AddressSpaceLayout.Naddr ? last : page;
            return page;
        }

        public override ulong kmalloc(ulong size)
        {
            if (last is { } page)
                Inner.Ram.WriteU64(page, 0x5C81BB1E);
            return Inner.kmalloc(size);
        }
    }

    /// <summary>mm_map_single also clears the direct map's entry for physical 6-8 MiB (a 2 MiB page), honestly or hiding it.</summary>
    private sealed class MapClearsDirectMapEntry(IMmImplementation inner, bool hide) : PortDecorator(inner)
    {
        public override IWriteTracking? Writes => hide ? new Blind(Inner.Writes!) : Inner.Writes;

        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags)
        {
            const ulong frame = 0x000F_FFFF_FFFF_F000;
            ulong pdpt = Inner.Ram.ReadU64(Inner.SpaceRoot(space) + 510 * 8) & frame;
            ulong pd = Inner.Ram.ReadU64(pdpt) & frame;
            Inner.Ram.WriteU64(pd + 3 * 8, 0);
            return Inner.mm_map_single(space, virt, phys, flags);
        }
    }

    /// <summary>Write tracking that says every call wrote nothing.</summary>
    private sealed class Blind(IWriteTracking inner) : IWriteTracking
    {
        public IReadOnlyList<ulong>? TakeWrittenFrames()
        {
            inner.TakeWrittenFrames();
            return [];
        }
    }
}
