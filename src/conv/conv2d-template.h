/* Template of the general conv2d forward driver (see conv2d.h), included by
 * conv2d-driver.c once per dtype with FC_T, FC_DT ("f32"/"f64"), FC_IGEMM_FN
 * (the igemm function type) and FC_SFX(name) (name ## _f32 ...) defined.
 *
 * Plan of one call (XNNPACK-style indirect GEMM):
 *  - weights are packed once into [G][cb][kb][KH*KW][kc][NR] panels (cb: block
 *    of input channels, kb: block of NR output channels, zero padded), so one
 *    (kb, cb) panel is contiguous and a group of them fits in L2;
 *  - work items (group, block of kb, band of output pixels of the batch) are split
 *    evenly over the threads of ONE parallel region (N = 1 still uses all);
 *  - per tile of MR output pixels an indirection buffer points every
 *    (tap, pixel) at the input pixel's channels or at a zero vector (padding),
 *    so any padding / stride / dilation is free of branches in the kernel;
 *  - channel blocks beyond the first accumulate into the output
 *    (FC_FLAG_ACCUMULATE); the last one applies relu;
 *  - taps wholly in the padding for all pixels of a tile are skipped (the
 *    kernel runs once per run of the other taps). Tiles start at multiples
 *    of MR whatever the bands, so this too is independent of the threads.
 * NHWC reads x and writes y in place. NCHW copies the input rows a band needs
 * (of each image it touches) into a per-thread pixel-major scratch and writes
 * the band's outputs into a per-thread buffer transposed into y afterwards.
 * The result of each output value does not depend on the thread count: its
 * reduction order is fixed by the channel blocks, which depend only on the
 * geometry and the kernel. */

/* Target size of the weight panels one band sweeps, in bytes (L2 is 1 MiB). */
/* Pixel-major path for weight-heavy layers while N x (pixels rounded up to
 * tiles) is at most this (see conv_pixels_ok). */
#ifndef FC_CONV_PIXELS_MAX
#define FC_CONV_PIXELS_MAX 64
#endif
/* NCHW goes further (VGG's 512 channels at 14x14: 196 pixels): the general
 * path would pack 9 MiB of weights AND copy the input bands; NHWC's general
 * path reads its input in place, and measured faster there. */
#ifndef FC_CONV_PIXELS_MAX_NCHW
#define FC_CONV_PIXELS_MAX_NCHW 256
#endif
/* NHWC band length in tiles of MR pixels (shrunk to keep the threads busy) */
#ifndef FC_CONV_BAND_NHWC
#define FC_CONV_BAND_NHWC 16
#endif
/* A weight-heavy layer: one output-channel block's panels (all input
 * channels) above this many bytes; its bands span FC_CONV_BAND_HEAVY tiles */
#ifndef FC_CONV_HEAVY_KB_BYTES
#define FC_CONV_HEAVY_KB_BYTES (512 * 1024)
#endif
/* NCHW per-thread scratch (gathered input rows + output buffer) cap */
#ifndef FC_CONV_NCHW_SCRATCH
#define FC_CONV_NCHW_SCRATCH ((int64_t)2 << 20)
#endif
/* strided 1x1 NCHW: bytes of unit-stride input planes per chunk of images */
#ifndef FC_CONV_RTUS_BYTES
#define FC_CONV_RTUS_BYTES ((int64_t)4 << 20)
#endif
/* NCHW band cap in tiles of MR pixels: 4 output rows of a 224-wide layer
 * (VGG's 64 channels: the band re-gathers its 2 extra input rows once per 4
 * output rows, not per 1.7; 2 threads, 0.93-0.98x the time with 64) */
#ifndef FC_CONV_BAND_NCHW_MAX
#define FC_CONV_BAND_NCHW_MAX 192
#endif
#ifndef FC_CONV_BAND_HEAVY
#define FC_CONV_BAND_HEAVY 64
#endif
#ifndef FC_CONV_PANEL_BYTES
#define FC_CONV_PANEL_BYTES (256 * 1024)
#endif

typedef struct {
    int64_t MR, NR, KS, Cg, Kg, nkb, Kgp;
    int64_t kcb, ncb;    /* input-channel block size and count */
    int64_t nkbg, nkg;   /* output-channel blocks per item, item count along K */
    int64_t band, nband; /* output pixels per item (multiple of MR), count */
    int64_t rows_max;    /* NCHW: input rows a band may touch, all its images */
    int64_t imgs_max;    /* NCHW: images a band may touch */
} FC_SFX(fc_conv_plan);

/* NCHW: input rows a band of `band` output pixels may need, over all the
 * images it touches */
static int64_t FC_SFX(conv_rows_max)(const fc_conv_geom *g, int64_t band) {
    const int64_t orows = (band - 1) / g->OW + 2;
    const int64_t imgs = fc_min64(g->N, fc_cdiv(band, g->OH * g->OW) + 1);
    return imgs * fc_min64(g->H, (orows - 1) * g->SH + (g->KH - 1) * g->DH + 1);
}

static void FC_SFX(conv_plan)(const fc_conv_geom *g, int64_t MR, int64_t NR, int nthreads,
                              FC_SFX(fc_conv_plan) *p) {
    const int64_t sz = (int64_t)sizeof(FC_T);
    p->MR = MR;
    p->NR = NR;
    p->KS = g->KH * g->KW;
    p->Cg = g->C / g->G;
    p->Kg = g->K / g->G;
    p->nkb = fc_cdiv(p->Kg, NR);
    p->Kgp = p->nkb * NR;
    /* channel blocks: one kb panel of kcb channels within the panel budget */
    const int64_t per_ch = NR * p->KS * sz;
    int64_t kcmax = fc_max64(8, FC_CONV_PANEL_BYTES / per_ch);
    kcmax = fc_min64(kcmax, 1024);
    p->ncb = fc_cdiv(p->Cg, kcmax);
    p->kcb = fc_cdiv(p->Cg, p->ncb);
    p->ncb = fc_cdiv(p->Cg, p->kcb);
    p->nkbg = fc_min64(p->nkb, fc_max64(1, FC_CONV_PANEL_BYTES / (p->kcb * per_ch)));
    /* NCHW: a band's gathered input rows serve every output channel (the kb
     * loop sweeps one cached panel at a time), so bands span all of K unless
     * the threads need more items (below) */
    if (g->layout == FC_NCHW) p->nkbg = p->nkb;
    p->nkg = fc_cdiv(p->nkb, p->nkbg);
    /* Bands run over the pixels of the whole batch: a weight panel loaded
     * into L2 serves a full band even where one image has few pixels (7x7),
     * and only the batch's last tile is partial (NCHW gathers the rows of
     * each image a band touches, and writes each image's planes back). */
    const int64_t P1 = g->OH * g->OW, P = g->N * P1;
    /* NCHW bands span a few output rows so that the rows copied twice (the
     * kernel's overlap) stay a small share of the copy */
    int64_t band = g->layout == FC_NCHW ? fc_max64(16 * MR, fc_min64(4 * g->OW, FC_CONV_BAND_NCHW_MAX * MR))
                                        : FC_CONV_BAND_NHWC * MR;
    /* Weight-heavy layers: a band's first sweep of each panel reads it from
     * L3, so long bands amortise that; their threads split K first (1 thread:
     * 512->512 3x3 at 14x14, bands of 16 tiles left a third of the peak) */
    const int heavy = p->KS * p->Cg * NR * sz > FC_CONV_HEAVY_KB_BYTES;
    if (heavy) band = FC_CONV_BAND_HEAVY * MR;
    band = fc_cdiv(band, MR) * MR;
    band = fc_min64(band, fc_cdiv(P, MR) * MR);
    const int64_t outer = g->G;
    /* enough items to balance the threads: shrink bands, then K groups
     * (the other way round for heavy weights) */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == heavy)
            while (band > MR && outer * p->nkg * fc_cdiv(P, band) < 4 * (int64_t)nthreads)
                band = fc_max64(MR, (band / 2 + MR - 1) / MR * MR);
        else
            while (p->nkbg > 1 && outer * p->nkg * fc_cdiv(P, band) < 4 * (int64_t)nthreads) {
                p->nkbg = fc_cdiv(p->nkbg, 2);
                p->nkg = fc_cdiv(p->nkb, p->nkbg);
            }
    }
    /* NCHW: the band's gathered rows (of every image it touches) and output
     * buffer stay within FC_CONV_NCHW_SCRATCH (long bands over many images
     * and channels, 1x1 1024->2048 on 8 images, would take 10 MiB) */
    while (g->layout == FC_NCHW && band > MR &&
           (FC_SFX(conv_rows_max)(g, band) * g->W * p->kcb + band * p->nkbg * NR) * sz >
               FC_CONV_NCHW_SCRATCH)
        band = fc_max64(MR, (band / 2 + MR - 1) / MR * MR);
    /* equal bands: 196 pixels in bands of 96 would leave a 4-pixel band that
     * streams a whole weight panel for one tile */
    band = fc_cdiv(fc_cdiv(P, fc_cdiv(P, band)), MR) * MR;
    p->band = band;
    p->nband = fc_cdiv(P, band);
    p->imgs_max = fc_min64(g->N, fc_cdiv(band, P1) + 1);
    p->rows_max = FC_SFX(conv_rows_max)(g, band);
}

