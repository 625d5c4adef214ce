using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Tests.Conformance;

/// <summary>Every clause the spec makes is checked by some property, and properties cite only real clauses.</summary>
public sealed class TraceabilityTests
{
    private static readonly ClauseCatalogue Catalogue = ClauseCatalogue.Load();

    [Fact]
    public void Every_normative_and_interpretation_clause_has_a_property()
    {
        var covered = PropertyCatalogue.All.SelectMany(property => property.Clauses).ToHashSet();
        var uncovered = Catalogue.InProfile(Profile.Default).Select(clause => clause.Id).Where(id => !covered.Contains(id)).ToList();
        Assert.True(uncovered.Count == 0, $"clauses with no property: {string.Join(", ", uncovered)}");
    }

    [Fact]
    public void Properties_cite_only_catalogue_clauses()
    {
        var unknown = PropertyCatalogue.All.SelectMany(property => property.Clauses.Select(clause => (property.Id, clause)))
            .Where(pair => !Catalogue.Contains(pair.clause)).ToList();
        Assert.True(unknown.Count == 0, $"unknown clauses: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void Property_ids_are_unique()
    {
        var ids = PropertyCatalogue.All.Select(property => property.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
