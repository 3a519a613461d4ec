"""Peak memory of loading ONNX models, against the bounds the loader promises.

Bounds (issue: foundation):
  inline weights:   peak RSS <= 2 x file size + 64 MB  (the file mapping + protobuf-c's one copy)
  external weights: peak RSS <= file size + 64 MB      (weights are only memory-mapped)

It builds a model of about --gigabytes GB of weights with external data
(Samples/export/make_large_external.py), rewrites it inline with `ghost-convert convert`,
and measures the peak RSS of `ghost-convert inspect` on both (getrusage of the child).
Prints each figure with its bound and the ratio; exits 1 if a bound is exceeded.

Usage: python Benchmarks/memory/peak_rss.py --tool .build/release/ghost-convert --gigabytes 1
Needs: onnx, numpy (scripts/python-env.sh check).
"""
import argparse
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
MB = 1 << 20


def measured(command):
    """Runs command in a fresh child (via a tiny wrapper) and returns (seconds, peak RSS bytes)."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *command], check=True, capture_output=True, text=True)
    seconds, rss = out.stdout.split()
    return float(seconds), int(rss)


def size_of(model):
    total = model.stat().st_size
    data = [p for p in model.parent.iterdir() if p != model]
    return total, sum(p.stat().st_size for p in data)


def main():
    parser = argparse.ArgumentParser(description="peak RSS of ghost-convert inspect")
    parser.add_argument("--tool", required=True)
    parser.add_argument("--gigabytes", type=float, default=1.0)
    args = parser.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as scratch:
        external_dir = pathlib.Path(scratch) / "external"
        inline_dir = pathlib.Path(scratch) / "inline"
        external_dir.mkdir()
        inline_dir.mkdir()
        subprocess.run([sys.executable, str(ROOT / "Samples/export/make_large_external.py"),
                        "--gigabytes", str(args.gigabytes), "--out", str(external_dir)], check=True)
        external_model = next(external_dir.glob("*.onnx"))
        inline_model = inline_dir / "inline.onnx"
        subprocess.run([args.tool, "convert", str(external_model), str(inline_model), "--external-data", "never"], check=True)

        print(f"{'case':<28}{'file MB':>10}{'data MB':>10}{'peak MB':>10}{'bound MB':>10}{'ratio':>8}{'time s':>8}")
        for name, model, bound in [
            ("inspect, external data", external_model, lambda f, d: f + 64 * MB),
            ("inspect, inline weights", inline_model, lambda f, d: 2 * f + 64 * MB),
        ]:
            file_bytes, data_bytes = size_of(model)
            seconds, peak = measured([args.tool, "inspect", str(model)])
            limit = bound(file_bytes, data_bytes)
            ok = peak <= limit
            failures += 0 if ok else 1
            print(f"{name:<28}{file_bytes / MB:>10.1f}{data_bytes / MB:>10.1f}{peak / MB:>10.1f}"
                  f"{limit / MB:>10.1f}{peak / limit:>8.2f}{seconds:>8.2f}{'' if ok else '  OVER BOUND'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
