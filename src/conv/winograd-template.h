/* Template of the Winograd conv2d driver (winograd.h), included by
 * winograd-driver.c with FC_T, FC_DT, FC_GEMM_FN, FC_TR_FN, FC_WINO_TABLE,
 * FC_WINO_TABLE_FN and FC_SFX defined. One driver for both output tiles
 * TM = 4 and 2 (F(TM x TM, 3x3)): input patches of P = TM + 2, NC = P*P
 * coefficients each.
 *
 * The transformed weights U = G g G^T are made once per call, laid out
 * [NC][K / NR column panels][C][NR] (a panel per GEMM column tile, rows
 * consecutive). Tile rows are numbered over (image, row phase py, tile row
 * of the phase); work items are (chunk of output channels, band of
 * consecutive tile rows), so small images share an item; an item
 *   1. transforms the P x P input patches of its tiles (every column phase
 *      px) into V[NC][tiles][C] (wino input kernel; padding masked, no copy),
 *   2. multiplies each V[xi] by U[xi] into M[NC][tiles][kc] (gemm kernel:
 *      rows tiles, columns output channels, the reduction over C),
 *   3. transforms M into the output tiles, with bias and relu (wino output).
 * NCHW items first gather the P input rows of each tile row into pixel-major
 * rows and write each tile row's TM output rows through a pixel-major buffer
 * (transpose kernels).
 * Every output value comes from one item in one fixed order, so the result
 * does not depend on the thread count or on how the items are cut. */

/* V + M of one item (NC coefficients of its tiles, kept in L2/L3 between
 * the three steps): the GEMMs read each U panel once per item, so the more
 * tiles an item has the less U traffic a tile costs */
#ifndef FC_WINO_BUF_BYTES
#define FC_WINO_BUF_BYTES ((int64_t)4 << 20)
#endif
/* past this for a single tile row (very wide images), or past the U bound
 * for the transformed weights (NC*C*K values: 2.25 GB at 8192 channels), the
 * path declines and the direct path, with 9*C*K packed weights, answers */
#ifndef FC_WINO_MAX_BUF_BYTES
#define FC_WINO_MAX_BUF_BYTES ((int64_t)32 << 20)
#endif
#ifndef FC_WINO_MAX_U_BYTES
#define FC_WINO_MAX_U_BYTES ((int64_t)1 << 30)
#endif

static void FC_SFX(wino_flag)(int *flag) {
#if FC_HAVE_OPENMP
#pragma omp atomic write
#endif
    *flag = 1;
}

static int FC_SFX(wino_flagged)(int *flag) {
    int f;
#if FC_HAVE_OPENMP
#pragma omp atomic read
#endif
    f = *flag;
    return f;
}

/* wflip: w is the weight of the conv whose input gradient this is (see
 * winograd.h), transformed as the flipped, transposed filter it stands for */
