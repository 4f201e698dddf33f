/* Finite discounted Markov games: exact values of stationary policies (the linear Bellman
 * equations), the subgame-perfection check by the one-shot deviation principle done as an open
 * game (state drawn by nature and observed, stage decisions in parallel, payoff = stage payoff +
 * discounted continuation value), and independent learners playing the game. */
#include "plurigrid/game.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "game/internal.h"

#define MAX_STATES 4096
#define MAX_PLAYERS 16

struct pg_mg {
    char *name;
    size_t np;
    char **players;
    size_t *na;
    char ***labels;
    size_t ns;
    char **states;
    double discount;
    size_t n_prof;  /* action profiles per state */
    size_t *offset; /* per player: start of its block in a policy */
    size_t policy_size;
    double *payoffs; /* ns x n_prof x np */
    double *next;    /* ns x n_prof x ns */
};

void
pg_mg_free(pg_mg *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->np; i++) {
        free(g->players ? g->players[i] : NULL);
        if (g->labels && g->labels[i])
            for (size_t a = 0; a < g->na[i]; a++)
                free(g->labels[i][a]);
        if (g->labels)
            free(g->labels[i]);
    }
    if (g->states)
        for (size_t s = 0; s < g->ns; s++)
            free(g->states[s]);
    free(g->states);
    free(g->players);
    free(g->labels);
    free(g->na);
    free(g->offset);
    free(g->payoffs);
    free(g->next);
    free(g->name);
    free(g);
}

