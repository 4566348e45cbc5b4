"""The Winograd F(4x4, 3x3) and F(2x2, 3x3) conv2d paths against fastconv.reference.

Each path ("winograd", "winograd2") is called directly (fastconv._conv.conv2d_path) for every ISA
variant the CPU runs (its transform kernels and the gemm kernels it drives),
both dtypes and layouts, on sizes that leave edge tiles everywhere: outputs
not a multiple of 4 (and smaller than one tile), channels not a multiple of
the vector width, output channels past one and two GEMM column panels,
asymmetric and "same" padding, dilation (the stride-phase split), bias and
fused ReLU. Also: the result does not depend on the thread count (the items
are cut by it), non-finite values make the path decline so the direct path's
IEEE semantics hold, and the auto plan takes the path where it pays.
"""
import zlib

import numpy as np
import pytest

import fastconv
from fastconv import _config, conv, reference
from fastconv._shapes import conv2d_geometry, winograd_tiles
from conftest import to_layout
from tolerances import assert_close

_conv = pytest.importorskip("fastconv._conv")

# (N, C, H, W, K, padding, dilation)
CASES = [
    (1, 5, 9, 11, 7, 1, 1),                      # few channels, 9x11: edge tiles both ways
    (2, 16, 13, 6, 70, 1, 1),                    # K = 64 + 6: a full and a 6-column panel
    (1, 33, 8, 8, 64, ((0, 2), (1, 0)), 1),      # asymmetric padding, C past two vectors
    (1, 20, 17, 19, 17, 2, 2),                   # dilation 2: 2x2 phases of unequal sizes
    (1, 8, 28, 28, 9, 4, 4),                     # dilation 4: 16 phases of 7x7
    (2, 3, 4, 5, 3, 0, 1),                       # "valid": a 2x3 output, one partial tile
    (1, 24, 10, 30, 20, "same", (3, 1)),         # rectangular dilation, "same"
    (1, 17, 1, 1, 5, 1, 1),                      # 1x1 image: 8 of 9 taps in the padding
    (1, 130, 14, 14, 150, 1, 1),                 # K = 2 x 64 + 22, C = 8 x 16 + 2
    (3, 40, 22, 9, 33, 1, 1),                    # batch of 3, a narrow image
    (1, 12, 6, 41, 16, ((2, 1), (2, 2)), 1),     # padding as wide as the kernel's reach
]


