"""fastconv.reference is an oracle: check it against finite differences, adjointness,
hand-computed cases, a brute-force loop definition of pooling, and PyTorch."""
import itertools

import numpy as np
import pytest

from fastconv import reference as R
from fastconv._shapes import conv_padding
from tolerances import assert_close

from conftest import from_layout, to_layout

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the torch comparisons skip, the rest still runs
    torch = F = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def T(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


# ----------------------------------------------------------------------------
# finite differences (float64)

def numeric_grad(f, x, gy, eps=1e-6):
    """d <f(x), gy> / dx by central differences, one element at a time."""
    x = x.copy()
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = np.vdot(f(x), gy)
        flat[i] = old - eps
        down = np.vdot(f(x), gy)
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return g


CONV_CASES = [
    # (N, C, H, W, K, kh, kw, stride, padding, dilation, groups)
    (2, 3, 5, 6, 4, 3, 3, 1, 0, 1, 1),
    (1, 2, 6, 5, 3, 3, 2, 2, 1, 1, 1),
    (1, 4, 7, 6, 4, 3, 3, (2, 1), ((0, 2), (1, 0)), (1, 2), 2),
    (2, 4, 5, 5, 4, 2, 2, 1, "same", 2, 4),
    (1, 3, 6, 7, 2, 2, 3, (1, 3), "same_lower", 1, 1),
    (1, 2, 4, 4, 6, 1, 1, 2, 2, 1, 2),
    (1, 1, 3, 3, 1, 3, 3, 1, 0, 1, 1),            # kernel == input
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_gradients_match_finite_differences(case):
    N, C, H, W, K, kh, kw, s, p, d, g = case
    rng = np.random.default_rng(7)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((K, C // g, kh, kw))
    b = rng.standard_normal(K)
    y = R.conv2d(x, w, b, s, p, d, g)
    gy = rng.standard_normal(y.shape)
    gx, gw, gb = R.conv2d_backward(gy, x, w, s, p, d, g)
    assert_close(gx, numeric_grad(lambda v: R.conv2d(v, w, b, s, p, d, g), x, gy),
                 "finite_difference")
    assert_close(gw, numeric_grad(lambda v: R.conv2d(x, v, b, s, p, d, g), w, gy),
                 "finite_difference")
    assert_close(gb, numeric_grad(lambda v: R.conv2d(x, w, v, s, p, d, g), b, gy),
                 "finite_difference")
    # the flags skip work and return None in that slot
    assert R.conv2d_backward(gy, x, w, s, p, d, g, input_grad=False)[0] is None
    only_w = R.conv2d_backward(gy, x, w, s, p, d, g, input_grad=False, bias_grad=False)
    assert only_w[0] is None and only_w[2] is None
    np.testing.assert_array_equal(only_w[1], gw)


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case):
    N, C, H, W, K, kh, kw, s, p, d, g = case
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((K, C // g, kh, kw))
    y = R.conv2d(x, w, None, s, p, d, g)
    u = rng.standard_normal(y.shape)
    (pt, pb), (pl, pr) = conv_padding(p, (H, W), (kh, kw), _pair(s), _pair(d))
    sh, sw = _pair(s)
    dh, dw = _pair(d)
    # output_padding recovers the rows/columns the forward's floor dropped
    oph = H - ((y.shape[2] - 1) * sh - pt - pb + dh * (kh - 1) + 1)
    opw = W - ((y.shape[3] - 1) * sw - pl - pr + dw * (kw - 1) + 1)
    xt = R.conv_transpose2d(u, w, None, s, ((pt, pb), (pl, pr)), (oph, opw), g, d)
    assert xt.shape == x.shape
    lhs, rhs = np.vdot(y, u), np.vdot(x, xt)
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))
    # and it equals the input gradient of conv2d
    gx = R.conv2d_backward(u, x, w, s, p, d, g, weight_grad=False, bias_grad=False)[0]
    assert_close(xt, gx, "conv2d_backward")


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


POOL_CASES = [
    # (H, W, kernel, stride, padding, dilation, ceil_mode)
    (6, 7, 2, None, 0, 1, False),
    (7, 7, 3, 2, 1, 1, True),
    (5, 6, (3, 2), (1, 2), ((1, 0), (0, 1)), 1, False),
    (6, 5, 2, 1, 0, (2, 1), False),
    (5, 5, 3, 2, 1, 2, True),
    (4, 4, 2, 3, 1, 1, True),
]


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("cip", [True, False])
def test_avg_pool_backward_matches_finite_differences(case, cip):
    H, W, k, s, p, d, ceil = case
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 2, H, W))
    for dov in (None, 3):
        f = lambda v: R.avg_pool2d(v, k, s, p, ceil, cip, dov, dilation=d)  # noqa: E731
        gy = rng.standard_normal(f(x).shape)
        gx = R.avg_pool2d_backward(gy, x.shape, k, s, p, ceil, cip, dov, dilation=d)
        assert_close(gx, numeric_grad(f, x, gy), "finite_difference")


@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool_backward_matches_finite_differences(case):
    H, W, k, s, p, d, ceil = case
    rng = np.random.default_rng(5)
    # distinct values at least 1e-2 apart: no ties, and eps cannot reorder them
    x = rng.permutation(2 * 2 * H * W).reshape(2, 2, H, W) * 1e-2 + 0.3
    f = lambda v: R.max_pool2d(v, k, s, p, d, ceil)  # noqa: E731
    y, idx = R.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    gy = rng.standard_normal(y.shape)
    gx = R.max_pool2d_backward(gy, x, k, s, p, d, ceil)
    assert_close(gx, numeric_grad(f, x, gy), "finite_difference")
    np.testing.assert_array_equal(R.max_pool2d_backward(gy, x, k, s, p, d, ceil, indices=idx),
                                  gx)


# ----------------------------------------------------------------------------
# brute-force pooling: the definitions of API.md written as loops, one tap at a time

def brute_pool(x, kind, k, s, p, d, ceil, cip=True, dov=None):
    """Pooling of NCHW float64 ``x`` by loops; returns (values, indices)."""
    kh, kw = _pair(k)
    sh, sw = _pair(s) if s is not None else (kh, kw)
    dh, dw = _pair(d)
    N, C, H, W = x.shape
    (pt, pb), (pl, pr) = conv_padding(p, (H, W), (kh, kw), (sh, sw), (dh, dw))

    def out_len(n, k_, s_, d_, b, e):
        span = n + b + e - d_ * (k_ - 1) - 1
        o = (-(-span // s_) if ceil else span // s_) + 1
        if ceil and (o - 1) * s_ >= n + b:
            o -= 1
        return o

    OH, OW = out_len(H, kh, sh, dh, pt, pb), out_len(W, kw, sw, dw, pl, pr)
    y = np.zeros((N, C, OH, OW))
    idx = np.full((N, C, OH, OW), -1, dtype=np.int64)
    for n, c, oh, ow in itertools.product(range(N), range(C), range(OH), range(OW)):
        best, where, total, in_pad, in_img = -np.inf, -1, 0.0, 0, 0
        for i, j in itertools.product(range(kh), range(kw)):
            r, q = oh * sh - pt + i * dh, ow * sw - pl + j * dw
            if -pt <= r < H + pb and -pl <= q < W + pr:
                in_pad += 1
            if 0 <= r < H and 0 <= q < W:
                in_img += 1
                v = x[n, c, r, q]
                total += v
                if where < 0 or v > best or np.isnan(v):
                    best, where = v, r * W + q
        if kind == "max":
            y[n, c, oh, ow], idx[n, c, oh, ow] = best, where
        else:
            div = dov if dov is not None else (in_pad if cip else in_img)
            y[n, c, oh, ow] = total / div if div else np.nan
    return y, idx


@pytest.mark.parametrize("case", POOL_CASES + [
    (5, 5, 2, 2, 2, 1, True),          # windows entirely in padding
    (3, 4, 3, 1, "same", 2, False),
    (4, 5, 2, 2, "same_lower", 1, True),
    (1, 1, 1, 1, 0, 1, False),
    (2, 3, 2, 5, 0, 1, True),          # stride larger than the kernel
])
@pytest.mark.parametrize("cip", [True, False])
@pytest.mark.parametrize("dov", [None, 2])
def test_pooling_matches_brute_force_loops(case, cip, dov):
    H, W, k, s, p, d, ceil = case
    rng = np.random.default_rng(2)
    x = rng.integers(-3, 4, size=(2, 3, H, W)).astype(np.float64)   # many ties
    x[0, 0].flat[0] = np.nan
    ya, _ = brute_pool(x, "avg", k, s, p, d, ceil, cip, dov)
    with np.errstate(invalid="ignore"):
        assert_close(R.avg_pool2d(x, k, s, p, ceil, cip, dov, dilation=d), ya, "avg_pool2d")
    if cip and dov is None:
        ym, im = brute_pool(x, "max", k, s, p, d, ceil)
        y, i = R.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
        np.testing.assert_array_equal(y, ym)
        np.testing.assert_array_equal(i, im)


# ----------------------------------------------------------------------------
# hand-computed cases

def test_conv2d_hand_computed():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    # y[i, j] = x[i, j] - x[i+1, j+1] = -5 everywhere
    np.testing.assert_array_equal(R.conv2d(x, w), np.full((1, 1, 3, 3), -5.0))
    # stride 2 with padding 1: windows at rows/cols -1, 1, 3
    y = R.conv2d(x, w, np.array([0.5]), stride=2, padding=1)
    expected = np.array([[0, -2, 0], [-8, -5, 7], [0, 13, 15]], dtype=float) + 0.5
    np.testing.assert_array_equal(y[0, 0], expected)
    np.testing.assert_array_equal(R.conv2d(x, -w, activation="relu"),
                                  np.full((1, 1, 3, 3), 5.0))
    # groups=2: each output channel sees only its own input channel
    x2 = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))])[None]
    w2 = np.ones((2, 1, 3, 3))
    np.testing.assert_array_equal(R.conv2d(x2, w2, groups=2).ravel(), [9.0, 18.0])
    # dilation 2 over a 5x5 picks the corners, centre and edge midpoints
    x3 = np.arange(25.0).reshape(1, 1, 5, 5)
    assert R.conv2d(x3, np.ones((1, 1, 3, 3)), dilation=2).item() == \
        sum(x3[0, 0, i, j] for i in (0, 2, 4) for j in (0, 2, 4))


