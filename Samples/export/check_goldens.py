"""Checks that every model in Models/manifest.json still matches its committed goldens.

For each entry: the files exist and `bytes` is their size; the ONNX file has the recorded node
and BatchNormalization counts, opset, input/output names; ONNX Runtime (CPU, one thread,
optimizations off: the settings that made the goldens) on input.npy reproduces output.npy
within max|diff| <= 1e-5 * max|golden|; and output.npy is within 1e-4 of the float64 PyTorch
reference output_f64.npy (float32 rounding through ~100 layers stays far below that).

Usage: python Samples/export/check_goldens.py [--models DIR]
Needs only onnx, onnxruntime, numpy (scripts/python-env.sh check): this runs in CI.
"""
import argparse
import collections
import json
import pathlib
import sys

import numpy as np
import onnx

from goldens_runtime import relative_error, run

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOLERANCE = 1e-5
TOLERANCE_F64 = 1e-4


def check(entry, models):
    """Returns (problems, error vs golden, error vs float64)."""
    problems = []
    path = models / entry["file"]
    proto = onnx.load(str(path), load_external_data=False)
    ops = collections.Counter(node.op_type for node in proto.graph.node)
    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    files = [path] + sorted({path.parent / d.value for t in proto.graph.initializer
                             for d in t.external_data if d.key == "location"})
    facts = {
        "nodes": len(proto.graph.node),
        "batchnorm_nodes": ops["BatchNormalization"],
        "opset": opset,
        "external_data": len(files) > 1,
        "bytes": sum(f.stat().st_size for f in files),
    }
    problems += [f"{key} is {value}, manifest says {entry[key]}" for key, value in facts.items() if entry[key] != value]
    initializers = {t.name for t in proto.graph.initializer}
    graph_inputs = [i.name for i in proto.graph.input if i.name not in initializers]
    if graph_inputs != [i["name"] for i in entry["inputs"]]:
        problems.append(f"graph inputs {graph_inputs} differ from the manifest")
    if [o.name for o in proto.graph.output] != [o["name"] for o in entry["outputs"]]:
        problems.append("graph outputs differ from the manifest")

    feeds = {}
    for spec in entry["inputs"]:
        array = np.load(models / spec["file"])
        if list(array.shape) != spec["shape"] or str(array.dtype) != spec["dtype"]:
            problems.append(f"{spec['file']}: {array.dtype}{list(array.shape)}, "
                            f"manifest says {spec['dtype']}{spec['shape']}")
        feeds[spec["name"]] = array
    worst = worst_f64 = 0.0
    for actual, spec in zip(run(path, feeds), entry["outputs"]):
        golden = np.load(models / spec["file"])
        if list(golden.shape) != spec["shape"] or actual.shape != golden.shape:
            problems.append(f"{spec['file']}: shape {list(golden.shape)}, runtime gives {list(actual.shape)}")
            continue
        worst = max(worst, relative_error(actual, golden))
        worst_f64 = max(worst_f64, relative_error(golden, np.load(models / spec["file_f64"])))
    if worst > TOLERANCE:
        problems.append(f"ONNX Runtime differs from output.npy by {worst:.2e} (> {TOLERANCE})")
    if worst_f64 > TOLERANCE_F64:
        problems.append(f"output.npy differs from output_f64.npy by {worst_f64:.2e} (> {TOLERANCE_F64})")
    return problems, worst, worst_f64


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=str(ROOT / "Models"), help="directory holding manifest.json")
    args = parser.parse_args()
    models = pathlib.Path(args.models)
    manifest = json.loads((models / "manifest.json").read_text())
    failed = 0
    print(f"{'model':<32}{'exporter':<12}{'opset':>5}{'nodes':>7}{'BN':>5}{'vs golden':>11}{'vs f64':>10}")
    for entry in manifest:
        try:
            problems, worst, worst_f64 = check(entry, models)
        except Exception as error:  # a missing or unreadable file is a failure of this entry
            problems, worst, worst_f64 = [f"{type(error).__name__}: {error}"], float("nan"), float("nan")
        print(f"{entry['id']:<32}{entry['exporter']:<12}{entry['opset']:>5}{entry['nodes']:>7}"
              f"{entry['batchnorm_nodes']:>5}{worst:>11.1e}{worst_f64:>10.1e}")
        for problem in problems:
            print(f"  FAIL {entry['id']}: {problem}")
        failed += bool(problems)
    print(f"goldens: {len(manifest) - failed} passed, {failed} failed")
    return 1 if failed or not manifest else 0


if __name__ == "__main__":
    sys.exit(main())
