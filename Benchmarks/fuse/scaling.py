"""`fuse` time must grow linearly with model size: time per GB at three sizes.

Builds wide re-parameterizable models with external data (Samples/export/make_large_external.py)
of --sizes GB each, fuses each to .gwt with the tool, and prints seconds, seconds per GB and peak
RSS. Linear growth shows as a flat seconds-per-GB column.

Usage: python Benchmarks/fuse/scaling.py --tool .build/release/ghost-convert [--sizes 0.5 1 2.5]
Needs: onnx, numpy. Writes up to ~2 × the largest size to a temporary directory.
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True)
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.5, 1.0, 2.5])
    args = parser.parse_args()
    print(f"{'GB of weights':>14}{'fuse s':>9}{'s per GB':>10}{'peak RSS MB':>13}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as scratch:
            subprocess.run([sys.executable, str(ROOT / "Samples/export/make_large_external.py"), "--gigabytes", str(size),
                            "--out", scratch], check=True, stdout=subprocess.DEVNULL)
            model = next(pathlib.Path(scratch).glob("*.onnx"))
            weights = sum(p.stat().st_size for p in pathlib.Path(scratch).iterdir() if p != model) / 1e9
            start = time.perf_counter()
            result = subprocess.run(["/usr/bin/time", "-f", "peak-rss-kb %M", args.tool, "fuse", str(model),
                                     str(pathlib.Path(scratch) / "fused.gwt")], capture_output=True, text=True, check=True)
            seconds = time.perf_counter() - start
            peak = int(re.search(r"peak-rss-kb (\d+)", result.stderr).group(1)) / 1024
            print(f"{weights:>14.2f}{seconds:>9.2f}{seconds / weights:>10.2f}{peak:>13.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
