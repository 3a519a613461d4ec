"""Writes ONNX's own operator test cases in ONNX's usual layout, for the interpreter's conformance test.

The onnx wheel carries the node test generators, not their data: collect_testcases() builds each
case (a model plus input/output arrays). Cases whose nodes all use operators the interpreter
supports (the list below mirrors Sources/GhostInterpreter/Operators.swift) are written as
    OUT/<case>/model.onnx
    OUT/<case>/test_data_set_N/input_K.pb, output_K.pb     (TensorProto)
plus OUT/index.json with each case's rtol/atol. Tests/GhostInterpreterTests/ONNXNodeTests.swift
runs them when GHOST_ONNX_NODE_TESTS=OUT (scripts/test.sh sets it).

Usage: python scripts/onnx-node-tests.py OUT
"""
import json
import pathlib
import shutil
import sys
import warnings

import onnx
from onnx import numpy_helper
from onnx.backend.test.case.node import collect_testcases

SUPPORTED = {
    "Conv", "BatchNormalization", "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
    "Tanh", "Erf", "Gelu", "Softmax", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "GlobalAveragePool",
    "GlobalMaxPool", "AveragePool", "MaxPool", "ReduceMean", "Concat", "Split", "Slice", "Pad", "Reshape",
    "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Shape", "Gather", "Constant", "ConstantOfShape",
    "Identity", "Dropout", "Cast", "Gemm", "MatMul", "LayerNormalization",
}


def main(out):
    out = pathlib.Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = collect_testcases(None)
    index = []
    for case in cases:
        if case.model is None or not case.data_sets:
            continue
        ops = {node.op_type for node in case.model.graph.node}
        if not ops <= SUPPORTED or any(node.domain not in ("", "ai.onnx") for node in case.model.graph.node):
            continue
        arrays = [a for inputs, outputs in case.data_sets for a in list(inputs) + list(outputs)]
        if not all(hasattr(a, "shape") and hasattr(a, "dtype") for a in arrays):
            continue  # sequences and optionals: the interpreter runs tensors only
        directory = out / case.name
        directory.mkdir()
        onnx.save(case.model, str(directory / "model.onnx"))
        for number, (inputs, outputs) in enumerate(case.data_sets):
            data = directory / f"test_data_set_{number}"
            data.mkdir()
            for k, (array, info) in enumerate(zip(inputs, case.model.graph.input)):
                tensor = numpy_helper.from_array(array, info.name)
                (data / f"input_{k}.pb").write_bytes(tensor.SerializeToString())
            for k, (array, info) in enumerate(zip(outputs, case.model.graph.output)):
                tensor = numpy_helper.from_array(array, info.name)
                (data / f"output_{k}.pb").write_bytes(tensor.SerializeToString())
        index.append({"name": case.name, "rtol": case.rtol, "atol": case.atol, "ops": sorted(ops)})
    (out / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True))
    print(f"wrote {len(index)} of {len(cases)} node test cases to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".build/onnx-node-tests")
