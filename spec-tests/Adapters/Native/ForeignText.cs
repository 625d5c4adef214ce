using System.Globalization;
using System.Text;

namespace Mmspec.SpecTests.Adapters.Native;

/// <summary>
/// Text that comes from the implementation (a panic message, the tail of its log) goes into XML, Markdown and
/// terminals: control characters such as ANSI colour codes become visible escapes (<c>\x1B</c>) instead.
/// </summary>
public static class ForeignText
{
    public static string Printable(string text)
    {
        if (!text.Any(IsControl))
            return text;
        var printable = new StringBuilder(text.Length + 16);
        foreach (char c in text)
            printable.Append(IsControl(c) ? $"\\x{((int)c).ToString("X2", CultureInfo.InvariantCulture)}" : c);
        return printable.ToString();
    }

    private static bool IsControl(char c) => char.IsControl(c) || c is '\uFFFE' or '\uFFFF';
}
