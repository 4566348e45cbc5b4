"""The NHWC depthwise forward kernel's tile paths against fastconv.reference.

The AVX-512 kernel runs 3x3 undilated kernels of stride 1 or 2 as one pass per
pair of output rows, in tiles of 1-8 pixels whose first and last take the
padding (compile-time tile widths, run-time clamped taps); the other ISAs and
geometries go through the generic tiles. Every output width 1..20 (each tile
remainder, tiles that are at once the left and the right edge), odd and even
row counts (a lone last row after the pairs), asymmetric padding up to 2 (and
padding wider than the image, where whole windows fall outside), channel counts
around the vector widths (masked tails), stride 3, dilation, bias and fused
ReLU, batched, for every ISA and both dtypes. Outputs start as NaN, so an
unwritten pixel fails.
"""
import zlib

import numpy as np
import pytest

import fastconv
from fastconv import _config, reference
from fastconv._shapes import conv2d_geometry
from tolerances import assert_close

_conv = pytest.importorskip("fastconv._conv")


def _check(dtype, N, C, H, W, k, stride, padding, dilation, relu, bias):
    rng = np.random.default_rng(zlib.crc32(repr((N, C, H, W, k, stride, padding,
                                                  dilation, relu, bias)).encode()))
    x = rng.standard_normal((N, H, W, C)).astype(dtype)
    w = rng.standard_normal((C, 1, k, k)).astype(dtype)
    b = rng.standard_normal(C).astype(dtype) if bias else None
    act = "relu" if relu else None
    g = conv2d_geometry(x.shape, w.shape, stride, padding, dilation, C, "NHWC")
    y = np.full(g.output_shape, np.nan, dtype)
    assert _conv.conv2d_path("depthwise", g, x, w, b, y, relu, _config.isa_level(),
                             _config.get_num_threads())
    expected = reference.conv2d(x, w, b, stride, padding, dilation, C, layout="NHWC",
                                activation=act)
    assert_close(y, expected, "conv2d", reduction=k * k)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("W", list(range(1, 21)))
def test_3x3_every_width(isa, dtype, W, stride):
    """Each tile width and edge combination, 5 and 6 output rows (pairs + a lone row)."""
    for H, C, padding in ((5, 17, 1), (6 * stride, 16, 1), (4, 33, ((0, 2), (2, 0)))):
        _check(dtype, 1, C, H, W, 3, stride, padding, 1, relu=W % 2 == 0, bias=W % 3 != 0)


PADS = [0, 1, 2, ((0, 1), (2, 0)), ((2, 0), (1, 2)), ((1, 2), (0, 1))]


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", PADS, ids=[str(p) for p in PADS])
def test_3x3_padding_and_stride(isa, dtype, padding, stride):
    for N, C, H, W in ((2, 48, 9, 11), (1, 5, 4, 3), (1, 32, 12, 19)):
        _check(dtype, N, C, H, W, 3, stride, padding, 1, relu=N == 1, bias=True)


@pytest.mark.parametrize("case", [
    (1, 7, 1, 2, 3, 1, 2, 1),       # padding as wide as the window: one tap inside
    (1, 16, 1, 1, 3, 2, 2, 1),      # 1x1 image, stride 2
    (3, 31, 7, 7, 3, 1, 1, 1),      # batched, 7x7 (one edge tile per row)
    (1, 20, 10, 13, 3, 1, 2, 2),    # dilation: generic path
    (1, 24, 8, 17, 5, 2, 2, 1),     # 5x5 stride 2: generic path
    (1, 96, 15, 15, 3, 2, 1, 1),    # MobileNet-like stride 2, odd size
    (1, 144, 14, 14, 3, 1, 1, 1),   # MobileNet-like, multiple of 16 channels
], ids=str)
def test_misc(isa, dtype, case):
    N, C, H, W, k, stride, padding, dilation = case
    for relu, bias in ((False, True), (True, False)):
        _check(dtype, N, C, H, W, k, stride, padding, dilation, relu, bias)


@pytest.mark.parametrize("threads", [1, 2, 3, 5])
def test_thread_splits(isa, dtype, threads):
    """Row runs and channel chunks per thread (a thread's consecutive runs go as one
    kernel call): every split gives the reference result."""
    old = fastconv.get_num_threads()
    fastconv.set_num_threads(threads)
    try:
        for N, C, H, W, stride in ((1, 200, 13, 9, 1), (1, 96, 23, 6, 2), (2, 40, 17, 5, 1),
                                   (1, 960, 7, 7, 1), (3, 24, 9, 4, 2)):
            _check(dtype, N, C, H, W, 3, stride, 1, 1, relu=False, bias=True)
    finally:
        fastconv.set_num_threads(old)
