"""The GEMM shapes (m, k, n, count) of a network's grouped and pointwise Convs, as the interpreter
runs them: m = output channels per group, k = input channels per group · kh · kw, n = output
positions. Depthwise Convs (one input channel per group) are left out: they do not use the GEMM.
3×3 Convs with few input channels are listed too, although the interpreter runs some of them by
its direct kernel; `--pointwise` keeps only the 1×1s.

Usage: .venv-check/bin/python Benchmarks/gemm/conv_shapes.py model.onnx [--pointwise] > shapes.txt
(ONNX Runtime runs the model once on a random input to learn every Conv's output shape.)
"""
import argparse
import collections

import numpy as np
import onnx
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--pointwise", action="store_true")
    args = parser.parse_args()
    model = onnx.load(args.model)
    graph = model.graph
    weights = {i.name: list(i.dims) for i in graph.initializer}
    convs = [n for n in graph.node if n.op_type == "Conv" and n.input[1] in weights]
    listed = {o.name for o in graph.output}
    for node in convs:
        if node.output[0] not in listed:
            graph.output.append(onnx.ValueInfoProto(name=node.output[0]))
            listed.add(node.output[0])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {i.name: np.random.default_rng(0).standard_normal(i.shape).astype(np.float32) for i in session.get_inputs()}
    shapes = {o.name: r.shape for o, r in zip(session.get_outputs(), session.run(None, feeds))}
    counts = collections.Counter()
    for node in convs:
        w = weights[node.input[1]]
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        if w[1] == 1 and group > 1:
            continue
        if args.pointwise and any(d != 1 for d in w[2:]):
            continue
        counts[(w[0] // group, int(np.prod(w[1:])), int(np.prod(shapes[node.output[0]][2:])))] += group
    print(f"# m k n count — {args.model.split('/')[-1]}, {sum(counts.values())} GEMMs")
    for (m, k, n), c in sorted(counts.items(), key=lambda t: -t[0][0] * t[0][1] * t[0][2] * t[1]):
        print(m, k, n, c)


if __name__ == "__main__":
    main()
