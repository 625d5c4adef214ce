using Mmspec.Models.State;
using Mmspec.SpecTests.Execution;
using static Mmspec.SpecTests.Execution.SequenceContext;

namespace Mmspec.SpecTests.Sequences;

/// <summary>kmalloc(size): checked for alignment, placement in the direct map and overlap with everything live.</summary>
public sealed record Kmalloc(ulong Size) : Operation
{
    public const ulong Alignment = 16;

    public override string Clause => "HEAP-01";

    public override IReadOnlyList<string> Clauses => ["HEAP-01", "HEAP-02", "HEAP-03", "HEAP-06", "HEAP-08", "HEAP-10", "HEAP-D01", "HEAP-D02", "HEAP-D03"];

    public override bool Apply(SequenceContext ctx)
    {
        if (Size > Misuse.LargestPossibleBlock)
        {
            // No block this large fits in the address space: NULL, as malloc(3) gives (HEAP-10), however the size is rounded.
            ulong none = ctx.Call("HEAP-10", ApiCall.Kmalloc(Size)).Value;
            ctx.CheckResult(none == 0, "r == 0", "HEAP-10", $"kmalloc({Size}) returned 0x{none:X}, but no block of {Size} bytes fits in the address space");
            return true;
        }
        ulong pointer = ctx.Call(Clause, ApiCall.Kmalloc(Size)).Value;
        if (Judge(ctx, pointer))
            ctx.Patterns.MarkBlock(pointer, Size);
        return true;
    }

    /// <summary>
    /// Judges what this kmalloc returned and takes the block into the model, or into <paramref name="burst"/> (the
    /// blocks of a burst so far, which the burst takes into the model at once); true when the block is to be marked (a
    /// block in the direct map), which the caller does once it has made its calls.
    /// </summary>
    internal bool Judge(SequenceContext ctx, ulong pointer, BurstBlocks? burst = null)
    {
        if (pointer == 0)
        {
            burst?.TakeInto(ctx); // what exhaustion is plausible counts every live block
            ctx.CheckResult(Size > 0 || !ctx.Strict || ctx.ExhaustionPlausible(1), "r != 0", "HEAP-D02", "kmalloc(0) returned NULL with memory to spare");
            if (Size > 0 && !ctx.ExhaustionPlausible(Size / AddressSpaceLayout.PageSize + 1))
                CheckNoRoom(ctx);
            return false;
        }
        ctx.CheckResult(pointer % Alignment == 0, $"r % {Alignment} == 0", "HEAP-02", $"kmalloc({Size}) returned 0x{pointer:X}, not {Alignment}-byte aligned");
        bool inDirectMap = OwnershipMap.HeapBlockInRam(pointer, Size, ctx.Implementation.RamSize);
        ulong length = Math.Max(Size, 1);
        if (ctx.Strict)
            ctx.CheckResult(inDirectMap, $"r >= 0x{AddressSpaceLayout.KernelBase:X} && r - 0x{AddressSpaceLayout.KernelBase:X} + {length} <= 0x{ctx.Implementation.RamSize:X}",
                "HEAP-D01", $"kmalloc({Size}) returned 0x{pointer:X}, not a direct-map pointer into RAM");
        bool live = ctx.Model.HeapBlocks.ContainsKey(pointer) || burst?.Holds(pointer) == true;
        ctx.CheckResult(!live, $"r != 0x{pointer:X}", Size == 0 ? "HEAP-08" : "HEAP-03", $"kmalloc returned 0x{pointer:X}, which is already live");
        // Live blocks never overlap one another, so only the last one starting below this block's end can overlap it.
        if (ctx.LiveBlockStarts.AtOrBelow(pointer + (length - 1)) is { } other && LiveSize(ctx, burst, other) is { } size)
            ctx.CheckResult(other + Math.Max(size, 1) <= pointer, $"r + {length} <= 0x{other:X} || r >= 0x{other + Math.Max(size, 1):X}", "HEAP-03",
                $"block 0x{pointer:X} ({Size} bytes) overlaps live block 0x{other:X} ({size} bytes)");
        foreach (ulong page in inDirectMap ? OwnershipMap.PagesOf(pointer, Size) : PageRange.None)
        {
            bool owned = ctx.Owned.TryGetOwner(page, out Owner owner);
            ulong pageStart = AddressSpaceLayout.KernelBase + page;
            ctx.CheckResult(!owned || owner.Kind == OwnerKind.Heap,
                $"r + {length} <= 0x{pageStart:X} || r >= 0x{pageStart + AddressSpaceLayout.PageSize:X}", "HEAP-03",
                $"block 0x{pointer:X} ({Size} bytes) lies on page 0x{page:X}, which is {owner}");
        }
        if (burst is null)
            ctx.Model = ctx.Model.BlockAllocated(pointer, Size);
        else
            burst.Add(pointer, Size);
        ctx.LiveBlockStarts.Add(pointer);
        ctx.Live.Allocated(LiveKind.Block, pointer);
        ctx.FreedPointers.Remove(pointer);
        return inDirectMap; // a block elsewhere (the spec allows it) is checked for overlap, not for its contents
    }

