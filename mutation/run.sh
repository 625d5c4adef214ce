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
dotnet stryker --config-file stryker-config.json "$@"
