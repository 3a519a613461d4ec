"""Reference interpreter against ONNX Runtime, same machine, same run, one thread each.

For each model (default: GhostNet 1.0 at 224², batch 1, and the other bundled families), times
`ghost-convert run --time-runs N` (median forward pass, model loading excluded) and ONNX Runtime
(intra_op_num_threads=1, ORT_ENABLE_ALL, median of N), alternating the two --rounds times and
taking the median of each, prints both, the ratio (goal ≤ 1.5×) and
the interpreter's peak RSS.

Usage: python Benchmarks/interpreter/vs_ort.py --tool .build/release/ghost-convert [--runs 20] [ids…]
       [--model path.onnx …]   (any model with one float input of fixed shape; random N(0,1) input,
                                e.g. the standard-size networks from export_standard.py)
       [--deployed]            (issue 13: the detectors at 640² and segmenters at 512², training form
                                and fused, from export_deployed.py's cache directory)
       [--peer-tool OTHER]     (another build of ghost-convert timed in the same rounds, interleaved:
                                a before/after column under the same machine load)

The ViT hybrids of issue 13, training form and fused (docs/performance.md):
    .venv-export/bin/python Benchmarks/interpreter/export_standard.py fastvit_t8 repvit_m0_9 mobilevit_xxs
    for m in fastvit_t8 repvit_m0_9 mobilevit_xxs; do
        .build/release/ghost-convert fuse Benchmarks/.cache/standard/$m.onnx Benchmarks/.cache/standard/$m.fused.onnx
    done
    python Benchmarks/interpreter/vs_ort.py --tool .build/release/ghost-convert \
        --model Benchmarks/.cache/standard/fastvit_t8.onnx --model Benchmarks/.cache/standard/fastvit_t8.fused.onnx …
"""
import argparse
import json
import pathlib
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOYED_DIR = ROOT / "Benchmarks" / ".cache" / "deployed"
DEPLOYED = [f"{name}{form}" for name in ["yolov9_narrow_640", "yolov10_tiny_640", "lraspp_mbv3_512", "deeplabv3_mbv3_512"]
            for form in ["", "_fused"]]
DEFAULT = ["ghostnet_100", "repghostnet_100", "mobilenetv3_large_025", "mobilenetv3_small_025", "shufflenet_v2_x1_0"]


def ort_median(path, feeds, runs):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    session.run(None, feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate the two measurements this many times and take the median of each, "
                             "so that drift in the machine's speed affects both alike")
    parser.add_argument("--model", action="append", default=[], help="an ONNX file to time (repeatable)")
    parser.add_argument("--deployed", action="store_true",
                        help=f"add the deployed-size detectors and segmenters of {DEPLOYED_DIR.relative_to(ROOT)}")
    parser.add_argument("--peer-tool", help="a second ghost-convert (e.g. the main branch's) timed alongside")
    parser.add_argument("ids", nargs="*")
    args = parser.parse_args()
    if args.deployed:
        missing = [name for name in DEPLOYED if not (DEPLOYED_DIR / f"{name}.onnx").exists()]
        if missing:
            sys.exit(f"missing {missing}: run Benchmarks/interpreter/export_deployed.py --tool {args.tool} first")
        args.model += [str(DEPLOYED_DIR / f"{name}.onnx") for name in DEPLOYED]
    if not args.ids and not args.model:
        args.ids = DEFAULT
    manifest = {e["id"]: e for e in json.loads((ROOT / "Models" / "manifest.json").read_text())}
    peer_header = f"{'peer ms':>9}" if args.peer_tool else ""
    print(f"{'model':<26}{'interpreter ms':>15}{peer_header}{'ORT ms':>9}{'ratio':>8}{'peak RSS MB':>13}")
    cases = [(model_id, ROOT / "Models" / manifest[model_id]["file"],
              {i["name"]: np.load(ROOT / "Models" / i["file"]) for i in manifest[model_id]["inputs"]})
             for model_id in args.ids]
    for path in map(pathlib.Path, args.model):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(0)
        feeds = {i.name: rng.standard_normal(i.shape).astype(np.float32) for i in session.get_inputs()}
        cases.append((path.stem, path, feeds))
    scratch = pathlib.Path("/tmp/ghost-bench-inputs")
    scratch.mkdir(exist_ok=True)
    for model_id, model, feeds in cases:
        inputs = []
        for name, array in feeds.items():
            file = scratch / f"{model_id}-{name}.npy"
            np.save(file, array)
            inputs.append(f"{name}={file}")
        def command(tool):
            line = [tool, "run", str(model), "--output-dir", "/tmp/ghost-bench-out", "--time-runs", str(args.runs)]
            for spec in inputs:
                line += ["--input", spec]
            return line

        def timed(tool):
            # /usr/bin/time reports this child's own peak RSS (getrusage would give the maximum so far).
            result = subprocess.run(["/usr/bin/time", "-f", "peak-rss-kb %M"] + command(tool), capture_output=True,
                                    text=True, check=True, env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
            peak = int(re.search(r"peak-rss-kb (\d+)", result.stderr).group(1)) / 1024
            return float(re.search(r"forward median: ([0-9.]+) ms", result.stderr).group(1)), peak

        ours_rounds, peer_rounds, theirs_rounds, peak = [], [], [], 0
        for _ in range(args.rounds):
            ours_ms, ours_peak = timed(args.tool)
            peak = max(peak, ours_peak)
            ours_rounds.append(ours_ms)
            if args.peer_tool:
                peer_rounds.append(timed(args.peer_tool)[0])
            theirs_rounds.append(ort_median(model, feeds, args.runs))
        ours, theirs = statistics.median(ours_rounds), statistics.median(theirs_rounds)
        peer = f"{statistics.median(peer_rounds):>9.2f}" if args.peer_tool else ""
        print(f"{model_id:<26}{ours:>15.2f}{peer}{theirs:>9.2f}{ours / theirs:>8.2f}{peak:>13.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
