/* Reader of classic-game files, "plurigrid-game/1" (docs/open-games.md): normal-form games,
 * Cournot games on a quantity grid, sealed-bid auctions, Markov games and general open games
 * (extensive games with imperfect information) written as node trees, plus the profiles to check
 * and the learning runs to make. JSON text to a cg_game with every name resolved; every error
 * names the file, the line and the JSON path of the offending value and says what is wrong;
 * unknown keys are errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_read.h"
#include "core/util.h"
#include "game/internal.h"

#define MAX_PLAYERS 16
#define MAX_ACTIONS 4096
#define MAX_STATES 512

typedef struct rd {
    pgi_jr jr;
    const pg_game_options *o;
    cg_game *g;
} rd;

static void
free_list(char **l, size_t n)
{
    if (l)
        for (size_t i = 0; i < n; i++)
            free(l[i]);
    free(l);
}

/* A list of unique non-empty strings, copied into *out (count *n). */
static int
string_list(rd *r, json_t *arr, const char *what, char ***out, size_t *n)
{
    size_t m = json_array_size(arr);
    char **l = calloc(m ? m : 1, sizeof *l);
    if (!l)
        return pgi_jr_nomem(&r->jr);
    int rc = PG_OK;
    for (size_t i = 0; i < m && !rc; i++) {
        json_t *v = json_array_get(arr, i);
        size_t s = pgi_jr_push_index(&r->jr, i);
        rc = pgi_jr_want(&r->jr, v, JSON_STRING, "a string");
        if (!rc && json_string_length(v) == 0)
            rc = pgi_jr_fail(&r->jr, PG_EPARSE, "a %s name must not be empty", what);
        for (size_t j = 0; j < i && !rc; j++)
            if (strcmp(l[j], json_string_value(v)) == 0)
                rc = pgi_jr_fail(&r->jr, PG_EPARSE, "two %ss are named '%s'", what, l[j]);
        if (!rc && !(l[i] = pgi_strdup(json_string_value(v))))
            rc = pgi_jr_nomem(&r->jr);
        pgi_jr_pop(&r->jr, s);
    }
    if (rc) {
        free_list(l, m);
        return rc;
    }
    *out = l;
    *n = m;
    return PG_OK;
}

/* ---------------------------------------------------------------- decisions */

size_t
pgi_cg_offset(const cg_game *g, size_t k)
{
    size_t off = 0;
    for (size_t j = 0; j < k; j++)
        off += g->dec[j].n_obs * g->dec[j].n_actions;
    return off;
}

static int
add_decision(rd *r, const char *name, size_t n_obs, size_t n_actions, cg_decision **out)
{
    cg_game *g = r->g;
    cg_decision *d = realloc(g->dec, (g->n_dec + 1) * sizeof *d);
    if (!d)
        return pgi_jr_nomem(&r->jr);
    g->dec = d;
    d = &g->dec[g->n_dec];
    memset(d, 0, sizeof *d);
    d->name = pgi_strdup(name);
    d->n_obs = n_obs;
    d->n_actions = n_actions;
    d->obs_labels = calloc(n_obs, sizeof *d->obs_labels);
    d->action_labels = calloc(n_actions, sizeof *d->action_labels);
    g->n_dec++;
    if (!d->name || !d->obs_labels || !d->action_labels)
        return pgi_jr_nomem(&r->jr);
    g->n_probs += n_obs * n_actions;
    *out = d;
    return PG_OK;
}

/* The decisions of g->og in play order. */
static int
decisions_from_og(rd *r)
{
    const pg_og *og = r->g->og;
    for (size_t k = 0; k < pg_og_n_decisions(og); k++) {
        pg_og_node node = pg_og_decision_at(og, k);
        cg_decision *d;
        int rc = add_decision(r, pg_og_node_name(og, node), pg_og_n_observations(og, node),
                              pg_og_n_actions(og, node), &d);
        if (rc)
            return rc;
        for (size_t o = 0; o < d->n_obs; o++) {
            char label[512];
            pg_og_observation_label(og, node, o, label, sizeof label);
            if (!(d->obs_labels[o] = pgi_strdup(label)))
                return pgi_jr_nomem(&r->jr);
        }
        for (size_t a = 0; a < d->n_actions; a++)
            if (!(d->action_labels[a] = pgi_strdup(pg_og_action_label(og, node, a))))
                return pgi_jr_nomem(&r->jr);
    }
    return PG_OK;
}

int
pgi_cg_to_og(const cg_game *g, const double *probs, pg_og_profile *p, pg_error *err)
{
    double buf[MAX_ACTIONS];
    size_t off = 0;
    for (size_t k = 0; k < g->n_dec; k++) {
        const cg_decision *d = &g->dec[k];
        pg_og_node node = pg_og_decision_at(g->og, k);
        for (size_t o = 0; o < d->n_obs; o++) {
            double t = 0;
            for (size_t a = 0; a < d->n_actions; a++)
                t += probs[off + o * d->n_actions + a];
            for (size_t a = 0; a < d->n_actions; a++)
                buf[a] = t > 0 ? probs[off + o * d->n_actions + a] / t : 0;
            int rc = pg_og_profile_set_mixed(p, node, o, buf, err);
            if (rc)
                return rc;
        }
        off += d->n_obs * d->n_actions;
    }
    return PG_OK;
}

int
pgi_cg_from_og(const cg_game *g, const pg_og_profile *p, double *probs, pg_error *err)
{
    size_t off = 0;
    for (size_t k = 0; k < g->n_dec; k++) {
        const cg_decision *d = &g->dec[k];
        pg_og_node node = pg_og_decision_at(g->og, k);
        for (size_t o = 0; o < d->n_obs; o++) {
            int rc = pg_og_profile_get(p, node, o, probs + off + o * d->n_actions, err);
            if (rc)
                return rc;
        }
        off += d->n_obs * d->n_actions;
    }
    return PG_OK;
}

/* ---------------------------------------------------------------- payoff tensors */

/* Reads nested arrays: depth i has n[i] elements; the innermost element is an array of `width`
 * numbers. Values land row-major in out (index * width + k). */
static int
tensor(rd *r, json_t *v, const size_t *n, size_t depth, size_t nd, size_t width, size_t index,
       double *out)
{
    if (depth == nd) {
        int rc = pgi_jr_want(&r->jr, v, JSON_ARRAY, "an array of payoffs, one per player");
        if (!rc && json_array_size(v) != width)
            rc = pgi_jr_fail(&r->jr, PG_EPARSE, "needs %zu payoffs (one per player), has %zu",
                             width, json_array_size(v));
        for (size_t k = 0; k < width && !rc; k++) {
            size_t s = pgi_jr_push_index(&r->jr, k);
            rc =
                pgi_jr_number(&r->jr, json_array_get(v, k), -1e300, 1e300, &out[index * width + k]);
            pgi_jr_pop(&r->jr, s);
        }
        return rc;
    }
    int rc = pgi_jr_want(&r->jr, v, JSON_ARRAY, "an array");
    if (!rc && json_array_size(v) != n[depth])
        rc =
            pgi_jr_fail(&r->jr, PG_EPARSE,
                        "needs %zu entr%s (one per action of player %zu), has %zu; payoffs nest by "
                        "player, first player outermost",
                        n[depth], n[depth] == 1 ? "y" : "ies", depth + 1, json_array_size(v));
    for (size_t i = 0; i < n[depth] && !rc; i++) {
        size_t s = pgi_jr_push_index(&r->jr, i);
        rc = tensor(r, json_array_get(v, i), n, depth + 1, nd, width, index * n[depth] + i, out);
        pgi_jr_pop(&r->jr, s);
    }
    return rc;
}

/* "players": [{"name": ..., "actions": [...]}, ...] */
typedef struct player_list {
    char **names;
    size_t n;
    size_t na[MAX_PLAYERS];
    char **actions[MAX_PLAYERS];
} player_list;

static void
free_players(player_list *pl)
{
    for (size_t i = 0; i < pl->n; i++)
        free_list(pl->actions[i], pl->na[i]);
    free_list(pl->names, pl->n);
    memset(pl, 0, sizeof *pl);
}

