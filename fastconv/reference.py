"""Plain NumPy reference implementations: the oracle every fast kernel is tested against.

Same functions, signatures and semantics as the public API (see API.md), written
to be obviously right rather than fast: every argument is normalised by
``fastconv._shapes`` / ``fastconv._arrays`` exactly as in the fast path, the
activations are moved to logical NCHW, padded explicitly, and each kernel tap
``(kh, kw)`` contributes one strided slice of the padded input times its weight
(an ``einsum`` vectorised over batch, groups, channels and output pixels).

Precision: everything is computed in float64 and cast back to the input dtype
at the end, so a float32 result here is the correctly rounded float64 result
(at least as accurate as any float32 kernel can be). Max pooling only selects
values, so its float32 output is exact.

Conventions beyond PyTorch (where API.md or PyTorch is silent):

* A NaN in a max-pooling window makes the output NaN and, as PyTorch's CPU
  kernel (``val > max || isnan(val)``), the index points at the *last* NaN of the
  window in row-major window order. Otherwise the *first* maximum wins ties.
* Padding may exceed half the kernel, so a max-pooling window may lie entirely
  in padding: its output is ``-inf`` and its index ``-1``; its gradient is
  dropped. ``max_pool2d_backward`` accepts ``-1`` only in that sense.
* An average-pooling window with no tap inside the input and
  ``count_include_pad=False`` (and no ``divisor_override``) divides 0 by 0:
  NaN.
* Average pooling with ``count_include_pad=True`` divides by the number of the
  window's taps lying inside the *padded* input (ONNX, and PyTorch for
  dilation 1): taps of a ceil-mode window hanging past the end padding are
  not counted.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._arrays import as_batched, as_float_array, check_layout, unbatch
from ._shapes import conv2d_geometry, conv_transpose2d_geometry, pool2d_geometry

__all__ = [
    "conv2d", "conv2d_backward", "conv_transpose2d",
    "max_pool2d", "avg_pool2d", "global_avg_pool2d", "global_max_pool2d",
    "max_pool2d_backward", "avg_pool2d_backward",
]


# ----------------------------------------------------------------------------
# helpers (layout, padding, tap slices)

def _to_nchw(x4, layout):
    """Logical NCHW float64 view of a 4-D activation stored in ``layout``."""
    x4 = x4.astype(np.float64, copy=False)
    return x4 if layout == "NCHW" else x4.transpose(0, 3, 1, 2)


def _from_nchw(y, layout, dtype):
    """A new C-contiguous array in ``layout`` and ``dtype`` from a logical NCHW one."""
    if layout == "NHWC":
        y = y.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(y, dtype=dtype)


def _tap(start, count, step):
    """Slice of ``count`` elements from ``start`` every ``step``."""
    return slice(start, start + (count - 1) * step + 1, step)


def _extent(out, kernel, stride, dilation):
    """Length of input (padded) touched by ``out`` windows."""
    return (out - 1) * stride + (kernel - 1) * dilation + 1


def _pad(x, top, left, height, width, value):
    """``x`` (N, C, H, W) placed at (top, left) in a (N, C, height, width) canvas of ``value``.

    The canvas may be smaller than the padded input (trailing rows/columns that
    no window reaches are cut) or larger (ceil-mode windows hanging past the end
    padding).
    """
    n, c, h, w = x.shape
    out = np.full((n, c, height, width), value, dtype=np.float64)
    hh, ww = min(h, height - top), min(w, width - left)
    if hh > 0 and ww > 0:
        out[:, :, top:top + hh, left:left + ww] = x[:, :, :hh, :ww]
    return out


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def _grad_output(grad_output, dtype, expected_shape, batched):
    """Validate grad_output against the forward output's shape (in layout)."""
    gy = as_float_array(grad_output, "grad_output", dtype)
    want = expected_shape if batched else expected_shape[1:]
    if gy.shape != tuple(want):
        raise ValueError(f"grad_output must have shape {tuple(want)}, got {gy.shape}")
    return gy if batched else gy[None]


# ----------------------------------------------------------------------------
# convolution

