using Mmspec.Models.State;
using Mmspec.NativeClient;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;

namespace Mmspec.Tests.Native;

/// <summary>
/// The host's batch opcodes (how the suite counts free memory without one round trip per page) and the
/// sequence budget (how a slow or hanging implementation is stopped even when no single call times out).
/// </summary>
[Trait("Category", "Native")]
public sealed class NativeHostTests
{
    /// <summary>More than one batch: 32 MiB is 8,192 pages against 4,096 per request.</summary>
    private const ulong TwoBatchesOfRam = 32UL << 20;

    [Fact]
    public void A_batched_drain_hands_out_the_same_pages_as_calling_one_at_a_time()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        using IMmImplementation batched = factory.Create(TwoBatchesOfRam);
        using IMmImplementation single = factory.Create(TwoBatchesOfRam);

        IReadOnlyList<ulong> drained = batched.AllocatePagesUntilExhausted(int.MaxValue);
        var oneByOne = new List<ulong>();
        for (ulong page = single.mm_phys_alloc_page(); page != ulong.MaxValue; page = single.mm_phys_alloc_page())
            oneByOne.Add(page);

        Assert.True(drained.Count > NativeProtocol.BatchPages, $"{drained.Count} pages do not span two batches");
        Assert.Equal(oneByOne, drained);
        Assert.Equal(ulong.MaxValue, batched.mm_phys_alloc_page());
    }

    [Fact]
    public void A_batched_free_gives_every_page_back()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        using IMmImplementation machine = factory.Create(TwoBatchesOfRam);
        IReadOnlyList<ulong> all = machine.AllocatePagesUntilExhausted(int.MaxValue);

        machine.FreePages(all);

        Assert.Equal(all.Count, machine.AllocatePagesUntilExhausted(int.MaxValue).Count);
    }

    [Fact]
    public void A_batched_drain_stops_at_its_limit()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        using IMmImplementation machine = factory.Create(8UL << 20);

        IReadOnlyList<ulong> five = machine.AllocatePagesUntilExhausted(5);

        Assert.Equal(5, five.Count);
        Assert.Equal(5, five.Distinct().Count());
    }

    [Fact]
    public void A_panic_inside_a_batch_is_a_panic_and_the_machine_goes_on()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        using IMmImplementation machine = factory.Create(8UL << 20);
        ulong page = machine.mm_phys_alloc_page();

        var panic = Assert.Throws<ImplementationPanicException>(() => machine.FreePages([page, page]));

        Assert.Equal("FreeOfUnallocatedPage", panic.Reason);
        Assert.Contains("mm_phys_free_page() on 2 pages", panic.Message, StringComparison.Ordinal);
        Assert.Equal(page, machine.mm_phys_alloc_page());
    }

    [Fact]
    public void A_batched_kfree_frees_every_block_and_a_double_free_in_it_is_a_panic_naming_the_call()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        using IMmImplementation machine = factory.Create(8UL << 20);
        IReadOnlyList<ulong> free = machine.AllocatePagesUntilExhausted(int.MaxValue);
        machine.FreePages(free);
        var blocks = Enumerable.Range(0, 600).Select(_ => machine.kmalloc(64)).ToList();
        Assert.DoesNotContain(0UL, blocks);

        machine.KfreeAll(blocks);

        // The heap's pages came back (a heap may keep a few cached, as the teardown allows).
        IReadOnlyList<ulong> after = machine.AllocatePagesUntilExhausted(int.MaxValue);
        Assert.InRange(after.Count, free.Count - SequenceRunner.HeapCacheAllowance, free.Count);
        machine.FreePages(after);
        ulong kept = machine.kmalloc(64), block = machine.kmalloc(64); // kept keeps their slab page in the heap
        var panic = Assert.Throws<ImplementationPanicException>(() => machine.KfreeAll([block, block]));
        Assert.NotEqual(0UL, kept);
        Assert.Equal("HeapDoubleFree", panic.Reason);
        Assert.Contains("kfree() on 2 blocks", panic.Message, StringComparison.Ordinal);
        Assert.Contains("call 2 of 2 in the batch", panic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_of_lookups_answers_as_the_calls_one_by_one_and_a_panic_keeps_the_answers_before_it()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        using IMmImplementation machine = factory.Create(8UL << 20);
        ulong space = machine.CreateSpace(), page = machine.mm_phys_alloc_page();
        Assert.Equal(0, machine.mm_map_single(space, 0x40_0000, page, 2));
        (ulong Space, ulong Virt)[] queries = [(space, 0x40_0000), (space, 0x40_1000), (space, 0x40_0123), (space, AddressSpaceLayout.KernelBase + 0x5000)];
        var oneByOne = queries.Select(query => (machine.mm_map_get(query.Space, query.Virt, out ulong flags), flags)).ToList();

        var answers = new List<(ulong Result, ulong Flags)>();
        machine.MapGetAll(queries, answers);
        Assert.Equal(oneByOne, answers);
        Assert.Equal((page + 0x123, 2UL), answers[2]);

        answers.Clear();
        var panic = Assert.Throws<ImplementationPanicException>(() => machine.MapGetAll([queries[0], queries[2], (0xBAD000, 0x40_0000), queries[1]], answers));
        Assert.Equal("UnknownAddressSpace", panic.Reason);
        Assert.Contains("mm_map_get() on 4 addresses", panic.Message, StringComparison.Ordinal);
        Assert.Equal([oneByOne[0], oneByOne[2]], answers);
        Assert.Equal(oneByOne[1], (machine.mm_map_get(space, 0x40_1000, out ulong after), after)); // the machine goes on
    }

    [Fact]
    public void A_batched_kmalloc_hands_out_the_blocks_of_single_calls_and_stops_at_null()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        using IMmImplementation single = factory.Create(8UL << 20), batched = factory.Create(8UL << 20);
        var oneByOne = Enumerable.Range(0, 300).Select(_ => single.kmalloc(64)).ToList();

        Assert.Equal(oneByOne, batched.KmallocUntilNull(64, 300));

        // 1 KiB blocks fill 8 MiB in more than one request (4,096 per batch), up to the first NULL.
        IReadOnlyList<ulong> all = batched.KmallocUntilNull(1024, 100_000);
        Assert.InRange(all.Count, NativeProtocol.BatchPages + 1, (8 << 20) / 1024);
        Assert.DoesNotContain(0UL, all);
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(0UL, batched.kmalloc(1024));
    }

    [Fact]
    public void A_used_up_sequence_budget_stops_the_next_call()
    {
        using var factory = new NativeFactory(NativeBuild.Sample, sequenceTimeout: TimeSpan.FromTicks(1));
        using IMmImplementation machine = factory.Create(8UL << 20);

        try
        {
            machine.mm_phys_alloc_page(); // may or may not finish within the one tick left
        }
        catch (ImplementationCrashedException)
        {
        }
        var stopped = Assert.Throws<ImplementationCrashedException>(() => machine.mm_phys_alloc_page());

        Assert.True(stopped.Hung);
    }

    [Fact]
    public void The_sequence_budget_ends_a_hang_before_the_call_timeout()
    {
        var budget = TimeSpan.FromMilliseconds(300);
        using var factory = new NativeFactory(NativeBuild.ZooMember("vmfind-hang"), callTimeout: TimeSpan.FromSeconds(30), sequenceTimeout: budget);
        using IMmImplementation machine = factory.Create(8UL << 20);
        ulong space = machine.CreateSpace();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var hang = Assert.Throws<ImplementationCrashedException>(() => machine.vmfind(space, 0x400000, 0x800000, 5));

        Assert.True(hang.Hung);
        Assert.Contains("budget", hang.Message, StringComparison.Ordinal);
        Assert.Contains("vmfind(", hang.Message, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_hang_found_through_the_budget_is_a_verdict_naming_it()
    {
        using var factory = new NativeFactory(NativeBuild.ZooMember("vmfind-hang"), callTimeout: TimeSpan.FromSeconds(30),
            sequenceTimeout: TimeSpan.FromMilliseconds(300));

        PropertyResult result = PropertyCatalogue.Find("vmfind.bounds").Check(factory, new RunSettings(Profile.Default));

        Assert.Equal(Verdict.Failed, result.Verdict);
        Assert.Contains("host hung", result.Failure!.Violation.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Machines follow one another in the same worker process, and each finds the library's globals as
    /// loaded: the sample panics ("BootedTwice") if mmspec_init finds them already booted.
    /// </summary>
    [Fact]
    public void Every_machine_starts_from_the_library_as_loaded()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        var workers = new List<int>();
        ulong[]? first = null;
        for (int machine = 0; machine < 8; machine++)
        {
            using (var next = (NativeImplementation)factory.Create(8UL << 20))
            {
                ulong[] pages = [.. next.AllocatePagesUntilExhausted(10)];
                first ??= pages;
                Assert.Equal(first, pages);
                workers.Add(next.HostProcessId);
            }
            Thread.Sleep(20); // the worker reports the machine's end in the background
        }

        Assert.True(workers.Distinct().Count() < workers.Count, $"no worker served two machines: {string.Join(", ", workers)}");
    }

    [Fact]
    public void Reused_RAM_is_zero_again_and_unreachable_through_the_machine_that_left_it()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        IMmImplementation first = factory.Create(8UL << 20);
        ulong page = first.mm_phys_alloc_page();
        first.Ram.WriteU64(page, 0xFEEDFACE);
        IRamAccess leftBehind = first.Ram;
        first.Dispose();

        for (int machine = 0; machine < 3; machine++) // whichever machine gets that RAM back
        {
            using IMmImplementation next = factory.Create(8UL << 20);
            Assert.Equal(0UL, next.Ram.ReadU64(page));
        }
        Assert.Throws<ObjectDisposedException>(() => leftBehind.ReadU64(page));
    }

    [Fact]
    public void A_dead_server_takes_its_machines_with_it_and_is_started_again()
    {
        using var factory = new NativeFactory(NativeBuild.Sample);
        using var orphan = (NativeImplementation)factory.Create(8UL << 20);
        using (var server = System.Diagnostics.Process.GetProcessById(ParentOf(orphan.HostProcessId)))
        {
            server.Kill();
            server.WaitForExit();
        }

        Assert.Throws<ImplementationCrashedException>(() => orphan.mm_phys_alloc_page());
        using IMmImplementation next = factory.Create(8UL << 20);
        Assert.NotEqual(ulong.MaxValue, next.mm_phys_alloc_page());
    }

    /// <summary>The parent pid from /proc/&lt;pid&gt;/stat (the field after the command name in parentheses).</summary>
    private static int ParentOf(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
