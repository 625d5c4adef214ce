using Mmspec.Models.State;
using Xunit.Sdk;

namespace Mmspec.Tests.Models;

/// <summary>
/// The abstract API state the whole suite trusts as its oracle: every query and transition, on states built by
/// hand, with the edges the suite leans on (the direct map's 2 MiB pages, the shared kernel half, the top of the
/// 64-bit address space).
/// </summary>
public class ApiStateTests
{
    private const ulong Page = 0x1000;
    private const ulong Large = 0x20_0000;
    private const ulong Kernel = 0xFFFF_FF00_0000_0000;
    private const ulong OneGiB = 0x4000_0000;

    /// <summary>A user address well inside the lower half.</summary>
    private const ulong U = 0x0000_0000_4000_0000;

    /// <summary>A kernel address just above the direct map, where kernel vmalloc regions go.</summary>
    private const ulong KV = Kernel + OneGiB;

    /// <summary>The last page of the 64-bit address space and the two below it.</summary>
    private const ulong TopPage = 0xFFFF_FFFF_FFFF_F000;
    private const ulong TopPage1 = 0xFFFF_FFFF_FFFF_E000;
    private const ulong TopPage2 = 0xFFFF_FFFF_FFFF_D000;

    private static ulong Frame(int n) => 0x10_0000 + (ulong)n * Page;

    private static ApiState Empty(int spaces = 2, bool shared = true) => ApiState.Initial(spaces, shared, directMapLargePages: false);

    private static (ulong Base, Mapping Mapping) Found(ApiState state, int space, ulong virt) =>
        state.Lookup(space, virt) ?? throw new XunitException($"0x{virt:X} is not mapped in space {space}");

    private static void AssertUnmapped(ApiState state, int space, ulong virt) =>
        Assert.True(state.Lookup(space, virt) is null, $"0x{virt:X} is still mapped in space {space}: {state.Lookup(space, virt)}");

    private static Mapping DirectMapPage(ulong n) => new(n * Large, Large, Rights.Write, MappingKind.DirectMap);

    /// <summary>Everything a state holds, as text, to show a transition changed nothing in its source.</summary>
    private static string Snapshot(ApiState state) =>
        string.Join("\n",
        [
            $"shared={state.SharedKernelHalf} spaces={state.SpaceCount}",
            "pages: " + string.Join(",", state.ClientPages.Select(p => p.ToString("X"))),
            "blocks: " + string.Join(",", state.HeapBlocks.Select(b => $"{b.Key:X}+{b.Value}")),
            "kernel: " + string.Join(",", state.SharedMappings.Select(m => $"{m.Key:X}={m.Value}")),
            .. state.SpaceMappings.Select((map, space) => $"user {space}: " + string.Join(",", map.Select(m => $"{m.Key:X}={m.Value}"))),
            "regions: " + string.Join(",", state.Regions),
        ]);

    // ---- Initial -----------------------------------------------------------------------------

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Initial_WithoutDirectMap_HoldsNothing(bool shared)
    {
        ApiState state = ApiState.Initial(3, shared, directMapLargePages: false);

        Assert.Equal(shared, state.SharedKernelHalf);
        Assert.Equal(3, state.SpaceCount);
        Assert.Equal(3, state.SpaceMappings.Length);
        Assert.All(state.SpaceMappings, Assert.Empty);
        Assert.Empty(state.SharedMappings);
        Assert.Empty(state.ClientPages);
        Assert.Empty(state.HeapBlocks);
        Assert.Empty(state.Regions);
        Assert.Empty(state.DistinctMappings());
        for (int space = 0; space < 3; space++)
        {
            Assert.Empty(state.MappingsOf(space));
            AssertUnmapped(state, space, Kernel);
        }
    }

    [Fact]
    public void Initial_SharedKernelHalf_DirectMapIs512WritableLargePagesHeldOnce()
    {
        ApiState state = ApiState.Initial(2, sharedKernelHalf: true, directMapLargePages: true);

        Assert.Equal(512, state.SharedMappings.Count);
        for (ulong n = 0; n < 512; n++)
            Assert.Equal(DirectMapPage(n), state.SharedMappings[Kernel + n * Large]);
        Assert.All(state.SpaceMappings, Assert.Empty);
    }

