"""Blocks with sequential re-parameterizable branches and linear heads (issue 14 item 1), written
here from their papers' descriptions and exported with both PyTorch exporters, like
export_blocks.py (whose BN randomization, export, case and manifest helpers this reuses), into Tests/Fixtures/blocks/ with
their own manifest, manifest_sequential.json (export_blocks.py rewrites manifest.json and the
directory; run it first, then this).

- dbb_block: Diverse Branch Block (DBB) branches, each followed by a BN and summed: k×k, 1×1,
  1×1 → AvgPool(k, stride 1, padding k//2, count_include_pad=True), 1×1 → k×k. The 1×1s before a
  padded stage have no bias (DBB pads with the BN's bias instead, an export of slice assignments
  that is not merged; see docs/passes.md).
- ecb_block: Edge-oriented Conv Block (ECBSR): 3×3, 1×1 → 3×3, and 1×1 → fixed Sobel-x, Sobel-y
  and Laplacian depthwise masks, each mask branch scaled and shifted per channel (Mul, Add).
- repvit_head: RepViT's classifier, BatchNorm1d → Linear on [N, F].
- levit_head: LeViT's Linear → BatchNorm1d over the flattened tokens of [B, L, F].

Regenerate: .venv-export/bin/python Samples/blocks/export_sequential_blocks.py (seed 20261201).
"""
import pathlib
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from export_blocks import export, export_case, randomize_batchnorm, write_manifest  # noqa: E402

SEED = 20261201


class DBBBlock(nn.Module):
    def __init__(self, c, k=3):
        super().__init__()
        p = k // 2
        self.dense = nn.Sequential(nn.Conv2d(c, c, k, 1, p, bias=False), nn.BatchNorm2d(c))
        self.one = nn.Sequential(nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))
        self.avg = nn.Sequential(nn.Conv2d(c, c, 1, bias=False), nn.AvgPool2d(k, 1, p, count_include_pad=True), nn.BatchNorm2d(c))
        self.seq = nn.Sequential(nn.Conv2d(c, 2 * c, 1, bias=False), nn.Conv2d(2 * c, c, k, 1, p, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return torch.relu(self.dense(x) + self.one(x) + self.avg(x) + self.seq(x))


class MaskBranch(nn.Module):
    """1×1 conv, then a fixed depthwise mask scaled and shifted per channel (ECB's Sobel/Laplacian)."""

    def __init__(self, c, mask):
        super().__init__()
        self.expand = nn.Conv2d(c, c, 1, bias=False)
        self.mask = nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False)
        with torch.no_grad():
            self.mask.weight.copy_(torch.tensor(mask, dtype=torch.float32).expand(c, 1, 3, 3))
        self.mask.weight.requires_grad_(False)
        self.scale = nn.Parameter(torch.rand(1, c, 1, 1) + 0.5)
        self.shift = nn.Parameter(torch.rand(1, c, 1, 1) * 0.2 - 0.1)

    def forward(self, x):
        return self.mask(self.expand(x)) * self.scale + self.shift


class ECBBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Conv2d(c, c, 3, 1, 1)
        self.seq = nn.Sequential(nn.Conv2d(c, 2 * c, 1, bias=False), nn.Conv2d(2 * c, c, 3, 1, 1))
        self.sobel_x = MaskBranch(c, [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
        self.sobel_y = MaskBranch(c, [[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
        self.laplacian = MaskBranch(c, [[0, 1, 0], [1, -4, 1], [0, 1, 0]])

    def forward(self, x):
        return self.dense(x) + self.seq(x) + self.sobel_x(x) + self.sobel_y(x) + self.laplacian(x)


class RepViTHead(nn.Module):
    def __init__(self, features, classes):
        super().__init__()
        self.bn = nn.BatchNorm1d(features)
        self.linear = nn.Linear(features, classes)

    def forward(self, x):
        return self.linear(self.bn(x))


class LeViTHead(nn.Module):
    def __init__(self, features, out):
        super().__init__()
        self.linear = nn.Linear(features, out, bias=False)
        self.bn = nn.BatchNorm1d(out)

    def forward(self, x):
        y = self.linear(x)
        return self.bn(y.flatten(0, 1)).reshape(x.shape[0], x.shape[1], -1)


BLOCKS = [
    ("dbb_block", lambda: DBBBlock(6), (1, 6, 10, 10), {"Conv": 1, "BatchNormalization": 0, "Add": 0, "AveragePool": 0}),
    ("ecb_block", lambda: ECBBlock(4), (1, 4, 9, 9), {"Conv": 1, "Add": 0, "Mul": 0}),
    ("repvit_head", lambda: RepViTHead(16, 10), (3, 16), {"BatchNormalization": 0}),
    ("levit_head", lambda: LeViTHead(16, 12), (2, 5, 16), {"BatchNormalization": 0, "MatMul": 1}),
]


def main():
    torch.manual_seed(SEED)
    manifest = []
    for block_id, factory, shape, expect in BLOCKS:
        module = randomize_batchnorm(factory(), (nn.BatchNorm1d, nn.BatchNorm2d))
        x = torch.from_numpy(np.random.default_rng(SEED).standard_normal(shape).astype(np.float32))
        for exporter in ("torchscript", "dynamo"):
            manifest.append(export_case(module, x, block_id, exporter, expect,
                                        lambda path: export(module, x, path, exporter == "dynamo")))
    write_manifest("manifest_sequential.json", "Samples/blocks/export_sequential_blocks.py", SEED, manifest)


if __name__ == "__main__":
    main()
