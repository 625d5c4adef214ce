using System.Globalization;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli;

/// <summary>Everything <c>mmspec check</c> was asked to do, already validated where it can be without touching files.</summary>
public sealed record CheckOptions
{
    public const string ReferenceImplementation = "reference";

    public const int DefaultMaxTest = 100;

    /// <summary><c>reference</c>, <c>zoo:&lt;name&gt;</c> or <c>native:&lt;path&gt;</c>; resolved by <see cref="ImplementationResolver"/>.</summary>
    public string Implementation { get; init; } = ReferenceImplementation;

    public Profile Profile { get; init; } = Profile.Default;

    /// <summary>How the audit walks the page tables after each step: incremental (default), full, or both compared.</summary>
    public AuditMode Audit { get; init; } = AuditMode.Incremental;

    public ulong Seed { get; init; } = RunSettings.DefaultSeed;

    public int MaxTest { get; init; } = DefaultMaxTest;

    /// <summary>RAM of each machine, in bytes (<c>--ram</c>).</summary>
    public ulong RamSize { get; init; } = SequenceRunner.DefaultRamSize;

    public Shard Shard { get; init; } = Shard.Whole;

    /// <summary>
    /// Failures of clauses not expected that stop one property (<c>--max-failures</c>); by default every distinct
    /// clause a property breaks is found, each with its own shrunk sequence.
    /// </summary>
    public int MaxFailures { get; init; } = RunSettings.MaxFailuresBound;

    /// <summary>Where report.json, junit.xml, report.md, report.html, results.ktap and repro/ go; null for console only.</summary>
    public string? ReportDirectory { get; init; }

    /// <summary>The expectations file (see <see cref="Expectations"/>); null when every failure counts.</summary>
    public string? ExpectationsFile { get; init; }

    /// <summary>Native only: how long one call may take before the host counts as hung (null: the factory's default).</summary>
    public TimeSpan? CallTimeout { get; init; }

    /// <summary>Native only: how long one sequence's calls may take together (null: the factory's default).</summary>
    public TimeSpan? SequenceTimeout { get; init; }

    /// <summary>
    /// Properties checked at once (<c>--jobs</c>): each property's run depends on the seed alone, so how many run
    /// together changes only how long the check takes. By default one per processor.
    /// </summary>
    public int Jobs { get; init; } = DefaultJobs;

    public static int DefaultJobs => Math.Clamp(Environment.ProcessorCount, 1, MaxJobs);

    public const int MaxJobs = 64;

    public RunSettings Settings => new(Profile, Seed, MaxTest, RamSize, MaxFailures, Audit: Audit);

    /// <summary>The command line that replays this run against <paramref name="implementation"/>: every option that changes what it does, shell-quoted.</summary>
    public string ReplayCommand(string implementation)
    {
        var words = new List<string> { "check", "--impl", implementation, "--profile", ProfileName(Profile), "--seed", $"{Seed}", "--max-test", $"{MaxTest}" };
        if (RamSize != SequenceRunner.DefaultRamSize)
            words.AddRange(["--ram", $"{RamSize}"]);
        if (MaxFailures != RunSettings.MaxFailuresBound)
            words.AddRange(["--max-failures", $"{MaxFailures}"]);
        if (CallTimeout is { } call)
            words.AddRange(["--call-timeout", call.TotalSeconds.ToString(CultureInfo.InvariantCulture)]);
        if (SequenceTimeout is { } sequence)
            words.AddRange(["--sequence-timeout", sequence.TotalSeconds.ToString(CultureInfo.InvariantCulture)]);
        return string.Join(' ', words.Select(ShellQuoted));
    }

    /// <summary>A word as a POSIX shell reads it back unchanged: as is when it is plain, else in single quotes.</summary>
    public static string ShellQuoted(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "_-+=.,:/@%".Contains(c))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>A RAM size in bytes, or with a binary K, M or G suffix (5M, 1G); a multiple of 4 KiB from 2 MiB to 1 GiB.</summary>
    public static ulong ParseRamSize(string text)
    {
        string digits = text.TrimEnd('K', 'M', 'G', 'k', 'm', 'g');
        int shift = text.Length == digits.Length ? 0 : char.ToUpperInvariant(text[^1]) switch { 'K' => 10, 'M' => 20, _ => 30 };
        bool read = text.Length - digits.Length <= 1 && ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ulong number)
                    && number <= RunSettings.MaxRamSize >> shift;
        ulong bytes = read ? ulong.Parse(digits, CultureInfo.InvariantCulture) << shift : 0;
        return read && bytes >= RunSettings.MinRamSize && bytes <= RunSettings.MaxRamSize && bytes % 4096 == 0
            ? bytes
            : throw new UsageException($"--ram '{text}': expected a multiple of 4 KiB from 2M to 1G, in bytes or with a K, M or G suffix (e.g. 8M)");
    }

    /// <summary>The profile names as written on the command line, matched exactly.</summary>
    public static Profile ParseProfile(string text) => text switch
    {
        "default" => Profile.Default,
        "strict" => Profile.Strict,
        _ => throw new UsageException($"--profile '{text}': expected default or strict"),
    };

    public static string ProfileName(Profile profile) => profile.ToString().ToLowerInvariant();

    public static AuditMode ParseAudit(string text) => text switch
    {
        "incremental" => AuditMode.Incremental,
        "full" => AuditMode.Full,
        "both" => AuditMode.Both,
        _ => throw new UsageException($"--audit '{text}': expected incremental, full or both"),
    };

    /// <summary>A 64-bit seed in decimal, or in hexadecimal after 0x (as failure messages and reports print it).</summary>
    public static ulong ParseSeed(string text)
    {
        bool hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        bool read = hex
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong seed)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out seed);
        return read ? seed : throw new UsageException($"--seed '{text}': expected a whole number from 0 to 2^64-1, in decimal or as 0x hex");
    }

    public static int ParseMaxTest(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int maxTest) && maxTest >= 1
            ? maxTest
            : throw new UsageException($"--max-test '{text}': expected a whole number of tests per property, at least 1");

    public static int ParseMaxFailures(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int max) && max >= 1 && max <= RunSettings.MaxFailuresBound
            ? max
            : throw new UsageException($"--max-failures '{text}': expected a whole number of failures per property from 1 to {RunSettings.MaxFailuresBound}");

    public static int ParseJobs(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int jobs) && jobs >= 1 && jobs <= MaxJobs
            ? jobs
            : throw new UsageException($"--jobs '{text}': expected a whole number of properties to check at once from 1 to {MaxJobs}");

    /// <summary>A positive number of seconds, decimals allowed (0.5), at most a day.</summary>
    public static TimeSpan ParseSeconds(string option, string text) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds) && seconds > 0 && seconds <= 86_400
            ? TimeSpan.FromSeconds(seconds)
            : throw new UsageException($"{option} '{text}': expected a positive number of seconds (e.g. 2 or 0.5), at most 86400");
}
