using Mmspec.Reference.Memory;

namespace Mmspec.Reference.Paging;

public partial class PageTables
{
    /// <summary>
    /// The lowest address in [<paramref name="low"/>, <paramref name="high"/>] (page-aligned, canonical, one
    /// canonical half) that starts <paramref name="pages"/> unmapped pages inside the range, or null.
    /// An absent table at any level is a free stretch read once; a page table is scanned in place, one window
    /// of the pages still needed at a time, searched from its end backwards (empty entries in bulk): when
    /// mappings are closer together than the request, each window costs about one read, not one per page or
    /// per mapping.
    /// </summary>
    public ulong? LowestFreeRun(PhysAddr root, ulong low, ulong high, ulong pages)
    {
        var run = new FreeRun(low & RawMask, high & RawMask, pages);
        return SearchTable(root, PageLevel.Pml4, 0, ref run) ? Canonical(run.Start) : null;
    }

    private bool SearchTable(PhysAddr table, int level, ulong tableBase, ref FreeRun run)
    {
        (int first, int last) = IndexRange(level, tableBase, run.From, run.Last);
        if (level == PageLevel.Pt)
            return SearchPageTable(table, tableBase, first, last, ref run);
        ulong span = PageLevel.EntrySpan(level);
        for (int index = first; index <= last; index++)
        {
            ulong start = tableBase + (ulong)index * span;
            PageTableEntry entry = ReadEntry(table, index);
            if (!entry.IsPresent)
            {
                if (run.AddFree(Math.Max(start, run.From), Math.Min(start + span, run.End)))
                    return true;
            }
            else if (IsLeaf(entry, level))
            {
                run.Break();
            }
            else if (SearchTable(entry.Address, level - 1, start, ref run))
            {
                return true;
            }
        }
        return false;
    }

    private bool SearchPageTable(PhysAddr table, ulong tableBase, int first, int last, ref FreeRun run)
    {
        ReadOnlySpan<ulong> entries = Ram.FrameWords(table.Value);
        // Present entries not met yet, at most (a step over a window sees only its last one, and a search that starts
        // inside the table never meets those before it): at zero the rest of the table is free without reading it.
        int unseen = PresentEntries(table);
        int index = first;
        while (index <= last)
        {
            if (unseen == 0)
                return run.AddFree(PageAt(tableBase, index), PageAt(tableBase, last + 1));
            if (run.IsEmpty && run.Pages <= (ulong)(last - index + 1))
            {
                // Nothing carried: a window whose last entry is mapped cannot hold a run, so step over it at once
                // (mappings closer together than the request make this the whole scan).
                int step = (int)run.Pages;
                while (index + step - 1 <= last && new PageTableEntry(entries[index + step - 1]).IsPresent)
                {
                    index += step;
                    unseen--;
                }
                if (index > last)
                    break;
                if (unseen == 0)
                    continue;
            }
            // The window is what the run still needs; a mapping in it ends the run, and the pages after the
            // last such mapping, read on the way down, start the next one.
            int windowEnd = (int)Math.Min((ulong)last, (ulong)index + run.StillNeeded - 1);
            int mapped = LastPresent(entries, index, windowEnd);
            if (mapped >= index)
            {
                run.Break();
                unseen--;
            }
            int freeFrom = Math.Max(index, mapped + 1);
            if (freeFrom <= windowEnd && run.AddFree(PageAt(tableBase, freeFrom), PageAt(tableBase, windowEnd + 1)))
                return true;
            index = windowEnd + 1;
        }
        return false;
    }

    /// <summary>The last present entry in [first, last], or first - 1; empty entries are skipped in bulk.</summary>
    private static int LastPresent(ReadOnlySpan<ulong> entries, int first, int last)
    {
        while (last >= first)
        {
            int nonZero = entries[first..(last + 1)].LastIndexOfAnyExcept(0UL);
            if (nonZero < 0)
                break;
            last = first + nonZero;
            if (new PageTableEntry(entries[last]).IsPresent)
                return last;
            last--;
        }
        return first - 1;
    }

    private static ulong PageAt(ulong tableBase, int index) => tableBase + (ulong)index * Layout.PageSize;

    /// <summary>The free pages found so far, ending where the search has got to.</summary>
    private struct FreeRun(ulong from, ulong last, ulong pages)
    {
        public readonly ulong From = from;
        public readonly ulong Last = last;

        /// <summary>Just past the range: <see cref="Last"/> is at most 2^48 - 1, so this never overflows.</summary>
        public readonly ulong End => Last + 1;
        public ulong Start;
        private ulong length;

        public readonly ulong Pages = pages;

        public readonly bool IsEmpty => length == 0;

        public readonly ulong StillNeeded => Pages - length;

        /// <summary>Extends the run with the free pages [first, end); true once it holds enough pages.</summary>
        public bool AddFree(ulong first, ulong end)
        {
            if (length == 0)
                Start = first;
            length += (end - first) / Layout.PageSize;
            return length >= Pages;
        }

        public void Break() => length = 0;
    }
}
