/* Reading a node config (plurigrid-node/1, docs/node-format.md) from a JSON object, for readers of
 * documents that hold node configs inline (a community scenario): errors point into their file. */
#ifndef PG_NODE_NODE_JSON_H
#define PG_NODE_NODE_JSON_H

#include <jansson.h>

#include "core/json_read.h"
#include "plurigrid/node.h"

/* Reads the node config obj at the current path of r. The "format" member is optional here (the
 * enclosing document has one); when present it must be "plurigrid-node/1". *out is written only
 * on success (pg_node_config_free). */
int pgi_node_config_from_json(pgi_jr *r, const json_t *obj, pg_node_config **out);

#endif
