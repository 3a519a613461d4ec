"""Reference interpreter against ONNX Runtime, same machine, same run, one thread each.

For each model (default: GhostNet 1.0 at 224², batch 1, and the other bundled families), times
`ghost-convert run --time-runs N` (median forward pass, model loading excluded) and ONNX Runtime
(intra_op_num_threads=1, ORT_ENABLE_ALL, median of N), prints both, the ratio (goal ≤ 1.5×) and
the interpreter's peak RSS.

Usage: python Benchmarks/interpreter/vs_ort.py --tool .build/release/ghost-convert [--runs 20] [ids…]
"""
import argparse
import json
import pathlib
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT = ["ghostnet_100", "repghostnet_100", "mobilenetv3_large_025", "mobilenetv3_small_025", "shufflenet_v2_x1_0"]


def ort_median(path, feeds, runs):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    session.run(None, feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("ids", nargs="*", default=DEFAULT)
    args = parser.parse_args()
    manifest = {e["id"]: e for e in json.loads((ROOT / "Models" / "manifest.json").read_text())}
    print(f"{'model':<26}{'interpreter ms':>15}{'ORT ms':>9}{'ratio':>8}{'peak RSS MB':>13}")
    for model_id in args.ids:
        entry = manifest[model_id]
        model = ROOT / "Models" / entry["file"]
        inputs = [f"{i['name']}={ROOT / 'Models' / i['file']}" for i in entry["inputs"]]
        command = [args.tool, "run", str(model), "--output-dir", "/tmp/ghost-bench-out", "--time-runs", str(args.runs)]
        for spec in inputs:
            command += ["--input", spec]
        # /usr/bin/time reports this child's own peak RSS (getrusage would give the maximum so far).
        result = subprocess.run(["/usr/bin/time", "-f", "peak-rss-kb %M"] + command, capture_output=True, text=True,
                                check=True, env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
        peak = int(re.search(r"peak-rss-kb (\d+)", result.stderr).group(1)) / 1024
        ours = float(re.search(r"forward median: ([0-9.]+) ms", result.stderr).group(1))
        feeds = {i["name"]: np.load(ROOT / "Models" / i["file"]) for i in entry["inputs"]}
        theirs = ort_median(model, feeds, args.runs)
        print(f"{model_id:<26}{ours:>15.2f}{theirs:>9.2f}{ours / theirs:>8.2f}{peak:>13.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
