/* Placeholders for the LP and active-inference controllers until their files land: both refuse
 * to run (PG_EUNSUPPORTED). */
#include "node/controllers.h"

static const char *const no_params[] = {NULL};

static int
pending_create(void **state, const pg_node_config *cfg, uint64_t seed, pg_error *err)
{
    (void)state;
    (void)cfg;
    (void)seed;
    return pg_error_set(err, PG_EUNSUPPORTED, "this controller is not available in this build");
}

static int
pending_plan(void *state, const pg_node_view *v, pg_node_plan *out, pg_error *err)
{
    (void)state;
    (void)v;
    (void)out;
    return pg_error_set(err, PG_EUNSUPPORTED, "this controller is not available in this build");
}

static void
pending_destroy(void *state)
{
    (void)state;
}

const pg_node_controller pgi_ctl_lp = {"lp",         "receding-horizon LP (not in this build)",
                                       no_params,    pending_create,
                                       pending_plan, pending_destroy};
const pg_node_controller pgi_ctl_aif = {"aif",        "active inference (not in this build)",
                                        no_params,    pending_create,
                                        pending_plan, pending_destroy};
