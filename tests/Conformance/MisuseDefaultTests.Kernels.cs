using Mmspec.Models.State;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;
using Mmspec.Zoo.Bugs;
using Xunit.Abstractions;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// The kernels of <see cref="MisuseDefaultTests"/>: the reference behind a decorator that answers one misuse its own way,
/// accepted by the spec's words or not.
/// </summary>
public sealed partial class MisuseDefaultTests
{
    private static bool Canonical(ulong virt) => AddressSpaceLayout.IsCanonical(virt);

    private static ImplementationPanicException Panic(string reason) => new(reason, $"kernel panic ({reason}): misuse");

    /// <summary>Panics when asked to map over a present page.</summary>
    private sealed class PanicsOnRemap(IMmImplementation inner) : PortDecorator(inner)
    {
        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags) =>
            Canonical(virt) && Inner.mm_map_get(space, virt) != AddressSpaceLayout.Naddr ? throw Panic("MapOverPresent") : base.mm_map_single(space, virt, phys, flags);
    }

    /// <summary>Panics on a non-canonical address in mm_map_single and mm_umap_single (and, unless told otherwise, mm_map_get).</summary>
    private sealed class PanicsOnNonCanonical(IMmImplementation inner, bool lookups = true) : PortDecorator(inner)
    {
        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags) =>
            Canonical(virt) ? base.mm_map_single(space, virt, phys, flags) : throw Panic("NonCanonical");

        public override ulong mm_umap_single(ulong space, ulong virt, uint size) =>
            Canonical(virt) ? base.mm_umap_single(space, virt, size) : throw Panic("NonCanonical");

        public override ulong mm_map_get(ulong space, ulong virt, out ulong flags) =>
            Canonical(virt) || !lookups ? base.mm_map_get(space, virt, out flags) : throw Panic("NonCanonical");

        public override ulong mm_map_get(ulong space, ulong virt) =>
            Canonical(virt) || !lookups ? base.mm_map_get(space, virt) : throw Panic("NonCanonical");
    }

    /// <summary>
    /// A map over a present 4 KiB page replaces it; inside a large page the reference's refusal stands. (The reference
    /// says -EEXIST only once the arguments are valid, so the map after the unmap succeeds.)
    /// </summary>
    private sealed class ReplacesOnRemap(IMmImplementation inner) : PortDecorator(inner)
    {
        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags)
        {
            int result = base.mm_map_single(space, virt, phys, flags);
            if (result != -17 || Inner.mm_umap_single(space, virt, 1) == AddressSpaceLayout.Naddr) // MM_NADDR, and nothing removed, for a large page
                return result;
            return base.mm_map_single(space, virt, phys, flags);
        }
    }

    /// <summary>MM_PAGE_USER at a kernel address is mapped with the flags less <paramref name="dropped"/>.</summary>
    private sealed class KernelUserAs(IMmImplementation inner, Rights dropped) : PortDecorator(inner)
    {
        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags) =>
            AddressSpaceLayout.IsKernel(virt) && (flags & (ulong)Rights.User) != 0
                ? base.mm_map_single(space, virt, phys, flags & ~(ulong)Rights.User & ~(ulong)dropped)
                : base.mm_map_single(space, virt, phys, flags);
    }

    /// <summary>
    /// MM_PAGE_USER at a kernel address mapped as asked: the leaf, and every entry above it, get U/S, in every space
    /// (the kernel half is shared) and in spaces created later, as native/alt does. Other kernel pages keep their
    /// supervisor-only leaves.
    /// </summary>
    private sealed class KernelUserHonoured(IMmImplementation inner) : PortDecorator(inner)
    {
        private const ulong UserBit = 4, AddressBits = 0x000FFFFFFFFFF000;
        private readonly List<ulong> spaces = [];
        private readonly HashSet<int> grantedSlots = [];

        public override ulong CreateSpace()
        {
            ulong space = base.CreateSpace();
            spaces.Add(space);
            foreach (int slot in grantedSlots)
                SetUser(SpaceRoot(space) + (ulong)slot * 8);
            return space;
        }

        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags)
        {
            if (!AddressSpaceLayout.IsKernel(virt) || (flags & (ulong)Rights.User) == 0)
                return base.mm_map_single(space, virt, phys, flags);
            int result = base.mm_map_single(space, virt, phys, flags & ~(ulong)Rights.User);
            if (result != 0)
                return result;
            int slot = AddressSpaceLayout.Pml4Slot(virt);
            grantedSlots.Add(slot);
            foreach (ulong each in spaces)
                SetUser(SpaceRoot(each) + (ulong)slot * 8);
            ulong table = Ram.ReadU64(SpaceRoot(space) + (ulong)slot * 8) & AddressBits;
            for (int shift = 30; shift >= 12; shift -= 9)
            {
                ulong entry = table + ((virt >> shift) & 511) * 8;
                SetUser(entry);
                table = Ram.ReadU64(entry) & AddressBits;
            }
            return 0;
        }

        private void SetUser(ulong entry) => Ram.WriteU64(entry, Ram.ReadU64(entry) | UserBit);
    }

    /// <summary>vmfree refuses every range (<paramref name="refuse"/>), or releases only its first page.</summary>
    private sealed class VmfreeOnly(IMmImplementation inner, bool refuse) : PortDecorator(inner)
    {
        public override int vmfree(ulong space, ulong addr, ulong npages) => refuse ? -22 : base.vmfree(space, addr, Math.Min(npages, 1));
    }

    /// <summary>Ignores flag bits it does not know; refuses physical addresses beyond RAM.</summary>
    private sealed class IgnoresUnknownFlagsRefusesDevices(IMmImplementation inner) : PortDecorator(inner)
    {
        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags) =>
            phys >= RamSize ? -22 : base.mm_map_single(space, virt, phys, flags & 7);
    }

    /// <summary>vmfind and vmalloc of no pages return where one page would fit, and map nothing.</summary>
    private sealed class EmptySearchFindsOnePage(IMmImplementation inner) : PortDecorator(inner)
    {
        public override ulong vmfind(ulong space, ulong from, ulong to, ulong npages) => base.vmfind(space, from, to, Math.Max(npages, 1));

        public override ulong vmalloc(ulong space, ulong from, ulong to, ulong npages, ulong flags) =>
            npages == 0 ? base.vmfind(space, from, to, 1) : base.vmalloc(space, from, to, npages, flags);
    }

    /// <summary>Returns normally where the reference panics on a bad mm_phys_free_page or kfree (it panics before changing anything).</summary>
    private sealed class IgnoresBadFrees(IMmImplementation inner) : PortDecorator(inner)
    {
        public override void mm_phys_free_page(ulong addr)
        {
            try
            {
                base.mm_phys_free_page(addr);
            }
            catch (ImplementationPanicException)
            {
            }
        }

        public override void kfree(ulong ptr)
        {
            try
            {
                base.kfree(ptr);
            }
            catch (ImplementationPanicException)
            {
            }
        }
    }

    /// <summary>The walk ignores bits 63..48: a non-canonical address is its canonical twin, in all three calls.</summary>
    private sealed class AliasesNonCanonical(IMmImplementation inner) : PortDecorator(inner)
    {
        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags) => base.mm_map_single(space, Misuse.CanonicalTwin(virt), phys, flags);

        public override ulong mm_umap_single(ulong space, ulong virt, uint size) => base.mm_umap_single(space, Misuse.CanonicalTwin(virt), size);

        public override ulong mm_map_get(ulong space, ulong virt, out ulong flags) => base.mm_map_get(space, Misuse.CanonicalTwin(virt), out flags);

        public override ulong mm_map_get(ulong space, ulong virt) => base.mm_map_get(space, Misuse.CanonicalTwin(virt));
    }

    /// <summary>Returns -EINVAL for a non-canonical address, after mapping its twin.</summary>
    private sealed class RefusesButMapsTheTwin(IMmImplementation inner) : PortDecorator(inner)
    {
        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags)
        {
            if (Canonical(virt))
                return base.mm_map_single(space, virt, phys, flags);
            base.mm_map_single(space, Misuse.CanonicalTwin(virt), phys, flags);
            return -22;
        }
    }

    /// <summary>Returns 0 where the reference refuses to map inside a large page, mapping nothing.</summary>
    private sealed class PretendsToMapInsideLargePages(IMmImplementation inner) : PortDecorator(inner)
    {
        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags) =>
            base.mm_map_single(space, virt, phys, flags) is var result && result == -17 && virt - AddressSpaceLayout.KernelBase < AddressSpaceLayout.DirectMapSize ? 0 : result;
    }

    /// <summary>An unaligned virt or page address is rounded down to its page.</summary>
    private sealed class RoundsUnalignedDown(IMmImplementation inner) : PortDecorator(inner)
    {
        private const ulong PageMask = AddressSpaceLayout.PageSize - 1;

        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags) => base.mm_map_single(space, virt & ~PageMask, phys & ~PageMask, flags);

        public override void mm_phys_free_page(ulong addr) => base.mm_phys_free_page(addr & ~PageMask);
    }

    /// <summary>Reads the unknown flag bit 0x100 as MM_PAGE_EXEC.</summary>
    private sealed class UnknownFlagMeansExec(IMmImplementation inner) : PortDecorator(inner)
    {
        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags) =>
            base.mm_map_single(space, virt, phys, (flags & 0x100) != 0 ? (flags & 7) | (ulong)Rights.Exec : flags);
    }

    /// <summary>kfree of a pointer inside a block frees the block.</summary>
    private sealed class InteriorFreesEnclosingBlock(IMmImplementation inner) : PortDecorator(inner)
    {
        private readonly Dictionary<ulong, ulong> blocks = [];

        public override ulong kmalloc(ulong size)
        {
            ulong pointer = base.kmalloc(size);
            if (pointer != 0)
                blocks[pointer] = size;
            return pointer;
        }

        public override void kfree(ulong ptr)
        {
            ulong start = blocks.Where(block => block.Key <= ptr && ptr < block.Key + Math.Max(block.Value, 1)).Select(block => block.Key).FirstOrDefault(ptr);
            blocks.Remove(start);
            base.kfree(start);
        }
    }

    /// <summary>Adds a 16-byte header to the size before checking it: SIZE_MAX - 15 wraps to 0.</summary>
    private sealed class KmallocSizeWraps(IMmImplementation inner) : PortDecorator(inner)
    {
        public override ulong kmalloc(ulong size) => base.kmalloc(unchecked(size + 16));
    }

    /// <summary>Keeps npages to the 52 bits a page count of a 64-bit space needs: 2^52 + 1 pages become one.</summary>
    private sealed class PageCountWraps(IMmImplementation inner) : PortDecorator(inner)
    {
        public override ulong vmfind(ulong space, ulong from, ulong to, ulong npages) => base.vmfind(space, from, to, npages & ((1UL << 52) - 1));
    }
}
