"""Fused training-form exports against timm's own deploy form of the same weights (issue 14 goals).

For each timm network (random weights, randomized BatchNorm statistics, 224², batch 1, 10
classes), exports the training form and `timm.utils.model.reparameterize_model`'s deploy form
with both exporters, fuses the training form with `ghost-convert fuse`, and prints, per pair:
  - compute nodes (not Constant/Identity), BatchNormalization and branch sums (Add+Sub) left,
    for the fused file and for timm's deploy export (goal: fused ≤ deploy, zero BN where timm
    has none);
  - ONNX Runtime latency (1 thread, ORT_ENABLE_ALL, interleaved, median of --runs) of fused / deploy
    (goal ≤ 1.00);
  - the folding error at float64 (`ghost-convert verify --precision f64`, worst rel over 4 samples)
    of the fused file and of timm's deploy export, both against the training form, and their
    ratio (goal ≤ 0.5);
  - an A/A control for the latency: the deploy file against a second session of itself in the
    same interleaved loop (its ratio is the noise of the latency figure).
The `weights` step compares the two files' Conv/Gemm weights element by element (Conv and Gemm
nodes in graph order): how many differ and by how many units in the last place — where the two
are the same tensors to the last bit but for a few elements, their folding errors cannot differ
by 2×.

Usage (two steps: the exports need torch, the measurement only onnxruntime):
  .venv-export/bin/python Benchmarks/fuse/vs_timm_deploy.py export --out DIR [names…]
  .venv-check/bin/python  Benchmarks/fuse/vs_timm_deploy.py measure --out DIR --tool .build/release/ghost-convert
  .venv-check/bin/python  Benchmarks/fuse/vs_timm_deploy.py weights --out DIR   (after measure)
"""
import argparse
import collections
import pathlib
import re
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
NAMES = ["fastvit_t8", "repvit_m0_9", "mobileone_s0", "repvgg_a0", "repghostnet_100", "ghostnetv3_100"]


def export(out, names):
    sys.path.insert(0, str(ROOT / "Samples" / "export"))
    import _torch_env  # noqa: F401  (torchvision's CUDA wheel beside the CPU torch)
    import torch
    import timm
    from timm.utils.model import reparameterize_model
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        torch.manual_seed(20261201)
        model = timm.create_model(name, pretrained=False, num_classes=10).eval()
        generator = torch.Generator().manual_seed(1)
        for module in model.modules():
            if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                with torch.no_grad():
                    count = module.num_features
                    module.running_mean.copy_(torch.randn(count, generator=generator) * 0.2)
                    module.running_var.copy_(torch.rand(count, generator=generator) + 0.5)
                    module.weight.copy_(torch.rand(count, generator=generator) + 0.5)
                    module.bias.copy_(torch.randn(count, generator=generator) * 0.2)
        deploy = reparameterize_model(model, inplace=False).eval()
        x = torch.randn(1, 3, 224, 224)
        for form, network in (("train", model), ("deploy", deploy)):
            for exporter in ("torchscript", "dynamo"):
                path = out / f"{name}_{form}_{exporter}.onnx"
                if exporter == "dynamo":
                    torch.onnx.export(network, (x,), str(path), dynamo=True, opset_version=18, external_data=False)
                else:
                    torch.onnx.export(network, (x,), str(path), dynamo=False, opset_version=17)
                print("exported", path.name, flush=True)


def counts(path):
    import onnx
    ops = collections.Counter(node.op_type for node in onnx.load(str(path), load_external_data=False).graph.node)
    compute = sum(count for op, count in ops.items() if op not in ("Constant", "Identity"))
    return compute, ops["BatchNormalization"], ops["Add"] + ops["Sub"]


