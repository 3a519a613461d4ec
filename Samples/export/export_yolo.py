"""Builds the committed YOLO detectors of Models/ (family `yolo`) with ultralytics, random weights.

    python3 -m venv .venv-ultralytics
    .venv-ultralytics/bin/pip install -r Samples/requirements-ultralytics.txt
    .venv-ultralytics/bin/python Samples/export/export_yolo.py [--out Models]

Not part of CI (ultralytics is a heavy dependency): the files are small and committed. The
script replaces every `yolo` entry of OUT/manifest.json and its directory, keeps the others,
records its provenance in OUT/provenance.json and rewrites OUT/README.md.

The networks come from ultralytics' own YAML (v9-t layout: RepNCSPELAN4 blocks whose RepCSP
bottlenecks start with a RepConv, i.e. 3×3 conv+BN ∥ 1×1 conv+BN summed then SiLU; v10-n
layout: the last neck stage is a C2fCIB whose CIBs hold a RepVGGDW, DW 7×7+BN ∥ DW 3×3+BN
summed then SiLU), narrowed so each file is well under 1.5 MB, 4 classes, 160×160 input.
They stay in training form: `model.fuse()` is never called, so every parallel branch and BN is
in the graph. Only the detection head is told what inference means:
  * `export = True` (the head returns one tensor instead of (tensor, training dict));
  * YOLOv10: `head.fuse()`, which only drops the one-to-many head that inference never uses
    (no conv or BN is merged), then
      - `yolov10_*` (the golden models): the one-to-one head's decoded output before its TopK
        postprocess, as two outputs `boxes` [N, anchors, 4] (xyxy pixels) and `scores`
        [N, anchors, nc] (sigmoid);
      - `yolov10_topk`: the same network with ultralytics' end-to-end postprocess (TopK over
        anchors, GatherElements, TopK over anchor×class), output `detections` [N, k, 6] =
        x1, y1, x2, y2, score, class; manifest `"selection": true`.
  * YOLOv9: the usual decoded head, `boxes` [N, 4, anchors] (xywh pixels) and `scores`
    [N, nc, anchors].
Boxes and scores are separate outputs so that each is compared at its own scale (box
coordinates are ~100, scores < 1).

Files: OUT/<id>/model.onnx and, per output, <name>.npy (ONNX Runtime, CPU, one thread,
ORT_DISABLE_ALL) and <name>_f64.npy (PyTorch in float64). The exports of one network share one
input.npy, in the directory of its first export (the manifest's `inputs[].file` says where).

Seeds: yolov10_tiny uses 3802. With its first seed, 3002, float32 rounding alone (ONNX Runtime
vs float64 PyTorch) reached 9e-6 on the scores; the narrow 5×5 stride-32 stage and PSA amplify it.

Weights: ultralytics' initialisation from torch.manual_seed(seed), then randomize.py's BN
draws and calibration (as for every model in Models/). The class-score biases, which ultralytics
sets to log(5 / nc / (640 / stride)²) ≈ −7 for training from scratch (every score ~1e-3), are
redrawn U(−1, 1) so the scores spread over (0, 1) and the TopK selection has something to select.

Conditioning (yolov9_narrow): calibration makes every BN's output channel ~ N(β, γ²) on random
inputs, so γ and β choose where each SiLU works. With randomize.py's default draws (γ ~ U(0.6, 1.4),
β ~ U(−0.2, 0.2)) SiLU works around its bend, and a normalization after a bent activation
amplifies perturbations: per layer, a small change δh of the pre-activations comes out of the
next BN with mean square gain χ = γ² E[SiLU′(h)²] / Var SiLU(h), h ~ N(β, γ²), which is 1 for a
linear map and 1.21 at γ = 1, β = 0. Compounded along YOLOv9's chains of BNs (137 BNs, dozens
of them in sequence) this made the random network chaotic: float32 evaluation noise on random N(0, 1) inputs reached 7e-5 (PyTorch,
12 inputs), the output scale varied from input to input (the RMS of stage 21 from 0.24 to 6.9),
and the fusion's float32 weight rounding showed as 1.8e-5 in `ghost-convert verify`, above the
1e-5 gate. Its BNs therefore draw γ ~ U(0.4, 0.6) and β ~ U(0.3, 0.7) (YOLOV9_BN): χ ≈ 1.04,
SiLU still bent (its input spans about −0.5 … 1.5), every BN still far from the identity (the
running statistics are the calibrated, perturbed ones), and the float32 noise falls to 1.2e-6
with a stable output scale (stage-21 RMS 0.48 … 0.63); `ghost-convert verify` (f64, seeds 0…3,
4 samples each) of the correct fusion shows at most 4.1e-7 (1.8e-5 before). yolov10_tiny keeps
the default draws, so its files do not change: it is already well conditioned (its correct
fusion verifies at ~1.8e-6).
"""
import argparse
import copy
import datetime
import json
import os
import pathlib
import platform
import shutil
import sys
import tempfile
from importlib import metadata

