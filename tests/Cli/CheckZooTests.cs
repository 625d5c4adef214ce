using System.Reflection;
using System.Text.Json;
using System.Xml.Linq;
using Mmspec.Cli;
using Mmspec.SpecTests.Catalogue;
using Mmspec.Tests.Reproducers;
using Mmspec.Zoo;

namespace Mmspec.Tests.Cli;

/// <summary>
/// A zoo member is nonconformant: exit 1, and the reports name the broken clause with a shrunk sequence and
/// both reproducers. Each run is the one shard that holds the member's catching property, so it takes a
/// second, not the whole catalogue. (Members caught by stateful.regions are left out: their shrinking takes
/// 15-20 s in a Debug build.)
/// </summary>
[Trait("Category", "Cli")]
public sealed class CheckZooTests
{
    /// <summary>The --shard value that runs <paramref name="propertyId"/> alone: n = the number of units.</summary>
    public static string ShardHolding(string propertyId)
    {
        List<string> units = WorkPlan.Units(Profile.Default).Select(property => property.Id).ToList();
        return $"{units.IndexOf(propertyId) + 1}/{units.Count}";
    }

    [Theory]
    [InlineData("umap-wrong-phys")]
    [InlineData("kmalloc-misaligned")]
    [InlineData("contiguous-short-by-one")]
    [InlineData("map-always-writable")]
    public void Zoo_member_exits_1_and_the_reports_name_the_clause_with_a_shrunk_sequence_and_reproducers(string name)
    {
        ZooMember member = ZooCatalogue.Find(name);
        using var scratch = new ScratchDirectory();
        CliRun run = CliRun.Of("check", "--impl", $"zoo:{name}", "--shard", ShardHolding(member.CaughtBy), "--report", scratch.Path);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains($"zoo:{name}: nonconformant", run.Stdout);
        var reports = new ReportFiles(scratch.Path);
        Assert.Equal($"zoo:{name}", reports.Json.GetProperty("implementation").GetString());
        Assert.Equal("nonconformant", ReportFiles.Verdict(reports.Json));

        JsonElement property = reports.Property(member.CaughtBy);
        Assert.Equal("fail", ReportFiles.Verdict(property));
        JsonElement failure = property.GetProperty("failure");
        string clause = failure.GetProperty("clause").GetString()!;
        Assert.True(ClauseCatalogue.Load().Contains(clause), $"failure names '{clause}', not a catalogue clause");
        Assert.Equal("fail", ReportFiles.Verdict(reports.Clause(clause)));
        Assert.Equal(member.CaughtBy, reports.Clause(clause).GetProperty("decidedBy").GetString());
        Assert.Matches($"(?m)^{clause}\\s+fail\\s+{member.CaughtBy}$", run.Stdout);

        int steps = failure.GetProperty("steps").GetArrayLength();
        Assert.InRange(steps, 1, member.MaxShrunkSteps);
        JsonElement[] trace = failure.GetProperty("trace").EnumerateArray().ToArray();
        Assert.NotEmpty(trace);
        Assert.All(trace, call => Assert.NotEqual("", call.GetProperty("returned").GetString()));
        Assert.Equal(reports.Json.GetProperty("seed").GetUInt64(), failure.GetProperty("seed").GetUInt64());

        JsonElement reproducers = failure.GetProperty("reproducers");
        string c = reproducers.GetProperty("c").GetString()!;
        string csharp = reproducers.GetProperty("csharp").GetString()!;
        Assert.Contains(clause, c);
        Assert.Contains("[Fact]", csharp);
        Assert.Equal(c, File.ReadAllText(scratch[$"repro/{member.CaughtBy}.{clause}.c"]));
        Assert.Equal(csharp, File.ReadAllText(scratch[$"repro/{member.CaughtBy}.{clause}.cs"]));

        XElement testCase = reports.Junit.Descendants("testcase").Single(t => (string?)t.Attribute("name") == member.CaughtBy);
        Assert.Equal($"zoo:{name}", (string?)testCase.Attribute("classname"));
        Assert.Contains($"[{clause}]", (string?)testCase.Element("failure")?.Attribute("message"));

        Assert.Contains("**nonconformant**", reports.Markdown.Split('\n')[0]);
        Assert.Contains($"{clause} broken in `{member.CaughtBy}`", reports.Markdown);
        Assert.Contains("```c\n" + trace[0].GetProperty("text").GetString(), reports.Markdown);
        Assert.Contains("<details><summary>C reproducer", reports.Markdown);
        Assert.Contains("<details><summary>C# reproducer", reports.Markdown);
    }

