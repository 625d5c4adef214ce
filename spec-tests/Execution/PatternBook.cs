using Mmspec.Models.State;
using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// Unique marks the suite writes into every page and heap block it holds, and checks after each step:
/// a page that another owner scribbles on, or that is handed out twice, loses its mark.
/// </summary>
public sealed class PatternBook(IRamAccess ram)
{
    private readonly Dictionary<ulong, ulong> pageMarks = [];
    private readonly Dictionary<ulong, (ulong Size, ulong Mark)> blockMarks = [];
    private ulong counter;

    public void MarkPage(ulong page)
    {
        ulong mark = NextMark(page);
        ram.WriteU64(page, mark);
        ram.WriteU64(page + AddressSpaceLayout.PageSize - 8, ~mark);
        pageMarks[page] = mark;
    }

    public void ForgetPage(ulong page) => pageMarks.Remove(page);

    public void MarkBlock(ulong pointer, ulong size)
    {
        ulong mark = NextMark(pointer);
        Span<byte> bytes = stackalloc byte[8];
        BitConverter.TryWriteBytes(bytes, mark);
        ulong phys = pointer - AddressSpaceLayout.KernelBase;
        ram.Write(phys, bytes[..(int)Math.Min(size, 8)]);
        if (size >= 16)
            ram.WriteU64(phys + size - 8 & ~7UL, ~mark);
        blockMarks[pointer] = (size, mark);
    }

    public void ForgetBlock(ulong pointer) => blockMarks.Remove(pointer);

    /// <summary>The first mark that changed, described, or null when all hold.</summary>
    public string? FirstDamage()
    {
        foreach ((ulong page, ulong mark) in pageMarks)
            if (ram.ReadU64(page) != mark || ram.ReadU64(page + AddressSpaceLayout.PageSize - 8) != ~mark)
                return $"page 0x{page:X} lost the pattern the suite wrote into it";
        Span<byte> bytes = stackalloc byte[8];
        Span<byte> expected = stackalloc byte[8];
        foreach ((ulong pointer, (ulong size, ulong mark)) in blockMarks)
        {
            ulong phys = pointer - AddressSpaceLayout.KernelBase;
            Span<byte> head = bytes[..(int)Math.Min(size, 8)];
            ram.Read(phys, head);
            BitConverter.TryWriteBytes(expected, mark);
            bool tailOk = size < 16 || ram.ReadU64(phys + size - 8 & ~7UL) == ~mark;
            if (!head.SequenceEqual(expected[..head.Length]) || !tailOk)
                return $"heap block 0x{pointer:X} ({size} bytes) lost the pattern the suite wrote into it";
        }
        return null;
    }

    // Marks differ per owner and per use, and their low bit is set so that a stale mark read as a
    // page-table entry looks present: a table page handed out without zeroing shows up in the census.
    private ulong NextMark(ulong address) => (address * 0x9E3779B97F4A7C15UL) ^ (++counter << 32) | 1;
}
