"""conv2d forward, general (igemm) path, against fastconv.reference.

Every ISA variant the CPU runs (``isa`` fixture), both dtypes and layouts,
batched and unbatched, with sizes that leave edge tiles everywhere (output
pixels not a multiple of MR, output channels not a multiple of NR), channel
counts that split into several channel blocks (FC_FLAG_ACCUMULATE) and output
channel groups, every padding form, stride, dilation and groups. Then: each
registered igemm kernel against the scalar one on awkward tiles, 1 vs 2
threads bitwise, untouched / odd-strided inputs, and argument errors.
"""
import numpy as np
import pytest

import fastconv
from fastconv import reference
from conftest import to_layout
from tolerances import assert_close

_conv = pytest.importorskip("fastconv._conv")
_cpu = pytest.importorskip("fastconv._cpu")

# (N, C, H, W, K, kh, kw, stride, padding, dilation, groups)
CASES = [
    (2, 5, 7, 9, 70, 3, 3, 1, 1, 1, 1),              # K = 64 + 6: NR tail
    (1, 8, 13, 11, 17, 3, 2, 2, ((1, 0), (2, 1)), 1, 1),  # asymmetric, stride 2
    (3, 6, 5, 5, 9, 5, 5, 1, 3, 1, 3),               # groups, padding > kernel/2
    (1, 300, 6, 7, 130, 3, 3, 1, 1, 2, 1),           # channel blocks + K groups, dilation
    (2, 4, 6, 6, 4, 3, 3, 1, 1, 1, 4),               # depthwise through igemm
    (1, 64, 9, 9, 64, 1, 1, 2, 0, 1, 1),             # 1x1 stride 2
    (1, 32, 8, 8, 48, 1, 1, 1, 0, 1, 1),             # 1x1: a plain GEMM
    (2, 3, 2, 3, 5, 5, 5, 1, 2, 1, 1),               # kernel larger than the input
    (1, 7, 10, 13, 11, 4, 4, 2, "same", 1, 1),       # even kernel, "same"
    (1, 9, 11, 10, 13, 3, 5, (1, 2), "same_lower", (2, 1), 1),
    (2, 12, 9, 8, 20, 3, 3, 3, "valid", 1, 2),       # stride 3, valid, 2 groups
    (1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1),               # 1 pixel, 1 channel
    (1, 16, 1, 1, 8, 3, 3, 1, 1, 1, 1),              # 1x1 image, all but one tap padded
    (2, 20, 6, 17, 33, 2, 3, (2, 1), ((0, 2), (1, 0)), (1, 2), 1),
    (1, 8, 4, 50, 8, 1, 3, 1, (0, 1), 1, 1),         # wide rows
    # NHWC bands run over the batch: tiles and bands straddle images
    (5, 40, 3, 5, 70, 3, 3, 1, 1, 1, 2),             # 15 pixels an image, groups, K tail
    (4, 300, 5, 5, 70, 3, 3, 1, 1, 1, 1),            # 25 pixels an image, channel blocks
    # NCHW 1x1 with pixel counts near a multiple of NR: the pixel-major GEMM path
    (2, 6, 21, 21, 14, 1, 1, 1, 1, 1, 2),            # padded 1x1, groups, K tail
    (1, 16, 32, 33, 70, 1, 1, 2, ((1, 0), (0, 2)), 1, 1),  # stride 2, asymmetric
    (1, 20, 16, 16, 13, 1, 1, 1, 0, 1, 1),           # 256 pixels, 13 = 2*6 + 1 channels
    # weight-heavy, few pixels (both layouts): the pixel-major path, weights unpacked
    (1, 24, 5, 6, 140, 3, 3, 1, 1, 1, 2),            # groups, K tail, 30 pixels
    (1, 70, 4, 4, 64, 2, 3, (1, 2), ((1, 0), (2, 1)), (2, 1), 1),  # strided, dilated
    (1, 70, 10, 12, 64, 3, 3, 1, 1, 1, 1),           # NCHW: 120 pixels, still pixel-major
    (1, 203, 5, 5, 70, 1, 1, 1, 0, 1, 1),            # 1x1, 25 pixels: panels built in 4 channel chunks
    (1, 300, 10, 13, 400, 3, 3, 1, 1, 1, 1),         # NCHW: 130 pixels in 192, 4 MiB weights: general
    # weight-heavy general path (a 64-channel block's panels > 512 KiB): long bands, K split first
    (3, 240, 9, 10, 100, 3, 3, 2, 1, 1, 1),          # stride 2, K tail, NCHW images
    # 1x1 stride 1 unpadded: the in-place GEMM path (gemm kernels), both layouts
    (2, 144, 7, 9, 24, 1, 1, 1, 0, 1, 1),            # 24 channels: a narrow tile
    (1, 32, 5, 7, 16, 1, 1, 1, 0, 1, 1),             # 16 channels, 35 pixels: row tails
    (2, 1100, 3, 5, 70, 1, 1, 1, 0, 1, 1),           # channel blocks (accumulate)
    (2, 12, 6, 5, 18, 1, 1, 1, 0, 1, 3),             # groups
    (2, 512, 12, 13, 40, 1, 1, 1, 0, 1, 1),          # NCHW: weight rows 2 KiB apart, copied padded
    # taps wholly in the padding for a tile are skipped (runs of taps, later ones accumulate)
    (1, 300, 9, 10, 70, 3, 3, 1, 3, 3, 1),           # dilation 3: border rows, channel blocks
    (2, 20, 5, 17, 24, 3, 3, 1, 2, 1, 1),            # padding 2: two tap rows padded at the edges
    (1, 12, 6, 40, 16, 5, 5, 1, 2, 1, 1),            # 5x5: non-contiguous runs in wide rows
]


