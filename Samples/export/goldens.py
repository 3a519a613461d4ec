"""Inputs and reference outputs saved beside each model.

  input.npy       float32 N(0, 1) from numpy's default_rng(seed)
  output.npy      ONNX Runtime on the exported file: CPU provider, one intra-op thread and
                  graph optimizations OFF, so the golden is the graph as written, evaluated
                  by plain kernels (no fusion inside the runtime hiding or adding error)
  output_f64.npy  the PyTorch model in float64 on the same input: a reference independent of
                  both float32 rounding and of the ONNX file

check_goldens.py repeats the ONNX Runtime part with onnxruntime/onnx/numpy only.
"""
import copy

import numpy as np
# relative_error: max|actual - reference| / max|reference|, +inf on any unmatched NaN or infinity
# (Samples/checks/compare.py), the metric every check in this project uses.
from goldens_runtime import relative_error  # noqa: F401
from goldens_runtime import run as run_onnxruntime

from _torch_env import torch


def make_input(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@torch.no_grad()
def run_float64(model, x):
    shadow = copy.deepcopy(model).double().eval()
    return shadow(torch.from_numpy(x.astype(np.float64))).numpy()


@torch.no_grad()
def run_float32(model, x):
    return model(torch.from_numpy(x)).numpy()


def magnitude_check(name, y):
    """Logits must be finite and O(1): neither blown up by the BN statistics nor collapsed."""
    y = np.asarray(y, dtype=np.float64)
    stats = f"mean {y.mean():+.3f}  std {y.std():.3f}  max|y| {np.abs(y).max():.3f}"
    if not np.isfinite(y).all():
        raise RuntimeError(f"{name}: non-finite outputs ({stats})")
    if not (0.05 <= y.std() <= 50.0 and np.abs(y).max() <= 500.0):
        raise RuntimeError(f"{name}: output magnitude out of range ({stats})")
    return stats


