"""Diverse Branch Block with its "BN and pad" stage (issue 14 item 1), written here from the DBB
paper's description (Ding et al. 2021) and exported into Tests/Fixtures/blocks/ with its own
manifest, manifest_dbb_pad.json; no other fixture is touched.

The 1×1 → k×k branch is conv1x1 (no bias) → BN → pad by k//2 → conv k×k (padding 0) → BN, where
the pad fills the border with the BN's response to a zero input, v = β − μ·γ/√(σ²+ε), by
F.pad and then slice assignment of v into the four border strips (as DBB's reference code
does). The exports carry that as a Pad followed by ScatterNDs (dynamo: with Transposes between
them; TorchScript: with the index and update tensors computed from Shape/Range/Expand).

- dynamo: opset 18, as Samples/blocks/export_blocks.py exports.
- torchscript: opset 17 with do_constant_folding=True, so v is an initializer.
- torchscript_unfolded: opset 17 with torch's default do_constant_folding=False, which leaves v
  as float32 Sub/Mul/Div/Sqrt/Add nodes over the BN's tensors; fold-constants computes them in
  float32 (one IEEE operation each, as ONNX Runtime does) before the rule reads v.

Regenerate: .venv-export/bin/python Samples/blocks/export_dbb_pad_blocks.py (seed 20261202). It
writes only dbb_pad_block_* and manifest_dbb_pad.json; export_blocks.py rewrites the whole
directory, so after it run export_sequential_blocks.py and then this.
"""
import pathlib
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from export_blocks import export, export_case, randomize_batchnorm, write_manifest  # noqa: E402

SEED = 20261202


class BNAndPad(nn.Module):
    """BatchNorm, then a border of `pad` elements holding the BN's output for a zero input."""

    def __init__(self, channels, pad):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)
        self.pad = pad

    def forward(self, x):
        y = self.bn(x)
        p = self.pad
        zero_response = self.bn.bias - self.bn.running_mean * self.bn.weight / torch.sqrt(self.bn.running_var + self.bn.eps)
        y = F.pad(y, [p, p, p, p])
        fill = zero_response.view(1, -1, 1, 1)
        y[:, :, 0:p, :] = fill
        y[:, :, -p:, :] = fill
        y[:, :, :, 0:p] = fill
        y[:, :, :, -p:] = fill
        return y


class DBBPadBlock(nn.Module):
    def __init__(self, c, k=3):
        super().__init__()
        p = k // 2
        self.dense = nn.Sequential(nn.Conv2d(c, c, k, 1, p, bias=False), nn.BatchNorm2d(c))
        self.one = nn.Sequential(nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))
        self.avg = nn.Sequential(nn.Conv2d(c, c, 1, bias=False), BNAndPad(c, p), nn.AvgPool2d(k, 1, 0), nn.BatchNorm2d(c))
        self.seq = nn.Sequential(nn.Conv2d(c, 2 * c, 1, bias=False), BNAndPad(2 * c, p), nn.Conv2d(2 * c, c, k, 1, 0, bias=False),
                                 nn.BatchNorm2d(c))

    def forward(self, x):
        return torch.relu(self.dense(x) + self.one(x) + self.avg(x) + self.seq(x))


BLOCKS = [
    ("dbb_pad_block", lambda: DBBPadBlock(6), (1, 6, 10, 10),
     {"Conv": 1, "BatchNormalization": 0, "Add": 0, "AveragePool": 0, "Pad": 0, "ScatterND": 0}),
]


def export_torchscript(module, x, path, folding=True):
    torch.onnx.export(module, (x,), str(path), dynamo=False, opset_version=17, do_constant_folding=folding,
                      input_names=["x"], output_names=["y"])


def main():
    torch.manual_seed(SEED)
    manifest = []
    for block_id, factory, shape, expect in BLOCKS:
        module = randomize_batchnorm(factory())
        x = torch.from_numpy(np.random.default_rng(SEED).standard_normal(shape).astype(np.float32))
        for exporter in ("torchscript", "torchscript_unfolded", "dynamo"):
            def write_model(path):
                if exporter == "dynamo":
                    export(module, x, path, True)
                else:
                    export_torchscript(module, x, path, folding=exporter == "torchscript")
            manifest.append(export_case(module, x, block_id, exporter, expect, write_model))
    write_manifest("manifest_dbb_pad.json", "Samples/blocks/export_dbb_pad_blocks.py", SEED, manifest)


if __name__ == "__main__":
    main()
