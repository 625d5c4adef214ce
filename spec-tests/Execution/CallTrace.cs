using System.Collections;
using System.Runtime.InteropServices;
using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// The calls of one sequence, in order, read as <see cref="CallRecord"/>s. Calls are kept as pieces: a stretch of
/// single entries (a record, or a compact entry of <see cref="AddReturned"/>), or a batch's run of calls of one
/// function (<see cref="StartRun"/>), which reads each call's value from the batch's own list. A hog's, a drain's or a
/// teardown's thousands of calls are then one piece, not an entry each (those entries were the biggest thing a
/// conformance run allocated), and become records only when read: a passing sequence's trace is dropped unread.
/// A record made from an entry or a run is kept, so that reading it twice gives the same record.
/// </summary>
public sealed class CallTrace : IReadOnlyList<CallRecord>
{
    // Fixed chunks of single entries, never copied: one growing array cost more in copies and slack than the records.
    private const int ChunkBits = 8;
    private const int ChunkSize = 1 << ChunkBits;
    private Entry[][] chunks = [];
    private int singles;
    private readonly List<Piece> pieces = [];
    private int lastRead; // the piece last read: the write check reads call by call, in order

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

    /// <summary>Calls [Start, Start + Count) of the trace: single entries from <see cref="FirstSingle"/>, or a run.</summary>
    private struct Piece
    {
        public int Start;
        public int Count;
        public int FirstSingle;
        public CallRun? Run;
    }

    public void Add(CallRecord record) => NextSingle() = new Entry { Record = record };

    /// <summary>
    /// A batch's call that returned: <c>mm_phys_alloc_page()</c> (no argument), <c>mm_phys_free_page(addr)</c>,
    /// <c>kfree(ptr)</c> or <c>kmalloc(size)</c>, with what it returned (0 for the void ones) and what it wrote; a call
    /// whose writes are known only with the batch's (<paramref name="written"/> null) is <see cref="CallRecord.InBatch"/>.
    /// </summary>
    public void AddReturned(int step, ApiFunction function, ulong argument, ulong result, IReadOnlyList<ulong>? written)
    {
        CheckOfOneArgument(function);
        NextSingle() = new Entry
        {
            Written = written, Argument = argument, Result = result, Step = step, Function = (byte)function, InBatch = written is null,
        };
    }

    /// <summary>
    /// Starts a run of a batch's calls of <paramref name="function"/> (one of <see cref="AddReturned"/>'s), all returned,
    /// each added by <see cref="Extend"/> as it is judged. Call i's value is <paramref name="values"/>[i], or
    /// <paramref name="past"/> for a call beyond them (the MM_NADDR or NULL that ended the batch): what it returned when
    /// <paramref name="valuesReturned"/>, else its argument; the other is <paramref name="argument"/> (kmalloc's size),
    /// or 0. <paramref name="written"/> holds what each call wrote (null: known only as the batch's, each call
    /// <see cref="CallRecord.InBatch"/>). The run reads both lists when asked: neither may change after.
    /// </summary>
    public CallRun StartRun(int step, ApiFunction function, ulong argument, IReadOnlyList<ulong> values, bool valuesReturned, ulong past,
                            IReadOnlyList<IReadOnlyList<ulong>>? written)
    {
        CheckOfOneArgument(function);
        var run = new CallRun(step, function, argument, values, valuesReturned, past, written);
        pieces.Add(new Piece { Start = Count, Run = run });
        return run;
    }

    /// <summary>The next <paramref name="calls"/> calls of <paramref name="run"/>, which must be the last piece started.</summary>
    public void Extend(CallRun run, int calls = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(calls);
        if (pieces.Count == 0 || !ReferenceEquals(LastPiece().Run, run))
            throw new InvalidOperationException("only the trace's last run can be extended");
        LastPiece().Count += calls;
        Count += calls;
    }

