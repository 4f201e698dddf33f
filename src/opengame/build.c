/* Building open games: players, variables, atomic nodes (decision, nature, forward function,
 * payoff, backward function, discount), sequential and parallel composition, and the final check
 * in pg_og_set_root that turns the tree into a play order and refuses games whose information
 * flow is wrong (a variable read before it is written, parallel parts that see each other). */
#include "opengame/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Tables bigger than this many rows are refused: the game would not be small and finite. */
#define MAX_ROWS ((size_t)1 << 24)

int
pg_og_new(pg_og **out, const char *name, size_t n_players, const char *const *players,
          pg_error *err)
{
    if (!out || (n_players && !players))
        return pg_error_set(err, PG_EINVAL, "pg_og_new: argument is NULL");
    if (n_players == 0)
        return pg_error_set(err, PG_EMODEL, "a game needs at least one player");
    for (size_t i = 0; i < n_players; i++) {
        if (!players[i] || !players[i][0])
            return pg_error_set(err, PG_EMODEL, "player %zu has no name", i + 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(players[i], players[j]) == 0)
                return pg_error_set(err, PG_EMODEL, "two players are named '%s'", players[i]);
    }
    pg_og *g = calloc(1, sizeof *g);
    if (!g)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    g->root = PG_OG_NONE;
    g->name = pgi_strdup(name ? name : "game");
    g->players = calloc(n_players, sizeof *g->players);
    if (!g->name || !g->players)
        goto nomem;
    g->n_players = n_players;
    for (size_t i = 0; i < n_players; i++)
        if (!(g->players[i] = pgi_strdup(players[i])))
            goto nomem;
    *out = g;
    return PG_OK;
nomem:
    pg_og_free(g);
    return pg_error_set(err, PG_ENOMEM, "out of memory");
}

void
pg_og_free(pg_og *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_players; i++)
        free(g->players[i]);
    free(g->players);
    for (size_t v = 0; v < g->n_vars; v++) {
        free(g->var_names[v]);
        for (size_t k = 0; k < g->var_n[v]; k++)
            free(g->var_labels[v][k]);
        free(g->var_labels[v]);
    }
    free(g->var_names);
    free(g->var_n);
    free(g->var_labels);
    for (size_t k = 0; k < g->n_nodes; k++) {
        og_node *n = &g->nodes[k];
        free(n->name);
        free(n->inputs);
        free(n->dtable);
        free(n->itable);
        free(n->children);
    }
    free(g->nodes);
    free(g->steps);
    free(g->decisions);
    free(g->decision_of);
    free(g->name);
    free(g);
}

static int
not_final(const pg_og *g, pg_error *err)
{
    if (g->root != PG_OG_NONE)
        return pg_error_set(err, PG_ESTATE,
                            "game '%s' is finished (pg_og_set_root was called); "
                            "it cannot change",
                            g->name);
    return PG_OK;
}

int
pg_og_add_variable(pg_og *g, const char *name, size_t n_values, const char *const *labels,
                   size_t *index, pg_error *err)
{
    if (!g)
        return pg_error_set(err, PG_EINVAL, "pg_og_add_variable: game is NULL");
    int rc = not_final(g, err);
    if (rc)
        return rc;
    if (!name || !name[0])
        return pg_error_set(err, PG_EMODEL, "every variable needs a name");
    if (n_values == 0)
        return pg_error_set(err, PG_EMODEL, "variable '%s' needs at least one value", name);
    if (n_values > (size_t)1 << 20)
        return pg_error_set(err, PG_ELIMIT, "variable '%s' has %zu values; at most 1048576", name,
                            n_values);
    for (size_t v = 0; v < g->n_vars; v++)
        if (strcmp(g->var_names[v], name) == 0)
            return pg_error_set(err, PG_EMODEL, "two variables are named '%s'", name);
    if (g->n_vars == g->cap_vars) {
        size_t nc = g->cap_vars ? 2 * g->cap_vars : 8;
        char **nn = realloc(g->var_names, nc * sizeof *nn);
        if (!nn)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        g->var_names = nn;
        size_t *vn = realloc(g->var_n, nc * sizeof *vn);
        if (!vn)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        g->var_n = vn;
        char ***vl = realloc(g->var_labels, nc * sizeof *vl);
        if (!vl)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        g->var_labels = vl;
        g->cap_vars = nc;
    }
    char *nm = pgi_strdup(name);
    char **lab = NULL;
    if (!nm)
        goto nomem;
    lab = calloc(n_values, sizeof *lab);
    if (!lab)
        goto nomem;
    for (size_t k = 0; k < n_values; k++) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%zu", k);
        if (!(lab[k] = pgi_strdup(labels && labels[k] ? labels[k] : tmp)))
            goto nomem;
    }
    g->var_names[g->n_vars] = nm;
    g->var_n[g->n_vars] = n_values;
    g->var_labels[g->n_vars] = lab;
    if (index)
        *index = g->n_vars;
    g->n_vars++;
    return PG_OK;
