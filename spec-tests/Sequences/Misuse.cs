using FsCheck;
using FsCheck.Fluent;
using Mmspec.Models.Mmu;
using Mmspec.Models.State;
using Mmspec.SpecTests.Execution;

namespace Mmspec.SpecTests.Sequences;

/// <summary>
/// Misuse in the default profile: calls with arguments the spec gives no meaning, judged by what any kernel may
/// do. Each class has one interpretation clause (MAP-19..MAP-24, PHYS-08, HEAP-09, HEAP-10, VM-12, VM-13); what every
/// one accepts is an error result with nothing changed, or a panic before anything changed (the call is made
/// with <see cref="SequenceContext.CallMayPanic"/> and the audit after the step checks the state), and, where the
/// spec's words allow a success, the success that does exactly what was asked. The strict profile judges the
/// same calls by the reference's exact codes instead (MAP-D01, MAP-D02, PHYS-D05, PHYS-D06, HEAP-D04, ...).
/// </summary>
public static class Misuse
{
    /// <summary>
    /// No block of more bytes than this fits in the address space: each canonical half is 2^47 bytes, so a larger
    /// size, or one that overflows when a heap rounds it up, can only give NULL (HEAP-10).
    /// </summary>
    public const ulong LargestPossibleBlock = 1UL << 47;

    /// <summary>SIZE_MAX, and sizes that overflow when a heap adds a header or rounds up to 16 bytes, a page or a power of two.</summary>
    public static readonly ulong[] ImpossibleSizes = [ulong.MaxValue, ulong.MaxValue - 15, ulong.MaxValue - 4095, 1UL << 63];

    /// <summary>Page counts whose size in bytes overflows: to 0, to one page, to minus one page.</summary>
    public static readonly ulong[] ImpossiblePages = [1UL << 52, (1UL << 52) + 1, ulong.MaxValue];

    /// <summary>The canonical address with the same bits 47..0: what a walk that ignores bits 63..48 reaches instead.</summary>
    public static ulong CanonicalTwin(ulong virt) =>
        (virt & (1UL << 47)) != 0 ? virt | 0xFFFF000000000000 : virt & 0x0000FFFFFFFFFFFF;

    /// <summary>For a message: what the canonical twin of a non-canonical address maps, when it is mapped.</summary>
    public static string TwinMapped(SequenceContext ctx, int space, ulong virt) =>
        ctx.Model.Lookup(space, CanonicalTwin(virt)) is { } twin
            ? $" (its canonical twin 0x{CanonicalTwin(virt):X} maps 0x{twin.Mapping.Phys + (CanonicalTwin(virt) - twin.Base):X})"
            : "";

    /// <summary>What the page tables of a space make of <paramref name="virt"/> right now, through the MMU model.</summary>
    public static Translation Walk(SequenceContext ctx, int space, ulong virt) =>
        Mmu.Lookup(new RamView(ctx.Implementation.Ram, ctx.Implementation.RamSize), ctx.Roots[space], virt);

    /// <summary>
    /// After a misuse that freed nothing if the kernel accepted it in a way that changed nothing: allocates every
    /// free page and gives them back. None of them may be a page in use, none may come twice, and no more may be
    /// free than before (a kernel that freed a page it was not given, or pushed a page on its free list twice).
    /// Made only when the misuse returned normally, so a kernel that panics on it pays nothing.
    /// </summary>
    public static void CheckNothingFreed(SequenceContext ctx, string clause, ApiCall call)
    {
        List<ulong> free = ctx.DrainFreePages(clause);
        var seen = new HashSet<ulong>();
        foreach (ulong page in free)
        {
            ctx.Check(seen.Add(page), clause, $"{call} returned, and then mm_phys_alloc_page() handed out page 0x{page:X} twice: the call freed a page that was free already");
            ctx.Check(ctx.Owned.OwnerOf(page) is null, clause, $"{call} returned, and then mm_phys_alloc_page() handed out page 0x{page:X}, which is {ctx.Owned.OwnerOf(page)}: the call freed it");
        }
        ctx.Check(free.Count <= ctx.EstimatedFreePages, clause,
            $"{call} returned, and then {free.Count} pages could be allocated, more than the {ctx.EstimatedFreePages} free before it: the call freed a page it was not given");
        ctx.GiveBack(clause, free);
    }

    // ---- generators ----
    // A kernel whose walk ignores bits 63..48 aliases a non-canonical address to its canonical twin (NonCanonical[i]
    // is UpperUser[i] with those bits set): Map draws the canonical page of one such pair, MapGet and Unmap the
    // non-canonical one, often enough that a lookup or unmap of the non-canonical address meets its twin mapped.

    /// <summary>The first page of the upper user half, whose non-canonical twin is NonCanonical[0]: what Map draws so that the twin is mapped.</summary>
    public static readonly Gen<AddressPick> TwinPage = Gen.Constant(new AddressPick(Area.UpperUser, 0));

    /// <summary>The non-canonical twin of the first page of the upper user half: what MapGet and Unmap draw.</summary>
    public static readonly Gen<AddressPick> NonCanonicalTwin = Gen.Constant(new AddressPick(Area.NonCanonical, 0));

    /// <summary>vmfree over the client's own mappings, empty space, the direct map or the hole: ranges that are no region.</summary>
    public static readonly StepKind VmFreeNotRegion = OperationGenerators.Kind<VmFreeNotRegion>("VmFreeNotRegion",
        from space in Gen.Choose(0, SequenceContext.MaxSpaces - 1)
        from at in Gen.Frequency((4, OperationGenerators.UserAddress), (1, OperationGenerators.KernelAddress), (1, OperationGenerators.AnyAddress))
        from pages in Gen.Elements<ulong>(1, 2, 4, 513)
        select (Operation)new VmFreeNotRegion(space, at, pages));
}
