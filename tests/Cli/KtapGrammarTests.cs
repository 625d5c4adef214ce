namespace Mmspec.Tests.Cli;

/// <summary>The KTAP checker itself: it accepts KTAP as KUnit prints it and rejects each way a document can be broken.</summary>
[Trait("Category", "Cli")]
public sealed class KtapGrammarTests
{
    private const string Valid =
        """
        KTAP version 1
        1..3
        # a diagnostic before the first test
            KTAP version 1
            # Subtest: suite
            1..3
            ok 1 first
            # why the second failed
            not ok 2 second
            ok 3 third # SKIP not applicable
        not ok 1 suite
        ok 2 expected # XFAIL known bug
        not ok 3 cut short # ERROR interrupted

        """;

    [Fact]
    public void Accepts_nested_KTAP_with_diagnostics_and_directives()
    {
        IReadOnlyList<KtapTest> tests = KtapGrammar.Parse(Valid);

        Assert.Equal(["suite", "expected", "cut short"], tests.Select(test => test.Name));
        KtapTest suite = tests[0];
        Assert.False(suite.Ok);
        Assert.Equal(["a diagnostic before the first test"], suite.Diagnostics);
        Assert.Equal(3, suite.Subtests.Count);
        Assert.Equal(["why the second failed"], suite.Subtest("second").Diagnostics);
        Assert.Equal(("SKIP", "not applicable"), (suite.Subtest("third").Directive, suite.Subtest("third").Reason));
        Assert.Equal(("XFAIL", "known bug"), (tests[1].Directive, tests[1].Reason));
    }

    [Theory]
    [InlineData("KTAP version 1\n1..2\nok 1 a\nok 3 b\n", "test number 3, expected 2")]
    [InlineData("KTAP version 1\nok 1 a\n", "expected the plan")]
    [InlineData("KTAP version 1\n1..2\nok 1 a\n", "the plan says 1..2 but 1 result")]
    [InlineData("TAP version 14\n1..1\nok 1 a\n", "expected 'KTAP version 1'")]
    [InlineData("KTAP version 1\n1..1\n    1..1\n    ok 1 x\nok 1 a\n", "expected '    KTAP version 1'")]
    [InlineData("KTAP version 1\n1..1\n    KTAP version 1\n    ok 1 x\nok 1 a\n", "expected the plan '    1..N'")]
    [InlineData("KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n  ok 1 x\nok 1 a\n", "indented exactly 4 spaces")]
    [InlineData("KTAP version 1\n1..1\n    KTAP version 1\n    1..1\n    ok 2 x\nok 1 a\n", "test number 2, expected 1")]
    [InlineData("KTAP version 1\n1..1\n    KTAP version 1\n    1..1\n    ok 1 x\n# between\nok 1 a\n", "followed directly by its parent's result line")]
    [InlineData("KTAP version 1\n1..1\n    KTAP version 1\n    1..1\n    not ok 1 x\nok 1 a\n", "must be 'not ok'")]
    [InlineData("KTAP version 1\n1..1\nok 1 a#b\n", "not a version, plan, diagnostic or result line")]
    [InlineData("KTAP version 1\n1..1\nok 1 a # TIMEOUT slow\n", "TIMEOUT needs 'not ok'")]
    [InlineData("KTAP version 1\n1..1\nsomething else\nok 1 a\n", "not a version, plan, diagnostic or result line")]
    [InlineData("KTAP version 1\n1..1\n\nok 1 a\n", "blank line")]
    [InlineData("KTAP version 1\n1..1\nok 1 a", "no newline")]
    public void Rejects_broken_KTAP(string text, string reason)
    {
        var broken = Assert.Throws<KtapGrammarException>(() => KtapGrammar.Parse(text));
        Assert.Contains(reason, broken.Message, StringComparison.Ordinal);
    }
}
