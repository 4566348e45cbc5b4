/* Template of the conv2d gradient drivers (prototypes and layouts in
 * conv-grad.h). Included by conv-grad-driver.c once per dtype with FC_T,
 * FC_DT ("f32"/"f64"), FC_SFX (_f32/_f64), FC_IGEMM_FN and FC_GRADW_FN. */

#define FC_CAT2_(a, b) a##b
#define FC_CAT2(a, b) FC_CAT2_(a, b)
#define FC_FN(name) FC_CAT2(name, FC_SFX)

#ifndef FC_CONV_GRAD_IMPL_ONCE
#define FC_CONV_GRAD_IMPL_ONCE
/* dtype-independent helpers: defined by the first instantiation only */

/* The highest ISA level <= isa that has an (op, dt) kernel; -1 if none. */
static int fc_top_isa(const char *op, const char *dt, int isa) {
    int top = -1;
    for (size_t i = 0; i < fc_num_kernels; i++) {
        const fc_kernel_info *k = &fc_kernels[i];
        if (strcmp(k->op, op) == 0 && strcmp(k->dtype, dt) == 0 && k->isa <= isa && k->isa > top)
            top = k->isa;
    }
    return top;
}

/* Stride phases of one dimension (size In, kernel KD, stride S, dilation D,
 * padding P): the taps of phase r are the k with k*D = r (mod S), kept in
 * ascending order in tp[r*KD ..], nt[r] of them; the phase's input indices
 * are i0[r] + i*S for i < ni[r], and tap t of input i reads grad_output
 * index i + off[r*KD + t] (an exact division). */
static void fc_phase_taps(int64_t In, int64_t KD, int64_t S, int64_t D, int64_t P, int64_t *tp,
                          int64_t *nt, int64_t *i0, int64_t *ni, int64_t *off) {
    for (int64_t r = 0; r < S; r++) {
        nt[r] = 0;
        for (int64_t k = 0; k < KD; k++)
            if ((k * D) % S == r) tp[r * KD + nt[r]++] = k;
        i0[r] = ((r - P) % S + S) % S;
        ni[r] = i0[r] < In ? fc_cdiv(In - i0[r], S) : 0;
        for (int64_t t = 0; t < nt[r]; t++) off[r * KD + t] = (i0[r] + P - tp[r * KD + t] * D) / S;
    }
}

/* fc_phase_taps of both axes of a strided grad input: rows (tph, ohoff per
 * row phase x KH; nth, ih0, nih per row phase) and columns (likewise with
 * KW), in one allocation ending in `extra` values of the caller's own
 * (rest). Returns the allocation (fc_free it) or NULL. */
typedef struct {
    int64_t *tph, *ohoff, *nth, *ih0, *nih, *tpw, *owoff, *ntw, *iw0, *niw, *rest;
} fc_phase_tables;

static int64_t *fc_phase_tables_make(const fc_conv_geom *g, int64_t extra, fc_phase_tables *t) {
    const int64_t SH = g->SH, SW = g->SW, KH = g->KH, KW = g->KW;
    int64_t *m = (int64_t *)fc_alloc(sizeof(int64_t) *
                                     (size_t)(SH * (2 * KH + 3) + SW * (2 * KW + 3) + extra));
    if (m == NULL) return NULL;
    t->tph = m; t->ohoff = t->tph + SH * KH; t->nth = t->ohoff + SH * KH;
    t->ih0 = t->nth + SH; t->nih = t->ih0 + SH;
    t->tpw = t->nih + SH; t->owoff = t->tpw + SW * KW; t->ntw = t->owoff + SW * KW;
    t->iw0 = t->ntw + SW; t->niw = t->iw0 + SW; t->rest = t->niw + SW;
    fc_phase_taps(g->H, KH, SH, g->DH, g->PT, t->tph, t->nth, t->ih0, t->nih, t->ohoff);
    fc_phase_taps(g->W, KW, SW, g->DW, g->PL, t->tpw, t->ntw, t->iw0, t->niw, t->owoff);
    return m;
}

/* Row bands of the grad weight GEMMs: RS, CS input rows/columns per packed
 * one, SHq, SWq packed rows/columns per output step, Wp packed columns, BR
 * output rows per band, XR packed input rows per band. */
typedef struct {
    int64_t RS, CS, SHq, SWq, Wp, BR, XR;
} fc_gw_band;
#endif

/* Target sizes (elements are bytes / sizeof(FC_T)): a weight panel of one
 * K-chunk should stay in L2 while a block of pixels streams past it. */
#define FC_GI_PANEL_BYTES (512 * 1024)
#define FC_GI_TILES_PER_BLOCK 16
#define FC_GI_PACK_K 16 /* filters per weight-packing item */
#ifndef FC_GI_PIX_MAX /* N x input pixels (tiles rounded) of the pixel-major path */
#define FC_GI_PIX_MAX 64
#endif
#ifndef FC_GI_PIX_ITEMS /* items per thread there (channel chunks x pixel tiles): each
                           chunk streams the whole shared panel once, so one each
                           (2 threads, 512 -> 512 @7: 0.93x the time of two each) */
#define FC_GI_PIX_ITEMS 1
#endif
#ifndef FC_GI_PIX_KB /* filters per kernel call there (read as that many streams) */
#define FC_GI_PIX_KB 16
#endif
#define FC_GW_BAND_PIXELS 384
#define FC_GW_XBAND_BYTES (1024 * 1024)
#define FC_GW_PRIVATE_BYTES ((size_t)4 << 20)
#define FC_GW_CHUNK_BYTES ((int64_t)1 << 20) /* k-split accumulator per thread */
#define FC_GW_MAX_MR 32 /* largest gradw MR the driver accepts */
#ifndef FC_GW_SWAP_L1_BYTES /* grad_output of one swapped-GEMM sub-band */
#define FC_GW_SWAP_L1_BYTES (32 * 1024)
#endif
#ifndef FC_GW_SWAP_GAIN /* useful tile share the swapped GEMM must beat by */
#define FC_GW_SWAP_GAIN 1.2
#endif

/* ------------------------------------------------------------------------ */
/* grad input                                                               */

/* The transpose kernel of a call (transpose.h, the conv2d drivers' too). */
static FC_TR_FN FC_FN(fc_transposer)(int isa) {
    const fc_kernel_info *ki = fc_kernel_select("transpose", FC_DT, isa);
    return ki ? (FC_TR_FN)ki->fn : NULL;
}

/* d[q*ld + k] = s[k*ss + q] for k < nk, q < nq through `tr` (channel planes ->
 * pixel-major rows, OIHW filters -> tap-major panels) */
static inline void FC_FN(fc_transpose)(FC_TR_FN tr, const FC_T *s, int64_t ss, int64_t nk,
                                       int64_t nq, FC_T *d, int64_t ld) {
    tr(s, (size_t)ss, d, (size_t)ld, (size_t)nk, (size_t)nq);
}


/* Lanes of one vector of the kernel's ISA (scalar code counts as one). */
static inline int64_t FC_FN(fc_lanes)(int kisa) {
    return kisa == FC_ISA_AVX512 ? 64 / (int64_t)sizeof(FC_T)
         : kisa == FC_ISA_AVX2 ? 32 / (int64_t)sizeof(FC_T) : 1;
}

/* The igemm kernel doing the most useful multiply-adds per instruction for
 * Cg output columns: with a handful of input channels (RGB stems, LeNet) a
 * narrower tile of a lower ISA wastes far fewer lanes than a 64-wide one. */
static const fc_kernel_info *FC_FN(fc_igemm_pick)(int isa, int64_t Cg) {
    const fc_kernel_info *best = fc_kernel_select("igemm", FC_DT, isa);
    if (best == NULL) return NULL;
    double best_score = 0.0;
    for (size_t i = 0; i < fc_num_kernels; i++) {
        const fc_kernel_info *k = &fc_kernels[i];
        if (strcmp(k->op, "igemm") != 0 || strcmp(k->dtype, FC_DT) != 0 || k->isa > isa)
            continue;
        const double score = (double)Cg / (double)(fc_cdiv(Cg, k->nr) * k->nr) *
                             (double)FC_FN(fc_lanes)(k->isa);
        if (score > best_score * 1.05) {
            best = k;
            best_score = score;
        }
    }
    return best;
}

/* ------------------------------------------------------------------------ */
/* grad input, few input channels: direct sums of shifted planes            */

#define FC_GX_MAX_CG 7                    /* C/G up to which the planar path runs */
#define FC_GX_PLANES_BYTES (512 * 1024)   /* padded rows of one item: about L2 */
#define FC_GX_SCRATCH_BYTES ((size_t)6 << 20) /* per thread, else igemm */

/* The gradx kernel of the best ISA level allowed that wastes least on Cg
 * channels; among equals the one with more channels (fewer plane passes). */
static const fc_kernel_info *FC_FN(fc_gradx_pick)(int isa, int64_t Cg) {
    const fc_kernel_info *best = NULL;
    double best_score = -1.0;
    const int top = fc_top_isa("gradx", FC_DT, isa);
    for (size_t i = 0; i < fc_num_kernels; i++) {
        const fc_kernel_info *k = &fc_kernels[i];
        if (strcmp(k->op, "gradx") != 0 || strcmp(k->dtype, FC_DT) != 0 || k->isa != top)
            continue;
        const double score = (double)Cg / (double)(fc_cdiv(Cg, k->mr) * k->mr) + 1e-3 * k->mr;
        if (score > best_score) {
            best = k;
            best_score = score;
        }
    }
    return best;
}

/* Input pixels of one stride phase (rh, rw) form a dense nih x niw grid, and
 * phase pixel (i, j) reads grad_output (i + ohoff[th], j + owoff[tw]): a
 * stride-1 correlation. Each item (image, group block, phase, band of phase
 * rows) copies its grad_output rows into zero-padded planes of width Wpad, so
 * every tap is one constant offset on the flattened plane and the kernel
 * runs along whole rows (the Wpad - niw padding columns are computed and
 * dropped). Returns FC_EINVAL (before any work) when the geometry does not
 * fit the scratch budget: the caller then takes the igemm path. */
static int FC_FN(fc_gi_planar)(const fc_conv_geom *g, const FC_T *gy, const FC_T *w,
                               const FC_T *bias, FC_T *gx, int isa, int nthreads) {
    const fc_kernel_info *ki = FC_FN(fc_gradx_pick)(isa, g->C / g->G);
    const FC_TR_FN tr = FC_FN(fc_transposer)(isa);
    if (ki == NULL || tr == NULL) return FC_EINVAL;
    const FC_GRADX_FN kern = (FC_GRADX_FN)ki->fn;
    const int64_t MR = ki->mr, NRP = ki->nr;
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, K = g->K, OH = g->OH, OW = g->OW;
    const int64_t KH = g->KH, KW = g->KW, SH = g->SH, SW = g->SW;
    const int64_t G = g->G;
    const int64_t Cg = C / G, Kg = K / G, CB = fc_cdiv(Cg, MR), NP = SH * SW;
    const int nhwc = g->layout == FC_NHWC;
    /* NHWC: a block of groups per item so the gathers use whole cache lines */
    const int64_t GB = nhwc ? fc_min64(G, fc_max64(1, 16 / Kg)) : 1, NGB = fc_cdiv(G, GB);

    fc_phase_tables pt;
    int64_t *tabs = fc_phase_tables_make(g, SH + SW + 2 * NP + 2, &pt);
    if (tabs == NULL) return FC_ENOMEM;
    int64_t *ohlo = pt.rest, *owlo = ohlo + SH;
    int64_t *nrb = owlo + SW, *rbpre = nrb + SH; /* row bands per row phase, prefix */
    int64_t spanh = 0, spanw = 0, wpmax = 1, maxtaps = 1;
    for (int64_t r = 0; r < SH; r++) {
        /* taps ascending: offsets descending, the last is the lowest */
        ohlo[r] = pt.nth[r] ? pt.ohoff[r * KH + pt.nth[r] - 1] : 0;
        if (pt.nth[r]) spanh = fc_max64(spanh, pt.ohoff[r * KH] - ohlo[r]);
    }
    for (int64_t r = 0; r < SW; r++) {
        owlo[r] = pt.ntw[r] ? pt.owoff[r * KW + pt.ntw[r] - 1] : 0;
        const int64_t sw = pt.ntw[r] ? pt.owoff[r * KW] - owlo[r] : 0;
        spanw = fc_max64(spanw, sw);
        wpmax = fc_max64(wpmax, pt.niw[r] + sw);
    }
    for (int64_t p = 0; p < NP; p++) maxtaps = fc_max64(maxtaps, pt.nth[p / SW] * pt.ntw[p % SW]);
    /* band rows: the padded rows of GB*Kg planes about FC_GX_PLANES_BYTES */
    const int64_t rowb = GB * Kg * wpmax * (int64_t)sizeof(FC_T);
    int64_t RB = fc_max64(1, FC_GX_PLANES_BYTES / rowb - spanh);
    int64_t nihmax = 1;
    for (int64_t r = 0; r < SH; r++) nihmax = fc_max64(nihmax, pt.nih[r]);
    RB = fc_min64(RB, nihmax);
    /* plane: rounded band pixels + the rows and columns the taps reach past them */
    const int64_t prmax = fc_cdiv((RB - 1) * wpmax + wpmax, NRP) * NRP;
    const int64_t plen = prmax + (spanh + 1) * wpmax + spanw;
    const int64_t scratch = GB * Kg * plen + MR * prmax;
    if ((size_t)scratch * sizeof(FC_T) > FC_GX_SCRATCH_BYTES) {
        fc_free(tabs);
        return FC_EINVAL;
    }
    rbpre[0] = 0;
    for (int64_t r = 0; r < SH; r++) {
        nrb[r] = fc_cdiv(pt.nih[r], RB);
        rbpre[r + 1] = rbpre[r] + nrb[r];
    }
    /* an item is a band of one row phase with all its column phases: they
       interleave their pixels in the same gx lines, which one thread then
       fills while they are in cache (two threads on two column phases of a
       band wrote the same lines, and phase-major items wrote gx SW times) */
    const int64_t items_img = NGB * rbpre[SH];
    /* packed weights [phase][group][c-block][k][tap][MR]: about the size of
       the weights (small on this path), packed once before the items */
    int64_t *wpo = (int64_t *)fc_alloc(sizeof(int64_t) * (size_t)(NP + 1));
    FC_T *tsc = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(nthreads * scratch));
    int64_t *toff = (int64_t *)fc_alloc(sizeof(int64_t) * (size_t)(nthreads * maxtaps));
    FC_T *wpk = NULL;
    if (wpo != NULL) {
        wpo[0] = 0;
        for (int64_t p = 0; p < NP; p++)
            wpo[p + 1] = wpo[p] + G * CB * Kg * pt.nth[p / SW] * pt.ntw[p % SW] * MR;
        wpk = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)fc_max64(wpo[NP], 1));
    }
    fc_steal_slot *slots = fc_steal_new(N * items_img, nthreads);
    int64_t next_item = 0;
    if (wpo == NULL || wpk == NULL || tsc == NULL || toff == NULL || slots == NULL) {
        fc_free(wpo); fc_free(wpk); fc_free(tsc); fc_free(toff); fc_free(tabs); fc_free(slots);
        return FC_ENOMEM;
    }
    for (int64_t p = 0; p < NP; p++) {
        const int64_t rh = p / SW, rw = p % SW;
        FC_T *d = wpk + wpo[p];
        for (int64_t gc = 0; gc < G * CB; gc++) {
            const int64_t gg = gc / CB, c0 = (gc % CB) * MR, mr = fc_min64(MR, Cg - c0);
            for (int64_t k = 0; k < Kg; k++)
                for (int64_t th = 0; th < pt.nth[rh]; th++)
                    for (int64_t tw = 0; tw < pt.ntw[rw]; tw++) {
                        const FC_T *s = w + (((gg * Kg + k) * Cg + c0) * KH + pt.tph[rh * KH + th]) * KW +
                                        pt.tpw[rw * KW + tw];
                        for (int64_t m = 0; m < MR; m++) *d++ = m < mr ? s[m * KH * KW] : (FC_T)0;
                    }
        }
    }

