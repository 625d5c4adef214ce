#!/usr/bin/env bash
# Runs the test suite once with Coverlet, measuring reference/ and models/ only, writes ReportGenerator's
# HTML report, Markdown summary and badges into coverage/report/, and fails when a test fails or when either
# module is below the thresholds (line and branch, each module on its own).
#
#   coverage/run.sh                    # Release build: what .ci/run does
#   coverage/run.sh --filter Category=Conformance   # what a subset covers (thresholds then fail)
#
# Arguments are passed on to `dotnet test`; without a configuration it builds Release, as CI does (a Debug
# build, `-c Debug`, runs the instrumented suite about five times slower). Works from any directory.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

line_min=95    # % of lines, per module
branch_min=90  # % of branches, per module
raw="$root/coverage/raw"        # Coverlet's output and the test log
report="$root/coverage/report"  # ReportGenerator's output
config=(--configuration Release)
for arg in "$@"; do
  case "$arg" in -c | -c=* | --configuration | --configuration=*) config=() ;; esac
done
rm -rf "$raw" "$report"
mkdir -p "$raw"
dotnet tool restore >/dev/null  # ReportGenerator, pinned in .config/dotnet-tools.json

# The README's test command plus Coverlet's properties. `%2c` is MSBuild's escaped comma: a bare comma
# would end the property. ThresholdStat=minimum checks every module (assembly) on its own, not the total.
status=0
dotnet test mmspec.sln "${config[@]}" "$@" \
  -p:CollectCoverage=true \
  -p:Include='[Mmspec.Reference]*%2c[Mmspec.Models]*' \
  -p:CoverletOutput="$raw/" \
  -p:CoverletOutputFormat='cobertura%2cjson' \
  -p:Threshold="$line_min%2c$branch_min" \
  -p:ThresholdType='line%2cbranch' \
  -p:ThresholdStat=minimum \
  -p:SingleHit=true \
  2>&1 | tee "$raw/test.log" || status=$?

if [[ -f "$raw/coverage.cobertura.xml" ]]; then
  dotnet reportgenerator \
    "-reports:$raw/coverage.cobertura.xml" \
    "-targetdir:$report" \
    "-reporttypes:Html;MarkdownSummaryGithub;Badges" \
    "-title:mmspec: reference/ and models/" \
    -verbosity:Warning
  # One line per module from Coverlet's Cobertura file (the same figures as its table above).
  echo
  grep -o '<package [^>]*>' "$raw/coverage.cobertura.xml" |
    sed -E 's/.*name="([^"]*)".*line-rate="([^"]*)".*branch-rate="([^"]*)".*/\1 \2 \3/' |
    awk -v l="$line_min" -v b="$branch_min" '{
      line = $2 * 100; branch = $3 * 100
      printf "%-17s line %6.2f %% (min %d)   branch %6.2f %% (min %d)   %s\n", $1, line, l, branch, b,
        (line >= l && branch >= b) ? "ok" : "BELOW THRESHOLD"
    }'
  echo "report: $report/index.html   summary: $report/SummaryGithub.md   badges: $report/badge_*.svg"
fi

if ((status != 0)); then
  if grep -q 'coverage is below the specified' "$raw/test.log"; then
    echo "coverage/run.sh: FAILED: coverage below the thresholds (line >= $line_min %, branch >= $branch_min %" \
      "in each of Mmspec.Reference and Mmspec.Models): see the module marked BELOW THRESHOLD above" \
      "and $report/index.html" >&2
  else
    echo "coverage/run.sh: FAILED: the build or a test failed (exit $status); see the output above" >&2
  fi
  exit "$status"
fi
echo "coverage/run.sh: OK: line >= $line_min % and branch >= $branch_min % in Mmspec.Reference and Mmspec.Models"
