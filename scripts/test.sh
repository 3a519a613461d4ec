#!/usr/bin/env bash
# The project's test command (README): installs what it needs, builds, runs every test.
#   1. Debian packages (scripts/install-deps.sh)
#   2. swift build + swift test (Swift tests read only committed files, plus ONNX's operator
#      test cases generated from the onnx wheel into .build/onnx-node-tests)
#   3. ONNX Runtime checks in a small Python venv (onnx, onnxruntime, numpy): the committed
#      goldens still match, rewritten files run identically, fused files match the goldens, the
#      numpy-only .gwt reader agrees with the Swift writer
#   4. the equivalence gate (scripts/ci-gate.sh): fuse + verify every bundled model
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
export PATH="$PATH:/opt/swift/usr/bin"
# Deterministic, single-threaded BLAS for reproducible numbers.
export OPENBLAS_NUM_THREADS=1

echo "== Python venv (onnx, onnxruntime, numpy) and ONNX's own operator test cases"
PY=$(scripts/python-env.sh check | tail -1)
mkdir -p .build
"$PY" scripts/onnx-node-tests.py .build/onnx-node-tests
export GHOST_ONNX_NODE_TESTS="$PWD/.build/onnx-node-tests"

echo "== swift build"
swift build
echo "== swift test"
swift test

echo "== Samples/swift: the library API a Swift user sees"
swift build --package-path Samples/swift
Samples/swift/.build/debug/FuseAndRun Models/repghostnet_050/model.onnx "$(mktemp -d)/fused.gwt"

echo "== ONNX Runtime checks"
"$PY" Samples/export/check_goldens.py
"$PY" Samples/checks/roundtrip_ort.py --tool .build/debug/ghost-convert
"$PY" Samples/checks/fused_ort.py --tool .build/debug/ghost-convert
"$PY" Samples/python/check_gwt_reader.py --tool .build/debug/ghost-convert

echo "== CI gate: fuse every model to .gwt and .onnx, verify each at 1e-5"
scripts/ci-gate.sh .build/debug/ghost-convert
echo "== all tests passed"
