using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Sequences;

namespace Mmspec.Tests.Conformance;

/// <summary>Steps pick live items uniformly over all of them, the newest, or beside the last freed: not only among the lowest few.</summary>
public sealed class LiveItemsTests
{
    private static readonly ulong[] Live = [0x1000, 0x2000, 0x3000, 0x9000, 0xA000];

    [Theory]
    [InlineData(0, 0)]
    [InlineData(LivePick.UniformScale - 1, 4)]
    [InlineData(LivePick.UniformScale / 2, 2)]
    public void Uniform_reaches_every_item_whatever_their_number(int n, int index)
    {
        Assert.Equal(index, new LiveItems().Choose(new LivePick(PickRule.Uniform, n), LiveKind.Page, Live));
    }

    [Fact]
    public void Uniform_over_many_items_is_not_stuck_among_the_lowest_eight()
    {
        ulong[] many = Enumerable.Range(0, 1000).Select(i => (ulong)i * 0x1000).ToArray();
        var picked = Enumerable.Range(0, 64).Select(i => new LiveItems().Choose(new LivePick(PickRule.Uniform, i * 1024), LiveKind.Page, many)).ToHashSet();

        Assert.Contains(picked, index => index >= 500);
        Assert.Equal(64, picked.Count);
    }

    [Fact]
    public void Newest_is_the_last_allocated_item_still_live()
    {
        var items = new LiveItems();
        foreach (ulong page in new ulong[] { 0x9000, 0x1000, 0xB000, 0x3000 })
            items.Allocated(LiveKind.Page, page);

        Assert.Equal(2, items.Choose(new LivePick(PickRule.Newest, 0), LiveKind.Page, Live)); // 0xB000 is gone: 0x3000
        Assert.Equal(0, items.Choose(new LivePick(PickRule.Newest, 1), LiveKind.Page, Live)); // then 0x1000
        Assert.Equal(3, items.Choose(new LivePick(PickRule.Newest, 2), LiveKind.Page, Live)); // then 0x9000
        Assert.Equal(0, items.Choose(new LivePick(PickRule.Newest, 0), LiveKind.Block, Live)); // nothing known: the first
    }

    [Fact]
    public void Near_last_freed_is_the_nearest_live_item_above_or_below_the_hole()
    {
        var items = new LiveItems();
        items.Freed(LiveKind.Page, 0x8000);

        Assert.Equal(3, items.Choose(new LivePick(PickRule.NearLastFreed, 0), LiveKind.Page, Live));
        Assert.Equal(2, items.Choose(new LivePick(PickRule.NearLastFreed, 1), LiveKind.Page, Live));
    }

    [Fact]
    public void An_ordinal_pick_wraps_and_is_what_shrinking_ends_at()
    {
        Assert.Equal(1, new LiveItems().Choose(6, LiveKind.Region, Live));
        Assert.True(((LivePick)0).IsSimplest);
        Assert.Equal([new FreePage(0)], new FreePage(new LivePick(PickRule.Newest, 0)).Simpler());
        Assert.Empty(new FreePage(0).Simpler());
    }
}
