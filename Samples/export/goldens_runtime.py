"""How goldens are computed with ONNX Runtime (no torch here, so the light check venv can import it):
CPU, one thread, no graph optimizations — the unfused reference numerics."""
import pathlib
import sys

import onnxruntime as ort

# The comparison every check uses, NaN- and infinity-safe, lives with the checks.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "checks"))
from compare import relative_error  # noqa: E402,F401  (re-exported for the export scripts)


def run(path, feeds):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)
