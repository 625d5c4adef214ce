using System.Diagnostics;
using Mmspec.Cli.Reports;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli;

/// <summary>
/// <c>mmspec check</c>: runs the property catalogue against one implementation and turns the results into
/// per-clause verdicts, a console summary, reports and an exit code. Callable in-process, for tests.
/// </summary>
public static class CheckCommand
{
    public static int Run(CheckOptions options, TextWriter stdout, TextWriter stderr, Interruption? interruption = null)
    {
        interruption ??= Interruption.None;
        try
        {
            // Everything the user can get wrong is checked before the first property runs.
            ResolvedImplementation implementation = ImplementationResolver.Resolve(options.Implementation, options.CallTimeout, options.SequenceTimeout);
            using var hosts = implementation.Factory as IDisposable; // a native factory keeps a host started in advance
            ClauseCatalogue catalogue = ClauseCatalogue.Load();
            Expectations expectations = options.ExpectationsFile is { } file
                ? Expectations.Load(file, catalogue, PropertyCatalogue.All.Select(property => property.Id))
                : Expectations.None;
            ReportDirectory? reports = options.ReportDirectory is { } directory ? ReportDirectory.Prepare(directory) : null;

            var console = new ConsoleReporter(stdout, stderr);
            CheckOutcome outcome = Check(implementation, options, catalogue, expectations, console, interruption);
            console.Summary(outcome);
            if (reports is not null)
            {
                reports.Write(outcome);
                console.ReportsWritten(reports.Path);
            }
            if (outcome.Interrupted is not null)
                return interruption.ExitCode;
            return outcome.Conformant ? ExitCodes.Conformant : ExitCodes.Nonconformant;
        }
        catch (UsageException mistake)
        {
            stderr.WriteLine($"mmspec: {mistake.Message}");
            return ExitCodes.UsageError;
        }
    }

    private static CheckOutcome Check(ResolvedImplementation implementation, CheckOptions options, ClauseCatalogue catalogue,
                                      Expectations expectations, ConsoleReporter console, Interruption interruption)
    {
        var wall = Stopwatch.StartNew();
        IReadOnlyList<ISpecProperty> units = WorkPlan.Units(options.Profile, options.Shard);
        int unitsInRun = WorkPlan.Units(options.Profile).Count;
        console.Starting(implementation, options, units.Count, unitsInRun);
        var properties = new List<PropertyOutcome>();
        PropertyOutcome Run(ISpecProperty property)
        {
            // An expected clause never stops its property: the property goes on looking for the next bug.
            RunSettings settings = options.Settings with { ExpectedClauses = expectations.ClausesExpectedIn(property, catalogue), Stop = interruption.Token };
            return ClauseVerdicts.ForProperty(property, property.Check(implementation.Factory, settings), expectations);
        }
        // Up to --jobs properties run at once; they are reported in the plan's order, as one after another would be.
        using var pending = new PropertyQueue(units, options.Jobs, Run, () => interruption.Signal is not null);
        for (int i = 0; i < units.Count && pending.Started(i); i++)
        {
            console.PropertyStarted(i + 1, units.Count, units[i]);
            PropertyOutcome outcome = pending.Outcome(i);
            console.PropertyFinished(i + 1, units.Count, outcome);
            properties.Add(outcome);
        }
        IReadOnlyList<ClauseOutcome> clauses = ClauseVerdicts.ForClauses(catalogue, options.Profile, properties);
        IReadOnlyList<StaleExpectation> stale = ClauseVerdicts.Stale(expectations, properties, clauses);
        return new CheckOutcome(implementation, options, unitsInRun, properties, clauses, expectations, stale, wall.Elapsed)
        {
            Interrupted = interruption.Signal,
            UnitsPlanned = units.Count,
        };
    }
}
