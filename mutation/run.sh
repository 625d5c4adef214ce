#!/usr/bin/env bash
# Mutation testing of reference/ with Stryker.NET: mutates Mmspec.Reference, runs the tests that exercise it
# (see the test-case filter in stryker-config.json), and fails when the mutation score is below the break
# threshold. Reports land in StrykerOutput/<date-time>/reports/ (ignored by git); surviving mutants that are
# equivalent are explained in mutation/survivors.md.
#
#   mutation/run.sh                 # the full run
#   mutation/run.sh --since:main    # only mutants in files changed since main
#
# Arguments are passed on to `dotnet stryker`. Works from any directory.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

dotnet tool restore >/dev/null  # dotnet-stryker, pinned in .config/dotnet-tools.json
# Stryker's progress bar needs a terminal of known width and crashes at the end of the run without one:
# when the output goes to a log or CI, report with dots instead (the HTML and JSON reports are the same).
reporters=()
[[ -t 1 ]] || reporters=(--reporter html --reporter json --reporter cleartext --reporter dots)
dotnet stryker --config-file stryker-config.json "${reporters[@]}" "$@"
