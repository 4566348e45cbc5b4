"""Pooling (fastconv.pool) against fastconv.reference, every ISA, both dtypes and layouts."""
import numpy as np
import pytest

import fastconv
from fastconv import reference as ref
from conftest import from_layout, to_layout
from tolerances import assert_close

# (kernel, stride, padding, dilation, ceil_mode): strides 1..3 and None, kernels 1..4,
# asymmetric / over-half-kernel / "same" padding, dilation, ceil windows in the end padding
GEOMS = [
    (1, None, 0, 1, False), (2, None, 0, 1, False), (3, 2, 1, 1, False), (2, 2, 0, 1, True),
    (3, 2, 1, 1, True), (4, 3, 2, 1, True), (3, 1, 1, 2, False), (2, 3, 0, 1, True),
    ((2, 3), (1, 2), ((1, 0), (0, 2)), 1, False), (3, 1, "same", 1, False),
    ((3, 2), 2, "same", (1, 2), True), (4, 1, ((0, 3), (2, 1)), 1, True),
    (2, 1, 2, 1, False),  # padding > kernel/2: windows entirely in padding
    (3, (2, 3), ((3, 0), (1, 3)), (2, 1), True), ((1, 4), (3, 1), 0, 1, False),
]
SHAPES = [(2, 3, 7, 9), (1, 17, 5, 19), (3, 1, 12, 6)]  # odd W, C not a multiple of 16


def _x(shape, dtype, layout, rng, ties=False):
    x = rng.standard_normal(shape)
    if ties:
        x = np.round(x)  # many equal values in a window
    return to_layout(x.astype(dtype), layout)


def _kw(geom):
    k, s, p, d, c = geom
    return dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)


@pytest.mark.parametrize("geom", GEOMS)
def test_max_pool2d(isa, geom, dtype, layout, rng):
    for shape, ties in [(SHAPES[0], True), (SHAPES[1], False)]:
        x = _x(shape, dtype, layout, rng, ties)
        y, i = fastconv.max_pool2d(x, **_kw(geom), return_indices=True, layout=layout)
        ry, ri = ref.max_pool2d(x, **_kw(geom), return_indices=True, layout=layout)
        assert_close(y, ry, "max_pool2d")
        np.testing.assert_array_equal(i, ri)
        assert i.dtype == np.int64
        np.testing.assert_array_equal(fastconv.max_pool2d(x, **_kw(geom), layout=layout), ry)


@pytest.mark.parametrize("geom", GEOMS)
def test_avg_pool2d(isa, geom, dtype, layout, rng):
    k, s, p, d, c = geom
    for shape, cip, div in [(SHAPES[0], True, None), (SHAPES[1], False, None),
                            (SHAPES[2], True, 5)]:
        x = _x(shape, dtype, layout, rng)
        kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=cip,
                  divisor_override=div, dilation=d, layout=layout)
        y = fastconv.avg_pool2d(x, **kw)
        assert_close(y, ref.avg_pool2d(x, **kw), "avg_pool2d", reduction=np.prod(geom[0]))


@pytest.mark.parametrize("geom", GEOMS)
def test_max_pool2d_backward(isa, geom, dtype, layout, rng):
    for shape, ties in [(SHAPES[0], True), (SHAPES[2], False)]:
        x = _x(shape, dtype, layout, rng, ties)
        y, i = fastconv.max_pool2d(x, **_kw(geom), return_indices=True, layout=layout)
        gy = rng.standard_normal(y.shape).astype(dtype)
        gx = fastconv.max_pool2d_backward(gy, x, **_kw(geom), layout=layout)
        assert_close(gx, ref.max_pool2d_backward(gy, x, **_kw(geom), layout=layout),
                     "pool_backward", reduction=np.prod(geom[0]))
        gxi = fastconv.max_pool2d_backward(gy, x, **_kw(geom), indices=i, layout=layout)
        np.testing.assert_array_equal(gxi, gx)


@pytest.mark.parametrize("geom", GEOMS)
def test_avg_pool2d_backward(isa, geom, dtype, layout, rng):
    k, s, p, d, c = geom
    for shape, cip, div in [(SHAPES[1], True, None), (SHAPES[2], False, 3)]:
        xs = to_layout(np.empty(shape), layout).shape
        kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=cip,
                  divisor_override=div, dilation=d, layout=layout)
        y = ref.avg_pool2d(np.zeros(xs, dtype), **kw)
        gy = rng.standard_normal(y.shape).astype(dtype)
        gx = fastconv.avg_pool2d_backward(gy, xs, **kw)
        assert gx.dtype == dtype and gx.shape == xs
        assert_close(gx, ref.avg_pool2d_backward(gy, xs, **kw), "pool_backward",
                     reduction=np.prod(k))


