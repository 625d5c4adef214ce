namespace Mmspec.SpecTests.Catalogue;

/// <summary>The clause catalogue Markdown does not follow the format described in spec/clauses.md.</summary>
public sealed class ClauseCatalogueFormatException : FormatException
{
    /// <summary>Creates the exception for a problem at <paramref name="lineNumber"/> (1-based; 0 for the document as a whole).</summary>
    public ClauseCatalogueFormatException(int lineNumber, string problem)
        : base(lineNumber > 0 ? $"clauses.md line {lineNumber}: {problem}" : $"clauses.md: {problem}")
    {
        LineNumber = lineNumber;
        Problem = problem;
    }

    /// <summary>The 1-based line the problem was found on, or 0 when it concerns the whole document.</summary>
    public int LineNumber { get; }

    /// <summary>The problem, without the line prefix.</summary>
    public string Problem { get; }
}
