# cython: language_level=3
"""conv2d forward kernels (fastconv._conv): arrays -> pointers, GIL released.

Python (fastconv/conv.py) validates, computes the geometry and picks the path;
this module only checks what it needs to pass pointers safely.
"""
cimport numpy as cnp
from libc.stdint cimport int64_t, uint32_t
from common cimport fc_conv_geom, conv_geom, check_status, FC_EINVAL

import numpy as np

cnp.import_array()

cdef extern from "conv/conv2d.h" nogil:
    int fc_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w, const float *bias,
                      float *y, int relu, int isa, int nthreads)
    int fc_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                      const double *bias, double *y, int relu, int isa, int nthreads)
    int fc_conv2d_wflip_f32(const fc_conv_geom *g, const float *x, const float *w,
                            const float *bias, float *y, int relu, int isa, int nthreads)
    int fc_conv2d_wflip_f64(const fc_conv_geom *g, const double *x, const double *w,
                            const double *bias, double *y, int relu, int isa, int nthreads)
    int fc_igemm_run_f32(const char *name, size_t mr, size_t nr, size_t kc, size_t ks,
                         const float *base, const int64_t *offs, const float *w,
                         const float *bias, float *y, size_t ys, uint32_t flags)
    int fc_igemm_run_f64(const char *name, size_t mr, size_t nr, size_t kc, size_t ks,
                         const double *base, const int64_t *offs, const double *w,
                         const double *bias, double *y, size_t ys, uint32_t flags)
    int fc_gemm_run_f32(const char *name, size_t mr, size_t nr, size_t kc, const float *a,
                        size_t na, size_t lda, const float *b, size_t nb, size_t ldb,
                        const float *bias, size_t nbias, float *y, size_t ny, size_t ys,
                        uint32_t flags)
    int fc_gemm_run_f64(const char *name, size_t mr, size_t nr, size_t kc, const double *a,
                        size_t na, size_t lda, const double *b, size_t nb, size_t ldb,
                        const double *bias, size_t nbias, double *y, size_t ny, size_t ys,
                        uint32_t flags)
    int fc_transpose_run(const char *name, const char *dtype, const void *src, size_t ns,
                         size_t ss, void *dst, size_t nd, size_t ds, size_t rows, size_t cols)

cdef extern from "conv/dwconv.h" nogil:
    int fc_dwconv2d_f32(const fc_conv_geom *g, const float *x, const float *w,
                        const float *bias, float *y, int relu, int isa, int nthreads)
    int fc_dwconv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                        const double *bias, double *y, int relu, int isa, int nthreads)
    int fc_dwconv2d_applicable(const fc_conv_geom *g)

cdef extern from "conv/winograd.h" nogil:
    int fc_wino_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w,
                           const float *bias, float *y, int relu, int isa, int nthreads)
    int fc_wino_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                           const double *bias, double *y, int relu, int isa, int nthreads)
    int fc_wino_conv2d_wflip_f32(const fc_conv_geom *g, const float *x, const float *w,
                                 const float *bias, float *y, int relu, int isa, int nthreads)
    int fc_wino_conv2d_wflip_f64(const fc_conv_geom *g, const double *x, const double *w,
                                 const double *bias, double *y, int relu, int isa, int nthreads)
    int fc_wino2_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w,
                            const float *bias, float *y, int relu, int isa, int nthreads)
    int fc_wino2_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                            const double *bias, double *y, int relu, int isa, int nthreads)
    int fc_wino2_conv2d_wflip_f32(const fc_conv_geom *g, const float *x, const float *w,
                                  const float *bias, float *y, int relu, int isa, int nthreads)
    int fc_wino2_conv2d_wflip_f64(const fc_conv_geom *g, const double *x, const double *w,
                                  const double *bias, double *y, int relu, int isa,
                                  int nthreads)
    int fc_wino_conv2d_applicable(const fc_conv_geom *g)

cdef extern from "conv/smallc.h" nogil:
    int fc_smallc_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w,
                             const float *bias, float *y, int relu, int isa, int nthreads)
    int fc_smallc_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                             const double *bias, double *y, int relu, int isa, int nthreads)
    int fc_smallc_conv2d_applicable(const fc_conv_geom *g)
    int fc_smallc_wvec_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w,
                                  const float *bias, float *y, int relu, int isa, int nthreads)
    int fc_smallc_wvec_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                                  const double *bias, double *y, int relu, int isa, int nthreads)
    int fc_smallc_kvec_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w,
                                  const float *bias, float *y, int relu, int isa, int nthreads)
    int fc_smallc_kvec_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                                  const double *bias, double *y, int relu, int isa, int nthreads)

