using Mmspec.Models.State;

namespace Mmspec.Tests.Models;

/// <summary>
/// The model's view of a boot state it did not choose: kernel slots shared one by one, boot mappings of every
/// page size, and regions with holes (pages unmapped since vmalloc).
/// </summary>
public class ApiStateBootTests
{
    private const ulong Page = 0x1000;
    private const ulong Giant = 0x4000_0000;
    private const ulong Kernel = 0xFFFF_FF00_0000_0000;

    /// <summary>The first address of PML4 slot 511.</summary>
    private const ulong Slot511 = 0xFFFF_FF80_0000_0000;

    private const ulong U = 0x40_0000;

    private static Mapping DirectMap(ulong phys, ulong size) => new(phys, size, Rights.Write, MappingKind.DirectMap);

    [Fact]
    public void Boot_OneGiBDirectMapPages_CoverEveryAddressOfTheirGiB()
    {
        ApiState state = ApiState.Boot(2, [510]);
        for (ulong n = 0; n < 4; n++)
            state = state.WithBootMapping(0, Kernel + n * Giant, DirectMap(n * Giant, Giant));

        Assert.Equal((Kernel + 2 * Giant, DirectMap(2 * Giant, Giant)), state.Lookup(1, Kernel + 2 * Giant + 0x1234_5678));
        Assert.Equal(Kernel + 3 * Giant, state.Lookup(0, Kernel + 4 * Giant - 1)?.Base);
        Assert.Null(state.Lookup(0, Kernel + 4 * Giant));
        Assert.False(state.IsRangeFree(1, Kernel + Giant - Page, 1));
        Assert.Equal(Kernel + 4 * Giant, state.LowestFreeRun(0, Kernel, Slot511 - 1, 1));
    }

    [Fact]
    public void SpaceCreated_SeesTheSharedSlotsHoldsItsOwnKernelMappingsAndNoUserPage()
    {
        ApiState state = ApiState.Boot(2, [510])
            .WithBootMapping(0, Kernel, DirectMap(0, Giant))
            .WithBootMapping(0, Slot511, new Mapping(0x20_0000, Page, Rights.Write, MappingKind.Boot))
            .Mapped(0, U, 0x10_0000, Rights.User)
            .Mapped(0, Slot511 + Page, 0x10_1000, Rights.Write);

        ApiState created = state.SpaceCreated([(Slot511, new Mapping(0x20_0000, Page, Rights.Write, MappingKind.Boot))]);

        Assert.Equal(3, created.SpaceCount);
        Assert.Equal(DirectMap(0, Giant), created.Lookup(2, Kernel + 0x5000)?.Mapping);
        Assert.Equal(MappingKind.Boot, created.Lookup(2, Slot511)?.Mapping.Kind);
        Assert.Null(created.Lookup(2, U));
        Assert.Null(created.Lookup(2, Slot511 + Page)); // space0's own kernel slot is not copied
        Assert.Equal(2, created.MappingsOf(2).Count());
        Assert.Throws<ArgumentException>(() => state.SpaceCreated([(U, new Mapping(0x10_0000, Page, Rights.User, MappingKind.Client))]));
        Assert.Throws<ArgumentException>(() => state.SpaceCreated([(Kernel, DirectMap(0, Giant))])); // a shared slot is not a space's own
    }

    [Fact]
    public void Boot_SharesOnlyTheSlotsGiven()
    {
        ApiState state = ApiState.Boot(2, [510])
            .Mapped(0, Kernel + Giant, 0x10_0000, Rights.Write)
            .Mapped(0, Slot511, 0x10_1000, Rights.Write);

        Assert.False(state.SharedKernelHalf);
        Assert.True(state.IsShared(Kernel));
        Assert.False(state.IsShared(Slot511));
        Assert.False(state.IsShared(U));
        Assert.Equal(0x10_0000UL, state.Lookup(1, Kernel + Giant)?.Mapping.Phys);
        Assert.Null(state.Lookup(1, Slot511));
        Assert.Equal(0x10_1000UL, state.Lookup(0, Slot511)?.Mapping.Phys);
        Assert.Equal([Kernel + Giant], state.SharedMappings.Keys);
        Assert.Equal([Slot511], state.SpaceMappings[0].Keys);
    }

    [Fact]
    public void MappingsOf_InterleavesASpacesOwnSlotsWithTheSharedOnesInAddressOrder()
    {
        ApiState state = ApiState.Boot(2, [511])
            .Mapped(0, Slot511 + Page, 0x10_0000, Rights.Write)
            .Mapped(0, Kernel + Page, 0x10_1000, Rights.Write)
            .Mapped(0, U, 0x10_2000, Rights.User)
            .Mapped(1, Kernel, 0x10_3000, Rights.Write);

        Assert.Equal([U, Kernel + Page, Slot511 + Page], state.MappingsOf(0).Select(m => m.Base));
        Assert.Equal([Kernel, Slot511 + Page], state.MappingsOf(1).Select(m => m.Base));
    }