import numpy as np

import exporting
import goldens
import randomize
from _torch_env import torch

import export_all
import export_vision
import readme

# ultralytics writes a settings file into its config directory on import: not into $HOME.
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="ultralytics-"))
from ultralytics.nn.modules.block import RepVGGDW  # noqa: E402
from ultralytics.nn.modules.conv import RepConv  # noqa: E402
from ultralytics.nn.tasks import DetectionModel  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
INPUT_NAME = "images"
SHAPE = (1, 3, 160, 160)
NUM_CLASSES = 4
REG_MAX = 8  # DFL bins per box side (ultralytics: 16); halves the box branch, the largest part of these heads
MAX_DETECTIONS = 100  # `yolov10_topk`: k of the end-to-end postprocess (ultralytics' default is 300)
REL_TOLERANCE_F64 = 2e-5
T, D = "torchscript", "dynamo"

# YOLOv9-t (ultralytics cfg/models/v9/yolov9t.yaml) at 1/4 of its widths (8 at least, which is
# ultralytics' rounding of a layer's output width) and RepCSP depth 1 instead of 3: RepNCSPELAN4's hidden widths (3rd/4th argument) are not scaled by
# `scales`, so the narrowing is written out. Same layers, same connections, same block types.
YOLOV9_NARROW = {
    "nc": NUM_CLASSES,
    "reg_max": REG_MAX,
    "backbone": [
        [-1, 1, "Conv", [8, 3, 2]],  # 0-P1/2
        [-1, 1, "Conv", [8, 3, 2]],  # 1-P2/4
        [-1, 1, "ELAN1", [8, 8, 4]],  # 2
        [-1, 1, "AConv", [16]],  # 3-P3/8
        [-1, 1, "RepNCSPELAN4", [16, 16, 8, 1]],  # 4
        [-1, 1, "AConv", [24]],  # 5-P4/16
        [-1, 1, "RepNCSPELAN4", [24, 24, 12, 1]],  # 6
        [-1, 1, "AConv", [32]],  # 7-P5/32
        [-1, 1, "RepNCSPELAN4", [32, 32, 16, 1]],  # 8
        [-1, 1, "SPPELAN", [32, 16]],  # 9
    ],
    "head": [
        [-1, 1, "nn.Upsample", [None, 2, "nearest"]],
        [[-1, 6], 1, "Concat", [1]],  # cat backbone P4
        [-1, 1, "RepNCSPELAN4", [24, 24, 12, 1]],  # 12
        [-1, 1, "nn.Upsample", [None, 2, "nearest"]],
        [[-1, 4], 1, "Concat", [1]],  # cat backbone P3
        [-1, 1, "RepNCSPELAN4", [16, 16, 8, 1]],  # 15
        [-1, 1, "AConv", [16]],
        [[-1, 12], 1, "Concat", [1]],  # cat head P4
        [-1, 1, "RepNCSPELAN4", [24, 24, 12, 1]],  # 18
        [-1, 1, "AConv", [16]],
        [[-1, 9], 1, "Concat", [1]],  # cat head P5
        [-1, 1, "RepNCSPELAN4", [32, 32, 16, 1]],  # 21
        [[15, 18, 21], 1, "Detect", ["nc"]],  # Detect(P3, P4, P5)
    ],
}