ctypedef int (*conv_f32_fn)(const fc_conv_geom *, const float *, const float *, const float *,
                            float *, int, int, int) noexcept nogil
ctypedef int (*conv_f64_fn)(const fc_conv_geom *, const double *, const double *,
                            const double *, double *, int, int, int) noexcept nogil

# path name -> index into the function tables below; smallc_wvec / smallc_kvec
# force one family of the smallc path (tests, measurements); igemm_wflip is
# igemm given the weight of the conv whose input gradient this is (conv2d.h);
# winograd (F(4x4, 3x3)) and winograd2 (F(2x2, 3x3)) decline (FC_EINVAL) where
# a transformed value is not finite; their _wflip forms are given that weight,
# as igemm_wflip
PATHS = {"igemm": 0, "depthwise": 1, "smallc": 2, "smallc_wvec": 3, "smallc_kvec": 4,
         "igemm_wflip": 5, "winograd": 6, "winograd_wflip": 7, "winograd2": 8,
         "winograd2_wflip": 9}
cdef conv_f32_fn F32[10]
cdef conv_f64_fn F64[10]
F32[6] = fc_wino_conv2d_f32; F64[6] = fc_wino_conv2d_f64
F32[7] = fc_wino_conv2d_wflip_f32; F64[7] = fc_wino_conv2d_wflip_f64
F32[8] = fc_wino2_conv2d_f32; F64[8] = fc_wino2_conv2d_f64
F32[9] = fc_wino2_conv2d_wflip_f32; F64[9] = fc_wino2_conv2d_wflip_f64
F32[5] = fc_conv2d_wflip_f32; F64[5] = fc_conv2d_wflip_f64
F32[0] = fc_conv2d_f32; F32[1] = fc_dwconv2d_f32; F32[2] = fc_smallc_conv2d_f32
F64[0] = fc_conv2d_f64; F64[1] = fc_dwconv2d_f64; F64[2] = fc_smallc_conv2d_f64
F32[3] = fc_smallc_wvec_conv2d_f32; F32[4] = fc_smallc_kvec_conv2d_f32
F64[3] = fc_smallc_wvec_conv2d_f64; F64[4] = fc_smallc_kvec_conv2d_f64


F32_DTYPE = np.dtype(np.float32)
F64_DTYPE = np.dtype(np.float64)


cdef int check_array(cnp.ndarray a, str name, object dtype, Py_ssize_t size) except -1:
    # the C-level flag tests: a.flags builds a Python object per call
    if (not cnp.PyArray_IS_C_CONTIGUOUS(a) or not cnp.PyArray_ISALIGNED(a)
            or (<object>cnp.PyArray_DESCR(a) is not dtype and a.dtype != dtype)):
        raise TypeError(f"{name} must be a C-contiguous aligned {dtype} array")
    if cnp.PyArray_SIZE(a) != size:
        raise ValueError(f"{name} has {a.size} elements, the geometry needs {size}")
    return 0


cdef bint windows_touch_input(const fc_conv_geom *g) noexcept nogil:
    """Whether every output window has a tap inside the input: the specialised
    paths (depthwise, smallc) need it; igemm takes wider padding (windows wholly
    in the padding, as PyTorch allows)."""
    return (g.PT <= (g.KH - 1) * g.DH and g.PB <= (g.KH - 1) * g.DH
            and g.PL <= (g.KW - 1) * g.DW and g.PR <= (g.KW - 1) * g.DW)


