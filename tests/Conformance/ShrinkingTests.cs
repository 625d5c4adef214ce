using FsCheck.Fluent;
using Mmspec.SpecTests.Sequences;
using G = Mmspec.SpecTests.Sequences.OperationGenerators;

namespace Mmspec.Tests.Conformance;

/// <summary>Shrinking converges: a simpler step is never the step itself, or FsCheck would replay it forever.</summary>
public sealed class ShrinkingTests
{
    private static readonly string[] KindNames =
        ["AllocPage", "AllocContiguous", "FreePage", "FreeBad", "Hog", "Release", "CreateSpace", "Kmalloc", "KmallocBurst", "Kfree", "Map", "MapKernelUser", "MapGet", "Unmap",
         "VmFind", "VmAlloc", "VmAllocRemaining", "VmFree"];

    public static TheoryData<string> Kinds() => new(KindNames);

    [Theory, MemberData(nameof(Kinds))]
    public void No_step_shrinks_to_itself(string kind)
    {
        var stepKind = (StepKind)typeof(OperationGenerators).GetField(kind)!.GetValue(null)!;
        // Plain, and with every swarm favourite (sizes, the newest item) so that the generator's other branches are sampled too.
        Swarm[] swarms = [Swarm.Plain([stepKind]), new Swarm([stepKind.Name], [48, 4096], 12)];
        foreach (Swarm swarm in swarms)
            foreach (Operation step in stepKind.Generator(swarm).Sample(20, 500))
            {
                Assert.IsType(stepKind.Produces, step);
                foreach (Operation simpler in step.Simpler())
                    Assert.True(simpler != step, $"{step} shrinks to itself");
            }
    }

    [Fact]
    public void A_vmalloc_of_one_page_with_other_flags_shrinks_only_its_flags()
    {
        var step = new VmAlloc(0, new SearchRange(new AddressPick(Area.UserLow, 0), 4, 0), 1, Mmspec.Models.State.Rights.User);
        Assert.Equal([step with { Flags = Mmspec.Models.State.Rights.Write }], step.Simpler());
    }

    [Fact]
    public void Every_generator_of_a_step_kind_is_listed_here()
    {
        var generators = typeof(OperationGenerators).GetFields().Where(field => field.FieldType == typeof(StepKind)).Select(field => field.Name);
        Assert.Equal(generators.Order(), KindNames.Order());
    }
}
