/* Template of the pooling drivers (prototypes and contracts in pool.h).
 * Include with FC_T, FC_DT ("f32"/"f64"), FC_TABLE (kernel table type) and
 * FC_FN(name) (appends the dtype suffix) defined.
 *
 * NCHW: threads take whole output rows (forward) or whole planes (backward,
 * so the scatter into grad_input never races). One output row is two passes:
 * the window's valid input rows reduced along W into a row buffer padded with
 * the identity (-inf or 0), then that buffer split into SW stride phases so
 * every horizontal tap is a contiguous vector, reduced again.
 * NHWC: the window's taps are pointers to C-vectors of channels; threads take
 * output rows (forward) or (image, channel block) pairs (backward). */
#include "kernels/registry.h"
#include "steal.h"

typedef const FC_TABLE *(*FC_FN(table_fn))(void);

static const FC_TABLE *FC_FN(table)(int isa) {
    const fc_kernel_info *k = fc_kernel_select("pool", FC_DT, isa);
    return k ? ((FC_FN(table_fn))(void (*)(void))k->fn)() : NULL;
}

/* per-thread scratch of the NCHW row passes */
typedef struct {
    FC_T *b, *ph, *y;            /* row buffer, its phases, OW outputs */
    int32_t *bi, *phi, *arg, *rank;
    const FC_T *rows[FC_POOL_MAX_ROWS];
    const int32_t *ranks[FC_POOL_MAX_ROWS];
    FC_T *dst[FC_POOL_MAX_ROWS];
    int64_t off[FC_POOL_MAX_ROWS];
    int64_t L;                   /* phase length: row buffer = L * SW values */
} FC_FN(ws);

/* bytes of one thread's scratch (n: row-buffer length, m: outputs or channels) */
static size_t FC_FN(ws_bytes)(int64_t n, int64_t m) {
    return (size_t)(2 * n + m + 16) * sizeof(FC_T) + (size_t)(2 * n + 2 * m + 16) * 4 + 256;
}

static void FC_FN(ws_init)(FC_FN(ws) *w, char *mem, int64_t n, int64_t m) {
    w->b = (FC_T *)mem;
    w->ph = w->b + n;
    w->y = w->ph + n;
    w->bi = (int32_t *)(void *)(w->y + m + 16);
    w->phi = w->bi + n;
    w->arg = w->phi + n;
    w->rank = w->arg + m;
}

/* NCHW row buffer length, a multiple of SW covering the padded row and every tap */
static int64_t FC_FN(row_len)(const fc_pool_geom *g) {
    int64_t need = fc_max64(g->PL + g->W, (g->OW - 1) * g->SW + (g->KW - 1) * g->DW + 1);
    return fc_cdiv(need, g->SW) * g->SW;
}

/* offset in the (phase-split) row buffer of horizontal tap kw of output 0 */
static int64_t FC_FN(htap)(const fc_pool_geom *g, int64_t L, int64_t kw) {
    int64_t c = kw * g->DW;
    return (c % g->SW) * L + c / g->SW;
}

/* rows [*a, *b) of the window of output row oh that lie inside the input */
static void FC_FN(vrows)(const fc_pool_geom *g, int64_t oh, int64_t *a, int64_t *b) {
    fc_tap_range(oh * g->SH - g->PT, g->KH, g->DH, 0, g->H, a, b);
}

/* ---- NCHW max pooling of one output row into y (OW values). With `with_arg`,
 * also the window-relative argmax: w->rank[o] = input row (from kh = a), or
 * FC_POOL_RANK_PAD for a window entirely in padding, and w->arg[o] = kw. */
static void FC_FN(nchw_max_row)(const FC_TABLE *k, const fc_pool_geom *g, const FC_T *xp,
                                int64_t oh, FC_T *y, int with_arg, FC_FN(ws) *w) {
    int64_t a, b;
    FC_FN(vrows)(g, oh, &a, &b);
    const int64_t r0 = oh * g->SH - g->PT, L = w->L, S = g->SW;
    if (a >= b) {
        for (int64_t o = 0; o < g->OW; o++) {
            y[o] = -(FC_T)INFINITY;
            w->rank[o] = FC_POOL_RANK_PAD;
            w->arg[o] = 0;
        }
        return;
    }
    for (int64_t j0 = a; j0 < b; j0 += FC_POOL_MAX_ROWS) {
        int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, b - j0);
        for (int64_t j = 0; j < cnt; j++) w->rows[j] = xp + (r0 + (j0 + j) * g->DH) * g->W;
        if (with_arg)
            k->vmaxarg((size_t)g->W, (size_t)cnt, w->rows, w->b + g->PL, w->bi + g->PL,
                       (int32_t)(j0 - a), j0 > a);
        else
            k->vmax((size_t)g->W, (size_t)cnt, w->rows, w->b + g->PL, j0 > a);
    }
    const FC_T *src = w->b;
    const int32_t *srci = w->bi;
    if (S > 1) {
        k->deinterleave((size_t)L, (size_t)S, w->b, w->ph);
        src = w->ph;
        if (with_arg) {
            k->deinterleave_i32((size_t)L, (size_t)S, w->bi, w->phi);
            srci = w->phi;
        }
    }
    for (int64_t q0 = 0; q0 < g->KW; q0 += FC_POOL_MAX_ROWS) {
        int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, g->KW - q0);
        for (int64_t q = 0; q < cnt; q++) {
            int64_t off = FC_FN(htap)(g, L, q0 + q);
            w->rows[q] = src + off;
            w->ranks[q] = srci + off;
        }
        if (with_arg)
            k->vmaxarg_ranked((size_t)g->OW, (size_t)cnt, w->rows, w->ranks, y, w->arg, w->rank,
                              (int32_t)q0, q0 > 0);
        else
            k->vmax((size_t)g->OW, (size_t)cnt, w->rows, y, q0 > 0);
    }
}

/* flat input offset (h*W + w) of the argmax of output (oh, o) found by nchw_max_row; -1 if none */
static inline int64_t FC_FN(nchw_argpos)(const fc_pool_geom *g, const FC_FN(ws) *w, int64_t oh,
                                         int64_t a, int64_t o) {
    if (w->rank[o] == FC_POOL_RANK_PAD) return -1;
    int64_t r = oh * g->SH - g->PT + (a + w->rank[o]) * g->DH;
    return r * g->W + o * g->SW - g->PL + (int64_t)w->arg[o] * g->DW;
}

/* 1 / divisor of average pooling, separably: row factor of output row oh, or
 * column factor of output column ow (dim: 0 = H, 1 = W). */