# except? -3: FC_EINVAL (-2) is a status the caller handles, not "raised"
cdef int run(str path, object geom, cnp.ndarray x, cnp.ndarray w, object bias, cnp.ndarray y,
             bint relu, int isa, int nthreads) except? -3:
    """Call one C path; returns its status (FC_EINVAL means it declined)."""
    cdef fc_conv_geom g = conv_geom(geom)
    cdef int which = PATHS[path]
    if which != 0 and which != 5 and not windows_touch_input(&g):
        return FC_EINVAL
    cdef int tn = cnp.PyArray_TYPE(x)
    if tn != cnp.NPY_FLOAT32 and tn != cnp.NPY_FLOAT64:
        raise TypeError(f"input must be float32 or float64, got {x.dtype}")
    # the native dtype: check_array rejects a byte-swapped x (same type number)
    dtype = F32_DTYPE if tn == cnp.NPY_FLOAT32 else F64_DTYPE
    cdef Py_ssize_t cg = g.C // g.G
    check_array(x, "input", dtype, g.N * g.C * g.H * g.W)
    check_array(w, "weight", dtype, g.K * cg * g.KH * g.KW)
    check_array(y, "output", dtype, g.N * g.K * g.OH * g.OW)
    cdef cnp.ndarray b
    cdef const void *bp = NULL
    if bias is not None:
        b = bias
        check_array(b, "bias", dtype, g.K)
        bp = cnp.PyArray_DATA(b)
    if nthreads < 1:
        raise ValueError(f"nthreads must be >= 1, got {nthreads}")
    cdef const void *xp = cnp.PyArray_DATA(x)
    cdef const void *wp = cnp.PyArray_DATA(w)
    cdef void *yp = cnp.PyArray_DATA(y)
    cdef int status
    if tn == cnp.NPY_FLOAT32:
        with nogil:
            status = F32[which](&g, <const float *>xp, <const float *>wp, <const float *>bp,
                                <float *>yp, relu, isa, nthreads)
    else:
        with nogil:
            status = F64[which](&g, <const double *>xp, <const double *>wp,
                                <const double *>bp, <double *>yp, relu, isa, nthreads)
    return status


def conv2d(geom, cnp.ndarray x, cnp.ndarray w, bias, cnp.ndarray y, bint relu, int isa,
           int nthreads):
    """General conv2d forward (igemm): any geometry. x, y in geom.layout; w OIHW."""
    check_status(run("igemm", geom, x, w, bias, y, relu, isa, nthreads))


def conv2d_path(str path, geom, cnp.ndarray x, cnp.ndarray w, bias, cnp.ndarray y, bint relu,
                int isa, int nthreads):
    """conv2d through a named path ("igemm", "depthwise", "smallc").

    Returns False (y untouched or partly written) where that path declines the
    geometry, True when y holds the result; raises on other errors."""
    if path not in PATHS:
        raise ValueError(f"path must be one of {sorted(PATHS)}, got {path!r}")
    status = run(path, geom, x, w, bias, y, relu, isa, nthreads)
    if status == FC_EINVAL and path != "igemm" and path != "igemm_wflip":
        return False
    check_status(status)
    return True


def depthwise_applicable(geom):
    """Whether the depthwise path takes this geometry (groups == C_in == C_out)."""
    cdef fc_conv_geom g = conv_geom(geom)
    return bool(windows_touch_input(&g) and fc_dwconv2d_applicable(&g))


def winograd_applicable(geom):
    """Whether the Winograd path takes this kind of geometry (3x3, stride 1, one
    group); it still declines windows wholly in the padding and non-finite values."""
    cdef fc_conv_geom g = conv_geom(geom)
    return bool(fc_wino_conv2d_applicable(&g))


def smallc_applicable(geom):
    """Whether the small-channel path expects to beat igemm on this geometry."""
    cdef fc_conv_geom g = conv_geom(geom)
    return bool(windows_touch_input(&g) and fc_smallc_conv2d_applicable(&g))


