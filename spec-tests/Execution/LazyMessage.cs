using System.Runtime.CompilerServices;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// The message of a check, formatted only when the check fails. The audit makes thousands of checks per
/// step; formatting every message eagerly cost more than the checks themselves.
/// </summary>
[InterpolatedStringHandler]
public ref struct LazyMessage
{
    private readonly bool failed;
    private DefaultInterpolatedStringHandler text;

    public LazyMessage(int literalLength, int formattedCount, bool condition, out bool shouldAppend)
    {
        failed = !condition;
        shouldAppend = failed;
        text = failed ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    public void AppendLiteral(string value) => text.AppendLiteral(value);

    public void AppendFormatted<T>(T value) => text.AppendFormatted(value);

    public void AppendFormatted<T>(T value, string? format) => text.AppendFormatted(value, format);

    public void AppendFormatted(string? value) => text.AppendFormatted(value);

    public string ToStringAndClear() => failed ? text.ToStringAndClear() : "";
}
