"""Turning user inputs into arrays the C kernels can take.

Accepts anything ``np.asarray`` or ``np.from_dlpack`` accepts; returns
C-contiguous, aligned, native-endian float32/float64 arrays (copying only when
needed), and 4-D views of batch-less input.
"""
from __future__ import annotations

import numpy as np

from . import _cpu
from ._shapes import LAYOUTS

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_layout(layout):
    """Return ``layout`` if it is "NCHW" or "NHWC", else raise ValueError."""
    if not isinstance(layout, str) or layout.upper() not in LAYOUTS:
        raise ValueError(f"layout must be 'NCHW' or 'NHWC', got {layout!r}")
    return layout.upper()


def as_float_array(x, name, dtype=None):
    """``x`` as a C-contiguous, aligned, native-endian float32/float64 array.

    ``dtype`` (if given) is the dtype the array must already have: a mismatch
    raises TypeError (fastconv never casts silently between precisions).
    """
    if (type(x) is np.ndarray and x.dtype in FLOAT_DTYPES and x.flags.c_contiguous
            and x.flags.aligned and (dtype is None or x.dtype == dtype)):
        return x  # the common case, without np.require's overhead (small layers feel it)
    if x is None:
        raise TypeError(f"{name} must be an array, got None")
    if not isinstance(x, np.ndarray):
        if hasattr(x, "__dlpack__") and not hasattr(x, "__array__"):
            x = np.from_dlpack(x)
        else:
            try:
                x = np.asarray(x)
            except Exception as exc:  # torch tensors needing grad, ragged lists...
                raise TypeError(f"{name} could not be converted to an array: {exc}") from None
    if x.dtype.kind != "f" or x.dtype.newbyteorder("=") not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got dtype {x.dtype}")
    native = x.dtype.newbyteorder("=")
    if dtype is not None and native != np.dtype(dtype):
        raise TypeError(f"{name} has dtype {native}, but the input is {np.dtype(dtype)}: "
                        f"mixed dtypes are not supported")
    # ascontiguousarray keeps a contiguous but unaligned buffer: require both
    return np.require(x, dtype=native, requirements=["C", "A", "E"])


def empty(shape, dtype):
    """``np.empty`` whose data starts on a 64-byte boundary (a cache line, an
    AVX-512 vector). NumPy's own buffers sit 16 or 48 bytes past one, so every
    full-vector store of a kernel would straddle two lines (1 thread: the
    depthwise NHWC kernel 0.70-0.73x the time into an aligned output on
    144 and 192 channels, unchanged elsewhere). Small arrays keep ``np.empty``."""
    dtype = np.dtype(dtype)
    count = 1
    for d in shape:
        count *= d
    if count * dtype.itemsize < _ALIGNED_MIN_BYTES:
        return np.empty(shape, dtype)
    pad = 64 // dtype.itemsize
    buf = np.empty(count + pad, dtype)
    # NumPy data is at least itemsize-aligned: the offset is whole elements
    off = (64 - _cpu.address_mod(buf, 64)) % 64 // dtype.itemsize
    return buf[off:off + count].reshape(shape)


_ALIGNED_MIN_BYTES = 16384


def as_batched(x, name):
    """Return (4-D array, was_batched) for a 3-D (CHW/HWC) or 4-D activation."""
    if x.ndim == 4:
        return x, True
    if x.ndim == 3:
        return x[None], False
    raise ValueError(f"{name} must be 3-D (unbatched) or 4-D (batched), got {x.ndim}-D "
                     f"with shape {x.shape}")


def unbatch(y, batched):
    """Undo ``as_batched`` on an output."""
    return y if batched else y[0]