def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           layout="NCHW", activation=None):
    """2-D cross-correlation, as ``torch.nn.functional.conv2d`` (reference).

    See ``fastconv.conv2d`` for the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import reference
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> reference.conv2d(x, np.ones((1, 1, 2, 2)))[0, 0]
    array([[ 8., 12.],
           [20., 24.]])
    """
    layout = check_layout(layout)
    x = as_float_array(input, "input")
    w = as_float_array(weight, "weight", x.dtype)
    x4, batched = as_batched(x, "input")
    g = conv2d_geometry(x4.shape, w.shape, stride, padding, dilation, groups, layout)
    if bias is not None:
        b = as_float_array(bias, "bias", x.dtype)
        if b.shape != (g.K,):
            raise ValueError(f"bias must have shape ({g.K},), got {b.shape}")
    if activation not in (None, "relu"):
        raise ValueError(f"activation must be None or 'relu', got {activation!r}")

    xp = _pad(_to_nchw(x4, layout), g.PT, g.PL,
              _extent(g.OH, g.KH, g.SH, g.DH), _extent(g.OW, g.KW, g.SW, g.DW), 0.0)
    G, Cg, Kg = g.G, g.C // g.G, g.K // g.G
    xg = xp.reshape(g.N, G, Cg, xp.shape[2], xp.shape[3])
    wg = w.astype(np.float64).reshape(G, Kg, Cg, g.KH, g.KW)
    y = np.zeros((g.N, G, Kg, g.OH, g.OW))
    for kh in range(g.KH):
        for kw in range(g.KW):
            patch = xg[:, :, :, _tap(kh * g.DH, g.OH, g.SH), _tap(kw * g.DW, g.OW, g.SW)]
            y += np.einsum("ngchw,gkc->ngkhw", patch, wg[:, :, :, kh, kw])
    y = y.reshape(g.N, g.K, g.OH, g.OW)
    if bias is not None:
        y += b.astype(np.float64)[None, :, None, None]
    if activation == "relu":
        y = np.maximum(y, 0.0)
    return unbatch(_from_nchw(y, layout, x.dtype), batched)


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1, *,
                    layout="NCHW", input_grad=True, weight_grad=True, bias_grad=True):
    """Gradients of ``conv2d`` (no activation) w.r.t. input, weight and bias (reference).

    Returns ``(grad_input, grad_weight, grad_bias)``, None where the flag is False.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import reference
    >>> x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
    >>> gx, gw, gb = reference.conv2d_backward(np.ones((1, 1, 2, 2)), x, w)
    >>> gx[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> gb
    array([4.])
    """
    layout = check_layout(layout)
    x = as_float_array(input, "input")
    w = as_float_array(weight, "weight", x.dtype)
    x4, batched = as_batched(x, "input")
    g = conv2d_geometry(x4.shape, w.shape, stride, padding, dilation, groups, layout)
    gy4 = _grad_output(grad_output, x.dtype, g.output_shape, batched)
    input_grad = _check_bool(input_grad, "input_grad")
    weight_grad = _check_bool(weight_grad, "weight_grad")
    bias_grad = _check_bool(bias_grad, "bias_grad")

    G, Cg, Kg = g.G, g.C // g.G, g.K // g.G
    HP, WP = _extent(g.OH, g.KH, g.SH, g.DH), _extent(g.OW, g.KW, g.SW, g.DW)
    gy = _to_nchw(gy4, layout).reshape(g.N, G, Kg, g.OH, g.OW)
    wg = w.astype(np.float64).reshape(G, Kg, Cg, g.KH, g.KW)
    gx = gw = gb = None
    if input_grad:
        # scatter every output pixel's gradient back onto the taps it read
        gxp = np.zeros((g.N, G, Cg, max(HP, g.PT + g.H), max(WP, g.PL + g.W)))
        for kh in range(g.KH):
            for kw in range(g.KW):
                gxp[:, :, :, _tap(kh * g.DH, g.OH, g.SH), _tap(kw * g.DW, g.OW, g.SW)] += \
                    np.einsum("ngkhw,gkc->ngchw", gy, wg[:, :, :, kh, kw])
        gxp = gxp[:, :, :, g.PT:g.PT + g.H, g.PL:g.PL + g.W].reshape(g.N, g.C, g.H, g.W)
        gx = unbatch(_from_nchw(gxp, layout, x.dtype), batched)
    if weight_grad:
        xp = _pad(_to_nchw(x4, layout), g.PT, g.PL, HP, WP, 0.0)
        xg = xp.reshape(g.N, G, Cg, HP, WP)
        gw64 = np.zeros((G, Kg, Cg, g.KH, g.KW))
        for kh in range(g.KH):
            for kw in range(g.KW):
                patch = xg[:, :, :, _tap(kh * g.DH, g.OH, g.SH), _tap(kw * g.DW, g.OW, g.SW)]
                gw64[:, :, :, kh, kw] = np.einsum("ngkhw,ngchw->gkc", gy, patch)
        gw = gw64.reshape(w.shape).astype(x.dtype)
    if bias_grad:
        gb = gy.sum(axis=(0, 3, 4)).reshape(g.K).astype(x.dtype)
    return gx, gw, gb


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1, *, layout="NCHW"):
    """Transposed convolution, as ``torch.nn.functional.conv_transpose2d`` (reference).

    Computed directly as a scatter: each input pixel adds ``weight`` (scaled by
    its value) to the output at ``stride`` spacing, then ``padding`` is cropped
    from the full result (``output_padding`` extra rows/columns at the end).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import reference
    >>> reference.conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    layout = check_layout(layout)
    x = as_float_array(input, "input")
    w = as_float_array(weight, "weight", x.dtype)
    x4, batched = as_batched(x, "input")
    # g describes the forward conv: g.H x g.W is our output, g.OH x g.OW our input
    g = conv_transpose2d_geometry(x4.shape, w.shape, stride, padding, output_padding,
                                  groups, dilation, layout)
    Cout = g.C
    if bias is not None:
        b = as_float_array(bias, "bias", x.dtype)
        if b.shape != (Cout,):
            raise ValueError(f"bias must have shape ({Cout},), got {b.shape}")
    G, Cig, Cog = g.G, g.K // g.G, g.C // g.G
    xin = _to_nchw(x4, layout).reshape(g.N, G, Cig, g.OH, g.OW)
    wg = w.astype(np.float64).reshape(G, Cig, Cog, g.KH, g.KW)
    HF, WF = _extent(g.OH, g.KH, g.SH, g.DH), _extent(g.OW, g.KW, g.SW, g.DW)
    full = np.zeros((g.N, G, Cog, max(HF, g.PT + g.H), max(WF, g.PL + g.W)))
    for kh in range(g.KH):
        for kw in range(g.KW):
            full[:, :, :, _tap(kh * g.DH, g.OH, g.SH), _tap(kw * g.DW, g.OW, g.SW)] += \
                np.einsum("ngihw,gio->ngohw", xin, wg[:, :, :, kh, kw])
    y = full[:, :, :, g.PT:g.PT + g.H, g.PL:g.PL + g.W].reshape(g.N, Cout, g.H, g.W)
    if bias is not None:
        y = y + b.astype(np.float64)[None, :, None, None]
    return unbatch(_from_nchw(y, layout, x.dtype), batched)


# ----------------------------------------------------------------------------
# pooling

def _pool_setup(input, kernel_size, stride, padding, dilation, ceil_mode, layout):
    layout = check_layout(layout)
    x = as_float_array(input, "input")
    x4, batched = as_batched(x, "input")
    g = pool2d_geometry(x4.shape, kernel_size, stride, padding, dilation, ceil_mode, layout)
    return layout, x, x4, batched, g


def _tap_positions(out, kernel, stride, dilation, pad_begin):
    """(kernel, out) array of input coordinates read by each tap of each window."""
    return (np.arange(kernel)[:, None] * dilation + np.arange(out)[None, :] * stride
            - pad_begin)


def _max_pool(x4, g, layout):
    """(values float64 NCHW, indices int64 NCHW) with the conventions of the module."""
    HP, WP = _extent(g.OH, g.KH, g.SH, g.DH), _extent(g.OW, g.KW, g.SW, g.DW)
    xp = _pad(_to_nchw(x4, layout), g.PT, g.PL, HP, WP, -np.inf)
    rows = _tap_positions(g.OH, g.KH, g.SH, g.DH, g.PT)
    cols = _tap_positions(g.OW, g.KW, g.SW, g.DW, g.PL)
    best = np.full((g.N, g.C, g.OH, g.OW), -np.inf)
    index = np.full((g.N, g.C, g.OH, g.OW), -1, dtype=np.int64)
    for kh in range(g.KH):          # row-major window order: first max wins ties
        for kw in range(g.KW):
            r, c = rows[kh][:, None], cols[kw][None, :]
            inside = (r >= 0) & (r < g.H) & (c >= 0) & (c < g.W)       # (OH, OW)
            v = xp[:, :, _tap(kh * g.DH, g.OH, g.SH), _tap(kw * g.DW, g.OW, g.SW)]
            take = inside & ((v > best) | np.isnan(v) | (index < 0))
            best = np.where(take, v, best)
            index = np.where(take, r * g.W + c, index)
    return best, index


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, *, layout="NCHW"):
    """2-D max pooling, as ``torch.nn.functional.max_pool2d`` (reference).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import reference
    >>> x = np.array([[[[1., 5., 2.], [3., 4., 9.]]]])
    >>> y, i = reference.max_pool2d(x, 2, stride=1, return_indices=True)
    >>> y[0, 0], i[0, 0]
    (array([[5., 9.]]), array([[1, 5]]))
    """
    layout, x, x4, batched, g = _pool_setup(input, kernel_size, stride, padding, dilation,
                                            ceil_mode, layout)
    return_indices = _check_bool(return_indices, "return_indices")
    best, index = _max_pool(x4, g, layout)
    y = unbatch(_from_nchw(best, layout, x.dtype), batched)
    if return_indices:
        return y, unbatch(_from_nchw(index, layout, np.int64), batched)
    return y


def _avg_divisor(g, count_include_pad, divisor_override):
    """(OH, OW) float64 divisor of each average-pooling window."""
    if divisor_override is not None:
        return np.full((g.OH, g.OW), float(divisor_override))
    rows = _tap_positions(g.OH, g.KH, g.SH, g.DH, g.PT)
    cols = _tap_positions(g.OW, g.KW, g.SW, g.DW, g.PL)
    if count_include_pad:
        nr = ((rows >= -g.PT) & (rows < g.H + g.PB)).sum(axis=0)
        nc = ((cols >= -g.PL) & (cols < g.W + g.PR)).sum(axis=0)
    else:
        nr = ((rows >= 0) & (rows < g.H)).sum(axis=0)
        nc = ((cols >= 0) & (cols < g.W)).sum(axis=0)
    return (nr[:, None] * nc[None, :]).astype(np.float64)


def _avg_options(count_include_pad, divisor_override):
    count_include_pad = _check_bool(count_include_pad, "count_include_pad")
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override,
                                                                numbers.Integral):
            raise TypeError(f"divisor_override must be an int or None, got "
                            f"{divisor_override!r}")
        if divisor_override < 1:
            raise ValueError(f"divisor_override must be >= 1, got {divisor_override!r}")
    return count_include_pad, divisor_override


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, dilation=1, layout="NCHW"):
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d`` plus ONNX dilation (reference).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import reference
    >>> x = np.arange(4.0).reshape(1, 1, 2, 2)
    >>> reference.avg_pool2d(x, 2, padding=1)[0, 0]
    array([[0.  , 0.25],
           [0.5 , 0.75]])
    >>> reference.avg_pool2d(x, 2, padding=1, count_include_pad=False)[0, 0]
    array([[0., 1.],
           [2., 3.]])
    """
    layout, x, x4, batched, g = _pool_setup(input, kernel_size, stride, padding, dilation,
                                            ceil_mode, layout)
    count_include_pad, divisor_override = _avg_options(count_include_pad, divisor_override)
    HP, WP = _extent(g.OH, g.KH, g.SH, g.DH), _extent(g.OW, g.KW, g.SW, g.DW)
    xp = _pad(_to_nchw(x4, layout), g.PT, g.PL, HP, WP, 0.0)
    total = np.zeros((g.N, g.C, g.OH, g.OW))
    for kh in range(g.KH):
        for kw in range(g.KW):
            total += xp[:, :, _tap(kh * g.DH, g.OH, g.SH), _tap(kw * g.DW, g.OW, g.SW)]
    with np.errstate(invalid="ignore", divide="ignore"):
        y = total / _avg_divisor(g, count_include_pad, divisor_override)
    return unbatch(_from_nchw(y, layout, x.dtype), batched)