/* packed[g][cb][kb][t][c][n] = w[g*Kg + kb*NR + n][cb*kcb + c][t], zero past Kg.
 * Reads w in its own order (one OIHW filter after the other): the scattered
 * side is the destination block, which stays in cache. */
static void FC_SFX(conv_pack_block)(const fc_conv_geom *g, const FC_SFX(fc_conv_plan) *p,
                                    const FC_T *w, FC_T *packed, int64_t gi, int64_t kb) {
    const int64_t NR = p->NR, KS = p->KS, Cg = p->Cg, Kg = p->Kg;
    const int64_t nr = fc_min64(NR, Kg - kb * NR);
    FC_T *blk = packed + gi * p->Kgp * KS * Cg;
    for (int64_t cb = 0; cb < p->ncb; cb++) {
        const int64_t c0 = cb * p->kcb, kc = fc_min64(p->kcb, Cg - c0);
        FC_T *dst = blk + c0 * p->Kgp * KS + kb * KS * kc * NR;
        if (nr < NR) memset(dst, 0, (size_t)(KS * kc * NR) * sizeof(FC_T));
        /* 16 filters at a time: 16 sequential read streams, one cache line written */
        for (int64_t n0 = 0; n0 < nr; n0 += 16) {
            const int64_t nn = fc_min64(16, nr - n0);
            const FC_T *s = w + ((gi * Kg + kb * NR + n0) * Cg + c0) * KS;
            int64_t j0 = 0;
#if defined(__SSE2__) && !FC_IS_F64
            /* 4x4 blocks of (filter, c*KS + t) transposed in registers: a
             * quarter of the loads and stores of the element loop, which
             * dominated the packing of 2-9 MB weights */
            if (nn == 16) {
                const int64_t L = kc * KS, ld = Cg * KS;
                int64_t c = 0, t = 0;  /* of j0, stepped: no division per block */
                for (; j0 + 4 <= L; j0 += 4) {
                    FC_T *d[4];
                    for (int64_t e = 0; e < 4; e++) {
                        d[e] = dst + (t * kc + c) * NR + n0;
                        if (++t == KS) t = 0, c++;
                    }
                    for (int64_t q = 0; q < 16; q += 4) {
                        const FC_T *sq = s + q * ld + j0;
                        __m128 r0 = _mm_loadu_ps(sq), r1 = _mm_loadu_ps(sq + ld);
                        __m128 r2 = _mm_loadu_ps(sq + 2 * ld), r3 = _mm_loadu_ps(sq + 3 * ld);
                        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                        _mm_storeu_ps(d[0] + q, r0);
                        _mm_storeu_ps(d[1] + q, r1);
                        _mm_storeu_ps(d[2] + q, r2);
                        _mm_storeu_ps(d[3] + q, r3);
                    }
                }
            }
#endif
            for (int64_t j = j0; j < kc * KS; j++) {
                const int64_t c = j / KS, t = j % KS;
                FC_T *d = dst + (t * kc + c) * NR + n0;
                const FC_T *sc = s + j;
                for (int64_t n = 0; n < nn; n++) d[n] = sc[n * Cg * KS];
            }
        }
    }
}

/* The same panels from the weight of the conv whose input gradient this conv
 * computes (grad input as a forward conv, FC_CONV_WFLIP): wo is (C, Kg, KS)
 * in this geometry's terms and packed[g][cb][kb][t][c][n] = wo[g*Cg + cb*kcb
 * + c][kb*NR + n][KS-1-t]. One input channel's source is a contiguous [n][t]
 * block, so the packing is a transpose of those blocks, taps reversed: the
 * flipped, transposed weight is never materialised (NumPy took 1.7 ms for
 * 256x256x3x3, more than the whole grad input). */
static void FC_SFX(conv_pack_block_flipped)(const fc_conv_geom *g,
                                            const FC_SFX(fc_conv_plan) *p, const FC_T *wo,
                                            FC_T *packed, int64_t gi, int64_t kb) {
    const int64_t NR = p->NR, KS = p->KS, Cg = p->Cg, Kg = p->Kg;
    const int64_t nr = fc_min64(NR, Kg - kb * NR);
    FC_T *blk = packed + gi * p->Kgp * KS * Cg;
    (void)g;
    for (int64_t cb = 0; cb < p->ncb; cb++) {
        const int64_t c0 = cb * p->kcb, kc = fc_min64(p->kcb, Cg - c0);
        FC_T *dst = blk + c0 * p->Kgp * KS + kb * KS * kc * NR;
        if (nr < NR) memset(dst, 0, (size_t)(KS * kc * NR) * sizeof(FC_T));
        for (int64_t c = 0; c < kc; c++) {
            const FC_T *s = wo + ((gi * Cg + c0 + c) * Kg + kb * NR) * KS;  /* [n][t] */
            FC_T *dc = dst + c * NR;  /* tap t's row: dc + (KS-1-t)*kc*NR */
            const int64_t ld = kc * NR;
            int64_t n0 = 0;
#if defined(__SSE2__) && !FC_IS_F64
            /* 4 filters x 4 taps transposed in registers */
            for (; n0 + 4 <= nr; n0 += 4) {
                int64_t t = 0;
                for (; t + 4 <= KS; t += 4) {
                    const FC_T *sq = s + n0 * KS + t;
                    __m128 r0 = _mm_loadu_ps(sq), r1 = _mm_loadu_ps(sq + KS);
                    __m128 r2 = _mm_loadu_ps(sq + 2 * KS), r3 = _mm_loadu_ps(sq + 3 * KS);
                    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                    _mm_storeu_ps(dc + (KS - 1 - t) * ld + n0, r0);
                    _mm_storeu_ps(dc + (KS - 2 - t) * ld + n0, r1);
                    _mm_storeu_ps(dc + (KS - 3 - t) * ld + n0, r2);
                    _mm_storeu_ps(dc + (KS - 4 - t) * ld + n0, r3);
                }
                for (; t < KS; t++)
                    for (int64_t n = n0; n < n0 + 4; n++) dc[(KS - 1 - t) * ld + n] = s[n * KS + t];
            }
#endif
            for (int64_t n = n0; n < nr; n++)
                for (int64_t t = 0; t < KS; t++) dc[(KS - 1 - t) * ld + n] = s[n * KS + t];
        }
    }
}

