"""Writes every case of ONNX's own operator test suite in ONNX's usual layout, for the
interpreter's conformance test.

The onnx wheel carries the node test generators, not their data: collect_testcases() builds each
case (a model plus input/output arrays). Every case is written, whether or not the interpreter
supports its operators — the Swift test decides, from the interpreter's operator table, which
must pass and which must be refused with a typed error:
    OUT/<case>/model.onnx
    OUT/<case>/test_data_set_N/input_K.pb, output_K.pb     (TensorProto; tensor cases only)
plus OUT/index.json: the onnx version, and per case its rtol/atol, op types, and `data`:
    "tensors"      every input and output is a tensor (data sets written)
    "non-tensor"   sequences, optionals or maps somewhere (no data written: the interpreter holds
                   tensors only, so it must refuse the model)
    "none"         the suite builds no data for the case
Tests/GhostInterpreterTests/ONNXNodeTests.swift runs them (GHOST_ONNX_NODE_TESTS=OUT; scripts/test.sh
sets it) against Tests/Fixtures/onnx-node-tests/expected.txt.

Usage: python scripts/onnx-node-tests.py OUT
"""
import json
import pathlib
import shutil
import sys
import warnings

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.backend.test.case.node import collect_testcases


def is_tensor(array):
    return isinstance(array, (np.ndarray, np.generic, onnx.TensorProto))


def tensor_proto(array, name):
    """Some generators (Cast's) give TensorProtos already, for types numpy lacks."""
    if isinstance(array, onnx.TensorProto):
        tensor = onnx.TensorProto()
        tensor.CopyFrom(array)
        tensor.name = name
        return tensor
    return numpy_helper.from_array(np.asarray(array), name)


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
        if case.model is None:
            continue
        nodes = case.model.graph.node
        ops = sorted({(node.domain if node.domain not in ("", "ai.onnx") else "") + ("::" if node.domain not in ("", "ai.onnx") else "") + node.op_type for node in nodes})
        directory = out / case.name
        directory.mkdir()
        onnx.save(case.model, str(directory / "model.onnx"))
        arrays = [a for inputs, outputs in (case.data_sets or []) for a in list(inputs) + list(outputs)]
        if not case.data_sets:
            data = "none"
        elif not all(is_tensor(a) for a in arrays):
            data = "non-tensor"
        else:
            data = "tensors"
            for number, (inputs, outputs) in enumerate(case.data_sets):
                folder = directory / f"test_data_set_{number}"
                folder.mkdir()
                for k, (array, info) in enumerate(zip(inputs, case.model.graph.input)):
                    tensor = tensor_proto(array, info.name)
                    (folder / f"input_{k}.pb").write_bytes(tensor.SerializeToString())
                for k, (array, info) in enumerate(zip(outputs, case.model.graph.output)):
                    tensor = tensor_proto(array, info.name)
                    (folder / f"output_{k}.pb").write_bytes(tensor.SerializeToString())
        index.append({"name": case.name, "rtol": case.rtol, "atol": case.atol, "ops": ops, "data": data})
    document = {"onnx_version": onnx.__version__, "cases": index}
    (out / "index.json").write_text(json.dumps(document, indent=1, sort_keys=True))
    print(f"wrote all {len(index)} of {len(cases)} node test cases (onnx {onnx.__version__}) to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".build/onnx-node-tests")
