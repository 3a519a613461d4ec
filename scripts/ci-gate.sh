#!/usr/bin/env bash
# The numerical-equivalence gate, as a user's CI would run it, on every bundled model:
#   fuse MODEL → .gwt and .onnx, then `verify MODEL FUSED --tolerance 1e-5` for each.
# Any exit other than 0 fails. Verification runs in float64 (--precision f64): that isolates the
# fusion's own error (rounding the folded weights to float32 once, ~1e-6 relative at worst here)
# from float32 evaluation noise, which in the deepest nets (ShuffleNetV2, 56 convolutions) reaches
# 1e-5 on its own even between two correct graphs (see docs/verify.md).
#   scripts/ci-gate.sh [TOOL]
set -euo pipefail
cd "$(dirname "$0")/.."
tool=${1:-.build/debug/ghost-convert}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
count=0
for model in Models/*/model.onnx; do
  id=$(basename "$(dirname "$model")")
  # Inputs with symbolic dimensions are fed the committed input; the rest get 4 random samples.
  inputs=(--samples 4 --seed 0)
  if "$tool" inspect "$model" --json | python3 -c 'import json,sys; g=json.load(sys.stdin)["graph"]; sys.exit(0 if all(d.isdigit() for i in g["inputs"] for d in (i["shape"] or ["?"])) else 1)'; then :; else
    inputs=(--input "Models/$id/input.npy")
  fi
  for format in gwt onnx; do
    fused="$scratch/$id.$format"
    # Each model's own logs, so a failure shows its own messages and never an earlier model's.
    fuse_log="$scratch/$id.$format.fuse.log"
    verify_log="$scratch/$id.$format.verify.log"
    count=$((count + 1))
    if ! "$tool" fuse "$model" "$fused" >"$fuse_log" 2>&1; then
      failures=$((failures + 1))
      echo "gate: $id ($format) FAILED: fuse exited non-zero"
      cat "$fuse_log"
    elif "$tool" verify "$model" "$fused" --tolerance 1e-5 --precision f64 "${inputs[@]}" 2>"$verify_log"; then
      echo "gate: $id ($format) $(head -1 "$verify_log" | sed 's/.*worst rel error \([^ ]*\).*/rel \1/')"
    else
      failures=$((failures + 1))
      echo "gate: $id ($format) FAILED: verify exited non-zero"
      cat "$verify_log"
    fi
  done
done
echo "gate: $((count - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
