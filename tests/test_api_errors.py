"""Bad input raises ValueError/TypeError naming the argument; odd but valid input
(non-contiguous, Fortran-ordered, unaligned, big-endian, read-only, empty batch)
gives the right answer; inputs are never modified.

Every test runs on the public functions and on ``fastconv.reference``, which
share the contract.
"""
import numpy as np
import pytest

import fastconv
from fastconv import reference


@pytest.fixture(params=["fastconv", "reference"])
def m(request):
    return fastconv if request.param == "fastconv" else reference


_rng = np.random.default_rng(0)
X = _rng.standard_normal((2, 3, 6, 6))
W = _rng.standard_normal((4, 3, 3, 3))
B = _rng.standard_normal(4)
GY = _rng.standard_normal((2, 4, 4, 4))          # conv2d(X, W) output
WT = _rng.standard_normal((3, 2, 3, 3))          # conv_transpose2d(X, WT): 2 channels
GP = _rng.standard_normal((2, 3, 3, 3))          # pool(X, 2) output
IDX = reference.max_pool2d(X, 2, return_indices=True)[1]

# (id, call, exception, regex the message must match)
BAD = [
    # ---- conv2d
    ("conv2d-ndim2", lambda m: m.conv2d(X[0, 0], W), ValueError, "input"),
    ("conv2d-ndim5", lambda m: m.conv2d(X[None], W), ValueError, "input"),
    ("conv2d-weight-ndim", lambda m: m.conv2d(X, W[0]), ValueError, "weight"),
    ("conv2d-channels", lambda m: m.conv2d(X, W[:, :2]), ValueError, "weight|channels"),
    ("conv2d-groups", lambda m: m.conv2d(X, W[:, :1], groups=2), ValueError, "groups"),
    ("conv2d-groups-out", lambda m: m.conv2d(X, np.ones((4, 1, 3, 3)), groups=3), ValueError,
     "groups"),
    ("conv2d-groups0", lambda m: m.conv2d(X, W, groups=0), ValueError, "groups"),
    ("conv2d-stride0", lambda m: m.conv2d(X, W, stride=0), ValueError, "stride"),
    ("conv2d-stride-neg", lambda m: m.conv2d(X, W, stride=(1, -1)), ValueError, "stride"),
    ("conv2d-stride-float", lambda m: m.conv2d(X, W, stride=1.5), TypeError, "stride"),
    ("conv2d-stride-triple", lambda m: m.conv2d(X, W, stride=(1, 1, 1)), ValueError, "stride"),
    ("conv2d-dilation0", lambda m: m.conv2d(X, W, dilation=0), ValueError, "dilation"),
    ("conv2d-kernel0", lambda m: m.conv2d(X, np.ones((4, 3, 0, 3))), ValueError, "weight"),
    ("conv2d-pad-neg", lambda m: m.conv2d(X, W, padding=-1), ValueError, "padding"),
    ("conv2d-pad-side-neg", lambda m: m.conv2d(X, W, padding=((0, -1), (0, 0))), ValueError,
     "padding"),
    ("conv2d-pad-str", lambda m: m.conv2d(X, W, padding="full"), ValueError, "padding"),
    ("conv2d-layout", lambda m: m.conv2d(X, W, layout="NCWH"), ValueError, "layout"),
    ("conv2d-layout-type", lambda m: m.conv2d(X, W, layout=0), ValueError, "layout"),
    ("conv2d-height", lambda m: m.conv2d(X[:, :, :2], W), ValueError, "height"),
    ("conv2d-width", lambda m: m.conv2d(X[:, :, :, :2], W), ValueError, "width"),
    ("conv2d-height-dilation", lambda m: m.conv2d(X, W, dilation=(3, 1)), ValueError, "height"),
    ("conv2d-mixed", lambda m: m.conv2d(X, W.astype(np.float32)), TypeError, "weight"),
    ("conv2d-mixed-bias", lambda m: m.conv2d(X, W, B.astype(np.float32)), TypeError, "bias"),
    ("conv2d-int", lambda m: m.conv2d(X.astype(np.int32), W.astype(np.int32)), TypeError,
     "input"),
    ("conv2d-complex", lambda m: m.conv2d(X.astype(complex), W), TypeError, "input"),
    ("conv2d-object", lambda m: m.conv2d(X.astype(object), W), TypeError, "input"),
    ("conv2d-float16", lambda m: m.conv2d(X.astype(np.float16), W), TypeError, "input"),
    ("conv2d-bool", lambda m: m.conv2d(X > 0, W), TypeError, "input"),
    ("conv2d-bias-shape", lambda m: m.conv2d(X, W, B[:3]), ValueError, "bias"),
    ("conv2d-bias-2d", lambda m: m.conv2d(X, W, B[None]), ValueError, "bias"),
    ("conv2d-activation", lambda m: m.conv2d(X, W, activation="tanh"), ValueError,
     "activation"),
    ("conv2d-none", lambda m: m.conv2d(None, W), TypeError, "input"),
    ("conv2d-weight-none", lambda m: m.conv2d(X, None), TypeError, "weight"),
    ("conv2d-ragged", lambda m: m.conv2d([[1.0, 2.0], [3.0]], W), TypeError, "input"),
    # ---- conv2d_backward
    ("bwd-grad-shape", lambda m: m.conv2d_backward(GY[:, :, :3], X, W), ValueError,
     "grad_output"),
    ("bwd-grad-channels", lambda m: m.conv2d_backward(GY[:, :3], X, W), ValueError,
     "grad_output"),
    ("bwd-grad-ndim", lambda m: m.conv2d_backward(GY[0], X, W), ValueError, "grad_output"),
    ("bwd-grad-dtype", lambda m: m.conv2d_backward(GY.astype(np.float32), X, W), TypeError,
     "grad_output"),
    ("bwd-grad-int", lambda m: m.conv2d_backward(GY.astype(np.int64), X, W), TypeError,
     "grad_output"),
    ("bwd-grad-none", lambda m: m.conv2d_backward(None, X, W), TypeError, "grad_output"),
    ("bwd-input-none", lambda m: m.conv2d_backward(GY, None, W), TypeError, "input"),
    ("bwd-weight-mixed", lambda m: m.conv2d_backward(GY, X, W.astype(np.float32)), TypeError,
     "weight"),
    ("bwd-channels", lambda m: m.conv2d_backward(GY, X, W[:, :2]), ValueError,
     "weight|channels"),
    ("bwd-groups", lambda m: m.conv2d_backward(GY, X, W[:, :1], groups=2), ValueError,
     "groups"),
    ("bwd-stride0", lambda m: m.conv2d_backward(GY, X, W, stride=0), ValueError, "stride"),
    ("bwd-pad-neg", lambda m: m.conv2d_backward(GY, X, W, padding=-2), ValueError, "padding"),
    ("bwd-layout", lambda m: m.conv2d_backward(GY, X, W, layout="CHWN"), ValueError,
     "layout"),
    ("bwd-ndim", lambda m: m.conv2d_backward(GY, X[0, 0], W), ValueError, "input"),
    # ---- conv_transpose2d
    ("convT-ndim", lambda m: m.conv_transpose2d(X[0, 0], WT), ValueError, "input"),
    ("convT-weight-ndim", lambda m: m.conv_transpose2d(X, WT[0]), ValueError, "weight"),
    ("convT-channels", lambda m: m.conv_transpose2d(X, W), ValueError, "weight|channels"),
    ("convT-groups", lambda m: m.conv_transpose2d(X, WT, groups=2), ValueError, "groups"),
    ("convT-stride0", lambda m: m.conv_transpose2d(X, WT, stride=0), ValueError, "stride"),
    ("convT-dilation0", lambda m: m.conv_transpose2d(X, WT, dilation=0), ValueError,
     "dilation"),
    ("convT-pad-neg", lambda m: m.conv_transpose2d(X, WT, padding=-1), ValueError, "padding"),
    ("convT-pad-str", lambda m: m.conv_transpose2d(X, WT, padding="same"), ValueError,
     "padding"),
    ("convT-outpad", lambda m: m.conv_transpose2d(X, WT, stride=2, output_padding=2),
     ValueError, "output_padding"),
    ("convT-outpad-neg", lambda m: m.conv_transpose2d(X, WT, output_padding=-1), ValueError,
     "output_padding"),
    ("convT-empty", lambda m: m.conv_transpose2d(X, WT, padding=5), ValueError, "padding"),
    ("convT-mixed", lambda m: m.conv_transpose2d(X, WT.astype(np.float32)), TypeError,
     "weight"),
    ("convT-int", lambda m: m.conv_transpose2d(X.astype(np.int16), WT), TypeError, "input"),
    ("convT-bias", lambda m: m.conv_transpose2d(X, WT, B), ValueError, "bias"),
    ("convT-layout", lambda m: m.conv_transpose2d(X, WT, layout="nchw5"), ValueError,
     "layout"),
    ("convT-none", lambda m: m.conv_transpose2d(None, WT), TypeError, "input"),
    # ---- max_pool2d
    ("max-ndim", lambda m: m.max_pool2d(X[0, 0], 2), ValueError, "input"),
    ("max-ndim5", lambda m: m.max_pool2d(X[None], 2), ValueError, "input"),
    ("max-kernel0", lambda m: m.max_pool2d(X, 0), ValueError, "kernel_size"),
    ("max-kernel-neg", lambda m: m.max_pool2d(X, (2, -1)), ValueError, "kernel_size"),
    ("max-stride0", lambda m: m.max_pool2d(X, 2, 0), ValueError, "stride"),
    ("max-dilation0", lambda m: m.max_pool2d(X, 2, dilation=0), ValueError, "dilation"),
    ("max-pad-neg", lambda m: m.max_pool2d(X, 2, padding=-1), ValueError, "padding"),
    ("max-pad-str", lambda m: m.max_pool2d(X, 2, padding="nope"), ValueError, "padding"),
    ("max-height", lambda m: m.max_pool2d(X[:, :, :2], 3), ValueError, "height"),
    ("max-width", lambda m: m.max_pool2d(X[:, :, :, :2], 3), ValueError, "width"),
    ("max-layout", lambda m: m.max_pool2d(X, 2, layout="HWC"), ValueError, "layout"),
    ("max-int", lambda m: m.max_pool2d(X.astype(np.int64), 2), TypeError, "input"),
    ("max-complex", lambda m: m.max_pool2d(X.astype(np.complex64), 2), TypeError, "input"),
    ("max-none", lambda m: m.max_pool2d(None, 2), TypeError, "input"),
    # ---- avg_pool2d
    ("avg-ndim", lambda m: m.avg_pool2d(X[0, 0], 2), ValueError, "input"),
    ("avg-kernel0", lambda m: m.avg_pool2d(X, 0), ValueError, "kernel_size"),
    ("avg-stride0", lambda m: m.avg_pool2d(X, 2, 0), ValueError, "stride"),
    ("avg-dilation0", lambda m: m.avg_pool2d(X, 2, dilation=0), ValueError, "dilation"),
    ("avg-pad-neg", lambda m: m.avg_pool2d(X, 2, padding=(0, -1)), ValueError, "padding"),
    ("avg-height", lambda m: m.avg_pool2d(X[:, :, :1], 2), ValueError, "height"),
    ("avg-width", lambda m: m.avg_pool2d(X[:, :, :, :1], 2), ValueError, "width"),
    ("avg-divisor0", lambda m: m.avg_pool2d(X, 2, divisor_override=0), ValueError,
     "divisor_override"),
    ("avg-divisor-neg", lambda m: m.avg_pool2d(X, 2, divisor_override=-3), ValueError,
     "divisor_override"),
    ("avg-divisor-float", lambda m: m.avg_pool2d(X, 2, divisor_override=2.5), TypeError,
     "divisor_override"),
    ("avg-layout", lambda m: m.avg_pool2d(X, 2, layout="NWHC"), ValueError, "layout"),
    ("avg-int", lambda m: m.avg_pool2d(X.astype(np.uint8), 2), TypeError, "input"),
    ("avg-none", lambda m: m.avg_pool2d(None, 2), TypeError, "input"),
    # ---- global pools
    ("gavg-ndim", lambda m: m.global_avg_pool2d(X[0, 0]), ValueError, "input"),
    ("gmax-ndim", lambda m: m.global_max_pool2d(X[None]), ValueError, "input"),
    ("gavg-layout", lambda m: m.global_avg_pool2d(X, layout="X"), ValueError, "layout"),
    ("gmax-layout", lambda m: m.global_max_pool2d(X, layout="X"), ValueError, "layout"),
    ("gavg-int", lambda m: m.global_avg_pool2d(X.astype(np.int32)), TypeError, "input"),
    ("gmax-object", lambda m: m.global_max_pool2d(X.astype(object)), TypeError, "input"),
    ("gavg-none", lambda m: m.global_avg_pool2d(None), TypeError, "input"),
    ("gmax-none", lambda m: m.global_max_pool2d(None), TypeError, "input"),
    # ---- max_pool2d_backward
    ("maxb-grad-shape", lambda m: m.max_pool2d_backward(GP[:, :, :2], X, 2), ValueError,
     "grad_output"),
    ("maxb-grad-dtype", lambda m: m.max_pool2d_backward(GP.astype(np.float32), X, 2),
     TypeError, "grad_output"),
    ("maxb-grad-none", lambda m: m.max_pool2d_backward(None, X, 2), TypeError, "grad_output"),
    ("maxb-input-none", lambda m: m.max_pool2d_backward(GP, None, 2), TypeError, "input"),
    ("maxb-kernel0", lambda m: m.max_pool2d_backward(GP, X, 0), ValueError, "kernel_size"),
    ("maxb-idx-high", lambda m: m.max_pool2d_backward(GP, X, 2, indices=IDX + 36),
     ValueError, "indices"),
    ("maxb-idx-low", lambda m: m.max_pool2d_backward(GP, X, 2, indices=IDX * 0 - 7),
     ValueError, "indices"),
    ("maxb-idx-one-bad", lambda m: m.max_pool2d_backward(
        GP, X, 2, indices=np.where(np.arange(IDX.size).reshape(IDX.shape) == 5, 10**12, IDX)),
     ValueError, "indices"),
    ("maxb-idx-shape", lambda m: m.max_pool2d_backward(GP, X, 2, indices=IDX[:, :, :2]),
     ValueError, "indices"),
    ("maxb-idx-float", lambda m: m.max_pool2d_backward(GP, X, 2, indices=IDX * 1.0),
     TypeError, "indices"),
    ("maxb-layout", lambda m: m.max_pool2d_backward(GP, X, 2, layout="N"), ValueError,
     "layout"),
    # ---- avg_pool2d_backward
    ("avgb-shape-len", lambda m: m.avg_pool2d_backward(GP, (2, 3, 6), 2), ValueError,
     "grad_output|input_shape"),
    ("avgb-shape-5d", lambda m: m.avg_pool2d_backward(GP, (1, 2, 3, 6, 6), 2), ValueError,
     "input_shape"),
    ("avgb-shape-type", lambda m: m.avg_pool2d_backward(GP, None, 2), TypeError,
     "input_shape"),
    ("avgb-grad-shape", lambda m: m.avg_pool2d_backward(GP[:, :2], X.shape, 2), ValueError,
     "grad_output"),
    ("avgb-grad-int", lambda m: m.avg_pool2d_backward(GP.astype(int), X.shape, 2), TypeError,
     "grad_output"),
    ("avgb-grad-none", lambda m: m.avg_pool2d_backward(None, X.shape, 2), TypeError,
     "grad_output"),
    ("avgb-stride0", lambda m: m.avg_pool2d_backward(GP, X.shape, 2, 0), ValueError, "stride"),
    ("avgb-divisor0", lambda m: m.avg_pool2d_backward(GP, X.shape, 2, divisor_override=0),
     ValueError, "divisor_override"),
    ("avgb-layout", lambda m: m.avg_pool2d_backward(GP, X.shape, 2, layout="?"), ValueError,
     "layout"),
]


