#include <stdio.h>
#include "cpu.h"

#if FC_X86 && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
/* XCR0 says which register states the OS saves: AVX needs bits 1-2, AVX-512 5-7. */
static uint64_t xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}
static int os_saves(uint64_t mask) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* OSXSAVE */
    return (xgetbv0() & mask) == mask;
}
int fc_cpu_isa_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("fma") && os_saves(0xE6))
        return FC_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && os_saves(0x6))
        return FC_ISA_AVX2;
    return FC_ISA_SCALAR;
}
const char *fc_cpu_features(void) {
    static char buf[256];
    static const char *names[] = {"sse4.2", "avx", "avx2", "fma", "avx512f", "avx512bw",
                                  "avx512vl", "avx512dq", "avx512vnni", "avx512bf16"};
    __builtin_cpu_init();
    int supported[10] = {
        __builtin_cpu_supports("sse4.2"), __builtin_cpu_supports("avx"),
        __builtin_cpu_supports("avx2"), __builtin_cpu_supports("fma"),
        __builtin_cpu_supports("avx512f"), __builtin_cpu_supports("avx512bw"),
        __builtin_cpu_supports("avx512vl"), __builtin_cpu_supports("avx512dq"),
        __builtin_cpu_supports("avx512vnni"), __builtin_cpu_supports("avx512bf16")};
    buf[0] = 0;
    for (int i = 0; i < 10; i++)
        if (supported[i]) {
            strncat(buf, names[i], sizeof(buf) - strlen(buf) - 2);
            strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
        }
    size_t n = strlen(buf);
    if (n) buf[n - 1] = 0;
    return buf;
}
#else
int fc_cpu_isa_level(void) { return FC_ISA_SCALAR; }
const char *fc_cpu_features(void) { return ""; }
#endif

int fc_omp_max_threads(void) {
#if FC_HAVE_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
