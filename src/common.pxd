# Declarations shared by every Cython module: fastconv.h, and the conversion
# of a Python ConvGeometry (fastconv/_shapes.py) into the C struct.
from libc.stdint cimport int64_t, uint32_t
from libc.string cimport memcpy
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE

cdef extern from "fastconv.h" nogil:
    enum:
        FC_ISA_SCALAR
        FC_ISA_AVX2
        FC_ISA_AVX512
        FC_NCHW
        FC_NHWC
        FC_OK
        FC_ENOMEM
        FC_EINVAL
        FC_FLAG_RELU
        FC_FLAG_ACCUMULATE
    ctypedef struct fc_conv_geom:
        int64_t N, C, H, W, K, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, G, PB, PR
        int layout
    int fc_conv_geom_ok(const fc_conv_geom *g)


cdef inline int layout_code(str layout) except -1:
    if layout == "NCHW":
        return FC_NCHW
    if layout == "NHWC":
        return FC_NHWC
    raise ValueError(f"layout must be 'NCHW' or 'NHWC', got {layout!r}")


cdef inline fc_conv_geom conv_geom(object g) except *:
    """The C struct of a fastconv._shapes.ConvGeometry (sizes checked in C too).

    Geometries are memoised and frozen, so the struct is kept on the object:
    reading its 19 attributes again cost ~1 us a call."""
    cdef fc_conv_geom c
    d = getattr(g, "__dict__", None)
    blob = d.get("_cgeom") if type(d) is dict else None
    if type(blob) is bytes and PyBytes_GET_SIZE(blob) == sizeof(fc_conv_geom):
        memcpy(&c, PyBytes_AS_STRING(blob), sizeof(fc_conv_geom))
        return c
    c.N, c.C, c.H, c.W = g.N, g.C, g.H, g.W
    c.K, c.OH, c.OW = g.K, g.OH, g.OW
    c.KH, c.KW, c.SH, c.SW, c.DH, c.DW = g.KH, g.KW, g.SH, g.SW, g.DH, g.DW
    c.PT, c.PL, c.G = g.PT, g.PL, g.G
    c.PB, c.PR = g.PB, g.PR
    c.layout = layout_code(g.layout)
    if not fc_conv_geom_ok(&c):
        raise ValueError(f"inconsistent convolution geometry {g!r}")
    if type(d) is dict:
        d["_cgeom"] = PyBytes_FromStringAndSize(<const char *>&c, sizeof(fc_conv_geom))
    return c


cdef inline int check_status(int status) except -1:
    """Turn a C driver's return code into the matching Python exception."""
    if status == FC_OK:
        return 0
    if status == FC_ENOMEM:
        raise MemoryError("fastconv: out of memory for the kernel's workspace")
    raise ValueError(f"fastconv: the C driver rejected its arguments (code {status})")
