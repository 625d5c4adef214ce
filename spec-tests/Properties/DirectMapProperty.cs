using FsCheck;
using FsCheck.Fluent;
using Mmspec.Models.State;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Properties;

/// <summary>
/// Stateless: across the low min(RAM, 1 GiB) (the whole GiB in strict), MM_VIRTUALIZE lands at the boundary plus p, in kernel space,
/// mm_map_get of it gives p back in every space, and MM_PHYS inverts MM_VIRTUALIZE.
/// </summary>
public sealed class DirectMapProperty : ISpecProperty
{
    public string Id => "directmap.roundtrip";

    public string Title => "Direct map: MM_VIRTUALIZE / MM_PHYS / mm_map_get agree over the low 1 GiB";

    public IReadOnlyList<string> Clauses => ["DMAP-02", "DMAP-03", "DMAP-04", "DMAP-05", "DMAP-06", "DMAP-07", "DMAP-09"];

    public Profile MinimumProfile => Profile.Default;

    private static readonly Gen<ulong> Physical =
        Gen.Frequency(
                (6, Gen.Choose(0, (int)(AddressSpaceLayout.DirectMapSize / AddressSpaceLayout.PageSize) - 1).Select(page => (ulong)page * AddressSpaceLayout.PageSize)),
                (2, Gen.Elements(0UL, AddressSpaceLayout.LargePageSize - 1, AddressSpaceLayout.LargePageSize, AddressSpaceLayout.DirectMapSize - 1)))
            .SelectMany(page => Gen.Choose(0, 4095).Select(offset => page % AddressSpaceLayout.PageSize == 0 ? page + (ulong)offset : page));

    public PropertyResult Check(IImplementationFactory implementation, RunSettings settings) =>
        FailureSearch.Run(Id, settings, masked => Search(implementation, settings, masked));

    /// <summary>The property for one physical address (below the reach of the run), on a fresh machine: what a reproducer calls.</summary>
    public static Violation? Replay(IImplementationFactory implementation, ulong phys, ulong ramSize = SequenceRunner.DefaultRamSize)
    {
        using var machine = new DirectMapMachine(implementation, ramSize);
        return machine.Check(phys).Violation;
    }

    private static SearchRound Search(IImplementationFactory implementation, RunSettings settings, IReadOnlySet<string> masked)
    {
        // One machine serves every check; a call that kills it ends that check, and the next one boots a fresh machine.
        using var machine = new DirectMapMachine(implementation, settings.RamSize);
        // The spec maps the low 1 GiB; what lies past the end of RAM is the implementation's choice (DMAP-10), which
        // only strict pins (DMAP-D07: the whole GiB whatever the RAM).
        ulong reach = settings.Profile == Profile.Strict ? AddressSpaceLayout.DirectMapSize : Math.Min(settings.RamSize, AddressSpaceLayout.DirectMapSize);
        int checks = 0;
        DirectMapCheck? lastFailure = null;
        (bool failed, ulong drawn, int tests, int shrinks) = FsCheckDriver.Run(Arb.From(Physical), p =>
        {
            checks++;
            DirectMapCheck check = machine.Check(p % reach);
            if (check.Violation is not { } violation || masked.Contains(violation.Clause))
                return;
            lastFailure = check;
            throw new ViolationException(violation);
        }, settings.Seed, settings.MaxTest, settings.Stop);
        if (!failed)
            return new SearchRound(null, tests, checks);
        ulong phys = drawn % reach;
        DirectMapCheck replay = machine.Check(phys);
        if (replay.Violation is null || masked.Contains(replay.Violation.Clause))
        {
            Violation seen = lastFailure!.Violation!;
            replay = lastFailure with { Violation = seen with { Message = $"{seen.Message} (did not reproduce on replay: the same address then passed)" } };
        }
        var recipe = new ReplayRecipe($"DirectMapProperty.Replay(factory, 0x{phys:X}UL, 0x{settings.RamSize:X}UL)", DrainsFreePages: false);
        string input = replay.Violation!.Step == 0 ? "at boot" : $"p = 0x{phys:X}";
        return new SearchRound(new Failure(settings.Seed, replay.Violation, [input], replay.Trace, shrinks, recipe, settings.RamSize), tests, checks);
    }
}

/// <summary>What checking one physical address found, and the spec calls it made.</summary>
internal sealed record DirectMapCheck(Violation? Violation, IReadOnlyList<CallRecord> Trace);

/// <summary>
/// The machine the direct-map property checks addresses on: booted with two spaces when first needed, and
/// booted again after a call that panicked or crashed, so that one fault ends one check (with a verdict naming
/// it) and never the runner, nor the shrinking that replays checks afterwards.
/// </summary>
internal sealed class DirectMapMachine(IImplementationFactory factory, ulong ramSize) : IDisposable
{
    private IMmImplementation? machine;
    private ulong[] spaces = [];

