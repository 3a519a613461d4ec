"""Builds a wide re-parameterizable ONNX model with about G GB of float32 weights, stored as
ONNX external data, for memory and speed benchmarks (the output is not committed).

    python Samples/export/make_large_external.py --gigabytes 1 --out DIR

writes DIR/large_external.onnx (the graph, a few KB) and DIR/large_external.weights (every
initializer). The graph is a chain of RepVGG-style blocks, the pattern ghost-convert merges:

    y = Relu( BN(Conv3x3(x)) + BN(Conv1x1(x)) + BN(x) )

on an input [1, C, 8, 8]. C and the block count are chosen so the weights total ~G * 1e9 bytes.

Memory: weights are drawn and written a chunk (<= 16 MB) at a time straight into the weights
file, and the ONNX initializers only point at them (data_location = EXTERNAL), so peak RAM
stays far below the size of even one large tensor. Each tensor starts at a 4096-byte aligned
offset so readers can memory-map it. Needs only onnx and numpy.
"""
import argparse
import os
import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

CHUNK_BYTES = 16 << 20
ALIGNMENT = 4096
DEFAULT_CHANNELS = 1024
MIN_BLOCKS = 4


def plan(total_bytes):
    """(channels, blocks): 1024 channels (~42 MB a block) unless that gives fewer than
    MIN_BLOCKS blocks, in which case the channel count shrinks instead."""
    per_block = lambda c: 4 * (9 * c * c + c * c + 3 * 4 * c)  # noqa: E731  conv3, conv1, three BNs
    blocks = round(total_bytes / per_block(DEFAULT_CHANNELS))
    if blocks >= MIN_BLOCKS:
        return DEFAULT_CHANNELS, blocks
    channels = int((total_bytes / (MIN_BLOCKS * 40)) ** 0.5) // 8 * 8
    return max(8, channels), MIN_BLOCKS


class WeightsFile:
    """Appends tensors to one external-data file and returns initializers pointing at them."""

    def __init__(self, path, rng):
        self.path = path
        self.handle = open(path, "wb")
        self.rng = rng

    def add(self, name, shape, draw):
        """draw(rng, count) -> float32 array of `count` values; called chunk by chunk."""
        offset = self.handle.seek(0, os.SEEK_END)
        padding = -offset % ALIGNMENT
        self.handle.write(b"\0" * padding)
        offset += padding
        count = int(np.prod(shape))
        step = max(1, CHUNK_BYTES // 4)
        for start in range(0, count, step):
            self.handle.write(draw(self.rng, min(step, count - start)).astype("<f4", copy=False).tobytes())
        tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(shape))
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", self.path.name), ("offset", str(offset)), ("length", str(count * 4))):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        return tensor

    def close(self):
        self.handle.close()


def uniform(low, high):
    return lambda rng, n: rng.uniform(low, high, n).astype(np.float32)


def normal(std):
    return lambda rng, n: (rng.standard_normal(n, dtype=np.float32) * np.float32(std))


def batchnorm(weights, name, channels, x, y):
    """A BatchNormalization node with random, non-trivial parameters and statistics."""
    params = [weights.add(f"{name}.{p}", [channels], draw) for p, draw in (
        ("weight", uniform(0.6, 1.4)), ("bias", uniform(-0.2, 0.2)),
        ("running_mean", uniform(-0.3, 0.3)), ("running_var", uniform(0.5, 2.0)))]
    node = helper.make_node("BatchNormalization", [x] + [p.name for p in params], [y], name=name, epsilon=1e-5)
    return node, params


def build(out_dir, gigabytes, seed):
    channels, blocks = plan(gigabytes * 1e9)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "large_external.onnx"
    weights = WeightsFile(out_dir / "large_external.weights", np.random.default_rng(seed))
    nodes, initializers = [], []
    x = "input"
    for b in range(blocks):
        p = f"block{b}"
        # 1/sqrt(3 fan_in) keeps the sum of three branches at about unit scale, block after block.
        w3 = weights.add(f"{p}.conv3.weight", [channels, channels, 3, 3], normal((3 * 9 * channels) ** -0.5))
        w1 = weights.add(f"{p}.conv1.weight", [channels, channels, 1, 1], normal((3 * channels) ** -0.5))
        initializers += [w3, w1]
        nodes.append(helper.make_node("Conv", [x, w3.name], [f"{p}.c3"], name=f"{p}.conv3", pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Conv", [x, w1.name], [f"{p}.c1"], name=f"{p}.conv1"))
        for branch, source in (("bn3", f"{p}.c3"), ("bn1", f"{p}.c1"), ("bn_id", x)):
            node, params = batchnorm(weights, f"{p}.{branch}", channels, source, f"{p}.{branch}.out")
            nodes.append(node)
            initializers += params
        nodes.append(helper.make_node("Add", [f"{p}.bn3.out", f"{p}.bn1.out"], [f"{p}.sum"], name=f"{p}.add0"))
        nodes.append(helper.make_node("Add", [f"{p}.sum", f"{p}.bn_id.out"], [f"{p}.sum2"], name=f"{p}.add1"))
        y = "output" if b == blocks - 1 else f"{p}.out"
        nodes.append(helper.make_node("Relu", [f"{p}.sum2"], [y], name=f"{p}.relu"))
        x = y
    weights.close()
    shape = [1, channels, 8, 8]
    graph = helper.make_graph(nodes, "large_external",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="ghost-convert samples")
    model.ir_version = 8
    onnx.save_model(model, str(model_path))
    onnx.checker.check_model(str(model_path))
    return model_path, channels, blocks


def main():
    parser = argparse.ArgumentParser(description="Build a large external-data ONNX model for benchmarks.")
    parser.add_argument("--gigabytes", type=float, required=True, help="approximate weight size in GB (1e9 bytes)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    if args.gigabytes <= 0:
        parser.error("--gigabytes must be positive")
    path, channels, blocks = build(pathlib.Path(args.out), args.gigabytes, args.seed)
    data = path.with_suffix(".weights").stat().st_size
    print(f"{path}: {blocks} blocks x {channels} channels, {data / 1e9:.3f} GB of external weights")
    return 0


if __name__ == "__main__":
    sys.exit(main())
