using System.Globalization;
using System.Xml.Linq;

namespace Mmspec.Cli.Reports;

/// <summary>
/// junit.xml: one testsuite, one testcase per property run, for CI systems' test tabs. The classname is the
/// implementation so runs of several implementations can share a dashboard; expected failures are skipped
/// tests, which CI systems show without failing the build.
/// </summary>
public static class JunitReport
{
    public static string Render(CheckOutcome outcome)
    {
        string implementation = outcome.Implementation.Name;
        var suite = new XElement("testsuite",
            new XAttribute("name", $"mmspec check {implementation} ({CheckOptions.ProfileName(outcome.Options.Profile)})"),
            new XAttribute("tests", outcome.Properties.Count),
            new XAttribute("failures", outcome.Count(PropertyVerdict.Fail)),
            new XAttribute("errors", 0),
            new XAttribute("skipped", outcome.Count(PropertyVerdict.ExpectedFail) + outcome.Count(PropertyVerdict.NotApplicable) + outcome.Count(PropertyVerdict.Interrupted)),
            new XAttribute("time", Seconds(outcome.Wall)),
            new XElement("properties",
                Property("implementation", implementation),
                Property("profile", CheckOptions.ProfileName(outcome.Options.Profile)),
                Property("seed", outcome.Options.Seed.ToString(CultureInfo.InvariantCulture)),
                Property("max-test", outcome.Options.MaxTest.ToString(CultureInfo.InvariantCulture)),
                Property("shard", outcome.Options.Shard.ToString()),
                Property("interrupted", outcome.Interrupted ?? "")),
            outcome.Properties.Select(property => TestCase(property, implementation)));
        if (outcome.StaleExpectations.Count > 0)
            suite.Add(new XElement("system-out", string.Join("\n", outcome.StaleExpectations.Select(stale => stale.Message))));
        var document = new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("testsuites", suite));
        return document.Declaration + "\n" + document.Root + "\n";
    }

    private static XElement TestCase(PropertyOutcome property, string implementation)
    {
        var testCase = new XElement("testcase",
            new XAttribute("name", property.Id),
            new XAttribute("classname", implementation),
            new XAttribute("time", Seconds(property.Result.Elapsed)));
        List<FoundFailure> unexpected = property.Failures.Where(found => !found.Expected).ToList();
        switch (property.Verdict)
        {
            case PropertyVerdict.Fail:
                // One failure element (CI systems show the first), naming every clause the property broke.
                string description = string.Join("\n\n", unexpected.Select(found => found.Failure.Describe()));
                testCase.Add(new XElement("failure",
                    new XAttribute("message", unexpected[0].Failure.Describe()),
                    new XAttribute("type", string.Join(",", unexpected.Select(found => found.Clause))),
                    description));
                break;
            case PropertyVerdict.ExpectedFail:
                testCase.Add(new XElement("skipped", new XAttribute("message",
                    string.Join("\n\n", property.Failures.Select(found => $"expected failure {found.Failure.Describe()}")))));
                break;
            case PropertyVerdict.Interrupted:
                testCase.Add(new XElement("skipped", new XAttribute("message", "interrupted before it ran to the end")));
                break;
            case PropertyVerdict.NotApplicable:
                testCase.Add(new XElement("skipped", new XAttribute("message", "not applicable to this implementation")));
                break;
        }
        return testCase;
    }

    private static XElement Property(string name, string value) => new("property", new XAttribute("name", name), new XAttribute("value", value));

    private static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture);
}
