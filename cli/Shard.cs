using System.Globalization;

namespace Mmspec.Cli;

/// <summary>
/// One of <see cref="Count"/> jobs sharing a run (1-based <see cref="Index"/>): it takes the work units whose
/// position p has p % Count == Index - 1, so the Count shards together take every unit exactly once.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole run as one job.</summary>
    public static Shard Whole { get; } = new(1, 1);

    public bool Takes(int unitPosition) => unitPosition % Count == Index - 1;

    public override string ToString() => $"{Index}/{Count}";

    /// <summary>Reads <c>i/n</c> with 1 ≤ i ≤ n.</summary>
    /// <exception cref="UsageException">The text is not of that form.</exception>
    public static Shard Parse(string text)
    {
        string[] parts = text.Split('/');
        if (parts.Length != 2 || !TryReadWhole(parts[0], out int index) || !TryReadWhole(parts[1], out int count))
            throw new UsageException($"--shard '{text}': expected i/n, e.g. 2/3 for the second of three jobs");
        if (count < 1 || index < 1 || index > count)
            throw new UsageException($"--shard '{text}': i must be between 1 and n (shards are numbered from 1)");
        return new Shard(index, count);
    }

    private static bool TryReadWhole(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
