using System.Globalization;
using System.Text.RegularExpressions;
using Mmspec.Models.State;

namespace Mmspec.SpecTests.Reproducers;

/// <summary>
/// Heap blocks by the variable that holds the kmalloc result which returned them. Where a heap puts a block is its
/// own choice, and a bug may move blocks (a slab laid out differently), so a reproducer that must pass on a correct
/// heap refers to a block through its variable, never through the address of the recorded run: in kfree's argument,
/// the marks written into the block, and the conditions asserted about it.
/// </summary>
internal sealed partial class BlockNames
{
    private readonly List<(ulong Start, ulong Size, string Name)> blocks = [];

    public void Add(ulong pointer, ulong size, string name) => blocks.Add((pointer, Math.Max(size, 1), name));

    /// <summary>A heap pointer (MM_KERNEL_BASE + p) as C: the variable, plus an offset inside its block, or the literal.</summary>
    public string Pointer(ulong value) => Find(value) is { } block ? Offset(block.Name, value - block.Start) : $"0x{value:X}";

    /// <summary>A physical address as C: inside a named block it is that block's, wherever the heap put it.</summary>
    public string Phys(ulong phys) =>
        phys < ulong.MaxValue - AddressSpaceLayout.KernelBase && Find(phys + AddressSpaceLayout.KernelBase) is { } block
            ? $"({Offset(block.Name, phys + AddressSpaceLayout.KernelBase - block.Start)} - MMSPEC_KERNEL_BASE)"
            : $"0x{phys:X}";

    /// <summary>A C condition with every heap pointer of a named block (hex literals in kernel space) replaced by its variable.</summary>
    public string InText(string condition) =>
        HexLiteral().Replace(condition, match =>
            ulong.TryParse(match.ValueSpan[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value)
            && value >= AddressSpaceLayout.KernelBase ? Pointer(value) : match.Value);

    /// <summary>The block starting at <paramref name="value"/>, else the one containing it or ending at it (a bound in a condition).</summary>
    private (ulong Start, ulong Size, string Name)? Find(ulong value)
    {
        foreach (var block in blocks)
            if (block.Start == value)
                return block;
        foreach (var block in blocks)
            if (value > block.Start && value - block.Start <= block.Size)
                return block;
        return null;
    }

    private static string Offset(string name, ulong offset) => offset == 0 ? name : $"({name} + 0x{offset:X})";

    [GeneratedRegex(@"\b0x[0-9A-Fa-f]+\b")]
    private static partial Regex HexLiteral();
}
