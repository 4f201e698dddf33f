/* The table of kinds of generated worlds: each row is a builder with its documented parameters
 * (internal.h). A new kind is one row here and one file of its own. */
#include <string.h>

#include "worlds/internal.h"

static const pgi_kind *const kinds[] = {&pgi_kind_lv_feeder, &pgi_kind_mv_grid, &pgi_kind_village,
                                        &pgi_kind_nexus};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static pg_worlds_kind pub[N_KINDS];

const pg_worlds_kind *
pg_worlds_kinds(size_t *n)
{
    /* The public rows are copies of each kind's own (constant data, the same on every call). */
    for (size_t i = 0; i < N_KINDS; i++)
        pub[i] = kinds[i]->pub;
    if (n)
        *n = N_KINDS;
    return pub;
}

const pgi_kind *
pgi_kind_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(kinds[i]->pub.name, name) == 0)
            return kinds[i];
    return NULL;
}
