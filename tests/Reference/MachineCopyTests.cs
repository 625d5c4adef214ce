using Mmspec.Reference.Api;
using Mmspec.Reference.Kernel;
using Mmspec.Reference.Memory;

namespace Mmspec.Tests.Reference;

/// <summary>
/// MemoryManager.Copy (what a set-up snapshot restores): a copy taken mid-way must answer every later call as the
/// original does, and the two must not see each other's calls.
/// </summary>
public class MachineCopyTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_copy_answers_every_later_call_as_the_original_does(int seed)
    {
        var original = new MmApi(new MemoryManager(new MachineOptions(4UL << 20)));
        ulong space = original.mm_space_create();
        var random = new Random(seed);
        var live = new List<ulong>();
        for (int call = 0; call < 300; call++)
            Call(original, space, random, live, out _);

        var copy = new MmApi(original.Kernel.Copy()!);
        var forCopy = new List<ulong>(live);
        int state = random.Next();
        var (first, second) = (new Random(state), new Random(state));
        for (int call = 0; call < 600; call++)
        {
            Call(original, space, first, live, out ulong expected);
            Call(copy, space, second, forCopy, out ulong actual);
            Assert.Equal(expected, actual);
        }
        Assert.Equal(original.Kernel.Frames.FreeFrames, copy.Kernel.Frames.FreeFrames);
        Assert.Equal(original.Kernel.Heap.LiveBlocks, copy.Kernel.Heap.LiveBlocks);
        for (ulong frame = 0; frame < original.Kernel.Ram.Size; frame += Layout.PageSize)
            Assert.Equal(original.Kernel.Ram.ReadU64(frame), copy.Kernel.Ram.ReadU64(frame));
    }

    [Fact]
    public void A_copy_does_not_see_the_calls_made_on_the_original()
    {
        var original = new MmApi(new MemoryManager(new MachineOptions(4UL << 20)));
        ulong space = original.mm_space_create();
        var copy = new MmApi(original.Kernel.Copy()!);
        int free = copy.Kernel.Frames.FreeFrames;

        ulong page = original.mm_phys_alloc_page();
        Assert.Equal(0, original.mm_map_single(space, 0x1000, page, MmApi.MM_PAGE_WRITE));
        original.Kernel.Ram.WriteU64(page, 7);
        original.kmalloc(64);

        Assert.Equal(free, copy.Kernel.Frames.FreeFrames);
        Assert.Equal(0, copy.Kernel.Heap.LiveBlocks);
        ulong flags = 0;
        Assert.Equal(MmApi.MM_NADDR, copy.mm_map_get(space, 0x1000, ref flags));
        Assert.Equal(0UL, copy.Kernel.Ram.ReadU64(page));
        Assert.DoesNotContain(page, copy.Kernel.Ram.TakeWrittenFrames());
    }

    // One random call of the heap, the page allocator, mappings or regions; `result` is what it returned.
    private static void Call(MmApi api, ulong space, Random random, List<ulong> live, out ulong result)
    {
        switch (random.Next(6))
        {
            case 0:
                result = api.kmalloc((ulong)random.Next(1, 3000));
                if (result != 0)
                    live.Add(result);
                break;
            case 1 when live.Count > 0:
                int index = random.Next(live.Count);
                result = live[index];
                api.kfree(result);
                live.RemoveAt(index);
                break;
            case 2:
                result = api.mm_phys_alloc_contiguous((ulong)random.Next(1, 4));
                if (result != MmApi.MM_NADDR && random.Next(2) == 0)
                    api.mm_phys_free_page(result);
                break;
            case 3:
                result = api.vmalloc(space, 0x10000000, 0x20000000, (ulong)random.Next(1, 5), MmApi.MM_PAGE_WRITE);
                if (result != MmApi.MM_NADDR && random.Next(3) == 0)
                    result += (ulong)api.vmfree(space, result, 1);
                break;
            case 4:
                result = (ulong)api.mm_map_single(space, (ulong)random.Next(1, 512) << 12, api.mm_phys_alloc_page(), MmApi.MM_PAGE_WRITE);
                break;
            default:
                ulong flags = 0;
                result = api.mm_map_get(space, (ulong)random.Next(1, 512) << 12, ref flags) ^ flags;
                break;
        }
    }
}
