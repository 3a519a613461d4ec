"""The interpreter's float64 path against its float32 path, same machine, same run, one thread.

`verify` computes in float64 by default, so the f64 path is what CI runs; issue 15 asks for it to
take at most 2× the f32 path's time on GhostNet 1.0 at 224². For each model (default: the bundled
ghostnet_100, 224², 1000 classes) this times `ghost-convert run --random-input --time-runs N`
at --precision f32 and f64, alternating the two --rounds times (f32, f64, f32, …) so drift in the
machine's speed affects both alike, and prints for each precision the median over rounds of

- the CPU time of one forward pass: the child's user + system CPU time of a run with 1 + N timed
  passes minus that of a run with 1, divided by N (loading and planning cancel out). On a shared
  machine this is the robust figure: wall time also counts the time other processes held the
  CPU, and a longer measurement is preempted more often, which biases the ratio;
- the median wall time of a forward pass that `--time-runs` prints (model loading excluded),

then both ratios f64/f32 (goal ≤ 2) and the spread of the per-round CPU-time ratios. Standard
library only: no numpy or ONNX Runtime needed.

Usage: python3 Benchmarks/interpreter/precision_ratio.py --tool .build/release/ghost-convert
       [--runs 20] [--rounds 7] [--model path.onnx …]
"""
import argparse
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "Models" / "ghostnet_100" / "model.onnx"


def timed_run(tool, model, precision, runs, output_dir):
    """One `run --time-runs runs`: (child CPU seconds, the median wall ms it reports)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [tool, "run", str(model), "--random-input", "--output-dir", output_dir, "--precision", precision,
         "--threads", "1", "--time-runs", str(runs)],
        capture_output=True, text=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = re.search(r"forward median: ([0-9.]+) ms", result.stderr)
    if result.returncode != 0 or not match:
        sys.exit(f"{model} at {precision}: exit {result.returncode}\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, float(match.group(1))


def forward_pass(tool, model, precision, runs, output_dir):
    """(CPU ms of one forward pass, wall median ms), as the module's docstring says."""
    base, _ = timed_run(tool, model, precision, 1, output_dir)
    cpu, wall = timed_run(tool, model, precision, 1 + runs, output_dir)
    return (cpu - base) / runs * 1000, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True, help="a release build of ghost-convert")
    parser.add_argument("--runs", type=int, default=20, help="forward passes per measurement")
    parser.add_argument("--rounds", type=int, default=7, help="alternating f32/f64 measurements per model")
    parser.add_argument("--model", action="append", default=[], help="an ONNX file to time (repeatable)")
    args = parser.parse_args()
    models = [pathlib.Path(m) for m in args.model] or [DEFAULT]
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    print(f"{'model':<22}{'f32 CPU ms':>11}{'f64 CPU ms':>11}{'f64/f32':>9}{'f32 wall':>10}{'f64 wall':>10}"
          f"{'f64/f32':>9}{'CPU ratio per round':>22}")
    with tempfile.TemporaryDirectory() as output_dir:
        for model in models:
            f32, f64 = [], []
            for _ in range(args.rounds):
                f32.append(forward_pass(args.tool, model, "f32", args.runs, output_dir))
                f64.append(forward_pass(args.tool, model, "f64", args.runs, output_dir))
            ratios = [b[0] / a[0] for a, b in zip(f32, f64)]
            c32, c64 = statistics.median(x[0] for x in f32), statistics.median(x[0] for x in f64)
            w32, w64 = statistics.median(x[1] for x in f32), statistics.median(x[1] for x in f64)
            name = model.parent.name if model.name == "model.onnx" else model.stem
            print(f"{name:<22}{c32:>11.2f}{c64:>11.2f}{c64 / c32:>9.2f}{w32:>10.2f}{w64:>10.2f}{w64 / w32:>9.2f}"
                  f"{f'{min(ratios):.2f} – {max(ratios):.2f}':>22}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