/* wf[g*Kg + k][c][t] = wo[g*Cg + c][k][KS-1-t]: the flipped weight itself, for
 * the paths that read weights in place (pixel-major, pointwise); wo as in
 * conv_pack_block_flipped. Reads wo in order, writes runs of KS. */
static void FC_SFX(conv_unflip_weight)(const fc_conv_geom *g, const FC_T *wo, FC_T *wf) {
    const int64_t G = g->G, Cg = g->C / G, Kg = g->K / G, KS = g->KH * g->KW;
    for (int64_t gi = 0; gi < G; gi++)
        for (int64_t c = 0; c < Cg; c++)
            for (int64_t k = 0; k < Kg; k++) {
                const FC_T *s = wo + ((gi * Cg + c) * Kg + k) * KS;
                FC_T *d = wf + ((gi * Kg + k) * Cg + c) * KS;
                for (int64_t t = 0; t < KS; t++) d[t] = s[KS - 1 - t];
            }
}

/* The transpose kernel of a call (transpose.h): the layout changes of the
 * NCHW path (channel planes <-> pixel-major), the NHWC weight and pixel panels. */
static FC_TR_FN FC_SFX(conv_transposer)(int isa) {
    const fc_kernel_info *ki = fc_kernel_select("transpose", FC_DT, isa);
    return ki ? (FC_TR_FN)ki->fn : NULL;
}

/* dst[j*ds + i] = src[i*ss + j] for i < rows, j < cols, through `tr` */
static inline void FC_SFX(conv_transpose)(FC_TR_FN tr, const FC_T *src, int64_t ss, FC_T *dst,
                                          int64_t ds, int64_t rows, int64_t cols) {
    tr(src, (size_t)ss, dst, (size_t)ds, (size_t)rows, (size_t)cols);
}

/* xs[r][iw][c] = x[n][c0 + c][ih0 + r][iw] for the rows of one NCHW band */
static void FC_SFX(conv_gather_rows)(FC_TR_FN tr, const FC_T *xc, int64_t HW, int64_t rowlen,
                                     int64_t kc, FC_T *xs) {
    /* pixel blocks that keep the written rows in L1 */
    for (int64_t i0 = 0; i0 < rowlen; i0 += 64)
        FC_SFX(conv_transpose)(tr, xc + i0, HW, xs + i0 * kc, kc, kc, fc_min64(64, rowlen - i0));
}

/* Per tap t of the tile [p0, p0 + np): st[t*NR + j] = input pixel (ih*W + iw)
 * of output pixel p0 + j, or -1 in the padding; runs of consecutive pixels as
 * [start, length] pairs in runs[t*NR*2 ...], their count in nrun[t]. */
static void FC_SFX(conv_pixel_offsets)(const fc_conv_geom *g, int64_t p0, int64_t np,
                                       int64_t NR, int64_t *src, int64_t *runs, int64_t *nrun) {
    const int64_t KS = g->KH * g->KW, H = g->H, W = g->W, OW = g->OW;
    for (int64_t t = 0; t < KS; t++) {
        const int64_t kh = t / g->KW, kw = t % g->KW;
        int64_t *st = src + t * NR, *rt = runs + t * NR * 2, cnt = 0;
        int64_t oh = p0 / OW, ow = p0 % OW;  /* stepped, not divided, per pixel */
        for (int64_t j = 0; j < np; j++, ow = ow + 1 < OW ? ow + 1 : (oh++, 0)) {
            const int64_t ih = oh * g->SH - g->PT + kh * g->DH;
            const int64_t iw = ow * g->SW - g->PL + kw * g->DW;
            st[j] = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? ih * W + iw : -1;
            if (cnt > 0 && st[j] >= 0 && st[j - 1] >= 0 && st[j] == st[j - 1] + 1)
                rt[2 * cnt - 1]++;
            else {
                rt[2 * cnt] = j;
                rt[2 * cnt + 1] = 1;
                cnt++;
            }
        }
        nrun[t] = cnt;
    }
}

/* d[c][t][NR] = input channel c0 + c of image n at the tap-t pixels of the tile
 * (offsets from conv_pixel_offsets), zero in the padding and past np. */
static void FC_SFX(conv_pixel_panel)(FC_TR_FN tr, const fc_conv_geom *g, const FC_T *x, int64_t n,
                                     int64_t c0, int64_t kc, int64_t np, int64_t NR,
                                     const int64_t *src, const int64_t *runs,
                                     const int64_t *nrun, FC_T *d) {
    const int64_t KS = g->KH * g->KW, HW = g->H * g->W, C = g->C;
    if (np < NR)
        for (int64_t r = 0; r < kc * KS; r++)
            memset(d + r * NR + np, 0, (size_t)(NR - np) * sizeof(FC_T));
    if (g->layout == FC_NHWC) {
        /* pixel-major input: a run of consecutive pixels is a [len][kc] block
         * of rows C apart, transposed into the panel's columns */
        const FC_T *xn = x + n * HW * C + c0;
        for (int64_t t = 0; t < KS; t++) {
            const int64_t *st = src + t * NR, *rt = runs + t * NR * 2;
            for (int64_t q = 0; q < nrun[t]; q++) {
                const int64_t j = rt[2 * q], len = rt[2 * q + 1];
                FC_T *dj = d + t * NR + j;
                if (st[j] < 0) {
                    for (int64_t c = 0; c < kc; c++)
                        for (int64_t e = 0; e < len; e++) dj[c * KS * NR + e] = 0;
                } else {
                    FC_SFX(conv_transpose)(tr, xn + st[j] * C, C, dj, KS * NR, len, kc);
                }
            }
        }
        return;
    }
    const FC_T *xc = x + (n * C + c0) * HW;
    for (int64_t t = 0; t < KS; t++) {
        const int64_t *st = src + t * NR, *rt = runs + t * NR * 2;
        const int gather = nrun[t] * 4 > np;  /* short runs: element by element */
        for (int64_t c = 0; c < kc; c++) {
            FC_T *dc = d + (c * KS + t) * NR;
            const FC_T *sp = xc + c * HW;
            if (gather) {
                for (int64_t j = 0; j < np; j++) dc[j] = st[j] >= 0 ? sp[st[j]] : 0;
            } else {
                for (int64_t q = 0; q < nrun[t]; q++) {
                    const int64_t j = rt[2 * q], len = rt[2 * q + 1];
                    FC_T *dj = dc + j;
                    if (st[j] < 0) {
                        for (int64_t e = 0; e < len; e++) dj[e] = 0;
                    } else {
                        const FC_T *sj = sp + st[j];
                        for (int64_t e = 0; e < len; e++) dj[e] = sj[e];
                    }
                }
            }
        }
    }
}

/* Pixel-major GEMM: y[k][p] = sum_{c,t} w[k][c][t] * x_t[c][p], pixels along
 * the kernel's vector (NR) axis. The igemm rows are output channels: pointers
 * straight into the OIHW weight rows, whose (c, t) order is the reduction
 * order (ks = 1, kc = channels x taps), so the weights are never packed. The
 * packed operand is the [c][t][NR] im2col panel of one tile of NR output
 * pixels (runs of contiguous input copied, padding zero-filled, strided pixels
 * gathered). NCHW output rows are written in place; NHWC goes through a
 * per-thread [k][NR] buffer transposed into y.
 * Taken (1) for NCHW 1x1 with a pixel count close to a multiple of NR (the
 * last tile is computed in full; no transposition of input or output), and
 * (2) for weight-heavy, pixel-poor layers, where packing the weights costs as
 * much as the arithmetic. In (2) the panels of all tiles fit a small shared
 * buffer, built once in a first loop, so the output channels can be split
 * finely over the threads without each rebuilding them. */
