using System.Diagnostics;
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

    public IReadOnlyList<string> Clauses => ["DMAP-02", "DMAP-03", "DMAP-05", "DMAP-06", "DMAP-07", "DMAP-09"];

    public Profile MinimumProfile => Profile.Default;

    private static readonly Gen<ulong> Physical =
        Gen.Frequency(
                (6, Gen.Choose(0, (int)(AddressSpaceLayout.DirectMapSize / AddressSpaceLayout.PageSize) - 1).Select(page => (ulong)page * AddressSpaceLayout.PageSize)),
                (2, Gen.Elements(0UL, AddressSpaceLayout.LargePageSize - 1, AddressSpaceLayout.LargePageSize, AddressSpaceLayout.DirectMapSize - 1)))
            .SelectMany(page => Gen.Choose(0, 4095).Select(offset => page % AddressSpaceLayout.PageSize == 0 ? page + (ulong)offset : page));

    public PropertyResult Check(IImplementationFactory implementation, RunSettings settings)
    {
        var clock = Stopwatch.StartNew();
        using IMmImplementation machine = implementation.Create(settings.RamSize);
        ulong[] spaces = [machine.CreateSpace(), machine.CreateSpace()];
        // The spec maps the low 1 GiB; what lies past the end of RAM is the implementation's choice (DMAP-10), which
        // only strict pins (DMAP-D07: the whole GiB whatever the RAM).
        ulong reach = settings.Profile == Profile.Strict ? AddressSpaceLayout.DirectMapSize : Math.Min(machine.RamSize, AddressSpaceLayout.DirectMapSize);
        int checks = 0;
        Violation? violation = null;
        (bool failed, ulong drawn, int tests, int shrinks) = FsCheckDriver.Run(Arb.From(Physical), p =>
        {
            checks++;
            violation = CheckOne(machine, spaces, p % reach);
            if (violation is not null)
                throw new ViolationException(violation);
        }, settings.Seed, settings.MaxTest);
        if (!failed)
            return new PropertyResult(Id, Verdict.Passed, tests, checks, clock.Elapsed);
        ulong phys = drawn % reach;
        violation = CheckOne(machine, spaces, phys)!;
        ulong virt = machine.MM_VIRTUALIZE(phys);
        var lookup = ApiCall.MapGet(0, virt, wantFlags: false);
        var trace = new[] { new CallRecord(1, lookup, CallEnd.Returned, lookup.Invoke(machine, spaces)) };
        var replay = new ReplayRecipe($"DirectMapProperty.Replay(factory, 0x{phys:X}UL, 0x{settings.RamSize:X}UL)", DrainsFreePages: false);
        return new PropertyResult(Id, Verdict.Failed, tests, checks, clock.Elapsed,
            new Failure(settings.Seed, violation, [$"p = 0x{phys:X}"], trace, shrinks, replay, settings.RamSize));
    }

    /// <summary>The property for one physical address (below the reach of the run), on a fresh machine: what a reproducer calls.</summary>
    public static Violation? Replay(IImplementationFactory implementation, ulong phys, ulong ramSize = SequenceRunner.DefaultRamSize)
    {
        using IMmImplementation machine = implementation.Create(ramSize);
        return CheckOne(machine, [machine.CreateSpace(), machine.CreateSpace()], phys);
    }

    private static Violation? CheckOne(IMmImplementation machine, ulong[] spaces, ulong phys)
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
        for (int space = 0; space < spaces.Length; space++)
        {
            ulong mapped = machine.mm_map_get(spaces[space], virt);
            if (mapped != phys)
                return new Violation("DMAP-05", $"mm_map_get(space{space}, 0x{virt:X}) = {SequenceContext.Hex(mapped)}, not 0x{phys:X}", 1,
                    $"mm_map_get(space{space}, MM_VIRTUALIZE(0x{phys:X}), NULL) == 0x{phys:X}");
        }
        return null;
    }
}
