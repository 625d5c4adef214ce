namespace Mmspec.Models.Mmu;

/// <summary>Why a translation failed. The CPU's error code is coarser; the model names the rule that fired.</summary>
public enum FaultReason
{
    /// <summary>Bits 63..47 are not all equal: a #GP before any table is read.</summary>
    NonCanonical = 1,

    /// <summary>P = 0 in the entry at the reported level.</summary>
    NotPresent,

    /// <summary>A reserved bit is set in the entry at the reported level (PS in a PML4E, or a misaligned huge frame).</summary>
    ReservedBit,

    /// <summary>A write (user or supervisor: CR0.WP = 1) through a path where some entry has R/W = 0.</summary>
    WriteToReadOnly,

    /// <summary>A user access through a path where some entry has U/S = 0.</summary>
    UserToSupervisor,

    /// <summary>An instruction fetch through a path where some entry has XD = 1.</summary>
    ExecuteNoExecute,
}

/// <summary>
/// A failed translation. For permission faults the level is the highest level (first in the walk)
/// whose entry withdrew the right, which is the entry a kernel would have to fix.
/// </summary>
public readonly record struct PageFault(FaultReason Reason, PagingLevel Level)
{
    public override string ToString() =>
        Level == PagingLevel.None ? Reason.ToString() : $"{Reason} at {Level.Name()} (level {(int)Level})";
}

/// <summary>
/// The outcome of one walk: either the leaf the address landed in, or a fault. A struct so that
/// <see cref="Mmu.Translate"/> allocates nothing; reading the wrong half throws, so a test that
/// forgot to check <see cref="IsOk"/> fails with the fault in the message instead of comparing zeros.
/// </summary>
public readonly record struct Translation
{
    private readonly MappedLeaf _leaf;
    private readonly PageFault _fault;

    private Translation(ulong virtualAddress, MappedLeaf leaf, PageFault fault, bool isOk)
    {
        VirtualAddress = virtualAddress;
        _leaf = leaf;
        _fault = fault;
        IsOk = isOk;
    }

    public static Translation Success(ulong virtualAddress, MappedLeaf leaf)
    {
        if (!leaf.Contains(virtualAddress))
        {
            throw new ArgumentException($"0x{virtualAddress:X16} is outside {leaf}", nameof(leaf));
        }

        return new(virtualAddress, leaf, default, isOk: true);
    }

    public static Translation Failure(ulong virtualAddress, PageFault fault) =>
        new(virtualAddress, default, fault, isOk: false);

    /// <summary>The address that was translated (as given, canonical or not).</summary>
    public ulong VirtualAddress { get; }

    public bool IsOk { get; }

    public MappedLeaf Leaf => IsOk ? _leaf : throw NotOk();

    public PageFault Fault => !IsOk ? _fault : throw new InvalidOperationException($"No fault: {this}");

    /// <summary>Frame base plus the offset of the address inside its (possibly huge) page.</summary>
    public ulong PhysicalAddress => Leaf.PhysicalBase + (VirtualAddress - Leaf.VirtualBase);

    public PageSize Size => Leaf.Size;

    public Permissions Permissions => Leaf.Permissions;

    public override string ToString() => IsOk
        ? $"0x{VirtualAddress:X16} -> 0x{PhysicalAddress:X} via {_leaf}"
        : $"0x{VirtualAddress:X16}: fault {_fault}";

    private InvalidOperationException NotOk() => new($"Translation failed: {this}");
}
