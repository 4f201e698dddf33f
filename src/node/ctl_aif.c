/* The active-inference controller of a home battery (being written): refuses to run for now. */
#include "node/controllers.h"

static const char *const aif_params[] = {NULL};

static int
aif_create(void **state, const pg_node_config *cfg, uint64_t seed, pg_error *err)
{
    (void)state;
    (void)cfg;
    (void)seed;
    return pg_error_set(err, PG_EUNSUPPORTED, "controller aif: not available in this build yet");
}

static int
aif_plan(void *state, const pg_node_view *v, pg_node_plan *out, pg_error *err)
{
    (void)state;
    (void)v;
    (void)out;
    return pg_error_set(err, PG_EUNSUPPORTED, "controller aif: not available in this build yet");
}

static void
aif_destroy(void *state)
{
    (void)state;
}

const pg_node_controller pgi_ctl_aif = {
    "aif", "active inference (home battery)", aif_params, aif_create, aif_plan, aif_destroy};
