using Mmspec.Models.State;
using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// Unique marks the suite writes into every page and heap block it holds, and checks after each step:
/// a page that another owner scribbles on, or that is handed out twice, loses its mark. Every write is kept
/// in <paramref name="actions"/> as a <see cref="MarkWritten"/> placed in the trace (<paramref name="position"/>: the
/// calls made so far and the step), so that a C reproducer writes the same marks at the same points and checks
/// the one that broke.
/// </summary>
public sealed class PatternBook(IRamAccess ram, Func<(int AfterCall, int Step)> position, List<SuiteAction> actions)
{
    private readonly Dictionary<ulong, List<MarkWritten>> pageMarks = [];
    private readonly Dictionary<ulong, (ulong Size, List<MarkWritten> Marks)> blockMarks = [];
    // The blocks with a mark in each frame: a step's writes name frames, and only marks in them can have changed.
    private readonly Dictionary<ulong, HashSet<ulong>> blocksMarkedIn = [];
    private ulong counter;

    public void MarkPage(ulong page)
    {
        ulong mark = NextMark(page);
        pageMarks[page] = [Write(page, mark, 8), Write(page + AddressSpaceLayout.PageSize - 8, ~mark, 8)];
    }

    public void ForgetPage(ulong page) => pageMarks.Remove(page);

    public void MarkBlock(ulong pointer, ulong size)
    {
        ulong mark = NextMark(pointer);
        ulong phys = pointer - AddressSpaceLayout.KernelBase;
        var marks = new List<MarkWritten>();
        if (size > 0)
            marks.Add(Write(phys, mark, (int)Math.Min(size, 8)));
        if (size >= 16)
            marks.Add(Write(phys + size - 8 & ~7UL, ~mark, 8));
        ForgetBlock(pointer);
        blockMarks[pointer] = (size, marks);
        foreach (MarkWritten written in marks)
        {
            if (!blocksMarkedIn.TryGetValue(FrameOf(written), out HashSet<ulong>? blocks))
                blocksMarkedIn[FrameOf(written)] = blocks = [];
            blocks.Add(pointer);
        }
    }

    public void ForgetBlock(ulong pointer)
    {
        if (!blockMarks.Remove(pointer, out var block))
            return;
        foreach (MarkWritten written in block.Marks)
            if (blocksMarkedIn.TryGetValue(FrameOf(written), out HashSet<ulong>? blocks) && blocks.Remove(pointer) && blocks.Count == 0)
                blocksMarkedIn.Remove(FrameOf(written));
    }

    /// <summary>
    /// Whether a mark in one of <paramref name="written"/> (the frames the implementation wrote since the last check)
    /// changed: a mark in a frame nobody wrote still holds. (Which mark to report is <see cref="FirstDamage"/>'s to say.)
    /// </summary>
    public bool DamageIn(IEnumerable<ulong> written)
    {
        foreach (ulong frame in written)
        {
            if (pageMarks.TryGetValue(frame, out List<MarkWritten>? marks) && !marks.All(Holds))
                return true;
            if (blocksMarkedIn.TryGetValue(frame, out HashSet<ulong>? blocks) && blocks.Any(pointer => !blockMarks[pointer].Marks.All(Holds)))
                return true;
        }
        return false;
    }

    /// <summary>The first mark that changed, described, with the marks that should still be there; null when all hold.</summary>
    public (string Message, PatternCheck Check)? FirstDamage()
    {
        foreach ((ulong page, List<MarkWritten> marks) in pageMarks)
            if (!marks.All(Holds))
                return ($"page 0x{page:X} lost the pattern the suite wrote into it", new PatternCheck($"page 0x{page:X}", marks));
        foreach ((ulong pointer, (ulong size, List<MarkWritten> marks)) in blockMarks)
            if (!marks.All(Holds))
                return ($"heap block 0x{pointer:X} ({size} bytes) lost the pattern the suite wrote into it", new PatternCheck($"heap block 0x{pointer:X} ({size} bytes)", marks));
        return null;
    }

    /// <summary>The 4 KiB frames holding a mark that changed (what a picture of the state highlights).</summary>
    public IEnumerable<ulong> DamagedFrames() =>
        pageMarks.Values.Concat(blockMarks.Values.Select(block => block.Marks))
            .SelectMany(marks => marks).Where(mark => !Holds(mark))
            .Select(FrameOf).Distinct();

    private static ulong FrameOf(MarkWritten mark) => mark.Phys & ~(AddressSpaceLayout.PageSize - 1);

    private MarkWritten Write(ulong phys, ulong value, int length)
    {
        Span<byte> bytes = stackalloc byte[8];
        BitConverter.TryWriteBytes(bytes, value);
        ram.Write(phys, bytes[..length]);
        (int afterCall, int step) = position();
        var written = new MarkWritten(afterCall, step, phys, value, length);
        actions.Add(written);
        return written;
    }

    private bool Holds(MarkWritten mark)
    {
        Span<byte> bytes = stackalloc byte[8];
        Span<byte> expected = stackalloc byte[8];
        ram.Read(mark.Phys, bytes[..mark.Length]);
        BitConverter.TryWriteBytes(expected, mark.Value);
        return bytes[..mark.Length].SequenceEqual(expected[..mark.Length]);
    }

    // Marks differ per owner and per use, and their low bit is set so that a stale mark read as a
    // page-table entry looks present: a table page handed out without zeroing shows up in the census.
    private ulong NextMark(ulong address) => (address * 0x9E3779B97F4A7C15UL) ^ (++counter << 32) | 1;
}
