using System.Collections.Immutable;

namespace Mmspec.Models.State;

/// <summary>Which of the state's maps a transition changed a key of.</summary>
public enum StateKeyKind
{
    /// <summary>A page of <see cref="ApiState.ClientPages"/>; the key is the page.</summary>
    ClientPage,

    /// <summary>A block of <see cref="ApiState.HeapBlocks"/>; the key is its pointer.</summary>
    HeapBlock,

    /// <summary>A mapping of a space (<see cref="StateChange.Space"/>; -1 for the shared kernel slots); the key is its virtual base.</summary>
    Mapping,

    /// <summary>A space was created; the key is its index.</summary>
    Space,
}

/// <summary>
/// One key a transition changed (or, for a bulk transition, all its keys), with the changes before it (newest first):
/// the state's own history, kept so that whoever follows the state (the suite's ownership map) can learn what changed
/// since a state it saw in time proportional to the change, where comparing two states would cost their whole size.
/// Which value a key had before and has after is the two states' to say.
/// </summary>
public sealed record StateChange(StateKeyKind Kind, int Space, ulong Key, StateChange? Previous)
{
    /// <summary>
    /// Every key a bulk transition changed, oldest first (<see cref="Key"/> is the last); null when one key changed. A
    /// hog or a teardown changes thousands of pages at once: one change holding their keys, not a change for each.
    /// </summary>
    public ImmutableArray<ulong>? Bulk { get; init; }

    /// <summary>The keys this change names, oldest first (an array: a follower walks thousands of them after a hog).</summary>
    public ImmutableArray<ulong> Keys => Bulk ?? [Key];
}
