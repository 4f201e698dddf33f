/* The subscription index of a bus (see bus_internal.h): patterns as keys of a hash table, and the
 * shapes of the patterns present, so that the subscriptions matching a subject are found with one
 * lookup per shape rather than a match per subscription. A community of a thousand nodes has
 * thousands of subscriptions but a handful of shapes. */
#include <stdlib.h>
#include <string.h>

#include "lattice/bus_internal.h"

struct pgi_bus_entry {
    uint64_t *sid; /* increasing */
    size_t n, cap;
    uint64_t hash;
    char pattern[]; /* NUL-terminated */
};

/* A shape: one character per token ('l' literal, '*', '>'), and how many patterns have it. */
struct pgi_bus_shape {
    size_t refs;
    size_t n_tokens;
    char code[PG_BUS_MAX_SUBJECT / 2 + 2];
};

static uint64_t
hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void
shape_of(const char *pattern, char *code, size_t *n_tokens)
{
    size_t k = 0;
    const char *t = pattern;
    for (;;) {
        const char *e = strchr(t, '.');
        size_t len = e ? (size_t)(e - t) : strlen(t);
        code[k++] = len == 1 && (*t == '*' || *t == '>') ? *t : 'l';
        if (!e)
            break;
        t = e + 1;
    }
    code[k] = '\0';
    *n_tokens = k;
}

/* The slot of pattern (of length len and hash h): its entry's, or the empty one it would go to. */
static size_t
find_slot(const pgi_bus_index *x, const char *pattern, size_t len, uint64_t h)
{
    size_t mask = x->cap - 1, i = (size_t)h & mask;
    while (x->slot[i]) {
        const pgi_bus_entry *e = x->slot[i];
        if (e->hash == h && strncmp(e->pattern, pattern, len) == 0 && e->pattern[len] == '\0')
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static bool
grow_table(pgi_bus_index *x)
{
    if (x->cap && (x->n + 1) * 2 <= x->cap)
        return true;
    size_t cap = x->cap ? 2 * x->cap : 16;
    pgi_bus_entry **slot = calloc(cap, sizeof *slot);
    if (!slot)
        return false;
    pgi_bus_index old = *x;
    x->slot = slot;
    x->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slot[i]) {
            pgi_bus_entry *e = old.slot[i];
            x->slot[find_slot(x, e->pattern, strlen(e->pattern), e->hash)] = e;
        }
    free(old.slot);
    return true;
}

int
pgi_bus_index_add(pgi_bus_index *x, const char *pattern, uint64_t sid, pg_error *err)
{
    /* Every allocation first, so that a failure changes nothing. */
    char code[sizeof x->shapes->code];
    size_t n_tokens;
    shape_of(pattern, code, &n_tokens);
    size_t shape = x->n_shapes;
    for (size_t s = 0; s < x->n_shapes; s++)
        if (strcmp(x->shapes[s].code, code) == 0)
            shape = s;
    if (shape == x->n_shapes && x->n_shapes == x->cap_shapes) {
        size_t cap = x->cap_shapes ? 2 * x->cap_shapes : 4;
        pgi_bus_shape *s = realloc(x->shapes, cap * sizeof *s);
        if (!s)
            return pg_error_set(err, PG_ENOMEM, "bus: out of memory");
        x->shapes = s;
        x->cap_shapes = cap;
    }
    if (!grow_table(x))
        return pg_error_set(err, PG_ENOMEM, "bus: out of memory");
    size_t len = strlen(pattern);
    uint64_t h = hash_bytes(pattern, len);
    size_t i = find_slot(x, pattern, len, h);
    pgi_bus_entry *e = x->slot[i];
    bool fresh = !e;
    if (fresh) {
        e = malloc(sizeof *e + len + 1);
        if (!e)
            return pg_error_set(err, PG_ENOMEM, "bus: out of memory");
        memcpy(e->pattern, pattern, len + 1);
        e->hash = h;
        e->sid = NULL;
        e->n = e->cap = 0;
    }
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 2;
        uint64_t *s = realloc(e->sid, cap * sizeof *s);
        if (!s) {
            if (fresh)
                free(e);
            return pg_error_set(err, PG_ENOMEM, "bus: out of memory");
        }
        e->sid = s;
        e->cap = cap;
    }
    /* sids only grow, so appending keeps them in order */
    e->sid[e->n++] = sid;
    if (fresh) {
        x->slot[i] = e;
        x->n++;
    }
    if (shape == x->n_shapes) {
        pgi_bus_shape *s = &x->shapes[x->n_shapes++];
        s->refs = 0;
        s->n_tokens = n_tokens;
        strcpy(s->code, code);
    }
    x->shapes[shape].refs++;
    return PG_OK;
}