@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (1, 33, 1, 1), (3, 20, 5, 40), (2, 5, 1, 7)])
def test_global_pools(isa, shape, dtype, layout, rng):
    x = _x(shape, dtype, layout, rng)
    assert_close(fastconv.global_avg_pool2d(x, layout=layout),
                 ref.global_avg_pool2d(x, layout=layout), "global_pool",
                 reduction=shape[2] * shape[3])
    np.testing.assert_array_equal(fastconv.global_max_pool2d(x, layout=layout),
                                  ref.global_max_pool2d(x, layout=layout))


def test_nan_and_inf(isa, dtype, layout, rng):
    x = rng.standard_normal((2, 5, 9, 11)).astype(dtype)
    x[0, 1, 2, 3] = np.nan
    x[0, 1, 2, 4] = np.nan
    x[1, 2, 5:8, :] = -np.inf
    x[1, 3] = -np.inf
    x[1, 4, 0, 0] = np.inf
    x = to_layout(x, layout)
    for geom in [(3, 2, 1, 1, True), (2, None, 0, 1, False), (3, 1, 2, 1, False),
                 (3, 2, 1, 2, False)]:
        y, i = fastconv.max_pool2d(x, **_kw(geom), return_indices=True, layout=layout)
        ry, ri = ref.max_pool2d(x, **_kw(geom), return_indices=True, layout=layout)
        np.testing.assert_array_equal(y, ry)
        np.testing.assert_array_equal(i, ri)
        gy = np.ones(y.shape, dtype)
        np.testing.assert_array_equal(
            fastconv.max_pool2d_backward(gy, x, **_kw(geom), layout=layout),
            ref.max_pool2d_backward(gy, x, **_kw(geom), layout=layout))
    np.testing.assert_array_equal(fastconv.global_max_pool2d(x, layout=layout),
                                  ref.global_max_pool2d(x, layout=layout))
    assert np.isnan(from_layout(fastconv.global_max_pool2d(x, layout=layout), layout)[0, 1])


def test_window_entirely_in_padding(isa, layout):
    # padding 3 > kernel 2 / 2: the first and last windows see only padding
    x = to_layout(np.arange(4.0).reshape(1, 1, 2, 2), layout)
    y, i = fastconv.max_pool2d(x, 2, stride=2, padding=3, return_indices=True, layout=layout)
    y, i = from_layout(y, layout)[0, 0], from_layout(i, layout)[0, 0]
    assert y.shape == (4, 4)
    assert y[0, 0] == -np.inf and i[0, 0] == -1
    assert y[1, 1] == 0 and i[1, 1] == 0
    assert (i >= 0).sum() == 4
    gy = np.ones((1, 4, 4, 1) if layout == "NHWC" else (1, 1, 4, 4))
    gx = fastconv.max_pool2d_backward(gy, x, 2, stride=2, padding=3, layout=layout)
    np.testing.assert_array_equal(gx, np.ones_like(x))  # padded windows drop their gradient
    avg = fastconv.avg_pool2d(x, 2, stride=2, padding=3, count_include_pad=False, layout=layout)
    assert np.isnan(from_layout(avg, layout)[0, 0, 0, 0])  # 0 / 0


@pytest.mark.parametrize("geom", [(3, 2, 1, 1, False), (2, None, 0, 1, True), (3, 1, 1, 1, False),
                                  (3, 2, 1, 2, True)])
def test_indices_match_torch(geom, layout, rng):
    torch = pytest.importorskip("torch")
    k, s, p, d, c = geom
    x = np.round(rng.standard_normal((2, 3, 10, 13)) * 2)  # ties
    _, i = fastconv.max_pool2d(to_layout(x, layout), *geom, return_indices=True, layout=layout)
    ty, ti = torch.nn.functional.max_pool2d(torch.from_numpy(x), k, s, p, d, c,
                                            return_indices=True)
    np.testing.assert_array_equal(from_layout(i, layout), ti.numpy())


