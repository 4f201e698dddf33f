/* Strategy profiles of open games: for every decision either a lookup table (one mixed action
 * per observation) or a function of the observed values. */
#include "opengame/internal.h"

#include <stdlib.h>
#include <string.h>

int
pg_og_profile_new(pg_og_profile **out, const pg_og *g, pg_error *err)
{
    if (!out || !g)
        return pg_error_set(err, PG_EINVAL, "pg_og_profile_new: argument is NULL");
    if (g->root == PG_OG_NONE)
        return pg_error_set(err, PG_ESTATE,
                            "game '%s' is not finished: call pg_og_set_root before making "
                            "strategy profiles",
                            g->name);
    pg_og_profile *p = calloc(1, sizeof *p);
    if (!p)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    p->g = g;
    size_t nd = g->n_decisions ? g->n_decisions : 1;
    p->table = calloc(nd, sizeof *p->table);
    p->fn = calloc(nd, sizeof *p->fn);
    p->ud = calloc(nd, sizeof *p->ud);
    if (!p->table || !p->fn || !p->ud)
        goto nomem;
    for (size_t k = 0; k < g->n_decisions; k++) {
        const og_node *n = &g->nodes[g->steps[g->decisions[k]]];
        size_t na = g->var_n[n->out];
        p->table[k] = malloc(n->n_rows * na * sizeof **p->table);
        if (!p->table[k])
            goto nomem;
        for (size_t i = 0; i < n->n_rows * na; i++)
            p->table[k][i] = 1.0 / (double)na;
    }
    *out = p;
    return PG_OK;
nomem:
    pg_og_profile_free(p);
    return pg_error_set(err, PG_ENOMEM, "out of memory");
}

void
pg_og_profile_free(pg_og_profile *p)
{
    if (!p)
        return;
    if (p->table)
        for (size_t k = 0; k < p->g->n_decisions; k++)
            free(p->table[k]);
    free(p->table);
    free(p->fn);
    free(p->ud);
    free(p);
}

const pg_og *
pg_og_profile_game(const pg_og_profile *p)
{
    return p ? p->g : NULL;
}

int
pg_og_profile_copy(pg_og_profile *dst, const pg_og_profile *src, pg_error *err)
{
    if (!dst || !src || dst->g != src->g)
        return pg_error_set(err, PG_EINVAL, "profiles of different games cannot be copied");
    const pg_og *g = src->g;
    for (size_t k = 0; k < g->n_decisions; k++) {
        const og_node *n = &g->nodes[g->steps[g->decisions[k]]];
        size_t m = n->n_rows * g->var_n[n->out];
        if (src->table[k]) {
            if (!dst->table[k] && !(dst->table[k] = malloc(m * sizeof **dst->table)))
                return pg_error_set(err, PG_ENOMEM, "out of memory");
            memcpy(dst->table[k], src->table[k], m * sizeof **src->table);
        } else {
            free(dst->table[k]);
            dst->table[k] = NULL;
        }
        dst->fn[k] = src->fn[k];
        dst->ud[k] = src->ud[k];
    }
    return PG_OK;
}

/* The decision number of node d, with a clear error for anything else. */
static int
decision_number(const pg_og_profile *p, pg_og_node d, size_t *k, pg_error *err)
{
    if (!p)
        return pg_error_set(err, PG_EINVAL, "profile is NULL");
    const pg_og *g = p->g;
    if (d >= g->n_nodes || g->nodes[d].kind != PG_OG_DECISION)
        return pg_error_set(err, PG_EINVAL, "node %zu of game '%s' is not a decision", d, g->name);
    *k = g->decision_of[d];
    return PG_OK;
}

/* Makes sure decision k has a table (a function strategy is replaced by uniform play). */
static int
ensure_table(pg_og_profile *p, size_t k, pg_error *err)
{
    if (p->table[k])
        return PG_OK;
    const pg_og *g = p->g;
    const og_node *n = &g->nodes[g->steps[g->decisions[k]]];
    size_t na = g->var_n[n->out];
    p->table[k] = malloc(n->n_rows * na * sizeof **p->table);
    if (!p->table[k])
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n->n_rows * na; i++)
        p->table[k][i] = 1.0 / (double)na;
    p->fn[k] = NULL;
    p->ud[k] = NULL;
    return PG_OK;
}