    [Fact]
    public void Boot_RejectsUserSlotsAndUserAddresses()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ApiState.Boot(2, [255]));
        Assert.Throws<ArgumentException>(() => ApiState.Boot(2, []).WithBootMapping(0, U, DirectMap(0, Page)));
        Assert.Throws<ArgumentException>(() => ApiState.Boot(2, []).WithBootMapping(0, Kernel, new Mapping(0, Page, Rights.Write, MappingKind.Client)));
    }

    [Fact]
    public void Boot_MappingOtherThanTheDirectMapIsKeptAsBootKind()
    {
        ApiState state = ApiState.Boot(1, [510, 511]).WithBootMapping(0, Slot511, new Mapping(0x20_0000, 0x20_0000, Rights.Exec, MappingKind.Boot));

        Assert.True(state.SharedKernelHalf);
        Assert.Equal(MappingKind.Boot, state.Lookup(0, Slot511 + 0x1F_FFFF)?.Mapping.Kind);
    }

    [Fact]
    public void IsWholeRegion_FalseOncePageOfTheRegionIsUnmappedOrMappedByTheClient()
    {
        var region = new Region(0, U, 3, Rights.Write);
        ApiState state = ApiState.Boot(1, []).RegionAllocated(region, [0x10_0000, 0x10_1000, 0x10_2000]);

        Assert.True(state.IsWholeRegion(0, U, 3));
        ApiState holed = state.Unmapped(0, U + Page);
        Assert.False(holed.IsWholeRegion(0, U, 3));
        Assert.True(holed.IsWholeRegion(0, U + 2 * Page, 1));
        Assert.False(holed.Mapped(0, U + Page, 0x10_5000, Rights.Write).IsWholeRegion(0, U, 3));
    }

    [Fact]
    public void RegionSplitAtHoles_LeavesOneRegionPerRunStillMapped()
    {
        var region = new Region(0, U, 5, Rights.Write);
        var other = new Region(0, U + 0x10_0000, 1, Rights.Write);
        ApiState state = ApiState.Boot(1, [])
            .RegionAllocated(region, [0x10_0000, 0x10_1000, 0x10_2000, 0x10_3000, 0x10_4000])
            .RegionAllocated(other, [0x10_5000])
            .Unmapped(0, U + Page)
            .Unmapped(0, U + 2 * Page);

        ApiState split = state.RegionSplitAtHoles(region);

        Assert.Equal(
            [new Region(0, U, 1, Rights.Write), new Region(0, U + 3 * Page, 2, Rights.Write), other],
            split.Regions);
    }

    [Fact]
    public void RegionSplitAtHoles_ForgetsARegionWithNoPageLeft()
    {
        var region = new Region(0, U, 2, Rights.Write);
        ApiState state = ApiState.Boot(1, []).RegionAllocated(region, [0x10_0000, 0x10_1000]).Unmapped(0, U).Unmapped(0, U + Page);

        Assert.Empty(state.RegionSplitAtHoles(region).Regions);
    }

    /// <summary>
    /// The mappings overlapping a range, found page by page for a short range and by merging the maps for a long one,
    /// are exactly those of the whole list that overlap it, in address order: boot pages of every size, shared and own
    /// kernel slots, user pages, and ranges that start or end inside a large page or at the top of the address space.
    /// </summary>
    [Fact]
    public void MappingsOverlapping_IsTheWholeListFilteredToTheRange()
    {
        const ulong large = 0x20_0000;
        ApiState state = ApiState.Boot(2, [510])
            .WithBootMapping(0, Kernel, DirectMap(0, Giant))
            .WithBootMapping(0, Kernel + Giant, DirectMap(Giant, large))
            .WithBootMapping(0, Kernel + Giant + large, DirectMap(Giant + large, Page))
            .WithBootMapping(0, Slot511, new Mapping(0x20_0000, Page, Rights.Write, MappingKind.Boot))
            .WithBootMapping(0, ulong.MaxValue - Page + 1, new Mapping(0x30_0000, Page, Rights.Write, MappingKind.Boot))
            .Mapped(1, U, 0x10_0000, Rights.User)
            .Mapped(1, U + 3 * Page, 0x10_1000, Rights.User)
            .Mapped(1, Slot511 + 5 * Page, 0x10_2000, Rights.Write);
        ulong[] anchors = [0, U - 2 * Page, U, U + 2 * Page, Kernel - Page, Kernel + Giant - 3 * Page, Kernel + Giant + large - Page,
                           Slot511, Slot511 + 4 * Page, ulong.MaxValue - 3 * Page + 1];
        var random = new Random(18);
        int probed = 0;
        for (int trial = 0; trial < 2000; trial++)
        {
            int space = random.Next(2);
            ulong start = anchors[random.Next(anchors.Length)] + (ulong)random.Next(-2, 3) * Page;
            ulong pages = random.Next(3) == 0 ? (ulong)random.Next(65, 2000) : (ulong)random.Next(1, 70);
            bool wraps = ulong.MaxValue - start < pages * Page - 1;
            ulong last = wraps ? ulong.MaxValue : start + (pages * Page - 1);
            probed += pages <= 64 ? 1 : 0;
            var expected = state.MappingsOf(space).Where(m => m.Base <= last && start <= m.Base + (m.Mapping.Size - 1)).ToList();
            Assert.Equal(expected, state.MappingsOverlapping(space, start, last).ToList());
            if (!wraps)
                Assert.Equal(expected.Count == 0, state.IsRangeFree(space, start, pages));
        }
        Assert.InRange(probed, 500, 1900); // both ways of finding them were tried
    }
}
