using Mmspec.NativeClient;
using Mmspec.SpecTests.Port;

namespace Mmspec.Tests.Native;

/// <summary>
/// A machine's worker and the thread that calls it share one core while the machine lives, unless the machine is
/// the process's only one and its worker gets a core of its own (FastChannelTests), and the thread is free again
/// after it (native/README.md, "Round trips"): a round trip on one core is several times cheaper on a VM.
/// </summary>
public sealed class SameCoreTests
{
    [Fact]
    public void The_worker_and_the_calling_thread_share_a_core_or_have_one_each_while_the_machine_lives()
    {
        string before = CoresOf("/proc/thread-self/status");
        using var factory = new NativeFactory(NativeBuild.Sample);
        var machine = Assert.IsType<NativeImplementation>(factory.Create(8 << 20));
        _ = machine.mm_phys_alloc_page(); // a call: the thread follows the machine before each request
        string worker = CoresOf($"/proc/{machine.HostProcessId}/status");
        string caller = CoresOf("/proc/thread-self/status");
        if (MoreThanOne(before))
        {
            Assert.Matches("^[0-9]+$", worker); // a single core
            Assert.Matches("^[0-9]+$", caller);
            if (machine.WorkerHasOwnCore)
                Assert.NotEqual(worker, caller); // no other machine was live: the two spin, each on its own core
            else
                Assert.Equal(worker, caller);
        }
        else
        {
            Assert.Equal(before, caller); // one core: nothing to choose, nothing pinned
        }
        machine.Dispose();
        Assert.Equal(before, CoresOf("/proc/thread-self/status"));
    }

    [Fact]
    public void A_machine_ended_on_another_thread_frees_the_thread_it_pinned()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        string pinned = "", after = "", before = "";
        NativeImplementation? machine = null;
        using var called = new ManualResetEventSlim();
        using var ended = new ManualResetEventSlim();
        var caller = new Thread(() =>
        {
            before = CoresOf("/proc/thread-self/status");
            machine = (NativeImplementation)factory.Create(8 << 20);
            _ = machine.mm_phys_alloc_page();
            pinned = CoresOf("/proc/thread-self/status");
            called.Set();
            ended.Wait(); // until the machine has ended elsewhere
            after = CoresOf("/proc/thread-self/status");
        });
        caller.Start();
        Assert.True(called.Wait(TimeSpan.FromSeconds(30)));
        machine!.Dispose(); // on this thread, not the one it pinned
        ended.Set();
        caller.Join();
        Assert.Equal(before, after);
        if (MoreThanOne(before))
            Assert.Matches("^[0-9]+$", pinned);
    }

    private static bool MoreThanOne(string cores) => cores.Contains('-') || cores.Contains(',');

    /// <summary>The <c>Cpus_allowed_list</c> of a task's status file, e.g. <c>0-1</c>.</summary>
    private static string CoresOf(string statusFile) =>
        File.ReadLines(statusFile).Single(line => line.StartsWith("Cpus_allowed_list:")).Split(':')[1].Trim();
}
