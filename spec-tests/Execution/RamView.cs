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
}

public sealed class WalkOutsideRamException(ulong address)
    : InvalidOperationException($"a page-table walk read physical address 0x{address:X}, outside RAM");
