"""Exports the detectors and segmenters at their deployed input sizes for the interpreter benchmark
(issue 13): the YOLO detectors of Samples/export/export_yolo.py at 640² and the MobileNetV3
segmentation heads of Samples/export/export_vision.py at 512², each in training form and fused by
`ghost-convert fuse`. The committed and CI-made ones are small (160², 128²) to keep files and test
time down; at those sizes per-node overhead dominates, not the feature maps a deployment sees.

Same networks, seeds and randomization as the committed ones (only the input size differs, so the
BatchNorm statistics are calibrated at the deployed size), TorchScript exporter, opset 17, batch 1.
Not committed: written to --out (default Benchmarks/.cache/deployed) as <id>.onnx and
<id>_fused.onnx. The YOLO networks need ultralytics (Samples/requirements-ultralytics.txt, its own
venv; see export_yolo.py); the segmenters only the export venv.

    .venv-ultralytics/bin/python Benchmarks/interpreter/export_deployed.py --tool .build/release/ghost-convert
    .venv-export/bin/python Benchmarks/interpreter/export_deployed.py --tool … lraspp_mbv3_512 deeplabv3_mbv3_512
    python Benchmarks/interpreter/vs_ort.py --tool .build/release/ghost-convert --deployed
"""
import argparse
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Samples" / "export"))

import exporting  # noqa: E402
import randomize  # noqa: E402
from _torch_env import torch  # noqa: E402

DETECTOR_SIZE, SEGMENTER_SIZE = 640, 512
# id → (family, network in its export script, side)
MODELS = {
    "yolov9_narrow_640": ("yolo", "yolov9_narrow", DETECTOR_SIZE),
    "yolov10_tiny_640": ("yolo", "yolov10_tiny", DETECTOR_SIZE),
    "lraspp_mbv3_512": ("segmentation", "lraspp_mbv3", SEGMENTER_SIZE),
    "deeplabv3_mbv3_512": ("segmentation", "deeplabv3_mbv3", SEGMENTER_SIZE),
}


def detector(network, side):
    """export_yolo's network (raw head: boxes and scores), calibrated at side²."""
    import export_yolo
    export_yolo.SHAPE = (1, 3, side, side)
    return export_yolo.build(network, "raw"), export_yolo.INPUT_NAME, export_yolo.OUTPUT_NAMES["raw"]


def segmenter(network, side):
    """export_vision's network with its seed, calibrated at side²."""
    import export_vision
    spec = export_vision.NETWORKS[network]
    torch.manual_seed(spec.seed)
    return randomize.randomize_model(spec.build(), spec.seed, (1, 3, side, side)), "input", "logits"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "Benchmarks" / ".cache" / "deployed"))
    parser.add_argument("--tool", help="ghost-convert, to write the fused <id>_fused.onnx beside each export")
    parser.add_argument("ids", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    for model_id in args.ids:
        family, network, side = MODELS[model_id]
        path = out / f"{model_id}.onnx"
        if path.exists():
            print(f"{path} exists")
        else:
            model, input_name, output_names = (detector if family == "yolo" else segmenter)(network, side)
            example = torch.randn(1, 3, side, side, generator=torch.Generator().manual_seed(13))
            exporting.export_torchscript(model, example, path, 17, input_name, output_names)
            print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
        fused = out / f"{model_id}_fused.onnx"
        if args.tool and not fused.exists():
            subprocess.run([args.tool, "fuse", str(path), str(fused), "--quiet"], check=True)
            print(f"wrote {fused}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
