using System.Text;

namespace Mmspec.Cli.Reports;

/// <summary>
/// Text into HTML. Everything report.html shows comes from the implementation at some point (panic messages, a native
/// library's output, names), so every piece of text goes through here: markup characters are escaped, and control
/// characters, which a browser would drop or mangle, are shown as <c>\xNN</c>.
/// </summary>
public static class Html
{
    /// <summary>Text for an element's content.</summary>
    public static string Text(string text) => Escape(text, control => $"<span class=\"ctl\">\\x{control:X2}</span>");

    /// <summary>Text for a double-quoted attribute value.</summary>
    public static string Attribute(string text) => Escape(text, control => $"\\x{control:X2}");

    private static string Escape(string text, Func<int, string> control)
    {
        var html = new StringBuilder(text.Length + 16);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '&': html.Append("&amp;"); break;
                case '<': html.Append("&lt;"); break;
                case '>': html.Append("&gt;"); break;
                case '"': html.Append("&quot;"); break;
                case '\'': html.Append("&#39;"); break;
                case '\n' or '\t': html.Append(c); break;
                case < ' ' or (>= '\x7F' and <= '\x9F'): html.Append(control(c)); break;
                // A lone surrogate is no character at all: shown as the replacement character, as a decoder would.
                case >= '\uD800' and <= '\uDBFF' when i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]):
                    html.Append(c).Append(text[++i]);
                    break;
                case >= '\uD800' and <= '\uDFFF': html.Append('\uFFFD'); break;
                default: html.Append(c); break;
            }
        }
        return html.ToString();
    }
}
