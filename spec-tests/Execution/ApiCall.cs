using Mmspec.Models.State;
using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Execution;

/// <summary>The spec's entry points, named as in C.</summary>
public enum ApiFunction
{
    mm_phys_alloc_page,
    mm_phys_alloc_contiguous,
    mm_phys_free_page,
    kmalloc,
    kfree,
    mm_map_single,
    mm_map_get,
    mm_umap_single,
    vmfind,
    vmalloc,
    vmfree,
    /// <summary>The port's hook, not the spec's: a step may create a space after boot (its handle is named spaceN).</summary>
    mmspec_space_create,
}

/// <summary>How a value is written: a space handle by name, an address in hex, a count in decimal, page flags by name.</summary>
public enum ArgKind
{
    Space,
    Address,
    Count,
    PageFlags,
    FlagsOut,
}

/// <summary>One argument of a call. For <see cref="ArgKind.Space"/> the value is the space's index in the sequence.</summary>
public readonly record struct ApiArg(ArgKind Kind, ulong Value)
{
    public static ApiArg Space(int index) => new(ArgKind.Space, (ulong)index);

    public static ApiArg Address(ulong value) => new(ArgKind.Address, value);

    public static ApiArg Count(ulong value) => new(ArgKind.Count, value);

    public static ApiArg Flags(ulong value) => new(ArgKind.PageFlags, value);

    public static ApiArg FlagsOut(bool wanted) => new(ArgKind.FlagsOut, wanted ? 1UL : 0UL);
}

/// <summary>What a call gave back: its return value (unused for void functions) and, for mm_map_get, the flags written.</summary>
public readonly record struct CallOutcome(ulong Value, ulong? Flags = null);

/// <summary>
/// One call of the spec API as data, so that one record serves the trace shown to people, the C and C#
/// reproducers and the call itself: what is shown is exactly what was made.
/// </summary>
public sealed record ApiCall(ApiFunction Function, IReadOnlyList<ApiArg> Args)
{
    public static ApiCall AllocPage() => AllocPageCall; // one for all: a hog records thousands

    private static readonly ApiCall AllocPageCall = new(ApiFunction.mm_phys_alloc_page, []);

    public static ApiCall AllocContiguous(ulong count) => new(ApiFunction.mm_phys_alloc_contiguous, [ApiArg.Count(count)]);

    public static ApiCall FreePage(ulong addr) => new(ApiFunction.mm_phys_free_page, [ApiArg.Address(addr)]);

    public static ApiCall Kmalloc(ulong size) => new(ApiFunction.kmalloc, [ApiArg.Count(size)]);

    public static ApiCall Kfree(ulong pointer) => new(ApiFunction.kfree, [ApiArg.Address(pointer)]);

    public static ApiCall MapSingle(int space, ulong virt, ulong phys, ulong flags) =>
        new(ApiFunction.mm_map_single, [ApiArg.Space(space), ApiArg.Address(virt), ApiArg.Address(phys), ApiArg.Flags(flags)]);

    public static ApiCall MapGet(int space, ulong virt, bool wantFlags) =>
        new(ApiFunction.mm_map_get, [ApiArg.Space(space), ApiArg.Address(virt), ApiArg.FlagsOut(wantFlags)]);

    public static ApiCall Unmap(int space, ulong virt, uint size) =>
        new(ApiFunction.mm_umap_single, [ApiArg.Space(space), ApiArg.Address(virt), ApiArg.Count(size)]);

    public static ApiCall VmFind(int space, ulong from, ulong to, ulong pages) =>
        new(ApiFunction.vmfind, [ApiArg.Space(space), ApiArg.Address(from), ApiArg.Address(to), ApiArg.Count(pages)]);

    public static ApiCall VmAlloc(int space, ulong from, ulong to, ulong pages, ulong flags) =>
        new(ApiFunction.vmalloc, [ApiArg.Space(space), ApiArg.Address(from), ApiArg.Address(to), ApiArg.Count(pages), ApiArg.Flags(flags)]);

    public static ApiCall VmFree(int space, ulong addr, ulong pages) =>
        new(ApiFunction.vmfree, [ApiArg.Space(space), ApiArg.Address(addr), ApiArg.Count(pages)]);

    /// <summary>A new space, which later calls name space<paramref name="index"/>.</summary>
    public static ApiCall CreateSpace(int index) => new(ApiFunction.mmspec_space_create, [ApiArg.Space(index)]);

    /// <summary>What the C function returns: an address (uintptr_t, MM_NADDR on failure), an int status, or nothing.</summary>
    public ReturnKind Returns => Function switch
    {
        ApiFunction.mm_phys_free_page or ApiFunction.kfree => ReturnKind.Void,
        ApiFunction.mm_map_single or ApiFunction.vmfree => ReturnKind.Status,
        ApiFunction.mmspec_space_create => ReturnKind.Space,
        _ => ReturnKind.Address,
    };

