using System.Globalization;
using System.Text.RegularExpressions;

namespace Mmspec.Tests.Cli;

/// <summary>One test of a KTAP document: its result line, the diagnostic lines just before it, and its subtests.</summary>
/// <param name="Directive">SKIP, TODO, XFAIL, TIMEOUT or ERROR, or null.</param>
/// <param name="Reason">What follows " # " (after the directive, if any), or null.</param>
public sealed record KtapTest(int Number, string Name, bool Ok, string? Directive, string? Reason, IReadOnlyList<string> Diagnostics, IReadOnlyList<KtapTest> Subtests)
{
    public KtapTest Subtest(string name) => Subtests.Single(test => test.Name == name);
}

/// <summary>A document that breaks the grammar: the 1-based line and what is wrong there.</summary>
public sealed class KtapGrammarException(int line, string reason) : Exception($"results.ktap line {line}: {reason}")
{
    public int Line { get; } = line;
}

/// <summary>
/// A checker of KTAP version 1 as mmspec writes it, written from the KTAP document: a version line, then the plan
/// (diagnostics may come between, as KUnit's "# Subtest:" does), then diagnostics and result lines numbered 1, 2, … up
/// to the plan; a subtest block is indented one level (4 spaces, as KUnit prints it) and has its own version line and
/// plan, and its parent's result line follows it directly. Stricter than KTAP on purpose: it rejects the "unknown
/// lines" KTAP lets through and a missing plan, since mmspec's own output has no reason to contain either.
/// </summary>
public static partial class KtapGrammar
{
    private const string Version = "KTAP version 1";
    private const int OneLevel = 4;
    private static readonly string[] Directives = ["SKIP", "TODO", "XFAIL", "TIMEOUT", "ERROR"];

    /// <summary>The top-level tests, or throws at the first line that breaks the grammar.</summary>
    /// <exception cref="KtapGrammarException">The text is not KTAP version 1 by the rules above.</exception>
    public static IReadOnlyList<KtapTest> Parse(string text)
    {
        if (!text.EndsWith('\n'))
            throw new KtapGrammarException(text.Count(c => c == '\n') + 1, "the last line has no newline");
        string[] lines = text[..^1].Split('\n');
        int at = 0;
        IReadOnlyList<KtapTest> tests = ParseBlock(lines, ref at, depth: 0);
        if (at < lines.Length)
            throw new KtapGrammarException(at + 1, $"unexpected line after the top-level block: '{lines[at]}'");
        return tests;
    }

    private static List<KtapTest> ParseBlock(string[] lines, ref int at, int depth)
    {
        string indent = new(' ', depth * OneLevel);
        if (at >= lines.Length || lines[at] != indent + Version)
            throw new KtapGrammarException(at + 1, $"expected '{indent}{Version}'");
        at++;
        while (at < lines.Length && IsDiagnostic(lines[at], indent))
            at++;
        Match plan = at < lines.Length ? PlanLine().Match(lines[at]) : Match.Empty;
        if (!plan.Success || plan.Groups["indent"].Value != indent)
            throw new KtapGrammarException(at + 1, $"expected the plan '{indent}1..N' after the version line");
        int planned = int.Parse(plan.Groups["count"].Value, CultureInfo.InvariantCulture);
        at++;

        var tests = new List<KtapTest>();
        var diagnostics = new List<string>();
        while (at < lines.Length && lines[at].StartsWith(indent, StringComparison.Ordinal) && lines[at].Length > indent.Length)
        {
            string line = lines[at];
            string rest = line[indent.Length..];
            if (IsDiagnostic(line, indent))
            {
                diagnostics.Add(rest.Length > 1 ? rest[2..] : "");
                at++;
            }
            else if (rest.StartsWith(' '))
            {
                if (!rest.StartsWith(new string(' ', OneLevel), StringComparison.Ordinal) || rest[OneLevel] == ' ')
                    throw new KtapGrammarException(at + 1, $"a subtest must be indented exactly {OneLevel} spaces more than its parent");
                List<KtapTest> subtests = ParseBlock(lines, ref at, depth + 1);
                bool parentResultNext = at < lines.Length && lines[at].StartsWith(indent, StringComparison.Ordinal)
                                        && ResultLine().IsMatch(lines[at][indent.Length..]);
                if (!parentResultNext)
                    throw new KtapGrammarException(at + 1, "a subtest block must be followed directly by its parent's result line");
                tests.Add(ParseResult(lines, at++, indent, tests.Count + 1, diagnostics, subtests));
                diagnostics = [];
            }
            else
            {
                tests.Add(ParseResult(lines, at++, indent, tests.Count + 1, diagnostics, []));
                diagnostics = [];
            }
        }
        if (at < lines.Length && lines[at] == indent)
            throw new KtapGrammarException(at + 1, "blank line");
        if (tests.Count != planned)
            throw new KtapGrammarException(at + 1, $"the plan says 1..{planned} but {tests.Count} result line(s) follow");
        return tests;
    }

    private static KtapTest ParseResult(string[] lines, int at, string indent, int expected, List<string> diagnostics, List<KtapTest> subtests)
    {
        string rest = lines[at][indent.Length..];
        if (rest == Version)
            throw new KtapGrammarException(at + 1, "a version line inside a block must be indented as a subtest");
        Match result = ResultLine().Match(rest);
        if (!result.Success)
            throw new KtapGrammarException(at + 1, $"not a version, plan, diagnostic or result line: '{lines[at]}'");
        int number = int.Parse(result.Groups["number"].Value, CultureInfo.InvariantCulture);
        if (number != expected)
            throw new KtapGrammarException(at + 1, $"test number {number}, expected {expected}");
        bool ok = result.Groups["result"].Value == "ok";
        string? directive = null;
        string? reason = result.Groups["tail"].Success ? result.Groups["tail"].Value : null;
        if (reason is not null)
        {
            string word = reason.Split(' ')[0];
            if (Directives.Contains(word))
            {
                directive = word;
                reason = reason[word.Length..].TrimStart();
            }
        }
        if (directive is "TIMEOUT" or "ERROR" && ok)
            throw new KtapGrammarException(at + 1, $"{directive} needs 'not ok'");
        // KTAP: if one of the subtests fails, the parent fails too (a skipped one does not count).
        if (ok && subtests.Any(sub => !sub.Ok && sub.Directive is not ("SKIP" or "TODO" or "XFAIL")))
            throw new KtapGrammarException(at + 1, "a test with a failed subtest must be 'not ok'");
        return new KtapTest(number, result.Groups["name"].Value, ok, directive, reason, diagnostics, subtests);
    }

    private static bool IsDiagnostic(string line, string indent) =>
        line.StartsWith(indent + "#", StringComparison.Ordinal) && (line.Length == indent.Length + 1 || line[indent.Length + 1] == ' ');

    [GeneratedRegex(@"^(?<indent> *)1\.\.(?<count>[0-9]+)$")]
    private static partial Regex PlanLine();

    // The name is any text but '#' (KTAP's rule); mmspec always names its tests, so a nameless result is rejected too.
    [GeneratedRegex(@"^(?<result>ok|not ok) (?<number>[0-9]+) (?<name>[^# ][^#]*?)(?: # (?<tail>.*))?$")]
    private static partial Regex ResultLine();
}
