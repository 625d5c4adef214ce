using System.Text.RegularExpressions;
using Mmspec.SpecTests.Catalogue;

namespace Mmspec.Tests.Catalogue;

/// <summary>The embedded clause catalogue (spec/clauses.md) is well formed and matches the spec; the parser is strict.</summary>
public sealed partial class ClauseCatalogueTests
{
    private static readonly ClauseCatalogue Catalogue = ClauseCatalogue.Load();

    private static readonly Lazy<string> NormalizedSpec = new(() => Normalize(File.ReadAllText(SpecPath())));

    public static TheoryData<string> QuotedClauseIds()
    {
        TheoryData<string> data = [];
        foreach (Clause clause in Catalogue.All.Where(c => c.Quote is not null))
        {
            data.Add(clause.Id);
        }

        return data;
    }

    public static TheoryData<ClauseArea> Areas()
    {
        TheoryData<ClauseArea> data = [];
        foreach (ClauseArea area in Enum.GetValues<ClauseArea>())
        {
            data.Add(area);
        }

        return data;
    }

    // ---- The embedded catalogue ----

    [Fact]
    public void Load_ReturnsTheEmbeddedCatalogue()
    {
        Assert.True(Catalogue.All.Count >= 40, $"expected at least 40 clauses, found {Catalogue.All.Count}");
        Assert.Same(Catalogue, ClauseCatalogue.Load());
    }

    [Fact]
    public void Ids_AreWellFormed_AndMatchAreaAndKind()
    {
        foreach (Clause clause in Catalogue.All)
        {
            Match m = WellFormedId().Match(clause.Id);
            Assert.True(m.Success, $"line {clause.Line}: malformed ID '{clause.Id}'");
            Assert.Equal(ClauseCatalogue.AreaPrefix(clause.Area), m.Groups["prefix"].Value);
            Assert.True(m.Groups["d"].Success == clause.IsImplementationDefined,
                $"{clause.Id}: '-D' IDs and implementation-defined clauses must go together");
        }
    }

