using Mmspec.Models.Mmu;

namespace Mmspec.SpecTests.Execution;

/// <summary>How thoroughly the audit walks the page tables after a step.</summary>
public enum AuditMode
{
    /// <summary>Walks a part of the tables only when the step may have changed it (<see cref="PartMemo"/>): the default.</summary>
    Incremental,

    /// <summary>Walks every table of every space after every step.</summary>
    Full,

    /// <summary>Walks everything, and fails if a space the incremental audit would have skipped turned out changed: the auditor's own check.</summary>
    Both,
}

/// <summary>The auditor's own fault: its incremental audit would have missed what the full one found.</summary>
public sealed class AuditDisagreementException(string message) : InvalidOperationException(message);

/// <summary>
/// One part of the walk after a step: a space's own PML4 slots, or the shared kernel slots as one space reaches them
/// (the first space always; another only when its shared slots do not hold the first space's very entries). Each part
/// is compared with a map of its own in the model, so that the direct map, which is most of a walk, is walked again
/// only when something under the shared slots changed.
/// </summary>
public readonly record struct WalkPart(int Space, bool Shared);

/// <summary>
/// What the last audit found of one part: the root it walked from, the model map it compared with, the PML4 entries
/// of the shared slots (for a shared part) and the tables it passed through. A part whose root and model map are the
/// same objects as then and none of whose tables a call since wrote has the same tables and the same leaves as then,
/// so it need not be walked again: a walk costs only what the step changed. A shared part reads its few PML4 entries
/// instead of asking whether the root was written, which every new user table of the first space does.
/// </summary>
public sealed record PartMemo(ulong Root, object ModelMap, ulong[]? SharedEntries, List<TablePage> Tables)
{
    /// <param name="sharedEntries">The shared slots' PML4 entries now, for the part of the same <see cref="WalkPart"/> (null: an own part).</param>
    /// <param name="written">Every frame the calls since the last audit wrote.</param>
    public bool Unchanged(ulong root, object modelMap, ulong[]? sharedEntries, IReadOnlySet<ulong> written) =>
        Root == root && ReferenceEquals(ModelMap, modelMap)
        && (sharedEntries is null || SharedEntries.AsSpan().SequenceEqual(sharedEntries))
        && !Tables.Any(table => (sharedEntries is null || table.PhysicalAddress != root) && written.Contains(table.PhysicalAddress));
}
