using System.Diagnostics;
using Mmspec.SpecTests.Port;
using Mmspec.Zoo;

namespace Mmspec.Bench.Suite;

/// <summary>
/// Passes machines through and notes when each sequence started on one: created, or restored from a set-up snapshot
/// (<see cref="IMmImplementation.Snapshot"/>). A stateful property runs every sequence, shrink candidates and the final
/// replay included, on a machine of its own, so the start that follows the failing test marks the moment the bug was
/// detected and shrinking began.
/// </summary>
public sealed class TimedFactory(IImplementationFactory inner) : IImplementationFactory
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly List<TimeSpan> starts = [];

    public string Name => inner.Name;

    public IReadOnlyList<TimeSpan> Starts => starts;

    public IMmImplementation Create(ulong ramSize)
    {
        Started();
        return new TimedMachine(inner.Create(ramSize), this);
    }

    private void Started(TimeSpan? at = null)
    {
        lock (starts)
            starts.Add(at ?? clock.Elapsed);
    }

    /// <summary>
    /// Time from this factory's creation (just before the property starts) to the machine started after the failing
    /// test, number <paramref name="failingTest"/> counting from 1; null when no machine followed it.
    /// </summary>
    public TimeSpan? DetectedAfter(int failingTest) =>
        failingTest >= 1 && failingTest < starts.Count ? starts[failingTest] : null;

    /// <summary>The machine as it is, batches and snapshots included; only its restores are noted.</summary>
    private sealed class TimedMachine(IMmImplementation inner, TimedFactory factory) : PortDecorator(inner), IMmImplementation
    {
        public IMachineSnapshot? Snapshot() => Inner.Snapshot() is { } snapshot ? new TimedSnapshot(snapshot, factory) : null;

        public IReadOnlyList<ulong> AllocatePagesUntilExhausted(int limit) => Inner.AllocatePagesUntilExhausted(limit);

        public IReadOnlyList<ulong> KmallocUntilNull(ulong size, int count) => Inner.KmallocUntilNull(size, count);

        public void FreePages(IReadOnlyList<ulong> pages) => Inner.FreePages(pages);

        public void KfreeAll(IReadOnlyList<ulong> pointers) => Inner.KfreeAll(pointers);

        public void MapGetAll(IReadOnlyList<(ulong Space, ulong Virt)> queries, List<(ulong Result, ulong Flags)> answers) => Inner.MapGetAll(queries, answers);
    }

    private sealed class TimedSnapshot(IMachineSnapshot inner, TimedFactory factory) : IMachineSnapshot
    {
        public IMmImplementation? Restore()
        {
            TimeSpan at = factory.clock.Elapsed;
            if (inner.Restore() is not { } restored)
                return null; // declined: the suite boots a machine instead, and that is the start
            factory.Started(at);
            return new TimedMachine(restored, factory);
        }
    }
}
