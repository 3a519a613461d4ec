#!/usr/bin/env bash
# Wall time of checking every bundled model (Models/) three ways, on the same machine:
#   1. ghost-convert gate Models/ --jobs 2           (one command; fuse + verify in worker processes)
#   2. the shell loop: ghost-convert fuse, then ghost-convert verify, per model, one after another
#   3. Polygraphy's two-run comparison per (original, fused .onnx) pair:
#        polygraphy run ORIGINAL --onnxrt --save-inputs i.json --save-outputs o.json
#        polygraphy run FUSED    --onnxrt --load-inputs i.json --load-outputs o.json
# Goals (issue 15): gate ≥ 20× faster than the Polygraphy flow, ≥ 1.5× faster than the shell loop
# on 2 cores.
#
#   Benchmarks/gate/run.sh [TOOL]          (default .build/release/ghost-convert)
#
# Polygraphy (pinned in requirements.txt) goes into .venv-bench-gate, made on first use from PyPI;
# it is a benchmark dependency only, never CI's.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tool=${1:-$root/.build/release/ghost-convert}
[ -x "$tool" ] || { echo "error: $tool not found; build it: swift build -c release --product ghost-convert" >&2; exit 1; }
venv="$root/.venv-bench-gate"
requirements="$root/Benchmarks/gate/requirements.txt"
stamp="$venv/.installed-$(sha256sum "$requirements" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  touch "$stamp"
fi
exec "$venv/bin/python" "$root/Benchmarks/gate/compare.py" --tool "$tool" --models "$root/Models" "${@:2}"
