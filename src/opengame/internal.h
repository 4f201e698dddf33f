/* Inside an open game: the node records the builder fills, the play order that pg_og_set_root
 * derives from the tree, and strategy profiles. Shared by the open-game files only. */
#ifndef PG_OPENGAME_INTERNAL_H
#define PG_OPENGAME_INTERNAL_H

#include "plurigrid/opengame.h"

/* A node's callback, by kind (a union because C cannot cast between data and function
 * pointers). */
typedef union og_fn {
    pg_og_nature_cb nature;
    pg_og_forward_cb forward;
    pg_og_payoff_cb payoff;
    pg_og_backward_cb backward;
} og_fn;

typedef struct og_node {
    pg_og_kind kind;
    char *name;
    size_t player;  /* decision: who decides; discount: whose utility, or PG_OG_ALL */
    size_t *inputs; /* variables read (a decision's observations) */
    size_t n_inputs;
    size_t out;     /* variable written, or PG_OG_NONE */
    size_t n_rows;  /* number of input tuples: product of the inputs' value counts */
    double *dtable; /* nature: n_rows x n_values(out); payoff: n_rows x n_players */
    int *itable;    /* forward: n_rows */
    bool has_fn;
    og_fn fn;
    void *ud;
    double factor; /* discount */
    pg_og_node *children;
    size_t n_children;
    bool attached; /* a child of some node, or the root */
} og_node;

struct pg_og {
    char *name;
    char **players;
    size_t n_players;
    char **var_names;
    size_t *var_n;
    char ***var_labels;
    size_t n_vars, cap_vars;
    og_node *nodes;
    size_t n_nodes, cap_nodes;
    pg_og_node root;   /* PG_OG_NONE until pg_og_set_root */
    pg_og_node *steps; /* atomic nodes in play order */
    size_t n_steps;
    size_t *decisions; /* step index of each decision, in play order */
    size_t n_decisions;
    size_t *decision_of; /* per node: its number among the decisions, or PG_OG_NONE */
    size_t max_values;   /* largest value count of any variable (scratch sizes) */
    size_t max_inputs;   /* largest input count of any node */
};

struct pg_og_profile {
    const pg_og *g;
    double **table;        /* per decision: n_obs x n_actions, NULL for a function */
    pg_og_strategy_cb *fn; /* per decision */
    void **ud;
};

/* Row of the input tuple in a table: the values of vars[0..n) in state, row-major. */
size_t pgi_og_row(const pg_og *g, const size_t *vars, size_t n, const int *state);

/* Looks up the mixed action of decision number k at observation obs (observed: the observed
 * values) into probs, checking a function strategy's answer. */
int pgi_og_strategy(const pg_og_profile *p, size_t k, size_t obs, const int *observed,
                    double *probs, pg_error *err);

/* Checks that probs (n numbers) is a probability vector, within 1e-9. */
int pgi_og_check_probs(const double *probs, size_t n, const char *what, const char *name,
                       pg_error *err);

#endif