    public override IEnumerable<Operation> Simpler() => Size > 1 ? [new Kmalloc(Size / 2)] : [];

    private static ulong? LiveSize(SequenceContext ctx, BurstBlocks? burst, ulong block) =>
        ctx.Model.HeapBlocks.TryGetValue(block, out ulong size) ? size : burst?.SizeOf(block);

    /// <summary>
    /// NULL with memory to spare is wrong only where the suite can show room for the block: a heap in the
    /// direct map needs contiguous pages, and may round a block up (to a power of two) and add a header, so the
    /// evidence is a free run of twice the block's pages and two more (HEAP-06).
    /// </summary>
    private void CheckNoRoom(SequenceContext ctx)
    {
        ulong pages = 2 * ((Size + AddressSpaceLayout.PageSize - 1) / AddressSpaceLayout.PageSize) + 2;
        if (ctx.FreeRunAfterFailure("HEAP-06", pages) is ({ } run, int free))
            ctx.CheckResult(false, "r != 0", "HEAP-06",
                $"kmalloc({Size}) returned NULL, but right after it {free} pages were free, among them the {pages} consecutive pages 0x{run:X}..0x{run + pages * AddressSpaceLayout.PageSize - 1:X}");
    }
}

/// <summary>
/// <see cref="Count"/> kmallocs of one size in a row, as a cache of objects filling up: one slab size class gets
/// tens of live blocks (its page full, then the next), which single kmallocs of sizes over wide bands rarely reach.
/// Stops at the first NULL (judged as a single kmalloc's). The calls are made in one batch
/// (<see cref="Port.IMmImplementation.KmallocUntilNull"/>: a native heap would pay a round trip for each) and judged
/// one by one; the blocks are marked after the last, as a client marks what it got.
/// </summary>
public sealed record KmallocBurst(ulong Size, int Count) : Operation
{
    public override string Clause => "HEAP-03";

    public override IReadOnlyList<string> Clauses => new Kmalloc(Size).Clauses;

    public override bool Apply(SequenceContext ctx)
    {
        var kmalloc = new Kmalloc(Size);
        if (Size > Misuse.LargestPossibleBlock)
            return kmalloc.Apply(ctx); // NULL, as a single kmalloc of that size must give (HEAP-10): the burst ends there
        var marked = new List<ulong>(Count);
        var burst = new BurstBlocks();
        try
        {
            ctx.KmallocEach(kmalloc.Clause, Size, Count, block =>
            {
                if (kmalloc.Judge(ctx, block, burst))
                    marked.Add(block);
            });
        }
        finally
        {
            burst.TakeInto(ctx); // a failure's picture of the state shows the blocks judged before it
        }
        foreach (ulong block in marked)
            ctx.Patterns.MarkBlock(block, Size);
        return true;
    }

    public override IEnumerable<Operation> Simpler() =>
        Count > 1 ? [this with { Count = Count / 2 }, this with { Count = Count - 1 }] : [new Kmalloc(Size)];
}

/// <summary>
/// The blocks a burst handed out and judged so far, taken into the model in one transition (<see
/// cref="ApiState.BlocksAllocated"/>): a transition per block rebuilt the model's tree of live blocks, and its
/// history, hundreds of times per burst.
/// </summary>
internal sealed class BurstBlocks
{
    private readonly Dictionary<ulong, ulong> sizes = [];
    private readonly List<(ulong Pointer, ulong Size)> inOrder = [];

