"""The interpreter's float64 path against its float32 path, same machine, same run, one thread.

`verify` computes in float64 by default, so the f64 path is what CI runs; issue 15 asks for it to
take at most 2× the f32 path's time on GhostNet 1.0 at 224². For each model (default: the bundled
ghostnet_100, 224², 1000 classes) this times `ghost-convert run --random-input --time-runs N`
(median forward pass, model loading excluded) at --precision f32 and f64, alternating the two
--rounds times (f32, f64, f32, …) so drift in the machine's speed affects both alike, and prints
the median of each round's medians, the ratio f64/f32 (goal ≤ 2) and the spread of the per-round
ratios. Standard library only: no numpy or ONNX Runtime needed.

Usage: python3 Benchmarks/interpreter/precision_ratio.py --tool .build/release/ghost-convert
       [--runs 20] [--rounds 7] [--model path.onnx …]
"""
import argparse
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "Models" / "ghostnet_100" / "model.onnx"


def forward_median(tool, model, precision, runs, output_dir):
    """One `run --time-runs` at `precision`: the median forward pass it reports, in ms."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    result = subprocess.run(
        [tool, "run", str(model), "--random-input", "--output-dir", output_dir, "--precision", precision,
         "--threads", "1", "--time-runs", str(runs)],
        capture_output=True, text=True, env=env)
    match = re.search(r"forward median: ([0-9.]+) ms", result.stderr)
    if result.returncode != 0 or not match:
        sys.exit(f"{model} at {precision}: exit {result.returncode}\n{result.stderr}")
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True, help="a release build of ghost-convert")
    parser.add_argument("--runs", type=int, default=20, help="forward passes per measurement")
    parser.add_argument("--rounds", type=int, default=7, help="alternating f32/f64 measurements per model")
    parser.add_argument("--model", action="append", default=[], help="an ONNX file to time (repeatable)")
    args = parser.parse_args()
    models = [pathlib.Path(m) for m in args.model] or [DEFAULT]
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    print(f"{'model':<28}{'f32 ms':>9}{'f64 ms':>9}{'f64/f32':>9}{'round ratios':>22}")
    with tempfile.TemporaryDirectory() as output_dir:
        for model in models:
            f32, f64 = [], []
            for _ in range(args.rounds):
                f32.append(forward_median(args.tool, model, "f32", args.runs, output_dir))
                f64.append(forward_median(args.tool, model, "f64", args.runs, output_dir))
            ratios = [b / a for a, b in zip(f32, f64)]
            a, b = statistics.median(f32), statistics.median(f64)
            name = model.parent.name if model.name == "model.onnx" else model.stem
            print(f"{name:<28}{a:>9.2f}{b:>9.2f}{b / a:>9.2f}{f'{min(ratios):.2f} – {max(ratios):.2f}':>22}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
