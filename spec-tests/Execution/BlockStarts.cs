namespace Mmspec.SpecTests.Execution;

/// <summary>
/// The start addresses of the live heap blocks, in order, asked for the last one at or below an address: the block a
/// new one could overlap. A sorted list searched by halves: blocks mostly come in address order (a burst fills a slab),
/// so an add is an append, and a query allocates nothing (a sorted set's view between two bounds was an object per query).
/// </summary>
public sealed class BlockStarts
{
    private readonly List<ulong> starts = [];

    public int Count => starts.Count;

    public void Add(ulong start)
    {
        int at = starts.BinarySearch(start);
        if (at < 0)
            starts.Insert(~at, start);
    }

    public void Remove(ulong start)
    {
        int at = starts.BinarySearch(start);
        if (at >= 0)
            starts.RemoveAt(at);
    }

    public void Clear() => starts.Clear();

    /// <summary>The highest start at or below <paramref name="address"/>, or null when there is none.</summary>
    public ulong? AtOrBelow(ulong address)
    {
        int at = starts.BinarySearch(address);
        int below = at >= 0 ? at : ~at - 1;
        return below >= 0 ? starts[below] : null;
    }
}
