/* The table of node controllers: a controller is one file defining a pg_node_controller and one
 * row here. A node config names its controller by the row's name. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "node/controllers.h"

static const pg_node_controller *const table[] = {&pgi_ctl_rules, &pgi_ctl_lp, &pgi_ctl_aif,
                                                  &pgi_ctl_wasm};
#define N_CONTROLLERS (sizeof table / sizeof table[0])

/* The controllers as one array of structs, for pg_node_controllers: the table holds pointers
 * because the rows are defined in their own files. */
static pg_node_controller rows[N_CONTROLLERS];
static pthread_once_t rows_once = PTHREAD_ONCE_INIT;

static void
fill_rows(void)
{
    for (size_t i = 0; i < N_CONTROLLERS; i++)
        rows[i] = *table[i];
}

const pg_node_controller *
pg_node_controllers(size_t *n)
{
    pthread_once(&rows_once, fill_rows);
    if (n)
        *n = N_CONTROLLERS;
    return rows;
}

const pg_node_controller *
pg_node_controller_find(const char *name, pg_error *err)
{
    char known[128] = "";
    size_t len = 0;
    for (size_t i = 0; i < N_CONTROLLERS; i++) {
        if (name && strcmp(name, table[i]->name) == 0)
            return table[i];
        int k = snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "", table[i]->name);
        if (k > 0 && (size_t)k < sizeof known - len)
            len += (size_t)k;
    }
    pg_error_set(err, PG_ENOTFOUND, "unknown controller '%s' (the controllers are: %s)",
                 name ? name : "(null)", known);
    return NULL;
}