    [Fact]
    public void Initial_PerSpaceKernelHalf_EverySpaceHasItsOwnCopyOfTheDirectMap()
    {
        ApiState state = ApiState.Initial(3, sharedKernelHalf: false, directMapLargePages: true);

        Assert.Empty(state.SharedMappings);
        foreach (var map in state.SpaceMappings)
        {
            Assert.Equal(512, map.Count);
            for (ulong n = 0; n < 512; n++)
                Assert.Equal(DirectMapPage(n), map[Kernel + n * Large]);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Initial_DirectMap_CoversExactlyTheFirstGiBInEverySpace(bool shared)
    {
        ApiState state = ApiState.Initial(2, shared, directMapLargePages: true);

        for (int space = 0; space < 2; space++)
        {
            Assert.Equal((Kernel, DirectMapPage(0)), Found(state, space, Kernel));
            Assert.Equal((Kernel + 511 * Large, DirectMapPage(511)), Found(state, space, Kernel + OneGiB - 1));
            Assert.Equal((Kernel + 0x1234 * Page / Large * Large, DirectMapPage(0x1234 * Page / Large)), Found(state, space, Kernel + 0x1234 * Page + 5));
            AssertUnmapped(state, space, Kernel + OneGiB);
            AssertUnmapped(state, space, Kernel - 1);
        }
    }

    // ---- Lookup ------------------------------------------------------------------------------

    [Theory]
    [InlineData(0x000UL)]
    [InlineData(0x07AUL)]
    [InlineData(0xFFFUL)]
    public void Lookup_FourKiBPage_CoversEveryOffsetOfItsPage(ulong offset)
    {
        ApiState state = Empty().Mapped(0, U + Page, Frame(1), Rights.User | Rights.Write);

        Assert.Equal((U + Page, new Mapping(Frame(1), Page, Rights.User | Rights.Write, MappingKind.Client)), Found(state, 0, U + Page + offset));
    }

    [Fact]
    public void Lookup_FourKiBPage_DoesNotCoverItsNeighbours()
    {
        ApiState state = Empty().Mapped(0, U + Page, Frame(1), Rights.Write);

        AssertUnmapped(state, 0, U + Page - 1);
        AssertUnmapped(state, 0, U);
        AssertUnmapped(state, 0, U + 2 * Page);
    }

    [Fact]
    public void Lookup_FourKiBPageOnA2MiBBoundary_DoesNotCoverTheRestOfThe2MiB()
    {
        ApiState state = Empty().Mapped(0, U, Frame(1), Rights.None);

        Assert.Equal(U, Found(state, 0, U + 0xFFF).Base);
        AssertUnmapped(state, 0, U + Page);
        AssertUnmapped(state, 0, U + Large - 1);
    }

    [Theory]
    [InlineData(0UL, 0x000000UL)]
    [InlineData(0UL, 0x001000UL)]
    [InlineData(7UL, 0x0ABCDEUL)]
    [InlineData(7UL, 0x1FFFFFUL)]
    [InlineData(511UL, 0x1FF000UL)]
    public void Lookup_LargePage_CoversEveryOffsetOfIts2MiB(ulong n, ulong offset)
    {
        ApiState state = ApiState.Initial(1, sharedKernelHalf: true, directMapLargePages: true);

        Assert.Equal((Kernel + n * Large, DirectMapPage(n)), Found(state, 0, Kernel + n * Large + offset));
    }

    [Fact]
    public void Lookup_FourKiBPageBesideTheDirectMap_IsFoundAndTheDirectMapStillIs()
    {
        ApiState state = ApiState.Initial(1, sharedKernelHalf: true, directMapLargePages: true).Mapped(0, KV, Frame(3), Rights.Write);

        Assert.Equal((KV, new Mapping(Frame(3), Page, Rights.Write, MappingKind.Client)), Found(state, 0, KV + 0x10));
        Assert.Equal(Kernel + 511 * Large, Found(state, 0, KV - 1).Base);
        AssertUnmapped(state, 0, KV + Page);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Lookup_UserHalf_IsPerSpace(bool shared)
    {
        ApiState state = Empty(3, shared).Mapped(1, U, Frame(1), Rights.User).Mapped(2, U, Frame(2), Rights.Write);

        AssertUnmapped(state, 0, U);
        Assert.Equal(Frame(1), Found(state, 1, U).Mapping.Phys);
        Assert.Equal(Frame(2), Found(state, 2, U).Mapping.Phys);
    }

    [Fact]
    public void Lookup_SharedKernelHalf_AKernelMappingMadeThroughOneSpaceIsSeenFromEverySpace()
    {
        ApiState state = Empty(3).Mapped(1, KV, Frame(1), Rights.Write);

        for (int space = 0; space < 3; space++)
            Assert.Equal((KV, new Mapping(Frame(1), Page, Rights.Write, MappingKind.Client)), Found(state, space, KV));
        Assert.True(state.SharedMappings.ContainsKey(KV));
        Assert.All(state.SpaceMappings, Assert.Empty);
    }

    [Fact]
    public void Lookup_PerSpaceKernelHalf_AKernelMappingIsSeenOnlyInItsOwnSpace()
    {
        ApiState state = Empty(3, shared: false).Mapped(1, KV, Frame(1), Rights.Write);

        Assert.Equal(Frame(1), Found(state, 1, KV).Mapping.Phys);
        AssertUnmapped(state, 0, KV);
        AssertUnmapped(state, 2, KV);
        Assert.Empty(state.SharedMappings);
    }

    [Fact]
    public void Lookup_AtTheUserKernelBoundary_TheLastUserPageIsPerSpaceAndTheFirstKernelPageShared()
    {
        ApiState state = Empty(2)
            .Mapped(0, Kernel - Page, Frame(1), Rights.User)
            .Mapped(0, Kernel, Frame(2), Rights.Write);

        Assert.Equal(Frame(1), Found(state, 0, Kernel - 1).Mapping.Phys);
        Assert.Equal(Frame(2), Found(state, 0, Kernel).Mapping.Phys);
        AssertUnmapped(state, 1, Kernel - 1);
        Assert.Equal(Frame(2), Found(state, 1, Kernel).Mapping.Phys);
        Assert.Equal([Kernel - Page], state.SpaceMappings[0].Keys);
        Assert.Equal([Kernel], state.SharedMappings.Keys);
    }

    [Fact]
    public void Lookup_TheVeryLastPage_CoversTheLastByteOfTheAddressSpace()
    {
        ApiState state = Empty().Mapped(0, TopPage, Frame(1), Rights.Write);

        Assert.Equal(TopPage, Found(state, 0, ulong.MaxValue).Base);
        Assert.Equal(TopPage, Found(state, 1, TopPage).Base);
        AssertUnmapped(state, 0, TopPage - 1);
    }

    [Fact]
    public void Lookup_UpperUserPart_IsUserHalf()
    {
        ApiState state = Empty().Mapped(0, 0xFFFF_8000_0000_0000, Frame(1), Rights.User);

        Assert.Equal(Frame(1), Found(state, 0, 0xFFFF_8000_0000_0FFF).Mapping.Phys);
        AssertUnmapped(state, 1, 0xFFFF_8000_0000_0000);
        Assert.Empty(state.SharedMappings);
    }

    // ---- MappingsOf --------------------------------------------------------------------------

    [Fact]
    public void MappingsOf_SharedKernelHalf_UserMappingsInIncreasingOrderThenTheKernelHalf()
    {
        ApiState state = ApiState.Initial(2, sharedKernelHalf: true, directMapLargePages: true)
            .Mapped(0, KV + Page, Frame(1), Rights.Write)
            .Mapped(0, 0xFFFF_8000_0000_0000, Frame(2), Rights.User)
            .Mapped(1, KV + 2 * Page, Frame(3), Rights.Write)
            .Mapped(0, U + 2 * Page, Frame(4), Rights.User)
            .Mapped(1, U + Page, Frame(5), Rights.User)
            .Mapped(0, Page, Frame(6), Rights.User)
            .Mapped(0, Kernel - Page, Frame(7), Rights.User);

        var bases = state.MappingsOf(0).Select(m => m.Base).ToList();

        ulong[] expected =
        [
            Page, U + 2 * Page, 0xFFFF_8000_0000_0000, Kernel - Page,
            .. Enumerable.Range(0, 512).Select(n => Kernel + (ulong)n * Large),
            KV + Page, KV + 2 * Page,
        ];
        Assert.Equal(expected, bases);
        Assert.Equal(new Mapping(Frame(7), Page, Rights.User, MappingKind.Client), state.MappingsOf(0).Single(m => m.Base == Kernel - Page).Mapping);
        Assert.Equal([U + Page, .. Enumerable.Range(0, 512).Select(n => Kernel + (ulong)n * Large), KV + Page, KV + 2 * Page], state.MappingsOf(1).Select(m => m.Base));
    }

    [Fact]
    public void MappingsOf_PerSpaceKernelHalf_OnlyTheSpacesOwnMappingsInIncreasingOrder()
    {
        ApiState state = ApiState.Initial(2, sharedKernelHalf: false, directMapLargePages: true)
            .Mapped(0, KV + Page, Frame(1), Rights.Write)
            .Mapped(1, KV, Frame(2), Rights.Write)
            .Mapped(0, U, Frame(3), Rights.User);

        Assert.Equal([U, .. Enumerable.Range(0, 512).Select(n => Kernel + (ulong)n * Large), KV + Page], state.MappingsOf(0).Select(m => m.Base));
        Assert.Equal([.. Enumerable.Range(0, 512).Select(n => Kernel + (ulong)n * Large), KV], state.MappingsOf(1).Select(m => m.Base));
    }

    // ---- DistinctMappings --------------------------------------------------------------------

    [Fact]
    public void DistinctMappings_SharedKernelHalf_UserMappingsPerSpaceThenTheKernelHalfOnceAsSpaceMinusOne()
    {
        ApiState state = ApiState.Initial(3, sharedKernelHalf: true, directMapLargePages: true)
            .Mapped(2, U, Frame(1), Rights.User)
            .Mapped(0, U + Page, Frame(2), Rights.User)
            .Mapped(1, KV, Frame(3), Rights.Write)
            .Mapped(0, U, Frame(4), Rights.User);

        var all = state.DistinctMappings().ToList();

        Assert.Equal(3 + 513, all.Count);
        Assert.Equal(
            [(0, U, Frame(4)), (0, U + Page, Frame(2)), (2, U, Frame(1))],
            all.Take(3).Select(e => (e.Space, e.Base, e.Mapping.Phys)));
        Assert.All(all.Skip(3), e => Assert.Equal(-1, e.Space));
        Assert.Equal([.. Enumerable.Range(0, 512).Select(n => Kernel + (ulong)n * Large), KV], all.Skip(3).Select(e => e.Base));
        Assert.Equal(DirectMapPage(5), all[3 + 5].Mapping);
        Assert.Equal(new Mapping(Frame(3), Page, Rights.Write, MappingKind.Client), all[^1].Mapping);
    }

    [Fact]
    public void DistinctMappings_PerSpaceKernelHalf_EveryCopyUnderItsOwnSpace()
    {
        ApiState state = ApiState.Initial(2, sharedKernelHalf: false, directMapLargePages: true).Mapped(1, KV, Frame(1), Rights.Write);

        var all = state.DistinctMappings().ToList();

        Assert.Equal(512 + 513, all.Count);
        Assert.DoesNotContain(all, e => e.Space == -1);
        Assert.Equal(512, all.Count(e => e.Space == 0));
        Assert.Equal((1, KV), all.Where(e => e.Mapping.Kind == MappingKind.Client).Select(e => (e.Space, e.Base)).Single());
    }

    // ---- IsRangeFree -------------------------------------------------------------------------

    [Theory]
    [InlineData(0UL, 2UL, true)]
    [InlineData(0UL, 3UL, false)]
    [InlineData(1UL, 1UL, true)]
    [InlineData(1UL, 2UL, false)]
    [InlineData(2UL, 1UL, false)]
    [InlineData(3UL, 5UL, true)]
    [InlineData(0UL, 100UL, false)]
    public void IsRangeFree_AroundAFourKiBPage(ulong firstPage, ulong pages, bool free)
    {
        ApiState state = Empty().Mapped(0, U + 2 * Page, Frame(1), Rights.User);

        Assert.Equal(free, state.IsRangeFree(0, U + firstPage * Page, pages));
    }

    [Theory]
    [InlineData(0UL, 1UL, false)]
    [InlineData(Large - Page, 1UL, false)]
    [InlineData(OneGiB - Page, 1UL, false)]
    [InlineData(OneGiB - Page, 2UL, false)]
    [InlineData(OneGiB, 1UL, true)]
    [InlineData(OneGiB, 512UL, true)]
    public void IsRangeFree_InsideAndBesideTheDirectMap(ulong offset, ulong pages, bool free)
    {
        ApiState state = ApiState.Initial(2, sharedKernelHalf: true, directMapLargePages: true);

        Assert.Equal(free, state.IsRangeFree(1, Kernel + offset, pages));
    }

    [Fact]
    public void IsRangeFree_SeesTheSharedKernelHalfFromEverySpaceButOnlyItsOwnUserHalf()
    {
        ApiState state = Empty(2).Mapped(0, U, Frame(1), Rights.User).Mapped(0, KV, Frame(2), Rights.Write);

        Assert.False(state.IsRangeFree(0, U, 1));
        Assert.True(state.IsRangeFree(1, U, 1));
        Assert.False(state.IsRangeFree(0, KV, 1));
        Assert.False(state.IsRangeFree(1, KV, 1));

        ApiState perSpace = Empty(2, shared: false).Mapped(0, KV, Frame(2), Rights.Write);
        Assert.False(perSpace.IsRangeFree(0, KV, 1));
        Assert.True(perSpace.IsRangeFree(1, KV, 1));
    }

    [Fact]
    public void IsRangeFree_AtTheTopOfTheAddressSpace()
    {
        ApiState state = Empty().Mapped(0, TopPage, Frame(1), Rights.Write);

        Assert.False(state.IsRangeFree(0, TopPage, 1));
        Assert.False(state.IsRangeFree(0, TopPage2, 3));
        Assert.True(state.IsRangeFree(0, TopPage2, 2));
        Assert.True(Empty().IsRangeFree(0, TopPage2, 3));
    }

    // ---- LowestFreeRun -----------------------------------------------------------------------

    [Fact]
    public void LowestFreeRun_NothingMapped_IsTheFirstPage()
    {
        Assert.Equal(U, Empty().LowestFreeRun(0, U, U + 16 * Page - 1, 16));
        Assert.Null(Empty().LowestFreeRun(0, U, U + 16 * Page - 1, 17));
    }

    /// <summary>Pages mapped at U+2, U+5 and U+9: the free runs are [0,2), [3,5), [6,9) and [10, ...).</summary>
    [Theory]
    [InlineData(0UL, 1UL, 0UL)]
    [InlineData(0UL, 2UL, 0UL)]
    [InlineData(0UL, 3UL, 6UL)]
    [InlineData(0UL, 4UL, 10UL)]
    [InlineData(1UL, 2UL, 3UL)]
    [InlineData(2UL, 1UL, 3UL)]
    [InlineData(5UL, 1UL, 6UL)]
    [InlineData(7UL, 2UL, 7UL)]
    [InlineData(7UL, 3UL, 10UL)]
    public void LowestFreeRun_IsFirstFit(ulong firstPage, ulong pages, ulong expectedPage)
    {
        ApiState state = Empty()
            .Mapped(0, U + 9 * Page, Frame(3), Rights.User)
            .Mapped(0, U + 2 * Page, Frame(1), Rights.User)
            .Mapped(0, U + 5 * Page, Frame(2), Rights.User);

        Assert.Equal(U + expectedPage * Page, state.LowestFreeRun(0, U + firstPage * Page, U + 64 * Page - 1, pages));
    }

    [Theory]
    [InlineData(14UL, 5UL, null)]
    [InlineData(15UL, 5UL, 11UL)]
    [InlineData(15UL, 6UL, null)]
    [InlineData(8UL, 3UL, 6UL)]
    [InlineData(7UL, 3UL, null)]
    [InlineData(4UL, 2UL, 0UL)]
    [InlineData(4UL, 3UL, null)]
    public void LowestFreeRun_TheRunMustEndByLast(ulong lastPage, ulong pages, ulong? expectedPage)
    {
        ApiState state = Empty()
            .Mapped(0, U + 2 * Page, Frame(1), Rights.User)
            .Mapped(0, U + 5 * Page, Frame(2), Rights.User)
            .Mapped(0, U + 10 * Page, Frame(3), Rights.User);

        ulong? expected = expectedPage is { } page ? U + page * Page : null;
        Assert.Equal(expected, state.LowestFreeRun(0, U, U + (lastPage + 1) * Page - 1, pages));
    }

    [Fact]
    public void LowestFreeRun_AMappingOnTheLastPageOfTheWindowLeavesNoRoom()
    {
        ApiState state = Empty().Mapped(0, U + 4 * Page, Frame(1), Rights.User);

        Assert.Null(state.LowestFreeRun(0, U + 2 * Page, U + 5 * Page - 1, 3));
        Assert.Equal(U + 2 * Page, state.LowestFreeRun(0, U + 2 * Page, U + 5 * Page - 1, 2));
    }

    [Fact]
    public void LowestFreeRun_LargePagesStraddlingFirstOrLast()
    {
        ApiState state = ApiState.Initial(1, sharedKernelHalf: true, directMapLargePages: true);

        Assert.Equal(KV, state.LowestFreeRun(0, Kernel + 0x1000, KV + 16 * Page - 1, 16));
        Assert.Equal(KV, state.LowestFreeRun(0, KV - Page, KV + 16 * Page - 1, 1));
        Assert.Null(state.LowestFreeRun(0, Kernel, KV - 1, 1));
        Assert.Null(state.LowestFreeRun(0, Kernel + Page, Kernel + 3 * Large + Page - 1, 1));
    }

    [Fact]
    public void LowestFreeRun_AHoleLeftByAnUnmappedLargePageFitsExactlyItsSize()
    {
        ApiState state = ApiState.Initial(1, sharedKernelHalf: true, directMapLargePages: true).Unmapped(0, Kernel + 3 * Large);

        Assert.Equal(Kernel + 3 * Large, state.LowestFreeRun(0, Kernel, KV + 2 * Large - 1, 512));
        Assert.Equal(KV, state.LowestFreeRun(0, Kernel, KV + 2 * Large - 1, 513));
        Assert.Equal(Kernel + 3 * Large + Page, state.LowestFreeRun(0, Kernel + 3 * Large + Page, KV - 1, 511));
        Assert.Null(state.LowestFreeRun(0, Kernel, KV - 1, 513));
    }

    [Fact]
    public void LowestFreeRun_SeesOnlyTheSpacesOwnUserHalfButTheSharedKernelHalf()
    {
        ApiState state = Empty().Mapped(1, U, Frame(1), Rights.User).Mapped(1, KV, Frame(2), Rights.Write);

        Assert.Equal(U, state.LowestFreeRun(0, U, U + 4 * Page - 1, 2));
        Assert.Equal(U + Page, state.LowestFreeRun(1, U, U + 4 * Page - 1, 2));
        Assert.Equal(KV + Page, state.LowestFreeRun(0, KV, KV + 4 * Page - 1, 2));
    }

    [Fact]
    public void LowestFreeRun_RunsEndingAtTheTopOfTheAddressSpace()
    {
        ulong first = 0xFFFF_FFFF_FFFF_0000;

        Assert.Equal(first, Empty().LowestFreeRun(0, first, ulong.MaxValue, 16));
        Assert.Null(Empty().LowestFreeRun(0, first, ulong.MaxValue, 17));

        ApiState top = Empty().Mapped(0, TopPage, Frame(1), Rights.Write);
        Assert.Null(top.LowestFreeRun(0, first, ulong.MaxValue, 16));
        Assert.Equal(first, top.LowestFreeRun(0, first, ulong.MaxValue, 15));
        Assert.Null(top.LowestFreeRun(0, TopPage, ulong.MaxValue, 1));

        ApiState bottom = Empty().Mapped(0, first, Frame(1), Rights.Write);
        Assert.Equal(first + Page, bottom.LowestFreeRun(0, first, ulong.MaxValue, 15));
        Assert.Equal(TopPage, Empty().LowestFreeRun(0, TopPage, ulong.MaxValue, 1));
    }

    // ---- pages and heap blocks ---------------------------------------------------------------

    [Fact]
    public void PageAllocatedAndFreed_TrackExactlyTheClientsPages()
    {
        ApiState state = Empty().PageAllocated(Frame(2)).PageAllocated(Frame(1)).PageAllocated(Frame(3));

        Assert.Equal([Frame(1), Frame(2), Frame(3)], state.ClientPages);

        state = state.PageFreed(Frame(2));
        Assert.Equal([Frame(1), Frame(3)], state.ClientPages);
        Assert.Equal([Frame(3)], state.PageFreed(Frame(1)).ClientPages);
        Assert.Empty(state.PageFreed(Frame(1)).PageFreed(Frame(3)).ClientPages);
    }

    [Fact]
    public void PageAllocatedAndFreed_TouchNoMapping()
    {
        ApiState state = Empty().Mapped(0, U, Frame(1), Rights.User).PageAllocated(Frame(1)).PageFreed(Frame(1));

        Assert.Equal(Frame(1), Found(state, 0, U).Mapping.Phys);
    }

    [Fact]
    public void BlockAllocatedAndFreed_TrackPointerAndSize()
    {
        ApiState state = Empty().BlockAllocated(Kernel + 0x2030, 16).BlockAllocated(Kernel + 0x1000, 4000);

        Assert.Equal([(Kernel + 0x1000, 4000UL), (Kernel + 0x2030, 16UL)], state.HeapBlocks.Select(b => (b.Key, b.Value)));

        state = state.BlockFreed(Kernel + 0x1000);
        Assert.Equal([(Kernel + 0x2030, 16UL)], state.HeapBlocks.Select(b => (b.Key, b.Value)));
        Assert.Empty(state.BlockFreed(Kernel + 0x2030).HeapBlocks);
        Assert.Empty(state.ClientPages);
        Assert.Empty(state.DistinctMappings());
    }

    [Fact]
    public void BlockAllocated_ZeroSizeBlockIsTracked()
    {
        ApiState state = Empty().BlockAllocated(Kernel + 0x10, 0);

        Assert.Equal(0UL, state.HeapBlocks[Kernel + 0x10]);
    }

    // ---- Mapped / Unmapped -------------------------------------------------------------------

    [Theory]
    [InlineData(Rights.None)]
    [InlineData(Rights.User)]
    [InlineData(Rights.Write)]
    [InlineData(Rights.Exec)]
    [InlineData(Rights.User | Rights.Write | Rights.Exec)]
    public void Mapped_IsAFourKiBClientPageWithTheGivenRights(Rights rights)
    {
        ApiState state = Empty().Mapped(0, U, Frame(1), rights);

        Assert.Equal(new Mapping(Frame(1), Page, rights, MappingKind.Client), state.SpaceMappings[0][U]);
        Assert.Empty(state.ClientPages);
    }

    [Fact]
    public void Mapped_KeepsTheGivenKind()
    {
        ApiState state = Empty().Mapped(0, U, Frame(1), Rights.Write, MappingKind.Region);

        Assert.Equal(MappingKind.Region, Found(state, 0, U).Mapping.Kind);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Unmapped_RemovesOnlyThatMappingInThatSpace(bool shared)
    {
        ApiState state = Empty(2, shared)
            .Mapped(0, U, Frame(1), Rights.User)
            .Mapped(0, U + Page, Frame(2), Rights.User)
            .Mapped(1, U, Frame(3), Rights.User)
            .PageAllocated(Frame(1));

        ApiState after = state.Unmapped(0, U);

        AssertUnmapped(after, 0, U);
        Assert.Equal(Frame(2), Found(after, 0, U + Page).Mapping.Phys);
        Assert.Equal(Frame(3), Found(after, 1, U).Mapping.Phys);
        Assert.Equal([Frame(1)], after.ClientPages);
    }

    [Fact]
    public void Unmapped_SharedKernelHalf_ADirectMapPageRemovedThroughOneSpaceIsGoneFromEverySpace()
    {
        ApiState state = ApiState.Initial(3, sharedKernelHalf: true, directMapLargePages: true).Unmapped(2, Kernel + 7 * Large);

        for (int space = 0; space < 3; space++)
        {
            AssertUnmapped(state, space, Kernel + 7 * Large + 0x1234);
            Assert.Equal(Kernel + 6 * Large, Found(state, space, Kernel + 7 * Large - 1).Base);
            Assert.Equal(Kernel + 8 * Large, Found(state, space, Kernel + 8 * Large).Base);
        }
        Assert.Equal(511, state.SharedMappings.Count);
    }

    [Fact]
    public void Unmapped_PerSpaceKernelHalf_ADirectMapPageRemovedInOneSpaceStaysInTheOthers()
    {
        ApiState state = ApiState.Initial(2, sharedKernelHalf: false, directMapLargePages: true).Unmapped(1, Kernel + 7 * Large);

        AssertUnmapped(state, 1, Kernel + 7 * Large);
        Assert.Equal(Kernel + 7 * Large, Found(state, 0, Kernel + 7 * Large).Base);
    }

    [Fact]
    public void Unmapped_AnAddressNothingMapsChangesNothing()
    {
        ApiState state = Empty().Mapped(0, U, Frame(1), Rights.User);

        Assert.Equal(Snapshot(state), Snapshot(state.Unmapped(0, U + Page).Unmapped(1, U).Unmapped(0, KV)));
    }

    // ---- RegionAllocated ---------------------------------------------------------------------

    [Fact]
    public void RegionAllocated_RecordsTheRegionAndMapsEachPageToItsFrame()
    {
        var region = new Region(1, U + 3 * Page, 3, Rights.User | Rights.Exec);

        ApiState state = Empty().PageAllocated(Frame(9)).RegionAllocated(region, [Frame(5), Frame(2), Frame(7)]);

        Assert.Equal([region], state.Regions);
        Assert.Equal(
            [
                (U + 3 * Page, new Mapping(Frame(5), Page, Rights.User | Rights.Exec, MappingKind.Region)),
                (U + 4 * Page, new Mapping(Frame(2), Page, Rights.User | Rights.Exec, MappingKind.Region)),
                (U + 5 * Page, new Mapping(Frame(7), Page, Rights.User | Rights.Exec, MappingKind.Region)),
            ],
            state.MappingsOf(1));
        Assert.Empty(state.MappingsOf(0));
        Assert.Equal([Frame(9)], state.ClientPages);
    }

    [Fact]
    public void RegionAllocated_KernelRegionGoesToTheSharedKernelHalf()
    {
        var region = new Region(0, KV, 2, Rights.Write);

        ApiState state = Empty().RegionAllocated(region, [Frame(1), Frame(2)]);

        Assert.Equal([KV, KV + Page], state.SharedMappings.Keys);
        Assert.Equal(Frame(2), Found(state, 1, KV + Page + 0x42).Mapping.Phys);
        Assert.All(state.SpaceMappings, Assert.Empty);
    }

    [Fact]
    public void RegionAllocated_KeepsEarlierRegionsInOrder()
    {
        var first = new Region(0, U + 8 * Page, 1, Rights.User);
        var second = new Region(0, U, 2, Rights.User);

        ApiState state = Empty().RegionAllocated(first, [Frame(1)]).RegionAllocated(second, [Frame(2), Frame(3)]);

        Assert.Equal([first, second], state.Regions);
        Assert.Equal(3, state.SpaceMappings[0].Count);
    }

    // ---- RangeFreed --------------------------------------------------------------------------

    private static readonly Region UserRegion = new(0, U + 4 * Page, 4, Rights.User | Rights.Write);

    /// <summary>A 4-page user region in space 0 at U+4 (frames 10..13), a client page at U (frame 1), the same
    /// user region addresses mapped in space 1 (frame 20), and the direct map.</summary>
    private static ApiState WithUserRegion(bool shared = true) =>
        ApiState.Initial(2, shared, directMapLargePages: true)
            .PageAllocated(Frame(1))
            .Mapped(0, U, Frame(1), Rights.User)
            .RegionAllocated(UserRegion, [Frame(10), Frame(11), Frame(12), Frame(13)])
            .Mapped(1, U + 4 * Page, Frame(20), Rights.User);

    [Fact]
    public void RangeFreed_WholeRegion_UnmapsItAndForgetsIt()
    {
        ApiState state = WithUserRegion().RangeFreed(0, UserRegion.Start, UserRegion.Pages);

        Assert.Empty(state.Regions);
        for (ulong page = 4; page < 8; page++)
            AssertUnmapped(state, 0, U + page * Page);
        Assert.Equal(Frame(1), Found(state, 0, U).Mapping.Phys);
        Assert.Equal(Frame(20), Found(state, 1, U + 4 * Page).Mapping.Phys);
        Assert.Equal([Frame(1)], state.ClientPages);
        Assert.Equal(512, state.SharedMappings.Count);
    }

    [Fact]
    public void RangeFreed_FirstHalf_LeavesTheSecondHalfMappedAndRecorded()
    {
        ApiState state = WithUserRegion().RangeFreed(0, UserRegion.Start, 2);

        Assert.Equal([UserRegion with { Start = U + 6 * Page, Pages = 2 }], state.Regions);
        AssertUnmapped(state, 0, U + 4 * Page);
        AssertUnmapped(state, 0, U + 5 * Page);
        Assert.Equal(Frame(12), Found(state, 0, U + 6 * Page).Mapping.Phys);
        Assert.Equal(Frame(13), Found(state, 0, U + 7 * Page).Mapping.Phys);
    }

    [Fact]
    public void RangeFreed_SecondHalf_LeavesTheFirstHalfRecorded()
    {
        ApiState state = WithUserRegion().RangeFreed(0, U + 6 * Page, 2);

        Assert.Equal([UserRegion with { Pages = 2 }], state.Regions);
        Assert.Equal(Frame(11), Found(state, 0, U + 5 * Page).Mapping.Phys);
        AssertUnmapped(state, 0, U + 6 * Page);
    }

    [Fact]
    public void RangeFreed_WithUnmappedMargins_ForgetsTheRegionAndTouchesNothingOutside()
    {
        ApiState state = WithUserRegion()
            .Mapped(0, U + 2 * Page, Frame(2), Rights.User)
            .Mapped(0, U + 9 * Page, Frame(3), Rights.User)
            .RangeFreed(0, U + 3 * Page, 6);

        Assert.Empty(state.Regions);
        for (ulong page = 3; page < 9; page++)
            AssertUnmapped(state, 0, U + page * Page);
        Assert.Equal(Frame(2), Found(state, 0, U + 2 * Page).Mapping.Phys);
        Assert.Equal(Frame(3), Found(state, 0, U + 9 * Page).Mapping.Phys);
    }

    [Fact]
    public void RangeFreed_MiddleOfARegion_TrimsItIntoTwoParts()
    {
        var region = new Region(0, U, 10, Rights.Write);
        ApiState state = Empty()
            .RegionAllocated(region, [.. Enumerable.Range(0, 10).Select(Frame)])
            .RangeFreed(0, U + 3 * Page, 4);

        Assert.Equal([region with { Pages = 3 }, region with { Start = U + 7 * Page, Pages = 3 }], state.Regions);
        Assert.Equal([U, U + Page, U + 2 * Page, U + 7 * Page, U + 8 * Page, U + 9 * Page], state.MappingsOf(0).Select(m => m.Base));
        Assert.Equal(region.Last, state.Regions[1].Last);
    }

    [Fact]
    public void RangeFreed_AClientPageMappedIntoTheRange_IsUnmappedAndFreedToo()
    {
        ApiState state = WithUserRegion()
            .PageAllocated(Frame(2))
            .PageAllocated(Frame(3))
            .Mapped(0, U + 8 * Page, Frame(2), Rights.User)
            .Mapped(0, U + 10 * Page, Frame(3), Rights.User)
            .RangeFreed(0, U + 4 * Page, 6);

        AssertUnmapped(state, 0, U + 8 * Page);
        Assert.Equal([Frame(1), Frame(3)], state.ClientPages);
        Assert.Equal(Frame(3), Found(state, 0, U + 10 * Page).Mapping.Phys);
        Assert.Empty(state.Regions);
    }

    [Fact]
    public void RangeFreed_OnlyClientPagesInTheRange_FreesThemAndKeepsTheRegionsOutside()
    {
        ApiState state = WithUserRegion().RangeFreed(0, U, 1);

        AssertUnmapped(state, 0, U);
        Assert.Empty(state.ClientPages);
        Assert.Equal([UserRegion], state.Regions);
    }

    [Fact]
    public void RangeFreed_ZeroPages_ChangesNothing()
    {
        ApiState state = WithUserRegion();

        Assert.Same(state, state.RangeFreed(0, UserRegion.Start, 0));
        Assert.Same(state, state.RangeFreed(0, U, 0));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RangeFreed_InAnotherSpace_LeavesAUserRegionAlone(bool shared)
    {
        ApiState state = WithUserRegion(shared).RangeFreed(1, UserRegion.Start, UserRegion.Pages);

        Assert.Equal([UserRegion], state.Regions);
        Assert.Equal(Frame(10), Found(state, 0, U + 4 * Page).Mapping.Phys);
        AssertUnmapped(state, 1, U + 4 * Page);
    }

    [Fact]
    public void RangeFreed_SharedKernelHalf_AKernelRegionFreedThroughAnotherSpaceIsGoneEverywhere()
    {
        var region = new Region(0, KV, 3, Rights.Write);
        ApiState state = ApiState.Initial(2, sharedKernelHalf: true, directMapLargePages: true)
            .RegionAllocated(region, [Frame(1), Frame(2), Frame(3)])
            .RangeFreed(1, KV, 3);

        Assert.Empty(state.Regions);
        for (int space = 0; space < 2; space++)
            for (ulong page = 0; page < 3; page++)
                AssertUnmapped(state, space, KV + page * Page);
        Assert.Equal(512, state.SharedMappings.Count);
    }

    /// <summary>
    /// Without a shared kernel half each space has its own kernel mappings (Initial gives each its own direct
    /// map, Mapped and Unmapped act on one space only), so vmfree in space 1 cannot unmap, nor forget, the
    /// region space 0 holds at the same kernel address.
    /// </summary>
    [Fact]
    public void RangeFreed_PerSpaceKernelHalf_LeavesTheOtherSpacesKernelRegionAtTheSameAddress()
    {
        var mine = new Region(1, KV, 2, Rights.Write);
        var theirs = new Region(0, KV, 2, Rights.Write);
        ApiState state = ApiState.Initial(2, sharedKernelHalf: false, directMapLargePages: true)
            .RegionAllocated(theirs, [Frame(1), Frame(2)])
            .RegionAllocated(mine, [Frame(3), Frame(4)])
            .RangeFreed(1, KV, 2);

        AssertUnmapped(state, 1, KV);
        Assert.Equal(Frame(1), Found(state, 0, KV).Mapping.Phys);
        Assert.Equal(Frame(2), Found(state, 0, KV + Page).Mapping.Phys);
        Assert.Equal([theirs], state.Regions);
    }

    [Fact]
    public void RangeFreed_LeavesLargePagesInTheRange()
    {
        ApiState state = ApiState.Initial(1, sharedKernelHalf: true, directMapLargePages: true)
            .Mapped(0, KV, Frame(1), Rights.Write)
            .RangeFreed(0, KV - Large, 513);

        Assert.Equal(512, state.SharedMappings.Count);
        AssertUnmapped(state, 0, KV);
    }

    [Fact]
    public void RangeFreed_EndingExactlyAtTheTopOfTheAddressSpace_UnmapsAndDropsTheRegion()
    {
        var region = new Region(0, TopPage1, 1, Rights.Write);
        ApiState before = ApiState.Initial(2, sharedKernelHalf: true, directMapLargePages: true)
            .RegionAllocated(region, [Frame(1)]);
        Assert.Equal(Frame(1), Found(before, 1, TopPage1).Mapping.Phys);

        ApiState state = before.RangeFreed(0, TopPage2, 3);

        Assert.Empty(state.Regions);
        AssertUnmapped(state, 0, TopPage1);
        AssertUnmapped(state, 1, TopPage1);
        Assert.Equal(512, state.SharedMappings.Count);
    }

    [Fact]
    public void RangeFreed_EndingExactlyAtTheTopOfTheAddressSpace_FreesAClientPageOnTheLastPage()
    {
        ApiState state = Empty()
            .RegionAllocated(new Region(0, TopPage1, 1, Rights.Write), [Frame(1)])
            .PageAllocated(Frame(2))
            .PageAllocated(Frame(3))
            .Mapped(0, TopPage, Frame(2), Rights.Write)
            .Mapped(0, TopPage2 - Page, Frame(3), Rights.Write)
            .RangeFreed(0, TopPage2, 3);

        Assert.Empty(state.Regions);
        AssertUnmapped(state, 0, TopPage);
        Assert.Equal([Frame(3)], state.ClientPages);
        Assert.Equal([TopPage2 - Page], state.SharedMappings.Keys);
    }

    [Fact]
    public void RangeFreed_RegionOnTheVeryLastPage_IsDroppedWhetherFreedAloneOrWithAMargin()
    {
        var region = new Region(1, TopPage, 1, Rights.Write);
        ApiState state = Empty().RegionAllocated(region, [Frame(1)]);

        Assert.Equal(ulong.MaxValue, region.Last);
        Assert.Equal((TopPage, new Mapping(Frame(1), Page, Rights.Write, MappingKind.Region)), Found(state, 0, ulong.MaxValue));

        foreach (ApiState freed in new[] { state.RangeFreed(1, TopPage, 1), state.RangeFreed(0, TopPage1, 2), state.RangeFreed(1, TopPage2, 3) })
        {
            Assert.Empty(freed.Regions);
            AssertUnmapped(freed, 1, ulong.MaxValue);
            Assert.Empty(freed.SharedMappings);
        }
    }

    [Fact]
    public void RangeFreed_HalvesOfARegionEndingAtTheTop_AreTrimmedCorrectly()
    {
        var region = new Region(0, TopPage1, 2, Rights.Write);
        ApiState state = Empty().RegionAllocated(region, [Frame(1), Frame(2)]);

        ApiState lowerFreed = state.RangeFreed(0, TopPage1, 1);
        Assert.Equal([region with { Start = TopPage, Pages = 1 }], lowerFreed.Regions);
        Assert.Equal(ulong.MaxValue, lowerFreed.Regions[0].Last);
        AssertUnmapped(lowerFreed, 0, TopPage1);
        Assert.Equal(Frame(2), Found(lowerFreed, 0, TopPage).Mapping.Phys);

        ApiState upperFreed = state.RangeFreed(0, TopPage, 1);
        Assert.Equal([region with { Pages = 1 }], upperFreed.Regions);
        Assert.Equal(Frame(1), Found(upperFreed, 0, TopPage1).Mapping.Phys);
        AssertUnmapped(upperFreed, 0, TopPage);
    }

    [Fact]
    public void RangeFreed_EndingAtTheTop_LeavesARegionJustBelowTheRange()
    {
        var below = new Region(0, TopPage2, 1, Rights.Write);
        ApiState state = Empty()
            .RegionAllocated(below, [Frame(1)])
            .RegionAllocated(new Region(0, TopPage, 1, Rights.Write), [Frame(2)])
            .RangeFreed(0, TopPage1, 2);

        Assert.Equal([below], state.Regions);
        Assert.Equal(Frame(1), Found(state, 0, TopPage2).Mapping.Phys);
        AssertUnmapped(state, 0, TopPage);
    }

    // ---- Region.Last -------------------------------------------------------------------------

    [Theory]
    [InlineData(0x0UL, 1UL, 0xFFFUL)]
    [InlineData(0x1000UL, 1UL, 0x1FFFUL)]
    [InlineData(0x1000UL, 3UL, 0x3FFFUL)]
    [InlineData(0x0000_7FFF_FFFF_F000UL, 1UL, 0x0000_7FFF_FFFF_FFFFUL)]
    [InlineData(0xFFFF_FEFF_FFFF_E000UL, 2UL, 0xFFFF_FEFF_FFFF_FFFFUL)]
    [InlineData(0xFFFF_FFFF_FFFF_E000UL, 2UL, 0xFFFF_FFFF_FFFF_FFFFUL)]
    [InlineData(0xFFFF_FFFF_FFFF_F000UL, 1UL, 0xFFFF_FFFF_FFFF_FFFFUL)]
    [InlineData(0xFFFF_FF00_0000_0000UL, 0x1000_0000UL, 0xFFFF_FFFF_FFFF_FFFFUL)]
    public void RegionLast_IsTheInclusiveLastByte(ulong start, ulong pages, ulong last)
    {
        Assert.Equal(last, new Region(0, start, pages, Rights.None).Last);
    }

    // ---- immutability ------------------------------------------------------------------------

    [Theory]
    [InlineData("PageAllocated")]
    [InlineData("PageFreed")]
    [InlineData("BlockAllocated")]
    [InlineData("BlockFreed")]
    [InlineData("MappedUser")]
    [InlineData("MappedKernel")]
    [InlineData("UnmappedUser")]
    [InlineData("UnmappedDirectMap")]
    [InlineData("RegionAllocated")]
    [InlineData("RangeFreedWhole")]
    [InlineData("RangeFreedHalf")]
    [InlineData("RangeFreedTop")]
    public void Transitions_LeaveTheOriginalStateUnchanged(string transition)
    {
        ApiState original = WithUserRegion()
            .BlockAllocated(Kernel + 0x40, 32)
            .RegionAllocated(new Region(1, TopPage1, 2, Rights.Write), [Frame(30), Frame(31)]);
        string before = Snapshot(original);

        ApiState changed = transition switch
        {
            "PageAllocated" => original.PageAllocated(Frame(50)),
            "PageFreed" => original.PageFreed(Frame(1)),
            "BlockAllocated" => original.BlockAllocated(Kernel + 0x80, 8),
            "BlockFreed" => original.BlockFreed(Kernel + 0x40),
            "MappedUser" => original.Mapped(1, U, Frame(51), Rights.User),
            "MappedKernel" => original.Mapped(0, KV, Frame(52), Rights.Write),
            "UnmappedUser" => original.Unmapped(0, U),
            "UnmappedDirectMap" => original.Unmapped(1, Kernel),
            "RegionAllocated" => original.RegionAllocated(new Region(0, U + 20 * Page, 1, Rights.User), [Frame(53)]),
            "RangeFreedWhole" => original.RangeFreed(0, UserRegion.Start, UserRegion.Pages),
            "RangeFreedHalf" => original.RangeFreed(0, U, 6),
            "RangeFreedTop" => original.RangeFreed(1, TopPage2, 3),
            _ => throw new ArgumentOutOfRangeException(nameof(transition)),
        };

        Assert.NotEqual(before, Snapshot(changed));
        Assert.Equal(before, Snapshot(original));
    }
}