static int FC_SFX(conv_pixels_ok)(const fc_conv_geom *g, int64_t NR) {
    const int64_t P = g->OH * g->OW, Cg = g->C / g->G, Kg = g->K / g->G;
    const int64_t KS = g->KH * g->KW, Pp = fc_cdiv(P, NR) * NR;
    if (Kg < 16) return 0;
    if (g->layout == FC_NCHW && KS == 1 && P >= NR && Pp * 10 <= P * 11) return 1;
    /* packing reads and writes each weight once, a tile's arithmetic uses it
     * NR times: worth skipping while there are few tiles per weight */
    if (Cg * KS < 64 || Kg < 64) return 0;
    if (g->N * Pp <= FC_CONV_PIXELS_MAX) return 1;
    /* NCHW up to FC_CONV_PIXELS_MAX_NCHW while the last, partial tile wastes
     * little: 196 pixels in 256 waste too much however large the weights
     * (512->512 3x3 at 14x14, 9.4 MB: the general path with its long bands
     * and cached workspace takes 0.86-0.97x the time, 1 and 2 threads) */
    return g->layout == FC_NCHW && g->N * Pp <= FC_CONV_PIXELS_MAX_NCHW && Pp * 8 <= P * 9;
}

static int FC_SFX(conv_pixels)(const fc_conv_geom *g, const fc_kernel_info *ki,
                               const FC_T *x, const FC_T *w, const FC_T *bias, FC_T *y,
                               int relu, int isa, int nthreads) {
    const FC_IGEMM_FN kern = (FC_IGEMM_FN)ki->fn;
    const FC_TR_FN tr = FC_SFX(conv_transposer)(isa);
    if (tr == NULL) return FC_EINVAL;
    const int64_t MR = ki->mr, NR = ki->nr, KS = g->KH * g->KW;
    const int64_t G = g->G, Cg = g->C / G, Kg = g->K / G, K = g->K, P = g->OH * g->OW;
    const int nhwc = g->layout == FC_NHWC;
    const int64_t per_ch = KS * NR * (int64_t)sizeof(FC_T);
    const int64_t kcb0 = fc_min64(Cg, fc_max64(8, FC_CONV_PANEL_BYTES / per_ch));
    const int64_t ncb = fc_cdiv(Cg, kcb0), kcb = fc_cdiv(Cg, ncb);
    const int64_t ntile = fc_cdiv(P, NR);
    const int64_t tpanel = Cg * KS * NR;  /* one tile's panels, all channel blocks */
    /* shared panels when all of them stay small (a few MiB: 4 tiles of a
     * 512-channel 3x3 layer are 4.5 MiB) */
    const int64_t nshared = g->N * G * ntile;
    const int shared = nshared * tpanel * (int64_t)sizeof(FC_T) <= ((int64_t)6 << 20);
    /* split output channels too when the pixel tiles alone leave threads idle;
     * without shared panels each split rebuilds them, so split less */
    const int64_t want = shared ? 8 * (int64_t)nthreads : 2 * (int64_t)nthreads;
    int64_t nks = 1;
    while (nks * MR < Kg && G * g->N * ntile * nks < want) nks *= 2;
    const int64_t kchunk = fc_cdiv(fc_cdiv(Kg, nks), MR) * MR;
    nks = fc_cdiv(Kg, kchunk);
    const int64_t items = g->N * G * ntile * nks;
    FC_T *spanels = shared ? fc_ws_take((size_t)(nshared * tpanel) * sizeof(FC_T)) : NULL;
    FC_T *zeros = fc_alloc((size_t)NR * sizeof(FC_T));
    if ((shared && spanels == NULL) || zeros == NULL) {
        fc_ws_give(spanels);
        fc_free(zeros);
        return FC_ENOMEM;
    }
    memset(zeros, 0, (size_t)NR * sizeof(FC_T));
    int failed = 0;
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        FC_T *panel = shared ? NULL : fc_alloc((size_t)(KS * kcb * NR) * sizeof(FC_T));
        FC_T *obuf = nhwc ? fc_alloc((size_t)(kchunk * NR) * sizeof(FC_T)) : NULL;
        const FC_T **ind = fc_alloc((size_t)MR * sizeof(FC_T *));
        int64_t *src = fc_alloc((size_t)(KS * NR) * sizeof(int64_t));
        /* runs of each tap: [start pixel, length] pairs, count per tap */
        int64_t *runs = fc_alloc((size_t)(KS * NR * 2) * sizeof(int64_t));
        int64_t *nrun = fc_alloc((size_t)KS * sizeof(int64_t));
        const int ok = (shared || panel != NULL) && (!nhwc || obuf != NULL) && ind != NULL &&
                       src != NULL && runs != NULL && nrun != NULL;
        if (!ok) {
#if FC_HAVE_OPENMP
#pragma omp atomic write
#endif
            failed = 1;
        }
        /* the panels of tile tl of image n, group gi, channel block cb into d:
         * [c][t][NR], columns past np zero */
#define FC_PIX_BUILD(d_, n_, gi_, tl_, cb_)                                                   \
    do {                                                                                      \
        const int64_t p0_ = (tl_) * NR, np_ = fc_min64(NR, P - p0_);                          \
        const int64_t c0_ = (cb_) * kcb, kc_ = fc_min64(kcb, Cg - c0_);                       \
        FC_SFX(conv_pixel_offsets)(g, p0_, np_, NR, src, runs, nrun);                         \
        FC_SFX(conv_pixel_panel)(tr, g, x, (n_), (gi_) * Cg + c0_, kc_, np_, NR, src, runs, nrun, \
                                 (d_));                                                       \
    } while (0)
        if (shared) {
            /* in chunks of FC_PIX_CHUNK channels, not of kcb: a single tile
               (960->160 @7x7, one block) is still built by every thread */
#define FC_PIX_CHUNK 64
            const int64_t nch = fc_cdiv(Cg, FC_PIX_CHUNK);
#if FC_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
            for (int64_t it = 0; it < nshared * nch; it++) {
                if (!ok) continue;
                const int64_t ch = it % nch, q = it / nch;
                const int64_t tl = q % ntile, gi = (q / ntile) % G, n = q / (ntile * G);
                const int64_t p0 = tl * NR, np = fc_min64(NR, P - p0);
                const int64_t c0 = ch * FC_PIX_CHUNK, kc = fc_min64(FC_PIX_CHUNK, Cg - c0);
                FC_SFX(conv_pixel_offsets)(g, p0, np, NR, src, runs, nrun);
                FC_SFX(conv_pixel_panel)(tr, g, x, n, gi * Cg + c0, kc, np, NR, src, runs, nrun,
                                         spanels + q * tpanel + c0 * KS * NR);
            }
#undef FC_PIX_CHUNK
            /* implicit barrier: every panel built */
        }
#if FC_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int64_t it = 0; it < items; it++) {
            if (!ok) continue;
            int64_t r = it;
            const int64_t ks = r % nks; r /= nks;
            const int64_t tl = r % ntile; r /= ntile;
            const int64_t gi = r % G;
            const int64_t n = r / G;
            const int64_t p0 = tl * NR, np = fc_min64(NR, P - p0);
            const int64_t k0 = ks * kchunk, k1 = fc_min64(Kg, k0 + kchunk);
            FC_T *yt;
            int64_t ys;
            if (nhwc) {
                yt = obuf - k0 * NR;
                ys = NR;
            } else {
                yt = y + (n * K + gi * Kg) * P + p0;
                ys = P;
            }
            /* the kernel's bias runs along pixels here: a per-channel bias is
             * pre-filled and accumulated into; without one the first channel
             * block stores (zero "bias") and nothing is pre-filled */
            if (bias != NULL)
                for (int64_t k = k0; k < k1; k++) {
                    FC_T *yk = yt + k * ys;
                    const FC_T b = bias[gi * Kg + k];
                    for (int64_t j = 0; j < np; j++) yk[j] = b;
                }
            for (int64_t cb = 0; cb < ncb; cb++) {
                const int64_t c0 = cb * kcb, kc = fc_min64(kcb, Cg - c0);
                const FC_T *pan;
                if (shared) {
                    pan = spanels + ((n * G + gi) * ntile + tl) * tpanel + c0 * KS * NR;
                } else {
                    FC_PIX_BUILD(panel, n, gi, tl, cb);
                    pan = panel;
                }
                const uint32_t flags = ((bias != NULL || cb > 0) ? FC_FLAG_ACCUMULATE : 0u) |
                                       ((relu && cb == ncb - 1) ? FC_FLAG_RELU : 0u);
                for (int64_t k = k0; k < k1; k += MR) {
                    const int64_t mr = fc_min64(MR, k1 - k);
                    for (int64_t m = 0; m < MR; m++)
                        ind[m] = w + ((gi * Kg + k + (m < mr ? m : 0)) * Cg + c0) * KS;
                    kern((size_t)mr, (size_t)np, (size_t)(kc * KS), 1, ind, pan, zeros,
                         yt + k * ys, (size_t)ys, flags);
                }
            }
            if (nhwc)
                FC_SFX(conv_transpose)(tr, obuf, NR, y + (n * P + p0) * K + gi * Kg + k0, K,
                                       k1 - k0, np);
        }
