using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.Zoo;
using Xunit.Abstractions;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// PHYS-09: a write outside a call's business is named at the call that made it, for each kind of frame a call may
/// not write (client page, another space's page table, a page holding live heap blocks, a vmalloc page), even when
/// it writes back what was there, which no check of the state could see; and an allocator that keeps a free
/// list inside the free frames is accepted.
/// </summary>
public sealed class WriteCheckTests(ITestOutputHelper output)
{
    private static readonly RunSettings Settings = new(Profile.Default);

    [Fact]
    public void A_page_free_that_writes_into_another_client_page_is_named_at_the_free()
    {
        Failure failure = Fails("stateful.physical", "free-writes-client-page", inner => new FreeTouchesClientPage(inner));
        Assert.Matches(@"^mm_phys_free_page\(0x[0-9A-F]+\) wrote frame 0x[0-9A-F]+, which is a page the client allocated: not this call's to write$", failure.Violation.Message);
    }

    [Fact]
    public void A_mapping_that_writes_into_another_spaces_root_is_named_at_the_mapping()
    {
        Failure failure = Fails("stateful.mapping", "map-writes-other-root", inner => new MapTouchesOtherRoot(inner));
        Assert.Matches(@"^mm_map_single\(space0, 0x[0-9A-F]+, 0x[0-9A-F]+, .*\) wrote frame 0x[0-9A-F]+, which is a PML4 page table of space1: not this call's to write$", failure.Violation.Message);
    }

    [Fact]
    public void A_page_allocation_that_writes_into_a_heap_page_is_named_at_the_allocation()
    {
        Failure failure = Fails("stateful.heap", "alloc-writes-heap-page", inner => new AllocTouchesHeapPage(inner));
        Assert.Matches(@"^mm_phys_alloc_page\(\) wrote frame 0x[0-9A-F]+, which is heap block 0x[0-9A-F]+: not this call's to write$", failure.Violation.Message);
    }

    [Fact]
    public void A_heap_call_that_writes_into_a_vmalloc_page_is_named_at_the_heap_call()
    {
        Failure failure = Fails("stateful.mixed", "kmalloc-writes-region-page", inner => new KmallocTouchesRegionPage(inner));
        Assert.Matches(@"^kmalloc\(\d+\) wrote frame 0x[0-9A-F]+, which is the vmalloc page at 0x[0-9A-F]+ \((space\d|kernel half)\): not this call's to write$", failure.Violation.Message);
    }

    [Theory]
    [InlineData("stateful.physical")]
    [InlineData("stateful.heap")]
    public void A_free_list_kept_inside_the_free_frames_is_accepted(string propertyId)
    {
        PropertyResult result = PropertyCatalogue.Find(propertyId).Check(new DecoratedFactory("free-list-in-free-frames", inner => new FreeListInFreeFrames(inner)), Settings);
        Assert.True(result.Verdict == Verdict.Passed, result.Failure?.Describe());
    }

    private Failure Fails(string propertyId, string name, Func<IMmImplementation, IMmImplementation> decorate)
    {
        PropertyResult result = PropertyCatalogue.Find(propertyId).Check(new DecoratedFactory(name, decorate), Settings with { MaxFailures = 1 });
        Failure failure = Assert.IsType<Failure>(result.Failure);
        output.WriteLine(failure.Describe());
        Assert.Equal("PHYS-09", failure.Violation.Clause);
        return failure;
    }

    /// <summary>Writes a word back unchanged: only the write set can tell.</summary>
    private static void TouchUnchanged(IMmImplementation machine, ulong phys) => machine.Ram.WriteU64(phys, machine.Ram.ReadU64(phys));

    private sealed class FreeTouchesClientPage(IMmImplementation inner) : PortDecorator(inner)
    {
        private readonly List<ulong> handedOut = [];

        public override ulong mm_phys_alloc_page()
        {
            ulong page = Inner.mm_phys_alloc_page();
            if (page != ulong.MaxValue)
                handedOut.Add(page);
            return page;
        }

        public override void mm_phys_free_page(ulong addr)
        {
            Inner.mm_phys_free_page(addr);
            handedOut.Remove(addr);
            if (handedOut.Count > 0)
                TouchUnchanged(Inner, handedOut[^1] + 0x800);
        }
    }

    private sealed class MapTouchesOtherRoot(IMmImplementation inner) : PortDecorator(inner)
    {
        private readonly List<ulong> spaces = [];

