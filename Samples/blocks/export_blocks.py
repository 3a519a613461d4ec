"""Small re-parameterizable blocks, written here from their papers' descriptions, exported with
both PyTorch exporters: the hand-sized cases the fusion passes are tested on.

Each block is built with random weights and randomized BatchNorm statistics (running mean and
variance, gamma and beta all non-trivial), put in eval mode, and exported
  - with the TorchScript exporter keeping BN nodes (dynamo=False, do_constant_folding=False,
    training=PRESERVE, opset 17), and
  - with the dynamo exporter (dynamo=True, opset 18).
Next to each model: input.npy and output.npy (ONNX Runtime, no graph optimizations) and, in
Tests/Fixtures/blocks/manifest.json, what the fused graph must look like (`expect_fused`: op
counts after `ghost-convert fuse`), and for blocks that must NOT merge, why.

Regenerate: scripts/python-env.sh export; .venv-export/bin/python Samples/blocks/export_blocks.py
Seed 20261123; torch/onnx/onnxruntime versions are written into the manifest.
"""
import json
import pathlib
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "blocks"
SEED = 20261123


def randomize_batchnorm(module, kinds=(nn.BatchNorm2d,)):
    """Non-trivial BN statistics and affine terms on every BN of the given kinds, in module order."""
    for m in module.modules():
        if isinstance(m, kinds):
            with torch.no_grad():
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.6, 1.4)
                m.bias.uniform_(-0.2, 0.2)
    return module.eval()


def conv_bn(cin, cout, k, stride=1, padding=None, groups=1, dilation=1):
    padding = k // 2 * dilation if padding is None else padding
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, padding, dilation=dilation, groups=groups, bias=False),
                         nn.BatchNorm2d(cout))


