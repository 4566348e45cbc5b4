"""Pooling, forward and backward: validate and plan in Python, compute in fastconv._pool.

Conventions beyond PyTorch (the same as ``fastconv.reference``):

* Padding may exceed half the kernel (PyTorch forbids it, ONNX allows it), so
  a max-pooling window may lie entirely in padding: its output is ``-inf``,
  its index ``-1``, and its gradient is dropped.
* A NaN in a max-pooling window makes that output NaN; its index is the last
  NaN of the window in row-major order (PyTorch's CPU rule). Otherwise ties go
  to the first maximum in row-major window order.
* Average pooling with ``count_include_pad=True`` divides by the number of the
  window's taps inside the padded input (ONNX); a window with no tap to count
  (``count_include_pad=False`` and no tap inside the input) gives NaN (0/0).
"""
from __future__ import annotations

import numbers

import numpy as np

from . import _config
from ._arrays import as_batched, as_float_array, check_layout, empty, unbatch
from ._shapes import pool2d_geometry

__all__ = ["max_pool2d", "avg_pool2d", "global_avg_pool2d", "global_max_pool2d",
           "max_pool2d_backward", "avg_pool2d_backward"]


def _bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def _setup(input, kernel_size, stride, padding, dilation, ceil_mode, layout):
    layout = check_layout(layout)
    x = as_float_array(input, "input")
    x4, batched = as_batched(x, "input")
    g = pool2d_geometry(x4.shape, kernel_size, stride, padding, dilation,
                        _bool(ceil_mode, "ceil_mode"), layout)
    return layout, x4, batched, g


def _avg_options(count_include_pad, divisor_override):
    count_include_pad = _bool(count_include_pad, "count_include_pad")
    if divisor_override is None:
        return count_include_pad, 0
    if isinstance(divisor_override, bool) or not isinstance(divisor_override, numbers.Integral):
        raise TypeError(f"divisor_override must be an int or None, got {divisor_override!r}")
    if not 1 <= divisor_override < 2 ** 63:
        raise ValueError(f"divisor_override must be in [1, 2**63), got {divisor_override!r}")
    return count_include_pad, int(divisor_override)


def _grad_output(grad_output, dtype, g, batched):
    gy = as_float_array(grad_output, "grad_output", dtype)
    want = g.output_shape if batched else g.output_shape[1:]
    if gy.shape != tuple(want):
        raise ValueError(f"grad_output must have shape {tuple(want)}, got {gy.shape}")
    return gy


