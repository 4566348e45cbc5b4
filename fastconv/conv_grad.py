"""conv2d gradients and conv_transpose2d: validate and plan in Python, compute in
fastconv._conv_grad."""
from __future__ import annotations

import numpy as np

from . import _config
from ._arrays import as_batched, as_float_array, check_layout, empty, unbatch
from ._shapes import conv2d_geometry, conv_transpose2d_geometry, flipped_conv_padding
from .conv import _conv_module, _plan, run_planned


def _flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


#: C/G up to which the C driver's planar grad-input path beats the flipped conv2d
_PLANAR_MAX_CG = 7
#: weight elements up to which flipping and transposing it in NumPy costs little
_FLIP_MAX_WEIGHT = 1 << 18
#: ... for kernels with several taps where the flipped conv would not be igemm
#: (which packs straight from w, see _run_wflip): NumPy's strided copy is slow
_FLIP_MAX_WEIGHT_TAPS = 1 << 16
#: forward plans whose paths have a _wflip form (packing straight from w)
_WFLIP_PLANS = (("igemm",), ("winograd", "igemm"), ("winograd2", "igemm"))
#: input pixels (one image) up to which a stride-1 grad input with >= 64 input
#: and output channel x tap columns per group takes the C driver's pixel-major
#: path (one tile of pixels, the weights read in place): mirrors
#: fc_gi_pixels_ok (FC_GI_PIX_MAX) for N = 1
_PIXELS_MAX = 64