def _global_pool_input(input, layout):
    """Checked input of the global pools: (array, NCHW view, batched, layout)."""
    layout = check_layout(layout)
    x = as_float_array(input, "input")
    x4, batched = as_batched(x, "input")
    xn = _to_nchw(x4, layout)
    if xn.shape[2] < 1 or xn.shape[3] < 1:
        raise ValueError(f"input has an empty spatial dimension: shape {x.shape}")
    return x, xn, batched, layout


def global_avg_pool2d(input, *, layout="NCHW"):
    """Mean over the spatial dimensions, kept as size-1 dimensions (reference).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import reference
    >>> reference.global_avg_pool2d(np.arange(8.0).reshape(1, 2, 2, 2))[:, :, 0, 0]
    array([[1.5, 5.5]])
    """
    x, xn, batched, layout = _global_pool_input(input, layout)
    y = xn.mean(axis=(2, 3), keepdims=True)
    return unbatch(_from_nchw(y, layout, x.dtype), batched)


def global_max_pool2d(input, *, layout="NCHW"):
    """Maximum over the spatial dimensions (NaN if any is NaN), kept as size-1 dims (reference).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import reference
    >>> reference.global_max_pool2d(np.arange(8.0).reshape(1, 2, 2, 2))[:, :, 0, 0]
    array([[3., 7.]])
    """
    x, xn, batched, layout = _global_pool_input(input, layout)
    if xn.shape[0] == 0:
        y = np.zeros((0, xn.shape[1], 1, 1))
    else:
        y = xn.max(axis=(2, 3), keepdims=True)
    return unbatch(_from_nchw(y, layout, x.dtype), batched)