def _case_arrays(case, dtype, seed):
    N, C, H, W, K, kh, kw, _, _, _, groups = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C // groups, kh, kw)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    return x, w, b


@pytest.mark.parametrize("ci", range(len(CASES)))
def test_conv2d_matches_reference(ci, isa, dtype, layout):
    case = CASES[ci]
    N, C, H, W, K, kh, kw, stride, padding, dilation, groups = case
    x, w, b = _case_arrays(case, dtype, ci)
    xl = to_layout(x, layout)
    bias = b if ci % 2 == 0 else None
    act = "relu" if ci % 3 != 1 else None
    kw_args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                   layout=layout, activation=act)
    want = reference.conv2d(xl, w, bias, **kw_args)
    got = fastconv.conv2d(xl, w, bias, algorithm="igemm", **kw_args)
    assert_close(got, want, "conv2d", reduction=C // groups * kh * kw)
    # unbatched input gives the first image's output, 3-D
    got3 = fastconv.conv2d(xl[0], w, bias, algorithm="igemm", **kw_args)
    assert got3.shape == want.shape[1:]
    assert_close(got3, want[0], "conv2d", reduction=C // groups * kh * kw)


@pytest.mark.parametrize("ci", [0, 3, 4, 7])
def test_conv2d_auto_matches_reference(ci, dtype, layout):
    case = CASES[ci]
    _, C, _, _, _, kh, kw, stride, padding, dilation, groups = case
    x, w, b = _case_arrays(case, dtype, ci)
    xl = to_layout(x, layout)
    kw_args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                   layout=layout, activation="relu")
    assert_close(fastconv.conv2d(xl, w, b, **kw_args), reference.conv2d(xl, w, b, **kw_args),
                 "conv2d", reduction=C // groups * kh * kw)


def test_conv2d_large_reduction_blocks(isa, layout):
    # 3x3 over 600 channels: several channel blocks, several output-channel groups
    rng = np.random.default_rng(7)
    x = to_layout(rng.standard_normal((1, 600, 5, 6)).astype(np.float32), layout)
    w = rng.standard_normal((200, 600, 3, 3)).astype(np.float32)
    b = rng.standard_normal(200).astype(np.float32)
    kw_args = dict(padding=1, layout=layout, activation="relu")
    assert_close(fastconv.conv2d(x, w, b, algorithm="igemm", **kw_args),
                 reference.conv2d(x, w, b, **kw_args), "conv2d", reduction=600 * 9)


def test_conv2d_1x1_nchw_many_channel_blocks(isa):
    # more input channels than one pixel panel holds: channel blocks accumulate
    rng = np.random.default_rng(8)
    x = rng.standard_normal((1, 4100, 8, 8)).astype(np.float32)
    w = rng.standard_normal((7, 4100, 1, 1)).astype(np.float32)
    b = rng.standard_normal(7).astype(np.float32)
    assert_close(fastconv.conv2d(x, w, b, activation="relu", algorithm="igemm"),
                 reference.conv2d(x, w, b, activation="relu"), "conv2d", reduction=4100)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_1x1_nchw_l1_channel_blocks(isa, dtype):
    # many pixel tiles (23x23): the 1x1 GEMM takes 128-row b tiles, here 3
    # blocks of 100 channels accumulating, a short last pixel tile and a
    # short last output-channel tile
    rng = np.random.default_rng(18)
    x = rng.standard_normal((2, 300, 23, 23)).astype(dtype)
    w = rng.standard_normal((13, 300, 1, 1)).astype(dtype)
    b = rng.standard_normal(13).astype(dtype)
    assert_close(fastconv.conv2d(x, w, b, activation="relu"),
                 reference.conv2d(x, w, b, activation="relu"), "conv2d", dtype=dtype,
                 reduction=300)


@pytest.mark.parametrize("N,C,K,H,W,stride,groups", [
    (2, 24, 13, 33, 35, 2, 1),          # odd sizes: the last row/column unread
    (1, 40, 16, 40, 70, (3, 2), 2),     # unequal strides, groups
    (3, 512, 8, 64, 64, 2, 1),          # 2 (4) MiB per image: chunks of 2 (1) images
])
def test_conv2d_1x1_strided_nchw(isa, dtype, N, C, K, H, W, stride, groups):
    # the 1x1 GEMM reads strided NCHW input through unit-stride copies
    rng = np.random.default_rng(19)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C // groups, 1, 1)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    kw_args = dict(stride=stride, groups=groups, activation="relu")
    assert_close(fastconv.conv2d(x, w, b, **kw_args), reference.conv2d(x, w, b, **kw_args),
                 "conv2d", dtype=dtype, reduction=C // groups)


@pytest.mark.parametrize("groups", [1, 4])
def test_padding_wider_than_the_kernel(groups, layout, dtype):
    # whole output rows/columns come from the padding only (PyTorch allows it)
    rng = np.random.default_rng(9)
    x = to_layout(rng.standard_normal((2, 4, 3, 2)).astype(dtype), layout)
    w = rng.standard_normal((4, 4 // groups, 1, 2)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    kw_args = dict(padding=((3, 1), (0, 4)), groups=groups, layout=layout)
    assert_close(fastconv.conv2d(x, w, b, **kw_args), reference.conv2d(x, w, b, **kw_args),
                 "conv2d", reduction=8)


def test_conv2d_empty_batch(layout, dtype):
    x = np.zeros(to_layout(np.zeros((0, 3, 5, 5)), layout).shape, dtype)
    w = np.ones((4, 3, 3, 3), dtype)
    y = fastconv.conv2d(x, w, padding=1, layout=layout)
    assert y.dtype == dtype
    assert y.shape == ((0, 4, 5, 5) if layout == "NCHW" else (0, 5, 5, 4))


def _kernels(op, dtype):
    """The registered kernels of (op, dtype) this CPU can run."""
    level = fastconv.supported_isas()
    return [k for k in _cpu.kernels()
            if k["op"] == op and k["dtype"] == dtype and k["isa"] in level]


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_every_igemm_kernel_on_awkward_tiles(dtype):
    kernels = _kernels("igemm", dtype)
    scalar = [k for k in kernels if k["isa"] == "scalar"]
    assert scalar, "every op needs a scalar kernel"
    npdt = np.float32 if dtype == "f32" else np.float64
    rng = np.random.default_rng(3)
    for k in kernels:
        MR, NR = k["mr"], k["nr"]
        for mr, nr, kc, ks in [(MR, NR, 1, 1), (1, 1, 3, 2), (MR - 1, NR - 3, 17, 3),
                               (max(1, MR // 2), NR // 2 + 1, 5, 9), (MR, 1, 2, 1),
                               (1, NR, 33, 1)]:
            for flags in (0, 1, 2, 3):  # relu, accumulate
                base = rng.standard_normal(200).astype(npdt)
                base[:kc] = 0  # a "zero vector" at offset 0, as padding taps use
                offs = rng.integers(0, 200 - kc, size=ks * MR).astype(np.int64)
                w = rng.standard_normal(ks * kc * NR).astype(npdt)
                bias = rng.standard_normal(NR).astype(npdt)
                ys = NR + 5
                y0 = rng.standard_normal(MR * ys).astype(npdt)
                # expected: y = sum_t,c a[t][m][c] * w[t][c][n] (+ y0 or bias), relu
                a = base[offs[:, None] + np.arange(kc)].reshape(ks, MR, kc)
                acc = np.einsum("tmc,tcn->mn", a.astype(np.float64),
                                w.reshape(ks, kc, NR).astype(np.float64))
                y_init = y0.reshape(MR, ys)[:, :NR].astype(np.float64)
                ref = acc + (y_init if flags & 2 else bias.astype(np.float64))
                if flags & 1:
                    ref = np.maximum(ref, 0)
                y = y0.copy()
                _conv.igemm_run(k["name"], mr, nr, kc, ks, base, offs, w, bias, y, ys, flags)
                y2 = y.reshape(MR, ys)
                want = y0.reshape(MR, ys).copy()
                want[:mr, :nr] = ref[:mr, :nr]
                # rows >= mr and columns >= nr are left alone
                np.testing.assert_array_equal(y2[mr:], want[mr:])
                np.testing.assert_array_equal(y2[:, nr:], want[:, nr:])
                assert_close(y2.astype(npdt), want.astype(npdt), "conv2d",
                             reduction=kc * ks)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_every_transpose_kernel_on_awkward_blocks(dtype):
    """dst[j*ds + i] = src[i*ss + j] exactly, full and edge blocks, padded strides;
    the rest of dst is left alone."""
    kernels = _kernels("transpose", dtype)
    assert [k for k in kernels if k["isa"] == "scalar"], "every op needs a scalar kernel"
    npdt = np.float32 if dtype == "f32" else np.float64
    rng = np.random.default_rng(5)
    for k in kernels:
        for rows, cols, sp, dp in [(1, 1, 0, 0), (16, 16, 0, 0), (17, 33, 3, 5), (5, 70, 0, 2),
                                   (64, 3, 1, 0), (48, 130, 7, 1), (15, 15, 0, 0), (0, 4, 0, 0)]:
            ss, ds = cols + sp, rows + dp
            src = rng.standard_normal(max(1, rows * ss)).astype(npdt)
            dst = rng.standard_normal(max(1, cols * ds)).astype(npdt)
            want = dst.copy()
            if rows and cols:
                want.reshape(cols, ds)[:, :rows] = src.reshape(rows, ss)[:, :cols].T
            _conv.transpose_run(k["name"], src, ss, dst, ds, rows, cols)
            np.testing.assert_array_equal(dst, want, err_msg=f"{k['name']} {rows}x{cols}")
    with pytest.raises(ValueError):
        _conv.transpose_run(kernels[0]["name"], np.zeros(4, npdt), 2, np.zeros(3, npdt), 2, 2, 2)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_every_gemm_kernel_on_awkward_tiles(dtype):
    kernels = _kernels("gemm", dtype)
    assert [k for k in kernels if k["isa"] == "scalar"], "every op needs a scalar kernel"
    npdt = np.float32 if dtype == "f32" else np.float64
    rng = np.random.default_rng(4)
    for k in kernels:
        MR, NR = k["mr"], k["nr"]
        for mr, nr, kc in [(MR, NR, 1), (1, 1, 3), (MR - 1, NR - 3, 17), (MR, 1, 2),
                           (max(1, MR // 2), NR // 2 + 1, 33), (1, NR, 5)]:
            # flags: 1 relu, 2 accumulate, 4 bias along rows; bias None or given
            for flags, with_bias in [(0, True), (1, True), (2, True), (3, False), (0, False),
                                     (4, True), (5, True)]:
                lda, ldb, ys = kc + 3, nr + 7, NR + 5
                a = rng.standard_normal(MR * lda).astype(npdt)
                # b ends at the last valid column: nothing past nr may be read
                b = rng.standard_normal((kc - 1) * ldb + nr).astype(npdt)
                bias = rng.standard_normal(MR if flags & 4 else NR).astype(npdt)
                y0 = rng.standard_normal(MR * ys).astype(npdt)
                av = a.reshape(MR, lda)[:, :kc].astype(np.float64)
                bv = np.zeros((kc, NR))
                for c in range(kc):
                    bv[c, :nr] = b[c * ldb:c * ldb + nr]
                acc = av @ bv
                if flags & 2:
                    acc += y0.reshape(MR, ys)[:, :NR]
                elif with_bias:
                    acc += bias[:, None] if flags & 4 else bias[None, :]
                if flags & 1:
                    acc = np.maximum(acc, 0)
                y = y0.copy()
                _conv.gemm_run(k["name"], mr, nr, kc, a, lda, b, ldb,
                               bias if with_bias else None, y, ys, flags)
                y2 = y.reshape(MR, ys)
                want = y0.reshape(MR, ys).copy()
                want[:mr, :nr] = acc[:mr, :nr]
                np.testing.assert_array_equal(y2[mr:], want[mr:])
                np.testing.assert_array_equal(y2[:, nr:], want[:, nr:])
                assert_close(y2.astype(npdt), want.astype(npdt), "conv2d", reduction=kc)


def test_gemm_run_rejects_bad_calls():
    z = np.zeros(4096, np.float32)
    with pytest.raises(ValueError):
        _conv.gemm_run("no_such_kernel", 1, 1, 1, z, 1, z, 1, None, z, 16, 0)
    name = _kernels("gemm", "f32")[0]["name"]
    with pytest.raises(ValueError):  # a too small for MR rows of stride 4096
        _conv.gemm_run(name, 1, 1, 1, z, 4096, z, 1, None, z, 16, 0)


def test_igemm_run_rejects_unknown_kernel():
    z = np.zeros(64, np.float32)
    with pytest.raises(ValueError):
        _conv.igemm_run("no_such_kernel", 1, 1, 1, 1, z, np.zeros(8, np.int64), z, z, z, 16, 0)


@pytest.mark.parametrize("ci", [0, 3, 13, len(CASES) - 4, len(CASES) - 2])
def test_threads_bitwise_identical(ci, layout, isa):
    case = CASES[ci]
    _, _, _, _, _, _, _, stride, padding, dilation, groups = case
    x, w, b = _case_arrays(case, np.float32, ci)
    xl = to_layout(x, layout)
    kw_args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                   layout=layout, activation="relu", algorithm="igemm")
    try:
        fastconv.set_num_threads(1)
        y1 = fastconv.conv2d(xl, w, b, **kw_args)
        fastconv.set_num_threads(2)
        y2 = fastconv.conv2d(xl, w, b, **kw_args)
        fastconv.set_num_threads(3)
        y3 = fastconv.conv2d(xl, w, b, **kw_args)
    finally:
        fastconv.set_num_threads(None)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(y1, y3)


def test_inputs_not_modified_and_odd_inputs(layout):
    rng = np.random.default_rng(11)
    x = to_layout(rng.standard_normal((2, 6, 7, 8)), layout)
    w = rng.standard_normal((10, 6, 3, 3))
    b = rng.standard_normal(10)
    copies = [a.copy() for a in (x, w, b)]
    want = reference.conv2d(x, w, b, padding=1, layout=layout)
    got = fastconv.conv2d(x, w, b, padding=1, layout=layout)
    for a, c in zip((x, w, b), copies):
        np.testing.assert_array_equal(a, c)
    assert_close(got, want, "conv2d", reduction=54)
    # Fortran order, negative strides, big-endian, read-only
    xf = np.asfortranarray(x)
    wr = w[::-1].copy()[::-1]
    xb = x.astype(x.dtype.newbyteorder(">"))
    wb = w.astype(w.dtype.newbyteorder(">"))
    xro = x.copy()
    xro.flags.writeable = False
    for xi, wi in ((xf, w), (x, wr), (xb, wb), (xro, w)):
        assert_close(fastconv.conv2d(xi, wi, b, padding=1, layout=layout), want, "conv2d",
                     reduction=54)
    # a strided view (every other column of a wider array)
    wide = np.repeat(x, 2, axis=-1)
    assert_close(fastconv.conv2d(wide[..., ::2], w, b, padding=1, layout=layout), want,
                 "conv2d", reduction=54)


def test_bad_arguments():
    x = np.zeros((1, 4, 5, 5), np.float32)
    w = np.zeros((6, 4, 3, 3), np.float32)
    with pytest.raises(ValueError, match="activation"):
        fastconv.conv2d(x, w, activation="tanh")
    with pytest.raises(ValueError, match="algorithm"):
        fastconv.conv2d(x, w, algorithm="fft")
    with pytest.raises(ValueError, match="depthwise"):
        fastconv.conv2d(x, w, algorithm="depthwise")
    with pytest.raises(ValueError, match="bias"):
        fastconv.conv2d(x, w, np.zeros(5, np.float32))
    with pytest.raises(TypeError, match="weight"):
        fastconv.conv2d(x, w.astype(np.float64))
    with pytest.raises(TypeError, match="bias"):
        fastconv.conv2d(x, w, np.zeros(6, np.float64))
    with pytest.raises(TypeError, match="input"):
        fastconv.conv2d(x.astype(np.int32), w)
    with pytest.raises(ValueError, match="input"):
        fastconv.conv2d(x[0, 0], w)
    with pytest.raises(ValueError, match="layout"):
        fastconv.conv2d(x, w, layout="NCWH")
    with pytest.raises(ValueError, match="groups"):
        fastconv.conv2d(x, w, groups=3)
    with pytest.raises(ValueError, match="padding"):
        fastconv.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match="stride"):
        fastconv.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="height"):
        fastconv.conv2d(x, np.zeros((6, 4, 7, 3), np.float32))


def test_extension_checks_buffers():
    # the Cython layer refuses buffers that do not match the geometry
    from fastconv._shapes import conv2d_geometry
    x = np.zeros((1, 4, 5, 5), np.float32)
    w = np.zeros((6, 4, 3, 3), np.float32)
    g = conv2d_geometry(x.shape, w.shape, 1, 1, 1, 1, "NCHW")
    y = np.zeros((1, 6, 5, 4), np.float32)
    with pytest.raises(ValueError, match="output"):
        _conv.conv2d(g, x, w, None, y, False, 0, 1)
    with pytest.raises(TypeError, match="weight"):
        _conv.conv2d(g, x, w.astype(np.float64), None, np.zeros((1, 6, 5, 5), np.float32),
                     False, 0, 1)
    with pytest.raises(ValueError, match="nthreads"):
        _conv.conv2d(g, x, w, None, np.zeros((1, 6, 5, 5), np.float32), False, 0, 0)


def test_named_path_that_declines_raises():
    # smallc declines groups != 1 and padding wider than the kernel: the C status
    # FC_EINVAL comes back as "declined" (not a SystemError), then a ValueError
    from fastconv._shapes import conv2d_geometry
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 4, 6, 6)).astype(np.float32)
    w2 = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    w = rng.standard_normal((4, 4, 3, 3)).astype(np.float32)
    for wi, kw in ((w2, dict(groups=2, padding=1)), (w, dict(padding=3))):
        with pytest.raises(ValueError, match="smallc"):
            fastconv.conv2d(x, wi, algorithm="smallc", **kw)
        g = conv2d_geometry(x.shape, wi.shape, 1, kw["padding"], 1, kw.get("groups", 1), "NCHW")
        y = np.zeros(g.output_shape, np.float32)
        assert _conv.conv2d_path("smallc", g, x, wi, None, y, False, 0, 1) is False
        # auto falls back to igemm, which takes the wide padding
        assert_close(fastconv.conv2d(x, wi, **kw), reference.conv2d(x, wi, **kw), "conv2d",
                     reduction=wi.shape[1] * 9)


def test_auto_takes_igemm_for_pointwise():
    # a short 1x1 reduction (smallc would take it) goes to igemm's in-place GEMM
    from fastconv import conv as conv_mod
    from fastconv._shapes import conv2d_geometry
    for layout, shape in (("NCHW", (1, 32, 112, 112)), ("NHWC", (1, 56, 56, 144))):
        C = shape[1] if layout == "NCHW" else shape[3]
        g = conv2d_geometry(shape, (16, C, 1, 1), 1, 0, 1, 1, layout)
        assert conv_mod._plan(g, _conv, "auto") == ("igemm",)
    # a short 3x3 reduction keeps the small-channel path
    g = conv2d_geometry((1, 16, 8, 8), (16, 16, 3, 3), 1, 1, 1, 1, "NCHW")
    assert conv_mod._plan(g, _conv, "auto") == ("smallc", "igemm")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_outputs_start_on_a_cache_line(layout, dtype):
    """Outputs of 16 KiB and more are 64-byte aligned (full-vector stores
    never straddle two lines), C-contiguous, writeable and correct."""
    rng = np.random.default_rng(5)
    x = to_layout(rng.standard_normal((1, 8, 33, 31)).astype(dtype), layout)
    w = rng.standard_normal((24, 8, 3, 3)).astype(dtype)
    outs = [fastconv.conv2d(x, w, padding=1, layout=layout),
            fastconv.max_pool2d(x, 1, layout=layout),
            fastconv.avg_pool2d(x, 1, layout=layout)]
    for y in outs:
        assert y.nbytes >= 16384 and y.ctypes.data % 64 == 0
        assert y.flags.c_contiguous and y.flags.writeable and y.dtype == dtype
    assert_close(outs[0], reference.conv2d(x, w, padding=1, layout=layout), "conv2d", reduction=72)
    np.testing.assert_array_equal(outs[1], x)
    np.testing.assert_array_equal(outs[2], x)
