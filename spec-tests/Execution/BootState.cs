using Mmspec.Models.Mmu;
using Mmspec.Models.State;
using static Mmspec.Models.State.AddressSpaceLayout;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// The kernel half as the implementation built it, observed rather than assumed: the spec leaves its page
/// sizes, its extent and which PML4 slots the spaces share to the implementation. What is observed becomes
/// the model's starting state; the checks here are only what the spec requires of any boot state.
/// </summary>
public static class BootState
{
    /// <summary>
    /// Reads the spaces the setup created: a kernel slot whose PML4 entries point to the same table in every
    /// space is shared, every other slot is per space. Each kernel-half leaf is a boot mapping; one that
    /// translates 0xFFFFFF0000000000 + p to p, of whatever page size, is the direct map.
    /// </summary>
    public static BootObservation Observe(IPhysicalMemory ram, IReadOnlyList<ulong> roots)
    {
        // An observation is a function of the words it read: when every one of them reads the same again, so does the
        // observation, and the last one stands (every sequence boots a machine that is, as a rule, the same as the last).
        if (lastSeen is { } seen && seen.Roots.SequenceEqual(roots) && seen.Reads.All(read => ram.ReadU64(read.Address) == read.Value))
            return seen;
        var recording = new RecordingMemory(ram);
        ApiState state = ObserveAfresh(recording, roots);
        lastSeen = new BootObservation([.. roots], [.. recording.Reads], state);
        return lastSeen;
    }

    [ThreadStatic] // per thread, so that a run's hits do not depend on what other threads booted meanwhile
    private static BootObservation? lastSeen;

    /// <summary>Memory that remembers every word read from it, in order.</summary>
    private sealed class RecordingMemory(IPhysicalMemory ram) : IPhysicalMemory
    {
        public List<(ulong Address, ulong Value)> Reads { get; } = [];

        public ulong ReadU64(ulong physicalAddress)
        {
            ulong value = ram.ReadU64(physicalAddress);
            Reads.Add((physicalAddress, value));
            return value;
        }
    }

    private static ApiState ObserveAfresh(IPhysicalMemory ram, IReadOnlyList<ulong> roots)
    {
        IEnumerable<int> shared = KernelSlots.Where(slot => SameTableInEverySpace(ram, roots, slot));
        ApiState state = ApiState.Boot(roots.Count, shared);
        for (int space = 0; space < roots.Count; space++)
            foreach (MappedLeaf leaf in Mmu.EnumerateLeaves(ram, roots[space]))
            {
                if (!IsKernel(leaf.VirtualBase) || (space > 0 && state.IsShared(leaf.VirtualBase)))
                    continue; // the user half must be empty (the census says so); a shared slot is read once
                MappingKind kind = leaf.PhysicalBase == leaf.VirtualBase - KernelBase ? MappingKind.DirectMap : MappingKind.Boot;
                state = state.WithBootMapping(space, leaf.VirtualBase, new Mapping(leaf.PhysicalBase, leaf.Bytes, RightsOf(leaf.Permissions), kind));
            }
        return state;
    }

    /// <summary>
    /// What any boot state must give: the direct map translates every page of [0, min(RAM, 1 GiB)) to itself
    /// (DMAP-03), in every space, and is reachable from supervisor mode only (DMAP-01). Its page sizes, its
    /// extent past that and its W/NX bits are the implementation's choice (DMAP-D07 pins the reference's).
    /// </summary>
    public static void CheckDirectMap(SequenceContext ctx, BootObservation boot)
    {
        // The same boot tables passed with a machine at least this large: a smaller RAM needs less of the direct map.
        if (boot.DirectMapCheckedFor >= ctx.Implementation.RamSize)
            return;
        CheckDirectMap(ctx);
        boot.DirectMapCheckedFor = ctx.Implementation.RamSize;
    }