static FC_T FC_FN(avg_factor)(const fc_pool_geom *g, int dim, int64_t o, int cip,
                              int64_t divisor_override) {
    if (divisor_override > 0) return dim == 0 ? (FC_T)(1.0 / (double)divisor_override) : 1;
    int64_t start, K, D, lo, hi, a, b;
    if (dim == 0) {
        start = o * g->SH - g->PT; K = g->KH; D = g->DH;
        lo = cip ? -g->PT : 0; hi = cip ? g->H + g->PB : g->H;
    } else {
        start = o * g->SW - g->PL; K = g->KW; D = g->DW;
        lo = cip ? -g->PL : 0; hi = cip ? g->W + g->PR : g->W;
    }
    fc_tap_range(start, K, D, lo, hi, &a, &b);
    return (FC_T)(1.0 / (double)(b - a)); /* 0 taps: inf, so 0 * inf gives the 0/0 NaN */
}

/* ---- NCHW average pooling of one output row into y (unscaled sums, then * factors) */
static void FC_FN(nchw_avg_row)(const FC_TABLE *k, const fc_pool_geom *g, const FC_T *xp,
                                int64_t oh, FC_T *y, FC_T rf, const FC_T *cf, FC_FN(ws) *w) {
    int64_t a, b;
    FC_FN(vrows)(g, oh, &a, &b);
    const int64_t r0 = oh * g->SH - g->PT, L = w->L, S = g->SW;
    if (a >= b) {
        memset(y, 0, (size_t)g->OW * sizeof(FC_T));
    } else {
        for (int64_t j0 = a; j0 < b; j0 += FC_POOL_MAX_ROWS) {
            int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, b - j0);
            for (int64_t j = 0; j < cnt; j++) w->rows[j] = xp + (r0 + (j0 + j) * g->DH) * g->W;
            k->vsum((size_t)g->W, (size_t)cnt, w->rows, w->b + g->PL, j0 > a);
        }
        const FC_T *src = w->b;
        if (S > 1) {
            k->deinterleave((size_t)L, (size_t)S, w->b, w->ph);
            src = w->ph;
        }
        for (int64_t q0 = 0; q0 < g->KW; q0 += FC_POOL_MAX_ROWS) {
            int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, g->KW - q0);
            for (int64_t q = 0; q < cnt; q++) w->rows[q] = src + FC_FN(htap)(g, L, q0 + q);
            k->vsum((size_t)g->OW, (size_t)cnt, w->rows, y, q0 > 0);
        }
    }
    k->vscale((size_t)g->OW, rf, cf, y);
}

/* column factors of average pooling (OW values), or NULL with divisor_override */
static FC_T *FC_FN(avg_colfactors)(const fc_pool_geom *g, int cip, int64_t divisor_override,
                                   int *err) {
    *err = 0;
    if (divisor_override > 0) return NULL;
    FC_T *cf = (FC_T *)fc_alloc((size_t)g->OW * sizeof(FC_T));
    if (!cf) {
        *err = 1;
        return NULL;
    }
    for (int64_t o = 0; o < g->OW; o++) cf[o] = FC_FN(avg_factor)(g, 1, o, cip, 0);
    return cf;
}

/* fill the identity padding of every thread's NCHW row buffers */
static void FC_FN(ws_fill)(FC_FN(ws) *w, const fc_pool_geom *g, FC_T pad) {
    int64_t n = w->L * g->SW;
    for (int64_t i = 0; i < n; i++) {
        w->b[i] = pad;
        w->bi[i] = FC_POOL_RANK_PAD;
    }
}

/* What every windowed pooling sets up: the kernel table, the NCHW row-buffer phase
 * length L (0 for NHWC), the row width m (OW, or C), nthreads workspaces of wsb bytes
 * in mem, and average pooling's column factors cf (NULL: none). */
typedef struct {
    const FC_TABLE *k;
    int64_t L, m, n; /* n: row-buffer values (L * SW + extra) */
    size_t wsb;
    char *mem;
    FC_T *cf;
} FC_FN(plan);

/* p for g; the row buffer gets `extra` more values. FC_OK with p->mem == NULL means an
 * empty batch: nothing to do. */
static int FC_FN(plan_init)(FC_FN(plan) *p, const fc_pool_geom *g, int isa, int nthreads,
                            int64_t extra) {
    p->mem = NULL;
    p->cf = NULL;
    p->k = FC_FN(table)(isa);
    if (!p->k || !fc_pool_geom_ok(g) || nthreads < 1) return FC_EINVAL;
    if (g->N == 0 || g->C == 0) return FC_OK;
    const int nchw = g->layout == FC_NCHW;
    p->L = nchw ? FC_FN(row_len)(g) / g->SW : 0;
    p->m = nchw ? g->OW : g->C;
    p->n = p->L * g->SW + extra;
    p->wsb = FC_FN(ws_bytes)(p->n, p->m);
    p->mem = (char *)fc_alloc(p->wsb * (size_t)nthreads);
    return p->mem ? FC_OK : FC_ENOMEM;
}

static void FC_FN(plan_free)(FC_FN(plan) *p) {
    fc_free(p->mem);
    fc_free(p->cf);
}

/* the calling thread's workspace of p, its NCHW row buffer padded with `pad` */
static void FC_FN(ws_thread)(FC_FN(ws) *w, const FC_FN(plan) *p, const fc_pool_geom *g,
                             FC_T pad) {
    FC_FN(ws_init)(w, p->mem + p->wsb * (size_t)FC_THREAD_ID(), p->n, p->m);
    w->L = p->L;
    if (g->layout == FC_NCHW) FC_FN(ws_fill)(w, g, pad);
}

/* (image, channel block) work items of NHWC backward / global pooling */
static int64_t FC_FN(cblock)(int64_t N, int64_t C, int nthreads) {
    if (N >= 2 * nthreads || C <= 16) return C;
    int64_t parts = fc_cdiv(2 * nthreads, fc_max64(N, 1));
    int64_t cb = fc_cdiv(fc_cdiv(C, parts), 16) * 16;
    return fc_max64(16, fc_min64(cb, C));
}

/* The NHWC taps of output pixel (oh, ow), row-major, in chunks of at most
 * FC_POOL_MAX_ROWS: tap t of the window = (a + t / nc, ca + t % nc). */
typedef struct {
    int64_t a, b, ca, cb, nc, nt;
} FC_FN(win);

