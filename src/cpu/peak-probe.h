/* Template of the FMA peak probe: 16 independent accumulator vectors, enough
 * to cover FMA latency x ports on current cores. Include with FC_VEC, FC_FMA,
 * FC_SET1, FC_ADD, FC_LANES and FC_NAME defined. */
#include "cpu.h"

double FC_NAME(int64_t iters) {
    FC_VEC acc[16];
    const FC_VEC a = FC_SET1(0.999999f), b = FC_SET1(1e-7f);
    for (int i = 0; i < 16; i++) acc[i] = FC_SET1((float)i);
    for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) acc[i] = FC_FMA(acc[i], a, b);
    }
    FC_VEC s = acc[0];
    for (int i = 1; i < 16; i++) s = FC_ADD(s, acc[i]);
    float out[FC_LANES];
    memcpy(out, &s, sizeof(out));
    return (double)out[0]; /* keeps the loop alive */
}
