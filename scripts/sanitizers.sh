#!/usr/bin/env bash
# Runs the Swift test suite under AddressSanitizer, then ThreadSanitizer (each in its own build
# directory: a sanitized build does not share objects with the ordinary one). Slow: a full build
# per sanitizer, so not part of scripts/test.sh. Built without the Jemalloc trait: a sanitizer's
# runtime replaces malloc itself.
#   scripts/sanitizers.sh [address|thread]...
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
export PATH="$PATH:/opt/swift/usr/bin" OPENBLAS_NUM_THREADS=1
for sanitizer in "${@:-address thread}"; do
  for name in $sanitizer; do
    echo "== swift test --sanitize=$name"
    ASAN_OPTIONS=detect_leaks=0 TSAN_OPTIONS=halt_on_error=1 \
      swift test --sanitize="$name" --scratch-path ".build-$name" --disable-default-traits
  done
done