# YOLOv10-n (ultralytics cfg/models/v10/yolov10n.yaml) at a custom scale, width 0.0625 instead of
# n's 0.25 and max_channels 768 instead of 1024 (channels 8 … 48 instead of 16 … 256), depth as n. Its `v10Detect` head is written as
# `Detect` with `end2end: True`: in this ultralytics the two build the same one-to-many +
# one-to-one heads (depthwise-separable class branch, as C2fCIB makes the model non-legacy), but
# only Detect takes `reg_max` from the YAML.
YOLOV10_TINY = {
    "nc": NUM_CLASSES,
    "reg_max": REG_MAX,
    "reg_max": REG_MAX,
    "end2end": True,
    "scales": {"t": [0.33, 0.0625, 768]},
    "scale": "t",
    "backbone": [
        [-1, 1, "Conv", [64, 3, 2]],  # 0-P1/2
        [-1, 1, "Conv", [128, 3, 2]],  # 1-P2/4
        [-1, 3, "C2f", [128, True]],
        [-1, 1, "Conv", [256, 3, 2]],  # 3-P3/8
        [-1, 6, "C2f", [256, True]],
        [-1, 1, "SCDown", [512, 3, 2]],  # 5-P4/16
        [-1, 6, "C2f", [512, True]],
        [-1, 1, "SCDown", [1024, 3, 2]],  # 7-P5/32
        [-1, 3, "C2f", [1024, True]],
        [-1, 1, "SPPF", [1024, 5]],  # 9
        [-1, 1, "PSA", [1024]],  # 10
    ],
    "head": [
        [-1, 1, "nn.Upsample", [None, 2, "nearest"]],
        [[-1, 6], 1, "Concat", [1]],
        [-1, 3, "C2f", [512]],  # 13
        [-1, 1, "nn.Upsample", [None, 2, "nearest"]],
        [[-1, 4], 1, "Concat", [1]],
        [-1, 3, "C2f", [256]],  # 16 (P3/8-small)
        [-1, 1, "Conv", [256, 3, 2]],
        [[-1, 13], 1, "Concat", [1]],
        [-1, 3, "C2f", [512]],  # 19 (P4/16-medium)
        [-1, 1, "SCDown", [512, 3, 2]],
        [[-1, 10], 1, "Concat", [1]],
        [-1, 3, "C2fCIB", [1024, True, True]],  # 22 (P5/32-large), lk=True: RepVGGDW
        [[16, 19, 22], 1, "Detect", ["nc"]],  # with end2end: v10Detect's heads, REG_MAX bins
    ],
}

# BN γ/β bounds of yolov9_narrow (module docstring, "Conditioning"): the calibrated BNs then put
# every SiLU's input at ~N(0.5, 0.5²), where the network is not chaotic.
YOLOV9_BN = dict(gamma=(0.4, 0.6), beta=(0.3, 0.7))

NETWORKS = {
    "yolov9_narrow": dict(
        yaml=YOLOV9_NARROW, seed=3001, branches=RepConv, bn=YOLOV9_BN,
        about="ultralytics YOLOv9-t layout at 1/4 width, RepCSP depth 1 (RepNCSPELAN4 with RepConv "
              "3×3∥1×1 branches), Detect head, 4 classes"),
    "yolov10_tiny": dict(
        yaml=YOLOV10_TINY, seed=3802, branches=RepVGGDW,
        about="ultralytics YOLOv10-n layout at width 0.0625, ≤ 48 channels (C2fCIB with RepVGGDW 7×7∥3×3 depthwise "
              "branches, PSA attention), one-to-one v10Detect head, 4 classes"),
}

# id, network, exporter, opset, head ("raw" | "topk")
EXPORTS = [
    ("yolov9_narrow", "yolov9_narrow", T, 17, "raw"),
    ("yolov9_narrow_dynamo", "yolov9_narrow", D, 18, "raw"),
    ("yolov10_tiny", "yolov10_tiny", T, 17, "raw"),
    ("yolov10_tiny_dynamo", "yolov10_tiny", D, 18, "raw"),
    ("yolov10_tiny_topk", "yolov10_tiny", T, 17, "topk"),
]


class Outputs(torch.nn.Module):
    """The detector with the head's output split into the graph outputs named in OUTPUT_NAMES."""

    def __init__(self, model, head):
        super().__init__()
        self.model, self.head = model, head

    def forward(self, x):
        y = self.model(x)
        if self.head == "topk":
            return y
        if y.shape[-1] == 4 + NUM_CLASSES:  # v10 one-to-one before postprocess: [N, anchors, 4 + nc]
            return y[..., :4], y[..., 4:]
        return y[:, :4], y[:, 4:]  # v9: [N, 4 + nc, anchors]


OUTPUT_NAMES = {"raw": ["boxes", "scores"], "topk": ["detections"]}


