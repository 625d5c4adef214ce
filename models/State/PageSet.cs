using System.Collections;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mmspec.Models.State;

/// <summary>
/// An immutable set of page addresses, in address order: a bit per page, in chunks of 4,096 pages (16 MiB of
/// addresses) that changes copy and otherwise share. The client's pages are the model's biggest set, and a hog or a
/// teardown adds or removes thousands of them in one transition: here that costs the chunks it touches (512 bytes
/// each), where a balanced tree rebuilt or rebalanced itself page by page. Indexing and <see cref="IndexOf"/> count
/// bits (a chunk's count, then a word's), so a generator can pick the n-th page as it could from a sorted list.
/// </summary>
[CollectionBuilder(typeof(PageSet), nameof(Create))]
public sealed class PageSet : IList<ulong>, IReadOnlyList<ulong>
{
    private const int PageShift = 12;
    private const int WordsPerChunk = 64;
    private const int PagesPerChunk = WordsPerChunk * 64;

    /// <summary>One chunk's bits: never changed once the set holding it is made; a change copies it.</summary>
    internal sealed record Chunk(ulong Index, ulong[] Words, int Count);

    private readonly Chunk[] chunks; // by Index, ascending; none empty

    private PageSet(Chunk[] chunks, int count)
    {
        this.chunks = chunks;
        Count = count;
    }

    public static PageSet Empty { get; } = new([], 0);

    public static PageSet Of(IEnumerable<ulong> pages) => Empty.Union(pages);

    /// <summary>A set of the pages in <paramref name="pages"/> (what a collection expression <c>[a, b]</c> makes).</summary>
    public static PageSet Create(ReadOnlySpan<ulong> pages) => Of(pages.ToArray());

    public int Count { get; }

    public bool IsEmpty => Count == 0;

    /// <summary>Whether the page is in the set; an address that is not a page's is in no set of pages.</summary>
    public bool Contains(ulong page)
    {
        if (!IsPage(page))
            return false;
        (ulong chunk, int word, int bit) = Locate(page);
        int at = Find(chunks, chunk);
        return at >= 0 && (chunks[at].Words[word] >> bit & 1) != 0;
    }

    /// <summary>How many pages this set and <paramref name="other"/> both hold, a chunk's words at a time.</summary>
    public int CountCommon(PageSet other)
    {
        int common = 0;
        foreach (Chunk chunk in chunks)
        {
            int at = Find(other.chunks, chunk.Index);
            if (at < 0)
                continue;
            ulong[] theirs = other.chunks[at].Words;
            for (int word = 0; word < WordsPerChunk; word++)
                common += BitOperations.PopCount(chunk.Words[word] & theirs[word]);
        }
        return common;
    }

    public PageSet Add(ulong page) => Changed([page], add: true);

    public PageSet Remove(ulong page) => Changed([page], add: false);

    /// <summary>This set with every one of <paramref name="pages"/> in it: each chunk they touch copied once.</summary>
    public PageSet Union(IEnumerable<ulong> pages) => Changed(pages, add: true);

    /// <summary>This set without any of <paramref name="pages"/>: each chunk they touch copied once.</summary>
    public PageSet Except(IEnumerable<ulong> pages) => Changed(pages, add: false);

