#!/usr/bin/env bash
# Regenerates the protobuf-c code for our ONNX schema subset.
#   Input:  Sources/CONNXProto/proto/onnx-subset.proto
#   Output: Sources/CONNXProto/onnx-subset.pb-c.c, Sources/CONNXProto/include/onnx-subset.pb-c.h
# Needs protoc-c (Debian package protobuf-c-compiler). The output is committed so that building
# the package never needs the compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc-c >/dev/null || { echo "protoc-c not found: apt-get install protobuf-c-compiler" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
protoc-c --proto_path=Sources/CONNXProto/proto --c_out="$out" onnx-subset.proto
# The generated .c includes its header by the proto's name; SwiftPM wants public headers in include/.
mv "$out/onnx-subset.pb-c.h" Sources/CONNXProto/include/onnx-subset.pb-c.h
sed 's|#include "onnx-subset.pb-c.h"|#include "include/onnx-subset.pb-c.h"|' "$out/onnx-subset.pb-c.c" \
  > Sources/CONNXProto/onnx-subset.pb-c.c
echo "regenerated with $(protoc-c --version | head -1)"