def igemm_run(str name, size_t mr, size_t nr, size_t kc, size_t ks, cnp.ndarray base,
              cnp.ndarray offs, cnp.ndarray w, cnp.ndarray bias, cnp.ndarray y, size_t ys,
              unsigned int flags):
    """Test hook: run the registered igemm kernel `name` once (see conv2d.h).

    `offs` (int64, ks*MR) are element offsets into `base`; the caller sizes the
    buffers (w: ks*kc*NR, bias: NR, y: rows of stride ys)."""
    dtype = base.dtype
    for a, nm in ((w, "w"), (bias, "bias"), (y, "y")):
        check_array(a, nm, dtype, a.size)
    check_array(offs, "offs", np.dtype(np.int64), offs.size)
    check_array(base, "base", dtype, base.size)
    if offs.size and (offs.min() < 0 or offs.max() + kc > base.size):
        raise ValueError("offs point outside base")
    if mr < 1 or nr < 1 or <Py_ssize_t>y.size < <Py_ssize_t>((mr - 1) * ys + nr):
        raise ValueError("y is too small for mr rows of stride ys")
    cdef bytes bname = name.encode()
    cdef const char *cname = bname
    cdef int status
    if dtype == np.float32:
        status = fc_igemm_run_f32(cname, mr, nr, kc, ks, <const float *>cnp.PyArray_DATA(base),
                                  <const int64_t *>cnp.PyArray_DATA(offs),
                                  <const float *>cnp.PyArray_DATA(w),
                                  <const float *>cnp.PyArray_DATA(bias),
                                  <float *>cnp.PyArray_DATA(y), ys, flags)
    elif dtype == np.float64:
        status = fc_igemm_run_f64(cname, mr, nr, kc, ks, <const double *>cnp.PyArray_DATA(base),
                                  <const int64_t *>cnp.PyArray_DATA(offs),
                                  <const double *>cnp.PyArray_DATA(w),
                                  <const double *>cnp.PyArray_DATA(bias),
                                  <double *>cnp.PyArray_DATA(y), ys, flags)
    else:
        raise TypeError(f"base must be float32 or float64, got {dtype}")
    check_status(status)


def gemm_run(str name, size_t mr, size_t nr, size_t kc, cnp.ndarray a, size_t lda,
             cnp.ndarray b, size_t ldb, bias, cnp.ndarray y, size_t ys, unsigned int flags):
    """Test hook: run the registered gemm kernel `name` once (see conv2d.h).

    a: MR rows of stride lda, b: kc rows of stride ldb, bias: None or NR values
    (MR with flag 4, rows), y: mr rows of stride ys; the C side checks the sizes."""
    dtype = a.dtype
    for arr, nm in ((a, "a"), (b, "b"), (y, "y")):
        check_array(arr, nm, dtype, arr.size)
    cdef cnp.ndarray bb = None
    cdef const void *bp = NULL
    cdef size_t nbias = 0
    if bias is not None:
        bb = bias
        check_array(bb, "bias", dtype, bb.size)
        bp = cnp.PyArray_DATA(bb)
        nbias = bb.size
    cdef bytes bname = name.encode()
    cdef const char *cname = bname
    cdef int status
    if dtype == np.float32:
        status = fc_gemm_run_f32(cname, mr, nr, kc, <const float *>cnp.PyArray_DATA(a), a.size,
                                 lda, <const float *>cnp.PyArray_DATA(b), b.size, ldb,
                                 <const float *>bp, nbias, <float *>cnp.PyArray_DATA(y), y.size,
                                 ys, flags)
    elif dtype == np.float64:
        status = fc_gemm_run_f64(cname, mr, nr, kc, <const double *>cnp.PyArray_DATA(a),
                                 a.size, lda, <const double *>cnp.PyArray_DATA(b), b.size, ldb,
                                 <const double *>bp, nbias, <double *>cnp.PyArray_DATA(y),
                                 y.size, ys, flags)
    else:
        raise TypeError(f"a must be float32 or float64, got {dtype}")
    check_status(status)


def transpose_run(str name, cnp.ndarray src, size_t ss, cnp.ndarray dst, size_t ds, size_t rows,
                  size_t cols):
    """Test hook: run the registered transpose kernel `name` once (transpose.h):
    dst[j*ds + i] = src[i*ss + j] for i < rows, j < cols (flat arrays)."""
    dtype = src.dtype
    check_array(src, "src", dtype, src.size)
    check_array(dst, "dst", dtype, dst.size)
    if dtype != np.float32 and dtype != np.float64:
        raise TypeError(f"src must be float32 or float64, got {dtype}")
    cdef bytes bname = name.encode()
    cdef bytes bdt = b"f32" if dtype == np.float32 else b"f64"
    cdef const char *cname = bname
    cdef const char *cdt = bdt
    cdef int status
    with nogil:
        status = fc_transpose_run(cname, cdt, cnp.PyArray_DATA(src), <size_t>src.size, ss,
                                  cnp.PyArray_DATA(dst), <size_t>dst.size, ds, rows, cols)
    check_status(status)
