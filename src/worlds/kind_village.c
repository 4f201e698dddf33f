/* The kind "village" of generated worlds (skeleton). */
#include "worlds/internal.h"

static int
build_village(pg_world *w, const pg_recipe *r, pg_rng *rng, const pgi_profiles *prof,
              pgi_world_facts *facts, pg_error *err)
{
    (void)w;
    (void)r;
    (void)rng;
    (void)prof;
    (void)facts;
    return pg_error_set(err, PG_EUNSUPPORTED, "the kind 'village' is not written yet");
}

static const pgi_param_spec specs_village[] = {
    {"households", "20", "", "", ""},
};

const pgi_kind pgi_kind_village = {
    .pub = {.name = "village", .summary = "", .source = ""},
    .specs = specs_village,
    .n_specs = sizeof specs_village / sizeof specs_village[0],
    .build = build_village,
};
