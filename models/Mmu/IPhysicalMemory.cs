namespace Mmspec.Models.Mmu;

/// <summary>
/// The only view of memory the MMU model gets. The hardware walker never writes
/// (this model ignores the accessed/dirty bits on purpose: they are side effects,
/// not part of the translation), so a read of one aligned 64-bit entry is enough.
/// </summary>
public interface IPhysicalMemory
{
    /// <summary>Reads the little-endian 64-bit word at an 8-byte aligned physical address.</summary>
    ulong ReadU64(ulong physicalAddress);

    /// <summary>
    /// Reads the consecutive words from <paramref name="physicalAddress"/> on (a whole table page, for a walk that visits
    /// every entry of it), as that many <see cref="ReadU64"/> would. A memory that can copy them at once may say so.
    /// </summary>
    void ReadU64s(ulong physicalAddress, Span<ulong> words) => ReadEach(this, physicalAddress, words);

    /// <summary>The words read one <see cref="ReadU64"/> at a time, in address order.</summary>
    static void ReadEach(IPhysicalMemory memory, ulong physicalAddress, Span<ulong> words)
    {
        for (int index = 0; index < words.Length; index++)
            words[index] = memory.ReadU64(physicalAddress + ((ulong)index * 8));
    }
}
