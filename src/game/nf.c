/* Normal-form games: a payoff vector per action profile, expected payoffs and deviation gains of
 * mixed profiles, pure-equilibrium enumeration, the open game of simultaneous play, learning in
 * repeated play, and the Cournot game on a quantity grid. Profiles are numbered row-major with
 * player 0 the most significant digit, the same order as open-game tables. */
#include "plurigrid/game.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MAX_PROFILES ((size_t)1 << 24)

struct pg_nf {
    char *name;
    size_t n_players;
    char **players;
    size_t *n_actions;
    char ***labels;
    size_t n_profiles;
    size_t *offset;  /* start of each player's block in a mixed profile */
    size_t size;     /* total actions */
    double *payoffs; /* n_profiles x n_players */
};

void
pg_nf_free(pg_nf *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_players; i++) {
        free(g->players ? g->players[i] : NULL);
        if (g->labels && g->labels[i])
            for (size_t a = 0; a < g->n_actions[i]; a++)
                free(g->labels[i][a]);
        if (g->labels)
            free(g->labels[i]);
    }
    free(g->players);
    free(g->labels);
    free(g->n_actions);
    free(g->offset);
    free(g->payoffs);
    free(g->name);
    free(g);
}

int
pg_nf_new(pg_nf **out, const char *name, size_t n_players, const char *const *players,
          const size_t *n_actions, pg_error *err)
{
    if (!out || !players || !n_actions)
        return pg_error_set(err, PG_EINVAL, "pg_nf_new: argument is NULL");
    if (n_players == 0)
        return pg_error_set(err, PG_EMODEL, "a game needs at least one player");
    size_t profiles = 1;
    for (size_t i = 0; i < n_players; i++) {
        if (!players[i] || !players[i][0])
            return pg_error_set(err, PG_EMODEL, "player %zu has no name", i + 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(players[i], players[j]) == 0)
                return pg_error_set(err, PG_EMODEL, "two players are named '%s'", players[i]);
        if (n_actions[i] == 0)
            return pg_error_set(err, PG_EMODEL, "player '%s' needs at least one action",
                                players[i]);
        if (profiles > MAX_PROFILES / n_actions[i])
            return pg_error_set(err, PG_ELIMIT,
                                "the game has more than %zu action profiles; it is too big for a "
                                "payoff table",
                                MAX_PROFILES);
        profiles *= n_actions[i];
    }
    pg_nf *g = calloc(1, sizeof *g);
    if (!g)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    g->n_players = n_players;
    g->n_profiles = profiles;
    g->name = pgi_strdup(name ? name : "game");
    g->players = calloc(n_players, sizeof *g->players);
    g->labels = calloc(n_players, sizeof *g->labels);
    g->n_actions = malloc(n_players * sizeof *g->n_actions);
    g->offset = malloc(n_players * sizeof *g->offset);
    g->payoffs = calloc(profiles * n_players, sizeof *g->payoffs);
    if (!g->name || !g->players || !g->labels || !g->n_actions || !g->offset || !g->payoffs)
        goto nomem;
    for (size_t i = 0; i < n_players; i++) {
        g->n_actions[i] = n_actions[i];
        g->offset[i] = g->size;
        g->size += n_actions[i];
        g->players[i] = pgi_strdup(players[i]);
        g->labels[i] = calloc(n_actions[i], sizeof **g->labels);
        if (!g->players[i] || !g->labels[i])
            goto nomem;
        for (size_t a = 0; a < n_actions[i]; a++) {
            char tmp[32];
            snprintf(tmp, sizeof tmp, "%zu", a);
            if (!(g->labels[i][a] = pgi_strdup(tmp)))
                goto nomem;
        }
    }
    *out = g;
    return PG_OK;
nomem:
    pg_nf_free(g);
    return pg_error_set(err, PG_ENOMEM, "out of memory");
}

