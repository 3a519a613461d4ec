#!/usr/bin/env bash
# The main job on a bundled model. Today: build, then describe a RepGhostNet export in training
# form (its BatchNormalization identity branches are what `fuse` will merge).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
export PATH="$PATH:/opt/swift/usr/bin"
swift build -c release --product ghost-convert >&2
tool=.build/release/ghost-convert
model=${1:-Models/repghostnet_100/model.onnx}
echo "\$ ghost-convert inspect $model"
"$tool" inspect "$model"
