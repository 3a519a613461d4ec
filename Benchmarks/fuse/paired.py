"""Two builds of the tool, timed in alternated pairs on the same models: the median pair ratio.

This host's speed drifts by up to 1.7x over an hour, more than most changes move `fuse`, so two
builds are compared only in pairs run back to back: each round runs OLD then NEW, or NEW then OLD
on odd rounds, on one model, and the ratio new / old of that round is one sample. The median of
the pair ratios is the figure; the spread of each build's times is printed beside it. The two
builds' outputs are compared byte for byte after the last round (a speed change that alters the
output is reported as such, and the exit status is 1).

Models are the `graph_scaling.py` shapes (generated deterministically, cached under --cache) or
any ONNX files given with --model.

Usage: python Benchmarks/fuse/paired.py --old OLD/ghost-convert --new NEW/ghost-convert
           [--shapes repvgg] [--nodes 200000] [--model m.onnx ...] [--rounds 6] [--format gwt]
Needs: onnx, numpy (for generated shapes).
"""
import argparse
import filecmp
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time


def run(tool, model, output, timeout):
    start = time.perf_counter()
    subprocess.run([tool, "fuse", "--quiet", str(model), str(output)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
    return time.perf_counter() - start


def models(args, cache):
    for path in args.model or []:
        path = pathlib.Path(path)
        if not path.is_file():
            sys.exit(f"error: --model {path}: no such file")
        yield f"{path.parent.name}/{path.name}"[-33:], path
    if args.model and not args.shapes_given:
        return
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    import onnx
    from graph_scaling import make_model
    for shape in args.shapes:
        path = cache / f"{shape}_{args.nodes}.onnx"
        if not path.exists():
            model, _ = make_model(shape, args.nodes)
            onnx.save(model, str(path))
        yield f"{shape} {args.nodes}", path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="the build to compare against")
    parser.add_argument("--new", required=True, help="the build under test")
    parser.add_argument("--shapes", nargs="+", default=None, help="graph_scaling.py shapes (default: repvgg)")
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--model", nargs="+", help="ONNX files to time instead of (or, with --shapes, besides) shapes")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--format", choices=["gwt", "onnx"], default="gwt")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--cache", help="directory keeping the generated models between runs")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    for option, tool in (("--old", args.old), ("--new", args.new)):
        if not pathlib.Path(tool).is_file():
            parser.error(f"{option} {tool}: no such file (build it with `swift build -c release`)")
    args.shapes_given = args.shapes is not None
    if args.shapes is None:
        args.shapes = ["repvgg"]
    differ = False
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        cache = pathlib.Path(args.cache) if args.cache else scratch
        cache.mkdir(parents=True, exist_ok=True)
        print(f"{'model':<34}{'rounds':>7}{'old s (median)':>24}{'new s (median)':>24}{'ratio':>7}  pair ratios")
        for label, path in models(args, cache):
            old_out, new_out = scratch / f"old.{args.format}", scratch / f"new.{args.format}"
            old_times, new_times = [], []
            for round_number in range(args.rounds):
                order = [("old", args.old, old_out), ("new", args.new, new_out)]
                if round_number % 2:
                    order.reverse()
                for side, tool, output in order:
                    seconds = run(tool, path, output, args.timeout)
                    (old_times if side == "old" else new_times).append(seconds)
            ratios = [new / old for old, new in zip(old_times, new_times)]

            def spread(times):
                return f"{min(times):.2f}-{max(times):.2f} ({statistics.median(times):.2f})"

            same = filecmp.cmp(old_out, new_out, shallow=False)
            differ = differ or not same
            print(f"{label:<34}{args.rounds:>7}{spread(old_times):>24}{spread(new_times):>24}"
                  f"{statistics.median(ratios):>7.3f}  {' '.join(f'{r:.3f}' for r in ratios)}"
                  f"{'' if same else '  OUTPUTS DIFFER'}", flush=True)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
