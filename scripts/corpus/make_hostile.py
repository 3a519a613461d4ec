"""Writes Tests/Fixtures/hostile/: valid ONNX files whose attributes or declared shapes are crafted
to break size arithmetic or memory — files `fuse` accepts but `run` and `verify` must refuse with
a typed error (exit 2), never a trap, a hang or a huge allocation.

    python scripts/corpus/make_hostile.py

manifest.json lists each file with the command that must refuse it (`run --random-input` or
`verify MODEL MODEL`) and the error code. `empty_axis_2pow40.npy` is a valid, empty array of shape
(0, 2**40): `run hardmax_empty_input_axis_2pow40.onnx --input` it must refuse with
`tensor-too-large`. scripts/fuzz.sh seeds the onnx, gwt and npy fuzzers with these files. Tests/GhostConvertCLITests/HostileInputTests.swift runs them.
Made with onnx 1.23.2 (onnx.helper only; no checker on the hostile files).
"""
import json
import pathlib

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/Fixtures/hostile"
BIG = 2**63 - 1


def model(node, x_shape=(1, 1, 4, 4), initializers=(), name="x", opset=17):
    graph = helper.make_graph(
        [node], "hostile", [helper.make_tensor_value_info(name, TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info(output, TensorProto.INT64 if output == "indices" else TensorProto.FLOAT, None)
         for output in node.output], list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def conv(**attributes):
    w = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")
    return model(helper.make_node("Conv", ["x", "w"], ["y"], **attributes), initializers=[w])


def pool(op, **attributes):
    return model(helper.make_node(op, ["x"], ["y"], **attributes))


CASES = {
    # Conv output-size arithmetic: pads near Int64.max, SAME_UPPER with strides/dilations of 2**62.
    "conv_pads_int64_max": (conv(pads=[BIG, BIG, BIG, BIG]), "run", "invalid-node"),
    "conv_pads_int64_max_one_side": (conv(pads=[0, 0, BIG, BIG]), "run", "invalid-node"),
    "conv_same_upper_stride_2pow62": (conv(auto_pad="SAME_UPPER", strides=[2**62, 2**62]), "run", None),
    "conv_same_upper_dilation_2pow62": (conv(auto_pad="SAME_UPPER", dilations=[2**62, 2**62]), "run", "invalid-node"),
    "conv_stride_int64_max": (conv(strides=[BIG, BIG]), "run", None),
    # Pooling: SAME_UPPER with a huge stride, a huge kernel with ceil_mode, a huge kernel with
    # pads just below it (the window fits, so only analytic window bounds avoid a 2**62-step loop).
    "maxpool_same_upper_stride_2pow62": (pool("MaxPool", kernel_shape=[2, 2], auto_pad="SAME_UPPER", strides=[2**62, 2**62]), "run", None),
    "averagepool_kernel_2pow62_ceil": (pool("AveragePool", kernel_shape=[2**62, 2**62], ceil_mode=1), "run", "invalid-node"),
    "averagepool_kernel_2pow62_pads": (pool("AveragePool", kernel_shape=[2**62, 2**62], pads=[2**62 - 1] * 4, count_include_pad=1), "run", "invalid-node"),
    "maxpool_kernel_2pow62_pads": (pool("MaxPool", kernel_shape=[2**62, 2**62], pads=[2**62 - 1] * 4), "run", "invalid-node"),
    # A huge kernel whose pads make the window fit without overflow: only analytic window bounds
    # avoid a 2**40-step loop per output.
    "averagepool_kernel_2pow40_pads": (pool("AveragePool", kernel_shape=[2**40, 2**40], pads=[2**40 - 3] * 4, strides=[2**40, 2**40], count_include_pad=1), "run", None),
    "maxpool_stride_2pow62_ceil": (pool("MaxPool", kernel_shape=[2, 2], strides=[2**62, 2**62], ceil_mode=1), "run", None),
    "averagepool_pads_int64_max": (pool("AveragePool", kernel_shape=[BIG, BIG], pads=[BIG - 1] * 4), "run", "invalid-node"),
    # Found by the attribute-space fuzzer (GHOST_FUZZ_TARGET=attributes, scripts/fuzz.sh):
    # a group near Int64.max overflowed group × channels-per-group (SIGILL);
    "conv_group_2pow62": (model(helper.make_node("Conv", ["x", "w"], ["y"], group=2**62), x_shape=(1, 2, 4, 4),
                                initializers=[numpy_helper.from_array(np.ones((1, 2, 3, 3), np.float32), "w")]), "run", "invalid-node"),
    # pads of 1 with a stride of Int64.max: the first in-bounds output, ⌈(pad − k·d) / stride⌉, was
    # computed as (pad + stride − 1) / stride, which overflowed (SIGILL);
    "conv_pads_1_stride_int64_max": (conv(pads=[1, 1, 1, 1], strides=[2**32 + 1, BIG]), "run", None),
    # the same ceiling division in pooling's window bounds, with a dilation of Int64.max (found
    # under libFuzzer);
    "maxpool_pads_1_dilation_int64_max": (pool("MaxPool", kernel_shape=[1, 1], pads=[1, 1, 1, 1], dilations=[BIG, BIG]), "run", None),
    # MaxPool's padded-plane fast path with a 2**31 kernel and SAME_UPPER padding: the plane's
    # size overflowed (libFuzzer);
    "maxpool_same_upper_kernel_2pow31": (pool("MaxPool", kernel_shape=[2**31 + 1, 2**32], auto_pad="SAME_UPPER", strides=[2, 2]), "run", None),
    # the padded-border region path of a Conv (taps over padding left out) passed a column
    # stride of 2**33 over a one-column output to C as a 32-bit integer (SIGILL; attribute fuzzer);
    "conv_regions_stride_2pow33": (model(helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], strides=[1, 2**33]),
                                         x_shape=(1, 2, 5, 5), initializers=[numpy_helper.from_array(
                                             np.ones((2, 2, 3, 3), np.float32), "w")]), "run", None),
    # num_outputs 2**61 made a list of 2**61 split sizes (allocation failure);
    "split_num_outputs_2pow61": (model(helper.make_node("Split", ["x"], ["y", "y2"], axis=3, num_outputs=2**61), opset=18), "run", "invalid-node"),
    # a step of Int64.max - 1 overflowed stride × step although it takes one element (SIGILL);
    "slice_step_int64_max": (model(helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"]),
                                   initializers=[ints("starts", [0, -1]), ints("ends", [4, 2**55]), ints("axes", [2, 3]),
                                                 ints("steps", [BIG - 1, 2**31 + 1])]), "run", None),
    # zero elements beside an axis of 2**31: Pad built a 2**31-entry index table per axis, Hardmax
    # and TopK a lane buffer as long as the axis (8-16 GB, for an empty result);
    "pad_empty_input_axis_2pow31": (model(helper.make_node("Pad", ["x", "pads"], ["y"]), x_shape=(0, 2**31, 1, 1),
                                          initializers=[ints("pads", [0, 0, 1, 1, 0, 0, 1, 1])]), "run", None),
    "hardmax_empty_input_axis_2pow31": (model(helper.make_node("Hardmax", ["x"], ["y"], axis=-1), x_shape=(0, 2**31)), "run", None),
    "topk_empty_input_axis_2pow31": (model(helper.make_node("TopK", ["x", "k"], ["y", "indices"], axis=-1), x_shape=(0, 2**31),
                                           initializers=[ints("k", [3])]), "run", None),
    # an input axis past the element limit, even with no elements, is refused when bound.
    "hardmax_empty_input_axis_2pow40": (model(helper.make_node("Hardmax", ["x"], ["y"], axis=-1), x_shape=(0, 2**40)), "run", "tensor-too-large"),
    # Declared inputs too large to draw random samples of.
    "input_2pow31_squared": (model(helper.make_node("Relu", ["x"], ["y"]), x_shape=(2**31, 2**31)), "verify", "input-too-large"),
    "input_2pow32_squared": (model(helper.make_node("Relu", ["x"], ["y"]), x_shape=(2**32, 2**32)), "verify", "input-too-large"),
    "input_int64_max": (model(helper.make_node("Relu", ["x"], ["y"]), x_shape=(BIG, 4)), "verify", "input-too-large"),
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, (m, command, code) in sorted(CASES.items()):
        save(m, str(OUT / f"{name}.onnx"))
        # code None: the graph is valid and runs (a single tiny output); the point is that it
        # finishes at once instead of trapping or looping.
        manifest.append({"file": f"{name}.onnx", "command": command, "code": code or "ok"})
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    # Zero elements, so no data; the header alone declares an axis past the element limit.
    np.save(OUT / "empty_axis_2pow40.npy", np.empty((0, 2**40), np.float32))
    print(f"wrote {len(manifest)} hostile models to {OUT}")


if __name__ == "__main__":
    main()