@pytest.mark.parametrize("call,exc,match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_raises_naming_the_argument(m, call, exc, match):
    with pytest.raises(exc, match=match):
        call(m)


# ----------------------------------------------------------------------------
# odd but valid inputs

def _shapes():
    return {
        "conv2d": ({"x": (2, 4, 7, 6), "w": (6, 2, 3, 2), "b": (6,)},
                   lambda m, a: m.conv2d(a["x"], a["w"], a["b"], (2, 1), 1, 1, 2)),
        "conv2d_nhwc": ({"x": (2, 7, 6, 4), "w": (6, 4, 3, 3), "b": (6,)},
                        lambda m, a: m.conv2d(a["x"], a["w"], a["b"], 1, "same",
                                              layout="NHWC", activation="relu")),
        "conv2d_backward": ({"gy": (2, 6, 4, 7), "x": (2, 4, 7, 6), "w": (6, 2, 3, 2)},
                            lambda m, a: m.conv2d_backward(a["gy"], a["x"], a["w"], (2, 1),
                                                           1, 1, 2)),
        "conv_transpose2d": ({"x": (2, 4, 5, 6), "w": (4, 3, 3, 3), "b": (3,)},
                             lambda m, a: m.conv_transpose2d(a["x"], a["w"], a["b"], 2, 1, 1)),
        "max_pool2d": ({"x": (2, 3, 7, 8)},
                       lambda m, a: m.max_pool2d(a["x"], 3, 2, 1, ceil_mode=True,
                                                 return_indices=True)),
        "avg_pool2d": ({"x": (2, 3, 7, 8)},
                       lambda m, a: m.avg_pool2d(a["x"], 3, 2, 1, ceil_mode=True,
                                                 count_include_pad=False)),
        "global_avg_pool2d": ({"x": (2, 3, 7, 8)}, lambda m, a: m.global_avg_pool2d(a["x"])),
        "global_max_pool2d": ({"x": (2, 7, 8, 3)},
                              lambda m, a: m.global_max_pool2d(a["x"], layout="NHWC")),
        "max_pool2d_backward": ({"gy": (2, 3, 4, 5), "x": (2, 3, 7, 8), "idx": None},
                                lambda m, a: m.max_pool2d_backward(
                                    a["gy"], a["x"], 3, 2, 1, ceil_mode=True,
                                    indices=a["idx"])),
        "avg_pool2d_backward": ({"gy": (2, 4, 5, 3)},
                                lambda m, a: m.avg_pool2d_backward(
                                    a["gy"], (2, 7, 8, 3), 3, 2, 1, ceil_mode=True,
                                    layout="NHWC")),
    }


OPS = _shapes()


def _arrays(op, dtype):
    shapes, _ = OPS[op]
    rng = np.random.default_rng(42)
    a = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items() if s is not None}
    if "idx" in shapes:
        a["idx"] = reference.max_pool2d(a["x"], 3, 2, 1, ceil_mode=True,
                                        return_indices=True)[1]
    return a


