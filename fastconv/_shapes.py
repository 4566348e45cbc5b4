"""All shape, padding and output-size math of fastconv, in one place.

Every public function (fast path and reference alike) normalises its
arguments here; the C drivers receive the resulting sizes and only check them.
Dimensions are always named in logical NCHW order, whatever the memory layout.
"""
from __future__ import annotations

import numbers
import operator
from dataclasses import dataclass
from functools import cached_property

__all__ = [
    "pair", "positive_pair", "conv_padding", "pool_padding", "output_size",
    "ConvGeometry", "PoolGeometry", "conv2d_geometry", "conv_transpose2d_geometry",
    "pool2d_geometry", "logical_shape", "physical_shape", "winograd_tiles",
]

LAYOUTS = ("NCHW", "NHWC")


def _int(value, name):
    if type(value) is int:  # the common case first: the ABC check below costs ~1 us
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        try:
            return operator.index(value)
        except TypeError:
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    return int(value)


def pair(value, name):
    """Return ``(h, w)`` from an int or a length-2 sequence of ints.

    >>> pair(3, "stride"), pair((1, 2), "stride")
    ((3, 3), (1, 2))
    """
    if type(value) is int:  # fast paths: plain ints and pairs of them (bool excluded)
        return value, value
    if type(value) is tuple and len(value) == 2 and type(value[0]) is int \
            and type(value[1]) is int:
        return value
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return _int(value[0], name), _int(value[1], name)
    if hasattr(value, "__len__"):  # 0-d / 1-d arrays and the like
        value = tuple(value)
        return pair(value, name)
    v = _int(value, name)
    return v, v


def positive_pair(value, name):
    """``pair`` that also requires both values to be >= 1."""
    h, w = pair(value, name)
    if h < 1 or w < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return h, w


def output_size(size, kernel, stride, dilation, pad_begin, pad_end, ceil_mode=False, dim="H"):
    """Output length of a window sweep over one spatial dimension.

    ``floor((size + pb + pe - dilation*(kernel-1) - 1) / stride) + 1`` (ceil in
    ceil mode, where the last window must still start inside the input or the
    begin padding, as PyTorch). Raises ValueError if it is not positive.
    """
    span = size + pad_begin + pad_end - dilation * (kernel - 1) - 1
    if span < 0:
        raise ValueError(
            f"output {dim} would be empty: input {dim}={size} with padding "
            f"({pad_begin}, {pad_end}) is smaller than the dilated kernel "
            f"{dilation * (kernel - 1) + 1}")
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + pad_begin:
            out -= 1
    else:
        out = span // stride + 1
    if out < 1:
        raise ValueError(f"output {dim} would be empty (computed {out})")
    return out


# Padded extents past this are rejected: the C drivers add and multiply
# extents in int64 (absurd padding would wrap around, not fail).
MAX_EXTENT = 2 ** 62


def _check_extent(size, pad_begin, pad_end, dim):
    if size + pad_begin + pad_end >= MAX_EXTENT:
        raise ValueError(f"padding ({pad_begin}, {pad_end}) is too large for input {dim}={size}: "
                         f"the padded size must be below 2**62")


def _effective_stride(stride, out, padded):
    """One output row/column comes out of any stride beyond the padded input:
    pass the smallest such stride on, so the drivers' workspaces that scale
    with the stride (phase-split rows) stay input-sized."""
    return min(stride, padded) if out == 1 else stride


def _same_padding(size, kernel, stride, dilation, lower):
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    small, big = total // 2, total - total // 2
    return (big, small) if lower else (small, big)


def conv_padding(padding, in_hw, kernel, stride, dilation, name="padding"):
    """Normalise any padding form to ``((top, bottom), (left, right))``.

    Accepts an int, ``(ph, pw)``, ``((top, bottom), (left, right))``,
    ``"valid"``, ``"same"`` (odd pixel at the end, SAME_UPPER) and
    ``"same_lower"`` (odd pixel at the start). Negative values raise ValueError.

    >>> conv_padding("same", (5, 5), (2, 2), (1, 1), (1, 1))
    ((0, 1), (0, 1))
    """
    if type(padding) is int and padding >= 0:
        return (padding, padding), (padding, padding)
    if type(padding) is tuple and len(padding) == 2 and type(padding[0]) is int \
            and type(padding[1]) is int and padding[0] >= 0 and padding[1] >= 0:
        return (padding[0], padding[0]), (padding[1], padding[1])
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return (0, 0), (0, 0)
        if mode in ("same", "same_upper", "same_lower"):
            lower = mode == "same_lower"
            return tuple(_same_padding(in_hw[i], kernel[i], stride[i], dilation[i], lower)
                         for i in range(2))
        raise ValueError(f"{name} must be an int, a pair, ((top, bottom), (left, right)), "
                         f"'valid', 'same' or 'same_lower'; got {padding!r}")
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
            isinstance(p, (tuple, list)) for p in padding):
        sides = tuple(pair(p, name) for p in padding)
    elif isinstance(padding, (tuple, list)) and len(padding) == 2 and any(
            isinstance(p, (tuple, list)) for p in padding):
        raise ValueError(f"{name}: per-side padding must be ((top, bottom), (left, right)), "
                         f"got {padding!r}")
    else:
        ph, pw = pair(padding, name)
        sides = ((ph, ph), (pw, pw))
    if min(sides[0] + sides[1]) < 0:
        raise ValueError(f"{name} must be non-negative, got {padding!r}")
    return sides


