"""conv2d forward: validate and plan in Python, compute in fastconv._conv."""
from __future__ import annotations

import numpy as np

from . import _config
from ._arrays import as_batched, as_float_array, check_layout, empty, unbatch
from ._shapes import conv2d_geometry, winograd_tiles

ACTIVATIONS = (None, "relu")
ALGORITHMS = ("auto", "igemm", "depthwise", "smallc", "winograd")
_ext = None  # fastconv._conv, imported on first use (a per-call import costs ~1 us)


def _conv_module():
    global _ext
    if _ext is None:
        from . import _conv
        _ext = _conv
    return _ext


def _pointwise(g):
    """1x1, stride 1, no padding: igemm's in-place GEMM path."""
    return (g.KH, g.KW, g.SH, g.SW, g.PT, g.PB, g.PL, g.PR) == (1, 1, 1, 1, 0, 0, 0, 0)


def _plan(g, _conv, algorithm):
    """The C paths to try, in order: a specialised one where it applies, then igemm."""
    if algorithm == "igemm":
        return ("igemm",)
    if algorithm == "depthwise":
        if not _conv.depthwise_applicable(g):
            raise ValueError("algorithm='depthwise' needs groups == C_in == C_out")
        return ("depthwise",)
    if algorithm == "smallc":
        return ("smallc",)
    if algorithm == "winograd":
        if not _conv.winograd_applicable(g):
            raise ValueError("algorithm='winograd' needs a 3x3 kernel, stride 1 and groups=1")
        # non-finite values (inf/NaN in, or an overflow in the transforms)
        # make the C path decline: the direct path keeps their IEEE semantics
        return ("winograd2" if _winograd_tile(g) == 2 else "winograd", "igemm")
    # geometries are memoised (_shapes), so the auto plan is kept on its
    # geometry: the two applicability checks below cost ~1.5 us a call
    plan = g.__dict__.get("_auto_plan")
    if plan is None:
        plan = g.__dict__["_auto_plan"] = _auto_plan(g, _conv)
    return plan


def _auto_plan(g, _conv):
    if _conv.depthwise_applicable(g):
        return ("depthwise", "igemm")
    # 1x1 stride 1 unpadded is a GEMM read in place (the gemm kernels): faster
    # than the small-channel planes even for a short reduction
    if _conv.smallc_applicable(g) and not _pointwise(g):
        return ("smallc", "igemm")
    tile = _winograd_tile(g)
    if tile is not None and _conv.winograd_applicable(g):
        return ("winograd" if tile == 4 else "winograd2", "igemm")
    return ("igemm",)


def _winograd_tile(g):
    """The Winograd output tile (4: F(4x4, 3x3), 2: F(2x2, 3x3)) expected to
    beat the direct igemm on this 3x3 stride-1 layer, or None. F(4x4) makes
    4x fewer multiply-adds, F(2x2) 2.25x, but both transform the weights per
    call (into 36*C*K and 16*C*K values) that every work item reads again, so
    they need enough tiles (over the batch: small images share items), mostly
    inside the output (7x7 outputs pad to 8x8). Measured at 2 threads
    (2026-12-08, time / igemm's): F(4x4) 64->64 @56 0.41-0.51, 128 @28
    0.47-0.66, 512 @28 0.51-0.57, 256 @14 N=8 0.50-0.61, 512 @7 N=8 0.86-0.91,
    256 @28 dilation 2 0.62; F(2x2) where F(4x4) has too few tiles: 256 @14
    0.69-0.78 (F(4x4) 1.04-1.13), 64 @14 0.70, 512 @14 0.90-1.01, 256 @7 N=4
    0.94-0.96; neither: 512 @7 N=1 1.3 / 2.6, N=2 0.98-1.23 / 1.8."""
    if (g.KH, g.KW, g.SH, g.SW, g.G) != (3, 3, 1, 1, 1) or g.C < 16 or g.K < 16:
        return None
    for tile, least in ((4, 32), (2, 40)):
        tiles = winograd_tiles(g, tile)
        if tiles >= least and g.N * g.OH * g.OW >= 0.7 * tile * tile * tiles:
            return tile
    return None


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           layout="NCHW", activation=None, algorithm="auto"):
    """2-D convolution (cross-correlation), as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    input : array_like, float32 or float64
        ``(N, C_in, H, W)`` (``layout="NCHW"``) or ``(N, H, W, C_in)``
        (``"NHWC"``); 3-D input without batch is accepted.
    weight : array_like, ``(C_out, C_in // groups, kH, kW)``
    bias : array_like ``(C_out,)``, optional
    stride, dilation : int or (int, int)
    padding : int, (int, int), ((top, bottom), (left, right)), "valid", "same" or "same_lower"
    groups : int
    layout : {"NCHW", "NHWC"}
    activation : None or "relu", fused into the kernel's epilogue.
    algorithm : {"auto", "igemm", "depthwise", "smallc", "winograd"}
        Kernel family. "auto" takes the depthwise kernels for groups == C_in ==
        C_out, the small-channel kernels where they expect to be faster,
        Winograd F(4x4, 3x3) or F(2x2, 3x3) for 3x3 stride-1 layers with
        enough output tiles, else the indirect GEMM that handles any geometry.
        A named family that cannot take the geometry raises ValueError.
        "winograd" (3x3, stride 1, groups=1, any padding and dilation) makes
        4x (2.25x) fewer multiply-adds; its float32 error is a few 1e-6 (a few
        1e-7) of the output's largest magnitude, within
        fastconv's conv2d tolerance (measured against the float64 reference),
        and inputs or weights with inf/NaN take the direct path, so non-finite
        values propagate pixel by pixel as they do there.

    Returns
    -------
    ndarray
        ``(N, C_out, H_out, W_out)`` in ``layout``, the input's dtype.

    Examples
    --------
    >>> import numpy as np, fastconv
    >>> x = np.ones((1, 1, 4, 4), np.float32)
    >>> w = np.ones((2, 1, 3, 3), np.float32)
    >>> fastconv.conv2d(x, w, padding=1)[0, 0]
    array([[4., 6., 6., 4.],
           [6., 9., 9., 6.],
           [6., 9., 9., 6.],
           [4., 6., 6., 4.]], dtype=float32)
    """
    _conv = _conv_module()
    layout = check_layout(layout)
    x = as_float_array(input, "input")
    w = as_float_array(weight, "weight", x.dtype)
    x4, batched = as_batched(x, "input")
    g = conv2d_geometry(x4.shape, w.shape, stride, padding, dilation, groups, layout)
    if bias is not None:
        bias = as_float_array(bias, "bias", x.dtype)
        if bias.shape != (g.K,):
            raise ValueError(f"bias must have shape ({g.K},), got {bias.shape}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be None or 'relu', got {activation!r}")
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    return unbatch(run_planned(g, x4, w, bias, activation == "relu", algorithm), batched)


def run_planned(g, x4, w, bias, relu=False, algorithm="auto"):
    """The 4-D output of geometry ``g`` from arrays already validated for it
    (as ``conv2d`` leaves them): allocate, plan and run the C paths."""
    _conv = _conv_module()
    y = empty(g.output_shape, x4.dtype)
    if g.N:
        isa, nthreads = _config.isa_level(), _config.get_num_threads()
        for path in _plan(g, _conv, algorithm):
            if _conv.conv2d_path(path, g, x4, w, bias, y, relu, isa, nthreads):
                break
        else:
            raise ValueError(f"algorithm={algorithm!r} does not support this geometry")
    return y
