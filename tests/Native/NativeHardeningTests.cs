using Mmspec.Cli;
using Mmspec.NativeClient;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.Tests.Cli;

namespace Mmspec.Tests.Native;

/// <summary>
/// Every fault a verdict, and nothing left behind: the hostile runners (native/hostile/) fork a process that
/// never ends, flood stderr, panic, crash or hang in mmspec_init, hand out a root that is no page of RAM, or fault
/// in the direct-map lookups directmap.roundtrip makes, and a wrong MMSPEC_HOST is refused up
/// front. Each test ends by checking that none of its files in /dev/shm and none of its processes (server,
/// workers, what the library forked) remain.
/// </summary>
[Trait("Category", "Native")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes, signals and /proc: the host is Linux-only
public sealed class NativeHardeningTests
{
    private const ulong Ram = 4UL << 20;

    private static readonly TimeSpan HangTimeout = TimeSpan.FromMilliseconds(300);

    private static string Sleeper => NativeBuild.Hostile("fork-sleeper");

    // ---- nothing outlives a machine --------------------------------------------------------------

    [Fact]
    public void A_worker_leads_its_own_process_group_and_the_child_a_machine_forks_is_in_it()
    {
        using var factory = new NativeFactory(Sleeper);
        using (var machine = (NativeImplementation)factory.Create(Ram))
        {
            Assert.Equal(machine.HostProcessId, Leftovers.GroupOf(machine.HostProcessId));
            Leftovers.AssertSoon(() => Leftovers.Sleepers().Any(s => s.Group == machine.HostProcessId), "the machine's sleeper is in its worker's group");
        }
        AssertNothingLeft(factory, Sleeper);
    }

    [Fact]
    public void The_child_a_machine_forked_dies_when_the_machine_is_closed_and_the_next_machine_still_runs()
    {
        using var factory = new NativeFactory(Sleeper);
        int worker;
        using (var machine = (NativeImplementation)factory.Create(Ram))
        {
            worker = machine.HostProcessId;
            Leftovers.AssertSoon(() => Leftovers.Sleepers().Any(s => s.Group == worker), "a sleeper");
        }

        Leftovers.AssertSoon(() => !Leftovers.Sleepers().Any(s => s.Group == worker), "the closed machine's sleeper is gone");
        using (IMmImplementation next = factory.Create(Ram))
            Assert.NotEqual(ulong.MaxValue, next.mm_phys_alloc_page());
        AssertNothingLeft(factory, Sleeper);
    }

    /// <summary>SIGSEGV: the machine crashed; SIGKILL: what the suite does to a machine that hung.</summary>
    [Theory]
    [InlineData(Leftovers.SigSegv, "SIGSEGV")]
    [InlineData(Leftovers.SigKill, "SIGKILL")]
    public void The_child_a_machine_forked_dies_when_its_worker_dies(int signal, string name)
    {
        using var factory = new NativeFactory(Sleeper);
        using (var machine = (NativeImplementation)factory.Create(Ram))
        {
            int worker = machine.HostProcessId;
            Leftovers.AssertSoon(() => Leftovers.Sleepers().Any(s => s.Group == worker), "a sleeper");

            Leftovers.Signal(worker, signal);

            var crash = Assert.Throws<ImplementationCrashedException>(() => machine.mm_phys_alloc_page());
            Assert.True(crash.Signal == name, crash.Message);
            Leftovers.AssertSoon(() => !Leftovers.Sleepers().Any(s => s.Group == worker), "the dead worker's sleeper is gone");
        }
        AssertNothingLeft(factory, Sleeper);
    }

    [Fact]
    public void Disposing_the_factory_with_a_machine_still_open_kills_the_machine_and_what_it_forked()
    {
        using var factory = new NativeFactory(Sleeper);
        var open = (NativeImplementation)factory.Create(Ram);
        Leftovers.AssertSoon(() => Leftovers.Sleepers().Any(s => s.Group == open.HostProcessId), "a sleeper");

        factory.Dispose();

        Leftovers.AssertNoProcessesOf(Sleeper);
        Assert.Throws<ImplementationCrashedException>(() => open.mm_phys_alloc_page());
        open.Dispose();
        Leftovers.AssertNoFilesStartingWith(factory.ScratchPrefix);
    }

    [Fact]
    public void A_killed_server_takes_its_workers_and_what_they_forked_with_it()
    {
        using var factory = new NativeFactory(Sleeper);
        using (var machine = (NativeImplementation)factory.Create(Ram))
        {
            Leftovers.AssertSoon(() => Leftovers.Sleepers().Any(s => s.Group == machine.HostProcessId), "a sleeper");
            int server = Leftovers.ProcessesOf(Sleeper).Single(pid => pid != machine.HostProcessId && Leftovers.GroupOf(pid) != machine.HostProcessId);

            Leftovers.Signal(server, Leftovers.SigKill);

            Leftovers.AssertNoProcessesOf(Sleeper);
        }
        AssertNothingLeft(factory, Sleeper);
    }

    [Fact]
    public void When_the_suite_process_dies_its_server_workers_and_their_children_die_too()
    {
        using CliProcess cli = CliProcess.Start(null, "check", "--impl", $"native:{Sleeper}", "--max-test", "100000");
        Leftovers.AssertSoon(() => Leftovers.Sleepers().Count > 0, "the run has a machine with a sleeper");

        cli.Kill();

        Leftovers.AssertNoProcessesOf(Sleeper);
        new NativeFactory(NativeBuild.Sample).Dispose(); // a new factory sweeps the RAM files of suites that died
        Leftovers.AssertNoFilesStartingWith(CliProcess.ScratchPrefix(cli.Id));
    }

    // ---- machine logs are capped --------------------------------------------------------------------

    [Fact]
    public void A_machine_log_keeps_at_most_the_last_MiB_and_its_tail_is_still_quoted()
    {
        string flood = NativeBuild.Hostile("stderr-flood");
        using var factory = new NativeFactory(flood);
        using (var machine = (NativeImplementation)factory.Create(Ram))
        {
            for (int call = 0; call < 3; call++) // 30 MiB to stderr
                machine.CreateSpace();
            Leftovers.AssertSoon(() => machine.LogBytes >= 512 << 10, "the log holds the latest output");
            Assert.InRange(machine.LogBytes, 0L, 1L << 20);

            Leftovers.Signal(machine.HostProcessId, Leftovers.SigKill);

            var death = Assert.Throws<ImplementationCrashedException>(() => machine.CreateSpace());
            Assert.Contains("host stderr: ", death.Message, StringComparison.Ordinal);
            Assert.Contains("stderr-flood: call 3 wrote 10485760 bytes", death.Message, StringComparison.Ordinal);
            Assert.InRange(machine.LogBytes, 0L, 1L << 20);
        }
        AssertNothingLeft(factory, flood);
    }

    // ---- mmspec_init faults are the implementation's --------------------------------------------------

    [Fact]
    public void A_library_that_panics_in_mmspec_init_starts_and_every_machine_is_a_panic()
    {
        string library = NativeBuild.Hostile("init-panics");
        using var factory = new NativeFactory(library);
        factory.Start();

        for (int machine = 0; machine < 2; machine++)
        {
            var panic = Assert.Throws<ImplementationPanicException>(() => factory.Create(Ram));
            Assert.Equal("InitRefused", panic.Reason);
            Assert.Contains("mmspec_init", panic.Message, StringComparison.Ordinal);
        }
        AssertNothingLeft(factory, library);
    }

    [Fact]
    public void A_library_that_crashes_in_mmspec_init_starts_and_every_machine_is_a_crash_with_its_log()
    {
        string library = NativeBuild.Hostile("init-segfault");
        using var factory = new NativeFactory(library);
        factory.Start();

        for (int machine = 0; machine < 2; machine++)
        {
            var crash = Assert.Throws<ImplementationCrashedException>(() => factory.Create(Ram));
            Assert.Equal("SIGSEGV", crash.Signal);
            Assert.Contains("in mmspec_init (host stderr: init-segfault: about to write through NULL)", crash.Message, StringComparison.Ordinal);
        }
        AssertNothingLeft(factory, library);
    }

    [Fact]
    public void A_library_that_hangs_in_mmspec_init_starts_and_every_machine_is_a_hang()
    {
        string library = NativeBuild.Hostile("init-hang");
        using var factory = new NativeFactory(library, callTimeout: HangTimeout);
        factory.Start();

        for (int machine = 0; machine < 2; machine++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var hang = Assert.Throws<ImplementationCrashedException>(() => factory.Create(Ram));
            Assert.True(hang.Hung, hang.Message);
            Assert.Contains("no reply within 0.3 s in mmspec_init", hang.Message, StringComparison.Ordinal);
            Assert.Contains("init-hang: spinning forever", hang.Message, StringComparison.Ordinal);
            // The watchdog's clock and this one start a moment apart (298.6 ms was seen): some slack below the timeout.
            Assert.InRange(clock.Elapsed, HangTimeout - TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10));
        }
        AssertNothingLeft(factory, library);
    }

    [Theory]
    [InlineData("init-panics", "panicked (InitRefused)")]
    [InlineData("init-segfault", "crashed: host crashed: SIGSEGV in mmspec_init")]
    [InlineData("init-hang", "crashed: host hung: no reply within 0.3 s in mmspec_init")]
    public void A_fault_in_mmspec_init_is_a_boot_violation_of_a_stateful_property(string name, string how)
    {
        string library = NativeBuild.Hostile(name);
        using var factory = new NativeFactory(library, callTimeout: HangTimeout);

        PropertyResult result = PropertyCatalogue.Find("stateful.physical").Check(factory, new RunSettings(Profile.Default, MaxTest: 1, RamSize: Ram));

        Assert.Equal(Verdict.Failed, result.Verdict);
        Assert.Equal("DMAP-04", result.Failure!.Violation.Clause);
        Assert.StartsWith("at boot, booting a fresh machine with 0x", result.Failure.Violation.Message, StringComparison.Ordinal);
        Assert.Contains($" bytes of RAM {how}", result.Failure.Violation.Message, StringComparison.Ordinal);
        AssertNothingLeft(factory, library);
    }

    [Theory]
    [InlineData("root-unaligned", "0x")]
    [InlineData("root-beyond-ram", "0x10")]
    public void A_root_that_is_no_page_of_RAM_is_a_verdict_at_boot_not_an_error_of_the_walk(string name, string shown)
    {
        string library = NativeBuild.Hostile(name);
        using var factory = new NativeFactory(library);

        PropertyResult result = PropertyCatalogue.Find("stateful.physical").Check(factory, new RunSettings(Profile.Default, MaxTest: 3, RamSize: Ram));

        Failure failure = result.Failure!;
        Assert.Equal("MAP-18", failure.Violation.Clause);
        Assert.True(failure.AtBoot);
        Assert.Contains($"at boot, mmspec_space_root(space0) = {shown}", failure.Violation.Message, StringComparison.Ordinal);
        AssertNothingLeft(factory, library);
    }

    [Theory]
    [InlineData("map-get-segfaults", "crashed: host crashed: SIGSEGV in mm_map_get(space0, 0xFFFFFF00")]
    [InlineData("map-get-panics", "panicked (LookupRefused)")]
    public void A_fault_in_a_direct_map_lookup_is_a_verdict_and_the_property_boots_again_to_replay_it(string name, string how)
    {
        string library = NativeBuild.Hostile(name);
        using var factory = new NativeFactory(library);

        PropertyResult result = PropertyCatalogue.Find("directmap.roundtrip").Check(factory, new RunSettings(Profile.Default, RamSize: 8UL << 20));

        Failure failure = result.Failure!;
        Assert.Equal("DMAP-05", failure.Violation.Clause);
        Assert.Contains(how, failure.Violation.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("did not reproduce", failure.Violation.Message, StringComparison.Ordinal);
        Assert.NotEqual(CallEnd.Returned, failure.Trace[^1].End);
        AssertNothingLeft(factory, library);
    }

    /// <summary>
    /// The whole command line, as its own process: the library is accepted (no usage error) and every property gets
    /// its verdict at boot, directmap.roundtrip (which boots its own machine) included.
    /// </summary>
    [Theory]
    [InlineData("init-panics", 1)]
    [InlineData("init-segfault", 1)]
    [InlineData("init-hang", 0)] // 0: directmap.roundtrip and one other property, since every machine costs a call timeout
    public void Check_of_a_library_whose_mmspec_init_fails_exits_1_with_DMAP_04_and_leaves_nothing(string name, int shards)
    {
        string library = NativeBuild.Hostile(name);
        (CliRun run, int pid) = CliProcess.Run(null, "check", "--impl", $"native:{library}", "--max-test", "1", "--ram", "4M",
            "--call-timeout", "0.3", "--shard", ShardWith("directmap.roundtrip", shards));

        Assert.True(run.ExitCode == ExitCodes.Nonconformant, run.ToString());
        Assert.DoesNotContain("internal error", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("DMAP-04  fail", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("at boot", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("FAILURE directmap.roundtrip: [DMAP-04] at boot", run.Stdout, StringComparison.Ordinal);
        Leftovers.AssertNoProcessesOf(library);
        Leftovers.AssertNoFilesStartingWith(CliProcess.ScratchPrefix(pid));
    }

    // ---- a host that cannot run ---------------------------------------------------------------------------

    [Theory]
    [InlineData("missing", "does not exist")]
    [InlineData("directory", "is a directory")]
    [InlineData("not-executable", "is not executable (Permission denied)")]
    [InlineData("not-a-program", "cannot be started: ")]
    public void An_MMSPEC_HOST_that_cannot_run_exits_2_naming_the_file_and_the_cause_before_anything_runs(string kind, string cause)
    {
        using var scratch = new ScratchDirectory();
        string host = scratch["mmspec-host"];
        switch (kind)
        {
            case "directory":
                Directory.CreateDirectory(host);
                break;
            case "not-executable":
                File.Copy(NativeBuild.Host, host);
                File.SetUnixFileMode(host, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                break;
            case "not-a-program":
                File.WriteAllText(host, "neither a script nor an ELF file\n");
                File.SetUnixFileMode(host, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                break;
        }

        (CliRun run, int pid) = CliProcess.Run(new Dictionary<string, string> { ["MMSPEC_HOST"] = host },
            "check", "--impl", $"native:{NativeBuild.Sample}", "--max-test", "1");

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Equal("", run.Stdout);
        string line = Assert.Single(run.Stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("mmspec: ", line);
        Assert.Contains($"MMSPEC_HOST={host} {cause}", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
        Leftovers.AssertNoFilesStartingWith(CliProcess.ScratchPrefix(pid));
    }

    [Fact]
    public void A_good_MMSPEC_HOST_is_used_as_before()
    {
        using var scratch = new ScratchDirectory();
        string host = scratch["mmspec-host"];
        File.Copy(NativeBuild.Host, host);

        (CliRun run, int pid) = CliProcess.Run(new Dictionary<string, string> { ["MMSPEC_HOST"] = host },
            "check", "--impl", $"native:{NativeBuild.Sample}", "--max-test", "2", "--ram", "4M");

        Assert.True(run.ExitCode == ExitCodes.Conformant, run.ToString());
        Leftovers.AssertNoFilesStartingWith(CliProcess.ScratchPrefix(pid));
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    /// <summary>Disposes the factory (again, if a test did) and checks that none of its files and none of the library's processes remain.</summary>
    private static void AssertNothingLeft(NativeFactory factory, string library)
    {
        factory.Dispose();
        Leftovers.AssertNoFilesStartingWith(factory.ScratchPrefix);
        Leftovers.AssertNoProcessesOf(library);
    }

    /// <summary>
    /// The shard ("i/n") of the default catalogue that holds <paramref name="propertyId"/>: the whole run for 1, or with
    /// 0 a shard of two properties.
    /// </summary>
    private static string ShardWith(string propertyId, int count)
    {
        IReadOnlyList<string> units = WorkPlan.Units(Profile.Default).Select(property => property.Id).ToList();
        int position = units.ToList().IndexOf(propertyId);
        Assert.True(position >= 0, $"no property {propertyId}");
        int n = count == 0 ? (units.Count + 1) / 2 : count;
        return $"{position % n + 1}/{n}";
    }
}
