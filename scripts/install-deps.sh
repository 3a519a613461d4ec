#!/usr/bin/env bash
# Installs the Debian packages ghost-convert builds against, when any is missing:
#   libprotobuf-c-dev (ONNX parsing), protobuf-c-compiler (scripts/regenerate-proto.sh),
#   libopenblas-dev (interpreter GEMM), zlib1g-dev (checksums), libssl-dev (SHA-256), pkg-config (finding them),
#   libjemalloc-dev (the allocator linked into ghost-convert: Package.swift's Jemalloc trait).
set -euo pipefail
packages=(libprotobuf-c-dev protobuf-c-compiler libopenblas-dev zlib1g-dev libssl-dev pkg-config libjemalloc-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || export PATH="$PATH:/opt/swift/usr/bin"
