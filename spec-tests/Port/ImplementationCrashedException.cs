namespace Mmspec.SpecTests.Port;

/// <summary>
/// The process hosting an implementation died (a signal such as SIGSEGV or SIGABRT, an unexpected exit)
/// or stopped answering in time (a call's timeout or the sequence's budget) and was killed. Unlike a
/// kernel panic this is never an expected outcome: <c>SequenceContext.Call</c> reports it as a violation
/// of the step's clause.
/// </summary>
public sealed class ImplementationCrashedException(string message, bool hung = false, string? signal = null)
    : Exception(message)
{
    /// <summary>True when the host was killed for not answering in time (an infinite loop or deadlock).</summary>
    public bool Hung { get; } = hung;

    /// <summary>The signal that ended the host ("SIGSEGV"), or null.</summary>
    public string? Signal { get; } = signal;
}
