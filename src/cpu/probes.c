/* Machine probes used by the benchmark suite to report % of peak. */
#include <time.h>
#include "cpu.h"

double fc_fma_loop__avx512(int64_t iters);
double fc_fma_loop__avx2(int64_t iters);

static double scalar_fma_loop(int64_t iters) {
    float acc[16];
    for (int i = 0; i < 16; i++) acc[i] = (float)i;
    for (int64_t it = 0; it < iters; it++)
        for (int i = 0; i < 16; i++) acc[i] = acc[i] * 0.999999f + 1e-7f;
    float s = 0;
    for (int i = 0; i < 16; i++) s += acc[i];
    return s;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

double fc_fma_peak_gflops(int isa, int nthreads, double seconds) {
    double (*loop)(int64_t) = scalar_fma_loop;
    int lanes = 1;
#if FC_X86
    if (isa >= FC_ISA_AVX512) { loop = fc_fma_loop__avx512; lanes = 16; }
    else if (isa >= FC_ISA_AVX2) { loop = fc_fma_loop__avx2; lanes = 8; }
#endif
    if (nthreads < 1) nthreads = 1;
    /* calibrate on one thread, then time all threads together; best of 5 */
    int64_t iters = 1 << 16;
    for (;;) {
        double t0 = now();
        loop(iters);
        double t = now() - t0;
        if (t > seconds / 10 || iters > ((int64_t)1 << 40)) break;
        iters *= 2;
    }
    double best = 0, sink = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
#pragma omp parallel num_threads(nthreads) reduction(+ : sink)
        sink += loop(iters);
        double t = now() - t0;
        double gf = 2.0 * 16 * lanes * (double)iters * nthreads / t * 1e-9;
        if (gf > best) best = gf;
    }
    return sink == 12345.678 ? 0 : best;
}

double fc_copy_bandwidth_gbs(size_t bytes, int nthreads, int repeats) {
    char *a = fc_alloc(bytes), *b = fc_alloc(bytes);
    if (!a || !b) { fc_free(a); fc_free(b); return 0; }
    memset(a, 1, bytes);
    memset(b, 0, bytes);
    if (nthreads < 1) nthreads = 1;
    double best = 0;
    for (int rep = 0; rep < repeats; rep++) {
        double t0 = now();
#pragma omp parallel num_threads(nthreads)
        {
            int64_t lo, hi;
            fc_split((int64_t)bytes, FC_NUM_THREADS(), FC_THREAD_ID(), &lo, &hi);
            memcpy(b + lo, a + lo, (size_t)(hi - lo));
        }
        double t = now() - t0;
        double gbs = 2.0 * bytes / t * 1e-9;
        if (gbs > best) best = gbs;
    }
    fc_free(a);
    fc_free(b);
    return best;
}
