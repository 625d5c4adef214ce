namespace Mmspec.Bench;

/// <summary>
/// The bench program's command line; everything after <c>--</c> goes to BenchmarkDotNet unchanged. CommandStarted is
/// when bench/run.sh began (Unix seconds), so that the README can give the whole command's time, build included;
/// CheckSeconds are the times of `mmspec check` as bench/run.sh ran it (a process each, build excluded).
/// </summary>
public sealed record BenchOptions(
    string? ReadmePath,
    long? CommandStarted,
    string NativeLibrary,
    int NativeMaxTest,
    int Seeds,
    bool SkipBenchmarks,
    bool SkipSuite,
    string[] BenchmarkArgs,
    IReadOnlyList<double>? CheckSeconds = null,
    double? CheckSecondsOneJob = null)
{
    public const string DefaultNativeLibrary = "native/build/libsample.so";

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions(null, null, DefaultNativeLibrary, 100, 5, false, false, ["--filter", "*"]);
        for (int i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--readme" => options with { ReadmePath = Value(args, ref i) },
                "--command-started" => options with { CommandStarted = long.Parse(Value(args, ref i)) },
                "--native" => options with { NativeLibrary = Value(args, ref i) },
                "--native-max-test" => options with { NativeMaxTest = int.Parse(Value(args, ref i)) },
                "--seeds" => options with { Seeds = int.Parse(Value(args, ref i)) },
                "--skip-benchmarks" => options with { SkipBenchmarks = true },
                "--skip-suite" => options with { SkipSuite = true },
                "--check-seconds" => options with { CheckSeconds = [.. Value(args, ref i).Split(',').Select(double.Parse)] },
                "--check-seconds-one-job" => options with { CheckSecondsOneJob = double.Parse(Value(args, ref i)) },
                "--" => options with { BenchmarkArgs = args[(i + 1)..] },
                _ => throw new ArgumentException($"unknown option '{args[i]}'"),
            };
            if (args[i] == "--")
                break;
        }
        return options;
    }

    private static string Value(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value");
}