static FC_FN(win) FC_FN(window)(const fc_pool_geom *g, int64_t oh, int64_t ow) {
    FC_FN(win) v;
    fc_tap_range(oh * g->SH - g->PT, g->KH, g->DH, 0, g->H, &v.a, &v.b);
    fc_tap_range(ow * g->SW - g->PL, g->KW, g->DW, 0, g->W, &v.ca, &v.cb);
    v.nc = v.cb - v.ca;
    v.nt = (v.b - v.a) * v.nc;
    return v;
}

/* input pixel (h*W + w) of tap t of window v of output (oh, ow) */
static inline int64_t FC_FN(tap_pos)(const fc_pool_geom *g, const FC_FN(win) *v, int64_t oh,
                                     int64_t ow, int64_t t) {
    int64_t r = oh * g->SH - g->PT + (v->a + t / v->nc) * g->DH;
    int64_t c = ow * g->SW - g->PL + (v->ca + t % v->nc) * g->DW;
    return r * g->W + c;
}

/* input pixels (h*W + w) of taps [t0, t0 + cnt) of window v of output (oh, ow),
 * stepping through the window instead of dividing per tap */
static void FC_FN(tap_offsets)(const fc_pool_geom *g, const FC_FN(win) *v, int64_t oh,
                               int64_t ow, int64_t t0, int64_t cnt, int64_t *off) {
    int64_t kw = t0 % v->nc;
    int64_t r = oh * g->SH - g->PT + (v->a + t0 / v->nc) * g->DH;
    const int64_t c0 = ow * g->SW - g->PL + v->ca * g->DW;
    int64_t c = c0 + kw * g->DW;
    for (int64_t t = 0; t < cnt; t++) {
        off[t] = r * g->W + c;
        c += g->DW;
        if (++kw == v->nc) {
            kw = 0;
            c = c0;
            r += g->DH;
        }
    }
}

/* NHWC windows lying inside the input: outputs [lo[0], hi[0]) x [lo[1], hi[1]) (empty if
 * KH * KW > FC_POOL_MAX_ROWS), and each tap's input pixel relative to the window's first */
typedef struct {
    int64_t lo[2], hi[2], nt;
    int64_t rel[FC_POOL_MAX_ROWS];
} FC_FN(inner);

static void FC_FN(inner_init)(FC_FN(inner) *q, const fc_pool_geom *g) {
    const int64_t S[2] = {g->SH, g->SW}, K[2] = {g->KH, g->KW}, D[2] = {g->DH, g->DW};
    const int64_t P[2] = {g->PT, g->PL}, I[2] = {g->H, g->W}, O[2] = {g->OH, g->OW};
    q->nt = g->KH * g->KW;
    for (int d = 0; d < 2; d++) {
        const int64_t last = I[d] - 1 - (K[d] - 1) * D[d] + P[d]; /* o * S <= last */
        q->lo[d] = fc_min64(O[d], fc_cdiv(P[d], S[d]));
        q->hi[d] = last < 0 ? q->lo[d] : fc_max64(q->lo[d], fc_min64(O[d], last / S[d] + 1));
    }
    if (q->nt > FC_POOL_MAX_ROWS) q->hi[0] = q->lo[0];
    for (int64_t t = 0; t < q->nt && t < FC_POOL_MAX_ROWS; t++)
        q->rel[t] = (t / g->KW) * g->DH * g->W + (t % g->KW) * g->DW;
}

/* 1 if output (oh, ow)'s window lies inside the input: then w->off and w->rows hold its
 * q->nt taps (row-major) in the image xn */
static inline int FC_FN(inner_taps)(const FC_FN(inner) *q, const fc_pool_geom *g, int64_t oh,
                                    int64_t ow, const FC_T *xn, FC_FN(ws) *w) {
    if (oh < q->lo[0] || oh >= q->hi[0] || ow < q->lo[1] || ow >= q->hi[1]) return 0;
    const int64_t base = (oh * g->SH - g->PT) * g->W + ow * g->SW - g->PL;
    for (int64_t t = 0; t < q->nt; t++) {
        w->off[t] = base + q->rel[t];
        w->rows[t] = xn + w->off[t] * g->C;
    }
    return 1;
}

/* ------------------------------------------------------------------ forward */

/* 1 if pooling without indices takes the 2x2/2 kernel (pool2x2s2): windows 2x2 at
 * stride 2, undilated, all inside the input (no top/left padding, no ceil-mode
 * window past the edge). NHWC only below 16 channels, where the per-pixel passes
 * spend their time in calls (LeNet's 6: 0.47-0.49x the time, 2 threads); at 64
 * those are full vectors and the kernel's buffer pass cost 1.07x for max */
static int FC_FN(p22)(const fc_pool_geom *g) {
    return (g->layout == FC_NCHW || g->C < 16) && g->KH == 2 && g->KW == 2 &&
           g->SH == 2 && g->SW == 2 && g->DH == 1 && g->DW == 1 && g->PT == 0 &&
           g->PL == 0 && 2 * g->OH <= g->H && 2 * g->OW <= g->W;
}

/* pool2x2s2 over output rows [i0, i1) (flat over planes or images, and rows): one
 * call per plane (image), or one for the whole range where their input rows are
 * contiguous pairs (H = 2*OH) */
static void FC_FN(p22_rows)(const FC_TABLE *k, const fc_pool_geom *g, const FC_T *x, FC_T *y,
                            int64_t i0, int64_t i1, int avg, FC_T s) {
    const int64_t c = g->layout == FC_NHWC ? g->C : 1;
    for (int64_t i = i0; i < i1;) {
        const int64_t nc = i / g->OH, oh = i % g->OH;
        const int64_t n = g->H == 2 * g->OH ? i1 - i : fc_min64(i1 - i, g->OH - oh);
        k->pool2x2s2((size_t)n, (size_t)g->W, (size_t)g->OW, (size_t)c,
                     x + (nc * g->H + 2 * oh) * g->W * c, y + i * g->OW * c, avg, s);
        i += n;
    }
}

