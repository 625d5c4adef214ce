using System.CommandLine;
using System.CommandLine.Parsing;
using Mmspec.Cli.Port;
using Mmspec.NativeClient;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Properties;
using Mmspec.Zoo;

namespace Mmspec.Cli;

/// <summary>
/// The command line: <c>mmspec check [options]</c>, <c>mmspec zoo</c> and <c>mmspec port init DIR</c>. Only wiring lives here; the work
/// is in <see cref="CheckCommand"/>. Parse errors become one line and exit code 2, never help text or a stack trace.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        using Interruption interruption = Interruption.FromSignals();
        return Run(args, Console.Out, Console.Error, interruption);
    }

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, Interruption? interruption = null)
    {
        ParseResult parsed = BuildRoot(stdout, stderr, interruption ?? Interruption.None).Parse(args);
        if (parsed.Errors.Count > 0)
        {
            string reasons = string.Join("; ", parsed.Errors.Select(error => error.Message.ReplaceLineEndings(" ").Trim()).Distinct());
            stderr.WriteLine($"mmspec: {reasons} (see: mmspec --help)");
            return ExitCodes.UsageError;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception bug) when (bug is not UsageException)
        {
            // Not the user's mistake nor the implementation's (its crashes are violations): a bug in mmspec.
            stderr.WriteLine($"mmspec: internal error, please report it: {bug}");
            return ExitCodes.InternalError;
        }
    }

    private static RootCommand BuildRoot(TextWriter stdout, TextWriter stderr, Interruption interruption)
    {
        var root = new RootCommand("mmspec: conformance checks for the memory-management API of ../shared/spec/memory-management.rst");
        root.Subcommands.Add(BuildCheck(stdout, stderr, interruption));
        root.Subcommands.Add(BuildZoo(stdout));
        root.Subcommands.Add(BuildPort(stdout, stderr));
        return root;
    }

    private static Command BuildCheck(TextWriter stdout, TextWriter stderr, Interruption interruption)
    {
        var impl = new Option<string>("--impl")
        {
            Description = "The implementation to check: reference, zoo:<name> (see: mmspec zoo) or native:<path>",
            HelpName = "reference|zoo:<name>|native:<path>",
            DefaultValueFactory = _ => CheckOptions.ReferenceImplementation,
        };
        var profile = new Option<Profile>("--profile")
        {
            Description = "default: what the spec says; strict: also the reference's implementation-defined choices",
            HelpName = "default|strict",
            DefaultValueFactory = _ => Profile.Default,
            CustomParser = Parser(CheckOptions.ParseProfile),
        };
        var audit = new Option<AuditMode>("--audit")
        {
            Description = "How the page tables are audited after each step: incremental walks only what the step may have changed (by its write sets), full walks everything, both does both and fails if they disagree (the auditor's own check)",
            HelpName = "incremental|full|both",
            DefaultValueFactory = _ => AuditMode.Incremental,
            CustomParser = Parser(CheckOptions.ParseAudit),
        };
        var jobs = new Option<int>("--jobs")
        {
            Description = "Properties to check at once (default: one per processor); the results do not depend on it",
            HelpName = "n",
            DefaultValueFactory = _ => CheckOptions.DefaultJobs,
            CustomParser = Parser(CheckOptions.ParseJobs),
        };
        var seed = new Option<ulong>("--seed")
        {
            Description = "The random seed, decimal or 0x hex; a failure report names the seed that replays it",
            DefaultValueFactory = _ => new CheckOptions().Seed,
            CustomParser = Parser(CheckOptions.ParseSeed),
        };
        var maxTest = new Option<int>("--max-test")
        {
            Description = "Tests (random sequences) per property",
            DefaultValueFactory = _ => CheckOptions.DefaultMaxTest,
            CustomParser = Parser(CheckOptions.ParseMaxTest),
        };
        var ram = new Option<ulong>("--ram")
        {
            Description = "RAM of each machine: a multiple of 4 KiB from 2M to 1G, in bytes or with K, M or G (stateful sequences also draw a few pages less)",
            HelpName = "size",
            DefaultValueFactory = _ => new CheckOptions().RamSize,
            CustomParser = Parser(CheckOptions.ParseRamSize),
        };
        var maxFailures = new Option<int>("--max-failures")
        {
            Description = $"Stop a property after this many failures of clauses not expected (default: every distinct clause it breaks, up to {RunSettings.MaxFailuresBound}); expected clauses never stop it",
            HelpName = "n",
            DefaultValueFactory = _ => RunSettings.MaxFailuresBound,
            CustomParser = Parser(CheckOptions.ParseMaxFailures),
        };
        var shard = new Option<Shard>("--shard")
        {
            Description = "Run part i of n (1-based): n jobs with --shard 1/n ... n/n together run exactly one whole run",
            HelpName = "i/n",
            DefaultValueFactory = _ => Shard.Whole,
            CustomParser = Parser(Shard.Parse),
        };
        var report = new Option<string>("--report")
        {
            Description = "Write report.json, junit.xml, report.md, report.html, results.ktap (KTAP version 1) and repro/ into this directory (created if needed)",
            HelpName = "dir",
        };
        var expect = new Option<string>("--expect")
        {
            Description = "Expectations file: one clause or property ID per line ('#' comments) whose failures are accepted",
            HelpName = "file",
        };

        var callTimeout = new Option<TimeSpan?>("--call-timeout")
        {
            Description = $"native: only: seconds one call may take before the host counts as hung (default {NativeFactory.DefaultCallTimeout.TotalSeconds:0})",
            HelpName = "seconds",
            CustomParser = Parser<TimeSpan?>(text => CheckOptions.ParseSeconds("--call-timeout", text)),
        };
        var sequenceTimeout = new Option<TimeSpan?>("--sequence-timeout")
        {
            Description = $"native: only: seconds one sequence's calls may take together (default {NativeFactory.DefaultSequenceTimeout.TotalSeconds:0})",
            HelpName = "seconds",
            CustomParser = Parser<TimeSpan?>(text => CheckOptions.ParseSeconds("--sequence-timeout", text)),
        };

        var check = new Command("check", "Run the property catalogue against an implementation; exit 0 conformant, 1 nonconformant, 2 usage error")
        {
            impl, profile, seed, maxTest, ram, maxFailures, shard, report, expect, callTimeout, sequenceTimeout, audit, jobs,
        };
        check.SetAction(parsed => CheckCommand.Run(new CheckOptions
        {
            Implementation = parsed.GetValue(impl) ?? CheckOptions.ReferenceImplementation,
            Profile = parsed.GetValue(profile),
            Audit = parsed.GetValue(audit),
            Seed = parsed.GetValue(seed),
            MaxTest = parsed.GetValue(maxTest),
            RamSize = parsed.GetValue(ram),
            MaxFailures = parsed.GetValue(maxFailures),
            Shard = parsed.GetValue(shard),
            ReportDirectory = parsed.GetValue(report),
            ExpectationsFile = parsed.GetValue(expect),
            CallTimeout = parsed.GetValue(callTimeout),
            SequenceTimeout = parsed.GetValue(sequenceTimeout),
            Jobs = parsed.GetValue(jobs),
        }, stdout, stderr, interruption));
        return check;
    }

    private static Command BuildZoo(TextWriter stdout)
    {
        var zoo = new Command("zoo", "List the bug zoo's members (use one with: mmspec check --impl zoo:<name>), one name per line");
        zoo.SetAction(_ =>
        {
            foreach (ZooMember member in ZooCatalogue.All)
                stdout.WriteLine(member.Name);
            return ExitCodes.Success;
        });
        return zoo;
    }

    private static Command BuildPort(TextWriter stdout, TextWriter stderr)
    {
        var directory = new Argument<string>("DIR") { Description = "Where to write the port (created if missing)" };
        var force = new Option<bool>("--force") { Description = "Overwrite the files port init writes if DIR already holds them" };
        var init = new Command("init", $"Write the starting point of a port of your kernel's mm code: {string.Join(", ", PortInit.Files)}")
        {
            directory, force,
        };
        init.SetAction(parsed => PortInit.Run(parsed.GetValue(directory)!, parsed.GetValue(force), stdout, stderr));
        // For a build system of the user's own: cc -I "$(mmspec port include)" ...
        var include = new Command("include", "Print the directory holding mmspec.h, for -I in a build of your own");
        include.SetAction(_ =>
        {
            stdout.WriteLine(NativeAssets.IncludeDirectory);
            return ExitCodes.Success;
        });
        return new Command("port", "Port your kernel's memory manager to mmspec's native host") { init, include };
    }

    /// <summary>Adapts a parser that throws <see cref="UsageException"/> to System.CommandLine, which collects the message as a parse error.</summary>
    private static Func<ArgumentResult, T> Parser<T>(Func<string, T> parse) => result =>
    {
        try
        {
            return parse(result.Tokens.Count > 0 ? result.Tokens[0].Value : "");
        }
        catch (UsageException mistake)
        {
            result.AddError(mistake.Message);
            return default!;
        }
    };
}