def _c_pixels_path(g):
    """Whether the C driver's pixel-major grad input takes ``g`` (N = 1)."""
    return (g.N == 1 and g.SH == g.SW == 1 and g.H * g.W <= _PIXELS_MAX
            and g.C // g.G >= 64 and g.K // g.G * g.KH * g.KW >= 64)


def _flipped_geometry(g):
    """The forward conv2d geometry of ``g``'s flipped grad input (grad_output
    in, the input's shape out), or None where its padding cannot express it;
    memoised on ``g`` (geometries are memoised, and this one costs a second
    validation, ~4 us of a small layer's call)."""
    fg = g.__dict__.get("_flipped_geometry", False)
    if fg is False:
        pads = flipped_conv_padding(g)
        fg = None if pads is None else conv2d_geometry(
            g.output_shape, (g.C, g.K // g.G, g.KH, g.KW), 1, pads, (g.DH, g.DW), g.G, g.layout)
        g.__dict__["_flipped_geometry"] = fg
    return fg


def _flipped_grad_input(g, gy4, w, bias):
    """grad input of a stride-1 conv2d as the forward conv2d of grad_output
    with the kernel flipped and its in/out channels swapped per group (the
    forward kernels beat the grad-input igemm there: NCHW 1x1 by 7x, 3x3
    256->256 @14 NHWC by 1.1-1.15x at 2 threads); None where that does not
    apply: stride > 1, padding wider than the kernel's reach, few input
    channels per group (the planar path is faster), a 1x1 weight too large to
    transpose cheaply, or few pixels and many channels (the C driver reads
    the weights in place, unflipped)."""
    if not g.N or _c_pixels_path(g):
        return None
    fg = _flipped_geometry(g)
    if fg is None:
        return None
    Cg, Kg = g.C // g.G, g.K // g.G
    if g.G == g.C == g.K and g.layout == "NHWC":
        # the C driver runs the same forward kernel on the flipped taps
        # without a second validation and call (MobileNetV2 dw 3x3, 1 thread:
        # 0.93 of the time), and its own stride-2 3x3 kernel
        return None
    if g.G == g.C == g.K:
        wf = w[:, :, ::-1, ::-1]
    elif Cg > _PLANAR_MAX_CG and g.KH * g.KW > 1 and \
            _plan(fg, _conv_module(), "auto") in _WFLIP_PLANS:
        # the igemm and winograd drivers pack their panels straight from w,
        # flipping and transposing on the way (NumPy's copy took 1.7 ms for
        # 256x256x3x3)
        return _run_wflip(fg, gy4, w, bias)
    elif Cg > _PLANAR_MAX_CG and w.size <= (_FLIP_MAX_WEIGHT if g.KH * g.KW == 1
                                             else _FLIP_MAX_WEIGHT_TAPS):
        wf = w.reshape(g.G, Kg, Cg, g.KH, g.KW).transpose(0, 2, 1, 3, 4)
        wf = wf.reshape(g.C, Kg, g.KH, g.KW)[:, :, ::-1, ::-1]
    else:
        return None
    return run_planned(fg, gy4, np.ascontiguousarray(wf), bias)


def _strided_pointwise_grad_input(g, gy4, w):
    """grad input of an unpadded strided 1x1 NCHW conv2d: the dense forward GEMM
    of grad_output with the transposed weight, then written out every SH-th row
    and SW-th column with zeros between (the phase igemm wrote each gx line in
    SH*SW separate items: 256->128 s2 @56, 2 threads, 1.24 ms against 0.36 for
    the GEMM); None where that does not apply or the weight is too large to
    transpose cheaply."""
    if (g.layout != "NCHW" or not g.N or (g.KH, g.KW) != (1, 1) or (g.SH, g.SW) == (1, 1)
            or (g.PT, g.PB, g.PL, g.PR) != (0, 0, 0, 0) or w.size > _FLIP_MAX_WEIGHT):
        return None
    from . import _conv_grad
    Cg, Kg = g.C // g.G, g.K // g.G
    wt = np.ascontiguousarray(w.reshape(g.G, Kg, Cg).transpose(0, 2, 1)).reshape(g.C, Kg, 1, 1)
    dg = g.__dict__.get("_dense_geometry")
    if dg is None:
        dg = g.__dict__["_dense_geometry"] = conv2d_geometry(
            g.output_shape, wt.shape, 1, 0, 1, g.G, "NCHW")
    d = run_planned(dg, gy4, wt, None)
    gx = empty(g.input_shape, gy4.dtype)
    _conv_grad.expand_strided(d, gx, g.SH, g.SW, _config.get_num_threads())
    return gx


def _run_wflip(fg, gy4, w, bias):
    """Forward conv ``fg`` of grad_output with the flipped, transposed ``w``,
    done by the path the forward plan takes (winograd or igemm) on ``w``
    itself; winograd declines non-finite values, then igemm answers."""
    y = empty(fg.output_shape, gy4.dtype)
    _conv = _conv_module()
    isa, nthreads = _config.isa_level(), _config.get_num_threads()
    for path in _plan(fg, _conv, "auto"):
        if _conv.conv2d_path(path + "_wflip", fg, gy4, w, bias, y, False, isa, nthreads):
            break
    return y


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1, *,
                    layout="NCHW", input_grad=True, weight_grad=True, bias_grad=True):
    """Gradients of ``conv2d`` (without activation) w.r.t. input, weight and bias.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss w.r.t. the conv2d output: ``(N, C_out, H_out,
        W_out)`` (``"NCHW"``) or ``(N, H_out, W_out, C_out)`` (``"NHWC"``),
        3-D where ``input`` is unbatched; same dtype as ``input``.
    input : array_like, float32 or float64
        The forward input, ``(N, C_in, H, W)`` or ``(N, H, W, C_in)`` (or 3-D).
    weight : array_like, ``(C_out, C_in // groups, kH, kW)``
    stride, padding, dilation, groups, layout
        As in ``fastconv.conv2d``.
    input_grad, weight_grad, bias_grad : bool
        Which gradients to compute; a False flag returns None in its slot and
        skips that work.

    Returns
    -------
    (grad_input, grad_weight, grad_bias) : ndarray or None
        Shaped like ``input``, ``weight`` and ``(C_out,)``, the input's dtype.

    Examples
    --------
    >>> import numpy as np, fastconv
    >>> x, w = np.ones((1, 1, 3, 3), np.float32), np.ones((1, 1, 2, 2), np.float32)
    >>> gx, gw, gb = fastconv.conv2d_backward(np.ones((1, 1, 2, 2), np.float32), x, w)
    >>> gx[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]], dtype=float32)
    >>> gb
    array([4.], dtype=float32)
    """
    from . import _conv_grad
    layout = check_layout(layout)
    x = as_float_array(input, "input")
    w = as_float_array(weight, "weight", x.dtype)
    x4, batched = as_batched(x, "input")
    g = conv2d_geometry(x4.shape, w.shape, stride, padding, dilation, groups, layout)
    gy = as_float_array(grad_output, "grad_output", x.dtype)
    want = g.output_shape if batched else g.output_shape[1:]
    if gy.shape != tuple(want):
        raise ValueError(f"grad_output must have shape {tuple(want)} (the conv2d output), "
                         f"got {gy.shape}")
    gy4 = gy if batched else gy[None]
    input_grad = _flag(input_grad, "input_grad")
    weight_grad = _flag(weight_grad, "weight_grad")
    bias_grad = _flag(bias_grad, "bias_grad")
    isa, nthreads = _config.isa_level(), _config.get_num_threads()

    gx = gw = gb = None
    if input_grad:
        gx = _flipped_grad_input(g, gy4, w, None)
        if gx is None:
            gx = _strided_pointwise_grad_input(g, gy4, w)
        if gx is None:
            gx = empty(g.input_shape, x.dtype)
            if g.N:
                _conv_grad.grad_input(g, gy4, w, None, gx, isa, nthreads)
        gx = unbatch(gx, batched)
    if weight_grad or bias_grad:
        gw = empty(w.shape, x.dtype) if weight_grad else None
        gb = np.empty((g.K,), dtype=x.dtype) if bias_grad else None
        _conv_grad.grad_weight(g, gy4, x4, gw, gb, isa, nthreads)
    return gx, gw, gb


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1, *, layout="NCHW"):
    """Transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    The adjoint of ``conv2d`` w.r.t. its input: computed by the conv2d
    grad-input kernels (gather per output phase, no scatter).

    Parameters
    ----------
    input : array_like, float32 or float64
        ``(N, C_in, H, W)`` (``"NCHW"``) or ``(N, H, W, C_in)`` (``"NHWC"``), or 3-D.
    weight : array_like, ``(C_in, C_out // groups, kH, kW)``
    bias : array_like ``(C_out,)``, optional
    stride, dilation : int or (int, int)
    padding : int, (int, int), ((top, bottom), (left, right)) or "valid"
        Cropped from the full transposed output, as in PyTorch.
    output_padding : int or (int, int)
        Extra rows/columns at the bottom/right; smaller than stride or dilation.
    groups : int
    layout : {"NCHW", "NHWC"}

    Returns
    -------
    ndarray
        ``(N, C_out, H_out, W_out)`` in ``layout`` with
        ``H_out = (H - 1)*stride - pad_top - pad_bottom + dilation*(kH - 1) + output_padding + 1``.

    Examples
    --------
    >>> import numpy as np, fastconv
    >>> x = np.ones((1, 1, 2, 2), np.float32)
    >>> fastconv.conv_transpose2d(x, np.ones((1, 1, 2, 2), np.float32))[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]], dtype=float32)
    """
    from . import _conv_grad
    layout = check_layout(layout)
    x = as_float_array(input, "input")
    w = as_float_array(weight, "weight", x.dtype)
    x4, batched = as_batched(x, "input")
    # g is the forward conv whose input gradient this is: its input is our output
    g = conv_transpose2d_geometry(x4.shape, w.shape, stride, padding, output_padding,
                                  groups, dilation, layout)
    if bias is not None:
        bias = as_float_array(bias, "bias", x.dtype)
        if bias.shape != (g.C,):
            raise ValueError(f"bias must have shape ({g.C},), got {bias.shape}")
    y = _flipped_grad_input(g, x4, w, bias)
    if y is None and bias is None:
        y = _strided_pointwise_grad_input(g, x4, w)
    if y is None:
        y = empty(g.input_shape, x.dtype)
        if g.N:
            _conv_grad.grad_input(g, x4, w, bias, y, _config.isa_level(),
                                  _config.get_num_threads())
    return unbatch(y, batched)
