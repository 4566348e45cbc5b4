"""fastconv.jax against jax.lax (conv_general_dilated, reduce_window): values and gradients."""
import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
fcj = pytest.importorskip("fastconv.jax")
from jax import lax  # noqa: E402

from tolerances import assert_close  # noqa: E402

LAYOUTS = ["NCHW", "NHWC"]


def _rand(shape, seed):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _to_layout(x, layout):
    return x if layout == "NCHW" else jnp.transpose(x, (0, 2, 3, 1))


def _spatial_pads(padding):
    (t, b), (l, r) = padding
    return [(t, b), (l, r)]


CONV_CASES = [  # (N, C, H, W, K, kh, kw, stride, padding ((t, b), (l, r)), dilation, groups, bias)
    (2, 3, 9, 8, 5, 3, 3, (1, 1), ((1, 1), (1, 1)), (1, 1), 1, True),
    (1, 4, 10, 7, 6, 3, 2, (2, 1), ((2, 0), (1, 1)), (1, 2), 2, False),
    (3, 6, 6, 6, 6, 3, 3, (1, 1), ((1, 1), (1, 1)), (1, 1), 6, True),
    (2, 1, 12, 12, 6, 5, 5, (1, 1), ((0, 0), (0, 0)), (1, 1), 1, False),
]


