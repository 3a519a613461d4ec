"""ONNX Runtime check of `ghost-convert fuse` on every bundled model.

For each model in Models/manifest.json:
  - `ghost-convert fuse MODEL fused.onnx --report r.json` succeeds and onnx.checker accepts the output;
  - ONNX Runtime on the fused file matches the committed golden (output.npy, made by ONNX Runtime on
    the original) within max|Δ| / max|golden| <= 1e-5 (any NaN or
    infinity the golden does not have fails: compare.py);
  - no BatchNormalization remains (every one in these nets follows a Conv or sits on a branch that
    merges), and the fused graph has no more nodes than the original;
  - for RepGhostNet in training form, the fused Conv count equals that of the same network
    reparameterized in PyTorch and exported (Models/repghostnet_100_deploy), and no Add is left
    inside a RepGhost block (every remaining Add is a residual shortcut).

Usage: python Samples/checks/fused_ort.py --tool .build/debug/ghost-convert
Needs: onnx, onnxruntime, numpy (scripts/python-env.sh check).
"""
import argparse
import collections
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx

from compare import relative_error
from ort_reference import run

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOLERANCE = 1e-5


def op_counts(path):
    model = onnx.load(str(path), load_external_data=False)
    return collections.Counter(node.op_type for node in model.graph.node), len(model.graph.node)


def check_blocks(tool):
    """The hand-sized blocks of Tests/Fixtures/blocks: expected op counts and ORT numerics."""
    directory = ROOT / "Tests" / "Fixtures" / "blocks"
    failures = []
    with tempfile.TemporaryDirectory() as scratch:
        for block in json.loads((directory / "manifest.json").read_text())["blocks"]:
            target = pathlib.Path(scratch) / f"{block['id']}.onnx"
            subprocess.run([tool, "fuse", str(directory / block["file"]), str(target)], check=True, stderr=subprocess.DEVNULL)
            onnx.checker.check_model(str(target))
            golden = np.load(directory / block["output"])
            output = run(target, {"x": np.load(directory / block["input"])})[0]
            error = relative_error(output, golden)
            counts, _ = op_counts(target)
            wrong = {op: counts[op] for op, count in block["expect_fused"].items() if counts[op] != count}
            print(f"{block['id']:<34}{'ops ok' if not wrong else 'ops ' + str(wrong):>24}{error:>11.2e}")
            if wrong:
                failures.append(f"{block['id']}: fused op counts {wrong}, expected {block['expect_fused']}")
            if error > TOLERANCE:
                failures.append(f"{block['id']}: fused output differs from the golden by {error:.3e}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True)
    args = parser.parse_args()
    manifest = json.loads((ROOT / "Models" / "manifest.json").read_text())
    by_id = {entry["id"]: entry for entry in manifest}
    failures = []
    fused_histograms = {}
    print(f"{'model':<34}{'nodes':>13}{'BN':>9}{'Conv':>11}{'rel err':>11}")
    with tempfile.TemporaryDirectory() as scratch:
        for entry in manifest:
            source = ROOT / "Models" / entry["file"]
            target = pathlib.Path(scratch) / f"{entry['id']}.onnx"
            subprocess.run([args.tool, "fuse", str(source), str(target)], check=True, stderr=subprocess.DEVNULL)
            onnx.checker.check_model(str(target))
            feeds = {i["name"]: np.load(ROOT / "Models" / i["file"]) for i in entry["inputs"]}
            outputs = run(target, feeds)
            worst = 0.0 if len(outputs) == len(entry["outputs"]) else float("inf")
            for output, spec in zip(outputs, entry["outputs"]):
                golden = np.load(ROOT / "Models" / spec["file"])
                worst = max(worst, relative_error(output, golden))
            before, nodes_before = op_counts(source)
            after, nodes_after = op_counts(target)
            fused_histograms[entry["id"]] = after
            print(f"{entry['id']:<34}{nodes_before:>6} → {nodes_after:<5}{before['BatchNormalization']:>4} → {after['BatchNormalization']:<3}"
                  f"{before['Conv']:>4} → {after['Conv']:<4}{worst:>10.2e}")
            if worst > TOLERANCE:
                failures.append(f"{entry['id']}: fused output differs from the golden by {worst:.3e} (> {TOLERANCE})")
            if after["BatchNormalization"]:
                failures.append(f"{entry['id']}: {after['BatchNormalization']} BatchNormalization nodes remain")
            if nodes_after > nodes_before:
                failures.append(f"{entry['id']}: fusing grew the graph from {nodes_before} to {nodes_after} nodes")
    # RepGhostNet 1.0 in training form against the same weights reparameterized in PyTorch.
    if "repghostnet_100" in by_id and "repghostnet_100_deploy" in by_id:
        ours, theirs = fused_histograms["repghostnet_100"], fused_histograms["repghostnet_100_deploy"]
        print(f"repghostnet_100 fused: {dict(sorted(ours.items()))}; PyTorch-reparameterized export, fused: {dict(sorted(theirs.items()))}")
        if ours != theirs:
            failures.append("repghostnet_100: fused op counts differ from the PyTorch-reparameterized export's")
    failures += check_blocks(args.tool)
    for failure in failures:
        print("FAIL:", failure)
    print(f"fused: {len(manifest) - len({f.split(':')[0] for f in failures})} passed, {len({f.split(':')[0] for f in failures})} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
