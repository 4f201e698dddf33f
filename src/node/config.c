/* The node configuration: accessors and freeing. The reader of plurigrid-node/1 documents is in
 * node_json.c. */
#include <stdlib.h>
#include <string.h>

#include "node/internal.h"

void
pg_node_config_free(pg_node_config *c)
{
    if (!c)
        return;
    free(c->name);
    for (size_t i = 0; i < c->n_params; i++)
        free(c->param_key[i]);
    free(c->param_key);
    free(c->param_val);
    for (size_t i = 0; i < c->n_files; i++) {
        free(c->file_key[i]);
        free(c->file_val[i]);
    }
    free(c->file_key);
    free(c->file_val);
    for (size_t i = 0; i < c->n_devices; i++)
        free(c->devices[i].name);
    free(c->devices);
    for (size_t i = 0; i < c->n_inputs; i++)
        free(c->inputs[i]);
    free(c->inputs);
    free(c);
}

const char *
pg_node_config_name(const pg_node_config *c)
{
    return c->name;
}

pg_node_profile
pg_node_config_profile(const pg_node_config *c)
{
    return c->profile;
}

size_t
pg_node_config_n_inputs(const pg_node_config *c)
{
    return c->n_inputs;
}

const char *
pg_node_config_input(const pg_node_config *c, size_t i)
{
    return i < c->n_inputs ? c->inputs[i] : NULL;
}

double
pg_node_config_param(const pg_node_config *c, const char *key, double dflt)
{
    if (!c || !key)
        return dflt;
    for (size_t i = 0; i < c->n_params; i++)
        if (strcmp(c->param_key[i], key) == 0)
            return c->param_val[i];
    return dflt;
}

const char *
pg_node_config_file(const pg_node_config *c, const char *key)
{
    if (!c || !key)
        return NULL;
    for (size_t i = 0; i < c->n_files; i++)
        if (strcmp(c->file_key[i], key) == 0)
            return c->file_val[i];
    return NULL;
}

const char *
pg_node_profile_name(pg_node_profile p)
{
    switch (p) {
    case PG_NODE_OFFGRID: return "offgrid";
    case PG_NODE_RESIDENTIAL: return "residential";
    case PG_NODE_COMMERCIAL: return "commercial";
    case PG_NODE_DATACENTER: return "datacenter";
    }
    return "unknown";
}
