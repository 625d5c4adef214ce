using BenchmarkDotNet.Reports;
using Mmspec.Bench.Algorithms;

namespace Mmspec.Bench.Report;

/// <summary>A speed-up issue #7 asks for: the mean of the category's baseline over the mean of the candidate.</summary>
public sealed record Target(string Name, string Category, string Candidate, int Stride, double Minimum)
{
    public static IReadOnlyList<Target> All { get; } =
    [
        new("vmfind vs mm_map_get page by page, one mapping per 16 pages", VmFindFragmentedBenchmarks.Category, nameof(VmFindFragmentedBenchmarks.Vmfind), 16, 100),
        new("vmfind vs mm_map_get page by page, one mapping per 512 pages", VmFindFragmentedBenchmarks.Category, nameof(VmFindFragmentedBenchmarks.Vmfind), 512, 100),
        new("vmfind vs mm_map_get page by page, one mapping per 4,096 pages", VmFindFragmentedBenchmarks.Category, nameof(VmFindFragmentedBenchmarks.Vmfind), 4096, 100),
        new("mm_phys_alloc_contiguous vs page-by-page search, one used frame per 16", ContiguousAllocationBenchmarks.Category, nameof(ContiguousAllocationBenchmarks.Reference), 16, 20),
        new("mm_phys_alloc_contiguous vs page-by-page search, one used frame per 64", ContiguousAllocationBenchmarks.Category, nameof(ContiguousAllocationBenchmarks.Reference), 64, 20),
    ];
}

/// <summary>A target checked against this run's results; the means are BenchmarkDotNet's, in nanoseconds.</summary>
public sealed record TargetOutcome(Target Target, double? BaselineNs, double? CandidateNs)
{
    public double? Speedup => BaselineNs / CandidateNs;

    public bool Met => Speedup >= Target.Minimum;

    public static IReadOnlyList<TargetOutcome> Check(IReadOnlyList<Summary> summaries)
    {
        var reports = summaries.SelectMany(summary => summary.Reports).ToList();
        return Target.All.Select(target =>
        {
            var group = reports.Where(report => report.BenchmarkCase.Descriptor.Categories.Contains(target.Category)
                                                && Equals(report.BenchmarkCase.Parameters["Stride"], target.Stride)).ToList();
            double? baseline = group.FirstOrDefault(report => report.BenchmarkCase.Descriptor.Baseline)?.ResultStatistics?.Mean;
            double? candidate = group.FirstOrDefault(report => report.BenchmarkCase.Descriptor.WorkloadMethod.Name == target.Candidate)?.ResultStatistics?.Mean;
            return new TargetOutcome(target, baseline, candidate);
        }).ToList();
    }
}