static int FC_SFX(wino_conv2d)(const fc_conv_geom *g, const FC_T *x, const FC_T *w,
                               const FC_T *bias, FC_T *y, int relu, int isa, int nthreads,
                               int wflip, int tm) {
    if (!fc_wino_conv2d_applicable(g)) return FC_EINVAL;
    const int64_t N = g->N, C = g->C, H = g->H, W = g->W, K = g->K, OH = g->OH, OW = g->OW;
    const int64_t DH = g->DH, DW = g->DW, PT = g->PT, PL = g->PL, sz = (int64_t)sizeof(FC_T);
    /* the column tile by K alone (not by the item's rows), so that the kernel
     * and with it the rounding never depend on how the items are cut */
    const fc_kernel_info *wk = fc_kernel_select(tm == 4 ? "wino4" : "wino2", FC_DT, isa);
    const fc_kernel_info *gk = fc_gemm_pick(FC_DT, isa, 24 * 4096, K, NULL);
    const fc_kernel_info *tk = fc_kernel_select("transpose", FC_DT, isa);
    if (wk == NULL || gk == NULL || tk == NULL) return FC_EINVAL;
    const FC_WINO_TABLE *wt = ((FC_WINO_TABLE_FN)wk->fn)();
    const FC_GEMM_FN kern = (FC_GEMM_FN)gk->fn;
    const FC_TR_FN tr = (FC_TR_FN)tk->fn;
    const int nhwc = g->layout == FC_NHWC;
    /* output tile tm x tm, input patch P x P, NC coefficients */
    const int64_t TM = tm, P = tm + 2, NC = P * P;
    const int64_t MR = gk->mr, NR = gk->nr, nnb = fc_cdiv(K, NR), us = nnb * C * NR;
    /* phases: output rows py, py + DH, ... (likewise columns) form an
     * undilated conv; NPY x NPX of them hold output pixels */
    const int64_t NPY = fc_min64(DH, OH), NPX = fc_min64(DW, OW);
    const int64_t TYmax = fc_cdiv(fc_cdiv(OH, DH), TM), TR = N * NPY * TYmax;
    int64_t TX = 0; /* tiles of one tile row, every column phase */
    for (int64_t px = 0; px < NPX; px++) TX += fc_cdiv(fc_cdiv(OW - px, DW), TM);
    if (NC * TX * (C + fc_min64(K, NR)) * sz > FC_WINO_MAX_BUF_BYTES ||
        (double)NC * (double)us * (double)sz > (double)FC_WINO_MAX_U_BYTES)
        return FC_EINVAL;
    /* item size: tile rows (nty) and output channels (kc, whole panels) whose
     * V + M fit the budget, then cut finer until the threads have 3 items
     * each: K first (an item's U reads per tile do not grow with it, only its
     * input transforms are redone), tile rows last */
    const int64_t budget = FC_WINO_BUF_BYTES / sz;
    int64_t kc = K, nty = budget / (NC * TX * (C + K));
    if (nty < 1) {
        nty = 1;
        kc = fc_min64(K, fc_max64(NR, (budget / (NC * TX) - C) / NR * NR));
    }
    nty = fc_max64(1, fc_min64(nty, TR));
    while (fc_cdiv(K, kc) * fc_cdiv(TR, nty) < 3 * (int64_t)nthreads) {
        if (kc > NR) kc = fc_cdiv(fc_cdiv(kc, 2), NR) * NR;
        else if (nty > 1) nty = fc_cdiv(nty, 2);
        else break;
    }
    const int64_t nkc = fc_cdiv(K, kc), nband = fc_cdiv(TR, nty), items = nkc * nband;
    const int64_t TBp = fc_cdiv(nty * TX, MR) * MR; /* rows of V and M: whole GEMM tiles */
    const int64_t vs = TBp * C, ms = TBp * kc;
    const int64_t xsn = nhwc ? 0 : P * nty * W * C, ysn = nhwc ? 0 : TM * nty * OW * kc;
    const int64_t CB = 16; /* weight transform: channels per unit */
    /* U and every thread's buffers in the one kept workspace: fresh pages
     * (a few MB a thread) cost a fault each, every call */
    const int64_t per_thread = (NC * (vs + ms) + xsn + ysn + 9 * CB * NR + NC * CB * NR + 15) /
                               16 * 16;
    FC_T *U = fc_ws_take((size_t)(NC * us + nthreads * per_thread) * sizeof(FC_T));
    if (U == NULL) return FC_ENOMEM;
    fc_steal_slot *slots = fc_steal_new(items, nthreads);
    if (slots == NULL) {
        fc_ws_give(U);
        return FC_ENOMEM;
    }
    const uint32_t flags = relu ? FC_FLAG_RELU : 0u;
    int nonfinite = 0;
#if FC_HAVE_OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        FC_T *buf = U + NC * us + FC_THREAD_ID() * per_thread;
        /* the GEMM tiles' padding rows past a full band: read, never stored */
        for (int64_t xi = 0; xi < NC; xi++)
            memset(buf + xi * vs + nty * TX * C, 0, (size_t)((TBp - nty * TX) * C) * sizeof(FC_T));
        FC_T *V = buf, *M = buf + NC * vs, *xs = M + NC * ms, *ys = xs + xsn, *wb = ys + ysn;
        FC_T *stage = wb + 9 * CB * NR;
        /* U[xi][k / NR][c][k % NR], a panel's CB rows at a time: the panel's
         * filter taps of CB channels gathered into wb[c][tap][NR] (one
         * transpose), transformed into stage[xi][c][NR], then copied out as NC
         * runs of CB*NR values (NC stores to NC far-apart lines per vector
         * left the stores waiting on misses: 45% of a 256->256 @28 call) */
        const int64_t ncb = fc_cdiv(C, CB);
#if FC_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
        for (int64_t r = 0; r < nnb * ncb; r++) {
            const int64_t nb = r / ncb, c0 = r % ncb * CB;
            const int64_t nk = fc_min64(NR, K - nb * NR), cn = fc_min64(CB, C - c0);
            if (!wflip)
                tr(w + (nb * NR * C + c0) * 9, (size_t)(C * 9), wb, (size_t)NR, (size_t)nk,
                   (size_t)(cn * 9));
            for (int64_t c = 0; c < cn; c++) {
                /* wflip: filter (k, c) is w[c][k] with its taps reversed: the
                 * (k, tap) block of channel c transposed, read from its last tap */
                if (wflip)
                    tr(w + ((c0 + c) * K + nb * NR) * 9, 9, wb + c * 9 * NR, (size_t)NR,
                       (size_t)nk, 9);
                if (!wt->weight(wb + c * 9 * NR + (wflip ? 8 * NR : 0), wflip ? -NR : NR, nk,
                                stage + c * NR, CB * NR))
                    FC_SFX(wino_flag)(&nonfinite);
            }
            for (int64_t xi = 0; xi < NC; xi++)
                memcpy(U + (xi * nnb + nb) * C * NR + c0 * NR, stage + xi * CB * NR,
                       (size_t)(cn * NR) * sizeof(FC_T));
        }
        /* implicit barrier: U complete */
        const int go = !FC_SFX(wino_flagged)(&nonfinite);
        for (int64_t it; go && (it = fc_steal_next(slots, nthreads, FC_THREAD_ID())) >= 0;) {
            if (FC_SFX(wino_flagged)(&nonfinite)) break;
            const int64_t kci = it / nband, R0 = it % nband * nty;
            const int64_t R1 = fc_min64(TR, R0 + nty), k0 = kci * kc, kn = fc_min64(kc, K - k0);
            int ok = 1;
            /* 1. input patches -> V, a tile row at a time: tile (R, px, tx) */
            int64_t t = 0;
            for (int64_t R = R0; R < R1; R++) {
                const int64_t n = R / (NPY * TYmax), py = R / TYmax % NPY, ty = R % TYmax;
                if (ty >= fc_cdiv(fc_cdiv(OH - py, DH), TM)) continue; /* a short phase */
                FC_T *xr = xs + (R - R0) * P * W * C;
                if (!nhwc) /* xr[r][ix][c] = x[n][c][py + DH*(4*ty + r) - PT][ix] */
                    for (int64_t r = 0; r < P; r++) {
                        const int64_t iy = py + DH * (TM * ty + r) - PT;
                        if (iy >= 0 && iy < H)
                            tr(x + (n * C * H + iy) * W, (size_t)(H * W), xr + r * W * C,
                               (size_t)C, (size_t)C, (size_t)W);
                    }
                for (int64_t px = 0; px < NPX; px++) {
                    const int64_t TXp = fc_cdiv(fc_cdiv(OW - px, DW), TM);
                    for (int64_t tx = 0; tx < TXp; tx++, t++) {
                        const int64_t iy0 = py + DH * TM * ty - PT, ix0 = px + DW * TM * tx - PL;
                        uint32_t rmask = 0, cmask = 0;
                        for (int q = 0; q < P; q++) {
                            const int64_t iy = iy0 + DH * q, ix = ix0 + DW * q;
                            rmask |= (uint32_t)(iy >= 0 && iy < H) << q;
                            cmask |= (uint32_t)(ix >= 0 && ix < W) << q;
                        }
                        ok &= nhwc ? wt->input(x, ((n * H + iy0) * W + ix0) * C, DH * W * C,
                                               DW * C, rmask, cmask, C, V + t * C, vs)
                                   : wt->input(xr, ix0 * C, W * C, DW * C, rmask, cmask, C,
                                               V + t * C, vs);
                    }
                }
            }
            /* 2. M[xi] = V[xi] U[xi], one cached weight panel at a time */
            for (int64_t xi = 0; xi < NC; xi++)
                for (int64_t nb = k0 / NR; nb < fc_cdiv(k0 + kn, NR); nb++) {
                    const int64_t n0 = nb * NR, nr = fc_min64(NR, k0 + kn - n0);
                    const FC_T *b = U + (xi * nnb + nb) * C * NR;
                    for (int64_t m0 = 0; m0 < t; m0 += MR)
                        kern((size_t)fc_min64(MR, t - m0), (size_t)nr, (size_t)C,
                             V + xi * vs + m0 * C, (size_t)C, b, (size_t)NR, b, NULL,
                             M + xi * ms + m0 * kc + (n0 - k0), (size_t)kc, 0u);
                }
            /* 3. M -> output tiles, in the same order */
            t = 0;
            for (int64_t R = R0; R < R1; R++) {
                const int64_t n = R / (NPY * TYmax), py = R / TYmax % NPY, ty = R % TYmax;
                const int64_t OHp = fc_cdiv(OH - py, DH);
                if (ty >= fc_cdiv(OHp, TM)) continue;
                FC_T *yr = ys + (R - R0) * TM * OW * kn;
                const int nrow = (int)fc_min64(TM, OHp - TM * ty);
                const FC_T *bk = bias == NULL ? NULL : bias + k0;
                for (int64_t px = 0; px < NPX; px++) {
                    const int64_t OWp = fc_cdiv(OW - px, DW), TXp = fc_cdiv(OWp, TM);
                    for (int64_t tx = 0; tx < TXp; tx++, t++) {
                        const int64_t oy0 = py + DH * TM * ty, ox0 = px + DW * TM * tx;
                        const int ncol = (int)fc_min64(TM, OWp - TM * tx);
                        ok &= nhwc ? wt->output(M + t * kc, ms, kn, bk,
                                                y + ((n * OH + oy0) * OW + ox0) * K + k0,
                                                DH * OW * K, DW * K, nrow, ncol, flags)
                                   : wt->output(M + t * kc, ms, kn, bk, yr + ox0 * kn, OW * kn,
                                                DW * kn, nrow, ncol, flags);
                    }
                }
                if (!nhwc) /* y[n][k0 + k][py + DH*(4*ty + i)][ox] = yr[i][ox][k] */
                    for (int64_t i = 0; i < nrow; i++)
                        tr(yr + i * OW * kn, (size_t)kn,
                           y + ((n * K + k0) * OH + py + DH * (TM * ty + i)) * OW,
                           (size_t)(OH * OW), (size_t)OW, (size_t)kn);
            }
            if (!ok) FC_SFX(wino_flag)(&nonfinite);
        }
    }
    fc_free(slots);
    fc_ws_give(U);
    return nonfinite ? FC_EINVAL : FC_OK;
}

/* The four entry points of winograd.h: (tile, weight as given or flipped) */
#define FC_WINO_ENTRY(NAME, WFLIP, TILE)                                                     \
    int FC_SFX(NAME)(const fc_conv_geom *g, const FC_T *x, const FC_T *w, const FC_T *bias, \
                     FC_T *y, int relu, int isa, int nthreads) {                            \
        return FC_SFX(wino_conv2d)(g, x, w, bias, y, relu, isa, nthreads, WFLIP, TILE);     \
    }
FC_WINO_ENTRY(fc_wino_conv2d, 0, 4)
FC_WINO_ENTRY(fc_wino_conv2d_wflip, 1, 4)
FC_WINO_ENTRY(fc_wino2_conv2d, 0, 2)
FC_WINO_ENTRY(fc_wino2_conv2d_wflip, 1, 2)
#undef FC_WINO_ENTRY
