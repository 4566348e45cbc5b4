/* Depthwise conv2d forward drivers: pack, split the work, call the
 * dwconv_nhwc / dwconv_nchw micro-kernels (src/kernels/dwconv-kernels.h).
 * One OpenMP region per call; the only allocations are the packed weights
 * (NHWC) or one scratch per thread (NCHW: mask tables, or padded rows for
 * strides above 2). */
#include "dwconv.h"
#include "row-tasks.h"
#include "steal.h"
#include "kernels/dwconv-kernels.h"
#include "kernels/registry.h"

/* Scratch per NCHW task is kept near this many bytes (L2-resident). */
#define FC_DW_SCRATCH_BYTES (192 * 1024)

/* dst[t * ld + c] = src[c * T + t] for c in [c0, c1), t < T (es-byte
 * elements): the (C, T) filters stored tap-major. Blocks of 16 filters go
 * through a local copy, so that the strided reads stay in L1 and each tap's 16
 * values are written as one run: 2.5x faster than the scalar transpose (2.6 vs
 * 6.6 us for 960 3x3 filters), which was 15% of the 960-channel 7x7 call. */
static void fc_dw_pack(char *dst, const void *src, int64_t c0, int64_t c1, int64_t T,
                       int64_t ld, size_t es) {
    enum { B = 16, TMAX = 64 };
    int64_t c = c0;
    if (T <= TMAX) {
        for (; c + B <= c1; c += B) {
            if (es == sizeof(double)) {
                double blk[B * TMAX];
                memcpy(blk, (const double *)src + c * T, sizeof(double) * (size_t)(B * T));
                for (int64_t t = 0; t < T; t++)
                    for (int i = 0; i < B; i++) ((double *)dst)[t * ld + c + i] = blk[i * T + t];
            } else {
                float blk[B * TMAX];
                memcpy(blk, (const float *)src + c * T, sizeof(float) * (size_t)(B * T));
                for (int64_t t = 0; t < T; t++)
                    for (int i = 0; i < B; i++) ((float *)dst)[t * ld + c + i] = blk[i * T + t];
            }
        }
    }
    for (; c < c1; c++)
        for (int64_t t = 0; t < T; t++) memcpy(dst + (size_t)(t * ld + c) * es,
                                               (const char *)src + (size_t)(c * T + t) * es, es);
}

