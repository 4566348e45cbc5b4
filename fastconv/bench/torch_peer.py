"""PyTorch as a benchmark peer: the same case on tensors sharing the NumPy inputs.

NHWC runs on ``channels_last`` tensors (a permuted view of the NHWC array,
with the weight converted to channels_last once, as ``model.to(
memory_format=torch.channels_last)`` does). Forward ops go through
``torch.nn.functional``; conv gradients through
``torch.ops.aten.convolution_backward`` with one gradient requested at a
time; pool gradients through autograd on a graph built once.
"""
from __future__ import annotations

import contextlib

import numpy as np

__all__ = ["available", "version", "call", "output_array", "threads"]


def _torch():
    import torch
    return torch


def available():
    """Whether torch imports."""
    try:
        _torch()
    except Exception:
        return False
    return True


def version():
    """torch.__version__, or None when torch is missing."""
    try:
        return _torch().__version__
    except Exception:
        return None


@contextlib.contextmanager
def threads(n):
    """Run the block with ``torch.set_num_threads(n)``, restoring the count after."""
    torch = _torch()
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _tensor(array, layout):
    torch = _torch()
    t = torch.from_numpy(array)
    return t.permute(0, 3, 1, 2) if layout == "NHWC" else t


def _ints(value):
    return [value, value] if isinstance(value, int) else list(value)


def call(case, layout, arrays):
    """Zero-argument callable running ``case`` in PyTorch on ``arrays``."""
    torch = _torch()
    F = torch.nn.functional
    x = _tensor(arrays["x"], layout)
    if case.family == "conv":
        w = torch.from_numpy(arrays["w"])
        if layout == "NHWC":
            w = w.contiguous(memory_format=torch.channels_last)
        if case.op == "conv2d":
            return lambda: F.conv2d(x, w, None, case.stride, case.padding, case.dilation,
                                    case.groups)
        gy = _tensor(arrays["gy"], layout)
        mask = [case.op == "conv2d_grad_input", case.op == "conv2d_grad_weight", False]
        args = (None, _ints(case.stride), _ints(case.padding), _ints(case.dilation), False,
                [0, 0], case.groups, mask)
        return lambda: torch.ops.aten.convolution_backward(gy, x, w, *args)
    if case.kind == "global_avg":
        forward = lambda t: F.adaptive_avg_pool2d(t, 1)  # noqa: E731
    elif case.kind == "max":
        forward = lambda t: F.max_pool2d(t, case.kernel, case.stride, case.padding,  # noqa
                                         return_indices=case.return_indices)
    else:
        forward = lambda t: F.avg_pool2d(t, case.kernel, case.stride, case.padding)  # noqa
    if not case.backward:
        return lambda: forward(x)
    leaf = x.detach().requires_grad_(True)
    y = forward(leaf)
    gy = _tensor(arrays["gy"], layout)
    return lambda: torch.autograd.grad(y, leaf, gy, retain_graph=True)


def output_array(case, layout, result):
    """The result as a NumPy array in ``layout`` (weights stay OIHW)."""
    if isinstance(result, (tuple, list)):
        if case.family == "conv" and case.op == "conv2d_grad_weight":
            result = result[1]
        else:
            result = result[0]
    t = result.detach()
    if layout == "NHWC" and not (case.family == "conv" and case.op == "conv2d_grad_weight"):
        t = t.permute(0, 2, 3, 1)
    return np.asarray(t.contiguous().numpy())
