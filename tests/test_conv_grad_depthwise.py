"""Depthwise / one-input-channel conv2d_backward paths against fastconv.reference."""
import pytest

import fastconv
import test_conv_grad as base

# (N, C, K, H, W, (kH, kW), stride, padding, dilation, groups)
CASES = [
    # NHWC grad weight reads the arrays in place: a channel tail (37 = 32 + 5,
    # 4*9 + 1) whose last pixel ends the arrays, 25 taps in chunks, stride 2
    (2, 37, 37, 11, 10, (5, 5), 2, 2, 1, 37),
    # rows wide enough for one-row bands that stop at the interior boundaries
    (1, 40, 40, 7, 820, (3, 3), 1, 1, 1, 40),
    # stride 2 with every column phase and row phase, odd sizes, two images
    (2, 19, 19, 12, 13, (3, 3), 2, 1, 1, 19),
    # stride 2 + dilation 3: the taps spread over both phases unevenly
    (1, 6, 6, 17, 15, (3, 3), 2, 3, 3, 6),
    # C_in = 1 with 6 outputs, stride 2 (LeNet-like, strided)
    (3, 1, 6, 16, 15, (5, 5), 2, 2, 1, 1),
    # stride (3, 2), asymmetric padding, padding past the kernel's reach
    (1, 9, 9, 10, 11, (3, 3), (3, 2), ((3, 0), (1, 2)), 1, 9),
    # NCHW grad input (dwgradx rows): stride 1, odd width past two full steps
    # of every ISA's stride-1 loop plus a masked tail
    (2, 5, 5, 9, 77, (3, 3), 1, 1, 1, 5),
    # stride 1 dilation 2; 7x7 (49 taps in one phase); no padding
    (1, 3, 3, 8, 69, (3, 3), 1, 2, 2, 3),
    (1, 4, 4, 13, 50, (7, 7), 1, 3, 1, 4),
    # stride 3 (the generic column-phase loop), stride (1, 2) on an even width
    # with no padding, a 2x2 kernel at stride 2 (one tap per phase)
    (2, 3, 3, 11, 35, (3, 3), 3, 1, 1, 3),
    (1, 5, 5, 6, 66, (3, 3), (1, 2), 0, 1, 5),
    (1, 4, 4, 7, 33, (2, 2), 2, 0, 1, 4),
    # one input column, fewer than the stride: phase 1 is empty
    (1, 2, 2, 5, 1, (3, 3), 2, 1, 1, 2),
    # stride 2 dilation 2: the odd column phase has no taps (gets zeros)
    (1, 3, 3, 9, 41, (3, 3), 2, 2, 2, 3),
    # grad weight NCHW reads grad_output in place by blocks of the kernel's
    # lanes: a width every ISA's block divides (no masked block)
    (1, 3, 3, 5, 64, (3, 3), 1, 1, 1, 3),
    # 3x3 undilated, stride 1 or 2 (the dwgradw kernels' 3x3 tiles, NHWC grad
    # input's 3x3 paths): channel tails past a full block (37 = 32 + 5), a
    # short unmasked block (48 = 32 + 16), a masked second vector (20), a
    # single vector (16); widths not a multiple of the 4-pixel tile; pads 0-2
    (2, 37, 37, 9, 11, (3, 3), 1, 1, 1, 37),
    (1, 48, 48, 8, 13, (3, 3), 2, 1, 1, 48),
    (1, 20, 20, 10, 9, (3, 3), 1, 0, 1, 20),
    (1, 16, 16, 6, 23, (3, 3), 2, 1, 1, 16),
    (2, 24, 24, 11, 14, (3, 3), 2, 2, 1, 24),
    (1, 33, 33, 12, 10, (3, 3), 2, ((0, 1), (1, 0)), 1, 33),
    (1, 7, 7, 9, 12, (3, 3), 2, ((1, 0), (0, 1)), 1, 7),
    # one input channel, several outputs (NHWC: the dwgradwk kernel's channel x
    # tap tiles): 8 outputs (a full and a short channel chunk on every ISA),
    # 9 taps (a short tap chunk); two groups of 5 outputs; LeNet's 1 -> 6
    (2, 1, 8, 9, 11, (3, 3), 1, 1, 1, 1),
    (1, 2, 10, 8, 7, (5, 5), 1, 2, 1, 2),
    (2, 1, 6, 28, 28, (5, 5), 1, 2, 1, 1),
]
IDS = [f"dw{i}" for i in range(len(CASES))]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_depthwise_backward_matches_reference(case, dtype, layout, isa, rng):
    x, w, gy, (s, p, d, g) = base.make(case, dtype, layout, rng)
    got = fastconv.conv2d_backward(gy, x, w, s, p, d, g, layout=layout)
    want = fastconv.reference.conv2d_backward(gy, x, w, s, p, d, g, layout=layout)
    base.check_all(got, want, case, dtype)


