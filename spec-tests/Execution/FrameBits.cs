using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// A set of page addresses kept as a bit per frame of RAM, for sets a step fills with thousands of pages and empties
/// after (a teardown gives back every page in one step: a hash set's add each cost more than the check they serve).
/// Addresses beyond the RAM it was sized for, or not page aligned, go to a hash set beside the bits.
/// </summary>
internal sealed class FrameBits
{
    private ulong[] words = [];
    private readonly HashSet<ulong> others = [];
    private bool any;

    /// <summary>Empties the set and sizes its bits for a RAM of <paramref name="ramSize"/> bytes.</summary>
    public void Clear(ulong ramSize)
    {
        ulong frames = ramSize / AddressSpaceLayout.PageSize;
        int needed = (int)Math.Min((frames + 63) / 64, int.MaxValue);
        if (words.Length != needed)
            words = new ulong[needed];
        else if (any)
            Array.Clear(words);
        others.Clear();
        any = false;
    }

    public void Add(ulong page)
    {
        any = true;
        if (Locate(page) is (int word, int bit))
            words[word] |= 1UL << bit;
        else
            others.Add(page);
    }

    public bool Contains(ulong page) => Locate(page) is (int word, int bit) ? (words[word] >> bit & 1) != 0 : others.Contains(page);

    private (int Word, int Bit)? Locate(ulong page)
    {
        if (!AddressSpaceLayout.IsPageAligned(page))
            return null;
        ulong frame = page / AddressSpaceLayout.PageSize;
        return frame / 64 < (ulong)words.Length ? ((int)(frame / 64), (int)(frame % 64)) : null;
    }
}