#undef FC_PIX_BUILD
        fc_free(panel);
        fc_free(obuf);
        fc_free(ind);
        fc_free(src);
        fc_free(runs);
        fc_free(nrun);
    }
    fc_ws_give(spanels);
    fc_free(zeros);
    return failed ? FC_ENOMEM : FC_OK;
}

/* d[m][c] = s[m*ld + c] for m < mr, zero for mr <= m < MR; c < kc */
static void FC_SFX(conv_pad_rows)(const FC_T *s, int64_t ld, int64_t mr, int64_t MR, int64_t kc,
                                  FC_T *d) {
    for (int64_t m = 0; m < MR; m++) {
        if (m < mr) memcpy(d + m * kc, s + m * ld, (size_t)kc * sizeof(FC_T));
        else memset(d + m * kc, 0, (size_t)kc * sizeof(FC_T));
    }
}

/* 1x1, no padding: a GEMM whose operands are both read in place
 * (gemm.h). NCHW: per image and group, y[k][p] = sum_c w[k][c] x[c][p]
 * (rows: output channels, columns: pixels, the input planes read with their
 * own row stride: no panel copy). NHWC: over every pixel of the batch,
 * y[p][k] = sum_c x[p][c] wt[c][k] (rows: pixels, the input rows read in
 * place; columns: output channels of the weights transposed once). The tile
 * (MR x NR) is the one of the best ISA level padding the GEMM least, so few
 * output channels (16, 24) do not waste most of a 64-wide tile. Returns
 * FC_EINVAL where it does not apply (the caller goes on to the general path).
 * NCHW strides above 1 first copy the pixels the 1x1 reads into unit-stride
 * planes, a chunk of images at a time (oneDNN's "rtus"): the general path
 * would gather whole input rows, 4x the pixels at stride 2.
 * Reduction order: the channel blocks in order, fixed by the geometry. */
