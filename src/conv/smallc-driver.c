/* Small-channel conv2d forward driver: pack the weights, split images x runs
 * of output rows over the threads, call the smallc micro-kernel
 * (src/kernels/smallc-kernels.h). One OpenMP region per call. */
#include "smallc.h"
#include "row-tasks.h"
#include "kernels/smallc-kernels.h"
#include "kernels/registry.h"

/* Scratch per task is kept near this many bytes (L2-resident). */
#define FC_SC_SCRATCH_BYTES (192 * 1024)

int fc_smallc_conv2d_applicable(const fc_conv_geom *g) {
    /* a short reduction (a few input channels x taps): a GEMM tile would be
       mostly packing and edge; K is bounded so the planar tiles stay busy */
    if (g->G != 1) return 0;
    return g->C <= 4 || (g->C * g->KH * g->KW <= 160 && g->K <= 32);
}

static int fc_smallc(const fc_conv_geom *g, const void *x, const void *w, const void *bias,
                     void *y, int relu, int isa, int nthreads, int dbl) {
    if (!g || !x || !w || !y || !fc_conv_geom_ok(g) || g->G != 1 || nthreads < 1)
        return FC_EINVAL;
    if (g->N == 0) return FC_OK;
    const size_t es = dbl ? sizeof(double) : sizeof(float);
    const fc_kernel_info *ki = fc_kernel_select("smallc", dbl ? "f64" : "f32", isa);
    if (!ki) return FC_EINVAL;
    fc_smallc_fn kern = (fc_smallc_fn)ki->fn;
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, K = g->K, OH = g->OH, OW = g->OW;
    const int64_t KH = g->KH, KW = g->KW, T = C * KH * KW;

    int64_t run = OH;
    while (run > 1 && fc_smallc_scratch(C, run, OW, KH, KW, g->SH, g->SW, g->DH, g->DW) *
                              (int64_t)es > FC_SC_SCRATCH_BYTES)
        run = fc_cdiv(run, 2);
    run = fc_row_run_for_threads(run, OH, N, nthreads);
    const int64_t nruns = fc_cdiv(OH, run), total = N * nruns;
    const int64_t sz = fc_smallc_scratch(C, run, OW, KH, KW, g->SH, g->SW, g->DH, g->DW);
    const size_t per = ((size_t)sz * es + 63) & ~(size_t)63;
    /* weights [C][KH][KW][K] (broadcast K-contiguous), bias [K], then scratch */
    const size_t wbytes = (((size_t)((T + 1) * K) * es) + 63) & ~(size_t)63;
    char *mem = fc_alloc(wbytes + per * (size_t)nthreads);
    if (!mem) return FC_ENOMEM;
    char *bp = mem + (size_t)(T * K) * es;
    fc_pack_transposed(mem, w, K, T, K, dbl);
    if (bias) memcpy(bp, bias, (size_t)K * es);
    else memset(bp, 0, (size_t)K * es);
    char *scratch = mem + wbytes;
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        int64_t t0, t1;
        int tid = FC_THREAD_ID();
        fc_split(total, FC_NUM_THREADS(), tid, &t0, &t1);
        fc_smallc_args a;
        a.w = mem; a.bias = bp; a.scratch = scratch + per * (size_t)tid;
        a.C = C; a.H = H; a.W = W; a.K = K; a.OH = OH; a.OW = OW;
        a.KH = KH; a.KW = KW; a.SH = g->SH; a.SW = g->SW; a.DH = g->DH; a.DW = g->DW;
        a.PT = g->PT; a.PL = g->PL; a.layout = g->layout;
        a.flags = relu ? FC_FLAG_RELU : 0u;
        for (int64_t t = t0; t < t1; t++) {
            const int64_t n = fc_row_task(t, nruns, run, OH, &a.oh0, &a.oh1);
            a.x = (const char *)x + (size_t)(n * C * H * W) * es;
            a.y = (char *)y + (size_t)(n * K * OH * OW) * es;
            kern(&a);
        }
    }
    fc_free(mem);
    return FC_OK;
}

int fc_smallc_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w, const float *bias,
                         float *y, int relu, int isa, int nthreads) {
    return fc_smallc(g, x, w, bias, y, relu, isa, nthreads, 0);
}

int fc_smallc_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                         const double *bias, double *y, int relu, int isa, int nthreads) {
    return fc_smallc(g, x, w, bias, y, relu, isa, nthreads, 1);
}