def test_conv_transpose2d_hand_computed():
    x = np.array([[[[1.0, 2.0]]]])
    w = np.array([[[[1.0, 10.0]]]])
    # stride 3: two copies of the kernel, a gap between them
    np.testing.assert_array_equal(R.conv_transpose2d(x, w, stride=3)[0, 0],
                                  [[1.0, 10.0, 0.0, 2.0, 20.0]])
    # output_padding adds a trailing zero column; padding crops one from each side
    np.testing.assert_array_equal(R.conv_transpose2d(x, w, stride=3, output_padding=(0, 1))[0, 0],
                                  [[1.0, 10.0, 0.0, 2.0, 20.0, 0.0]])
    np.testing.assert_array_equal(R.conv_transpose2d(x, w, stride=3, padding=(0, 1))[0, 0],
                                  [[10.0, 0.0, 2.0]])
    np.testing.assert_array_equal(R.conv_transpose2d(x, w, bias=np.array([1.0]))[0, 0],
                                  [[2.0, 13.0, 21.0]])


@pytest.mark.parametrize("mode", ["same", "same_lower"])
@pytest.mark.parametrize("H,k,s,d", [(5, 2, 1, 1), (5, 3, 2, 1), (6, 3, 2, 1), (7, 3, 3, 2),
                                     (4, 4, 1, 1), (1, 3, 1, 1), (8, 1, 3, 1), (6, 5, 4, 1)])
