using System.Diagnostics;
using Mmspec.Models.State;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Sequences;

namespace Mmspec.Bench.Suite;

/// <summary>What one checked step cost with <paramref name="LiveMappings"/> pages mapped, under each audit, in microseconds.</summary>
public sealed record StepCostRow(int LiveMappings, double IncrementalUs, double FullUs)
{
    public double Ratio => FullUs / IncrementalUs;
}

/// <summary>
/// How the cost of one step grows with the state: a vmalloc of N pages in space0, then cycles of four small steps in
/// space1 (allocate a page, map it, unmap it, free it), each audited. The cost of a step is the time of the run with the
/// cycles less the time of the run without them, over the steps added (best of a few runs each, on a noisy machine):
/// the incremental audit should cost the same whatever N is, the full audit grows with it.
/// </summary>
public static class StepCost
{
    public const int Cycles = 100;

    public static IReadOnlyList<StepCostRow> Measure(IReadOnlyList<int> liveMappings, int repeats = 5)
    {
        Run([VmAllocOf(16)], AuditMode.Full); // JIT warm-up
        return liveMappings.Select(n => new StepCostRow(n, PerStepUs(n, AuditMode.Incremental, repeats), PerStepUs(n, AuditMode.Full, repeats))).ToList();
    }

    private static double PerStepUs(int live, AuditMode audit, int repeats)
    {
        Operation[] prefix = [VmAllocOf(live)];
        Operation[] cycle =
        [
            new AllocPages(1, Contiguous: false),
            new MapSingle(1, new AddressPick(Area.UserLow, 0), 0, Rights.Write),
            new UnmapSingle(1, new AddressPick(Area.UserLow, 0), 0),
            new FreePage(0),
        ];
        Operation[] withCycles = [.. prefix, .. Enumerable.Repeat(cycle, Cycles).SelectMany(steps => steps)];
        double without = Enumerable.Range(0, repeats).Min(_ => Run(prefix, audit));
        double with = Enumerable.Range(0, repeats).Min(_ => Run(withCycles, audit));
        return (with - without) * 1e6 / (Cycles * cycle.Length);
    }

    private static VmAlloc VmAllocOf(int pages) => new(0, new SearchRange(new AddressPick(Area.UserLow, 0), 1UL << 20, 0), (ulong)pages, Rights.Write);

    private static double Run(IReadOnlyList<Operation> steps, AuditMode audit)
    {
        var clock = Stopwatch.StartNew();
        SequenceResult result = SequenceRunner.Run(new ReferenceFactory(), Profile.Default, steps, audit: audit);
        if (!result.Passed || result.StepsApplied != steps.Count)
            throw new InvalidOperationException($"the step-cost sequence did not run through ({result.StepsApplied} of {steps.Count} steps): {result.Violation?.Message}");
        return clock.Elapsed.TotalSeconds;
    }
}
