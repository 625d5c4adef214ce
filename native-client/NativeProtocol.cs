namespace Mmspec.NativeClient;

/// <summary>
/// The binary protocol between the suite and one machine of <c>mmspec-host</c> (native/README.md): one fixed-size
/// little-endian request (u32 opcode, u32 body length, five u64 arguments) and its body, then one response
/// (u32 status, u32 body length, u64 result, u64 flags, i32 frames written, u32 write tracking), its body and the
/// u64 RAM offsets of the frames the request wrote, strictly alternating. A body is u64 page addresses for the
/// batch opcodes, or the panic text.
/// </summary>
public static class NativeProtocol
{
    public const int RequestBytes = 48;
    public const int ResponseBytes = 32;
    public const int MaxText = 1024;

    /// <summary>Pages per batch request: bounds both bodies at 32 KiB.</summary>
    public const int BatchPages = 4096;

    public const int MaxBody = BatchPages * sizeof(ulong);

    /// <summary>Lookups per <see cref="NativeOp.MapGets"/> request: their answers and a panic's text fit one body.</summary>
    public const int MapGetsMax = 1024;

    /// <summary>
    /// Version 2 added the batch opcodes and request bodies; 3 the server with worker processes, one connection per
    /// machine; 4 the write sets in every answer; 5 batches of kfree and of mm_map_get; 6 kmalloc batches; 7 set-up
    /// snapshots; 8 the suite naming, on connecting, the worker it wants (its snapshot's); 9 the fast channel past the
    /// RAM in the RAM file (<see cref="FastChannel"/>).
    /// </summary>
    public const uint Version = 9;

    public const uint StatusOk = 0;
    public const uint StatusPanic = 1;
    public const uint StatusBadRequest = 2;

    /// <summary>Written by the server, not the machine: the machine is over; result = 0, or the worker's wait status if it died.</summary>
    public const uint StatusEnded = 3;

    /// <summary>A request as the C call it stands for, for verdicts ("host crashed: SIGSEGV in vmfind(…)").</summary>
    /// <param name="space">Names a space handle (space0, space1): a handle may be a host pointer, which changes from run to run.</param>
    public static string Describe(NativeOp op, ReadOnlySpan<ulong> a, Func<ulong, string?>? space = null)
    {
        static string H(ulong value) => value == ulong.MaxValue ? "MM_NADDR" : $"0x{value:X}";
        string S(ulong handle) => space?.Invoke(handle) ?? H(handle);
        return op switch
        {
            NativeOp.Hello => "mmspec_init",
            NativeOp.PhysAllocPage => "mm_phys_alloc_page()",
            NativeOp.PhysAllocContiguous => $"mm_phys_alloc_contiguous({a[0]})",
            NativeOp.PhysFreePage => $"mm_phys_free_page({H(a[0])})",
            NativeOp.Kmalloc => $"kmalloc({a[0]})",
            NativeOp.Kfree => $"kfree({H(a[0])})",
            NativeOp.MapSingle => $"mm_map_single({S(a[0])}, {H(a[1])}, {H(a[2])}, {a[3]})",
            NativeOp.MapGet => $"mm_map_get({S(a[0])}, {H(a[1])}, {(a[2] != 0 ? "&flags" : "NULL")})",
            NativeOp.UmapSingle => $"mm_umap_single({S(a[0])}, {H(a[1])}, {a[2]})",
            NativeOp.Vmfind => $"vmfind({S(a[0])}, {H(a[1])}, {H(a[2])}, {a[3]})",
            NativeOp.Vmalloc => $"vmalloc({S(a[0])}, {H(a[1])}, {H(a[2])}, {a[3]}, {a[4]})",
            NativeOp.Vmfree => $"vmfree({S(a[0])}, {H(a[1])}, {a[2]})",
            NativeOp.SpaceCreate => "mmspec_space_create()",
            NativeOp.SpaceRoot => $"mmspec_space_root({S(a[0])})",
            NativeOp.PhysAllocPages => $"mm_phys_alloc_page() repeated until MM_NADDR (at most {a[0]} times)",
            NativeOp.PhysFreePages => $"mm_phys_free_page() on {a[0]} pages in turn",
            NativeOp.Kfrees => $"kfree() on {a[0]} blocks in turn",
            NativeOp.MapGets => $"mm_map_get() on {a[0]} addresses in turn",
            NativeOp.Kmallocs => $"kmalloc({a[1]}) repeated until NULL (at most {a[0]} times)",
            NativeOp.Snapshot => "a snapshot of the machine",
            _ => op.ToString(),
        };
    }

    /// <summary>The conventional name of a signal that ended a machine.</summary>
    public static string SignalName(int signal) => signal switch
    {
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        31 => "SIGSYS",
        _ => $"signal {signal}",
    };
}

/// <summary>Request opcodes; the values are the wire format.</summary>
public enum NativeOp : uint
{
    Hello = 0,
    PhysAllocPage = 1,
    PhysAllocContiguous = 2,
    PhysFreePage = 3,
    Kmalloc = 4,
    Kfree = 5,
    MapSingle = 6,
    MapGet = 7,
    UmapSingle = 8,
    Vmfind = 9,
    Vmalloc = 10,
    Vmfree = 11,
    SpaceCreate = 12,
    SpaceRoot = 13,
    Exit = 14,

    /// <summary>mm_phys_alloc_page() until MM_NADDR or arg0 pages; result = count, body = the pages.</summary>
    PhysAllocPages = 15,

    /// <summary>mm_phys_free_page() on each of arg0 pages sent as the request body.</summary>
    PhysFreePages = 16,

    /// <summary>kfree() on each of arg0 pointers sent as the request body.</summary>
    Kfrees = 17,

    /// <summary>
    /// mm_map_get(space, virt, &amp;flags) on each of arg0 (space, virt) pairs of the body; body = an (address, flags) pair
    /// per call. On a panic, result = the calls answered before it and the body their answers, then the text.
    /// </summary>
    MapGets = 18,

    /// <summary>kmalloc(arg1) until it returns NULL or arg0 blocks were handed out; result = count, body = the blocks' spec addresses.</summary>
    Kmallocs = 19,

    /// <summary>
    /// Keeps the library's data as it stands in the worker; result = the snapshot's id, which HELLO's arg2 names to
    /// restore a machine in that state on the same RAM file (the suite puts the RAM back). Bad request when it cannot.
    /// </summary>
    Snapshot = 20,
}