def pool_padding(padding, in_hw, kernel, stride, dilation, name="padding"):
    """Padding for pooling: the same forms as convolution."""
    return conv_padding(padding, in_hw, kernel, stride, dilation, name)


def _plain(value):
    """Whether a memoised geometry may be keyed on ``value``: an exact int,
    str or None, or a tuple of exact ints or of tuples of them. 1.0, True and
    numpy scalars compare equal to 1 but must still go through validation."""
    t = type(value)
    if t is int or t is str or value is None:
        return True
    if t is not tuple:
        return False
    for v in value:
        if type(v) is not int and not (type(v) is tuple and _plain(v)):
            return False
    return True


_MEMO_SIZE = 256


def _memoised(shapes, flag=None):
    """Cache a geometry constructor on its arguments. Building a geometry
    validates and computes ~20 sizes, a quarter of a small layer's per-call
    cost, and the same layer is usually called again. The first ``shapes``
    arguments are array shapes (tuples of ints from numpy); the others are
    keyed only when ``_plain``, except argument ``flag``, which the
    constructor reads as a bool (so True and 1 may share an entry). Errors
    are not cached; the cached objects are frozen."""
    def decorate(fn):
        cache = {}

        def wrapper(*args):
            for i in range(shapes, len(args)):
                a = args[i]
                if not (_plain(a) or (i == flag and type(a) is bool)):
                    return fn(*args)
            try:
                return cache[args]
            except (KeyError, TypeError):
                pass
            g = fn(*args)
            if len(cache) >= _MEMO_SIZE:
                cache.clear()
            cache[args] = g
            return g

        wrapper.__name__, wrapper.__qualname__ = fn.__name__, fn.__qualname__
        wrapper.__doc__, wrapper.__wrapped__ = fn.__doc__, fn
        return wrapper
    return decorate


def _make(cls, values):
    """An instance of the frozen dataclass ``cls`` from its field values, in
    field order, without the generated ``__init__`` (one ``object.__setattr__``
    per field: ~5 us of a small layer's per-call cost)."""
    obj = object.__new__(cls)
    obj.__dict__.update(zip(cls._FIELDS, values))
    return obj


def logical_shape(shape, layout):
    """(N, C, H, W) of a 4-D shape stored in ``layout``."""
    if layout == "NCHW":
        return tuple(shape)
    n, h, w, c = shape
    return n, c, h, w


def physical_shape(n, c, h, w, layout):
    """Shape tuple of a logical (N, C, H, W) tensor stored in ``layout``."""
    return (n, c, h, w) if layout == "NCHW" else (n, h, w, c)