def _unaligned(a):
    buf = np.empty(a.nbytes + 1, dtype=np.uint8)
    u = buf[1:].view(a.dtype).reshape(a.shape)
    u[...] = a
    return u


def _strided(a):
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    big[..., ::2] = a
    return big[..., ::2]


def _reversed(a):
    return np.ascontiguousarray(a[..., ::-1])[..., ::-1]


def _readonly(a):
    a = a.copy()
    a.setflags(write=False)
    return a


TRANSFORMS = {
    "strided": _strided,
    "negative-strides": _reversed,
    "fortran": np.asfortranarray,
    "unaligned": _unaligned,
    "big-endian": lambda a: a.astype(a.dtype.newbyteorder(">")),
    "readonly": _readonly,
    "list": lambda a: a.tolist() if a.ndim == 1 else a,       # a bias as a list of floats
}


def _equal(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _equal(g, w)
    elif want is None:
        assert got is None
    else:
        assert isinstance(got, np.ndarray)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("op", sorted(OPS))
def test_odd_memory_layouts_give_the_same_answer(m, op, transform, dtype):
    _, call = OPS[op]
    if transform == "list" and (dtype != np.float64 or "b" not in OPS[op][0]):
        pytest.skip("a list of Python floats is float64; only ops with a bias take one")
    clean = _arrays(op, dtype)
    want = call(m, clean)
    odd = {k: TRANSFORMS[transform](v) for k, v in clean.items()}
    kept = {k: np.array(v, copy=True) for k, v in odd.items()}
    _equal(call(m, odd), want)
    for k in odd:                                    # never modified
        np.testing.assert_array_equal(np.asarray(odd[k]), kept[k])


@pytest.mark.parametrize("op", sorted(OPS))
def test_inputs_are_never_modified(m, op, dtype):
    _, call = OPS[op]
    a = _arrays(op, dtype)
    before = {k: v.copy() for k, v in a.items()}
    call(m, a)
    call(m, a)
    for k in a:
        np.testing.assert_array_equal(a[k], before[k])


def test_empty_batch_gives_empty_result(m, dtype, layout):
    nchw = layout == "NCHW"
    x = np.zeros((0, 3, 6, 5) if nchw else (0, 6, 5, 3), dtype)
    w = np.ones((4, 3, 3, 3), dtype)
    y = m.conv2d(x, w, np.ones(4, dtype), padding=1, layout=layout)
    assert y.shape == ((0, 4, 6, 5) if nchw else (0, 6, 5, 4)) and y.dtype == dtype
    gy = np.zeros(y.shape, dtype)
    gx, gw, gb = m.conv2d_backward(gy, x, w, padding=1, layout=layout)
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == (4,)
    assert not gw.any() and not gb.any()
    yt = m.conv_transpose2d(x, np.ones((3, 2, 3, 3), dtype), layout=layout)
    assert yt.shape == ((0, 2, 8, 7) if nchw else (0, 8, 7, 2))
    y, i = m.max_pool2d(x, 2, return_indices=True, layout=layout)
    assert y.shape == i.shape == ((0, 3, 3, 2) if nchw else (0, 3, 2, 3))
    assert m.max_pool2d_backward(np.zeros(y.shape, dtype), x, 2, layout=layout).shape == x.shape
    assert m.max_pool2d_backward(np.zeros(y.shape, dtype), x, 2, indices=i,
                                 layout=layout).shape == x.shape
    ya = m.avg_pool2d(x, 2, layout=layout)
    assert ya.shape == y.shape and ya.dtype == dtype
    assert m.avg_pool2d_backward(np.zeros(y.shape, dtype), x.shape, 2,
                                 layout=layout).shape == x.shape
    for f in (m.global_avg_pool2d, m.global_max_pool2d):
        assert f(x, layout=layout).shape == ((0, 3, 1, 1) if nchw else (0, 1, 1, 3))
