using System.Diagnostics;

namespace Mmspec.SpecTests.Properties;

/// <summary>What one search over a property's random inputs found: its first failure outside the masked clauses, if any.</summary>
public sealed record SearchRound(Failure? Failure, int Tests, long Steps);

/// <summary>
/// Runs a property's search again after each failure, with the clauses already found masked: an input whose
/// first violation is of a masked clause counts as passing and ends there (what follows a broken state would
/// blame later steps for the first bug's damage), so every other input can still break another clause. Each
/// round starts from the same seed, so a run is as deterministic as one search, and every failure is shrunk on
/// its own. An expected clause never stops the search: a bug listed in --expect cannot hide the next one. A failure
/// at boot does, since every input begins with a boot.
/// </summary>
public static class FailureSearch
{
    public static PropertyResult Run(string propertyId, RunSettings settings, Func<IReadOnlySet<string>, SearchRound> search)
    {
        var clock = Stopwatch.StartNew();
        var masked = new HashSet<string>(StringComparer.Ordinal);
        var failures = new List<Failure>();
        long steps = 0;
        while (true)
        {
            SearchRound round = search(masked);
            steps += round.Steps;
            if (round.Failure is { } failure)
            {
                failures.Add(failure);
                // Each round masks one clause more, so the search ends after at most as many rounds as there are clauses.
                if (!masked.Add(failure.Violation.Clause))
                    throw new InvalidOperationException($"mmspec bug: {propertyId} reported {failure.Violation.Clause} while it was masked");
            }
            if (settings.Stop.IsCancellationRequested)
                return Result(round.Tests, completed: false) with { Interrupted = true };
            if (round.Failure is null)
                return Result(round.Tests, completed: true);
            // Every input starts by booting a machine: past a failure there, masked or not, nothing else is reached.
            if (round.Failure.AtBoot)
                return Result(round.Tests, completed: false);
            int unexpected = failures.Count(found => !settings.Expects(found.Violation.Clause));
            if (unexpected >= Math.Min(settings.MaxFailures, RunSettings.MaxFailuresBound) || failures.Count >= RunSettings.MaxFailuresBound)
                return Result(round.Tests, completed: false);
        }

        PropertyResult Result(int tests, bool completed) => failures.Count == 0
            ? PropertyResult.Passed(propertyId, tests, steps, clock.Elapsed) with { Completed = completed }
            : new PropertyResult(propertyId, Verdict.Failed, tests, steps, clock.Elapsed, failures, completed);
    }
}
