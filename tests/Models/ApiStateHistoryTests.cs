using Mmspec.Models.State;

namespace Mmspec.Tests.Models;

/// <summary>
/// The model keeps its own history (<see cref="StateChange"/>): what changed since an earlier state is told in the
/// time the change took, which is what lets the suite follow the state step by step instead of comparing it whole.
/// </summary>
public class ApiStateHistoryTests
{
    private const ulong Page = 0x1000;
    private const ulong User = 0x4000_0000;
    private const ulong Kernel = 0xFFFF_FF00_0000_0000;

    [Fact]
    public void Changes_since_a_state_name_every_key_changed_oldest_first()
    {
        ApiState start = ApiState.Initial(2, sharedKernelHalf: true, directMapLargePages: false);
        ApiState now = start
            .PageAllocated(0x10_0000)
            .BlockAllocated(Kernel + 0x20_0000, 64)
            .Mapped(1, User, 0x10_0000, Rights.Write)
            .Mapped(0, Kernel + 0x4000_0000, 0x11_0000, Rights.Write, MappingKind.Region)
            .PageFreed(0x10_0000);

        List<StateChange>? changes = now.ChangesSince(start);

        Assert.NotNull(changes);
        Assert.Equal(
            [(StateKeyKind.ClientPage, -1, 0x10_0000UL), (StateKeyKind.HeapBlock, -1, Kernel + 0x20_0000), (StateKeyKind.Mapping, 1, User),
             (StateKeyKind.Mapping, -1, Kernel + 0x4000_0000), (StateKeyKind.ClientPage, -1, 0x10_0000UL)],
            changes.Select(change => (change.Kind, change.Space, change.Key)));
        Assert.Empty(now.ChangesSince(now)!);
    }

    [Fact]
    public void Bulk_transitions_and_new_spaces_are_in_the_history_too()
    {
        ApiState start = ApiState.Initial(1, sharedKernelHalf: true, directMapLargePages: false);
        ApiState taken = start.PagesAllocated([0x10_0000, 0x10_1000]);
        ApiState now = taken.SpaceCreated([]).PagesFreed([0x10_1000]).RangeFreed(0, User, 1);

        Assert.Equal([0x10_0000UL, 0x10_1000], taken.ClientPages);
        Assert.Equal([0x10_0000UL], now.ClientPages);
        Assert.Equal(
            [(StateKeyKind.Space, 1, 1UL), (StateKeyKind.ClientPage, -1, 0x10_1000UL)],
            now.ChangesSince(taken)!.Select(change => (change.Kind, change.Space, change.Key)));
    }

    [Fact]
    public void Blocks_freed_at_once_are_each_in_the_history_and_gone_from_the_heap()
    {
        ApiState start = ApiState.Initial(1, sharedKernelHalf: true, directMapLargePages: false)
            .BlockAllocated(Kernel + 0x20_0000, 64).BlockAllocated(Kernel + 0x20_0040, 32).BlockAllocated(Kernel + 0x30_0000, 8);

        ApiState now = start.BlocksFreed([Kernel + 0x20_0040, Kernel + 0x20_0000]);

        Assert.Equal([Kernel + 0x30_0000], now.HeapBlocks.Keys);
        Assert.Equal(
            [(StateKeyKind.HeapBlock, -1, Kernel + 0x20_0040), (StateKeyKind.HeapBlock, -1, Kernel + 0x20_0000)],
            now.ChangesSince(start)!.SelectMany(change => change.Keys.Select(key => (change.Kind, change.Space, key))));
        StateChange bulk = Assert.Single(now.ChangesSince(start)!); // one transition, one change naming both blocks
        Assert.Equal(Kernel + 0x20_0000, bulk.Key); // the last key
        StateChange single = Assert.Single(start.BlockFreed(Kernel + 0x30_0000).ChangesSince(start)!);
        Assert.Null(single.Bulk);
        Assert.Equal(new[] { Kernel + 0x30_0000 }, single.Keys);
        Assert.Equal(start.BlockFreed(Kernel + 0x20_0040).BlockFreed(Kernel + 0x20_0000).HeapBlocks, now.HeapBlocks);
    }

    [Fact]
    public void Blocks_allocated_at_once_are_the_blocks_allocated_one_by_one_in_one_change()
    {
        ApiState start = ApiState.Initial(1, sharedKernelHalf: true, directMapLargePages: false).BlockAllocated(Kernel + 0x20_0000, 64);
        (ulong, ulong)[] burst = [(Kernel + 0x20_0080, 16), (Kernel + 0x20_0040, 16), (Kernel + 0x30_0000, 0)];

        ApiState now = start.BlocksAllocated(burst);

        ApiState oneByOne = burst.Aggregate(start, (state, block) => state.BlockAllocated(block.Item1, block.Item2));
        Assert.Equal(oneByOne.HeapBlocks, now.HeapBlocks);
        Assert.Equal(64UL, now.HeapBlocks[Kernel + 0x20_0000]); // what was live stays
        StateChange bulk = Assert.Single(now.ChangesSince(start)!);
        Assert.Equal(burst.Select(block => block.Item1), bulk.Keys); // in the order they came
        Assert.Empty(start.BlocksAllocated([]).ChangesSince(start)!);
        Assert.Throws<ArgumentException>(() => start.BlocksAllocated([(Kernel + 0x20_0000, 8)])); // a live block is not allocated again
    }

    [Fact]
    public void A_state_of_another_boot_or_an_earlier_one_has_no_history_from_here()
    {
        ApiState first = ApiState.Initial(2, sharedKernelHalf: true, directMapLargePages: false);
        ApiState second = ApiState.Initial(2, sharedKernelHalf: true, directMapLargePages: false);
        ApiState later = first.PageAllocated(Page * 300);

        Assert.Null(second.ChangesSince(first));
        Assert.Null(second.PageAllocated(Page * 300).ChangesSince(first));
        Assert.Null(first.ChangesSince(later)); // the history runs forwards only
    }
}
