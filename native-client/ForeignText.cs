using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Mmspec.NativeClient;

/// <summary>
/// Text that comes from the implementation (a panic message, the tail of its log) goes into XML, Markdown and
/// terminals: control characters such as ANSI colour codes become visible escapes (<c>\x1B</c>) instead, and
/// values that change from run to run (host pointers into RAM, space handles) are named so that the same seed
/// gives the same report.
/// </summary>
public static partial class ForeignText
{
    /// <summary>
    /// Hex numbers in <paramref name="text"/> that point into the RAM as the worker maps it become <c>ram+0x…</c>
    /// (their physical address), and those equal to a space handle become its name (<c>space0</c>).
    /// </summary>
    public static string Normalised(string text, ulong ramBase, ulong ramSize, IList<ulong> spaces) =>
        HexNumber().Replace(text, match =>
        {
            if (!ulong.TryParse(match.ValueSpan[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value))
                return match.Value;
            int space = spaces.IndexOf(value);
            if (space >= 0)
                return $"space{space}";
            return ramBase != 0 && value - ramBase < ramSize ? $"ram+0x{value - ramBase:X}" : match.Value;
        });

    [GeneratedRegex(@"\b0[xX][0-9A-Fa-f]{1,16}\b")]
    private static partial Regex HexNumber();

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
