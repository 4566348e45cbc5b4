/* CPU feature detection and machine probes (peak FLOP/s, copy bandwidth). */
#ifndef FC_CPU_H
#define FC_CPU_H
#include "fastconv.h"

/* Highest ISA level (FC_ISA_*) this CPU and OS support. */
int fc_cpu_isa_level(void);
/* Feature flags as a space-separated string ("sse4.2 avx avx2 fma avx512f ..."). */
const char *fc_cpu_features(void);
/* fp32 FMA throughput of `nthreads` threads running a register-only loop at
 * ISA level `isa`, in GFLOP/s (2 flops per lane per FMA). */
double fc_fma_peak_gflops(int isa, int nthreads, double seconds);
/* Copy bandwidth (bytes read + written per second, GB/s) of `bytes`-sized buffers. */
double fc_copy_bandwidth_gbs(size_t bytes, int nthreads, int repeats);
/* Number of processors OpenMP would use by default (1 without OpenMP). */
int fc_omp_max_threads(void);
#endif
