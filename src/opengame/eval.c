/* Playing open games: the forward pass pushes the distribution of histories through the play
 * order (the context's state), the backward pass computes every player's continuation utility
 * from a step and a history (the context's continuation, memoised per step and history), and the
 * equilibrium check combines the two at each decision: for every observation it conditions the
 * history distribution on that observation (Bayes) and compares the expected continuation
 * payoff of the current strategy with that of each unilateral deviation. */
#include "opengame/internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "opengame/eval.h"

/* ---------------------------------------------------------------- memo: (step, history) -> u */

static uint64_t
hash_key(const int *key, size_t w)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < w; i++) {
        h ^= (uint64_t)(uint32_t)key[i] + 0x632BE59BD9B4E019ULL + (h << 6) + (h >> 2);
        h *= 0xff51afd7ed558ccdULL;
    }
    return h ^ (h >> 32);
}

static int
memo_grow(pgi_og_eval *ev)
{
    size_t nslots = ev->nslots ? ev->nslots * 2 : 1024;
    size_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return PG_ENOMEM;
    for (size_t k = 0; k < ev->n_memo; k++) {
        size_t i = (size_t)hash_key(ev->keys + k * ev->key_w, ev->key_w) & (nslots - 1);
        while (slots[i])
            i = (i + 1) & (nslots - 1);
        slots[i] = k + 1;
    }
    free(ev->slots);
    ev->slots = slots;
    ev->nslots = nslots;
    return PG_OK;
}

/* Finds the key's slot: *found set when present (its entry number in *entry). */
static size_t
memo_slot(const pgi_og_eval *ev, const int *key, bool *found, size_t *entry)
{
    size_t mask = ev->nslots - 1;
    size_t i = (size_t)hash_key(key, ev->key_w) & mask;
    while (ev->slots[i]) {
        size_t k = ev->slots[i] - 1;
        if (memcmp(ev->keys + k * ev->key_w, key, ev->key_w * sizeof *key) == 0) {
            *found = true;
            *entry = k;
            return i;
        }
        i = (i + 1) & mask;
    }
    *found = false;
    return i;
}

static int
memo_put(pgi_og_eval *ev, const int *key, const double *u)
{
    if (2 * (ev->n_memo + 1) > ev->nslots && memo_grow(ev))
        return PG_ENOMEM;
    if (ev->n_memo == ev->cap_memo) {
        size_t nc = ev->cap_memo ? 2 * ev->cap_memo : 1024;
        int *k = realloc(ev->keys, nc * ev->key_w * sizeof *k);
        if (!k)
            return PG_ENOMEM;
        ev->keys = k;
        double *v = realloc(ev->vals, nc * ev->np * sizeof *v);
        if (!v)
            return PG_ENOMEM;
        ev->vals = v;
        ev->cap_memo = nc;
    }
    bool found;
    size_t entry;
    size_t slot = memo_slot(ev, key, &found, &entry);
    if (found)
        return PG_OK;
    memcpy(ev->keys + ev->n_memo * ev->key_w, key, ev->key_w * sizeof *key);
    memcpy(ev->vals + ev->n_memo * ev->np, u, ev->np * sizeof *u);
    ev->slots[slot] = ++ev->n_memo;
    return PG_OK;
}

/* ---------------------------------------------------------------- evaluation context */