def build(name, head):
    """The detector in eval mode with randomized BN statistics; the same weights for both heads."""
    spec = NETWORKS[name]
    torch.manual_seed(spec["seed"])
    np.random.seed(spec["seed"])
    model = DetectionModel(copy.deepcopy(spec["yaml"]), ch=3, nc=NUM_CLASSES, verbose=False)
    detect = model.model[-1]
    generator = torch.Generator().manual_seed(spec["seed"] + 1)
    with torch.no_grad():
        heads = [detect.cv3] + ([detect.one2one_cv3] if getattr(detect, "one2one_cv3", None) is not None else [])
        for branch in heads:
            for sequence in branch:
                bias = sequence[-1].bias
                bias.copy_(torch.rand(bias.shape, generator=generator) * 2 - 1)
    detect.export, detect.format = True, "onnx"
    if getattr(detect, "one2one_cv2", None) is not None:
        detect.end2end = True  # what ultralytics' predictor and exporter select for YOLOv10
        detect.fuse()  # then this drops the one-to-many head only (see the module docstring)
        assert detect.cv2 is None and detect.one2one_cv2 is not None
        detect.max_det = MAX_DETECTIONS
        if head == "raw":
            detect.postprocess = lambda predictions: predictions  # stop before TopK
    model = Outputs(model.eval(), head).eval()
    return randomize.randomize_model(model, spec["seed"], SHAPE, **spec.get("bn", {}))


@torch.no_grad()
def run_float64(model, x):
    shadow = copy.deepcopy(model).double().eval()
    detect = shadow.model.model[-1]
    detect.shape = None  # anchors and strides are recomputed, in float64
    y = shadow(torch.from_numpy(x.astype(np.float64)))
    return [t.numpy() for t in (y if isinstance(y, tuple) else (y,))]


def parallel_branches(proto):
    """Adds whose two operands are Convs (each maybe followed by a BatchNormalization) reading the
    same tensor: RepConv's 3×3 ∥ 1×1 and RepVGGDW's 7×7 ∥ 3×3, the sums the fusion merges."""
    producer = {out: node for node in proto.graph.node for out in node.output}

    def conv_source(name):
        node = producer.get(name)
        if node is not None and node.op_type == "BatchNormalization":
            node = producer.get(node.input[0])
        return node.input[0] if node is not None and node.op_type == "Conv" else None

    count = 0
    for node in proto.graph.node:
        if node.op_type == "Add" and len(node.input) == 2:
            a, b = conv_source(node.input[0]), conv_source(node.input[1])
            count += a is not None and a == b
    return count


