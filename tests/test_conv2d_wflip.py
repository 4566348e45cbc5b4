"""Stride-1 grad input as a forward conv2d whose weight panels are packed
straight from the forward weight, flipped and transposed on the way (the
"igemm_wflip" path), against fastconv.reference.

The path is called directly for every ISA variant, both dtypes and layouts:
edge tiles (channel counts that are not multiples of the tile, several input
channel blocks), groups, dilation, asymmetric padding, bias and ReLU, and
the branches that flip a copy of the weight instead (pixel-major, 1x1). The
C driver's own stride-1 grad-input igemm, which the API no longer takes for
these shapes, is checked on the same cases.
"""
import zlib

import numpy as np
import pytest

from fastconv import _config, reference
from fastconv._shapes import conv2d_geometry
from fastconv.conv_grad import _flipped_geometry
from conftest import to_layout
from tolerances import assert_close

_conv = pytest.importorskip("fastconv._conv")
_conv_grad = pytest.importorskip("fastconv._conv_grad")

# the forward conv: (N, C, K, H, W, (kH, kW), padding, dilation, groups); stride 1
CASES = [
    (2, 16, 24, 9, 9, (3, 3), 1, 1, 1),                    # basic
    (1, 20, 130, 6, 7, (3, 3), 1, 1, 1),                   # 130 grad_output channels: 2 blocks
    (2, 96, 80, 9, 10, (3, 3), 1, 1, 1),                   # partial channel block and tile
    (1, 72, 104, 11, 12, (3, 3), 1, 1, 1),                 # two pixel blocks
    (2, 12, 20, 8, 11, (5, 5), 2, 1, 1),                   # 25 taps
    (1, 24, 36, 10, 9, (3, 2), ((1, 0), (0, 1)), (2, 1), 2),  # groups, dilation, asymmetric
    (2, 18, 36, 6, 6, (3, 3), 1, 1, 3),                    # groups of 6 -> 12
    (1, 9, 13, 7, 8, (2, 3), 0, 1, 1),                     # valid, rectangular: taps hang out
    (3, 10, 17, 5, 5, (3, 3), 2, 1, 1),                    # padding 2: full padded rows
    (1, 200, 200, 5, 6, (3, 3), 1, 1, 1),                  # few pixels: pixel-major on a copy
    (1, 64, 96, 7, 7, (3, 3), 1, 1, 1),                    # pixel-major, partial tiles
    (2, 40, 30, 6, 7, (1, 1), 0, 1, 1),                    # 1x1: pointwise on a copy
]
IDS = [f"case{i}" for i in range(len(CASES))]


def _setup(case, dtype, layout):
    N, C, K, H, W, k, p, d, groups = case
    rng = np.random.default_rng(zlib.crc32(repr(case).encode()))
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C // groups) + k).astype(dtype)
    gy = rng.standard_normal(reference.conv2d(x, w, None, 1, p, d, groups).shape).astype(dtype)
    g = conv2d_geometry(to_layout(x, layout).shape, w.shape, 1, p, d, groups, layout)
    want = reference.conv2d_backward(gy, x, w, 1, p, d, groups)[0]
    return g, to_layout(x, layout), w, to_layout(gy, layout), want, (K // groups) * k[0] * k[1]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_wflip_path(isa, dtype, layout, case):
    g, x, w, gy, want, red = _setup(case, dtype, layout)
    fg = _flipped_geometry(g)
    assert fg is not None
    bias = np.linspace(-1, 1, g.C).astype(dtype)
    for b, relu in ((None, False), (bias, False), (bias, True)):
        expected = want + bias[:, None, None] if b is not None else want
        if relu:
            expected = np.maximum(expected, 0)
        y = np.full(fg.output_shape, np.nan, dtype)   # every output must be written
        w0 = w.copy()
        assert _conv.conv2d_path("igemm_wflip", fg, gy, w, b, y, relu, _config.isa_level(),
                                 _config.get_num_threads())
        assert_close(y, to_layout(expected, layout), "conv2d_backward", dtype, reduction=red)
        np.testing.assert_array_equal(w, w0)


@pytest.mark.parametrize("case", CASES[:9], ids=IDS[:9])
def test_c_grad_input_stride1(isa, dtype, layout, case):
    """The C driver's own stride-1 grad input (igemm over phases) stays right."""
    g, x, w, gy, want, red = _setup(case, dtype, layout)
    gx = np.full(g.input_shape, np.nan, dtype)
    _conv_grad.grad_input(g, gy, w, None, gx, _config.isa_level(), _config.get_num_threads())
    assert_close(gx, to_layout(want, layout), "conv2d_backward", dtype, reduction=red)


@pytest.mark.parametrize("nthreads", [1, 3, 7])
def test_wflip_threads_agree(nthreads):
    """Each output is reduced in the same order whatever the thread count."""
    g, x, w, gy, want, red = _setup(CASES[1], np.float32, "NHWC")
    fg = _flipped_geometry(g)
    ys = []
    for nt in (1, nthreads):
        y = np.empty(fg.output_shape, np.float32)
        _conv.conv2d_path("igemm_wflip", fg, gy, w, None, y, False, _config.isa_level(), nt)
        ys.append(y)
    np.testing.assert_array_equal(ys[0], ys[1])
