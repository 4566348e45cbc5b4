"""The grad-input routes through forward kernels, against fastconv.reference.

Stride-1 grad input as a forward conv2d whose weight panels are packed
straight from the forward weight, flipped and transposed on the way (the
"igemm_wflip" path); and the unpadded strided 1x1 NCHW grad input as a dense
forward GEMM written out with zeros between (expand_strided).

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


# the forward conv: (N, C, K, H, W, stride, groups); 1x1, unpadded, NCHW
STRIDED_1X1 = [
    (1, 24, 40, 8, 8, 2, 1),          # even sizes: every other row and column hit
    (2, 20, 12, 9, 11, 2, 1),         # odd sizes: the last row and column hit
    (1, 16, 30, 10, 9, (3, 2), 1),    # stride 3x2: unhit last row, odd width
    (1, 18, 12, 7, 13, (2, 3), 3),    # groups, stride 3 along W (the general write-out)
    (2, 8, 8, 6, 5, (1, 2), 2),       # stride 1 along H: every row hit
]


@pytest.mark.parametrize("case", STRIDED_1X1, ids=[str(c) for c in STRIDED_1X1])
def test_strided_pointwise_grad_input(isa, dtype, case):
    """The dense-GEMM route of conv2d_backward and conv_transpose2d, and the C
    driver's own phase igemm on the same shapes."""
    import fastconv
    N, C, K, H, W, s, groups = case
    rng = np.random.default_rng(zlib.crc32(repr(case).encode()))
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C // groups, 1, 1)).astype(dtype)
    gy = rng.standard_normal(reference.conv2d(x, w, None, s, 0, 1, groups).shape).astype(dtype)
    want = reference.conv2d_backward(gy, x, w, s, 0, 1, groups)[0]
    red = K // groups
    gx = fastconv.conv2d_backward(gy, x, w, s, 0, 1, groups, weight_grad=False,
                                  bias_grad=False)[0]
    assert_close(gx, want, "conv2d_backward", dtype, reduction=red)
    ct = fastconv.conv_transpose2d(gy, w, None, s, 0, output_padding=tuple(
        (i - 1) % si for i, si in zip((H, W), (s, s) if isinstance(s, int) else s)), groups=groups)
    assert_close(ct, want, "conv2d_backward", dtype, reduction=red)
    g = conv2d_geometry(x.shape, w.shape, s, 0, 1, groups, "NCHW")
    gx2 = np.full(g.input_shape, np.nan, dtype)
    _conv_grad.grad_input(g, gy, w, None, gx2, _config.isa_level(), _config.get_num_threads())
    assert_close(gx2, want, "conv2d_backward", dtype, reduction=red)


@pytest.mark.parametrize("nthreads", [1, 3])
@pytest.mark.parametrize("H,W,SH,SW", [(8, 8, 2, 2), (9, 11, 2, 2), (7, 10, 3, 3), (5, 9, 1, 2),
                                        (4, 7, 2, 1), (1, 1, 2, 2)])
def test_expand_strided(H, W, SH, SW, nthreads, dtype):
    OH, OW = (H - 1) // SH + 1, (W - 1) // SW + 1
    d = np.arange(2 * 3 * OH * OW, dtype=dtype).reshape(2, 3, OH, OW) + 1
    gx = np.full((2, 3, H, W), np.nan, dtype)
    _conv_grad.expand_strided(d, gx, SH, SW, nthreads)
    want = np.zeros_like(gx)
    want[:, :, ::SH, ::SW] = d
    np.testing.assert_array_equal(gx, want)


def test_expand_strided_rejects_bad_shapes():
    d = np.ones((1, 2, 3, 3), np.float32)
    with pytest.raises(ValueError):
        _conv_grad.expand_strided(d, np.empty((1, 2, 4, 5), np.float32), 2, 2, 1)  # 3 rows need 5
    with pytest.raises(ValueError):
        _conv_grad.expand_strided(d, np.empty((1, 3, 6, 6), np.float32), 2, 2, 1)
    with pytest.raises(ValueError):
        _conv_grad.expand_strided(d, np.empty((1, 2, 6, 6), np.float64), 2, 2, 1)
    with pytest.raises(ValueError):
        _conv_grad.expand_strided(d, np.empty((1, 2, 6, 12), np.float32)[..., ::2], 2, 2, 1)