int
pg_nf_set_action_label(pg_nf *g, size_t player, size_t action, const char *label, pg_error *err)
{
    if (!g || !label || player >= g->n_players || action >= g->n_actions[player])
        return pg_error_set(err, PG_EINVAL, "pg_nf_set_action_label: no such player or action");
    char *l = pgi_strdup(label);
    if (!l)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    free(g->labels[player][action]);
    g->labels[player][action] = l;
    return PG_OK;
}

static size_t
profile_index(const pg_nf *g, const size_t *profile)
{
    size_t idx = 0;
    for (size_t i = 0; i < g->n_players; i++) {
        if (profile[i] >= g->n_actions[i])
            return PG_OG_NONE;
        idx = idx * g->n_actions[i] + profile[i];
    }
    return idx;
}

/* Decodes profile number idx into actions. */
static void
profile_actions(const pg_nf *g, size_t idx, size_t *profile)
{
    for (size_t i = g->n_players; i-- > 0;) {
        profile[i] = idx % g->n_actions[i];
        idx /= g->n_actions[i];
    }
}

int
pg_nf_set_payoffs(pg_nf *g, const size_t *profile, const double *payoffs, pg_error *err)
{
    if (!g || !profile || !payoffs)
        return pg_error_set(err, PG_EINVAL, "pg_nf_set_payoffs: argument is NULL");
    size_t idx = profile_index(g, profile);
    if (idx == PG_OG_NONE)
        return pg_error_set(err, PG_EINVAL, "an action in the profile is out of range");
    for (size_t i = 0; i < g->n_players; i++)
        if (!isfinite(payoffs[i]))
            return pg_error_set(err, PG_EMODEL, "the payoff of player '%s' is not a finite number",
                                g->players[i]);
    memcpy(g->payoffs + idx * g->n_players, payoffs, g->n_players * sizeof *payoffs);
    return PG_OK;
}

double
pg_nf_payoff(const pg_nf *g, const size_t *profile, size_t player)
{
    if (!g || !profile || player >= g->n_players)
        return NAN;
    size_t idx = profile_index(g, profile);
    return idx == PG_OG_NONE ? NAN : g->payoffs[idx * g->n_players + player];
}

const char *
pg_nf_name(const pg_nf *g)
{
    return g ? g->name : NULL;
}

size_t
pg_nf_n_players(const pg_nf *g)
{
    return g ? g->n_players : 0;
}

const char *
pg_nf_player(const pg_nf *g, size_t player)
{
    return (g && player < g->n_players) ? g->players[player] : NULL;
}

size_t
pg_nf_n_actions(const pg_nf *g, size_t player)
{
    return (g && player < g->n_players) ? g->n_actions[player] : 0;
}

const char *
pg_nf_action(const pg_nf *g, size_t player, size_t action)
{
    if (!g || player >= g->n_players || action >= g->n_actions[player])
        return NULL;
    return g->labels[player][action];
}

size_t
pg_nf_profile_size(const pg_nf *g)
{
    return g ? g->size : 0;
}

/* E[i][a]: player i's expected payoff from action a against the others' mixed actions, for
 * every player (e has size entries, laid out like a mixed profile). */
static void
action_values(const pg_nf *g, const double *mixed, double *e)
{
    size_t np = g->n_players;
    size_t stack[16];
    size_t *prof = np <= 16 ? stack : malloc(np * sizeof *prof);
    if (!prof) {
        for (size_t k = 0; k < g->size; k++)
            e[k] = NAN;
        return;
    }
    for (size_t k = 0; k < g->size; k++)
        e[k] = 0;
    for (size_t idx = 0; idx < g->n_profiles; idx++) {
        profile_actions(g, idx, prof);
        for (size_t i = 0; i < np; i++) {
            double w = 1;
            for (size_t j = 0; j < np && w != 0; j++)
                if (j != i)
                    w *= mixed[g->offset[j] + prof[j]];
            if (w != 0)
                e[g->offset[i] + prof[i]] += w * g->payoffs[idx * np + i];
        }
    }
    if (prof != stack)
        free(prof);
}