def test_against_torch_float64(layout, rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = rng.standard_normal((2, 4, 11, 9))
    xt = torch.from_numpy(x)
    xl = to_layout(x, layout)
    for k, s, p, c, cip in [(3, 2, 1, True, True), (2, 1, 1, False, False), (3, 3, 1, True, False)]:
        a = from_layout(fastconv.avg_pool2d(xl, k, s, p, c, cip, layout=layout), layout)
        assert_close(a, F.avg_pool2d(xt, k, s, p, c, cip).numpy(), "torch")
        m = from_layout(fastconv.max_pool2d(xl, k, s, p, 1, c, layout=layout), layout)
        np.testing.assert_array_equal(m, F.max_pool2d(xt, k, s, p, 1, c).numpy())


def test_bad_indices(layout, rng):
    x = to_layout(rng.standard_normal((1, 2, 6, 6)), layout)
    y, i = fastconv.max_pool2d(x, 2, return_indices=True, layout=layout)
    gy = np.ones_like(y)
    for bad in (36, -2, 10**12):
        j = i.copy()
        j.flat[3] = bad
        with pytest.raises(ValueError, match="indices"):
            fastconv.max_pool2d_backward(gy, x, 2, indices=j, layout=layout)
    with pytest.raises(ValueError, match="indices"):
        fastconv.max_pool2d_backward(gy, x, 2, indices=i[..., :-1], layout=layout)
    with pytest.raises(TypeError, match="indices"):
        fastconv.max_pool2d_backward(gy, x, 2, indices=i.astype(float), layout=layout)
    # -1 (a window entirely in padding) is accepted and drops that gradient
    j = i.copy()
    j.flat[0] = -1
    gx = fastconv.max_pool2d_backward(gy, x, 2, indices=j, layout=layout)
    assert gx.sum() == gy.size - 1


def test_unbatched_and_empty(isa, dtype, layout, rng):
    x = _x((1, 5, 8, 7), dtype, layout, rng)
    for fn in (fastconv.max_pool2d, fastconv.avg_pool2d):
        np.testing.assert_array_equal(fn(x[0], 3, 2, 1, layout=layout), fn(x, 3, 2, 1, layout=layout)[0])
    np.testing.assert_array_equal(fastconv.global_avg_pool2d(x[0], layout=layout),
                                  fastconv.global_avg_pool2d(x, layout=layout)[0])
    y = fastconv.max_pool2d(x[0], 2, layout=layout)
    np.testing.assert_array_equal(fastconv.max_pool2d_backward(np.ones_like(y), x[0], 2, layout=layout),
                                  fastconv.max_pool2d_backward(np.ones_like(y)[None], x, 2, layout=layout)[0])
    np.testing.assert_array_equal(fastconv.avg_pool2d_backward(np.ones_like(y), x[0].shape, 2, layout=layout),
                                  fastconv.avg_pool2d_backward(np.ones_like(y)[None], x.shape, 2, layout=layout)[0])
    e = x[:0]
    ye, ie = fastconv.max_pool2d(e, 2, return_indices=True, layout=layout)
    assert ye.shape[0] == 0 and ie.shape[0] == 0 and ye.dtype == dtype
    assert fastconv.avg_pool2d(e, 2, layout=layout).shape[0] == 0
    assert fastconv.global_max_pool2d(e, layout=layout).shape[0] == 0
    assert fastconv.max_pool2d_backward(ye, e, 2, layout=layout).shape == e.shape
    assert fastconv.avg_pool2d_backward(ye, e.shape, 2, layout=layout).shape == e.shape


def test_threads_identical(dtype, layout, rng):
    x = _x((3, 20, 17, 15), dtype, layout, rng, ties=True)
    outs = []
    for n in (1, 2, 3):
        fastconv.set_num_threads(n)
        try:
            y, i = fastconv.max_pool2d(x, 3, 2, 1, return_indices=True, layout=layout)
            gy = np.ones_like(y)
            outs.append([y, i, fastconv.avg_pool2d(x, 3, 2, 1, layout=layout),
                         fastconv.max_pool2d_backward(gy, x, 3, 2, 1, layout=layout),
                         fastconv.avg_pool2d_backward(gy, x.shape, 3, 2, 1, layout=layout),
                         fastconv.global_avg_pool2d(x, layout=layout)])
        finally:
            fastconv.set_num_threads(None)
    for other in outs[1:]:
        for a, b in zip(outs[0], other):
            np.testing.assert_array_equal(a, b)


def test_large_kernel_chunks(isa, layout, rng):
    # more taps than one kernel call takes (64): chunked accumulation
    x = to_layout(rng.standard_normal((1, 3, 70, 75)), layout)
    kw = dict(kernel_size=(66, 9), stride=(3, 2), padding=(2, 4), layout=layout)
    y, i = fastconv.max_pool2d(x, **kw, return_indices=True)
    ry, ri = ref.max_pool2d(x, **kw, return_indices=True)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(i, ri)
    assert_close(fastconv.avg_pool2d(x, **kw), ref.avg_pool2d(x, **kw), "avg_pool2d",
                 reduction=66 * 9)
    gy = rng.standard_normal(y.shape)
    assert_close(fastconv.max_pool2d_backward(gy, x, **kw), ref.max_pool2d_backward(gy, x, **kw),
                 "pool_backward")
    assert_close(fastconv.avg_pool2d_backward(gy, x.shape, **kw),
                 ref.avg_pool2d_backward(gy, x.shape, **kw), "pool_backward")
    xs = to_layout(rng.standard_normal((2, 3, 13, 11)), layout)
    assert_close(fastconv.global_avg_pool2d(xs, layout=layout),
                 ref.global_avg_pool2d(xs, layout=layout), "global_pool", reduction=143)


def test_bad_arguments(rng):
    x = rng.standard_normal((1, 2, 6, 6))
    with pytest.raises(ValueError, match="kernel_size"):
        fastconv.max_pool2d(x, 0)
    with pytest.raises(ValueError, match="padding"):
        fastconv.avg_pool2d(x, 2, padding=-1)
    with pytest.raises(ValueError, match="layout"):
        fastconv.max_pool2d(x, 2, layout="CHWN")
    with pytest.raises(TypeError, match="input"):
        fastconv.max_pool2d(x.astype(np.int32), 2)
    with pytest.raises(ValueError, match="input"):
        fastconv.max_pool2d(x[0, 0], 2)
    with pytest.raises(ValueError, match="divisor_override"):
        fastconv.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(TypeError, match="grad_output"):
        fastconv.max_pool2d_backward(np.ones((1, 2, 3, 3), np.float32), x, 2)
    with pytest.raises(ValueError, match="grad_output"):
        fastconv.avg_pool2d_backward(np.ones((1, 2, 4, 3)), x.shape, 2)
    with pytest.raises(ValueError, match="input_shape"):
        fastconv.avg_pool2d_backward(np.ones((1, 2, 3, 3)), (2, 6, 6, 1, 1), 2)
    with pytest.raises(ValueError, match="empty"):
        fastconv.max_pool2d(x, 7)
    with pytest.raises(TypeError, match="return_indices"):
        fastconv.max_pool2d(x, 2, return_indices="yes")


def test_inputs_not_modified(rng):
    x = rng.standard_normal((2, 3, 8, 8))
    x0 = x.copy()
    y, i = fastconv.max_pool2d(x, 2, return_indices=True)
    i0 = i.copy()
    fastconv.max_pool2d_backward(np.ones_like(y), x, 2, indices=i)
    fastconv.avg_pool2d(x[:, :, ::2], 2)  # non-contiguous input
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(i, i0)


# the gradient's fast paths: windows that neither overlap nor leave the input (2x2/2 in
# vector steps with a masked last one, gaps between windows, uncovered edge rows/columns),
# and 3x3/2 (vector run over the interior of each row, padded / ceil-mode edges apart)
FAST = [(2, None, 0, False), (3, None, 0, False), (2, 3, 0, False), (1, None, 0, False),
        ((2, 1), (3, 2), 0, False), ((1, 3), None, 0, False), (3, 2, 1, False),
        (3, 2, 0, False), (3, 2, 1, True), (3, 2, 0, True), (3, 2, 2, False)]


def _check_max_backward(x, k, kw, rng, gy=None):
    """max_pool2d_backward recomputing the argmax: against the reference, and bitwise the
    same as with the forward's indices; returns the gradient used."""
    y, i = fastconv.max_pool2d(x, k, return_indices=True, **kw)
    if gy is None:
        gy = rng.standard_normal(y.shape).astype(x.dtype)
    gx = fastconv.max_pool2d_backward(gy, x, k, **kw)
    assert_close(gx, ref.max_pool2d_backward(gy, x, k, **kw), "pool_backward", reduction=9)
    np.testing.assert_array_equal(gx, fastconv.max_pool2d_backward(gy, x, k, indices=i, **kw))
    return gy


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_backward_row_bands_match_one_thread(isa, threads, dtype, layout, rng):
    # windows that share no input rows split into bands of output rows (NHWC: the
    # items; a thread's chunk may end mid-image): uncovered rows between and after the
    # windows, padded and ceil-mode windows, every band edge against 1 thread and the
    # reference
    x = _x((3, 21, 23, 19), dtype, layout, rng, ties=True)
    maxes = [(2, dict(stride=2)), (3, dict(stride=3)), (2, dict(stride=3)),
             (3, dict(stride=4, ceil_mode=True))]
    avgs = [(2, dict(stride=2)), (2, dict(stride=3)),
            (3, dict(stride=3, padding=1, ceil_mode=True, count_include_pad=False)),
            ((23, 19), dict())]
    grads = []
    for n in (1, threads):
        fastconv.set_num_threads(n)
        try:
            out = []
            for k, kw in maxes:
                gy = _check_max_backward(x, k, dict(kw, layout=layout), np.random.default_rng(7))
                out.append(fastconv.max_pool2d_backward(gy, x, k, **kw, layout=layout))
            for k, kw in avgs:
                y = fastconv.avg_pool2d(x, k, **kw, layout=layout)
                gy = np.random.default_rng(8).standard_normal(y.shape).astype(dtype)
                gx = fastconv.avg_pool2d_backward(gy, x.shape, k, **kw, layout=layout)
                assert_close(gx, ref.avg_pool2d_backward(gy, x.shape, k, **kw, layout=layout),
                             "pool_backward", reduction=9)
                out.append(gx)
            grads.append(out)
        finally:
            fastconv.set_num_threads(None)
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("geom", FAST)
@pytest.mark.parametrize("shape", [(2, 3, 6, 70), (1, 37, 7, 11), (2, 18, 5, 33)])
def test_max_pool2d_backward_fast_paths(isa, geom, shape, dtype, layout, rng):
    k, s, p, c = geom
    kw = dict(stride=s, padding=p, ceil_mode=c, layout=layout)
    x = np.round(rng.standard_normal(shape) * 2)  # ties in most windows
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, flat.size // 7, replace=False)] = np.nan
    flat[rng.choice(flat.size, flat.size // 9, replace=False)] = np.inf
    flat[rng.choice(flat.size, flat.size // 9, replace=False)] = -np.inf
    _check_max_backward(to_layout(x.astype(dtype), layout), k, kw, rng)


@pytest.mark.parametrize("geom", [(3, 2, 1, False), (3, 2, 0, True), (3, 2, 0, False),
                                  (3, 2, 1, True)])
@pytest.mark.parametrize("shape", [(2, 3, 9, 77), (1, 2, 8, 66), (1, 1, 4, 35)])
def test_max_pool2d_backward_3x3s2_wide(isa, geom, shape, dtype, layout, rng):
    # wide rows without NaN: whole vector steps inside the input take the compare-only
    # argmax; ties everywhere (small integers); a few infinities
    k, s, p, c = geom
    kw = dict(stride=s, padding=p, ceil_mode=c, layout=layout)
    x = np.round(rng.standard_normal(shape))
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, flat.size // 13, replace=False)] = -np.inf
    flat[rng.choice(flat.size, flat.size // 17, replace=False)] = np.inf
    x = to_layout(x.astype(dtype), layout)
    gy = _check_max_backward(x, k, kw, rng)
    x2 = x.copy()  # one NaN in an otherwise clean step
    x2.reshape(-1)[x2.size // 2] = np.nan
    _check_max_backward(x2, k, kw, rng, gy)


@pytest.mark.parametrize("pad,ceil", [(1, False), (0, True), (0, False), (1, True)])
@pytest.mark.parametrize("W", [5, 6, 16, 17, 31, 32, 33, 34, 35, 63, 64, 66, 113, -1, -2])
def test_max_pool2d_3x3s2_nchw_rows(isa, W, pad, ceil, dtype, rng):
    W = W if W > 0 else -W + 2 * (1 - pad)  # -1, -2: the narrowest rows of the padding
    # the fused NCHW row pass (no indices): vector steps of 16 / 8 outputs at every
    # offset from the row's ends, the first / last window half in the padding, NaN and
    # infinities at the edge columns and inside; -0 / +0 ties
    kw = dict(stride=2, padding=pad, ceil_mode=ceil)
    x = np.round(rng.standard_normal((2, 3, 5, W)) * 2)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, max(1, flat.size // 11), replace=False)] = np.nan
    flat[rng.choice(flat.size, max(1, flat.size // 13), replace=False)] = -np.inf
    flat[rng.choice(flat.size, max(1, flat.size // 17), replace=False)] = np.inf
    x[0, 0, :, 0] = np.nan
    x[0, 1, :, -1] = np.nan
    x[1, 0] = -0.0
    x[1, 0, 2, ::2] = 0.0
    x = x.astype(dtype)
    y = fastconv.max_pool2d(x, 3, **kw)
    ry = ref.max_pool2d(x, 3, **kw)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ry))
    np.testing.assert_array_equal(y, ry)


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("C,H,W", [(3, 28, 28), (3, 7, 9), (3, 6, 3), (3, 2, 4100),
                                   (3, 3, 4099), (3, 9, 34), (3, 4, 2), (6, 28, 28),
                                   (15, 5, 700), (17, 4, 6)])
def test_pool_2x2s2_rows(isa, C, H, W, threads, dtype, layout, rng):
    # the 2x2/2 kernel (no padding, no indices): row groups flattened across rows
    # (and planes / images where H is even), pieces of rows wider than its buffer
    # (NCHW 4100 values; NHWC 15 channels x 700), the odd last row / column
    # dropped, NaN, infinities and -0 / +0 ties; NHWC takes it below 16 channels
    # (17: the per-pixel passes); ceil mode with an odd size leaves a window past
    # the edge: the general passes
    x = np.round(rng.standard_normal((2, C, H, W)) * 2)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, max(1, flat.size // 11), replace=False)] = np.nan
    flat[rng.choice(flat.size, max(1, flat.size // 13), replace=False)] = -np.inf
    flat[rng.choice(flat.size, max(1, flat.size // 17), replace=False)] = np.inf
    x[1, 0] = -0.0
    x[1, 0, ::2, ::2] = 0.0
    x = to_layout(x.astype(dtype), layout)
    finite = to_layout(np.round(rng.standard_normal((2, C, H, W)) * 2).astype(dtype), layout)
    nt = fastconv.get_num_threads()
    try:
        fastconv.set_num_threads(threads)
        for ceil in (False, True):
            y = fastconv.max_pool2d(x, 2, ceil_mode=ceil, layout=layout)
            ry = ref.max_pool2d(x, 2, ceil_mode=ceil, layout=layout)
            np.testing.assert_array_equal(np.isnan(y), np.isnan(ry))
            if not ceil:
                # the kernel scans windows row-major like PyTorch; the general
                # separable passes (ceil windows past the edge) go column-first
                # and may return the other zero of a -0 / +0 tie (equal values)
                np.testing.assert_array_equal(np.signbit(y), np.signbit(ry))
            np.testing.assert_array_equal(y, ry)
            for div in (None, 3):
                kw = dict(ceil_mode=ceil, divisor_override=div, layout=layout)
                assert_close(fastconv.avg_pool2d(finite, 2, **kw), ref.avg_pool2d(finite, 2, **kw),
                             "avg_pool2d", reduction=4)
                with np.errstate(invalid="ignore"):  # inf - inf in the reference
                    ya, ra = fastconv.avg_pool2d(x, 2, **kw), ref.avg_pool2d(x, 2, **kw)
                np.testing.assert_array_equal(np.isnan(ya), np.isnan(ra))
    finally:
        fastconv.set_num_threads(nt)


@pytest.mark.parametrize("shape", [(2, 3, 7, 7), (1, 33, 1, 1), (3, 20, 5, 40), (2, 17, 4, 4)])
def test_global_avg_pool2d_backward(isa, shape, dtype, layout, rng):
    # a window covering the whole plane: NCHW fills each plane (vector stores, masked tail)
    xs = to_layout(np.empty(shape), layout).shape
    gy = rng.standard_normal(ref.global_avg_pool2d(np.zeros(xs, dtype), layout=layout).shape)
    gy = gy.astype(dtype)
    kw = dict(kernel_size=shape[2:], layout=layout)
    gx = fastconv.avg_pool2d_backward(gy, xs, **kw)
    assert_close(gx, ref.avg_pool2d_backward(gy, xs, **kw), "pool_backward",
                 reduction=shape[2] * shape[3])


# average pooling with disjoint windows (stride >= kernel, no dilation): every input written
# once from one output row; gaps between windows, padding, ceil windows in the end padding
DISJOINT = [(2, None, 0, False), (3, None, 1, True), (2, 3, 1, True), (1, 2, 0, False),
            ((1, 3), (2, 4), (0, 1), True), ((3, 2), (3, 2), 0, False), (5, None, 2, True)]


@pytest.mark.parametrize("geom", DISJOINT)
@pytest.mark.parametrize("shape", [(2, 3, 9, 70), (1, 37, 7, 11), (2, 18, 5, 33), (1, 2, 6, 16)])
def test_avg_pool2d_backward_disjoint(isa, geom, shape, dtype, layout, rng):
    k, s, p, c = geom
    xs = to_layout(np.empty(shape), layout).shape
    for cip, div in [(True, None), (False, None), (True, 5)]:
        kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=cip,
                  divisor_override=div, layout=layout)
        y = ref.avg_pool2d(np.zeros(xs, dtype), **kw)
        gy = rng.standard_normal(y.shape).astype(dtype)
        gy.reshape(-1)[:: 7] = np.nan if cip else np.inf
        gx = fastconv.avg_pool2d_backward(gy, xs, **kw)
        rgx = ref.avg_pool2d_backward(gy, xs, **kw)
        np.testing.assert_array_equal(np.isnan(gx), np.isnan(rgx))
        assert_close(gx, rgx, "pool_backward", reduction=np.prod(k))


@pytest.fixture
def stream_over_8mib():
    """Streamed stores from 8 MiB: the default threshold, 3/4 of the last-level
    cache, can be far above what a test allocates."""
    from fastconv import _pool
    _pool.set_stream_min_bytes(8 * 1048576)
    yield
    _pool.set_stream_min_bytes(0)


def test_stream_threshold_defaults_to_the_cache_size():
    from fastconv import _pool
    before = _pool.set_stream_min_bytes(12345)
    assert _pool.set_stream_min_bytes(0) == 12345
    assert _pool.set_stream_min_bytes(0) == before >= 1048576


@pytest.mark.parametrize("threads", [1, 2])
def test_backward_streamed_stores(isa, threads, dtype, layout, rng, stream_over_8mib):
    # gradients over 8 MiB stream their stores past the caches (non-temporal, full aligned
    # vectors only): rows of 730 values start at every offset from a 64-byte boundary
    old = fastconv.get_num_threads()
    fastconv.set_num_threads(threads)
    try:
        shape = (1, 4, 726, 730) if layout == "NCHW" else (1, 37, 250, 230)
        x = _x(shape, dtype, layout, rng, ties=True)
        assert x.nbytes > 8 * 1048576
        for k, kw in [(3, dict(stride=2, padding=1)), (2, dict(stride=2)),
                      (3, dict(stride=3, ceil_mode=True))]:
            _check_max_backward(x, k, dict(kw, layout=layout), rng)
        for k, kw in [(2, dict(stride=2)), (3, dict(stride=3, padding=1, ceil_mode=True,
                                                    count_include_pad=False))]:
            y = fastconv.avg_pool2d(x, k, **kw, layout=layout)
            gy = rng.standard_normal(y.shape).astype(dtype)
            gx = fastconv.avg_pool2d_backward(gy, x.shape, k, **kw, layout=layout)
            assert_close(gx, ref.avg_pool2d_backward(gy, x.shape, k, **kw, layout=layout),
                         "pool_backward", reduction=k * k)
    finally:
        fastconv.set_num_threads(old)


def test_global_avg_pool2d_backward_streamed(isa, dtype, layout, rng, stream_over_8mib):
    # over 8 MiB of 7x7 planes (NHWC: the disjoint path, streamed)
    xs = to_layout(np.empty((24, 1800, 7, 7)), layout).shape
    gy = rng.standard_normal(ref.global_avg_pool2d(np.zeros(xs, dtype), layout=layout).shape)
    gy = gy.astype(dtype)
    kw = dict(kernel_size=(7, 7), layout=layout)
    gx = fastconv.avg_pool2d_backward(gy, xs, **kw)
    assert gx.nbytes > 8 * 1048576
    assert_close(gx, ref.avg_pool2d_backward(gy, xs, **kw), "pool_backward", reduction=49)