    public CallRecord this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            ref Piece piece = ref PieceOf(index);
            if (piece.Run is { } run)
                return run.Record(index - piece.Start);
            ref Entry entry = ref At(piece.FirstSingle + index - piece.Start);
            return entry.Record ??= RecordOf(entry);
        }
    }

    /// <summary>
    /// The run holding call <paramref name="index"/>, with the call's place in it (<paramref name="call"/>) and how many
    /// of the run's calls are recorded from there on (<paramref name="left"/>); null for a call of its own.
    /// </summary>
    public CallRun? RunAt(int index, out int call, out int left)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        ref Piece piece = ref PieceOf(index);
        call = index - piece.Start;
        left = piece.Count - call;
        return piece.Run;
    }

    /// <summary>What the write check reads of call <paramref name="index"/>, without making it a record.</summary>
    public CallSummary Summary(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        ref Piece piece = ref PieceOf(index);
        if (piece.Run is { } run)
            return run.Summary(index - piece.Start);
        ref Entry entry = ref At(piece.FirstSingle + index - piece.Start);
        if (entry.Record is not { } record)
            return new CallSummary((ApiFunction)entry.Function, entry.Argument, CallEnd.Returned, entry.Written, entry.InBatch);
        IReadOnlyList<ApiArg> args = record.Call.Args;
        return new CallSummary(record.Call.Function, args.Count > 0 ? args[0].Value : 0, record.End, record.Written, record.InBatch);
    }

    public void Clear()
    {
        chunks = [];
        singles = 0;
        pieces.Clear();
        lastRead = 0;
        Count = 0;
    }

    public IEnumerator<CallRecord> GetEnumerator()
    {
        for (int index = 0; index < Count; index++)
            yield return this[index];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private ref Entry At(int single) => ref chunks[single >> ChunkBits][single & (ChunkSize - 1)];

    private ref Piece LastPiece() => ref CollectionsMarshal.AsSpan(pieces)[^1];

    /// <summary>The slot after the last entry, taken: in the last piece when that is one of single entries, else in a new one.</summary>
    private ref Entry NextSingle()
    {
        if (pieces.Count == 0 || LastPiece().Run is not null)
            pieces.Add(new Piece { Start = Count, FirstSingle = singles });
        LastPiece().Count++;
        Count++;
        int chunk = singles >> ChunkBits;
        if (chunk == chunks.Length)
            Array.Resize(ref chunks, Math.Max(4, 2 * chunks.Length));
        chunks[chunk] ??= new Entry[ChunkSize];
        return ref At(singles++);
    }

    /// <summary>The piece holding call <paramref name="index"/>: the one read last or the next (reads go in order), else found by halves.</summary>
    private ref Piece PieceOf(int index)
    {
        Span<Piece> all = CollectionsMarshal.AsSpan(pieces);
        for (int near = lastRead; near < Math.Min(lastRead + 2, all.Length); near++)
            if (Holds(all[near], index))
                return ref all[lastRead = near];
        int low = 0, high = all.Length - 1;
        while (low < high)
        {
            int middle = (low + high + 1) / 2;
            if (all[middle].Start <= index)
                low = middle;
            else
                high = middle - 1;
        }
        return ref all[lastRead = low];
    }

    private static bool Holds(in Piece piece, int index) => index >= piece.Start && index - piece.Start < piece.Count;

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

    internal static CallRecord RecordOf(int step, ApiFunction function, ulong argument, ulong result, IReadOnlyList<ulong>? written)
    {
        ApiCall call = CallOf(function, argument);
        CallOutcome outcome = call.Returns == ReturnKind.Void ? default : new CallOutcome(result);
        return new CallRecord(step, call, CallEnd.Returned, outcome) { Written = written, InBatch = written is null };
    }

    private static CallRecord RecordOf(in Entry entry) => RecordOf(entry.Step, (ApiFunction)entry.Function, entry.Argument, entry.Result, entry.Written);
}

/// <summary>A batch's calls of one function in a <see cref="CallTrace"/> (<see cref="CallTrace.StartRun"/>), read from the batch's lists.</summary>
public sealed class CallRun
{
    private readonly int step;
    private readonly ApiFunction function;
    private readonly ulong argument, past;
    private readonly IReadOnlyList<ulong> values;
    private readonly bool valuesReturned;
    private readonly IReadOnlyList<IReadOnlyList<ulong>>? written;
    private CallRecord?[] records = [];

    internal CallRun(int step, ApiFunction function, ulong argument, IReadOnlyList<ulong> values, bool valuesReturned, ulong past,
                     IReadOnlyList<IReadOnlyList<ulong>>? written) =>
        (this.step, this.function, this.argument, this.values, this.valuesReturned, this.past, this.written) =
        (step, function, argument, values, valuesReturned, past, written);

    public ApiFunction Function => function;

    /// <summary>What call <paramref name="call"/> of the run is to the write check (<see cref="CallTrace.Summary"/>).</summary>
    public CallSummary Summary(int call) => new(function, FirstArgument(call), CallEnd.Returned, Written(call), written is null);

    /// <summary>The first call at or after <paramref name="call"/> that wrote something, or <see cref="int.MaxValue"/> when none did.</summary>
    public int NextWriting(int call)
    {
        if (written is CallWriteLog log)
            return log.NextWriter(call);
        for (int next = Math.Max(call, 0); written is not null && next < written.Count; next++)
            if (written[next].Count > 0)
                return next;
        return int.MaxValue;
    }

    internal CallRecord Record(int call)
    {
        if (call >= records.Length)
            Array.Resize(ref records, Math.Max(call + 1, values.Count + 1));
        return records[call] ??= CallTrace.RecordOf(step, function, valuesReturned ? argument : Value(call), valuesReturned ? Value(call) : 0, Written(call));
    }

    private ulong Value(int call) => call < values.Count ? values[call] : past;

    private ulong FirstArgument(int call) => valuesReturned ? argument : Value(call);

    private IReadOnlyList<ulong>? Written(int call) => written?[call];
}

/// <summary>A recorded call as the write check reads it: its function, its first argument (0 if none), how it ended and what it wrote.</summary>
public readonly record struct CallSummary(ApiFunction Function, ulong FirstArgument, CallEnd End, IReadOnlyList<ulong>? Written, bool InBatch);
