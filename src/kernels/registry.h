/* Kernel registry: every micro-kernel listed in kernels.inc, and the
 * dispatcher that picks one for an (op, dtype, isa level). */
#ifndef FC_REGISTRY_H
#define FC_REGISTRY_H
#include "fastconv.h"

typedef void (*fc_any_fn)(void);

typedef struct {
    const char *op, *dtype, *name;
    int isa, mr, nr;
    fc_any_fn fn;
} fc_kernel_info;

extern const fc_kernel_info fc_kernels[];
extern const size_t fc_num_kernels;

/* Best kernel for (op, dtype) at ISA level `isa`; NULL if none. */
const fc_kernel_info *fc_kernel_select(const char *op, const char *dtype, int isa);

/* The kernel of that exact name; NULL if none (tests force one this way). */
const fc_kernel_info *fc_kernel_by_name(const char *name);
#endif