static int fc_dwconv2d(const fc_conv_geom *g, const void *x, const void *w, const void *bias,
                       void *y, int relu, int isa, int nthreads, int dbl) {
    if (!g || !x || !w || !y || !fc_conv_geom_ok(g) || !fc_dwconv2d_applicable(g) ||
        nthreads < 1)
        return FC_EINVAL;
    if (g->N == 0) return FC_OK;
    const size_t es = dbl ? sizeof(double) : sizeof(float);
    const char *dtype = dbl ? "f64" : "f32";
    const uint32_t flags = relu ? FC_FLAG_RELU : 0u;
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    const int64_t KH = g->KH, KW = g->KW;

    if (g->layout == FC_NHWC) {
        const fc_kernel_info *ki = fc_kernel_select("dwconv_nhwc", dtype, isa);
        if (!ki) return FC_EINVAL;
        fc_dwconv_fn kern = (fc_dwconv_fn)ki->fn;
        const int64_t Cp = (C + 15) & ~(int64_t)15;
        /* weights [KH*KW][Cp] and bias [Cp], zero past C: full-vector loads */
        char *wp = fc_alloc((size_t)((KH * KW + 1) * Cp) * es);
        if (!wp) return FC_ENOMEM;
        char *bp = wp + (size_t)(KH * KW * Cp) * es;
        /* zeros past C in every row (the channel tail's lanes) and the bias */
        for (int64_t t = 0; t <= KH * KW; t++)
            memset(wp + (size_t)(t * Cp + C) * es, 0, (size_t)(Cp - C) * es);
        if (bias) memcpy(bp, bias, (size_t)C * es);
        else memset(bp, 0, (size_t)C * es);
        /* tasks: (image, channel chunk, run of output rows): whole images and
           every channel unless that leaves threads idle or unbalanced, then
           runs of at least 8 rows, then channel chunks (down to 64 channels),
           then shorter runs. Runs long enough for the kernel's groups of 4
           rows before channel chunks (2 threads, 192 channels @28: halves of
           the rows 0.77x the time of halves of the channels), chunks before
           short runs (384 @14, 960 @7: 7 or 4 + 3 rows cost 1.1-1.2x). */
        const int64_t T = nthreads;
        const int64_t want = N % T == 0 ? 1 : T % N == 0 ? T / N
                           : N >= 4 * T ? 1 : fc_cdiv(4 * T, N);
        int64_t cblk = (C + 63) & ~(int64_t)63, run = OH;
        while (fc_cdiv(OH, run) * fc_cdiv(C, cblk) < want && (run > 4 || cblk > 64)) {
            if (run >= 16) run = fc_cdiv(run, 2);
            else if (cblk > 64) cblk = ((cblk / 2) + 63) & ~(int64_t)63;
            else run = fc_cdiv(run, 2);
        }
        /* equal chunks (whole 32-channel tiles): 192 channels split 128 + 64
         * left one of two threads with twice the work */
        cblk = (fc_cdiv(C, fc_cdiv(C, cblk)) + 31) & ~(int64_t)31;
        const int64_t nruns = fc_cdiv(OH, run), ncb = fc_cdiv(C, cblk);
        const int64_t total = N * ncb * nruns;
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
        {
            int64_t t0, t1;
            const int nt = FC_NUM_THREADS(), tid = FC_THREAD_ID();
            /* the threads pack the weights in parallel, 16-filter blocks each */
            fc_split(fc_cdiv(C, 16), nt, tid, &t0, &t1);
            fc_dw_pack(wp, w, t0 * 16, fc_min64(C, t1 * 16), KH * KW, Cp, es);
#if FC_HAVE_OPENMP
#pragma omp barrier
#endif
            fc_split(total, nt, tid, &t0, &t1);
            fc_dwconv_nhwc_args a;
            a.w = wp; a.bias = bp;
            a.C = C; a.Cp = Cp; a.H = H; a.W = W; a.OW = OW;
            a.KH = KH; a.KW = KW; a.SH = g->SH; a.SW = g->SW; a.DH = g->DH; a.DW = g->DW;
            a.PT = g->PT; a.PL = g->PL;
            a.ow0 = 0; a.ow1 = OW; a.YS = C; a.flags = flags;
            /* a thread's consecutive runs of one image and channel chunk go as
               one call: the kernel's groups of 4 rows then do not break at each
               run's end (192 channels @28, 1 thread: 0.54 -> 0.46 of torch) */
            for (int64_t t = t0, u; t < t1; t = u) {
                int64_t r = t % nruns, cb = (t / nruns) % ncb, n = t / (nruns * ncb);
                u = t + 1;
                while (u < t1 && u % nruns != 0) u++;
                a.x = (const char *)x + (size_t)(n * H * W * C) * es;
                a.y = (char *)y + (size_t)(n * OH * OW * C) * es;
                a.oh0 = r * run;
                a.oh1 = fc_min64(OH, (r + u - t) * run);
                a.c0 = cb * cblk;
                a.c1 = fc_min64(C, a.c0 + cblk);
                kern(&a);
            }
        }
        fc_free(wp);
        return FC_OK;
    }

    const fc_kernel_info *ki = fc_kernel_select("dwconv_nchw", dtype, isa);
    if (!ki) return FC_EINVAL;
    fc_dwconv_fn kern = (fc_dwconv_fn)ki->fn;
    /* tasks: runs of output rows of one plane; whole planes (one kernel call
       per thread over a range of them) unless there are too few planes to
       feed every thread, or strides above 2 need an L2-sized row scratch */
    int64_t run = OH;
    if (g->SW > 2)
        while (run > 1 && fc_dwconv_nchw_scratch(run, OW, KH, KW, g->SH, g->SW, g->DH, g->DW) *
                                  (int64_t)es > FC_DW_SCRATCH_BYTES)
            run = fc_cdiv(run, 2);
    run = fc_row_run_for_threads(run, OH, N * C, nthreads);
    const int64_t nruns = fc_cdiv(OH, run), total = N * C * nruns;
    const size_t per = (size_t)fc_dwconv_nchw_scratch_bytes(run, OW, KH, KW, g->SH, g->SW,
                                                            g->DH, g->DW, (int64_t)es);
    char *scratch = fc_alloc(per * (size_t)nthreads);
    /* chunks of tasks (whole planes: one kernel call each chunk), a
       contiguous share per thread, then stealing; small planes keep one
       chunk a thread (960 channels @7x7 in 8 chunks a thread: 1.18x the
       time; 32 @112 0.76x, 144 @56 0.84x, 192 @28 0.87x with them) */
    const int64_t chunk = nruns > 1 ? 1
                        : OH * OW >= 512 ? fc_steal_chunk(total, nthreads)
                                         : fc_cdiv(total, nthreads);
    fc_steal_slot *slots = fc_steal_new(fc_cdiv(total, chunk), nthreads);
    if (!scratch || !slots) {
        fc_free(scratch); fc_free(slots);
        return FC_ENOMEM;
    }
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        int tid = FC_THREAD_ID();
        fc_dwconv_nchw_args a;
        a.x = x; a.w = w; a.bias = bias; a.y = y;
        a.scratch = scratch + per * (size_t)tid;
        a.C = C; a.H = H; a.W = W; a.OH = OH; a.OW = OW; a.KH = KH; a.KW = KW;
        a.SH = g->SH; a.SW = g->SW; a.DH = g->DH; a.DW = g->DW; a.PT = g->PT; a.PL = g->PL;
        a.flags = flags;
        for (int64_t ch; (ch = fc_steal_next(slots, nthreads, tid)) >= 0;) {
            if (nruns == 1) {
                a.p0 = ch * chunk; a.p1 = fc_min64(total, a.p0 + chunk);
                a.oh0 = 0; a.oh1 = OH;
            } else {
                a.p0 = fc_row_task(ch, nruns, run, OH, &a.oh0, &a.oh1);
                a.p1 = a.p0 + 1;
            }
            kern(&a);
        }
    }
    fc_free(scratch);
    fc_free(slots);
    return FC_OK;
}

int fc_dwconv2d_f32(const fc_conv_geom *g, const float *x, const float *w, const float *bias,
                    float *y, int relu, int isa, int nthreads) {
    return fc_dwconv2d(g, x, w, bias, y, relu, isa, nthreads, 0);
}

int fc_dwconv2d_f64(const fc_conv_geom *g, const double *x, const double *w, const double *bias,
                    double *y, int relu, int isa, int nthreads) {
    return fc_dwconv2d(g, x, w, bias, y, relu, isa, nthreads, 1);
}
