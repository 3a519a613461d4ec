#!/usr/bin/env bash
# The main job on a bundled model: fuse a RepGhostNet exported in training form into a deployable
# .gwt, then prove the fused model computes the same function.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
export PATH="$PATH:/opt/swift/usr/bin"
swift build -c release --product ghost-convert >&2
tool=.build/release/ghost-convert
model=${1:-Models/repghostnet_100/model.onnx}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "\$ ghost-convert fuse $model repghostnet.gwt --explain"
"$tool" fuse "$model" "$out/repghostnet.gwt" --explain 2>&1
echo
echo "\$ ghost-convert verify $model repghostnet.gwt --tolerance 1e-5"
"$tool" verify "$model" "$out/repghostnet.gwt" --tolerance 1e-5 2>&1
echo
echo "\$ ghost-convert inspect repghostnet.gwt"
"$tool" inspect "$out/repghostnet.gwt"
