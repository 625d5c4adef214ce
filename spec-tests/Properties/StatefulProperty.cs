using FsCheck;
using FsCheck.Fluent;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Reproducers;
using Mmspec.SpecTests.Sequences;

namespace Mmspec.SpecTests.Properties;

/// <summary>
/// Random sequences of calls drawn from a mix of step generators, each run on a fresh machine against the
/// model and the MMU (see <see cref="SequenceRunner"/>), shrunk to a minimal sequence on failure.
/// </summary>
public sealed class StatefulProperty(string id, string title, IReadOnlyList<(int Weight, StepKind Kind)> mix, int maxSteps, IReadOnlyList<string> clauses,
    Profile minimumProfile = Profile.Default) : ISpecProperty
{
    public string Id { get; } = id;

    public string Title { get; } = title;

    public IReadOnlyList<string> Clauses { get; } = clauses;

    public Profile MinimumProfile { get; } = minimumProfile;

    public PropertyResult Check(IImplementationFactory implementation, RunSettings settings) =>
        FailureSearch.Run(Id, settings, masked => Search(implementation, settings, masked));

    /// <summary>One search: random sequences until one breaks a clause not in <paramref name="masked"/>, shrunk.</summary>
    private SearchRound Search(IImplementationFactory implementation, RunSettings settings, IReadOnlySet<string> masked)
    {
        long steps = 0;
        Arbitrary<SequenceRam> sequences = Arb.From(SequenceRam.Generator(Swarm.Generator(kinds), swarm => OperationGenerators.Sequence(Steps(swarm), maxSteps)), SequenceRam.Shrink);
        SequenceResult? lastFailure = null; // the minimal sequence's own run: FsCheck's last failing call
        (bool failed, SequenceRam? minimal, int tests, int shrinks) = FsCheckDriver.Run(sequences, sequence =>
        {
            SequenceResult result = SequenceRunner.Run(implementation, settings.Profile, sequence.Steps, sequence.RamSize(settings), audit: settings.Audit);
            steps += result.StepsApplied;
            if (result.Passed || masked.Contains(result.Violation!.Clause))
                return;
            lastFailure = result;
            throw new ViolationException(result.Violation!);
        }, settings.Seed, settings.MaxTest, settings.Stop);
        if (!failed)
            return new SearchRound(null, tests, steps);
        ulong ram = minimal!.RamSize(settings);
        var recorder = new StatePictureRecorder();
        SequenceResult replay = SequenceRunner.Run(implementation, settings.Profile, minimal.Steps, ram, picture: recorder, audit: settings.Audit);
        StatePicture? picture = recorder.Picture;
        if (replay.Passed || masked.Contains(replay.Violation!.Clause))
        {
            picture = null; // a picture of some other outcome would mislead
            // Never thrown away: the run that failed is the evidence, marked as one that a replay did not repeat
            // (a nondeterministic implementation, or interference from outside such as a killed host).
            Violation seen = lastFailure!.Violation!;
            replay = lastFailure with { Violation = seen with { Message = $"{seen.Message} (did not reproduce on replay: the same sequence then {Ended(replay)})" } };
        }
        SequenceResult traced = LeakTrace.Attribute(implementation, settings.Profile, minimal.Steps, ram, replay);
        if (!masked.Contains(traced.Violation!.Clause))
            replay = traced;
        var failure = new Failure(settings.Seed, replay.Violation!, minimal.Steps.Select(op => op.ToString()).ToList(), replay.Trace, shrinks, ReplayOf(minimal.Steps, ram), ram)
        {
            Configuration = minimal.Swarm.UsedBy(minimal.Steps, kinds).ToString(),
            Picture = picture,
        };
        return new SearchRound(failure, tests, steps);
    }

    private readonly IReadOnlyList<StepKind> kinds = mix.Select(entry => entry.Kind).ToList();

    /// <summary>The steps a sequence of this swarm configuration draws: the property's mix, less the kinds the configuration leaves out.</summary>
    private Gen<Operation> Steps(Swarm swarm) =>
        Gen.Frequency(mix.Where(entry => swarm.Kinds.Contains(entry.Kind.Name)).Select(entry => (entry.Weight, entry.Kind.Generator(swarm))).ToArray());

    private static string Ended(SequenceResult replay) => replay.Passed ? "passed" : $"broke {replay.Violation!.Clause} first";

    private static ReplayRecipe ReplayOf(IReadOnlyList<Operation> sequence, ulong ramSize)
    {
        string steps = string.Join(",\n", sequence.Select(step => "    " + CSharpLiteral.Of(step)));
        return new ReplayRecipe($"SequenceRunner.Run(factory, profile,\n[\n{steps},\n], ramSize: {CSharpLiteral.Of(ramSize)}).Violation", DrainsFreePages: true);
    }
}
