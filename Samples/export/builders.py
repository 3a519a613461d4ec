"""Network builders for the seed-model zoo (random weights; BN statistics are set later).

Every builder returns a torch.nn.Module in eval mode. Which builder makes which model, and
with which arguments, is decided in export_all.py; this module only knows how to build.

Two networks are written here rather than taken from a library:
  * GhostNetCifar follows seed 004 (a MindSpore GhostNet for 32x32 CIFAR-10): the global
    pool is a ReduceMean with keepdim, the SE gate is relu(x + 3) / 6 applied with a Mul,
    the Ghost module is Concat + channel Slice, and the classifier is a 128-wide 1x1 conv
    head followed by a Dense layer.
  * TinyResidual: Conv -> BN -> Relu -> Conv -> BN -> Add(input), the smallest graph with
    both foldable BNs and a residual Add; used for the external-data sample.
"""
import math

import torch
import torch.nn as nn

from _torch_env import timm, torchvision


# ---------------------------------------------------------------- library models

def shrink_head(model, features):
    """Replaces the 1x1 `conv_head` (usually 1280 wide) and the classifier of a timm
    GhostNet / RepGhostNet / MobileNetV3 with a narrower pair.

    Why: the head is most of the weight bytes of these nets once the class count is cut,
    and Models/ has a hard size budget. The backbone, where every re-parameterizable block
    lives, is untouched. 128 is the head width seed 004 uses.
    """
    old = model.conv_head
    model.conv_head = nn.Conv2d(old.in_channels, features, 1, bias=old.bias is not None)
    model.classifier = nn.Linear(features, model.classifier.out_features)
    model.num_features = model.head_hidden_size = features
    return model


def timm_model(name, num_classes=1000, width=None, head=None):
    """A timm model by registered name; `width` overrides the width multiplier through
    timm's own family constructor (the registry only has a few fixed widths)."""
    if width is None:
        model = timm.create_model(name, pretrained=False, num_classes=num_classes)
    else:
        # The registered names are thin wrappers around these family constructors; calling
        # them directly is the only way to get, say, a 0.25-wide GhostNet.
        from timm.models import ghostnet, mobilenetv3, repghost
        family = {
            "ghostnet": lambda: ghostnet._create_ghostnet(name, width=width, num_classes=num_classes),
            "ghostnetv3": lambda: ghostnet._create_ghostnet(name, width=width, num_classes=num_classes,
                                                            version="v3"),
            "repghostnet": lambda: repghost._create_repghostnet(name, width=width, num_classes=num_classes),
            "mobilenetv3": lambda: mobilenetv3._gen_mobilenet_v3(name, width, num_classes=num_classes),
        }[name.split("_")[0]]
        model = family()
    if head is not None:
        shrink_head(model, head)
    return model.eval()


def tv_mobilenet_v3(kind, num_classes, width=1.0, reduced_tail=False):
    """torchvision's MobileNetV3 ("large" / "small"); reduced_tail halves the last stage."""
    make = getattr(torchvision.models, f"mobilenet_v3_{kind}")
    return make(weights=None, num_classes=num_classes, width_mult=width, reduced_tail=reduced_tail).eval()


def tv_shufflenet_v2(stage_channels, num_classes, repeats=(4, 8, 4)):
    """torchvision's ShuffleNetV2 with explicit stage widths ([24, 116, 232, 464, 1024] is x1.0;
    the last number is the conv5 head width)."""
    from torchvision.models.shufflenetv2 import ShuffleNetV2
    return ShuffleNetV2(list(repeats), list(stage_channels), num_classes=num_classes).eval()


class OutputOf(nn.Module):
    """Returns one entry of a model's dict output (torchvision's segmentation models return
    {"out": ..., "aux": ...}), so the ONNX graph has a single tensor output."""

    def __init__(self, model, key):
        super().__init__()
        self.model, self.key = model, key

    def forward(self, x):
        return self.model(x)[self.key]


def tv_segmentation(name, num_classes):
    """A torchvision segmentation model (e.g. `lraspp_mobilenet_v3_large`) with random weights and
    a random backbone; its output is the per-pixel class logits at the input resolution."""
    make = getattr(torchvision.models.segmentation, name)
    return OutputOf(make(weights=None, weights_backbone=None, num_classes=num_classes), "out").eval()


def reparameterized(model):
    """Returns the deploy form: every RepGhost module's branches merged by timm's own
    switch_to_deploy (the PyTorch-side reference for the fusion the toolkit does on ONNX)."""
    from timm.utils.model import reparameterize_model
    return reparameterize_model(model, inplace=False).eval()


# ---------------------------------------------------------------- seed 004: GhostNet for CIFAR-10

def _divisible(value, divisor=4):
    """Rounds up to a multiple of `divisor` (seed 004's _make_divisible)."""
    return int(math.ceil(value / divisor) * divisor)


def _conv_bn(cin, cout, kernel, stride=1, groups=1, relu=True):
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class _HardSigmoid(nn.Module):
    """relu(x + 3) / 6, spelled as in seed 004 so the export shows Add, Relu, Div."""

    def forward(self, x):
        return torch.relu(x + 3.0) / 6.0