static int
parse_players(rd *r, json_t *root, player_list *pl)
{
    json_t *arr;
    int rc = pgi_jr_get_array(&r->jr, root, "players", true, 1, &arr);
    if (rc)
        return rc;
    size_t s = pgi_jr_push_key(&r->jr, "players");
    size_t m = json_array_size(arr);
    if (m > MAX_PLAYERS) {
        rc = pgi_jr_fail(&r->jr, PG_ELIMIT, "at most %d players, got %zu", MAX_PLAYERS, m);
        goto out;
    }
    pl->names = calloc(m, sizeof *pl->names);
    if (!pl->names) {
        rc = pgi_jr_nomem(&r->jr);
        goto out;
    }
    for (size_t i = 0; i < m && !rc; i++) {
        json_t *p = json_array_get(arr, i);
        size_t si = pgi_jr_push_index(&r->jr, i);
        static const char *const keys[] = {"name", "actions", NULL};
        const char *name = NULL;
        json_t *acts;
        rc = pgi_jr_want(&r->jr, p, JSON_OBJECT, "an object with a name and actions");
        if (!rc)
            rc = pgi_jr_check_keys(&r->jr, p, NULL, keys);
        if (!rc)
            rc = pgi_jr_get_string(&r->jr, p, "name", true, &name);
        for (size_t j = 0; j < i && !rc; j++)
            if (strcmp(pl->names[j], name) == 0)
                rc = pgi_jr_fail(&r->jr, PG_EPARSE, "two players are named '%s'", name);
        if (!rc && !(pl->names[i] = pgi_strdup(name)))
            rc = pgi_jr_nomem(&r->jr);
        if (!rc)
            pl->n = i + 1;
        if (!rc)
            rc = pgi_jr_get_array(&r->jr, p, "actions", true, 1, &acts);
        if (!rc) {
            size_t sa = pgi_jr_push_key(&r->jr, "actions");
            if (json_array_size(acts) > MAX_ACTIONS)
                rc = pgi_jr_fail(&r->jr, PG_ELIMIT, "at most %d actions", MAX_ACTIONS);
            if (!rc)
                rc = string_list(r, acts, "action", &pl->actions[i], &pl->na[i]);
            pgi_jr_pop(&r->jr, sa);
        }
        pgi_jr_pop(&r->jr, si);
    }
out:
    pgi_jr_pop(&r->jr, s);
    return rc;
}

/* ---------------------------------------------------------------- kinds */

static int
parse_normal_form(rd *r, json_t *root)
{
    static const char *const keys[] = {"format",  "name",     "description", "kind",      "players",
                                       "payoffs", "profiles", "learning",    "tolerance", NULL};
    int rc = pgi_jr_check_keys(&r->jr, root, NULL, keys);
    player_list pl = {0};
    double *pay = NULL;
    if (!rc)
        rc = parse_players(r, root, &pl);
    if (!rc)
        rc =
            pg_nf_new(&r->g->nf, r->g->name, pl.n, (const char *const *)pl.names, pl.na, r->jr.err);
    if (rc) {
        free_players(&pl);
        return rc;
    }
    pg_nf *nf = r->g->nf;
    size_t profiles = 1;
    for (size_t i = 0; i < pl.n; i++) {
        profiles *= pl.na[i];
        for (size_t a = 0; a < pl.na[i] && !rc; a++)
            rc = pg_nf_set_action_label(nf, i, a, pl.actions[i][a], r->jr.err);
    }
    json_t *v;
    if (!rc)
        rc = pgi_jr_member(&r->jr, root, "payoffs", true, "nested arrays of payoffs", &v);
    if (!rc && !(pay = malloc(profiles * pl.n * sizeof *pay)))
        rc = pgi_jr_nomem(&r->jr);
    if (!rc) {
        size_t s = pgi_jr_push_key(&r->jr, "payoffs");
        rc = tensor(r, v, pl.na, 0, pl.n, pl.n, 0, pay);
        pgi_jr_pop(&r->jr, s);
    }
    size_t prof[MAX_PLAYERS];
    for (size_t idx = 0; idx < profiles && !rc; idx++) {
        size_t rest = idx;
        for (size_t i = pl.n; i-- > 0;) {
            prof[i] = rest % pl.na[i];
            rest /= pl.na[i];
        }
        rc = pg_nf_set_payoffs(nf, prof, pay + idx * pl.n, r->jr.err);
    }
    free(pay);
    free_players(&pl);
    if (!rc)
        rc = pg_nf_to_og(nf, &r->g->og, r->jr.err);
    return rc;
}

static int
parse_cournot(rd *r, json_t *root)
{
    static const char *const keys[] = {"format",   "name",      "description", "kind",
                                       "demand",   "costs",     "quantities",  "profiles",
                                       "learning", "tolerance", NULL};
    static const char *const dkeys[] = {"intercept", "slope", NULL};
    static const char *const qkeys[] = {"max", "steps", NULL};
    cg_game *g = r->g;
    json_t *d, *q, *costs;
    double qmax = 0;
    size_t steps = 0;
    int rc = pgi_jr_check_keys(&r->jr, root, NULL, keys);
    if (!rc)
        rc = pgi_jr_member(&r->jr, root, "demand", true, "an object with intercept and slope", &d);
    if (!rc) {
        size_t s = pgi_jr_push_key(&r->jr, "demand");
        rc = pgi_jr_want(&r->jr, d, JSON_OBJECT, "an object with intercept and slope");
        if (!rc)
            rc = pgi_jr_check_keys(&r->jr, d, NULL, dkeys);
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, d, "intercept", true, 1e-12, 1e12, &g->cournot_a);
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, d, "slope", true, 1e-12, 1e12, &g->cournot_b);
        pgi_jr_pop(&r->jr, s);
    }
    if (!rc)
        rc = pgi_jr_get_array(&r->jr, root, "costs", true, 1, &costs);
    if (!rc) {
        size_t s = pgi_jr_push_key(&r->jr, "costs");
        g->n_firms = json_array_size(costs);
        if (g->n_firms > 4)
            rc = pgi_jr_fail(&r->jr, PG_ELIMIT,
                             "at most 4 firms (the payoff table grows as steps^firms)");
        if (!rc && !(g->cournot_costs = malloc(g->n_firms * sizeof *g->cournot_costs)))
            rc = pgi_jr_nomem(&r->jr);
        for (size_t i = 0; i < g->n_firms && !rc; i++) {
            size_t si = pgi_jr_push_index(&r->jr, i);
            rc = pgi_jr_number(&r->jr, json_array_get(costs, i), 0, 1e12, &g->cournot_costs[i]);
            pgi_jr_pop(&r->jr, si);
        }
        pgi_jr_pop(&r->jr, s);
    }
    if (!rc)
        rc = pgi_jr_member(&r->jr, root, "quantities", true, "an object with max and steps", &q);
    if (!rc) {
        size_t s = pgi_jr_push_key(&r->jr, "quantities");
        rc = pgi_jr_want(&r->jr, q, JSON_OBJECT, "an object with max and steps");
        if (!rc)
            rc = pgi_jr_check_keys(&r->jr, q, NULL, qkeys);
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, q, "max", true, 1e-12, 1e12, &qmax);
        if (!rc)
            rc = pgi_jr_get_size(&r->jr, q, "steps", true, 1, 1000, &steps);
        pgi_jr_pop(&r->jr, s);
    }
    if (!rc && pow((double)steps + 1, (double)g->n_firms) > 1e6)
        rc = pgi_jr_fail(
            &r->jr, PG_ELIMIT,
            "%zu firms with %zu quantity steps make %.3g action profiles; at most a million",
            g->n_firms, steps, pow((double)steps + 1, (double)g->n_firms));
    if (!rc)
        rc = pg_nf_cournot(&g->nf, g->cournot_a, g->cournot_b, g->cournot_costs, g->n_firms, qmax,
                           steps, r->jr.err);
    if (!rc)
        rc = pg_nf_to_og(g->nf, &g->og, r->jr.err);
    return rc;
}

