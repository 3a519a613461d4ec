"""`fuse` time must grow linearly with the number of nodes: seconds per 10k nodes at three sizes.

Generates, deterministically (fixed seed, tiny 2-channel tensors so the graph's size dominates),
three shapes of graph and fuses each to .gwt with the tool:

  chain   Conv → BatchNormalization → Relu, repeated (3 nodes per unit)
  concat  Conv → BatchNormalization branches on one input, all fed to one Concat (2 per branch)
  repvgg  Relu(BN(Conv3×3(x)) + BN(Conv1×1(x)) + BN(x)), repeated (8 nodes per block)

and prints, per shape and size, the node count, `fuse` seconds (best of --repeat), seconds per
10k nodes and that figure's ratio to the smallest size's. Linear growth shows as a flat ratio
near 1. A run that exceeds --timeout is reported as such.

Usage: python Benchmarks/fuse/graph_scaling.py --tool .build/release/ghost-convert
           [--nodes 10000 50000 200000] [--shapes chain concat repvgg] [--timeout 120]
Needs: onnx, numpy. Models are cached under --cache (default: a temporary directory).
"""
import argparse
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CHANNELS = 2


class Builder:
    def __init__(self, seed):
        self.random = np.random.default_rng(seed)
        self.nodes = []
        self.initializers = []
        self.count = 0

    def constant(self, name, shape, positive=False):
        values = self.random.standard_normal(shape).astype(np.float32)
        if positive:
            values = np.abs(values) + np.float32(0.5)
        self.initializers.append(numpy_helper.from_array(values, name))
        return name

    def conv(self, source, kernel):
        self.count += 1
        name = f"conv{self.count}"
        weight = self.constant(f"{name}.w", (CHANNELS, CHANNELS, kernel, kernel))
        bias = self.constant(f"{name}.b", (CHANNELS,))
        pad = kernel // 2
        self.nodes.append(helper.make_node("Conv", [source, weight, bias], [f"{name}.y"], name=name,
                                           kernel_shape=[kernel, kernel], pads=[pad] * 4))
        return f"{name}.y"

    def batch_norm(self, source):
        self.count += 1
        name = f"bn{self.count}"
        inputs = [source] + [self.constant(f"{name}.{role}", (CHANNELS,), positive=role == "var")
                             for role in ("scale", "shift", "mean", "var")]
        self.nodes.append(helper.make_node("BatchNormalization", inputs, [f"{name}.y"], name=name))
        return f"{name}.y"

    def simple(self, op, inputs, **attributes):
        self.count += 1
        name = f"{op.lower()}{self.count}"
        self.nodes.append(helper.make_node(op, inputs, [f"{name}.y"], name=name, **attributes))
        return f"{name}.y"


def make_model(shape, nodes):
    builder = Builder(seed=1234)
    x = "x"
    if shape == "chain":
        value = x
        for _ in range(max(1, nodes // 3)):
            value = builder.simple("Relu", [builder.batch_norm(builder.conv(value, 3))])
        output, channels = value, CHANNELS
    elif shape == "concat":
        branches = [builder.batch_norm(builder.conv(x, 3)) for _ in range(max(1, (nodes - 1) // 2))]
        output, channels = builder.simple("Concat", branches, axis=1), CHANNELS * len(branches)
    elif shape == "repvgg":
        value = x
        for _ in range(max(1, nodes // 8)):
            dense = builder.batch_norm(builder.conv(value, 3))
            point = builder.batch_norm(builder.conv(value, 1))
            identity = builder.batch_norm(value)
            value = builder.simple("Relu", [builder.simple("Add", [builder.simple("Add", [dense, point]), identity])])
        output, channels = value, CHANNELS
    else:
        raise ValueError(shape)
    graph = helper.make_graph(
        builder.nodes, f"{shape}_{nodes}",
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, CHANNELS, 4, 4])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, [1, channels, 4, 4])],
        builder.initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), len(builder.nodes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True)
    parser.add_argument("--nodes", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    parser.add_argument("--shapes", nargs="+", default=["chain", "concat", "repvgg"])
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--repeat", type=int, default=1, help="runs per model; the best is reported")
    parser.add_argument("--cache", help="directory keeping the generated models between runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        cache = pathlib.Path(args.cache or scratch)
        cache.mkdir(parents=True, exist_ok=True)
        print(f"{'shape':<8}{'nodes':>8}{'fuse s':>9}{'s per 10k':>11}{'ratio':>7}")
        for shape in args.shapes:
            first = None
            for nodes in args.nodes:
                path = cache / f"{shape}_{nodes}.onnx"
                if path.exists():
                    count = len(onnx.load(str(path), load_external_data=False).graph.node)
                else:
                    model, count = make_model(shape, nodes)
                    onnx.save(model, str(path))
                best = None
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    try:
                        subprocess.run([args.tool, "fuse", "--quiet", str(path), str(pathlib.Path(scratch) / "out.gwt")],
                                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       timeout=args.timeout)
                    except subprocess.TimeoutExpired:
                        best = None
                        break
                    seconds = time.perf_counter() - start
                    best = seconds if best is None else min(best, seconds)
                if best is None:
                    print(f"{shape:<8}{count:>8}{'> ' + format(args.timeout, 'g'):>9}{'-':>11}{'-':>7}", flush=True)
                    continue
                per = best / count * 10_000
                first = first or per
                print(f"{shape:<8}{count:>8}{best:>9.2f}{per:>11.3f}{per / first:>7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
