"""Random weights and non-trivial BatchNorm statistics that keep activations O(1).

Freshly initialised BNs are the identity map (mean 0, var 1, gamma 1, beta 0), which would
hide folding bugs: a fusion that forgets the mean or mixes up gamma and beta would still
pass. So every BN gets gamma ~ U(0.6, 1.4) and beta ~ U(-0.2, 0.2), and running statistics
that differ from the identity.

Why the running statistics are calibrated, not drawn outright: in eval mode a BN divides by
sqrt(running_var) whatever the scale of its input really is, so statistics drawn blindly
(mean ~ U(-0.3, 0.3), var ~ U(0.5, 2)) let the activation scale drift multiplicatively through
50+ layers and residual sums, and a deep net's logits end up ~1e6 or ~0. Instead a forward
pre-hook on each BN measures its actual input on a random calibration batch (in float64, in
execution order, so each BN already sees the perturbed BNs upstream) and sets
    running_mean = batch_mean + U(-0.3, 0.3) * batch_std
    running_var  = batch_var  * U(0.5, 2.0)
per channel: as far from "normalizes exactly" as the suggested ranges, at the right scale.
A variance floor (VAR_FLOOR, 0.01) only guards channels that are constant on the batch.
(A high floor, say 0.5, looks better conditioned but damps half the channels of every layer,
the damping compounds, and the logits end up nearly independent of the input.)
Linear layers are redrawn in the same pass with N(0, 1) / (sqrt(fan_in) * input RMS), so the
logits come out with roughly unit spread.
"""
import copy

import torch
import torch.nn as nn

GAMMA = (0.6, 1.4)
BETA = (-0.2, 0.2)
MEAN_SHIFT = (-0.3, 0.3)  # in units of the measured per-channel std
VAR_SCALE = (0.5, 2.0)
VAR_FLOOR = 1e-2  # channels (nearly) constant on the calibration batch


def _uniform(generator, shape, bounds):
    low, high = bounds
    return torch.rand(shape, generator=generator, dtype=torch.float64) * (high - low) + low


def calibration_batch_size(input_shape):
    """Enough images that the last (stride-32) feature map still gives each BN >= ~64 samples
    per channel: with 1x1 maps (CIFAR) and a batch of 4 the measured variance is noise, and
    dividing by a noise-sized variance blows the logits up layer after layer."""
    height, width = input_shape[-2:]
    return max(4, -(-64 * 32 * 32 // (height * width)))


@torch.no_grad()
def randomize_model(model, seed, input_shape, gamma=GAMMA, beta=BETA):
    """Draws gamma/beta, calibrates BN statistics and redraws Linear layers.

    Deterministic in `seed`; Conv weights keep their library initialisation (already drawn
    from torch's global generator, seeded by the caller). `gamma` and `beta` are the bounds of
    the uniform draws (the defaults are every model's but the YOLOv9 detector's, see
    export_yolo.py); other bounds draw the same number of values, in the same order.
    """
    generator = torch.Generator().manual_seed(seed)
    is_bn = lambda m: isinstance(m, nn.modules.batchnorm._BatchNorm)  # noqa: E731
    for bn in filter(is_bn, model.modules()):
        bn.weight.copy_(_uniform(generator, bn.weight.shape, gamma))
        bn.bias.copy_(_uniform(generator, bn.bias.shape, beta))

    # Calibrate on a float64 copy: the float64 forward pass is insensitive to thread count
    # and kernel choice at float32 resolution, so the stored statistics are reproducible.
    shadow = copy.deepcopy(model).double().eval()
    seen = set()

    def calibrate(module, args):
        if module in seen:  # a module called twice keeps what its first call drew
            return
        seen.add(module)
        x = args[0]
        if is_bn(module):
            dims = [d for d in range(x.dim()) if d != 1]
            mean = x.mean(dims)
            var = x.var(dims, unbiased=False).clamp_min(VAR_FLOOR)
            module.running_mean.copy_(mean + _uniform(generator, mean.shape, MEAN_SHIFT) * var.sqrt())
            module.running_var.copy_(var * _uniform(generator, var.shape, VAR_SCALE))
        else:
            # Libraries initialise classifiers with std 0.01 (or zeros); scaling by the measured
            # input RMS makes each Linear's output ~unit variance, so the logits are O(1).
            fan_in = module.weight.shape[1]
            rms = x.pow(2).mean().sqrt().clamp_min(1e-3)
            module.weight.copy_(torch.randn(module.weight.shape, generator=generator, dtype=torch.float64)
                                / (fan_in ** 0.5 * rms))
            if module.bias is not None:
                module.bias.copy_(_uniform(generator, module.bias.shape, (-0.1, 0.1)))

    targets = [m for m in shadow.modules() if is_bn(m) or isinstance(m, nn.Linear)]
    hooks = [m.register_forward_pre_hook(calibrate) for m in targets]
    batch = torch.randn((calibration_batch_size(input_shape), *input_shape[1:]), generator=generator,
                        dtype=torch.float64)
    shadow(batch)
    for hook in hooks:
        hook.remove()
    if len(seen) != len(targets):
        raise RuntimeError(f"{len(targets) - len(seen)} BatchNorm/Linear layers never ran during calibration")
    # Copy back what calibration drew (the float32 rounding of the float64 values).
    originals = [m for m in model.modules() if is_bn(m) or isinstance(m, nn.Linear)]
    for target, calibrated in zip(originals, targets):
        for name in ("running_mean", "running_var", "weight", "bias"):
            if getattr(target, name, None) is not None:
                getattr(target, name).copy_(getattr(calibrated, name).float())
    return model.eval()


def bn_summary(model):
    """Ranges of the BN parameters, for the log: proof they are not the identity."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return "no BatchNorm"
    cat = {k: torch.cat([getattr(b, k).flatten() for b in bns]) for k in
           ("running_mean", "running_var", "weight", "bias")}
    return ", ".join(f"{k} [{v.min():.3g}, {v.max():.3g}]" for k, v in cat.items()) + f" over {len(bns)} BNs"
