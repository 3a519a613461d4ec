"""The timing half of Benchmarks/gate/run.sh: gate vs the fuse+verify shell loop vs Polygraphy.

Every flow checks the same 22 models with the same tolerance idea (gate and verify: rel ≤ 1e-5 at
float64, --samples S random inputs; Polygraphy: its default elementwise atol = rtol = 1e-5, one
input, ONNX Runtime in float32). Symbolic input dimensions are 1 in every flow. Prints one line per
flow with its wall time and verdict counts, then the ratios.
"""
import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import onnx


def wall(command, **kwargs):
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    return time.perf_counter() - start, result


def shape_options(model):
    """--shape NAME=1x… for inputs with symbolic dimensions (as the gate binds them)."""
    graph = onnx.load(str(model), load_external_data=False).graph
    initializers = {t.name for t in graph.initializer}
    options = []
    for value in graph.input:
        if value.name in initializers:
            continue
        dims = value.type.tensor_type.shape.dim
        if any(not d.HasField("dim_value") for d in dims):
            sizes = "x".join(str(d.dim_value) if d.HasField("dim_value") else "1" for d in dims)
            options += ["--shape", f"{value.name}={sizes}"]
    return options


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip-polygraphy", action="store_true")
    args = parser.parse_args()
    models = sorted(pathlib.Path(args.models).glob("*/model.onnx"))
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="gate-bench-"))
    polygraphy = pathlib.Path(sys.executable).parent / "polygraphy"
    try:
        # 1. The gate.
        gate_time, result = wall([args.tool, "gate", args.models, "--jobs", str(args.jobs), "--samples", str(args.samples), "--quiet"])
        print(f"gate --jobs {args.jobs} --samples {args.samples}: {gate_time:7.2f} s  exit {result.returncode}  {result.stderr.strip().splitlines()[-1]}")

        # 2. The shell loop, one model after another (what Samples/ci/github-actions.yml used to do).
        loop_time, passed = 0.0, 0
        for model in models:
            fused = scratch / f"{model.parent.name}.gwt"
            t1, fuse = wall([args.tool, "fuse", str(model), str(fused)])
            t2, verify = wall([args.tool, "verify", str(model), str(fused), "--tolerance", "1e-5", "--samples", str(args.samples)]
                              + shape_options(model))
            loop_time += t1 + t2
            passed += fuse.returncode == 0 and verify.returncode == 0
        print(f"shell loop fuse + verify:      {loop_time:7.2f} s  {passed}/{len(models)} equivalent")

        # 3. Polygraphy, on fused .onnx files made beforehand (their fusion is not timed).
        poly_time = None
        if not args.skip_polygraphy:
            poly_time, poly_passed = 0.0, 0
            for model in models:
                fused = scratch / f"{model.parent.name}.onnx"
                subprocess.run([args.tool, "fuse", str(model), str(fused)], check=True, capture_output=True)
                inputs, outputs = scratch / "inputs.json", scratch / "outputs.json"
                t1, first = wall([str(polygraphy), "run", str(model), "--onnxrt", "--save-inputs", str(inputs), "--save-outputs", str(outputs)])
                t2, second = wall([str(polygraphy), "run", str(fused), "--onnxrt", "--load-inputs", str(inputs), "--load-outputs", str(outputs)])
                if first.returncode != 0:
                    print(f"  polygraphy failed on {model}: {first.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                poly_time += t1 + t2
                poly_passed += first.returncode == 0 and second.returncode == 0
                if second.returncode != 0:
                    print(f"  polygraphy: {model.parent.name} fails its default check (atol = rtol = 1e-5)")
            print(f"polygraphy two-run comparison: {poly_time:7.2f} s  {poly_passed}/{len(models)} pass its default check")

        print(f"gate vs shell loop: {loop_time / gate_time:5.2f}× faster (goal ≥ 1.5×)")
        if poly_time is not None:
            print(f"gate vs polygraphy: {poly_time / gate_time:5.2f}× faster (goal ≥ 20×)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
