/* Work items split as schedule(static) splits them, each thread taking its
 * own share from the front and then, when that is done, the others' from the
 * back. A thread works where its static share lies (the weight panels it
 * packed are in its own L2: a weight-heavy layer's items read 0.6-2.4 MB of
 * them), while a thread the OS deschedules on a shared box still does not
 * hold the others up, as with schedule(dynamic). Each item must be computed
 * the same whoever takes it (the drivers' results do not depend on it). */
#ifndef FC_STEAL_H
#define FC_STEAL_H
#include "fastconv.h"

/* The items [lo, hi) thread t has not started; one cache line per thread. */
typedef struct {
    int64_t lo, hi;
    int lock;
    char pad[64 - 2 * sizeof(int64_t) - sizeof(int)];
} fc_steal_slot;

/* Slots for `nslots` threads over `total` items (fc_split shares); NULL when
 * out of memory. Free with fc_free after the parallel region. */
static inline fc_steal_slot *fc_steal_new(int64_t total, int nslots) {
    fc_steal_slot *s = (fc_steal_slot *)fc_alloc((size_t)nslots * sizeof(fc_steal_slot));
    if (s == NULL) return NULL;
    for (int t = 0; t < nslots; t++) {
        fc_split(total, nslots, t, &s[t].lo, &s[t].hi);
        s[t].lock = 0;
    }
    return s;
}

/* The next item of slot s (front or back), -1 when it has none left. The
 * lock is held for a few instructions only. */
static inline int64_t fc_steal_pop(fc_steal_slot *s, int back) {
    while (__atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&s->lock, __ATOMIC_RELAXED)) {
        }
    int64_t it = -1;
    if (s->lo < s->hi) it = back ? --s->hi : s->lo++;
    __atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
    return it;
}

/* Thread tid's next item: its own first, then the others' (a team smaller
 * than nslots leaves slots that only stealing empties); -1 when all are done. */
static inline int64_t fc_steal_next(fc_steal_slot *slots, int nslots, int tid) {
    int64_t it = tid < nslots ? fc_steal_pop(&slots[tid], 0) : -1;
    for (int k = 1; it < 0 && k <= nslots; k++)
        it = fc_steal_pop(&slots[(tid + k) % nslots], 1);
    return it;
}

/* Units per item when `total` units are split into about 8 items a thread
 * (fine enough for stealing to even the threads out, coarse enough to keep
 * each thread's share one contiguous stream). */
static inline int64_t fc_steal_chunk(int64_t total, int nthreads) {
    const int64_t c = total / (8 * (int64_t)nthreads);
    return c > 0 ? c : 1;
}

/* `total` units in chunks of fc_steal_chunk, handed out by fc_steal_range */
typedef struct {
    fc_steal_slot *slots;
    int64_t total, chunk;
    int nslots;
} fc_steal_work;

/* Chunks a multiple of `quantum` units (a kernel's row group); 0 when out of
 * memory (free w->slots with fc_free after the parallel region). */
static inline int fc_steal_work_init(fc_steal_work *w, int64_t total, int nthreads,
                                     int64_t quantum) {
    w->total = total;
    w->chunk = (fc_steal_chunk(total, nthreads) + quantum - 1) / quantum * quantum;
    w->nslots = nthreads;
    w->slots = fc_steal_new(total > 0 ? (total + w->chunk - 1) / w->chunk : 0, nthreads);
    return w->slots != NULL;
}

/* Thread tid's next chunk of units [*i0, *i1); 0 when all are done. */
static inline int fc_steal_range(fc_steal_work *w, int tid, int64_t *i0, int64_t *i1) {
    const int64_t ch = fc_steal_next(w->slots, w->nslots, tid);
    if (ch < 0) return 0;
    *i0 = ch * w->chunk;
    *i1 = *i0 + w->chunk < w->total ? *i0 + w->chunk : w->total;
    return 1;
}

/* The next of `total` items handed out in order to whichever thread asks
 * (schedule(dynamic, 1) as a function, for loops that choose their order at
 * run time); -1 when all are taken. */
static inline int64_t fc_shared_next(int64_t *next, int64_t total) {
    const int64_t it = __atomic_fetch_add(next, 1, __ATOMIC_RELAXED);
    return it < total ? it : -1;
}
#endif