static int
number_list(rd *r, json_t *root, const char *key, double **out, size_t *n)
{
    json_t *arr;
    int rc = pgi_jr_get_array(&r->jr, root, key, true, 1, &arr);
    if (rc)
        return rc;
    size_t s = pgi_jr_push_key(&r->jr, key);
    *n = json_array_size(arr);
    if (*n > MAX_ACTIONS)
        rc = pgi_jr_fail(&r->jr, PG_ELIMIT, "at most %d entries", MAX_ACTIONS);
    if (!rc && !(*out = malloc(*n * sizeof **out)))
        rc = pgi_jr_nomem(&r->jr);
    for (size_t i = 0; i < *n && !rc; i++) {
        size_t si = pgi_jr_push_index(&r->jr, i);
        rc = pgi_jr_number(&r->jr, json_array_get(arr, i), -1e12, 1e12, &(*out)[i]);
        pgi_jr_pop(&r->jr, si);
    }
    pgi_jr_pop(&r->jr, s);
    return rc;
}

/* The prior of the bidders' values: finite probabilities that sum to 1. */
static int
check_prior(rd *r, const double *prior, size_t n)
{
    double total = 0;
    for (size_t k = 0; k < n; k++) {
        if (!(prior[k] >= 0) || !isfinite(prior[k]))
            return pgi_jr_fail(&r->jr, PG_EMODEL, "probability %g is not in [0, 1]", prior[k]);
        total += prior[k];
    }
    if (fabs(total - 1.0) > 1e-9)
        return pgi_jr_fail(&r->jr, PG_EMODEL, "the probabilities sum to %.12g, not 1", total);
    return PG_OK;
}

static int
parse_auction(rd *r, json_t *root)
{
    static const char *const keys[] = {"format",   "name",      "description", "kind", "rule",
                                       "bidders",  "values",    "prior",       "bids", "profiles",
                                       "learning", "tolerance", NULL};
    const char *rule = NULL;
    size_t bidders = 0, nv = 0, np = 0, nb = 0;
    double *values = NULL, *prior = NULL, *bids = NULL;
    pg_game_auction_rule ar = PG_GAME_AUCTION_FIRST_PRICE;
    int rc = pgi_jr_check_keys(&r->jr, root, NULL, keys);
    if (!rc)
        rc = pgi_jr_get_string(&r->jr, root, "rule", true, &rule);
    if (!rc) {
        if (strcmp(rule, "first-price") == 0)
            ar = PG_GAME_AUCTION_FIRST_PRICE;
        else if (strcmp(rule, "second-price") == 0)
            ar = PG_GAME_AUCTION_SECOND_PRICE;
        else {
            rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "rule",
                                 "unknown auction rule '%s' (first-price or second-price)", rule);
        }
    }
    if (!rc)
        rc = pgi_jr_get_size(&r->jr, root, "bidders", true, 1, 8, &bidders);
    if (!rc)
        rc = number_list(r, root, "values", &values, &nv);
    if (!rc)
        rc = number_list(r, root, "prior", &prior, &np);
    if (!rc && np != nv)
        rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "prior",
                             "needs one probability per value (%zu), has %zu", nv, np);
    if (!rc) {
        size_t s = pgi_jr_push_key(&r->jr, "prior");
        rc = check_prior(r, prior, np);
        pgi_jr_pop(&r->jr, s);
    }
    if (!rc)
        rc = number_list(r, root, "bids", &bids, &nb);
    if (!rc)
        rc = pg_game_auction(&r->g->og, ar, bidders, values, nv, prior, bids, nb, r->jr.err);
    free(values);
    free(prior);
    free(bids);
    return rc;
}

/* ---------------------------------------------------------------- Markov games */

static size_t
state_index(char **states, size_t ns, const char *name)
{
    for (size_t s = 0; s < ns; s++)
        if (strcmp(states[s], name) == 0)
            return s;
    return PG_OG_NONE;
}

/* A next-state entry: a state name, or {"state": probability, ...}. */
static int
next_entry(rd *r, json_t *v, char **states, size_t ns, double *next)
{
    for (size_t s = 0; s < ns; s++)
        next[s] = 0;
    if (json_is_string(v)) {
        size_t s = state_index(states, ns, json_string_value(v));
        if (s == PG_OG_NONE)
            return pgi_jr_fail(&r->jr, PG_EPARSE, "there is no state '%s'", json_string_value(v));
        next[s] = 1;
        return PG_OK;
    }
    int rc =
        pgi_jr_want(&r->jr, v, JSON_OBJECT, "a state name or an object of state probabilities");
    const char *key;
    json_t *p;
    json_object_foreach(v, key, p)
    {
        if (rc)
            break;
        size_t sk = pgi_jr_push_key(&r->jr, key);
        size_t s = state_index(states, ns, key);
        if (s == PG_OG_NONE)
            rc = pgi_jr_fail(&r->jr, PG_EPARSE, "there is no state '%s'", key);
        if (!rc)
            rc = pgi_jr_number(&r->jr, p, 0, 1, &next[s]);
        pgi_jr_pop(&r->jr, sk);
    }
    double t = 0;
    for (size_t s = 0; s < ns; s++)
        t += next[s];
    if (!rc && fabs(t - 1) > 1e-9)
        rc = pgi_jr_fail(&r->jr, PG_EPARSE, "next-state probabilities sum to %.12g, not 1", t);
    return rc;
}

/* Nested arrays like payoffs, whose innermost entries are next-state entries. */
static int
next_tensor(rd *r, json_t *v, const size_t *n, size_t depth, size_t nd, size_t index, char **states,
            size_t ns, double *out)
{
    if (depth == nd)
        return next_entry(r, v, states, ns, out + index * ns);
    int rc = pgi_jr_want(&r->jr, v, JSON_ARRAY, "an array");
    if (!rc && json_array_size(v) != n[depth])
        rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                         "needs %zu entries (one per action of player %zu), has %zu", n[depth],
                         depth + 1, json_array_size(v));
    for (size_t i = 0; i < n[depth] && !rc; i++) {
        size_t s = pgi_jr_push_index(&r->jr, i);
        rc = next_tensor(r, json_array_get(v, i), n, depth + 1, nd, index * n[depth] + i, states,
                         ns, out);
        pgi_jr_pop(&r->jr, s);
    }
    return rc;
}

