using System.Collections;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// The calls of one sequence, in order, read as <see cref="CallRecord"/>s. The thousands of calls a batch makes (a
/// hog's allocations, a kmalloc burst, a teardown's frees) are kept as compact entries, a struct each, and become
/// records only when read: a passing sequence's trace is dropped unread, and those records (each with its call and
/// its argument list) were a third of everything a conformance run allocated, and most of what its collections copied.
/// A record made from an entry is kept, so that reading it twice gives the same record.
/// </summary>
public sealed class CallTrace : IReadOnlyList<CallRecord>
{
    // Fixed chunks, never copied: a hog's thousands of entries in one growing array cost more in copies and slack
    // than the records they replace.
    private const int ChunkBits = 8;
    private const int ChunkSize = 1 << ChunkBits;
    private Entry[][] chunks = [];

    public int Count { get; private set; }

    /// <summary>A recorded call; a record is kept as it is, an entry made by <see cref="AddReturned"/> is the call's parts.</summary>
    private struct Entry
    {
        public CallRecord? Record;
        public IReadOnlyList<ulong>? Written;
        public ulong Argument;
        public ulong Result;
        public int Step;
        public byte Function; // an ApiFunction: an entry is 40 bytes
        public bool InBatch;
    }

    public void Add(CallRecord record) => Next() = new Entry { Record = record };

    /// <summary>
    /// A batch's call that returned: <c>mm_phys_alloc_page()</c> (no argument), <c>mm_phys_free_page(addr)</c>,
    /// <c>kfree(ptr)</c> or <c>kmalloc(size)</c>, with what it returned (0 for the void ones) and what it wrote; a call
    /// whose writes are known only with the batch's (<paramref name="written"/> null) is <see cref="CallRecord.InBatch"/>.
    /// </summary>
    public void AddReturned(int step, ApiFunction function, ulong argument, ulong result, IReadOnlyList<ulong>? written)
    {
        CheckOfOneArgument(function);
        Next() = new Entry
        {
            Written = written, Argument = argument, Result = result, Step = step, Function = (byte)function, InBatch = written is null,
        };
    }

    public CallRecord this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            ref Entry entry = ref At(index);
            return entry.Record ??= RecordOf(entry);
        }
    }

    /// <summary>What the write check reads of call <paramref name="index"/>, without making it a record.</summary>
    public CallSummary Summary(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        ref Entry entry = ref At(index);
        if (entry.Record is not { } record)
            return new CallSummary((ApiFunction)entry.Function, entry.Argument, CallEnd.Returned, entry.Written, entry.InBatch);
        IReadOnlyList<ApiArg> args = record.Call.Args;
        return new CallSummary(record.Call.Function, args.Count > 0 ? args[0].Value : 0, record.End, record.Written, record.InBatch);
    }

    public void Clear()
    {
        chunks = [];
        Count = 0;
    }

    public IEnumerator<CallRecord> GetEnumerator()
    {
        for (int index = 0; index < Count; index++)
            yield return this[index];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private ref Entry At(int index) => ref chunks[index >> ChunkBits][index & (ChunkSize - 1)];

    /// <summary>The slot after the last entry, taken.</summary>
    private ref Entry Next()
    {
        int chunk = Count >> ChunkBits;
        if (chunk == chunks.Length)
            Array.Resize(ref chunks, Math.Max(4, 2 * chunks.Length));
        chunks[chunk] ??= new Entry[ChunkSize];
        return ref At(Count++);
    }

    /// <summary>The call a compact entry stands for: one of <see cref="AddReturned"/>'s four functions with its argument.</summary>
    public static ApiCall CallOf(ApiFunction function, ulong argument)
    {
        CheckOfOneArgument(function);
        return function switch
        {
            ApiFunction.mm_phys_alloc_page => ApiCall.AllocPage(),
            ApiFunction.mm_phys_free_page => ApiCall.FreePage(argument),
            ApiFunction.kfree => ApiCall.Kfree(argument),
            _ => ApiCall.Kmalloc(argument),
        };
    }

    private static void CheckOfOneArgument(ApiFunction function)
    {
        if (function is not (ApiFunction.mm_phys_alloc_page or ApiFunction.mm_phys_free_page or ApiFunction.kfree or ApiFunction.kmalloc))
            throw new ArgumentException($"{function} is not a batch's call of one argument", nameof(function));
    }

    private static CallRecord RecordOf(in Entry entry)
    {
        ApiCall call = CallOf((ApiFunction)entry.Function, entry.Argument);
        CallOutcome outcome = call.Returns == ReturnKind.Void ? default : new CallOutcome(entry.Result);
        return new CallRecord(entry.Step, call, CallEnd.Returned, outcome) { Written = entry.Written, InBatch = entry.InBatch };
    }
}

/// <summary>A recorded call as the write check reads it: its function, its first argument (0 if none), how it ended and what it wrote.</summary>
public readonly record struct CallSummary(ApiFunction Function, ulong FirstArgument, CallEnd End, IReadOnlyList<ulong>? Written, bool InBatch);
