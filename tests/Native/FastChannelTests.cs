using Mmspec.NativeClient;
using Mmspec.SpecTests.Port;

namespace Mmspec.Tests.Native;

/// <summary>
/// Tests that need the process to themselves: a machine gets a core of its own for its worker, and so the fast
/// channel, only while no other machine of the process is live. xUnit runs a collection that disables
/// parallelisation after every other test, alone.
/// </summary>
[CollectionDefinition(nameof(AloneInTheProcess), DisableParallelization = true)]
public sealed class AloneInTheProcess;

/// <summary>
/// The fast channel (native-client/FastChannel.cs, host/channel.c): while a machine has the box to itself, its requests
/// and answers go through shared memory with both sides spinning, and whatever does not fit that way (an answer
/// the suite stopped waiting for, a worker that died) still arrives on the socket.
/// </summary>
[Collection(nameof(AloneInTheProcess))]
public sealed class FastChannelTests
{
    private const ulong Ram = 8 << 20;

    [Fact]
    public void A_machine_alone_on_two_cores_gets_a_core_for_its_worker_and_spins_and_its_answers_are_the_same()
    {
        if (Environment.ProcessorCount < 2)
            return; // nothing to place apart: every call goes over the socket, as the other native tests check
        using var factory = new NativeFactory(NativeBuild.Sample, spin: SpinPolicy.Alone);
        OnSomeAttempt(() =>
        {
            using var machine = Assert.IsType<NativeImplementation>(factory.Create(Ram));
            Assert.True(machine.WorkerHasOwnCore);
            Assert.True(machine.Spins);
            Assert.NotEqual(CoresOf($"/proc/{machine.HostProcessId}/status"), CoresOfThisThread());

            ulong page = machine.mm_phys_alloc_page();
            Assert.NotEqual(ulong.MaxValue, page);
            int first = machine.ChannelledAnswers;
            // A long answer (one address per free page) and a long request (all of them back) through the channel.
            IReadOnlyList<ulong> pages = machine.AllocatePagesUntilExhausted(1 << 20);
            Assert.True(pages.Count > 1000);
            Assert.Equal(pages.Count, pages.Distinct().Count());
            Assert.DoesNotContain(page, pages);
            machine.FreePages(pages);
            Assert.Equal(pages.Count, machine.AllocatePagesUntilExhausted(1 << 20).Count);
            return first == 1 && machine.ChannelledAnswers == first + 3;
        }, "every answer came through the channel");
    }

    [Fact]
    public void A_call_longer_than_the_spin_is_answered_on_the_socket()
    {
        if (Environment.ProcessorCount < 2)
            return;
        using var factory = new NativeFactory(NativeBuild.Sample, spin: SpinPolicy.Alone);
        OnSomeAttempt(() =>
        {
            using var machine = Assert.IsType<NativeImplementation>(factory.Create(4 * Ram));
            ulong space = machine.CreateSpace();
            int channelled = machine.ChannelledAnswers;
            // A vmalloc of most of RAM zeroes about 7,000 pages behind write protection: about 2 µs a page here, far
            // past the 200 µs the caller spins, so its answer comes on the socket; the region is there all the same.
            ulong region = machine.vmalloc(space, 0x400000, 0x7FFF_FFFF_F000, 7000, 0x2);
            Assert.NotEqual(ulong.MaxValue, region);
            Assert.Equal(channelled, machine.ChannelledAnswers);
            Assert.NotEqual(ulong.MaxValue, machine.mm_map_get(space, region + 6999 * 4096));
            return machine.ChannelledAnswers == channelled + 1; // and the next call spins again
        }, "the call after the long one came through the channel");
    }

    [Fact]
    public void A_panic_comes_through_the_channel_and_a_crash_on_the_socket()
    {
        if (Environment.ProcessorCount < 2)
            return;
        const ulong Lookup = NativeImplementation.KernelBase + (5 << 20); // hostile.c: lookups from 4 MiB up
        using (var panics = new NativeFactory(NativeBuild.Hostile("map-get-panics"), spin: SpinPolicy.Alone))
        {
            OnSomeAttempt(() =>
            {
                using var machine = Assert.IsType<NativeImplementation>(panics.Create(Ram));
                Assert.True(machine.Spins);
                ulong space = machine.CreateSpace();
                int before = machine.ChannelledAnswers;
                var panic = Assert.Throws<ImplementationPanicException>(() => machine.mm_map_get(space, Lookup));
                Assert.Contains("panic", panic.Message);
                return machine.ChannelledAnswers == before + 1;
            }, "the panic came through the channel");
        }
        using var segfaults = new NativeFactory(NativeBuild.Hostile("map-get-segfaults"), spin: SpinPolicy.Alone);
        using var crashing = Assert.IsType<NativeImplementation>(segfaults.Create(Ram));
        Assert.True(crashing.Spins);
        ulong space0 = crashing.CreateSpace();
        var crash = Assert.Throws<ImplementationCrashedException>(() => crashing.mm_map_get(space0, Lookup));
        Assert.Equal("SIGSEGV", crash.Signal);
    }

    [Fact]
    public void A_second_machine_while_one_lives_shares_its_workers_core_and_neither_spins()
    {
        if (Environment.ProcessorCount < 2)
            return;
        using var factory = new NativeFactory(NativeBuild.Sample, spin: SpinPolicy.Alone);
        using var first = Assert.IsType<NativeImplementation>(factory.Create(Ram));
        using var second = Assert.IsType<NativeImplementation>(factory.Create(Ram));
        Assert.False(second.WorkerHasOwnCore);
        Assert.False(first.Spins);
        Assert.False(second.Spins);
        _ = second.mm_phys_alloc_page(); // the thread follows the machine it calls
        Assert.Equal(CoresOf($"/proc/{second.HostProcessId}/status"), CoresOfThisThread());
        int channelled = first.ChannelledAnswers;
        Assert.NotEqual(ulong.MaxValue, first.mm_phys_alloc_page()); // its worker spins no more: the socket answers
        Assert.Equal(channelled, first.ChannelledAnswers);
    }

    [Fact]
    public void Spin_off_keeps_a_machine_alone_on_its_callers_core_and_on_the_socket()
    {
        using var factory = new NativeFactory(NativeBuild.Sample, spin: SpinPolicy.Off);
        using var machine = Assert.IsType<NativeImplementation>(factory.Create(Ram));
        Assert.NotEqual(ulong.MaxValue, machine.mm_phys_alloc_page());
        Assert.False(machine.WorkerHasOwnCore);
        Assert.False(machine.Spins);
        Assert.Equal(0, machine.ChannelledAnswers);
    }

    private const int Attempts = 10;

    /// <summary>
    /// Which way an answer comes is timing: the caller spins 200 µs for it, and a core taken for a moment by another
    /// task (the runtime's compiler thread, another process) sends it to the socket instead, where it arrives all
    /// the same. So a test of the way makes up to ten attempts, each on a fresh machine, and asks that one of them went
    /// the way it tests; what every attempt's answers say is asserted in each.
    /// </summary>
    private static void OnSomeAttempt(Func<bool> attempt, string what)
    {
        for (int i = 0; i < Attempts; i++)
        {
            if (attempt())
                return;
            Thread.Sleep(20); // a burst on the other core passes
        }
        Assert.Fail($"in none of {Attempts} attempts: {what}");
    }

    private static string CoresOfThisThread() => CoresOf("/proc/thread-self/status");

    private static string CoresOf(string statusFile) =>
        File.ReadLines(statusFile).Single(line => line.StartsWith("Cpus_allowed_list:")).Split(':')[1].Trim();
}
