using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli;

/// <summary>One line of an expectations file: a clause or property ID, and where it was written.</summary>
public sealed record ExpectedFailure(string Id, int Line);

/// <summary>
/// Failures a team knows about and accepts for now, read from a plain-text file: one clause ID (e.g. MAP-11)
/// or property ID (e.g. stateful.mapping) per line; '#' starts a comment, whole-line or trailing; blank lines
/// are ignored. A failure they name is reported as expected-fail and does not fail the gate.
/// </summary>
public sealed class Expectations
{
    private readonly Dictionary<string, ExpectedFailure> byId;

    private Expectations(string? source, IReadOnlyList<ExpectedFailure> entries)
    {
        Source = source;
        Entries = entries;
        byId = entries.DistinctBy(entry => entry.Id).ToDictionary(entry => entry.Id, StringComparer.Ordinal);
    }

    /// <summary>No expectations: every failure counts.</summary>
    public static Expectations None { get; } = new(null, []);

    /// <summary>The file the entries came from, as given on the command line; null for <see cref="None"/>.</summary>
    public string? Source { get; }

    public IReadOnlyList<ExpectedFailure> Entries { get; }

    public bool Expects(string id) => byId.ContainsKey(id);

    /// <summary>Whether a failure of <paramref name="clause"/> in <paramref name="property"/> is excused: by its clause, or by the whole property.</summary>
    public bool Expects(ISpecProperty property, string clause) => Expects(property.Id) || Expects(clause);

    /// <summary>The clauses whose failures must not stop <paramref name="property"/>: all of them when the property itself is expected to fail.</summary>
    public IReadOnlySet<string> ClausesExpectedIn(ISpecProperty property, ClauseCatalogue clauses) =>
        Expects(property.Id)
            ? clauses.All.Select(clause => clause.Id).ToHashSet(StringComparer.Ordinal)
            : byId.Keys.ToHashSet(StringComparer.Ordinal);

    /// <exception cref="UsageException">The file is missing or unreadable, or names an ID that is neither a clause nor a property.</exception>
    public static Expectations Load(string path, ClauseCatalogue clauses, IEnumerable<string> propertyIds)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UsageException($"--expect {path}: no such file");
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--expect {path}: cannot read it: {error.Message}");
        }
        return Parse(text, path, clauses, propertyIds);
    }

    /// <exception cref="UsageException">A line names an ID that is neither a clause nor a property, or more than one ID.</exception>
    public static Expectations Parse(string text, string source, ClauseCatalogue clauses, IEnumerable<string> propertyIds)
    {
        var properties = propertyIds.ToHashSet(StringComparer.Ordinal);
        var entries = new List<ExpectedFailure>();
        string[] lines = text.Split('\n');
        for (int n = 1; n <= lines.Length; n++)
        {
            string line = lines[n - 1];
            int comment = line.IndexOf('#');
            string id = (comment >= 0 ? line[..comment] : line).Trim();
            if (id.Length == 0)
                continue;
            if (id.Any(char.IsWhiteSpace))
                throw new UsageException($"{source}:{n}: one clause or property ID per line, found '{id}'");
            if (!clauses.Contains(id) && !properties.Contains(id))
                throw new UsageException($"{source}:{n}: unknown ID '{id}': not a clause of spec/clauses.md nor a property of the catalogue");
            entries.Add(new ExpectedFailure(id, n));
        }
        return new Expectations(source, entries);
    }
}