int
pg_mg_new(pg_mg **out, const char *name, size_t n_players, const char *const *players,
          const size_t *n_actions, size_t n_states, const char *const *states, double discount,
          pg_error *err)
{
    if (!out || !players || !n_actions || !states)
        return pg_error_set(err, PG_EINVAL, "pg_mg_new: argument is NULL");
    if (n_players == 0 || n_players > MAX_PLAYERS)
        return pg_error_set(err, PG_EMODEL, "a Markov game needs 1 to %d players, got %zu",
                            MAX_PLAYERS, n_players);
    if (n_states == 0 || n_states > MAX_STATES)
        return pg_error_set(err, PG_EMODEL, "a Markov game needs 1 to %d states, got %zu",
                            MAX_STATES, n_states);
    if (!(discount >= 0 && discount < 1))
        return pg_error_set(err, PG_EMODEL, "the discount factor must be in [0, 1), got %g",
                            discount);
    size_t prof = 1;
    for (size_t i = 0; i < n_players; i++) {
        if (!players[i] || !players[i][0])
            return pg_error_set(err, PG_EMODEL, "player %zu has no name", i + 1);
        if (strcmp(players[i], "state") == 0)
            return pg_error_set(err, PG_EMODEL,
                                "a player of a Markov game cannot be called 'state' (the name of "
                                "the state variable)");
        for (size_t j = 0; j < i; j++)
            if (strcmp(players[i], players[j]) == 0)
                return pg_error_set(err, PG_EMODEL, "two players are named '%s'", players[i]);
        if (n_actions[i] == 0)
            return pg_error_set(err, PG_EMODEL, "player '%s' needs at least one action",
                                players[i]);
        if (prof > ((size_t)1 << 20) / n_actions[i])
            return pg_error_set(err, PG_ELIMIT, "the stage game has too many action profiles");
        prof *= n_actions[i];
    }
    if (prof * n_states > ((size_t)1 << 24) / n_states)
        return pg_error_set(err, PG_ELIMIT,
                            "%zu states with %zu action profiles each make a transition table "
                            "that is too big",
                            n_states, prof);
    for (size_t s = 0; s < n_states; s++) {
        if (!states[s] || !states[s][0])
            return pg_error_set(err, PG_EMODEL, "state %zu has no name", s + 1);
        for (size_t t = 0; t < s; t++)
            if (strcmp(states[s], states[t]) == 0)
                return pg_error_set(err, PG_EMODEL, "two states are named '%s'", states[s]);
    }
    pg_mg *g = calloc(1, sizeof *g);
    if (!g)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    g->np = n_players;
    g->ns = n_states;
    g->n_prof = prof;
    g->discount = discount;
    g->name = pgi_strdup(name ? name : "markov game");
    g->players = calloc(n_players, sizeof *g->players);
    g->labels = calloc(n_players, sizeof *g->labels);
    g->na = malloc(n_players * sizeof *g->na);
    g->offset = malloc(n_players * sizeof *g->offset);
    g->states = calloc(n_states, sizeof *g->states);
    g->payoffs = calloc(n_states * prof * n_players, sizeof *g->payoffs);
    g->next = calloc(n_states * prof * n_states, sizeof *g->next);
    if (!g->name || !g->players || !g->labels || !g->na || !g->offset || !g->states ||
        !g->payoffs || !g->next)
        goto nomem;
    for (size_t i = 0; i < n_players; i++) {
        g->na[i] = n_actions[i];
        g->offset[i] = g->policy_size;
        g->policy_size += n_states * n_actions[i];
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
    for (size_t s = 0; s < n_states; s++) {
        if (!(g->states[s] = pgi_strdup(states[s])))
            goto nomem;
        for (size_t k = 0; k < prof; k++)
            g->next[(s * prof + k) * n_states + s] = 1.0;
    }
    *out = g;
    return PG_OK;
nomem:
    pg_mg_free(g);
    return pg_error_set(err, PG_ENOMEM, "out of memory");
}

int
pg_mg_set_action_label(pg_mg *g, size_t player, size_t action, const char *label, pg_error *err)
{
    if (!g || !label || player >= g->np || action >= g->na[player])
        return pg_error_set(err, PG_EINVAL, "pg_mg_set_action_label: no such player or action");
    char *l = pgi_strdup(label);
    if (!l)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    free(g->labels[player][action]);
    g->labels[player][action] = l;
    return PG_OK;
}

int
pg_mg_set(pg_mg *g, size_t state, const size_t *profile, const double *payoffs, const double *next,
          pg_error *err)
{
    if (!g || !profile || !payoffs || !next)
        return pg_error_set(err, PG_EINVAL, "pg_mg_set: argument is NULL");
    if (state >= g->ns)
        return pg_error_set(err, PG_EINVAL, "state %zu does not exist", state);
    size_t k = 0;
    for (size_t i = 0; i < g->np; i++) {
        if (profile[i] >= g->na[i])
            return pg_error_set(err, PG_EINVAL, "player '%s' has no action %zu", g->players[i],
                                profile[i]);
        k = k * g->na[i] + profile[i];
    }
    for (size_t i = 0; i < g->np; i++)
        if (!isfinite(payoffs[i]))
            return pg_error_set(err, PG_EMODEL, "state '%s': a payoff is not a finite number",
                                g->states[state]);
    double t = 0;
    for (size_t s = 0; s < g->ns; s++) {
        if (!(next[s] >= 0) || !isfinite(next[s]))
            return pg_error_set(err, PG_EMODEL,
                                "state '%s': a next-state probability is not in [0, 1]",
                                g->states[state]);
        t += next[s];
    }
    if (fabs(t - 1) > 1e-9)
        return pg_error_set(err, PG_EMODEL,
                            "state '%s': next-state probabilities sum to %.12g, not 1",
                            g->states[state], t);
    memcpy(g->payoffs + (state * g->n_prof + k) * g->np, payoffs, g->np * sizeof *payoffs);
    memcpy(g->next + (state * g->n_prof + k) * g->ns, next, g->ns * sizeof *next);
    return PG_OK;
}

size_t
pg_mg_n_states(const pg_mg *g)
{
    return g ? g->ns : 0;
}

const char *
pg_mg_state(const pg_mg *g, size_t state)
{
    return (g && state < g->ns) ? g->states[state] : NULL;
}

size_t
pg_mg_n_players(const pg_mg *g)
{
    return g ? g->np : 0;
}

const char *
pg_mg_player(const pg_mg *g, size_t player)
{
    return (g && player < g->np) ? g->players[player] : NULL;
}

size_t
pg_mg_n_actions(const pg_mg *g, size_t player)
{
    return (g && player < g->np) ? g->na[player] : 0;
}

const char *
pg_mg_action(const pg_mg *g, size_t player, size_t action)
{
    return (g && player < g->np && action < g->na[player]) ? g->labels[player][action] : NULL;
}

double
pg_mg_discount(const pg_mg *g)
{
    return g ? g->discount : 0;
}

size_t
pg_mg_policy_size(const pg_mg *g)
{
    return g ? g->policy_size : 0;
}

size_t
pg_mg_policy_offset(const pg_mg *g, size_t player)
{
    return (g && player < g->np) ? g->offset[player] : 0;
}

static int
check_policy(const pg_mg *g, const double *policy, pg_error *err)
{
    if (!g || !policy)
        return pg_error_set(err, PG_EINVAL, "game or policy is NULL");
    for (size_t i = 0; i < g->np; i++)
        for (size_t s = 0; s < g->ns; s++) {
            const double *p = policy + g->offset[i] + s * g->na[i];
            double t = 0;
            for (size_t a = 0; a < g->na[i]; a++) {
                if (!(p[a] >= 0) || !isfinite(p[a]))
                    return pg_error_set(err, PG_EINVAL,
                                        "policy of '%s' in state '%s': probability %g is not in "
                                        "[0, 1]",
                                        g->players[i], g->states[s], p[a]);
                t += p[a];
            }
            if (fabs(t - 1) > 1e-9)
                return pg_error_set(err, PG_EINVAL,
                                    "policy of '%s' in state '%s': probabilities sum to %.12g",
                                    g->players[i], g->states[s], t);
        }
    return PG_OK;
}

/* Probability of action profile k in state s under the policy. */
static double
profile_prob(const pg_mg *g, const double *policy, size_t s, size_t k)
{
    double w = 1;
    for (size_t i = g->np; i-- > 0;) {
        size_t a = k % g->na[i];
        k /= g->na[i];
        w *= policy[g->offset[i] + s * g->na[i] + a];
    }
    return w;
}

int
pg_mg_values(const pg_mg *g, const double *policy, double *values, pg_error *err)
{
    int rc = check_policy(g, policy, err);
    if (rc)
        return rc;
    if (!values)
        return pg_error_set(err, PG_EINVAL, "values are NULL");
    size_t ns = g->ns, np = g->np;
    /* (I - delta P) V = r, one right-hand side per player. */
    double *M = calloc(ns * ns, sizeof *M);
    double *R = calloc(ns * np, sizeof *R);
    if (!M || !R) {
        free(M);
        free(R);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    for (size_t s = 0; s < ns; s++) {
        M[s * ns + s] = 1;
        for (size_t k = 0; k < g->n_prof; k++) {
            double w = profile_prob(g, policy, s, k);
            if (w == 0)
                continue;
            const double *u = g->payoffs + (s * g->n_prof + k) * np;
            const double *nx = g->next + (s * g->n_prof + k) * ns;
            for (size_t i = 0; i < np; i++)
                R[s * np + i] += w * u[i];
            for (size_t t = 0; t < ns; t++)
                M[s * ns + t] -= g->discount * w * nx[t];
        }
    }
    if (!pgi_solve_dense(M, R, ns, np, 1e-14))
        rc = pg_error_set(err, PG_ESOLVER, "the Bellman equations of the policy are singular");
    else
        memcpy(values, R, ns * np * sizeof *R);
    free(M);
    free(R);
    return rc;
}

int
pg_mg_check(const pg_mg *g, const double *policy, double tol, pg_og_check *out, pg_error *err)
{
    int rc = check_policy(g, policy, err);
    if (rc)
        return rc;
    if (!out)
        return pg_error_set(err, PG_EINVAL, "check result is NULL");
    size_t ns = g->ns, np = g->np;
    double *V = malloc(ns * np * sizeof *V);
    double *table = malloc(ns * g->n_prof * np * sizeof *table);
    double *uniform = malloc(ns * sizeof *uniform);
    size_t vars[1 + MAX_PLAYERS];
    pg_og_node moves[MAX_PLAYERS], parts[3], root;
    pg_og *og = NULL;
    pg_og_profile *prof = NULL;
    if (!V || !table || !uniform) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    rc = pg_mg_values(g, policy, V, err);
    if (rc)
        goto out;
    /* Stage payoff plus the discounted value of where the profile leads, for every state and
     * profile: the continuation the one-shot deviation is judged against. */
    for (size_t s = 0; s < ns; s++) {
        uniform[s] = 1.0 / (double)ns;
        for (size_t k = 0; k < g->n_prof; k++) {
            const double *u = g->payoffs + (s * g->n_prof + k) * np;
            const double *nx = g->next + (s * g->n_prof + k) * ns;
            for (size_t i = 0; i < np; i++) {
                double c = 0;
                for (size_t t = 0; t < ns; t++)
                    c += nx[t] * V[t * np + i];
                table[(s * g->n_prof + k) * np + i] = u[i] + g->discount * c;
            }
        }
    }
    rc = pg_og_new(&og, g->name, np, (const char *const *)g->players, err);
    if (!rc)
        rc = pg_og_add_variable(og, "state", ns, (const char *const *)g->states, &vars[0], err);
    if (!rc)
        rc = pg_og_nature(og, "state", NULL, 0, vars[0], uniform, &parts[0], err);
    for (size_t i = 0; i < np && !rc; i++) {
        rc = pg_og_add_variable(og, g->players[i], g->na[i], (const char *const *)g->labels[i],
                                &vars[1 + i], err);
        if (!rc)
            rc = pg_og_decision(og, g->players[i], i, &vars[0], 1, vars[1 + i], &moves[i], err);
    }
    if (!rc)
        rc = pg_og_par(og, "stage", moves, np, &parts[1], err);
    if (!rc)
        rc = pg_og_payoff(og, "stage payoff and continuation", vars, 1 + np, table, &parts[2], err);
    if (!rc)
        rc = pg_og_seq(og, "one stage", parts, 3, &root, err);
    if (!rc)
        rc = pg_og_set_root(og, root, err);
    if (!rc)
        rc = pg_og_profile_new(&prof, og, err);
    for (size_t i = 0; i < np && !rc; i++)
        for (size_t s = 0; s < ns && !rc; s++)
            rc = pg_og_profile_set_mixed(prof, moves[i], s, policy + g->offset[i] + s * g->na[i],
                                         err);
    if (!rc)
        rc = pg_og_check_equilibrium(prof, tol, out, err);
out:
    pg_og_profile_free(prof);
    pg_og_free(og);
    free(V);
    free(table);
    free(uniform);
    return rc;
}

int
pg_mg_learn(const pg_mg *g, const pg_learn_options *o, size_t steps, size_t start_state,
            pg_rng *rng, double *greedy, pg_error *err)
{
    if (!g || !o || !rng)
        return pg_error_set(err, PG_EINVAL, "pg_mg_learn: argument is NULL");
    if (start_state >= g->ns)
        return pg_error_set(err, PG_EINVAL, "start state %zu does not exist", start_state);
    size_t np = g->np;
    pg_learner *ls[MAX_PLAYERS] = {0};
    size_t a[MAX_PLAYERS];
    double cfbuf[4096];
    size_t total_actions = 0;
    for (size_t i = 0; i < np; i++)
        total_actions += g->na[i];
    double *cf = total_actions <= 4096 ? cfbuf : malloc(total_actions * sizeof *cf);
    int rc = cf ? PG_OK : pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < np && !rc; i++) {
        pg_learn_options lo = *o;
        lo.n_states = g->ns;
        lo.n_actions = g->na[i];
        if (lo.rule == PG_LEARN_Q_LEARNING)
            lo.gamma = g->discount;
        rc = pg_learner_new(&ls[i], &lo, err);
    }
    size_t s = start_state;
    const size_t step = steps >= 100 ? steps / 100 : 1; /* progress about every 1% */
    for (size_t t = 0; t < steps && !rc; t++) {
        for (size_t i = 0; i < np; i++)
            pg_learner_draw(ls[i], s, rng, &a[i]);
        size_t k = 0;
        for (size_t i = 0; i < np; i++)
            k = k * g->na[i] + a[i];
        const double *u = g->payoffs + (s * g->n_prof + k) * np;
        size_t next = pg_rng_pick(rng, g->next + (s * g->n_prof + k) * g->ns, g->ns);
        if (next >= g->ns)
            next = s;
        /* Counterfactual stage payoffs of every action against the others' realised actions
         * (myopic: the full-information rules judge the stage game only). */
        size_t off = 0;
        for (size_t i = 0; i < np; i++) {
            size_t stride = 1;
            for (size_t j = i + 1; j < np; j++)
                stride *= g->na[j];
            size_t base = k - a[i] * stride;
            for (size_t b = 0; b < g->na[i]; b++)
                cf[off + b] = g->payoffs[(s * g->n_prof + base + b * stride) * np + i];
            pg_learn_feedback f;
            pg_learn_feedback_init(&f);
            f.state = s;
            f.action = a[i];
            f.reward = u[i];
            f.counterfactual = cf + off;
            f.next_state = next;
            rc = pg_learner_update(ls[i], &f, err);
            if (rc)
                break;
            off += g->na[i];
        }
        s = next;
        if (!rc && o->progress && ((t + 1) % step == 0 || t + 1 == steps))
            o->progress(t + 1, steps, o->progress_ud);
    }
    if (!rc && greedy)
        for (size_t i = 0; i < np; i++)
            for (size_t st = 0; st < g->ns; st++) {
                double *p = greedy + g->offset[i] + st * g->na[i];
                size_t best = pg_learner_best(ls[i], st);
                for (size_t b = 0; b < g->na[i]; b++)
                    p[b] = b == best;
            }
    for (size_t i = 0; i < np; i++)
        pg_learner_free(ls[i]);
    if (cf != cfbuf)
        free(cf);
    return rc;
}