def _flat(a):
    return a.reshape(-1)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, *, layout="NCHW"):
    """2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    input : array_like, float32 or float64
        ``(N, C, H, W)`` (``layout="NCHW"``) or ``(N, H, W, C)`` (``"NHWC"``);
        3-D input without batch is accepted.
    kernel_size, stride, dilation : int or (int, int)
        ``stride=None`` means ``stride = kernel_size``.
    padding : int, (int, int), ((top, bottom), (left, right)), "valid", "same" or "same_lower"
        Pads with -inf. May exceed half the kernel: a window lying entirely in
        padding gives ``-inf`` and index ``-1``.
    ceil_mode : bool
        Round the output size up (PyTorch's rule: the last window starts
        inside the input or the begin padding).
    return_indices : bool
        Also return int64 indices shaped like the output, each ``h * W + w``
        in the input plane of the selected value (first maximum in row-major
        window order; the last NaN if the window has NaNs).
    layout : {"NCHW", "NHWC"}

    Returns
    -------
    ndarray, or (ndarray, ndarray of int64)

    Examples
    --------
    >>> import numpy as np, fastconv
    >>> x = np.array([[[[1., 5., 2.], [3., 4., 9.]]]], np.float32)
    >>> y, i = fastconv.max_pool2d(x, 2, stride=1, return_indices=True)
    >>> y[0, 0], i[0, 0]
    (array([[5., 9.]], dtype=float32), array([[1, 5]]))
    """
    from . import _pool
    layout, x4, batched, g = _setup(input, kernel_size, stride, padding, dilation, ceil_mode,
                                    layout)
    return_indices = _bool(return_indices, "return_indices")
    y = empty(g.output_shape, x4.dtype)
    idx = np.empty(g.output_shape, dtype=np.int64) if return_indices else None
    if y.size:
        _pool.max_pool2d(g, _flat(x4), _flat(y), None if idx is None else _flat(idx),
                         _config.isa_level(), _config.get_num_threads())
    if return_indices:
        return unbatch(y, batched), unbatch(idx, batched)
    return unbatch(y, batched)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, dilation=1, layout="NCHW"):
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d`` (plus ONNX dilation).

    Parameters
    ----------
    input : array_like, float32 or float64
        ``(N, C, H, W)`` or ``(N, H, W, C)`` per ``layout``; 3-D without batch accepted.
    kernel_size, stride, dilation : int or (int, int)
        ``stride=None`` means ``stride = kernel_size``.
    padding : int, (int, int), ((top, bottom), (left, right)), "valid", "same" or "same_lower"
    ceil_mode : bool
        As PyTorch, windows may hang over the end padding.
    count_include_pad : bool
        Divide by the window's taps inside the padded input (True) or inside
        the input (False).
    divisor_override : int, optional
        Divide by this instead.
    layout : {"NCHW", "NHWC"}

    Returns
    -------
    ndarray

    Examples
    --------
    >>> import numpy as np, fastconv
    >>> x = np.arange(4.0).reshape(1, 1, 2, 2)
    >>> fastconv.avg_pool2d(x, 2, padding=1)[0, 0]
    array([[0.  , 0.25],
           [0.5 , 0.75]])
    """
    from . import _pool
    layout, x4, batched, g = _setup(input, kernel_size, stride, padding, dilation, ceil_mode,
                                    layout)
    cip, div = _avg_options(count_include_pad, divisor_override)
    y = empty(g.output_shape, x4.dtype)
    if y.size:
        _pool.avg_pool2d(g, _flat(x4), _flat(y), cip, div, _config.isa_level(),
                         _config.get_num_threads())
    return unbatch(y, batched)


def _global(input, layout, is_max):
    from . import _pool
    layout = check_layout(layout)
    x = as_float_array(input, "input")
    x4, batched = as_batched(x, "input")
    if layout == "NCHW":
        N, C, H, W = x4.shape
    else:
        N, H, W, C = x4.shape
    if H < 1 or W < 1:
        raise ValueError(f"input has an empty spatial dimension: shape {x.shape}")
    y = np.empty((N, C, 1, 1) if layout == "NCHW" else (N, 1, 1, C), dtype=x4.dtype)
    if y.size:
        _pool.global_pool2d(N, C, H, W, layout, _flat(x4), _flat(y), is_max,
                            _config.isa_level(), _config.get_num_threads())
    return unbatch(y, batched)


def global_avg_pool2d(input, *, layout="NCHW"):
    """Mean over the spatial dimensions, kept as size-1 dimensions.

    Returns ``(N, C, 1, 1)`` (NCHW) or ``(N, 1, 1, C)`` (NHWC); 3-D in, 3-D out.

    Examples
    --------
    >>> import numpy as np, fastconv
    >>> fastconv.global_avg_pool2d(np.arange(8.0).reshape(1, 2, 2, 2))[:, :, 0, 0]
    array([[1.5, 5.5]])
    """
    return _global(input, layout, False)


def global_max_pool2d(input, *, layout="NCHW"):
    """Maximum over the spatial dimensions (NaN if any is NaN), kept as size-1 dimensions.

    Examples
    --------
    >>> import numpy as np, fastconv
    >>> fastconv.global_max_pool2d(np.arange(8.0).reshape(1, 2, 2, 2))[:, :, 0, 0]
    array([[3., 7.]])
    """
    return _global(input, layout, True)


def max_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False, *, indices=None, layout="NCHW"):
    """Gradient of ``max_pool2d`` with respect to its input.

    Each output's gradient goes to the input its window selected: ``indices``
    (as returned by ``max_pool2d(..., return_indices=True)``) if given, else
    the argmax recomputed from ``input`` (first maximum in row-major window
    order; the last NaN). Windows entirely in padding (index -1) drop theirs.

    Parameters
    ----------
    grad_output : array_like, shaped like the forward output
    input : array_like, the forward input
    indices : array_like of int, optional
        Validated: each in ``[0, H*W)`` or ``-1``; anything else raises
        ValueError (nothing is written out of range).

    Returns
    -------
    ndarray shaped like ``input``.

    Examples
    --------
    >>> import numpy as np, fastconv
    >>> x = np.array([[[[1., 5.], [3., 4.]]]])
    >>> fastconv.max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)[0, 0]
    array([[0., 1.],
           [0., 0.]])
    """
    from . import _pool
    layout, x4, batched, g = _setup(input, kernel_size, stride, padding, dilation, ceil_mode,
                                    layout)
    gy = _grad_output(grad_output, x4.dtype, g, batched)
    idx = None
    if indices is not None:
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"indices must be an integer array, got dtype {idx.dtype}")
        want = g.output_shape if batched else g.output_shape[1:]
        if idx.shape != tuple(want):
            raise ValueError(f"indices must have shape {tuple(want)}, got {idx.shape}")
        if idx.dtype == np.uint64 and idx.size and idx.max() > np.iinfo(np.int64).max:
            raise ValueError("indices out of range")
        # aligned too: the C side reads int64_t (ascontiguousarray keeps an unaligned buffer)
        idx = np.require(idx, dtype=np.int64, requirements=["C", "A"])
    gx = empty(x4.shape, x4.dtype)
    if gx.size:
        _pool.max_pool2d_backward(g, _flat(gy), None if idx is not None else _flat(x4),
                                  None if idx is None else _flat(idx), _flat(gx),
                                  _config.isa_level(), _config.get_num_threads())
    return unbatch(gx, batched)


def avg_pool2d_backward(grad_output, input_shape, kernel_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True, divisor_override=None, *,
                        dilation=1, layout="NCHW"):
    """Gradient of ``avg_pool2d`` with respect to its input, whose shape (in ``layout``) is given.

    Parameters
    ----------
    grad_output : array_like, float32 or float64, shaped like the forward output
    input_shape : sequence of int, 3-D or 4-D, in ``layout``
    Other parameters as in ``avg_pool2d``.

    Returns
    -------
    ndarray of shape ``input_shape``, the dtype of ``grad_output``.

    Examples
    --------
    >>> import numpy as np, fastconv
    >>> fastconv.avg_pool2d_backward(np.ones((1, 1, 1, 1)), (1, 1, 2, 2), 2)[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    from . import _pool
    layout = check_layout(layout)
    if isinstance(input_shape, (str, bytes)):
        raise TypeError(f"input_shape must be a sequence of ints, got {input_shape!r}")
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise TypeError(f"input_shape must be a sequence of ints, got {input_shape!r}") \
            from None
    if len(shape) not in (3, 4):
        raise ValueError(f"input_shape must be 3-D (unbatched) or 4-D (batched), got "
                         f"{input_shape!r}")
    if min(shape) < 0:
        raise ValueError(f"input_shape must be non-negative, got {input_shape!r}")
    batched = len(shape) == 4
    shape4 = shape if batched else (1,) + shape
    g = pool2d_geometry(shape4, kernel_size, stride, padding, dilation,
                        _bool(ceil_mode, "ceil_mode"), layout)
    cip, div = _avg_options(count_include_pad, divisor_override)
    gy = _grad_output(grad_output, None, g, batched)
    gx = empty(shape4, gy.dtype)
    if gx.size:
        _pool.avg_pool2d_backward(g, _flat(gy), _flat(gx), cip, div, _config.isa_level(),
                                  _config.get_num_threads())
    return unbatch(gx, batched)
