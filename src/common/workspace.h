/* A per-extension cache of one large workspace (packed weights), kept between
 * calls. Fresh pages cost a fault and a zeroing each: measured at 1 thread,
 * faulting in the 2.4 MB packed weights of a 256->256 3x3 layer took as long
 * as packing them (about 5% of the call), and 9.4 MB for 512 channels more.
 * One slot, taken and given back by atomic exchange, so concurrent calls
 * (the GIL is released) never share a buffer: a call that finds the slot
 * empty allocates its own. Buffers above FC_WORKSPACE_KEEP are not kept. */
#ifndef FC_WORKSPACE_H
#define FC_WORKSPACE_H

#include "fastconv.h"
#if defined(__linux__)
#include <sys/mman.h>
#endif

#ifndef FC_WORKSPACE_KEEP
#define FC_WORKSPACE_KEEP ((size_t)64 << 20)
#endif

/* the slot: a block whose first 64 bytes hold its usable size */
static void *fc_ws_slot = NULL;

static void fc_ws_release(void *blk) {
    if (blk != NULL) free(blk);
}

/* A 64-byte aligned buffer of at least `bytes` (huge pages asked for from
 * 4 MiB); give it back with fc_ws_give. NULL on failure. */
static inline void *fc_ws_take(size_t bytes) {
    void *blk = NULL;
#if defined(__GNUC__)
    blk = __atomic_exchange_n(&fc_ws_slot, NULL, __ATOMIC_ACQ_REL);
#endif
    if (blk != NULL) {
        if (*(size_t *)blk >= bytes) return (char *)blk + 64;
        fc_ws_release(blk);
        blk = NULL;
    }
    const size_t huge = (size_t)2 << 20;
    size_t total = ((bytes + 63) & ~(size_t)63) + 64;
    if (bytes >= 2 * huge) {
        total = (total + huge - 1) & ~(huge - 1);
        if (posix_memalign(&blk, huge, total) != 0) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        madvise(blk, total, MADV_HUGEPAGE);
#endif
    } else if (posix_memalign(&blk, 64, total) != 0) {
        return NULL;
    }
    *(size_t *)blk = total - 64;
    return (char *)blk + 64;
}

/* Return a buffer of fc_ws_take: kept for the next call unless it is too big
 * (the buffer it displaces, if any, is freed). */
static inline void fc_ws_give(void *p) {
    if (p == NULL) return;
    void *blk = (char *)p - 64;
#if defined(__GNUC__)
    if (*(size_t *)blk <= FC_WORKSPACE_KEEP) {
        fc_ws_release(__atomic_exchange_n(&fc_ws_slot, blk, __ATOMIC_ACQ_REL));
        return;
    }
#endif
    fc_ws_release(blk);
}

#endif
