using Mmspec.Models.State;

namespace Mmspec.Tests.Models;

/// <summary>
/// The model's set of client pages (<see cref="PageSet"/>) answers as a sorted set would, and a change never shows in
/// the sets it was made from (states share chunks until they change them).
/// </summary>
public class PageSetTests
{
    private const ulong Page = 0x1000;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_changes_answer_as_a_sorted_set_and_leave_earlier_sets_as_they_were(int seed)
    {
        var random = new Random(seed);
        var history = new List<(PageSet Set, ulong[] Pages)> { (PageSet.Empty, []) };
        PageSet set = PageSet.Empty;
        var expected = new SortedSet<ulong>();
        for (int round = 0; round < 300; round++)
        {
            // Pages around chunk edges (4,096 pages each), far apart and close together, one or hundreds at once.
            ulong[] pages = Enumerable.Range(0, random.Next(4) == 0 ? random.Next(1, 600) : 1)
                .Select(_ => Pick(random)).ToArray();
            bool add = random.Next(3) > 0;
            set = add ? (pages.Length == 1 ? set.Add(pages[0]) : set.Union(pages)) : (pages.Length == 1 ? set.Remove(pages[0]) : set.Except(pages));
            if (add)
                expected.UnionWith(pages);
            else
                expected.ExceptWith(pages);
            AssertSame(expected, set, random);
            history.Add((set, [.. expected]));
        }
        foreach ((PageSet earlier, ulong[] pages) in history)
            Assert.Equal(pages, earlier);
    }

    [Fact]
    public void A_change_that_changes_nothing_is_the_same_set()
    {
        PageSet set = [Page, 5 * Page];

        Assert.Same(set, set.Add(Page));
        Assert.Same(set, set.Remove(2 * Page));
        Assert.Same(set, set.Except([9 * Page, 100_000 * Page]));
        Assert.Equal([Page, 5 * Page], set.Union([Page, 5 * Page]));
    }

    [Fact]
    public void Emptied_chunks_go_and_an_empty_set_is_empty()
    {
        PageSet set = [Page, 10_000 * Page];

        PageSet left = set.Except([Page, 10_000 * Page]);

        Assert.True(left.IsEmpty);
        Assert.Empty(left);
        Assert.Equal(-1, left.IndexOf(Page));
        Assert.Throws<ArgumentOutOfRangeException>(() => left[0]);
        Assert.Equal([10_000 * Page], set.Remove(Page));
    }

    [Fact]
    public void Only_page_addresses_are_members_and_the_set_cannot_be_changed_in_place()
    {
        PageSet set = [Page];

        Assert.Throws<ArgumentException>(() => set.Add(Page + 8));
        Assert.DoesNotContain(Page + 1, set); // asked, an address that is not a page's is simply not a member
        Assert.Equal(-1, set.IndexOf(Page + 1));
        IList<ulong> list = set;
        Assert.Throws<NotSupportedException>(() => list.Add(2 * Page));
        Assert.Throws<NotSupportedException>(() => list[0] = 2 * Page);
        Assert.Throws<NotSupportedException>(() => list.Insert(0, 2 * Page));
        Assert.Throws<NotSupportedException>(() => list.RemoveAt(0));
        Assert.Throws<NotSupportedException>(() => list.Remove(Page));
        Assert.Throws<NotSupportedException>(list.Clear);
        Assert.True(list.IsReadOnly);
        Assert.Equal(Page, list[0]);
        Assert.Equal([Page], set);
    }

    [Fact]
    public void The_untyped_enumerator_walks_the_pages_and_starts_again_after_a_reset()
    {
        PageSet set = [3 * Page, Page, 70 * Page];
        System.Collections.IEnumerator pages = ((System.Collections.IEnumerable)set).GetEnumerator();

        var first = new List<object>();
        while (pages.MoveNext())
            first.Add(pages.Current);
        pages.Reset();
        Assert.True(pages.MoveNext());

        Assert.Equal([Page, 3 * Page, 70 * Page], first.Cast<ulong>());
        Assert.Equal(Page, pages.Current);
    }

    private static ulong Pick(Random random) => random.Next(4) switch
    {
        0 => (ulong)random.Next(0, 64) * Page,
        1 => (4096UL * (ulong)random.Next(1, 4) + (ulong)random.Next(-3, 3)) * Page, // at a chunk's edge
        2 => (ulong)random.Next(0, 1 << 18) * Page, // anywhere in 1 GiB
        _ => ((ulong)random.Next(0, 8) << 40) + (ulong)random.Next(0, 4096) * Page, // far apart: chunks with gaps between
    };

    private static void AssertSame(SortedSet<ulong> expected, PageSet set, Random random)
    {
        Assert.Equal(expected.Count, set.Count);
        Assert.Equal(expected.Count == 0, set.IsEmpty);
        ulong[] pages = [.. expected];
        Assert.Equal(pages, set);
        var copied = new ulong[pages.Length + 1];
        set.CopyTo(copied, 1);
        Assert.Equal(pages, copied[1..]);
        for (int probe = 0; probe < 10 && pages.Length > 0; probe++)
        {
            int index = random.Next(pages.Length);
            Assert.Equal(pages[index], set[index]);
            Assert.Equal(index, set.IndexOf(pages[index]));
            bool member = set.Contains(pages[index]);
            Assert.True(member);
        }
        ulong absent = Pick(random);
        Assert.Equal(expected.Contains(absent), set.Contains(absent));
        ulong[] others = [.. Enumerable.Range(0, 20).Select(_ => Pick(random)), .. pages.Where((_, index) => index % 3 == 0)];
        Assert.Equal(expected.Intersect(others).Count(), set.CountCommon(PageSet.Of(others)));
        Assert.Equal(expected.Contains(absent) ? Array.IndexOf(pages, absent) : -1, set.IndexOf(absent));
    }
}
