"""The one table of test tolerances, keyed by (op, dtype): (rtol, atol).

Values are relative to the scale of the result: tests compare with
``assert_close`` below, which scales atol by the magnitude of the expected
values and the length of the reduction, so one table fits every shape.
"""
import numpy as np

TOL = {
    ("conv2d", "float32"): (1e-4, 1e-5),
    ("conv2d", "float64"): (1e-10, 1e-12),
    ("conv2d_backward", "float32"): (2e-4, 2e-5),
    ("conv2d_backward", "float64"): (1e-10, 1e-12),
    ("conv_transpose2d", "float32"): (1e-4, 1e-5),
    ("conv_transpose2d", "float64"): (1e-10, 1e-12),
    ("max_pool2d", "float32"): (0, 0),          # selection is exact
    ("max_pool2d", "float64"): (0, 0),
    ("avg_pool2d", "float32"): (1e-5, 1e-6),
    ("avg_pool2d", "float64"): (1e-12, 1e-14),
    ("pool_backward", "float32"): (1e-5, 1e-6),
    ("pool_backward", "float64"): (1e-12, 1e-14),
    ("global_pool", "float32"): (1e-5, 1e-6),
    ("global_pool", "float64"): (1e-12, 1e-14),
    ("torch", "float32"): (1e-4, 1e-5),         # cross-checks against PyTorch
    ("torch", "float64"): (1e-9, 1e-11),
    ("finite_difference", "float64"): (1e-5, 1e-7),
}


def tolerance(op, dtype):
    return TOL[(op, np.dtype(dtype).name)]


def assert_close(actual, expected, op, dtype=None, reduction=1):
    """Assert ``actual`` matches ``expected`` within the (op, dtype) tolerance.

    ``reduction`` is the number of terms summed per output value (e.g.
    C_in/groups * kH * kW for conv2d): float error grows with it, so atol is
    scaled by sqrt(reduction) times the largest expected magnitude.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"dtype {actual.dtype} != {expected.dtype}"
    rtol, atol = tolerance(op, dtype or expected.dtype)
    scale = float(np.max(np.abs(expected[np.isfinite(expected)]), initial=1.0))
    np.testing.assert_allclose(actual, expected, rtol=rtol,
                               atol=atol * scale * max(1.0, np.sqrt(reduction)),
                               equal_nan=True)
