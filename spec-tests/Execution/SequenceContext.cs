using System.Runtime.CompilerServices;
using Mmspec.Models.State;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Port;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// Everything one sequence shares while it runs: the implementation, the model's view of the state, the
/// record of calls, and what the audit learned after the previous step.
/// </summary>
public sealed partial class SequenceContext
{
    /// <summary>The spaces the setup creates before any step; a CreateSpace step adds more, up to <see cref="MaxSpaces"/>.</summary>
    public const int BootSpaces = 2;

    public const int MaxSpaces = 6;

    public SequenceContext(IMmImplementation implementation, Profile profile)
    {
        Implementation = implementation;
        Profile = profile;
        Model = ApiState.Boot(BootSpaces, []); // replaced by what setup observes of the boot state
        Patterns = new PatternBook(implementation.Ram, () => (Trace.Count, Step), Actions);
    }

    public IMmImplementation Implementation { get; }

    public Profile Profile { get; }

    public bool Strict => Profile == Profile.Strict;

    public ApiState Model { get; set; }

    /// <summary>The handles of the sequence's spaces, by index (space0, space1, ...), and their PML4s.</summary>
    public List<ulong> Spaces { get; } = [];

    public List<ulong> Roots { get; } = [];

    /// <summary>The space a step's pick names: picks wrap over the spaces that exist, so a step stays valid when shrinking drops a CreateSpace.</summary>
    public int SpaceOf(int pick) => pick % Spaces.Count;

    /// <summary>What the first space held at boot in its own (unshared) kernel slots: what every later space must hold there too.</summary>
    public IReadOnlyList<(ulong Base, Mapping Mapping)> BootKernelOwn { get; set; } = [];

    /// <summary>
    /// Adopts a space the implementation created: its root is where the suite walks from, so a root that is no page
    /// of RAM is the port's fault (MAP-18), found before any walk.
    /// </summary>
    public void AddSpace(ulong handle, string when)
    {
        int index = Spaces.Count;
        ulong root = Guarded("MAP-18", $"{when}, reading the root of space{index}", () => Implementation.SpaceRoot(handle));
        Check(root % AddressSpaceLayout.PageSize == 0 && root < Implementation.RamSize, "MAP-18",
            $"{when}, mmspec_space_root(space{index}) = 0x{root:X}: a space's root must be a page-aligned page table inside RAM (0x{Implementation.RamSize:X} bytes)");
        Spaces.Add(handle);
        Roots.Add(root);
    }

    public PatternBook Patterns { get; }

    /// <summary>Allocation order and the item freed last, per kind: what steps that pick a live item need beyond the model.</summary>
    public LiveItems Live { get; } = new();

    public CallTrace Trace { get; } = new();

    /// <summary>What the suite did to the machine besides the calls of <see cref="Trace"/> (marks, counts of free pages), placed in it.</summary>
    public List<SuiteAction> Actions { get; } = [];

    /// <summary>Addresses the current step touched, re-checked through the MMU model after it.</summary>
    public List<(int Space, ulong Virt)> Touched { get; } = [];

    /// <summary>Pages known to be in use after the previous step (client, regions, heap, tables).</summary>
    public OwnershipMap Owned { get; set; } = OwnershipMap.Empty();

    /// <summary>
    /// Takes what an audit of the same tables found before (a boot observed again, a machine restored) as the last
    /// audit's: its walks, shared (a memo is replaced, never changed), and a copy of its owners, to follow from here.
    /// </summary>
    public void AdoptAudit(IEnumerable<KeyValuePair<WalkPart, PartMemo>> walks, OwnershipMap owners)
    {
        foreach ((WalkPart part, PartMemo memo) in walks)
            LastWalks[part] = memo;
        Owned = owners.Copy(Implementation.RamSize);
    }

    /// <summary>Pages the machine could hand out when the sequence began, and the pages in use then (boot tables).</summary>
    public int BaselineFreePages => FreeAtBaseline.Count;

    public int BaselineTablePages { get; set; }