    private static void CheckDirectMap(SequenceContext ctx)
    {
        ulong covered = Math.Min(ctx.Implementation.RamSize, DirectMapSize);
        for (int space = 0; space < ctx.Spaces.Count; space++)
        {
            ulong next = 0; // the lowest physical address not yet seen translated to itself
            foreach ((ulong virt, Mapping mapping) in ctx.Model.MappingsOf(space))
            {
                if (mapping.Kind != MappingKind.DirectMap)
                    continue;
                ctx.Check(!mapping.Rights.HasFlag(Rights.User), "DMAP-01",
                    $"at boot, space{space}: the direct map page 0x{virt:X} -> 0x{mapping.Phys:X} ({mapping.Size / 1024} KiB) is reachable from user mode");
                if (mapping.Phys <= next && mapping.Phys + mapping.Size > next)
                    next = mapping.Phys + mapping.Size;
            }
            if (next < covered)
            {
                var found = ctx.Model.Lookup(space, KernelBase + next);
                string there = found is { } other ? $"maps {other.Mapping}" : "is not mapped";
                ctx.Fail("DMAP-03",
                    $"at boot, space{space}: the direct map must translate 0x{KernelBase + next:X} to physical 0x{next:X} (RAM is 0x{ctx.Implementation.RamSize:X} bytes), but that address {there}");
            }
        }
    }

    /// <summary>
    /// Strict: the reference's layout, the whole kernel half shared (DMAP-D06) and the direct map as 512
    /// supervisor, writable, non-executable 2 MiB pages over exactly the low 1 GiB and nothing else (DMAP-D07).
    /// </summary>
    public static void CheckReferenceLayout(SequenceContext ctx)
    {
        ctx.Check(ctx.Model.SharedKernelHalf, "DMAP-D06",
            $"at boot, the spaces share kernel PML4 slot(s) [{string.Join(", ", ctx.Model.SharedSlots)}], not both 510 and 511");
        var kernel = ctx.Model.MappingsOf(0).Where(entry => IsKernel(entry.Base)).ToList();
        ctx.Check(kernel.Count == (int)(DirectMapSize / LargePageSize), "DMAP-D07",
            $"at boot, the kernel half holds {kernel.Count} pages; the reference maps exactly 512 direct-map pages of 2 MiB");
        foreach ((ulong virt, Mapping mapping) in kernel)
            ctx.Check(mapping.Kind == MappingKind.DirectMap && mapping.Size == LargePageSize && mapping.Rights == Rights.Write, "DMAP-D07",
                $"at boot, 0x{virt:X} holds {mapping}; the reference's direct map is 2 MiB pages, supervisor, writable, not executable");
    }

    private static bool SameTableInEverySpace(IPhysicalMemory ram, IReadOnlyList<ulong> roots, int slot)
    {
        ulong first = ram.ReadU64(roots[0] + (ulong)slot * 8);
        const ulong present = 1, frame = 0x000F_FFFF_FFFF_F000;
        return (first & present) != 0 && roots.All(root => (ram.ReadU64(root + (ulong)slot * 8) & (present | frame)) == (first & (present | frame)));
    }

    /// <summary>Effective permissions as the API's flags (MM_PAGE_EXEC: no-execute clear).</summary>
    public static Rights RightsOf(Permissions permissions) =>
        (permissions.User ? Rights.User : 0) | (permissions.Writable ? Rights.Write : 0) | (permissions.Executable ? Rights.Exec : 0);
}

/// <summary>
/// A boot state as observed (<see cref="BootState.Observe"/>), and what the setup learned of it once: the first
/// space's own kernel mappings, for which RAM size the direct map was found whole, and what the first audit found.
/// The tables it was read from read the same whenever it is handed out again, so all of it holds again.
/// </summary>
public sealed class BootObservation
{
    internal BootObservation(ulong[] roots, (ulong Address, ulong Value)[] reads, ApiState state)
    {
        Roots = roots;
        Reads = reads;
        State = state;
        KernelOwn = [.. state.MappingsOf(0).Where(entry => IsKernel(entry.Base) && !state.IsShared(entry.Base))];
    }

    internal ulong[] Roots { get; }

    /// <summary>Every word the observation read, in order, with its value.</summary>
    internal (ulong Address, ulong Value)[] Reads { get; }

    public ApiState State { get; }

    /// <summary>What the first space held at boot in its own (unshared) kernel slots.</summary>
    public IReadOnlyList<(ulong Base, Mapping Mapping)> KernelOwn { get; }

    /// <summary>The largest RAM size for which the direct map was checked whole (DMAP-01, DMAP-03); 0 before.</summary>
    public ulong DirectMapCheckedFor { get; set; }

    /// <summary>
    /// What the setup's audit found on these tables (its walks and owners), for the next setup to start from. It holds
    /// for a machine of any RAM size the observation was read again on: every table it walked lies in that RAM.
    /// </summary>
    public (IReadOnlyDictionary<WalkPart, PartMemo> Walks, OwnershipMap Owners)? FirstAudit { get; set; }
}