    [Fact]
    public void Ids_AreUnique()
    {
        string[] duplicates = Catalogue.All.GroupBy(c => c.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.Empty(duplicates);
    }

    [Fact]
    public void Ids_AscendInDocumentOrder_WithinEachAreaAndSeries()
    {
        foreach (IGrouping<(ClauseArea, bool), Clause> series in Catalogue.All.GroupBy(c => (c.Area, c.IsImplementationDefined)))
        {
            int[] numbers = series.Select(c => int.Parse(c.Id[^2..], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.True(numbers.SequenceEqual(numbers.Order()),
                $"{string.Join(", ", series.Select(c => c.Id))} are not in ascending order in clauses.md");
        }
    }

    [Fact]
    public void EveryQuotedClause_IsCheckedBelow()
    {
        // Guards the theory below against an empty data set.
        Assert.NotEmpty(QuotedClauseIds());
    }

    [Theory]
    [MemberData(nameof(QuotedClauseIds))]
    public void Quote_OccursVerbatimInTheSpec(string id)
    {
        Clause clause = Catalogue[id];
        string quote = Normalize(clause.Quote!);
        Assert.True(NormalizedSpec.Value.Contains(quote, StringComparison.Ordinal),
            $"{id} (clauses.md line {clause.Line}): quote not found in {SpecPath()}:\n{quote}");
    }

    [Fact]
    public void NormativeAndInterpretationClauses_HaveQuotes()
    {
        Assert.All(Catalogue.All.Where(c => !c.IsImplementationDefined), c => Assert.False(string.IsNullOrWhiteSpace(c.Quote), c.Id));
    }

    [Fact]
    public void InterpretationAndImplementationDefinedClauses_HaveInterpretations()
    {
        Assert.All(Catalogue.All.Where(c => c.Kind != ClauseKind.Normative),
            c => Assert.False(string.IsNullOrWhiteSpace(c.Interpretation), c.Id));
    }

    [Theory]
    [MemberData(nameof(Areas))]
    public void EveryArea_HasImplementationDefinedClauses(ClauseArea area)
    {
        Assert.Contains(Catalogue.InArea(area), c => c.Kind == ClauseKind.ImplementationDefined);
    }

    [Theory]
    [MemberData(nameof(Areas))]
    public void EveryArea_HasSpecBackedClauses(ClauseArea area)
    {
        // Normative or interpretation: the heap section, for one, is a single informal sentence, so HEAP has only interpretations.
        Assert.Contains(Catalogue.InArea(area), c => c.InProfile(Profile.Default));
    }

    [Fact]
    public void DefaultProfile_IsNormativeAndInterpretation_StrictProfile_IsEverything()
    {
        Assert.Equal(Catalogue.All.Where(c => c.Kind != ClauseKind.ImplementationDefined), Catalogue.InProfile(Profile.Default));
        Assert.Equal(Catalogue.All, Catalogue.InProfile(Profile.Strict));
        Assert.Contains(Catalogue.All, c => c.Kind == ClauseKind.Interpretation);
        Assert.All(Catalogue.All, c => Assert.True(c.InProfile(Profile.Strict)));
    }

    [Fact]
    public void Indexer_ReturnsTheClause_AndContainsAgrees()
    {
        Clause first = Catalogue.All[0];
        Assert.Same(first, Catalogue[first.Id]);
        Assert.True(Catalogue.Contains(first.Id));
        Assert.True(Catalogue.TryGet(first.Id, out Clause? found));
        Assert.Same(first, found);
    }

    [Theory]
    [InlineData("PHYS-99")]
    [InlineData("phys-01")]
    [InlineData("NOPE-01")]
    [InlineData("")]
    public void Indexer_ThrowsAClearError_OnUnknownIds(string id)
    {
        Assert.False(Catalogue.Contains(id));
        Assert.False(Catalogue.TryGet(id, out _));
        KeyNotFoundException e = Assert.Throws<KeyNotFoundException>(() => Catalogue[id]);
        Assert.Contains($"'{id}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("clauses.md", e.Message, StringComparison.Ordinal);
    }

    // ---- The parser ----

    [Fact]
    public void Parse_ReadsAWellFormedDocument()
    {
        ClauseCatalogue catalogue = ClauseCatalogue.Parse(Lines(
            "# Title",                                   // 1
            "",                                          // 2
            "Intro prose, with an example:",             // 3
            "```",                                       // 4
            "### not a clause, inside a code block",     // 5
            "```",                                       // 6
            "## Physical pages",                         // 7
            "",                                          // 8
            "Section prose.",                            // 9
            "",                                          // 10
            "### PHYS-01 · normative",                   // 11
            "> first line",                              // 12
            ">",                                         // 13
            "> * second line",                           // 14
            "",                                          // 15
            "### PHYS-D01 · implementation-defined",     // 16
            "Interpretation: one",                       // 17
            "  two",                                     // 18
            "## Mappings",                               // 19
            "### MAP-01 · interpretation",               // 20
            "> quoted",                                  // 21
            "",                                          // 22
            "Interpretation: read."));                   // 23

        Assert.Equal(new[] { "PHYS-01", "PHYS-D01", "MAP-01" }, catalogue.All.Select(c => c.Id));

        Clause phys = catalogue["PHYS-01"];
        Assert.Equal(new Clause("PHYS-01", ClauseKind.Normative, ClauseArea.Phys, "first line\n\n* second line", null, 11), phys);

        Clause decision = catalogue["PHYS-D01"];
        Assert.Equal(new Clause("PHYS-D01", ClauseKind.ImplementationDefined, ClauseArea.Phys, null, "one two", 16), decision);
        Assert.False(decision.InProfile(Profile.Default));
        Assert.True(decision.InProfile(Profile.Strict));

        Clause map = catalogue["MAP-01"];
        Assert.Equal(new Clause("MAP-01", ClauseKind.Interpretation, ClauseArea.Map, "quoted", "read.", 20), map);
        Assert.True(map.InProfile(Profile.Default));
    }

    [Fact]
    public void Parse_AcceptsCrLfAndABom()
    {
        ClauseCatalogue catalogue = ClauseCatalogue.Parse("\uFEFF### VM-01 · normative\r\n> a\r\n> b\r\n\r\nInterpretation: c\r\n");
        Assert.Equal(new Clause("VM-01", ClauseKind.Normative, ClauseArea.Vm, "a\nb", "c", 1), catalogue["VM-01"]);
    }

    [Theory]
    [InlineData("### PHYS-01 normative")]
    [InlineData("### PHYS-01 - normative")]
    [InlineData("### PHYS-01 ·normative")]
    [InlineData("###PHYS-01 · normative")]
    [InlineData("### PHYS-01 · normative extra")]
    [InlineData("###")]
    public void Parse_RejectsMalformedHeadings(string heading)
    {
        ClauseCatalogueFormatException e = ParseFails("intro", "", heading, "> q");
        Assert.Equal(3, e.LineNumber);
        Assert.Contains("malformed clause heading", e.Message, StringComparison.Ordinal);
        Assert.StartsWith("clauses.md line 3:", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("### PHYS01 · normative")]
    [InlineData("### phys-01 · normative")]
    [InlineData("### PHYS-1 · normative")]
    [InlineData("### PHYS-001 · normative")]
    [InlineData("### PHYS-X01 · normative")]
    public void Parse_RejectsMalformedIds(string heading)
    {
        ClauseCatalogueFormatException e = ParseFails("", heading, "> q");
        Assert.Equal(2, e.LineNumber);
        Assert.Contains("malformed clause ID", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RejectsClauseNumberZero()
    {
        Assert.Equal(1, ParseFails("### PHYS-00 · normative", "> q").LineNumber);
    }

    [Fact]
    public void Parse_RejectsUnknownAreas()
    {
        ClauseCatalogueFormatException e = ParseFails("### PHYS-01 · normative", "> q", "", "### MEM-01 · normative", "> q");
        Assert.Equal(4, e.LineNumber);
        Assert.Contains("unknown area 'MEM'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("informative")]
    [InlineData("Normative")]
    [InlineData("implementation_defined")]
    public void Parse_RejectsUnknownKinds(string kind)
    {
        ClauseCatalogueFormatException e = ParseFails("### HEAP-01 · " + kind, "> q");
        Assert.Equal(1, e.LineNumber);
        Assert.Contains($"unknown clause kind '{kind}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RejectsDuplicateIds_AtTheSecondHeading()
    {
        ClauseCatalogueFormatException e = ParseFails(
            "### MAP-01 · normative", "> a", "", "### MAP-02 · normative", "> b", "", "### MAP-01 · normative", "> c");
        Assert.Equal(7, e.LineNumber);
        Assert.Contains("duplicate clause ID 'MAP-01' (first defined on line 1)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("normative")]
    [InlineData("interpretation")]
    public void Parse_RejectsSpecBackedClausesWithoutQuote(string kind)
    {
        ClauseCatalogueFormatException e = ParseFails("## Area", "", "### DMAP-02 · " + kind, "", "Interpretation: x", "", "## Next");
        Assert.Equal(3, e.LineNumber);
        Assert.Contains("has no quote", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RejectsAnEmptyQuote()
    {
        Assert.Contains("has no quote", ParseFails("### DMAP-01 · normative", ">", ">").Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("### VM-01 · interpretation", "> q")]
    [InlineData("### VM-D01 · implementation-defined", "> q")]
    [InlineData("### VM-D01 · implementation-defined", "")]
    public void Parse_RejectsClausesMissingARequiredInterpretation(string heading, string body)
    {
        ClauseCatalogueFormatException e = ParseFails("### VM-02 · normative", "> q", "", heading, body);
        Assert.Equal(4, e.LineNumber);
        Assert.Contains("has no 'Interpretation:' paragraph", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("### MAP-D01 · normative")]
    [InlineData("### MAP-D01 · interpretation")]
    [InlineData("### MAP-01 · implementation-defined")]
    public void Parse_RejectsKindsThatDisagreeWithTheId(string heading)
    {
        ClauseCatalogueFormatException e = ParseFails(heading, "> q", "", "Interpretation: x");
        Assert.Equal(1, e.LineNumber);
        Assert.Contains("-D", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3, "### PHYS-01 · normative", "> q", "stray text")]
    [InlineData(4, "### PHYS-01 · normative", "> q", "", "stray text")]
    [InlineData(6, "### PHYS-01 · normative", "> q", "", "Interpretation: x", "", "another paragraph")]
    [InlineData(4, "### PHYS-01 · normative", "> a", "", "> b")]
    [InlineData(4, "### PHYS-01 · normative", "", "Interpretation: x", "> late quote")]
    [InlineData(3, "### PHYS-01 · normative", "> q", "Interpretation: glued to the quote")]
    [InlineData(6, "### PHYS-01 · normative", "> q", "", "Interpretation: x", "", "Interpretation: y")]
    [InlineData(4, "### PHYS-01 · normative", "> q", "", "Interpretation:")]
    [InlineData(2, "### PHYS-01 · normative", ">no space")]
    [InlineData(4, "### PHYS-01 · normative", "> q", "", "```", "code", "```")]
    [InlineData(4, "### PHYS-01 · normative", "> q", "", "#### Sub-heading")]
    public void Parse_RejectsStrayTextInsideAClause(int expectedLine, params string[] lines)
    {
        ClauseCatalogueFormatException e = ParseFails(lines);
        Assert.Equal(expectedLine, e.LineNumber);
        Assert.Contains("clause PHYS-01 (heading on line 1)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RejectsAnUnclosedCodeBlock()
    {
        Assert.Equal(2, ParseFails("intro", "```", "### PHYS-01 · normative", "> q").LineNumber);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# Title\n\nJust prose.\n\n## Area\n")]
    public void Parse_RejectsADocumentWithoutClauses(string markdown)
    {
        ClauseCatalogueFormatException e = Assert.Throws<ClauseCatalogueFormatException>(() => ClauseCatalogue.Parse(markdown));
        Assert.Equal(0, e.LineNumber);
        Assert.Contains("no clauses", e.Message, StringComparison.Ordinal);
    }

    // ---- Helpers ----

    private static ClauseCatalogueFormatException ParseFails(params string[] lines) =>
        Assert.Throws<ClauseCatalogueFormatException>(() => ClauseCatalogue.Parse(Lines(lines)));

    private static string Lines(params string[] lines) => string.Join("\n", lines);

    /// <summary>Makes spec text and quotes comparable: drops the rst double backticks and collapses whitespace.</summary>
    private static string Normalize(string text) => Whitespace().Replace(text.Replace("``", "", StringComparison.Ordinal), " ").Trim();

    private static string SpecPath()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "mmspec.sln")))
            {
                string spec = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "spec", "memory-management.rst"));
                Assert.True(File.Exists(spec), $"spec not found at {spec} (expected ../shared/spec/ next to the repo root {dir.FullName})");
                return spec;
            }
        }

        Assert.Fail($"no folder holding mmspec.sln above {AppContext.BaseDirectory}");
        return "";
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"^(?<prefix>PHYS|HEAP|DMAP|MAP|VM)-(?<d>D)?[0-9]{2}$")]
    private static partial Regex WellFormedId();
}
