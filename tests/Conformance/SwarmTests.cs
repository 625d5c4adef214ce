using FsCheck.Fluent;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;
using G = Mmspec.SpecTests.Sequences.OperationGenerators;

namespace Mmspec.Tests.Conformance;

/// <summary>Each sequence draws a swarm configuration first: a subset of step kinds, favoured kmalloc sizes, a weight for the newest item.</summary>
public sealed class SwarmTests
{
    private static readonly StepKind[] Kinds = [G.AllocPage, G.FreePage, G.Kmalloc, G.Kfree, G.Map, G.Unmap];

    [Fact]
    public void Each_kind_is_in_about_half_the_configurations_and_none_is_empty()
    {
        List<Swarm> swarms = Swarm.Generator(Kinds).Sample(2000, 10).ToList();

        Assert.All(swarms, swarm => Assert.NotEmpty(swarm.Kinds));
        foreach (StepKind kind in Kinds)
            Assert.InRange(swarms.Count(swarm => swarm.Kinds.Contains(kind.Name)) / (double)swarms.Count, 0.4, 0.62);
        Assert.Contains(swarms, swarm => swarm.Kinds.Count == 1);
        Assert.Contains(swarms, swarm => swarm.KmallocSizes.Count > 0);
        Assert.Contains(swarms, swarm => swarm.NewestWeight == 0);
    }

    [Fact]
    public void Favoured_sizes_fill_one_size_class()
    {
        var swarm = new Swarm(["Kmalloc"], [48], Swarm.UsualNewestWeight);
        List<ulong> sizes = G.Kmalloc.Generator(swarm).Sample(400, 10).Cast<Kmalloc>().Select(step => step.Size).ToList();

        Assert.InRange(sizes.Count(size => size == 48), 140, 260);
    }

    [Fact]
    public void A_configuration_shrinks_to_what_the_steps_still_use()
    {
        var swarm = new Swarm(["AllocPage", "Kmalloc", "Kfree", "Map"], [48, 100], 12);

        Swarm used = swarm.UsedBy([new Kmalloc(48), new AllocPages(1, false)], Kinds);

        Assert.Equal(["AllocPage", "Kmalloc"], used.Kinds);
        Assert.Equal([48UL], used.KmallocSizes);
        Assert.Equal("steps drawn from AllocPage, Kmalloc; kmalloc favours 48; newest-item weight 12", used.ToString());
    }

    [Fact]
    public void A_failure_shows_the_configuration_its_sequence_was_drawn_from()
    {
        ZooMember member = ZooCatalogue.Find("umap-wrong-phys");
        Failure failure = PropertyCatalogue.Find(member.CaughtBy).Check(member.Factory, new RunSettings(Profile.Default)).Failure!;

        Assert.StartsWith("steps drawn from ", failure.Configuration);
        Assert.Contains("Unmap", failure.Configuration); // the shrunk sequence unmaps: that kind was drawn
        Assert.Contains(failure.Configuration!, failure.Describe());
    }
}