#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        const int tid = FC_THREAD_ID();
        FC_T *pl = tsc + (int64_t)tid * scratch, *out = pl + GB * Kg * plen;
        int64_t *off = toff + (int64_t)tid * maxtaps;
        /* each item writes its own pixels in a fixed order, so the result
           does not depend on which thread takes it. NCHW: a contiguous share
           per thread first (one read and write stream each), then stealing
           (LeNet dX, 2 threads: 0.78-0.95x the time of items in turn); NHWC
           items in turn (the shares were 1.04-1.09x on LeNet's 1 -> 6) */
        for (int64_t it; (it = nhwc ? fc_shared_next(&next_item, N * items_img)
                                    : fc_steal_next(slots, nthreads, tid)) >= 0;) {
            const int64_t n = it / items_img, rem0 = it % items_img;
            const int64_t gb = rem0 / rbpre[SH];
            int64_t rem = rem0 % rbpre[SH], rh = 0;
            while (rem >= rbpre[rh + 1]) rh++;
            rem -= rbpre[rh];
            const int64_t i0 = rem * RB, nr = fc_min64(RB, pt.nih[rh] - i0);
            const int64_t g0 = gb * GB, ng = fc_min64(GB, G - g0);
            if (nr <= 0) continue;
            for (int64_t rw = 0; rw < SW; rw++) {
                const int64_t p = rh * SW + rw, ntp = pt.nth[rh] * pt.ntw[rw], nw = pt.niw[rw];
                if (nw == 0) continue;
                const int64_t hspan = ntp ? pt.ohoff[rh * KH] - ohlo[rh] : 0;
                const int64_t wspan = ntp ? pt.owoff[rw * KW] - owlo[rw] : 0;
                const int64_t Wp = nw + wspan, np = (nr - 1) * Wp + nw;
                const int64_t npr = fc_cdiv(np, NRP) * NRP, prow = nr + hspan;
                const int64_t pn = np + hspan * Wp + wspan; /* plane elements holding data */
                const int64_t pz = npr + hspan * Wp + wspan; /* elements the kernel may read */
                if (ntp) {
                    /* padded planes: row u <-> grad_output row i0 + u + ohlo */
                    const int64_t oh00 = i0 + ohlo[rh], ow00 = owlo[rw];
                    const int64_t vlo = fc_min64(Wp, fc_max64(0, -ow00));
                    const int64_t vhi = fc_max64(vlo, fc_min64(Wp, OW - ow00));
                    for (int64_t q = 0; q < ng * Kg; q++)
                        memset(pl + q * plen + pn, 0, sizeof(FC_T) * (size_t)(pz - pn));
                    for (int64_t u = 0; u < prow; u++) {
                        const int64_t oh = oh00 + u;
                        const int inside = oh >= 0 && oh < OH;
                        for (int64_t q = 0; q < ng * Kg; q++) {
                            FC_T *d = pl + q * plen + u * Wp;
                            const int64_t len = Wp; /* pn == prow * Wp */
                            if (!inside) {
                                memset(d, 0, sizeof(FC_T) * (size_t)len);
                                continue;
                            }
                            memset(d, 0, sizeof(FC_T) * (size_t)fc_min64(vlo, len));
                            if (vhi < len)
                                memset(d + vhi, 0, sizeof(FC_T) * (size_t)(len - vhi));
                            if (!nhwc) {
                                const FC_T *s = gy + ((n * K + g0 * Kg + q) * OH + oh) * OW + ow00;
                                const int64_t e = fc_min64(vhi, len);
                                if (e > vlo)
                                    memcpy(d + vlo, s + vlo, sizeof(FC_T) * (size_t)(e - vlo));
                            }
                        }
                        if (nhwc && inside && vhi > vlo) {
                            /* the row's pixels x channels into the planes'
                               row u: vector transposes, not a store plen
                               apart per value (the stem's 64 planes: 43% of
                               its NHWC dX) */
                            const FC_T *s = gy + ((n * OH + oh) * OW + ow00) * K + g0 * Kg;
                            FC_FN(fc_transpose)(tr, s + vlo * K, K, vhi - vlo, ng * Kg,
                                                pl + u * Wp + vlo, plen);
                        }
                    }
                    for (int64_t th = 0; th < pt.nth[rh]; th++)
                        for (int64_t tw = 0; tw < pt.ntw[rw]; tw++)
                            off[th * pt.ntw[rw] + tw] = (pt.ohoff[rh * KH + th] - ohlo[rh]) * Wp +
                                                     pt.owoff[rw * KW + tw] - owlo[rw];
                }
                for (int64_t gl = 0; gl < ng; gl++) {
                    const int64_t gg = g0 + gl;
                    for (int64_t cb = 0; cb < CB; cb++) {
                        const int64_t c0 = cb * MR, mr = fc_min64(MR, Cg - c0);
                        if (ntp)
                            kern((size_t)np, (size_t)Kg, (size_t)ntp, pl + gl * Kg * plen,
                                 (size_t)plen, off, wpk + wpo[p] + (gg * CB + cb) * Kg * ntp * MR,
                                 out, (size_t)npr);
                        /* write out: phase pixel (i, j) -> (pt.ih0 + i*SH, pt.iw0 + j*SW) */
                        for (int64_t m = 0; m < mr; m++) {
                            const int64_t c = gg * Cg + c0 + m;
                            const FC_T b = bias != NULL ? bias[c] : (FC_T)0;
                            for (int64_t i = 0; i < nr; i++) {
                                const int64_t ih = pt.ih0[rh] + (i0 + i) * SH;
                                const FC_T *s = out + m * npr + i * Wp;
                                if (!nhwc) {
                                    FC_T *d = gx + ((n * C + c) * H + ih) * W + pt.iw0[rw];
                                    for (int64_t j = 0; j < nw; j++)
                                        d[j * SW] = (ntp ? s[j] : 0) + b;
                                } else {
                                    FC_T *d = gx + ((n * H + ih) * W + pt.iw0[rw]) * C + c;
                                    for (int64_t j = 0; j < nw; j++)
                                        d[j * SW * C] = (ntp ? s[j] : 0) + b;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    fc_free(wpo); fc_free(wpk); fc_free(tsc); fc_free(toff); fc_free(tabs); fc_free(slots);
    return FC_OK;
}

/* ------------------------------------------------------------------------ */
/* grad input, depthwise NHWC: the forward depthwise kernel per stride phase */

/* Depthwise NHWC grad input of a 3x3 undilated stride-2 kernel: the
 * dwgradx_nhwc kernel writes whole gx rows, its 4 stride phases together
 * (the per-phase forward calls below wrote gx 2 pixels apart in 4 passes:
 * 0.86 of torch on 96 channels @112, 1 thread; gx is 4x grad_output there,
 * its writes are the bound). Each thread one contiguous run of the N*H gx
 * rows; each row's sums do not depend on the split. */
static int FC_FN(fc_gi_dw_nhwc_s2)(const fc_conv_geom *g, const FC_T *gy, const FC_T *w,
                                   const FC_T *bias, FC_T *gx, int isa, int nthreads) {
    const fc_kernel_info *ki = fc_kernel_select("dwgradx_nhwc", FC_DT, isa);
    if (ki == NULL) return FC_EINVAL;
    const fc_dwgradx_nhwc_fn kern = (fc_dwgradx_nhwc_fn)ki->fn;
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    const int64_t Cp = (C + 15) & ~(int64_t)15;
    /* weights [kh][kw][Cp] and the bias [Cp], zeros past C */
    FC_T *wpk = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(10 * Cp));
    if (wpk == NULL) return FC_ENOMEM;
    memset(wpk, 0, sizeof(FC_T) * (size_t)(10 * Cp));
    for (int64_t t = 0; t < 9; t++)
        for (int64_t c = 0; c < C; c++) wpk[t * Cp + c] = w[c * 9 + t];
    for (int64_t c = 0; c < C && bias != NULL; c++) wpk[9 * Cp + c] = bias[c];
    /* chunks of rows (multiples of the kernel's 4-row group): a contiguous
     * share per thread, then stealing */
    fc_steal_work sw;
    if (!fc_steal_work_init(&sw, N * H, nthreads, 4)) {
        fc_free(wpk);
        return FC_ENOMEM;
    }
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    for (int64_t r0, r1; fc_steal_range(&sw, FC_THREAD_ID(), &r0, &r1);) {
        for (int64_t r = r0; r < r1;) {
            const int64_t n = r / H, i0 = r % H, i1 = fc_min64(H, i0 + r1 - r);
            fc_dwgradx_nhwc_args a;
            a.gy = gy + n * OH * OW * C;
            a.w = wpk;
            a.bias = wpk + 9 * Cp;
            a.gx = gx + n * H * W * C;
            a.C = C; a.Cp = Cp; a.OH = OH; a.OW = OW; a.H = H; a.W = W;
            a.PT = g->PT; a.PL = g->PL;
            a.ih0 = i0; a.ih1 = i1;
            kern(&a);
            r += i1 - i0;
        }
    }
    fc_free(sw.slots);
    fc_free(wpk);
    return FC_OK;
}

/* Depthwise (C/G == K/G == 1) NHWC grad input. The input pixels of one
 * stride phase (rh, rw) are a stride-1 depthwise correlation of grad_output
 * with that phase's taps, whose offsets are evenly spaced (by D / gcd(S, D)):
 * a forward dwconv_nhwc call per band of phase rows, writing gx in place with
 * strided rows and pixels, channels in the vector lanes, taps past
 * grad_output's edges skipped by the kernel. Each row is written by one item
 * in a fixed order, so the result does not depend on the threads. */
#define FC_GI_DW_BAND_BYTES (256 * 1024) /* gx rows of one kernel call */
static int FC_FN(fc_gi_dw_nhwc)(const fc_conv_geom *g, const FC_T *gy, const FC_T *w,
                                const FC_T *bias, FC_T *gx, int isa, int nthreads) {
    if (g->KH == 3 && g->KW == 3 && g->SH == 2 && g->SW == 2 && g->DH == 1 && g->DW == 1) {
        const int st = FC_FN(fc_gi_dw_nhwc_s2)(g, gy, w, bias, gx, isa, nthreads);
        if (st != FC_EINVAL) return st;
    }
    const fc_kernel_info *ki = fc_kernel_select("dwconv_nhwc", FC_DT, isa);
    if (ki == NULL) return FC_EINVAL;
    const fc_dwconv_fn kern = (fc_dwconv_fn)ki->fn;
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    const int64_t KH = g->KH, KW = g->KW, SH = g->SH, SW = g->SW;
    const int64_t NP = SH * SW, Cp = (C + 15) & ~(int64_t)15;
    fc_phase_tables pt;
    int64_t *tabs = fc_phase_tables_make(g, SH + 1, &pt);
    if (tabs == NULL) return FC_ENOMEM;
    int64_t *rpre = pt.rest;
    /* weights [phase][kh'][kw'][Cp], kernel row kh' = the phase's tap pt.nth-1-kh'
       (offsets ascending), and the bias [Cp]; zeros past C */
    const int64_t wps = KH * KW * Cp;
    FC_T *wpk = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(NP * wps + Cp));
    if (wpk == NULL) {
        fc_free(tabs);
        return FC_ENOMEM;
    }
    memset(wpk, 0, sizeof(FC_T) * (size_t)(NP * wps + Cp));
    FC_T *bp = wpk + NP * wps;
    for (int64_t c = 0; c < C && bias != NULL; c++) bp[c] = bias[c];
    for (int64_t p = 0; p < NP; p++) {
        const int64_t rh = p / SW, rw = p % SW;
        for (int64_t a = 0; a < pt.nth[rh]; a++)
            for (int64_t b = 0; b < pt.ntw[rw]; b++) {
                const int64_t kh = pt.tph[rh * KH + pt.nth[rh] - 1 - a], kw = pt.tpw[rw * KW + pt.ntw[rw] - 1 - b];
                FC_T *d = wpk + p * wps + (a * pt.ntw[rw] + b) * Cp;
                for (int64_t c = 0; c < C; c++) d[c] = w[(c * KH + kh) * KW + kw];
            }
    }
    /* phase rows of an image, row phase by row phase: prefix rpre[rh] */
    rpre[0] = 0;
    for (int64_t r = 0; r < SH; r++) rpre[r + 1] = rpre[r] + pt.nih[r];
    /* rows per call: its gx rows about FC_GI_DW_BAND_BYTES, so the column
       phases that share gx lines meet them in L2; at least 4, the kernel's
       row group */
    const int64_t grow = W * C * (int64_t)sizeof(FC_T);
    const int64_t B = fc_max64(4, FC_GI_DW_BAND_BYTES / fc_max64(grow, 1));
    /* chunks of the N*rpre[SH] phase rows (multiples of 4), each thread a
       contiguous share then stealing; a chunk is cut at row-phase ends and
       into bands of B: runs of rows let the kernel's groups of 4 rows run
       (single-row items ran at 0.65 of torch on 32 and 144 channels, the
       forward at 0.4). Each gx row is written by one call whatever the
       split: its sums, taps in kernel order, do not depend on the threads */
    fc_steal_work sw;
    if (!fc_steal_work_init(&sw, N * rpre[SH], nthreads, 4)) {
        fc_free(wpk);
        fc_free(tabs);
        return FC_ENOMEM;
    }
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    for (int64_t r0, r1; fc_steal_range(&sw, FC_THREAD_ID(), &r0, &r1);) {
        for (int64_t r = r0; r < r1;) {
            const int64_t n = r / rpre[SH], q = r % rpre[SH];
            int64_t rh = 0;
            while (q >= rpre[rh + 1]) rh++;
            const int64_t i = q - rpre[rh];
            const int64_t nr = fc_min64(fc_min64(B, pt.nih[rh] - i), r1 - r);
            r += nr;
            /* the column phases interleave their pixels in the same gx
               lines: one call each on the band while its lines are in
               cache. a.OW = SH*W pixels strides the phase's rows, a.YS =
               SW*C its pixels */
            for (int64_t rw = 0; rw < SW; rw++) {
                const int64_t p = rh * SW + rw, nw = pt.niw[rw];
                if (nw == 0) continue;
                /* row 0 of the phase; the call writes its rows [i, i + nr) */
                FC_T *y = gx + ((n * H + pt.ih0[rh]) * W + pt.iw0[rw]) * C;
                if (pt.nth[rh] == 0 || pt.ntw[rw] == 0) {
                    for (int64_t u = i; u < i + nr; u++)
                        for (int64_t j = 0; j < nw; j++)
                            for (int64_t c = 0; c < C; c++)
                                y[(u * SH * W + j * SW) * C + c] = bp[c];
                    continue;
                }
                const int64_t *oh = pt.ohoff + rh * KH, *ow = pt.owoff + rw * KW;
                fc_dwconv_nhwc_args a;
                a.x = gy + n * OH * OW * C;
                a.w = wpk + p * wps;
                a.bias = bp;
                a.y = y;
                a.C = C; a.Cp = Cp; a.H = OH; a.W = OW;
                a.OW = SH * W; a.YS = SW * C; a.SH = 1; a.oh0 = i; a.oh1 = i + nr;
                a.KH = pt.nth[rh]; a.KW = pt.ntw[rw]; a.SW = 1;
                a.DH = pt.nth[rh] > 1 ? oh[pt.nth[rh] - 2] - oh[pt.nth[rh] - 1] : 1;
                a.DW = pt.ntw[rw] > 1 ? ow[pt.ntw[rw] - 2] - ow[pt.ntw[rw] - 1] : 1;
                a.PL = -ow[pt.ntw[rw] - 1];
                a.PT = -oh[pt.nth[rh] - 1]; /* phase row r: kernel row 0 at gy row r + oh[last] */
                a.ow0 = 0; a.ow1 = nw;
                a.c0 = 0; a.c1 = C;
                a.flags = 0;
                kern(&a);
            }
        }
    }
    fc_free(sw.slots); fc_free(wpk); fc_free(tabs);
    return FC_OK;
}

/* ------------------------------------------------------------------------ */
/* grad input, depthwise NCHW: whole gx rows from padded grad_output rows   */

#define FC_GI_DWN_SCRATCH_BYTES ((int64_t)2 << 20) /* padded gy plane per thread */
typedef void (*FC_FN(fc_dwgx_fn))(size_t rows, size_t nd, size_t sw, const size_t *nt, size_t ts,
                                  const FC_T *const *src, size_t s_rs, const FC_T *wt, FC_T bias,
                                  FC_T *dst, size_t d_rs);

/* Depthwise (C/G == K/G == 1) NCHW grad input. An item is one (image,
 * channel): its grad_output plane is copied once into a zero-margined
 * per-thread plane (so no tap needs a bound check), then one dwgradx call per
 * row phase writes that phase's gx rows whole, its column phases interleaved
 * in registers (planar's per-phase planes and strided scatter of gx cost more
 * than the arithmetic: stride 2 ran at 6 GF/s). Each gx row is written by one
 * item in a fixed order: the result does not depend on the threads.
 * FC_EINVAL (before any work) when the plane exceeds the scratch budget. */
static int FC_FN(fc_gi_dw_nchw)(const fc_conv_geom *g, const FC_T *gy, const FC_T *w,
                                const FC_T *bias, FC_T *gx, int isa, int nthreads) {
    const fc_kernel_info *ki = fc_kernel_select("dwgradx", FC_DT, isa);
    if (ki == NULL) return FC_EINVAL;
    const FC_FN(fc_dwgx_fn) kern = (FC_FN(fc_dwgx_fn))ki->fn;
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    const int64_t KH = g->KH, KW = g->KW, SH = g->SH, SW = g->SW;
    const int64_t KS = KH * KW;
    fc_phase_tables pt;
    int64_t *tabs = fc_phase_tables_make(g, SW, &pt);
    if (tabs == NULL) return FC_ENOMEM;
    int64_t *rwq = pt.rest;
    /* margins: every (phase pixel, tap) pair reads inside the padded plane */
    int64_t mt = 0, mb = 0, ml = 0, mr = 0;
    for (int64_t r = 0; r < SH; r++)
        for (int64_t t = 0; t < pt.nth[r] && pt.nih[r] > 0; t++) {
            mt = fc_max64(mt, -pt.ohoff[r * KH + t]);
            mb = fc_max64(mb, pt.nih[r] - 1 + pt.ohoff[r * KH + t] - (OH - 1));
        }
    for (int64_t r = 0; r < SW; r++) {
        rwq[r] = -1;
        for (int64_t t = 0; t < pt.ntw[r] && pt.niw[r] > 0; t++) {
            ml = fc_max64(ml, -pt.owoff[r * KW + t]);
            mr = fc_max64(mr, pt.niw[r] - 1 + pt.owoff[r * KW + t] - (OW - 1));
        }
    }
    /* column phase q holds gx columns q, q + SW, ..: i0 is a permutation */
    for (int64_t r = 0; r < SW; r++)
        if (pt.iw0[r] < SW) rwq[pt.iw0[r]] = r;
    const int64_t Wg = ml + OW + mr, Hg = mt + OH + mb, psz = Hg * Wg;
    if (psz * (int64_t)sizeof(FC_T) > FC_GI_DWN_SCRATCH_BYTES) {
        fc_free(tabs);
        return FC_EINVAL;
    }
    /* per thread: the plane, then [SW][KS] tap pointers, weights and counts */
    const int64_t tsz = psz + SW * KS;
    FC_T *tsc = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(nthreads * tsz));
    const FC_T **tsrc = (const FC_T **)fc_alloc(sizeof(FC_T *) * (size_t)(nthreads * SW * KS));
    size_t *tnt = (size_t *)fc_alloc(sizeof(size_t) * (size_t)(nthreads * SW));
    fc_steal_slot *slots = fc_steal_new(N * C, nthreads);
    if (tsc == NULL || tsrc == NULL || tnt == NULL || slots == NULL) {
        fc_free(tsc); fc_free((void *)tsrc); fc_free(tnt); fc_free(tabs); fc_free(slots);
        return FC_ENOMEM;
    }

#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        const int tid = FC_THREAD_ID();
        FC_T *pl = tsc + (int64_t)tid * tsz, *wt = pl + psz;
        const FC_T **src = tsrc + (int64_t)tid * SW * KS;
        size_t *nt = tnt + (int64_t)tid * SW;
        memset(pl, 0, sizeof(FC_T) * (size_t)psz); /* margins stay zero */
        /* a contiguous share of the planes per thread, then stealing: one
           read and one write stream each (see fc_gw_planes) */
        for (int64_t it; (it = fc_steal_next(slots, nthreads, tid)) >= 0;) {
            const int64_t n = it / C, c = it % C;
            const FC_T *gp = gy + it * OH * OW, *wc = w + c * KS;
            const FC_T b = bias != NULL ? bias[c] : (FC_T)0;
            for (int64_t r = 0; r < OH; r++)
                memcpy(pl + (mt + r) * Wg + ml, gp + r * OW, sizeof(FC_T) * (size_t)OW);
            for (int64_t rh = 0; rh < SH; rh++) {
                if (pt.nih[rh] == 0) continue;
                for (int64_t q = 0; q < SW; q++) {
                    const int64_t rw = rwq[q];
                    nt[q] = 0;
                    if (rw < 0) continue;
                    for (int64_t th = 0; th < pt.nth[rh]; th++)
                        for (int64_t tw = 0; tw < pt.ntw[rw]; tw++) {
                            src[q * KS + nt[q]] = pl + (mt + pt.ohoff[rh * KH + th]) * Wg + ml +
                                                  pt.owoff[rw * KW + tw];
                            wt[q * KS + nt[q]++] = wc[pt.tph[rh * KH + th] * KW + pt.tpw[rw * KW + tw]];
                        }
                }
                kern((size_t)pt.nih[rh], (size_t)W, (size_t)SW, nt, (size_t)KS, src, (size_t)Wg, wt,
                     b, gx + ((n * C + c) * H + pt.ih0[rh]) * W, (size_t)(SH * W));
            }
        }
    }
    fc_free(tsc); fc_free((void *)tsrc); fc_free(tnt); fc_free(tabs); fc_free(slots);
    return FC_OK;
}

/* ------------------------------------------------------------------------ */
/* grad input, 1x1 strided NHWC: a GEMM into the hit pixels, zeros elsewhere */

#define FC_GI_PW_KC 256 /* filters per accumulate pass: an a row of 1 KiB */

/* 1x1, unpadded, stride above 1, NHWC: input pixel (oh*SH, ow*SW) is
 * sum_k gy[oh][ow][k] w[k][c] and every other pixel is the bias (zero). One
 * strided-GEMM call (gemm.h) per tile of MR pixels along one grad_output row:
 * a = grad_output rows read in place (lda K), b = the weights ([Kg][Cg] is
 * already k-major: no flip; packed into NR-wide panels), y = gx with row
 * stride SW*C, so nothing goes through a buffer (the igemm path wrote the
 * hit pixels to a tile buffer then copied them, and filled the other 3/4 of
 * gx 256 B at a time: 29% of peak for 1x1 256->128 s2 @56). Items are
 * (image, grad_output row): the SH input rows it owns are filled (the
 * unhit ones with whole-row stores), then each channel block's b panel
 * sweeps the row's tiles from L1. FC_EINVAL where it does not apply or the
 * row tiles would pad more than a fifth of the work. Reduction order: filter
 * chunks in order, fixed by the geometry. */
static int FC_FN(fc_gi_pointwise)(const fc_conv_geom *g, const FC_T *gy, const FC_T *w,
                                  const FC_T *bias, FC_T *gx, int isa, int nthreads) {
    if (g->layout != FC_NHWC || g->KH != 1 || g->KW != 1 || (g->SH == 1 && g->SW == 1) ||
        g->PT != 0 || g->PL != 0 || g->PB != 0 || g->PR != 0 || g->N < 1)
        return FC_EINVAL;
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, K = g->K, OH = g->OH, OW = g->OW;
    const int64_t SH = g->SH, SW = g->SW, G = g->G, Cg = C / G, Kg = K / G;
    /* the tile padding the (OW x Cg) row GEMMs least */
    int64_t best = 0;
    const fc_kernel_info *ki = fc_gemm_pick(FC_DT, isa, OW, Cg, &best);
    if (ki == NULL || 5 * best > 6 * OW * Cg) return FC_EINVAL;
    const FC_GEMM_FN kern = (FC_GEMM_FN)ki->fn;
    const int64_t MR = ki->mr, NR = ki->nr, CB = fc_cdiv(Cg, NR);
    const int64_t nkc = fc_cdiv(Kg, FC_GI_PW_KC), kcb = fc_cdiv(Kg, nkc);
    /* bias per group padded to CB*NR columns (every kernel column readable) */
    FC_T *bp = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(G * CB * NR + MR * kcb * nthreads));
    if (bp == NULL) return FC_ENOMEM;
    for (int64_t gg = 0; gg < G; gg++)
        for (int64_t c = 0; c < CB * NR; c++)
            bp[gg * CB * NR + c] = (bias != NULL && c < Cg) ? bias[gg * Cg + c] : (FC_T)0;
    FC_T *arows_all = bp + G * CB * NR;
    /* weights packed into panels wp[gg][cb][k][NR] (zeros past Cg): read in
     * place, a panel's rows were Cg apart, each on its own 4 KiB page at 1024
     * channels, which the hardware prefetchers do not cross */
    FC_T *wp = (FC_T *)fc_ws_take(sizeof(FC_T) * (size_t)(G * CB * Kg * NR));
    if (wp == NULL) {
        fc_free(bp);
        return FC_ENOMEM;
    }
#if FC_HAVE_OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t q = 0; q < G * CB * Kg; q++) {
        const int64_t k = q % Kg, cb = q / Kg % CB, gg = q / (Kg * CB);
        const int64_t c0 = cb * NR, nr = fc_min64(NR, Cg - c0);
        FC_T *d = wp + q * NR;
        memcpy(d, w + (gg * Kg + k) * Cg + c0, sizeof(FC_T) * (size_t)nr);
        for (int64_t c = nr; c < NR; c++) d[c] = 0;
    }
    const int64_t rows = N * OH;
#if FC_HAVE_OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1)
#endif
    for (int64_t r = 0; r < rows; r++) {
        const int64_t n = r / OH, oh = r % OH;
        /* the last tile of the batch reads a rows past grad_output: copied */
        FC_T *arows = arows_all + (int64_t)FC_THREAD_ID() * MR * kcb;
        const int64_t ih0 = oh * SH, ih1 = oh == OH - 1 ? H : ih0 + SH;
        /* unhit pixels: the rest of row ih0, then the rows after it */
        for (int64_t ih = ih0; ih < ih1; ih++) {
            FC_T *row = gx + (n * H + ih) * W * C;
            for (int64_t iw = 0; iw < W; iw++) {
                if (ih == ih0 && iw % SW == 0) continue;
                if (bias == NULL) {
                    if (ih > ih0) {
                        memset(row, 0, sizeof(FC_T) * (size_t)(W * C));
                        break;
                    }
                    memset(row + iw * C, 0, sizeof(FC_T) * (size_t)C);
                } else {
                    memcpy(row + iw * C, bias, sizeof(FC_T) * (size_t)C);
                }
            }
        }
        const FC_T *gyr = gy + r * OW * K;
        const FC_T *gyend = gy + N * OH * OW * K;
        FC_T *gxr = gx + (n * H + ih0) * W * C;
        for (int64_t gg = 0; gg < G; gg++)
            for (int64_t cb = 0; cb < CB; cb++) {
                const int64_t c0 = cb * NR, nr = fc_min64(NR, Cg - c0);
                for (int64_t k0 = 0; k0 < Kg; k0 += kcb) {
                    const int64_t kc = fc_min64(kcb, Kg - k0);
                    const FC_T *b = wp + ((gg * CB + cb) * Kg + k0) * NR;
                    for (int64_t ow = 0; ow < OW; ow += MR) {
                        const int64_t mr = fc_min64(MR, OW - ow);
                        const FC_T *a = gyr + ow * K + gg * Kg + k0;
                        size_t lda = (size_t)K;
                        if (a + (MR - 1) * K + kc > gyend) {
                            for (int64_t m = 0; m < MR; m++) {
                                if (m < mr) memcpy(arows + m * kc, a + m * K, sizeof(FC_T) * (size_t)kc);
                                else memset(arows + m * kc, 0, sizeof(FC_T) * (size_t)kc);
                            }
                            a = arows;
                            lda = (size_t)kc;
                        }
                        kern((size_t)mr, (size_t)nr, (size_t)kc, a, lda, b, (size_t)NR, b,
                             bp + (gg * CB + cb) * NR, gxr + ow * SW * C + gg * Cg + c0,
                             (size_t)(SW * C), k0 == 0 ? 0u : FC_FLAG_ACCUMULATE);
                    }
                }
            }
    }
    fc_ws_give(wp);
    fc_free(bp);
    return FC_OK;
}

