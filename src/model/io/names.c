/* Open-addressing hash table from borrowed strings to indices (see names.h). */
#include "model/io/names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t
hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

static int
grow(pgi_names *t)
{
    size_t nc = t->cap ? t->cap * 2 : 64;
    const char **k = calloc(nc, sizeof *k);
    size_t *v = malloc(nc * sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return -1;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i])
            continue;
        size_t j = hash(t->keys[i]) & (nc - 1);
        while (k[j])
            j = (j + 1) & (nc - 1);
        k[j] = t->keys[i];
        v[j] = t->values[i];
    }
    free(t->keys);
    free(t->values);
    t->keys = k;
    t->values = v;
    t->cap = nc;
    return 0;
}

int
pgi_names_put(pgi_names *t, const char *key, size_t value, size_t *existing)
{
    if ((t->n + 1) * 2 > t->cap && grow(t))
        return -1;
    size_t j = hash(key) & (t->cap - 1);
    while (t->keys[j]) {
        if (strcmp(t->keys[j], key) == 0) {
            if (existing)
                *existing = t->values[j];
            return 1;
        }
        j = (j + 1) & (t->cap - 1);
    }
    t->keys[j] = key;
    t->values[j] = value;
    t->n++;
    return 0;
}

size_t
pgi_names_get(const pgi_names *t, const char *key)
{
    if (!t->cap)
        return (size_t)-1;
    size_t j = hash(key) & (t->cap - 1);
    while (t->keys[j]) {
        if (strcmp(t->keys[j], key) == 0)
            return t->values[j];
        j = (j + 1) & (t->cap - 1);
    }
    return (size_t)-1;
}

void
pgi_names_free(pgi_names *t)
{
    free(t->keys);
    free(t->values);
    memset(t, 0, sizeof *t);
}