def _data(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _run(x, w, b, padding, dilation, layout, relu=False, nthreads=None, path="winograd"):
    wshape = (w.shape[1], w.shape[0], 3, 3) if path.endswith("_wflip") else w.shape
    g = conv2d_geometry(x.shape, wshape, 1, padding, dilation, 1, layout)
    y = np.full(g.output_shape, np.nan, x.dtype)   # every output must be written
    took = _conv.conv2d_path(path, g, x, w, b, y, relu, _config.isa_level(),
                             nthreads or _config.get_num_threads())
    return took, y


PATHS = ["winograd", "winograd2"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_winograd_matches_reference(isa, dtype, layout, case, path):
    N, C, H, W, K, padding, dilation = case
    rng = np.random.default_rng(zlib.crc32(repr(case).encode()))
    x = to_layout(_data(rng, (N, C, H, W), dtype), layout)
    w = _data(rng, (K, C, 3, 3), dtype)
    for relu, bias in ((False, True), (True, True), (False, False)):
        b = _data(rng, (K,), dtype) if bias else None
        act = "relu" if relu else None
        expected = reference.conv2d(x, w, b, 1, padding, dilation, 1, layout=layout,
                                    activation=act)
        took, y = _run(x, w, b, padding, dilation, layout, relu, path=path)
        assert took, f"the {path} path declined"
        assert_close(y, expected, "conv2d", reduction=C * 9)
        public = fastconv.conv2d(x, w, b, 1, padding, dilation, layout=layout, activation=act,
                                 algorithm="winograd")
        g = conv2d_geometry(x.shape, w.shape, 1, padding, dilation, 1, layout)
        if conv._plan(g, _conv, "winograd")[0] == path:
            np.testing.assert_array_equal(public, y)
        else:
            assert_close(public, expected, "conv2d", reduction=C * 9)


@pytest.mark.parametrize("path,bound", [("winograd", 2e-5), ("winograd2", 2e-6)])
def test_winograd_error_is_small_against_float64(layout, path, bound):
    """The float32 error, measured against the float64 reference on a ResNet-size
    reduction: a few 1e-6 (F(4x4)) or 1e-7 (F(2x2)) of the output's scale (the
    tolerance allows 2.4e-4)."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (1, 256, 12, 12))
    w = rng.uniform(-1, 1, (32, 256, 3, 3))
    expected = reference.conv2d(x, w, padding=1)
    took, y = _run(to_layout(x.astype(np.float32), layout), w.astype(np.float32), None, 1, 1,
                   layout, path=path)
    assert took
    y = y if layout == "NCHW" else y.transpose(0, 3, 1, 2)
    assert np.max(np.abs(y - expected)) / np.max(np.abs(expected)) < bound


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("nthreads", [2, 3, 7])
def test_thread_counts_agree(isa, layout, nthreads, path):
    """Items cut by the thread count (bands of tile rows across images and
    phases, output-channel chunks) give the same bits: each value is made by
    one item in a fixed order."""
    rng = np.random.default_rng(11)
    for N, C, H, K, dil in ((1, 40, 30, 200, 1), (2, 70, 13, 64, 1), (1, 24, 20, 150, 2),
                            (5, 20, 6, 30, 1), (3, 16, 9, 20, 3)):
        x = to_layout(_data(rng, (N, C, H, H + 3), np.float32), layout)
        w = _data(rng, (K, C, 3, 3), np.float32)
        b = _data(rng, (K,), np.float32)
        ys = []
        for nt in (1, nthreads):
            took, y = _run(x, w, b, dil, dil, layout, nthreads=nt, path=path)
            assert took
            ys.append(y)
        np.testing.assert_array_equal(ys[0], ys[1])


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("where", ["x_inf", "x_nan", "w_inf", "w_nan", "overflow"])
def test_non_finite_values_take_the_direct_path(isa, layout, where, path):
    """A transform spreads a value over its whole tile (inf - inf = NaN in pixels
    whose windows never saw the inf), so the path declines and the direct path
    answers; so does an overflow inside the transforms on finite data."""
    rng = np.random.default_rng(3)
    x = _data(rng, (1, 16, 10, 10), np.float32)
    w = _data(rng, (20, 16, 3, 3), np.float32)
    if where == "x_inf":
        x[0, 3, 4, 4] = np.inf
    elif where == "x_nan":
        x[0, 5, 0, 9] = np.nan
    elif where == "w_inf":
        w[7, 2, 1, 1] = -np.inf
    elif where == "w_nan":
        w[19, 15, 2, 0] = np.nan
    else:
        # 1e38 inputs and 1e-3 weights: the conv is finite (< 5e37), the
        # transforms are not (up to 100x the input, 4x in F(2x2))
        x[:] = 1e38
        x[0, ::2, 1::3, ::2] = -1e38
        w *= 1e-3
    x = to_layout(x, layout)
    took, _ = _run(x, w, None, 1, 1, layout, path=path)
    assert not took
    direct = fastconv.conv2d(x, w, padding=1, layout=layout, algorithm="igemm")
    public = fastconv.conv2d(x, w, padding=1, layout=layout, algorithm="winograd")
    np.testing.assert_array_equal(public, direct)
    if where == "overflow":
        assert np.all(np.isfinite(public))
    if where == "x_inf":   # the inf reaches only the outputs whose windows hold it
        y = public if layout == "NCHW" else public.transpose(0, 3, 1, 2)
        assert np.all(np.isfinite(y[:, :, :3])) and np.all(np.isfinite(y[:, :, 6:]))


def test_auto_plan_takes_winograd_where_it_pays():
    def geom(N, C, H, dil=1):
        return conv2d_geometry((N, C, H, H), (C, C, 3, 3), 1, dil, dil, 1, "NCHW")
    for g, tile in ((geom(1, 64, 56), 4), (geom(1, 512, 28), 4), (geom(8, 256, 14), 4),
                    (geom(1, 256, 28, 2), 4), (geom(1, 256, 28, 4), 4), (geom(1, 64, 224), 4),
                    (geom(8, 512, 7), 4), (geom(1, 256, 14), 2), (geom(1, 512, 14), 2),
                    (geom(4, 256, 7), 2)):
        assert conv._winograd_tile(g) == tile, g
        assert conv._plan(g, _conv, "auto")[0] == ("winograd" if tile == 4 else "winograd2")
        assert conv._plan(g, _conv, "winograd") == conv._plan(g, _conv, "auto")
    # too few tiles (the transformed weights cost more than the saved work),
    # too few channels (smallc's), or not a 3x3 stride-1 single-group conv
    for g in (geom(1, 512, 7), geom(2, 512, 7), geom(1, 3, 224),
              conv2d_geometry((1, 64, 56, 56), (64, 64, 3, 3), 2, 1, 1, 1, "NCHW"),
              conv2d_geometry((1, 64, 56, 56), (64, 32, 3, 3), 1, 1, 1, 2, "NCHW"),
              conv2d_geometry((1, 64, 56, 56), (64, 64, 5, 5), 1, 2, 1, 1, "NCHW")):
        assert conv._winograd_tile(g) is None, g
    assert conv._plan(geom(1, 512, 7), _conv, "winograd") == ("winograd", "igemm")


def test_winograd_tiles():
    g = conv2d_geometry((2, 8, 9, 11), (8, 8, 3, 3), 1, 1, 1, 1, "NCHW")
    assert winograd_tiles(g) == 2 * 3 * 3
    assert winograd_tiles(g, 2) == 2 * 5 * 6
    # dilation 2 on a 9x11 output: row phases of 5 and 4 rows (2 and 1 tile
    # rows), column phases of 6 and 5 columns (2 tiles each)
    g = conv2d_geometry((1, 8, 9, 11), (8, 8, 3, 3), 1, 2, 2, 1, "NCHW")
    assert winograd_tiles(g) == 3 * 4


def test_winograd_declines_or_refuses_other_geometries():
    x = np.ones((1, 4, 8, 8), np.float32)
    for w, kwargs in ((np.ones((4, 4, 3, 3), np.float32), {"stride": 2}),
                      (np.ones((4, 2, 3, 3), np.float32), {"groups": 2}),
                      (np.ones((4, 4, 5, 5), np.float32), {"padding": 2})):
        with pytest.raises(ValueError, match="winograd"):
            fastconv.conv2d(x, w, algorithm="winograd", **kwargs)
        g = conv2d_geometry(x.shape, w.shape, kwargs.get("stride", 1), kwargs.get("padding", 0),
                            1, kwargs.get("groups", 1), "NCHW")
        assert not _conv.winograd_applicable(g)
        y = np.empty(g.output_shape, np.float32)
        assert not _conv.conv2d_path("winograd", g, x, w, None, y, False, 0, 1)
    # windows wholly in the padding (padding 3 > the kernel's reach 2): declined,
    # the direct path answers (bias only there)
    w = np.ones((4, 4, 3, 3), np.float32)
    b = np.arange(4, dtype=np.float32)
    y = fastconv.conv2d(x, w, b, padding=3, algorithm="winograd")
    np.testing.assert_array_equal(y, fastconv.conv2d(x, w, b, padding=3, algorithm="igemm"))


def test_unbatched_and_empty_batch(layout):
    rng = np.random.default_rng(9)
    x = to_layout(_data(rng, (1, 16, 9, 10), np.float32), layout)
    w = _data(rng, (24, 16, 3, 3), np.float32)
    g = conv2d_geometry(x[:0].shape, w.shape, 1, 1, 1, 1, layout)
    y = np.empty(g.output_shape, np.float32)
    assert _conv.conv2d_path("winograd", g, x[:0], w, None, y, False, _config.isa_level(), 2)
    expected = reference.conv2d(x[0], w, None, 1, 1, layout=layout)
    assert_close(fastconv.conv2d(x[0], w, padding=1, layout=layout, algorithm="winograd"),
                 expected, "conv2d", reduction=16 * 9)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", CASES[:6] + CASES[8:9], ids=[str(c) for c in CASES[:6] + CASES[8:9]])
def test_winograd_wflip_transforms_the_flipped_weight(isa, dtype, layout, case, path):
    """winograd_wflip is given the weight (C, K, 3, 3) of the conv whose input
    gradient it computes and convolves with its flipped, transposed filter."""
    N, C, H, W, K, padding, dilation = case
    rng = np.random.default_rng(zlib.crc32(repr(case).encode()) + 1)
    x = to_layout(_data(rng, (N, C, H, W), dtype), layout)
    w = _data(rng, (C, K, 3, 3), dtype)
    b = _data(rng, (K,), dtype)
    wf = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    expected = reference.conv2d(x, wf, b, 1, padding, dilation, 1, layout=layout)
    took, y = _run(x, w, b, padding, dilation, layout, path=path + "_wflip")
    assert took
    assert_close(y, expected, "conv2d", reduction=C * 9)
    # and it gives the same bits as the forward path on the flipped copy
    np.testing.assert_array_equal(y, _run(x, wf, b, padding, dilation, layout, path=path)[1])


@pytest.mark.parametrize("H,path", [(30, "winograd"), (14, "winograd2")])
@pytest.mark.parametrize("where", ["finite", "gy_inf", "w_nan"])
def test_grad_input_takes_winograd_where_the_forward_would(layout, where, H, path):
    """The stride-1 3x3 grad input is the flipped forward conv of grad_output:
    winograd(2)_wflip where the forward plan is Winograd, igemm_wflip after it
    declines non-finite values."""
    from fastconv import conv_grad
    rng = np.random.default_rng(13)
    N, C, K = 1, 48, 40
    x = to_layout(_data(rng, (N, C, H, H), np.float32), layout)
    w = _data(rng, (K, C, 3, 3), np.float32)
    gy = to_layout(_data(rng, (N, K, H, H), np.float32), layout)
    if where == "gy_inf":
        gy.reshape(-1)[777] = np.inf
    elif where == "w_nan":
        w[3, 5, 0, 2] = np.nan
    g = conv2d_geometry(x.shape, w.shape, 1, 1, 1, 1, layout)
    fg = conv_grad._flipped_geometry(g)
    assert conv._plan(fg, _conv, "auto") == (path, "igemm")
    gx = fastconv.conv2d_backward(gy, x, w, padding=1, layout=layout, weight_grad=False,
                                  bias_grad=False)[0]
    if where == "finite":
        want = reference.conv2d_backward(gy, x, w, 1, 1, layout=layout)[0]
        assert_close(gx, want, "conv2d_backward", reduction=K * 9)
    y = np.empty(fg.output_shape, np.float32)
    assert _conv.conv2d_path("igemm_wflip", fg, gy, w, None, y, False, _config.isa_level(),
                             _config.get_num_threads())
    if where != "finite":   # the direct path's values, non-finite ones in place
        np.testing.assert_array_equal(gx, y)
    else:
        assert_close(gx, y, "conv2d_backward", reduction=K * 9)


def test_winograd_declines_rows_too_wide_for_its_buffers():
    """One tile row's coefficients past 32 MiB (a 30000-pixel-wide image): the
    path declines and conv2d(algorithm="winograd") answers with the direct path."""
    rng = np.random.default_rng(21)
    x = _data(rng, (1, 16, 3, 30000), np.float32)
    w = _data(rng, (16, 16, 3, 3), np.float32)
    assert not _run(x, w, None, 1, 1, "NCHW")[0]
    np.testing.assert_array_equal(fastconv.conv2d(x, w, padding=1, algorithm="winograd"),
                                  fastconv.conv2d(x, w, padding=1, algorithm="igemm"))