static int
check_mixed(const pg_nf *g, const double *mixed, pg_error *err)
{
    if (!g || !mixed)
        return pg_error_set(err, PG_EINVAL, "game or mixed profile is NULL");
    for (size_t i = 0; i < g->n_players; i++) {
        double t = 0;
        for (size_t a = 0; a < g->n_actions[i]; a++) {
            double p = mixed[g->offset[i] + a];
            if (!(p >= 0) || !isfinite(p))
                return pg_error_set(err, PG_EINVAL, "player '%s': probability %g is not in [0, 1]",
                                    g->players[i], p);
            t += p;
        }
        if (fabs(t - 1) > 1e-9)
            return pg_error_set(err, PG_EINVAL, "player '%s': probabilities sum to %.12g, not 1",
                                g->players[i], t);
    }
    return PG_OK;
}

/* Each player's expected payoff under the mixed profile (payoffs) and what a best response
 * would gain over it (gains); either may be NULL. */
static int
evaluate(const pg_nf *g, const double *mixed, double *payoffs, double *gains, pg_error *err)
{
    int rc = check_mixed(g, mixed, err);
    if (rc)
        return rc;
    double *e = malloc(g->size * sizeof *e);
    if (!e)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    action_values(g, mixed, e);
    for (size_t i = 0; i < g->n_players; i++) {
        double cur = 0, best = -INFINITY;
        for (size_t a = 0; a < g->n_actions[i]; a++) {
            cur += mixed[g->offset[i] + a] * e[g->offset[i] + a];
            if (e[g->offset[i] + a] > best)
                best = e[g->offset[i] + a];
        }
        if (payoffs)
            payoffs[i] = cur;
        if (gains)
            gains[i] = best - cur > 0 ? best - cur : 0;
    }
    free(e);
    return PG_OK;
}

int
pg_nf_expected(const pg_nf *g, const double *mixed, double *payoffs, pg_error *err)
{
    return evaluate(g, mixed, payoffs, NULL, err);
}

int
pg_nf_gains(const pg_nf *g, const double *mixed, double *gains, pg_error *err)
{
    return evaluate(g, mixed, NULL, gains, err);
}

int
pg_nf_to_og(const pg_nf *g, pg_og **out, pg_error *err)
{
    if (!g || !out)
        return pg_error_set(err, PG_EINVAL, "pg_nf_to_og: argument is NULL");
    size_t np = g->n_players;
    pg_og *og = NULL;
    size_t *vars = malloc(np * sizeof *vars);
    pg_og_node *nodes = malloc(np * sizeof *nodes);
    int rc = (!vars || !nodes) ? pg_error_set(err, PG_ENOMEM, "out of memory")
                               : pg_og_new(&og, g->name, np, (const char *const *)g->players, err);
    for (size_t i = 0; i < np && !rc; i++) {
        rc = pg_og_add_variable(og, g->players[i], g->n_actions[i],
                                (const char *const *)g->labels[i], &vars[i], err);
        if (!rc)
            rc = pg_og_decision(og, g->players[i], i, NULL, 0, vars[i], &nodes[i], err);
    }
    pg_og_node moves, pay, root;
    if (!rc)
        rc = pg_og_par(og, "moves", nodes, np, &moves, err);
    if (!rc)
        rc = pg_og_payoff(og, "payoffs", vars, np, g->payoffs, &pay, err);
    if (!rc) {
        pg_og_node seq[2] = {moves, pay};
        rc = pg_og_seq(og, "game", seq, 2, &root, err);
    }
    if (!rc)
        rc = pg_og_set_root(og, root, err);
    free(vars);
    free(nodes);
    if (rc) {
        pg_og_free(og);
        return rc;
    }
    *out = og;
    return PG_OK;
}

