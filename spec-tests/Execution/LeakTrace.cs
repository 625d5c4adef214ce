using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Sequences;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// A leak found at teardown says only that pages are missing, and blames the teardown phase that counted them.
/// Run again on the shrunk sequence with a count of free pages after every step, the pages are seen to go missing
/// at one step and never come back: that step's clause is the one the evidence shows. Transient shortfalls (a heap
/// caching pages for a while) do not count, only one that lasts to the teardown.
/// </summary>
public static class LeakTrace
{
    /// <summary><paramref name="found"/> traced to the step that lost the pages, or unchanged when the counts do not single one out.</summary>
    public static SequenceResult Attribute(IImplementationFactory factory, Profile profile, IReadOnlyList<Operation> steps, ulong ramSize, SequenceResult found)
    {
        if (!found.LeakAtTeardown)
            return found;
        SequenceResult counted = SequenceRunner.Run(factory, profile, steps, ramSize, countFreePages: true);
        // Counting drains and refills the allocator after every step, which may change what it hands out next:
        // only a run that ends in the same leak is evidence about that leak.
        if (!counted.LeakAtTeardown || counted.FreeCounts is not { Count: > 0 } counts)
            return found;
        int allowance = SequenceRunner.LeakAllowance(profile);
        int first = counts.Count;
        while (first > 0 && counts[first - 1].Free < counts[first - 1].Expected - allowance)
            first--;
        if (first == counts.Count)
            return found;
        FreeCount lost = counts[first];
        Violation atTeardown = counted.Violation!;
        List<CallRecord> trace = counted.Trace.Where(call => call.Step <= lost.Step).ToList();
        // The reproducer repeats the suite's counts up to that step (they are part of the run that showed the leak), then counts once more.
        List<SuiteAction> actions = (atTeardown.Actions ?? []).Where(action => action.Step <= lost.Step && action.AfterCall <= trace.Count)
            .Where(action => !(action is FreePagesCounted && action.Step == lost.Step)).ToList();
        var violation = new Violation(lost.Operation.Clause,
            $"after step {lost.Step} ({lost.Operation}), only {lost.Free} pages could be allocated; {lost.Expected} should be free: "
            + $"{lost.Expected - lost.Free} page(s) missing from then on (traced from the teardown, which found: {atTeardown.Message})", lost.Step,
            State: [new FreePagesCheck($"step {lost.Step}", lost.Held, allowance, AtMost: false)], Actions: actions);
        return counted with { Violation = violation, Trace = trace };
    }
}