class _GhostModuleCifar(nn.Module):
    """Primary conv + cheap depthwise conv, concatenated, then sliced to `cout` channels."""

    def __init__(self, cin, cout, relu=True, ratio=2, dw_size=3):
        super().__init__()
        self.cout = cout
        init = math.ceil(cout / ratio)
        self.primary_conv = _conv_bn(cin, init, 1, relu=relu)
        self.cheap_operation = _conv_bn(init, init * (ratio - 1), dw_size, groups=init, relu=relu)

    def forward(self, x):
        x1 = self.primary_conv(x)
        x2 = self.cheap_operation(x1)
        return torch.cat([x1, x2], dim=1)[:, : self.cout, :, :]


class _SqueezeExciteCifar(nn.Module):
    """SE gate: ReduceMean(keepdim) -> 1x1 conv -> ReLU -> 1x1 conv -> hard sigmoid -> Mul.

    Seed 004 passes se_ratio=0.25 as the *ratio* argument, which would make the middle layer
    4x wider than the input; we read it as the usual reduction by 4.
    """

    def __init__(self, channels, reduction=4):
        super().__init__()
        mid = _divisible(channels // reduction)
        self.conv_reduce = nn.Conv2d(channels, mid, 1, bias=True)
        self.act1 = nn.ReLU()
        self.conv_expand = nn.Conv2d(mid, channels, 1, bias=True)
        self.gate = _HardSigmoid()

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = self.gate(self.conv_expand(self.act1(self.conv_reduce(s))))
        return torch.mul(x, s)


class _GhostBottleneckCifar(nn.Module):
    def __init__(self, cin, mid, cout, kernel, stride, se):
        super().__init__()
        self.stride = stride
        self.ghost1 = _GhostModuleCifar(cin, mid, relu=True)
        if stride > 1:
            self.conv_dw = _conv_bn(mid, mid, kernel, stride, groups=mid, relu=False)
        self.se = _SqueezeExciteCifar(mid) if se else None
        self.ghost2 = _GhostModuleCifar(mid, cout, relu=False)
        if cin == cout and stride == 1:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                _conv_bn(cin, cin, kernel, stride, groups=cin, relu=False),
                _conv_bn(cin, cout, 1, relu=False),
            )

    def forward(self, x):
        y = self.ghost1(x)
        if self.stride > 1:
            y = self.conv_dw(y)
        if self.se is not None:
            y = self.se(y)
        return self.ghost2(y) + self.shortcut(x)


# Seed 004's table: kernel, expansion, output channels, SE ratio, stride; one list per stage.
GHOSTNET_CFGS = [
    [[3, 16, 16, 0, 1]],
    [[3, 48, 24, 0, 2]],
    [[3, 72, 24, 0, 1]],
    [[5, 72, 40, 0.25, 2]],
    [[5, 120, 40, 0.25, 1]],
    [[3, 240, 80, 0, 2]],
    [[3, 200, 80, 0, 1], [3, 184, 80, 0, 1], [3, 184, 80, 0, 1], [3, 480, 112, 0.25, 1], [3, 672, 112, 0.25, 1]],
    [[5, 672, 160, 0.25, 2]],
    [[5, 960, 160, 0, 1], [5, 960, 160, 0.25, 1], [5, 960, 160, 0, 1], [5, 960, 160, 0.25, 1]],
]


class GhostNetCifar(nn.Module):
    """Seed 004's MindSpore GhostNet, in PyTorch: stride-2 stem, GhostNet stages, a 1x1
    ConvBnAct to the last expansion width, ReduceMean pool, 128-wide conv head, Dense."""

    def __init__(self, num_classes=10, width=1.0, head=128, dropout=0.2):
        super().__init__()
        channels = _divisible(16 * width)
        self.stem = _conv_bn(3, channels, 3, stride=2)
        stages = []
        for stage in GHOSTNET_CFGS:
            blocks = []
            for kernel, expansion, out, se, stride in stage:
                out_c, mid_c = _divisible(out * width), _divisible(expansion * width)
                blocks.append(_GhostBottleneckCifar(channels, mid_c, out_c, kernel, stride, se > 0))
                channels = out_c
            stages.append(nn.Sequential(*blocks))
        last = _divisible(GHOSTNET_CFGS[-1][-1][1] * width)
        stages.append(_conv_bn(channels, last, 1))
        self.blocks = nn.Sequential(*stages)
        self.conv_head = nn.Conv2d(last, head, 1, bias=True)
        self.act2 = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(head, num_classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = x.mean((2, 3), keepdim=True)
        x = self.act2(self.conv_head(x))
        x = torch.flatten(x, 1)
        return self.classifier(self.dropout(x))


def ghostnet_cifar(num_classes=10, width=1.0):
    return GhostNetCifar(num_classes=num_classes, width=width).eval()


# ---------------------------------------------------------------- tiny residual net

class TinyResidual(nn.Module):
    """x + BN(Conv3x3(Relu(BN(Conv3x3(x))))): two Conv->BN pairs and a residual Add."""

    def __init__(self, channels=8):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        return x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))


def tiny_residual(channels=8):
    return TinyResidual(channels).eval()