static int
parse_markov(rd *r, json_t *root)
{
    static const char *const keys[] = {"format", "name",     "description", "kind",      "players",
                                       "states", "discount", "payoffs",     "next",      "stages",
                                       "start",  "profiles", "learning",    "tolerance", NULL};
    static const char *const skeys[] = {"payoffs", "next", NULL};
    cg_game *g = r->g;
    player_list pl = {0};
    char **states = NULL;
    size_t ns = 0, prof_n = 1;
    double discount = 0;
    double *pay = NULL, *next = NULL; /* ns x profiles x players, ns x profiles x ns */
    json_t *arr, *stages = NULL, *dpay = NULL, *dnext = NULL;
    const char *start = NULL;
    int rc = pgi_jr_check_keys(&r->jr, root, NULL, keys);
    if (!rc)
        rc = parse_players(r, root, &pl);
    if (!rc)
        rc = pgi_jr_get_array(&r->jr, root, "states", true, 1, &arr);
    if (!rc) {
        size_t s = pgi_jr_push_key(&r->jr, "states");
        if (json_array_size(arr) > MAX_STATES)
            rc = pgi_jr_fail(&r->jr, PG_ELIMIT,
                             "at most %d states (policies are evaluated exactly)", MAX_STATES);
        if (!rc)
            rc = string_list(r, arr, "state", &states, &ns);
        pgi_jr_pop(&r->jr, s);
    }
    if (!rc)
        rc = pgi_jr_get_number(&r->jr, root, "discount", true, 0, 0.999999, &discount);
    for (size_t i = 0; i < pl.n; i++)
        prof_n *= pl.na[i];
    if (!rc && prof_n * ns > ((size_t)1 << 22) / (ns + pl.n))
        rc = pgi_jr_fail(&r->jr, PG_ELIMIT, "%zu states with %zu action profiles each are too many",
                         ns, prof_n);
    if (!rc && (!(pay = calloc(ns * prof_n * pl.n, sizeof *pay)) ||
                !(next = calloc(ns * prof_n * ns, sizeof *next))))
        rc = pgi_jr_nomem(&r->jr);
    if (!rc)
        rc = pgi_jr_member(&r->jr, root, "payoffs", false, "", &dpay);
    if (!rc)
        rc = pgi_jr_member(&r->jr, root, "next", false, "", &dnext);
    if (!rc)
        rc = pgi_jr_member(&r->jr, root, "stages", false, "", &stages);
    if (!rc && stages) {
        size_t s = pgi_jr_push_key(&r->jr, "stages");
        rc = pgi_jr_want(&r->jr, stages, JSON_OBJECT, "an object with one entry per state");
        const char *key;
        json_t *v;
        json_object_foreach(stages, key, v)
        {
            if (rc)
                break;
            size_t sk = pgi_jr_push_key(&r->jr, key);
            if (state_index(states, ns, key) == PG_OG_NONE)
                rc = pgi_jr_fail(&r->jr, PG_EPARSE, "there is no state '%s'", key);
            if (!rc)
                rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object with payoffs and next");
            if (!rc)
                rc = pgi_jr_check_keys(&r->jr, v, NULL, skeys);
            pgi_jr_pop(&r->jr, sk);
        }
        pgi_jr_pop(&r->jr, s);
    }
    for (size_t st = 0; st < ns && !rc; st++) {
        json_t *sp = dpay, *sn = dnext,
               *stage = stages ? json_object_get(stages, states[st]) : NULL;
        char place_p[64] = "payoffs", place_n[64] = "next";
        if (stage && json_object_get(stage, "payoffs")) {
            sp = json_object_get(stage, "payoffs");
            snprintf(place_p, sizeof place_p, "stages.%s.payoffs", states[st]);
        }
        if (stage && json_object_get(stage, "next")) {
            sn = json_object_get(stage, "next");
            snprintf(place_n, sizeof place_n, "stages.%s.next", states[st]);
        }
        if (!sp || !sn) {
            rc = pgi_jr_fail(
                &r->jr, PG_EPARSE,
                "state '%s' has no %s: give it in stages.%s or at the top level for every "
                "state",
                states[st], sp ? "next states" : "payoffs", states[st]);
            break;
        }
        size_t s = pgi_jr_push_key(&r->jr, place_p);
        rc = tensor(r, sp, pl.na, 0, pl.n, pl.n, 0, pay + st * prof_n * pl.n);
        pgi_jr_pop(&r->jr, s);
        if (rc)
            break;
        s = pgi_jr_push_key(&r->jr, place_n);
        rc = next_tensor(r, sn, pl.na, 0, pl.n, 0, states, ns, next + st * prof_n * ns);
        pgi_jr_pop(&r->jr, s);
    }
    if (!rc)
        rc = pg_mg_new(&g->mg, g->name, pl.n, (const char *const *)pl.names, pl.na, ns,
                       (const char *const *)states, discount, r->jr.err);
    for (size_t i = 0; i < pl.n && !rc; i++)
        for (size_t a = 0; a < pl.na[i] && !rc; a++)
            rc = pg_mg_set_action_label(g->mg, i, a, pl.actions[i][a], r->jr.err);
    size_t prof[MAX_PLAYERS];
    for (size_t st = 0; st < ns && !rc; st++)
        for (size_t k = 0; k < prof_n && !rc; k++) {
            size_t rest = k;
            for (size_t i = pl.n; i-- > 0;) {
                prof[i] = rest % pl.na[i];
                rest /= pl.na[i];
            }
            rc = pg_mg_set(g->mg, st, prof, pay + (st * prof_n + k) * pl.n,
                           next + (st * prof_n + k) * ns, r->jr.err);
        }
    if (!rc)
        rc = pgi_jr_get_string(&r->jr, root, "start", false, &start);
    if (!rc && start) {
        g->start_state = state_index(states, ns, start);
        if (g->start_state == PG_OG_NONE)
            rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "start", "there is no state '%s'", start);
    }
    /* Decisions: each player observes the state. */
    for (size_t i = 0; i < pl.n && !rc; i++) {
        cg_decision *d;
        rc = add_decision(r, pl.names[i], ns, pl.na[i], &d);
        for (size_t st = 0; st < ns && !rc; st++)
            if (!(d->obs_labels[st] = pgi_strdup(states[st])))
                rc = pgi_jr_nomem(&r->jr);
        for (size_t a = 0; a < pl.na[i] && !rc; a++)
            if (!(d->action_labels[a] = pgi_strdup(pl.actions[i][a])))
                rc = pgi_jr_nomem(&r->jr);
    }
    free(pay);
    free(next);
    free_list(states, ns);
    free_players(&pl);
    return rc;
}

/* ---------------------------------------------------------------- general open games */

typedef struct og_reader {
    rd *r;
    pg_og *og;
    size_t auto_names;
} og_reader;

static int
var_by_name(rd *r, const pg_og *og, json_t *v, size_t *var)
{
    int rc = pgi_jr_want(&r->jr, v, JSON_STRING, "a variable name");
    if (rc)
        return rc;
    for (size_t k = 0; k < pg_og_n_variables(og); k++)
        if (strcmp(pg_og_variable(og, k), json_string_value(v)) == 0) {
            *var = k;
            return PG_OK;
        }
    return pgi_jr_fail(&r->jr, PG_EPARSE, "there is no variable '%s' (declare it in \"variables\")",
                       json_string_value(v));
}

static int
var_list(rd *r, const pg_og *og, json_t *node, const char *key, size_t *vars, size_t *n)
{
    json_t *arr;
    *n = 0;
    int rc = pgi_jr_get_array(&r->jr, node, key, false, 0, &arr);
    if (rc || !arr)
        return rc;
    size_t s = pgi_jr_push_key(&r->jr, key);
    if (json_array_size(arr) > 16)
        rc = pgi_jr_fail(&r->jr, PG_ELIMIT, "at most 16 variables");
    for (size_t i = 0; i < json_array_size(arr) && !rc; i++) {
        size_t si = pgi_jr_push_index(&r->jr, i);
        rc = var_by_name(r, og, json_array_get(arr, i), &vars[i]);
        pgi_jr_pop(&r->jr, si);
    }
    if (!rc)
        *n = json_array_size(arr);
    pgi_jr_pop(&r->jr, s);
    return rc;
}

/* The variable that member key of node names. */
static int
get_var(rd *r, const pg_og *og, json_t *node, const char *key, size_t *var)
{
    json_t *v;
    int rc = pgi_jr_member(&r->jr, node, key, true, "a variable name", &v);
    if (rc)
        return rc;
    size_t s = pgi_jr_push_key(&r->jr, key);
    rc = var_by_name(r, og, v, var);
    pgi_jr_pop(&r->jr, s);
    return rc;
}

/* The player that member key of node names; *p is left alone when the key is absent and not
 * required. */
static int
get_player(rd *r, const pg_og *og, json_t *node, const char *key, bool required, size_t *p)
{
    const char *name = NULL;
    int rc = pgi_jr_get_string(&r->jr, node, key, required, &name);
    if (rc || !name)
        return rc;
    for (size_t i = 0; i < pg_og_n_players(og); i++)
        if (strcmp(pg_og_player(og, i), name) == 0) {
            *p = i;
            return PG_OK;
        }
    return pgi_jr_fail_key(&r->jr, PG_EPARSE, key, "there is no player '%s'", name);
}

static size_t
rows_of(const pg_og *og, const size_t *vars, size_t n)
{
    size_t rows = 1;
    for (size_t i = 0; i < n; i++)
        rows *= pg_og_n_values(og, vars[i]);
    return rows;
}

/* A table with `rows` rows of `width` numbers: an array of rows (each an array of width numbers;
 * with one row the outer array may be left out when width > 1). */