int FC_FN(fc_max_pool2d)(const fc_pool_geom *g, const FC_T *x, FC_T *y, int64_t *idx, int isa,
                         int nthreads) {
    FC_FN(plan) pl;
    const int st = FC_FN(plan_init)(&pl, g, isa, nthreads, 0);
    if (st != FC_OK || pl.mem == NULL) return st;
    const FC_TABLE *k = pl.k;
    const int nchw = g->layout == FC_NCHW;
    const int64_t rows = g->N * (nchw ? g->C : 1) * g->OH;
    FC_FN(inner) in;
    FC_FN(inner_init)(&in, g);
    /* NCHW 3x3/2 without indices: one fused pass per output row (ResNet's pool) */
    const int s3 = nchw && !idx && g->KH == 3 && g->KW == 3 && g->SH == 2 && g->SW == 2 &&
                   g->DH == 1 && g->DW == 1;
    const int p22 = !idx && FC_FN(p22)(g);
    /* chunks of rows: a contiguous share per thread, then stealing */
    fc_steal_work sw;
    if (!fc_steal_work_init(&sw, rows, nthreads, 1)) {
        FC_FN(plan_free)(&pl);
        return FC_ENOMEM;
    }
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        FC_FN(ws) w;
        FC_FN(ws_thread)(&w, &pl, g, -(FC_T)INFINITY);
        for (int64_t i0, i1; fc_steal_range(&sw, FC_THREAD_ID(), &i0, &i1);) {
        if (p22) {
            FC_FN(p22_rows)(k, g, x, y, i0, i1, 0, 0);
            continue;
        }
        for (int64_t i = i0; i < i1; i++) {
            const int64_t oh = i % g->OH, nc = i / g->OH; /* nc: plane (NCHW) or image */
            if (s3) {
                const FC_T *rr[3];
                int any = 0;
                for (int64_t kh = 0; kh < 3; kh++) {
                    const int64_t ih = oh * 2 - g->PT + kh;
                    rr[kh] = ih >= 0 && ih < g->H ? x + (nc * g->H + ih) * g->W : NULL;
                    any |= rr[kh] != NULL;
                }
                if (any && k->maxfwd_3x3s2((size_t)g->W, (size_t)g->OW, (size_t)g->PL, rr,
                                           y + i * g->OW))
                    continue;
            }
            if (nchw) {
                FC_T *yr = y + i * g->OW;
                FC_FN(nchw_max_row)(k, g, x + nc * g->H * g->W, oh, yr, idx != NULL, &w);
                if (idx) {
                    int64_t a, b;
                    FC_FN(vrows)(g, oh, &a, &b);
                    int64_t *ir = idx + i * g->OW;
                    for (int64_t o = 0; o < g->OW; o++) ir[o] = FC_FN(nchw_argpos)(g, &w, oh, a, o);
                }
                continue;
            }
            const FC_T *xn = x + nc * g->H * g->W * g->C;
            for (int64_t ow = 0; ow < g->OW; ow++) {
                const int64_t op = (i * g->OW + ow) * g->C;
                FC_T *yp = y + op;
                if (FC_FN(inner_taps)(&in, g, oh, ow, xn, &w)) {
                    if (!idx) {
                        k->vmax((size_t)g->C, (size_t)in.nt, w.rows, yp, 0);
                        continue;
                    }
                    k->vmaxarg((size_t)g->C, (size_t)in.nt, w.rows, yp, w.arg, 0, 0);
                    for (int64_t c = 0; c < g->C; c++) idx[op + c] = w.off[w.arg[c]];
                    continue;
                }
                FC_FN(win) v = FC_FN(window)(g, oh, ow);
                if (v.nt == 0) {
                    for (int64_t c = 0; c < g->C; c++) {
                        yp[c] = -(FC_T)INFINITY;
                        if (idx) idx[op + c] = -1;
                    }
                    continue;
                }
                for (int64_t t0 = 0; t0 < v.nt; t0 += FC_POOL_MAX_ROWS) {
                    int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, v.nt - t0);
                    FC_FN(tap_offsets)(g, &v, oh, ow, t0, cnt, w.off);
                    for (int64_t t = 0; t < cnt; t++) w.rows[t] = xn + w.off[t] * g->C;
                    if (idx)
                        k->vmaxarg((size_t)g->C, (size_t)cnt, w.rows, yp, w.arg, (int32_t)t0,
                                   t0 > 0);
                    else
                        k->vmax((size_t)g->C, (size_t)cnt, w.rows, yp, t0 > 0);
                }
                if (idx && v.nt <= FC_POOL_MAX_ROWS) /* w.off holds every tap */
                    for (int64_t c = 0; c < g->C; c++) idx[op + c] = w.off[w.arg[c]];
                else if (idx)
                    for (int64_t c = 0; c < g->C; c++)
                        idx[op + c] = FC_FN(tap_pos)(g, &v, oh, ow, w.arg[c]);
            }
        }
        }
    }
    fc_free(sw.slots);
    FC_FN(plan_free)(&pl);
    return FC_OK;
}

/* plan_init for average pooling, plus its checks and column factors */
static int FC_FN(avg_setup)(FC_FN(plan) *p, const fc_pool_geom *g, int cip,
                            int64_t divisor_override, int isa, int nthreads, int64_t extra) {
    p->mem = NULL;
    p->cf = NULL;
    if (divisor_override < 0) return FC_EINVAL;
    const int st = FC_FN(plan_init)(p, g, isa, nthreads, extra);
    if (st != FC_OK || p->mem == NULL) return st;
    int err;
    p->cf = FC_FN(avg_colfactors)(g, cip, divisor_override, &err);
    if (!err) return FC_OK;
    FC_FN(plan_free)(p);
    p->mem = NULL;
    return FC_ENOMEM;
}

