#!/usr/bin/env bash
# Builds Benchmarks/gemm/gemm_vs_openblas.c against the package's GEMM kernel and runs it:
#   Benchmarks/gemm/run.sh [test|bench|all]      (default all; prints ours/OpenBLAS per shape)
# Needs libopenblas0 (scripts/install-deps.sh) and a C compiler (Swift's clang will do).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CC:-$(command -v clang || command -v cc || echo /opt/swift/usr/bin/clang)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$cc" -O3 -Wall -Wextra -I"$root/Sources/CKernels/include" "$root/Sources/CKernels/gemm.c" \
  "$root/Benchmarks/gemm/gemm_vs_openblas.c" -o "$out/gemm" -ldl -lm
OPENBLAS_NUM_THREADS=1 "$out/gemm" "${1:-all}"
