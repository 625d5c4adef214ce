using Mmspec.SpecTests.Sequences;

namespace Mmspec.SpecTests.Execution;

/// <summary>The kinds of live item a step can pick (see <see cref="LivePick"/>).</summary>
public enum LiveKind
{
    Page,
    Block,
    Region,
}

/// <summary>
/// What <see cref="LivePick"/> needs beyond the model: the order in which items were allocated and the one freed
/// last, per kind. The model knows only what is live, by address.
/// </summary>
public sealed class LiveItems
{
    private readonly Dictionary<LiveKind, List<ulong>> allocated = [];
    private readonly Dictionary<LiveKind, ulong> lastFreed = [];

    public void Allocated(LiveKind kind, ulong key)
    {
        if (!allocated.TryGetValue(kind, out List<ulong>? order))
            allocated[kind] = order = [];
        order.Add(key);
    }

    public void Freed(LiveKind kind, ulong key)
    {
        lastFreed[kind] = key;
        if (allocated.TryGetValue(kind, out List<ulong>? order) && order.LastIndexOf(key) is int at and >= 0)
            order.RemoveAt(at); // so that the newest live item is found near the end, not behind every item freed since
    }

    /// <summary>The index in <paramref name="live"/> (the model's order, never empty) of the item <paramref name="pick"/> names.</summary>
    public int Choose(LivePick pick, LiveKind kind, IList<ulong> live)
    {
        int count = live.Count;
        return pick.Rule switch
        {
            PickRule.Uniform => (int)((ulong)(uint)pick.N % LivePick.UniformScale * (ulong)count / LivePick.UniformScale),
            PickRule.Newest => Newest(kind, live, pick.N % 4) ?? Ordinal(pick.N, count),
            PickRule.NearLastFreed => NearLastFreed(kind, live, above: pick.N % 2 == 0) ?? Ordinal(pick.N, count),
            _ => Ordinal(pick.N, count),
        };
    }

    private static int Ordinal(int n, int count) => (int)((uint)n % (uint)count);

    private int? Newest(LiveKind kind, IList<ulong> live, int skip)
    {
        if (!allocated.TryGetValue(kind, out List<ulong>? order))
            return null;
        var seen = new HashSet<ulong>();
        for (int i = order.Count - 1; i >= 0; i--)
        {
            int index = live.IndexOf(order[i]);
            if (index < 0)
            {
                order.RemoveAt(i); // gone without a Freed (a vmfree took the page, the teardown freed it): never live again under this entry
                continue;
            }
            if (!seen.Add(order[i]))
                continue;
            if (skip-- == 0)
                return index;
        }
        return null;
    }

    private int? NearLastFreed(LiveKind kind, IList<ulong> live, bool above)
    {
        if (!lastFreed.TryGetValue(kind, out ulong freed))
            return null;
        // In one pass over the items, not by index: a page set finds its n-th page by counting bits.
        int best = -1, index = 0;
        ulong bestDistance = 0;
        foreach (ulong item in live)
        {
            bool side = above ? item > freed : item < freed;
            if (side && (best < 0 || Distance(item, freed) < bestDistance))
                (best, bestDistance) = (index, Distance(item, freed));
            index++;
        }
        return best >= 0 ? best : null;
    }

    private static ulong Distance(ulong a, ulong b) => a > b ? a - b : b - a;
}
