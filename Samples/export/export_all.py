"""Regenerates Models/: the seed-network zoo with random weights, randomized BN statistics,
inputs and goldens, plus Models/manifest.json and Models/README.md.

    scripts/python-env.sh export
    .venv-export/bin/python Samples/export/export_all.py [--out DIR]

Deterministic: each network has a fixed seed (torch, numpy and the BN draws derive from it),
everything runs single-threaded, and manifest/README are written in a fixed order.
The whole of Models/ (YOLO detectors included) must stay within SIZE_BUDGET bytes, the project's limit.
"""
import argparse
import dataclasses
import json
import pathlib
import shutil
import sys
import time
from typing import Callable, Optional

import numpy as np

import builders
import exporting
import goldens
import randomize
import readme
from _torch_env import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
SIZE_BUDGET = 60_000_000
INPUT_NAME, OUTPUT_NAME = "input", "logits"
# float32 ONNX Runtime vs float64 PyTorch, max|diff| / max|ref|. Rounding adds ~2e-7 per layer,
# so the deepest nets here reach ~1e-5 (recorded per model as `ort_vs_f64`); more means a bug.
REL_TOLERANCE_F64 = 2e-5


@dataclasses.dataclass
class Network:
    family: str
    build: Callable[[], torch.nn.Module]
    shape: tuple  # input shape, NCHW; also the golden input's shape
    seed: int
    about: str


@dataclasses.dataclass
class Export:
    id: str
    network: str
    exporter: str  # "torchscript" | "dynamo"
    opset: int
    form: Optional[str] = None  # RepGhostNet only: "training" (branches) | "deploy" (merged)
    external: bool = False
    dynamic_batch: bool = False
    keep_metadata: bool = False  # dynamo only: keep the nodes' provenance metadata_props


T, D = "torchscript", "dynamo"

NETWORKS = {
    "ghostnet_100": Network("ghostnet", lambda: builders.timm_model("ghostnet_100", 1000),
                            (1, 3, 224, 224), 1001, "timm `ghostnet_100`: GhostNet 1.0, full size, 1000 classes"),
    "ghostnet_020": Network("ghostnet", lambda: builders.timm_model("ghostnet_050", 10, width=0.2, head=128),
                            (1, 3, 64, 64), 1002, "timm GhostNet at width 0.2, head 128, 10 classes"),
    "repghostnet_100": Network("repghostnet", lambda: builders.timm_model("repghostnet_100", 10, head=128),
                               (1, 3, 96, 96), 1003, "timm `repghostnet_100`: RepGhostNet 1.0, head 128, 10 classes"),
    "repghostnet_050": Network("repghostnet", lambda: builders.timm_model("repghostnet_050", 10, head=128),
                               (1, 3, 64, 64), 1004, "timm `repghostnet_050`: RepGhostNet 0.5, head 128, 10 classes"),
    "repghostnet_025": Network("repghostnet", lambda: builders.timm_model("repghostnet_050", 10, width=0.25, head=128),
                               (1, 3, 64, 64), 1005, "timm RepGhostNet at width 0.25, head 128, 10 classes"),
    "mobilenetv3_large_025": Network(
        "mobilenetv3", lambda: builders.timm_model("mobilenetv3_large_100", 10, width=0.25, head=128),
        (1, 3, 96, 96), 4006, "timm MobileNetV3-Large at width 0.25, head 128, 10 classes"),
    "mobilenetv3_small_025": Network(
        "mobilenetv3", lambda: builders.timm_model("mobilenetv3_small_100", 10, width=0.25, head=128),
        (1, 3, 64, 64), 1013, "timm MobileNetV3-Small at width 0.25, head 128, 10 classes"),
    "mobilenetv3_small_tv": Network(
        "mobilenetv3", lambda: builders.tv_mobilenet_v3("small", 10, width=0.5, reduced_tail=True),
        (1, 3, 64, 64), 1008, "torchvision `mobilenet_v3_small`, width 0.5, reduced tail, 10 classes"),
    "shufflenet_v2_x1_0": Network(
        "shufflenetv2", lambda: builders.tv_shufflenet_v2([24, 116, 232, 464, 256], 10),
        (2, 3, 96, 96), 1009, "torchvision ShuffleNetV2 1.0 (conv5 256 wide instead of 1024), 10 classes"),
    "shufflenet_v2_x0_5": Network(
        "shufflenetv2", lambda: builders.tv_shufflenet_v2([24, 48, 96, 192, 256], 10),
        (1, 3, 64, 64), 1010, "torchvision ShuffleNetV2 0.5 (conv5 256 wide instead of 1024), 10 classes"),
    "ghostnet_cifar": Network("ghostnet-cifar", lambda: builders.ghostnet_cifar(10, width=0.2),
                              (2, 3, 32, 32), 1011, "seed 004's MindSpore GhostNet for CIFAR-10 at width 0.2"),
    "tiny": Network("tiny", lambda: builders.tiny_residual(8),
                    (1, 8, 16, 16), 1012, "Conv-BN-Relu-Conv-BN + residual Add, 8 channels"),
}