/* ------------------------------------------------------------------------ */
/* grad input, stride 1, weight-heavy and pixel-poor: pixel-major igemm     */

#define FC_GI_PIX_SHARED_BYTES ((int64_t)6 << 20) /* all tiles' panels, shared */

/* Whether the pixel-major path below takes this stride-1 grad input: many
 * channels (the igemm rows are input channels, the reduction Kg x taps) and
 * few input pixels per weight, where packing the weights (as the igemm path
 * does, or conv2d after a flip) costs as much as the arithmetic. */
static int FC_FN(fc_gi_pixels_ok)(const fc_conv_geom *g, int64_t NR) {
    const int64_t Cg = g->C / g->G, Kg = g->K / g->G, KS = g->KH * g->KW;
    const int64_t P = g->H * g->W, Pp = fc_cdiv(P, NR) * NR;
    if (g->SH != 1 || g->SW != 1 || Cg < 64 || Kg * KS < 64) return 0;
    if (g->N * g->G * Pp * Kg * KS * (int64_t)sizeof(FC_T) > FC_GI_PIX_SHARED_BYTES) return 0;
    return g->N * Pp <= FC_GI_PIX_MAX;
}

/* gx[c][p] = bias[c] + sum_{k, t} w[k][c][t] * gy[k][p + off_t] (stride 1:
 * input pixel (ih, iw) meets tap (kh, kw) at grad_output (ih + PT - kh*DH,
 * iw + PL - kw*DW)), input pixels along the igemm kernel's NR axis and input
 * channels as its rows. Row c's pointer for "tap" k is w + (k*Cg + c)*KS,
 * whose KS values meet the panel's [k][t][NR] im2col of grad_output: the
 * weights are read in place, once per pixel tile, and neither flipped nor
 * transposed nor packed. The panels of all tiles are built once into a
 * shared buffer, then items (image, group, tile, chunk of input channels)
 * sweep blocks of FC_GI_PIX_KB filters, each over all the chunk's channel
 * tiles, accumulating into gx (NCHW) or a per-thread [c][NR] buffer
 * transposed into gx (NHWC). Block-outer order reads each filter's (c, t)
 * weights sequentially, FC_GI_PIX_KB streams at once, which the hardware
 * prefetches (tile-outer order jumped 4 pages per filter: latency-bound at
 * 3 GB/s from memory). */