def max_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False, *, indices=None, layout="NCHW"):
    """Gradient of ``max_pool2d`` w.r.t. its input (reference).

    Each output's gradient goes to the input its window selected: ``indices``
    if given (validated: int, output-shaped, each in ``[0, H*W)`` or ``-1``
    for a window lying entirely in padding), else recomputed as ``max_pool2d``
    does (first maximum of the window in row-major order).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import reference
    >>> x = np.array([[[[1., 5.], [3., 4.]]]])
    >>> reference.max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)[0, 0]
    array([[0., 1.],
           [0., 0.]])
    """
    layout, x, x4, batched, g = _pool_setup(input, kernel_size, stride, padding, dilation,
                                            ceil_mode, layout)
    gy4 = _grad_output(grad_output, x.dtype, g.output_shape, batched)
    if indices is None:
        _, index = _max_pool(x4, g, layout)
    else:
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"indices must be an integer array, got dtype {idx.dtype}")
        want = g.output_shape if batched else g.output_shape[1:]
        if idx.shape != tuple(want):
            raise ValueError(f"indices must have shape {tuple(want)}, got {idx.shape}")
        idx = idx.astype(np.int64)
        if idx.size and (idx.min() < -1 or idx.max() >= g.H * g.W):
            raise ValueError(f"indices must lie in [0, {g.H * g.W}) (or be -1 for a window "
                             f"entirely in padding); got values in "
                             f"[{idx.min()}, {idx.max()}]")
        idx4 = idx if batched else idx[None]
        index = idx4 if layout == "NCHW" else idx4.transpose(0, 3, 1, 2)
    gy = _to_nchw(gy4, layout)
    planes = g.N * g.C
    flat_index = index.reshape(planes, g.OH * g.OW)
    valid = flat_index >= 0
    plane_of = np.broadcast_to(np.arange(planes)[:, None], flat_index.shape)
    gx = np.zeros((planes, g.H * g.W))
    np.add.at(gx, (plane_of[valid], flat_index[valid]), gy.reshape(planes, g.OH * g.OW)[valid])
    gx = gx.reshape(g.N, g.C, g.H, g.W)
    return unbatch(_from_nchw(gx, layout, x.dtype), batched)


