using Mmspec.Models.Mmu;
using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>How thoroughly the audit walks the page tables after a step.</summary>
public enum AuditMode
{
    /// <summary>Walks a space only when the step may have changed it (<see cref="AuditMemo"/>): the default.</summary>
    Incremental,

    /// <summary>Walks every table of every space after every step.</summary>
    Full,

    /// <summary>Walks everything, and fails if a space the incremental audit would have skipped turned out changed: the auditor's own check.</summary>
    Both,
}

/// <summary>The auditor's own fault: its incremental audit would have missed what the full one found.</summary>
public sealed class AuditDisagreementException(string message) : InvalidOperationException(message);

/// <summary>
/// What the last audit saw, per space: the model it compared with, the roots, whether the space's walk left out the
/// shared kernel slots, and the tables it found. A space whose model mappings are the same objects as then, whose
/// root and walk are the same, and none of whose tables the calls since wrote, has the same tables and the same
/// leaves as then, so it need not be walked again: its walk is only as expensive as what the step changed.
/// </summary>
public sealed class AuditMemo(ApiState model, IReadOnlyList<ulong> roots, IReadOnlyList<bool> sharedSkipped, IReadOnlyList<List<TablePage>> tables)
{
    public IReadOnlyList<List<TablePage>> Tables { get; } = tables;

    /// <summary>Whether space <paramref name="space"/>'s walk would find what it found last time.</summary>
    /// <param name="written">Every frame the calls since the last audit wrote.</param>
    public bool Unchanged(ApiState now, IReadOnlyList<ulong> nowRoots, int space, bool skipsShared, IReadOnlySet<ulong> written) =>
        space < roots.Count && roots[space] == nowRoots[space] && sharedSkipped[space] == skipsShared
        && ReferenceEquals(model.SpaceMappings[space], now.SpaceMappings[space])
        && ReferenceEquals(model.SharedMappings, now.SharedMappings)
        && !Tables[space].Any(table => written.Contains(table.PhysicalAddress));
}
