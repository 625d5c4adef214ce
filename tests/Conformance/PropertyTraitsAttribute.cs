using Mmspec.SpecTests.Properties;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// Tags a test with the property it runs and every clause that property checks (traits "Property" and
/// "Clause"), read from the property catalogue so the tags cannot drift from what the property does.
/// Filter with e.g. <c>dotnet test --filter Clause=MAP-14</c>.
/// </summary>
[TraitDiscoverer("Mmspec.Tests.Conformance.PropertyTraitDiscoverer", "Mmspec.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class PropertyTraitsAttribute(string propertyId) : Attribute, ITraitAttribute
{
    public string PropertyId { get; } = propertyId;
}

public sealed class PropertyTraitDiscoverer : ITraitDiscoverer
{
    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute)
    {
        string id = traitAttribute.GetConstructorArguments().Cast<string>().Single();
        yield return new("Category", "Conformance");
        yield return new("Property", id);
        foreach (string clause in PropertyCatalogue.Find(id).Clauses)
            yield return new("Clause", clause);
    }
}
