using Mmspec.Models.Mmu;
using Mmspec.Models.State;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Sequences;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// Every recorded call carries its write set (issue 18, item 1): the frames of RAM the implementation wrote during
/// that call and no others; what the suite writes between calls (its marks) is never counted as the call's.
/// </summary>
public sealed class WriteSetTests
{
    private static readonly IReadOnlyList<Operation> AllocMapLookUp =
    [
        new AllocPages(1, Contiguous: false),
        new MapSingle(0, new AddressPick(Area.UserLow, 0), 0, Rights.Write),
        new MapGet(0, new AddressPick(Area.UserLow, 0), 0),
    ];

    [Fact]
    public void Each_call_of_a_sequence_carries_what_it_wrote_and_not_the_suites_marks()
    {
        SequenceResult result = SequenceRunner.Run(new ReferenceFactory(), Profile.Default, AllocMapLookUp);
        Assert.Null(result.Violation);
        CallRecord map = result.Trace.Single(call => call.Call.Function == ApiFunction.mm_map_single);
        IReadOnlyList<ulong> written = Assert.IsAssignableFrom<IReadOnlyList<ulong>>(map.Written);
        Assert.NotEmpty(written);
        Assert.Equal(written.Order(), written);

        var lookups = result.Trace.Where(call => call.Call.Function == ApiFunction.mm_map_get).ToList();
        // The step's own lookup wrote nothing, nor did the cross-check's: one batch, whose calls the reference's port tells apart.
        Assert.All(lookups.Where(call => !call.CrossCheck), lookup => Assert.Empty(lookup.Written!));
        Assert.All(lookups.Where(call => call.CrossCheck), lookup => Assert.True(!lookup.InBatch && lookup.Written is { Count: 0 }, lookup.ToString()));
        Assert.Contains(lookups, call => !call.CrossCheck);
        ulong client = result.Trace.First(call => call.Call.Function == ApiFunction.mm_phys_alloc_page).Outcome.Value;
        // The suite marked the client page before mapping it: its own write is not the mapping's.
        Assert.DoesNotContain(client, written);
    }

    [Fact]
    public void A_mapping_writes_the_tables_of_its_new_path_and_nothing_else()
    {
        using var machine = new ReferenceFactory().Create(SequenceRunner.DefaultRamSize);
        ulong space = machine.CreateSpace();
        ulong root = machine.SpaceRoot(space);
        ulong page = machine.mm_phys_alloc_page();
        machine.Ram.WriteU64(page, 0x5A5A); // as the suite marks a page: not the implementation's write
        var ram = new RamView(machine.Ram, machine.RamSize);
        HashSet<ulong> before = Mmu.EnumerateTables(ram, root).Select(table => table.PhysicalAddress).ToHashSet();
        machine.Writes!.TakeWrittenFrames();

        Assert.Equal(0, machine.mm_map_single(space, 0x400000, page, 0x3));
        IReadOnlyList<ulong> written = machine.Writes.TakeWrittenFrames()!;

        HashSet<ulong> after = Mmu.EnumerateTables(ram, root).Select(table => table.PhysicalAddress).ToHashSet();
        Assert.NotEmpty(after.Except(before));
        Assert.Subset(after, written.ToHashSet());           // only tables of this space
        Assert.Superset(after.Except(before).ToHashSet(), written.ToHashSet()); // every table it made
        Assert.Contains(root, written);                        // and the PML4 entry it filled
        Assert.DoesNotContain(page, written);

        Assert.NotEqual(ulong.MaxValue, machine.mm_map_get(space, 0x400000, out _));
        Assert.Empty(machine.Writes.TakeWrittenFrames()!);
    }
}
