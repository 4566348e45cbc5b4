/* Template of the smallc_kvec micro-kernel (contract in smallc-kernels.h).
 * Include with FC_T, FC_SIMD (see dwconv-smallc-simd.h) and FC_NAME defined;
 * the tile follows from the ISA's register file: FC_SCK_NVMAX vectors of
 * output channels per block, FC_SCK_MRn output pixels per tile for a block
 * of n vectors (about 24 accumulators on AVX-512's 32 registers, 12 on
 * AVX2's 16).
 *
 * Vectorised over output channels: each tap broadcasts one input value per
 * pixel and multiplies a block of weight vectors, so the output of a tile is
 * pixel-major (NHWC) and full-width whatever the image width. The reduction
 * walks the padded, channel-interleaved rows in scratch: for dilation 1 the
 * KW*C values under one kernel row are contiguous, one loop of KW*C steps. */
#include "smallc-kernels.h"
#include "dwconv-smallc-simd.h"

#define FC_INLINE static inline __attribute__((always_inline))
#define FC_SCK_MRMAX 12
#if FC_SIMD == 3
#define FC_SCK_NVMAX 4
#define FC_SCK_MR1 12  /* 12 chains hide the FMA latency; 13 live pointers */
#define FC_SCK_MR2 12
#define FC_SCK_MR3 8
#define FC_SCK_MR4 6
#elif FC_SIMD == 2
#define FC_SCK_NVMAX 2
#define FC_SCK_MR1 8
#define FC_SCK_MR2 6
#define FC_SCK_MR3 6
#define FC_SCK_MR4 6
#else
#define FC_SCK_NVMAX 4
#define FC_SCK_MR1 4
#define FC_SCK_MR2 4
#define FC_SCK_MR3 4
#define FC_SCK_MR4 4
#endif

#if FC_SCK_MR1 > FC_SCK_MRMAX || FC_SCK_MR2 > FC_SCK_MRMAX || FC_SCK_MR4 > FC_SCK_MRMAX
#error "smallc_kvec: pixel tile larger than FC_SCK_MRMAX"
#endif

typedef struct {
    int64_t khs;          /* elements between kernel rows (DH padded rows) */
    int64_t segs, seglen; /* reduction segments of one kernel row: stride and length */
    int64_t nseg;
} fc_sck_red;

#if FC_SIMD == 3 && !defined(FC_T_IS_DOUBLE)
#include "tr16-avx512.h"
#endif

/* mr pixels (px: their scratch origins; only the first np are stored) x nv
 * vectors of output channels [k0, k0 + kn); wb: this block's packed weights. */
FC_INLINE void fc_sck_tile(const int nv, const int mr, const fc_smallc_args *a,
                           const fc_sck_red *rd, const FC_T *const *px, int np,
                           const FC_T *wb, int64_t q, int64_t k0, int64_t kn) {
    enum { NR = FC_SCK_NVMAX * FC_V };  /* == a->NR, the registry's nr */
    fc_vec acc[FC_SCK_MRMAX][FC_SCK_NVMAX];
    {
        const FC_T *bias = (const FC_T *)a->bias + k0;
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            fc_vec b = v_load(bias + v * FC_V);
#pragma GCC unroll 16
            for (int p = 0; p < mr; p++) acc[p][v] = b;
        }
    }
    for (int64_t kh = 0; kh < a->KH; kh++) {
        for (int64_t sg = 0; sg < rd->nseg; sg++) {
            /* j counts up to 0 and NR is a constant: no bound or stride
               register, so the mr pixel pointers stay in registers */
            const int64_t o = kh * rd->khs + sg * rd->segs + rd->seglen;
            const FC_T *pp[FC_SCK_MRMAX];
#pragma GCC unroll 16
            for (int p = 0; p < mr; p++) pp[p] = px[p] + o;
            for (int64_t j = -rd->seglen; j != 0; j++) {
                fc_vec wv[FC_SCK_NVMAX];
#pragma GCC unroll 4
                for (int v = 0; v < nv; v++) wv[v] = v_load(wb + v * FC_V);
                wb += NR;
#pragma GCC unroll 16
                for (int p = 0; p < mr; p++) {
                    fc_vec xb = v_set1(pp[p][j]);
#pragma GCC unroll 4
                    for (int v = 0; v < nv; v++) acc[p][v] = v_fma(xb, wv[v], acc[p][v]);
                }
            }
        }
    }
    const int relu = (a->flags & FC_FLAG_RELU) != 0;
    const int64_t K = a->K, last = kn - (int64_t)(nv - 1) * FC_V;
    const fc_mask m = m_first(last);
    const int64_t q0 = a->oh0 * a->OW + q;
    if (a->layout == FC_NHWC) {
        FC_T *y = (FC_T *)a->y + q0 * K + k0;
#pragma GCC unroll 16
        for (int p = 0; p < mr; p++) {
            if (p >= np) break;
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) {
                fc_vec r = relu ? v_relu(acc[p][v]) : acc[p][v];
                if (v == nv - 1 && last != FC_V) v_storem(y + p * K + v * FC_V, r, m);
                else v_store(y + p * K + v * FC_V, r);
            }
        }
    } else {
#if FC_SIMD == 3 && !defined(FC_T_IS_DOUBLE)
        /* NCHW: transpose each vector's (pixel x 16 channels) block in
           registers, then one masked store of np pixels per channel */
        const int64_t plane = a->OH * a->OW;
        FC_T *y = (FC_T *)a->y + k0 * plane + q0;
        const __mmask16 pm = (__mmask16)((1u << np) - 1u);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            __m512 r[16];
#pragma GCC unroll 16
            for (int p = 0; p < 16; p++)
                r[p] = p < mr ? (relu ? v_relu(acc[p][v]) : acc[p][v]) : _mm512_setzero_ps();
            fc_tr16_ps(r);
            const int64_t kv = fc_min64(FC_V, kn - v * FC_V);
#pragma GCC unroll 16
            for (int k = 0; k < 16; k++)
                if (k < kv) _mm512_mask_storeu_ps(y + (v * FC_V + k) * plane, pm, r[k]);
        }
