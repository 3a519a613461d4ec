"""`ghost-convert run` on every model of a manifest, compared with its ONNX Runtime goldens.

For each entry of DIR/manifest.json (Models/, or the directory export_vision.py writes): run the
model in the reference interpreter on the entry's inputs, then compare every graph output with
its golden: output.npy (ONNX Runtime, CPU, one thread, no optimizations) for --precision f32,
output_f64.npy (PyTorch in float64) for f64. A model passes when every output has the golden's
shape, the same non-finite values at the same places (NaN where NaN, +inf where +inf, -inf where
-inf) and max|ours - golden| / max|golden| <= --tolerance over the finite rest. A refusal by the
interpreter (unsupported operator, ...) is a failure and its message is printed.

Usage: python Samples/checks/vision_models_ort.py --models DIR --tool .build/debug/ghost-convert
           [--precision f32|f64] [--tolerance 1e-5] [--only ID ...]
Needs only numpy.
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import numpy as np


def output_file_name(name):
    """The file name `ghost-convert run` gives an output (Run.fileName in Sources/ghost-convert)."""
    safe = re.sub(r"[^\w\-.]", "_", name)
    trimmed = safe.strip("_.")
    return (trimmed or "output") + ".npy"


def compare(ours, golden):
    """Returns (relative error, problem or None)."""
    if ours.shape != golden.shape:
        return float("nan"), f"shape {list(ours.shape)}, golden {list(golden.shape)}"
    ours, golden = ours.astype(np.float64), golden.astype(np.float64)
    finite_ours, finite_golden = np.isfinite(ours), np.isfinite(golden)
    same_special = (finite_ours == finite_golden) & np.where(
        finite_golden, True, (np.isnan(ours) & np.isnan(golden)) | (ours == golden))
    if not same_special.all():
        where = np.argwhere(~same_special)[0]
        index = tuple(int(i) for i in where)
        return float("nan"), (f"{int((~same_special).sum())} non-finite mismatches, first at {list(index)}: "
                              f"{ours[index]} vs golden {golden[index]}")
    finite = finite_golden
    if not finite.any():
        return 0.0, None
    scale = np.abs(golden[finite]).max()
    error = float(np.abs(ours[finite] - golden[finite]).max() / max(scale, 1e-30))
    return error, None


def check(entry, models, tool, precision, tolerance, scratch):
    """Returns (worst relative error, problems, seconds)."""
    out_dir = pathlib.Path(scratch) / entry["id"]
    command = [tool, "run", str(models / entry["file"]), "--output-dir", str(out_dir), "--precision", precision]
    for spec in entry["inputs"]:
        command += ["--input", f"{spec['name']}={models / spec['file']}"]
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.time() - started
    if result.returncode != 0:
        message = (result.stderr.strip() or result.stdout.strip()).splitlines()
        return float("nan"), [f"run exited {result.returncode}: {' / '.join(message[-3:])[:400]}"], seconds
    worst, problems = 0.0, []
    for spec in entry["outputs"]:
        golden_file = spec["file"] if precision == "f32" else spec.get("file_f64")
        if golden_file is None:
            continue
        produced = out_dir / output_file_name(spec["name"])
        if not produced.exists():
            problems.append(f"'{spec['name']}': no {produced.name} written")
            continue
        error, problem = compare(np.load(produced), np.load(models / golden_file))
        if problem:
            problems.append(f"'{spec['name']}': {problem}")
        elif error > tolerance:
            problems.append(f"'{spec['name']}': rel error {error:.2e} > {tolerance:g}")
        worst = max(worst, error) if not np.isnan(error) else worst
    return worst, problems, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", required=True, help="directory holding manifest.json")
    parser.add_argument("--tool", required=True, help="the ghost-convert executable")
    parser.add_argument("--precision", choices=["f32", "f64"], default="f32")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--only", nargs="*", help="check only these ids")
    args = parser.parse_args()
    models = pathlib.Path(args.models)
    manifest = json.loads((models / "manifest.json").read_text())
    selected = [e for e in manifest if not args.only or e["id"] in args.only]
    failed = 0
    print(f"{'model':<32}{'nodes':>7}{'rel err':>11}{'s':>8}  result")
    with tempfile.TemporaryDirectory() as scratch:
        for entry in selected:
            worst, problems, seconds = check(entry, models, args.tool, args.precision, args.tolerance, scratch)
            print(f"{entry['id']:<32}{entry['nodes']:>7}{worst:>11.1e}{seconds:>8.1f}  "
                  f"{'FAIL' if problems else 'ok'}")
            for problem in problems:
                print(f"  FAIL {entry['id']}: {problem}")
            failed += bool(problems)
    print(f"vision models: {len(selected) - failed} passed, {failed} failed")
    return 1 if failed or not selected else 0


if __name__ == "__main__":
    sys.exit(main())