    /// <summary>The <paramref name="index"/>-th page in address order.</summary>
    public ulong this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(index), $"index {index} of a set of {Count} pages");
            int at = 0;
            while (index >= chunks[at].Count)
                index -= chunks[at++].Count;
            ulong[] words = chunks[at].Words;
            int word = 0;
            while (index >= BitOperations.PopCount(words[word]))
                index -= BitOperations.PopCount(words[word++]);
            ulong bits = words[word];
            for (; index > 0; index--)
                bits &= bits - 1; // drop the lowest page
            return Address(chunks[at].Index, word, BitOperations.TrailingZeroCount(bits));
        }
    }

    /// <summary>The page's position in address order, or -1 when it is not in the set.</summary>
    public int IndexOf(ulong page)
    {
        if (!IsPage(page))
            return -1;
        (ulong chunkIndex, int word, int bit) = Locate(page);
        int at = Find(chunks, chunkIndex);
        if (at < 0 || (chunks[at].Words[word] >> bit & 1) == 0)
            return -1;
        int rank = 0;
        for (int before = 0; before < at; before++)
            rank += chunks[before].Count;
        ulong[] words = chunks[at].Words;
        for (int before = 0; before < word; before++)
            rank += BitOperations.PopCount(words[before]);
        return rank + BitOperations.PopCount(words[word] & ((1UL << bit) - 1));
    }

    public Enumerator GetEnumerator() => new(chunks);

    IEnumerator<ulong> IEnumerable<ulong>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void CopyTo(ulong[] array, int arrayIndex)
    {
        foreach (ulong page in this)
            array[arrayIndex++] = page;
    }

    /// <summary>Pages in address order, bit by bit.</summary>
    public struct Enumerator : IEnumerator<ulong>
    {
        private readonly Chunk[] chunks;
        private int chunk, word;
        private ulong bits;

        internal Enumerator(Chunk[] chunks)
        {
            this.chunks = chunks;
            word = -1;
        }

        public ulong Current { get; private set; }

        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            while (bits == 0)
            {
                if (chunk >= chunks.Length)
                    return false;
                if (++word == WordsPerChunk)
                {
                    chunk++;
                    word = -1;
                    continue;
                }
                bits = chunks[chunk].Words[word];
            }
            Current = Address(chunks[chunk].Index, word, BitOperations.TrailingZeroCount(bits));
            bits &= bits - 1;
            return true;
        }

        public void Reset() => (chunk, word, bits) = (0, -1, 0);

        public readonly void Dispose() { }
    }

    /// <summary>Pages in or out: each chunk they touch copied once, the chunk array made once.</summary>
    private PageSet Changed(IEnumerable<ulong> pages, bool add) => pages switch
    {
        List<ulong> list => Changed(CollectionsMarshal.AsSpan(list), add),
        ulong[] array => Changed(array.AsSpan(), add),
        _ => Changed([.. pages], add),
    };

    // A span, not an enumerator: a hog or a teardown hands over thousands of pages, an interface call each.
    private PageSet Changed(ReadOnlySpan<ulong> pages, bool add)
    {
        List<Edited>? edited = null; // the chunks as they become, made on the first page
        int count = Count;
        // The chunk the last page fell in, edited in these locals until a page falls in another (pages mostly come in
        // order, thousands to a chunk), then stored back.
        int at = -1;
        Edited current = default;
        ulong[] words = [];
        int inChunk = 0;
        foreach (ulong page in pages)
        {
            (ulong chunkIndex, int word, int bit) = Locate(page);
            if (at < 0 || current.Index != chunkIndex)
            {
                if (at >= 0)
                    edited![at] = current with { Words = words, Count = inChunk };
                if (edited is null)
                {
                    edited = new List<Edited>(chunks.Length + 1);
                    foreach (Chunk kept in chunks)
                        edited.Add(new Edited(kept.Index, kept.Words, kept.Count, Copied: false));
                }
                at = FindIn(edited, chunkIndex);
                if (at < 0)
                {
                    if (!add)
                        continue; // at stays negative: nothing to store back
                    at = ~at;
                    edited.Insert(at, new Edited(chunkIndex, new ulong[WordsPerChunk], 0, Copied: true));
                }
                current = edited[at];
                (words, inChunk) = (current.Words, current.Count);
            }
            if (((words[word] >> bit & 1) != 0) == add)
                continue;
            if (!current.Copied)
            {
                words = (ulong[])words.Clone();
                current = current with { Copied = true };
            }
            words[word] ^= 1UL << bit;
            inChunk += add ? 1 : -1;
            count += add ? 1 : -1;
        }
        if (at >= 0)
            edited![at] = current with { Words = words, Count = inChunk };
        if (count == Count)
            return this;
        var next = new List<Chunk>(edited!.Count);
        foreach (Edited chunk in edited)
            if (chunk.Count > 0)
                next.Add(new Chunk(chunk.Index, chunk.Words, chunk.Count));
        return new PageSet([.. next], count);
    }

    /// <summary>A chunk while a bulk change works on it: <paramref name="Copied"/> once its words are this change's own.</summary>
    private readonly record struct Edited(ulong Index, ulong[] Words, int Count, bool Copied);

    private static bool IsPage(ulong address) => (address & ((1UL << PageShift) - 1)) == 0;

    private static (ulong Chunk, int Word, int Bit) Locate(ulong page)
    {
        if (!IsPage(page))
            throw new ArgumentException($"0x{page:X} is not a page address (4 KiB aligned)", nameof(page));
        ulong frame = page >> PageShift;
        return (frame / PagesPerChunk, (int)(frame % PagesPerChunk / 64), (int)(frame % 64));
    }

    private static ulong Address(ulong chunk, int word, int bit) =>
        (chunk * PagesPerChunk + (ulong)word * 64 + (ulong)bit) << PageShift;

    /// <summary>Where the chunk of <paramref name="index"/> is in the set's chunks, or -1.</summary>
    private static int Find(Chunk[] chunks, ulong index) => Math.Max(Search<Chunk, ChunkIndex>(chunks, default, index), -1);

    /// <summary>Where the chunk of <paramref name="index"/> is among the chunks being edited, or the complement of where it would go.</summary>
    private static int FindIn(List<Edited> chunks, ulong index) => Search<Edited, EditedIndex>(CollectionsMarshal.AsSpan(chunks), default, index);

    /// <summary>A chunk's index, read by a struct the search is compiled for (a delegate per comparison costs more than the search).</summary>
    private interface IIndexOf<T>
    {
        ulong Of(in T chunk);
    }

    private readonly struct ChunkIndex : IIndexOf<Chunk>
    {
        public ulong Of(in Chunk chunk) => chunk.Index;
    }

    private readonly struct EditedIndex : IIndexOf<Edited>
    {
        public ulong Of(in Edited chunk) => chunk.Index;
    }

    private static int Search<T, TIndex>(ReadOnlySpan<T> chunks, TIndex indexOf, ulong index)
        where TIndex : struct, IIndexOf<T>
    {
        int low = 0, high = chunks.Length - 1;
        while (low <= high)
        {
            int middle = (low + high) / 2;
            ulong found = indexOf.Of(in chunks[middle]);
            if (found == index)
                return middle;
            if (found < index)
                low = middle + 1;
            else
                high = middle - 1;
        }
        return ~low;
    }

    // ---- IList<ulong>, read only: the set changes only into a new set ----

    public bool IsReadOnly => true;

    ulong IList<ulong>.this[int index] { get => this[index]; set => throw ReadOnly(); }

    void IList<ulong>.Insert(int index, ulong item) => throw ReadOnly();

    void IList<ulong>.RemoveAt(int index) => throw ReadOnly();

    void ICollection<ulong>.Add(ulong item) => throw ReadOnly();

    void ICollection<ulong>.Clear() => throw ReadOnly();

    bool ICollection<ulong>.Remove(ulong item) => throw ReadOnly();

    private static NotSupportedException ReadOnly() => new("a PageSet is immutable: Add and Remove return a new set");
}