def avg_pool2d_backward(grad_output, input_shape, kernel_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True, divisor_override=None, *,
                        dilation=1, layout="NCHW"):
    """Gradient of ``avg_pool2d`` w.r.t. its input, whose shape (in ``layout``) is given.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import reference
    >>> reference.avg_pool2d_backward(np.ones((1, 1, 1, 1)), (1, 1, 2, 2), 2)[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    layout = check_layout(layout)
    try:
        shape = tuple(int(s) for s in input_shape)
    except TypeError:
        raise TypeError(f"input_shape must be a sequence of ints, got {input_shape!r}") \
            from None
    if len(shape) not in (3, 4):
        raise ValueError(f"input_shape must be 3-D (unbatched) or 4-D (batched), got "
                         f"{input_shape!r}")
    if min(shape) < 0:
        raise ValueError(f"input_shape must be non-negative, got {input_shape!r}")
    batched = len(shape) == 4
    shape4 = shape if batched else (1,) + shape
    g = pool2d_geometry(shape4, kernel_size, stride, padding, dilation, ceil_mode, layout)
    count_include_pad, divisor_override = _avg_options(count_include_pad, divisor_override)
    gy4 = _grad_output(grad_output, None, g.output_shape, batched)
    divisor = _avg_divisor(g, count_include_pad, divisor_override)
    with np.errstate(invalid="ignore", divide="ignore"):
        # a window with no tap to count has none in the input either: it sends nothing
        gy = np.where(divisor > 0, _to_nchw(gy4, layout) / divisor, 0.0)
    HP, WP = _extent(g.OH, g.KH, g.SH, g.DH), _extent(g.OW, g.KW, g.SW, g.DW)
    gxp = np.zeros((g.N, g.C, max(HP, g.PT + g.H), max(WP, g.PL + g.W)))
    for kh in range(g.KH):
        for kw in range(g.KW):
            gxp[:, :, _tap(kh * g.DH, g.OH, g.SH), _tap(kw * g.DW, g.OW, g.SW)] += gy
    gx = gxp[:, :, g.PT:g.PT + g.H, g.PL:g.PL + g.W]
    return unbatch(_from_nchw(gx, layout, gy4.dtype), batched)