static int
number_table(rd *r, json_t *v, size_t rows, size_t width, double lo, double hi, double *out)
{
    int rc = pgi_jr_want(&r->jr, v, JSON_ARRAY, "an array");
    if (rc)
        return rc;
    if (rows == 1 && json_array_size(v) == width && width > 0 &&
        !json_is_array(json_array_get(v, 0))) {
        for (size_t k = 0; k < width && !rc; k++) {
            size_t s = pgi_jr_push_index(&r->jr, k);
            rc = pgi_jr_number(&r->jr, json_array_get(v, k), lo, hi, &out[k]);
            pgi_jr_pop(&r->jr, s);
        }
        return rc;
    }
    if (json_array_size(v) != rows)
        return pgi_jr_fail(&r->jr, PG_EPARSE,
                           "needs %zu rows (one per combination of the input values, first input "
                           "slowest), has %zu",
                           rows, json_array_size(v));
    for (size_t i = 0; i < rows && !rc; i++) {
        size_t s = pgi_jr_push_index(&r->jr, i);
        json_t *row = json_array_get(v, i);
        rc = pgi_jr_want(&r->jr, row, JSON_ARRAY, "an array");
        if (!rc && json_array_size(row) != width)
            rc = pgi_jr_fail(&r->jr, PG_EPARSE, "needs %zu numbers, has %zu", width,
                             json_array_size(row));
        for (size_t k = 0; k < width && !rc; k++) {
            size_t sk = pgi_jr_push_index(&r->jr, k);
            rc = pgi_jr_number(&r->jr, json_array_get(row, k), lo, hi, &out[i * width + k]);
            pgi_jr_pop(&r->jr, sk);
        }
        pgi_jr_pop(&r->jr, s);
    }
    return rc;
}

static int og_node_json(og_reader * or, json_t *v, pg_og_node *node);

static int
og_children(og_reader * or, json_t *v, const char *kind, pg_og_node *node)
{
    rd *r = or->r;
    static const char *const keys[] = {"seq", "par", "name", NULL};
    int rc = pgi_jr_check_keys(&r->jr, v, NULL, keys);
    if (rc)
        return rc;
    const char *name = NULL;
    rc = pgi_jr_get_string(&r->jr, v, "name", false, &name);
    char auto_name[64];
    if (!rc && !name) {
        snprintf(auto_name, sizeof auto_name, "%s %zu", kind, ++ or->auto_names);
        name = auto_name;
    }
    json_t *arr;
    if (!rc)
        rc = pgi_jr_get_array(&r->jr, v, kind, true, 1, &arr);
    if (rc)
        return rc;
    size_t n = json_array_size(arr);
    pg_og_node *kids = malloc(n * sizeof *kids);
    if (!kids)
        return pgi_jr_nomem(&r->jr);
    size_t s = pgi_jr_push_key(&r->jr, kind);
    for (size_t i = 0; i < n && !rc; i++) {
        size_t si = pgi_jr_push_index(&r->jr, i);
        rc = og_node_json(or, json_array_get(arr, i), &kids[i]);
        pgi_jr_pop(&r->jr, si);
    }
    pgi_jr_pop(&r->jr, s);
    if (!rc)
        rc = strcmp(kind, "seq") == 0 ? pg_og_seq(or->og, name, kids, n, node, r->jr.err)
                                      : pg_og_par(or->og, name, kids, n, node, r->jr.err);
    pgi_jr_place(&r->jr, rc);
    free(kids);
    return rc;
}

static int
og_node_json(og_reader * or, json_t *v, pg_og_node *node)
{
    rd *r = or->r;
    pg_og *og = or->og;
    int rc = pgi_jr_want(&r->jr, v, JSON_OBJECT,
                         "an object (a decision, nature, function, payoff, discount, "
                         "seq or par node)");
    if (rc)
        return rc;
    if (json_object_get(v, "seq"))
        return og_children(or, v, "seq", node);
    if (json_object_get(v, "par"))
        return og_children(or, v, "par", node);
    size_t in[16], n_in = 0, out = PG_OG_NONE;
    const char *name = NULL;
    double *table = NULL;
    int *itable = NULL;
    if (json_object_get(v, "decision")) {
        static const char *const keys[] = {"decision", "player", "observes", "output", NULL};
        size_t p = PG_OG_NONE;
        if (!(rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) &&
            !(rc = pgi_jr_get_string(&r->jr, v, "decision", true, &name)) &&
            !(rc = get_player(r, og, v, "player", true, &p)) &&
            !(rc = var_list(r, og, v, "observes", in, &n_in)) &&
            !(rc = get_var(r, og, v, "output", &out)))
            rc = pg_og_decision(og, name, p, in, n_in, out, node, r->jr.err);
    } else if (json_object_get(v, "nature")) {
        static const char *const keys[] = {"nature", "inputs", "output", "probs", NULL};
        json_t *t;
        if (!(rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) &&
            !(rc = pgi_jr_get_string(&r->jr, v, "nature", true, &name)) &&
            !(rc = var_list(r, og, v, "inputs", in, &n_in)) &&
            !(rc = get_var(r, og, v, "output", &out)))
            rc =
                pgi_jr_member(&r->jr, v, "probs", true, "probabilities of the output's values", &t);
        size_t rows = rc ? 0 : rows_of(og, in, n_in), w = rc ? 0 : pg_og_n_values(og, out);
        if (!rc && !(table = malloc(rows * w * sizeof *table)))
            rc = pgi_jr_nomem(&r->jr);
        if (!rc) {
            size_t s = pgi_jr_push_key(&r->jr, "probs");
            rc = number_table(r, t, rows, w, 0, 1, table);
            pgi_jr_pop(&r->jr, s);
        }
        if (!rc)
            rc = pg_og_nature(og, name, in, n_in, out, table, node, r->jr.err);
    } else if (json_object_get(v, "function")) {
        static const char *const keys[] = {"function", "inputs", "output", "table", NULL};
        json_t *t;
        if (!(rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) &&
            !(rc = pgi_jr_get_string(&r->jr, v, "function", true, &name)) &&
            !(rc = var_list(r, og, v, "inputs", in, &n_in)) &&
            !(rc = get_var(r, og, v, "output", &out)))
            rc = pgi_jr_get_array(&r->jr, v, "table", true, 1, &t);
        size_t rows = rc ? 0 : rows_of(og, in, n_in);
        if (!rc && json_array_size(t) != rows)
            rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "table",
                                 "needs %zu entries (one per combination of the input values)",
                                 rows);
        if (!rc && !(itable = malloc(rows * sizeof *itable)))
            rc = pgi_jr_nomem(&r->jr);
        size_t s = pgi_jr_push_key(&r->jr, "table");
        for (size_t i = 0; i < rows && !rc; i++) {
            size_t si = pgi_jr_push_index(&r->jr, i);
            json_t *e = json_array_get(t, i);
            rc = pgi_jr_want(&r->jr, e, JSON_STRING, "a value label of the output variable");
            itable[i] = -1;
            for (size_t k = 0; k < pg_og_n_values(og, out) && !rc; k++)
                if (strcmp(pg_og_value_label(og, out, k), json_string_value(e)) == 0)
                    itable[i] = (int)k;
            if (!rc && itable[i] < 0)
                rc = pgi_jr_fail(&r->jr, PG_EPARSE, "variable '%s' has no value '%s'",
                                 pg_og_variable(og, out), json_string_value(e));
            pgi_jr_pop(&r->jr, si);
        }
        pgi_jr_pop(&r->jr, s);
        if (!rc)
            rc = pg_og_forward(og, name, in, n_in, out, itable, node, r->jr.err);
    } else if (json_object_get(v, "payoff")) {
        static const char *const keys[] = {"payoff", "inputs", "table", NULL};
        json_t *t;
        if (!(rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) &&
            !(rc = pgi_jr_get_string(&r->jr, v, "payoff", true, &name)) &&
            !(rc = var_list(r, og, v, "inputs", in, &n_in)))
            rc = pgi_jr_member(&r->jr, v, "table", true,
                               "payoffs per player for each input combination", &t);
        size_t rows = rc ? 0 : rows_of(og, in, n_in), w = pg_og_n_players(og);
        if (!rc && !(table = malloc(rows * w * sizeof *table)))
            rc = pgi_jr_nomem(&r->jr);
        if (!rc) {
            size_t s = pgi_jr_push_key(&r->jr, "table");
            rc = number_table(r, t, rows, w, -1e300, 1e300, table);
            pgi_jr_pop(&r->jr, s);
        }
        if (!rc)
            rc = pg_og_payoff(og, name, in, n_in, table, node, r->jr.err);
    } else if (json_object_get(v, "discount")) {
        static const char *const keys[] = {"discount", "factor", "player", NULL};
        double factor = 1;
        size_t p = PG_OG_ALL;
        if (!(rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) &&
            !(rc = pgi_jr_get_string(&r->jr, v, "discount", true, &name)) &&
            !(rc = pgi_jr_get_number(&r->jr, v, "factor", true, 0, 1e6, &factor)) &&
            !(rc = get_player(r, og, v, "player", false, &p)))
            rc = pg_og_discount(og, name, factor, p, node, r->jr.err);
    } else {
        rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                         "a node needs one of the keys decision, nature, function, payoff, "
                         "discount, seq or par");
    }
    /* Errors from the builder (duplicate names, bad probabilities) point at this node. */
    pgi_jr_place(&r->jr, rc);
    free(table);
    free(itable);
    return rc;
}

