/* A name -> index table for the readers: looking up a bus by name must not cost a scan of every
 * bus when a world has tens of thousands of them. Keys are borrowed, not copied. */
#ifndef PG_MODEL_IO_NAMES_H
#define PG_MODEL_IO_NAMES_H

#include <stddef.h>

typedef struct pgi_names {
    const char **keys;
    size_t *values;
    size_t cap; /* a power of two, or 0 */
    size_t n;
} pgi_names;

/* Adds key -> value. Returns 0, 1 when the key is already there (*existing gets its value; the
 * table is unchanged), or -1 when out of memory. */
int pgi_names_put(pgi_names *t, const char *key, size_t value, size_t *existing);

/* The value of key, or (size_t)-1 when absent. */
size_t pgi_names_get(const pgi_names *t, const char *key);

void pgi_names_free(pgi_names *t);

#endif
