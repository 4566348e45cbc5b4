# cython: language_level=3
"""Pooling kernels (fastconv._pool): arrays to pointers, GIL released, C drivers.

Every size arrives computed (fastconv/_shapes.py PoolGeometry); the arrays
arrive C-contiguous, in the right dtype and shape (fastconv/pool.py).
"""
from libc.stdint cimport int64_t
from cython cimport floating
cimport numpy as cnp

from common cimport FC_NCHW, FC_NHWC, FC_OK, FC_EINVAL, check_status, layout_code

cnp.import_array()

cdef extern from "pool/pool.h" nogil:
    ctypedef struct fc_pool_geom:
        int64_t N, C, H, W, OH, OW, KH, KW, SH, SW, DH, DW, PT, PB, PL, PR
        int layout
    int fc_pool_geom_ok(const fc_pool_geom *g)
    int64_t fc_pool_stream_min
    int64_t fc_pool_stream_min_bytes()
    int fc_max_pool2d_f32(const fc_pool_geom *g, const float *x, float *y, int64_t *idx,
                          int isa, int nthreads)
    int fc_max_pool2d_f64(const fc_pool_geom *g, const double *x, double *y, int64_t *idx,
                          int isa, int nthreads)
    int fc_avg_pool2d_f32(const fc_pool_geom *g, const float *x, float *y, int cip,
                          int64_t divisor_override, int isa, int nthreads)
    int fc_avg_pool2d_f64(const fc_pool_geom *g, const double *x, double *y, int cip,
                          int64_t divisor_override, int isa, int nthreads)
    int fc_max_pool2d_backward_f32(const fc_pool_geom *g, const float *gy, const float *x,
                                   const int64_t *idx, float *gx, int isa, int nthreads)
    int fc_max_pool2d_backward_f64(const fc_pool_geom *g, const double *gy, const double *x,
                                   const int64_t *idx, double *gx, int isa, int nthreads)
    int fc_avg_pool2d_backward_f32(const fc_pool_geom *g, const float *gy, float *gx, int cip,
                                   int64_t divisor_override, int isa, int nthreads)
    int fc_avg_pool2d_backward_f64(const fc_pool_geom *g, const double *gy, double *gx,
                                   int cip, int64_t divisor_override, int isa, int nthreads)
    int fc_global_pool2d_f32(int64_t N, int64_t C, int64_t H, int64_t W, int layout,
                             const float *x, float *y, int is_max, int isa, int nthreads)
    int fc_global_pool2d_f64(int64_t N, int64_t C, int64_t H, int64_t W, int layout,
                             const double *x, double *y, int is_max, int isa, int nthreads)


def set_stream_min_bytes(int64_t nbytes):
    """Gradients of more bytes than this stream past the caches (0: the default,
    3/4 of the last-level cache). Returns the threshold in force before. For tests."""
    global fc_pool_stream_min
    cdef int64_t before = fc_pool_stream_min_bytes()
    fc_pool_stream_min = max(nbytes, 0)
    return before


cdef fc_pool_geom pool_geom(object g) except *:
    """The C struct of a fastconv._shapes.PoolGeometry (sizes checked in C too)."""
    cdef fc_pool_geom c
    c.N, c.C, c.H, c.W, c.OH, c.OW = g.N, g.C, g.H, g.W, g.OH, g.OW
    c.KH, c.KW, c.SH, c.SW, c.DH, c.DW = g.KH, g.KW, g.SH, g.SW, g.DH, g.DW
    c.PT, c.PB, c.PL, c.PR = g.PT, g.PB, g.PL, g.PR
    c.layout = layout_code(g.layout)
    if not fc_pool_geom_ok(&c):
        raise ValueError(f"inconsistent pooling geometry {g!r}")
    return c


def max_pool2d(g, const floating[::1] x, floating[::1] y, int64_t[::1] idx, int isa, int nthreads):
    """y (and idx, if not None) <- max pooling of x; flat C-contiguous buffers."""
    cdef fc_pool_geom c = pool_geom(g)
    cdef int64_t *ip = &idx[0] if idx is not None and idx.shape[0] else NULL
    cdef int status
    with nogil:
        if floating is float:
            status = fc_max_pool2d_f32(&c, &x[0], &y[0], ip, isa, nthreads)
        else:
            status = fc_max_pool2d_f64(&c, &x[0], &y[0], ip, isa, nthreads)
    check_status(status)


def avg_pool2d(g, const floating[::1] x, floating[::1] y, bint count_include_pad,
               int64_t divisor_override, int isa, int nthreads):
    """y <- average pooling of x (divisor_override 0: none)."""
    cdef fc_pool_geom c = pool_geom(g)
    cdef int status
    with nogil:
        if floating is float:
            status = fc_avg_pool2d_f32(&c, &x[0], &y[0], count_include_pad, divisor_override,
                                       isa, nthreads)
        else:
            status = fc_avg_pool2d_f64(&c, &x[0], &y[0], count_include_pad, divisor_override,
                                       isa, nthreads)
    check_status(status)


def max_pool2d_backward(g, const floating[::1] gy, const floating[::1] x,
                        const int64_t[::1] idx,
                        floating[::1] gx, int isa, int nthreads):
    """gx <- gradient of max pooling; x is None when idx is given (and vice versa)."""
    cdef fc_pool_geom c = pool_geom(g)
    cdef const int64_t *ip = &idx[0] if idx is not None else NULL
    cdef const floating *xp = &x[0] if x is not None else NULL
    cdef int status
    with nogil:
        if floating is float:
            status = fc_max_pool2d_backward_f32(&c, &gy[0], xp, ip, &gx[0], isa, nthreads)
        else:
            status = fc_max_pool2d_backward_f64(&c, &gy[0], xp, ip, &gx[0], isa, nthreads)
    if status == FC_EINVAL and idx is not None:
        raise ValueError(f"indices must lie in [0, {c.H * c.W}) (H*W of the input), or be -1 "
                         f"for a window entirely in padding")
    check_status(status)


def avg_pool2d_backward(g, const floating[::1] gy, floating[::1] gx, bint count_include_pad,
                        int64_t divisor_override, int isa, int nthreads):
    """gx <- gradient of average pooling."""
    cdef fc_pool_geom c = pool_geom(g)
    cdef int status
    with nogil:
        if floating is float:
            status = fc_avg_pool2d_backward_f32(&c, &gy[0], &gx[0], count_include_pad,
                                                divisor_override, isa, nthreads)
        else:
            status = fc_avg_pool2d_backward_f64(&c, &gy[0], &gx[0], count_include_pad,
                                                divisor_override, isa, nthreads)
    check_status(status)


def global_pool2d(int64_t N, int64_t C, int64_t H, int64_t W, str layout, const floating[::1] x,
                  floating[::1] y, bint is_max, int isa, int nthreads):
    """y (N*C values) <- mean or max of x over H x W."""
    cdef int lay = layout_code(layout)
    cdef int status
    with nogil:
        if floating is float:
            status = fc_global_pool2d_f32(N, C, H, W, lay, &x[0], &y[0], is_max, isa, nthreads)
        else:
            status = fc_global_pool2d_f64(N, C, H, W, lay, &x[0], &y[0], is_max, isa, nthreads)
    check_status(status)