def _lax_conv(x, w, b, stride, padding, dilation, groups, layout):
    dn = (layout, "OIHW", layout)
    y = lax.conv_general_dilated(x, w, stride, _spatial_pads(padding), rhs_dilation=dilation,
                                 dimension_numbers=dn, feature_group_count=groups,
                                 precision=lax.Precision.HIGHEST)
    if b is not None:
        y = y + (b[:, None, None] if layout == "NCHW" else b)
    return y


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_conv2d_matches_lax(case, layout):
    n, c, h, w_, k, kh, kw, stride, padding, dilation, groups, with_bias = case
    x = _to_layout(_rand((n, c, h, w_), 0), layout)
    w = _rand((k, c // groups, kh, kw), 1)
    b = _rand((k,), 2) if with_bias else None
    args = (stride, padding, dilation, groups)

    y = jax.jit(lambda x, w, b: fcj.conv2d(x, w, b, *args, layout=layout))(x, w, b)
    ref = _lax_conv(x, w, b, *args, layout)
    reduction = c // groups * kh * kw
    assert_close(np.asarray(y), np.asarray(ref), "conv2d", reduction=reduction)

    g = _rand(ref.shape, 3)

    def loss(f):
        return lambda x, w, b: jnp.sum(f(x, w, b) * g)

    argnums = (0, 1, 2) if with_bias else (0, 1)
    got = jax.jit(jax.grad(loss(lambda x, w, b: fcj.conv2d(x, w, b, *args, layout=layout)),
                           argnums=argnums))(x, w, b)
    want = jax.grad(loss(lambda x, w, b: _lax_conv(x, w, b, *args, layout)),
                    argnums=argnums)(x, w, b)
    for a, e in zip(got, want):
        assert_close(np.asarray(a), np.asarray(e), "conv2d_backward",
                     reduction=max(reduction, ref.shape[0] * ref.shape[2] * ref.shape[3]))


def test_conv2d_unbatched_and_vmap():
    x, w = _rand((3, 6, 6), 0), _rand((4, 3, 3, 3), 1)
    y = fcj.conv2d(x, w, padding=1)
    ref = _lax_conv(x[None], w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1, "NCHW")[0]
    assert_close(np.asarray(y), np.asarray(ref), "conv2d", reduction=27)
    xs = _rand((5, 2, 3, 6, 6), 2)   # vmap over an extra leading axis
    ys = jax.vmap(lambda x: fcj.conv2d(x, w, padding=1))(xs)
    refs = _lax_conv(xs.reshape(10, 3, 6, 6), w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1,
                     "NCHW").reshape(5, 2, 4, 6, 6)
    assert_close(np.asarray(ys), np.asarray(refs), "conv2d", reduction=27)


POOL_CASES = [  # (shape NCHW, kernel, stride, padding, dilation)
    ((2, 3, 8, 8), (2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1)),
    ((2, 3, 9, 7), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1)),
    ((1, 5, 10, 11), (3, 2), (2, 1), ((1, 1), (0, 0)), (1, 2)),
]


def _window(layout, kernel, stride, padding, dilation):
    if layout == "NCHW":
        return ((1, 1) + kernel, (1, 1) + stride, [(0, 0), (0, 0)] + _spatial_pads(padding),
                (1, 1) + dilation)
    return ((1,) + kernel + (1,), (1,) + stride + (1,),
            [(0, 0)] + _spatial_pads(padding) + [(0, 0)], (1,) + dilation + (1,))


def _lax_max(x, kernel, stride, padding, dilation, layout):
    dims, strides, pads, dil = _window(layout, kernel, stride, padding, dilation)
    return lax.reduce_window(x, -jnp.inf, lax.max, dims, strides, pads, window_dilation=dil)


def _lax_avg(x, kernel, stride, padding, dilation, layout):   # count_include_pad=True
    dims, strides, pads, dil = _window(layout, kernel, stride, padding, dilation)
    total = lax.reduce_window(x, 0.0, lax.add, dims, strides, pads, window_dilation=dil)
    return total / (kernel[0] * kernel[1])


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", ["max", "avg"])
def test_pooling_matches_lax(case, layout, op):
    shape, kernel, stride, padding, dilation = case
    x = _to_layout(_rand(shape, 4), layout)
    if op == "max":
        def fast(x):
            return fcj.max_pool2d(x, kernel, stride, padding, dilation, layout=layout)

        def ref(x):
            return _lax_max(x, kernel, stride, padding, dilation, layout)
        tol_fwd, tol_bwd = "max_pool2d", "pool_backward"
    else:
        def fast(x):
            return fcj.avg_pool2d(x, kernel, stride, padding, dilation=dilation, layout=layout)

        def ref(x):
            return _lax_avg(x, kernel, stride, padding, dilation, layout)
        tol_fwd, tol_bwd = "avg_pool2d", "pool_backward"
    y = jax.jit(fast)(x)
    want = ref(x)
    assert_close(np.asarray(y), np.asarray(want), tol_fwd)
    g = _rand(want.shape, 5)
    got_grad = jax.jit(jax.grad(lambda x: jnp.sum(fast(x) * g)))(x)
    if op == "max" and dilation != (1, 1):   # lax has no VJP for dilated max windows
        from fastconv import reference
        want_grad = reference.max_pool2d_backward(np.asarray(g), np.asarray(x), kernel, stride,
                                                  padding, dilation, layout=layout)
    else:
        want_grad = jax.grad(lambda x: jnp.sum(ref(x) * g))(x)
    assert_close(np.asarray(got_grad), np.asarray(want_grad), tol_bwd)


def test_avg_pool2d_options_against_numpy_api():
    x = _rand((2, 3, 7, 7), 6)
    opts = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    import fastconv
    y = fcj.avg_pool2d(x, **opts)
    assert_close(np.asarray(y), fastconv.avg_pool2d(np.asarray(x), **opts), "avg_pool2d")
    gx = jax.grad(lambda x: fcj.avg_pool2d(x, **opts).sum())(x)
    want = fastconv.avg_pool2d_backward(np.ones(y.shape, np.float32), x.shape, **opts)
    assert_close(np.asarray(gx), want, "pool_backward")


def test_small_cnn_trains_under_jit():
    w1, w2 = _rand((4, 1, 3, 3), 7) * 0.3, _rand((3, 4 * 3 * 3), 8) * 0.3
    x = _rand((8, 1, 6, 6), 9)
    labels = jnp.arange(8) % 3

    def loss(params, x):
        w1, w2 = params
        h = jax.nn.relu(fcj.conv2d(x, w1, padding=1))
        h = fcj.max_pool2d(h, 2).reshape(x.shape[0], -1)
        logits = h @ w2.T
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(x.shape[0]), labels])

    step = jax.jit(lambda p, x: jax.tree_util.tree_map(
        lambda a, g: a - 0.5 * g, p, jax.grad(loss)(p, x)))
    params = (w1, w2)
    first = float(loss(params, x))
    for _ in range(20):
        params = step(params, x)
    assert float(loss(params, x)) < 0.5 * first


def test_bad_arguments_raise_at_trace_time():
    x, w = _rand((1, 2, 6, 6), 0), _rand((3, 2, 3, 3), 1)
    with pytest.raises(ValueError, match="groups"):
        fcj.conv2d(x, w, groups=2)
    with pytest.raises(ValueError, match="stride"):
        fcj.max_pool2d(x, 2, stride=0)
    with pytest.raises(TypeError, match="dtype"):
        fcj.conv2d(x, w.astype(jnp.bfloat16))