nomem:
    free(nm);
    if (lab)
        for (size_t k = 0; k < n_values; k++)
            free(lab[k]);
    free(lab);
    return pg_error_set(err, PG_ENOMEM, "out of memory");
}

/* Appends a node with its name and inputs checked; the caller fills the rest. */
static int
new_node(pg_og *g, pg_og_kind kind, const char *name, const size_t *inputs, size_t n_inputs,
         size_t out, og_node **node, pg_og_node *index, pg_error *err)
{
    if (!g)
        return pg_error_set(err, PG_EINVAL, "game is NULL");
    int rc = not_final(g, err);
    if (rc)
        return rc;
    if (!name || !name[0])
        return pg_error_set(err, PG_EMODEL, "every node of game '%s' needs a name", g->name);
    for (size_t k = 0; k < g->n_nodes; k++)
        if (strcmp(g->nodes[k].name, name) == 0)
            return pg_error_set(err, PG_EMODEL, "two nodes of game '%s' are named '%s'", g->name,
                                name);
    if (n_inputs && !inputs)
        return pg_error_set(err, PG_EINVAL, "node '%s': inputs are NULL", name);
    size_t rows = 1;
    for (size_t i = 0; i < n_inputs; i++) {
        if (inputs[i] >= g->n_vars)
            return pg_error_set(err, PG_EMODEL,
                                "node '%s' reads variable %zu, which does not "
                                "exist (the game has %zu)",
                                name, inputs[i], g->n_vars);
        for (size_t j = 0; j < i; j++)
            if (inputs[j] == inputs[i])
                return pg_error_set(err, PG_EMODEL, "node '%s' lists variable '%s' twice", name,
                                    g->var_names[inputs[i]]);
        if (rows > MAX_ROWS / g->var_n[inputs[i]])
            return pg_error_set(err, PG_ELIMIT,
                                "node '%s' reads too many combinations of values (more than %zu)",
                                name, MAX_ROWS);
        rows *= g->var_n[inputs[i]];
    }
    if (out != PG_OG_NONE && out >= g->n_vars)
        return pg_error_set(err, PG_EMODEL, "node '%s' writes variable %zu, which does not exist",
                            name, out);
    if (g->n_nodes == g->cap_nodes) {
        size_t nc = g->cap_nodes ? 2 * g->cap_nodes : 16;
        og_node *nn = realloc(g->nodes, nc * sizeof *nn);
        if (!nn)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        g->nodes = nn;
        g->cap_nodes = nc;
    }
    og_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->out = out;
    n->player = PG_OG_NONE;
    n->n_rows = rows;
    n->name = pgi_strdup(name);
    if (n_inputs) {
        n->inputs = malloc(n_inputs * sizeof *n->inputs);
        if (n->inputs)
            memcpy(n->inputs, inputs, n_inputs * sizeof *inputs);
    }
    if (!n->name || (n_inputs && !n->inputs)) {
        free(n->name);
        free(n->inputs);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    n->n_inputs = n_inputs;
    if (n_inputs > g->max_inputs)
        g->max_inputs = n_inputs;
    *node = n;
    if (index)
        *index = g->n_nodes;
    g->n_nodes++;
    return PG_OK;
}

/* Removes the node new_node just appended (when filling it failed). */
static void
drop_last(pg_og *g)
{
    og_node *n = &g->nodes[--g->n_nodes];
    free(n->name);
    free(n->inputs);
    free(n->dtable);
    free(n->itable);
    free(n->children);
}

int
pgi_og_check_probs(const double *probs, size_t n, const char *what, const char *name, pg_error *err)
{
    double total = 0;
    for (size_t k = 0; k < n; k++) {
        if (!(probs[k] >= 0) || !isfinite(probs[k]))
            return pg_error_set(err, PG_EMODEL, "%s '%s': probability %g is not in [0, 1]", what,
                                name, probs[k]);
        total += probs[k];
    }
    if (fabs(total - 1.0) > 1e-9)
        return pg_error_set(err, PG_EMODEL, "%s '%s': probabilities sum to %.12g, not 1", what,
                            name, total);
    return PG_OK;
}

int
pg_og_decision(pg_og *g, const char *name, size_t player, const size_t *observes, size_t n_observes,
               size_t out_var, pg_og_node *node, pg_error *err)
{
    if (g && player >= g->n_players)
        return pg_error_set(err, PG_EMODEL, "decision '%s': player %zu does not exist",
                            name ? name : "?", player);
    if (out_var == PG_OG_NONE)
        return pg_error_set(err, PG_EMODEL, "decision '%s' needs an output variable",
                            name ? name : "?");
    og_node *n = NULL;
    int rc = new_node(g, PG_OG_DECISION, name, observes, n_observes, out_var, &n, node, err);
    if (rc)
        return rc;
    n->player = player;
    return PG_OK;
}

static int
nature_common(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs, size_t out_var,
              const double *table, const pg_og_nature_cb fn, void *ud, pg_og_node *node,
              pg_error *err)
{
    if (out_var == PG_OG_NONE)
        return pg_error_set(err, PG_EMODEL, "nature '%s' needs an output variable",
                            name ? name : "?");
    if (!table && !fn)
        return pg_error_set(err, PG_EINVAL, "nature '%s' needs a table or a function",
                            name ? name : "?");
    og_node *n = NULL;
    int rc = new_node(g, PG_OG_NATURE, name, inputs, n_inputs, out_var, &n, node, err);
    if (rc)
        return rc;
    if (!table) {
        n->has_fn = true;
        n->fn.nature = fn;
        n->ud = ud;
        return PG_OK;
    }
    size_t nv = g->var_n[out_var];
    n->dtable = malloc(n->n_rows * nv * sizeof *n->dtable);
    if (!n->dtable) {
        drop_last(g);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    memcpy(n->dtable, table, n->n_rows * nv * sizeof *table);
    for (size_t r = 0; r < n->n_rows; r++) {
        rc = pgi_og_check_probs(table + r * nv, nv, "nature", name, err);
        if (rc) {
            drop_last(g);
            return rc;
        }
    }
    return PG_OK;
}

int
pg_og_nature(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs, size_t out_var,
             const double *table, pg_og_node *node, pg_error *err)
{
    return nature_common(g, name, inputs, n_inputs, out_var, table, NULL, NULL, node, err);
}

int
pg_og_nature_fn(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs, size_t out_var,
                pg_og_nature_cb fn, void *ud, pg_og_node *node, pg_error *err)
{
    if (!fn)
        return pg_error_set(err, PG_EINVAL, "nature '%s': function is NULL", name ? name : "?");
    return nature_common(g, name, inputs, n_inputs, out_var, NULL, fn, ud, node, err);
}

int
pg_og_forward(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs, size_t out_var,
              const int *table, pg_og_node *node, pg_error *err)
{
    if (!table)
        return pg_error_set(err, PG_EINVAL, "function '%s': table is NULL", name ? name : "?");
    if (out_var == PG_OG_NONE)
        return pg_error_set(err, PG_EMODEL, "function '%s' needs an output variable",
                            name ? name : "?");
    og_node *n = NULL;
    int rc = new_node(g, PG_OG_FORWARD, name, inputs, n_inputs, out_var, &n, node, err);
    if (rc)
        return rc;
    for (size_t r = 0; r < n->n_rows; r++)
        if (table[r] < 0 || (size_t)table[r] >= g->var_n[out_var]) {
            rc = pg_error_set(err, PG_EMODEL,
                              "function '%s': row %zu gives value %d, but variable '%s' has "
                              "values 0 to %zu",
                              name, r, table[r], g->var_names[out_var], g->var_n[out_var] - 1);
            drop_last(g);
            return rc;
        }
    n->itable = malloc(n->n_rows * sizeof *n->itable);
    if (!n->itable) {
        drop_last(g);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    memcpy(n->itable, table, n->n_rows * sizeof *table);
    return PG_OK;
}

int
pg_og_forward_fn(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs, size_t out_var,
                 pg_og_forward_cb fn, void *ud, pg_og_node *node, pg_error *err)
{
    if (!fn)
        return pg_error_set(err, PG_EINVAL, "function '%s': function is NULL", name ? name : "?");
    if (out_var == PG_OG_NONE)
        return pg_error_set(err, PG_EMODEL, "function '%s' needs an output variable",
                            name ? name : "?");
    og_node *n = NULL;
    int rc = new_node(g, PG_OG_FORWARD, name, inputs, n_inputs, out_var, &n, node, err);
    if (rc)
        return rc;
    n->has_fn = true;
    n->fn.forward = fn;
    n->ud = ud;
    return PG_OK;
}

int
pg_og_payoff(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs, const double *table,
             pg_og_node *node, pg_error *err)
{
    if (!table)
        return pg_error_set(err, PG_EINVAL, "payoff '%s': table is NULL", name ? name : "?");
    og_node *n = NULL;
    int rc = new_node(g, PG_OG_PAYOFF, name, inputs, n_inputs, PG_OG_NONE, &n, node, err);
    if (rc)
        return rc;
    size_t m = n->n_rows * g->n_players;
    for (size_t k = 0; k < m; k++)
        if (!isfinite(table[k])) {
            drop_last(g);
            return pg_error_set(err, PG_EMODEL, "payoff '%s': entry %zu is not a finite number",
                                name, k);
        }
    n->dtable = malloc(m * sizeof *n->dtable);
    if (!n->dtable) {
        drop_last(g);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    memcpy(n->dtable, table, m * sizeof *table);
    return PG_OK;
}

int
pg_og_payoff_fn(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs,
                pg_og_payoff_cb fn, void *ud, pg_og_node *node, pg_error *err)
{
    if (!fn)
        return pg_error_set(err, PG_EINVAL, "payoff '%s': function is NULL", name ? name : "?");
    og_node *n = NULL;
    int rc = new_node(g, PG_OG_PAYOFF, name, inputs, n_inputs, PG_OG_NONE, &n, node, err);
    if (rc)
        return rc;
    n->has_fn = true;
    n->fn.payoff = fn;
    n->ud = ud;
    return PG_OK;
}

int
pg_og_backward_fn(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs,
                  pg_og_backward_cb fn, void *ud, pg_og_node *node, pg_error *err)
{
    if (!fn)
        return pg_error_set(err, PG_EINVAL, "backward function '%s': function is NULL",
                            name ? name : "?");
    og_node *n = NULL;
    int rc = new_node(g, PG_OG_BACKWARD, name, inputs, n_inputs, PG_OG_NONE, &n, node, err);
    if (rc)
        return rc;
    n->has_fn = true;
    n->fn.backward = fn;
    n->ud = ud;
    return PG_OK;
}

int
pg_og_discount(pg_og *g, const char *name, double factor, size_t player, pg_og_node *node,
               pg_error *err)
{
    if (!(factor >= 0) || !isfinite(factor))
        return pg_error_set(err, PG_EMODEL, "discount '%s': factor must be finite and >= 0, got %g",
                            name ? name : "?", factor);
    if (g && player != PG_OG_ALL && player >= g->n_players)
        return pg_error_set(err, PG_EMODEL, "discount '%s': player %zu does not exist",
                            name ? name : "?", player);
    og_node *n = NULL;
    int rc = new_node(g, PG_OG_DISCOUNT, name, NULL, 0, PG_OG_NONE, &n, node, err);
    if (rc)
        return rc;
    n->factor = factor;
    n->player = player;
    return PG_OK;
}

static int
compose(pg_og *g, pg_og_kind kind, const char *name, const pg_og_node *children, size_t n,
        pg_og_node *node, pg_error *err)
{
    const char *what = kind == PG_OG_SEQ ? "seq" : "par";
    if (n && !children)
        return pg_error_set(err, PG_EINVAL, "%s '%s': children are NULL", what, name ? name : "?");
    if (g)
        for (size_t i = 0; i < n; i++) {
            if (children[i] >= g->n_nodes)
                return pg_error_set(err, PG_EMODEL, "%s '%s': child %zu is not a node of game '%s'",
                                    what, name ? name : "?", i + 1, g->name);
            for (size_t j = 0; j < i; j++)
                if (children[j] == children[i])
                    return pg_error_set(err, PG_EMODEL, "%s '%s' lists node '%s' twice", what,
                                        name ? name : "?", g->nodes[children[i]].name);
        }
    og_node *nd = NULL;
    int rc = new_node(g, kind, name, NULL, 0, PG_OG_NONE, &nd, node, err);
    if (rc)
        return rc;
    if (n) {
        nd->children = malloc(n * sizeof *nd->children);
        if (!nd->children) {
            drop_last(g);
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        }
        memcpy(nd->children, children, n * sizeof *children);
    }
    nd->n_children = n;
    return PG_OK;
}

int
pg_og_seq(pg_og *g, const char *name, const pg_og_node *children, size_t n, pg_og_node *node,
          pg_error *err)
{
    return compose(g, PG_OG_SEQ, name, children, n, node, err);
}

int
pg_og_par(pg_og *g, const char *name, const pg_og_node *children, size_t n, pg_og_node *node,
          pg_error *err)
{
    return compose(g, PG_OG_PAR, name, children, n, node, err);
}

/* ---------------------------------------------------------------- finishing */

/* Depth-first walk from node: attaches it, appends atomic nodes to the play order. */
static int
flatten(pg_og *g, pg_og_node k, size_t depth, pg_error *err)
{
    og_node *n = &g->nodes[k];
    if (depth > 10000)
        return pg_error_set(err, PG_ELIMIT, "game '%s' nests deeper than 10000 levels", g->name);
    if (n->attached)
        return pg_error_set(err, PG_EMODEL,
                            "node '%s' appears twice in game '%s' (each node is used once; make "
                            "another node for another occurrence)",
                            n->name, g->name);
    n->attached = true;
    if (n->kind == PG_OG_SEQ || n->kind == PG_OG_PAR) {
        for (size_t i = 0; i < n->n_children; i++) {
            int rc = flatten(g, n->children[i], depth + 1, err);
            if (rc)
                return rc;
        }
        return PG_OK;
    }
    g->steps[g->n_steps++] = k;
    return PG_OK;
}

/* Marks in reads/writes (n_vars bools each) what the subtree of node k reads and writes, and
 * fails when it holds a discount or backward function (not allowed inside a par). */
static int
collect(const pg_og *g, pg_og_node k, bool *reads, bool *writes, const char *par, pg_error *err)
{
    const og_node *n = &g->nodes[k];
    if (n->kind == PG_OG_DISCOUNT || n->kind == PG_OG_BACKWARD)
        return pg_error_set(err, PG_EMODEL,
                            "%s '%s' is inside par '%s': discounting and backward functions "
                            "change every utility after them, so they belong in a seq outside "
                            "parallel parts",
                            n->kind == PG_OG_DISCOUNT ? "discount" : "backward function", n->name,
                            par);
    for (size_t i = 0; i < n->n_inputs; i++)
        reads[n->inputs[i]] = true;
    if (n->out != PG_OG_NONE)
        writes[n->out] = true;
    for (size_t i = 0; i < n->n_children; i++) {
        int rc = collect(g, n->children[i], reads, writes, par, err);
        if (rc)
            return rc;
    }
    return PG_OK;
}

static int
check_pars(const pg_og *g, pg_error *err)
{
    size_t nv = g->n_vars ? g->n_vars : 1;
    bool *r = NULL, *w = NULL;
    int rc = PG_OK;
    for (size_t k = 0; k < g->n_nodes && !rc; k++) {
        const og_node *n = &g->nodes[k];
        if (n->kind != PG_OG_PAR || n->n_children < 1)
            continue;
        size_t m = n->n_children;
        r = calloc(m * nv, sizeof *r);
        w = calloc(m * nv, sizeof *w);
        if (!r || !w) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < m && !rc; i++)
            rc = collect(g, n->children[i], r + i * nv, w + i * nv, n->name, err);
        for (size_t i = 0; i < m && !rc; i++)
            for (size_t j = 0; j < m && !rc; j++) {
                if (i == j)
                    continue;
                for (size_t v = 0; v < g->n_vars && !rc; v++) {
                    const char *a = g->nodes[n->children[i]].name;
                    const char *b = g->nodes[n->children[j]].name;
                    if (r[i * nv + v] && w[j * nv + v])
                        rc = pg_error_set(err, PG_EMODEL,
                                          "par '%s': '%s' reads variable '%s', which its "
                                          "parallel sibling '%s' writes; parallel parts must be "
                                          "independent (use seq if one should see the other)",
                                          n->name, a, g->var_names[v], b);
                    else if (i < j && w[i * nv + v] && w[j * nv + v])
                        rc = pg_error_set(err, PG_EMODEL,
                                          "par '%s': '%s' and '%s' both write variable '%s'",
                                          n->name, a, b, g->var_names[v]);
                }
            }
        free(r);
        free(w);
        r = w = NULL;
    }
    free(r);
    free(w);
    return rc;
}

int
pg_og_set_root(pg_og *g, pg_og_node root, pg_error *err)
{
    if (!g)
        return pg_error_set(err, PG_EINVAL, "pg_og_set_root: game is NULL");
    int rc = not_final(g, err);
    if (rc)
        return rc;
    if (root >= g->n_nodes)
        return pg_error_set(err, PG_EMODEL, "game '%s': the root is not one of its nodes", g->name);
    bool *written = NULL;
    g->steps = malloc(g->n_nodes * sizeof *g->steps);
    g->decision_of = malloc(g->n_nodes * sizeof *g->decision_of);
    g->decisions = malloc(g->n_nodes * sizeof *g->decisions);
    written = calloc(g->n_vars ? g->n_vars : 1, sizeof *written);
    if (!g->steps || !g->decision_of || !g->decisions || !written) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    g->n_steps = 0;
    g->n_decisions = 0;
    for (size_t k = 0; k < g->n_nodes; k++)
        g->nodes[k].attached = false;
    rc = flatten(g, root, 0, err);
    if (rc)
        goto out;
    for (size_t k = 0; k < g->n_nodes; k++)
        if (!g->nodes[k].attached) {
            rc = pg_error_set(err, PG_EMODEL,
                              "node '%s' is not part of game '%s' (put it in a seq or par under "
                              "the root)",
                              g->nodes[k].name, g->name);
            goto out;
        }
    rc = check_pars(g, err);
    if (rc)
        goto out;
    g->max_values = 1;
    for (size_t v = 0; v < g->n_vars; v++)
        if (g->var_n[v] > g->max_values)
            g->max_values = g->var_n[v];
    for (size_t k = 0; k < g->n_nodes; k++)
        g->decision_of[k] = PG_OG_NONE;
    for (size_t i = 0; i < g->n_steps; i++) {
        og_node *n = &g->nodes[g->steps[i]];
        for (size_t j = 0; j < n->n_inputs; j++)
            if (!written[n->inputs[j]]) {
                rc = pg_error_set(err, PG_EMODEL,
                                  "node '%s' reads variable '%s' before any node writes it "
                                  "(in play order)",
                                  n->name, g->var_names[n->inputs[j]]);
                goto out;
            }
        if (n->out != PG_OG_NONE)
            written[n->out] = true;
        if (n->kind == PG_OG_DECISION) {
            g->decision_of[g->steps[i]] = g->n_decisions;
            g->decisions[g->n_decisions++] = i;
        }
    }
    g->root = root;
out:
    free(written);
    return rc;
}

/* ---------------------------------------------------------------- read-outs */

const char *
pg_og_name(const pg_og *g)
{
    return g ? g->name : NULL;
}

size_t
pg_og_n_players(const pg_og *g)
{
    return g ? g->n_players : 0;
}

const char *
pg_og_player(const pg_og *g, size_t player)
{
    return (g && player < g->n_players) ? g->players[player] : NULL;
}

size_t
pg_og_n_variables(const pg_og *g)
{
    return g ? g->n_vars : 0;
}

const char *
pg_og_variable(const pg_og *g, size_t var)
{
    return (g && var < g->n_vars) ? g->var_names[var] : NULL;
}

size_t
pg_og_n_values(const pg_og *g, size_t var)
{
    return (g && var < g->n_vars) ? g->var_n[var] : 0;
}

const char *
pg_og_value_label(const pg_og *g, size_t var, size_t value)
{
    if (!g || var >= g->n_vars || value >= g->var_n[var])
        return NULL;
    return g->var_labels[var][value];
}

pg_og_node
pg_og_find(const pg_og *g, const char *name)
{
    if (!g || !name)
        return PG_OG_NONE;
    for (size_t k = 0; k < g->n_nodes; k++)
        if (strcmp(g->nodes[k].name, name) == 0)
            return k;
    return PG_OG_NONE;
}

pg_og_kind
pg_og_node_kind(const pg_og *g, pg_og_node node)
{
    return (g && node < g->n_nodes) ? g->nodes[node].kind : (pg_og_kind)0;
}

const char *
pg_og_node_name(const pg_og *g, pg_og_node node)
{
    return (g && node < g->n_nodes) ? g->nodes[node].name : NULL;
}

size_t
pg_og_n_decisions(const pg_og *g)
{
    return g ? g->n_decisions : 0;
}

pg_og_node
pg_og_decision_at(const pg_og *g, size_t k)
{
    return (g && k < g->n_decisions) ? g->steps[g->decisions[k]] : PG_OG_NONE;
}

static const og_node *
decision_node(const pg_og *g, pg_og_node d)
{
    if (!g || d >= g->n_nodes || g->nodes[d].kind != PG_OG_DECISION)
        return NULL;
    return &g->nodes[d];
}

size_t
pg_og_decision_player(const pg_og *g, pg_og_node decision)
{
    const og_node *n = decision_node(g, decision);
    return n ? n->player : PG_OG_NONE;
}

size_t
pg_og_n_actions(const pg_og *g, pg_og_node decision)
{
    const og_node *n = decision_node(g, decision);
    return n ? g->var_n[n->out] : 0;
}

const char *
pg_og_action_label(const pg_og *g, pg_og_node decision, size_t action)
{
    const og_node *n = decision_node(g, decision);
    return (n && action < g->var_n[n->out]) ? g->var_labels[n->out][action] : NULL;
}

size_t
pg_og_n_observations(const pg_og *g, pg_og_node decision)
{
    const og_node *n = decision_node(g, decision);
    return n ? n->n_rows : 0;
}

size_t
pgi_og_row(const pg_og *g, const size_t *vars, size_t n, const int *state)
{
    size_t row = 0;
    for (size_t i = 0; i < n; i++)
        row = row * g->var_n[vars[i]] + (size_t)state[vars[i]];
    return row;
}

size_t
pg_og_observation_index(const pg_og *g, pg_og_node decision, const int *observed)
{
    const og_node *n = decision_node(g, decision);
    if (!n)
        return PG_OG_NONE;
    size_t row = 0;
    for (size_t i = 0; i < n->n_inputs; i++) {
        size_t nv = g->var_n[n->inputs[i]];
        if (observed[i] < 0 || (size_t)observed[i] >= nv)
            return PG_OG_NONE;
        row = row * nv + (size_t)observed[i];
    }
    return row;
}

void
pg_og_observation_label(const pg_og *g, pg_og_node decision, size_t obs, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    buf[0] = '\0';
    const og_node *n = decision_node(g, decision);
    if (!n || obs >= n->n_rows)
        return;
    /* Digits of obs in the mixed radix of the observed variables, most significant first. */
    size_t len = 0;
    for (size_t i = 0; i < n->n_inputs; i++) {
        size_t weight = 1;
        for (size_t j = i + 1; j < n->n_inputs; j++)
            weight *= g->var_n[n->inputs[j]];
        size_t digit = (obs / weight) % g->var_n[n->inputs[i]];
        const char *lab = g->var_labels[n->inputs[i]][digit];
        int w = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", lab);
        if (w < 0 || (size_t)w >= size - len)
            return;
        len += (size_t)w;
    }
}
