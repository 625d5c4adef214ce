#!/usr/bin/env bash
# Measures the native zoo as `mmspec check` sees it (native/FIELD-BUGS.md): every member at the default seed (or the
# seeds given with SEEDS="1 2 3"), one Markdown row per run: which properties failed, with which clauses, the first
# failing property's own time, and the whole check's time. The CLI is given, so that two builds (before and after a
# generator change) can be measured in one session on the same machine:
#   bench/field-bugs.sh cli/bin/Release/net10.0/mmspec.dll [member ...]     (members: default all libsample-*.so)
set -euo pipefail
cd "$(dirname "$0")/.."
cli=$1; shift
make -C native >/dev/null
members=("$@")
if [ ${#members[@]} -eq 0 ]; then
    for lib in native/build/libsample-*.so; do members+=("$(basename "$lib" .so | sed 's/^libsample-//')"); done
fi
echo "| member | seed | failing properties [clauses] | first failure's property time | whole check |"
echo "| --- | --- | --- | ---: | ---: |"
for member in "${members[@]}"; do
    for seed in ${SEEDS:-default}; do
        args=(check --impl "native:native/build/libsample-$member.so")
        [ "$seed" != default ] && args+=(--seed "$seed")
        out=$(timeout 600 dotnet "$cli" "${args[@]}" 2>&1 || true)
        failed=$(grep -oE '^\[[0-9]+/[0-9]+\] [a-z.]+: fail \[[^]]*\]' <<<"$out" | sed -E 's/^\[[0-9]+\/[0-9]+\] //; s/: fail / /' | paste -sd ';' - || true)
        first=$(grep -E '^\[[0-9]+/[0-9]+\] [a-z.]+: fail' <<<"$out" | head -1 | grep -oE 'in [0-9.]+ s \(' | grep -oE '[0-9.]+' || true)
        total=$(grep -oE '^properties: .* in [0-9.]+ s' <<<"$out" | grep -oE '[0-9.]+ s$' || echo "timed out")
        echo "| $member | $seed | ${failed:-none (passed)} | ${first:+$first s} | $total |"
    done
done
