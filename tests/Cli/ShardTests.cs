using System.Text.Json;
using Mmspec.Cli;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Tests.Cli;

/// <summary>n jobs with --shard 1/n … n/n run exactly what one run does, with the same results.</summary>
[Trait("Category", "Cli")]
public sealed class ShardTests
{
    [Fact]
    public void Shards_1_to_3_of_3_together_run_the_properties_of_one_run_once_each_with_the_same_results()
    {
        using var scratch = new ScratchDirectory();
        Dictionary<string, (int Tests, long Steps)> whole = Run(scratch, "whole", "1/1");
        var sharded = new List<(string Id, (int Tests, long Steps) Result)>();
        for (int shard = 1; shard <= 3; shard++)
            sharded.AddRange(Run(scratch, $"shard{shard}", $"{shard}/3").Select(pair => (pair.Key, pair.Value)));

        Assert.Equal(PropertyCatalogue.All.Where(p => p.MinimumProfile == Profile.Default).Select(p => p.Id).Order(), whole.Keys.Order());
        Assert.Equal(whole.Keys.Order(), sharded.Select(s => s.Id).Order()); // the union, with no property twice
        Assert.All(sharded, s => Assert.Equal(whole[s.Id], s.Result));
    }

    [Theory]
    [InlineData(6)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(9)]
    public void Every_unit_falls_in_exactly_one_shard(int count)
    {
        IReadOnlyList<ISpecProperty> units = WorkPlan.Units(Profile.Strict);
        var taken = Enumerable.Range(1, count).SelectMany(index => WorkPlan.Units(Profile.Strict, new Shard(index, count))).ToList();
        Assert.Equal(units.Select(u => u.Id).Order(), taken.Select(u => u.Id).Order());
    }

    private static Dictionary<string, (int Tests, long Steps)> Run(ScratchDirectory scratch, string name, string shard)
    {
        CliRun run = CliRun.Of("check", "--max-test", "5", "--shard", shard, "--report", scratch[name]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var reports = new ReportFiles(scratch[name]);
        Assert.Equal(shard, reports.Json.GetProperty("shard").GetString());
        return reports.Properties.ToDictionary(
            property => property.GetProperty("id").GetString()!,
            property => (property.GetProperty("tests").GetInt32(), property.GetProperty("steps").GetInt64()));
    }
}
