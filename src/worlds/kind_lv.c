/* The lv-feeder kind: a radial low-voltage feeder behind a secondary substation. */
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
    return pg_error_set(err, PG_EUNSUPPORTED, "the lv-feeder kind is not built yet");
}

const pgi_kind pgi_kind_lv_feeder = {
    .pub = {.name = "lv-feeder",
            .summary = "a radial low-voltage feeder behind a secondary substation",
            .source = "Kerber 2011; Dickert and Schegner 2011"},
    .specs = NULL,
    .n_specs = 0,
    .build = build,
};
