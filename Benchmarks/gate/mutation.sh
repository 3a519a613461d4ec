#!/usr/bin/env bash
# Mutation testing of the gate over every bundled model (docs/verify.md, "Mutation testing"):
# for each model, the correct fusion must pass `gate`'s check (f64, tolerance 1e-5, 4 samples) and
# every planted mutant must be caught. The gate tested is `gate --intermediates`: the values both
# graphs compute under the same name are compared too, so a defect the outputs damp below the
# tolerance is caught at its node. Writes the models × kinds table and the JSON records.
#   Benchmarks/gate/mutation.sh [TOOL] [OUT-DIR] [extra mutate-check options…]
# Defaults: .build/release/ghost-convert if built, else .build/debug/ghost-convert; OUT-DIR
# .build/mutation. Three mutants per kind and model (--per-kind 3), picker seed 0.
set -uo pipefail
cd "$(dirname "$0")/../.."
tool=${1:-}
if [ -z "$tool" ]; then
  tool=.build/release/ghost-convert
  [ -x "$tool" ] || tool=.build/debug/ghost-convert
fi
out=${2:-.build/mutation}
shift $(( $# > 2 ? 2 : $# ))
mkdir -p "$out"
start=$(date +%s)
"$tool" mutate-check Models/ --per-kind 3 --jobs "${JOBS:-2}" --markdown "$out/mutation.md" --json "$out/mutation.json" --intermediates "$@" \
  2>"$out/mutation.log"
status=$?
tail -1 "$out/mutation.log"
echo "mutation: exit $status in $(( $(date +%s) - start )) s ($tool; $(uptime | sed 's/.*load/load/')); table in $out/mutation.md"
exit $status