static int FC_FN(fc_gi_pixels)(const fc_conv_geom *g, const fc_kernel_info *ki, const FC_T *gy,
                               const FC_T *w, const FC_T *bias, FC_T *gx, int nthreads) {
    const FC_IGEMM_FN kern = (FC_IGEMM_FN)ki->fn;
    const int64_t MR = ki->mr, NR = ki->nr;
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, K = g->K, OH = g->OH, OW = g->OW;
    const int64_t KH = g->KH, KW = g->KW, KS = KH * KW, G = g->G, Cg = C / G, Kg = K / G;
    const int64_t P = H * W, ntile = fc_cdiv(P, NR);
    const int nhwc = g->layout == FC_NHWC;
    const int64_t kcb = FC_GI_PIX_KB, nkb = fc_cdiv(Kg, kcb);
    const int64_t tpanel = Kg * KS * NR, npan = N * G * ntile;
    /* channel chunks (multiples of MR): enough items for the threads */
    int64_t ncc = 1;
    while (ncc * MR < Cg && npan * ncc < FC_GI_PIX_ITEMS * (int64_t)nthreads) ncc *= 2;
    const int64_t cch = fc_cdiv(fc_cdiv(Cg, ncc), MR) * MR;
    ncc = fc_cdiv(Cg, cch);
    FC_T *pan = (FC_T *)fc_ws_take(sizeof(FC_T) * (size_t)(npan * tpanel)); /* up to 6 MB */
    FC_T *zeros = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)NR);
    FC_T *tob = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(nthreads * cch * NR));
    const FC_T **tind = (const FC_T **)fc_alloc(sizeof(FC_T *) * (size_t)(nthreads * MR * kcb));
    int64_t *toff = (int64_t *)fc_alloc(sizeof(int64_t) * (size_t)(nthreads * KS * 3 * (NR + 1)));
    if (pan == NULL || zeros == NULL || tob == NULL || tind == NULL || toff == NULL) {
        fc_ws_give(pan); fc_free(zeros); fc_free(tob); fc_free((void *)tind); fc_free(toff);
        return FC_ENOMEM;
    }
    memset(zeros, 0, sizeof(FC_T) * (size_t)NR);
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        const int tid = FC_THREAD_ID();
        /* runs[t][r] = (first tile pixel, length, grad_output pixel of the
           first), the pixels of one input row whose tap-t pixels lie inside;
           nrun[t] of them; every other panel column is zero */
        int64_t *runs = toff + (int64_t)tid * KS * 3 * (NR + 1), *nrun = runs + KS * 3 * NR;
        const FC_T **ind = tind + (int64_t)tid * MR * kcb;
        FC_T *ob = tob + (int64_t)tid * cch * NR;
        /* panels: pan[n][gg][tile][k][t][NR], items (image, group, tile, filter block) */
#if FC_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int64_t it = 0; it < npan * nkb; it++) {
            const int64_t q = it / nkb, kb = it % nkb;
            const int64_t tl = q % ntile, gg = (q / ntile) % G, n = q / (ntile * G);
            const int64_t p0 = tl * NR, np = fc_min64(NR, P - p0);
            const int64_t k0 = kb * kcb, kc = fc_min64(kcb, Kg - k0);
            FC_T *d = pan + q * tpanel + k0 * KS * NR;
            for (int64_t t = 0; t < KS; t++) {
                const int64_t dh = g->PT - (t / KW) * g->DH, dw = g->PL - (t % KW) * g->DW;
                /* columns iw in [lo, hi) have ow = iw + dw inside */
                const int64_t lo = fc_max64(0, -dw), hi = fc_min64(W, OW - dw);
                int64_t *rt = runs + t * 3 * NR, cnt = 0;
                for (int64_t pr = p0; pr < p0 + np;) {
                    const int64_t ih = pr / W, pe = fc_min64((ih + 1) * W, p0 + np);
                    const int64_t oh = ih + dh, a = fc_max64(pr, ih * W + lo);
                    const int64_t b = fc_min64(pe, ih * W + hi);
                    if (oh >= 0 && oh < OH && b > a) {
                        rt[3 * cnt] = a - p0;
                        rt[3 * cnt + 1] = b - a;
                        rt[3 * cnt + 2] = oh * OW + (a - ih * W) + dw;
                        cnt++;
                    }
                    pr = pe;
                }
                nrun[t] = cnt;
            }
            for (int64_t k = 0; k < kc; k++)
                for (int64_t t = 0; t < KS; t++) memset(d + (k * KS + t) * NR, 0, sizeof(FC_T) * (size_t)NR);
            if (!nhwc) {
                const FC_T *gyk = gy + (n * K + gg * Kg + k0) * OH * OW;
                for (int64_t k = 0; k < kc; k++)
                    for (int64_t t = 0; t < KS; t++) {
                        FC_T *dk = d + (k * KS + t) * NR;
                        const int64_t *rt = runs + t * 3 * NR;
                        for (int64_t r = 0; r < nrun[t]; r++) {
                            const FC_T *s = gyk + k * OH * OW + rt[3 * r + 2];
                            FC_T *dr = dk + rt[3 * r];
                            for (int64_t e = 0; e < rt[3 * r + 1]; e++) dr[e] = s[e];
                        }
                    }
            } else {
                /* pixel-major grad_output: kc filters of each pixel are
                   contiguous, scattered KS*NR apart into the block (which
                   stays in L1: kc*KS*NR values) */
                const FC_T *gyn = gy + n * OH * OW * K + gg * Kg + k0;
                for (int64_t t = 0; t < KS; t++) {
                    const int64_t *rt = runs + t * 3 * NR;
                    for (int64_t r = 0; r < nrun[t]; r++)
                        for (int64_t e = 0; e < rt[3 * r + 1]; e++) {
                            const FC_T *s = gyn + (rt[3 * r + 2] + e) * K;
                            FC_T *dj = d + t * NR + rt[3 * r] + e;
                            for (int64_t k = 0; k < kc; k++) dj[k * KS * NR] = s[k];
                        }
                }
            }
        }
        /* implicit barrier: every panel built */
#if FC_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int64_t it = 0; it < npan * ncc; it++) {
            /* the tiles of one channel chunk in a row: its weights stay in L2 */
            const int64_t q = it % npan, cc = it / npan;
            const int64_t tl = q % ntile, gg = (q / ntile) % G, n = q / (ntile * G);
            const int64_t p0 = tl * NR, np = fc_min64(NR, P - p0);
            const int64_t c0 = cc * cch, c1 = fc_min64(Cg, c0 + cch);
            /* both layouts accumulate into the aligned [c][NR] buffer (NCHW
               rows of 49 pixels in place: every pass over them unaligned,
               1.1-1.2x the time), copied or transposed into gx at the end */
            FC_T *yt = ob - c0 * NR;
            const int64_t ys = NR;
            if (bias != NULL)
                for (int64_t c = c0; c < c1; c++)
                    for (int64_t j = 0; j < np; j++) yt[c * ys + j] = bias[gg * Cg + c];
            for (int64_t kb = 0; kb < nkb; kb++) {
                const int64_t k0 = kb * kcb, kc = fc_min64(kcb, Kg - k0);
                const FC_T *pk = pan + q * tpanel + k0 * KS * NR;
                const uint32_t flags = (bias != NULL || kb > 0) ? FC_FLAG_ACCUMULATE : 0u;
                for (int64_t c = c0; c < c1; c += MR) {
                    const int64_t mr = fc_min64(MR, c1 - c);
                    const FC_T *wc = w + ((gg * Kg + k0) * Cg + c) * KS;
                    for (int64_t k = 0; k < kc; k++)
                        for (int64_t m = 0; m < MR; m++)
                            ind[k * MR + m] = wc + (k * Cg + (m < mr ? m : 0)) * KS;
                    kern((size_t)mr, (size_t)np, (size_t)KS, (size_t)kc, ind, pk, zeros,
                         yt + c * ys, (size_t)ys, flags);
                }
            }
            if (nhwc)
                for (int64_t j = 0; j < np; j++) {
                    FC_T *d = gx + (n * P + p0 + j) * C + gg * Cg;
                    for (int64_t c = c0; c < c1; c++) d[c] = ob[(c - c0) * NR + j];
                }
            else
                for (int64_t c = c0; c < c1; c++)
                    memcpy(gx + (n * C + gg * Cg + c) * P + p0, ob + (c - c0) * NR,
                           sizeof(FC_T) * (size_t)np);
        }
    }
    fc_ws_give(pan); fc_free(zeros); fc_free(tob); fc_free((void *)tind); fc_free(toff);
    return FC_OK;
}

/* The write-out of a 1x1 unpadded strided NCHW grad input computed densely
 * (the forward pointwise GEMM with the transposed weight, fastconv/conv_grad.py):
 * the phase igemm wrote each gx line in SH*SW separate items, 4x slower there */
int FC_FN(fc_expand_strided)(int64_t planes, int64_t OH, int64_t OW, int64_t H, int64_t W,
                             int64_t SH, int64_t SW, const FC_T *d, FC_T *gx, int nthreads) {
    if (planes < 0 || OH < 1 || OW < 1 || SH < 1 || SW < 1 || (OH - 1) * SH >= H ||
        (OW - 1) * SW >= W || nthreads < 1 || (planes > 0 && (d == NULL || gx == NULL)))
        return FC_EINVAL;
    const int64_t rows = planes * H;
#if FC_HAVE_OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t r = 0; r < rows; r++) {
        const int64_t ih = r % H, oh = ih / SH;
        FC_T *restrict dst = gx + r * W;
        if (ih % SH != 0 || oh >= OH) {
            memset(dst, 0, (size_t)W * sizeof(FC_T));
            continue;
        }
        const FC_T *restrict s = d + ((r / H) * OH + oh) * OW;
        if (SW == 2) {
            /* pairs (value, 0): one vectorised pass; OW >= W / 2 */
            for (int64_t i = 0; i < W / 2; i++) {
                dst[2 * i] = s[i];
                dst[2 * i + 1] = 0;
            }
            if (W % 2) dst[W - 1] = s[W / 2];
        } else {
            memset(dst, 0, (size_t)W * sizeof(FC_T));
            for (int64_t i = 0; i < OW; i++) dst[i * SW] = s[i];
        }
    }
    return FC_OK;
}

int FC_FN(fc_conv2d_grad_input)(const fc_conv_geom *g, const FC_T *gy, const FC_T *w,
                                const FC_T *bias, FC_T *gx, int isa, int nthreads) {
    if (!fc_conv_geom_ok(g) || nthreads < 1) return FC_EINVAL;
    if (g->N > 0 && g->layout == FC_NHWC && g->G == g->C && g->G == g->K) {
        const int st = FC_FN(fc_gi_dw_nhwc)(g, gy, w, bias, gx, isa, nthreads);
        if (st != FC_EINVAL) return st;
    }
    if (g->N > 0 && g->layout == FC_NCHW && g->G == g->C && g->G == g->K) {
        const int st = FC_FN(fc_gi_dw_nchw)(g, gy, w, bias, gx, isa, nthreads);
        if (st != FC_EINVAL) return st;
    }
    {
        const int st = FC_FN(fc_gi_pointwise)(g, gy, w, bias, gx, isa, nthreads);
        if (st != FC_EINVAL) return st;
    }
    if (g->N > 0) {
        const fc_kernel_info *kp = fc_kernel_select("igemm", FC_DT, isa);
        if (kp != NULL && FC_FN(fc_gi_pixels_ok)(g, kp->nr))
            return FC_FN(fc_gi_pixels)(g, kp, gy, w, bias, gx, nthreads);
    }
    if (g->N > 0 && g->C / g->G <= FC_GX_MAX_CG) {
        const int st = FC_FN(fc_gi_planar)(g, gy, w, bias, gx, isa, nthreads);
        if (st != FC_EINVAL) return st;
    }
    const fc_kernel_info *ki = FC_FN(fc_igemm_pick)(isa, g->C / g->G);
    const FC_TR_FN tr = FC_FN(fc_transposer)(isa);
    if (ki == NULL || tr == NULL) return FC_EINVAL;
    const FC_IGEMM_FN kern = (FC_IGEMM_FN)ki->fn;
    const int64_t MR = ki->mr, NR = ki->nr;
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, K = g->K, OH = g->OH, OW = g->OW;
    const int64_t KH = g->KH, KW = g->KW, SH = g->SH, SW = g->SW;
    const int64_t G = g->G;
    const int64_t Cg = C / G, Kg = K / G, CB = fc_cdiv(Cg, NR);
    const int nhwc = g->layout == FC_NHWC;
    if (N == 0) return FC_OK;

    /* Phase tables: taps of phase rh are the kh with kh*DH = rh (mod SH). */
    const int64_t NP = SH * SW;
    /* pixel i of phase rh reads grad_output row i + pt.ohoff[tap] (exact division) */
    fc_phase_tables pt;
    int64_t *tabs = fc_phase_tables_make(g, 3 * NP + 3, &pt);
    if (tabs == NULL) return FC_ENOMEM;
    int64_t *woff = pt.rest, *nblk = woff + NP + 1, *blkpre = nblk + NP;
    const int64_t PBLK = MR * FC_GI_TILES_PER_BLOCK;
    int64_t maxtaps = 1;
    woff[0] = 0;
    blkpre[0] = 0;
    for (int64_t p = 0; p < NP; p++) {
        const int64_t nt = pt.nth[p / SW] * pt.ntw[p % SW];
        maxtaps = fc_max64(maxtaps, nt);
        woff[p + 1] = woff[p] + G * CB * nt * Kg * NR;
        nblk[p] = fc_cdiv(pt.nih[p / SW] * pt.niw[p % SW], PBLK);
        blkpre[p + 1] = blkpre[p] + nblk[p] * G * CB;
    }
    const int64_t items_img = blkpre[NP];
    /* K-chunk so that one chunk's panel [taps][kc][NR] stays in L2 */
    int64_t kcb = FC_GI_PANEL_BYTES / (int64_t)sizeof(FC_T) / (maxtaps * NR);
    kcb = fc_max64(16, fc_min64(kcb, Kg));
    kcb = fc_min64(kcb, Kg);
    /* equal chunks: 128 channels as 113 + 15 paid a second accumulate pass
       and pointer build for an eighth of the work */
    kcb = fc_cdiv(Kg, fc_cdiv(Kg, kcb));

    /* NCHW grad_output is reordered to pixel-major, nb images at a time */
    const int64_t img = OH * OW * K;
    int64_t nb = nhwc ? N : fc_max64(1, fc_min64(N, ((int64_t)8 << 20) / (int64_t)sizeof(FC_T) / img));

    /* kept between calls (workspace.h): 2.4-9.4 MB for 256/512-channel 3x3 */
    FC_T *wp = (FC_T *)fc_ws_take(sizeof(FC_T) * (size_t)fc_max64(woff[NP], 1));
    FC_T *zero = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)Kg);
    FC_T *gyb = nhwc ? NULL : (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(nb * img));
    FC_T *tbuf = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(nthreads * (PBLK + 1) * NR));
    const FC_T **tind = (const FC_T **)fc_alloc(sizeof(FC_T *) * (size_t)(nthreads * MR * maxtaps));
    int64_t *tpoff = (int64_t *)fc_alloc(sizeof(int64_t) * (size_t)(nthreads * PBLK));
    if (wp == NULL || zero == NULL || (!nhwc && gyb == NULL) || tbuf == NULL || tind == NULL ||
        tpoff == NULL) {
        fc_ws_give(wp); fc_free(zero); fc_free(gyb); fc_free(tbuf); fc_free((void *)tind);
        fc_free(tpoff);
        fc_free(tabs);
        return FC_ENOMEM;
    }
    memset(zero, 0, sizeof(FC_T) * (size_t)Kg);

