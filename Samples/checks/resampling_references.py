"""ONNX Runtime references for the interpreter's resampling operators (Resize, GridSample).

Writes Tests/Fixtures/resampling/: for each case `<name>.x.npy` (and `<name>.grid.npy`), ONNX
Runtime's output `<name>.y.npy`, and cases.json with the node's attributes, opset and constant
inputs, plus the versions and seed that made them. ResamplingTests.swift replays every case.

Run: /path/to/venv/bin/python Samples/checks/resampling_references.py
"""
import json
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

SEED = 20261201
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "resampling"

# name, op, opset, input shape, attributes, constants (name -> (dtype, values)), grid shape
CASES = [
    ("nearest_2x_yolo", "Resize", 19, [1, 3, 10, 10], {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                                                          "nearest_mode": "floor"}, {"scales": [1, 1, 2, 2]}, None),
    ("nearest_half_pixel_down", "Resize", 19, [1, 2, 9, 11], {"mode": "nearest"}, {"sizes": [1, 2, 4, 5]}, None),
    ("linear_half_pixel_up", "Resize", 19, [1, 2, 6, 7], {"mode": "linear"}, {"sizes": [1, 2, 24, 28]}, None),
    ("linear_pytorch_down", "Resize", 19, [1, 2, 12, 10], {"mode": "linear", "coordinate_transformation_mode": "pytorch_half_pixel"},
     {"sizes": [1, 2, 5, 1]}, None),
    ("linear_align_corners_up", "Resize", 19, [1, 1, 5, 6], {"mode": "linear", "coordinate_transformation_mode": "align_corners"},
     {"scales": [1, 1, 2, 3]}, None),
    ("linear_antialias_down", "Resize", 19, [1, 2, 16, 13], {"mode": "linear", "antialias": 1}, {"scales": [1, 1, 0.3, 0.45]}, None),
    ("cubic_half_pixel_up", "Resize", 19, [1, 2, 5, 6], {"mode": "cubic"}, {"scales": [1, 1, 2.5, 1.5]}, None),
    ("cubic_antialias_down", "Resize", 19, [1, 1, 15, 12], {"mode": "cubic", "antialias": 1, "cubic_coeff_a": -0.5},
     {"sizes": [1, 1, 4, 7]}, None),
    ("cubic_exclude_outside", "Resize", 19, [1, 2, 6, 5], {"mode": "cubic", "exclude_outside": 1, "cubic_coeff_a": -0.5},
     {"scales": [1, 1, 0.7, 1.8]}, None),
    ("crop_and_resize", "Resize", 19, [1, 1, 7, 8], {"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize",
                                                    "extrapolation_value": -3.0},
     {"roi": [0, 0, -0.25, 0.125, 1, 1, 0.875, 1.25], "sizes": [1, 1, 5, 6]}, None),
    ("resize10_nearest", "Resize", 10, [1, 1, 7, 9], {"mode": "nearest"}, {"scales": [1, 1, 0.6, 1.7]}, None),
    ("grid_bilinear_zeros", "GridSample", 16, [1, 2, 6, 7], {"mode": "bilinear", "padding_mode": "zeros"}, {}, [1, 5, 4, 2]),
    ("grid_bicubic_reflection", "GridSample", 16, [1, 2, 6, 7], {"mode": "bicubic", "padding_mode": "reflection",
                                                                 "align_corners": 1}, {}, [1, 5, 4, 2]),
    ("grid_nearest_border", "GridSample", 20, [2, 1, 5, 4], {"mode": "nearest", "padding_mode": "border"}, {}, [2, 3, 3, 2]),
    ("grid_linear_volumetric", "GridSample", 20, [1, 2, 3, 4, 5], {"mode": "linear", "padding_mode": "border"}, {}, [1, 2, 3, 2, 3]),
]


def build(op, opset, shape, attributes, constants, grid_shape):
    initializers, names = [], ["x"]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)]
    if op == "Resize":
        order = ["scales"] if opset == 10 else ["roi", "scales", "sizes"]
        for key in order:
            if key in constants:
                dtype = np.int64 if key == "sizes" else np.float32
                initializers.append(onnx.numpy_helper.from_array(np.array(constants[key], dtype), key))
                names.append(key)
            else:
                names.append("")
        while names[-1] == "":
            names.pop()
    else:
        inputs.append(helper.make_tensor_value_info("grid", TensorProto.FLOAT, grid_shape))
        names.append("grid")
    node = helper.make_node(op, names, ["y"], **attributes)
    graph = helper.make_graph([node], op, inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    random = np.random.default_rng(SEED)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    listed = []
    for name, op, opset, shape, attributes, constants, grid_shape in CASES:
        model = build(op, opset, shape, attributes, constants, grid_shape)
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        # Values on a 2^-12 grid so that float32 holds them exactly.
        feeds = {"x": (np.round(random.uniform(-1, 1, shape) * 4096) / 4096).astype(np.float32)}
        if grid_shape:
            feeds["grid"] = (np.round(random.uniform(-1.3, 1.3, grid_shape) * 4096) / 4096).astype(np.float32)
        (y,) = session.run(None, feeds)
        for key, value in list(feeds.items()) + [("y", y)]:
            np.save(OUT / f"{name}.{key}.npy", value)
        listed.append({"name": name, "op": op, "opset": opset,
                       "attributes": {k: v for k, v in attributes.items()},
                       "constants": constants})
    provenance = {"onnxruntime": ort.__version__, "onnx": onnx.__version__, "numpy": np.__version__, "seed": SEED,
                  "script": "Samples/checks/resampling_references.py", "cases": listed}
    (OUT / "cases.json").write_text(json.dumps(provenance, indent=1) + "\n")


if __name__ == "__main__":
    main()
