/* The ledger's hash tables (graph.h): open addressing with linear probing over 64-bit hashes that
 * are keyed SipHash of the keys, values uint32; a multimap, deletions leave markers that growing
 * clears. Also the one growth helper every array of the ledger uses. */
#include <stdlib.h>
#include <string.h>

#include "ledger/graph.h"

int
pgi_grow(void *p, size_t *cap, size_t need, size_t sz)
{
    void **pp = p;
    if (need <= *cap)
        return PG_OK;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*pp, c * sz);
    if (!q)
        return PG_ENOMEM;
    *pp = q;
    *cap = c;
    return PG_OK;
}

static int
rehash(pgi_htab *t, size_t cap)
{
    uint64_t *h = calloc(cap, sizeof *h);
    uint32_t *v = calloc(cap, sizeof *v);
    if (!h || !v) {
        free(h);
        free(v);
        return PG_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (t->v[i] < 2)
            continue;
        size_t j = t->h[i] & (cap - 1);
        while (v[j])
            j = (j + 1) & (cap - 1);
        h[j] = t->h[i];
        v[j] = t->v[i];
    }
    free(t->h);
    free(t->v);
    t->h = h;
    t->v = v;
    t->cap = cap;
    t->used = t->n;
    return PG_OK;
}

int
pgi_htab_put(pgi_htab *t, uint64_t h, uint32_t v)
{
    if ((t->used + 1) * 2 > t->cap) {
        /* At most a quarter full after, so deletions alone rehash at the same size. */
        size_t cap = t->cap ? t->cap : 64;
        while ((t->n + 1) * 4 > cap)
            cap *= 2;
        if (rehash(t, cap))
            return PG_ENOMEM;
    }
    size_t j = h & (t->cap - 1);
    while (t->v[j] >= 2)
        j = (j + 1) & (t->cap - 1);
    if (t->v[j] == 0)
        t->used++;
    t->h[j] = h;
    t->v[j] = v + 2;
    t->n++;
    return PG_OK;
}

bool
pgi_htab_next(const pgi_htab *t, uint64_t h, size_t *pos, uint32_t *v)
{
    if (!t->cap)
        return false;
    size_t j = *pos == SIZE_MAX ? h & (t->cap - 1) : (*pos + 1) & (t->cap - 1);
    for (; t->v[j]; j = (j + 1) & (t->cap - 1)) {
        if (t->v[j] >= 2 && t->h[j] == h) {
            *pos = j;
            *v = t->v[j] - 2;
            return true;
        }
    }
    return false;
}

void
pgi_htab_del(pgi_htab *t, size_t pos)
{
    t->v[pos] = 1;
    t->n--;
}

void
pgi_htab_free(pgi_htab *t)
{
    free(t->h);
    free(t->v);
    memset(t, 0, sizeof *t);
}
