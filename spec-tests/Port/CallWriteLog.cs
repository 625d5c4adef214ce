namespace Mmspec.SpecTests.Port;

/// <summary>
/// What each call of a batch wrote, in call order (<see cref="IWriteTracking.TakeBatchWrites"/>), kept only for the
/// calls that wrote something: most of a drain's thousands of allocations write nothing, and a list of them all cost
/// more than the calls.
/// </summary>
public sealed class CallWriteLog : IReadOnlyList<IReadOnlyList<ulong>>
{
    private readonly List<(int Call, IReadOnlyList<ulong> Frames)> writers = [];
    private int cursor; // the first writer at or after the call last asked about: a trace asks call by call, in order

    public int Count { get; private set; }

    public void Add(IReadOnlyList<ulong> frames)
    {
        if (frames.Count > 0)
            writers.Add((Count, frames));
        Count++;
    }

    /// <summary>What the calls that wrote something wrote, in call order: a drain learned as a whole skips its thousands of calls that wrote nothing.</summary>
    public IEnumerable<IReadOnlyList<ulong>> Writes => writers.Select(writer => writer.Frames);

    /// <summary>The first call at or after <paramref name="call"/> that wrote something, or <see cref="int.MaxValue"/> when none did.</summary>
    public int NextWriter(int call)
    {
        int low = 0, high = writers.Count; // the first writer whose call is at or after the one asked for
        while (low < high)
        {
            int middle = (low + high) / 2;
            if (writers[middle].Call < call)
                low = middle + 1;
            else
                high = middle;
        }
        return low < writers.Count ? writers[low].Call : int.MaxValue;
    }

    public IReadOnlyList<ulong> this[int call]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(call);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(call, Count);
            if (cursor > 0 && writers[cursor - 1].Call >= call)
                cursor = 0; // an earlier call than the last asked about: from the start again
            while (cursor < writers.Count && writers[cursor].Call < call)
                cursor++;
            return cursor < writers.Count && writers[cursor].Call == call ? writers[cursor].Frames : [];
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
