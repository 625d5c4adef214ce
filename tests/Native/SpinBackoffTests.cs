using Mmspec.NativeClient;

namespace Mmspec.Tests.Native;

/// <summary>
/// SpinPolicy.Auto's decision (native-client/SpinContention.cs): spinning machines that lost more than a third of a
/// window of their lives to other tasks make the next machines share a core with their worker, for a back-off that
/// doubles while windows stay contended and starts again from the first length after a quiet one.
/// </summary>
public sealed class SpinBackoffTests
{
    private static readonly TimeSpan Machine = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void Quiet_windows_keep_every_machine_spinning()
    {
        var backoff = new SpinBackoff();
        for (int i = 0; i < 100; i++)
        {
            Assert.True(backoff.MaySpin());
            backoff.Spun(Machine, TimeSpan.FromMicroseconds(100)); // 10 %, a compiler thread's blip
        }
    }

    [Fact]
    public void A_contended_window_stops_the_next_machines_spinning_for_a_back_off_that_doubles_up_to_its_cap()
    {
        var backoff = new SpinBackoff();
        int expected = SpinBackoff.FirstBackoff;
        for (int round = 0; round < 8; round++)
        {
            FillWindow(backoff, lostShare: 0.5); // a CPU hog sharing one of the two cores
            Assert.Equal(expected, NotSpinning(backoff));
            expected = Math.Min(expected * 2, SpinBackoff.MaxBackoff);
        }
        Assert.Equal(SpinBackoff.MaxBackoff, expected);
    }

    [Fact]
    public void A_quiet_window_after_contended_ones_starts_the_back_off_again_from_its_first_length()
    {
        var backoff = new SpinBackoff();
        FillWindow(backoff, lostShare: 0.5);
        Assert.Equal(SpinBackoff.FirstBackoff, NotSpinning(backoff));
        FillWindow(backoff, lostShare: 0.5);
        Assert.Equal(2 * SpinBackoff.FirstBackoff, NotSpinning(backoff));
        FillWindow(backoff, lostShare: 0.05);
        Assert.Equal(0, NotSpinning(backoff));
        FillWindow(backoff, lostShare: 0.5);
        Assert.Equal(SpinBackoff.FirstBackoff, NotSpinning(backoff));
    }

    [Fact]
    public void A_window_is_judged_only_when_full_and_losses_within_the_allowance_do_not_count()
    {
        var backoff = new SpinBackoff();
        // Short machines that each lose a little under the allowance (the server finishing a hand-over): 40 % of
        // their lives, yet not contention.
        var life = TimeSpan.FromMicroseconds(100);
        for (int i = 0; i < 2 * SpinBackoff.Window / life; i++)
        {
            Assert.True(backoff.MaySpin());
            backoff.Spun(life, SpinBackoff.Allowance - TimeSpan.FromMicroseconds(10));
        }
        // Half a window of heavy losses decides nothing yet; the rest of it does.
        var backoffHalf = new SpinBackoff();
        backoffHalf.Spun(SpinBackoff.Window / 2, SpinBackoff.Window / 2);
        Assert.True(backoffHalf.MaySpin());
        backoffHalf.Spun(SpinBackoff.Window / 2, TimeSpan.Zero);
        Assert.False(backoffHalf.MaySpin());
    }

    [Fact]
    public void Spinning_that_cannot_be_watched_is_not_done_again()
    {
        var backoff = new SpinBackoff();
        backoff.CannotWatch();
        for (int i = 0; i < 2 * SpinBackoff.MaxBackoff; i++)
            Assert.False(backoff.MaySpin());
    }

    [Fact]
    public void Run_delay_is_read_for_a_live_thread_and_a_live_process_and_not_for_one_that_does_not_exist()
    {
        TimeSpan? thread = SpinContention.OfThread(Gettid());
        Assert.NotNull(thread);
        Assert.True(thread >= TimeSpan.Zero);
        Assert.NotNull(SpinContention.OfProcess(Environment.ProcessId));
        Assert.Null(SpinContention.OfProcess(int.MaxValue)); // above any pid_max: no such process
    }

    private static void FillWindow(SpinBackoff backoff, double lostShare)
    {
        var spun = TimeSpan.Zero;
        while (spun < SpinBackoff.Window)
        {
            Assert.True(backoff.MaySpin());
            backoff.Spun(Machine, SpinBackoff.Allowance + Machine * lostShare);
            spun += Machine;
        }
    }

    /// <summary>How many machines in a row may not spin now.</summary>
    private static int NotSpinning(SpinBackoff backoff)
    {
        int refused = 0;
        while (!backoff.MaySpin())
            refused++;
        return refused;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "gettid")]
    private static extern int Gettid();
}