    /// <summary>
    /// The pages the baseline drain was handed. A page in use that is not among them never came from the
    /// allocator (a boot table, a private table pool), so it does not count against the free pages.
    /// </summary>
    public PageSet FreeAtBaseline { get; set; } = PageSet.Empty;

    /// <summary>Pages in use after the previous step that the allocator handed out (see <see cref="FreeAtBaseline"/>).</summary>
    public int OwnedFromAllocator => Owned.CountIn(FreeAtBaseline);

    /// <summary>The live heap blocks' pointers in order, beside the model's blocks: kmalloc's overlap check looks up one neighbour, not every block.</summary>
    public BlockStarts LiveBlockStarts { get; } = new();

    /// <summary>Pointers kfree'd and not handed out again: a second kfree of one is a double free.</summary>
    public HashSet<ulong> FreedPointers { get; } = [];

    public int Step { get; set; }

    /// <summary>How the audit walks the tables after each step.</summary>
    public AuditMode AuditMode { get; init; }

    /// <summary>What the last audit found of each part of the walk, for the next to skip what no call since changed (<see cref="PartMemo"/>).</summary>
    public Dictionary<WalkPart, PartMemo> LastWalks { get; } = [];

    /// <summary>The frames the calls of the step being audited wrote (<see cref="WriteCheck.AfterStep"/>), one set for every step.</summary>
    internal HashSet<ulong> StepWrites { get; } = [];

    /// <summary>The walks the last audit's tables came from, part by part; null before the first (<see cref="Audit"/>).</summary>
    internal TableWalks? LastTableWalks { get; set; }

    /// <summary>
    /// What the calls since the last audit that no record can answer for wrote: batches, and the suite's own calls
    /// (counting free pages, reading a root). The audit still learns from them which frames may have changed; null
    /// when one of them could not tell, and then the next audit walks and reads everything.
    /// </summary>
    public HashSet<ulong>? UnjudgedWrites { get; set; } = [];

    /// <summary>Makes calls whose writes are learned together (<see cref="UnjudgedWrites"/>).</summary>
    public T Unjudged<T>(Func<T> calls) => Batch(calls, out _, judged: false);

    /// <summary>
    /// Makes a batch of recorded calls. When the port tells what each call wrote (<see cref="IWriteTracking.TakeBatchWrites"/>)
    /// and the batch ran to its end, <paramref name="perCall"/> holds it, in call order, for the records to be judged by
    /// (<see cref="CallByCall"/>); otherwise what the batch wrote is learned as a whole (<see cref="UnjudgedWrites"/>).
    /// </summary>
    public T Batch<T>(Func<T> calls, out IReadOnlyList<IReadOnlyList<ulong>>? perCall, bool judged = true)
    {
        IWriteTracking? writes = OpenWriteSet();
        writes?.TakeBatchWrites(); // none left from a batch before
        perCall = null;
        bool ended = false;
        try
        {
            T result = calls();
            ended = true;
            return result;
        }
        finally
        {
            IReadOnlyList<IReadOnlyList<ulong>>? each = writes?.TakeBatchWrites();
            IReadOnlyList<ulong>? rest = writes?.TakeWrittenFrames();
            if (rest is null)
                UnjudgedWrites = null;
            else
                UnjudgedWrites?.UnionWith(rest);
            if (each is not null && judged && ended)
                perCall = each;
            else
                foreach (IReadOnlyList<ulong> frames in each is CallWriteLog log ? log.Writes : each ?? [])
                    if (frames.Count > 0)
                        UnjudgedWrites?.UnionWith(frames);
        }
    }

    /// <summary>
    /// The write sets <see cref="Batch"/> told for a batch of <paramref name="calls"/> calls, to index by call; null when
    /// only the whole is known. A port that told of a different number of calls is not believed call by call: what it
    /// told is then learned as a whole (<see cref="UnjudgedWrites"/>).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<ulong>>? CallByCall(IReadOnlyList<IReadOnlyList<ulong>>? perCall, int calls)
    {
        if (perCall is null || perCall.Count == calls)
            return perCall;
        foreach (IReadOnlyList<ulong> frames in perCall)
            UnjudgedWrites?.UnionWith(frames);
        return null;
    }

