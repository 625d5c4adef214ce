using Mmspec.Models.Mmu;
using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// One space's mappings as the model has them beside the leaves its page tables hold, each side coalesced into
/// ranges, a page marked as differing when the other side does not map it with the same size, frame and rights.
/// Compared page by page rather than range by range: the direct map alone is hundreds of pages, and a range
/// that is right but for one page should show that one page, not the whole range, as the difference.
/// </summary>
public static class MappingComparison
{
    public static SpacePicture Compare(int space, IReadOnlyList<(ulong Base, Mapping Mapping)> model, IReadOnlyList<MappedLeaf> leaves, string? walkProblem)
    {
        var inModel = model.Select(entry => (entry.Base, entry.Mapping.Size, entry.Mapping.Phys, entry.Mapping.Rights)).ToHashSet();
        var inTables = leaves.Select(leaf => (leaf.VirtualBase, leaf.Bytes, leaf.PhysicalBase, BootState.RightsOf(leaf.Permissions))).ToHashSet();
        IEnumerable<MappingRange> modelPages = model.Select(entry =>
            new MappingRange(entry.Base, entry.Mapping.Size, entry.Mapping.Phys, entry.Mapping.Rights, KindName(entry.Mapping.Kind),
                !inTables.Contains((entry.Base, entry.Mapping.Size, entry.Mapping.Phys, entry.Mapping.Rights))));
        IEnumerable<MappingRange> tablePages = leaves.Select(leaf =>
        {
            Rights rights = BootState.RightsOf(leaf.Permissions);
            return new MappingRange(leaf.VirtualBase, leaf.Bytes, leaf.PhysicalBase, rights, SizeName(leaf.Size),
                !inModel.Contains((leaf.VirtualBase, leaf.Bytes, leaf.PhysicalBase, rights)));
        });
        return new SpacePicture(space, Coalesce(modelPages), Coalesce(tablePages), walkProblem);
    }

    /// <summary>Pages in address order, merged while they continue one another alike (virtual and physical, rights, kind, differing or not).</summary>
    public static IReadOnlyList<MappingRange> Coalesce(IEnumerable<MappingRange> pages)
    {
        var ranges = new List<MappingRange>();
        foreach (MappingRange next in pages)
        {
            if (ranges.Count > 0 && Continues(ranges[^1], next))
                ranges[^1] = ranges[^1] with { Bytes = ranges[^1].Bytes + next.Bytes };
            else
                ranges.Add(next);
        }
        return ranges;
    }

    private static bool Continues(MappingRange range, MappingRange next) =>
        range.LastVirt != ulong.MaxValue && range.LastVirt + 1 == next.Virt && range.Phys + range.Bytes == next.Phys
        && range.Rights == next.Rights && range.What == next.What && range.Differs == next.Differs;

    public static string KindName(MappingKind kind) => kind switch
    {
        MappingKind.Client => "client",
        MappingKind.Region => "region",
        MappingKind.DirectMap => "direct map",
        _ => "boot",
    };

    private static string SizeName(PageSize size) => size switch
    {
        PageSize.Size1GiB => "1 GiB pages",
        PageSize.Size2MiB => "2 MiB pages",
        _ => "4 KiB pages",
    };
}