int
pg_nf_pure_equilibria(const pg_nf *g, double tol, size_t **profiles, size_t *n, pg_error *err)
{
    if (!g || !profiles || !n)
        return pg_error_set(err, PG_EINVAL, "pg_nf_pure_equilibria: argument is NULL");
    size_t np = g->n_players, found = 0, cap = 0;
    size_t *list = NULL;
    size_t *prof = malloc(np * sizeof *prof);
    if (!prof)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t idx = 0; idx < g->n_profiles; idx++) {
        profile_actions(g, idx, prof);
        bool eq = true;
        for (size_t i = 0; i < np && eq; i++) {
            double cur = g->payoffs[idx * np + i];
            /* Profiles that differ in player i's action only are `stride` apart. */
            size_t stride = 1;
            for (size_t j = i + 1; j < np; j++)
                stride *= g->n_actions[j];
            size_t base = idx - prof[i] * stride;
            for (size_t a = 0; a < g->n_actions[i] && eq; a++)
                if (g->payoffs[(base + a * stride) * np + i] > cur + tol)
                    eq = false;
        }
        if (!eq)
            continue;
        if (found == cap) {
            cap = cap ? 2 * cap : 8;
            size_t *nl = realloc(list, cap * np * sizeof *nl);
            if (!nl) {
                free(list);
                free(prof);
                return pg_error_set(err, PG_ENOMEM, "out of memory");
            }
            list = nl;
        }
        memcpy(list + found * np, prof, np * sizeof *prof);
        found++;
    }
    free(prof);
    *profiles = list;
    *n = found;
    return PG_OK;
}

void
pg_nf_learning_clear(pg_nf_learning *l)
{
    if (!l)
        return;
    free(l->average);
    free(l->last);
    free(l->frequency);
    free(l->last_play);
    free(l->joint);
    memset(l, 0, sizeof *l);
}

int
pg_nf_learn(const pg_nf *g, const pg_learn_options *o, size_t rounds, pg_rng *rng,
            pg_nf_learning *out, pg_error *err)
{
    if (!g || !o || !rng || !out)
        return pg_error_set(err, PG_EINVAL, "pg_nf_learn: argument is NULL");
    size_t np = g->n_players;
    pg_nf_learning r = {0};
    pg_learner **ls = calloc(np, sizeof *ls);
    size_t *prof = malloc(np * sizeof *prof);
    double *cf = malloc(g->size * sizeof *cf);
    int rc = PG_OK;
    r.rounds = rounds;
    r.n_joint = g->n_profiles;
    r.average = calloc(g->size, sizeof *r.average);
    r.last = calloc(g->size, sizeof *r.last);
    r.frequency = calloc(g->size, sizeof *r.frequency);
    r.last_play = calloc(np, sizeof *r.last_play);
    r.joint = calloc(g->n_profiles, sizeof *r.joint);
    if (!ls || !prof || !cf || !r.average || !r.last || !r.frequency || !r.last_play || !r.joint) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < np; i++) {
        pg_learn_options lo = *o;
        lo.n_states = 1;
        lo.n_actions = g->n_actions[i];
        rc = pg_learner_new(&ls[i], &lo, err);
        if (rc)
            goto out;
    }
    const size_t step = rounds >= 100 ? rounds / 100 : 1; /* progress about every 1% */
    for (size_t t = 0; t < rounds; t++) {
        for (size_t i = 0; i < np; i++)
            pg_learner_draw(ls[i], 0, rng, &prof[i]);
        size_t idx = profile_index(g, prof);
        r.joint[idx] += 1;
        for (size_t i = 0; i < np; i++) {
            size_t stride = 1;
            for (size_t j = i + 1; j < np; j++)
                stride *= g->n_actions[j];
            size_t base = idx - prof[i] * stride;
            double *c = cf + g->offset[i];
            for (size_t a = 0; a < g->n_actions[i]; a++)
                c[a] = g->payoffs[(base + a * stride) * np + i];
        }
        for (size_t i = 0; i < np; i++) {
            pg_learn_feedback f;
            pg_learn_feedback_init(&f);
            f.action = prof[i];
            f.reward = g->payoffs[idx * np + i];
            f.counterfactual = cf + g->offset[i];
            rc = pg_learner_update(ls[i], &f, err);
            if (rc)
                goto out;
            r.frequency[g->offset[i] + prof[i]] += 1;
        }
        if (o->progress && ((t + 1) % step == 0 || t + 1 == rounds))
            o->progress(t + 1, rounds, o->progress_ud);
    }
    for (size_t i = 0; i < np; i++) {
        pg_learner_average_policy(ls[i], 0, r.average + g->offset[i]);
        pg_learner_policy(ls[i], 0, r.last + g->offset[i]);
        r.last_play[i] = prof[i];
        for (size_t a = 0; a < g->n_actions[i] && rounds; a++)
            r.frequency[g->offset[i] + a] /= (double)rounds;
    }
    for (size_t k = 0; k < g->n_profiles && rounds; k++)
        r.joint[k] /= (double)rounds;
    if (!rounds)
        for (size_t i = 0; i < np; i++)
            r.last_play[i] = 0;
    *out = r;
    memset(&r, 0, sizeof r);