static int
parse_open(rd *r, json_t *root)
{
    static const char *const keys[] = {"format",   "name",      "description", "kind",
                                       "players",  "variables", "game",        "profiles",
                                       "learning", "tolerance", NULL};
    static const char *const vkeys[] = {"name", "values", NULL};
    json_t *arr, *vars, *game;
    char **players = NULL;
    size_t np = 0;
    int rc = pgi_jr_check_keys(&r->jr, root, NULL, keys);
    if (!rc)
        rc = pgi_jr_get_array(&r->jr, root, "players", true, 1, &arr);
    if (!rc) {
        size_t s = pgi_jr_push_key(&r->jr, "players");
        if (json_array_size(arr) > MAX_PLAYERS)
            rc = pgi_jr_fail(&r->jr, PG_ELIMIT, "at most %d players", MAX_PLAYERS);
        if (!rc)
            rc = string_list(r, arr, "player", &players, &np);
        pgi_jr_pop(&r->jr, s);
    }
    if (!rc)
        rc = pg_og_new(&r->g->og, r->g->name, np, (const char *const *)players, r->jr.err);
    free_list(players, np);
    pg_og *og = r->g->og;
    if (!rc)
        rc = pgi_jr_get_array(&r->jr, root, "variables", true, 1, &vars);
    for (size_t i = 0; !rc && i < json_array_size(vars); i++) {
        size_t s = pgi_jr_push_key(&r->jr, "variables");
        pgi_jr_push_index(&r->jr, i);
        json_t *v = json_array_get(vars, i), *vals;
        const char *name = NULL;
        char **labels = NULL;
        size_t nv = 0;
        rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object with a name and values");
        if (!rc)
            rc = pgi_jr_check_keys(&r->jr, v, NULL, vkeys);
        if (!rc)
            rc = pgi_jr_get_string(&r->jr, v, "name", true, &name);
        if (!rc)
            rc = pgi_jr_get_array(&r->jr, v, "values", true, 1, &vals);
        if (!rc) {
            size_t sv = pgi_jr_push_key(&r->jr, "values");
            if (json_array_size(vals) > MAX_ACTIONS)
                rc = pgi_jr_fail(&r->jr, PG_ELIMIT, "at most %d values", MAX_ACTIONS);
            if (!rc)
                rc = string_list(r, vals, "value", &labels, &nv);
            pgi_jr_pop(&r->jr, sv);
        }
        if (!rc)
            rc = pgi_jr_place(&r->jr, pg_og_add_variable(og, name, nv, (const char *const *)labels,
                                                         NULL, r->jr.err));
        free_list(labels, nv);
        pgi_jr_pop(&r->jr, s);
    }
    if (!rc)
        rc = pgi_jr_member(&r->jr, root, "game", true, "the root node", &game);
    pg_og_node root_node = PG_OG_NONE;
    if (!rc) {
        og_reader or = {r, og, 0};
        size_t s = pgi_jr_push_key(&r->jr, "game");
        rc = og_node_json(& or, game, &root_node);
        if (!rc)
            rc = pgi_jr_place(&r->jr, pg_og_set_root(og, root_node, r->jr.err));
        pgi_jr_pop(&r->jr, s);
    }
    return rc;
}

/* ---------------------------------------------------------------- profiles */

static bool
label_number(const char *label, double *x)
{
    char *end;
    *x = strtod(label, &end);
    return end != label && *end == '\0';
}

/* Finds the action a value names: a label, or a number equal to a numeric label. */
static int
action_index(rd *r, const cg_decision *d, json_t *v, size_t *a)
{
    if (json_is_string(v)) {
        for (size_t k = 0; k < d->n_actions; k++)
            if (strcmp(d->action_labels[k], json_string_value(v)) == 0) {
                *a = k;
                return PG_OK;
            }
    } else if (json_is_number(v)) {
        double x = json_number_value(v), y;
        for (size_t k = 0; k < d->n_actions; k++)
            if (label_number(d->action_labels[k], &y) && fabs(x - y) <= 1e-9 * fmax(1, fabs(x))) {
                *a = k;
                return PG_OK;
            }
    } else {
        return pgi_jr_fail(&r->jr, PG_EPARSE, "an action must be a label or a number, not %s",
                           pgi_jr_type_name(v));
    }
    char list[400] = "";
    for (size_t k = 0; k < d->n_actions && strlen(list) < 300; k++) {
        if (k)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, d->action_labels[k], sizeof list - strlen(list) - 1);
    }
    char shown[64];
    if (json_is_string(v))
        snprintf(shown, sizeof shown, "%s", json_string_value(v));
    else
        snprintf(shown, sizeof shown, "%g", json_number_value(v));
    return pgi_jr_fail(&r->jr, PG_EPARSE, "'%s' has no action '%s' (its actions: %s%s)", d->name,
                       shown, list, strlen(list) >= 300 ? ", ..." : "");
}

/* One mixed action: a label, a number, or {"mix": {"label": probability, ...}}. */
static int
action_spec(rd *r, const cg_decision *d, json_t *v, double *row)
{
    for (size_t k = 0; k < d->n_actions; k++)
        row[k] = 0;
    if (!json_is_object(v)) {
        size_t a;
        int rc = action_index(r, d, v, &a);
        if (!rc)
            row[a] = 1;
        return rc;
    }
    static const char *const keys[] = {"mix", NULL};
    int rc = pgi_jr_check_keys(&r->jr, v, NULL, keys);
    json_t *mix = json_object_get(v, "mix");
    if (!rc && !mix)
        rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                         "a mixed action is written {\"mix\": {\"action\": probability}}");
    if (rc)
        return rc;
    size_t s = pgi_jr_push_key(&r->jr, "mix");
    rc = pgi_jr_want(&r->jr, mix, JSON_OBJECT, "an object of action probabilities");
    const char *key;
    json_t *p;
    json_object_foreach(mix, key, p)
    {
        if (rc)
            break;
        size_t sk = pgi_jr_push_key(&r->jr, key);
        json_t *kj = json_string(key);
        size_t a = 0;
        rc = kj ? action_index(r, d, kj, &a) : pgi_jr_nomem(&r->jr);
        json_decref(kj);
        double x = 0;
        if (!rc)
            rc = pgi_jr_number(&r->jr, p, 0, 1, &x);
        if (!rc)
            row[a] += x;
        pgi_jr_pop(&r->jr, sk);
    }
    double t = 0;
    for (size_t k = 0; k < d->n_actions; k++)
        t += row[k];
    if (!rc && fabs(t - 1) > 1e-9)
        rc = pgi_jr_fail(&r->jr, PG_EPARSE, "the probabilities sum to %.12g, not 1", t);
    pgi_jr_pop(&r->jr, s);
    return rc;
}

/* Truthful bidding: at each value, the bid equal to it. */
static int
truthful(rd *r, const cg_decision *d, double *probs)
{
    for (size_t o = 0; o < d->n_obs; o++) {
        double v, b;
        bool found = false;
        for (size_t a = 0; a < d->n_actions; a++)
            probs[o * d->n_actions + a] = 0;
        if (label_number(d->obs_labels[o], &v))
            for (size_t a = 0; a < d->n_actions && !found; a++)
                if (label_number(d->action_labels[a], &b) &&
                    fabs(b - v) <= 1e-9 * fmax(1, fabs(v))) {
                    probs[o * d->n_actions + a] = 1;
                    found = true;
                }
        if (!found)
            return pgi_jr_fail(
                &r->jr, PG_EPARSE,
                "truthful bidding needs a bid equal to every value; value %s has none",
                d->obs_labels[o]);
    }
    return PG_OK;
}

