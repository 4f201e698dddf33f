/* Where a power-flow solve keeps its arrays (see pgi_pf_layout and pgi_pf_region in
 * pf_internal.h): blocks, one per group of arrays that live and die together, laid out by a
 * function that names the arrays twice (once to size the block, once to place them); for a large
 * network, carved from one region per solver.
 *
 * Why: a solve from scratch in a fresh process pays for every page it touches for the first time
 * (a page fault: about 10 us on a virtual machine, more than the arithmetic done on the page). A
 * solver that takes its memory from many separate allocations touches more fresh pages, which the
 * allocator gives back to the kernel when they are freed; a few blocks sized to what the solve
 * needs touch only what the arrays need. A large region asks for transparent huge pages, so that
 * one fault maps 2 MiB instead of 4 KiB (the kernel decides; without them it is ordinary memory).
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS and madvise's MADV_HUGEPAGE (Linux) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "powerflow/pf_internal.h"

#define ALIGN ((size_t)64)
#define HUGE ((size_t)2 << 20) /* a transparent huge page on x86-64 and arm64 */
#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
#define PGI_PF_HAVE_REGION 1
#endif

static size_t
round_up(size_t n, size_t to)
{
    return n > SIZE_MAX - (to - 1) ? SIZE_MAX : (n + to - 1) & ~(to - 1);
}

void *
pgi_pf_take(pgi_pf_layout *l, size_t n, size_t elem)
{
    if (n == 0)
        n = 1;
    size_t at = round_up(l->size, ALIGN);
    if (at == SIZE_MAX || n > (SIZE_MAX - at) / elem) {
        l->size = SIZE_MAX;
        return NULL;
    }
    l->size = at + n * elem;
    return l->base ? l->base + at : NULL;
}

/* ---------------------------------------------------------------- region */

void
pgi_pf_region_free(pgi_pf_region *rg)
{
#ifdef PGI_PF_HAVE_REGION
    if (rg->base)
        munmap(rg->base, rg->cap);
#endif
    memset(rg, 0, sizeof *rg);
}

void
pgi_pf_region_reserve(pgi_pf_region *rg, size_t size)
{
    size = round_up(size, ALIGN);
    if (rg->base && rg->cap >= size) {
        rg->used = 0;
        return;
    }
    pgi_pf_region_free(rg);
#ifdef PGI_PF_HAVE_REGION
    if (size < PGI_PF_HUGE_MIN || size > SIZE_MAX - 2 * HUGE)
        return;
    /* Map a huge page more than needed and keep the aligned part: the kernel backs an aligned
     * 2 MiB range marked MADV_HUGEPAGE with one huge page when it has one free. */
    size_t len = round_up(size, HUGE);
    char *p = mmap(NULL, len + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return;
    char *a = (char *)(((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    munmap(a + len, (size_t)(p + HUGE - a));
    madvise(a, len, MADV_HUGEPAGE); /* a hint: ignored where huge pages are off */
    rg->base = a;
    rg->cap = len;
#endif
}

size_t
pgi_pf_block_size(size_t size)
{
    return size == SIZE_MAX ? SIZE_MAX : round_up(size ? size : 1, ALIGN);
}

void *
pgi_pf_block_alloc(pgi_pf_region *rg, size_t size)
{
    if (size == SIZE_MAX)
        return NULL;
    size = round_up(size ? size : 1, ALIGN);
    if (rg && rg->base && size <= rg->cap - rg->used) {
        void *p = rg->base + rg->used;
        rg->used += size;
        return p;
    }
    return size == SIZE_MAX ? NULL : malloc(size);
}

void
pgi_pf_block_free(pgi_pf_region *rg, void *block, size_t size)
{
    if (!block)
        return;
    char *p = block;
    if (rg && rg->base && p >= rg->base && p < rg->base + rg->cap) {
        /* The last block given out goes back to the region; one below it stays taken until the
         * region is emptied (the solver frees its blocks in the reverse order it takes them). */
        if (p + round_up(size ? size : 1, ALIGN) == rg->base + rg->used)
            rg->used = (size_t)(p - rg->base);
        return;
    }
    free(block);
}