EXPORTS = [
    Export("ghostnet_100", "ghostnet_100", T, 17),
    Export("ghostnet_020_dynamo", "ghostnet_020", D, 18),
    Export("repghostnet_100", "repghostnet_100", T, 17, form="training"),
    Export("repghostnet_100_deploy", "repghostnet_100", T, 17, form="deploy"),
    Export("repghostnet_050", "repghostnet_050", T, 17, form="training"),
    Export("repghostnet_025_opset11", "repghostnet_025", T, 11, form="training"),
    Export("repghostnet_025_opset13", "repghostnet_025", T, 13, form="training"),
    Export("repghostnet_025_dynamo", "repghostnet_025", D, 18, form="training"),
    Export("mobilenetv3_large_025", "mobilenetv3_large_025", T, 17),
    Export("mobilenetv3_large_025_dynamo", "mobilenetv3_large_025", D, 18),
    Export("mobilenetv3_small_025", "mobilenetv3_small_025", T, 17),
    Export("mobilenetv3_small_025_opset11", "mobilenetv3_small_025", T, 11),
    Export("mobilenetv3_small_025_opset13", "mobilenetv3_small_025", T, 13),
    Export("mobilenetv3_small_025_dynamo", "mobilenetv3_small_025", D, 18),
    Export("mobilenetv3_small_tv", "mobilenetv3_small_tv", T, 17),
    Export("mobilenetv3_small_tv_dynamo", "mobilenetv3_small_tv", D, 18),
    Export("shufflenet_v2_x1_0", "shufflenet_v2_x1_0", T, 17, dynamic_batch=True),
    Export("shufflenet_v2_x0_5_dynamo", "shufflenet_v2_x0_5", D, 18),
    Export("ghostnet_cifar", "ghostnet_cifar", T, 17),
    Export("ghostnet_cifar_dynamo", "ghostnet_cifar", D, 18),
    Export("tiny_external", "tiny", T, 17, external=True),
    Export("tiny_external_dynamo", "tiny", D, 18, external=True, keep_metadata=True),
]


def build_network(name, networks=None):
    """Builds and randomizes one network; the input is drawn from the same seed."""
    net = (networks or NETWORKS)[name]
    torch.manual_seed(net.seed)
    np.random.seed(net.seed)
    model = randomize.randomize_model(net.build(), net.seed, net.shape)
    x = goldens.make_input(net.shape, net.seed)
    stats = goldens.magnitude_check(name, goldens.run_float32(model, x))
    print(f"[{name}] seed {net.seed}, input {list(net.shape)}: logits {stats}")
    print(f"[{name}] {randomize.bn_summary(model)}")
    return model, x


def count_batchnorm_modules(model):
    return sum(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())


def export_one(spec, model, x, out_dir, networks=None):
    """Writes out_dir/<id>/{model.onnx[, model.weights], input.npy, output.npy, output_f64.npy}
    and returns the manifest entry. `networks`: the table `spec.network` is looked up in
    (default NETWORKS; export_vision.py passes its own)."""
    networks = networks or NETWORKS
    directory = out_dir / spec.id
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    if spec.form == "deploy":
        training = model
        model = builders.reparameterized(training)
        # PyTorch merges in float32, so the merged kernels carry float32 rounding (~1e-6 relative
        # at the logits, even evaluated in float64); anything larger would be a wrong merge.
        drift = goldens.relative_error(goldens.run_float64(model, x), goldens.run_float64(training, x))
        print(f"  {spec.id}: deploy vs training form in float64 PyTorch: {drift:.1e}")
        if drift > 1e-5:
            raise RuntimeError(f"{spec.id}: reparameterized model differs from the training form by {drift:.2e}")
    path = directory / "model.onnx"
    if spec.exporter == T:
        proto = exporting.export_torchscript(model, torch.from_numpy(x), path, spec.opset,
                                             INPUT_NAME, OUTPUT_NAME, spec.dynamic_batch)
    else:
        proto = exporting.export_dynamo(model, torch.from_numpy(x), path, spec.opset, INPUT_NAME, OUTPUT_NAME,
                                        spec.keep_metadata)
    if spec.external:
        proto = exporting.save_with_external_data(proto, path, "model.weights")
    ops = exporting.check_export(proto, path, spec.opset, keep_batchnorm=spec.exporter == T)
    if spec.exporter == T and ops["BatchNormalization"] != count_batchnorm_modules(model):
        raise RuntimeError(f"{spec.id}: {ops['BatchNormalization']} BN nodes for "
                           f"{count_batchnorm_modules(model)} BN modules")
    if spec.form and networks[spec.network].family == "repghostnet":
        # RepGhostNet: the identity-branch BNs are there in training form, gone in deploy
        expected = sum(name.endswith("fusion_bn.0") for name, _ in model.named_modules())
        found = exporting.identity_branch_batchnorms(proto)
        if found != expected or (spec.form == "training") != (found > 0):
            raise RuntimeError(f"{spec.id}: {found} identity-branch BNs in the graph, {expected} in the model")

    input_names = [i.name for i in proto.graph.input if i.name not in {t.name for t in proto.graph.initializer}]
    output_names = [o.name for o in proto.graph.output]
    assert input_names == [INPUT_NAME] and len(output_names) == 1, (input_names, output_names)
    np.save(directory / "input.npy", x)
    (y,) = goldens.run_onnxruntime(path, {INPUT_NAME: x})
    np.save(directory / "output.npy", y)
    y64 = goldens.run_float64(model, x)
    np.save(directory / "output_f64.npy", y64)
    error = goldens.relative_error(y, y64)
    if error > REL_TOLERANCE_F64:
        raise RuntimeError(f"{spec.id}: ONNX Runtime vs float64 PyTorch differ by {error:.2e}")

    files = [path] + ([directory / "model.weights"] if spec.external else [])
    entry = {
        "id": spec.id,
        "file": f"{spec.id}/model.onnx",
        "family": networks[spec.network].family,
        "exporter": spec.exporter,
        "opset": spec.opset,
        "inputs": [{"name": INPUT_NAME, "file": f"{spec.id}/input.npy", "shape": list(x.shape), "dtype": "float32"}],
        "outputs": [{"name": output_names[0], "file": f"{spec.id}/output.npy",
                     "file_f64": f"{spec.id}/output_f64.npy", "shape": list(y.shape)}],
        "batchnorm_nodes": ops["BatchNormalization"],
        "nodes": len(proto.graph.node),
        "external_data": spec.external,
        "form": spec.form,
        "bytes": sum(f.stat().st_size for f in files),
        "network": spec.network,
        "seed": networks[spec.network].seed,
        "dynamic_batch": spec.dynamic_batch,
        "ort_vs_f64": float(f"{error:.2e}"),
    }
    print(f"  {spec.id:<32} {spec.exporter:<11} opset {spec.opset:<3} {entry['nodes']:>4} nodes "
          f"{entry['batchnorm_nodes']:>4} BN  {entry['bytes'] / 1e6:6.2f} MB  ORT vs f64 {error:.1e}")
    return entry


