using System.Text;
using System.Text.RegularExpressions;
using Mmspec.Models.State;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Properties;

namespace Mmspec.SpecTests.Reproducers;

/// <summary>
/// A failure as a self-contained C function for a kernel developer's own harness (or native/repro/main.c): the
/// suite's setup, then the shrunk calls in order, with what the suite itself did between them (the marks it wrote
/// into the pages and blocks it holds, its counts of free pages). Calls before the failing step assert what the
/// implementation returned in the recorded run (so a divergence shows where it starts), except kmalloc, whose blocks
/// are named and referred to by name wherever the heap puts them (<see cref="BlockNames"/>); the failing call asserts
/// what the spec requires of its result, or of the state after it (<see cref="StateCheck"/>, through
/// mmspec_repro.h: page walks, the marks, a count of free pages).
/// </summary>
public static partial class CReproducer
{
    public static string Render(PropertyResult result, RunSettings settings, string implementation)
    {
        Failure failure = result.Failure ?? throw new ArgumentException("the property passed: nothing to reproduce", nameof(result));
        Violation violation = failure.Violation;
        IReadOnlyList<StateCheck> state = violation.State ?? [];
        IReadOnlyList<SuiteAction> actions = violation.Actions ?? [];
        ulong pages = failure.RamSize / AddressSpaceLayout.PageSize;
        bool drains = failure.Replay.DrainsFreePages || actions.OfType<FreePagesCounted>().Any() || state.OfType<FreePagesCheck>().Any();
        string function = $"mmspec_reproduce_{CSharpReproducer.Identifier(result.PropertyId)}";
        var c = new StringBuilder();
        c.AppendLine("/*");
        c.AppendLine($" * mmspec reproducer: {implementation} breaks {violation.Clause} (property {result.PropertyId}, profile {settings.Profile.ToString().ToLowerInvariant()}, seed {failure.Seed}).");
        foreach (string line in violation.Message.Split('\n'))
            c.AppendLine($" * {Comment(line)}");
        c.AppendLine(" *");
        c.AppendLine($" * Start from a fresh machine with 0x{failure.RamSize:X} bytes ({pages} pages) of RAM. Values asserted before the failing call are the");
        c.AppendLine(" * ones the implementation returned in the recorded run (heap blocks are used through their variables, wherever the heap put");
        c.AppendLine(" * them); the failing call asserts what the spec requires of its result or of");
        c.AppendLine(" * the state after it. Run it on a hosted build with native/repro/main.c:");
        c.AppendLine($" *     gcc -O2 -I native/include -DMMSPEC_REPRODUCE={function} -o repro native/repro/main.c this.c libyours.so && ./repro 0x{failure.RamSize:X}");
        c.AppendLine(" */");
        c.AppendLine("#include <assert.h>");
        c.AppendLine("#include <stddef.h>");
        c.AppendLine("#include <stdint.h>");
        if (state.OfType<FrameUnchangedCheck>().Any())
            c.AppendLine("#include <string.h>");
        c.AppendLine("#include \"mmspec.h\"");
        c.AppendLine("#include \"mmspec_repro.h\"");
        if (drains)
        {
            c.AppendLine();
            c.AppendLine("/* How the suite counts free pages: it allocates every free page, then frees them in the same order. */");
            c.AppendLine("static size_t drain_free_pages(void)");
            c.AppendLine("{");
            c.AppendLine($"    static uintptr_t drained[{pages + 1}]; /* one more than RAM has pages */");
            c.AppendLine("    size_t count = 0;");
            c.AppendLine($"    while (count < {pages + 1} && (drained[count] = mm_phys_alloc_page()) != MM_NADDR)");
            c.AppendLine("        count++;");
            c.AppendLine($"    assert(count <= {pages}); /* PHYS-04: never more pages than RAM has */");
            c.AppendLine("    for (size_t i = 0; i < count; i++)");
            c.AppendLine("        mm_phys_free_page(drained[i]);");
            c.AppendLine("    return count;");
            c.AppendLine("}");
        }
        c.AppendLine();
        c.AppendLine($"void {function}(void)");
        c.AppendLine("{");
        c.AppendLine($"    const size_t ram_size = 0x{failure.RamSize:X};");
        c.AppendLine("    /* the suite's setup: two address spaces (steps may create more) */");
        c.AppendLine("    mm_space_t space0 = mmspec_space_create();");
        c.AppendLine("    mm_space_t space1 = mmspec_space_create();");
        foreach (ulong created in failure.Trace.Where(record => record.Call.Function == ApiFunction.mmspec_space_create).Select(record => record.Call.Args[0].Value))
            c.AppendLine($"    mm_space_t space{created} = MM_NADDR;");
        c.AppendLine($"    uintptr_t roots[{SequenceContext.MaxSpaces}] = {{ mmspec_space_root(space0), mmspec_space_root(space1) }};");
        c.AppendLine($"    size_t spaces = {SequenceContext.BootSpaces}; /* how many of roots[] are spaces */");
        c.AppendLine("    (void) space0; (void) space1; (void) roots; (void) spaces; (void) ram_size;");
        if (state.OfType<FreePagesCheck>().Any())
            c.AppendLine("    const size_t tables_at_start = mmspec_repro_count_tables(roots, spaces, ram_size);");
        if (failure.Replay.DrainsFreePages)
        {
            c.AppendLine("    /* ...then it counts free pages */");
            c.AppendLine("    const size_t free_at_start = drain_free_pages();");
            c.AppendLine("    (void) free_at_start;");
        }
        if (failure.Trace.Any(call => call.Call.WantsFlags))
            c.AppendLine("    uint64_t flags = 0;");
        var blocks = new BlockNames();
        AppendActions(c, actions, afterCall: 0, blocks);
        for (int index = 0; index < failure.Trace.Count; index++)
        {
            bool isLast = index == failure.Trace.Count - 1;
            if (!isLast && PageRun(failure.Trace, index, actions) is int end
                && !state.OfType<FrameUnchangedCheck>().Any(frame => frame.BeforeCall >= index && frame.BeforeCall < end))
            {
                AppendPageRun(c, failure.Trace, index, end);
                AppendActions(c, actions, afterCall: end, blocks);
                index = end - 1;
                continue;
            }
            foreach (FrameUnchangedCheck frame in state.OfType<FrameUnchangedCheck>().Where(check => check.BeforeCall == index))
            {
                c.AppendLine($"    /* {Comment(frame.Holder)}: as it is before the next call */");
                c.AppendLine($"    static unsigned char {FrameCopy(frame)}[MM_PAGE_SIZE];");
                c.AppendLine($"    memcpy({FrameCopy(frame)}, (const void *)MMSPEC_VIRTUALIZE(0x{frame.Frame:X}), MM_PAGE_SIZE);");
            }
            AppendCall(c, failure.Trace[index], index, isLast, violation, blocks);
            if (!isLast)
                AppendActions(c, actions, afterCall: index + 1, blocks);
        }
        AppendActions(c, actions.Where(action => action.AfterCall >= failure.Trace.Count).ToList(), afterCall: null, blocks);
        if (state.Count > 0)
        {
            c.AppendLine($"    /* the state after it: {violation.Clause} */");
            foreach (StateCheck check in state)
                AppendCheck(c, check, violation.Clause, blocks);
        }
        c.AppendLine("}");
        return c.ToString();
    }