void
pgi_bus_index_remove(pgi_bus_index *x, const char *pattern, uint64_t sid)
{
    if (!x->cap)
        return;
    size_t len = strlen(pattern);
    size_t i = find_slot(x, pattern, len, hash_bytes(pattern, len));
    pgi_bus_entry *e = x->slot[i];
    if (!e)
        return;
    size_t k = 0;
    while (k < e->n && e->sid[k] != sid)
        k++;
    if (k == e->n)
        return;
    memmove(e->sid + k, e->sid + k + 1, (e->n - k - 1) * sizeof *e->sid);
    e->n--;
    char code[sizeof x->shapes->code];
    size_t n_tokens;
    shape_of(pattern, code, &n_tokens);
    for (size_t s = 0; s < x->n_shapes; s++)
        if (strcmp(x->shapes[s].code, code) == 0 && --x->shapes[s].refs == 0) {
            memmove(x->shapes + s, x->shapes + s + 1, (x->n_shapes - s - 1) * sizeof *x->shapes);
            x->n_shapes--;
            break;
        }
    if (e->n > 0)
        return;
    /* Deletion from linear probing: move later entries of the run back into the hole when their
     * home slot does not lie between the hole and them. */
    free(e->sid);
    free(e);
    x->slot[i] = NULL;
    x->n--;
    size_t mask = x->cap - 1;
    for (size_t j = (i + 1) & mask; x->slot[j]; j = (j + 1) & mask) {
        size_t home = (size_t)x->slot[j]->hash & mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            x->slot[i] = x->slot[j];
            x->slot[j] = NULL;
            i = j;
        }
    }
}

static int
cmp_sid(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int
pgi_bus_index_match(const pgi_bus_index *x, const char *subject, uint64_t *buf, size_t cap,
                    uint64_t **out, size_t *n)
{
    *out = buf;
    *n = 0;
    if (!x->n)
        return PG_OK;
    /* the subject's tokens */
    const char *tok[PG_BUS_MAX_SUBJECT / 2 + 1];
    size_t tlen[PG_BUS_MAX_SUBJECT / 2 + 1], k = 0;
    for (const char *t = subject;;) {
        const char *e = strchr(t, '.');
        tok[k] = t;
        tlen[k++] = e ? (size_t)(e - t) : strlen(t);
        if (!e)
            break;
        t = e + 1;
    }
    /* the entries of the candidate patterns, one per shape that fits */
    const pgi_bus_entry *hit[64];
    const pgi_bus_entry **hits = hit;
    size_t n_hits = 0, total = 0;
    if (x->n_shapes > sizeof hit / sizeof *hit && !(hits = malloc(x->n_shapes * sizeof *hits)))
        return PG_ENOMEM;
    for (size_t s = 0; s < x->n_shapes; s++) {
        const pgi_bus_shape *sh = &x->shapes[s];
        bool rest = sh->code[sh->n_tokens - 1] == '>';
        if (rest ? sh->n_tokens - 1 >= k : sh->n_tokens != k)
            continue;
        char cand[PG_BUS_MAX_SUBJECT + 1];
        size_t len = 0;
        for (size_t t = 0; t < sh->n_tokens; t++) {
            if (t)
                cand[len++] = '.';
            if (sh->code[t] == 'l') {
                memcpy(cand + len, tok[t], tlen[t]);
                len += tlen[t];
            } else {
                cand[len++] = sh->code[t];
            }
        }
        cand[len] = '\0';
        size_t i = find_slot(x, cand, len, hash_bytes(cand, len));
        if (x->slot[i]) {
            hits[n_hits++] = x->slot[i];
            total += x->slot[i]->n;
        }
    }
    uint64_t *sids = buf;
    if (total > cap && !(sids = malloc(total * sizeof *sids))) {
        if (hits != hit)
            free(hits);
        return PG_ENOMEM;
    }
    size_t m = 0;
    for (size_t h = 0; h < n_hits; h++) {
        memcpy(sids + m, hits[h]->sid, hits[h]->n * sizeof *sids);
        m += hits[h]->n;
    }
    if (n_hits > 1)
        qsort(sids, m, sizeof *sids, cmp_sid);
    if (hits != hit)
        free(hits);
    *out = sids;
    *n = m;
    return PG_OK;
}

void
pgi_bus_index_free(pgi_bus_index *x)
{
    for (size_t i = 0; i < x->cap; i++)
        if (x->slot[i]) {
            free(x->slot[i]->sid);
            free(x->slot[i]);
        }
    free(x->slot);
    free(x->shapes);
    memset(x, 0, sizeof *x);
}