def main():
    parser = argparse.ArgumentParser(description="Regenerate the Models/ zoo.")
    parser.add_argument("--out", default=str(ROOT / "Models"), help="output directory (default: Models/)")
    parser.add_argument("--only", nargs="*", help="export only these ids (no manifest/README rewrite)")
    parser.add_argument("--readme", action="store_true",
                        help="only rewrite README.md from manifest.json and provenance.json")
    args = parser.parse_args()
    out_dir = pathlib.Path(args.out)
    if args.readme:
        import export_vision  # imports this module: not at the top

        readme.write(out_dir / "README.md", json.loads((out_dir / "manifest.json").read_text()), NETWORKS,
                     readme.load_provenance(out_dir), export_vision.NETWORKS, export_vision.EXPORTS)
        return 0
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    selected = [e for e in EXPORTS if not args.only or e.id in args.only]
    # The `yolo` models are export_yolo.py's (ultralytics, another venv): a full run keeps them.
    manifest_path = out_dir / "manifest.json"
    kept = [e for e in json.loads(manifest_path.read_text()) if e["family"] == "yolo"] \
        if manifest_path.exists() else []
    if not args.only and out_dir.exists():
        # a full run owns the rest of the directory: no stale models survive
        keep = {e["id"] for e in kept} | ({"provenance.json"} if kept else set())
        for child in out_dir.iterdir():
            if child.name not in keep:
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)

    entries, failures, built = [], [], {}
    started = time.time()
    for spec in selected:
        if spec.network not in built:
            built[spec.network] = build_network(spec.network)
        model, x = built[spec.network]
        try:
            entry = export_one(spec, model, x, out_dir)
        except Exception as error:  # record and go on: the README lists what failed and why
            if spec.exporter != D:
                raise
            shutil.rmtree(out_dir / spec.id, ignore_errors=True)
            message = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:300]}"
            print(f"  {spec.id}: dynamo export FAILED: {message}")
            failures.append((spec.id, message))
            continue
        entries.append(entry)

    if not args.only:
        import export_vision  # imports this module: not at the top

        manifest_path.write_text(json.dumps(entries + kept, indent=2) + "\n")
        provenance = readme.load_provenance(out_dir)
        provenance["zoo"] = {"made": readme.made_line(), "failures": [list(f) for f in failures]}
        readme.save_provenance(out_dir, provenance)
        readme.write(out_dir / "README.md", entries + kept, NETWORKS, provenance,
                     export_vision.NETWORKS, export_vision.EXPORTS)
    total = sum(f.stat().st_size for f in out_dir.rglob("*") if f.is_file())
    print(f"\n{len(entries)} models, {len(failures)} failed exports, Models/ total {total / 1e6:.2f} MB "
          f"(budget {SIZE_BUDGET / 1e6:.0f} MB), {time.time() - started:.0f} s")
    if total > SIZE_BUDGET:
        print("ERROR: over the size budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