    public bool Holds(ulong pointer) => sizes.ContainsKey(pointer);

    public ulong? SizeOf(ulong pointer) => sizes.TryGetValue(pointer, out ulong size) ? size : null;

    public void Add(ulong pointer, ulong size)
    {
        sizes.Add(pointer, size);
        inOrder.Add((pointer, size));
    }

    /// <summary>The blocks so far into the model, in the order they came; the burst holds none after it.</summary>
    public void TakeInto(SequenceContext ctx)
    {
        if (inOrder.Count == 0)
            return;
        ctx.Model = ctx.Model.BlocksAllocated(inOrder);
        sizes.Clear();
        inOrder.Clear();
    }
}

/// <summary>
/// kfree of a live block, of NULL, or misuse: a block freed already, a pointer into a live block, a foreign pointer
/// (a page the client holds, through the direct map). Strict: misuse must panic (HEAP-D04). Default: a panic, or
/// nothing changed (HEAP-09).
/// </summary>
public sealed record Kfree(LivePick Which, KfreeKind Kind = KfreeKind.Live) : Operation
{
    public override string Clause => Kind switch
    {
        KfreeKind.Null => "HEAP-05",
        KfreeKind.Live => "HEAP-07",
        _ => "HEAP-09",
    };

    public override IReadOnlyList<string> Clauses => ["HEAP-05", "HEAP-07", "HEAP-09", "HEAP-D04", "HEAP-D06"];

    public override bool Apply(SequenceContext ctx)
    {
        switch (Kind)
        {
            case KfreeKind.Null:
                ctx.Call(Clause, ApiCall.Kfree(0));
                return true;
            case KfreeKind.Live when !ctx.Model.HeapBlocks.IsEmpty:
                List<ulong> blocks = [.. ctx.Model.HeapBlocks.Keys];
                ulong pointer = blocks[ctx.Live.Choose(Which, LiveKind.Block, blocks)];
                ctx.Call(Clause, ApiCall.Kfree(pointer));
                ctx.Model = ctx.Model.BlockFreed(pointer);
                ctx.LiveBlockStarts.Remove(pointer);
                ctx.Live.Freed(LiveKind.Block, pointer);
                ctx.Patterns.ForgetBlock(pointer);
                ctx.FreedPointers.Add(pointer);
                return true;
            case KfreeKind.Double when ctx.FreedPointers.Count > 0:
                List<ulong> freedBlocks = [.. ctx.FreedPointers.Order()];
                return Misused(ctx, freedBlocks[ctx.Live.Choose(Which, LiveKind.Block, freedBlocks)]);
            case KfreeKind.Interior when ctx.Model.HeapBlocks.Any(block => block.Value > Kmalloc.Alignment):
                return Misused(ctx, ctx.Model.HeapBlocks.First(block => block.Value > Kmalloc.Alignment).Key + Kmalloc.Alignment);
            case KfreeKind.Foreign when !ctx.Model.ClientPages.IsEmpty:
                ulong page = ctx.Model.ClientPages[ctx.Live.Choose(Which, LiveKind.Page, ctx.Model.ClientPages)];
                return Misused(ctx, AddressSpaceLayout.KernelBase + page);
            default:
                return false;
        }
    }

    /// <summary>kfree of a pointer that is no live block: strict, a panic; default, a panic or nothing changed (the model stays as it was).</summary>
    private static bool Misused(SequenceContext ctx, ulong pointer)
    {
        var call = ApiCall.Kfree(pointer);
        if (ctx.Strict)
            ctx.CallExpectingPanic("HEAP-D04", call);
        else if (ctx.CallMayPanic("HEAP-09", call) is not null)
            Misuse.CheckNothingFreed(ctx, "HEAP-09", call);
        return true;
    }

    public override IEnumerable<Operation> Simpler() => !Which.IsSimplest ? [this with { Which = 0 }] : [];
}

public enum KfreeKind
{
    Live,
    Null,
    Double,
    Interior,
    Foreign,
}
