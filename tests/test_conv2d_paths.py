"""The depthwise and small-channel conv2d paths against fastconv.reference.

Each path is called directly (fastconv._conv.conv2d_path, which returns False
where a path declines a geometry) for every ISA variant the CPU runs, both
dtypes and layouts, with sizes that leave edge tiles everywhere (channels not
a multiple of the vector width, odd widths, outputs narrower than a vector),
strides 1-3, dilation, asymmetric and "same" padding, bias and fused ReLU.
The public fastconv.conv2d is checked on the same shapes (whatever path it
picks) so the wiring is covered too.
"""
import zlib

import numpy as np
import pytest

import fastconv
from fastconv import _config, reference
from fastconv._shapes import conv2d_geometry
from conftest import to_layout
from tolerances import assert_close

_conv = pytest.importorskip("fastconv._conv")

# (N, C, H, W, kh, kw, stride, padding, dilation): groups = C = C_out
DEPTHWISE = [
    (1, 3, 7, 9, 3, 3, 1, 1, 1),
    (2, 17, 11, 13, 3, 3, 2, 1, 1),               # channel tail, stride 2, odd sizes
    (1, 33, 8, 37, 5, 5, 1, 2, 2),                # dilation, W past two vectors
    (2, 20, 6, 6, 3, 3, 2, ((0, 1), (2, 0)), 1),  # asymmetric padding
    (1, 16, 1, 1, 3, 3, 1, 1, 1),                 # 1x1 image: every tap but one in the padding
    (1, 5, 9, 40, 3, 3, 3, 0, 1),                 # stride 3 (element-wise phase split)
    (1, 70, 12, 12, 1, 1, 1, 0, 1),               # 1x1 kernel, 64 + 6 channels
    (2, 7, 10, 19, 4, 4, 2, "same", 1),           # even kernel, "same"
    (1, 9, 13, 11, 3, 5, (1, 2), "same_lower", (2, 1)),  # rectangular everything
    (1, 130, 5, 7, 3, 3, 1, 1, 1),                # 2 x 64 + 2 channels, narrow rows
    (1, 8, 3, 70, 3, 3, 2, 1, 1),                 # wide rows: full vector tiles along W
    (2, 5, 28, 28, 3, 3, 1, 1, 1),                # NCHW flat plane, 49 full vectors
    (1, 4, 6, 5, 5, 5, 1, 4, 2),                  # flat, dilated, taps wholly in the padding
    (1, 3, 5, 6, 3, 3, 1, ((2, 1), (1, 1)), 1),   # flat with OH != H
    (1, 2, 9, 75, 3, 3, 2, 1, 1),                 # stride 2, interior and edge vectors
    (1, 1, 20, 21, 3, 3, 1, 1, 1),                # one plane: NCHW splits it into row runs
    # NCHW 3x3/1 row groups (4, 2, 1 rows sharing input rows), 2-vector tiles and tails
    (1, 3, 11, 70, 3, 3, 1, 1, 1),                # 5 vectors a row (AVX-512): 2 + 2 + a masked 1
    (2, 2, 9, 40, 3, 3, 1, 2, 1),                 # padding 2: wholly padded input rows, 42 wide
    (1, 3, 6, 33, 3, 3, 1, ((0, 1), (1, 0)), 1),  # asymmetric padding, 31 wide
    (1, 3, 13, 66, 3, 3, 2, ((0, 1), (1, 0)), 1),  # stride 2: 7 rows (4 + 2 + 1), 33 wide
    # NHWC compile-time tap paths: interior tiles of 8, 4 and 1 pixels, 1- and 2-vector tails
    (1, 40, 6, 29, 3, 3, 1, 1, 1),                # 3x3/1: 27 interior = 3x8 + 3
    (2, 24, 7, 45, 3, 3, 2, 1, 1),                # 3x3/2: 22 interior = 2x8 + 4 + 2
    (1, 19, 9, 30, 5, 5, 1, 2, 1),                # 5x5/1
    (1, 33, 5, 20, 3, 3, 1, 0, 1),                # 3x3/1 unpadded: every pixel interior
    (1, 48, 5, 21, 5, 5, 2, 2, 1),                # 5x5/2 (run-time taps)
    (1, 20, 9, 14, 3, 3, 1, 1, 1),                # 3x3/1 row pairs: 12 interior = 8 + 4, masked tail
    (2, 36, 8, 23, 3, 3, 1, ((0, 2), (1, 1)), 1),  # row pairs, asymmetric padding, 21 = 2x8 + 4 + 1
    (1, 200, 6, 5, 3, 3, 1, 1, 1),                # NHWC channel chunks of whole 32-lane tiles
]

