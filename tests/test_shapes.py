"""fastconv._shapes: the one module of shape and padding math."""
import numpy as np
import pytest

from fastconv._shapes import (conv2d_geometry, conv_padding, conv_transpose2d_geometry,
                              output_size, pair, pool2d_geometry)


def test_pair_forms():
    assert pair(3, "stride") == (3, 3)
    assert pair((1, 2), "stride") == (1, 2)
    assert pair([4, 5], "stride") == (4, 5)
    assert pair(np.int64(2), "stride") == (2, 2)
    with pytest.raises(TypeError, match="stride"):
        pair(1.5, "stride")
    with pytest.raises(TypeError, match="stride"):
        pair("2", "stride")
    with pytest.raises(ValueError, match="stride"):
        pair((1, 2, 3), "stride")


@pytest.mark.parametrize("size,k,s,d,pb,pe,ceil,expected", [
    (5, 3, 1, 1, 0, 0, False, 3),
    (5, 3, 2, 1, 1, 1, False, 3),
    (6, 3, 2, 1, 0, 0, False, 2),
    (6, 3, 2, 1, 0, 0, True, 3),      # last window starts inside the input
    (5, 2, 2, 1, 0, 0, True, 3),      # starts at 4, inside
    (4, 2, 2, 1, 1, 1, True, 3),      # would start at 6 >= 4 + 1: dropped
    (7, 3, 1, 2, 2, 2, False, 7),     # dilated "same"
    (1, 1, 5, 1, 0, 0, False, 1),
])
def test_output_size(size, k, s, d, pb, pe, ceil, expected):
    assert output_size(size, k, s, d, pb, pe, ceil) == expected


def test_output_size_empty_names_dimension():
    with pytest.raises(ValueError, match="height"):
        output_size(2, 5, 1, 1, 0, 0, dim="height")


@pytest.mark.parametrize("size,k,s,d", [(5, 2, 1, 1), (7, 3, 2, 1), (8, 3, 2, 2), (10, 4, 3, 1),
                                        (1, 3, 1, 1), (6, 1, 4, 1)])
@pytest.mark.parametrize("mode", ["same", "same_lower"])
def test_same_padding_matches_formula(size, k, s, d, mode):
    (pt, pb), _ = conv_padding(mode, (size, size), (k, k), (s, s), (d, d))
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    assert pt + pb == total
    assert abs(pt - pb) <= 1
    assert (pb >= pt) if mode == "same" else (pt >= pb)
    assert output_size(size, k, s, d, pt, pb) == out


def test_padding_forms():
    assert conv_padding(1, (5, 5), (3, 3), (1, 1), (1, 1)) == ((1, 1), (1, 1))
    assert conv_padding((1, 2), (5, 5), (3, 3), (1, 1), (1, 1)) == ((1, 1), (2, 2))
    assert conv_padding(((0, 1), (2, 3)), (5, 5), (3, 3), (1, 1), (1, 1)) == ((0, 1), (2, 3))
    assert conv_padding("valid", (5, 5), (3, 3), (1, 1), (1, 1)) == ((0, 0), (0, 0))
    for bad in (-1, (0, -1), ((0, -1), (0, 0))):
        with pytest.raises(ValueError, match="padding"):
            conv_padding(bad, (5, 5), (3, 3), (1, 1), (1, 1))
    with pytest.raises(ValueError, match="padding"):
        conv_padding("full", (5, 5), (3, 3), (1, 1), (1, 1))
    with pytest.raises(ValueError, match="padding"):
        conv_padding(((0, 1), 2), (5, 5), (3, 3), (1, 1), (1, 1))


def test_conv_geometry_layouts_agree():
    a = conv2d_geometry((2, 4, 9, 7), (6, 2, 3, 3), 2, 1, 1, 2, "NCHW")
    b = conv2d_geometry((2, 9, 7, 4), (6, 2, 3, 3), 2, 1, 1, 2, "NHWC")
    assert (a.OH, a.OW, a.K, a.G) == (b.OH, b.OW, b.K, b.G) == (5, 4, 6, 2)
    assert a.output_shape == (2, 6, 5, 4) and b.output_shape == (2, 5, 4, 6)
    assert a.flops == 2 * 2 * 6 * 5 * 4 * 2 * 9


@pytest.mark.parametrize("w_shape,groups,match", [
    ((6, 3, 3, 3), 2, "channels"),
    ((6, 4, 3, 3), 3, "groups"),
    ((5, 2, 3, 3), 2, "output channels"),
    ((6, 4, 3), 1, "weight"),
    ((6, 4, 3, 3), 0, "groups"),
])
def test_conv_geometry_errors(w_shape, groups, match):
    with pytest.raises(ValueError, match=match):
        conv2d_geometry((1, 4, 8, 8), w_shape, 1, 0, 1, groups, "NCHW")


def test_conv_transpose_geometry_is_forward_adjoint():
    # conv_transpose2d: in 5x5, k3, s2, p1, op1 -> out 10x10; the forward conv maps 10 -> 5
    g = conv_transpose2d_geometry((1, 4, 5, 5), (4, 3, 3, 3), 2, 1, 1, 1, 1, "NCHW")
    assert (g.H, g.W, g.OH, g.OW, g.C, g.K) == (10, 10, 5, 5, 3, 4)
    assert output_size(g.H, g.KH, g.SH, g.DH, g.PT, g.PB) == 5
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose2d_geometry((1, 4, 5, 5), (4, 3, 3, 3), 2, 1, 2, 1, 1, "NCHW")


def test_pool_geometry_defaults_and_ceil():
    g = pool2d_geometry((1, 3, 7, 7), 2, None, 0, 1, True, "NCHW")
    assert (g.SH, g.SW, g.OH, g.OW) == (2, 2, 4, 4)
    g = pool2d_geometry((1, 7, 7, 3), (3, 2), (2, 1), ((1, 0), (0, 1)), 1, False, "NHWC")
    assert g.output_shape == (1, 3, 7, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        pool2d_geometry((1, 3, 7, 7), 0, None, 0, 1, False, "NCHW")


def test_memoised_geometry_still_validates_lookalike_arguments():
    """Geometries are cached on their arguments; values equal to a cached int
    (True, 1.0, numpy ints) must still be validated, not served the entry."""
    x, w = (1, 4, 8, 8), (4, 4, 3, 3)
    g = conv2d_geometry(x, w, 1, 1, 1, 1, "NCHW")
    assert conv2d_geometry(x, w, 1, 1, 1, 1, "NCHW") is g
    assert conv2d_geometry(x, w, 1, 1, 1, True, "NCHW") == conv2d_geometry.__wrapped__(
        x, w, 1, 1, 1, True, "NCHW")
    with pytest.raises(TypeError, match="stride"):
        conv2d_geometry(x, w, 1.0, 1, 1, 1, "NCHW")
    with pytest.raises(TypeError, match="padding"):
        conv2d_geometry(x, w, 1, (1.0, 1), 1, 1, "NCHW")
    assert conv2d_geometry(x, w, np.int64(1), 1, 1, 1, "NCHW") == g
    # errors are not cached
    for _ in range(2):
        with pytest.raises(ValueError, match="groups"):
            conv2d_geometry(x, w, 1, 1, 1, 3, "NCHW")
    p = pool2d_geometry((1, 4, 9, 9), 2, None, 0, 1, True, "NCHW")
    assert pool2d_geometry((1, 4, 9, 9), 2, None, 0, 1, 1, "NCHW") == p
    assert pool2d_geometry((1, 4, 9, 9), 2, None, 0, 1, False, "NCHW").OH == 4 != p.OH
