"""Import torch, torchvision and timm in a way that works with the pinned CPU-only torch.

Why this module exists: torchvision 0.28.0 on PyPI is a CUDA build. Next to the CPU build of
torch (2.13.0+cpu) its compiled extension does not register the `torchvision::nms` and
`torchvision::qnms` operators, yet torchvision's Python code registers fake (meta) kernels for
them at import time, so `import torchvision` (and through it `import timm`) dies with
"operator torchvision::nms does not exist". Declaring the two schemas ourselves first lets the
import go through. Classification networks never call these detection ops, so the missing
kernels are never needed. If a working torchvision build is installed, the ops already exist
and we define nothing.

Import this module before torchvision or timm: `from _torch_env import torch, torchvision, timm`.
"""
import torch


def _declare_missing_torchvision_ops():
    schemas = {
        "nms": "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
        "qnms": "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    }
    for name, schema in schemas.items():
        if not hasattr(torch.ops.torchvision, name):  # lookup fails only when undeclared
            torch.library.define(f"torchvision::{name}", schema)


_declare_missing_torchvision_ops()

import torchvision  # noqa: E402  (must follow the schema declarations above)
import timm  # noqa: E402

__all__ = ["torch", "torchvision", "timm"]
