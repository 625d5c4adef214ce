using System.Collections.Concurrent;
using FsCheck;
using FsCheck.Fluent;

namespace Mmspec.SpecTests.Sequences;

/// <summary>How a step chooses among the live items of a kind (pages the client holds, heap blocks, regions).</summary>
public enum PickRule
{
    /// <summary>The <c>N</c>-th in the model's order (lowest address first), wrapping: what shrinking ends at, <c>N = 0</c>.</summary>
    Ordinal,

    /// <summary>Uniformly over all live items, whatever their number: <c>N</c> / 65536 of the way through them.</summary>
    Uniform,

    /// <summary>The most recently allocated item still live, or the <c>N % 4</c>-th before it: allocators reuse what was freed last.</summary>
    Newest,

    /// <summary>The live item nearest in address to the one freed last (above it for even <c>N</c>, below for odd): holes beside holes.</summary>
    NearLastFreed,
}

/// <summary>
/// Which live item a step acts on, named by a rule rather than an address so that a sequence stays meaningful
/// when shrinking drops steps. An int converts to the <see cref="PickRule.Ordinal"/> pick, as steps used to name items.
/// </summary>
public readonly record struct LivePick(PickRule Rule, int N)
{
    public const int UniformScale = 1 << 16;

    public static implicit operator LivePick(int ordinal) => new(PickRule.Ordinal, ordinal);

    public bool IsSimplest => Rule == PickRule.Ordinal && N == 0;

    /// <summary>Uniform over all live items most often; the newest (with <paramref name="newestWeight"/> against 6) and the neighbours of the last freed often enough to matter.</summary>
    public static Gen<LivePick> Weighted(int newestWeight) => weighted.GetOrAdd(newestWeight, Build);

    // Made once for each weight (a swarm has one of a few): steps draw a pick inside their own generators, which made
    // this one afresh for every step drawn. A generator draws the same from the same seed however often it is made.
    private static readonly ConcurrentDictionary<int, Gen<LivePick>> weighted = new();

    private static Gen<LivePick> Build(int newestWeight) =>
        Gen.Frequency(new[]
        {
            (6, Gen.Choose(0, UniformScale - 1).Select(n => new LivePick(PickRule.Uniform, n))),
            (newestWeight, Gen.Choose(0, 3).Select(n => new LivePick(PickRule.Newest, n))),
            (2, Gen.Choose(0, 1).Select(n => new LivePick(PickRule.NearLastFreed, n))),
        }.Where(choice => choice.Item1 > 0).ToArray());
}