    public bool WantsFlags => Function == ApiFunction.mm_map_get && Args[2].Value != 0;

    /// <summary>Makes the call on <paramref name="mm"/>, whose space handles by index are <paramref name="spaces"/>.</summary>
    public CallOutcome Invoke(IMmImplementation mm, IReadOnlyList<ulong> spaces)
    {
        ulong Arg(int index) => Args[index].Kind == ArgKind.Space ? spaces[(int)Args[index].Value] : Args[index].Value;
        switch (Function)
        {
            case ApiFunction.mm_phys_alloc_page: return new(mm.mm_phys_alloc_page());
            case ApiFunction.mm_phys_alloc_contiguous: return new(mm.mm_phys_alloc_contiguous(Arg(0)));
            case ApiFunction.mm_phys_free_page: mm.mm_phys_free_page(Arg(0)); return default;
            case ApiFunction.kmalloc: return new(mm.kmalloc(Arg(0)));
            case ApiFunction.kfree: mm.kfree(Arg(0)); return default;
            case ApiFunction.mm_map_single: return new((ulong)mm.mm_map_single(Arg(0), Arg(1), Arg(2), Arg(3)));
            case ApiFunction.mm_map_get when WantsFlags:
                ulong phys = mm.mm_map_get(Arg(0), Arg(1), out ulong flags);
                return new(phys, flags);
            case ApiFunction.mm_map_get: return new(mm.mm_map_get(Arg(0), Arg(1)));
            case ApiFunction.mm_umap_single: return new(mm.mm_umap_single(Arg(0), Arg(1), (uint)Arg(2)));
            case ApiFunction.vmfind: return new(mm.vmfind(Arg(0), Arg(1), Arg(2), Arg(3)));
            case ApiFunction.vmalloc: return new(mm.vmalloc(Arg(0), Arg(1), Arg(2), Arg(3), Arg(4)));
            case ApiFunction.vmfree: return new((ulong)mm.vmfree(Arg(0), Arg(1), Arg(2)));
            case ApiFunction.mmspec_space_create: return new(mm.CreateSpace()); // its argument is the name the new space gets, not an input
            default: throw new ArgumentOutOfRangeException(nameof(Function), Function, null);
        }
    }

    /// <summary>The call as C, e.g. <c>mm_map_single(space0, 0x400000, 0x101000, MM_PAGE_WRITE)</c>.</summary>
    public string ToC() => Function == ApiFunction.mmspec_space_create ? "mmspec_space_create()" : $"{Function}({string.Join(", ", Args.Select(RenderC))})";

    public override string ToString() => ToC();

    /// <summary>A returned value as C: MM_NADDR by name, addresses in hex, statuses signed.</summary>
    public string ShowResult(CallOutcome outcome) => Returns switch
    {
        ReturnKind.Void => "",
        ReturnKind.Status => ((int)outcome.Value).ToString(),
        ReturnKind.Space => outcome.Value == AddressSpaceLayout.Naddr ? "MM_NADDR" : $"space{Args[0].Value}", // a handle may be a host pointer
        // *flags is set on success only (MAP-08)
        _ when outcome.Flags is { } flags && outcome.Value != AddressSpaceLayout.Naddr => $"{Hex(outcome.Value)}, flags = {FlagNames(flags)}",
        _ => Hex(outcome.Value),
    };

    public static string RenderC(ApiArg arg) => arg.Kind switch
    {
        ArgKind.Space => $"space{arg.Value}",
        ArgKind.Address => Hex(arg.Value),
        ArgKind.Count => arg.Value > int.MaxValue ? $"{arg.Value}ULL" : arg.Value.ToString(), // C: a larger constant needs its suffix
        ArgKind.PageFlags => FlagNames(arg.Value),
        _ => arg.Value != 0 ? "&flags" : "NULL",
    };

    public static string Hex(ulong value) => value == AddressSpaceLayout.Naddr ? "MM_NADDR" : $"0x{value:X}";

    public static string FlagNames(ulong flags)
    {
        var names = new List<string>();
        if ((flags & (ulong)Rights.User) != 0) names.Add("MM_PAGE_USER");
        if ((flags & (ulong)Rights.Write) != 0) names.Add("MM_PAGE_WRITE");
        if ((flags & (ulong)Rights.Exec) != 0) names.Add("MM_PAGE_EXEC");
        ulong other = flags & ~7UL;
        if (other != 0) names.Add($"0x{other:X}");
        return names.Count == 0 ? "0" : string.Join(" | ", names);
    }
}

public enum ReturnKind
{
    Address,
    Status,
    Void,
    /// <summary>A space handle, shown by the name the sequence gives it.</summary>
    Space,
}
