using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// The machine at a failing step, for people to look at (report.html draws it): who owns each physical frame as the
/// model expects it and as the implementation's state shows it, and each space's mappings as the model has them
/// beside the leaves its page tables hold. Plain data, built by <see cref="StatePictureCapture"/> from one replay of
/// the shrunk sequence, so the same seed draws the same picture.
/// </summary>
/// <param name="When">Which state this is, in words (after which step, or the last good step before a panic).</param>
/// <param name="Step">The step after which (or during which) the picture was taken; 0 is the state after setup.</param>
/// <param name="BeforeFault">The implementation panicked or crashed at the failing step: this is the state after the last good step.</param>
/// <param name="ModelFrames">Per frame (physical address / 4 KiB), its owner as the model expects it.</param>
/// <param name="ImplementationFrames">Per frame, its owner as the implementation's page tables and returned values show it.</param>
/// <param name="DamagedFrames">Frames in which a mark the suite wrote was overwritten.</param>
public sealed record StatePicture(string When, int Step, bool BeforeFault, ulong RamSize, IReadOnlyList<FrameUse> ModelFrames,
    IReadOnlyList<FrameUse> ImplementationFrames, IReadOnlySet<int> DamagedFrames, IReadOnlyList<SpacePicture> Spaces)
{
    public int FrameCount => ModelFrames.Count;

    /// <summary>Whether the two views of a frame disagree: another owner, or a mark the suite wrote there is gone.</summary>
    public bool FrameDiffers(int frame) => ModelFrames[frame] != ImplementationFrames[frame] || DamagedFrames.Contains(frame);

    public IEnumerable<int> DifferingFrames() => Enumerable.Range(0, FrameCount).Where(FrameDiffers);
}

/// <summary>Who uses a physical frame, as far as the suite can tell.</summary>
public enum FrameUse
{
    /// <summary>Nobody: the allocator handed it out at the start of the sequence, and nothing holds it now.</summary>
    Free,

    /// <summary>The implementation kept it from the start (boot tables, its own data): never handed out.</summary>
    Reserved,

    /// <summary>A page table of some space, found by walking from the roots.</summary>
    Table,

    /// <summary>A page mm_phys_alloc_page or mm_phys_alloc_contiguous handed to the client.</summary>
    Client,

    /// <summary>A page vmalloc mapped into a region.</summary>
    Region,

    /// <summary>A page holding (part of) a live heap block.</summary>
    Heap,

    /// <summary>Mapped by a leaf of the page tables that the model does not have: no owner the model knows.</summary>
    Stray,
}

/// <summary>One space's mappings, model beside page tables; <paramref name="WalkProblem"/> says why the walk stopped early, if it did.</summary>
public sealed record SpacePicture(int Space, IReadOnlyList<MappingRange> Model, IReadOnlyList<MappingRange> Tables, string? WalkProblem)
{
    public bool Differs => WalkProblem is not null || Model.Any(range => range.Differs) || Tables.Any(range => range.Differs);
}

/// <summary>
/// A run of pages mapped alike: consecutive virtual pages onto consecutive frames with the same rights and the
/// same kind (<paramref name="What"/>: the model's kind of mapping, or the page tables' page size).
/// <paramref name="Differs"/>: the other side does not hold these pages exactly so.
/// </summary>
public sealed record MappingRange(ulong Virt, ulong Bytes, ulong Phys, Rights Rights, string What, bool Differs)
{
    /// <summary>The last virtual byte: inclusive, since a range may end at the top of the address space.</summary>
    public ulong LastVirt => Virt + (Bytes - 1);
}
