"""Exports the seed families at their standard size (width 1.0, 224², 1000 classes) for the
interpreter benchmark. The bundled Models/ are shrunk to keep the repository small; at 96² and
width 0.25 a forward pass is a few hundred microseconds and per-node overhead dominates, while
these are the networks as deployed.

Random weights and randomized BatchNorm statistics (Samples/export/randomize.py), TorchScript
exporter, opset 17, batch 1. Not committed: written to --out (default Benchmarks/.cache/standard).

The ViT hybrids of issue 13 (FastViT-T8 and RepViT-M0.9 at 224², MobileViT-XXS at 256²) are
exported in their training form (every re-parameterizable branch separate, as the fusion tool
sees them); `ghost-convert fuse` makes the fused file next to it (`<name>.fused.onnx`).

    scripts/python-env.sh export
    .venv-export/bin/python Benchmarks/interpreter/export_standard.py
    python Benchmarks/interpreter/vs_ort.py --tool .build/release/ghost-convert \
        --model Benchmarks/.cache/standard/repghostnet_100.onnx …
"""
import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Samples" / "export"))

import builders  # noqa: E402
import exporting  # noqa: E402
import randomize  # noqa: E402
from _torch_env import torch  # noqa: E402

SHAPE = (1, 3, 224, 224)
SHAPES = {"mobilevit_xxs": (1, 3, 256, 256)}  # its native resolution; every other one is SHAPE
NETWORKS = {
    "ghostnet_100": lambda: builders.timm_model("ghostnet_100", 1000),
    "repghostnet_100": lambda: builders.timm_model("repghostnet_100", 1000),
    "mobilenetv3_large_100": lambda: builders.timm_model("mobilenetv3_large_100", 1000),
    "mobilenetv3_small_100": lambda: builders.timm_model("mobilenetv3_small_100", 1000),
    "shufflenet_v2_x1_0": lambda: builders.tv_shufflenet_v2([24, 116, 232, 464, 1024], 1000),
    "fastvit_t8": lambda: builders.timm_model("fastvit_t8", 1000),
    "repvit_m0_9": lambda: builders.timm_model("repvit_m0_9", 1000),
    "mobilevit_xxs": lambda: builders.timm_model("mobilevit_xxs", 1000),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "Benchmarks" / ".cache" / "standard"))
    parser.add_argument("ids", nargs="*", default=list(NETWORKS))
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    for name in args.ids:
        # The seed follows the network, not its place on the command line (the same file
        # whichever subset is exported).
        seed = 7001 + list(NETWORKS).index(name)
        path = out / f"{name}.onnx"
        if path.exists():
            print(f"{path} exists")
            continue
        torch.manual_seed(seed)
        shape = SHAPES.get(name, SHAPE)
        model = randomize.randomize_model(NETWORKS[name](), seed, shape)
        example = torch.randn(shape)
        exporting.export_torchscript(model, example, path, 17, "input", "logits")
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
