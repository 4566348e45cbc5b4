"""Acceptance tests: the public fast functions against PyTorch, for every ISA variant.

PyTorch is evaluated in float64 on the same (exactly widened) data, so the only
error measured is fastconv's. Gradients come from torch autograd; max-pool
indices are compared exactly (integer-valued inputs make ties on purpose).
"""
import functools
import itertools
import zlib

import numpy as np
import pytest

import fastconv
from conftest import from_layout, to_layout
from fastconv._shapes import conv_padding
from tolerances import assert_close

torch = pytest.importorskip("torch")
F = torch.nn.functional


def T(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _data(rng, shape, dtype, integers=False):
    if integers:
        return rng.integers(-4, 5, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


CONV_GRID = [
    # (N, C, H, W, K, kh, kw, stride, padding, dilation, groups)
    (2, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1),              # small C, odd sizes
    (1, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1),             # whole tiles
    (2, 17, 7, 13, 19, 3, 3, 1, 1, 1, 1),            # edge tiles everywhere
    (1, 8, 10, 9, 24, 3, 3, 2, 1, 1, 1),             # stride 2
    (1, 6, 9, 9, 10, 3, 2, (1, 2), (2, 0), (2, 1), 2),
    (2, 12, 6, 7, 12, 3, 3, 1, 1, 1, 12),            # depthwise
    (1, 8, 11, 10, 16, 3, 3, 2, 1, 1, 8),            # depthwise, multiplier 2, stride 2
    (2, 20, 5, 6, 33, 1, 1, 1, 0, 1, 1),             # 1x1
    (1, 9, 8, 7, 7, 1, 1, 2, 0, 1, 1),               # strided 1x1
    (3, 1, 12, 12, 6, 5, 5, 1, 2, 1, 1),             # C_in = 1 (LeNet-like)
    (1, 3, 15, 14, 8, 7, 7, 2, 3, 1, 1),             # RGB stem
    (1, 4, 6, 6, 4, 3, 3, 1, "same", 2, 1),
    (1, 5, 7, 8, 3, 2, 2, 1, "same", 1, 1),          # odd total padding
    (1, 4, 7, 7, 6, 3, 3, 2, "same_lower", 1, 2),
    (2, 6, 8, 5, 4, 3, 2, (2, 1), ((1, 0), (2, 1)), 1, 1),   # asymmetric
    (1, 3, 4, 4, 2, 4, 4, 1, 0, 1, 1),               # kernel == input
    (1, 4, 3, 3, 4, 3, 3, 3, 2, 1, 2),               # padding > kernel / 2
]


@functools.lru_cache(maxsize=None)
def _torch_conv(case, dtype):
    """Data and torch's float64 results for one grid case (shared by every ISA and layout)."""
    N, C, H, W, K, kh, kw, s, p, d, g = case
    rng = np.random.default_rng(zlib.crc32(str(case).encode()))
    x = _data(rng, (N, C, H, W), dtype)
    w = _data(rng, (K, C // g, kh, kw), dtype)
    b = _data(rng, (K,), dtype)
    (pt, pb), (pl, pr) = conv_padding(p, (H, W), (kh, kw), _pair(s), _pair(d))
    # torch takes only symmetric padding: pad explicitly
    xt, wt, bt = (T(a).requires_grad_() for a in (x, w, b))
    yt = F.conv2d(F.pad(xt, (pl, pr, pt, pb)), wt, bt, s, 0, d, g)
    gy = _data(rng, yt.shape, dtype)
    yt.backward(T(gy))
    want = {"y": yt, "relu": torch.relu(yt), "gx": xt.grad, "gw": wt.grad, "gb": bt.grad}
    want = {k: v.detach().numpy().astype(dtype) for k, v in want.items()}
    return x, w, b, gy, want


@pytest.mark.parametrize("case", CONV_GRID, ids=str)
def test_conv2d_forward_and_gradients(case, dtype, layout, isa):
    N, C, H, W, K, kh, kw, s, p, d, g = case
    x, w, b, gy, want = _torch_conv(case, dtype)
    red = C // g * kh * kw
    xl = to_layout(x, layout)

    y = fastconv.conv2d(xl, w, b, s, p, d, g, layout=layout)
    assert y.dtype == dtype
    assert_close(from_layout(y, layout), want["y"], "torch", reduction=red)
    y = fastconv.conv2d(xl, w, b, s, p, d, g, layout=layout, activation="relu")
    assert_close(from_layout(y, layout), want["relu"], "torch", reduction=red)

    gx, gw, gb = fastconv.conv2d_backward(to_layout(gy, layout), xl, w, s, p, d, g,
                                          layout=layout)
    assert_close(from_layout(gx, layout), want["gx"], "torch", reduction=K // g * kh * kw)
    assert_close(gw, want["gw"], "torch", reduction=gy[:, 0].size)
    assert_close(gb, want["gb"], "torch", reduction=gy[:, 0].size)
    none_x, only_w, none_b = fastconv.conv2d_backward(to_layout(gy, layout), xl, w, s, p, d,
                                                      g, layout=layout, input_grad=False,
                                                      bias_grad=False)
    assert none_x is None and none_b is None
    assert_close(only_w, gw, "conv2d_backward", reduction=gy[:, 0].size)


@pytest.mark.parametrize("case", [c for c in CONV_GRID if isinstance(c[8], int) or (
    isinstance(c[8], tuple) and isinstance(c[8][0], int))], ids=str)
def test_conv_transpose2d(case, dtype, layout, isa):
    N, Cout, H, W, Cin, kh, kw, s, p, d, g = case     # the adjoint of the forward grid
    rng = np.random.default_rng(zlib.crc32(str(case).encode()))
    sh, sw = _pair(s)
    dh, dw = _pair(d)
    ph, pw = _pair(p)
    x = _data(rng, (N, Cin, max(1, H // sh), max(1, W // sw)), dtype)
    w = _data(rng, (Cin, Cout // g, kh, kw), dtype)
    b = _data(rng, (Cout,), dtype)
    for op in itertools.product(range(max(sh, dh)), range(max(sw, dw))):
        try:
            want = F.conv_transpose2d(T(x), T(w), T(b), s, p, op, g, d).numpy()
        except RuntimeError:
            continue                        # torch finds the output empty
        y = fastconv.conv_transpose2d(to_layout(x, layout), w, b, s, p, op, g, d,
                                      layout=layout)
        assert_close(from_layout(y, layout), want.astype(dtype), "torch",
                     reduction=Cin // g * kh * kw)


POOL_GRID = [
    # (N, C, H, W, kernel, stride, padding, dilation) -- torch-valid: padding <= kernel / 2
    (2, 3, 8, 8, 2, None, 0, 1),
    (1, 5, 9, 11, 3, 2, 1, 1),
    (2, 17, 7, 13, 3, 1, 1, 1),          # edge tiles in channels and width
    (1, 4, 10, 9, (3, 2), (2, 1), (1, 1), 1),
    (1, 3, 9, 9, 3, 2, 1, 2),            # dilation (max pool only in torch)
    (1, 2, 5, 5, 2, 3, 1, 1),            # ceil: a window would start in the end padding
    (1, 2, 5, 6, 2, 2, 1, 1),            # ceil: a window hangs past the end padding
    (2, 33, 4, 4, 2, 2, 0, 1),
    (1, 16, 14, 14, 3, 2, 0, 1),
    (1, 2, 1, 1, 1, 1, 0, 1),
    (1, 3, 3, 17, (1, 4), (1, 3), (0, 2), 1),
    (1, 2, 6, 6, 6, 1, 3, 1),            # kernel = input, padding = kernel / 2
]


@pytest.mark.parametrize("case", POOL_GRID, ids=str)
@pytest.mark.parametrize("ceil", [False, True])
def test_max_pool2d(case, ceil, dtype, layout, isa):
    N, C, H, W, k, s, p, d = case
    rng = np.random.default_rng(zlib.crc32(str(case).encode()))
    x = _data(rng, (N, C, H, W), dtype, integers=True)       # ties on purpose
    x[0, 0, H // 2, W // 2] = np.nan                          # one NaN
    xt = T(x).requires_grad_()
    yt, it = F.max_pool2d(xt, k, s, p, d, ceil, True)
    xl = to_layout(x, layout)
    y, i = fastconv.max_pool2d(xl, k, s, p, d, ceil, True, layout=layout)
    assert y.dtype == dtype and i.dtype == np.int64
    np.testing.assert_array_equal(from_layout(y, layout), yt.detach().numpy().astype(dtype))
    np.testing.assert_array_equal(from_layout(i, layout), it.numpy())
    np.testing.assert_array_equal(fastconv.max_pool2d(xl, k, s, p, d, ceil, layout=layout), y)

    gy = _data(rng, yt.shape, dtype)
    yt.backward(T(gy))
    want = xt.grad.numpy().astype(dtype)
    gyl = to_layout(gy, layout)
    gx = fastconv.max_pool2d_backward(gyl, xl, k, s, p, d, ceil, layout=layout)
    assert_close(from_layout(gx, layout), want, "torch", reduction=4)
    gx = fastconv.max_pool2d_backward(gyl, xl, k, s, p, d, ceil, indices=i, layout=layout)
    assert_close(from_layout(gx, layout), want, "torch", reduction=4)


@pytest.mark.parametrize("case", [c for c in POOL_GRID if c[7] == 1], ids=str)
@pytest.mark.parametrize("ceil", [False, True])
def test_avg_pool2d(case, ceil, dtype, layout, isa):
    N, C, H, W, k, s, p, _ = case
    rng = np.random.default_rng(zlib.crc32(str(case).encode()))
    x = _data(rng, (N, C, H, W), dtype)
    xl = to_layout(x, layout)
    kh, kw = _pair(k)
    for cip, dov in [(True, None), (False, None), (True, 3), (False, 1)]:
        xt = T(x).requires_grad_()
        yt = F.avg_pool2d(xt, k, s, p, ceil, cip, dov)
        y = fastconv.avg_pool2d(xl, k, s, p, ceil, cip, dov, layout=layout)
        assert y.dtype == dtype
        assert_close(from_layout(y, layout), yt.detach().numpy().astype(dtype), "torch",
                     reduction=kh * kw)
        gy = _data(rng, yt.shape, dtype)
        yt.backward(T(gy))
        gx = fastconv.avg_pool2d_backward(to_layout(gy, layout), xl.shape, k, s, p, ceil,
                                          cip, dov, layout=layout)
        assert gx.shape == xl.shape and gx.dtype == dtype
        assert_close(from_layout(gx, layout), xt.grad.numpy().astype(dtype), "torch",
                     reduction=kh * kw)


@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (1, 17, 1, 1), (3, 64, 5, 4), (1, 1, 13, 31)])
def test_global_pools(shape, dtype, layout, isa):
    x = _data(np.random.default_rng(0), shape, dtype)
    xl = to_layout(x, layout)
    ya = fastconv.global_avg_pool2d(xl, layout=layout)
    ym = fastconv.global_max_pool2d(xl, layout=layout)
    assert ya.shape == ym.shape == to_layout(np.empty(shape[:2] + (1, 1)), layout).shape
    assert_close(from_layout(ya, layout),
                 F.adaptive_avg_pool2d(T(x), 1).numpy().astype(dtype), "torch",
                 reduction=shape[2] * shape[3])
    np.testing.assert_array_equal(from_layout(ym, layout),
                                  F.adaptive_max_pool2d(T(x), 1).numpy().astype(dtype))


def test_unbatched_matches_torch(dtype, isa):
    rng = np.random.default_rng(5)
    x = _data(rng, (3, 8, 9), dtype)
    w = _data(rng, (4, 3, 3, 3), dtype)
    y = fastconv.conv2d(x, w, padding=1)
    assert y.shape == (4, 8, 9)
    assert_close(y, F.conv2d(T(x), T(w), padding=1).numpy().astype(dtype), "torch",
                 reduction=27)
    y, i = fastconv.max_pool2d(x, 2, return_indices=True)
    yt, it = F.max_pool2d(T(x), 2, return_indices=True)
    np.testing.assert_array_equal(y, yt.numpy().astype(dtype))
    np.testing.assert_array_equal(i, it.numpy())
    assert_close(fastconv.avg_pool2d(x, 3, 2, 1), F.avg_pool2d(T(x), 3, 2, 1).numpy()
                 .astype(dtype), "torch", reduction=9)