def test_same_padding_follows_the_api_formula(mode, H, k, s, d):
    out = -(-H // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - H, 0)
    small, big = total // 2, total - total // 2
    pads = (small, big) if mode == "same" else (big, small)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, H, H + 1))
    w = rng.standard_normal((3, 2, k, k))
    # width: H + 1 may need a different padding; recompute it the same way
    outw = -(-(H + 1) // s)
    tw = max((outw - 1) * s + (k - 1) * d + 1 - (H + 1), 0)
    pw = (tw // 2, tw - tw // 2) if mode == "same" else (tw - tw // 2, tw // 2)
    y = R.conv2d(x, w, stride=s, padding=mode, dilation=d)
    assert y.shape == (1, 3, out, outw)
    np.testing.assert_array_equal(y, R.conv2d(x, w, stride=s, padding=(pads, pw), dilation=d))
    ym = R.max_pool2d(x, k, s, mode, d)
    assert ym.shape == (1, 2, out, outw)
    np.testing.assert_array_equal(ym, R.max_pool2d(x, k, s, (pads, pw), d))
    ya = R.avg_pool2d(x, k, s, mode, dilation=d, count_include_pad=False)
    np.testing.assert_array_equal(ya, R.avg_pool2d(x, k, s, (pads, pw), dilation=d,
                                                   count_include_pad=False))


def test_max_pool_hand_computed_indices_ties_nan_and_empty_windows():
    x = np.array([[[[1.0, 3.0, 3.0],
                    [3.0, 0.0, 2.0]]]])
    y, i = R.max_pool2d(x, 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(y, [[[[3.0, 3.0]]]])
    np.testing.assert_array_equal(i, [[[[1, 1]]]])          # first max in row-major order
    # a window of -inf inputs points at its first input tap, never at padding
    x = np.full((1, 1, 2, 2), -np.inf)
    y, i = R.max_pool2d(x, 2, stride=1, padding=1, return_indices=True)
    assert np.all(y == -np.inf)
    np.testing.assert_array_equal(i[0, 0], [[0, 0, 1], [0, 0, 1], [2, 2, 3]])
    # NaN wins, and the index is the window's last NaN (PyTorch's CPU kernel)
    x = np.array([[[[np.nan, 5.0, np.nan, 1.0]]]])
    y, i = R.max_pool2d(x, (1, 4), return_indices=True)
    assert np.isnan(y).all() and i.item() == 2
    # a window entirely in padding: -inf and index -1, and its gradient is dropped
    x = np.arange(4.0).reshape(1, 1, 2, 2)
    y, i = R.max_pool2d(x, 1, stride=2, padding=1, return_indices=True)
    np.testing.assert_array_equal(y[0, 0], [[-np.inf, -np.inf], [-np.inf, 3.0]])
    np.testing.assert_array_equal(i[0, 0], [[-1, -1], [-1, 3]])
    gx = R.max_pool2d_backward(np.ones((1, 1, 2, 2)), x, 1, 2, 1, indices=i)
    np.testing.assert_array_equal(gx[0, 0], [[0.0, 0.0], [0.0, 1.0]])
    # indices are h * W + w of the input plane in NHWC too, in the output's layout
    xn = np.arange(12.0).reshape(1, 2, 3, 2)      # N H W C
    y, i = R.max_pool2d(xn, 2, stride=1, return_indices=True, layout="NHWC")
    assert i.shape == (1, 1, 2, 2)
    np.testing.assert_array_equal(i[0, 0, :, 0], [4, 5])
    np.testing.assert_array_equal(i[0, 0, :, 1], [4, 5])


def test_avg_pool_hand_computed_divisors():
    x = np.ones((1, 1, 3, 3))
    # 2x2 windows, stride 2, padding 1: every window holds one..four inputs
    y = R.avg_pool2d(x, 2, padding=1)
    np.testing.assert_array_equal(y[0, 0], [[0.25, 0.5], [0.5, 1.0]])
    np.testing.assert_array_equal(R.avg_pool2d(x, 2, padding=1, count_include_pad=False),
                                  np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(R.avg_pool2d(x, 2, padding=1, divisor_override=1)[0, 0],
                                  [[1.0, 2.0], [2.0, 4.0]])
    # ceil mode: H=4, k=3, s=2, no padding -> windows at 0 and 2; the second hangs
    # one row past the input: that row is not counted, even with count_include_pad
    x = np.ones((1, 1, 4, 4))
    np.testing.assert_array_equal(R.avg_pool2d(x, 3, 2, ceil_mode=True), np.ones((1, 1, 2, 2)))
    # dilation 2, count_include_pad: taps are counted, not the span
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    y = R.avg_pool2d(x, 2, stride=1, padding=1, dilation=2)
    assert y.shape == (1, 1, 3, 3)
    assert y[0, 0, 0, 0] == x[0, 0, 1, 1] / 4
    assert y[0, 0, 1, 1] == (x[0, 0, 0, 0] + x[0, 0, 0, 2] + x[0, 0, 2, 0] + x[0, 0, 2, 2]) / 4
    y = R.avg_pool2d(x, 2, stride=1, padding=1, dilation=2, count_include_pad=False)
    assert y[0, 0, 0, 0] == x[0, 0, 1, 1]
    assert y[0, 0, 0, 1] == (x[0, 0, 1, 0] + x[0, 0, 1, 2]) / 2


def test_global_pools_hand_computed():
    x = np.arange(8.0).reshape(1, 2, 2, 2)
    np.testing.assert_array_equal(R.global_avg_pool2d(x).ravel(), [1.5, 5.5])
    np.testing.assert_array_equal(R.global_max_pool2d(x).ravel(), [3.0, 7.0])
    assert R.global_max_pool2d(x, layout="NHWC").shape == (1, 1, 1, 2)
    np.testing.assert_array_equal(R.global_max_pool2d(x, layout="NHWC").ravel(), [6.0, 7.0])
    x[0, 1, 0, 1] = np.nan
    assert np.isnan(R.global_max_pool2d(x)[0, 1, 0, 0])
    assert R.global_avg_pool2d(x[0]).shape == (2, 1, 1)


# ----------------------------------------------------------------------------
# layouts, dtypes, batching, purity

ALL_OPS = {
    "conv2d": lambda x, layout: R.conv2d(
        x, W3.astype(x.dtype), B3.astype(x.dtype), 2, 1, layout=layout),
    "conv_transpose2d": lambda x, layout: R.conv_transpose2d(
        x, W3T.astype(x.dtype), B3[:2].astype(x.dtype), 2, 1, 1, layout=layout),
    "max_pool2d": lambda x, layout: R.max_pool2d(x, 3, 2, 1, ceil_mode=True, layout=layout),
    "avg_pool2d": lambda x, layout: R.avg_pool2d(x, 3, 2, 1, ceil_mode=True, layout=layout),
    "global_avg_pool2d": lambda x, layout: R.global_avg_pool2d(x, layout=layout),
    "global_max_pool2d": lambda x, layout: R.global_max_pool2d(x, layout=layout),
}
_r = np.random.default_rng(9)
W3 = _r.standard_normal((4, 3, 3, 3))
W3T = _r.standard_normal((3, 2, 3, 3))
B3 = _r.standard_normal(4)


@pytest.mark.parametrize("op", sorted(ALL_OPS))
def test_layouts_dtypes_and_batching_agree(op, layout, dtype):
    fn = ALL_OPS[op]
    x = np.random.default_rng(4).standard_normal((2, 3, 7, 6))
    expected = fn(x, "NCHW")                                     # float64 NCHW
    xl = to_layout(x, layout).astype(dtype)
    before = xl.copy()
    y = fn(xl, layout)
    assert y.dtype == dtype and y.flags.c_contiguous
    np.testing.assert_array_equal(xl, before)
    assert_close(from_layout(y, layout), expected.astype(dtype), "torch", dtype)
    y0 = fn(xl[0], layout)                                       # unbatched
    assert y0.shape == y.shape[1:]
    np.testing.assert_array_equal(y0, y[0])


def test_backward_layouts_and_batching():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 4, 6, 5))
    w = rng.standard_normal((6, 2, 3, 2))
    gy = rng.standard_normal(R.conv2d(x, w, None, 2, 1, 1, 2).shape)
    ref = R.conv2d_backward(gy, x, w, 2, 1, 1, 2)
    nhwc = R.conv2d_backward(gy.transpose(0, 2, 3, 1), x.transpose(0, 2, 3, 1), w, 2, 1, 1, 2,
                             layout="NHWC")
    assert_close(nhwc[0].transpose(0, 3, 1, 2), ref[0], "conv2d_backward")
    assert_close(nhwc[1], ref[1], "conv2d_backward")
    assert_close(nhwc[2], ref[2], "conv2d_backward")
    un = R.conv2d_backward(gy[:1][0], x[0], w, 2, 1, 1, 2)
    part = R.conv2d_backward(gy[:1], x[:1], w, 2, 1, 1, 2)
    for a, b in zip(un[1:], part[1:]):
        assert_close(a, b, "conv2d_backward")
    assert_close(un[0], part[0][0], "conv2d_backward")
    f32 = R.conv2d_backward(gy.astype(np.float32), x.astype(np.float32),
                            w.astype(np.float32), 2, 1, 1, 2)
    for a, b in zip(f32, ref):
        assert a.dtype == np.float32
        assert_close(a, b.astype(np.float32), "conv2d_backward", reduction=50)
    gyp = rng.standard_normal(R.max_pool2d(x, 3, 2, 1, ceil_mode=True).shape)
    gm = R.max_pool2d_backward(gyp, x, 3, 2, 1, ceil_mode=True)
    gmn = R.max_pool2d_backward(gyp.transpose(0, 2, 3, 1), x.transpose(0, 2, 3, 1), 3, 2, 1,
                                ceil_mode=True, layout="NHWC")
    np.testing.assert_array_equal(gmn.transpose(0, 3, 1, 2), gm)
    ga = R.avg_pool2d_backward(gyp, x.shape, 3, 2, 1, ceil_mode=True)
    gan = R.avg_pool2d_backward(gyp.transpose(0, 2, 3, 1), (2, 6, 5, 4), 3, 2, 1,
                                ceil_mode=True, layout="NHWC")
    assert_close(gan.transpose(0, 3, 1, 2), ga, "pool_backward")
    np.testing.assert_array_equal(R.avg_pool2d_backward(gyp[1], x.shape[1:], 3, 2, 1,
                                                        ceil_mode=True), ga[1])


def test_empty_batch():
    x = np.zeros((0, 3, 5, 5))
    assert R.conv2d(x, np.ones((2, 3, 3, 3))).shape == (0, 2, 3, 3)
    assert R.max_pool2d(x, 2).shape == (0, 3, 2, 2)
    assert R.avg_pool2d(x, 2).shape == (0, 3, 2, 2)
    assert R.global_max_pool2d(x).shape == (0, 3, 1, 1)
    gx, gw, gb = R.conv2d_backward(np.zeros((0, 2, 3, 3)), x, np.ones((2, 3, 3, 3)))
    assert gx.shape == x.shape and not gw.any() and not gb.any()


# ----------------------------------------------------------------------------
# PyTorch, option by option

@needs_torch
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_ops_match_torch(case):
    N, C, H, W, K, kh, kw, s, p, d, g = case
    rng = np.random.default_rng(21)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((K, C // g, kh, kw))
    b = rng.standard_normal(K)
    (pt, pb), (pl, pr) = conv_padding(p, (H, W), (kh, kw), _pair(s), _pair(d))
    # torch takes only symmetric padding: pad explicitly, then convolve
    xt = T(x).requires_grad_()
    wt, bt = T(w).requires_grad_(), T(b).requires_grad_()
    yt = F.conv2d(F.pad(xt, (pl, pr, pt, pb)), wt, bt, s, 0, d, g)
    y = R.conv2d(x, w, b, s, p, d, g)
    assert_close(y, yt.detach().numpy(), "torch")
    assert_close(R.conv2d(x, w, b, s, p, d, g, activation="relu"),
                 torch.relu(yt).detach().numpy(), "torch")
    gy = rng.standard_normal(y.shape)
    yt.backward(T(gy))
    for got, want in zip(R.conv2d_backward(gy, x, w, s, p, d, g), (xt, wt, bt)):
        assert_close(got, want.grad.numpy(), "torch")
    # conv_transpose2d with symmetric padding and every output_padding allowed
    if pt == pb and pl == pr:
        wT = rng.standard_normal((C, K // g, kh, kw))
        sh, sw = _pair(s)
        dh, dw = _pair(d)
        for op in itertools.product(range(max(sh, dh)), range(max(sw, dw))):
            want = F.conv_transpose2d(T(x), T(wT), T(b), s, (pt, pl), op, g, d).numpy()
            assert_close(R.conv_transpose2d(x, wT, b, s, (pt, pl), op, g, d), want, "torch")


TORCH_POOL_CASES = [
    # (H, W, kernel, stride, padding, dilation) -- torch needs padding <= kernel / 2
    (6, 7, 2, None, 0, 1),
    (7, 7, 3, 2, 1, 1),
    (5, 6, (3, 2), (1, 2), (1, 0), 1),
    (6, 5, 2, 1, 0, (2, 1)),
    (5, 5, 3, 2, 1, 2),
    (4, 4, 2, 2, 1, 1),       # ceil: the extra window starts in the last input row
    (5, 5, 2, 3, 1, 1),       # ceil: an extra window would start in the end padding: dropped
    (5, 5, 2, 2, 1, 1),       # ceil: last window hangs past the end padding
    (6, 6, 3, 3, 1, 1),
    (8, 3, (4, 2), (3, 2), (2, 1), 1),
    (1, 1, 1, 1, 0, 1),
    (2, 3, 2, 5, 0, 1),
]


@needs_torch
@pytest.mark.parametrize("case", TORCH_POOL_CASES)
@pytest.mark.parametrize("ceil", [False, True])
def test_pooling_matches_torch(case, ceil):
    H, W, k, s, p, d = case
    rng = np.random.default_rng(31)
    x = rng.integers(-4, 5, size=(2, 3, H, W)).astype(np.float64)    # ties
    x[1, 2].flat[-1] = np.nan
    try:
        yt, it = F.max_pool2d(T(x), k, s, p, d, ceil, True)
    except RuntimeError:
        pytest.skip("torch rejects this geometry")
    y, i = R.max_pool2d(x, k, s, p, d, ceil, True)
    np.testing.assert_array_equal(y, yt.numpy())
    np.testing.assert_array_equal(i, it.numpy())
    xg = T(x).requires_grad_()
    out = F.max_pool2d(xg, k, s, p, d, ceil)
    gy = rng.standard_normal(out.shape)
    out.backward(T(gy))
    assert_close(R.max_pool2d_backward(gy, x, k, s, p, d, ceil), xg.grad.numpy(), "torch")
    assert_close(R.max_pool2d_backward(gy, x, k, s, p, d, ceil, indices=i), xg.grad.numpy(),
                 "torch")
    if d != 1:
        return                              # torch's avg_pool2d has no dilation
    for cip, dov in itertools.product([True, False], [None, 1, 4]):
        want = F.avg_pool2d(T(x), k, s, p, ceil, cip, dov).numpy()
        assert_close(R.avg_pool2d(x, k, s, p, ceil, cip, dov), want, "torch")
        xg = T(x).requires_grad_()
        F.avg_pool2d(xg, k, s, p, ceil, cip, dov).backward(T(gy))
        assert_close(R.avg_pool2d_backward(gy, x.shape, k, s, p, ceil, cip, dov),
                     xg.grad.numpy(), "torch")


@needs_torch
def test_global_pools_match_torch():
    x = np.random.default_rng(1).standard_normal((3, 4, 5, 7))
    assert_close(R.global_avg_pool2d(x), F.adaptive_avg_pool2d(T(x), 1).numpy(), "torch")
    assert_close(R.global_max_pool2d(x), F.adaptive_max_pool2d(T(x), 1).numpy(), "torch")
