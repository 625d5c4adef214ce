namespace Mmspec.SpecTests.Port;

/// <summary>How a call into the implementation ended when it did not return, as verdicts say it.</summary>
public static class ImplementationFault
{
    /// <summary>"panicked (Reason)" for a kernel panic, "crashed" for anything else.</summary>
    public static string How(Exception fault) => fault is ImplementationPanicException panic ? $"panicked ({panic.Reason})" : "crashed";
}