class RepGhostModule(nn.Module):
    """RepGhost (seed 003): primary 1x1 conv+BN+ReLU, cheap depthwise 3x3 conv+BN, and an identity
    BN on the primary output added to the cheap branch (Add replaces GhostNet's Concat)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.primary = nn.Sequential(nn.Conv2d(cin, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout), nn.ReLU())
        self.cheap = conv_bn(cout, cout, 3, groups=cout)
        self.fusion_bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        x1 = self.primary(x)
        return torch.relu(self.cheap(x1) + self.fusion_bn(x1))


class RepGhostDeploy(nn.Module):
    """The same block reparameterized by hand in PyTorch (the seed's switch_to_deploy)."""

    def __init__(self, block):
        super().__init__()
        self.primary = block.primary
        cheap_conv, cheap_bn, fusion = block.cheap[0], block.cheap[1], block.fusion_bn
        kernel, bias = fuse_bn(cheap_conv.weight, cheap_bn)
        identity = torch.zeros_like(cheap_conv.weight)
        identity[:, 0, 1, 1] = 1
        k2, b2 = fuse_bn(identity, fusion)
        self.cheap = nn.Conv2d(cheap_conv.in_channels, cheap_conv.out_channels, 3, 1, 1, groups=cheap_conv.groups, bias=True)
        with torch.no_grad():
            self.cheap.weight.copy_(kernel + k2)
            self.cheap.bias.copy_(bias + b2)

    def forward(self, x):
        return torch.relu(self.cheap(self.primary(x)))


def fuse_bn(kernel, bn):
    std = (bn.running_var + bn.eps).sqrt()
    scale = bn.weight / std
    return kernel * scale.reshape(-1, 1, 1, 1), bn.bias - bn.running_mean * scale


class RepVGGBlock(nn.Module):
    """RepVGG: 3x3 conv+BN, 1x1 conv+BN and (stride 1, equal channels) an identity BN, summed."""

    def __init__(self, c, stride=1, groups=1):
        super().__init__()
        self.dense = conv_bn(c, c, 3, stride, groups=groups)
        self.one = conv_bn(c, c, 1, stride, padding=0, groups=groups)
        self.identity = nn.BatchNorm2d(c) if stride == 1 else None

    def forward(self, x):
        y = self.dense(x) + self.one(x)
        if self.identity is not None:
            y = y + self.identity(x)
        return torch.relu(y)


class MobileOneBlock(nn.Module):
    """MobileOne: k over-parameterized 3x3 conv+BN branches, a 1x1 'scale' branch and an identity BN."""

    def __init__(self, c, k=3, depthwise=False):
        super().__init__()
        groups = c if depthwise else 1
        self.branches = nn.ModuleList(conv_bn(c, c, 3, groups=groups) for _ in range(k))
        self.scale = conv_bn(c, c, 1, padding=0, groups=groups)
        self.skip = nn.BatchNorm2d(c)

    def forward(self, x):
        y = self.skip(x) + self.scale(x)
        for branch in self.branches:
            y = y + branch(x)
        return torch.relu(y)


class DilatedPair(nn.Module):
    """Negative case: a dilated 3x3 beside a 1x1 cannot be merged (dilation != 1)."""

    def __init__(self, c):
        super().__init__()
        self.a = conv_bn(c, c, 3, dilation=2)
        self.b = conv_bn(c, c, 1, padding=0)

    def forward(self, x):
        return self.a(x) + self.b(x)


class RepMixer(nn.Module):
    """FastViT's token mixer (training form): x + γ·(mixer(x) − norm(x)), where mixer is a
    depthwise 3x3 conv+BN beside a 1x1 depthwise scale conv+BN, norm an identity BN and γ a
    per-channel layer scale of shape [C, 1, 1]."""

    def __init__(self, c):
        super().__init__()
        self.mixer_conv = conv_bn(c, c, 3, groups=c)
        self.mixer_scale = conv_bn(c, c, 1, padding=0, groups=c)
        self.norm = nn.BatchNorm2d(c)
        self.gamma = nn.Parameter(torch.rand(c, 1, 1) * 2 - 1)

    def forward(self, x):
        mixed = self.mixer_conv(x) + self.mixer_scale(x)
        return x + self.gamma * (mixed - self.norm(x))


class RepCPE(nn.Module):
    """FastViT's conditional positional encoding (training form): x + DWConv7x7(x) with bias."""

    def __init__(self, c):
        super().__init__()
        self.pe = nn.Conv2d(c, c, 7, 1, 3, groups=c, bias=True)

    def forward(self, x):
        return self.pe(x) + x
class GhostModulePair(nn.Module):
    """GhostNet's module twice (primary 1x1 conv+BN+ReLU, cheap depthwise 3x3 conv+BN+ReLU,
    Concat, then `out[:, :oup]`): first with an even oup (the Slice keeps everything), then an odd
    one (the Slice drops the cheap half's last channel). The TorchScript export spells the slice as
    Constant/Unsqueeze/Slice: shape folding must leave exactly one Slice."""

    def __init__(self, cin, even, odd):
        super().__init__()
        self.first, self.second = self.ghost(cin, even), self.ghost(even, odd)
        self.sizes = (even, odd)

    @staticmethod
    def ghost(cin, oup):
        init = (oup + 1) // 2
        primary = nn.Sequential(nn.Conv2d(cin, init, 1, bias=False), nn.BatchNorm2d(init), nn.ReLU())
        cheap = nn.Sequential(nn.Conv2d(init, init, 3, 1, 1, groups=init, bias=False), nn.BatchNorm2d(init), nn.ReLU())
        return nn.ModuleList([primary, cheap])

    def forward(self, x):
        for (primary, cheap), oup in zip((self.first, self.second), self.sizes):
            x1 = primary(x)
            x = torch.cat([x1, cheap(x1)], dim=1)[:, :oup]
        return x


class ChannelShuffleUnit(nn.Module):
    """ShuffleNetV2's stride-1 unit: split the channels, conv+BN+ReLU one half, concatenate,
    shuffle with view/transpose/view on the runtime batch size (exported with a dynamic batch:
    the Reshape targets hold Shape/Gather of the input, which must become −1)."""

    def __init__(self, c):
        super().__init__()
        half = c // 2
        self.branch = nn.Sequential(nn.Conv2d(half, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(),
                                    nn.Conv2d(half, half, 3, 1, 1, groups=half, bias=False), nn.BatchNorm2d(half))

    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        y = torch.cat([a, self.branch(b)], dim=1)
        n, c, h, w = y.shape
        return y.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


BLOCKS = [
    # id, module factory, input shape, expected op counts after fusing (None: must not merge)
    ("repghost_module", lambda: RepGhostModule(8, 16), (1, 8, 12, 12), {"Conv": 2, "BatchNormalization": 0, "Add": 0}),
    ("repvgg_block", lambda: RepVGGBlock(8), (2, 8, 10, 10), {"Conv": 1, "BatchNormalization": 0, "Add": 0}),
    ("repvgg_block_stride2", lambda: RepVGGBlock(8, stride=2), (1, 8, 11, 11), {"Conv": 1, "BatchNormalization": 0, "Add": 0}),
    ("repvgg_block_groups", lambda: RepVGGBlock(8, groups=4), (1, 8, 10, 10), {"Conv": 1, "BatchNormalization": 0, "Add": 0}),
    ("mobileone_block", lambda: MobileOneBlock(6, k=4), (1, 6, 9, 9), {"Conv": 1, "BatchNormalization": 0, "Add": 0}),
    ("mobileone_block_depthwise", lambda: MobileOneBlock(8, k=3, depthwise=True), (1, 8, 9, 9), {"Conv": 1, "BatchNormalization": 0, "Add": 0}),
    ("dilated_pair", lambda: DilatedPair(4), (1, 4, 10, 10), {"Conv": 2, "BatchNormalization": 0, "Add": 1}),
    ("repmixer", lambda: RepMixer(8), (1, 8, 9, 9), {"Conv": 1, "BatchNormalization": 0, "Add": 0, "Sub": 0, "Mul": 0}),
    ("repcpe", lambda: RepCPE(8), (1, 8, 11, 11), {"Conv": 1, "Add": 0}),
    # shape-fold (issue 14 item 5): shape arithmetic folded, no-op slices gone.
    ("ghost_module_pair", lambda: GhostModulePair(6, 8, 7), (1, 6, 8, 8),
     {"Conv": 4, "BatchNormalization": 0, "Concat": 2, "Slice": 1, "Constant": 0, "Unsqueeze": 0}),
    ("channel_shuffle", lambda: ChannelShuffleUnit(8), (2, 8, 6, 6),
     {"Conv": 2, "BatchNormalization": 0, "Shape": 0, "Gather": 0, "Constant": 0, "Reshape": 2, "Transpose": 1}),
]

# Blocks exported with a dynamic batch dimension (named "N").
DYNAMIC_BATCH = {"channel_shuffle"}


def golden(model_path, x):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def export(module, x, path, dynamo, dynamic_batch=False):
    if dynamo:
        shapes = {"x": {0: torch.export.Dim("N")}} if dynamic_batch else None
        torch.onnx.export(module, (x,), str(path), dynamo=True, opset_version=18, input_names=["x"], output_names=["y"],
                          dynamic_shapes=shapes)
    else:
        axes = {"x": {0: "N"}, "y": {0: "N"}} if dynamic_batch else None
        torch.onnx.export(module, (x,), str(path), dynamo=False, opset_version=17, do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE, input_names=["x"], output_names=["y"],
                          dynamic_axes=axes)
    # One self-contained file (the dynamo exporter may write external data for large models).
    model = onnx.load(str(path))
    onnx.save_model(model, str(path), save_as_external_data=False)
    for leftover in path.parent.glob(path.name + ".data"):
        leftover.unlink()


def export_case(module, x, block_id, exporter, expect, write_model):
    """Writes OUT/<block_id>_<exporter>/ (model.onnx by write_model(path), input.npy, output.npy from
    ONNX Runtime) and returns the case's manifest entry, with the torch-vs-ORT difference."""
    name = f"{block_id}_{exporter}"
    directory = OUT / name
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    path = directory / "model.onnx"
    write_model(path)
    np.save(directory / "input.npy", x.numpy())
    np.save(directory / "output.npy", golden(path, x.numpy()))
    with torch.no_grad():
        reference = module(x).numpy()
    worst = float(np.abs(reference - np.load(directory / "output.npy")).max())
    counts = {}
    for node in onnx.load(str(path)).graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    print(f"{name:<40} nodes {sum(counts.values()):>3}  BN {counts.get('BatchNormalization', 0):>2}  torch-vs-ORT {worst:.1e}")
    return {"id": name, "block": block_id, "file": f"{name}/model.onnx", "exporter": exporter,
            "input": f"{name}/input.npy", "output": f"{name}/output.npy", "input_shape": list(x.shape),
            "ops_before": counts, "expect_fused": expect, "torch_vs_ort_max_abs": worst}


def write_manifest(filename, script, seed, entries):
    (OUT / filename).write_text(json.dumps({
        "script": script, "seed": seed,
        "versions": {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__},
        "blocks": entries}, indent=1, sort_keys=True) + "\n")


def main():
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    manifest = []
    for block_id, factory, shape, expect in BLOCKS:
        module = randomize_batchnorm(factory())
        x = torch.from_numpy(np.random.default_rng(SEED).standard_normal(shape).astype(np.float32))
        for exporter in ("torchscript", "dynamo"):
            manifest.append(export_case(module, x, block_id, exporter, expect, lambda path: export(
                module, x, path, exporter == "dynamo", dynamic_batch=block_id in DYNAMIC_BATCH)))
        if block_id == "repghost_module":
            deploy = RepGhostDeploy(module).eval()
            directory = OUT / "repghost_module_deploy"
            directory.mkdir()
            export(deploy, x, directory / "model.onnx", dynamo=False)
            np.save(directory / "output.npy", golden(directory / "model.onnx", x.numpy()))
    write_manifest("manifest.json", "Samples/blocks/export_blocks.py", SEED, manifest)


if __name__ == "__main__":
    main()
