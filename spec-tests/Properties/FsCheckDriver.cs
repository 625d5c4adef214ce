using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;

namespace Mmspec.SpecTests.Properties;

/// <summary>
/// Runs one FsCheck property with a fixed seed and hands back the shrunk counterexample, instead of the
/// text FsCheck would print, so that front ends can report it their own way.
/// </summary>
public static class FsCheckDriver
{
    private const ulong Gamma = 0x9E3779B97F4A7C15;

    /// <summary>
    /// The minimal failing input (with how many shrinks succeeded), or default when the property held for every test.
    /// Once <paramref name="stop"/> is requested every further call fails at once without running, which ends the
    /// tests; the answer is then the last input that really failed (shrunk as far as it got), if any.
    /// </summary>
    public static (bool Failed, T? Counterexample, int Tests, int Shrinks) Run<T>(Arbitrary<T> inputs, Action<T> property, ulong seed, int maxTest,
                                                                                   CancellationToken stop = default)
    {
        var runner = new CapturingRunner();
        Config config = Config.Default
            .WithMaxTest(maxTest)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, Gamma), FSharpOption<int>.None)))
            .WithRunner(runner);
        (bool Seen, T? Input, int Shrinks) genuine = (false, default, 0);
        Check.One(config, Prop.ForAll(inputs, (T input) =>
        {
            stop.ThrowIfCancellationRequested();
            try
            {
                property(input);
            }
            catch when (!stop.IsCancellationRequested)
            {
                genuine = (true, input, genuine.Seen ? genuine.Shrinks + 1 : 0);
                throw;
            }
        }));
        return runner.Result switch
        {
            TestResult.Failed failed when stop.IsCancellationRequested => (genuine.Seen, genuine.Input, failed.Item1.NumberOfTests, genuine.Shrinks),
            TestResult.Failed failed => (true, (T)failed.Item3.Head, failed.Item1.NumberOfTests, failed.Item1.NumberOfShrinks),
            TestResult.Passed passed => (false, default, passed.Item1.NumberOfTests, 0),
            _ => throw new InvalidOperationException($"FsCheck ended without a verdict: {runner.Result}"),
        };
    }

    private sealed class CapturingRunner : IRunner
    {
        public TestResult? Result { get; private set; }

        public void OnStartFixture(Type t)
        {
        }

        public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every)
        {
        }

        public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink)
        {
        }

        public void OnFinished(string name, TestResult testResult) => Result = testResult;
    }
}
