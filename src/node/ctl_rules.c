/* The rule-based controller: one rule set per profile (docs/controllers.md, "Rules"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "node/controllers.h"

static const char *const rules_params[] = {NULL};

static int
rules_create(void **state, const pg_node_config *cfg, uint64_t seed, pg_error *err)
{
    (void)cfg;
    (void)seed;
    (void)err;
    *state = NULL;
    return PG_OK;
}

static int
rules_plan(void *state, const pg_node_view *v, pg_node_plan *out, pg_error *err)
{
    (void)state;
    (void)v;
    (void)err;
    memset(out, 0, sizeof *out);
    out->hvac_kw = NAN;
    return PG_OK;
}

static void
rules_destroy(void *state)
{
    (void)state;
}

const pg_node_controller pgi_ctl_rules = {"rules",      "rule-based, one rule set per profile",
                                          rules_params, rules_create,
                                          rules_plan,   rules_destroy};