#else
        /* NCHW: through a pixel-major buffer, then one contiguous run of np
           pixels per channel */
        FC_T t[FC_SCK_MRMAX][FC_SCK_NVMAX * FC_V];
#pragma GCC unroll 16
        for (int p = 0; p < mr; p++)
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                v_store(&t[p][v * FC_V], relu ? v_relu(acc[p][v]) : acc[p][v]);
        const int64_t plane = a->OH * a->OW;
        FC_T *y = (FC_T *)a->y + k0 * plane + q0;
        for (int64_t k = 0; k < kn; k++)
            for (int p = 0; p < np; p++) y[k * plane + p] = t[p][k];
#endif
    }
}

#if FC_SIMD == 3 && !defined(FC_T_IS_DOUBLE)
#define FC_SCK_GATHER_MAX 1024 /* interleaved values of one row gathered by index */
#endif

/* Padded row r of the run (input row oh0*SH + r - PT) as [col][c], col = iw + PL. */
static void fc_sck_fill(const fc_smallc_args *a, FC_T *buf, int64_t R, int64_t Wp) {
    const int64_t C = a->C, H = a->H, W = a->W, PL = a->PL;
    const FC_T *x = (const FC_T *)a->x;
    const int64_t lo = fc_min64(PL, Wp), n = fc_max64(0, fc_min64(W, Wp - lo));
#ifdef FC_SCK_GATHER_MAX
    /* NCHW: value j = i*C + c of an interleaved row is plane c's column i,
       offset idx[j] from plane 0's row: 16 values per gather (scalar
       stride-C stores were a fifth of LeNet conv2's time) */
    int32_t idx[FC_SCK_GATHER_MAX];
    const int gather = a->layout == FC_NCHW && n * C <= FC_SCK_GATHER_MAX &&
                       C * H * W <= INT32_MAX;
    if (gather)
        for (int64_t i = 0, j = 0; i < n; i++)
            for (int64_t c = 0; c < C; c++) idx[j++] = (int32_t)(c * H * W + i);
#endif
    for (int64_t r = 0; r < R; r++) {
        FC_T *d = buf + r * Wp * C;
        const int64_t ih = a->oh0 * a->SH + r - a->PT;
        if (ih < 0 || ih >= H) {
            memset(d, 0, (size_t)(Wp * C) * sizeof(FC_T));
            continue;
        }
        memset(d, 0, (size_t)(lo * C) * sizeof(FC_T));
        if (a->layout == FC_NHWC) {
            memcpy(d + lo * C, x + ih * W * C, (size_t)(n * C) * sizeof(FC_T));
#ifdef FC_SCK_GATHER_MAX
        } else if (gather) {
            const FC_T *s0 = x + ih * W;
            FC_T *dr = d + lo * C;
            int64_t j = 0;
            for (; j + 16 <= n * C; j += 16)
                _mm512_storeu_ps(dr + j, _mm512_i32gather_ps(_mm512_loadu_si512(idx + j), s0, 4));
            if (j < n * C) {
                const __mmask16 m = (__mmask16)((1u << (n * C - j)) - 1u);
                const __m512i ix = _mm512_maskz_loadu_epi32(m, idx + j);
                _mm512_mask_storeu_ps(dr + j, m,
                                      _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, ix, s0, 4));
            }
#endif
        } else {
            for (int64_t c = 0; c < C; c++) {
                const FC_T *s = x + (c * H + ih) * W;
                FC_T *dc = d + lo * C + c;
                for (int64_t i = 0; i < n; i++) dc[i * C] = s[i];
            }
        }
        memset(d + (lo + n) * C, 0, (size_t)((Wp - lo - n) * C) * sizeof(FC_T));
    }
}

