/* The kind "nexus" of generated worlds (skeleton). */
#include "worlds/internal.h"

static int
build_nexus(pg_world *w, const pg_recipe *r, pg_rng *rng, const pgi_profiles *prof,
            pgi_world_facts *facts, pg_error *err)
{
    (void)w;
    (void)r;
    (void)rng;
    (void)prof;
    (void)facts;
    return pg_error_set(err, PG_EUNSUPPORTED, "the kind 'nexus' is not written yet");
}

static const pgi_param_spec specs_nexus[] = {
    {"households", "20", "", "", ""},
};

const pgi_kind pgi_kind_nexus = {
    .pub = {.name = "nexus", .summary = "", .source = ""},
    .specs = specs_nexus,
    .n_specs = sizeof specs_nexus / sizeof specs_nexus[0],
    .build = build_nexus,
};
