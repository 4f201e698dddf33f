/* The controllers of the node module's table (controller.c): each is defined in its own file,
 * ctl_rules.c, ctl_lp.c, ctl_aif.c and ctl_wasm.c. */
#ifndef PG_NODE_CONTROLLERS_H
#define PG_NODE_CONTROLLERS_H

#include "plurigrid/node.h"

extern const pg_node_controller pgi_ctl_rules, pgi_ctl_lp, pgi_ctl_aif, pgi_ctl_wasm;

#endif
