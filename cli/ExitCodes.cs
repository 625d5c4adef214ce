namespace Mmspec.Cli;

/// <summary>What mmspec tells the shell; a CI gate passes on 0 only.</summary>
public static class ExitCodes
{
    /// <summary>Every property passed, or failed only as the expectations file said it would.</summary>
    public const int Conformant = 0;

    /// <summary>A command other than check (zoo, port init) did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>Some property broke a clause the expectations file does not list.</summary>
    public const int Nonconformant = 1;

    /// <summary>mmspec was called wrongly (option, value, name, file); nothing was checked.</summary>
    public const int UsageError = 2;

    /// <summary>mmspec itself failed (a bug in mmspec, not in the implementation under test).</summary>
    public const int InternalError = 3;
}
