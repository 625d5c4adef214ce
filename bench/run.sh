#!/usr/bin/env bash
# The benchmark command (issue #7): builds the native sample if it can, runs the BenchmarkDotNet short runs and the
# suite measurements in a Release build, and rewrites bench/README.md with the results, the date and the machine.
# Extra arguments go to the bench program, e.g. `bench/run.sh -- --filter '*VmFind*'` for BenchmarkDotNet.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
if ! make -C native build/libsample.so build/mmspec-host >/dev/null 2>&1; then
    echo "bench: make -C native failed; the native sample's throughput will read 'not built'" >&2
fi
dotnet run -c Release --project bench -- --readme bench/README.md --command-started "$start" "$@"
echo "bench: done in $(($(date +%s) - start)) s, build included; results in bench/README.md" >&2
