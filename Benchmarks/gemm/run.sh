#!/usr/bin/env bash
# Builds the GEMM benchmarks against the package's kernels and runs them:
#   Benchmarks/gemm/run.sh [test|bench|all] [f32|f64|both]   (default: all both)
# f32: gemm_vs_openblas.c, ours/OpenBLAS sgemm per shape; f64: gemm_f64_vs_openblas.c, ours vs
# OpenBLAS dgemm and vs our float32 kernel per shape (the f64/f32 column). Needs libopenblas0
# (scripts/install-deps.sh) and a C compiler (Swift's clang will do).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CC:-$(command -v clang || command -v cc || echo /opt/swift/usr/bin/clang)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mode=${1:-all}
which=${2:-both}
kernels=("$root/Sources/CKernels/gemm.c" "$root/Sources/CKernels/gemm_f64.c")
status=0
if [[ $which == f32 || $which == both ]]; then
  "$cc" -O3 -Wall -Wextra -I"$root/Sources/CKernels/include" "${kernels[@]}" \
    "$root/Benchmarks/gemm/gemm_vs_openblas.c" -o "$out/gemm" -ldl -lm
  OPENBLAS_NUM_THREADS=1 "$out/gemm" "$mode" || status=1
fi
if [[ $which == f64 || $which == both ]]; then
  "$cc" -O3 -Wall -Wextra -I"$root/Sources/CKernels/include" "${kernels[@]}" \
    "$root/Benchmarks/gemm/gemm_f64_vs_openblas.c" -o "$out/gemm64" -ldl -lm
  OPENBLAS_NUM_THREADS=1 "$out/gemm64" "$mode" || status=1
fi
exit $status