void FC_NAME(const void *args) {
    const fc_smallc_args *a = (const fc_smallc_args *)args;
    const int64_t C = a->C, K = a->K, KW = a->KW, SW = a->SW, DW = a->DW, OW = a->OW;
    const int64_t rows = a->oh1 - a->oh0, NR = a->NR;
    if (rows <= 0) return;
    const int64_t R = (rows - 1) * a->SH + (a->KH - 1) * a->DH + 1;
    const int64_t Wp = fc_smallc_kvec_width(OW, KW, SW, DW);
    FC_T *buf = (FC_T *)a->scratch;
    fc_sck_fill(a, buf, R, Wp);
    fc_sck_red rd;
    rd.khs = a->DH * Wp * C;
    if (DW == 1) { rd.nseg = 1; rd.segs = 0; rd.seglen = KW * C; }
    else { rd.nseg = KW; rd.segs = DW * C; rd.seglen = C; }
    const int64_t T = a->KH * KW * C;
    /* pixel tile: the pixel count of the widest block the call has */
    const int nv0 = (int)fc_cdiv(fc_min64(K, NR), FC_V);
    int mr = nv0 >= 4 ? FC_SCK_MR4 : nv0 == 3 ? FC_SCK_MR3 : nv0 == 2 ? FC_SCK_MR2
                                                                   : FC_SCK_MR1;
    const int64_t npix = rows * OW, rstep = a->SH * Wp * C, cstep = SW * C;
#if FC_SCK_MR1 == 12
    /* one block of one vector: 10-pixel tiles where they waste fewer pixels
       than 12 (a 10x10 LeNet image: 10 tiles, not 8 and a third) */
    if (nv0 == 1 && K <= NR && fc_cdiv(npix, 10) * 10 < fc_cdiv(npix, 12) * 12)
        mr = 10;
#endif
    /* (row, column) of the tile's first pixel, stepped without divisions */
    int64_t i0 = 0, ow0 = 0;
    for (int64_t q = 0; q < npix; q += mr) {
        const int np = (int)fc_min64(mr, npix - q);
        const FC_T *px[FC_SCK_MRMAX];
        int64_t i = i0, ow = ow0;
        for (int p = 0; p < FC_SCK_MRMAX; p++) {
            px[p] = p < np ? buf + i * rstep + ow * cstep : px[0];
            if (++ow == OW) { ow = 0; i++; }
            if (p == mr - 1) { i0 = i; ow0 = ow; }
        }
        for (int64_t k0 = 0; k0 < K; k0 += NR) {
            const int64_t kn = fc_min64(NR, K - k0);
            const int nv = (int)fc_cdiv(kn, FC_V);
            const FC_T *wb = (const FC_T *)a->w + k0 * T;
            /* (nv, mr) pairs: (nv0, MR(nv0)) and, for a narrower last block, (nv, MR(NVMAX)) */
#define FC_SCK_CASE(NV, MR) \
            if (nv == NV && mr == MR) { fc_sck_tile(NV, MR, a, &rd, px, np, wb, q, k0, kn); continue; }
            FC_SCK_CASE(1, FC_SCK_MR1)
#if FC_SCK_MR1 == 12
            FC_SCK_CASE(1, 10)
#endif
#if FC_SCK_NVMAX >= 2
            FC_SCK_CASE(2, FC_SCK_MR2)
#endif
#if FC_SCK_NVMAX >= 3
            FC_SCK_CASE(3, FC_SCK_MR3)
#endif
#if FC_SCK_NVMAX >= 4
            FC_SCK_CASE(4, FC_SCK_MR4)
#endif
#if FC_SCK_NVMAX == 4
            FC_SCK_CASE(1, FC_SCK_MR4) FC_SCK_CASE(2, FC_SCK_MR4) FC_SCK_CASE(3, FC_SCK_MR4)
#elif FC_SCK_NVMAX == 2
            FC_SCK_CASE(1, FC_SCK_MR2)
#endif
#undef FC_SCK_CASE
        }
    }
}
