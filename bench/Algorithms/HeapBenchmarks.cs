using BenchmarkDotNet.Attributes;
using Mmspec.Bench.Baselines;
using Mmspec.Bench.Report;
using Mmspec.Reference.Api;

namespace Mmspec.Bench.Algorithms;

/// <summary>
/// kmalloc/kfree under a steady mixed load against a first-fit list (<see cref="FirstFitHeap"/>). Both heaps hold
/// the same 1,024 live blocks; each operation frees a random one and allocates a new block of a random size in
/// its place: 70 % 16-256 bytes, 25 % 257 bytes-2 KiB, 5 % 2-16 KiB. The script is seeded and shared.
/// </summary>
[Scenario("kmalloc/kfree under a steady mixed load: 1,024 live blocks, each operation frees a random one and allocates a block of a random size (70 % 16-256 B, 25 % 257 B-2 KiB, 5 % 2-16 KiB); times are per operation (a kfree and a kmalloc). Baseline: a textbook first-fit free list (K&R malloc) over a 32 MiB byte array (FirstFitHeap), same script.")]
public class HeapBenchmarks
{
    public const string Category = "kmalloc/kfree, mixed sizes, 1,024 live blocks";
    public const int OperationsPerInvoke = 4096;

    private const int LiveBlocks = 1024;
    private const int ScriptLength = 1 << 16;
    private const int ArenaBytes = 32 << 20;

    private readonly int[] victims = new int[ScriptLength];
    private readonly ulong[] sizes = new ulong[ScriptLength];
    private readonly ulong[] kernelBlocks = new ulong[LiveBlocks];
    private readonly long[] firstFitBlocks = new long[LiveBlocks];
    private MmApi api = null!;
    private FirstFitHeap firstFit = null!;
    private int kernelCursor, firstFitCursor;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        for (int i = 0; i < ScriptLength; i++)
        {
            victims[i] = random.Next(LiveBlocks);
            sizes[i] = RandomSize(random);
        }
        api = new MmApi();
        firstFit = new FirstFitHeap(ArenaBytes);
        for (int i = 0; i < LiveBlocks; i++)
        {
            ulong size = RandomSize(random);
            kernelBlocks[i] = api.kmalloc(size);
            firstFitBlocks[i] = firstFit.Allocate(size);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Category)]
    public long FirstFitList()
    {
        long last = 0;
        for (int n = 0; n < OperationsPerInvoke; n++, firstFitCursor = (firstFitCursor + 1) % ScriptLength)
        {
            int victim = victims[firstFitCursor];
            firstFit.Free(firstFitBlocks[victim]);
            last = firstFitBlocks[victim] = firstFit.Allocate(sizes[firstFitCursor]);
            if (last == 0)
                throw new InvalidOperationException("the first-fit arena is exhausted");
        }
        return last;
    }

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Category)]
    public ulong Kmalloc()
    {
        ulong last = 0;
        for (int n = 0; n < OperationsPerInvoke; n++, kernelCursor = (kernelCursor + 1) % ScriptLength)
        {
            int victim = victims[kernelCursor];
            api.kfree(kernelBlocks[victim]);
            last = kernelBlocks[victim] = api.kmalloc(sizes[kernelCursor]);
            if (last == 0)
                throw new InvalidOperationException("kmalloc ran out of memory");
        }
        return last;
    }

    private static ulong RandomSize(Random random) => random.Next(100) switch
    {
        < 70 => (ulong)random.Next(16, 257),
        < 95 => (ulong)random.Next(257, 2049),
        _ => (ulong)random.Next(2049, 16385),
    };
}
