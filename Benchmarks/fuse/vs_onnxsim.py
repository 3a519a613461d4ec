"""`ghost-convert fuse` against onnxsim, onnxslim and `cp` on the same file, in the same run.

Default file: Models/repghostnet_100/model.onnx (RepGhostNet 1.0 in training form). Prints the
median wall time of --runs runs and the peak RSS of each, the speed ratios (goals: ≥ 50× faster than
onnxsim, ≤ 3× `cp`), and what each tool did to the node and BatchNormalization counts — onnxsim and
onnxslim do not merge the RepGhost branches, which is why this tool exists.

Usage: python Benchmarks/fuse/vs_onnxsim.py --tool .build/release/ghost-convert [--runs 5] [MODEL]
Needs: onnx, onnxsim, onnxslim (pip install onnxsim onnxslim).
"""
import argparse
import collections
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import onnx

ROOT = pathlib.Path(__file__).resolve().parents[2]


def timed(command, runs):
    times, peak = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "peak-rss-kb %M"] + command, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
        peak = max(peak, int(re.search(r"peak-rss-kb (\d+)", result.stderr).group(1)))
    return statistics.median(times) * 1000, peak / 1024


def counts(path):
    model = onnx.load(str(path), load_external_data=False)
    ops = collections.Counter(n.op_type for n in model.graph.node)
    return len(model.graph.node), ops["BatchNormalization"], ops["Add"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("model", nargs="?", default=str(ROOT / "Models/repghostnet_100/model.onnx"))
    args = parser.parse_args()
    source = pathlib.Path(args.model)
    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        out = pathlib.Path(scratch)
        rows = [
            ("cp", ["cp", str(source), str(out / "copy.onnx")], out / "copy.onnx"),
            ("ghost-convert fuse → .gwt", [args.tool, "fuse", str(source), str(out / "fused.gwt")], None),
            ("ghost-convert fuse → .onnx", [args.tool, "fuse", str(source), str(out / "fused.onnx")], out / "fused.onnx"),
            ("onnxsim", [python, "-m", "onnxsim", str(source), str(out / "sim.onnx")], out / "sim.onnx"),
            ("onnxslim", [python, "-m", "onnxslim", str(source), str(out / "slim.onnx")], out / "slim.onnx"),
        ]
        results = {}
        for name, command, output in rows:
            if name.startswith("onnxs") and shutil.which(python) is None:
                continue
            try:
                results[name] = timed(command, args.runs) + ((counts(output) if output else None),)
            except subprocess.CalledProcessError as error:
                print(f"{name}: failed ({error.returncode}): {error.stderr[-300:]}")
        original = counts(source)
        print(f"{source.name}: {source.stat().st_size / 1e6:.1f} MB, {original[0]} nodes, {original[1]} BatchNormalization, {original[2]} Add")
        print(f"{'tool':<28}{'median ms':>11}{'peak RSS MB':>13}{'nodes':>8}{'BN':>5}{'Add':>5}")
        for name, (ms, rss, shape) in results.items():
            nodes, bn, add = shape if shape else ("", "", "")
            print(f"{name:<28}{ms:>11.1f}{rss:>13.0f}{nodes:>8}{bn:>5}{add:>5}")
        fuse = results["ghost-convert fuse → .gwt"][0]
        if "onnxsim" in results:
            print(f"onnxsim / fuse: {results['onnxsim'][0] / fuse:.1f}× (goal ≥ 50×)")
        if "onnxslim" in results:
            print(f"onnxslim / fuse: {results['onnxslim'][0] / fuse:.1f}×")
        print(f"fuse / cp: {fuse / results['cp'][0]:.1f}× (goal ≤ 3×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
