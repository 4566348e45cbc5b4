/* Epilogue of the portable igemm/gemm kernel templates, included INSIDE their
 * function body: acc[FC_MR][FC_NR] (+ y if FC_FLAG_ACCUMULATE), relu (NaN
 * kept), stored to rows m < mr of stride ys, columns n < nr. */
    for (size_t m = 0; m < mr; m++) {
        FC_T *ym = y + m * ys;
        for (size_t n = 0; n < nr; n++) {
            FC_T v = acc[m][n];
            if (flags & FC_FLAG_ACCUMULATE) v += ym[n];
            if ((flags & FC_FLAG_RELU) && !(v > 0)) v = (v != v) ? v : (FC_T)0;
            ym[n] = v;
        }
    }
