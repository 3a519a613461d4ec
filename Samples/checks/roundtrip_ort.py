"""ONNX Runtime check of ghost-convert's ONNX writer.

For every model in Models/manifest.json: `ghost-convert convert` rewrites it (inline, and with
external data), `onnx.checker` accepts the rewritten file, and ONNX Runtime's outputs on the
committed input are bit-for-bit identical to its outputs on the original file.

Usage: python Samples/checks/roundtrip_ort.py --tool .build/debug/ghost-convert
Needs: onnx, onnxruntime, numpy (scripts/python-env.sh check).
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx

from ort_reference import run

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True, help="path to the ghost-convert executable")
    args = parser.parse_args()
    manifest = json.loads((ROOT / "Models" / "manifest.json").read_text())
    failures = 0
    checked = 0
    with tempfile.TemporaryDirectory() as scratch:
        for entry in manifest:
            source = ROOT / "Models" / entry["file"]
            feeds = {i["name"]: np.load(ROOT / "Models" / i["file"]) for i in entry["inputs"]}
            expected = run(source, feeds)
            for mode in ("never", "always"):
                target = pathlib.Path(scratch) / f"{entry['id']}-{mode}.onnx"
                subprocess.run([args.tool, "convert", str(source), str(target), "--external-data", mode], check=True)
                onnx.checker.check_model(str(target))
                actual = run(target, feeds)
                same = len(actual) == len(expected) and all(np.array_equal(a, e) for a, e in zip(actual, expected))
                checked += 1
                if not same:
                    failures += 1
                    print(f"DIFFERENT: {entry['id']} ({mode} external data)")
    print(f"roundtrip: {checked - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