int FC_FN(fc_avg_pool2d)(const fc_pool_geom *g, const FC_T *x, FC_T *y, int cip,
                         int64_t divisor_override, int isa, int nthreads) {
    FC_FN(plan) pl;
    const int st = FC_FN(avg_setup)(&pl, g, cip, divisor_override, isa, nthreads, 0);
    if (st != FC_OK || pl.mem == NULL) return st;
    const FC_TABLE *k = pl.k;
    const FC_T *cf = pl.cf;
    const int nchw = g->layout == FC_NCHW;
    const int64_t rows = g->N * (nchw ? g->C : 1) * g->OH;
    FC_FN(inner) in;
    FC_FN(inner_init)(&in, g);
    /* every window inside the input: one factor (the row pass's rf * cf[o]) */
    const int p22 = FC_FN(p22)(g);
    const FC_T s22 = FC_FN(avg_factor)(g, 0, 0, cip, divisor_override) * (cf ? cf[0] : (FC_T)1);
    /* chunks of rows: a contiguous share per thread, then stealing */
    fc_steal_work sw;
    if (!fc_steal_work_init(&sw, rows, nthreads, 1)) {
        FC_FN(plan_free)(&pl);
        return FC_ENOMEM;
    }
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        FC_FN(ws) w;
        FC_FN(ws_thread)(&w, &pl, g, 0);
        for (int64_t i0, i1; fc_steal_range(&sw, FC_THREAD_ID(), &i0, &i1);) {
        if (p22) {
            FC_FN(p22_rows)(k, g, x, y, i0, i1, 1, s22);
            continue;
        }
        for (int64_t i = i0; i < i1; i++) {
            const int64_t oh = i % g->OH, nc = i / g->OH;
            const FC_T rf = FC_FN(avg_factor)(g, 0, oh, cip, divisor_override);
            if (nchw) {
                FC_FN(nchw_avg_row)(k, g, x + nc * g->H * g->W, oh, y + i * g->OW, rf, cf, &w);
                continue;
            }
            const FC_T *xn = x + nc * g->H * g->W * g->C;
            for (int64_t ow = 0; ow < g->OW; ow++) {
                FC_T *yp = y + (i * g->OW + ow) * g->C;
                const FC_T sc = rf * (cf ? cf[ow] : (FC_T)1);
                if (FC_FN(inner_taps)(&in, g, oh, ow, xn, &w)) {
                    k->vsum((size_t)g->C, (size_t)in.nt, w.rows, yp, 0);
                    k->vscale((size_t)g->C, sc, NULL, yp);
                    continue;
                }
                FC_FN(win) v = FC_FN(window)(g, oh, ow);
                for (int64_t t0 = 0; t0 < v.nt; t0 += FC_POOL_MAX_ROWS) {
                    int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, v.nt - t0);
                    FC_FN(tap_offsets)(g, &v, oh, ow, t0, cnt, w.off);
                    for (int64_t t = 0; t < cnt; t++) w.rows[t] = xn + w.off[t] * g->C;
                    k->vsum((size_t)g->C, (size_t)cnt, w.rows, yp, t0 > 0);
                }
                if (v.nt == 0) memset(yp, 0, (size_t)g->C * sizeof(FC_T));
                k->vscale((size_t)g->C, sc, NULL, yp);
            }
        }
        }
    }
    fc_free(sw.slots);
    FC_FN(plan_free)(&pl);
    return FC_OK;
}

/* ----------------------------------------------------------------- backward */

/* zero npix pixels of cn values, pixel stride ld */
static void FC_FN(zero_pixels)(FC_T *p, int64_t npix, int64_t cn, int64_t ld) {
    if (npix <= 0) return;
    if (cn == ld) {
        memset(p, 0, (size_t)(npix * cn) * sizeof(FC_T));
        return;
    }
    for (int64_t q = 0; q < npix; q++) memset(p + q * ld, 0, (size_t)cn * sizeof(FC_T));
}

/* orders a thread's streamed (non-temporal) stores before what follows, e.g. the end of
 * the parallel region */
static inline void FC_FN(fence)(int nt) {
#if defined(__x86_64__) || defined(__i386__)
    if (nt) __builtin_ia32_sfence();
#else
    (void)nt;
#endif
}

/* 1 if pooling gradients into gx (the input's size) should stream past the caches:
 * larger than 3/4 of the last-level cache, glibc's memcpy threshold. Below it the
 * gradient stays cached for the layer that reads it next (streaming a 25 MB
 * gradient under a 300 MB L3 made the pool faster and torch's next read of it
 * slower), above it caching it would only evict other data. */
static int FC_FN(stream_gx)(const fc_pool_geom *g) {
    return (double)g->N * (double)g->C * (double)(g->H * g->W) * sizeof(FC_T) >
           (double)fc_pool_stream_min_bytes();
}

/* 1 if no two max-pooling windows share an input and every window lies inside
 * the input: each input then gets its window's gradient or 0, written once */
static int FC_FN(tiled)(const fc_pool_geom *g) {
    return g->DH == 1 && g->DW == 1 && g->SH >= g->KH && g->SW >= g->KW && g->PT == 0 &&
           g->PL == 0 && (g->OH - 1) * g->SH + g->KH <= g->H &&
           (g->OW - 1) * g->SW + g->KW <= g->W && g->KH <= FC_POOL_MAX_ROWS;
}

/* Where windows do not share input rows (stride >= kernel, no dilation), output
 * rows [oh0, oh1) own input rows [band_row(oh0), band_row(oh1)): their windows' and
 * the uncovered ones before the next window (after the last for oh1 = OH). */
static int64_t FC_FN(band_row)(const fc_pool_geom *g, int64_t oh) {
    if (oh <= 0) return 0;
    if (oh >= g->OH) return g->H;
    return fc_max64(0, fc_min64(g->H, oh * g->SH - g->PT));
}

/* Max-pool gradient of output rows [oh0, oh1) of one tiled plane (the input rows
 * band_row gives them): x, gx (H x W) and gy (OH x OW) hold pixels of cn values at
 * stride ld (NCHW: 1, 1; NHWC: C, C). Every value of gx is written once, no zeroing
 * pass first. */
static void FC_FN(maxbwd_tiled_plane)(const FC_TABLE *k, const fc_pool_geom *g, const FC_T *x,
                                      const FC_T *gy, FC_T *gx, int64_t cn, int64_t ld,
                                      int nt, FC_FN(ws) *w, int64_t oh0, int64_t oh1) {
    const int64_t rs = g->W * ld, done_w = (g->OW - 1) * g->SW + g->KW;
    FC_T **dst = w->dst;
    int64_t next = FC_FN(band_row)(g, oh0); /* first input row not written yet */
    for (int64_t oh = oh0; oh < oh1; oh++) {
        const int64_t r0 = oh * g->SH;
        FC_FN(zero_pixels)(gx + next * rs, (r0 - next) * g->W, cn, ld);
        for (int64_t j = 0; j < g->KH; j++) {
            w->rows[j] = x + (r0 + j) * rs;
            dst[j] = gx + (r0 + j) * rs;
            FC_FN(zero_pixels)(dst[j] + done_w * ld, g->W - done_w, cn, ld);
        }
        k->maxbwd_tiled((size_t)g->OW, (size_t)cn, (size_t)ld, (size_t)g->SW, (size_t)g->KW,
                        (size_t)g->KH, w->rows, gy + oh * g->OW * ld, dst, nt);
        next = r0 + g->KH;
    }
    FC_FN(zero_pixels)(gx + next * rs, (FC_FN(band_row)(g, oh1) - next) * g->W, cn, ld);
}

