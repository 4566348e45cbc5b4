"""ONNX Runtime as an optional benchmark peer (MLAS kernels), forward NCHW only.

Used only when both ``onnx`` (to build the one-node model) and
``onnxruntime`` import; otherwise the peer is left out silently. ONNX
operators take NCHW activations, and ONNX Runtime has no training kernels
here, so NHWC and backward cases are not run ("n/a").
"""
from __future__ import annotations

import numpy as np

__all__ = ["available", "version", "call", "output_array"]


def available():
    """Whether both onnx and onnxruntime import."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except Exception:
        return False
    return True


def version():
    """onnxruntime.__version__, or None."""
    try:
        import onnxruntime
        return onnxruntime.__version__
    except Exception:
        return None


def _pads(padding):
    p = (padding, padding) if isinstance(padding, int) else tuple(padding)
    return [p[0], p[1], p[0], p[1]]


def _pair(value):
    return [value, value] if isinstance(value, int) else list(value)


def _node(case, helper):
    if case.family == "conv":
        kh, kw = case.weight_shape[2:]
        return helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[kh, kw],
                                strides=_pair(case.stride), pads=_pads(case.padding),
                                dilations=_pair(case.dilation), group=case.groups)
    if case.kind == "global_avg":
        return helper.make_node("GlobalAveragePool", ["x"], ["y"])
    stride = case.kernel if case.stride is None else case.stride
    op = "MaxPool" if case.kind == "max" else "AveragePool"
    outputs = ["y", "i"] if case.return_indices else ["y"]
    return helper.make_node(op, ["x"], outputs, kernel_shape=_pair(case.kernel),
                            strides=_pair(stride), pads=_pads(case.padding))


def call(case, layout, arrays, threads):
    """Zero-argument callable running ``case`` in an ONNX Runtime session.

    Raises NotImplementedError for NHWC and backward cases.
    """
    if layout != "NCHW":
        raise NotImplementedError("ONNX operators are NCHW")
    if case.family == "conv" and case.op != "conv2d" or getattr(case, "backward", False):
        raise NotImplementedError("no backward in ONNX Runtime inference")
    import onnx
    import onnxruntime as ort
    from onnx import helper

    x = arrays["x"]
    elem = onnx.TensorProto.FLOAT if x.dtype == np.float32 else onnx.TensorProto.DOUBLE
    inputs = [helper.make_tensor_value_info("x", elem, list(x.shape))]
    feeds = {"x": x}
    if case.family == "conv":
        inputs.append(helper.make_tensor_value_info("w", elem, list(arrays["w"].shape)))
        feeds["w"] = arrays["w"]
    outputs = [helper.make_tensor_value_info("y", elem, None)]
    if case.family == "pool" and case.return_indices:
        outputs.append(helper.make_tensor_value_info("i", onnx.TensorProto.INT64, None))
    graph = helper.make_graph([_node(case, helper)], "bench", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = min(model.ir_version, 8)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return lambda: session.run(None, feeds)


def output_array(case, layout, result):
    """First output of the session."""
    return np.asarray(result[0])
