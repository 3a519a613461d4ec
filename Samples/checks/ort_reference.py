"""The one way the checks run ONNX Runtime: CPU, one thread, no graph optimizations, so a file and
its rewritten copy execute the same kernels in the same order."""
import onnxruntime as ort


def run(model_path, feeds):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)
