using System.Runtime.InteropServices;
using Mmspec.Models.Mmu;
using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Execution;

/// <summary>The implementation's RAM as the MMU model reads it; a walk that leaves RAM is itself a finding.</summary>
public sealed class RamView(IRamAccess ram, ulong size) : IPhysicalMemory
{
    public ulong ReadU64(ulong physicalAddress) =>
        physicalAddress < size && size - physicalAddress >= 8
            ? ram.ReadU64(physicalAddress)
            : throw new WalkOutsideRamException(physicalAddress);

    /// <summary>A table page in one copy (the walk reads all 512 entries of each table); word by word where it leaves RAM, so the first word outside is the one named.</summary>
    public void ReadU64s(ulong physicalAddress, Span<ulong> words)
    {
        ulong bytes = (ulong)words.Length * 8;
        if (!BitConverter.IsLittleEndian || physicalAddress >= size || size - physicalAddress < bytes)
            IPhysicalMemory.ReadEach(this, physicalAddress, words);
        else
            ram.Read(physicalAddress, MemoryMarshal.AsBytes(words));
    }
}

public sealed class WalkOutsideRamException(ulong address)
    : InvalidOperationException($"a page-table walk read physical address 0x{address:X}, outside RAM");
