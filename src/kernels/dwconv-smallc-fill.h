/* Zero-padded, phase-split copy of input rows, shared by the NCHW depthwise
 * and small-channel kernel templates (include after dwconv-smallc-simd.h).
 *
 * Padded row r (input row r - PT) goes to dst + j*SW*ps (j = r - r0); within
 * it, phase q (padded columns q, q+SW, q+2SW, ...) starts at + q*ps, so a tap
 * at column offset t of an output row at stride SW reads phase t % SW from
 * index t / SW on, contiguously. Stride 1 is a plain copy and stride 2 a
 * vector deinterleave; larger strides and NHWC sources go element by element. */

static inline void fc_fill_span(FC_T *d, const FC_T *s, int64_t cs, int64_t W, int64_t PL,
                                int64_t SW, int64_t ps, int64_t i0, int64_t i1) {
    for (int64_t q = 0; q < SW; q++)
        for (int64_t i = i0; i < i1; i++) {
            int64_t iw = i * SW + q - PL;
            d[q * ps + i] = (iw >= 0 && iw < W) ? s[iw * cs] : (FC_T)0;
        }
}

/* Input row ih at x + ih*xs, its column iw at + iw*cs (cs > 1: one channel of NHWC). */
static inline void fc_fill_rows(FC_T *dst, const FC_T *x, int64_t xs, int64_t cs, int64_t H,
                                int64_t W, int64_t PT, int64_t PL, int64_t r0, int64_t R,
                                int64_t SW, int64_t ps) {
    for (int64_t j = 0; j < R; j++) {
        FC_T *d = dst + j * SW * ps;
        int64_t ih = r0 + j - PT;
        if (ih < 0 || ih >= H) {
            memset(d, 0, (size_t)(SW * ps) * sizeof(FC_T));
            continue;
        }
        const FC_T *s = x + ih * xs;
        if (cs == 1 && SW == 1) {
            /* the common case, at any width: pad, copy, pad */
            int64_t lo = fc_min64(PL, ps), n = fc_max64(0, fc_min64(W, ps - lo));
            memset(d, 0, (size_t)lo * sizeof(FC_T));
            memcpy(d + lo, s, (size_t)n * sizeof(FC_T));
            memset(d + lo + n, 0, (size_t)(ps - lo - n) * sizeof(FC_T));
            continue;
        }
        /* [ia, ib): indices whose SW source columns all lie inside the row */
        int64_t ia = fc_cdiv(PL, SW);
        int64_t ib = fc_fdiv(W - SW + PL, SW) + 1;
        ib = ib < 0 ? 0 : (ib > ps ? ps : ib);
        if (ia > ib) ia = ib;
        int64_t i = ia;
        if (cs == 1 && SW == 2 && FC_V > 1) {
            for (; i + FC_V <= ib; i += FC_V) {
                fc_vec e, o;
                v_deint2(v_load(s + 2 * i - PL), v_load(s + 2 * i - PL + FC_V), &e, &o);
                v_store(d + i, e);
                v_store(d + ps + i, o);
            }
        }
        /* from iz on every phase is past the right edge: plain zeros */
        int64_t iz = fc_min64(ps, fc_cdiv(W + PL, SW));
        if (iz < i) iz = i;
        fc_fill_span(d, s, cs, W, PL, SW, ps, 0, ia);
        fc_fill_span(d, s, cs, W, PL, SW, ps, i, iz);
        for (int64_t q = 0; q < SW; q++)
            memset(d + q * ps + iz, 0, (size_t)(ps - iz) * sizeof(FC_T));
    }
}