    /// <summary>
    /// The implementation's write tracking, with the suite's own writes since the last call (its marks) dropped: what it
    /// reports next is what the calls made from here wrote. Null where the implementation cannot tell.
    /// </summary>
    private IWriteTracking? OpenWriteSet()
    {
        IWriteTracking? writes = Implementation.Writes;
        writes?.TakeWrittenFrames();
        return writes;
    }

    /// <summary>How a call the suite expected to return ended instead, as every violation of it says.</summary>
    public static string EndedBadly(ApiCall call, Exception failure) => failure is ImplementationPanicException panic
        ? $"{call} panicked ({panic.Reason}) on a valid call: {panic.Message}"
        : $"{call} crashed: {failure.GetType().Name}: {failure.Message}";

    /// <summary>How much of <see cref="Trace"/> the write check has seen (<see cref="WriteCheck"/>).</summary>
    public int WritesCheckedUpTo { get; set; }

    /// <summary>Set when the teardown's count of free pages came up short: the violation is a leak, which <see cref="LeakTrace"/> can trace to its step.</summary>
    public bool LeakAtTeardown { get; set; }

    /// <summary>Set while the teardown makes its one count after everything went back (see <see cref="SequenceResult.CountedOnceAtTeardown"/>).</summary>
    public bool CountedOnceAtTeardown { get; set; }

    public ulong RamPages => Implementation.RamSize / AddressSpaceLayout.PageSize;

    /// <summary>Pages believed free: what the baseline had, less what is in use now that came from the allocator.</summary>
    public int EstimatedFreePages => BaselineFreePages - OwnedFromAllocator;

    /// <summary>
    /// Whether running out of memory is believable for a request needing <paramref name="pages"/> pages.
    /// Implementations keep some memory for themselves (heap metadata, tables), hence the allowance.
    /// </summary>
    public bool ExhaustionPlausible(ulong pages) =>
        (ulong)Math.Max(0, EstimatedFreePages) < pages + (ulong)(16 + Model.HeapBlocks.Count + 4 * Spaces.Count);

    public void Check(bool condition, string clause, string message)
    {
        if (!condition)
            Fail(clause, message);
    }

    public void Check(bool condition, string clause, [InterpolatedStringHandlerArgument("condition")] ref LazyMessage message)
    {
        if (!condition)
            Fail(clause, message.ToStringAndClear());
    }

    /// <summary>
    /// Ends the sequence with a violation. <paramref name="expected"/> is the C condition the call's result had to meet,
    /// <paramref name="state"/> what the state after the step should have been; with neither (a panic, a crash, tables the
    /// MMU cannot walk), the state every audit requires: every space's page tables lie in RAM and are well formed.
    /// </summary>
    public void Fail(string clause, string message, string? expected = null, IReadOnlyList<StateCheck>? state = null)
    {
        // The default profile is what every implementation must do: a choice the spec leaves open is never a verdict there.
        if (!Strict && ClauseCatalogue.Load().TryGet(clause, out Clause? known) && known.IsImplementationDefined)
            throw new InvalidOperationException($"mmspec bug: the default profile reported implementation-defined clause {clause}: {message}");
        if (expected is null && state is null)
            state = Enumerable.Range(0, Roots.Count).Select(space => (StateCheck)new TablesSoundCheck(space)).ToList();
        throw new ViolationException(new Violation(clause, message, Step, expected, state, Actions.ToList()));
    }

    /// <summary>Pages in use that the allocator handed out, other than page tables: the client's, its regions', its heap blocks'.</summary>
    public int HeldFromAllocator => Owned.Entries().Count(entry => entry.Owner.Kind != OwnerKind.Table && FreeAtBaseline.Contains(entry.Page));

