"""Fusing never makes a graph worse: node count and ONNX Runtime latency, before and after.

For every model in Models/manifest.json: `ghost-convert fuse` to ONNX, then both files run in
ONNX Runtime (CPU, intra_op_num_threads=1, ORT_ENABLE_ALL — what a deployment would use) in the
same process, interleaved, and the median of --runs timings of each is reported with the ratio.
Exits 1 if any fused graph has more nodes, or is slower beyond --slack (timing noise).

Usage: python Benchmarks/fuse/ort_latency.py --tool .build/release/ghost-convert [--runs 50]
Needs: onnx, onnxruntime, numpy (scripts/python-env.sh check).
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parents[2]


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--slack", type=float, default=1.05, help="allowed fused/original latency ratio")
    args = parser.parse_args()
    manifest = json.loads((ROOT / "Models" / "manifest.json").read_text())
    worse = []
    print(f"{'model':<32}{'nodes':>14}{'original ms':>13}{'fused ms':>10}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        for entry in manifest:
            source = ROOT / "Models" / entry["file"]
            fused = pathlib.Path(scratch) / f"{entry['id']}.onnx"
            subprocess.run([args.tool, "fuse", str(source), str(fused)], check=True, stderr=subprocess.DEVNULL)
            feeds = {i["name"]: np.load(ROOT / "Models" / i["file"]) for i in entry["inputs"]}
            sessions = [session(source), session(fused)]
            for s in sessions:
                s.run(None, feeds)  # warm up
            times = [[], []]
            for _ in range(args.runs):
                for index, s in enumerate(sessions):
                    start = time.perf_counter()
                    s.run(None, feeds)
                    times[index].append(time.perf_counter() - start)
            before, after = (statistics.median(t) * 1000 for t in times)
            nodes_before = len(onnx.load(str(source), load_external_data=False).graph.node)
            nodes_after = len(onnx.load(str(fused), load_external_data=False).graph.node)
            ratio = after / before
            print(f"{entry['id']:<32}{nodes_before:>6} → {nodes_after:<5}{before:>11.3f}{after:>11.3f}{ratio:>8.2f}")
            if nodes_after > nodes_before or ratio > args.slack:
                worse.append(entry["id"])
    print(f"ort_latency: {len(manifest) - len(worse)} passed, {len(worse)} failed" + (f" ({', '.join(worse)})" if worse else ""))
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