#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        const int tid = FC_THREAD_ID(), nt = FC_NUM_THREADS();
        int64_t b, e;
        /* pack weights: phase p, group gg, block cb -> chunks [taps][kc][NR].
           Items are (phase, group, run of filters) and walk w in memory order (k,
           then every c-block and tap of that k): the weights of one k stay
           in L1 while each tap takes its column, and w streams from memory
           once per phase (a c-block outer loop read it 4 KB apart, one page
           per row and no prefetch; a tap outer loop read it KH*KW times) */
        /* runs of FC_GI_PACK_K filters: a single K-chunk still splits */
        const int64_t nku = fc_cdiv(Kg, FC_GI_PACK_K);
        fc_split(NP * G * nku, nt, tid, &b, &e);
        for (int64_t i = b; i < e; i++) {
            const int64_t p = i / (G * nku), gg = (i / nku) % G, ku = (i % nku) * FC_GI_PACK_K;
            const int64_t rh = p / SW, rw = p % SW, ntp = pt.nth[rh] * pt.ntw[rw];
            if (ntp == 0) continue;
            for (int64_t kk = ku; kk < fc_min64(Kg, ku + FC_GI_PACK_K); kk++)
                for (int64_t cb = 0; cb < CB; cb++) {
                    /* filter kk is row k of chunk [k0, k0 + kc) */
                    const int64_t k0 = kk / kcb * kcb, kc = fc_min64(kcb, Kg - k0), k = kk - k0;
                    const int64_t nv = fc_min64(NR, Cg - cb * NR);
                    const FC_T *wk = w + ((gg * Kg + k0 + k) * Cg + cb * NR) * KH * KW;
                    FC_T *d = wp + woff[p] + (gg * CB + cb) * ntp * Kg * NR + (k0 * ntp + k) * NR;
                    if (ntp == KH * KW && ntp > 1) {
                        /* every tap, in OIHW order (stride 1): the nv filters'
                           [nv][taps] block transposed at once (element by
                           element, its stride-KH*KW reads were 1/6 of a
                           3x3 256->256 grad input) */
                        FC_FN(fc_transpose)(tr, wk, ntp, nv, ntp, d, kc * NR);
                        for (int64_t t = 0; t < ntp && nv < NR; t++)
                            memset(d + t * kc * NR + nv, 0, sizeof(FC_T) * (size_t)(NR - nv));
                        continue;
                    }
                    for (int64_t th = 0; th < pt.nth[rh]; th++)
                        for (int64_t tw = 0; tw < pt.ntw[rw]; tw++, d += kc * NR) {
                            const FC_T *wt = wk + pt.tph[rh * KH + th] * KW + pt.tpw[rw * KW + tw];
                            if (KH * KW == 1) {
                                memcpy(d, wt, sizeof(FC_T) * (size_t)nv);
                            } else {
                                for (int64_t n = 0; n < nv; n++) d[n] = wt[n * KH * KW];
                            }
                            for (int64_t n = nv; n < NR; n++) d[n] = 0;
                        }
                }
        }
        FC_T *buf = tbuf + (int64_t)tid * (PBLK + 1) * NR;
        FC_T *bb = buf + PBLK * NR; /* NR bias values of the current block */
        const FC_T **ind = tind + (int64_t)tid * MR * maxtaps;
        int64_t *poff = tpoff + (int64_t)tid * PBLK; /* ih*W + iw of the block's pixels */
        for (int64_t n0 = 0; n0 < N; n0 += nb) {
            const int64_t nbc = fc_min64(nb, N - n0);
#if FC_HAVE_OPENMP
#pragma omp barrier
#endif
            if (!nhwc) {
                /* 16 x 16 blocks: each touched line of the destination is filled
                   while still in L1 */
                const int64_t KB = fc_cdiv(K, 16);
                fc_split(nbc * KB, nt, tid, &b, &e);
                for (int64_t i = b; i < e; i++) {
                    const int64_t n = i / KB, kb0 = (i % KB) * 16, kb1 = fc_min64(kb0 + 16, K);
                    FC_FN(fc_transpose)(tr, gy + ((n0 + n) * K + kb0) * OH * OW, OH * OW, kb1 - kb0,
                                        OH * OW, gyb + n * img + kb0, K);
                }
#if FC_HAVE_OPENMP
#pragma omp barrier
#endif
            }
            const FC_T *gys = nhwc ? gy + n0 * img : gyb;
            /* dynamic: on a shared, noisy machine a descheduled thread must
               not hold the others up; each item's result is independent of
               the thread that computes it, so this stays deterministic */
#if FC_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
            for (int64_t i = 0; i < nbc * items_img; i++) {
                const int64_t nl = i / items_img;
                int64_t rem = i % items_img, p = 0;
                while (rem >= blkpre[p + 1]) p++;
                rem -= blkpre[p];
                /* item order within a phase: group, C-block, pixel block */
                const int64_t gg = rem / (CB * nblk[p]), cb = (rem / nblk[p]) % CB;
                const int64_t blk = rem % nblk[p];
                const int64_t rh = p / SW, rw = p % SW, nwp = pt.niw[rw];
                const int64_t ntp = pt.nth[rh] * pt.ntw[rw];
                const int64_t q0 = blk * PBLK, q1 = fc_min64(q0 + PBLK, pt.nih[rh] * nwp);
                const int64_t c0 = cb * NR, nr = fc_min64(NR, Cg - c0);
                const int64_t n = n0 + nl;
                const FC_T *gyn = gys + nl * img + gg * Kg;
                for (int64_t q = q0, pi = q0 / nwp, pj = q0 % nwp; q < q1; q++) {
                    poff[q - q0] = (pt.ih0[rh] + pi * SH) * W + pt.iw0[rw] + pj * SW;
                    if (++pj == nwp) {
                        pj = 0;
                        pi++;
                    }
                }
                for (int64_t j = 0; j < NR; j++)
                    bb[j] = (bias != NULL && j < nr) ? bias[gg * Cg + c0 + j] : (FC_T)0;
                if (ntp == 0) {
                    for (int64_t q = q0; q < q1; q++)
                        for (int64_t j = 0; j < NR; j++) buf[(q - q0) * NR + j] = bb[j];
                } else {
                    const FC_T *wpanel = wp + woff[p] + (gg * CB + cb) * ntp * Kg * NR;
                    for (int64_t k0 = 0; k0 < Kg; k0 += kcb) {
                        const int64_t kc = fc_min64(kcb, Kg - k0);
                        for (int64_t qt = q0; qt < q1; qt += MR) {
                            const int64_t mr = fc_min64(MR, q1 - qt);
                            for (int64_t m = 0; m < MR; m++) {
                                const int64_t q = qt + (m < mr ? m : 0);
                                const int64_t pi = q / nwp, pj = q % nwp;
                                for (int64_t th = 0; th < pt.nth[rh]; th++) {
                                    const int64_t oh = pi + pt.ohoff[rh * KH + th];
                                    const int ok_h = oh >= 0 && oh < OH;
                                    const int64_t roff = oh * OW * K + k0;
                                    const FC_T **it = ind + th * pt.ntw[rw] * MR + m;
                                    for (int64_t tw = 0; tw < pt.ntw[rw]; tw++) {
                                        const int64_t ow = pj + pt.owoff[rw * KW + tw];
                                        it[tw * MR] = (ok_h && ow >= 0 && ow < OW)
                                            ? gyn + roff + ow * K : zero;
                                    }
                                }
                            }
                            kern((size_t)mr, (size_t)nr, (size_t)kc, (size_t)ntp, ind,
                                 wpanel + k0 * ntp * NR, bb, buf + (qt - q0) * NR, (size_t)NR,
                                 k0 == 0 ? 0u : FC_FLAG_ACCUMULATE);
                        }
                    }
                }
                /* write the block out in the caller's layout */
                if (nhwc) {
                    for (int64_t q = q0; q < q1; q++)
                        memcpy(gx + (n * H * W + poff[q - q0]) * C + gg * Cg + c0,
                               buf + (q - q0) * NR, sizeof(FC_T) * (size_t)nr);
                } else if (SH == 1 && SW == 1) {
                    /* one phase: the block's pixels are consecutive in each plane */
                    FC_FN(fc_transpose)(tr, buf, NR, q1 - q0, nr,
                                        gx + (n * C + gg * Cg + c0) * H * W + poff[0], H * W);
                } else {
                    for (int64_t j = 0; j < nr; j++) {
                        FC_T *d = gx + (n * C + gg * Cg + c0 + j) * H * W;
                        for (int64_t q = q0; q < q1; q++) d[poff[q - q0]] = buf[(q - q0) * NR + j];
                    }
                }
            }
        }
    }
    fc_ws_give(wp); fc_free(zero); fc_free(gyb); fc_free(tbuf); fc_free((void *)tind);
    fc_free(tpoff); fc_free(tabs);
    return FC_OK;
}

/* ------------------------------------------------------------------------ */
/* grad weight + grad bias                                                  */

/* Sum of a[0..n) in four interleaved chains, combined in a fixed order
 * (grad bias: a single chain is one dependent add per value). */
static inline FC_T FC_FN(fc_sum4)(const FC_T *a, int64_t n) {
    FC_T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t q = 0;
    for (; q + 4 <= n; q += 4) {
        s0 += a[q];
        s1 += a[q + 1];
        s2 += a[q + 2];
        s3 += a[q + 3];
    }
    for (; q < n; q++) s0 += a[q];
    return (s0 + s1) + (s2 + s3);
}

/* The gradw kernel of the best ISA level allowed whose tile wastes least on
 * Kg rows x J columns: narrow tiles for tiny channel counts (LeNet, RGB
 * stems); its useful share of the tile in *share. */
static const fc_kernel_info *FC_FN(fc_gradw_pick)(int isa, int64_t Kg, int64_t J, double *share) {
    const fc_kernel_info *best = NULL;
    double best_score = -1.0;
    const int top = fc_top_isa("gradw", FC_DT, isa);
    for (size_t i = 0; i < fc_num_kernels; i++) {
        const fc_kernel_info *k = &fc_kernels[i];
        if (strcmp(k->op, "gradw") != 0 || strcmp(k->dtype, FC_DT) != 0 || k->isa != top)
            continue;
        const double score = (double)Kg / (double)(fc_cdiv(Kg, k->mr) * k->mr) *
                             (double)J / (double)(fc_cdiv(J, k->nr) * k->nr);
        if (score > best_score + 1e-9) {
            best = k;
            best_score = score;
        }
    }
    *share = best_score;
    return best;
}

/* One dwgradw call per chunk of at most MT taps of [t0, t0 + nt): rows x cols
 * pixels from output pixel gyp / input pixel xp (NHWC, in place), tap t at
 * xp + off[t] - off[t0] (inside the input for these pixels). */
static void FC_FN(fc_gw_dw_taps)(FC_DWGRADW_FN kern, int64_t MT, int64_t rows, int64_t cols,
                                 int64_t t0, int64_t nt, int64_t nc, const FC_T *gyp,
                                 int64_t gcs, int64_t grs, const FC_T *xp, int64_t xcs,
                                 int64_t xrs, const int64_t *off, FC_T *a, int64_t Cp) {
    int64_t loc[32];
    for (int64_t u = t0; u < t0 + nt; u += 32 < MT ? 32 : MT) {
        const int64_t m = fc_min64(fc_min64(MT, 32), t0 + nt - u);
        for (int64_t j = 0; j < m; j++) loc[j] = off[u + j] - off[t0];
        kern((size_t)rows, (size_t)cols, (size_t)m, (size_t)nc, gyp, (size_t)gcs, (size_t)grs, xp,
             (size_t)xcs, (size_t)xrs, loc, a + u * Cp, (size_t)Cp);
    }
}

/* Depthwise grad weight, NHWC: grad_output and the input read in place,
 * channels in the vector lanes, one accumulator row per tap. Output pixels
 * whose every tap lies inside the input go in one call per band of rows and
 * chunk of taps; the pixels of the border rows and columns with the taps that
 * are inside (per kernel row: a run of kernel columns). A band's channel
 * blocks run one after the other while its input rows are in L2. Items are
 * (part of the rows, group of channel blocks), each part with its own
 * accumulators, summed in part order: the result depends only on the thread
 * count. */
static int FC_FN(fc_gw_dw_nhwc)(const fc_conv_geom *g, const FC_T *gy, const FC_T *x, FC_T *gw,
                                FC_T *gb, int isa, int nthreads) {
    const fc_kernel_info *ki = fc_kernel_select("dwgradw", FC_DT, isa);
    if (ki == NULL) return FC_EINVAL;
    const FC_DWGRADW_FN kern = (FC_DWGRADW_FN)ki->fn;
    const int64_t MT = ki->mr, NR = ki->nr;
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    const int64_t KH = g->KH, KW = g->KW, SH = g->SH, SW = g->SW, DH = g->DH, DW = g->DW;
    const int64_t PT = g->PT, PL = g->PL, T = KH * KW;
    const int64_t CBn = fc_cdiv(C, NR), Cp = CBn * NR;
    /* parts of the N*OH rows x groups of channel blocks: about 4 items per thread */
    const int64_t P = fc_max64(1, fc_min64(N * OH, 4 * (int64_t)nthreads));
    /* CG recomputed from CPG: cdiv rounding could leave groups past the last block */
    const int64_t CPG = fc_cdiv(CBn, fc_min64(CBn, fc_cdiv(4 * (int64_t)nthreads, P)));
    const int64_t CG = fc_cdiv(CBn, CPG);
    /* rows per band: its input rows (all channels) about FC_GX_PLANES_BYTES */
    const int64_t xrow = W * C * (int64_t)sizeof(FC_T);
    const int64_t BR = fc_max64(1, (FC_GX_PLANES_BYTES / xrow - (KH - 1) * DH) / SH);
    /* output rows / columns whose taps are all inside the input */
    const int64_t oha = fc_min64(OH, fc_cdiv(PT, SH));
    const int64_t ohb = fc_max64(oha, fc_min64(OH, fc_fdiv(H - 1 - (KH - 1) * DH + PT, SH) + 1));
    const int64_t owa = fc_min64(OW, fc_cdiv(PL, SW));
    const int64_t owb = fc_max64(owa, fc_min64(OW, fc_fdiv(W - 1 - (KW - 1) * DW + PL, SW) + 1));
    FC_T *acc = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(P * (T + 1) * Cp));
    int64_t *off = (int64_t *)fc_alloc(sizeof(int64_t) * (size_t)T);
    if (acc == NULL || off == NULL) {
        fc_free(acc); fc_free(off);
        return FC_ENOMEM;
    }
    for (int64_t kh = 0; kh < KH; kh++)
        for (int64_t kw = 0; kw < KW; kw++) off[kh * KW + kw] = (kh * DH * W + kw * DW) * C;