def latency(fused, deploy, runs, rounds=5):
    import numpy as np
    import onnxruntime as ort

    def session(path):
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    # fused, deploy, and deploy again in its own session (the A/A control), interleaved run by
    # run; each round's medians give one ratio, and the median round is reported.
    sessions = [session(fused), session(deploy), session(deploy)]
    feed = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    feeds = [{s.get_inputs()[0].name: feed} for s in sessions]
    for s, f in zip(sessions, feeds):
        s.run(None, f)
    per_round = []
    for _ in range(rounds):
        times = [[], [], []]
        for _ in range(runs):
            for i, (s, f) in enumerate(zip(sessions, feeds)):
                start = time.perf_counter()
                s.run(None, f)
                times[i].append(time.perf_counter() - start)
        per_round.append([statistics.median(t) * 1e3 for t in times])
    per_round.sort(key=lambda r: r[0] / r[1])
    fused_ms, deploy_ms, _ = per_round[len(per_round) // 2]
    control = statistics.median(r[2] / r[1] for r in per_round)
    return fused_ms, deploy_ms, control


def renamed_like(original, other):
    """`other` with `original`'s input and output names (the TorchScript exporter numbers them
    differently in the two forms), written beside it; verify compares by name."""
    import onnx
    source, model = onnx.load(str(original), load_external_data=False), onnx.load(str(other))
    renames = {new.name: old.name for new, old in zip(list(model.graph.input) + list(model.graph.output),
                                                       list(source.graph.input) + list(source.graph.output))}
    for value in list(model.graph.input) + list(model.graph.output):
        value.name = renames.get(value.name, value.name)
    for node in model.graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
        node.output[:] = [renames.get(name, name) for name in node.output]
    path = other.with_name(other.stem + "_renamed.onnx")
    onnx.save(model, str(path))
    return path


def worst_rel(tool, original, other):
    other = renamed_like(original, other)
    result = subprocess.run([tool, "verify", str(original), str(other), "--precision", "f64"], capture_output=True, text=True)
    match = re.search(r"worst rel error ([0-9.e+-]+)", result.stderr + result.stdout)
    return float(match.group(1)) if match else float("nan")


def measure(out, tool, runs):
    print(f"{'pair':<34}{'fused':>7}{'deploy':>8}{'BN/sum fused':>14}{'BN/sum deploy':>15}"
          f"{'ORT fused ms':>14}{'deploy ms':>11}{'ratio':>7}{'A/A':>6}{'err fused':>11}{'err timm':>10}{'ratio':>7}")
    for train in sorted(out.glob("*_train_*.onnx")):
        deploy = pathlib.Path(str(train).replace("_train_", "_deploy_"))
        fused = train.with_name(train.name.replace("_train_", "_fused_"))
        done = subprocess.run([tool, "fuse", str(train), str(fused)], capture_output=True, text=True)
        label = train.stem.replace("_train", "")
        if done.returncode != 0:
            print(f"{label:<34} fuse failed: {done.stderr.strip().splitlines()[-1]}")
            continue
        f, d = counts(fused), counts(deploy)
        fused_ms, deploy_ms, control = latency(fused, deploy, runs)
        error_fused, error_timm = worst_rel(tool, train, fused), worst_rel(tool, train, deploy)
        print(f"{label:<34}{f[0]:>7}{d[0]:>8}{f'{f[1]}/{f[2]}':>14}{f'{d[1]}/{d[2]}':>15}"
              f"{fused_ms:>14.2f}{deploy_ms:>11.2f}{fused_ms / deploy_ms:>7.2f}{control:>6.2f}"
              f"{error_fused:>11.1e}{error_timm:>10.1e}{error_fused / error_timm:>7.2f}", flush=True)


def weights(out):
    import numpy as np
    import onnx
    from onnx import numpy_helper

    def tensors(path):
        model = onnx.load(str(path))
        values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        for node in model.graph.node:
            if node.op_type == "Constant":
                values.update({node.output[0]: numpy_helper.to_array(a.t) for a in node.attribute if a.name == "value"})
        return [[values.get(name) for name in node.input[1:]] for node in model.graph.node if node.op_type in ("Conv", "Gemm")]

    print(f"{'pair':<34}{'layers':>8}{'elements':>11}{'differ':>9}{'median ulp':>12}{'p99 ulp':>10}")
    for fused in sorted(out.glob("*_fused_*.onnx")):
        if fused.stem.endswith("_renamed"):
            continue
        deploy = pathlib.Path(str(fused).replace("_fused_", "_deploy_"))
        ours, theirs = tensors(fused), tensors(deploy)
        total, differing, distances = 0, 0, []
        for a_list, b_list in zip(ours, theirs):
            for a, b in zip(a_list, b_list):
                if a is None or b is None or a.shape != b.shape:
                    continue
                mask = a != b
                total += a.size
                differing += int(mask.sum())
                if mask.any():
                    big = np.maximum(np.abs(a[mask]), np.abs(b[mask]))
                    distances.append(np.abs(a[mask].astype(np.float64) - b[mask]) / np.spacing(big).astype(np.float64))
        ulps = np.concatenate(distances) if distances else np.zeros(1)
        label = fused.stem.replace("_fused", "")
        print(f"{label:<34}{len(ours):>8}{total:>11}{100 * differing / max(total, 1):>8.2f}%"
              f"{np.median(ulps):>12.3g}{np.percentile(ulps, 99):>10.3g}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["export", "measure", "weights"])
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--tool", default=str(ROOT / ".build" / "release" / "ghost-convert"))
    parser.add_argument("--runs", type=int, default=30, help="timed runs per file and round (5 rounds)")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    if args.step == "export":
        export(args.out, args.names or NAMES)
    elif args.step == "measure":
        measure(args.out, args.tool, args.runs)
    else:
        weights(args.out)


if __name__ == "__main__":
    main()