int FC_FN(fc_max_pool2d_backward)(const fc_pool_geom *g, const FC_T *gy, const FC_T *x,
                                  const int64_t *idx, FC_T *gx, int isa, int nthreads) {
    if (!idx && !x) return FC_EINVAL;
    FC_FN(plan) pl;
    /* the 3x3/2 kernel's scratch (8 * (OW + PL + W + 32) values) fits in w.b onwards */
    const int st = FC_FN(plan_init)(&pl, g, isa, nthreads, 4 * (g->OW + g->PL + g->W + 32));
    if (st != FC_OK || pl.mem == NULL) return st;
    const FC_TABLE *k = pl.k;
    const int nchw = g->layout == FC_NCHW;
    const int64_t HW = g->H * g->W, OHW = g->OH * g->OW;
    const int64_t cb = nchw ? 0 : FC_FN(cblock)(g->N, g->C, nthreads);
    const int64_t nb = nchw ? 0 : fc_cdiv(g->C, cb);
    const int tiled = !idx && FC_FN(tiled)(g);
    /* NHWC tiled: items of one output row, all channels (channel blocks leave
     * each thread strided reads of whole images) */
    const int64_t items = nchw ? g->N * g->C : tiled ? g->N * g->OH : g->N * nb;
    const int nt = FC_FN(stream_gx)(g);
    const int s3 = !idx && !tiled && g->KH == 3 && g->KW == 3 && g->SH == 2 && g->SW == 2 &&
                   g->DH == 1 && g->DW == 1;
    fc_steal_work sw;
    if (!fc_steal_work_init(&sw, items, nthreads, 1)) {
        FC_FN(plan_free)(&pl);
        return FC_ENOMEM;
    }
    int bad = 0;
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads) reduction(| : bad)
#endif
    {
        FC_FN(ws) w;
        FC_FN(ws_thread)(&w, &pl, g, -(FC_T)INFINITY);
        /* chunks of items: a contiguous share per thread, then stealing */
        for (int64_t i0, i1; fc_steal_range(&sw, FC_THREAD_ID(), &i0, &i1);) {
            for (int64_t i = i0; tiled && i < i1; i++) {
                if (nchw) {
                    FC_FN(maxbwd_tiled_plane)(k, g, x + i * HW, gy + i * OHW, gx + i * HW, 1, 1, nt,
                                              &w, 0, g->OH);
                    continue;
                }
                const int64_t n = i / g->OH, oh0 = i % g->OH, oh1 = fc_min64(g->OH, oh0 + i1 - i);
                FC_FN(maxbwd_tiled_plane)(k, g, x + n * HW * g->C, gy + n * OHW * g->C,
                                          gx + n * HW * g->C, g->C, g->C, nt, &w, oh0, oh1);
                i += oh1 - oh0 - 1;
            }
            for (int64_t i = i0; s3 && i < i1; i++) {
                if (nchw) {
                    k->maxbwd_3x3s2((size_t)g->H, (size_t)g->W, (size_t)g->OH, (size_t)g->OW,
                                    (size_t)g->PT, (size_t)g->PL, x + i * HW, gy + i * OHW,
                                    gx + i * HW, w.b, nt);
                    continue;
                }
                const int64_t n = i / nb, c0 = (i % nb) * cb, cn = fc_min64(cb, g->C - c0);
                k->maxbwd_3x3s2_nhwc((size_t)g->H, (size_t)g->W, (size_t)g->OH, (size_t)g->OW,
                                     (size_t)g->PT, (size_t)g->PL, (size_t)cn, (size_t)g->C,
                                     x + n * HW * g->C + c0, gy + n * OHW * g->C + c0,
                                     gx + n * HW * g->C + c0);
            }
            for (int64_t i = i0; !tiled && !s3 && i < i1; i++) {
                if (nchw) { /* item = one plane */
                    FC_T *gp = gx + i * HW;
                    memset(gp, 0, (size_t)HW * sizeof(FC_T));
                    for (int64_t oh = 0; oh < g->OH; oh++) {
                        const FC_T *gr = gy + i * OHW + oh * g->OW;
                        if (idx) {
                            const int64_t *ir = idx + i * OHW + oh * g->OW;
                            for (int64_t o = 0; o < g->OW; o++) {
                                int64_t p = ir[o];
                                if (p >= 0 && p < HW) gp[p] += gr[o];
                                else bad |= p != -1;
                            }
                            continue;
                        }
                        int64_t a, b;
                        FC_FN(nchw_max_row)(k, g, x + i * HW, oh, w.y, 1, &w);
                        FC_FN(vrows)(g, oh, &a, &b);
                        for (int64_t o = 0; o < g->OW; o++) {
                            int64_t p = FC_FN(nchw_argpos)(g, &w, oh, a, o);
                            if (p >= 0) gp[p] += gr[o];
                        }
                    }
                    continue;
                }
                /* NHWC item = (image n, channels [c0, c1)) */
                const int64_t n = i / nb, c0 = (i % nb) * cb, cn = fc_min64(cb, g->C - c0);
                FC_T *gxn = gx + n * HW * g->C + c0;
                const FC_T *xn = x ? x + n * HW * g->C + c0 : NULL;
                for (int64_t p = 0; p < HW; p++) memset(gxn + p * g->C, 0, (size_t)cn * sizeof(FC_T));
                for (int64_t oh = 0; oh < g->OH; oh++)
                    for (int64_t ow = 0; ow < g->OW; ow++) {
                        const int64_t op = ((n * g->OH + oh) * g->OW + ow) * g->C + c0;
                        const FC_T *gp = gy + op;
                        if (idx) {
                            const int64_t *ip = idx + op;
                            for (int64_t c = 0; c < cn; c++) {
                                int64_t q = ip[c];
                                if (q >= 0 && q < HW) gxn[q * g->C + c] += gp[c];
                                else bad |= q != -1;
                            }
                            continue;
                        }
                        FC_FN(win) v = FC_FN(window)(g, oh, ow);
                        if (v.nt <= FC_POOL_MAX_ROWS) { /* one call: argmax and accumulate */
                            if (v.nt == 0) continue;
                            FC_FN(tap_offsets)(g, &v, oh, ow, 0, v.nt, w.off);
                            for (int64_t t = 0; t < v.nt; t++) {
                                w.rows[t] = xn + w.off[t] * g->C;
                                w.dst[t] = gxn + w.off[t] * g->C;
                            }
                            k->maxbwd_taps((size_t)cn, (size_t)v.nt, w.rows, w.dst, gp);
                            continue;
                        }
                        for (int64_t t0 = 0; t0 < v.nt; t0 += FC_POOL_MAX_ROWS) {
                            int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, v.nt - t0);
                            FC_FN(tap_offsets)(g, &v, oh, ow, t0, cnt, w.off);
                            for (int64_t t = 0; t < cnt; t++) w.rows[t] = xn + w.off[t] * g->C;
                            k->vmaxarg((size_t)cn, (size_t)cnt, w.rows, w.y, w.arg, (int32_t)t0,
                                       t0 > 0);
                        }
                        for (int64_t t0 = 0; t0 < v.nt; t0 += FC_POOL_MAX_ROWS) {
                            int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, v.nt - t0);
                            FC_FN(tap_offsets)(g, &v, oh, ow, t0, cnt, w.off);
                            for (int64_t t = 0; t < cnt; t++) w.dst[t] = gxn + w.off[t] * g->C;
                            k->vscatter_arg((size_t)cn, (size_t)cnt, w.dst, gp, w.arg, (int32_t)t0);
                        }
                    }
            }
        }
        FC_FN(fence)(nt);
    }
    fc_free(sw.slots);
    FC_FN(plan_free)(&pl);
    return bad ? FC_EINVAL : FC_OK;
}