#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        int64_t b, e;
#if FC_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int64_t it = 0; it < P * CG; it++) {
            const int64_t part = it / CG, cb0 = (it % CG) * CPG, cb1 = fc_min64(CBn, cb0 + CPG);
            FC_T *a = acc + part * (T + 1) * Cp;
            for (int64_t t = 0; t <= T; t++)
                memset(a + t * Cp + cb0 * NR, 0, sizeof(FC_T) * (size_t)((cb1 - cb0) * NR));
            int64_t r0, r1;
            fc_split(N * OH, (int)P, (int)part, &r0, &r1);
            for (int64_t r = r0; r < r1;) {
                const int64_t n = r / OH, oh0 = r % OH;
                /* a band stays on one side of each interior row boundary */
                int64_t oh1 = fc_min64(fc_min64(OH, oh0 + BR), oh0 + r1 - r);
                if (oh0 < oha) oh1 = fc_min64(oh1, oha);
                else if (oh0 < ohb) oh1 = fc_min64(oh1, ohb);
                r += oh1 - oh0;
                const FC_T *gyn = gy + n * OH * OW * C, *xn = x + n * H * W * C;
                for (int64_t cb = cb0; cb < cb1; cb++) {
                    const int64_t c0 = cb * NR, nc = fc_min64(NR, C - c0);
                    FC_T *ac = a + c0;
                    if (gb != NULL) {
                        FC_T *ga = ac + T * Cp;
                        for (int64_t q = oh0 * OW; q < oh1 * OW; q++)
                            for (int64_t c = 0; c < nc; c++) ga[c] += gyn[q * C + c0 + c];
                    }
                    if (gw == NULL) continue;
                    if (oh0 >= oha && oh0 < ohb) {
                        /* interior rows: every kernel row inside */
                        const int64_t ih = oh0 * SH - PT, rows = oh1 - oh0;
                        if (owb > owa)
                            FC_FN(fc_gw_dw_taps)(kern, MT, rows, owb - owa, 0, T, nc,
                                                 gyn + (oh0 * OW + owa) * C + c0, C, OW * C,
                                                 xn + (ih * W + owa * SW - PL) * C + c0, SW * C,
                                                 SH * W * C, off, ac, Cp);
                        for (int64_t ow = 0; ow < OW; ow++) {
                            if (ow == owa) ow = owb;
                            if (ow >= OW) break;
                            const int64_t iw = ow * SW - PL;
                            const int64_t kw0 = iw < 0 ? fc_cdiv(-iw, DW) : 0;
                            const int64_t kw1 = fc_min64(KW, fc_fdiv(W - 1 - iw, DW) + 1);
                            if (kw1 <= kw0) continue;
                            for (int64_t kh = 0; kh < KH; kh++)
                                FC_FN(fc_gw_dw_taps)(kern, MT, rows, 1, kh * KW + kw0, kw1 - kw0,
                                                     nc, gyn + (oh0 * OW + ow) * C + c0, C, OW * C,
                                                     xn + ((ih + kh * DH) * W + iw + kw0 * DW) * C +
                                                         c0,
                                                     C, SH * W * C, off, ac, Cp);
                        }
                        continue;
                    }
                    for (int64_t oh = oh0; oh < oh1; oh++) {
                        const int64_t ih = oh * SH - PT;
                        const int64_t kh0 = ih < 0 ? fc_cdiv(-ih, DH) : 0;
                        const int64_t kh1 = fc_min64(KH, fc_fdiv(H - 1 - ih, DH) + 1);
                        if (kh1 <= kh0) continue;
                        const FC_T *xr = xn + (ih + kh0 * DH) * W * C + c0;
                        if (owb > owa)
                            FC_FN(fc_gw_dw_taps)(kern, MT, 1, owb - owa, kh0 * KW,
                                                 (kh1 - kh0) * KW, nc,
                                                 gyn + (oh * OW + owa) * C + c0, C, 0,
                                                 xr + (owa * SW - PL) * C, SW * C, 0, off, ac, Cp);
                        for (int64_t ow = 0; ow < OW; ow++) {
                            if (ow == owa) ow = owb;
                            if (ow >= OW) break;
                            const int64_t iw = ow * SW - PL;
                            const int64_t kw0 = iw < 0 ? fc_cdiv(-iw, DW) : 0;
                            const int64_t kw1 = fc_min64(KW, fc_fdiv(W - 1 - iw, DW) + 1);
                            if (kw1 <= kw0) continue;
                            for (int64_t kh = kh0; kh < kh1; kh++)
                                FC_FN(fc_gw_dw_taps)(kern, MT, 1, 1, kh * KW + kw0, kw1 - kw0, nc,
                                                     gyn + (oh * OW + ow) * C + c0, C, 0,
                                                     xr + ((kh - kh0) * DH * W + iw + kw0 * DW) * C,
                                                     C, 0, off, ac, Cp);
                        }
                    }
                }
            }
        }
        /* the omp for's barrier: every part is complete */
        fc_split(C, FC_NUM_THREADS(), FC_THREAD_ID(), &b, &e);
        for (int64_t c = b; c < e; c++) {
            if (gw != NULL)
                for (int64_t t = 0; t < T; t++) {
                    FC_T sm = acc[t * Cp + c];
                    for (int64_t u = 1; u < P; u++) sm += acc[(u * (T + 1) + t) * Cp + c];
                    gw[c * T + t] = sm;
                }
            if (gb != NULL) {
                FC_T sm = acc[T * Cp + c];
                for (int64_t u = 1; u < P; u++) sm += acc[(u * (T + 1) + T) * Cp + c];
                gb[c] = sm;
            }
        }
    }
    fc_free(acc); fc_free(off);
    return FC_OK;
}

/* Depthwise grad weight (C/G == K/G == 1) not taken by fc_gw_planes: NHWC
 * (fc_gw_dw_nhwc). NCHW planes too large for fc_gw_planes' scratch go to the
 * general path (FC_EINVAL). */
static int FC_FN(fc_gw_depthwise)(const fc_conv_geom *g, const FC_T *gy, const FC_T *x,
                                  FC_T *gw, FC_T *gb, int isa, int nthreads) {
    if (g->layout != FC_NHWC) return FC_EINVAL;
    return FC_FN(fc_gw_dw_nhwc)(g, gy, x, gw, gb, isa, nthreads);
}

/* d[j] = s[j * st] for j < n. The strides up to 8 are spelled out as
 * constants so the compiler vectorises them (plane gathers of NHWC arrays
 * with a few channels, even/odd splits of stride-2 rows); 1 is a copy. */
static inline void FC_FN(fc_copy_strided)(FC_T *d, const FC_T *s, int64_t n, int64_t st) {
#define FC_COPY_ST(S)                                          \
    case S:                                                    \
        for (int64_t j = 0; j < n; j++) d[j] = s[j * (S)];     \
        return;
    switch (st) {
    case 1:
        memcpy(d, s, sizeof(FC_T) * (size_t)n);
        return;
    FC_COPY_ST(2) FC_COPY_ST(3) FC_COPY_ST(4) FC_COPY_ST(5) FC_COPY_ST(6) FC_COPY_ST(7)
    FC_COPY_ST(8)
    default:
        for (int64_t j = 0; j < n; j++) d[j] = s[j * st];
    }
#undef FC_COPY_ST
}

/* Grad weight with one input channel per group (depthwise, LeNet's 1->6):
 * per (image, group) the input plane is split into its stride phases, each
 * zero padded (phase (rh, rw) row i, column j holds padded input row i*SH+rh,
 * column j*SW+rw; Wq = OW + the widest tap shift), and each NHWC grad_output
 * plane is gathered at the same width, zeros in its extra columns (NCHW ones
 * are read in place, row pitch OW). Tap (kh, kw) is
 * then the plain offset of its phase plane plus (kh*DH/SH)*Wq + kw*DW/SW on
 * the flattened planes, and the dwgradw kernel runs with the pixels in its
 * vector lanes (dot products, no transposes). Partials per (image, channel,
 * tap) are summed over the images in order: the result does not depend on
 * the threads. FC_EINVAL (before any work) when it does not apply or the
 * planes are too large; the caller then takes another path. */
typedef void (*FC_FN(fc_split2_fn))(size_t n, const FC_T *s, FC_T *d0, FC_T *d1);
typedef void (*FC_FN(fc_dwgwk_fn))(size_t nb, size_t nk, size_t nt, const FC_T *gy, size_t gy_ks,
                                   const FC_T *x, const int64_t *off, FC_T *acc, size_t ld_k);
static int FC_FN(fc_gw_planes)(const fc_conv_geom *g, const FC_T *gy, const FC_T *x, FC_T *gw,
                               FC_T *gb, int isa, int nthreads) {
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, K = g->K, OH = g->OH, OW = g->OW;
    const int64_t KH = g->KH, KW = g->KW, DH = g->DH, DW = g->DW, PT = g->PT, PL = g->PL;
    const int64_t SH = g->SH, SW = g->SW, G = g->G, Kg = K / G, T = KH * KW, NP = SH * SW;
    const int nhwc = g->layout == FC_NHWC;
    if (C != G || N == 0) return FC_EINVAL;
    /* NHWC gathers every plane with stride C or K: only for a few channels */
    if (nhwc && C * K > 64) return FC_EINVAL;
    const fc_kernel_info *ki = fc_kernel_select("dwgradw", FC_DT, isa);
    if (ki == NULL) return FC_EINVAL;
    const FC_DWGRADW_FN kern = (FC_DWGRADW_FN)ki->fn;
    const int64_t MT = ki->mr, NR = ki->nr;
    const int64_t Wq = OW + (KW - 1) * DW / SW, XRq = OH + (KH - 1) * DH / SH, psz = XRq * Wq;
    const int64_t nq = fc_cdiv(OH * Wq, NR) * NR; /* pixels the kernel walks */
    /* the last phase plane, read up to its furthest tap + nq, then a vector */
    const int64_t xsz = (NP - 1) * psz + fc_max64(psz, (XRq - OH) * Wq + (Wq - OW) + nq) + NR;
    /* several outputs per group: the group's Kg grad_output planes copied
       side by side at the input planes' width, then the dwgradwk kernel sums
       KR channels x TR taps per walk over them, V pixels per vector
       (dwgradw walked the input plane once per output channel: LeNet's
       1 -> 6, 1 thread, NHWC ran at 1.3x torch's time, this 0.85) */
    const fc_kernel_info *kw_i = Kg > 1 ? fc_kernel_select("dwgradwk", FC_DT, isa) : NULL;
    int64_t GP = 1, V = 1, KR = 1, TR = 1;
    if (kw_i != NULL) {
        V = FC_FN(fc_lanes)(kw_i->isa);
        KR = kw_i->mr;
        TR = kw_i->nr;
        GP = Kg;
        if (nq % V != 0 ||
            (size_t)(xsz + Kg * nq + Kg * T * V) * sizeof(FC_T) > FC_GX_SCRATCH_BYTES) {
            kw_i = NULL;
            GP = 1;
        }
    }
    const FC_FN(fc_dwgwk_fn) kernk = kw_i != NULL ? (FC_FN(fc_dwgwk_fn))kw_i->fn : NULL;
    /* NCHW stride-2 columns: the rows' even/odd split a vector wide */
    const fc_kernel_info *sp_i = !nhwc && SW == 2 ? fc_kernel_select("dwgradw_split2", FC_DT, isa)
                                                  : NULL;
    const FC_FN(fc_split2_fn) split2 = sp_i != NULL ? (FC_FN(fc_split2_fn))sp_i->fn : NULL;
    const int64_t scratch = xsz + GP * nq + (kernk != NULL ? Kg * T * V : T * NR);
    if ((size_t)scratch * sizeof(FC_T) > FC_GX_SCRATCH_BYTES) return FC_EINVAL;
    FC_T *tsc = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(nthreads * scratch));
    FC_T *part = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(N * K * (T + 1)));
    int64_t *off = (int64_t *)fc_alloc(sizeof(int64_t) * (size_t)(T + NP + 2 * SW));
    fc_steal_slot *slots = fc_steal_new(N * G, nthreads);
    if (tsc == NULL || part == NULL || off == NULL || slots == NULL) {
        fc_free(tsc); fc_free(part); fc_free(off); fc_free(slots);
        return FC_ENOMEM;
    }
    int64_t *used = off + T, *pj0 = used + NP, *pj1 = pj0 + SW; /* phases some tap reads */
    for (int64_t p = 0; p < NP; p++) used[p] = 0;
    for (int64_t rw = 0; rw < SW; rw++) {
        /* columns of phase rw inside the input: 0 <= j*SW + rw - PL < W */
        pj0[rw] = fc_min64(Wq, PL > rw ? fc_cdiv(PL - rw, SW) : 0);
        pj1[rw] = fc_max64(pj0[rw], fc_min64(Wq, fc_fdiv(W - 1 + PL - rw, SW) + 1));
    }
    for (int64_t kh = 0; kh < KH; kh++)
        for (int64_t kw = 0; kw < KW; kw++) {
            const int64_t p = (kh * DH % SH) * SW + kw * DW % SW;
            used[p] = 1;
            off[kh * KW + kw] = p * psz + kh * DH / SH * Wq + kw * DW / SW;
        }

