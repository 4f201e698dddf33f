/* The mv-grid kind: a ring or meshed medium-voltage grid of secondary substations. */
#include "worlds/internal.h"

static int
build(pg_world *w, const pg_recipe *r, pg_rng *rng, const pgi_profiles *prof,
      pgi_world_facts *facts, pg_error *err)
{
    (void)w;
    (void)r;
    (void)rng;
    (void)prof;
    (void)facts;
    return pg_error_set(err, PG_EUNSUPPORTED, "the mv-grid kind is not built yet");
}

const pgi_kind pgi_kind_mv_grid = {
    .pub = {.name = "mv-grid",
            .summary = "a ring or meshed medium-voltage grid of secondary substations",
            .source = "NA2XS2Y cable data; ring operation practice"},
    .specs = NULL,
    .n_specs = 0,
    .build = build,
};
