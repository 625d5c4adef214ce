using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Mmspec.SpecTests.Catalogue;

/// <summary>
/// The clause catalogue: every clause of <c>spec/clauses.md</c>, parsed strictly.
/// <see cref="Load"/> reads the copy embedded in this assembly; <see cref="Parse"/> reads any text.
/// </summary>
public sealed partial class ClauseCatalogue
{
    /// <summary>The logical name of the embedded <c>spec/clauses.md</c>.</summary>
    public const string ResourceName = "clauses.md";

    private static readonly Lazy<ClauseCatalogue> Embedded = new(LoadEmbedded, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly (ClauseArea Area, string Prefix)[] AreaPrefixes =
    [
        (ClauseArea.Phys, "PHYS"),
        (ClauseArea.Heap, "HEAP"),
        (ClauseArea.Dmap, "DMAP"),
        (ClauseArea.Map, "MAP"),
        (ClauseArea.Vm, "VM"),
    ];

    private static readonly (string Name, ClauseKind Kind)[] KindNames =
    [
        ("normative", ClauseKind.Normative),
        ("interpretation", ClauseKind.Interpretation),
        ("implementation-defined", ClauseKind.ImplementationDefined),
    ];

    private const string InterpretationPrefix = "Interpretation:";

    private readonly Dictionary<string, Clause> _byId;

    private ClauseCatalogue(List<Clause> clauses)
    {
        All = clauses.AsReadOnly();
        _byId = clauses.ToDictionary(c => c.Id, StringComparer.Ordinal);
    }

    /// <summary>Every clause, in document order.</summary>
    public IReadOnlyList<Clause> All { get; }

    /// <summary>The clause with ID <paramref name="id"/> (exact, case-sensitive).</summary>
    /// <exception cref="KeyNotFoundException">No clause has that ID.</exception>
    public Clause this[string id]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(id);
            if (_byId.TryGetValue(id, out Clause? clause))
            {
                return clause;
            }

            throw new KeyNotFoundException(UnknownIdMessage(id));
        }
    }

    /// <summary>The catalogue embedded in this assembly (spec/clauses.md at build time). Parsed once, then cached.</summary>
    /// <exception cref="ClauseCatalogueFormatException">The embedded file is malformed.</exception>
    public static ClauseCatalogue Load() => Embedded.Value;

    /// <summary>Parses catalogue Markdown in the format described at the top of spec/clauses.md.</summary>
    /// <exception cref="ClauseCatalogueFormatException">
    /// The text is malformed: a bad clause heading, an unknown area or kind, a duplicate ID, a normative or
    /// interpretation clause without a quote, an interpretation or implementation-defined clause without an
    /// interpretation, stray text inside a clause, or no clause at all. The message starts with the line number.
    /// </exception>
    public static ClauseCatalogue Parse(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        return new ClauseCatalogue(new Parser(markdown).Run());
    }

    /// <summary>The ID prefix of <paramref name="area"/>, e.g. <c>PHYS</c>.</summary>
    public static string AreaPrefix(ClauseArea area)
    {
        foreach ((ClauseArea a, string prefix) in AreaPrefixes)
        {
            if (a == area)
            {
                return prefix;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(area), area, "Unknown clause area.");
    }

    /// <summary>Whether a clause has ID <paramref name="id"/> (exact, case-sensitive).</summary>
    public bool Contains(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return _byId.ContainsKey(id);
    }

    /// <summary>Looks up a clause without throwing.</summary>
    public bool TryGet(string id, [NotNullWhen(true)] out Clause? clause)
    {
        ArgumentNullException.ThrowIfNull(id);
        return _byId.TryGetValue(id, out clause);
    }

    /// <summary>The clauses a run under <paramref name="profile"/> checks, in document order.</summary>
    public IReadOnlyList<Clause> InProfile(Profile profile) => All.Where(c => c.InProfile(profile)).ToList().AsReadOnly();

    /// <summary>The clauses of <paramref name="area"/>, in document order.</summary>
    public IReadOnlyList<Clause> InArea(ClauseArea area) => All.Where(c => c.Area == area).ToList().AsReadOnly();

    private string UnknownIdMessage(string id)
    {
        string prefix = id.Split('-')[0];
        List<string> sameArea = All.Where(c => c.Id.StartsWith(prefix + "-", StringComparison.Ordinal)).Select(c => c.Id).ToList();
        string hint = sameArea.Count > 0
            ? $"{prefix} clauses are: {string.Join(", ", sameArea)}."
            : $"Clause IDs start with one of {string.Join(", ", AreaPrefixes.Select(p => p.Prefix))}, e.g. PHYS-01 or MAP-D03.";
        return $"Unknown clause ID '{id}': spec/clauses.md has no such clause. {hint}";
    }

    private static ClauseCatalogue LoadEmbedded()
    {
        Assembly assembly = typeof(ClauseCatalogue).Assembly;
        using Stream stream = assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException(
                $"Embedded resource '{ResourceName}' not found in {assembly.GetName().Name}; check the EmbeddedResource item in Mmspec.SpecTests.csproj.");
        using StreamReader reader = new(stream);
        return Parse(reader.ReadToEnd());
    }

    [GeneratedRegex(@"^### (?<id>\S+) · (?<kind>\S+)$", RegexOptions.CultureInvariant)]
    private static partial Regex HeadingRegex();

    [GeneratedRegex(@"^(?<prefix>[A-Z]+)-(?<d>D)?(?<num>[0-9]{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex IdRegex();

    /// <summary>Line-by-line parser. Outside clauses (intro, section prose) anything goes except '###' lines;
    /// inside a clause only an optional quote block, then an optional Interpretation paragraph, and blank lines.</summary>
    private sealed class Parser(string markdown)
    {
        private enum Phase
        {
            Prose,
            AfterHeading,
            InQuote,
            AfterQuote,
            InInterpretation,
            AfterInterpretation,
        }

        private readonly List<Clause> _clauses = [];
        private readonly Dictionary<string, int> _headingLines = new(StringComparer.Ordinal);
        private Phase _phase = Phase.Prose;
        private int _fenceLine;

        // The clause being read.
        private string _id = "";
        private ClauseKind _kind;
        private ClauseArea _area;
        private int _headingLine;
        private readonly List<string> _quote = [];
        private readonly List<string> _interpretation = [];

        public List<Clause> Run()
        {
            string text = markdown.StartsWith('\uFEFF') ? markdown[1..] : markdown;
            string[] lines = text.Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                ReadLine(i + 1, lines[i].TrimEnd('\r').TrimEnd());
            }

            if (_fenceLine > 0)
            {
                throw new ClauseCatalogueFormatException(_fenceLine, "code block opened here is never closed.");
            }

            EndClause();
            if (_clauses.Count == 0)
            {
                throw new ClauseCatalogueFormatException(0, "no clauses found; a clause starts with a heading like '### PHYS-01 · normative'.");
            }

            return _clauses;
        }

        private void ReadLine(int n, string line)
        {
            bool isFence = line.StartsWith("```", StringComparison.Ordinal) || line.StartsWith("~~~", StringComparison.Ordinal);
            if (_fenceLine > 0)
            {
                if (isFence)
                {
                    _fenceLine = 0;
                }

                return;
            }

            int hashes = line.TakeWhile(c => c == '#').Count();
            if (hashes == 3)
            {
                EndClause();
                BeginClause(n, line);
                return;
            }

            if (hashes is 1 or 2 && line.Length > hashes && line[hashes] == ' ')
            {
                EndClause();
                return;
            }

            if (_phase == Phase.Prose)
            {
                if (isFence)
                {
                    _fenceLine = n;
                }

                return;
            }

            ReadClauseLine(n, line);
        }

        private void ReadClauseLine(int n, string line)
        {
            if (line.Length == 0)
            {
                _phase = _phase switch
                {
                    Phase.InQuote => Phase.AfterQuote,
                    Phase.InInterpretation => Phase.AfterInterpretation,
                    _ => _phase,
                };
                return;
            }

            if (line[0] == '>')
            {
                if (line.Length > 1 && line[1] != ' ')
                {
                    throw Error(n, $"quote lines start with '> ' (a space after '>'), found '{line}'.");
                }

                switch (_phase)
                {
                    case Phase.AfterHeading:
                    case Phase.InQuote:
                        _quote.Add(line.Length > 1 ? line[2..] : "");
                        _phase = Phase.InQuote;
                        return;
                    case Phase.AfterQuote:
                        throw Error(n, "the quote must be one contiguous block of '> ' lines (use a bare '>' line for a blank line inside it).");
                    default:
                        throw Error(n, "the quote must come before the Interpretation paragraph.");
                }
            }

            if (line.StartsWith(InterpretationPrefix, StringComparison.Ordinal))
            {
                switch (_phase)
                {
                    case Phase.AfterHeading:
                    case Phase.AfterQuote:
                        string first = line[InterpretationPrefix.Length..].Trim();
                        if (first.Length == 0)
                        {
                            throw Error(n, "the Interpretation paragraph must start on the 'Interpretation:' line.");
                        }

                        _interpretation.Add(first);
                        _phase = Phase.InInterpretation;
                        return;
                    case Phase.InQuote:
                        throw Error(n, "leave a blank line between the quote and the Interpretation paragraph.");
                    default:
                        throw Error(n, "a clause has at most one Interpretation paragraph.");
                }
            }

            if (_phase == Phase.InInterpretation)
            {
                _interpretation.Add(line.Trim());
                return;
            }

            if (_phase == Phase.InQuote)
            {
                throw Error(n, "every line of the quote must start with '> ' (a blank line ends the quote).");
            }

            throw Error(n, $"unexpected text '{line}': a clause holds only a '> ' quote block, then one paragraph starting with "
                + "'Interpretation:' (put any note inside that paragraph).");
        }

        private void BeginClause(int n, string line)
        {
            Match heading = HeadingRegex().Match(line);
            if (!heading.Success)
            {
                throw new ClauseCatalogueFormatException(n,
                    $"malformed clause heading '{line}': expected '### <ID> · <kind>', e.g. '### PHYS-01 · normative' (the separator is ' · ', a middle dot).");
            }

            string id = heading.Groups["id"].Value;
            Match idMatch = IdRegex().Match(id);
            if (!idMatch.Success)
            {
                throw new ClauseCatalogueFormatException(n,
                    $"malformed clause ID '{id}': expected an area prefix, '-', an optional 'D' and two digits, e.g. PHYS-01 or MAP-D03.");
            }

            string prefix = idMatch.Groups["prefix"].Value;
            int areaIndex = Array.FindIndex(AreaPrefixes, p => p.Prefix == prefix);
            if (areaIndex < 0)
            {
                throw new ClauseCatalogueFormatException(n,
                    $"unknown area '{prefix}' in clause ID '{id}': expected one of {string.Join(", ", AreaPrefixes.Select(p => p.Prefix))}.");
            }

            if (idMatch.Groups["num"].Value == "00")
            {
                throw new ClauseCatalogueFormatException(n, $"clause ID '{id}': numbers start at 01.");
            }

            string kindName = heading.Groups["kind"].Value;
            int kindIndex = Array.FindIndex(KindNames, k => k.Name == kindName);
            if (kindIndex < 0)
            {
                throw new ClauseCatalogueFormatException(n,
                    $"unknown clause kind '{kindName}' in clause {id}: expected one of {string.Join(", ", KindNames.Select(k => k.Name))}.");
            }

            ClauseKind kind = KindNames[kindIndex].Kind;
            bool dId = idMatch.Groups["d"].Success;
            if (dId && kind != ClauseKind.ImplementationDefined)
            {
                throw new ClauseCatalogueFormatException(n,
                    $"clause {id} has a '-D' ID but kind '{kindName}': '-D' IDs are for implementation-defined clauses only.");
            }

            if (!dId && kind == ClauseKind.ImplementationDefined)
            {
                throw new ClauseCatalogueFormatException(n,
                    $"implementation-defined clause {id} needs a '-D' ID, e.g. {prefix}-D{idMatch.Groups["num"].Value}.");
            }

            if (_headingLines.TryGetValue(id, out int firstLine))
            {
                throw new ClauseCatalogueFormatException(n, $"duplicate clause ID '{id}' (first defined on line {firstLine}).");
            }

            _headingLines.Add(id, n);
            _id = id;
            _kind = kind;
            _area = AreaPrefixes[areaIndex].Area;
            _headingLine = n;
            _quote.Clear();
            _interpretation.Clear();
            _phase = Phase.AfterHeading;
        }

        private void EndClause()
        {
            if (_phase == Phase.Prose)
            {
                return;
            }

            _phase = Phase.Prose;
            string? quote = TrimBlankLines(_quote) is { Count: > 0 } q ? string.Join("\n", q) : null;
            string? interpretation = _interpretation.Count > 0 ? string.Join(" ", _interpretation) : null;

            if (quote is null && _kind is ClauseKind.Normative or ClauseKind.Interpretation)
            {
                throw new ClauseCatalogueFormatException(_headingLine,
                    $"{KindName(_kind)} clause {_id} has no quote: add the spec text it rests on as '> ' lines under the heading.");
            }

            if (interpretation is null && _kind is ClauseKind.Interpretation or ClauseKind.ImplementationDefined)
            {
                throw new ClauseCatalogueFormatException(_headingLine,
                    $"{KindName(_kind)} clause {_id} has no 'Interpretation:' paragraph; it is required for this kind.");
            }

            _clauses.Add(new Clause(_id, _kind, _area, quote, interpretation, _headingLine));
        }

        private static List<string> TrimBlankLines(List<string> lines)
        {
            int start = lines.FindIndex(l => l.Trim().Length > 0);
            if (start < 0)
            {
                return [];
            }

            int end = lines.FindLastIndex(l => l.Trim().Length > 0);
            return lines.GetRange(start, end - start + 1);
        }

        private static string KindName(ClauseKind kind) => KindNames.First(k => k.Kind == kind).Name;

        private ClauseCatalogueFormatException Error(int n, string problem) => new(n, $"clause {_id} (heading on line {_headingLine}): {problem}");
    }
}
