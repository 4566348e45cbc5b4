"""Inputs of a benchmark case and the calls of the NumPy-API peers.

``fastconv`` and ``fastconv.reference`` share one signature (API.md), so one
builder serves both. Every builder returns a zero-argument callable on arrays
made once, so that each timed call reuses the same inputs.
"""
from __future__ import annotations

import numpy as np

__all__ = ["make_inputs", "numpy_api_call", "output_array"]


def make_inputs(case, layout, dtype, seed=0):
    """Random arrays for ``case`` in ``layout``: ``x``, ``w`` (convs) and ``gy`` (backward).

    ``x`` and ``gy`` are contiguous in the physical layout; ``w`` is OIHW.

    Examples
    --------
    >>> from fastconv.bench.cases import TABLES
    >>> arrays = make_inputs(TABLES["lenet"][0], "NHWC", "float32")
    >>> arrays["x"].shape, arrays["w"].shape
    ((64, 28, 28, 1), (6, 1, 5, 5))
    """
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    g = case.geometry(layout)

    def rand(shape):
        return rng.standard_normal(shape, dtype=np.float32).astype(dtype, copy=False)

    arrays = {"x": rand(g.input_shape)}
    if case.family == "conv":
        arrays["w"] = rand(g.weight_shape) * dtype.type(1.0 / np.sqrt(np.prod(g.weight_shape[1:])))
        if case.op != "conv2d":
            arrays["gy"] = rand(g.output_shape)
    elif case.backward:
        arrays["gy"] = rand(g.output_shape)
    return arrays


def _pool_args(case):
    return dict(kernel_size=case.kernel, stride=case.stride, padding=case.padding)


def numpy_api_call(module, case, layout, arrays):
    """Zero-argument callable running ``case`` with ``module`` (fastconv or its reference).

    Raises NotImplementedError (or AttributeError) only when called, so that
    a missing op shows as "n/a" for that layer.
    """
    x, w, gy = arrays["x"], arrays.get("w"), arrays.get("gy")
    if case.family == "conv":
        conv = dict(stride=case.stride, padding=case.padding, dilation=case.dilation,
                    groups=case.groups, layout=layout)
        if case.op == "conv2d":
            return lambda: module.conv2d(x, w, None, **conv)
        grads = dict(input_grad=case.op == "conv2d_grad_input",
                     weight_grad=case.op == "conv2d_grad_weight", bias_grad=False)
        return lambda: module.conv2d_backward(gy, x, w, **conv, **grads)
    if case.kind == "global_avg":
        if case.backward:
            return lambda: module.avg_pool2d_backward(gy, x.shape, (case.H, case.W),
                                                      layout=layout)
        return lambda: module.global_avg_pool2d(x, layout=layout)
    pool = _pool_args(case)
    if case.kind == "max":
        if case.backward:
            return lambda: module.max_pool2d_backward(gy, x, **pool, layout=layout)
        return lambda: module.max_pool2d(x, **pool, return_indices=case.return_indices,
                                         layout=layout)
    if case.backward:
        return lambda: module.avg_pool2d_backward(gy, x.shape, **pool, layout=layout)
    return lambda: module.avg_pool2d(x, **pool, layout=layout)


def output_array(case, result):
    """The array a NumPy-API call returned that peers are compared on.

    ``conv2d_backward`` returns a triple (the requested gradient is the one
    not None); ``max_pool2d`` with indices returns ``(values, indices)``.
    """
    if isinstance(result, tuple):
        if case.family == "conv":
            result = result[0] if case.op == "conv2d_grad_input" else result[1]
        else:
            result = result[0]
    return np.asarray(result)
