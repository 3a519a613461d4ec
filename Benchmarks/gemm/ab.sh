#!/usr/bin/env bash
# Before/after per GEMM shape (gemm_ab.c): the float32 kernel at git revision REV against the
# working tree's, in one process, interleaved, thread CPU time.
#   Benchmarks/gemm/ab.sh REV shapes.txt…   e.g.  Benchmarks/gemm/ab.sh 2b5d1b5 Benchmarks/gemm/shapes/*.txt
# Shape files: "m k n count" lines, from conv_shapes.py (shapes/ holds the seed nets at 224² and the
# segmenters at 512²).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CC:-$(command -v clang || command -v cc || echo /opt/swift/usr/bin/clang)}
rev=$1
shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
git -C "$root" show "$rev:Sources/CKernels/gemm.c" > "$out/base_gemm.c"
git -C "$root" show "$rev:Sources/CKernels/include/ghost_gemm.h" > "$out/ghost_gemm.h"
if git -C "$root" cat-file -e "$rev:Sources/CKernels/gemm_isa.h" 2>/dev/null; then
  git -C "$root" show "$rev:Sources/CKernels/gemm_isa.h" > "$out/gemm_isa.h"
fi
rename=()
for s in gk_gemm_packed_count gk_gemm_pack_a gk_gemm_packed gk_gemm_force_isa gk_gemm_best_isa \
         gk_gemm_isa_in_effect gk_gemm_available; do rename+=("-D$s=base_$s"); done
"$cc" -O3 -I"$out" "${rename[@]}" -c "$out/base_gemm.c" -o "$out/base.o"
"$cc" -O3 -I"$root/Sources/CKernels/include" -I"$root/Sources/CKernels" -c "$root/Sources/CKernels/gemm.c" -o "$out/new.o"
"$cc" -O3 -Wall -Wextra -I"$root/Sources/CKernels/include" "$root/Benchmarks/gemm/gemm_ab.c" "$out/base.o" "$out/new.o" -o "$out/ab"
uptime
status=0
for shapes in "$@"; do
  echo "== $shapes"
  "$out/ab" "$shapes" || status=1
done
uptime
exit $status