# the first three, NCHW grad input's stride-1 rows and stride 3, the 3x3
# stride 1 and 2 paths, one input channel to several outputs
DET = [0, 1, 2, 6, 9, 15, 16, 20, 22, 24]


@pytest.mark.parametrize("case", [CASES[i] for i in DET], ids=[IDS[i] for i in DET])
def test_depthwise_threads_deterministic(case, layout, rng):
    base.test_threads_deterministic(case, layout, rng)


# forward depthwise NHWC with 1- and 2-wide kernels: the compile-time tap
# geometries the stride-2 grad input's column phases use, every tile size
@pytest.mark.parametrize("k", [(2, 2), (1, 1), (3, 2), (2, 1)])
@pytest.mark.parametrize("W", [7, 21])
def test_depthwise_forward_narrow_kernels(k, W, dtype, isa, rng):
    x = rng.standard_normal((2, 9, W, 37)).astype(dtype)
    w = rng.standard_normal((37, 1) + k).astype(dtype)
    b = rng.standard_normal(37).astype(dtype)
    got = fastconv.conv2d(x, w, b, 1, 1, 1, 37, layout="NHWC")
    want = fastconv.reference.conv2d(x, w, b, 1, 1, 1, 37, layout="NHWC")
    base.assert_close(got, want, "conv2d", reduction=k[0] * k[1])


# depthwise conv_transpose2d with a bias: NHWC stride 2 goes through the 3x3
# stride-2 grad-input kernel (bias in every pixel, the 4 phases of each pixel
# pair), stride 1 through the C driver's forward-kernel calls; output_padding
# adds the rows/columns no grad_output pixel reaches (bias only)
# (N, C, H, W, stride, padding, output_padding)
DW_TCASES = [
    (2, 37, 6, 7, 2, 1, 1),
    (1, 20, 5, 9, 2, 0, 0),
    (1, 16, 4, 4, 2, 2, 1),
    (1, 5, 7, 3, 2, 1, 0),
    (2, 19, 6, 5, 1, 1, 0),
]


@pytest.mark.parametrize("case", DW_TCASES, ids=[f"dwt{i}" for i in range(len(DW_TCASES))])
def test_depthwise_conv_transpose2d_bias(case, dtype, layout, isa, rng):
    N, C, H, W, s, p, op = case
    x = base.to_layout(rng.standard_normal((N, C, H, W)).astype(dtype), layout)
    w = rng.standard_normal((C, 1, 3, 3)).astype(dtype)
    b = rng.standard_normal(C).astype(dtype)
    for bias in (None, b):
        got = fastconv.conv_transpose2d(x, w, bias, s, p, op, C, 1, layout=layout)
        want = fastconv.reference.conv_transpose2d(x, w, bias, s, p, op, C, 1, layout=layout)
        base.assert_close(got, want, "conv_transpose2d", dtype, reduction=9)
