/* Epilogue of the SIMD igemm/gemm kernel templates, included INSIDE their
 * function body: acc[FC_MR][FC_NV] (+ y if FC_FLAG_ACCUMULATE), relu, stored
 * to rows m < mr of stride ys, columns n < nr (masked last vector). */
{
    const int accumulate = (flags & FC_FLAG_ACCUMULATE) != 0;
    const int relu = (flags & FC_FLAG_RELU) != 0;
    if (nr == FC_NR) {
#pragma GCC unroll 32
        for (int m = 0; m < FC_MR; m++) {
            if ((size_t)m >= mr) break;
            FC_T *ym = y + m * ys;
#pragma GCC unroll 8
            for (int v = 0; v < FC_NV; v++) {
                FC_V r = acc[m][v];
                if (accumulate) r = FC_VADD(r, FC_VLOAD(ym + v * FC_L));
                if (relu) r = FC_VMAX0(r);
                FC_VSTORE(ym + v * FC_L, r);
            }
        }
    } else {
#pragma GCC unroll 32
        for (int m = 0; m < FC_MR; m++) {
            if ((size_t)m >= mr) break;
            FC_T *ym = y + m * ys;
#pragma GCC unroll 8
            for (int v = 0; v < FC_NV; v++) {
                const size_t lo = (size_t)v * FC_L;
                if (lo >= nr) break;
                const size_t n = nr - lo < FC_L ? nr - lo : FC_L;
                FC_V r = acc[m][v];
                if (n == FC_L) {
                    if (accumulate) r = FC_VADD(r, FC_VLOAD(ym + lo));
                    if (relu) r = FC_VMAX0(r);
                    FC_VSTORE(ym + lo, r);
                } else {
                    if (accumulate) r = FC_VADD(r, FC_VLOAD_PART(ym + lo, n));
                    if (relu) r = FC_VMAX0(r);
                    FC_VSTORE_PART(ym + lo, r, n);
                }
            }
        }
    }
}
