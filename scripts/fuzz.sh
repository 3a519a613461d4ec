#!/usr/bin/env bash
# Fuzzes a file reader, or the interpreter's attribute space, with libFuzzer + AddressSanitizer.
#   scripts/fuzz.sh onnx|gwt|gwt-unchecked|npy|attributes [SECONDS=60]
# gwt-unchecked reads .gwt with checksum verification off, so mutations reach the rules behind it.
# attributes: the bytes choose a one-node graph (Conv, pooling, Resize, Pad, Slice, Gather, TopK,
# Einsum, GridSample, … see Sources/ghost-fuzz/AttributeTemplates.swift) and push its attributes
# and constant inputs to extremes; the interpreter must answer or throw a typed error. A single
# allocation above 4 GB (-malloc_limit_mb) counts as a crash: no tensor a 5×5 input leads to
# legitimately needs that much.
# Seeds: Models/, Tests/Fixtures (valid and malformed files). New interesting inputs go to
# Fuzz/corpus-TARGET (not committed); crashes go to Fuzz/crashes-TARGET and must be committed as
# regression cases under Tests/Fixtures/fuzz-regressions/TARGET/ once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh onnx|gwt|gwt-unchecked|npy|attributes [seconds]}
seconds=${2:-60}
source scripts/install-deps.sh
export PATH="$PATH:/opt/swift/usr/bin"

# Coverage-instrumented with AddressSanitizer, linked against libFuzzer without its main():
# SwiftPM gives the executable its own entry point, which hands control to LLVMFuzzerRunDriver.
runtime=$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/clang/lib/linux
swift build --product ghost-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DGHOST_FUZZING -Xswiftc -use-ld=lld \
  -Xcc -fsanitize=fuzzer-no-link,address >&2

seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
case "$target" in
  onnx)
    find Models Tests/Fixtures/malformed-onnx Tests/Fixtures/blocks Tests/Fixtures/hostile -name '*.onnx' -size -4M -exec cp {} "$seeds/" \; 2>/dev/null || true ;;
  gwt | gwt-unchecked)
    # Seed with .gwt files the writer produces from the bundled blocks.
    swift build --product ghost-convert >&2
    for model in Tests/Fixtures/blocks/*/model.onnx; do
      .build/debug/ghost-convert fuse "$model" "$seeds/$(basename "$(dirname "$model")").gwt" 2>/dev/null
    done
    # The hostile models (huge pads, strides, groups, axes) are valid files fuse accepts.
    for model in Tests/Fixtures/hostile/*.onnx; do
      .build/debug/ghost-convert fuse "$model" "$seeds/hostile-$(basename "$model" .onnx).gwt" 2>/dev/null || true
    done ;;
  npy)
    # Valid arrays of every supported dtype (the goldens) and the malformed corpus.
    find Models -name '*.npy' -size -1M -exec cp {} "$seeds/" \; 2>/dev/null || true
    cp Tests/Fixtures/malformed-npy/*.npy Tests/Fixtures/hostile/*.npy "$seeds/" ;;
  attributes)
    # One seed per template: a first byte n (and nothing else) is template n with valid values.
    for n in $(seq 0 63); do printf "\\x$(printf %02x "$n")" > "$seeds/template-$n.bin"; done ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
[ "$target" = gwt-unchecked ] && cp Tests/Fixtures/malformed-gwt/*.gwt "$seeds/"
[ -d "Tests/Fixtures/fuzz-regressions/$target" ] && cp "Tests/Fixtures/fuzz-regressions/$target"/* "$seeds/" 2>/dev/null || true

mkdir -p "Fuzz/corpus-$target" "Fuzz/crashes-$target"
GHOST_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0 .build-fuzz/debug/ghost-fuzz \
  "Fuzz/corpus-$target" "$seeds" \
  -max_total_time="$seconds" -max_len="$([ "$target" = attributes ] && echo 512 || echo 262144)" -timeout=10 \
  -rss_limit_mb=4096 -malloc_limit_mb=4096 -seed="${GHOST_FUZZ_SEED:-0}" \
  -artifact_prefix="Fuzz/crashes-$target/" -print_final_stats=1
