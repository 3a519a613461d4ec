"""Compute-node counts of `ghost-convert fuse` against onnxsim on every model in Models/ (issue 14).

A compute node is a node that is neither Constant nor Identity: onnxsim turns Constant nodes into
initializers and this tool does too (`fold-constants`), so counting them would only measure that
bookkeeping. Both tools run on the same training-form file; the table prints, per model, the
source's compute nodes, ours after fuse, onnxsim's, and whether ours ≤ onnxsim's.

Usage: python Benchmarks/fuse/node_counts.py --tool .build/debug/ghost-convert [--markdown] [MODEL_ID ...]
Needs: onnx, onnxsim (Benchmarks/fuse/requirements.txt).
"""
import argparse
import collections
import json
import pathlib
import subprocess
import sys
import tempfile

import onnx

ROOT = pathlib.Path(__file__).resolve().parents[2]


def compute_nodes(path):
    model = onnx.load(str(path), load_external_data=False)
    ops = collections.Counter(node.op_type for node in model.graph.node)
    return sum(count for op, count in ops.items() if op not in ("Constant", "Identity")), ops


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--ops", action="store_true", help="also print the op types that differ")
    parser.add_argument("models", nargs="*")
    args = parser.parse_args()
    manifest = json.loads((ROOT / "Models/manifest.json").read_text())
    entries = manifest if isinstance(manifest, list) else manifest["models"]
    if args.models:
        entries = [entry for entry in entries if entry["id"] in args.models]
    rows, worse = [], 0
    with tempfile.TemporaryDirectory() as scratch:
        out = pathlib.Path(scratch)
        for entry in entries:
            source = ROOT / "Models" / entry["file"]
            fused, sim = out / f"{entry['id']}.fused.onnx", out / f"{entry['id']}.sim.onnx"
            subprocess.run([args.tool, "fuse", str(source), str(fused)], check=True, capture_output=True)
            simplified = subprocess.run([sys.executable, "-m", "onnxsim", str(source), str(sim)], capture_output=True, text=True)
            original, _ = compute_nodes(source)
            ours, our_ops = compute_nodes(fused)
            theirs, their_ops = compute_nodes(sim) if simplified.returncode == 0 else (None, collections.Counter())
            ok = theirs is None or ours <= theirs
            worse += not ok
            rows.append((entry["id"], entry.get("exporter", ""), original, ours, theirs, ok))
            if args.ops and not ok:
                diff = {op: (our_ops[op], their_ops[op]) for op in set(our_ops) | set(their_ops)
                        if our_ops[op] != their_ops[op] and op not in ("Constant", "Identity")}
                print(f"  {entry['id']}: ours vs onnxsim {diff}", file=sys.stderr)
    if args.markdown:
        print("| model | exporter | source | ghost-convert fuse | onnxsim | ≤ onnxsim |")
        print("|---|---|---:|---:|---:|---|")
        for model, exporter, original, ours, theirs, ok in rows:
            print(f"| {model} | {exporter} | {original} | {ours} | {'failed' if theirs is None else theirs} | {'yes' if ok else '**no**'} |")
    else:
        print(f"{'model':<32}{'exporter':<13}{'source':>8}{'fuse':>8}{'onnxsim':>9}  ok")
        for model, exporter, original, ours, theirs, ok in rows:
            print(f"{model:<32}{exporter:<13}{original:>8}{ours:>8}{'failed' if theirs is None else theirs:>9}  {'yes' if ok else 'NO'}")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
