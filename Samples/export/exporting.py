"""ONNX export with both PyTorch exporters, plus the checks every exported file must pass.

TorchScript exporter: `do_constant_folding=False` and `TrainingMode.PRESERVE` so each
BatchNorm stays a BatchNormalization node (exactly what the fusion tool has to fold); with
the model in eval mode PRESERVE exports inference-mode BNs (no training_mode=1).

Dynamo exporter (torch.export + onnxscript): exported with its defaults, as a user gets it.
Its optimizer already folds a BN that directly follows a Conv, but not the BNs on RepGhost's
identity branch, nor BNs after other ops. The nodes' `pkg.torch.onnx.stack_trace` metadata
holds absolute paths of the exporting machine's site-packages, so it is always dropped (the
files must not depend on where the venv lives); the rest of the node metadata is kept only
where asked, as a sample of what real exports carry.
"""
import collections
import contextlib
import io
import os
import warnings

import onnx

from _torch_env import torch

STACK_TRACE_KEY = "pkg.torch.onnx.stack_trace"


def _names(output_name):
    """One output name, or a list of them for models with several outputs."""
    return [output_name] if isinstance(output_name, str) else list(output_name)


def export_torchscript(model, example, path, opset, input_name, output_name, dynamic_batch=False):
    output_names = _names(output_name)
    dynamic_axes = {name: {0: "N"} for name in [input_name, *output_names]} if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "legacy exporter": chosen on purpose
        torch.onnx.export(
            model, (example,), str(path), dynamo=False, opset_version=opset,
            do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE,
            input_names=[input_name], output_names=output_names, dynamic_axes=dynamic_axes,
        )
    return onnx.load(str(path))


def export_dynamo(model, example, path, opset, input_name, output_name, keep_metadata):
    """keep_metadata: keep the nodes' provenance metadata (all but the stack traces); otherwise
    drop it all: it is ~20% of a small model's file and the size budget is tight."""
    # The exporter narrates every step on stdout; keep the log readable.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, (example,), dynamo=True, opset_version=opset,
                                    input_names=[input_name], output_names=_names(output_name))
    proto = program.model_proto
    for node in proto.graph.node:
        kept = [p for p in node.metadata_props if keep_metadata and p.key != STACK_TRACE_KEY]
        del node.metadata_props[:]
        node.metadata_props.extend(kept)
    onnx.save_model(proto, str(path))
    return onnx.load(str(path))


def save_with_external_data(proto, path, weights_name):
    """Re-saves `proto` at `path` with every initializer in one side file `weights_name`."""
    if os.path.exists(path):
        os.remove(path)
    onnx.save_model(proto, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=weights_name, size_threshold=0)
    os.chmod(os.path.join(os.path.dirname(path), weights_name), 0o644)  # onnx creates it 0600
    return onnx.load(str(path), load_external_data=False)


def check_export(proto, path, opset, keep_batchnorm):
    """Structural facts the manifest records and the tool relies on; raises on violation."""
    onnx.checker.check_model(str(path), full_check=True)
    ops = collections.Counter(node.op_type for node in proto.graph.node)
    actual_opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    if actual_opset != opset:
        raise RuntimeError(f"{path}: asked for opset {opset}, the exporter wrote {actual_opset}")
    for node in proto.graph.node:
        if node.op_type == "BatchNormalization":
            for attribute in node.attribute:
                if attribute.name == "training_mode" and attribute.i != 0:
                    raise RuntimeError(f"{path}: BatchNormalization {node.name} has training_mode=1")
            if len(node.output) != 1:
                raise RuntimeError(f"{path}: BatchNormalization {node.name} has training outputs")
    if keep_batchnorm and ops["BatchNormalization"] == 0:
        raise RuntimeError(f"{path}: no BatchNormalization left in a TorchScript export")
    return ops


def identity_branch_batchnorms(proto):
    """BatchNormalization nodes on a RepGhost identity branch: the BN reads a tensor that a Conv
    also reads, and its result goes into an Add, i.e. Add(Conv(x1)..., BN(x1)). This is
    what the fusion tool merges, so the training form must have one per RepGhost module."""
    consumers = collections.defaultdict(list)
    for node in proto.graph.node:
        for name in node.input:
            consumers[name].append(node.op_type)
    return sum(1 for node in proto.graph.node if node.op_type == "BatchNormalization"
               and "Conv" in consumers[node.input[0]] and "Add" in consumers[node.output[0]])