/* 1 if no two average-pooling windows share an input (stride >= kernel, no dilation):
 * each input row then gets one output row's gradient spread along W, or 0 */
static int FC_FN(avg_disjoint)(const fc_pool_geom *g) {
    return g->DH == 1 && g->DW == 1 && g->SH >= g->KH && g->SW >= g->KW &&
           g->W <= INT32_MAX && g->OW < INT32_MAX;
}

/* Average-pool gradient of output rows [oh0, oh1) of one disjoint plane (avg_disjoint;
 * the input rows band_row gives them): pixels of cn values, ld apart (NCHW: 1, 1;
 * NHWC: C, C); every value of gx written once, input rows in order. col:
 * avgbwd_rows's column map; rf[oh]: row factors; rows [ra[oh], rb[oh]) of window row oh
 * lie inside the input (all three per call, not per plane: they cost more than a row's
 * stores on 112-wide NCHW planes). */
static void FC_FN(avgbwd_disjoint_plane)(const FC_TABLE *k, const fc_pool_geom *g,
                                         const FC_T *gy, FC_T *gx, int64_t cn, int64_t ld,
                                         const FC_T *cf, const int32_t *col, const FC_T *rf,
                                         const int32_t *ra, const int32_t *rb, int nt,
                                         FC_FN(ws) *w, int64_t oh0, int64_t oh1) {
    const int64_t rs = g->W * ld;
    int64_t next = FC_FN(band_row)(g, oh0); /* first input row not written yet */
    for (int64_t oh = oh0; oh < oh1; oh++) {
        const int64_t a = ra[oh], b = rb[oh];
        if (a >= b) continue;
        const int64_t r0 = oh * g->SH - g->PT;
        FC_FN(zero_pixels)(gx + next * rs, (r0 + a - next) * g->W, cn, ld);
        for (int64_t j0 = a; j0 < b; j0 += FC_POOL_MAX_ROWS) {
            const int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, b - j0);
            for (int64_t j = 0; j < cnt; j++) w->dst[j] = gx + (r0 + j0 + j) * rs;
            k->avgbwd_rows((size_t)g->W, (size_t)cn, (size_t)ld, col, rf[oh], cf,
                           gy + oh * g->OW * ld, (size_t)g->OW, (size_t)cnt, w->dst, nt);
        }
        next = r0 + b;
    }
    FC_FN(zero_pixels)(gx + next * rs, (FC_FN(band_row)(g, oh1) - next) * g->W, cn, ld);
}