        public override ulong CreateSpace()
        {
            ulong space = Inner.CreateSpace();
            spaces.Add(space);
            return space;
        }

        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags)
        {
            int result = Inner.mm_map_single(space, virt, phys, flags);
            if (spaces.Count > 1 && space == spaces[0] && virt < 0xFFFFFF0000000000)
                TouchUnchanged(Inner, Inner.SpaceRoot(spaces[1])); // entry 0: a user slot, space1's own
            return result;
        }
    }

    private sealed class AllocTouchesHeapPage(IMmImplementation inner) : PortDecorator(inner)
    {
        private readonly List<ulong> blocks = [];

        public override ulong kmalloc(ulong size)
        {
            ulong block = Inner.kmalloc(size);
            if (block != 0)
                blocks.Add(block);
            return block;
        }

        public override void kfree(ulong ptr)
        {
            Inner.kfree(ptr);
            blocks.Remove(ptr);
        }

        public override ulong mm_phys_alloc_page()
        {
            ulong page = Inner.mm_phys_alloc_page();
            if (blocks.Count > 0)
                TouchUnchanged(Inner, Inner.MM_PHYS(blocks[^1]) & ~7UL);
            return page;
        }
    }

    private sealed class KmallocTouchesRegionPage(IMmImplementation inner) : PortDecorator(inner)
    {
        private readonly List<(ulong Space, ulong Start)> regions = [];

        public override ulong vmalloc(ulong space, ulong from, ulong to, ulong npages, ulong flags)
        {
            ulong start = Inner.vmalloc(space, from, to, npages, flags);
            if (start != ulong.MaxValue)
                regions.Add((space, start));
            return start;
        }

        public override int vmfree(ulong space, ulong addr, ulong npages)
        {
            int result = Inner.vmfree(space, addr, npages);
            regions.RemoveAll(region => region.Space == space && region.Start >= addr && region.Start - addr < npages * 0x1000);
            return result;
        }

        public override ulong kmalloc(ulong size)
        {
            ulong block = Inner.kmalloc(size);
            foreach ((ulong space, ulong start) in regions)
                if (Inner.mm_map_get(space, start) is var phys && phys != ulong.MaxValue)
                {
                    TouchUnchanged(Inner, phys);
                    break;
                }
            return block;
        }
    }

    /// <summary>
    /// A cache of freed pages in front of the allocator, as a doubly linked list kept inside them: freeing a page
    /// writes it and the free page that was the list's head, and taking one from the list writes its neighbours,
    /// free frames all. Pages in the cache are free to the client and handed out before the allocator's own.
    /// </summary>
    private sealed class FreeListInFreeFrames(IMmImplementation inner) : PortDecorator(inner)
    {
        private const int Capacity = 16;
        private readonly LinkedList<ulong> cached = new();
        private readonly HashSet<ulong> held = []; // handed out by mm_phys_alloc_page: only these are cached when freed

        public override void mm_phys_free_page(ulong addr)
        {
            if (cached.Contains(addr))
                throw new ImplementationPanicException("FreeOfUnallocatedPage", $"page 0x{addr:X} is in the free-page cache already");
            if (cached.Count == Capacity || !held.Remove(addr))
            {
                Inner.mm_phys_free_page(addr); // misuse, contiguous pages, a full cache: as the allocator says
                return;
            }
            if (cached.First is { } head)
                Inner.Ram.WriteU64(head.Value + 8, addr); // head.prev = addr
            Inner.Ram.WriteU64(addr, cached.First?.Value ?? 0); // addr.next = head
            Inner.Ram.WriteU64(addr + 8, 0);
            cached.AddFirst(addr);
        }

        /// <summary>A run may need cached pages: when none is found, the cache goes back to the allocator first.</summary>
        public override ulong mm_phys_alloc_contiguous(ulong count)
        {
            ulong run = Inner.mm_phys_alloc_contiguous(count);
            if (run != ulong.MaxValue || cached.Count == 0)
                return run;
            foreach (ulong page in cached)
                Inner.mm_phys_free_page(page);
            cached.Clear();
            return Inner.mm_phys_alloc_contiguous(count);
        }

        public override ulong mm_phys_alloc_page()
        {
            if (cached.First is not { } head)
            {
                ulong fresh = Inner.mm_phys_alloc_page();
                if (fresh != ulong.MaxValue)
                    held.Add(fresh);
                return fresh;
            }
            ulong page = head.Value;
            held.Add(page);
            if (head.Next is { } next)
                Inner.Ram.WriteU64(next.Value + 8, 0); // next.prev = none
            cached.RemoveFirst();
            Inner.Ram.WriteU64(page, 0); // a page handed out holds nothing of the list
            return page;
        }
    }
}
