using System.Globalization;
using System.Text;

namespace Mmspec.Cli.Reports;

/// <summary>
/// The lines of KTAP version 1 at one nesting level: version, plan, diagnostics and result lines, each kept to one
/// line whatever text it carries. KTAP tooling reads line by line, so a newline in a message would start a line of
/// another kind and a '#' in a test's name would start its directive: both are made harmless here, once.
/// </summary>
public sealed class KtapWriter
{
    public const string VersionLine = "KTAP version 1";

    /// <summary>
    /// One level of nesting. The KTAP document says two spaces; KUnit prints four, and its parser (and kselftest's)
    /// takes any leading whitespace, so four, as the output kernel developers already read looks.
    /// </summary>
    public const string OneLevel = "    ";

    private readonly StringBuilder text;
    private readonly string indent;

    public KtapWriter() : this(new StringBuilder(), "")
    {
    }

    private KtapWriter(StringBuilder text, string indent)
    {
        this.text = text;
        this.indent = indent;
    }

    /// <summary>The writer of a subtest block, one level in: its lines go into the same text.</summary>
    public KtapWriter Nested() => new(text, indent + OneLevel);

    /// <summary>A block's version and plan; a named block (a subtest) also gets KUnit's "# Subtest:" line between them.</summary>
    public void Header(int tests, string? name = null)
    {
        Line(VersionLine);
        if (name is not null)
            Diagnostic($"Subtest: {Name(name)}");
        Line($"1..{tests.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>"# text", one line per line of the text; empty lines are dropped (a bare "#" says nothing).</summary>
    public void Diagnostic(string diagnostic)
    {
        foreach (string line in diagnostic.Replace("\r\n", "\n").Split('\n'))
            if (line.Trim().Length > 0)
                Line($"# {OneLine(line)}");
    }

    /// <param name="directive">"SKIP reason", "XFAIL reason", ... or null: written after " # ".</param>
    public void Result(bool ok, int number, string name, string? directive = null)
    {
        string result = $"{(ok ? "ok" : "not ok")} {number.ToString(CultureInfo.InvariantCulture)} {Name(name)}";
        Line(directive is null ? result : $"{result} # {OneLine(directive.Replace('\n', ' '))}");
    }

    public override string ToString() => text.ToString();

    private void Line(string line) => text.Append(indent).Append(line).Append('\n');

    // A test's name ends where its directive starts: no '#' in it, and never empty.
    private static string Name(string name)
    {
        string cleaned = OneLine(name.Replace('\n', ' ')).Replace('#', '_').Trim();
        return cleaned.Length > 0 ? cleaned : "unnamed";
    }

    // Control characters (a stray '\r', a terminal escape in a panic text) would break line-based parsers or terminals.
    private static string OneLine(string line)
    {
        var cleaned = new StringBuilder(line.Length);
        foreach (char c in line)
            cleaned.Append(char.IsControl(c) ? $"\\x{(int)c:X2}" : c.ToString());
        return cleaned.ToString();
    }
}
