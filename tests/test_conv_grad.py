"""conv2d_backward and conv_transpose2d against fastconv.reference, every ISA."""
import numpy as np
import pytest

import fastconv
from fastconv import reference
from conftest import from_layout, to_layout
from tolerances import assert_close

# (N, C, K, H, W, (kH, kW), stride, padding, dilation, groups)
CASES = [
    (2, 3, 4, 7, 9, (3, 3), 1, 1, 1, 1),                  # basic, odd sizes
    (1, 5, 7, 8, 8, (1, 1), 1, 0, 1, 1),                  # 1x1
    (1, 70, 130, 6, 7, (1, 1), 2, 0, 1, 1),               # 1x1 stride 2, edge tiles
    (2, 4, 6, 9, 8, (3, 2), 2, ((1, 0), (2, 1)), 1, 2),   # asymmetric padding, groups
    (1, 5, 7, 11, 10, (3, 3), (3, 2), 2, 2, 1),           # stride 3x2 + dilation
    (1, 3, 8, 9, 10, (5, 5), 1, "same", 1, 1),            # "same", big kernel
    (1, 4, 5, 9, 8, (4, 4), 2, "same", 1, 1),             # "same" with even kernel, stride
    (2, 4, 4, 7, 7, (3, 3), 1, "same_lower", (1, 2), 1),  # same_lower + dilation
    (2, 6, 6, 8, 9, (3, 3), 2, 1, 1, 6),                  # depthwise stride 2
    (1, 8, 16, 7, 7, (3, 3), 1, 1, 1, 8),                 # depthwise multiplier 2
    (3, 1, 6, 12, 12, (5, 5), 1, 2, 1, 1),                # LeNet-like C_in = 1
    (2, 6, 16, 9, 9, (5, 5), 1, 0, 1, 1),                 # LeNet-like 6 -> 16
    (1, 2, 3, 10, 10, (2, 2), 3, 0, 1, 1),                # stride > kernel: pixels no tap reaches
    (1, 3, 5, 13, 11, (7, 7), 2, 3, 1, 1),                # stem-like 7x7/2
    (1, 9, 130, 5, 6, (3, 3), 1, 1, 1, 1),                # K > panel (stride 1: flipped conv2d)
    (1, 20, 12, 6, 5, (2, 3), (1, 2), ((0, 2), (1, 0)), (2, 1), 4),
    # C/G <= 7 takes the planar grad-input path; these keep igemm's covered too
    (2, 24, 10, 9, 8, (3, 2), 2, ((1, 0), (2, 1)), 1, 2),  # igemm: C/G = 12, groups, stride
    (1, 16, 12, 11, 10, (3, 3), (3, 2), 2, 2, 1),          # igemm: stride 3x2 + dilation
    (1, 2, 512, 20, 30, (3, 3), 1, 1, 1, 1),               # planar: several row bands
    (1, 20, 20, 9, 11, (3, 3), 1, 1, 1, 20),               # depthwise: NHWC group blocks, partial
    (2, 40, 40, 9, 8, (5, 5), (2, 1), ((2, 1), (0, 3)), (1, 2), 40),  # depthwise: 25 taps, 2 blocks
    (2, 12, 12, 9, 10, (3, 5), 1, ((2, 0), (1, 3)), (2, 1), 12),  # depthwise stride 1: flipped conv2d
    (1, 4, 4, 6, 6, (3, 3), 1, 3, 1, 4),                   # depthwise, padding past the kernel's reach
    (1, 6, 10, 9, 11, (1, 1), (2, 3), 1, 1, 1),            # 1x1 strided + padding: sampled band
    (2, 5, 9, 8, 9, (1, 3), 2, (0, 1), 1, 1),              # 1-high kernel, stride 2: sampled rows
    (2, 7, 7, 30, 33, (3, 3), 1, 2, 2, 7),                 # depthwise planes: several vectors, dilated
    (2, 1, 6, 14, 13, (5, 3), 1, (2, 1), (1, 2), 1),       # C_in = 1 planes, NHWC too, dilated
    (2, 3, 3, 13, 12, (3, 3), (2, 3), 1, 1, 3),            # depthwise NHWC grad input: 6 phases
    (1, 9, 130, 5, 6, (3, 3), 2, 1, 1, 1),                # K > panel: K-chunked igemm grad input
    (2, 16, 24, 7, 8, (3, 2), 1, ((1, 0), (0, 1)), (1, 2), 2),  # groups, stride 1: flipped conv2d
    # strided grad weight with one input channel per group
    (2, 1, 6, 15, 14, (5, 3), (2, 3), (2, 1), (2, 1), 1),  # C_in = 1, strided and dilated
    (1, 5, 5, 13, 12, (3, 3), 2, 2, 2, 5),                 # depthwise stride 2 = dilation: taps in one phase
    (1, 3, 3, 10, 11, (2, 2), 3, 0, 1, 3),                 # depthwise stride 3 > kernel
    (2, 9, 9, 17, 16, (3, 3), 2, 1, 1, 9),                 # depthwise stride 2, several vectors
    # grad weight with the output channels in the vector lanes (swapped GEMM)
    (1, 3, 64, 23, 21, (7, 7), 2, 3, 1, 1),                # RGB stem: 21 (kw, c) columns
    (2, 3, 40, 13, 12, (7, 5), 2, (3, 2), 1, 1),           # partial channel tile, batch
    (1, 2, 48, 11, 10, (3, 3), 1, 1, 2, 1),                # dilated: the columns are channels
    (1, 6, 128, 12, 11, (7, 7), 2, 3, 1, 2),               # groups
    # stride-1 grad input, pixel-major with the weights read in place
    (1, 200, 200, 5, 6, (3, 3), 1, 1, 1, 1),               # one partial pixel tile
    (1, 130, 150, 4, 5, (3, 3), 1, ((2, 0), (0, 1)), (1, 2), 1),  # padding, dilation
    (1, 128, 128, 8, 8, (1, 1), 1, 0, 1, 2),               # groups, 1x1, a full tile
    (1, 64, 96, 7, 7, (3, 3), 1, 3, 1, 1),                 # padding past the kernel's reach
    # stride-1 grad input through the igemm path (weights > 64K: not flipped)
    (2, 96, 80, 9, 10, (3, 3), 1, 1, 1, 1),                # partial channel block and tile
    (1, 72, 104, 11, 12, (3, 3), 1, 1, 1, 1),              # two pixel blocks
    # 1x1 strided NHWC grad input: strided GEMM into the hit pixels, gaps zeroed
    (2, 60, 300, 21, 22, (1, 1), 2, 0, 1, 1),              # partial tiles, 2 filter chunks
    (1, 120, 40, 14, 34, (1, 1), 3, 0, 1, 2),              # groups, stride 3, unhit last rows
    (1, 64, 32, 9, 12, (1, 1), (2, 1), 0, 1, 1),           # stride 2x1: whole rows hit
]
IDS = [f"case{i}" for i in range(len(CASES))]


