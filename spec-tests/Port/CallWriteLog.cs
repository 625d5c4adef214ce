namespace Mmspec.SpecTests.Port;

/// <summary>
/// What each call of a batch wrote, in call order (<see cref="IWriteTracking.TakeBatchWrites"/>), kept only for the
/// calls that wrote something: most of a drain's thousands of allocations write nothing, and a list of them all cost
/// more than the calls.
/// </summary>
public sealed class CallWriteLog : IReadOnlyList<IReadOnlyList<ulong>>
{
    private static readonly Comparer<(int Call, IReadOnlyList<ulong> Frames)> ByCall = Comparer<(int Call, IReadOnlyList<ulong> Frames)>.Create((a, b) => a.Call.CompareTo(b.Call));
    private readonly List<(int Call, IReadOnlyList<ulong> Frames)> writers = [];

    public int Count { get; private set; }

    public void Add(IReadOnlyList<ulong> frames)
    {
        if (frames.Count > 0)
            writers.Add((Count, frames));
        Count++;
    }

    public IReadOnlyList<ulong> this[int call]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(call);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(call, Count);
            int found = writers.BinarySearch((call, []), ByCall);
            return found >= 0 ? writers[found].Frames : [];
        }
    }

    public IEnumerator<IReadOnlyList<ulong>> GetEnumerator()
    {
        int next = 0;
        foreach ((int call, IReadOnlyList<ulong> frames) in writers)
        {
            for (; next < call; next++)
                yield return [];
            yield return frames;
            next++;
        }
        for (; next < Count; next++)
            yield return [];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
