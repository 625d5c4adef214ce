using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Properties;

/// <summary>
/// How a property run is driven: the seed makes it reproducible, MaxTest bounds its work, RamSize is the RAM
/// of each machine (stateful sequences draw a size a little below it, see <see cref="SequenceRam"/>).
/// </summary>
public sealed record RunSettings(Profile Profile, ulong Seed = RunSettings.DefaultSeed, int MaxTest = 100, ulong RamSize = SequenceRunner.DefaultRamSize)
{
    public const ulong DefaultSeed = 0x6D6D_7370_6563;

    public const ulong MinRamSize = 2UL << 20;

    public const ulong MaxRamSize = 1UL << 30;
}

public enum Verdict
{
    Passed,
    Failed,
    NotApplicable,
}

/// <summary>
/// How to run a failure again outside the property. <paramref name="CSharp"/> is a C# expression of type
/// <c>Violation?</c> over the variables <c>factory</c> and <c>profile</c>; <paramref name="DrainsFreePages"/> says the
/// run began by allocating and freeing every free page (the stateful runner's baseline), which C must repeat.
/// </summary>
public sealed record ReplayRecipe(string CSharp, bool DrainsFreePages);

/// <summary>A failure, shrunk: the violated clause, the minimal steps and the calls they made.</summary>
public sealed record Failure(ulong Seed, Violation Violation, IReadOnlyList<string> Steps, IReadOnlyList<CallRecord> Trace, int Shrinks, ReplayRecipe Replay,
    ulong RamSize = SequenceRunner.DefaultRamSize)
{
    public string Describe() =>
        $"[{Violation.Clause}] {Violation.Message}\n  seed {Seed} (replay: --seed {Seed}), RAM 0x{RamSize:X} bytes, {Steps.Count} step(s) after {Shrinks} shrink(s):\n"
        + string.Join("\n", Trace.Select(call => $"    {call}"));
}

public sealed record PropertyResult(string PropertyId, Verdict Verdict, int Tests, long Steps, TimeSpan Elapsed, Failure? Failure = null);

/// <summary>One property of the catalogue: what it checks (clauses) and how to check it on any implementation.</summary>
public interface ISpecProperty
{
    string Id { get; }

    string Title { get; }

    /// <summary>The clauses this property can report a violation of.</summary>
    IReadOnlyList<string> Clauses { get; }

    /// <summary>Strict-only properties check implementation-defined clauses.</summary>
    Profile MinimumProfile { get; }

    PropertyResult Check(IImplementationFactory implementation, RunSettings settings);
}