static int FC_SFX(conv_pointwise)(const fc_conv_geom *g, const FC_T *x, const FC_T *w,
                                  const FC_T *bias, FC_T *y, int relu, int isa,
                                  int nthreads) {
    const int strided = g->SH != 1 || g->SW != 1;
    if (g->KH != 1 || g->KW != 1 || g->PT != 0 || g->PL != 0 || g->PB != 0 || g->PR != 0 ||
        (strided && g->layout == FC_NHWC))
        return FC_EINVAL;
    const int nhwc = g->layout == FC_NHWC;
    const int64_t G = g->G, Cg = g->C / G, Kg = g->K / G, C = g->C, K = g->K;
    const int64_t P = g->OH * g->OW;
    /* rows x columns of the GEMM(s) */
    const int64_t M = nhwc ? g->N * P : Kg, NC = nhwc ? Kg : P;
    const fc_kernel_info *ki = fc_gemm_pick(FC_DT, isa, M, NC, NULL);
    const FC_TR_FN tr = FC_SFX(conv_transposer)(isa);
    if (ki == NULL || tr == NULL) return FC_EINVAL;
    const FC_GEMM_FN kern = (FC_GEMM_FN)ki->fn;
    const int64_t MR = ki->mr, NR = ki->nr, sz = (int64_t)sizeof(FC_T);
    /* strided with few pixels (7x7 out of 14x14): the padded pixel tiles cost
     * more than the general path's row gather (1024->2048 @14 s2: 1.1x) */
    if (strided && fc_cdiv(NC, NR) < 4) return FC_EINVAL;
    /* channel blocks: the b rows one tile sweeps stay within the panel budget */
    int64_t kcb0 = fc_min64(Cg, fc_max64(64, FC_CONV_PANEL_BYTES / (NR * sz)));
    /* NCHW with many pixel tiles: a b tile of 128 input rows (32 KiB) stays
     * in L1 while the output-channel tiles sweep it (1 thread, 256->64 @28:
     * 0.91x the time; at 7x7 the extra passes over y cost more) */
    if (!nhwc && NR * sz >= 256 && fc_cdiv(NC, NR) >= 8) kcb0 = fc_min64(kcb0, 128);
    const int64_t ncb = fc_cdiv(Cg, kcb0), kcb = fc_cdiv(Cg, ncb);
    /* NCHW: the bias along rows padded to Mp (MR readable values per tile);
     * the MR weight rows a tile broadcasts from are Cg apart: where that is a
     * multiple of 2 KiB (512, 1024 channels) they share one or two L1 sets,
     * so with enough pixel tiles to pay for it the rows are copied with a
     * leading dimension of Cg + 16 (1 thread, 1x1 1024->256 @14: 1.7x
     * torch's time before; at 7x7 the copy costs more than it saves).
     * NHWC: weights transposed into panels [G][column tile][Cg][NR], so a
     * tile's b rows are consecutive: rows NCp apart (8 KiB at 2048 channels)
     * each sat on their own 4 KiB page, which the hardware prefetchers do not
     * cross (1 thread, 1x1 1024->2048 @14 N=1: 3.3x torch's time before),
     * bias padded to NCp columns. */
    const int64_t Mp = fc_cdiv(Kg, MR) * MR, NCp = fc_cdiv(Kg, NR) * NR;
    const int wcopy = !nhwc && (Cg * sz) % 2048 == 0 && fc_cdiv(P, NR) >= 8;
    const int64_t ldw = wcopy ? Cg + 16 : Cg;
    FC_T *wp = NULL, *bp = NULL;
    if (nhwc || wcopy) {
        wp = fc_ws_take((size_t)(nhwc ? G * Cg * NCp : G * Kg * ldw) * sizeof(FC_T));
        if (wp == NULL) return FC_ENOMEM;
    }
    if (bias != NULL) {
        bp = fc_alloc((size_t)(G * (nhwc ? NCp : Mp)) * sizeof(FC_T));
        if (bp == NULL) {
            fc_ws_give(wp);
            return FC_ENOMEM;
        }
        const int64_t ld = nhwc ? NCp : Mp;
        for (int64_t gi = 0; gi < G; gi++)
            for (int64_t k = 0; k < ld; k++) bp[gi * ld + k] = k < Kg ? bias[gi * Kg + k] : 0;
    }
    /* work items: (image for NCHW, group, band of row or column tiles, chunk of
     * the other dimension), enough of them to balance the threads */
    /* strided NCHW: images per chunk of unit-stride planes (xs) */
    const int64_t nimg = strided ? fc_max64(1, fc_min64(g->N, FC_CONV_RTUS_BYTES / (C * P * sz)))
                                 : g->N;
    FC_T *xs = NULL;
    if (strided) {
        xs = fc_alloc((size_t)(nimg * C * P) * sizeof(FC_T));
        if (xs == NULL) {
            fc_ws_give(wp);
            fc_free(bp);
            return FC_ENOMEM;
        }
    }
    const int64_t outer = (nhwc ? 1 : nimg) * G;
    const int64_t ntm = fc_cdiv(M, MR), ntn = fc_cdiv(NC, NR);
    /* the tiles swept by one item along its long dimension (pixels) */
    const int64_t ntl = nhwc ? ntm : ntn, nto = nhwc ? ntn : ntm;
    int64_t band = fc_min64(ntl, nhwc ? 16 : 4), nob = 1;
    while (band > 1 && outer * fc_cdiv(ntl, band) < 4 * (int64_t)nthreads) band = fc_cdiv(band, 2);
    while (nob < nto && outer * fc_cdiv(ntl, band) * nob < 4 * (int64_t)nthreads) nob *= 2;
    nob = fc_min64(nob, nto);
    const int64_t ochunk = fc_cdiv(nto, nob);
    nob = fc_cdiv(nto, ochunk);
    const int64_t nband = fc_cdiv(ntl, band);
    int failed = 0;
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        /* the last, short row tile copied into MR readable rows */
        FC_T *arows = fc_alloc((size_t)(MR * kcb) * sizeof(FC_T));
        if (arows == NULL) {
#if FC_HAVE_OPENMP
#pragma omp atomic write
#endif
            failed = 1;
        }
        if (nhwc) {
            /* wp[gi][k / NR][c][k % NR] = w[gi*Kg + k][c], zero past Kg:
             * blocks of BW filters transposed (4x4 vector blocks), not a
             * stride-NR write per weight (BW divides NR: 8..64) */
            const int64_t BW = fc_min64(16, NR), nkb = NCp / BW;
#if FC_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
            for (int64_t r = 0; r < G * nkb; r++) {
                const int64_t gi = r / nkb, k0 = r % nkb * BW;
                const int64_t kn = fc_max64(0, fc_min64(BW, Kg - k0));
                FC_T *d = wp + gi * Cg * NCp + k0 / NR * Cg * NR + k0 % NR;
                if (kn > 0)
                    FC_SFX(conv_transpose)(tr, w + (gi * Kg + k0) * Cg, Cg, d, NR, kn, Cg);
                for (int64_t k = kn; k < BW; k++)
                    for (int64_t c = 0; c < Cg; c++) d[c * NR + k] = 0;
            }
        } else if (wcopy) {
#if FC_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
            for (int64_t r = 0; r < G * Kg; r++)
                memcpy(wp + r * ldw, w + r * Cg, (size_t)Cg * sizeof(FC_T));
        }
        /* implicit barrier: weights ready, every thread's allocation known */
        const int ok = fc_conv_none_failed(&failed);
        for (int64_t n0 = 0; n0 < (nhwc ? 1 : g->N); n0 += nimg) {
            const int64_t items = (nhwc ? 1 : fc_min64(nimg, g->N - n0)) * G * nband * nob;
            if (strided) {
                /* xs[n - n0][c][oh][ow] = x[n][c][oh*SH][ow*SW] */
                const int64_t H = g->H, W = g->W, OW = g->OW, SH = g->SH, SW = g->SW;
#if FC_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
                for (int64_t q = 0; q < items / (G * nband * nob) * C; q++) {
                    const FC_T *src = x + (n0 * C + q) * H * W;
                    FC_T *dst = xs + q * P;
                    for (int64_t oh = 0; oh < g->OH; oh++)
                        for (int64_t ow = 0; ow < OW; ow++)
                            dst[oh * OW + ow] = src[oh * SH * W + ow * SW];
                }
                /* implicit barrier: the chunk's planes are ready */
            }
#if FC_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
            for (int64_t it = 0; it < items; it++) {
                if (!ok) continue;
                int64_t r = it;
                const int64_t ob = r % nob; r /= nob;
                const int64_t bi = r % nband; r /= nband;
                const int64_t gi = r % G;
                const int64_t n = n0 + r / G;
                const int64_t l0 = bi * band, l1 = fc_min64(ntl, l0 + band);
                const int64_t o0 = ob * ochunk, o1 = fc_min64(nto, o0 + ochunk);
                for (int64_t cb = 0; cb < ncb; cb++) {
                    const int64_t c0 = cb * kcb, kc = fc_min64(kcb, Cg - c0);
                    uint32_t flags = cb > 0 ? FC_FLAG_ACCUMULATE : 0u;
                    if (relu && cb == ncb - 1) flags |= FC_FLAG_RELU;
                    if (!nhwc) flags |= FC_GEMM_BIAS_ROWS;
                    const FC_T *bz = cb == 0 && bp != NULL ? bp : NULL;
    /* the a rows of a tile: in place, or the mr valid ones copied into MR
     * readable rows (a short last tile) */
#define FC_PW_AROWS(src_, mr_, lda_)                                                        \
        ((mr_) == MR ? (src_) : (FC_SFX(conv_pad_rows)((src_), (lda_), (mr_), MR, kc, arows), \
                                 (lda_) = kc, (const FC_T *)arows))
                    if (nhwc) {
                        /* column tiles outer: one b panel stays cached while the
                         * band's row tiles (pixels) sweep it */
                        for (int64_t to = o0; to < o1; to++)
                            for (int64_t tl = l0; tl < l1; tl++) {
                                const int64_t m0 = tl * MR, mr = fc_min64(MR, M - m0);
                                const int64_t k0 = to * NR, nr = fc_min64(NR, Kg - k0);
                                int64_t lda = C;
                                const FC_T *a = FC_PW_AROWS(x + m0 * C + gi * Cg + c0, mr, lda);
                                const FC_T *bt = wp + gi * Cg * NCp + (to * Cg + c0) * NR;
                                kern((size_t)mr, (size_t)nr, (size_t)kc, a, (size_t)lda, bt,
                                     (size_t)NR, bt,
                                     bz ? bz + gi * NCp + k0 : NULL, y + m0 * K + gi * Kg + k0,
                                     (size_t)K, flags);
                            }
                    } else {
                        /* pixel tiles outer: one b tile (kc input rows x NR
                         * pixels) stays in L1 while every output-channel tile
                         * uses it */
                        for (int64_t tl = l0; tl < l1; tl++) {
                            const FC_T *xb = (strided ? xs + (n - n0) * C * P : x + n * C * P) +
                                             (gi * Cg + c0) * P + tl * NR;
                            /* the first output-channel tile prefetches the next
                             * pixel tile's rows (see gemm-simd.h) */
                            const FC_T *pf = tl + 1 < ntn && (tl + 2) * NR <= P ? xb + NR : xb;
                            for (int64_t to = o0; to < o1; to++) {
                                const int64_t k0 = to * MR, mr = fc_min64(MR, Kg - k0);
                                const int64_t p0 = tl * NR, nr = fc_min64(NR, P - p0);
                                int64_t lda = ldw;
                                const FC_T *wk = (wcopy ? wp : w) + (gi * Kg + k0) * ldw + c0;
                                const FC_T *a = FC_PW_AROWS(wk, mr, lda);
                                kern((size_t)mr, (size_t)nr, (size_t)kc, a, (size_t)lda, xb,
                                     (size_t)P, to == o0 ? pf : xb,
                                     bz ? bz + gi * Mp + k0 : NULL,
                                     y + (n * K + gi * Kg + k0) * P + p0, (size_t)P, flags);
                            }
                        }
                    }
                }
            }
            /* implicit barrier (omp for): xs may take the next chunk */
        }
#undef FC_PW_AROWS
        fc_free(arows);
    }
    fc_ws_give(wp);
    fc_free(bp);
    fc_free(xs);
    return failed ? FC_ENOMEM : FC_OK;
}