# (N, C, H, W, K, kh, kw, stride, padding, dilation): groups = 1
SMALLC = [
    (2, 1, 28, 28, 6, 5, 5, 1, 2, 1),             # LeNet conv1
    (2, 6, 14, 14, 16, 5, 5, 1, 0, 1),            # LeNet conv2
    (1, 3, 20, 23, 64, 3, 3, 1, 1, 1),            # RGB stem, 3x3
    (1, 3, 30, 29, 13, 7, 7, 2, 3, 1),            # RGB stem, 7x7/2, odd K
    (2, 2, 9, 40, 5, 3, 3, 3, 0, 2),              # stride 3, dilation 2
    (1, 4, 8, 8, 9, 3, 3, 2, ((1, 0), (0, 2)), 1),  # asymmetric padding
    (1, 3, 6, 35, 17, 2, 4, (1, 2), "same", 1),   # even kernel, "same", K = 2*8 + 1
    (1, 1, 1, 1, 3, 3, 3, 1, 1, 1),               # 1x1 image
    (2, 3, 11, 13, 70, 3, 3, 1, 1, 1),            # K = 64 + 6: a full and a 1-vector block
    (1, 2, 9, 10, 40, 5, 5, 2, 2, 1),             # K = 40: 3 vectors (avx512), tails
    (1, 4, 7, 12, 20, 3, 3, 1, ((0, 2), (1, 1)), 2),  # K = 20, dilation, asymmetric
    (3, 1, 5, 3, 16, 3, 3, 1, 1, 1),              # output narrower than a pixel tile
    (1, 3, 3, 350, 8, 3, 3, 1, 1, 1),             # NCHW rows of 1050 values: no index gather
]


