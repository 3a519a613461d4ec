"""NaN, ±inf, ±0 and extreme values through every supported operator, against ONNX Runtime.

For each case below whose op the tool supports (`ghost-convert operators --json`), a one-node
model is built, fed special values, run by ONNX Runtime (CPU, one thread, no optimizations) and
by `ghost-convert run` (float32), and every element compared: both NaN, the same infinity, or
within RTOL (ONNX Runtime approximates some transcendental functions). A NaN or infinity on one side only is always a failure: that is how a
broken graph could pass verification. Ops the tool supports but no case here covers are listed.

    python Samples/checks/special_values_ort.py --tool .build/debug/ghost-convert

Known, documented deviation: inside a max-pooling window ONNX Runtime's vectorized kernels skip
a NaN or keep it depending on its SIMD lane, and give −FLT_MAX for some padded all-NaN windows;
the interpreter skips NaN unless the whole window is NaN. Those cases use NaN-free windows here
(pooling cases feed `FINITE_AND_INF`).
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ort_reference import run as run_ort

SPECIAL = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5,
                    3.0, -3.0, 88.7, -88.7, 1e30, -2e30, 1e-30, -1e-30, 6.0, -6.0, 1e-45, 100.0], np.float32)
FINITE_AND_INF = np.array([np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 3.0, -3.0,
                           88.7, -88.7, 1e30, -2e30, 1e-30, -1e-30, 6.0, -6.0, 1e-45, 100.0, 7.0, -7.0], np.float32)
SHAPE = [1, 2, 3, 4]
RTOL = 2e-5
# Gelu's 1 + tanh(…) cancels near x = −3 in float32: ONNX Runtime is 3e-5 from the float64 value
# there, the interpreter 1e-5.
RTOL_BY_OP = {"Gelu": 1e-4}


def x(values=SPECIAL):
    return values.reshape(SHAPE)


def y():
    """A second operand that meets every special value with others: SPECIAL reversed."""
    return SPECIAL[::-1].copy().reshape(SHAPE)


# (label, op, attributes, graph inputs {name: array}, constant inputs [(name, array)] in node order
#  after the graph inputs, opset)
def cases():
    c = []
    unary = ["Relu", "Sigmoid", "HardSwish", "Tanh", "Erf", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal",
             "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan", "Atan", "Softplus", "Softsign", "Mish",
             "IsNaN", "IsInf", "Identity", "Asin", "Acos", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh"]
    for op in unary:
        c.append((op, op, {}, {"x": x()}, [], 18))
    c += [
        ("LeakyRelu", "LeakyRelu", {"alpha": 0.1}, {"x": x()}, [], 17),
        ("HardSigmoid", "HardSigmoid", {"alpha": 0.2, "beta": 0.5}, {"x": x()}, [], 17),
        ("Clip", "Clip", {}, {"x": x()}, [("lo", np.array(-2, np.float32)), ("hi", np.array(3, np.float32))], 17),
        ("Gelu", "Gelu", {}, {"x": x()}, [], 20),
        ("Gelu tanh", "Gelu", {"approximate": "tanh"}, {"x": x()}, [], 20),
        ("Elu", "Elu", {"alpha": 1.0}, {"x": x()}, [], 17),
        ("Selu", "Selu", {}, {"x": x()}, [], 17),
        ("Celu", "Celu", {"alpha": 1.0}, {"x": x()}, [], 17),
        ("ThresholdedRelu", "ThresholdedRelu", {"alpha": 1.0}, {"x": x()}, [], 17),
        ("Softmax", "Softmax", {"axis": -1}, {"x": x()}, [], 17),
        ("LogSoftmax", "LogSoftmax", {"axis": -1}, {"x": x()}, [], 17),
        ("Hardmax", "Hardmax", {"axis": -1}, {"x": x()}, [], 17),
        ("PRelu", "PRelu", {}, {"x": x()}, [("slope", np.array([0.25, -1.5], np.float32).reshape(1, 2, 1, 1))], 17),
        ("BatchNormalization", "BatchNormalization", {"epsilon": 1e-5}, {"x": x()},
         [("g", np.array([1.5, -0.5], np.float32)), ("b", np.array([0.1, 0.2], np.float32)),
          ("m", np.array([0.3, -0.1], np.float32)), ("v", np.array([2.0, 0.5], np.float32))], 17),
        ("LayerNormalization", "LayerNormalization", {"axis": -1}, {"x": x()},
         [("scale", np.array([1, -1, 2, 0.5], np.float32))], 17),
        ("InstanceNormalization", "InstanceNormalization", {}, {"x": x()},
         [("s", np.array([1, 2], np.float32)), ("b", np.array([0, 1], np.float32))], 17),
    ]
    for op in ["Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Mean", "Sum", "Equal", "Less", "Greater",
               "LessOrEqual", "GreaterOrEqual"]:
        c.append((op, op, {}, {"a": x(), "b": y()}, [], 18))
    c.append(("Mod fmod", "Mod", {"fmod": 1}, {"a": x(), "b": y()}, [], 18))
    c.append(("Where", "Where", {}, {"c": np.isfinite(SPECIAL).reshape(SHAPE), "a": x(), "b": y()}, [], 18))
    flags = np.isfinite(SPECIAL).reshape(SHAPE)
    for op in ["And", "Or", "Xor"]:
        c.append((op, op, {}, {"a": flags, "b": (SPECIAL[::-1] > 0).reshape(SHAPE)}, [], 18))
    c.append(("Not", "Not", {}, {"a": flags}, [], 18))
    c += [
        ("Gemm", "Gemm", {"transB": 1}, {"a": SPECIAL.reshape(6, 4)},
         [("w", np.array([[1, 0, -1, 0.5], [0.25, 2, 0, -1]], np.float32)), ("c", np.array([0.5, -0.5], np.float32))], 17),
        ("ConvTranspose", "ConvTranspose", {"strides": [2, 2]}, {"x": x()},
         [("w", np.array([1, -0.5, 0.25, 2, 0, 1, -1, 0.5], np.float32).reshape(2, 1, 2, 2))], 17),
        ("LpNormalization", "LpNormalization", {"axis": -1, "p": 2}, {"x": x()}, [], 17),
        ("MeanVarianceNormalization", "MeanVarianceNormalization", {"axes": [3]}, {"x": x()}, [], 17),
        ("LRN", "LRN", {"size": 3}, {"x": x()}, [], 17),
        ("DepthToSpace", "DepthToSpace", {"blocksize": 1}, {"x": x()}, [], 17),
        ("Tile", "Tile", {}, {"x": x()}, [("r", np.array([1, 1, 2, 1], np.int64))], 17),
        ("Expand", "Expand", {}, {"x": x()}, [("s", np.array([2, 2, 3, 4], np.int64))], 17),
    ]
    pooled = x(FINITE_AND_INF)
    c += [
        ("GlobalMaxPool", "GlobalMaxPool", {}, {"x": pooled}, [], 17),
        ("GlobalAveragePool", "GlobalAveragePool", {}, {"x": x()}, [], 17),
        ("MaxPool", "MaxPool", {"kernel_shape": [2, 2]}, {"x": pooled}, [], 17),
        ("AveragePool", "AveragePool", {"kernel_shape": [2, 2]}, {"x": x()}, [], 17),
        ("Conv", "Conv", {"kernel_shape": [2, 2]}, {"x": x()},
         [("w", np.array([1, -0.5, 0.25, 2, 0, 1, -1, 0.5], np.float32).reshape(1, 2, 2, 2))], 17),
        ("MatMul", "MatMul", {}, {"a": x()}, [("w", np.array([[1, 0], [0.5, -1], [0, 2], [-0.25, 1]], np.float32))], 17),
    ]
    for op in ["ReduceMax", "ReduceMin", "ReduceSum", "ReduceMean", "ReduceProd", "ReduceL1", "ReduceL2",
               "ReduceLogSumExp", "ReduceSumSquare", "ReduceLogSum"]:
        c.append((op, op, {"keepdims": 1}, {"x": x()}, [("axes", np.array([-1], np.int64))], 18))
    c += [
        ("ArgMax", "ArgMax", {"axis": -1}, {"x": pooled}, [], 17),
        ("ArgMin", "ArgMin", {"axis": -1}, {"x": pooled}, [], 17),
        ("CumSum", "CumSum", {}, {"x": x()}, [("axis", np.array(3, np.int64))], 17),
        ("Resize linear", "Resize", {"mode": "linear"}, {"x": x()},
         [("roi", np.array([], np.float32)), ("scales", np.array([1, 1, 2, 2], np.float32))], 18),
        ("Resize nearest", "Resize", {"mode": "nearest"}, {"x": x()},
         [("roi", np.array([], np.float32)), ("scales", np.array([1, 1, 2, 2], np.float32))], 18),
    ]
    return c


BOOLEAN_OUTPUTS = {"IsNaN", "IsInf", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Not"}
INDEX_OUTPUTS = {"ArgMax", "ArgMin"}


def build(op, attributes, inputs, constants, opset):
    graph_inputs = [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape))
                    for name, a in inputs.items()]
    initializers = [numpy_helper.from_array(a, name) for name, a in constants]
    node = helper.make_node(op, list(inputs) + [name for name, _ in constants], ["y"], **attributes)
    output_type = (TensorProto.BOOL if op in BOOLEAN_OUTPUTS else TensorProto.INT64 if op in INDEX_OUTPUTS
                   else TensorProto.FLOAT)
    graph = helper.make_graph([node], "special", graph_inputs, [helper.make_tensor_value_info("y", output_type, None)],
                              initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def same(a, b, rtol=RTOL):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return False, f"shape {a.shape} vs {b.shape}"
    both_nan = np.isnan(a) & np.isnan(b)
    equal = (a == b) | both_nan
    finite = np.isfinite(a) & np.isfinite(b)
    with np.errstate(invalid="ignore"):
        # ONNX Runtime's Sigmoid, Erf and Tanh are polynomial approximations good to ~1e-6
        # relative, so finite values get RTOL; the point here is NaN, infinity and zero.
        close = finite & (np.abs(a - b) <= rtol * np.abs(b) + 1e-37)
    bad = ~(equal | close)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        return False, f"element {i}: {a.flat[i]!r} vs ONNX Runtime {b.flat[i]!r}"
    return True, ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    args = parser.parse_args()
    listing = json.loads(subprocess.run([args.tool, "operators", "--json"], check=True, capture_output=True, text=True).stdout)
    supported = {op for family in listing for op in family["opTypes"]}
    covered, failures, ran = set(), [], 0
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        for number, (label, op, attributes, inputs, constants, opset) in enumerate(cases()):
            covered.add(op)
            if op not in supported:
                continue
            model = build(op, attributes, inputs, constants, opset)
            path = scratch / f"case{number}.onnx"
            onnx.save(model, str(path))
            expected = run_ort(path, inputs)[0]
            arguments = [args.tool, "run", str(path), "--output-dir", str(scratch / f"out{number}")]
            for name, array in inputs.items():
                np.save(scratch / f"{number}_{name}.npy", array)
                arguments += ["--input", f"{name}={scratch / f'{number}_{name}.npy'}"]
            result = subprocess.run(arguments, capture_output=True, text=True)
            ran += 1
            if result.returncode != 0:
                failures.append(f"{label}: ghost-convert run failed: {result.stderr.strip()}")
                continue
            actual = np.load(scratch / f"out{number}" / "y.npy")
            ok, why = same(actual, expected, RTOL_BY_OP.get(op, RTOL))
            if not ok:
                failures.append(f"{label}: {why}")
    for failure in failures:
        print("FAIL", failure)
    uncovered = sorted(op for op in supported - covered
                       if op not in {"Constant", "ConstantOfShape", "Shape", "Reshape", "Flatten", "Transpose", "Squeeze",
                                     "Unsqueeze", "Concat", "Split", "Slice", "Gather", "Pad", "Cast", "Dropout"})
    print(f"special values: {ran - len(failures)} passed, {len(failures)} failed"
          + (f" (supported ops without a case: {', '.join(uncovered)})" if uncovered else ""))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