    public DirectMapCheck Check(ulong phys)
    {
        if (machine is null && Boot() is { } bootFailure)
            return new DirectMapCheck(bootFailure, []);
        var trace = new List<CallRecord>();
        try
        {
            return new DirectMapCheck(CheckOne(machine!, spaces, phys, trace), trace);
        }
        catch (Exception fault) when (fault is ImplementationPanicException or ImplementationCrashedException)
        {
            Dispose();
            return new DirectMapCheck(new Violation("DMAP-05", $"looking up the direct-map address of 0x{phys:X} {ImplementationFault.How(fault)}: {fault.Message}", 1), trace);
        }
    }

    public void Dispose()
    {
        machine?.Dispose();
        machine = null;
    }

    /// <summary>Null when the machine is up; otherwise the violation, at boot (step 0).</summary>
    private Violation? Boot()
    {
        (machine, Violation? bootFailure) = SequenceRunner.Boot(factory, ramSize);
        if (machine is null)
            return bootFailure;
        try
        {
            spaces = [machine.CreateSpace(), machine.CreateSpace()];
            if (spaces.Contains(AddressSpaceLayout.Naddr))
            {
                Dispose();
                return new Violation("DMAP-04", "at boot, a fresh machine could not create an address space", 0);
            }
            return null;
        }
        catch (Exception fault) when (fault is ImplementationPanicException or ImplementationCrashedException)
        {
            Dispose();
            return new Violation("DMAP-04", $"at boot, creating its two address spaces {ImplementationFault.How(fault)}: {fault.Message}", 0);
        }
    }

    private static Violation? CheckOne(IMmImplementation machine, ulong[] spaces, ulong phys, List<CallRecord> trace)
    {
        Violation? macros = CheckMacros(machine, phys);
        if (macros is not null)
        {
            // The reproducer asserts the macros after one lookup of the address, as its last call.
            Lookup(machine, spaces, 0, AddressSpaceLayout.KernelBase + phys, trace);
            return macros;
        }
        ulong virt = machine.MM_VIRTUALIZE(phys);
        for (int space = 0; space < spaces.Length; space++)
        {
            ulong mapped = Lookup(machine, spaces, space, virt, trace);
            if (mapped != phys)
                return new Violation("DMAP-05", $"mm_map_get(space{space}, 0x{virt:X}) = {SequenceContext.Hex(mapped)}, not 0x{phys:X}", 1, $"r == 0x{phys:X}");
        }
        return null;
    }

    /// <summary>mm_map_get, recorded in the trace however it ends.</summary>
    private static ulong Lookup(IMmImplementation machine, ulong[] spaces, int space, ulong virt, List<CallRecord> trace)
    {
        var lookup = ApiCall.MapGet(space, virt, wantFlags: false);
        try
        {
            CallOutcome outcome = lookup.Invoke(machine, spaces);
            trace.Add(new CallRecord(1, lookup, CallEnd.Returned, outcome));
            return outcome.Value;
        }
        catch (ImplementationPanicException panic)
        {
            trace.Add(new CallRecord(1, lookup, CallEnd.Panicked, default, panic.Reason));
            throw;
        }
        catch (ImplementationCrashedException crash)
        {
            trace.Add(new CallRecord(1, lookup, CallEnd.Crashed, default, crash.Signal ?? (crash.Hung ? "hang" : "exit")));
            throw;
        }
    }

    private static Violation? CheckMacros(IMmImplementation machine, ulong phys)
    {
        if (machine.MM_PAGE_SIZE != AddressSpaceLayout.PageSize)
            return new Violation("DMAP-09", $"MM_PAGE_SIZE is {machine.MM_PAGE_SIZE}, not 4096", 1, "MM_PAGE_SIZE == 4096");
        ulong virt = machine.MM_VIRTUALIZE(phys);
        if (virt != AddressSpaceLayout.KernelBase + phys)
            return new Violation("DMAP-03", $"MM_VIRTUALIZE(0x{phys:X}) = 0x{virt:X}, not 0xFFFFFF0000000000 + p", 1,
                $"MM_VIRTUALIZE(0x{phys:X}) == 0x{AddressSpaceLayout.KernelBase + phys:X}");
        if (!AddressSpaceLayout.IsKernel(virt))
            return new Violation("DMAP-02", $"MM_VIRTUALIZE(0x{phys:X}) = 0x{virt:X} is not in kernel space", 1,
                $"MM_VIRTUALIZE(0x{phys:X}) >= 0x{AddressSpaceLayout.KernelBase:X}");
        if (machine.MM_PHYS(virt) != phys)
            return new Violation("DMAP-06", $"MM_PHYS(MM_VIRTUALIZE(0x{phys:X})) = 0x{machine.MM_PHYS(virt):X}", 1,
                $"MM_PHYS(MM_VIRTUALIZE(0x{phys:X})) == 0x{phys:X}");
        return null;
    }
}