    /// <summary>The suite's own doings placed after call <paramref name="afterCall"/> (all of them when null).</summary>
    private static void AppendActions(StringBuilder c, IReadOnlyList<SuiteAction> actions, int? afterCall, BlockNames blocks)
    {
        foreach (SuiteAction action in actions.Where(action => afterCall is null || action.AfterCall == afterCall))
            switch (action)
            {
                case MarkWritten mark:
                    c.AppendLine($"    mmspec_repro_mark({blocks.Phys(mark.Phys)}, 0x{mark.Value:X}ull, {mark.Length}); /* the suite's mark in a page or block it holds */");
                    break;
                case FreePagesCounted:
                    c.AppendLine("    (void) drain_free_pages(); /* the suite counts free pages */");
                    break;
            }
    }

    private static string FrameCopy(FrameUnchangedCheck frame) => $"frame_0x{frame.Frame:X}_before";

    /// <summary>One expected fact about the state, asserted: the one place every kind of <see cref="StateCheck"/> becomes C.</summary>
    private static void AppendCheck(StringBuilder c, StateCheck check, string clause, BlockNames blocks)
    {
        c.AppendLine($"    /* {Comment(check.Describe())} */");
        switch (check)
        {
            case TranslationCheck { Expected: { } mapping } translation:
                c.AppendLine($"    assert(mmspec_repro_maps(roots[{translation.Space}], 0x{translation.Virt:X}, 0x{mapping.Phys:X}, 0x{mapping.Size:X}, {ApiCall.FlagNames((ulong)mapping.Rights)}, ram_size));");
                break;
            case TranslationCheck translation:
                c.AppendLine($"    assert(mmspec_repro_unmapped(roots[{translation.Space}], 0x{translation.Virt:X}, ram_size));");
                break;
            case TablesSoundCheck sound:
                c.AppendLine($"    assert(mmspec_walk_sound(roots[{sound.Space}], ram_size));");
                break;
            case NotTableCheck notTable:
                c.AppendLine($"    assert(!mmspec_repro_is_table(roots, spaces, 0x{notTable.Page:X}, ram_size));");
                break;
            case FrameUnchangedCheck frame:
                c.AppendLine($"    assert(memcmp({FrameCopy(frame)}, (const void *)MMSPEC_VIRTUALIZE(0x{frame.Frame:X}), MM_PAGE_SIZE) == 0);");
                break;
            case PatternCheck pattern:
                c.AppendLine($"    assert({string.Join(" && ", pattern.Marks.Select(mark => $"mmspec_repro_holds({blocks.Phys(mark.Phys)}, 0x{mark.Value:X}ull, {mark.Length})"))});");
                break;
            case FreePagesCheck free:
                c.AppendLine("    {");
                c.AppendLine("        long long tables_created = (long long) mmspec_repro_count_tables(roots, spaces, ram_size) - (long long) tables_at_start;");
                c.AppendLine("        long long free_now = (long long) drain_free_pages();");
                c.AppendLine(free.AtMost
                    ? $"        assert(free_now <= (long long) free_at_start - tables_created - {free.Held});"
                    : $"        assert(free_now + {free.Allowance} >= (long long) free_at_start - tables_created - {free.Held});");
                c.AppendLine("    }");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(check), check, $"no C for this state check of {clause}");
        }
    }

    private const int ShortestPageRun = 8;

    /// <summary>
    /// The end of a run of mm_phys_alloc_page or mm_phys_free_page calls of one step that starts at <paramref name="start"/>
    /// (a hog's allocations, a release), none of them the failing call and no suite action between them; null when shorter.
    /// </summary>
    private static int? PageRun(IReadOnlyList<CallRecord> trace, int start, IReadOnlyList<SuiteAction> actions)
    {
        CallRecord first = trace[start];
        if (first.Call.Function is not (ApiFunction.mm_phys_alloc_page or ApiFunction.mm_phys_free_page) || first.End != CallEnd.Returned)
            return null;
        int end = start + 1;
        while (end < trace.Count - 1 && trace[end].Step == first.Step && trace[end].Call.Function == first.Call.Function && trace[end].End == CallEnd.Returned)
            end++;
        bool interrupted = actions.Any(action => action.AfterCall > start && action.AfterCall < end);
        return end - start >= ShortestPageRun && !interrupted ? end : null;
    }

    /// <summary>A run of page calls as one loop over the values the recorded run gave or passed.</summary>
    private static void AppendPageRun(StringBuilder c, IReadOnlyList<CallRecord> trace, int start, int end)
    {
        bool alloc = trace[start].Call.Function == ApiFunction.mm_phys_alloc_page;
        IEnumerable<ulong> values = trace.Skip(start).Take(end - start).Select(record => alloc ? record.Outcome.Value : record.Call.Args[0].Value);
        c.AppendLine();
        c.AppendLine($"    /* step {trace[start].Step}: {end - start} calls of {trace[start].Call.Function} */");
        c.AppendLine("    {");
        c.AppendLine($"        static const uintptr_t pages[] = {{ {string.Join(", ", values.Select(ApiCall.Hex))} }};");
        c.AppendLine("        for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)");
        if (alloc)
        {
            c.AppendLine("        {");
            c.AppendLine("            uintptr_t r = mm_phys_alloc_page();");
            c.AppendLine("            assert(r == pages[i]);");
            c.AppendLine("            (void) r;");
            c.AppendLine("        }");
        }
        else
            c.AppendLine("            mm_phys_free_page(pages[i]);");
        c.AppendLine("    }");
    }

    private static void AppendCall(StringBuilder c, CallRecord record, int index, bool isLast, Violation violation, BlockNames blocks)
    {
        string name = $"r{index + 1}";
        string call = record.Call.ToC();
        if (record.Call.Function == ApiFunction.kfree)
            call = $"kfree(mmspec_repro_host_pointer({(record.Call.Args[0].Value == 0 ? "0" : blocks.Pointer(record.Call.Args[0].Value))}, ram_size))";
        c.AppendLine();
        string step = record.CrossCheck ? $"step {record.Step}, the suite's cross-check after it" : $"step {record.Step}";
        c.AppendLine(isLast ? $"    /* {step}: {violation.Clause} is broken here */" : $"    /* {step} */");
        // Where a heap puts a block is its choice: before the failing call a kmalloc result is checked for success only,
        // and named, so that what follows refers to the block wherever it is (see BlockNames).
        bool block = record.Call.Function == ApiFunction.kmalloc && record.End == CallEnd.Returned && record.Outcome.Value != 0;
        string? condition = isLast ? violation.Expected : block ? "r != 0" : Observed(record, name);
        if (condition is not null)
            condition = blocks.InText(condition);
        if (record.End == CallEnd.Panicked && !isLast)
            c.AppendLine($"    /* the implementation panicked here ({Comment(record.Detail)}), a panic the clauses allow for this call: run it under your panic hook */");
        if (record.End != CallEnd.Returned && isLast)
            c.AppendLine($"    /* the call must return normally; in the recorded run it {(record.End == CallEnd.Panicked ? "panicked" : "crashed")} ({Comment(record.Detail)}) */");
        if (condition == "a kernel panic")
        {
            c.AppendLine(record.Call.Returns == ReturnKind.Void ? $"    {call};" : $"    (void) {call};");
            c.AppendLine($"    /* expected: {condition} */");
            return;
        }
        switch (record.Call.Returns)
        {
            case ReturnKind.Space:
                string space = $"space{record.Call.Args[0].Value}";
                c.AppendLine($"    {space} = {call};");
                c.AppendLine($"    assert({ResultVariable().Replace(isLast ? condition ?? "r != MM_NADDR" : "r != MM_NADDR", space)});");
                if (record.End == CallEnd.Returned && record.Outcome.Value != AddressSpaceLayout.Naddr)
                    c.AppendLine($"    roots[spaces++] = mmspec_space_root({space});");
                return;
            case ReturnKind.Void:
                c.AppendLine($"    {call};");
                if (isLast && condition is not null)
                    c.AppendLine($"    /* expected: {Comment(condition)} */");
                return;
            case ReturnKind.Status:
                c.AppendLine($"    int {name} = {call};");
                break;
            case ReturnKind.Address when record.Call.Function == ApiFunction.kmalloc:
                c.AppendLine($"    uintptr_t {name} = mmspec_repro_spec_pointer({call}, ram_size);{(block && !isLast ? $" /* 0x{record.Outcome.Value:X} in the recorded run */" : "")}");
                break;
            default:
                c.AppendLine($"    uintptr_t {name} = {call};");
                break;
        }
        if (condition is null)
            c.AppendLine($"    (void) {name};");
        else
            c.AppendLine($"    assert({ResultVariable().Replace(condition, name)});");
        if (block && !isLast)
            blocks.Add(record.Outcome.Value, record.Call.Args[0].Value, name);
    }

    /// <summary>The recorded value as a C condition; null when the call did not return normally.</summary>
    private static string? Observed(CallRecord record, string name)
    {
        if (record.End != CallEnd.Returned || record.Call.Returns == ReturnKind.Void)
            return null;
        if (record.Call.Returns == ReturnKind.Status)
            return $"r == {(int)record.Outcome.Value}";
        string value = ApiCall.Hex(record.Outcome.Value);
        // mm_map_get sets *flags on success only (MAP-08): after MM_NADDR the variable holds what an earlier call left.
        bool flagsSet = record.Outcome.Flags is not null && record.Outcome.Value != AddressSpaceLayout.Naddr;
        return flagsSet ? $"r == {value} && flags == ({ApiCall.FlagNames(record.Outcome.Flags!.Value)})" : $"r == {value}";
    }

    private static string Comment(string text) => text.Replace("*/", "* /", StringComparison.Ordinal);

    [GeneratedRegex(@"\br\b")]
    private static partial Regex ResultVariable();
}
