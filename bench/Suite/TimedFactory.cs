using System.Diagnostics;
using Mmspec.SpecTests.Port;

namespace Mmspec.Bench.Suite;

/// <summary>
/// Passes machines through and notes when each was created. A stateful property runs every sequence, shrink
/// candidates and the final replay included, on a machine of its own, so the creation that follows the failing
/// test marks the moment the bug was detected and shrinking began.
/// </summary>
public sealed class TimedFactory(IImplementationFactory inner) : IImplementationFactory
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly List<TimeSpan> creations = [];

    public string Name => inner.Name;

    public IReadOnlyList<TimeSpan> Creations => creations;

    public IMmImplementation Create(ulong ramSize)
    {
        creations.Add(clock.Elapsed);
        return inner.Create(ramSize);
    }

    /// <summary>
    /// Time from this factory's creation (just before the property starts) to the machine created after the failing
    /// test, number <paramref name="failingTest"/> counting from 1; null when no machine followed it.
    /// </summary>
    public TimeSpan? DetectedAfter(int failingTest) =>
        failingTest >= 1 && failingTest < creations.Count ? creations[failingTest] : null;
}
