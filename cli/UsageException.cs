namespace Mmspec.Cli;

/// <summary>
/// A mistake in how mmspec was called: an option value, a name, a file. Reported as one line on stderr with
/// exit code 2, never as a stack trace, since the person reading it needs the reason, not mmspec's internals.
/// </summary>
public sealed class UsageException(string message) : Exception(message);