/* Bit t set where tap t of the tile (pointers ind[t*MR + m]) reads input for
 * at least one pixel, clear where every pixel's tap is in the padding (all
 * point at zp); all bits set past 64 taps (no skipping). */
static uint64_t FC_SFX(conv_tile_taps)(const FC_T *const *ind, int64_t KS, int64_t MR,
                                       const FC_T *zp) {
    if (KS > 64) return ~(uint64_t)0;
    uint64_t msk = 0;
    for (int64_t t = 0; t < KS; t++)
        for (int64_t m = 0; m < MR; m++)
            if (ind[t * MR + m] != zp) {
                msk |= (uint64_t)1 << t;
                break;
            }
    return msk;
}

/* One tile: the kernel over its runs of taps that read input, skipping the
 * taps wholly in the padding (a padded 3x3's first and last rows: 3 of 9;
 * PyTorch's oneDNN skips them too). Later runs accumulate; relu goes with
 * the last. Weights are [tap][kc][NR], pointers [tap][MR]. */
static void FC_SFX(conv_tile_call)(FC_IGEMM_FN kern, uint64_t msk, size_t mr, size_t nr,
                                   size_t kc, int64_t KS, const FC_T **ind, int64_t MR,
                                   int64_t NR, const FC_T *w, const FC_T *bias, FC_T *y,
                                   size_t ys, uint32_t flags) {
    const uint64_t full = KS >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << KS) - 1;
    if (msk == full || msk == 0) {
        kern(mr, nr, kc, (size_t)KS, ind, w, bias, y, ys, flags);
        return;
    }
    uint32_t f = flags & ~(uint32_t)FC_FLAG_RELU;
    for (int64_t t0 = 0; t0 < KS;) {
        if (!((msk >> t0) & 1)) {
            t0++;
            continue;
        }
        int64_t t1 = t0;
        while (t1 < KS && ((msk >> t1) & 1)) t1++;
        const int last = t1 >= 64 || (msk >> t1) == 0;
        kern(mr, nr, kc, (size_t)(t1 - t0), ind + t0 * MR, w + (size_t)t0 * kc * (size_t)NR,
             bias, y, ys, last ? (f | (flags & FC_FLAG_RELU)) : f);
        f |= FC_FLAG_ACCUMULATE;
        t0 = t1;
    }
}

/* wflip: w is the weight of the conv whose input gradient this is (see
 * conv_pack_block_flipped), not this conv's own */
