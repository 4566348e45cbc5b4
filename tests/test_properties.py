"""Property tests (hypothesis): every public op and gradient against fastconv.reference
over random shapes and options, extremes included (1x1 images, kernel equal to the
padded input, stride larger than the kernel, dilation spanning the input, C = 1,
groups = C, many channels on tiny images, padding beyond half the kernel, every
padding form, empty batch), every ISA variant, 1-3 threads, both dtypes and layouts,
batched and unbatched.

Profiles, chosen with the environment variable FASTCONV_HYPOTHESIS_PROFILE:

* ``quick`` (default): 25 examples per test, no deadline; a few seconds each.
* ``long``: 1000 examples per test, no deadline, for a soak run, e.g.
  ``FASTCONV_HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py``.
"""
import contextlib
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis import given, reject

import fastconv
from conftest import from_layout, to_layout
from fastconv import reference
from fastconv._shapes import conv2d_geometry, conv_transpose2d_geometry, pool2d_geometry
from tolerances import assert_close

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                     HealthCheck.data_too_large],
               print_blob=True)
settings.register_profile("fastconv-quick", max_examples=25, **_common)
settings.register_profile("fastconv-long", max_examples=1000, **_common)
PROFILE = os.environ.get("FASTCONV_HYPOTHESIS_PROFILE", "quick")
if PROFILE not in ("quick", "long"):
    raise ValueError(f"FASTCONV_HYPOTHESIS_PROFILE must be 'quick' or 'long', got {PROFILE!r}")
SETTINGS = settings.get_profile(f"fastconv-{PROFILE}")


# ----------------------------------------------------------------------------
# strategies

@st.composite
def run_options(draw):
    """(dtype, layout, batched, isa, threads)."""
    return (np.dtype(draw(st.sampled_from(["float32", "float64"]))),
            draw(st.sampled_from(["NCHW", "NHWC"])),
            draw(st.booleans()),
            draw(st.sampled_from(fastconv.supported_isas())),
            draw(st.integers(1, 3)))


@contextlib.contextmanager
def running(isa, threads):
    fastconv.set_num_threads(threads)
    try:
        with fastconv.use_isa(isa):
            yield
    finally:
        fastconv.set_num_threads(None)


def _padding(draw, kernel, dilation, max_pad, max_extra=7):
    """A padding argument of any form and an input (H, W) it fits.

    ``max_extra`` bounds how much larger than the dilated kernel the padded
    input is (0: the kernel covers the whole padded input). Padding may exceed
    half the kernel.
    """
    form = draw(st.sampled_from(["int", "pair", "sides", "valid", "same", "same_lower"]))
    if form in ("same", "same_lower"):
        hw = tuple(draw(st.integers(1, 2 + max_extra)) for _ in range(2))
        return form, hw
    if form == "valid":
        pads = ((0, 0), (0, 0))
        arg = "valid"
    elif form == "int":
        q = draw(st.integers(0, max_pad))
        pads = ((q, q), (q, q))
        arg = q
    elif form == "pair":
        qh, qw = draw(st.integers(0, max_pad)), draw(st.integers(0, max_pad))
        pads = ((qh, qh), (qw, qw))
        arg = (qh, qw)
    else:
        pads = tuple(tuple(draw(st.integers(0, max_pad)) for _ in range(2)) for _ in range(2))
        arg = pads
    hw = tuple(max(1, (kernel[i] - 1) * dilation[i] + 1 - sum(pads[i])
                   + draw(st.integers(0, max_extra))) for i in range(2))
    return arg, hw


def _maybe_pair(draw, a, b):
    return a if a == b and draw(st.booleans()) else (a, b)


@st.composite
def conv_cases(draw, max_pad=3):
    """Arguments of a valid conv2d: (x_shape NCHW, w_shape, stride, padding, dilation, groups)."""
    shape_kind = draw(st.sampled_from(["general", "depthwise", "many-channels", "c1", "1x1"]))
    max_extra = 7
    if shape_kind == "depthwise":
        g = draw(st.integers(1, 12))
        cg, kg = 1, draw(st.integers(1, 2))
    elif shape_kind == "many-channels":        # on tiny images
        g = draw(st.sampled_from([1, 2]))
        cg, kg = draw(st.integers(8, 40)), draw(st.integers(8, 40))
        max_extra = 1
    elif shape_kind == "c1":
        g, cg, kg = 1, 1, draw(st.integers(1, 20))
    else:
        g = draw(st.integers(1, 3))
        cg, kg = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    kmax = 1 if shape_kind == "1x1" else (3 if shape_kind == "many-channels" else 5)
    kh, kw = draw(st.integers(1, kmax)), draw(st.integers(1, kmax))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding, (H, W) = _padding(draw, (kh, kw), (dh, dw), max_pad, max_extra)
    N = draw(st.sampled_from([0, 1, 1, 2, 3]))
    x_shape = (N, g * cg, H, W)
    w_shape = (g * kg, cg, kh, kw)
    stride, dilation = _maybe_pair(draw, sh, sw), _maybe_pair(draw, dh, dw)
    try:        # the strategy builds valid cases; the shape module has the last word
        conv2d_geometry(x_shape, w_shape, stride, padding, dilation, g, "NCHW")
    except ValueError:
        reject()
    return x_shape, w_shape, stride, padding, dilation, g