int
pgi_og_eval_init(pgi_og_eval *ev, const pg_og_profile *p, pg_error *err)
{
    memset(ev, 0, sizeof *ev);
    const pg_og *g = p->g;
    ev->g = g;
    ev->p = p;
    ev->err = err;
    ev->np = g->n_players;
    ev->key_w = 1 + g->n_vars;
    size_t steps = g->n_steps + 1;
    ev->probs = malloc(steps * g->max_values * sizeof *ev->probs);
    ev->in = malloc(steps * (g->max_inputs ? g->max_inputs : 1) * sizeof *ev->in);
    ev->u = malloc(steps * ev->np * sizeof *ev->u);
    ev->key = malloc(ev->key_w * sizeof *ev->key);
    if (!ev->probs || !ev->in || !ev->u || !ev->key || memo_grow(ev)) {
        pgi_og_eval_clear(ev);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    return PG_OK;
}

void
pgi_og_eval_reset(pgi_og_eval *ev)
{
    ev->n_memo = 0;
    memset(ev->slots, 0, ev->nslots * sizeof *ev->slots);
}

void
pgi_og_eval_clear(pgi_og_eval *ev)
{
    free(ev->keys);
    free(ev->vals);
    free(ev->slots);
    free(ev->probs);
    free(ev->in);
    free(ev->u);
    free(ev->key);
    memset(ev, 0, sizeof *ev);
}

static int
too_many(pgi_og_eval *ev)
{
    return pg_error_set(ev->err, PG_ELIMIT,
                        "game '%s' reaches more than %zu distinct histories under this profile; "
                        "it is too big to evaluate exactly (fewer variables, or variables "
                        "that are written again, keep it small)",
                        ev->g->name, PGI_OG_MAX_HISTORIES(ev->g));
}

/* Gathers the node's input values from state into in. */
static void
gather(const og_node *n, const int *state, int *in)
{
    for (size_t j = 0; j < n->n_inputs; j++)
        in[j] = state[n->inputs[j]];
}

int
pgi_og_branch_probs(pgi_og_eval *ev, size_t i, const int *state, double *probs)
{
    const pg_og *g = ev->g;
    const og_node *n = &g->nodes[g->steps[i]];
    int *in = ev->in + i * (g->max_inputs ? g->max_inputs : 1);
    gather(n, state, in);
    size_t row = pgi_og_row(g, n->inputs, n->n_inputs, state);
    size_t nv = g->var_n[n->out];
    if (n->kind == PG_OG_DECISION)
        return pgi_og_strategy(ev->p, g->decision_of[g->steps[i]], row, in, probs, ev->err);
    if (!n->has_fn) {
        memcpy(probs, n->dtable + row * nv, nv * sizeof *probs);
        return PG_OK;
    }
    int rc = n->fn.nature(in, probs, n->ud);
    if (rc)
        return pg_error_set(ev->err, rc < 0 ? rc : PG_EMODEL,
                            "the function of nature '%s' failed (status %d)", n->name, rc);
    return pgi_og_check_probs(probs, nv, "nature", n->name, ev->err);
}

int
pgi_og_forward_value(pgi_og_eval *ev, size_t i, const int *state, int *value)
{
    const pg_og *g = ev->g;
    const og_node *n = &g->nodes[g->steps[i]];
    if (!n->has_fn) {
        *value = n->itable[pgi_og_row(g, n->inputs, n->n_inputs, state)];
        return PG_OK;
    }
    int *in = ev->in + i * (g->max_inputs ? g->max_inputs : 1);
    gather(n, state, in);
    int v = -1;
    int rc = n->fn.forward(in, &v, n->ud);
    if (rc)
        return pg_error_set(ev->err, rc < 0 ? rc : PG_EMODEL, "function '%s' failed (status %d)",
                            n->name, rc);
    if (v < 0 || (size_t)v >= g->var_n[n->out])
        return pg_error_set(ev->err, PG_EMODEL,
                            "function '%s' returned value %d, but variable '%s' has values 0 "
                            "to %zu",
                            n->name, v, g->var_names[n->out], g->var_n[n->out] - 1);
    *value = v;
    return PG_OK;
}

int
pgi_og_backward(pgi_og_eval *ev, size_t i, const int *state, double *u)
{
    const pg_og *g = ev->g;
    const og_node *n = &g->nodes[g->steps[i]];
    size_t np = ev->np;
    int *in = ev->in + i * (g->max_inputs ? g->max_inputs : 1);
    int rc = PG_OK;
    switch (n->kind) {
    case PG_OG_PAYOFF:
        if (!n->has_fn) {
            const double *row = n->dtable + pgi_og_row(g, n->inputs, n->n_inputs, state) * np;
            for (size_t k = 0; k < np; k++)
                u[k] += row[k];
        } else {
            double *add = ev->u + g->n_steps * np; /* the spare slot past the last step */
            for (size_t k = 0; k < np; k++)
                add[k] = 0;
            gather(n, state, in);
            rc = n->fn.payoff(in, add, n->ud);
            if (rc)
                return pg_error_set(ev->err, rc < 0 ? rc : PG_EMODEL,
                                    "payoff '%s' failed (status %d)", n->name, rc);
            for (size_t k = 0; k < np; k++) {
                if (!isfinite(add[k]))
                    return pg_error_set(ev->err, PG_EMODEL,
                                        "payoff '%s' gave player '%s' a payoff that is not a "
                                        "finite number",
                                        n->name, g->players[k]);
                u[k] += add[k];
            }
        }
        break;
    case PG_OG_BACKWARD:
        gather(n, state, in);
        rc = n->fn.backward(in, u, n->ud);
        if (rc)
            return pg_error_set(ev->err, rc < 0 ? rc : PG_EMODEL,
                                "backward function '%s' failed (status %d)", n->name, rc);
        for (size_t k = 0; k < np; k++)
            if (!isfinite(u[k]))
                return pg_error_set(ev->err, PG_EMODEL,
                                    "backward function '%s' gave player '%s' a utility that is "
                                    "not a finite number",
                                    n->name, g->players[k]);
        break;
    case PG_OG_DISCOUNT:
        for (size_t k = 0; k < np; k++)
            if (n->player == PG_OG_ALL || n->player == k)
                u[k] *= n->factor;
        break;
    default: break;
    }
    return PG_OK;
}

int
pgi_og_value(pgi_og_eval *ev, size_t i, int *state, double *out)
{
    const pg_og *g = ev->g;
    size_t np = ev->np;
    if (i == g->n_steps) {
        for (size_t k = 0; k < np; k++)
            out[k] = 0;
        return PG_OK;
    }
    ev->key[0] = (int)i;
    memcpy(ev->key + 1, state, g->n_vars * sizeof *state);
    bool found;
    size_t entry;
    memo_slot(ev, ev->key, &found, &entry);
    if (found) {
        memcpy(out, ev->vals + entry * np, np * sizeof *out);
        return PG_OK;
    }
    const og_node *n = &g->nodes[g->steps[i]];
    int rc = PG_OK;
    switch (n->kind) {
    case PG_OG_DECISION:
    case PG_OG_NATURE: {
        double *probs = ev->probs + i * g->max_values;
        double *child = ev->u + i * np;
        rc = pgi_og_branch_probs(ev, i, state, probs);
        if (rc)
            return rc;
        for (size_t k = 0; k < np; k++)
            out[k] = 0;
        int old = state[n->out];
        for (size_t a = 0; a < g->var_n[n->out]; a++) {
            if (!(probs[a] > 0))
                continue;
            state[n->out] = (int)a;
            rc = pgi_og_value(ev, i + 1, state, child);
            if (rc)
                break;
            for (size_t k = 0; k < np; k++)
                out[k] += probs[a] * child[k];
        }
        state[n->out] = old;
        break;
    }
    case PG_OG_FORWARD: {
        int v, old = state[n->out];
        rc = pgi_og_forward_value(ev, i, state, &v);
        if (rc)
            return rc;
        state[n->out] = v;
        rc = pgi_og_value(ev, i + 1, state, out);
        state[n->out] = old;
        break;
    }
    default:
        rc = pgi_og_value(ev, i + 1, state, out);
        if (!rc)
            rc = pgi_og_backward(ev, i, state, out);
        break;
    }
    if (rc)
        return rc;
    /* The recursion reused ev->key: rebuild it for this step. */
    ev->key[0] = (int)i;
    memcpy(ev->key + 1, state, g->n_vars * sizeof *state);
    if (ev->n_memo >= PGI_OG_MAX_HISTORIES(g))
        return too_many(ev);
    if (memo_put(ev, ev->key, out))
        return pg_error_set(ev->err, PG_ENOMEM, "out of memory");
    return PG_OK;
}

int
pgi_og_push(pgi_og_eval *ev, size_t i, const pg_dist *in, pg_dist *out)
{
    const pg_og *g = ev->g;
    const og_node *n = &g->nodes[g->steps[i]];
    size_t nv = g->n_vars;
    int *s = malloc((nv ? nv : 1) * sizeof *s);
    if (!s)
        return pg_error_set(ev->err, PG_ENOMEM, "out of memory");
    int rc = PG_OK;
    for (size_t h = 0; h < pg_dist_size(in) && !rc; h++) {
        double w = pg_dist_prob(in, h);
        if (!(w > 0))
            continue;
        if (nv)
            memcpy(s, pg_dist_outcome(in, h), nv * sizeof *s);
        if (n->kind == PG_OG_DECISION || n->kind == PG_OG_NATURE) {
            double *probs = ev->probs + i * g->max_values;
            rc = pgi_og_branch_probs(ev, i, s, probs);
            for (size_t a = 0; a < g->var_n[n->out] && !rc; a++) {
                if (!(probs[a] > 0))
                    continue;
                s[n->out] = (int)a;
                rc = pg_dist_add(out, s, w * probs[a], ev->err);
            }
        } else if (n->kind == PG_OG_FORWARD) {
            int v;
            rc = pgi_og_forward_value(ev, i, s, &v);
            if (!rc) {
                s[n->out] = v;
                rc = pg_dist_add(out, s, w, ev->err);
            }
        } else {
            rc = pg_dist_add(out, s, w, ev->err);
        }
        if (!rc && pg_dist_size(out) > PGI_OG_MAX_HISTORIES(g))
            rc = too_many(ev);
    }
    free(s);
    return rc;
}

int
pgi_og_initial(const pg_og *g, pg_dist **out, pg_error *err)
{
    pg_dist *d = NULL;
    int rc = pg_dist_new(&d, g->n_vars, err);
    if (rc)
        return rc;
    int *s = malloc((g->n_vars ? g->n_vars : 1) * sizeof *s);
    if (!s) {
        pg_dist_free(d);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    for (size_t v = 0; v < g->n_vars; v++)
        s[v] = -1;
    rc = pg_dist_add(d, s, 1.0, err);
    free(s);
    if (rc) {
        pg_dist_free(d);
        return rc;
    }
    *out = d; /* written only on success: callers free what they hold on failure */
    return PG_OK;
}

static int
check_profile(const pg_og_profile *p, pg_error *err)
{
    if (!p)
        return pg_error_set(err, PG_EINVAL, "strategy profile is NULL");
    return PG_OK;
}

/* ---------------------------------------------------------------- public play */

int
pg_og_evaluate(const pg_og_profile *p, double *payoffs, pg_error *err)
{
    int rc = check_profile(p, err);
    if (rc)
        return rc;
    if (!payoffs)
        return pg_error_set(err, PG_EINVAL, "payoffs are NULL");
    const pg_og *g = p->g;
    pgi_og_eval ev;
    rc = pgi_og_eval_init(&ev, p, err);
    if (rc)
        return rc;
    int *s = malloc((g->n_vars ? g->n_vars : 1) * sizeof *s);
    double *u = malloc(g->n_players * sizeof *u);
    if (!s || !u) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t v = 0; v < g->n_vars; v++)
        s[v] = -1;
    rc = pgi_og_value(&ev, 0, s, u);
    if (!rc)
        memcpy(payoffs, u, g->n_players * sizeof *u);
out:
    free(s);
    free(u);
    pgi_og_eval_clear(&ev);
    return rc;
}

int
pg_og_play(const pg_og_profile *p, pg_dist **out, pg_error *err)
{
    int rc = check_profile(p, err);
    if (rc)
        return rc;
    if (!out)
        return pg_error_set(err, PG_EINVAL, "out is NULL");
    const pg_og *g = p->g;
    pgi_og_eval ev;
    rc = pgi_og_eval_init(&ev, p, err);
    if (rc)
        return rc;
    pg_dist *cur = NULL, *next = NULL;
    rc = pgi_og_initial(g, &cur, err);
    for (size_t i = 0; i < g->n_steps && !rc; i++) {
        pg_og_kind kind = g->nodes[g->steps[i]].kind;
        if (kind != PG_OG_DECISION && kind != PG_OG_NATURE && kind != PG_OG_FORWARD)
            continue;
        rc = pg_dist_new(&next, g->n_vars, err);
        if (!rc)
            rc = pgi_og_push(&ev, i, cur, next);
        pg_dist_free(cur);
        cur = next;
        next = NULL;
    }
    if (!rc) {
        *out = cur;
        cur = NULL;
    }
    pg_dist_free(cur);
    pgi_og_eval_clear(&ev);
    return rc;
}

int
pg_og_sample(const pg_og_profile *p, pg_rng *rng, int *values, double *payoffs, pg_error *err)
{
    int rc = check_profile(p, err);
    if (rc)
        return rc;
    if (!rng || !values || !payoffs)
        return pg_error_set(err, PG_EINVAL, "pg_og_sample: argument is NULL");
    const pg_og *g = p->g;
    pgi_og_eval ev;
    rc = pgi_og_eval_init(&ev, p, err);
    if (rc)
        return rc;
    size_t nv = g->n_vars ? g->n_vars : 1;
    /* The history before each step, so the backward pass can see what each node saw. */
    int *hist = malloc((g->n_steps + 1) * nv * sizeof *hist);
    if (!hist) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    rc = pgi_og_sample_path(&ev, rng, hist, payoffs, NULL);
    if (!rc && g->n_vars)
        memcpy(values, hist + g->n_steps * nv, g->n_vars * sizeof *values);
out:
    free(hist);
    pgi_og_eval_clear(&ev);
    return rc;
}

int
pgi_og_sample_path(pgi_og_eval *ev, pg_rng *rng, int *hist, double *payoffs, double *after)
{
    const pg_og *g = ev->g;
    size_t nv = g->n_vars ? g->n_vars : 1, np = ev->np;
    int rc = PG_OK;
    for (size_t v = 0; v < nv; v++)
        hist[v] = -1;
    for (size_t i = 0; i < g->n_steps; i++) {
        int *s = hist + (i + 1) * nv;
        memcpy(s, hist + i * nv, nv * sizeof *s);
        const og_node *n = &g->nodes[g->steps[i]];
        if (n->kind == PG_OG_DECISION || n->kind == PG_OG_NATURE) {
            double *probs = ev->probs + i * g->max_values;
            rc = pgi_og_branch_probs(ev, i, s, probs);
            if (rc)
                return rc;
            size_t a = pg_rng_pick(rng, probs, g->var_n[n->out]);
            s[n->out] = (int)(a < g->var_n[n->out] ? a : 0);
        } else if (n->kind == PG_OG_FORWARD) {
            rc = pgi_og_forward_value(ev, i, s, &s[n->out]);
            if (rc)
                return rc;
        }
    }
    /* Backward along the sampled history; after[i] is the utility from step i+1 on. */
    for (size_t k = 0; k < np; k++)
        payoffs[k] = 0;
    for (size_t i = g->n_steps; i-- > 0;) {
        if (after)
            memcpy(after + i * np, payoffs, np * sizeof *payoffs);
        rc = pgi_og_backward(ev, i, hist + i * nv, payoffs);
        if (rc)
            return rc;
    }
    return PG_OK;
}

/* ---------------------------------------------------------------- equilibrium check */

void
pg_og_check_clear(pg_og_check *c)
{
    if (!c)
        return;
    for (size_t d = 0; d < c->n_decisions; d++) {
        pg_og_decision_check *dc = &c->decisions[d];
        free(dc->decision);
        free(dc->player);
        for (size_t o = 0; o < dc->n_obs; o++) {
            free(dc->obs[o].label);
            free(dc->obs[o].best_label);
        }
        free(dc->obs);
    }
    free(c->decisions);
    memset(c, 0, sizeof *c);
}

/* Fills the check of decision number k (at step i) from the history distribution before it. */
static int
check_decision(pgi_og_eval *ev, size_t k, size_t i, const pg_dist *before, double tol,
               pg_og_decision_check *dc)
{
    const pg_og *g = ev->g;
    const og_node *n = &g->nodes[g->steps[i]];
    size_t na = g->var_n[n->out], no = n->n_rows, np = ev->np, nv = g->n_vars;
    size_t p = n->player;
    int rc = PG_OK;
    double *sum = calloc(no * na, sizeof *sum); /* sum of w V_p(a) per observation, action */
    double *cur = calloc(no, sizeof *cur);      /* sum of w V_p(current strategy) */
    double *reach = calloc(no, sizeof *reach);  /* sum of w: probability of the observation */
    double *u = malloc(np * sizeof *u);
    double *probs = malloc(na * sizeof *probs);
    int *s = malloc((nv ? nv : 1) * sizeof *s);
    int *in = malloc((n->n_inputs ? n->n_inputs : 1) * sizeof *in);
    dc->decision = pgi_strdup(n->name);
    dc->player = pgi_strdup(g->players[p]);
    if (!sum || !cur || !reach || !u || !probs || !s || !in || !dc->decision || !dc->player) {
        rc = pg_error_set(ev->err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t h = 0; h < pg_dist_size(before); h++) {
        double w = pg_dist_prob(before, h);
        if (!(w > 0))
            continue;
        if (nv)
            memcpy(s, pg_dist_outcome(before, h), nv * sizeof *s);
        size_t obs = pgi_og_row(g, n->inputs, n->n_inputs, s);
        gather(n, s, in);
        rc = pgi_og_strategy(ev->p, k, obs, in, probs, ev->err);
        if (rc)
            goto out;
        reach[obs] += w;
        for (size_t a = 0; a < na; a++) {
            s[n->out] = (int)a;
            rc = pgi_og_value(ev, i + 1, s, u);
            if (rc)
                goto out;
            sum[obs * na + a] += w * u[p];
            cur[obs] += w * probs[a] * u[p];
        }
    }
    size_t n_reached = 0;
    for (size_t o = 0; o < no; o++)
        n_reached += reach[o] > 0;
    dc->obs = calloc(n_reached ? n_reached : 1, sizeof *dc->obs);
    if (!dc->obs) {
        rc = pg_error_set(ev->err, PG_ENOMEM, "out of memory");
        goto out;
    }
    dc->ok = true;
    double total = 0, pay = 0, best_pay = 0;
    for (size_t o = 0; o < no; o++) {
        if (!(reach[o] > 0))
            continue;
        pg_og_observation_check *oc = &dc->obs[dc->n_obs++];
        char label[512];
        pg_og_observation_label(g, g->steps[i], o, label, sizeof label);
        oc->obs = o;
        oc->label = pgi_strdup(label);
        oc->probability = reach[o];
        oc->payoff = cur[o] / reach[o];
        size_t best = 0;
        for (size_t a = 1; a < na; a++) {
            double sb = sum[o * na + best];
            if (sum[o * na + a] > sb + 1e-12 * (1.0 + fabs(sb)))
                best = a;
        }
        oc->best_action = best;
        oc->best_label = pgi_strdup(g->var_labels[n->out][best]);
        if (!oc->label || !oc->best_label) {
            rc = pg_error_set(ev->err, PG_ENOMEM, "out of memory");
            goto out;
        }
        oc->best_payoff = sum[o * na + best] / reach[o];
        oc->gain = oc->best_payoff - oc->payoff;
        if (oc->gain < 0) /* rounding: a mixture cannot beat its best action */
            oc->gain = 0;
        if (oc->gain > tol)
            dc->ok = false;
        total += reach[o];
        pay += reach[o] * oc->payoff;
        best_pay += reach[o] * oc->best_payoff;
    }
    dc->reach = total;
    dc->payoff = total > 0 ? pay / total : 0;
    dc->best_payoff = total > 0 ? best_pay / total : 0;
    dc->gain = dc->best_payoff - dc->payoff;
    if (dc->gain < 0)
        dc->gain = 0;
out:
    free(sum);
    free(cur);
    free(reach);
    free(u);
    free(probs);
    free(s);
    free(in);
    return rc;
}

int
pg_og_check_equilibrium(const pg_og_profile *p, double tol, pg_og_check *out, pg_error *err)
{
    int rc = check_profile(p, err);
    if (rc)
        return rc;
    if (!out)
        return pg_error_set(err, PG_EINVAL, "check result is NULL");
    if (!(tol >= 0) || !isfinite(tol))
        return pg_error_set(err, PG_EINVAL, "the tolerance must be finite and >= 0, got %g", tol);
    const pg_og *g = p->g;
    pg_og_check c = {0};
    c.tolerance = tol;
    c.equilibrium = true;
    c.decisions = calloc(g->n_decisions ? g->n_decisions : 1, sizeof *c.decisions);
    if (!c.decisions)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    pgi_og_eval ev;
    rc = pgi_og_eval_init(&ev, p, err);
    if (rc) {
        free(c.decisions);
        return rc;
    }
    pg_dist *cur = NULL, *next = NULL;
    rc = pgi_og_initial(g, &cur, err);
    for (size_t i = 0; i < g->n_steps && !rc; i++) {
        const og_node *n = &g->nodes[g->steps[i]];
        if (n->kind == PG_OG_DECISION) {
            size_t k = g->decision_of[g->steps[i]];
            rc = check_decision(&ev, k, i, cur, tol, &c.decisions[k]);
            c.n_decisions = k + 1;
            if (rc)
                break;
            if (!c.decisions[k].ok)
                c.equilibrium = false;
            for (size_t o = 0; o < c.decisions[k].n_obs; o++)
                if (c.decisions[k].obs[o].gain > c.max_gain)
                    c.max_gain = c.decisions[k].obs[o].gain;
        }
        if (n->kind != PG_OG_DECISION && n->kind != PG_OG_NATURE && n->kind != PG_OG_FORWARD)
            continue;
        rc = pg_dist_new(&next, g->n_vars, err);
        if (!rc)
            rc = pgi_og_push(&ev, i, cur, next);
        pg_dist_free(cur);
        cur = next;
        next = NULL;
    }
    pg_dist_free(cur);
    pgi_og_eval_clear(&ev);
    if (rc) {
        pg_og_check_clear(&c);
        return rc;
    }
    *out = c;
    return PG_OK;
}