int FC_FN(fc_avg_pool2d_backward)(const fc_pool_geom *g, const FC_T *gy, FC_T *gx, int cip,
                                  int64_t divisor_override, int isa, int nthreads) {
    FC_FN(plan) pl;
    /* disjoint windows: OH row factors in w.b; the W-column map, then the OH row ranges'
     * starts and ends in w.bi */
    const FC_TABLE *kt = FC_FN(table)(isa);
    const int disjoint = FC_FN(avg_disjoint)(g) && kt &&
                         (g->layout == FC_NHWC ||
                          kt->avgbwd_rows(0, 1, 1, NULL, 0, NULL, NULL, 0, 0, NULL, 0));
    const int st = FC_FN(avg_setup)(&pl, g, cip, divisor_override, isa, nthreads,
                                    disjoint ? g->W + 2 * g->OH + 16 : 0);
    if (st != FC_OK || pl.mem == NULL) return st;
    const FC_TABLE *k = pl.k;
    const FC_T *cf = pl.cf;
    const int nchw = g->layout == FC_NCHW;
    const int64_t HW = g->H * g->W, OHW = g->OH * g->OW;
    const int64_t cb = nchw ? 0 : FC_FN(cblock)(g->N, g->C, nthreads);
    const int64_t nb = nchw ? 0 : fc_cdiv(g->C, cb);
    /* NHWC disjoint: items of one output row, all channels */
    const int64_t items = nchw ? g->N * g->C : disjoint ? g->N * g->OH : g->N * nb;
    const int global = g->OH == 1 && g->OW == 1 && g->KH == g->H && g->KW == g->W &&
                       g->PT == 0 && g->PL == 0 && g->DH == 1 && g->DW == 1;
    const FC_T gfac = FC_FN(avg_factor)(g, 0, 0, cip, divisor_override) * (cf ? cf[0] : (FC_T)1);
    const int nt = FC_FN(stream_gx)(g);
    fc_steal_work sw;
    if (!fc_steal_work_init(&sw, items, nthreads, 1)) {
        FC_FN(plan_free)(&pl);
        return FC_ENOMEM;
    }
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        FC_FN(ws) w;
        FC_FN(ws_thread)(&w, &pl, g, 0);
        int32_t *const ra = w.bi + g->W, *const rb = ra + g->OH;
        if (disjoint && !(nchw && global) && items > 0) {
            for (int64_t c = 0; c < g->W; c++) { /* output o, tap q of column c */
                const int64_t pc = c + g->PL, o = pc / g->SW;
                w.bi[c] = (int32_t)(pc % g->SW < g->KW && o < g->OW ? o : -1 - o);
            }
            for (int64_t oh = 0; oh < g->OH; oh++) {
                int64_t a, b;
                FC_FN(vrows)(g, oh, &a, &b);
                ra[oh] = (int32_t)a;
                rb[oh] = (int32_t)b;
                w.b[oh] = FC_FN(avg_factor)(g, 0, oh, cip, divisor_override);
            }
        }
        /* chunks of items: a contiguous share per thread, then stealing */
        for (int64_t i0, i1; fc_steal_range(&sw, FC_THREAD_ID(), &i0, &i1);) {
            if (nchw && global) /* one window covers each plane: a fill */
                k->gfill((size_t)(i1 - i0), (size_t)HW, gy + i0, gfac, gx + i0 * HW);
            for (int64_t i = i0; disjoint && !(nchw && global) && i < i1; i++) {
                if (nchw) {
                    FC_FN(avgbwd_disjoint_plane)(k, g, gy + i * OHW, gx + i * HW, 1, 1, cf, w.bi,
                                                 w.b, ra, rb, nt, &w, 0, g->OH);
                    continue;
                }
                const int64_t n = i / g->OH, oh0 = i % g->OH, oh1 = fc_min64(g->OH, oh0 + i1 - i);
                FC_FN(avgbwd_disjoint_plane)(k, g, gy + n * OHW * g->C, gx + n * HW * g->C, g->C,
                                             g->C, cf, w.bi, w.b, ra, rb, nt, &w, oh0, oh1);
                i += oh1 - oh0 - 1;
            }
            for (int64_t i = i0; i < i1 && !(nchw && global) && !disjoint; i++) {
                if (nchw) { /* item = one plane: spread each output row, add it to its input rows */
                    FC_T *gp = gx + i * HW;
                    memset(gp, 0, (size_t)HW * sizeof(FC_T));
                    const int64_t S = g->SW, n = w.L * S;
                    for (int64_t oh = 0; oh < g->OH; oh++) {
                        int64_t a, b;
                        FC_FN(vrows)(g, oh, &a, &b);
                        if (a >= b) continue;
                        memcpy(w.y, gy + i * OHW + oh * g->OW, (size_t)g->OW * sizeof(FC_T));
                        k->vscale((size_t)g->OW, FC_FN(avg_factor)(g, 0, oh, cip, divisor_override),
                                  cf, w.y);
                        FC_T *dst = S > 1 ? w.ph : w.b;
                        memset(dst, 0, (size_t)n * sizeof(FC_T));
                        for (int64_t q0 = 0; q0 < g->KW; q0 += FC_POOL_MAX_ROWS) {
                            int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, g->KW - q0);
                            for (int64_t q = 0; q < cnt; q++) w.dst[q] = dst + FC_FN(htap)(g, w.L, q0 + q);
                            k->vaxpy((size_t)g->OW, (size_t)cnt, w.dst, w.y, 1);
                        }
                        if (S > 1) k->interleave((size_t)w.L, (size_t)S, w.ph, w.b);
                        const int64_t r0 = oh * g->SH - g->PT;
                        for (int64_t j0 = a; j0 < b; j0 += FC_POOL_MAX_ROWS) {
                            int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, b - j0);
                            for (int64_t j = 0; j < cnt; j++) w.dst[j] = gp + (r0 + (j0 + j) * g->DH) * g->W;
                            k->vaxpy((size_t)g->W, (size_t)cnt, w.dst, w.b + g->PL, 1);
                        }
                    }
                    continue;
                }
                const int64_t n = i / nb, c0 = (i % nb) * cb, cn = fc_min64(cb, g->C - c0);
                FC_T *gxn = gx + n * HW * g->C + c0;
                for (int64_t p = 0; p < HW; p++) memset(gxn + p * g->C, 0, (size_t)cn * sizeof(FC_T));
                for (int64_t oh = 0; oh < g->OH; oh++) {
                    const FC_T rf = FC_FN(avg_factor)(g, 0, oh, cip, divisor_override);
                    for (int64_t ow = 0; ow < g->OW; ow++) {
                        const FC_T *gp = gy + ((n * g->OH + oh) * g->OW + ow) * g->C + c0;
                        FC_FN(win) v = FC_FN(window)(g, oh, ow);
                        const FC_T s = rf * (cf ? cf[ow] : (FC_T)1);
                        for (int64_t t0 = 0; t0 < v.nt; t0 += FC_POOL_MAX_ROWS) {
                            int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, v.nt - t0);
                            FC_FN(tap_offsets)(g, &v, oh, ow, t0, cnt, w.off);
                            for (int64_t t = 0; t < cnt; t++) w.dst[t] = gxn + w.off[t] * g->C;
                            k->vaxpy((size_t)cn, (size_t)cnt, w.dst, gp, s);
                        }
                    }
                }
            }
        }
        FC_FN(fence)(nt);
    }
    fc_free(sw.slots);
    FC_FN(plan_free)(&pl);
    return FC_OK;
}

/* ------------------------------------------------------------------- global */

int FC_FN(fc_global_pool2d)(int64_t N, int64_t C, int64_t H, int64_t W, int layout,
                            const FC_T *x, FC_T *y, int is_max, int isa, int nthreads) {
    const FC_TABLE *k = FC_FN(table)(isa);
    if (!k || N < 0 || C < 0 || H < 1 || W < 1 || nthreads < 1 ||
        (layout != FC_NCHW && layout != FC_NHWC))
        return FC_EINVAL;
    if (N == 0 || C == 0) return FC_OK;
    const int64_t HW = H * W;
    const FC_T inv = (FC_T)(1.0 / (double)HW);
    const int64_t cb = layout == FC_NCHW ? 0 : FC_FN(cblock)(N, C, nthreads);
    const int64_t nb = layout == FC_NCHW ? 0 : fc_cdiv(C, cb);
    const int64_t items = layout == FC_NCHW ? N * C : N * nb;
    fc_steal_work sw;
    if (!fc_steal_work_init(&sw, items, nthreads, 1)) return FC_ENOMEM;
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        /* chunks of items: a contiguous share per thread, then stealing */
        for (int64_t i0, i1; fc_steal_range(&sw, FC_THREAD_ID(), &i0, &i1);) {
            if (layout == FC_NCHW) {
                if (is_max) k->gmax((size_t)(i1 - i0), (size_t)HW, x + i0 * HW, y + i0);
                else k->gsum((size_t)(i1 - i0), (size_t)HW, x + i0 * HW, inv, y + i0);
            }
            const FC_T *rows[FC_POOL_MAX_ROWS];
            for (int64_t i = i0; layout == FC_NHWC && i < i1; i++) {
                const int64_t n = i / nb, c0 = (i % nb) * cb, cn = fc_min64(cb, C - c0);
                const FC_T *xn = x + n * HW * C + c0;
                FC_T *yn = y + n * C + c0;
                for (int64_t p0 = 0; p0 < HW; p0 += FC_POOL_MAX_ROWS) {
                    int64_t cnt = fc_min64(FC_POOL_MAX_ROWS, HW - p0);
                    for (int64_t p = 0; p < cnt; p++) rows[p] = xn + (p0 + p) * C;
                    if (is_max) k->vmax((size_t)cn, (size_t)cnt, rows, yn, p0 > 0);
                    else k->vsum((size_t)cn, (size_t)cnt, rows, yn, p0 > 0);
                }
                if (!is_max) k->vscale((size_t)cn, inv, NULL, yn);
            }
        }
    }
    fc_free(sw.slots);
    return FC_OK;
}