out:
    pg_nf_learning_clear(&r);
    if (ls)
        for (size_t i = 0; i < np; i++)
            pg_learner_free(ls[i]);
    free(ls);
    free(prof);
    free(cf);
    return rc;
}

/* ---------------------------------------------------------------- Cournot */

void
pg_nf_cournot_equilibrium(double a, double b, const double *costs, size_t n_firms, double *q)
{
    double sum = 0;
    for (size_t i = 0; i < n_firms; i++)
        sum += costs[i];
    for (size_t i = 0; i < n_firms; i++)
        q[i] = (a - (double)(n_firms + 1) * costs[i] + sum) / ((double)(n_firms + 1) * b);
}

int
pg_nf_cournot(pg_nf **out, double a, double b, const double *costs, size_t n_firms, double q_max,
              size_t n_steps, pg_error *err)
{
    if (!out || !costs)
        return pg_error_set(err, PG_EINVAL, "pg_nf_cournot: argument is NULL");
    if (!(a > 0) || !isfinite(a) || !(b > 0) || !isfinite(b))
        return pg_error_set(err, PG_EMODEL,
                            "Cournot demand needs intercept > 0 and slope > 0 (got %g and %g)", a,
                            b);
    if (!(q_max > 0) || !isfinite(q_max) || n_steps == 0)
        return pg_error_set(err, PG_EMODEL,
                            "the quantity grid needs a maximum > 0 and at least one step");
    if (n_firms == 0 || n_firms > 16)
        return pg_error_set(err, PG_EMODEL, "a Cournot game needs 1 to 16 firms, got %zu", n_firms);
    for (size_t i = 0; i < n_firms; i++)
        if (!(costs[i] >= 0) || !isfinite(costs[i]))
            return pg_error_set(err, PG_EMODEL, "firm %zu: unit cost must be >= 0, got %g", i + 1,
                                costs[i]);
    char names[16][16];
    const char *players[16];
    size_t na[16];
    for (size_t i = 0; i < n_firms; i++) {
        snprintf(names[i], sizeof names[i], "firm%zu", i + 1);
        players[i] = names[i];
        na[i] = n_steps + 1;
    }
    pg_nf *g = NULL;
    int rc = pg_nf_new(&g, "cournot", n_firms, players, na, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n_firms && !rc; i++)
        for (size_t k = 0; k <= n_steps && !rc; k++) {
            char lab[32];
            snprintf(lab, sizeof lab, "%g", q_max * (double)k / (double)n_steps);
            rc = pg_nf_set_action_label(g, i, k, lab, err);
        }
    size_t prof[16];
    double pay[16];
    for (size_t idx = 0; idx < g->n_profiles && !rc; idx++) {
        profile_actions(g, idx, prof);
        double total = 0;
        for (size_t i = 0; i < n_firms; i++)
            total += q_max * (double)prof[i] / (double)n_steps;
        double price = a - b * total;
        if (price < 0)
            price = 0;
        for (size_t i = 0; i < n_firms; i++)
            pay[i] = q_max * (double)prof[i] / (double)n_steps * (price - costs[i]);
        memcpy(g->payoffs + idx * n_firms, pay, n_firms * sizeof *pay);
    }
    if (rc) {
        pg_nf_free(g);
        return rc;
    }
    *out = g;
    return PG_OK;
}
