/* Helpers shared by the planar forward drivers (dwconv, smallc): work split
 * into tasks of a run of output rows of one plane or image, and the weight
 * transpose both pack. Driver-only code (no ISA intrinsics). */
#ifndef FC_ROW_TASKS_H
#define FC_ROW_TASKS_H
#include "fastconv.h"

/* Halve the row run until items * (runs per item) gives every thread about
 * four tasks, or the run is one row: keeps a few large planes balanced. */
static inline int64_t fc_row_run_for_threads(int64_t run, int64_t OH, int64_t items,
                                             int nthreads) {
    while (run > 1 && items * fc_cdiv(OH, run) < 4 * (int64_t)nthreads) run = fc_cdiv(run, 2);
    return run;
}

/* Task t of items x nruns runs of `run` rows: its item and rows [*oh0, *oh1). */
static inline int64_t fc_row_task(int64_t t, int64_t nruns, int64_t run, int64_t OH,
                                  int64_t *oh0, int64_t *oh1) {
    *oh0 = (t % nruns) * run;
    *oh1 = fc_min64(OH, *oh0 + run);
    return t / nruns;
}

/* dst[t * ld + r] = src[r * T + t] for r < R, t < T (float or double, dbl):
 * a (R, T) row-major matrix stored T-major with leading dimension ld. */
static inline void fc_pack_transposed(void *dst, const void *src, int64_t R, int64_t T, int64_t ld,
                                      int dbl) {
    for (int64_t r = 0; r < R; r++)
        for (int64_t t = 0; t < T; t++) {
            if (dbl) ((double *)dst)[t * ld + r] = ((const double *)src)[r * T + t];
            else ((float *)dst)[t * ld + r] = ((const float *)src)[r * T + t];
        }
}
#endif
