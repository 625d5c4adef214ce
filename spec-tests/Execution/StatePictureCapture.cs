using Mmspec.Models.Mmu;
using Mmspec.Models.State;
using static Mmspec.Models.State.AddressSpaceLayout;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// Takes a <see cref="StatePicture"/> of a running sequence. The suite sees no allocator bitmap, so both views of a
/// frame are built from what it can see: the model's client pages, regions and heap blocks, the frames the baseline
/// count was handed (any other frame the implementation kept for itself), and, walked from every root, the page
/// tables and their leaves. The model accepts a page table wherever the implementation put one, unless the model
/// gives that frame to someone else; the implementation's side adds what its page tables show over the values it
/// returned: a table, or a frame mapped by a leaf the model does not have.
/// </summary>
public static class StatePictureCapture
{
    /// <summary>Enough for a direct map of 1 GiB in 4 KiB pages; garbage tables could otherwise yield billions of leaves.</summary>
    public const int MaxLeavesPerSpace = 1 << 19;

    private const ulong Frame = AddressSpaceLayout.PageSize;

    public static StatePicture Take(SequenceContext ctx, string when, int step, bool beforeFault)
    {
        ulong ramSize = ctx.Implementation.RamSize;
        var ram = new RamView(ctx.Implementation.Ram, ramSize);
        ApiState model = ctx.Model;
        var tables = new HashSet<ulong>();
        var spaces = new List<SpacePicture>();
        var leavesBySpace = new List<(IReadOnlyList<(ulong Base, Mapping Mapping)> Model, List<MappedLeaf> Leaves)>();
        for (int space = 0; space < ctx.Roots.Count; space++)
        {
            // A space the implementation just created may not be in the model yet (the step failed before adding it).
            IReadOnlyList<(ulong Base, Mapping Mapping)> expected = space < model.SpaceCount ? model.MappingsOf(space).ToList() : [];
            (List<MappedLeaf> leaves, string? problem) = Walk(ram, ctx.Roots[space], tables);
            spaces.Add(MappingComparison.Compare(space, expected, leaves, problem));
            leavesBySpace.Add((expected, leaves));
        }

        int frames = (int)(ramSize / Frame);
        FrameUse[] baseline = Baseline(ctx, frames);
        FrameUse[] modelFrames = [.. baseline], implementationFrames = [.. baseline];
        foreach (ulong table in tables)
            Mark(modelFrames, table, Frame, FrameUse.Table);
        MarkHeldByModel(modelFrames, model, ramSize, regions: true);
        MarkHeldByModel(implementationFrames, model, ramSize, regions: false);
        foreach ((IReadOnlyList<(ulong Base, Mapping Mapping)> expected, List<MappedLeaf> leaves) in leavesBySpace)
            MarkMappedFrames(implementationFrames, expected, leaves);
        foreach (ulong table in tables)
            Mark(implementationFrames, table, Frame, FrameUse.Table);

        var damaged = ctx.Patterns.DamagedFrames().Where(frame => frame < ramSize).Select(frame => (int)(frame / Frame)).ToHashSet();
        return new StatePicture(when, step, beforeFault, ramSize, modelFrames, implementationFrames, damaged, spaces);
    }

    /// <summary>Free if the baseline count was handed the frame, reserved if the implementation kept it (all free before that count).</summary>
    private static FrameUse[] Baseline(SequenceContext ctx, int frames)
    {
        bool counted = ctx.FreeAtBaseline.Count > 0;
        var uses = new FrameUse[frames];
        for (int frame = 0; frame < frames; frame++)
            uses[frame] = counted && !ctx.FreeAtBaseline.Contains((ulong)frame * Frame) ? FrameUse.Reserved : FrameUse.Free;
        return uses;
    }

    /// <summary>
    /// The values the implementation returned, as the model keeps them: heap blocks and client pages; with
    /// <paramref name="regions"/>, the frames of vmalloc'd pages too (the implementation's side takes those from its leaves).
    /// </summary>
    private static void MarkHeldByModel(FrameUse[] uses, ApiState model, ulong ramSize, bool regions)
    {
        foreach ((ulong pointer, ulong size) in model.HeapBlocks)
            if (OwnershipMap.HeapBlockInRam(pointer, size, ramSize))
                Mark(uses, pointer - KernelBase, Math.Max(size, 1), FrameUse.Heap);
        if (regions)
            foreach ((int _, ulong _, Mapping mapping) in model.DistinctMappings())
                if (mapping.Kind == MappingKind.Region)
                    Mark(uses, mapping.Phys, Frame, FrameUse.Region);
        foreach (ulong page in model.ClientPages)
            Mark(uses, page, Frame, FrameUse.Client);
    }

    /// <summary>
    /// Frames the page tables map: a region's as the model knows the page, any other page the model does not map there
    /// as stray. The direct map (and anything mapping RAM to its own direct-map address) says nothing about owners.
    /// </summary>
    private static void MarkMappedFrames(FrameUse[] uses, IReadOnlyList<(ulong Base, Mapping Mapping)> model, List<MappedLeaf> leaves)
    {
        var kinds = new Dictionary<(ulong, ulong, ulong), MappingKind>(model.Count);
        foreach ((ulong virt, Mapping mapping) in model)
            kinds[(virt, mapping.Size, mapping.Phys)] = mapping.Kind;
        foreach (MappedLeaf leaf in leaves)
        {
            if (IsKernel(leaf.VirtualBase) && leaf.VirtualBase - KernelBase == leaf.PhysicalBase)
                continue;
            if (!kinds.TryGetValue((leaf.VirtualBase, leaf.Bytes, leaf.PhysicalBase), out MappingKind kind))
                Mark(uses, leaf.PhysicalBase, leaf.Bytes, FrameUse.Stray);
            else if (kind == MappingKind.Region)
                Mark(uses, leaf.PhysicalBase, leaf.Bytes, FrameUse.Region);
        }
    }

    /// <summary>Every frame of [phys, phys + bytes) that lies in RAM.</summary>
    private static void Mark(FrameUse[] uses, ulong phys, ulong bytes, FrameUse use)
    {
        ulong end = phys + (bytes - 1);
        ulong last = end < phys ? ulong.MaxValue / Frame : end / Frame; // a garbage leaf may end past 2^64
        for (ulong frame = phys / Frame; frame <= last && frame < (ulong)uses.Length; frame++)
            uses[frame] = use;
    }

    /// <summary>Every leaf reachable from the root, and the tables on the way, up to a malformed entry or a walk out of RAM.</summary>
    private static (List<MappedLeaf> Leaves, string? Problem) Walk(RamView ram, ulong root, HashSet<ulong> tables)
    {
        var leaves = new List<MappedLeaf>();
        try
        {
            foreach (MappedLeaf leaf in Mmu.EnumerateLeaves(ram, root, tables: table => tables.Add(table.PhysicalAddress)))
            {
                if (leaves.Count == MaxLeavesPerSpace)
                    return (leaves, $"the walk stopped after {MaxLeavesPerSpace} leaves");
                leaves.Add(leaf);
            }
            return (leaves, null);
        }
        catch (Exception unwalkable) when (unwalkable is MalformedPageTableException or WalkOutsideRamException)
        {
            return (leaves, $"the walk stopped: {unwalkable.Message}");
        }
    }
}
