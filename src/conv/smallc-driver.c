/* Small-channel conv2d forward driver: pick the family (smallc along W or
 * smallc_kvec over output channels), pack the weights, split images x runs of
 * output rows over the threads, call the micro-kernel
 * (src/kernels/smallc-kernels.h). One OpenMP region per call. */
#include "smallc.h"
#include "row-tasks.h"
#include "steal.h"
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

/* Which family a call takes (variant 0), by lane use: smallc_kvec fills its
 * vectors with output channels, smallc with output columns. NHWC output from
 * smallc pays a scalar transpose, so NHWC leans to smallc_kvec; NCHW output
 * from smallc_kvec goes through a register transpose, which a long
 * reduction (T) hides (stems, LeNet conv2: ~10% faster than smallc with a
 * preallocated output) and a short one does not (3x3 RGB: smallc). */
static int fc_smallc_use_kvec(const fc_conv_geom *g, int64_t V) {
    const double uk = (double)g->K / (double)(fc_cdiv(g->K, V) * V);
    const double uw = (double)g->OW / (double)(fc_cdiv(g->OW, V) * V);
    if (g->layout == FC_NHWC) return uk >= 0.5 * uw;
    return uk >= uw && g->C * g->KH * g->KW >= 64;
}

static int fc_smallc(const fc_conv_geom *g, const void *x, const void *w, const void *bias,
                     void *y, int relu, int isa, int nthreads, int dbl, int variant) {
    if (!g || !x || !w || !y || !fc_conv_geom_ok(g) || g->G != 1 || nthreads < 1)
        return FC_EINVAL;
    if (g->N == 0) return FC_OK;
    const size_t es = dbl ? sizeof(double) : sizeof(float);
    const char *dt = dbl ? "f64" : "f32";
    const fc_kernel_info *kw_ = fc_kernel_select("smallc", dt, isa);
    const fc_kernel_info *kk_ = fc_kernel_select("smallc_kvec", dt, isa);
    if (!kw_ || !kk_) return FC_EINVAL;
    /* lanes of the W-vectorised kernel: its tile is nr = U * V columns */
    const int64_t V = fc_max64(1, (int64_t)kw_->nr / 2);
    const int kvec = variant ? variant == 2 : fc_smallc_use_kvec(g, V);
    const fc_kernel_info *ki = kvec ? kk_ : kw_;
    fc_smallc_fn kern = (fc_smallc_fn)ki->fn;
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, K = g->K, OH = g->OH, OW = g->OW;
    const int64_t KH = g->KH, KW = g->KW, T = C * KH * KW;
    const int64_t NR = kvec ? (int64_t)ki->nr : K, Kp = fc_cdiv(K, NR) * NR;

#define FC_SC_SZ(r) (kvec ? fc_smallc_kvec_scratch(C, r, OW, KH, KW, g->SH, g->SW, g->DH, g->DW) \
                          : fc_smallc_scratch(C, r, OW, KH, KW, g->SH, g->SW, g->DH, g->DW))
    int64_t run = OH;
    while (run > 1 && FC_SC_SZ(run) * (int64_t)es > FC_SC_SCRATCH_BYTES) run = fc_cdiv(run, 2);
    run = fc_row_run_for_threads(run, OH, N, nthreads);
    const int64_t nruns = fc_cdiv(OH, run), total = N * nruns;
    const int64_t sz = FC_SC_SZ(run);
#undef FC_SC_SZ
    const size_t per = ((size_t)sz * es + 63) & ~(size_t)63;
    /* weights then bias [Kp], then scratch. smallc: [C][KH][KW][K] (broadcast,
       K-contiguous); smallc_kvec: blocks of NR channels [KH][KW][C][NR] */
    const size_t wbytes = (((size_t)((T + 1) * Kp) * es) + 63) & ~(size_t)63;
    char *mem = fc_alloc(wbytes + per * (size_t)nthreads);
    /* each thread its contiguous share of the runs, then the others' from
       their ends: a thread slowed by a neighbour on a shared box does not
       hold the other up for a whole share */
    fc_steal_slot *slots = fc_steal_new(total, nthreads);
    if (!mem || !slots) {
        fc_free(mem); fc_free(slots);
        return FC_ENOMEM;
    }
    char *bp = mem + (size_t)(T * Kp) * es;
    if (kvec) {
        memset(mem, 0, (size_t)((T + 1) * Kp) * es);
        for (int64_t k = 0; k < K; k++) {
            const int64_t b = k / NR, l = k % NR;
            for (int64_t c = 0; c < C; c++)
                for (int64_t t = 0; t < KH * KW; t++) {
                    /* OIHW (k, c, kh, kw) -> t' = (kh*KW + kw)*C + c */
                    const size_t src = (size_t)((k * C + c) * KH * KW + t);
                    const size_t dst = (size_t)(b * NR * T + (t * C + c) * NR + l);
                    if (dbl) ((double *)mem)[dst] = ((const double *)w)[src];
                    else ((float *)mem)[dst] = ((const float *)w)[src];
                }
        }
    } else {
        fc_pack_transposed(mem, w, K, T, K, dbl);
    }
    if (bias) memcpy(bp, bias, (size_t)K * es);
    else memset(bp, 0, (size_t)K * es);
    char *scratch = mem + wbytes;
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        int tid = FC_THREAD_ID();
        fc_smallc_args a;
        a.w = mem; a.bias = bp; a.scratch = scratch + per * (size_t)tid;
        a.C = C; a.H = H; a.W = W; a.K = K; a.OH = OH; a.OW = OW;
        a.KH = KH; a.KW = KW; a.SH = g->SH; a.SW = g->SW; a.DH = g->DH; a.DW = g->DW;
        a.PT = g->PT; a.PL = g->PL; a.layout = g->layout;
        a.flags = relu ? FC_FLAG_RELU : 0u;
        a.NR = NR;
        for (int64_t t; (t = fc_steal_next(slots, nthreads, tid)) >= 0;) {
            const int64_t n = fc_row_task(t, nruns, run, OH, &a.oh0, &a.oh1);
            a.x = (const char *)x + (size_t)(n * C * H * W) * es;
            a.y = (char *)y + (size_t)(n * K * OH * OW) * es;
            kern(&a);
        }
    }
    fc_free(mem);
    fc_free(slots);
    return FC_OK;
}

#define FC_SC_ENTRY(name, T, variant, dbl) \
    int name(const fc_conv_geom *g, const T *x, const T *w, const T *bias, T *y, int relu, \
             int isa, int nthreads) { \
        return fc_smallc(g, x, w, bias, y, relu, isa, nthreads, dbl, variant); \
    }
FC_SC_ENTRY(fc_smallc_conv2d_f32, float, 0, 0)
FC_SC_ENTRY(fc_smallc_conv2d_f64, double, 0, 1)
FC_SC_ENTRY(fc_smallc_wvec_conv2d_f32, float, 1, 0)
FC_SC_ENTRY(fc_smallc_wvec_conv2d_f64, double, 1, 1)
FC_SC_ENTRY(fc_smallc_kvec_conv2d_f32, float, 2, 0)
FC_SC_ENTRY(fc_smallc_kvec_conv2d_f64, double, 2, 1)