static int FC_SFX(fc_conv2d_impl)(const fc_conv_geom *g, const FC_T *x, const FC_T *w,
                             const FC_T *bias, FC_T *y, int relu, int isa, int nthreads,
                             int wflip) {
    if (g == NULL || !fc_conv_geom_ok(g) || nthreads < 1 || x == NULL || w == NULL ||
        y == NULL)
        return FC_EINVAL;
    if (g->N == 0) return FC_OK;
    const fc_kernel_info *ki = fc_kernel_select("igemm", FC_DT, isa);
    if (ki == NULL || ki->mr < 1 || ki->nr < 1) return FC_EINVAL;
    /* NHWC weight-heavy layers keep the pixel-major path, which does not
     * transpose the weights */
    const int pixels = FC_SFX(conv_pixels_ok)(g, ki->nr);
    if (wflip && (pixels || (g->KH == 1 && g->KW == 1))) {
        /* paths that read the weights in place get them flipped first */
        const size_t nw = (size_t)(g->K * (g->C / g->G) * g->KH * g->KW);
        FC_T *wf = fc_alloc(nw * sizeof(FC_T));  /* the workspace slot is for the panels */
        if (wf == NULL) return FC_ENOMEM;
        FC_SFX(conv_unflip_weight)(g, w, wf);
        const int st = FC_SFX(fc_conv2d_impl)(g, x, wf, bias, y, relu, isa, nthreads, 0);
        fc_free(wf);
        return st;
    }
    if (!(pixels && g->layout == FC_NHWC)) {
        const int pw = FC_SFX(conv_pointwise)(g, x, w, bias, y, relu, isa, nthreads);
        if (pw != FC_EINVAL) return pw;
    }
    if (pixels)
        return FC_SFX(conv_pixels)(g, ki, x, w, bias, y, relu, isa, nthreads);
    const FC_IGEMM_FN kern = (FC_IGEMM_FN)ki->fn;
    const FC_TR_FN tr = FC_SFX(conv_transposer)(isa);
    if (tr == NULL) return FC_EINVAL;
    FC_SFX(fc_conv_plan) pl;
    FC_SFX(conv_plan)(g, ki->mr, ki->nr, nthreads, &pl);
    const FC_SFX(fc_conv_plan) *p = &pl;
    const int64_t MR = p->MR, NR = p->NR, KS = p->KS, Cg = p->Cg, Kg = p->Kg;
    const int64_t G = g->G, H = g->H, W = g->W, C = g->C, K = g->K;
    const int64_t OW = g->OW, P = g->OH * g->OW;
    const int nchw = g->layout == FC_NCHW;
    const int64_t PB = g->N * P;  /* the pixels bands split (see conv_plan) */

    FC_T *packed = fc_ws_take((size_t)(G * p->Kgp * KS * Cg) * sizeof(FC_T));
    FC_T *biasp = fc_alloc((size_t)(G * p->Kgp) * sizeof(FC_T));
    /* zeros for the padding taps: Cg of them, so that NHWC pointers of every
     * channel block (zero ones included) are the first block's plus c0 */
    FC_T *zero = fc_alloc((size_t)Cg * sizeof(FC_T));
    if (packed == NULL || biasp == NULL || zero == NULL) {
        fc_ws_give(packed); fc_free(biasp); fc_free(zero);
        return FC_ENOMEM;
    }
    memset(zero, 0, (size_t)Cg * sizeof(FC_T));
    for (int64_t gi = 0; gi < G; gi++)
        for (int64_t k = 0; k < p->Kgp; k++)
            biasp[gi * p->Kgp + k] = (bias != NULL && k < Kg) ? bias[gi * Kg + k] : (FC_T)0;

    const int64_t kgw = p->nkbg * NR;  /* NCHW output buffer row length */
    const int64_t items = G * p->nkg * p->nband;
    /* items in kb-group order, so a thread's static share covers the output
     * channel blocks whose panels it packs (see common/steal.h) */
    fc_steal_slot *slots = fc_steal_new(items, nthreads);
    if (slots == NULL) {
        fc_ws_give(packed); fc_free(biasp); fc_free(zero);
        return FC_ENOMEM;
    }
    int failed = 0;

#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        /* the indirection of every tile of a band: [tile][tap][MR] */
        const FC_T **ind = fc_alloc((size_t)(p->band * KS) * sizeof(FC_T *));
        /* per tile of the band: bit t set where tap t reads input for some
         * pixel (see FC_SFX(conv_tile_taps)) */
        uint64_t *tmask = fc_alloc((size_t)fc_cdiv(p->band, MR) * sizeof(uint64_t));
        FC_T *xs = NULL, *obuf = NULL;
        /* NCHW: per image of the band, its first input row, row count and
         * offset in xs (in pixels) */
        int64_t *seg = NULL;
        if (nchw) {
            xs = fc_alloc((size_t)(p->rows_max * W * p->kcb) * sizeof(FC_T));
            obuf = fc_alloc((size_t)(p->band * kgw) * sizeof(FC_T));
            seg = fc_alloc((size_t)(3 * p->imgs_max) * sizeof(int64_t));
        }
        if (ind == NULL || tmask == NULL ||
            (nchw && (xs == NULL || obuf == NULL || seg == NULL))) {
#if FC_HAVE_OPENMP
#pragma omp atomic write
#endif
            failed = 1;
        }
#if FC_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
        for (int64_t gk = 0; gk < G * p->nkb; gk++)
            if (wflip)
                FC_SFX(conv_pack_block_flipped)(g, p, w, packed, gk / p->nkb, gk % p->nkb);
            else
                FC_SFX(conv_pack_block)(g, p, w, packed, gk / p->nkb, gk % p->nkb);
        /* implicit barrier: packing done, every thread's allocation known */
        const int ok = fc_conv_none_failed(&failed);
        /* each item is computed the same way whoever takes it */
        for (int64_t it; ok && (it = fc_steal_next(slots, nthreads, FC_THREAD_ID())) >= 0;) {
            int64_t r = it;
            const int64_t bi = r % p->nband; r /= p->nband;
            const int64_t kg = r % p->nkg; r /= p->nkg;
            const int64_t gi = r;
            const int64_t kb0 = kg * p->nkbg, kb1 = fc_min64(p->nkb, kb0 + p->nkbg);
            const int64_t p0 = bi * p->band, p1 = fc_min64(PB, p0 + p->band);
            const int64_t n0 = p0 / P, n1 = (p1 - 1) / P;  /* the band's images */
            if (nchw)
                for (int64_t m = n0, off = 0; m <= n1; m++) {
                    const int64_t q0 = fc_max64(p0, m * P) - m * P;
                    const int64_t q1 = fc_min64(p1, (m + 1) * P) - m * P;
                    const int64_t ih0 = fc_max64(0, q0 / OW * g->SH - g->PT);
                    const int64_t ih1 = fc_min64(
                        H - 1, (q1 - 1) / OW * g->SH - g->PT + (g->KH - 1) * g->DH);
                    int64_t *sg = seg + 3 * (m - n0);
                    sg[0] = ih0;
                    sg[1] = ih1 >= ih0 ? ih1 - ih0 + 1 : 0;
                    sg[2] = off;
                    off += sg[1] * W;
                }
            for (int64_t cb = 0; cb < p->ncb; cb++) {
                const int64_t c0 = cb * p->kcb, kc = fc_min64(p->kcb, Cg - c0);
                if (nchw)
                    for (int64_t m = n0; m <= n1; m++) {
                        const int64_t *sg = seg + 3 * (m - n0);
                        if (sg[1] > 0)
                            FC_SFX(conv_gather_rows)(tr, x + ((m * C + gi * Cg + c0) * H + sg[0]) * W,
                                                     H * W, sg[1] * W, kc, xs + sg[2] * kc);
                    }
                uint32_t flags = cb > 0 ? FC_FLAG_ACCUMULATE : 0u;
                if (relu && cb == p->ncb - 1) flags |= FC_FLAG_RELU;
                const FC_T *wcb = packed + gi * p->Kgp * KS * Cg + c0 * p->Kgp * KS;
                /* pointers of the band's tiles, built once for all kb; NHWC
                 * ones depend on the channel block only through c0, so later
                 * blocks shift the first one's (no division per pointer);
                 * NCHW ones into xs only through kc, equal but for the last */
                if (!nchw && cb > 0) {
                    const int64_t np = fc_cdiv(p1 - p0, MR) * MR * KS;
                    for (int64_t i = 0; i < np; i++) ind[i] += p->kcb;
                } else if (nchw && cb > 0 && kc == p->kcb) {
                    /* the previous block's pointers */
                } else
                for (int64_t pt = p0; pt < p1; pt += MR) {
                    const int64_t mr = fc_min64(MR, p1 - pt);
                    const FC_T **it_ind = ind + (pt - p0) * KS;
                    for (int64_t m = 0; m < MR; m++) {
                        /* NHWC: pb counts the batch's pixels, nm is its image */
                        const int64_t pb = pt + (m < mr ? m : 0);
                        const int64_t nm = pb / P, pp = pb % P;
                        const int64_t *sg = nchw ? seg + 3 * (nm - n0) : NULL;
                        const int64_t oh = pp / OW, ow = pp % OW;
                        const int64_t ihb = oh * g->SH - g->PT, iwb = ow * g->SW - g->PL;
                        for (int64_t kh = 0; kh < g->KH; kh++) {
                            const int64_t ih = ihb + kh * g->DH;
                            const int inh = ih >= 0 && ih < H;
                            for (int64_t kw = 0; kw < g->KW; kw++) {
                                const int64_t iw = iwb + kw * g->DW;
                                const FC_T *ptr = zero + (nchw ? 0 : c0);
                                if (inh && iw >= 0 && iw < W)
                                    ptr = nchw ? xs + (sg[2] + (ih - sg[0]) * W + iw) * kc
                                               : x + ((nm * H + ih) * W + iw) * C + gi * Cg + c0;
                                it_ind[(kh * g->KW + kw) * MR + m] = ptr;
                            }
                        }
                    }
                    tmask[(pt - p0) / MR] =
                        FC_SFX(conv_tile_taps)(it_ind, KS, MR, zero + (nchw ? 0 : c0));
                }
                /* kb outer, tiles inner: one weight panel stays in cache while the
                 * band's tiles sweep it, so a band may cover every output channel
                 * (NCHW: the gathered rows are then reused by all of them) */
                for (int64_t kb = kb0; kb < kb1; kb++) {
                    const int64_t nr = fc_min64(NR, Kg - kb * NR);
                    for (int64_t pt = p0; pt < p1; pt += MR) {
                        const int64_t mr = fc_min64(MR, p1 - pt);
                        FC_T *yp;
                        size_t ys;
                        if (nchw) {
                            yp = obuf + (pt - p0) * kgw + (kb - kb0) * NR;
                            ys = (size_t)kgw;
                        } else {
                            yp = y + pt * K + gi * Kg + kb * NR;
                            ys = (size_t)K;
                        }
                        FC_SFX(conv_tile_call)(kern, tmask[(pt - p0) / MR], (size_t)mr,
                                               (size_t)nr, (size_t)kc, KS,
                                               ind + (pt - p0) * KS, MR, NR, wcb + kb * KS * kc * NR,
                                               biasp + gi * p->Kgp + kb * NR, yp, ys, flags);
                    }
                }
            }
            if (nchw) {
                /* the band's [pixel][channel] buffer into each image's planes */
                const int64_t k0 = kb0 * NR, k1 = fc_min64(Kg, kb1 * NR);
                for (int64_t m = n0; m <= n1; m++) {
                    const int64_t q0 = fc_max64(p0, m * P), q1 = fc_min64(p1, (m + 1) * P);
                    FC_SFX(conv_transpose)(tr, obuf + (q0 - p0) * kgw, kgw,
                                           y + (m * K + gi * Kg + k0) * P + q0 - m * P, P,
                                           q1 - q0, k1 - k0);
                }
            }
        }
        fc_free(ind);
        fc_free(tmask);
        fc_free(xs);
        fc_free(obuf);
        fc_free(seg);
    }
    fc_ws_give(packed);
    fc_free(biasp);
    fc_free(zero);
    fc_free(slots);
    return failed ? FC_ENOMEM : FC_OK;
}