#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        FC_T *xp = tsc + (int64_t)FC_THREAD_ID() * scratch, *gp = xp + xsz, *acc = gp + GP * nq;
        /* unused phases and the slack past the last plane are read (times
           zeros of grad_output), never written: zeros, not stale NaNs. The
           padding (the columns outside [pj0, pj1) of each phase row, the rows
           outside the input) is the same for every plane of the call, so it
           is zeroed here once, not per plane (per-row pad stores cost 2
           memset calls per row, with the copy's memcpy a third of the time of
           32 channels @112, NCHW) */
        memset(xp, 0, sizeof(FC_T) * (size_t)xsz);
        /* each thread its contiguous share of the planes first, then the
           others' from their ends: consecutive planes are consecutive memory,
           one stream the prefetchers keep up with (dynamic, 1 handed the
           threads alternate planes, a new stream per plane) */
        for (int64_t it; (it = fc_steal_next(slots, nthreads, FC_THREAD_ID())) >= 0;) {
            const int64_t n = it / G, gg = it % G;
            /* one input row for all its column phases while it is in L1,
               the rows in address order (row phase by row phase read the
               plane SH times with a stride: 0.95 of the time on 96
               channels @112 stride 2, NCHW, 1 thread) */
            for (int64_t i = 0; i < XRq; i++)
                for (int64_t rh = 0; rh < SH; rh++) {
                    const int64_t ih = i * SH + rh - PT;
                    if (split2 != NULL && used[rh * 2] && used[rh * 2 + 1] && ih >= 0 && ih < H) {
                        /* NCHW stride 2: both column phases of the row in one
                           vector pass; input column 2m + e goes to phase
                           (e + PL) % 2, column m + (e + PL) / 2 */
                        FC_T *d[2] = {xp + rh * 2 * psz + i * Wq, xp + (rh * 2 + 1) * psz + i * Wq};
                        const FC_T *xr = x + ((n * C + gg) * H + ih) * W;
                        const int64_t r0 = PL & 1, o0 = PL / 2, o1 = (PL + 1) / 2;
                        int64_t mm = fc_min64(W / 2, fc_min64(pj1[r0] - o0, pj1[r0 ^ 1] - o1));
                        mm = fc_max64(mm, 0);
                        split2((size_t)mm, xr, d[r0] + o0, d[r0 ^ 1] + o1);
                        for (int64_t iw = 2 * mm; iw < W; iw++) {
                            const int64_t rw = (iw + PL) & 1, j = (iw + PL - rw) / 2;
                            if (j < pj1[rw]) d[rw][j] = xr[iw];
                        }
                        continue;
                    }
                    for (int64_t rw = 0; rw < SW; rw++) {
                        const int64_t p = rh * SW + rw;
                        if (!used[p]) continue;
                        if (ih < 0 || ih >= H) continue; /* a zero row */
                        const int64_t st = SW * (nhwc ? C : 1), j0 = pj0[rw];
                        const FC_T *s = nhwc ? x + ((n * H + ih) * W + rw - PL) * C + gg
                                             : x + ((n * C + gg) * H + ih) * W + rw - PL;
                        FC_FN(fc_copy_strided)(xp + p * psz + i * Wq + j0, s + j0 * st,
                                               pj1[rw] - j0, st);
                    }
                }
            if (kernk != NULL) {
                /* acc [Kg][T][V]; the planes as below, all of them first */
                memset(acc, 0, sizeof(FC_T) * (size_t)(Kg * T * V));
                for (int64_t k = 0; k < Kg; k++) {
                    const int64_t kk = gg * Kg + k;
                    FC_T *gk = gp + k * nq, sm = 0;
                    for (int64_t r = 0; r < OH; r++) {
                        FC_T *d = gk + r * Wq;
                        if (nhwc)
                            FC_FN(fc_copy_strided)(d, gy + (n * OH + r) * OW * K + kk, OW, K);
                        else
                            memcpy(d, gy + ((n * K + kk) * OH + r) * OW, sizeof(FC_T) * (size_t)OW);
                        if (gb != NULL) sm += FC_FN(fc_sum4)(d, OW);
                        for (int64_t q = OW; q < Wq; q++) d[q] = 0;
                    }
                    for (int64_t q = OH * Wq; q < nq; q++) gk[q] = 0;
                    part[(n * K + kk) * (T + 1) + T] = sm;
                }
                for (int64_t k0 = 0; k0 < Kg; k0 += KR)
                    for (int64_t t0 = 0; t0 < T; t0 += TR)
                        kernk((size_t)(nq / V), (size_t)fc_min64(KR, Kg - k0),
                              (size_t)fc_min64(TR, T - t0), gp + k0 * nq, (size_t)nq, xp,
                              off + t0, acc + (k0 * T + t0) * V, (size_t)(T * V));
                for (int64_t k = 0; k < Kg; k++)
                    for (int64_t t = 0; t < T; t++)
                        part[(n * K + gg * Kg + k) * (T + 1) + t] =
                            FC_FN(fc_sum4)(acc + (k * T + t) * V, V);
                continue;
            }
            for (int64_t k = 0; k < Kg; k++) {
                const int64_t kk = gg * Kg + k;
                FC_T sm = 0;
                memset(acc, 0, sizeof(FC_T) * (size_t)(T * NR));
                if (!nhwc) {
                    /* NCHW grad_output read in place, row pitch OW against the
                       planes' Wq: blocks of NR pixels and a masked block per
                       row (its copy cost as much as the kernel's walk) */
                    const FC_T *gk = gy + (n * K + kk) * OH * OW;
                    if (gb != NULL) sm = FC_FN(fc_sum4)(gk, OH * OW);
                    const int64_t nb = OW / NR, rem = OW % NR;
                    for (int64_t t0 = 0; t0 < T; t0 += MT) {
                        const int64_t m = fc_min64(MT, T - t0);
                        if (nb > 0)
                            kern((size_t)OH, (size_t)nb, (size_t)m, (size_t)NR, gk, (size_t)NR,
                                 (size_t)OW, xp, (size_t)NR, (size_t)Wq, off + t0, acc + t0 * NR,
                                 (size_t)NR);
                        if (rem > 0)
                            kern((size_t)OH, 1, (size_t)m, (size_t)rem, gk + nb * NR, (size_t)NR,
                                 (size_t)OW, xp + nb * NR, (size_t)NR, (size_t)Wq, off + t0,
                                 acc + t0 * NR, (size_t)NR);
                    }
                } else {
                    for (int64_t r = 0; r < OH; r++) {
                        FC_T *d = gp + r * Wq;
                        FC_FN(fc_copy_strided)(d, gy + (n * OH + r) * OW * K + kk, OW, K);
                        if (gb != NULL) sm += FC_FN(fc_sum4)(d, OW);
                        for (int64_t q = OW; q < Wq; q++) d[q] = 0;
                    }
                    for (int64_t q = OH * Wq; q < nq; q++) gp[q] = 0;
                    for (int64_t t0 = 0; t0 < T; t0 += MT)
                        kern(1, (size_t)(nq / NR), (size_t)fc_min64(MT, T - t0), (size_t)NR, gp,
                             (size_t)NR, 0, xp, (size_t)NR, 0, off + t0, acc + t0 * NR,
                             (size_t)NR);
                }
                FC_T *pd = part + (n * K + kk) * (T + 1);
                /* lanes summed in four chains: a serial sum of T*NR values
                   per plane cost more than the kernel on LeNet-sized planes */
                for (int64_t t = 0; t < T; t++) pd[t] = FC_FN(fc_sum4)(acc + t * NR, NR);
                pd[T] = sm;
            }
        }
#if FC_HAVE_OPENMP
#pragma omp barrier
#endif
        /* every partial is written */
        int64_t b, e;
        fc_split(K * (T + 1), FC_NUM_THREADS(), FC_THREAD_ID(), &b, &e);
        /* (kk, t) of i stepped, not divided out per element */
        for (int64_t i = b, kk = b / (T + 1), t = b % (T + 1); i < e; i++) {
            FC_T v = 0;
            for (int64_t n = 0; n < N; n++) v += part[(n * K + kk) * (T + 1) + t];
            if (t < T && gw != NULL) gw[kk * T + t] = v;
            if (t == T && gb != NULL) gb[kk] = v;
            if (++t == T + 1) t = 0, kk++;
        }
    }
    fc_free(tsc); fc_free(part); fc_free(off); fc_free(slots);
    return FC_OK;
}

/* One gw row (Cg, KH, KW) from its accumulator row a ([T][Jp], taps t = kh
 * and columns (kw, c) when kwcols, else t = (kh, kw) and columns c), summing
 * `copies` partials `stride` elements apart in order. Walks a in memory order,
 * one (kh, kw) run of Cg columns at a time: no division per element. */
static void FC_FN(fc_gw_store)(FC_T *gwk, const FC_T *a, int64_t copies, int64_t stride,
                               int64_t T, int64_t Jp, int64_t Cg, int64_t KH, int64_t KW,
                               int kwcols) {
    for (int64_t t = 0; t < T; t++)
        for (int64_t q = 0; q < (kwcols ? KW : 1); q++) {
            const int64_t kh = kwcols ? t : t / KW, kw = kwcols ? q : t % KW;
            const FC_T *at = a + t * Jp + q * Cg;
            FC_T *d = gwk + kh * KW + kw;
            for (int64_t c = 0; c < Cg; c++) {
                FC_T s = at[c];
                for (int64_t u = 1; u < copies; u++) s += at[u * stride + c];
                d[c * KH * KW] = s;
            }
        }
}

/* The bands of grad weight: about FC_GW_BAND_PIXELS output pixels, the
 * packed input band within FC_GW_XBAND_BYTES. A 1-wide kernel dimension reads
 * only every S-th input row/column: the band keeps just those (RS, CS), so a
 * 1x1 stride-2 conv packs a quarter of the input, not all of it. */
static fc_gw_band FC_FN(fc_gw_band_plan)(const fc_conv_geom *g) {
    fc_gw_band b;
    const int64_t Cg = g->C / g->G;
    b.RS = g->KH == 1 ? g->SH : 1;
    b.CS = g->KW == 1 ? g->SW : 1;
    b.SHq = g->SH / b.RS;
    b.SWq = g->SW / b.CS;
    b.Wp = (g->OW - 1) * b.SWq + (g->KW - 1) * g->DW + 1;
    b.BR = fc_max64(1, fc_min64(g->OH, fc_cdiv(FC_GW_BAND_PIXELS, g->OW)));
    while (b.BR > 1 && ((b.BR - 1) * b.SHq + (g->KH - 1) * g->DH + 1) * b.Wp * Cg *
                               (int64_t)sizeof(FC_T) > FC_GW_XBAND_BYTES)
        b.BR--;
    b.XR = (b.BR - 1) * b.SHq + (g->KH - 1) * g->DH + 1;
    return b;
}

/* gb[k] = the nt per-thread partials gbp[u*K + k] summed in order u, over
 * this thread's share of k. */
static void FC_FN(fc_gw_bias_sum)(const FC_T *gbp, int nt, int tid, int64_t K, FC_T *gb) {
    int64_t b, e;
    fc_split(K, nt, tid, &b, &e);
    for (int64_t k = b; k < e; k++) {
        FC_T s = 0;
        for (int u = 0; u < nt; u++) s += gbp[(int64_t)u * K + k];
        gb[k] = s;
    }
}

/* Per-thread buffers of the grad weight drivers, nthreads x: an accumulator
 * of accn elements (NULL when accn is 0), K grad bias partials, txn band
 * elements. FC_ENOMEM with nothing left allocated when one fails. */
static int FC_FN(fc_gw_buffers)(int nthreads, int64_t accn, int64_t K, int64_t txn, FC_T **acc,
                                FC_T **gbp, FC_T **tx) {
    *acc = accn ? (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(nthreads * accn)) : NULL;
    *gbp = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(nthreads * K));
    *tx = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(nthreads * txn));
    if ((accn && *acc == NULL) || *gbp == NULL || *tx == NULL) {
        fc_free(*acc); fc_free(*gbp); fc_free(*tx);
        return FC_ENOMEM;
    }
    return FC_OK;
}

/* The input band of image n, group gg: xb[xrows][Wp][Cg], zeros where
 * padding; packed (xr, xc) is input (ih00 + xr*RS, xc*CS - PL). */
static void FC_FN(fc_gw_pack_xband)(const fc_conv_geom *g, const FC_T *x, int64_t n, int64_t gg,
                                    int64_t ih00, int64_t xrows, int64_t RS, int64_t CS,
                                    int64_t Wp, FC_T *xb) {
    const int64_t C = g->C, H = g->H, W = g->W, PL = g->PL, Cg = C / g->G;
    /* columns inside: 0 <= xc*CS - PL < W */
    const int64_t lo = fc_min64(Wp, fc_max64(0, fc_cdiv(PL, CS)));
    const int64_t hi = fc_max64(lo, fc_min64(Wp, fc_fdiv(W - 1 + PL, CS) + 1));
    for (int64_t xr = 0; xr < xrows; xr++) {
        const int64_t ih = ih00 + xr * RS;
        FC_T *d = xb + xr * Wp * Cg;
        if (ih < 0 || ih >= H) {
            memset(d, 0, sizeof(FC_T) * (size_t)(Wp * Cg));
            continue;
        }
        memset(d, 0, sizeof(FC_T) * (size_t)(lo * Cg));
        memset(d + hi * Cg, 0, sizeof(FC_T) * (size_t)((Wp - hi) * Cg));
        if (g->layout == FC_NHWC) {
            if (Cg == C && CS == 1) {
                memcpy(d + lo * Cg, x + ((n * H + ih) * W + lo - PL) * C,
                       sizeof(FC_T) * (size_t)((hi - lo) * C));
            } else {
                for (int64_t xc = lo; xc < hi; xc++)
                    memcpy(d + xc * Cg, x + ((n * H + ih) * W + xc * CS - PL) * C + gg * Cg,
                           sizeof(FC_T) * (size_t)Cg);
            }
        } else {
            /* a transpose in 16-channel x 8-column blocks: a whole plane row
               per channel would write Wp lines Cg*4 bytes apart, which fall in
               a few L1 sets and evict each other */
            const FC_T *xn = x + ((n * C + gg * Cg) * H + ih) * W - PL;
            for (int64_t cb = 0; cb < Cg; cb += 16) {
                const int64_t ce = fc_min64(cb + 16, Cg);
                for (int64_t xb0 = lo; xb0 < hi; xb0 += 8) {
                    const int64_t xe = fc_min64(xb0 + 8, hi);
                    for (int64_t c = cb; c < ce; c++) {
                        const FC_T *src = xn + c * H * W;
                        for (int64_t xc = xb0; xc < xe; xc++) d[xc * Cg + c] = src[xc * CS];
                    }
                }
            }
        }
    }
}

/* Grad weight with the output channels in the vector lanes: the general
 * path's GEMM with its operands swapped, acc[t][j][k] += x[j] * gy[k] over
 * the pixels (j: the (kw, c) or c columns, broadcast; k: NR output channels
 * read as vectors). Chosen where the columns are few and the output channels
 * many (RGB stems: 21 (kw, c) columns fill 21/32 of two 16-lane vectors, but
 * 64 channels fill four). Pixels are split into one part per thread, each
 * with its private [G][T][Jp][Kp] accumulator, summed in part order. The
 * caller checks the accumulators fit FC_GW_PRIVATE_BYTES. */
static int FC_FN(fc_gw_swap)(const fc_conv_geom *g, const fc_kernel_info *ki, FC_TR_FN tr,
                             const FC_T *gy, const FC_T *x, FC_T *gw, FC_T *gb, int nthreads) {
    const FC_GRADW_FN kern = (FC_GRADW_FN)ki->fn;
    const int64_t N = g->N, K = g->K, OH = g->OH, OW = g->OW, KH = g->KH, KW = g->KW;
    const int64_t SH = g->SH, DH = g->DH, DW = g->DW, PT = g->PT, G = g->G;
    const int64_t Cg = g->C / G, Kg = K / G;
    const int nhwc = g->layout == FC_NHWC;
    const int kwcols = DW == 1;
    const int64_t T = kwcols ? KH : KH * KW, J = kwcols ? KW * Cg : Cg;
    const int64_t MR = ki->mr, NR = ki->nr, Jp = fc_cdiv(J, MR) * MR, Kp = fc_cdiv(Kg, NR) * NR;
    const int64_t JT = Jp / MR, KT = Kp / NR, accsz = G * T * Jp * Kp;
    const fc_gw_band bd = FC_FN(fc_gw_band_plan)(g);
    const int64_t RS = bd.RS, CS = bd.CS, SHq = bd.SHq, SWq = bd.SWq, Wp = bd.Wp, BR = bd.BR;
    /* the kernel runs over sub-bands of SR rows whose grad_output stays in
       L1 while every (tap, column tile) passes over it */
    const int64_t SR = fc_max64(1, FC_GW_SWAP_L1_BYTES / (OW * Kp * (int64_t)sizeof(FC_T)));
    /* the last tile of columns reads up to Jp - J values past a band row */
    const int64_t xbsz = bd.XR * Wp * Cg + Jp;
    /* NHWC grad_output is read in place when whole vectors of each group's
       channels lie in it; else packed [pixel][Kp], zeros past Kg */
    const int inplace = nhwc && Kg % NR == 0;
    const int64_t gybsz = inplace ? 0 : (nhwc ? BR : fc_min64(BR, SR)) * OW * Kp;
    FC_T *acc, *gbp, *tx;
    if (FC_FN(fc_gw_buffers)(nthreads, accsz, K, xbsz + gybsz, &acc, &gbp, &tx) != FC_OK)
        return FC_ENOMEM;
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        const int tid = FC_THREAD_ID(), nt = FC_NUM_THREADS();
        FC_T *xb = tx + (int64_t)tid * (xbsz + gybsz), *gyb = xb + xbsz;
        int64_t b, e;
        /* the reads past the band rows see zeros, never stale denormals */
        memset(xb, 0, sizeof(FC_T) * (size_t)xbsz);
#if FC_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int64_t item = 0; item < nt; item++) {
            FC_T *gbt = gbp + item * K, *acct = acc + item * accsz;
            int64_t r0, r1;
            fc_split(N * OH, nt, (int)item, &r0, &r1);
            memset(acct, 0, sizeof(FC_T) * (size_t)accsz);
            memset(gbt, 0, sizeof(FC_T) * (size_t)K);
            for (int64_t r = r0; r < r1;) {
                const int64_t n = r / OH, oh0 = r % OH;
                const int64_t rows = fc_min64(fc_min64(BR, OH - oh0), r1 - r);
                const int64_t ih00 = oh0 * SH - PT, xrows = (rows - 1) * SHq + (KH - 1) * DH + 1;
                const int64_t np = rows * OW;
                r += rows;
                for (int64_t gg = 0; gg < G; gg++) {
                    const FC_T *gk;
                    size_t gcs;
                    if (inplace) {
                        gk = gy + ((n * OH + oh0) * OW) * K + gg * Kg;
                        gcs = (size_t)K;
                        if (gb != NULL)
                            for (int64_t q = 0; q < np; q++)
                                for (int64_t k = 0; k < Kg; k++) gbt[gg * Kg + k] += gk[q * K + k];
                    } else if (nhwc) {
                        const FC_T *src = gy + ((n * OH + oh0) * OW) * K + gg * Kg;
                        for (int64_t q = 0; q < np; q++) {
                            memcpy(gyb + q * Kp, src + q * K, sizeof(FC_T) * (size_t)Kg);
                            memset(gyb + q * Kp + Kg, 0, sizeof(FC_T) * (size_t)(Kp - Kg));
                        }
                        if (gb != NULL)
                            for (int64_t q = 0; q < np; q++)
                                for (int64_t k = 0; k < Kg; k++) gbt[gg * Kg + k] += gyb[q * Kp + k];
                        gk = gyb;
                        gcs = (size_t)Kp;
                    } else {
                        /* planes: transposed per sub-band below, into L1 */
                        const FC_T *src = gy + ((n * K + gg * Kg) * OH + oh0) * OW;
                        if (gb != NULL)
                            for (int64_t k = 0; k < Kg; k++)
                                gbt[gg * Kg + k] += FC_FN(fc_sum4)(src + k * OH * OW, np);
                        gk = gyb;
                        gcs = (size_t)Kp;
                    }
                    FC_FN(fc_gw_pack_xband)(g, x, n, gg, ih00, xrows, RS, CS, Wp, xb);
                    for (int64_t r0s = 0; r0s < rows; r0s += SR) {
                        const int64_t sr = fc_min64(SR, rows - r0s);
                        const FC_T *gs = gk + (size_t)r0s * gcs * (size_t)OW;
                        if (!nhwc) {
                            const int64_t ns = sr * OW;
                            FC_FN(fc_transpose)(tr, gy + ((n * K + gg * Kg) * OH + oh0 + r0s) * OW,
                                                OH * OW, Kg, ns, gyb, Kp);
                            if (Kp > Kg)
                                for (int64_t q = 0; q < ns; q++)
                                    memset(gyb + q * Kp + Kg, 0, sizeof(FC_T) * (size_t)(Kp - Kg));
                            gs = gyb;
                        }
                        for (int64_t t = 0; t < T; t++) {
                            const int64_t kh = kwcols ? t : t / KW, kw = kwcols ? 0 : t % KW;
                            const FC_T *xt = xb + (r0s * SHq + kh * DH) * Wp * Cg + kw * DW * Cg;
                            FC_T *at = acct + (gg * T + t) * Jp * Kp;
                            for (int64_t jt = 0; jt < JT; jt++)
                                for (int64_t kt = 0; kt < KT; kt++)
                                    kern((size_t)sr, (size_t)OW, xt + jt * MR, (size_t)(SWq * Cg),
                                         (size_t)(SHq * Wp * Cg), 1, gs + kt * NR, gcs,
                                         gcs * (size_t)OW, at + jt * MR * Kp + kt * NR,
                                         (size_t)Kp);
                        }
                    }
                }
            }
        }
        /* the omp for's barrier: every part is complete; fixed-order sums */
        if (gb != NULL) FC_FN(fc_gw_bias_sum)(gbp, nt, tid, K, gb);
        fc_split(K, nt, tid, &b, &e);
        for (int64_t kk = b; kk < e; kk++) {
            const int64_t gg = kk / Kg, k = kk % Kg;
            FC_T *gwk = gw + kk * Cg * KH * KW;
            const FC_T *a = acc + gg * T * Jp * Kp + k;
            for (int64_t t = 0; t < T; t++)
                for (int64_t j = 0; j < J; j++) {
                    const int64_t kh = kwcols ? t : t / KW;
                    const int64_t kw = kwcols ? j / Cg : t % KW, c = kwcols ? j % Cg : j;
                    const FC_T *at = a + (t * Jp + j) * Kp;
                    FC_T s = at[0];
                    for (int u = 1; u < nt; u++) s += at[(int64_t)u * accsz];
                    gwk[(c * KH + kh) * KW + kw] = s;
                }
        }
    }
    fc_free(acc); fc_free(gbp); fc_free(tx);
    return FC_OK;
}

