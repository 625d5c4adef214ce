using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// What the state after the failing step should have been, where a broken clause was found in the state rather
/// than in a returned value: one fact a C reproducer can check through the hosted RAM (mmspec_repro.h walks the
/// page tables, reads the suite's marks, counts free pages by exhaustion). <see cref="Describe"/> says it in C
/// terms; the reproducer asserts it.
/// </summary>
public abstract record StateCheck
{
    public abstract string Describe();
}

/// <summary>
/// How <paramref name="Virt"/> in space <paramref name="Space"/> should translate: through the page of
/// <paramref name="Expected"/> (based at <paramref name="Base"/>) with exactly its rights, or, when it is null, not
/// at all (a not-present entry on the way).
/// </summary>
public sealed record TranslationCheck(int Space, ulong Virt, ulong Base, Mapping? Expected) : StateCheck
{
    /// <summary>What the model says of <paramref name="virt"/>: the check a state mismatch there breaks.</summary>
    public static TranslationCheck Of(ApiState model, int space, ulong virt) =>
        model.Lookup(space, virt) is { } found
            ? new TranslationCheck(space, virt, found.Base, found.Mapping)
            : new TranslationCheck(space, virt, virt & ~(AddressSpaceLayout.PageSize - 1), null);

    public override string Describe() => Expected is { } mapping
        ? $"space{Space} 0x{Virt:X} should translate to 0x{mapping.Phys + (Virt - Base):X} through the {Size(mapping.Size)} page 0x{Base:X} -> 0x{mapping.Phys:X} with {ApiCall.FlagNames((ulong)mapping.Rights)}"
        : $"space{Space} 0x{Virt:X} should be unmapped";

    private static string Size(ulong bytes) => bytes >= 1UL << 20 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";
}

/// <summary>Space <paramref name="Space"/>'s page tables lie in RAM and hold no present entry with a reserved bit.</summary>
public sealed record TablesSoundCheck(int Space) : StateCheck
{
    public override string Describe() => $"space{Space}'s page tables should lie in RAM, every present entry well formed";
}

/// <summary>Physical page <paramref name="Page"/> should not be a page table of any space (it has another owner).</summary>
public sealed record NotTableCheck(ulong Page, string OtherOwner) : StateCheck
{
    public override string Describe() => $"physical page 0x{Page:X} is {OtherOwner}: it should not be a page table of any space";
}

/// <summary>
/// Frame <paramref name="Frame"/>, which is <paramref name="Holder"/>, should read after the failing step as it did
/// before call <paramref name="BeforeCall"/> of the trace (the call that wrote it, PHYS-09): a C reproducer copies the
/// frame before that call and compares.
/// </summary>
public sealed record FrameUnchangedCheck(ulong Frame, string Holder, int BeforeCall) : StateCheck
{
    public override string Describe() => $"physical frame 0x{Frame:X} is {Holder}: the call should leave it as it was";
}

/// <summary>The bytes the suite wrote at <paramref name="Mark"/> should still be there (pages and heap blocks it holds).</summary>
public sealed record PatternCheck(string Owner, IReadOnlyList<MarkWritten> Marks) : StateCheck
{
    public override string Describe() => $"{Owner} should still hold the pattern the suite wrote into it at step {Marks[0].Step}";
}

/// <summary>
/// Counted by exhaustion after <paramref name="After"/>: the pages free at the start, less the pages still in use
/// (page tables created since the start, which C counts by walking, and <paramref name="Held"/> pages the client,
/// its regions and heap blocks hold), should be allocatable, up to <paramref name="Allowance"/> pages a heap may
/// keep cached; with <paramref name="AtMost"/>, no more than that (a page in use would be handed out).
/// </summary>
public sealed record FreePagesCheck(string After, int Held, int Allowance, bool AtMost) : StateCheck
{
    public override string Describe() => AtMost
        ? $"after {After}, no more pages should be allocatable than were free at the start less the page tables created since and the {Held} page(s) still held"
        : $"after {After}, at least as many pages should be allocatable as were free at the start, less the page tables created since, the {Held} page(s) still held and {Allowance} a heap may keep cached";
}

/// <summary>
/// What the suite did to the machine besides the recorded calls, at a point of the trace: a C reproducer does it
/// too, after the call <paramref name="AfterCall"/> (the number of calls made before it).
/// </summary>
public abstract record SuiteAction(int AfterCall, int Step);

/// <summary>
/// A mark the suite wrote into a page or heap block it holds: <paramref name="Length"/> (1 to 8) bytes of
/// <paramref name="Value"/>, little-endian, at physical address <paramref name="Phys"/>.
/// </summary>
public sealed record MarkWritten(int AfterCall, int Step, ulong Phys, ulong Value, int Length) : SuiteAction(AfterCall, Step);

/// <summary>The suite counted free pages: it allocated every free page, then freed them in the same order.</summary>
public sealed record FreePagesCounted(int AfterCall, int Step) : SuiteAction(AfterCall, Step);
