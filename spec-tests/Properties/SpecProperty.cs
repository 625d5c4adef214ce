using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Properties;

/// <summary>
/// How a property run is driven: the seed makes it reproducible, MaxTest bounds its work, RamSize is the RAM
/// of each machine (stateful sequences draw a size a little below it, see <see cref="SequenceRam"/>).
/// A property stops once it has found <paramref name="MaxFailures"/> failures of clauses not in
/// <paramref name="ExpectedClauses"/>; a failure of an expected clause never stops it (see <see cref="FailureSearch"/>).
/// </summary>
/// <param name="Stop">Requested (e.g. on SIGINT): the property ends after the sequence it is running, marked interrupted.</param>
public sealed record RunSettings(Profile Profile, ulong Seed = RunSettings.DefaultSeed, int MaxTest = 100, ulong RamSize = SequenceRunner.DefaultRamSize,
    int MaxFailures = 1, IReadOnlySet<string>? ExpectedClauses = null, CancellationToken Stop = default, AuditMode Audit = AuditMode.Incremental)
{
    public const ulong DefaultSeed = 0x6D6D_7370_6563;

    public const ulong MinRamSize = 2UL << 20;

    public const ulong MaxRamSize = 1UL << 30;

    /// <summary>The most failures one property reports: every distinct clause a property checks fits well below it.</summary>
    public const int MaxFailuresBound = 64;

    public bool Expects(string clause) => ExpectedClauses?.Contains(clause) == true;
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
    /// <summary>How the failing input was drawn (a stateful sequence's swarm configuration), or null.</summary>
    public string? Configuration { get; init; }

    /// <summary>The state where the shrunk sequence failed, model beside implementation (stateful properties only), or null.</summary>
    public StatePicture? Picture { get; init; }

    public string Describe() =>
        $"[{Violation.Clause}] {Violation.Message}\n  seed {Seed} (replay: --seed {Seed}), RAM 0x{RamSize:X} bytes, {Where}"
        + (Configuration is { } drawn ? $"; {drawn}" : "") + ":\n"
        + string.Join("\n", TraceText.Lines(Trace).Select(line => $"    {line}"));

    /// <summary>A violation at step 0 happened while the suite set the machine up, before the sequence's first step.</summary>
    public bool AtBoot => Violation.Step == 0;

    /// <summary>Where in the run the violation is, as the reports say it.</summary>
    public string Where => AtBoot
        ? "at boot (mmspec_init, creating the address spaces, the first count of free pages), before any step"
        : Violation.Step > Steps.Count
            ? $"at teardown, after the {Steps.Count} step(s) ({Shrinks} shrink(s))"
            : $"step {Violation.Step} of {Steps.Count} after {Shrinks} shrink(s)";
}

/// <summary>
/// What a property found: every failure, each of a distinct clause with its own shrunk sequence, in the order
/// found. <paramref name="Completed"/> says the search ran all its tests; false when it stopped at
/// <see cref="RunSettings.MaxFailures"/> or was <paramref name="Interrupted"/> (<see cref="RunSettings.Stop"/>), in which case
/// a verdict of passed only says that nothing broke in the tests that ran.
/// </summary>
public sealed record PropertyResult(string PropertyId, Verdict Verdict, int Tests, long Steps, TimeSpan Elapsed, IReadOnlyList<Failure> Failures, bool Completed,
    bool Interrupted = false)
{
    public static PropertyResult Passed(string id, int tests, long steps, TimeSpan elapsed) => new(id, Verdict.Passed, tests, steps, elapsed, [], true);

    /// <summary>The first failure found, or null when the property held.</summary>
    public Failure? Failure => Failures.Count > 0 ? Failures[0] : null;

    /// <summary>This result narrowed to one of its failures, as a reproducer renders it.</summary>
    public PropertyResult Only(Failure failure) => this with { Failures = [failure] };
}

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
