using System.Text;
using System.Text.RegularExpressions;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Properties;

namespace Mmspec.SpecTests.Reproducers;

/// <summary>
/// A failure as a self-contained C function for a kernel developer's own harness: the suite's setup, then the
/// shrunk calls in order. Calls before the failing step assert what the implementation returned in the recorded
/// run (so a divergence shows where it starts); the failing call asserts what the spec requires.
/// </summary>
public static partial class CReproducer
{
    public static string Render(PropertyResult result, RunSettings settings, string implementation)
    {
        Failure failure = result.Failure ?? throw new ArgumentException("the property passed: nothing to reproduce", nameof(result));
        Violation violation = failure.Violation;
        var c = new StringBuilder();
        c.AppendLine("/*");
        c.AppendLine($" * mmspec reproducer: {implementation} breaks {violation.Clause} (property {result.PropertyId}, profile {settings.Profile.ToString().ToLowerInvariant()}, seed {failure.Seed}).");
        foreach (string line in violation.Message.Split('\n'))
            c.AppendLine($" * {line.Replace("*/", "* /", StringComparison.Ordinal)}");
        c.AppendLine(" *");
        c.AppendLine($" * Start from a fresh machine with 0x{failure.RamSize:X} bytes ({failure.RamSize / 4096} pages) of RAM. Values asserted before the failing call are the");
        c.AppendLine(" * ones the implementation returned in the recorded run; the failing call asserts what the spec requires.");
        c.AppendLine(" */");
        c.AppendLine("#include <assert.h>");
        c.AppendLine("#include <stddef.h>");
        c.AppendLine("#include <stdint.h>");
        c.AppendLine("#include \"mmspec.h\"");
        c.AppendLine();
        c.AppendLine($"void mmspec_reproduce_{CSharpReproducer.Identifier(result.PropertyId)}(void)");
        c.AppendLine("{");
        c.AppendLine("    /* the suite's setup: two address spaces */");
        c.AppendLine("    mm_space_t space0 = mmspec_space_create();");
        c.AppendLine("    mm_space_t space1 = mmspec_space_create();");
        c.AppendLine("    (void) space0; (void) space1;");
        if (failure.Replay.DrainsFreePages)
        {
            c.AppendLine("    /* ...then it counts free pages: every page allocated, then freed in the same order */");
            c.AppendLine($"    static uintptr_t drained[{failure.RamSize / 4096 + 1}]; /* one more than RAM has pages: the last holds MM_NADDR */");
            c.AppendLine("    size_t count = 0;");
            c.AppendLine("    while ((drained[count] = mm_phys_alloc_page()) != MM_NADDR)");
            c.AppendLine("        count++;");
            c.AppendLine("    for (size_t i = 0; i < count; i++)");
            c.AppendLine("        mm_phys_free_page(drained[i]);");
        }
        if (failure.Trace.Any(call => call.Call.WantsFlags))
            c.AppendLine("    uint64_t flags = 0;");
        for (int index = 0; index < failure.Trace.Count; index++)
            AppendCall(c, failure.Trace[index], index, isLast: index == failure.Trace.Count - 1, violation);
        c.AppendLine("}");
        return c.ToString();
    }

    private static void AppendCall(StringBuilder c, CallRecord record, int index, bool isLast, Violation violation)
    {
        string name = $"r{index + 1}";
        string call = record.Call.ToC();
        if (record.Call.Function == ApiFunction.kfree)
            call = call.Replace("kfree(", "kfree((void *) ", StringComparison.Ordinal);
        c.AppendLine();
        c.AppendLine(isLast ? $"    /* step {record.Step}: {violation.Clause} is broken here */" : $"    /* step {record.Step} */");
        string? condition = isLast ? violation.Expected : Observed(record, name);
        if (record.End == CallEnd.Panicked && !isLast)
            c.AppendLine($"    /* the implementation panicked here ({record.Detail}), as the spec's strict profile expects: run it under your panic hook */");
        switch (record.Call.Returns)
        {
            case ReturnKind.Void:
                c.AppendLine($"    {call};");
                if (isLast && condition is not null)
                    c.AppendLine($"    /* expected: {condition} */");
                return;
            case ReturnKind.Status:
                c.AppendLine($"    int {name} = {call};");
                break;
            default:
                string cast = record.Call.Function == ApiFunction.kmalloc ? "(uintptr_t) " : "";
                c.AppendLine($"    uintptr_t {name} = {cast}{call};");
                break;
        }
        if (condition is null)
            c.AppendLine($"    (void) {name}; /* the violation is in the state after this call, not its result: {violation.Clause} */");
        else
            c.AppendLine($"    assert({ResultVariable().Replace(condition, name)});");
    }

    /// <summary>The recorded value as a C condition; null when the call did not return normally.</summary>
    private static string? Observed(CallRecord record, string name)
    {
        if (record.End != CallEnd.Returned || record.Call.Returns == ReturnKind.Void)
            return null;
        if (record.Call.Returns == ReturnKind.Status)
            return $"r == {(int)record.Outcome.Value}";
        string value = ApiCall.Hex(record.Outcome.Value);
        return record.Outcome.Flags is { } flags ? $"r == {value} && flags == ({ApiCall.FlagNames(flags)})" : $"r == {value}";
    }

    [GeneratedRegex(@"\br\b")]
    private static partial Regex ResultVariable();
}
