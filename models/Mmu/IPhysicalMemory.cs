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
}