    /// <summary>
    /// A check on the value the step's call returned: <paramref name="expected"/> is the C condition it had to
    /// meet (<c>r</c> is the value), which the C reproducer asserts.
    /// </summary>
    public void CheckResult(bool condition, string expected, string clause, string message)
    {
        if (!condition)
            Fail(clause, message, expected);
    }

    public void CheckResult(bool condition, string expected, string clause, [InterpolatedStringHandlerArgument("condition")] ref LazyMessage message)
    {
        if (!condition)
            Fail(clause, message.ToStringAndClear(), expected);
    }

    public void CheckResult(
        bool condition,
        [InterpolatedStringHandlerArgument("condition")] ref LazyMessage expected,
        string clause,
        [InterpolatedStringHandlerArgument("condition")] ref LazyMessage message)
    {
        if (!condition)
            Fail(clause, message.ToStringAndClear(), expected.ToStringAndClear());
    }

    /// <summary>Makes a call, records it, and turns a panic or crash the step did not expect into a violation of <paramref name="clause"/>.</summary>
    public CallOutcome Call(string clause, ApiCall call)
    {
        CallOutcome outcome = Attempt(clause, call, out ImplementationPanicException? panic);
        if (panic is not null)
            Fail(clause, EndedBadly(call, panic));
        return outcome;
    }

    /// <summary>
    /// A call the spec allows to panic (a reading a clause names): a panic is recorded and gives null, and the
    /// audit after the step checks that it changed nothing. A crash is still a violation of <paramref name="clause"/>.
    /// </summary>
    public CallOutcome? CallMayPanic(string clause, ApiCall call)
    {
        CallOutcome outcome = Attempt(clause, call, out ImplementationPanicException? panic);
        return panic is null ? outcome : null;
    }

    /// <summary>The call, recorded with how it ended; a crash is a violation of <paramref name="clause"/>, a panic is handed back.</summary>
    private CallOutcome Attempt(string clause, ApiCall call, out ImplementationPanicException? panic)
    {
        panic = null;
        IWriteTracking? writes = OpenWriteSet();
        try
        {
            CallOutcome outcome = call.Invoke(Implementation, Spaces);
            Trace.Add(new CallRecord(Step, call, CallEnd.Returned, outcome) { Written = writes?.TakeWrittenFrames() });
            return outcome;
        }
        catch (ImplementationPanicException panicked)
        {
            Trace.Add(new CallRecord(Step, call, CallEnd.Panicked, default, panicked.Reason) { Written = writes?.TakeWrittenFrames() });
            panic = panicked;
            return default;
        }
        catch (Exception crash) when (crash is not ViolationException)
        {
            Trace.Add(new CallRecord(Step, call, CallEnd.Crashed, default, crash.GetType().Name));
            Fail(clause, EndedBadly(call, crash));
            throw;
        }
    }

    /// <summary>A call that must panic (strict profile): anything else is a violation of <paramref name="clause"/>.</summary>
    public void CallExpectingPanic(string clause, ApiCall call)
    {
        IWriteTracking? writes = OpenWriteSet();
        try
        {
            call.Invoke(Implementation, Spaces);
        }
        catch (ImplementationPanicException panic)
        {
            Trace.Add(new CallRecord(Step, call, CallEnd.Panicked, default, panic.Reason) { Written = writes?.TakeWrittenFrames() });
            return;
        }
        catch (Exception crash)
        {
            Trace.Add(new CallRecord(Step, call, CallEnd.Crashed, default, crash.GetType().Name));
            Fail(clause, $"{call} should panic but crashed: {crash.GetType().Name}: {crash.Message}", "a kernel panic");
        }
        Trace.Add(new CallRecord(Step, call, CallEnd.Returned, default) { Written = writes?.TakeWrittenFrames() });
        Fail(clause, $"{call} should raise a kernel panic but returned normally", "a kernel panic");
    }

    public void Touch(int space, ulong virt) => Touched.Add((space, virt));

    public static string Hex(ulong value) => ApiCall.Hex(value);

    public string Space(int index) => $"space{index}";
}
