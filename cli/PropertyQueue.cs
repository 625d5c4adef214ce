using Mmspec.SpecTests.Properties;

namespace Mmspec.Cli;

/// <summary>
/// Runs the plan's properties on up to <paramref name="jobs"/> threads, each taking the next property in the plan's
/// order, and hands back their outcomes in that order. A property's run depends on the seed alone (every machine is
/// its own and the suite keeps no state between properties), so running several at once changes only the time taken.
/// Once <paramref name="stopping"/> says so, no further property is started.
/// </summary>
public sealed class PropertyQueue : IDisposable
{
    private readonly IReadOnlyList<ISpecProperty> units;
    private readonly Func<ISpecProperty, PropertyOutcome> run;
    private readonly Func<bool> stopping;
    private readonly TaskCompletionSource<bool>[] starts;
    private readonly TaskCompletionSource<PropertyOutcome>[] outcomes;
    private readonly Thread[] workers;
    private int next = -1;
    private volatile bool abandoned;

    public PropertyQueue(IReadOnlyList<ISpecProperty> units, int jobs, Func<ISpecProperty, PropertyOutcome> run, Func<bool> stopping)
    {
        this.units = units;
        this.run = run;
        this.stopping = stopping;
        starts = [.. units.Select(_ => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously))];
        outcomes = [.. units.Select(_ => new TaskCompletionSource<PropertyOutcome>(TaskCreationOptions.RunContinuationsAsynchronously))];
        // Threads of their own, not the thread pool: a property runs for seconds, and FsCheck and the native client block.
        workers = [.. Enumerable.Range(0, Math.Clamp(jobs, 1, Math.Max(units.Count, 1))).Select(index => new Thread(Work) { IsBackground = true, Name = $"mmspec check {index + 1}" })];
        foreach (Thread worker in workers)
            worker.Start();
    }

    /// <summary>Whether property <paramref name="index"/> was started (waits until it is, or until no more will be).</summary>
    public bool Started(int index) => starts[index].Task.GetAwaiter().GetResult();

    /// <summary>Property <paramref name="index"/>'s outcome, once it is done; only for a property that <see cref="Started"/>.</summary>
    public PropertyOutcome Outcome(int index) => outcomes[index].Task.GetAwaiter().GetResult();

    /// <summary>Starts nothing more and waits for the properties running to end.</summary>
    public void Dispose()
    {
        abandoned = true;
        foreach (Thread worker in workers)
            worker.Join();
    }

    private void Work()
    {
        for (int index = Interlocked.Increment(ref next); index < units.Count; index = Interlocked.Increment(ref next))
        {
            if (abandoned || stopping())
            {
                starts[index].SetResult(false); // not started: the run was interrupted
                continue;
            }
            starts[index].SetResult(true);
            try
            {
                outcomes[index].SetResult(run(units[index]));
            }
            catch (Exception failure)
            {
                outcomes[index].SetException(failure); // an internal error, handed to the reporting thread in order
            }
        }
    }
}
