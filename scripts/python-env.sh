#!/usr/bin/env bash
# Creates (when missing) the project's Python venv of one kind and prints its python.
#
#   scripts/python-env.sh [check|export]      (default: check)
#
#   check   .venv-check:  onnx, onnxruntime, numpy   (Samples/requirements-check.txt)
#   export  .venv-export: torch (CPU), torchvision, timm, onnx, onnxruntime, onnxscript, numpy
#                         (Samples/requirements-export.txt)
#
# The venv's python path is the LAST line of stdout; everything else goes to stderr, so
#   PY=$(scripts/python-env.sh check | tail -1)
# works. pip runs only when the requirements file (or the base python) changed since the last
# successful install: a stamp file named after their hash sits in the venv.
set -euo pipefail

kind=${1:-check}
case "$kind" in
  check | export) ;;
  *) echo "usage: $0 [check|export]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
requirements="$root/Samples/requirements-$kind.txt"
venv="$root/.venv-$kind"
python=${PYTHON:-python3}

command -v "$python" >/dev/null || { echo "error: $python not found (need Python 3.11)" >&2; exit 1; }

# Debian splits venv/ensurepip into python3-venv; install it the way scripts/install-deps.sh
# installs packages (root, or sudo) when it is missing.
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  echo "installing python3-venv" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-venv >&2
fi

hash=$({ cat "$requirements"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)
stamp="$venv/.installed-$hash"

# No stamp for these requirements (first run, requirements or base python changed, or an earlier
# install was interrupted): build the venv from scratch, so nothing stale survives. A venv whose
# python no longer starts (base python removed) is rebuilt too.
if [ ! -f "$stamp" ] || ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
  rm -rf "$venv"
  echo "creating $venv" >&2
  "$python" -m venv "$venv" >&2
  echo "installing $(basename "$requirements") into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
  touch "$stamp"
fi

echo "$venv/bin/python"
