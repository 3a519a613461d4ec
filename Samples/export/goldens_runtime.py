"""How goldens are computed with ONNX Runtime (no torch here, so the light check venv can import it):
CPU, one thread, no graph optimizations — the unfused reference numerics."""
import onnxruntime as ort


def run(path, feeds):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)
