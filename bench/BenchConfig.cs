using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Reports;

namespace Mmspec.Bench;

/// <summary>
/// One configuration for every benchmark: BenchmarkDotNet's short run (1 launch, 3 warm-up and 3 measured
/// iterations) so that the whole command stays within a few minutes on a shared 2-core machine; each category
/// is its own group with its own baseline; ratios read "Nx faster"; allocations are measured everywhere; rows keep
/// the order in which they are declared (baseline first). The default exporters write into BenchmarkDotNet.Artifacts/.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        Add(DefaultConfig.Instance);
        AddJob(Job.ShortRun);
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(CategoriesColumn.Default);
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        HideColumns(Column.AllocRatio); // mostly NA: most baselines allocate nothing
        WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend));
        WithOrderer(new DefaultOrderer(SummaryOrderPolicy.Declared));
    }
}
