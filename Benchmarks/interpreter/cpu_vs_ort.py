"""CPU time per forward pass: the interpreter (one or more builds) against ONNX Runtime, one thread each.

On a loaded machine wall-clock medians move by 2-3x between rounds; CPU time moves far less. For each
model and round, interleaved: each ghost-convert build's task-clock (`perf stat`) of `run --time-runs
N+1` minus `run --time-runs 1`, over N passes (model loading and the first pass cancel out), and ONNX
Runtime's `time.process_time()` over N `run` calls (intra_op_num_threads=1, ORT_ENABLE_ALL, after one
warm-up). Prints each round and the medians, with the ratio of the first build to ONNX Runtime.

Usage: python Benchmarks/interpreter/cpu_vs_ort.py --tool A [--tool B …] [--runs 10] [--rounds 5] MODEL.onnx …
"""
import argparse
import pathlib
import statistics
import subprocess
import tempfile
import time

import numpy as np
import onnxruntime as ort


def task_clock_ms(tool, model, passes, out_dir):
    result = subprocess.run(["perf", "stat", "-x,", "-e", "task-clock", tool, "run", str(model), "--random-input",
                             "--output-dir", out_dir, "--threads", "1", "--time-runs", str(passes)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    for line in result.stderr.splitlines():
        if "task-clock" in line:
            return float(line.split(",")[0])
    raise RuntimeError(f"no task-clock in perf's output: {result.stderr[-400:]}")


def interpreter_ms(tool, model, runs, out_dir):
    return (task_clock_ms(tool, model, runs + 1, out_dir) - task_clock_ms(tool, model, 1, out_dir)) / runs


def ort_ms(model, runs):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    feeds = {}
    for value in session.get_inputs():
        feeds[value.name] = np.random.default_rng(0).standard_normal(value.shape).astype(np.float32)
    session.run(None, feeds)
    start = time.process_time()
    for _ in range(runs):
        session.run(None, feeds)
    return (time.process_time() - start) * 1000 / runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", action="append", required=True, help="a ghost-convert build (repeatable)")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("models", nargs="+", type=pathlib.Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out_dir:
        for model in args.models:
            times = {tool: [] for tool in args.tool}
            ort_times = []
            for round_index in range(args.rounds):
                for tool in args.tool:
                    times[tool].append(interpreter_ms(tool, model, args.runs, out_dir))
                ort_times.append(ort_ms(model, args.runs))
                print(f"  {model.name} round {round_index + 1}: "
                      + " ".join(f"{times[t][-1]:.1f}" for t in args.tool) + f" ORT {ort_times[-1]:.1f}", flush=True)
            medians = [statistics.median(times[t]) for t in args.tool]
            ort_median = statistics.median(ort_times)
            print(f"{model.name:28} " + " ".join(f"{m:8.1f}" for m in medians)
                  + f"  ORT {ort_median:6.1f}  ratio {medians[0] / ort_median:.2f}"
                  + "".join(f" / {m / ort_median:.2f}" for m in medians[1:]), flush=True)


if __name__ == "__main__":
    main()
