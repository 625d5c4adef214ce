using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Reproducers;
using Mmspec.Zoo;
using Xunit.Sdk;

namespace Mmspec.Tests.Reproducers;

/// <summary>A failure's reproducers must show the bug: the C# one fails against the member and passes on the reference.</summary>
public sealed class ReproducerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Theory]
    [InlineData("umap-wrong-phys")]
    [InlineData("vmfind-inclusive-to")]
    [InlineData("kmalloc-misaligned")]
    [InlineData("contiguous-short-by-one")]
    public void CSharp_reproducer_fails_on_the_member_and_passes_on_the_reference(string name)
    {
        (PropertyResult result, RunSettings settings) = Caught(name);
        (string className, string method) = CSharpReproducer.EntryPoint(result);

        string againstMember = Reproducer.CSharp(result, settings, $"Mmspec.Zoo.ZooCatalogue.Find(\"{name}\").Factory");
        Exception? onMember = InMemoryCompiler.Run(InMemoryCompiler.Compile(againstMember), className, method);
        Assert.IsType<TrueException>(onMember);
        Assert.Contains(result.Failure!.Violation.Clause, onMember.Message);

        string againstReference = Reproducer.CSharp(result, settings, "new ReferenceFactory()");
        Exception? onReference = InMemoryCompiler.Run(InMemoryCompiler.Compile(againstReference), className, method);
        Assert.Null(onReference);
    }

    [Fact]
    public void C_reproducer_replays_the_shrunk_calls_and_asserts_the_spec_at_the_failing_one()
    {
        (PropertyResult result, RunSettings settings) = Caught("umap-wrong-phys");
        Failure failure = result.Failure!;
        string c = Reproducer.C(result, settings, "zoo:umap-wrong-phys");
        output.WriteLine(c);
        output.WriteLine(Reproducer.CSharp(result, settings, "new ReferenceFactory()"));

        Assert.Contains($"breaks {failure.Violation.Clause}", c);
        Assert.Contains("#include \"mmspec.h\"", c);
        int position = 0;
        foreach (CallRecord call in failure.Trace)
        {
            int found = c.IndexOf(call.Call.ToC(), position, StringComparison.Ordinal);
            Assert.True(found >= 0, $"the reproducer lacks {call.Call.ToC()} (in order)");
            position = found;
        }
        string expected = failure.Violation.Expected!.Replace("r ", $"r{failure.Trace.Count} ", StringComparison.Ordinal);
        Assert.Contains($"assert({expected});", c[position..]);
        Assert.Contains("mm_phys_free_page(drained[i]);", c); // the stateful runner's baseline is part of the replay
    }

    [Fact]
    public void Values_become_CSharp_literals_that_rebuild_them()
    {
        Assert.Equal("0x8000000000UL", CSharpLiteral.Of(0x8000000000UL));
        Assert.Equal("3u", CSharpLiteral.Of(3u));
        Assert.Equal("Profile.Strict", CSharpLiteral.Of(Profile.Strict));
        Assert.Equal("(Rights)3", CSharpLiteral.Of(Mmspec.Models.State.Rights.User | Mmspec.Models.State.Rights.Write));
        Assert.Equal("new Kfree(new LivePick(PickRule.Ordinal, 2), KfreeKind.Double)", CSharpLiteral.Of(new Mmspec.SpecTests.Sequences.Kfree(2, Mmspec.SpecTests.Sequences.KfreeKind.Double)));
        Assert.Equal("new FreePage(new LivePick(PickRule.NearLastFreed, 1))",
            CSharpLiteral.Of(new Mmspec.SpecTests.Sequences.FreePage(new Mmspec.SpecTests.Sequences.LivePick(Mmspec.SpecTests.Sequences.PickRule.NearLastFreed, 1))));
    }

    private static (PropertyResult, RunSettings) Caught(string name)
    {
        ZooMember member = ZooCatalogue.Find(name);
        var settings = new RunSettings(Profile.Default);
        PropertyResult result = PropertyCatalogue.Find(member.CaughtBy).Check(member.Factory, settings);
        Assert.Equal(Verdict.Failed, result.Verdict);
        return (result, settings);
    }
}
