using System.Globalization;
using System.Reflection;

namespace Mmspec.SpecTests.Reproducers;

/// <summary>
/// Writes a positional record (a sequence step and the values inside it) as the C# expression that builds it,
/// so a shrunk sequence can be pasted into a test. Works from the primary constructor, so new step kinds need
/// nothing here.
/// </summary>
public static class CSharpLiteral
{
    public static string Of(object? value) => value switch
    {
        null => "null",
        bool flag => flag ? "true" : "false",
        int number => number.ToString(CultureInfo.InvariantCulture),
        uint number => $"{number}u",
        long number => $"{number}L",
        ulong number => number < 0x10000 ? $"{number}UL" : $"0x{number:X}UL",
        string text => SymbolDisplayString(text),
        Enum member => EnumLiteral(member),
        _ => Construction(value),
    };

    private static string EnumLiteral(Enum member)
    {
        string type = member.GetType().Name;
        return Enum.IsDefined(member.GetType(), member)
            ? $"{type}.{member}"
            : $"({type}){Convert.ToUInt64(member, CultureInfo.InvariantCulture)}";
    }

    private static string Construction(object value)
    {
        Type type = value.GetType();
        ConstructorInfo constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        var arguments = constructor.GetParameters().Select(parameter =>
        {
            PropertyInfo property = type.GetProperty(parameter.Name!)
                ?? throw new InvalidOperationException($"{type.Name} has no property for constructor parameter {parameter.Name}");
            return Of(property.GetValue(value));
        });
        return $"new {type.Name}({string.Join(", ", arguments)})";
    }

    private static string SymbolDisplayString(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
