using Mmspec.SpecTests.Sequences;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// Watches one run of a sequence (<see cref="SequenceRunner.Run"/>) and keeps a <see cref="StatePicture"/> of the state
/// where it failed. Where a check of the state failed, that state is what the picture shows. Where the implementation
/// panicked or crashed, its state is whatever the fault left (a crashed host has none), so the picture is the one taken
/// after the last step that passed every check: one is taken after each, which only the replay of a shrunk sequence pays for.
/// </summary>
public sealed class StatePictureRecorder
{
    private StatePicture? lastGood;
    private int checkingStep = -1; // the step whose calls all returned and whose state the audit is checking

    /// <summary>The picture at the run's violation; null when it passed, or failed before any state could be seen.</summary>
    public StatePicture? Picture { get; private set; }

    internal void SetUp(SequenceContext ctx) =>
        lastGood = StatePictureCapture.Take(ctx, "after setup, before the first step", 0, beforeFault: false);

    internal void Applied(SequenceContext ctx) => checkingStep = ctx.Step;

    internal void Passed(SequenceContext ctx, Operation step) =>
        lastGood = StatePictureCapture.Take(ctx, $"after step {ctx.Step} ({step})", ctx.Step, beforeFault: false);

    internal void Failed(SequenceContext ctx, IReadOnlyList<Operation> steps)
    {
        int step = ctx.Step;
        bool teardown = step > steps.Count;
        string named = step == 0 ? "setup" : teardown ? $"the teardown after the {steps.Count} step(s)" : $"step {step} ({steps[step - 1]})";
        CallRecord? last = ctx.Trace.Count > 0 ? ctx.Trace[^1] : null;
        if (checkingStep != step && last is { End: not CallEnd.Returned } fault && fault.Step == step)
        {
            string how = fault.End == CallEnd.Panicked ? "panicked" : "crashed";
            Picture = lastGood is null ? null : lastGood with
            {
                When = $"{lastGood.When}, the last good state: the implementation {how} in {fault.Call.Function}() during {named}",
                BeforeFault = true,
            };
            return;
        }
        string when = checkingStep == step
            ? $"after {named}, where the check of the state failed"
            : step == 0 || teardown
                ? $"during {named}, where the check failed"
                : $"during {named}, where a check the step makes itself failed (the model may not include the step yet)";
        Picture = StatePictureCapture.Take(ctx, when, step, beforeFault: false);
    }
}