def make(case, dtype, layout, rng):
    N, C, K, H, W, k, s, p, d, g = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C // g) + k).astype(dtype)
    y = reference.conv2d(x, w, None, s, p, d, g)
    gy = rng.standard_normal(y.shape).astype(dtype)
    return to_layout(x, layout), w, to_layout(gy, layout), (s, p, d, g)


def check_all(got, want, case, dtype):
    """Compare (gx, gw, gb); float error grows with each one's reduction length."""
    N, C, K, H, W, k, s, p, d, g = case
    pixels = max(1, N * want[0].size // max(1, N * C)) if want[0] is not None else H * W
    assert_close(got[0], want[0], "conv2d_backward", dtype, reduction=(K // g) * k[0] * k[1])
    assert_close(got[1], want[1], "conv2d_backward", dtype, reduction=pixels)
    assert_close(got[2], want[2], "conv2d_backward", dtype, reduction=pixels)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_matches_reference(case, dtype, layout, isa, rng):
    x, w, gy, (s, p, d, g) = make(case, dtype, layout, rng)
    x0, w0, gy0 = x.copy(), w.copy(), gy.copy()
    got = fastconv.conv2d_backward(gy, x, w, s, p, d, g, layout=layout)
    want = reference.conv2d_backward(gy, x, w, s, p, d, g, layout=layout)
    check_all(got, want, case, dtype)
    # inputs untouched
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(gy, gy0)


def test_large_channels_split_over_output_channels(isa, rng):
    # grad weight big enough that private copies per thread are refused:
    # the driver splits the output channels between threads instead
    case = (1, 1024, 2048, 3, 3, (1, 1), 1, 0, 1, 1)
    x, w, gy, (s, p, d, g) = make(case, np.float32, "NHWC", rng)
    with_threads = fastconv.get_num_threads()
    try:
        fastconv.set_num_threads(2)
        got = fastconv.conv2d_backward(gy, x, w, layout="NHWC")
    finally:
        fastconv.set_num_threads(with_threads)
    want = reference.conv2d_backward(gy, x, w, layout="NHWC")
    check_all(got, want, case, np.float32)


@pytest.mark.parametrize("case", [CASES[0], CASES[3], CASES[4]], ids=["basic", "groups", "dil"])
def test_unbatched(case, layout, rng):
    x, w, gy, (s, p, d, g) = make(case, np.float64, layout, rng)
    got = fastconv.conv2d_backward(gy[0], x[0], w, s, p, d, g, layout=layout)
    want = reference.conv2d_backward(gy[:1], x[:1], w, s, p, d, g, layout=layout)
    assert got[0].shape == x[0].shape
    assert_close(got[0], want[0][0], "conv2d_backward")
    assert_close(got[1], want[1], "conv2d_backward")
    assert_close(got[2], want[2], "conv2d_backward")


@pytest.mark.parametrize("flags", [(False, True, True), (True, False, True), (True, True, False),
                                   (False, False, True), (False, True, False),
                                   (True, False, False), (False, False, False)])
def test_flags_skip_work(flags, rng):
    case = CASES[3]
    x, w, gy, (s, p, d, g) = make(case, np.float32, "NCHW", rng)
    fi, fw, fb = flags
    got = fastconv.conv2d_backward(gy, x, w, s, p, d, g, input_grad=fi, weight_grad=fw,
                                   bias_grad=fb)
    want = reference.conv2d_backward(gy, x, w, s, p, d, g)
    for flag, a, b in zip(flags, got, want):
        if flag:
            assert_close(a, b, "conv2d_backward", reduction=100)
        else:
            assert a is None


def test_empty_batch(layout):
    x = np.zeros((0, 3, 5, 5) if layout == "NCHW" else (0, 5, 5, 3), np.float32)
    w = np.ones((4, 3, 3, 3), np.float32)
    gy = np.zeros((0, 4, 3, 3) if layout == "NCHW" else (0, 3, 3, 4), np.float32)
    gx, gw, gb = fastconv.conv2d_backward(gy, x, w, layout=layout)
    assert gx.shape == x.shape and gx.dtype == np.float32
    np.testing.assert_array_equal(gw, np.zeros_like(w))
    np.testing.assert_array_equal(gb, np.zeros(4, np.float32))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_more_threads_than_work(case, layout, isa, rng):
    """16 threads on these small shapes: more threads than rows or channel blocks.

    Work splits that round item counts up must not hand a thread a range past
    the end (a 16-core machine crashed in the depthwise NHWC grad weight).
    """
    x, w, gy, (s, p, d, g) = make(case, np.float32, layout, rng)
    before = fastconv.get_num_threads()
    try:
        fastconv.set_num_threads(16)
        got = fastconv.conv2d_backward(gy, x, w, s, p, d, g, layout=layout)
    finally:
        fastconv.set_num_threads(before)
    want = reference.conv2d_backward(gy, x, w, s, p, d, g, layout=layout)
    check_all(got, want, case, np.float32)


@pytest.mark.parametrize("case", [CASES[4], CASES[8], CASES[13], CASES[15], CASES[18],
                                  CASES[19], CASES[20], CASES[21], CASES[34], CASES[37],
                                  CASES[38], CASES[44]],
                         ids=["dil", "dw", "stem", "mixed", "bands", "dwblocks", "dw5x5", "dwflip",
                              "swap", "swapgroups", "pixels", "pointwise"])
def test_threads_deterministic(case, layout, rng):
    x, w, gy, (s, p, d, g) = make(case, np.float32, layout, rng)
    before = fastconv.get_num_threads()
    try:
        fastconv.set_num_threads(1)
        one = fastconv.conv2d_backward(gy, x, w, s, p, d, g, layout=layout)
        fastconv.set_num_threads(2)
        two = fastconv.conv2d_backward(gy, x, w, s, p, d, g, layout=layout)
        again = fastconv.conv2d_backward(gy, x, w, s, p, d, g, layout=layout)
    finally:
        fastconv.set_num_threads(before)
    np.testing.assert_array_equal(one[0], two[0])      # grad input: no reduction across threads
    for a, b in zip(two, again):                        # same thread count: bitwise
        np.testing.assert_array_equal(a, b)
    assert_close(one[1], two[1], "conv2d_backward", reduction=1000)
    assert_close(one[2], two[2], "conv2d_backward", reduction=1000)


# (N, C_in, C_out, H, W, (kH, kW), stride, padding, output_padding, groups, dilation)
TCASES = [
    (2, 4, 6, 5, 6, (3, 3), 2, 1, 1, 2, 1),
    (1, 3, 5, 4, 7, (3, 2), (3, 2), (2, 0), (2, 1), 1, 1),
    (1, 6, 6, 5, 5, (3, 3), 1, 2, 1, 3, 2),
    (2, 8, 8, 5, 5, (3, 3), 2, 0, 1, 8, 1),              # depthwise, output_padding > padding
    (1, 3, 2, 3, 4, (1, 1), 3, 0, 2, 1, 1),              # 1x1 stride 3: gaps filled with bias
    (1, 70, 20, 4, 3, (4, 4), 2, ((1, 2), (0, 1)), 0, 1, 1),
    (2, 8, 8, 5, 6, (3, 3), 1, 1, 0, 8, 2),               # depthwise stride 1 (flipped conv2d) + bias
    (1, 100, 80, 9, 10, (3, 3), 1, 1, 0, 1, 1),           # stride 1, igemm grad input + bias
    (1, 100, 80, 4, 5, (3, 3), 1, 1, 0, 1, 1),            # stride 1, pixel-major + bias
    (2, 40, 64, 5, 12, (1, 1), 2, 0, 1, 1, 1),            # 1x1 stride 2 strided GEMM + bias
]


@pytest.mark.parametrize("case", TCASES, ids=[f"t{i}" for i in range(len(TCASES))])
def test_conv_transpose2d(case, dtype, layout, isa, rng):
    N, Ci, Co, H, W, k, s, p, op, g, d = case
    x = rng.standard_normal((N, Ci, H, W)).astype(dtype)
    w = rng.standard_normal((Ci, Co // g) + k).astype(dtype)
    b = rng.standard_normal(Co).astype(dtype)
    xl = to_layout(x, layout)
    for bias in (None, b):
        got = fastconv.conv_transpose2d(xl, w, bias, s, p, op, g, d, layout=layout)
        want = reference.conv_transpose2d(xl, w, bias, s, p, op, g, d, layout=layout)
        assert_close(got, want, "conv_transpose2d", dtype, reduction=Ci // g * k[0] * k[1])
    got3 = fastconv.conv_transpose2d(xl[0], w, b, s, p, op, g, d, layout=layout)
    assert_close(got3, reference.conv_transpose2d(xl[:1], w, b, s, p, op, g, d,
                                                  layout=layout)[0],
                 "conv_transpose2d", dtype, reduction=Ci // g * k[0] * k[1])


def test_conv_transpose2d_is_adjoint(rng):
    # <conv2d(x), y> == <x, conv_transpose2d(y)>
    x = rng.standard_normal((2, 4, 9, 8))
    w = rng.standard_normal((6, 2, 3, 3))
    y = reference.conv2d(x, w, stride=2, padding=1, groups=2)
    z = rng.standard_normal(y.shape)
    xt = fastconv.conv_transpose2d(z, w, stride=2, padding=1, output_padding=(0, 1), groups=2)
    assert xt.shape == x.shape
    np.testing.assert_allclose(np.vdot(y, z), np.vdot(x, xt), rtol=1e-10)


def test_bad_arguments():
    x = np.ones((1, 3, 6, 6), np.float32)
    w = np.ones((4, 3, 3, 3), np.float32)
    gy = np.ones((1, 4, 4, 4), np.float32)
    with pytest.raises(ValueError, match="grad_output"):
        fastconv.conv2d_backward(np.ones((1, 4, 5, 4), np.float32), x, w)
    with pytest.raises(ValueError, match="grad_output"):
        fastconv.conv2d_backward(gy[0], x, w)
    with pytest.raises(TypeError, match="grad_output"):
        fastconv.conv2d_backward(gy.astype(np.float64), x, w)
    with pytest.raises(TypeError, match="weight"):
        fastconv.conv2d_backward(gy, x, w.astype(np.float64))
    with pytest.raises(TypeError, match="input"):
        fastconv.conv2d_backward(gy, x.astype(np.int32), w)
    with pytest.raises(TypeError, match="input_grad"):
        fastconv.conv2d_backward(gy, x, w, input_grad="yes")
    with pytest.raises(TypeError, match="bias_grad"):
        fastconv.conv2d_backward(gy, x, w, bias_grad=None)
    with pytest.raises(ValueError, match="layout"):
        fastconv.conv2d_backward(gy, x, w, layout="CHWN")
    with pytest.raises(ValueError, match="groups"):
        fastconv.conv2d_backward(gy, x, w, groups=2)
    with pytest.raises(ValueError, match="stride"):
        fastconv.conv2d_backward(gy, x, w, stride=0)
    with pytest.raises(ValueError, match="padding"):
        fastconv.conv2d_backward(gy, x, w, padding=-1)
    with pytest.raises(ValueError, match="input"):
        fastconv.conv2d_backward(gy, x[0, 0], w)
    wt = np.ones((3, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match="bias"):
        fastconv.conv_transpose2d(x, wt, np.ones(3, np.float32))
    with pytest.raises(TypeError, match="bias"):
        fastconv.conv_transpose2d(x, wt, np.ones(2, np.float64))
    with pytest.raises(ValueError, match="output_padding"):
        fastconv.conv_transpose2d(x, wt, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="weight"):
        fastconv.conv_transpose2d(x, np.ones((4, 2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="padding"):
        fastconv.conv_transpose2d(x, wt, padding="same")


def test_layouts_agree(rng):
    case = CASES[3]
    x, w, gy, (s, p, d, g) = make(case, np.float64, "NCHW", rng)
    a = fastconv.conv2d_backward(gy, x, w, s, p, d, g)
    b = fastconv.conv2d_backward(to_layout(gy, "NHWC"), to_layout(x, "NHWC"), w, s, p, d, g,
                                 layout="NHWC")
    assert_close(from_layout(b[0], "NHWC"), a[0], "conv2d_backward")
    assert_close(b[1], a[1], "conv2d_backward")


def test_backward_table_has_depthwise_rows():
    """MobileNetV2 depthwise grad input and grad weight are benchmarked (issue #4)."""
    from fastconv.bench.cases import TABLES
    rows = {c.name: c for c in TABLES["backward"] if c.family == "conv"}
    for name in ("dw3x3_32", "dw3x3_96s2", "dw3x3_144"):
        for suffix, op in (("dX", "conv2d_grad_input"), ("dW", "conv2d_grad_weight")):
            case = rows[f"{name}_{suffix}"]
            assert case.op == op
            assert case.groups == case.C == case.K