def _data(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _run_path(path, x, w, b, stride, padding, dilation, groups, layout, relu):
    g = conv2d_geometry(x.shape, w.shape, stride, padding, dilation, groups, layout)
    y = np.full(g.output_shape, np.nan, x.dtype)   # every output must be written
    took = _conv.conv2d_path(path, g, x, w, b, y, relu, _config.isa_level(),
                             _config.get_num_threads())
    assert took, f"the {path} path declined {g}"
    return y


def _check(path, rng, dtype, layout, N, C, H, W, K, kh, kw, stride, padding, dilation, groups,
           relu, bias=True):
    x = to_layout(_data(rng, (N, C, H, W), dtype), layout)
    w = _data(rng, (K, C // groups, kh, kw), dtype)
    b = _data(rng, (K,), dtype) if bias else None
    act = "relu" if relu else None
    expected = reference.conv2d(x, w, b, stride, padding, dilation, groups, layout=layout,
                                activation=act)
    y = _run_path(path, x, w, b, stride, padding, dilation, groups, layout, relu)
    red = (C // groups) * kh * kw
    assert_close(y, expected, "conv2d", reduction=red)
    public = fastconv.conv2d(x, w, b, stride, padding, dilation, groups, layout=layout,
                             activation=act)
    assert_close(public, expected, "conv2d", reduction=red)


@pytest.mark.parametrize("case", DEPTHWISE, ids=[str(c[:7]) for c in DEPTHWISE])
def test_depthwise(isa, dtype, layout, case):
    N, C, H, W, kh, kw, stride, padding, dilation = case
    rng = np.random.default_rng(zlib.crc32(repr(case).encode()))
    for relu, bias in ((False, True), (True, True), (False, False)):
        _check("depthwise", rng, dtype, layout, N, C, H, W, C, kh, kw, stride, padding,
               dilation, C, relu, bias)


@pytest.mark.parametrize("path", ["smallc", "smallc_wvec", "smallc_kvec"])
@pytest.mark.parametrize("case", SMALLC, ids=[str(c[:8]) for c in SMALLC])
def test_smallc(isa, dtype, layout, case, path):
    """Both families of the smallc path (along W, over K) and its own choice."""
    N, C, H, W, K, kh, kw, stride, padding, dilation = case
    rng = np.random.default_rng(zlib.crc32(repr(case).encode()))
    for relu, bias in ((False, True), (True, False)):
        _check(path, rng, dtype, layout, N, C, H, W, K, kh, kw, stride, padding, dilation,
               1, relu, bias)


@pytest.mark.parametrize("path,K,groups", [("depthwise", 6, 6), ("smallc", 5, 1)])
def test_unbatched_and_empty_batch(isa, layout, path, K, groups):
    rng = np.random.default_rng(7)
    x = to_layout(_data(rng, (1, 6, 9, 10), np.float32), layout)
    w = _data(rng, (K, 6 // groups, 3, 3), np.float32)
    b = _data(rng, (K,), np.float32)
    # batch of 0: the path accepts it and writes nothing
    empty = x[:0]
    g = conv2d_geometry(empty.shape, w.shape, 1, 1, 1, groups, layout)
    y = np.empty(g.output_shape, np.float32)
    assert _conv.conv2d_path(path, g, empty, w, b, y, False, _config.isa_level(), 2)
    assert fastconv.conv2d(empty, w, b, padding=1, groups=groups, layout=layout).shape == \
        g.output_shape
    # unbatched input through the public function
    expected = reference.conv2d(x[0], w, b, 1, 1, 1, groups, layout=layout)
    assert_close(fastconv.conv2d(x[0], w, b, padding=1, groups=groups, layout=layout),
                 expected, "conv2d", reduction=9 * 6 // groups)


@pytest.mark.parametrize("nthreads", [2, 3, 5])
def test_thread_counts_agree(isa, layout, nthreads):
    """Work splits (rows, channel blocks, row runs) do not change the result."""
    rng = np.random.default_rng(11)
    # igemm 256 -> 130 3x3 (N=2): weight-heavy items taken by their own thread or
    # stolen (3 threads on this box's 2 cores), every thread count the same bits
    for path, C, K, groups, N in (("depthwise", 200, 200, 200, 1), ("smallc_wvec", 3, 10, 1, 1),
                                  ("smallc_kvec", 3, 70, 1, 1), ("igemm", 256, 130, 1, 2)):
        x = to_layout(_data(rng, (N, C, 5, 9), np.float32), layout)
        w = _data(rng, (K, C // groups, 3, 3), np.float32)
        g = conv2d_geometry(x.shape, w.shape, 1, 1, 1, groups, layout)
        ys = []
        for nt in (1, nthreads):
            y = np.empty(g.output_shape, np.float32)
            assert _conv.conv2d_path(path, g, x, w, None, y, False, _config.isa_level(), nt)
            ys.append(y)
        np.testing.assert_array_equal(ys[0], ys[1])


def test_relu_keeps_nan(isa, layout):
    x = np.zeros((1, 4, 3, 3), np.float32)
    x[0, 1, 1, 1] = np.nan
    x = to_layout(x, layout)
    w = np.ones((4, 1, 1, 1), np.float32)
    y = _run_path("depthwise", x, w, -np.ones(4, np.float32), 1, 0, 1, 4, layout, True)
    y = y if layout == "NCHW" else y.transpose(0, 3, 1, 2)
    assert np.isnan(y[0, 1, 1, 1]) and np.count_nonzero(np.isnan(y)) == 1
    assert np.all(y[~np.isnan(y)] == 0)


def test_paths_decline_what_they_do_not_take():
    x = np.ones((1, 4, 5, 5), np.float32)
    w = np.ones((8, 2, 3, 3), np.float32)           # groups=2: neither path
    g = conv2d_geometry(x.shape, w.shape, 1, 0, 1, 2, "NCHW")
    assert not _conv.depthwise_applicable(g) and not _conv.smallc_applicable(g)


def test_applicability_rules():
    def geom(C, K, k, groups, H=28):
        return conv2d_geometry((1, C, H, H), (K, C // groups, k, k), 1, 0, 1, groups, "NCHW")
    assert _conv.depthwise_applicable(geom(32, 32, 3, 32))
    assert not _conv.depthwise_applicable(geom(32, 64, 3, 32))      # depth multiplier 2
    assert _conv.smallc_applicable(geom(1, 6, 5, 1))                 # LeNet conv1
    assert _conv.smallc_applicable(geom(3, 64, 7, 1))                # RGB stem
    assert not _conv.smallc_applicable(geom(64, 64, 3, 1))           # a GEMM-sized layer


def test_paths_check_their_arrays():
    """The Cython layer's own checks (it reads dtype and contiguity at C level)."""
    x = np.ones((1, 4, 5, 5), np.float32)
    w = np.ones((8, 4, 3, 3), np.float32)
    g = conv2d_geometry(x.shape, w.shape, 1, 1, 1, 1, "NCHW")
    y = np.empty((1, 8, 5, 5), np.float32)
    isa = _config.isa_level()
    with pytest.raises(TypeError, match="input"):       # same type number, swapped bytes
        _conv.conv2d_path("igemm", g, x.astype(">f4"), w, None, y, False, isa, 1)
    with pytest.raises(TypeError, match="weight"):
        _conv.conv2d_path("igemm", g, x, w.astype(np.float64), None, y, False, isa, 1)
    with pytest.raises(TypeError, match="output"):
        _conv.conv2d_path("igemm", g, x, w, None, np.empty((1, 8, 5, 10), np.float32)[..., ::2],
                          False, isa, 1)
    with pytest.raises(ValueError, match="output"):
        _conv.conv2d_path("igemm", g, x, w, None, y[:, :4], False, isa, 1)
    with pytest.raises(TypeError, match="int32"):
        _conv.conv2d_path("igemm", g, x.astype(np.int32), w, None, y, False, isa, 1)


def test_geometry_struct_is_kept_per_geometry():
    """The C struct cached on a geometry is that geometry's (two look-alike
    geometries of different layouts must not share it)."""
    x = np.random.default_rng(1).standard_normal((1, 3, 6, 5)).astype(np.float32)
    w = np.random.default_rng(2).standard_normal((4, 3, 3, 3)).astype(np.float32)
    want = reference.conv2d(x, w, padding=1)
    for _ in range(2):   # the second pass reads the cached structs
        assert_close(fastconv.conv2d(x, w, padding=1), want, "conv2d", reduction=27)
        y = fastconv.conv2d(to_layout(x, "NHWC"), w, padding=1, layout="NHWC")
        assert_close(y.transpose(0, 3, 1, 2), want, "conv2d", reduction=27)