    [Fact]
    public void Clauses_only_the_failed_property_checks_are_untested_and_the_rest_not_applicable()
    {
        ZooMember member = ZooCatalogue.Find("umap-wrong-phys");
        using var scratch = new ScratchDirectory();
        CliRun run = CliRun.Of("check", "--impl", "zoo:umap-wrong-phys", "--shard", ShardHolding(member.CaughtBy), "--report", scratch.Path);

        Assert.True(run.ExitCode == 1, run.ToString());
        var reports = new ReportFiles(scratch.Path);
        Assert.Contains(reports.Clauses, clause => ReportFiles.Verdict(clause) == "untested");
        Assert.Contains(reports.Clauses, clause => ReportFiles.Verdict(clause) == "not-applicable");
        Assert.DoesNotContain(reports.Clauses, clause => ReportFiles.Verdict(clause) == "pass");
        Assert.All(reports.Clauses.Where(clause => ReportFiles.Verdict(clause) == "untested"),
            clause => Assert.Equal(member.CaughtBy, clause.GetProperty("decidedBy").GetString()));
    }

    [Fact]
    public void Report_directory_reused_by_a_passing_run_keeps_no_reproducer_of_the_earlier_failure()
    {
        ZooMember member = ZooCatalogue.Find("umap-wrong-phys");
        using var scratch = new ScratchDirectory();
        string shard = ShardHolding(member.CaughtBy);
        Assert.Equal(1, CliRun.Of("check", "--impl", "zoo:umap-wrong-phys", "--shard", shard, "--report", scratch.Path).ExitCode);
        string stem = $"repro/{member.CaughtBy}.{ReproducerClause(scratch.Path, member.CaughtBy)}";
        Assert.True(File.Exists(scratch[stem + ".c"]));
        string mine = scratch.Write("repro/notes.txt", "kept: not a file check writes");

        CliRun run = CliRun.Of("check", "--shard", shard, "--max-test", "5", "--report", scratch.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.False(File.Exists(scratch[stem + ".c"]));
        Assert.False(File.Exists(scratch[stem + ".cs"]));
        Assert.True(File.Exists(mine));
    }

    [Fact]
    public void CSharp_reproducer_file_compiles_as_written_fails_on_the_member_and_passes_on_the_reference()
    {
        ZooMember member = ZooCatalogue.Find("umap-wrong-phys");
        using var scratch = new ScratchDirectory();
        CliRun run = CliRun.Of("check", "--impl", "zoo:umap-wrong-phys", "--shard", ShardHolding(member.CaughtBy), "--report", scratch.Path);
        Assert.True(run.ExitCode == 1, run.ToString());
        string source = File.ReadAllText(scratch[$"repro/{member.CaughtBy}.{ReproducerClause(scratch.Path, member.CaughtBy)}.cs"]);

        Assert.IsType<Xunit.Sdk.TrueException>(RunReproducer(source));
        string onReference = source.Replace("Mmspec.Zoo.ZooCatalogue.Find(\"umap-wrong-phys\").Factory", "new ReferenceFactory()");
        Assert.NotEqual(source, onReference);
        Assert.Null(RunReproducer(onReference));
    }

    /// <summary>The clause of the property's first failure in the reports: reproducer files are named after both.</summary>
    private static string ReproducerClause(string reports, string propertyId) =>
        new ReportFiles(reports).Property(propertyId).GetProperty("failure").GetProperty("clause").GetString()!;

    private static Exception? RunReproducer(string source)
    {
        Assembly compiled = InMemoryCompiler.Compile(source);
        Type test = Assert.Single(compiled.GetTypes(), type => type.GetMethods().Any(IsFact));
        return InMemoryCompiler.Run(compiled, test.FullName!, test.GetMethods().Single(IsFact).Name);
    }

    private static bool IsFact(MethodInfo method) => method.GetCustomAttribute<FactAttribute>() is not null;
}
