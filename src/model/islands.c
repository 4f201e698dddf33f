/* Island detection: which buses of a world are connected through branches in service. Power flow
 * solves each island on its own (each needs a reference bus) and dispatch balances each island and
 * fixes one angle in it; both take the islands from here. */
#include "model/model_internal.h"

#include <stdbool.h>

static size_t
find_root(size_t *parent, size_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static bool
live(const pg_world *w, size_t b)
{
    return w->buses[b].type != PG_BUS_ISOLATED;
}

size_t
pgi_world_islands(const pg_world *w, size_t *island)
{
    /* Union-find in island[] itself, the lower root always the parent, so that every bus's
     * parent is at or below it and the root of an island is its lowest bus. */
    size_t nb = w->n_buses;
    for (size_t b = 0; b < nb; b++)
        island[b] = b;
    for (size_t k = 0; k < w->n_branches; k++) {
        const pg_branch *br = &w->branches[k];
        if (!br->in_service || !live(w, br->from) || !live(w, br->to))
            continue;
        size_t a = find_root(island, br->from), c = find_root(island, br->to);
        if (a < c)
            island[c] = a;
        else if (c < a)
            island[a] = c;
    }
    /* Every parent is below its child, so in bus order a bus's parent already points at its
     * root: one pass leaves every bus pointing at its root, and a second numbers the roots (the
     * lowest bus of each island comes first) and gives the other buses their root's number.
     * Isolated buses are roots of their own that no other bus points to. */
    for (size_t b = 0; b < nb; b++)
        island[b] = island[island[b]];
    size_t n = 0;
    for (size_t b = 0; b < nb; b++) {
        if (!live(w, b))
            island[b] = PG_NONE;
        else if (island[b] == b)
            island[b] = n++;
        else
            island[b] = island[island[b]];
    }
    return n;
}
