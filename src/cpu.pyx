# cython: language_level=3
"""CPU features, machine probes and the kernel registry (fastconv._cpu)."""
from libc.stdint cimport int64_t
cimport numpy as cnp

cnp.import_array()

cdef extern from "cpu/cpu.h":
    int fc_cpu_isa_level() nogil
    const char *fc_cpu_features() nogil
    double fc_fma_peak_gflops(int isa, int nthreads, double seconds) nogil
    double fc_copy_bandwidth_gbs(size_t nbytes, int nthreads, int repeats) nogil
    int fc_omp_max_threads() nogil

cdef extern from "kernels/registry.h":
    ctypedef struct fc_kernel_info:
        const char *op
        const char *dtype
        const char *name
        int isa, mr, nr
    const fc_kernel_info fc_kernels[]
    const size_t fc_num_kernels

cdef extern from *:
    """
    #ifndef FC_HAVE_OPENMP
    #define FC_HAVE_OPENMP 0
    #endif
    static const int fc_have_openmp = FC_HAVE_OPENMP;
    #if defined(__clang__)
    static const char *fc_compiler = "clang " __clang_version__;
    #elif defined(__GNUC__)
    static const char *fc_compiler = "gcc " __VERSION__;
    #else
    static const char *fc_compiler = "unknown";
    #endif
    """
    const int fc_have_openmp
    const char *fc_compiler

ISA_NAMES = ("scalar", "avx2", "avx512")


def isa_level():
    """Highest ISA level (0 scalar, 1 avx2, 2 avx512) this CPU and OS support."""
    return fc_cpu_isa_level()


def cpu_features():
    """Detected CPU features, as a list of names."""
    return fc_cpu_features().decode().split()


def have_openmp():
    """Whether the extension was built with OpenMP."""
    return bool(fc_have_openmp)


def compiler():
    """The compiler that built the extension."""
    return fc_compiler.decode()


def omp_max_threads():
    return fc_omp_max_threads()


def fma_peak_gflops(int isa, int nthreads, double seconds=0.2):
    """Measured fp32 FMA throughput (GFLOP/s) of a register-only loop."""
    cdef double r
    with nogil:
        r = fc_fma_peak_gflops(isa, nthreads, seconds)
    return r


def copy_bandwidth_gbs(size_t nbytes=64 << 20, int nthreads=1, int repeats=5):
    """Measured memcpy bandwidth, GB/s of bytes read plus written."""
    cdef double r
    with nogil:
        r = fc_copy_bandwidth_gbs(nbytes, nthreads, repeats)
    return r


def kernels():
    """The micro-kernel registry (src/kernels/kernels.inc) as a list of dicts."""
    out = []
    for i in range(fc_num_kernels):
        k = fc_kernels[i]
        out.append(dict(op=k.op.decode(), dtype=k.dtype.decode(), name=k.name.decode(),
                        isa=ISA_NAMES[k.isa], mr=k.mr, nr=k.nr))
    return out


def address_mod(cnp.ndarray a, size_t m):
    """The address of ``a``'s data modulo ``m`` (fastconv._arrays.empty aligns
    outputs with it; NumPy's __array_interface__ costs ~2 us a call)."""
    return <size_t>cnp.PyArray_DATA(a) % m