def _data(rng, shape, dtype, integers=False):
    if integers:
        return rng.integers(-3, 4, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _layout_in(a, layout, batched):
    a = to_layout(a, layout)
    return a if batched else a[0]


def _layout_out(a, layout, batched):
    if a is None:
        return None
    return from_layout(a if batched else a[None], layout)


# ----------------------------------------------------------------------------
# convolution

@SETTINGS
@given(case=conv_cases(), opts=run_options(), bias=st.booleans(), relu=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_conv2d(case, opts, bias, relu, seed):
    x_shape, w_shape, s, p, d, g = case
    dtype, layout, batched, isa, threads = opts
    if not batched:
        x_shape = (1,) + x_shape[1:]
    rng = np.random.default_rng(seed)
    x, w = _data(rng, x_shape, dtype), _data(rng, w_shape, dtype)
    b = _data(rng, (w_shape[0],), dtype) if bias else None
    act = "relu" if relu else None
    want = reference.conv2d(x, w, b, s, p, d, g, activation=act)
    with running(isa, threads):
        got = fastconv.conv2d(_layout_in(x, layout, batched), w, b, s, p, d, g, layout=layout,
                              activation=act)
    assert_close(_layout_out(got, layout, batched), want, "conv2d",
                 reduction=w_shape[1] * w_shape[2] * w_shape[3])


@SETTINGS
@given(case=conv_cases(), opts=run_options(), flags=st.tuples(st.booleans(), st.booleans(),
                                                              st.booleans()),
       seed=st.integers(0, 2**32 - 1))
def test_conv2d_backward(case, opts, flags, seed):
    x_shape, w_shape, s, p, d, g = case
    dtype, layout, batched, isa, threads = opts
    if not batched:
        x_shape = (1,) + x_shape[1:]
    rng = np.random.default_rng(seed)
    x, w = _data(rng, x_shape, dtype), _data(rng, w_shape, dtype)
    geo = conv2d_geometry(x_shape, w_shape, s, p, d, g, "NCHW")
    gy = _data(rng, geo.output_shape, dtype)
    fl = dict(input_grad=flags[0], weight_grad=flags[1], bias_grad=flags[2])
    want = reference.conv2d_backward(gy, x, w, s, p, d, g, **fl)
    with running(isa, threads):
        got = fastconv.conv2d_backward(_layout_in(gy, layout, batched),
                                       _layout_in(x, layout, batched), w, s, p, d, g,
                                       layout=layout, **fl)
    assert len(got) == 3
    reductions = (w_shape[0] // g * w_shape[2] * w_shape[3],
                  x_shape[0] * geo.OH * geo.OW, x_shape[0] * geo.OH * geo.OW)
    for slot, (a, e, red) in enumerate(zip(got, want, reductions)):
        if e is None:
            assert a is None
            continue
        a = _layout_out(a, layout, batched) if slot == 0 else a
        assert_close(a, e, "conv2d_backward", reduction=red)


@st.composite
def conv_transpose_cases(draw):
    x_shape, w_shape, s, p, d, g = draw(conv_cases(max_pad=2))
    if isinstance(p, str):
        p = 0 if p == "valid" else draw(st.integers(0, 2))
    sh, sw = (s, s) if isinstance(s, int) else s
    dh, dw = (d, d) if isinstance(d, int) else d
    op = (draw(st.integers(0, max(sh, dh) - 1)), draw(st.integers(0, max(sw, dw) - 1)))
    # the conv's output is the transposed conv's input; its weight is reused as is
    N = x_shape[0]
    try:
        geo = conv2d_geometry(x_shape, w_shape, s, p, d, g, "NCHW")
        conv_transpose2d_geometry((N, geo.K, geo.OH, geo.OW), w_shape, s, p, op, g, d, "NCHW")
    except ValueError:
        reject()
    return (N, geo.K, geo.OH, geo.OW), w_shape, s, p, op, g, d


@SETTINGS
@given(case=conv_transpose_cases(), opts=run_options(), bias=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_conv_transpose2d(case, opts, bias, seed):
    x_shape, w_shape, s, p, op, g, d = case
    dtype, layout, batched, isa, threads = opts
    if not batched:
        x_shape = (1,) + x_shape[1:]
    rng = np.random.default_rng(seed)
    x, w = _data(rng, x_shape, dtype), _data(rng, w_shape, dtype)
    b = _data(rng, (w_shape[1] * g,), dtype) if bias else None
    want = reference.conv_transpose2d(x, w, b, s, p, op, g, d)
    with running(isa, threads):
        got = fastconv.conv_transpose2d(_layout_in(x, layout, batched), w, b, s, p, op, g, d,
                                        layout=layout)
    assert_close(_layout_out(got, layout, batched), want, "conv_transpose2d",
                 reduction=w_shape[0] // g * w_shape[2] * w_shape[3])


# ----------------------------------------------------------------------------
# pooling

@st.composite
def pool_cases(draw):
    """(x_shape NCHW, kernel_size, stride, padding, dilation, ceil_mode)."""
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 6), st.integers(1, 6))))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding, (H, W) = _padding(draw, (kh, kw), (dh, dw), max_pad=4)
    C = draw(st.sampled_from([1, 2, 3, 5, 16, 17, 33]))
    N = draw(st.sampled_from([0, 1, 2, 3]))
    ceil = draw(st.booleans())
    kernel, dilation = _maybe_pair(draw, kh, kw), _maybe_pair(draw, dh, dw)
    try:
        pool2d_geometry((N, C, H, W), kernel, stride, padding, dilation, ceil, "NCHW")
    except ValueError:
        reject()
    return (N, C, H, W), kernel, stride, padding, dilation, ceil


