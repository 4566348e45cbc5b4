"""The layer tables of BENCHMARKS.md: the one module of layer shapes.

Benchmarks (``python -m fastconv.bench``, ``benchmarks/``) and tests import
their shapes from here. A case is described in logical NCHW order and turned
into a geometry for a given layout by ``fastconv._shapes``, which owns all the
output-size and padding math.

Every table is a tuple of cases; ``TABLES`` maps the suite names accepted by
``--suite`` to them. Cases flagged ``quick`` form the ``--quick`` subset, and
cases flagged ``f64`` the float64 subset.

Examples
--------
>>> from fastconv.bench.cases import TABLES
>>> case = TABLES["resnet50"][2]
>>> case.name, case.geometry("NCHW").output_shape
('conv3x3_64', (1, 64, 56, 56))
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .._shapes import conv2d_geometry, pool2d_geometry

__all__ = [
    "ConvCase", "PoolCase", "TABLES", "TABLE_TITLES", "SUITE_NAMES",
    "conv_flops", "select", "all_cases",
]

#: ops a case can time
CONV_OPS = ("conv2d", "conv2d_grad_input", "conv2d_grad_weight")
POOL_KINDS = ("max", "avg", "global_avg")


def conv_flops(N, K, OH, OW, C, groups, KH, KW):
    """Flops of one conv2d pass: ``2*N*K*Ho*Wo*(C/groups)*kH*kW``.

    Grad input and grad weight each count the same number.

    >>> conv_flops(1, 64, 56, 56, 64, 1, 3, 3)
    231211008
    """
    return 2 * N * K * OH * OW * (C // groups) * KH * KW


@dataclass(frozen=True)
class ConvCase:
    """One convolution layer: input (N, C, H, W), weight (K, C/groups, kH, kW).

    Parameters
    ----------
    name : str
        Short layer name, unique within its table.
    N, C, H, W, K : int
        Batch, input channels, input height and width, output channels.
    kernel : int or (int, int)
    stride, padding, dilation, groups
        As ``fastconv.conv2d``.
    op : {"conv2d", "conv2d_grad_input", "conv2d_grad_weight"}
        What is timed.
    quick : bool
        Part of the ``--quick`` subset.
    f64 : bool
        Part of the float64 subset.
    """

    name: str
    N: int
    C: int
    H: int
    W: int
    K: int
    kernel: object = 3
    stride: object = 1
    padding: object = 0
    dilation: object = 1
    groups: int = 1
    op: str = "conv2d"
    quick: bool = False
    f64: bool = False
    family: str = field(default="conv", init=False)

    @property
    def weight_shape(self):
        """OIHW weight shape."""
        kh, kw = (self.kernel, self.kernel) if isinstance(self.kernel, int) else self.kernel
        return (self.K, self.C // self.groups, kh, kw)

    def input_shape(self, layout="NCHW"):
        """Physical input shape in ``layout``."""
        return (self.N, self.C, self.H, self.W) if layout == "NCHW" else \
            (self.N, self.H, self.W, self.C)

    def geometry(self, layout="NCHW"):
        """``fastconv._shapes.ConvGeometry`` of the layer in ``layout``."""
        return conv2d_geometry(self.input_shape(layout), self.weight_shape, self.stride,
                               self.padding, self.dilation, self.groups, layout)

    @property
    def flops(self):
        """Flops of the timed pass (forward, grad input or grad weight)."""
        g = self.geometry()
        return conv_flops(g.N, g.K, g.OH, g.OW, g.C, g.G, g.KH, g.KW)

    def nbytes(self, itemsize):
        """Bytes of input, weight and output (the arrays one call touches)."""
        g = self.geometry()
        return itemsize * (g.N * g.C * g.H * g.W + g.N * g.K * g.OH * g.OW
                           + g.K * (g.C // g.G) * g.KH * g.KW)

    def describe(self):
        """Compact human description, e.g. ``3x3 64->64 @56 s1 N=1``."""
        g = self.geometry()
        text = f"{g.KH}x{g.KW} {g.C}->{g.K} @{g.H}"
        if (g.SH, g.SW) != (1, 1):
            text += f" s{g.SH}"
        if (g.DH, g.DW) != (1, 1):
            text += f" d{g.DH}"
        if g.G != 1:
            text += " dw" if g.G == g.C == g.K else f" g{g.G}"
        return text + f" N={g.N}"


@dataclass(frozen=True)
class PoolCase:
    """One pooling layer on input (N, C, H, W).

    Parameters
    ----------
    name : str
    kind : {"max", "avg", "global_avg"}
    N, C, H, W : int
    kernel, stride, padding
        As ``fastconv.max_pool2d`` (ignored for ``global_avg``).
    return_indices : bool
        Max pooling also returns the int64 indices (counted in the bytes).
    backward : bool
        Time the gradient with respect to the input instead of the forward.
    quick, f64 : bool
        Membership of the ``--quick`` and float64 subsets.
    """

    name: str
    kind: str
    N: int
    C: int
    H: int
    W: int
    kernel: object = 2
    stride: object = None
    padding: object = 0
    return_indices: bool = False
    backward: bool = False
    quick: bool = False
    f64: bool = False
    family: str = field(default="pool", init=False)

    @property
    def op(self):
        """Name of the timed op, e.g. ``max_pool2d`` or ``avg_pool2d_backward``."""
        base = "global_avg_pool2d" if self.kind == "global_avg" else f"{self.kind}_pool2d"
        return base + ("_backward" if self.backward else "")

    def input_shape(self, layout="NCHW"):
        """Physical input shape in ``layout``."""
        return (self.N, self.C, self.H, self.W) if layout == "NCHW" else \
            (self.N, self.H, self.W, self.C)

    def geometry(self, layout="NCHW"):
        """``fastconv._shapes.PoolGeometry``; a global pool is an H x W window."""
        if self.kind == "global_avg":
            return pool2d_geometry(self.input_shape(layout), (self.H, self.W), None, 0, 1,
                                   False, layout)
        return pool2d_geometry(self.input_shape(layout), self.kernel, self.stride,
                               self.padding, 1, False, layout)

    @property
    def flops(self):
        """Pools are reported in GB/s, not GFLOP/s."""
        return 0

    def nbytes(self, itemsize):
        """Bytes moved by one call.

        Forward: input + output (+ int64 indices when requested). Backward:
        grad output + grad input (+ the input, which max pooling re-reads to
        find each window's maximum).
        """
        g = self.geometry()
        n_in, n_out = g.N * g.C * g.H * g.W, g.N * g.C * g.OH * g.OW
        total = itemsize * (n_in + n_out)
        if self.backward and self.kind == "max":
            total += itemsize * n_in
        if self.return_indices and not self.backward:
            total += 8 * n_out
        return total

    def describe(self):
        """Compact human description, e.g. ``max 3x3/2 p1 (8,64,112,112)``."""
        shape = f"({self.N},{self.C},{self.H},{self.W})"
        if self.kind == "global_avg":
            return f"global avg {shape}"
        g = self.geometry()
        text = f"{self.kind} {g.KH}x{g.KW}/{g.SH}"
        if g.PT or g.PL:
            text += f" p{g.PT}"
        if self.return_indices:
            text += " +idx"
        return f"{text} {shape}"


def _resnet50(N, quick_names):
    layers = [
        ConvCase("stem7x7s2", N, 3, 224, 224, 64, 7, 2, 3),
        ConvCase("conv1x1_64", N, 64, 56, 56, 64, 1),
        ConvCase("conv3x3_64", N, 64, 56, 56, 64, 3, 1, 1),
        ConvCase("conv1x1_64_256", N, 64, 56, 56, 256, 1),
        ConvCase("conv1x1_256_128s2", N, 256, 56, 56, 128, 1, 2),
        ConvCase("conv3x3_128", N, 128, 28, 28, 128, 3, 1, 1),
        ConvCase("conv3x3_256", N, 256, 14, 14, 256, 3, 1, 1),
        ConvCase("conv3x3_512", N, 512, 7, 7, 512, 3, 1, 1),
        ConvCase("conv1x1_1024_2048s2", N, 1024, 14, 14, 2048, 1, 2),
    ]
    return tuple(_flag(c, quick=c.name in quick_names,
                       f64=c.name in ("conv3x3_64", "conv1x1_64_256", "conv3x3_256"))
                 for c in layers)


def _flag(case, **flags):
    """A copy of ``case`` with the given flags set (dataclasses are frozen)."""
    fields = {k: getattr(case, k) for k in case.__dataclass_fields__ if k != "family"}
    fields.update(flags)
    return type(case)(**fields)


RESNET50 = _resnet50(1, {"conv3x3_64", "conv1x1_64_256"})
RESNET50_N8 = _resnet50(8, {"conv3x3_256"})

VGG16 = (
    ConvCase("conv3x3_3_64", 1, 3, 224, 224, 64, 3, 1, 1),
    ConvCase("conv3x3_64", 1, 64, 224, 224, 64, 3, 1, 1),
    ConvCase("conv3x3_128", 1, 128, 112, 112, 128, 3, 1, 1),
    ConvCase("conv3x3_256", 1, 256, 56, 56, 256, 3, 1, 1),
    ConvCase("conv3x3_512_28", 1, 512, 28, 28, 512, 3, 1, 1, f64=True),
    ConvCase("conv3x3_512_14", 1, 512, 14, 14, 512, 3, 1, 1, quick=True, f64=True),
)

MOBILENET_V2 = (
    ConvCase("dw3x3_32", 1, 32, 112, 112, 32, 3, 1, 1, groups=32, quick=True, f64=True),
    ConvCase("dw3x3_96s2", 1, 96, 112, 112, 96, 3, 2, 1, groups=96),
    ConvCase("dw3x3_144", 1, 144, 56, 56, 144, 3, 1, 1, groups=144),
    ConvCase("dw3x3_192", 1, 192, 28, 28, 192, 3, 1, 1, groups=192),
    ConvCase("dw3x3_384", 1, 384, 14, 14, 384, 3, 1, 1, groups=384),
    ConvCase("dw3x3_960", 1, 960, 7, 7, 960, 3, 1, 1, groups=960),
    ConvCase("pw1x1_32_16", 1, 32, 112, 112, 16, 1),
    ConvCase("pw1x1_144_24", 1, 144, 56, 56, 24, 1, quick=True, f64=True),
    ConvCase("pw1x1_960_160", 1, 960, 7, 7, 160, 1),
)

LENET = (
    ConvCase("conv5x5_1_6", 64, 1, 28, 28, 6, 5, 1, 2, quick=True, f64=True),
    ConvCase("conv5x5_6_16", 64, 6, 14, 14, 16, 5, f64=True),
    PoolCase("maxpool2x2", "max", 64, 6, 28, 28, 2, quick=True, f64=True),
    PoolCase("avgpool2x2", "avg", 64, 6, 28, 28, 2, f64=True),
)

DILATED = (
    ConvCase("conv3x3_256_d2", 1, 256, 28, 28, 256, 3, 1, 2, 2, quick=True, f64=True),
    ConvCase("conv3x3_256_d4", 1, 256, 28, 28, 256, 3, 1, 4, 4),
)

POOLING = (
    PoolCase("maxpool3x3s2", "max", 8, 64, 112, 112, 3, 2, 1, quick=True, f64=True),
    PoolCase("maxpool3x3s2_idx", "max", 8, 64, 112, 112, 3, 2, 1, return_indices=True),
    PoolCase("maxpool2x2_224", "max", 1, 64, 224, 224, 2, 2),
    PoolCase("avgpool2x2", "avg", 8, 64, 112, 112, 2, 2, f64=True),
    PoolCase("global_avg", "global_avg", 32, 2048, 7, 7, quick=True, f64=True),
)


def _backward():
    cases = []
    for fwd in RESNET50 + LENET[:2]:
        prefix = "lenet_" if fwd.N == 64 else ""
        quick = fwd.name == "conv3x3_64" and not prefix
        for op, suffix in (("conv2d_grad_input", "dX"), ("conv2d_grad_weight", "dW")):
            cases.append(_flag(fwd, name=f"{prefix}{fwd.name}_{suffix}", op=op, quick=quick,
                               f64=quick))
    # MobileNetV2 depthwise (stride 1 and 2); the --quick subset stays at 3 rows
    for fwd in MOBILENET_V2[:3]:
        for op, suffix in (("conv2d_grad_input", "dX"), ("conv2d_grad_weight", "dW")):
            cases.append(_flag(fwd, name=f"{fwd.name}_{suffix}", op=op, quick=False,
                               f64=fwd.name == "dw3x3_32"))
    for pool in POOLING:
        if pool.return_indices:
            continue
        cases.append(_flag(pool, name=f"{pool.name}_bwd", backward=True,
                           quick=pool.name == "maxpool3x3s2", f64=pool.name == "maxpool3x3s2"))
    return tuple(cases)


BACKWARD = _backward()

#: suite name -> cases, in BENCHMARKS.md order
TABLES = {
    "resnet50": RESNET50,
    "resnet50_n8": RESNET50_N8,
    "vgg16": VGG16,
    "mobilenet_v2": MOBILENET_V2,
    "lenet": LENET,
    "dilated": DILATED,
    "pooling": POOLING,
    "backward": BACKWARD,
}

TABLE_TITLES = {
    "resnet50": "ResNet-50 (N=1)",
    "resnet50_n8": "ResNet-50 (N=8)",
    "vgg16": "VGG-16 (N=1)",
    "mobilenet_v2": "MobileNetV2 (N=1)",
    "lenet": "LeNet (N=64)",
    "dilated": "Dilated 3x3 (N=1)",
    "pooling": "Pooling",
    "backward": "Backward (ResNet-50 N=1, LeNet and MobileNetV2 depthwise convs, pools)",
}

SUITE_NAMES = tuple(TABLES)


def select(table, quick=False, dtype="float32"):
    """The cases of ``table`` to run for the ``--quick`` flag and ``dtype``.

    >>> [c.name for c in select("dilated", quick=True)]
    ['conv3x3_256_d2']
    """
    cases = TABLES[table]
    if quick:
        cases = tuple(c for c in cases if c.quick)
    if str(dtype) == "float64":
        cases = tuple(c for c in cases if c.f64)
    return cases


def all_cases(quick=False, dtype="float32"):
    """``(table, case)`` pairs of every table, in order."""
    return [(t, c) for t in TABLES for c in select(t, quick, dtype)]