@dataclass(frozen=True)
class ConvGeometry:
    """Every size of one conv2d (or of its gradients): mirrors ``fc_conv_geom``."""
    N: int
    C: int
    H: int
    W: int
    K: int
    OH: int
    OW: int
    KH: int
    KW: int
    SH: int
    SW: int
    DH: int
    DW: int
    PT: int
    PB: int
    PL: int
    PR: int
    G: int
    layout: str

    _FIELDS = ("N", "C", "H", "W", "K", "OH", "OW", "KH", "KW", "SH", "SW", "DH", "DW", "PT",
               "PB", "PL", "PR", "G", "layout")

    # cached on the (frozen, memoised) geometry: every call asks for it
    @cached_property
    def input_shape(self):
        return physical_shape(self.N, self.C, self.H, self.W, self.layout)

    @cached_property
    def output_shape(self):
        return physical_shape(self.N, self.K, self.OH, self.OW, self.layout)

    @property
    def weight_shape(self):
        return (self.K, self.C // self.G, self.KH, self.KW)

    @property
    def flops(self):
        """Multiply-adds x 2 of the forward pass."""
        return 2 * self.N * self.K * self.OH * self.OW * (self.C // self.G) * self.KH * self.KW


@_memoised(shapes=2)
def conv2d_geometry(input_shape, weight_shape, stride, padding, dilation, groups, layout):
    """Validate conv2d arguments against the shapes and compute the geometry.

    ``input_shape`` is 4-D in ``layout``; ``weight_shape`` is OIHW.
    """
    N, C, H, W = logical_shape(input_shape, layout)
    if len(weight_shape) != 4:
        raise ValueError(f"weight must be 4-D (C_out, C_in/groups, kH, kW), got shape "
                         f"{tuple(weight_shape)}")
    K, Cg, KH, KW = weight_shape
    g = _int(groups, "groups")
    if g < 1:
        raise ValueError(f"groups must be >= 1, got {groups!r}")
    if C % g:
        raise ValueError(f"groups={g} does not divide the input channels {C}")
    if K % g:
        raise ValueError(f"groups={g} does not divide the weight's output channels {K}")
    if Cg * g != C:
        raise ValueError(f"weight has {Cg} input channels per group, but input has {C} "
                         f"channels and groups={g} (expected {C // g})")
    if KH < 1 or KW < 1 or K < 1:
        raise ValueError(f"weight has an empty dimension: shape {tuple(weight_shape)}")
    if H < 1 or W < 1 or C < 1:
        raise ValueError(f"input has an empty spatial or channel dimension: shape "
                         f"{tuple(input_shape)}")
    sh, sw = positive_pair(stride, "stride")
    dh, dw = positive_pair(dilation, "dilation")
    (pt, pb), (pl, pr) = conv_padding(padding, (H, W), (KH, KW), (sh, sw), (dh, dw))
    _check_extent(H, pt, pb, "height")
    _check_extent(W, pl, pr, "width")
    OH = output_size(H, KH, sh, dh, pt, pb, dim="height")
    OW = output_size(W, KW, sw, dw, pl, pr, dim="width")
    sh, sw = _effective_stride(sh, OH, H + pt + pb), _effective_stride(sw, OW, W + pl + pr)
    return _make(ConvGeometry, (N, C, H, W, K, OH, OW, KH, KW, sh, sw, dh, dw, pt, pb, pl, pr, g,
                                layout))


@_memoised(shapes=2)
def conv_transpose2d_geometry(input_shape, weight_shape, stride, padding, output_padding,
                              groups, dilation, layout):
    """Geometry of conv_transpose2d, expressed as the *forward* conv it is the adjoint of.

    The returned ConvGeometry has the transposed conv's output as its input
    (N, C_out, H_out, W_out) and the transposed conv's input as its output.
    ``weight_shape`` is (C_in, C_out/groups, kH, kW) as in PyTorch.
    """
    N, Cin, Hin, Win = logical_shape(input_shape, layout)
    if len(weight_shape) != 4:
        raise ValueError(f"weight must be 4-D (C_in, C_out/groups, kH, kW), got shape "
                         f"{tuple(weight_shape)}")
    Kw, Cog, KH, KW = weight_shape
    g = _int(groups, "groups")
    if g < 1:
        raise ValueError(f"groups must be >= 1, got {groups!r}")
    if Kw != Cin:
        raise ValueError(f"weight has {Kw} input channels, but input has {Cin}")
    if Cin % g:
        raise ValueError(f"groups={g} does not divide the input channels {Cin}")
    if KH < 1 or KW < 1 or Cog < 1:
        raise ValueError(f"weight has an empty dimension: shape {tuple(weight_shape)}")
    if Hin < 1 or Win < 1:
        raise ValueError(f"input has an empty spatial dimension: shape {tuple(input_shape)}")
    sh, sw = positive_pair(stride, "stride")
    dh, dw = positive_pair(dilation, "dilation")
    oph, opw = pair(output_padding, "output_padding")
    if oph < 0 or opw < 0:
        raise ValueError(f"output_padding must be non-negative, got {output_padding!r}")
    if oph >= max(sh, dh) or opw >= max(sw, dw):
        raise ValueError(f"output_padding {output_padding!r} must be smaller than stride "
                         f"or dilation")
    if isinstance(padding, str):
        if padding.lower() != "valid":
            raise ValueError(f"padding: conv_transpose2d takes an int, a pair, "
                             f"((top, bottom), (left, right)) or 'valid'; got {padding!r}")
        padding = 0
    (pt, pb), (pl, pr) = conv_padding(padding, (1, 1), (KH, KW), (sh, sw), (dh, dw))
    Hout = (Hin - 1) * sh - pt - pb + dh * (KH - 1) + oph + 1
    Wout = (Win - 1) * sw - pl - pr + dw * (KW - 1) + opw + 1
    if Hout < 1 or Wout < 1:
        raise ValueError(f"output of conv_transpose2d would be empty ({Hout}x{Wout}); "
                         f"padding is too large")
    # the forward conv: input (N, Cout, Hout, Wout) -> output (N, Cin, Hin, Win);
    # its end padding absorbs output_padding
    sh = _effective_stride(sh, Hin, Hout + pt + pb - oph)
    sw = _effective_stride(sw, Win, Wout + pl + pr - opw)
    return ConvGeometry(N, Cog * g, Hout, Wout, Cin, Hin, Win, KH, KW, sh, sw, dh, dw,
                        pt, pb - oph, pl, pr - opw, g, layout)


@dataclass(frozen=True)
class PoolGeometry:
    """Every size of one 2-D pooling: input (N, C, H, W) -> output (N, C, OH, OW)."""
    N: int
    C: int
    H: int
    W: int
    OH: int
    OW: int
    KH: int
    KW: int
    SH: int
    SW: int
    DH: int
    DW: int
    PT: int
    PB: int
    PL: int
    PR: int
    layout: str

    _FIELDS = ("N", "C", "H", "W", "OH", "OW", "KH", "KW", "SH", "SW", "DH", "DW", "PT", "PB",
               "PL", "PR", "layout")

    @cached_property
    def input_shape(self):
        return physical_shape(self.N, self.C, self.H, self.W, self.layout)

    @cached_property
    def output_shape(self):
        return physical_shape(self.N, self.C, self.OH, self.OW, self.layout)


@_memoised(shapes=1, flag=5)
def pool2d_geometry(input_shape, kernel_size, stride, padding, dilation, ceil_mode, layout):
    """Validate pooling arguments and compute the geometry (``stride=None`` -> kernel).

    Padding may exceed half the kernel (ONNX allows it), but a window made only
    of padding is rejected for max pooling by the caller where it matters.
    """
    N, C, H, W = logical_shape(input_shape, layout)
    kh, kw = positive_pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else positive_pair(stride, "stride")
    dh, dw = positive_pair(dilation, "dilation")
    if H < 1 or W < 1:
        raise ValueError(f"input has an empty spatial dimension: shape {tuple(input_shape)}")
    (pt, pb), (pl, pr) = pool_padding(padding, (H, W), (kh, kw), (sh, sw), (dh, dw))
    if not isinstance(ceil_mode, (bool, int)) and not hasattr(ceil_mode, "__bool__"):
        raise TypeError(f"ceil_mode must be a bool, got {ceil_mode!r}")
    _check_extent(H, pt, pb, "height")
    _check_extent(W, pl, pr, "width")
    OH = output_size(H, kh, sh, dh, pt, pb, bool(ceil_mode), dim="height")
    OW = output_size(W, kw, sw, dw, pl, pr, bool(ceil_mode), dim="width")
    sh, sw = _effective_stride(sh, OH, H + pt + pb), _effective_stride(sw, OW, W + pl + pr)
    return _make(PoolGeometry, (N, C, H, W, OH, OW, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, layout))


def flipped_conv_padding(g):
    """Padding ``((top, bottom), (left, right))`` under which the input gradient
    of the stride-1 conv2d ``g`` is a conv2d of its grad_output with the kernel
    flipped (same dilation, groups); None for a stride above 1 or where a side
    would be negative (padding wider than the kernel's reach)."""
    if g.SH != 1 or g.SW != 1:
        return None
    reach_h, reach_w = g.DH * (g.KH - 1), g.DW * (g.KW - 1)
    pads = ((reach_h - g.PT, reach_h - g.PB), (reach_w - g.PL, reach_w - g.PR))
    return None if min(min(p) for p in pads) < 0 else pads


def winograd_tiles(g, m=4):
    """The m x m output tiles of the Winograd path for the stride-1 conv2d
    ``g``, over the batch: a dilated conv is DH*DW undilated ones on the
    output's stride phases (rows py, py + DH, ...), each tiled on its own."""
    def tiles(out, d):
        return sum(-(-(-(-(out - p) // d)) // m) for p in range(min(d, out)))
    return g.N * tiles(g.OH, g.DH) * tiles(g.OW, g.DW)
