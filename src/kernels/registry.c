#include <string.h>
#include "registry.h"

/* Prototypes: every kernel is declared here as a generic function; its own
 * file defines it with the op's real signature, and the driver casts back. */
#define FC_KERNEL(op, dtype, name, isa, mr, nr) extern void name(void);
#include "kernels.inc"
#undef FC_KERNEL

const fc_kernel_info fc_kernels[] = {
#define FC_KERNEL(op, dtype, name, isa, mr, nr) {#op, #dtype, #name, isa, mr, nr, (fc_any_fn)name},
#include "kernels.inc"
#undef FC_KERNEL
};
const size_t fc_num_kernels = sizeof(fc_kernels) / sizeof(fc_kernels[0]);

const fc_kernel_info *fc_kernel_select(const char *op, const char *dtype, int isa) {
    const fc_kernel_info *best = NULL;
    for (size_t i = 0; i < fc_num_kernels; i++) {
        const fc_kernel_info *k = &fc_kernels[i];
        /* the first character before strcmp: a driver selects a few kernels per
           call, and full compares over the list cost ~1 us of a small op */
        if (k->isa > isa || k->op[0] != op[0] || strcmp(k->op, op) != 0 ||
            strcmp(k->dtype, dtype) != 0)
            continue;
        if (best == NULL || k->isa > best->isa) best = k;
    }
    return best;
}

const fc_kernel_info *fc_kernel_by_name(const char *name) {
    for (size_t i = 0; i < fc_num_kernels; i++)
        if (strcmp(fc_kernels[i].name, name) == 0) return &fc_kernels[i];
    return NULL;
}