@SETTINGS
@given(case=pool_cases(), opts=run_options(), nan=st.booleans(), ties=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_max_pool2d_and_backward(case, opts, nan, ties, seed):
    x_shape, k, s, p, d, ceil = case
    dtype, layout, batched, isa, threads = opts
    if not batched:
        x_shape = (1,) + x_shape[1:]
    rng = np.random.default_rng(seed)
    x = _data(rng, x_shape, dtype, integers=ties)
    if nan and x.size:
        x.flat[rng.integers(x.size)] = np.nan
    want, want_idx = reference.max_pool2d(x, k, s, p, d, ceil, True)
    gy = _data(rng, want.shape, dtype)
    want_gx = reference.max_pool2d_backward(gy, x, k, s, p, d, ceil)
    xl, gyl = _layout_in(x, layout, batched), _layout_in(gy, layout, batched)
    with running(isa, threads):
        got, idx = fastconv.max_pool2d(xl, k, s, p, d, ceil, True, layout=layout)
        plain = fastconv.max_pool2d(xl, k, s, p, d, ceil, layout=layout)
        gx = fastconv.max_pool2d_backward(gyl, xl, k, s, p, d, ceil, layout=layout)
        gxi = fastconv.max_pool2d_backward(gyl, xl, k, s, p, d, ceil, indices=idx,
                                           layout=layout)
    np.testing.assert_array_equal(_layout_out(got, layout, batched), want)
    np.testing.assert_array_equal(plain, got)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(_layout_out(idx, layout, batched), want_idx)
    assert_close(_layout_out(gx, layout, batched), want_gx, "pool_backward")
    assert_close(_layout_out(gxi, layout, batched), want_gx, "pool_backward")


@SETTINGS
@given(case=pool_cases(), opts=run_options(), cip=st.booleans(),
       dov=st.one_of(st.none(), st.integers(1, 30)), seed=st.integers(0, 2**32 - 1))
def test_avg_pool2d_and_backward(case, opts, cip, dov, seed):
    x_shape, k, s, p, d, ceil = case
    dtype, layout, batched, isa, threads = opts
    if not batched:
        x_shape = (1,) + x_shape[1:]
    rng = np.random.default_rng(seed)
    x = _data(rng, x_shape, dtype)
    want = reference.avg_pool2d(x, k, s, p, ceil, cip, dov, dilation=d)
    gy = _data(rng, want.shape, dtype)
    want_gx = reference.avg_pool2d_backward(gy, x.shape, k, s, p, ceil, cip, dov, dilation=d)
    xl, gyl = _layout_in(x, layout, batched), _layout_in(gy, layout, batched)
    with running(isa, threads):
        got = fastconv.avg_pool2d(xl, k, s, p, ceil, cip, dov, dilation=d, layout=layout)
        gx = fastconv.avg_pool2d_backward(gyl, xl.shape, k, s, p, ceil, cip, dov, dilation=d,
                                          layout=layout)
    kh, kw = (k, k) if isinstance(k, int) else k
    assert_close(_layout_out(got, layout, batched), want, "avg_pool2d", reduction=kh * kw)
    assert_close(_layout_out(gx, layout, batched), want_gx, "pool_backward", reduction=kh * kw)


@SETTINGS
@given(shape=st.tuples(st.integers(0, 3), st.integers(1, 40), st.integers(1, 20),
                       st.integers(1, 20)),
       opts=run_options(), nan=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_global_pools(shape, opts, nan, seed):
    dtype, layout, batched, isa, threads = opts
    if not batched:
        shape = (1,) + shape[1:]
    rng = np.random.default_rng(seed)
    x = _data(rng, shape, dtype)
    if nan and x.size:
        x.flat[rng.integers(x.size)] = np.nan
    xl = _layout_in(x, layout, batched)
    with running(isa, threads):
        ya = fastconv.global_avg_pool2d(xl, layout=layout)
        ym = fastconv.global_max_pool2d(xl, layout=layout)
    assert_close(_layout_out(ya, layout, batched), reference.global_avg_pool2d(x),
                 "global_pool", reduction=shape[2] * shape[3])
    np.testing.assert_array_equal(_layout_out(ym, layout, batched),
                                  reference.global_max_pool2d(x))


def test_profile_is_selected_by_environment():
    assert SETTINGS.max_examples == (1000 if PROFILE == "long" else 25)
    assert SETTINGS.deadline is None