/* A decision's strategy: one action spec for every observation, an array with one per
 * observation, or an object keyed by observation labels ("*" for the rest). */
static int
strategy(rd *r, const cg_decision *d, json_t *v, double *probs)
{
    size_t na = d->n_actions;
    int rc = PG_OK;
    if (r->g->kind == CG_AUCTION && json_is_string(v) &&
        strcmp(json_string_value(v), "truthful") == 0)
        return truthful(r, d, probs);
    if (json_is_array(v)) {
        if (json_array_size(v) != d->n_obs)
            return pgi_jr_fail(&r->jr, PG_EPARSE, "needs one action per observation (%zu), has %zu",
                               d->n_obs, json_array_size(v));
        for (size_t o = 0; o < d->n_obs && !rc; o++) {
            size_t s = pgi_jr_push_index(&r->jr, o);
            rc = action_spec(r, d, json_array_get(v, o), probs + o * na);
            pgi_jr_pop(&r->jr, s);
        }
        return rc;
    }
    if (!json_is_object(v) || json_object_get(v, "mix")) {
        rc = action_spec(r, d, v, probs);
        for (size_t o = 1; o < d->n_obs && !rc; o++)
            memcpy(probs + o * na, probs, na * sizeof *probs);
        return rc;
    }
    bool *set = calloc(d->n_obs, sizeof *set);
    if (!set)
        return pgi_jr_nomem(&r->jr);
    const char *key;
    json_t *e, *rest = NULL;
    json_object_foreach(v, key, e)
    {
        if (rc)
            break;
        size_t s = pgi_jr_push_key(&r->jr, key);
        if (strcmp(key, "*") == 0) {
            rest = e;
        } else {
            size_t o = 0;
            while (o < d->n_obs && strcmp(d->obs_labels[o], key) != 0)
                o++;
            if (o == d->n_obs)
                rc = pgi_jr_fail(
                    &r->jr, PG_EPARSE,
                    "'%s' never observes '%s' (observation labels are the observed values "
                    "joined by \", \")",
                    d->name, key);
            else {
                rc = action_spec(r, d, e, probs + o * na);
                set[o] = true;
            }
        }
        pgi_jr_pop(&r->jr, s);
    }
    for (size_t o = 0; o < d->n_obs && !rc; o++) {
        if (set[o])
            continue;
        if (!rest) {
            rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                             "no action for observation '%s' (add it, or \"*\" for the rest)",
                             d->obs_labels[o]);
            break;
        }
        size_t s = pgi_jr_push_key(&r->jr, "*");
        rc = action_spec(r, d, rest, probs + o * na);
        pgi_jr_pop(&r->jr, s);
    }
    free(set);
    return rc;
}

static int
parse_play(rd *r, json_t *play, double *probs)
{
    cg_game *g = r->g;
    int rc = pgi_jr_want(&r->jr, play, JSON_OBJECT, "an object with a strategy per decision");
    const char *key;
    json_t *v;
    json_object_foreach(play, key, v)
    {
        if (rc)
            break;
        size_t k = 0;
        while (k < g->n_dec && strcmp(g->dec[k].name, key) != 0)
            k++;
        size_t s = pgi_jr_push_key(&r->jr, key);
        if (k == g->n_dec) {
            char list[400] = "";
            for (size_t j = 0; j < g->n_dec; j++) {
                if (j)
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, g->dec[j].name, sizeof list - strlen(list) - 1);
            }
            rc = pgi_jr_fail(&r->jr, PG_EPARSE, "there is no decision '%s' (decisions: %s)", key,
                             list);
        } else {
            rc = strategy(r, &g->dec[k], v, probs + pgi_cg_offset(g, k));
        }
        pgi_jr_pop(&r->jr, s);
    }
    for (size_t k = 0; k < g->n_dec && !rc; k++)
        if (!json_object_get(play, g->dec[k].name))
            rc = pgi_jr_fail(&r->jr, PG_EPARSE, "no strategy for decision '%s'", g->dec[k].name);
    return rc;
}

static int
expectation(rd *r, json_t *obj, int *expect)
{
    const char *e = NULL;
    *expect = -1;
    int rc = pgi_jr_get_string(&r->jr, obj, "expect", false, &e);
    if (rc || !e)
        return rc;
    if (strcmp(e, "equilibrium") == 0)
        *expect = 1;
    else if (strcmp(e, "not-equilibrium") == 0)
        *expect = 0;
    else {
        rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "expect",
                             "must be \"equilibrium\" or \"not-equilibrium\", not '%s'", e);
    }
    return rc;
}

static int
parse_profiles(rd *r, json_t *root)
{
    cg_game *g = r->g;
    json_t *arr;
    int rc = pgi_jr_get_array(&r->jr, root, "profiles", false, 0, &arr);
    if (rc || !arr)
        return rc;
    size_t n = json_array_size(arr);
    g->profiles = calloc(n ? n : 1, sizeof *g->profiles);
    if (!g->profiles)
        return pgi_jr_nomem(&r->jr);
    size_t s = pgi_jr_push_key(&r->jr, "profiles");
    for (size_t i = 0; i < n && !rc; i++) {
        static const char *const keys[] = {"name", "play", "expect", NULL};
        size_t si = pgi_jr_push_index(&r->jr, i);
        json_t *p = json_array_get(arr, i), *play;
        const char *name = NULL;
        cg_named *nm = &g->profiles[i];
        rc = pgi_jr_want(&r->jr, p, JSON_OBJECT, "an object with a name and a play");
        if (!rc)
            rc = pgi_jr_check_keys(&r->jr, p, NULL, keys);
        if (!rc)
            rc = pgi_jr_get_string(&r->jr, p, "name", true, &name);
        if (!rc)
            rc = expectation(r, p, &nm->expect);
        if (!rc)
            rc = pgi_jr_member(&r->jr, p, "play", true, "a strategy per decision", &play);
        if (!rc) {
            g->n_profiles = i + 1; /* owned from here on, whatever fails next */
            if (!(nm->name = pgi_strdup(name)) ||
                !(nm->probs = calloc(g->n_probs ? g->n_probs : 1, sizeof *nm->probs)))
                rc = pgi_jr_nomem(&r->jr);
        }
        if (!rc) {
            size_t sp = pgi_jr_push_key(&r->jr, "play");
            rc = parse_play(r, play, nm->probs);
            pgi_jr_pop(&r->jr, sp);
        }
        pgi_jr_pop(&r->jr, si);
    }
    pgi_jr_pop(&r->jr, s);
    return rc;
}

/* ---------------------------------------------------------------- learning runs */

static int
add_run(rd *r, pg_learn_rule rule, size_t rounds, bool average, cg_run **out)
{
    cg_game *g = r->g;
    cg_run *runs = realloc(g->runs, (g->n_runs + 1) * sizeof *runs);
    if (!runs)
        return pgi_jr_nomem(&r->jr);
    g->runs = runs;
    cg_run *run = &runs[g->n_runs++];
    memset(run, 0, sizeof *run);
    pg_learn_options_init(&run->o, rule, 1, 1);
    run->rounds = r->o->rounds ? r->o->rounds : rounds;
    run->average = average;
    run->tolerance = g->tolerance;
    run->expect = -1;
    *out = run;
    return PG_OK;
}

static int
default_runs(rd *r)
{
    cg_run *run;
    int rc = PG_OK;
    switch (r->g->kind) {
    case CG_NORMAL_FORM:
        rc = add_run(r, PG_LEARN_REGRET_MATCHING, 20000, true, &run);
        if (!rc)
            rc = add_run(r, PG_LEARN_FICTITIOUS_PLAY, 20000, true, &run);
        break;
    case CG_COURNOT:
        rc = add_run(r, PG_LEARN_FICTITIOUS_PLAY, 2000, false, &run);
        if (!rc)
            rc = add_run(r, PG_LEARN_BEST_RESPONSE, 200, false, &run);
        break;
    case CG_AUCTION:
    case CG_OPEN: rc = add_run(r, PG_LEARN_REGRET_MATCHING, 5000, true, &run); break;
    case CG_MARKOV: rc = add_run(r, PG_LEARN_Q_LEARNING, 200000, false, &run); break;
    }
    return rc;
}