int
pg_og_profile_set_mixed(pg_og_profile *p, pg_og_node decision, size_t obs, const double *probs,
                        pg_error *err)
{
    size_t k = 0;
    int rc = decision_number(p, decision, &k, err);
    if (rc)
        return rc;
    const og_node *n = &p->g->nodes[decision];
    size_t na = p->g->var_n[n->out];
    if (!probs)
        return pg_error_set(err, PG_EINVAL, "decision '%s': probabilities are NULL", n->name);
    if (obs != PG_OG_ALL && obs >= n->n_rows)
        return pg_error_set(err, PG_EINVAL, "decision '%s' has %zu observations, not %zu", n->name,
                            n->n_rows, obs + 1);
    rc = pgi_og_check_probs(probs, na, "decision", n->name, err);
    if (rc)
        return rc;
    rc = ensure_table(p, k, err);
    if (rc)
        return rc;
    size_t lo = obs == PG_OG_ALL ? 0 : obs, hi = obs == PG_OG_ALL ? n->n_rows : obs + 1;
    for (size_t o = lo; o < hi; o++)
        memcpy(p->table[k] + o * na, probs, na * sizeof *probs);
    return PG_OK;
}

int
pg_og_profile_set_pure(pg_og_profile *p, pg_og_node decision, size_t obs, size_t action,
                       pg_error *err)
{
    size_t k = 0;
    int rc = decision_number(p, decision, &k, err);
    if (rc)
        return rc;
    const og_node *n = &p->g->nodes[decision];
    size_t na = p->g->var_n[n->out];
    if (action >= na)
        return pg_error_set(err, PG_EINVAL, "decision '%s' has %zu actions, not %zu", n->name, na,
                            action + 1);
    double *probs = calloc(na, sizeof *probs);
    if (!probs)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    probs[action] = 1.0;
    rc = pg_og_profile_set_mixed(p, decision, obs, probs, err);
    free(probs);
    return rc;
}

int
pg_og_profile_set_fn(pg_og_profile *p, pg_og_node decision, pg_og_strategy_cb fn, void *ud,
                     pg_error *err)
{
    size_t k = 0;
    int rc = decision_number(p, decision, &k, err);
    if (rc)
        return rc;
    if (!fn)
        return pg_error_set(err, PG_EINVAL, "strategy function is NULL");
    free(p->table[k]);
    p->table[k] = NULL;
    p->fn[k] = fn;
    p->ud[k] = ud;
    return PG_OK;
}

int
pgi_og_strategy(const pg_og_profile *p, size_t k, size_t obs, const int *observed, double *probs,
                pg_error *err)
{
    const pg_og *g = p->g;
    const og_node *n = &g->nodes[g->steps[g->decisions[k]]];
    size_t na = g->var_n[n->out];
    if (p->table[k]) {
        memcpy(probs, p->table[k] + obs * na, na * sizeof *probs);
        return PG_OK;
    }
    int rc = p->fn[k](observed, probs, p->ud[k]);
    if (rc)
        return pg_error_set(err, rc < 0 ? rc : PG_EMODEL,
                            "the strategy function of decision '%s' failed (status %d)", n->name,
                            rc);
    return pgi_og_check_probs(probs, na, "strategy of decision", n->name, err);
}

int
pg_og_profile_get(const pg_og_profile *p, pg_og_node decision, size_t obs, double *probs,
                  pg_error *err)
{
    size_t k = 0;
    int rc = decision_number(p, decision, &k, err);
    if (rc)
        return rc;
    const pg_og *g = p->g;
    const og_node *n = &g->nodes[decision];
    if (obs >= n->n_rows || !probs)
        return pg_error_set(err, PG_EINVAL, "decision '%s' has %zu observations, not %zu", n->name,
                            n->n_rows, obs + 1);
    /* Observed values from the observation index, for a function strategy. */
    int stack[16];
    int *observed = n->n_inputs <= 16 ? stack : malloc(n->n_inputs * sizeof *observed);
    if (!observed)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    size_t rest = obs;
    for (size_t i = n->n_inputs; i-- > 0;) {
        size_t nv = g->var_n[n->inputs[i]];
        observed[i] = (int)(rest % nv);
        rest /= nv;
    }
    rc = pgi_og_strategy(p, k, obs, observed, probs, err);
    if (observed != stack)
        free(observed);
    return rc;
}