int FC_FN(fc_conv2d_grad_weight)(const fc_conv_geom *g, const FC_T *gy, const FC_T *x,
                                 FC_T *gw, FC_T *gb, int isa, int nthreads) {
    if (!fc_conv_geom_ok(g) || nthreads < 1) return FC_EINVAL;
    const int64_t N = g->N, C = g->C, K = g->K, OH = g->OH, OW = g->OW;
    const int64_t KH = g->KH, KW = g->KW, SH = g->SH, DH = g->DH, DW = g->DW;
    const int64_t PT = g->PT, G = g->G;
    const int64_t Cg = C / G, Kg = K / G;
    const int nhwc = g->layout == FC_NHWC;
    if (gw == NULL && gb == NULL) return FC_OK;
    if (N > 0 && Cg == 1 && gw != NULL) {
        const int st = FC_FN(fc_gw_planes)(g, gy, x, gw, gb, isa, nthreads);
        if (st != FC_EINVAL) return st;
    }
    if (N > 0 && Cg == 1 && Kg == 1 && gw != NULL) {
        const int st = FC_FN(fc_gw_depthwise)(g, gy, x, gw, gb, isa, nthreads);
        if (st != FC_EINVAL) return st;
    }
    /* Columns of the GEMM: with DW == 1 the (kw, c) run of one input row is
     * contiguous in the packed band, so kw joins the vectorised dimension
     * (fills the vectors when C/G is tiny); taps are then the kernel rows. */
    const int kwcols = DW == 1;
    const int64_t T = kwcols ? KH : KH * KW, J = kwcols ? KW * Cg : Cg;
    double share, sshare;
    const fc_kernel_info *ki = FC_FN(fc_gradw_pick)(isa, Kg, J, &share);
    if (ki == NULL || ki->mr > FC_GW_MAX_MR) return FC_EINVAL;
    /* output channels in the lanes where that wastes clearly less */
    const fc_kernel_info *ks = FC_FN(fc_gradw_pick)(isa, J, Kg, &sshare);
    if (N > 0 && gw != NULL && ks != NULL && sshare > FC_GW_SWAP_GAIN * share) {
        const int64_t swsz = G * T * fc_cdiv(J, ks->mr) * ks->mr * fc_cdiv(Kg, ks->nr) * ks->nr;
        const FC_TR_FN tr = FC_FN(fc_transposer)(isa);
        if (tr != NULL && (size_t)nthreads * (size_t)swsz * sizeof(FC_T) <= FC_GW_PRIVATE_BYTES)
            return FC_FN(fc_gw_swap)(g, ks, tr, gy, x, gw, gb, nthreads);
    }
    const FC_GRADW_FN kern = (FC_GRADW_FN)ki->fn;
    const int64_t MR = ki->mr, NR = ki->nr, Kp = fc_cdiv(Kg, MR) * MR, Jp = fc_cdiv(J, NR) * NR;
    const int64_t KT = Kp / MR, JT = Jp / NR;
    const int64_t accsz = G * Kp * T * Jp;

    if (N == 0) {
        if (gw != NULL) memset(gw, 0, sizeof(FC_T) * (size_t)(K * Cg * KH * KW));
        if (gb != NULL) memset(gb, 0, sizeof(FC_T) * (size_t)K);
        return FC_OK;
    }
    /* Split over pixels (private accumulators, reduced in part order) unless
     * the copies would be too large; then items are chunks of (group, k-tile)
     * units, each summed over every pixel by one thread into an L2-sized
     * private accumulator and written to gw at once (a whole-weight shared
     * accumulator cost a memset, page faults and a cold re-read of its size). */
    const int pixel_split = gw == NULL ||
                            (size_t)nthreads * (size_t)accsz * sizeof(FC_T) <= FC_GW_PRIVATE_BYTES;
    const int64_t unit = MR * T * Jp; /* accumulator elements of one k-tile */
    const int64_t CH = pixel_split ? G * KT
                     : fc_max64(1, fc_min64(G * KT, FC_GW_CHUNK_BYTES / (int64_t)sizeof(FC_T) /
                                                        unit));
    const int64_t NCH = fc_cdiv(G * KT, CH);
    const int64_t slot = pixel_split ? accsz : CH * unit; /* accumulator elements per slot */
    const fc_gw_band bd = FC_FN(fc_gw_band_plan)(g);
    const int64_t RS = bd.RS, CS = bd.CS, SHq = bd.SHq, SWq = bd.SWq, Wp = bd.Wp, BR = bd.BR;
    const int64_t xbsz = gw != NULL ? bd.XR * Wp * Cg + NR : 0, gybsz = BR * OW * Kp;

    FC_T *acc, *gbp, *tx;
    if (FC_FN(fc_gw_buffers)(nthreads, gw != NULL ? slot : 0, K, xbsz + gybsz, &acc, &gbp, &tx) !=
        FC_OK)
        return FC_ENOMEM;

#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        const int tid = FC_THREAD_ID(), nt = FC_NUM_THREADS();
        FC_T *xb = tx + (int64_t)tid * (xbsz + gybsz), *gyb = xb + xbsz;
        int64_t b, e;
        memset(gbp + (int64_t)tid * K, 0, sizeof(FC_T) * (size_t)K);
        if (xbsz) memset(xb + xbsz - NR, 0, sizeof(FC_T) * (size_t)NR);
#if FC_HAVE_OPENMP
#pragma omp barrier
#endif
        /* items: pixel parts (pixel_split; part u has slot u, whichever
           thread runs it) or unit chunks (the thread's slot) */
        const int64_t nitems = pixel_split ? nt : NCH;
#if FC_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int64_t item = 0; item < nitems; item++) {
            const int64_t sl = pixel_split ? item : tid;
            FC_T *gbt = gbp + sl * K;
            FC_T *acct = acc != NULL ? acc + sl * slot : NULL;
            int64_t r0 = 0, r1 = N * OH, i0 = 0, i1 = G * KT;
            if (pixel_split)
                fc_split(N * OH, nt, (int)item, &r0, &r1);
            else {
                i0 = item * CH;
                i1 = fc_min64(i0 + CH, G * KT);
            }
            if (acct != NULL) memset(acct, 0, sizeof(FC_T) * (size_t)slot);
            /* the accumulator of unit i starts at acct + (i - ib) * unit */
            const int64_t ib = pixel_split ? 0 : i0;
            for (int64_t r = r0; r < r1;) {
                const int64_t n = r / OH, oh0 = r % OH;
                const int64_t rows = fc_min64(fc_min64(BR, OH - oh0), r1 - r);
                const int64_t ih00 = oh0 * SH - PT, xrows = (rows - 1) * SHq + (KH - 1) * DH + 1;
                r += rows;
                for (int64_t gg = 0; gg < G; gg++) {
                    /* this thread's k-tiles of group gg */
                    const int64_t kt0 = fc_max64(i0 - gg * KT, 0), kt1 = fc_min64(i1 - gg * KT, KT);
                    if (kt0 >= kt1) continue;
                    /* pack grad_output [k-tile][pixel][MR], summing grad bias on the way */
                    for (int64_t kt = kt0; kt < kt1; kt++) {
                        FC_T *d = gyb + kt * rows * OW * MR;
                        const int64_t k0 = kt * MR, mv = fc_min64(MR, Kg - k0);
                        FC_T sums[FC_GW_MAX_MR];
                        for (int64_t m = 0; m < MR; m++) sums[m] = 0;
                        if (nhwc && mv == MR) {
                            /* full tile: the kernel reads grad_output in place */
                            if (gb != NULL) {
                                const FC_T *src = gy + ((n * OH + oh0) * OW) * K + gg * Kg + k0;
                                for (int64_t q = 0; q < rows * OW; q++)
                                    for (int64_t m = 0; m < MR; m++) sums[m] += src[q * K + m];
                            }
                        } else if (nhwc) {
                            /* MR consecutive channels of one pixel: contiguous reads */
                            const FC_T *src = gy + ((n * OH + oh0) * OW) * K + gg * Kg + k0;
                            for (int64_t q = 0; q < rows * OW; q++) {
                                for (int64_t m = 0; m < mv; m++) {
                                    const FC_T v = src[q * K + m];
                                    d[q * MR + m] = v;
                                    sums[m] += v;
                                }
                                for (int64_t m = mv; m < MR; m++) d[q * MR + m] = 0;
                            }
                        } else {
                            /* NCHW full tiles are read in place (gy_ms = plane) */
                            for (int64_t m = 0; m < MR; m++) {
                                if (m >= mv) {
                                    for (int64_t q = 0; q < rows * OW; q++) d[q * MR + m] = 0;
                                    continue;
                                }
                                const FC_T *src = gy + ((n * K + gg * Kg + k0 + m) * OH + oh0) * OW;
                                if (mv < MR)
                                    for (int64_t q = 0; q < rows * OW; q++) d[q * MR + m] = src[q];
                                if (gb != NULL) /* 4 chains: one serial add per value was the cost */
                                    sums[m] = FC_FN(fc_sum4)(src, rows * OW);
                            }
                        }
                        for (int64_t m = 0; m < mv; m++) gbt[gg * Kg + k0 + m] += sums[m];
                    }
                    if (gw == NULL) continue;
                    FC_FN(fc_gw_pack_xband)(g, x, n, gg, ih00, xrows, RS, CS, Wp, xb);
                    for (int64_t kt = kt0; kt < kt1; kt++) {
                        const int direct = kt * MR + MR <= Kg; /* full tile: in place */
                        const FC_T *gk = !direct ? gyb + kt * rows * OW * MR
                                       : nhwc ? gy + ((n * OH + oh0) * OW) * K + gg * Kg + kt * MR
                                              : gy + ((n * K + gg * Kg + kt * MR) * OH + oh0) * OW;
                        const size_t gcs = !direct ? (size_t)MR : nhwc ? (size_t)K : 1;
                        const size_t gms = direct && !nhwc ? (size_t)(OH * OW) : 1;
                        for (int64_t t = 0; t < T; t++) {
                            const int64_t kh = kwcols ? t : t / KW, kw = kwcols ? 0 : t % KW;
                            const FC_T *xt = xb + kh * DH * Wp * Cg + kw * DW * Cg;
                            FC_T *at = acct + (gg * KT + kt - ib) * unit + t * Jp;
                            for (int64_t jt = 0; jt < JT; jt++)
                                kern((size_t)rows, (size_t)OW, gk, gcs, gcs * (size_t)OW, gms,
                                     xt + jt * NR, (size_t)(SWq * Cg), (size_t)(SHq * Wp * Cg),
                                     at + jt * NR, (size_t)(T * Jp));
                        }
                    }
                }
            }
            if (!pixel_split && gw != NULL)
                for (int64_t i = i0; i < i1; i++) {
                    const int64_t gg = i / KT, k0 = (i % KT) * MR, mv = fc_min64(MR, Kg - k0);
                    for (int64_t m = 0; m < mv; m++)
                        FC_FN(fc_gw_store)(gw + (gg * Kg + k0 + m) * Cg * KH * KW,
                                           acct + (i - ib) * unit + m * T * Jp, 1, 0, T, Jp, Cg,
                                           KH, KW, kwcols);
                }
        }
        /* the omp for's barrier: every item is complete */
        /* fixed-order reduction of the partials into the caller's layouts */
        if (gb != NULL) FC_FN(fc_gw_bias_sum)(gbp, nt, tid, K, gb);
        if (gw != NULL && pixel_split) {
            fc_split(K, nt, tid, &b, &e);
            for (int64_t kk = b; kk < e; kk++) {
                const int64_t gg = kk / Kg, k = kk % Kg;
                FC_FN(fc_gw_store)(gw + kk * Cg * KH * KW, acc + (gg * Kp + k) * T * Jp, nt, accsz,
                                   T, Jp, Cg, KH, KW, kwcols);
            }
        }
    }
    fc_free(acc); fc_free(gbp); fc_free(tx);
    return FC_OK;
}

#undef FC_FN