static int
parse_runs(rd *r, json_t *root)
{
    json_t *arr;
    int rc = pgi_jr_get_array(&r->jr, root, "learning", false, 0, &arr);
    if (rc)
        return rc;
    if (!arr)
        return default_runs(r);
    size_t s = pgi_jr_push_key(&r->jr, "learning");
    for (size_t i = 0; i < json_array_size(arr) && !rc; i++) {
        static const char *const keys[] = {"rule",
                                           "rounds",
                                           "report",
                                           "tolerance",
                                           "expect",
                                           "epsilon",
                                           "temperature",
                                           "alpha",
                                           "gamma",
                                           "initial_value",
                                           "initial_propensity",
                                           "recency",
                                           "experimentation",
                                           "inertia",
                                           NULL};
        size_t si = pgi_jr_push_index(&r->jr, i);
        json_t *e = json_array_get(arr, i);
        const char *rule_name = NULL, *report = NULL;
        pg_learn_rule rule = PG_LEARN_REGRET_MATCHING;
        size_t rounds = 0;
        cg_run *run = NULL;
        rc = pgi_jr_want(&r->jr, e, JSON_OBJECT, "an object with a rule");
        if (!rc)
            rc = pgi_jr_check_keys(&r->jr, e, NULL, keys);
        if (!rc)
            rc = pgi_jr_get_string(&r->jr, e, "rule", true, &rule_name);
        if (!rc && pg_learn_rule_parse(rule_name, &rule) != PG_OK)
            rc = pgi_jr_fail_key(
                &r->jr, PG_EPARSE, "rule",
                "unknown rule '%s' (regret-matching, conditional-regret, fictitious-play, "
                "best-response, roth-erev, q-learning)",
                rule_name);
        if (!rc)
            rc = pgi_jr_get_size(&r->jr, e, "rounds", false, 1, PG_GAME_MAX_ROUNDS, &rounds);
        if (!rc)
            rc = pgi_jr_get_string(&r->jr, e, "report", false, &report);
        if (!rc && report && strcmp(report, "average") && strcmp(report, "last"))
            rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "report",
                                 "must be \"average\" or \"last\", not '%s'", report);
        if (!rc) {
            bool avg = report ? strcmp(report, "average") == 0
                              : (rule != PG_LEARN_BEST_RESPONSE && rule != PG_LEARN_Q_LEARNING &&
                                 r->g->kind != CG_COURNOT);
            size_t dflt = r->g->kind == CG_MARKOV        ? 200000
                          : r->g->kind == CG_NORMAL_FORM ? 20000
                                                         : 5000;
            rc = add_run(r, rule, rounds ? rounds : dflt, avg, &run);
            if (!rc && rounds && !r->o->rounds)
                run->rounds = rounds;
        }
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, e, "tolerance", false, 0, 1e300, &run->tolerance);
        if (!rc)
            rc = expectation(r, e, &run->expect);
        pg_learn_options *o = run ? &run->o : NULL;
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, e, "epsilon", false, 0, 1, &o->epsilon);
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, e, "temperature", false, 0, 1e300, &o->temperature);
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, e, "alpha", false, 0, 1, &o->alpha);
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, e, "gamma", false, 0, 0.999999, &o->gamma);
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, e, "initial_value", false, -1e300, 1e300,
                                   &o->initial_value);
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, e, "initial_propensity", false, 1e-300, 1e300,
                                   &o->initial_propensity);
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, e, "recency", false, 0, 0.999999, &o->recency);
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, e, "experimentation", false, 0, 0.999999,
                                   &o->experimentation);
        if (!rc)
            rc = pgi_jr_get_number(&r->jr, e, "inertia", false, 0, 1e300, &o->inertia);
        pgi_jr_pop(&r->jr, si);
    }
    pgi_jr_pop(&r->jr, s);
    return rc;
}

/* ---------------------------------------------------------------- the file */

void
pgi_cg_free(cg_game *g)
{
    if (!g)
        return;
    for (size_t k = 0; k < g->n_dec; k++) {
        free(g->dec[k].name);
        free_list(g->dec[k].obs_labels, g->dec[k].n_obs);
        free_list(g->dec[k].action_labels, g->dec[k].n_actions);
    }
    free(g->dec);
    for (size_t i = 0; i < g->n_profiles; i++) {
        free(g->profiles[i].name);
        free(g->profiles[i].probs);
    }
    free(g->profiles);
    free(g->runs);
    free(g->cournot_costs);
    pg_nf_free(g->nf);
    pg_og_free(g->og);
    pg_mg_free(g->mg);
    free(g->name);
    free(g->description);
    free(g->file);
    free(g);
}

static int
parse_root(rd *r, json_t *root)
{
    cg_game *g = r->g;
    int rc = pgi_jr_want(&r->jr, root, JSON_OBJECT, "an object");
    const char *format = NULL, *name = NULL, *kind = NULL, *description = NULL;
    if (!rc)
        rc = pgi_jr_get_string(&r->jr, root, "format", true, &format);
    if (!rc && strcmp(format, CG_FORMAT) != 0)
        rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "format", "this reader knows \"%s\", not '%s'",
                             CG_FORMAT, format);
    if (!rc)
        rc = pgi_jr_get_string(&r->jr, root, "name", true, &name);
    if (!rc)
        rc = pgi_jr_get_string(&r->jr, root, "description", false, &description);
    if (!rc)
        rc = pgi_jr_get_string(&r->jr, root, "kind", true, &kind);
    if (!rc && (!(g->name = pgi_strdup(name)) ||
                (description && !(g->description = pgi_strdup(description)))))
        rc = pgi_jr_nomem(&r->jr);
    g->tolerance = r->o->tolerance;
    if (!rc)
        rc = pgi_jr_get_number(&r->jr, root, "tolerance", false, 0, 1e300, &g->tolerance);
    if (rc)
        return rc;
    if (strcmp(kind, "normal-form") == 0) {
        g->kind = CG_NORMAL_FORM;
        rc = parse_normal_form(r, root);
    } else if (strcmp(kind, "cournot") == 0) {
        g->kind = CG_COURNOT;
        rc = parse_cournot(r, root);
    } else if (strcmp(kind, "auction") == 0) {
        g->kind = CG_AUCTION;
        rc = parse_auction(r, root);
    } else if (strcmp(kind, "markov") == 0) {
        g->kind = CG_MARKOV;
        rc = parse_markov(r, root);
    } else if (strcmp(kind, "open") == 0) {
        g->kind = CG_OPEN;
        rc = parse_open(r, root);
    } else {
        rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "kind",
                             "unknown kind '%s' (normal-form, cournot, auction, markov or open)",
                             kind);
    }
    if (!rc && g->og)
        rc = decisions_from_og(r);
    if (!rc)
        rc = parse_profiles(r, root);
    if (!rc)
        rc = parse_runs(r, root);
    /* Builder errors (PG_EMODEL from pg_og_*, pg_nf_*) that the code above did not place are
     * about the file as a whole. */
    return pgi_jr_place(&r->jr, rc);
}

int
pgi_cg_parse(const char *text, size_t len, const char *name, const pg_game_options *o,
             cg_game **out, pg_error *err)
{
    rd r = {.o = o};
    int rc = pgi_jr_open(&r.jr, name ? name : "<game>", text, len, err);
    if (rc)
        return rc;
    if (!(r.g = calloc(1, sizeof *r.g)) || !(r.g->file = pgi_strdup(r.jr.file)))
        rc = pgi_jr_nomem(&r.jr);
    if (!rc)
        rc = parse_root(&r, r.jr.root);
    pgi_jr_close(&r.jr);
    if (rc) {
        pgi_cg_free(r.g);
        return rc;
    }
    *out = r.g;
    return PG_OK;
}

bool
pg_game_text_is_classic(const char *text, size_t len)
{
    if (!text)
        return false;
    /* Parsed as the readers parse, so that what a reader takes is told the same way. */
    pgi_jr jr;
    if (pgi_jr_open(&jr, "", text, len, NULL) != PG_OK)
        return false;
    json_t *f = json_object_get(jr.root, "format");
    bool yes = json_is_string(f) && strcmp(json_string_value(f), CG_FORMAT) == 0;
    pgi_jr_close(&jr);
    return yes;
}
