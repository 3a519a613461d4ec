"""CI check: the plain-Python .gwt reader agrees with the Swift writer on every bundled model.

For each model in Models/manifest.json: fuse it to .gwt with ghost-convert, read it with
gwt_reader.py, export the same .gwt to ONNX with `ghost-convert convert`, and require the node
list (names, op types, inputs, outputs) and every weight to be identical between the two.

Usage: python Samples/python/check_gwt_reader.py --tool .build/debug/ghost-convert
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from gwt_reader import read_gwt  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True)
    args = parser.parse_args()
    manifest = json.loads((ROOT / "Models" / "manifest.json").read_text())
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        for entry in manifest:
            gwt = pathlib.Path(scratch) / f"{entry['id']}.gwt"
            exported = pathlib.Path(scratch) / f"{entry['id']}.onnx"
            subprocess.run([args.tool, "fuse", str(ROOT / "Models" / entry["file"]), str(gwt)], check=True, stderr=subprocess.DEVNULL)
            subprocess.run([args.tool, "convert", str(gwt), str(exported)], check=True)
            model = read_gwt(gwt)
            reference = onnx.load(str(exported))
            problems = []
            ours = [(n["name"], n["op_type"], list(n["inputs"]), list(n["outputs"])) for n in model.graph["nodes"]]
            theirs = [(n.name, n.op_type, list(n.input), list(n.output)) for n in reference.graph.node]
            if ours != theirs:
                problems.append("node lists differ")
            onnx_weights = {t.name: numpy_helper.to_array(t) for t in reference.graph.initializer}
            if set(onnx_weights) != set(model.weights):
                problems.append("initializer names differ")
            for name, array in model.weights.items():
                other = onnx_weights.get(name)
                if other is None or other.dtype != array.dtype or other.shape != array.shape or not np.array_equal(other, array):
                    problems.append(f"weight {name} differs")
                    break
            if model.metadata["source_file"] != pathlib.Path(entry["file"]).name:
                problems.append("metadata source_file is wrong")
            failures += bool(problems)
            status = "ok" if not problems else "; ".join(problems)
            print(f"{entry['id']:<36} {len(ours):>4} nodes {len(model.weights):>4} weights  {status}")
    print(f"gwt_reader: {len(manifest) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