def export(model_id, network, exporter, opset, head, model, x, out_dir):
    directory = out_dir / model_id
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    path = directory / "model.onnx"
    names = OUTPUT_NAMES[head]
    # Before exporting: torch.export leaves fake tensors in the head's anchor cache.
    references = run_float64(model, x)
    if exporter == T:
        proto = exporting.export_torchscript(model, torch.from_numpy(x), path, opset, INPUT_NAME, names)
    else:
        proto = exporting.export_dynamo(model, torch.from_numpy(x), path, opset, INPUT_NAME, names, False)
    ops = exporting.check_export(proto, path, opset, keep_batchnorm=exporter == T)
    modules = export_all.count_batchnorm_modules(model)
    if exporter == T and ops["BatchNormalization"] != modules:
        raise RuntimeError(f"{model_id}: {ops['BatchNormalization']} BN nodes for {modules} BN modules")
    expected = sum(isinstance(m, NETWORKS[network]["branches"]) for m in model.modules())
    found = parallel_branches(proto)
    if found != expected:
        raise RuntimeError(f"{model_id}: {found} parallel conv branches summed in the graph, {expected} modules")
    if [o.name for o in proto.graph.output] != names:
        raise RuntimeError(f"{model_id}: outputs {[o.name for o in proto.graph.output]}")

    # The exports of one network share its first export's input file (Models/ has a size budget).
    input_file = f"{next(e[0] for e in EXPORTS if e[1] == network)}/input.npy"
    if not (out_dir / input_file).exists():
        np.save(out_dir / input_file, x)
    if not np.array_equal(np.load(out_dir / input_file), x):
        raise RuntimeError(f"{model_id}: {input_file} is not this network's input")
    outputs = goldens.run_onnxruntime(path, {INPUT_NAME: x})
    error = 0.0
    entry_outputs = []
    for name, y, y64 in zip(names, outputs, references):
        if not np.isfinite(y).all():
            raise RuntimeError(f"{model_id}: non-finite '{name}'")
        np.save(directory / f"{name}.npy", np.ascontiguousarray(y))
        np.save(directory / f"{name}_f64.npy", np.ascontiguousarray(y64))
        error = max(error, goldens.relative_error(y, y64))
        entry_outputs.append({"name": name, "file": f"{model_id}/{name}.npy",
                              "file_f64": f"{model_id}/{name}_f64.npy", "shape": list(y.shape)})
        print(f"  {model_id} {name} {list(y.shape)}: range [{y.min():.3g}, {y.max():.3g}], "
              f"vs f64 {goldens.relative_error(y, y64):.1e}")
    if error > REL_TOLERANCE_F64:
        raise RuntimeError(f"{model_id}: ONNX Runtime vs float64 PyTorch differ by {error:.2e}")
    entry = {
        "id": model_id,
        "file": f"{model_id}/model.onnx",
        "family": "yolo",
        "exporter": exporter,
        "opset": opset,
        "inputs": [{"name": INPUT_NAME, "file": input_file, "shape": list(x.shape), "dtype": "float32"}],
        "outputs": entry_outputs,
        "batchnorm_nodes": ops["BatchNormalization"],
        "nodes": len(proto.graph.node),
        "external_data": False,
        "form": "training",
        "bytes": path.stat().st_size,
        "network": network,
        "seed": NETWORKS[network]["seed"],
        "dynamic_batch": False,
        "ort_vs_f64": float(f"{error:.2e}"),
    }
    if head == "topk":
        entry["selection"] = True
    print(f"  {model_id:<24} {exporter:<11} opset {opset:<3} {entry['nodes']:>4} nodes "
          f"{entry['batchnorm_nodes']:>4} BN  {found} branch sums  {entry['bytes'] / 1e6:5.2f} MB  "
          f"ORT vs f64 {error:.1e}  ops {sorted(ops)}")
    return entry


def provenance_line():
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch else \
        datetime.datetime.now(datetime.timezone.utc)
    packages = ["ultralytics", "torch", "onnx", "onnxruntime", "onnxscript", "numpy"]
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in packages)
    return f"Made on {moment:%Y-%m-%d} with Python {platform.python_version()}, {versions}."


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "Models"), help="the Models/ directory to update")
    args = parser.parse_args()
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    manifest_path = out_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else []
    for old in (e for e in manifest if e["family"] == "yolo"):
        shutil.rmtree(out_dir / old["id"], ignore_errors=True)
    kept = [e for e in manifest if e["family"] != "yolo"]

    entries, failures = [], []
    for model_id, network, exporter, opset, head in EXPORTS:
        # Built afresh for every export (deterministic, a few seconds): no export sees what an earlier
        # one left in the head's anchor cache.
        model = build(network, head)
        x = goldens.make_input(SHAPE, NETWORKS[network]["seed"])
        print(f"[{model_id}] seed {NETWORKS[network]['seed']}, input {list(SHAPE)}: {randomize.bn_summary(model)}")
        try:
            entries.append(export(model_id, network, exporter, opset, head, model, x, out_dir))
        except Exception as error:
            if exporter != D:
                raise
            shutil.rmtree(out_dir / model_id, ignore_errors=True)
            message = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:300]}"
            print(f"  {model_id}: dynamo export FAILED: {message}")
            failures.append([model_id, message])

    manifest_path.write_text(json.dumps(kept + entries, indent=2) + "\n")
    provenance = readme.load_provenance(out_dir)
    provenance["yolo"] = {
        "made": provenance_line(),
        "networks": [{"name": name, "family": "yolo", "about": spec["about"], "seed": spec["seed"],
                      "input": list(SHAPE)} for name, spec in NETWORKS.items()],
        "failures": failures,
    }
    readme.save_provenance(out_dir, provenance)
    readme.write(out_dir / "README.md", kept + entries, export_all.NETWORKS, provenance,
                 export_vision.NETWORKS, export_vision.EXPORTS)
    total = sum(f.stat().st_size for f in out_dir.rglob("*") if f.is_file())
    print(f"\n{len(entries)} YOLO models, {len(failures)} failed exports, {out_dir} total {total / 1e6:.2f} MB")
    if total > export_all.SIZE_BUDGET:
        print("ERROR: over the size budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
