/* fastconv: types and helpers shared by every C file.
 *
 * Division of labour: fastconv/_shapes.py computes every size; the C side
 * receives them in these structs, only checks them (fc_*_geom_ok), and
 * computes. All offsets are int64_t / size_t. */
#ifndef FASTCONV_H
#define FASTCONV_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef FC_HAVE_OPENMP
#define FC_HAVE_OPENMP 0
#endif
#if FC_HAVE_OPENMP
#include <omp.h>
#endif

/* Instruction-set levels, ordered: a kernel of level L runs on any CPU of level >= L. */
enum { FC_ISA_SCALAR = 0, FC_ISA_AVX2 = 1, FC_ISA_AVX512 = 2 };

/* Activation layouts (weights are always OIHW). */
enum { FC_NCHW = 0, FC_NHWC = 1 };

/* Return codes of every C driver. */
enum { FC_OK = 0, FC_ENOMEM = -1, FC_EINVAL = -2 };

/* Micro-kernel flags. */
enum { FC_FLAG_RELU = 1u, FC_FLAG_ACCUMULATE = 2u };

/* Geometry of one 2-D convolution, as computed by fastconv/_shapes.py.
 * Input (N, C, H, W) in `layout`, output (N, K, OH, OW) in `layout`,
 * weights (K, C/G, KH, KW). The end padding is implied by OH/OW. */
typedef struct {
    int64_t N, C, H, W;  /* input batch, channels (all groups), height, width */
    int64_t K, OH, OW;   /* output channels (all groups), height, width */
    int64_t KH, KW;      /* kernel size */
    int64_t SH, SW;      /* stride */
    int64_t DH, DW;      /* dilation */
    int64_t PT, PL;      /* begin padding: top, left */
    int64_t G;           /* groups */
    int layout;          /* FC_NCHW or FC_NHWC */
    int64_t PB, PR;      /* end padding: bottom, right (negative for a conv_transpose2d
                            whose output_padding exceeds its padding); only checked */
} fc_conv_geom;

static inline int64_t fc_min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t fc_max64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t fc_cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
/* floor division for a possibly negative numerator, b > 0 */
static inline int64_t fc_fdiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* Sanity check of a geometry: positive sizes, groups divide channels,
 * every output window starts inside the padded input. 1 if fine. */
static inline int fc_conv_geom_ok(const fc_conv_geom *g) {
    if (g->N < 0 || g->C < 1 || g->H < 1 || g->W < 1 || g->K < 1 || g->OH < 1 || g->OW < 1)
        return 0;
    if (g->KH < 1 || g->KW < 1 || g->SH < 1 || g->SW < 1 || g->DH < 1 || g->DW < 1)
        return 0;
    if (g->PT < 0 || g->PL < 0 || g->G < 1 || g->C % g->G || g->K % g->G)
        return 0;
    if (g->layout != FC_NCHW && g->layout != FC_NHWC)
        return 0;
    /* OH/OW must be exactly the output size of the padded input */
    if (fc_fdiv(g->H + g->PT + g->PB - g->DH * (g->KH - 1) - 1, g->SH) + 1 != g->OH) return 0;
    if (fc_fdiv(g->W + g->PL + g->PR - g->DW * (g->KW - 1) - 1, g->SW) + 1 != g->OW) return 0;
    return 1;
}

/* 64-byte aligned allocation (a cache line, an AVX-512 vector); NULL on failure. */
static inline void *fc_alloc(size_t bytes) {
    void *p = NULL;
    if (bytes == 0) bytes = 64;
    bytes = (bytes + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    return p;
}
static inline void fc_free(void *p) { free(p); }

/* The [begin, end) share of `total` items for thread `tid` of `nthreads`:
 * contiguous, sizes differ by at most one. */
static inline void fc_split(int64_t total, int nthreads, int tid, int64_t *begin, int64_t *end) {
    int64_t q = total / nthreads, r = total % nthreads;
    *begin = tid * q + (tid < r ? tid : r);
    *end = *begin + q + (tid < r ? 1 : 0);
}

/* Thread ids inside a parallel region (1 thread, id 0, when built without OpenMP). */
#if FC_HAVE_OPENMP
#define FC_THREAD_ID() omp_get_thread_num()
#define FC_NUM_THREADS() omp_get_num_threads()
#else
#define FC_THREAD_ID() 0
#define FC_NUM_THREADS() 1
#endif

#endif /* FASTCONV_H */
