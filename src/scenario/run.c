/* The scenario simulator (see scenario.h, docs/scenarios.md): runs turns of observation,
 * decision, negotiation, rule effects, shocks, decay and noise, rewards with alliance sharing and
 * learning, many runs in parallel.
 *
 * Reproducibility: run r draws every random number from its own stream (seed, r), in an order
 * fixed by the scenario alone; runs are grouped in blocks of fixed size that worker threads take
 * in any order, and sums over runs are kept per block and added up in block order at the end.
 * So the result is the same for a seed whatever the number of threads. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/internal.h"
#include "plurigrid/aif.h"
#include "plurigrid/learn.h"

#define BLOCK 16           /* runs per block of work */
#define AIF_OBS_NOISE 0.05 /* probability an active-inference agent misreads a level */
#define AIF_STAY 0.5       /* prior belief that a level stays where it is */

typedef struct shared shared;

typedef struct worker {
    shared *sh;
    const pg_scenario *sc;
    size_t turns, nq;
    pg_learner **learner; /* n_profiles x n_agents (NULL when the strategy is not learned) */
    pg_aif **aif;         /* n_profiles x n_agents */
    pg_learner **accept;  /* n_negs x max_partners: learned acceptance */
    size_t max_partners;
    double *x, *dx, *q, *qprev, *raw, *reward;
    size_t *act, *state, *next_state;
    size_t *aif_obs; /* n_agents x max_observes */
    double *seen;    /* n_agents x max_observes: last observed values */
    size_t max_observes;
    unsigned char *committed, *active, *accepted; /* accepted: n_negs x max_partners */
    unsigned char *proposed;                      /* n_negs */
    size_t *onset;                                /* per shock; 0: does not happen */
    size_t *action_turn; /* turns x total actions: runs taking each action each turn */
    pg_error err;
    int rc;
} worker;

struct shared {
    const pg_scenario *sc;
    pg_scenario_result *res;
    uint64_t seed;
    size_t n_blocks;
    double *block_var_sum; /* n_blocks x (turns + 1) x n_vars */
    atomic_size_t next_block;
    atomic_size_t done;
    atomic_int failed;
    pg_scenario_progress_fn progress;
    void *progress_ud;
};

/* Prefixes the message on err with a place ("run 3, turn 7, agent 'GG'"). The old message is
 * copied first: it cannot be both the destination and an argument of the formatting. */
static int with_place(pg_error *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
with_place(pg_error *err, int rc, const char *fmt, ...)
{
    char place[300], old[sizeof err->msg];
    snprintf(old, sizeof old, "%s", err->msg[0] ? err->msg : pg_strerror(rc));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(place, sizeof place, fmt, ap);
    va_end(ap);
    return pg_error_set(err, rc, "%s: %s", place, old);
}

/* ---------------------------------------------------------------- quantities, conditions */

static void
compute_quantities(const pg_scenario *sc, const double *x, double *q)
{
    memcpy(q, x, sc->n_vars * sizeof(double));
    for (size_t i = 0; i < sc->n_inds; i++) {
        const sc_indicator *ind = &sc->inds[i];
        double v = ind->offset;
        for (size_t k = 0; k < ind->n_terms; k++)
            v += ind->weight[k] * x[ind->var[k]];
        q[sc->n_vars + i] = v;
    }
}

static int
conds_hold(const sc_cond *c, size_t n, const double *q, const unsigned char *active)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].kind == COND_SHOCK) {
            if ((active[c[i].q] != 0) != (c[i].active != 0))
                return 0;
        } else {
            double v = q[c[i].q];
            if (!(v > c[i].above && v < c[i].below))
                return 0;
        }
    }
    return 1;
}

static void
apply_effects(const sc_effect *e, size_t n, const double *q, pg_rng *rng, double *dx)
{
    for (size_t i = 0; i < n; i++) {
        double d = e[i].add;
        for (size_t k = 0; k < e[i].n_per; k++)
            d += e[i].per_coef[k] * q[e[i].per_q[k]];
        if (e[i].noise > 0)
            d += e[i].noise * pg_rng_normal(rng);
        dx[e[i].var] += d;
    }
}

static size_t
level_of(const pg_scenario *sc, size_t q, double v, size_t bins)
{
    double lo, hi;
    pgi_sc_quantity_range(sc, q, &lo, &hi);
    if (!(hi > lo))
        return 0;
    double f = (v - lo) / (hi - lo) * (double)bins;
    if (!(f > 0))
        return 0;
    if (f >= (double)bins)
        return bins - 1;
    return (size_t)f;
}

/* ---------------------------------------------------------------- active-inference agents */

/* The model of an active-inference agent in a scenario: one hidden factor per observed quantity
 * (its level in `bins` equal steps, or its change: down, flat, up), transitions learned from a
 * prior that levels tend to stay, a slightly noisy reading of each level, preferences linear in
 * the levels. */
static int
make_aif(const sc_agent *ag, const sc_strategy *st, pg_aif **out, pg_error *err)
{
    size_t F = ag->n_observes, n = st->bins, na = ag->n_actions;
    size_t S = 1;
    for (size_t f = 0; f < F; f++)
        S *= n;
    size_t *ns = calloc(F, sizeof *ns);
    double **B = calloc(F, sizeof *B), **A = calloc(F, sizeof *A), **C = calloc(F, sizeof *C);
    int rc = PG_ENOMEM;
    if (!ns || !B || !A || !C)
        goto out;
    for (size_t f = 0; f < F; f++) {
        ns[f] = n;
        if (!(B[f] = malloc(na * n * n * sizeof(double))) ||
            !(A[f] = malloc(n * S * sizeof(double))) || !(C[f] = malloc(n * sizeof(double))))
            goto out;
        for (size_t a = 0; a < na; a++)
            for (size_t nx = 0; nx < n; nx++)
                for (size_t pv = 0; pv < n; pv++)
                    B[f][(a * n + nx) * n + pv] =
                        (1 - AIF_STAY) / (double)n + (nx == pv ? AIF_STAY : 0.0);
        size_t stride = 1;
        for (size_t g = f + 1; g < F; g++)
            stride *= n;
        for (size_t s = 0; s < S; s++) {
            size_t level = (s / stride) % n;
            for (size_t o = 0; o < n; o++)
                A[f][o * S + s] =
                    (o == level) ? 1 - AIF_OBS_NOISE : AIF_OBS_NOISE / (double)(n - 1);
        }
        for (size_t o = 0; o < n; o++)
            C[f][o] = st->precision * st->pref[f] * (double)o / (double)(n - 1);
    }
    pg_aif_model m = {.n_factors = F,
                      .n_states = ns,
                      .n_actions = na,
                      .B = (const double *const *)B,
                      .n_modalities = F,
                      .n_obs = ns,
                      .A = (const double *const *)A,
                      .C = (const double *const *)C,
                      .D = NULL};
    pg_aif_options o;
    pg_aif_options_init(&o);
    o.policy_depth = st->depth;
    o.gamma = st->gamma;
    o.action_selection = st->sample ? PG_AIF_SAMPLE : PG_AIF_ARGMAX;
    o.learn_B_rate = st->learning_rate;
    o.B_concentration = st->concentration;
    rc = pg_aif_new(out, &m, &o, err);
out:
    if (B)
        for (size_t f = 0; f < F; f++)
            free(B[f]);
    if (A)
        for (size_t f = 0; f < F; f++)
            free(A[f]);
    if (C)
        for (size_t f = 0; f < F; f++)
            free(C[f]);
    free(B);
    free(A);
    free(C);
    free(ns);
    if (rc == PG_ENOMEM)
        pg_error_set(err, rc, "out of memory");
    return rc;
}

/* ---------------------------------------------------------------- workers */

static void
worker_free(worker *w)
{
    if (!w)
        return;
    const pg_scenario *sc = w->sc;
    if (w->learner)
        for (size_t i = 0; i < sc->n_profiles * sc->n_agents; i++)
            pg_learner_free(w->learner[i]);
    if (w->aif)
        for (size_t i = 0; i < sc->n_profiles * sc->n_agents; i++)
            pg_aif_free(w->aif[i]);
    if (w->accept)
        for (size_t i = 0; i < sc->n_negs * w->max_partners; i++)
            pg_learner_free(w->accept[i]);
    free(w->learner);
    free(w->aif);
    free(w->accept);
    free(w->x);
    free(w->dx);
    free(w->q);
    free(w->qprev);
    free(w->raw);
    free(w->reward);
    free(w->act);
    free(w->state);
    free(w->next_state);
    free(w->aif_obs);
    free(w->seen);
    free(w->committed);
    free(w->active);
    free(w->accepted);
    free(w->proposed);
    free(w->onset);
    free(w->action_turn);
}

static int
worker_init(worker *w, shared *sh)
{
    const pg_scenario *sc = sh->sc;
    memset(w, 0, sizeof *w);
    w->sh = sh;
    w->sc = sc;
    w->turns = sh->res->turns;
    w->nq = pgi_sc_n_quantities(sc);
    size_t na = sc->n_agents, npa = sc->n_profiles * na;
    for (size_t i = 0; i < sc->n_negs; i++)
        if (sc->negs[i].n_partners > w->max_partners)
            w->max_partners = sc->negs[i].n_partners;
    w->max_observes = 1;
    for (size_t a = 0; a < na; a++)
        if (sc->agents[a].n_observes > w->max_observes)
            w->max_observes = sc->agents[a].n_observes;
    size_t nacc = sc->n_negs * w->max_partners;
    if (!(w->learner = calloc(npa, sizeof *w->learner)) ||
        !(w->aif = calloc(npa, sizeof *w->aif)) ||
        !(w->accept = calloc(nacc ? nacc : 1, sizeof *w->accept)) ||
        !(w->x = calloc(sc->n_vars, sizeof(double))) ||
        !(w->dx = calloc(sc->n_vars, sizeof(double))) || !(w->q = calloc(w->nq, sizeof(double))) ||
        !(w->qprev = calloc(w->nq, sizeof(double))) || !(w->raw = calloc(na, sizeof(double))) ||
        !(w->reward = calloc(na, sizeof(double))) || !(w->act = calloc(na, sizeof(size_t))) ||
        !(w->state = calloc(na, sizeof(size_t))) || !(w->next_state = calloc(na, sizeof(size_t))) ||
        !(w->aif_obs = calloc(na * w->max_observes, sizeof(size_t))) ||
        !(w->seen = calloc(na * w->max_observes, sizeof(double))) ||
        !(w->committed = calloc(na, 1)) || !(w->active = calloc(sc->n_shocks + 1, 1)) ||
        !(w->accepted = calloc(nacc + 1, 1)) || !(w->proposed = calloc(sc->n_negs + 1, 1)) ||
        !(w->onset = calloc(sc->n_shocks + 1, sizeof(size_t))) ||
        !(w->action_turn = calloc(w->turns * sh->res->total_actions, sizeof(size_t))))
        return pg_error_set(&w->err, PG_ENOMEM, "out of memory");
    for (size_t p = 0; p < sc->n_profiles; p++)
        for (size_t a = 0; a < na; a++) {
            const sc_strategy *st = &sc->profiles[p].strategy[a];
            int rc = PG_OK;
            if (st->kind == ST_ROTH_EREV || st->kind == ST_Q_LEARNING)
                rc = pg_learner_new(&w->learner[p * na + a], &st->learn, &w->err);
            else if (st->kind == ST_AIF)
                rc = make_aif(&sc->agents[a], st, &w->aif[p * na + a], &w->err);
            if (rc)
                return with_place(&w->err, rc, "profile '%s', agent '%s'", sc->profiles[p].name,
                                  sc->agents[a].name);
        }
    for (size_t i = 0; i < sc->n_negs; i++)
        for (size_t k = 0; k < sc->negs[i].n_partners; k++)
            if (isnan(sc->negs[i].partners[k].accept)) {
                pg_learn_options o;
                pg_learn_options_init(&o, PG_LEARN_ROTH_EREV, 1, 2);
                int rc = pg_learner_new(&w->accept[i * w->max_partners + k], &o, &w->err);
                if (rc)
                    return rc;
            }
    return PG_OK;
}

/* Reads agent a's observations of the current quantities (with its observation noise) into its
 * next state (Q-learning) and its active-inference observation vector: the level of each
 * quantity, or its change since the last observation (down, flat, up). first: the first
 * observation of a run, whose change is flat. */
static void
observe(worker *w, size_t p, size_t a, pg_rng *rng, int first)
{
    const pg_scenario *sc = w->sc;
    const sc_agent *ag = &sc->agents[a];
    const sc_strategy *st = &sc->profiles[p].strategy[a];
    size_t s = 0;
    for (size_t k = 0; k < ag->n_observes; k++) {
        size_t q = ag->observes[k];
        double v = w->q[q];
        if (ag->observation_noise > 0)
            v += ag->observation_noise * pg_rng_normal(rng);
        double *seen = &w->seen[a * w->max_observes + k];
        size_t bins = st->bins ? st->bins : 1, level;
        if (st->observe_change) {
            double lo, hi;
            pgi_sc_quantity_range(sc, q, &lo, &hi);
            double d = first ? 0.0 : v - *seen, band = st->band * (hi - lo);
            level = d < -band ? 0 : (d > band ? 2 : 1);
        } else {
            level = level_of(sc, q, v, bins);
        }
        *seen = v;
        s = s * bins + level;
        w->aif_obs[a * w->max_observes + k] = level;
    }
    w->next_state[a] = (st->kind == ST_Q_LEARNING) ? s : 0;
}

static int
decide(worker *w, size_t p, size_t a, pg_rng *rng, size_t *action)
{
    const pg_scenario *sc = w->sc;
    const sc_strategy *st = &sc->profiles[p].strategy[a];
    size_t na = sc->n_agents;
    switch (st->kind) {
    case ST_FIXED: *action = pg_rng_pick(rng, st->mix, sc->agents[a].n_actions); break;
    case ST_ROTH_EREV:
    case ST_Q_LEARNING: return pg_learner_draw(w->learner[p * na + a], w->state[a], rng, action);
    case ST_AIF: {
        pg_aif *ai = w->aif[p * na + a];
        int rc = pg_aif_observe(ai, w->aif_obs + a * w->max_observes, &w->err);
        if (!rc)
            rc = pg_aif_plan(ai, &w->err);
        if (!rc)
            rc = pg_aif_act(ai, action, &w->err);
        return rc;
    }
    default: return PG_EINVAL;
    }
    if (*action >= sc->agents[a].n_actions)
        *action = 0;
    return PG_OK;
}

static void
negotiate(worker *w, pg_rng *rng)
{
    const pg_scenario *sc = w->sc;
    memset(w->committed, 0, sc->n_agents);
    for (size_t i = 0; i < sc->n_negs; i++) {
        const sc_negotiation *ng = &sc->negs[i];
        w->proposed[i] = 0;
        if (!(ng->trigger >> w->act[ng->proposer] & 1) || w->committed[ng->proposer] ||
            !conds_hold(ng->cond, ng->n_cond, w->q, w->active))
            continue;
        w->proposed[i] = 1;
        int all = 1;
        for (size_t k = 0; k < ng->n_partners; k++) {
            const sc_partner *pt = &ng->partners[k];
            int yes;
            if (isnan(pt->accept)) {
                size_t d = 1;
                pg_learner_draw(w->accept[i * w->max_partners + k], 0, rng, &d);
                yes = (d == 0);
            } else {
                yes = pg_rng_uniform(rng) < pt->accept;
            }
            w->accepted[i * w->max_partners + k] = (unsigned char)yes;
            if (!yes || w->committed[pt->agent])
                all = 0;
        }
        if (!all) {
            w->proposed[i] = 2; /* proposed, not agreed */
            continue;
        }
        w->committed[ng->proposer] = 1;
        for (size_t k = 0; k < ng->n_partners; k++) {
            w->act[ng->partners[k].agent] = ng->partners[k].action;
            w->committed[ng->partners[k].agent] = 1;
        }
    }
}

static int
run_one(worker *w, size_t run, double *var_sum)
{
    shared *sh = w->sh;
    const pg_scenario *sc = w->sc;
    pg_scenario_result *res = sh->res;
    const size_t T = w->turns, na = sc->n_agents, P = sc->n_profiles, G = sc->n_groups;
    const size_t p = run % P, g = (run / P) % G;
    const sc_group *grp = &sc->groups[g];
    double *perf = res->perf + run * (T + 1);
    size_t *counts = res->action_counts + run * res->total_actions;
    pg_rng rng;
    pg_rng_seed(&rng, sh->seed, run);

    /* initial state, shock timing, fresh learners */
    for (size_t v = 0; v < sc->n_vars; v++) {
        double lo = isnan(grp->lo[v]) ? sc->vars[v].init_lo : grp->lo[v];
        double hi = isnan(grp->hi[v]) ? sc->vars[v].init_hi : grp->hi[v];
        w->x[v] = lo + (hi - lo) * pg_rng_uniform(&rng);
    }
    size_t first = 0;
    for (size_t k = 0; k < sc->n_shocks; k++) {
        const sc_shock *sk = &sc->shocks[k];
        int happens = pg_rng_uniform(&rng) < sk->probability;
        size_t t = sk->turn_lo + pg_rng_below(&rng, sk->turn_hi - sk->turn_lo + 1);
        w->onset[k] = (happens && t <= T) ? t : 0;
        res->shocked[run * (sc->n_shocks ? sc->n_shocks : 1) + k] = w->onset[k] != 0;
        if (w->onset[k] && (!first || w->onset[k] < first))
            first = w->onset[k];
    }
    for (size_t a = 0; a < na; a++) {
        if (w->learner[p * na + a])
            pg_learner_reset(w->learner[p * na + a]);
        if (w->aif[p * na + a])
            pg_aif_reset(w->aif[p * na + a], pg_rng_u64(&rng));
    }
    for (size_t i = 0; i < sc->n_negs * w->max_partners; i++)
        if (w->accept[i])
            pg_learner_reset(w->accept[i]);
    memset(res->agreements + run * sc->n_negs, 0, sc->n_negs * sizeof(size_t));
    memset(res->proposals + run * sc->n_negs, 0, sc->n_negs * sizeof(size_t));

    compute_quantities(sc, w->x, w->q);
    perf[0] = w->q[sc->perf_q];
    for (size_t v = 0; v < sc->n_vars; v++)
        var_sum[v] += w->x[v];
    for (size_t a = 0; a < na; a++) {
        observe(w, p, a, &rng, 1);
        w->state[a] = w->next_state[a];
    }

    for (size_t t = 1; t <= T; t++) {
        for (size_t k = 0; k < sc->n_shocks; k++)
            w->active[k] =
                w->onset[k] && t >= w->onset[k] && t < w->onset[k] + sc->shocks[k].duration;
        /* decisions, then agreements that commit partners to a joint project */
        for (size_t a = 0; a < na; a++) {
            int rc = decide(w, p, a, &rng, &w->act[a]);
            if (rc)
                return with_place(&w->err, rc, "run %zu, turn %zu, agent '%s'", run, t,
                                  sc->agents[a].name);
        }
        negotiate(w, &rng);
        for (size_t a = 0; a < na; a++)
            if (w->committed[a] && w->aif[p * na + a])
                pg_aif_set_action(w->aif[p * na + a], w->act[a], NULL);
        /* effects: every rule and shock reads the state at the start of the turn */
        memset(w->dx, 0, sc->n_vars * sizeof(double));
        for (size_t i = 0; i < sc->n_rules; i++) {
            const sc_rule *ru = &sc->rules[i];
            int ok = 1;
            for (size_t k = 0; k < ru->n_when && ok; k++)
                ok = (ru->when[k].actions >> w->act[ru->when[k].agent]) & 1;
            if (!ok || !conds_hold(ru->cond, ru->n_cond, w->q, w->active))
                continue;
            if (ru->probability < 1 && !(pg_rng_uniform(&rng) < ru->probability))
                continue;
            apply_effects(ru->effects, ru->n_effects, w->q, &rng, w->dx);
        }
        for (size_t k = 0; k < sc->n_shocks; k++) {
            if (w->onset[k] == t)
                apply_effects(sc->shocks[k].onset, sc->shocks[k].n_onset, w->q, &rng, w->dx);
            if (w->active[k])
                apply_effects(sc->shocks[k].during, sc->shocks[k].n_during, w->q, &rng, w->dx);
        }
        for (size_t v = 0; v < sc->n_vars; v++) {
            const sc_var *vr = &sc->vars[v];
            double d = w->dx[v] + vr->decay * (vr->baseline - w->x[v]);
            if (vr->noise > 0)
                d += vr->noise * pg_rng_normal(&rng);
            double nx = w->x[v] + d;
            w->x[v] = nx < vr->min ? vr->min : (nx > vr->max ? vr->max : nx);
        }
        memcpy(w->qprev, w->q, w->nq * sizeof(double));
        compute_quantities(sc, w->x, w->q);
        perf[t] = w->q[sc->perf_q];
        double *vs = var_sum + t * sc->n_vars;
        for (size_t v = 0; v < sc->n_vars; v++)
            vs[v] += w->x[v];

        /* rewards, transfers of agreed projects, alliance sharing */
        for (size_t a = 0; a < na; a++) {
            const sc_agent *ag = &sc->agents[a];
            double r = ag->reward_offset - ag->actions[w->act[a]].cost;
            for (size_t k = 0; k < ag->n_reward; k++) {
                size_t q = ag->reward[k].q;
                r +=
                    ag->reward[k].weight * (ag->reward[k].change ? w->q[q] - w->qprev[q] : w->q[q]);
            }
            w->raw[a] = r;
        }
        for (size_t i = 0; i < sc->n_negs; i++) {
            if (!w->proposed[i])
                continue;
            res->proposals[run * sc->n_negs + i]++;
            if (w->proposed[i] != 1)
                continue;
            res->agreements[run * sc->n_negs + i]++;
            for (size_t k = 0; k < sc->negs[i].n_transfers; k++) {
                const sc_transfer *tr = &sc->negs[i].transfers[k];
                w->raw[tr->from] -= tr->amount;
                w->raw[tr->to] += tr->amount;
            }
        }
        memcpy(w->reward, w->raw, na * sizeof(double));
        for (size_t i = 0; i < sc->n_alliances; i++) {
            const sc_alliance *al = &sc->alliances[i];
            if (!conds_hold(al->cond, al->n_cond, w->qprev, w->active))
                continue;
            double mean = 0;
            for (size_t k = 0; k < al->n_members; k++)
                mean += w->raw[al->members[k]];
            mean /= (double)al->n_members;
            for (size_t k = 0; k < al->n_members; k++)
                w->reward[al->members[k]] += al->share * (mean - w->raw[al->members[k]]);
        }

        /* what each agent sees next, and learning from this turn */
        for (size_t a = 0; a < na; a++)
            observe(w, p, a, &rng, 0);
        for (size_t a = 0; a < na; a++) {
            counts[res->action_offset[a] + w->act[a]]++;
            w->action_turn[(t - 1) * res->total_actions + res->action_offset[a] + w->act[a]]++;
            pg_learner *l = w->learner[p * na + a];
            if (l) {
                pg_learn_feedback fb;
                pg_learn_feedback_init(&fb);
                fb.state = w->state[a];
                fb.action = w->act[a];
                fb.reward = w->reward[a];
                fb.next_state = w->next_state[a];
                int rc = pg_learner_update(l, &fb, &w->err);
                if (rc)
                    return with_place(&w->err, rc, "run %zu, turn %zu, agent '%s'", run, t,
                                      sc->agents[a].name);
            }
            w->state[a] = w->next_state[a];
        }
        for (size_t i = 0; i < sc->n_negs; i++) {
            if (!w->proposed[i])
                continue;
            for (size_t k = 0; k < sc->negs[i].n_partners; k++) {
                pg_learner *l = w->accept[i * w->max_partners + k];
                if (!l)
                    continue;
                pg_learn_feedback fb;
                pg_learn_feedback_init(&fb);
                fb.action = w->accepted[i * w->max_partners + k] ? 0 : 1;
                fb.reward = w->reward[sc->negs[i].partners[k].agent];
                int rc = pg_learner_update(l, &fb, &w->err);
                if (rc)
                    return rc;
            }
        }
    }

    for (size_t v = 0; v < sc->n_vars; v++)
        res->final_vars[run * sc->n_vars + v] = w->x[v];
    /* resilience around the first shock; without one, around the start */
    size_t onset = first ? first : 1;
    res->onset[run] = onset;
    pg_resilience *m = &res->metrics[run];
    if (pg_resilience_measure(perf, T + 1, onset, &sc->res, m, NULL) != PG_OK) {
        m->baseline = m->min_level = m->robustness = m->time_to_recover = m->loss_area =
            m->recovery_rate = m->final_level = NAN;
        m->min_turn = onset;
        m->disrupted = m->recovered = false;
    }
    return PG_OK;
}

/* Takes blocks of runs until none is left or a worker failed. The calling thread reports
 * progress after each block it finishes; the other threads stay silent. */
static void
work(worker *w, int report)
{
    shared *sh = w->sh;
    pg_scenario_result *res = sh->res;
    const size_t T = res->turns, V = w->sc->n_vars;
    while (!atomic_load(&sh->failed)) {
        size_t b = atomic_fetch_add(&sh->next_block, 1);
        if (b >= sh->n_blocks)
            break;
        double *var_sum = sh->block_var_sum + b * (T + 1) * V;
        size_t first = b * BLOCK, end = first + BLOCK < res->runs ? first + BLOCK : res->runs;
        for (size_t r = first; r < end; r++) {
            if ((w->rc = run_one(w, r, var_sum))) {
                atomic_store(&sh->failed, 1);
                return;
            }
        }
        size_t done = atomic_fetch_add(&sh->done, end - first) + (end - first);
        if (report && sh->progress)
            sh->progress(done, res->runs, sh->progress_ud);
    }
}

static void *
worker_main(void *arg)
{
    work(arg, 0);
    return NULL;
}

void
pg_scenario_options_init(pg_scenario_options *o)
{
    memset(o, 0, sizeof *o);
}

void
pg_scenario_result_free(pg_scenario_result *r)
{
    if (!r)
        return;
    free(r->perf);
    free(r->metrics);
    free(r->onset);
    free(r->shocked);
    free(r->action_counts);
    free(r->agreements);
    free(r->proposals);
    free(r->final_vars);
    free(r->action_offset);
    free(r->var_sum);
    free(r->action_share);
    free(r);
}

static pg_scenario_result *
result_new(const pg_scenario *sc, size_t runs, size_t turns)
{
    pg_scenario_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->sc = sc;
    r->runs = runs;
    r->turns = turns;
    r->action_offset = calloc(sc->n_agents, sizeof(size_t));
    if (!r->action_offset)
        goto fail;
    for (size_t a = 0; a < sc->n_agents; a++) {
        r->action_offset[a] = r->total_actions;
        r->total_actions += sc->agents[a].n_actions;
    }
    size_t ns = sc->n_shocks ? sc->n_shocks : 1, nn = sc->n_negs ? sc->n_negs : 1;
    if (turns + 1 > SIZE_MAX / sizeof(double) / runs)
        goto fail;
    if (!(r->perf = malloc(runs * (turns + 1) * sizeof(double))) ||
        !(r->metrics = calloc(runs, sizeof *r->metrics)) ||
        !(r->onset = calloc(runs, sizeof(size_t))) || !(r->shocked = calloc(runs * ns, 1)) ||
        !(r->action_counts = calloc(runs * r->total_actions, sizeof(size_t))) ||
        !(r->agreements = calloc(runs * nn, sizeof(size_t))) ||
        !(r->proposals = calloc(runs * nn, sizeof(size_t))) ||
        !(r->final_vars = calloc(runs * sc->n_vars, sizeof(double))) ||
        !(r->var_sum = calloc((turns + 1) * sc->n_vars, sizeof(double))) ||
        !(r->action_share = calloc(turns * r->total_actions, sizeof(double))))
        goto fail;
    return r;
fail:
    pg_scenario_result_free(r);
    return NULL;
}

typedef struct thread_slot {
    pthread_t id;
    int started;
} thread_slot;

int
pg_scenario_run(const pg_scenario *sc, const pg_scenario_options *opts, pg_scenario_result **out,
                pg_error *err)
{
    if (!sc || !out)
        return pg_error_set(err, PG_EINVAL, "pg_scenario_run: scenario or out is NULL");
    pg_scenario_options o;
    if (opts)
        o = *opts;
    else
        pg_scenario_options_init(&o);
    size_t runs = o.runs ? o.runs : sc->runs, turns = o.turns ? o.turns : sc->turns;
    size_t nthreads = o.threads ? o.threads : 1;
    if (nthreads > 256)
        return pg_error_set(err, PG_EINVAL, "at most 256 threads (asked for %zu)", nthreads);
    if (runs > PG_SCENARIO_MAX_RUNS)
        return pg_error_set(err, PG_ELIMIT, "at most %zu runs (asked for %zu)",
                            PG_SCENARIO_MAX_RUNS, runs);
    if (turns > PG_SCENARIO_MAX_TURNS)
        return pg_error_set(err, PG_ELIMIT, "at most %zu turns (asked for %zu)",
                            PG_SCENARIO_MAX_TURNS, turns);
    if (runs * (turns + 1) > PG_SCENARIO_MAX_VALUES)
        return pg_error_set(err, PG_ELIMIT,
                            "%zu runs of %zu turns would keep %zu values of the indicator, more "
                            "than the limit of %zu (runs x (turns + 1)); make fewer runs or turns",
                            runs, turns, runs * (turns + 1), PG_SCENARIO_MAX_VALUES);
    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.sc = sc;
    sh.seed = o.set_seed ? o.seed : sc->seed;
    sh.n_blocks = (runs + BLOCK - 1) / BLOCK;
    sh.progress = o.progress;
    sh.progress_ud = o.progress_ud;
    atomic_init(&sh.next_block, 0);
    atomic_init(&sh.done, 0);
    atomic_init(&sh.failed, 0);
    if (nthreads > sh.n_blocks)
        nthreads = sh.n_blocks;
    worker *ws = calloc(nthreads, sizeof *ws);
    thread_slot *th = calloc(nthreads, sizeof *th);
    pg_scenario_result *res = result_new(sc, runs, turns);
    int rc = PG_OK;
    if (!ws || !th || !res ||
        !(sh.block_var_sum = calloc(sh.n_blocks * (turns + 1) * sc->n_vars, sizeof(double)))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory (%zu runs of %zu turns)", runs, turns);
        goto out;
    }
    res->seed = sh.seed;
    res->threads = nthreads;
    sh.res = res;
    for (size_t i = 0; i < nthreads; i++) {
        if ((rc = worker_init(&ws[i], &sh))) {
            if (err)
                *err = ws[i].err;
            goto out;
        }
    }
    for (size_t i = 1; i < nthreads; i++) {
        if (pthread_create(&th[i].id, NULL, worker_main, &ws[i]) != 0) {
            atomic_store(&sh.failed, 1);
            rc = pg_error_set(err, PG_ENOMEM, "cannot start worker thread %zu", i);
            break;
        }
        th[i].started = 1;
    }
    if (!rc)
        work(&ws[0], 1); /* the calling thread works too */
    for (size_t i = 1; i < nthreads; i++)
        if (th[i].started)
            pthread_join(th[i].id, NULL);
    for (size_t i = 0; i < nthreads && !rc; i++)
        if (ws[i].rc) {
            rc = ws[i].rc;
            if (err)
                *err = ws[i].err;
        }
    if (rc)
        goto out;
    if (sh.progress)
        sh.progress(runs, runs, sh.progress_ud);
    /* reduce in block order: the same sums whatever thread ran which block */
    for (size_t b = 0; b < sh.n_blocks; b++) {
        const double *bs = sh.block_var_sum + b * (turns + 1) * sc->n_vars;
        for (size_t i = 0; i < (turns + 1) * sc->n_vars; i++)
            res->var_sum[i] += bs[i];
    }
    for (size_t i = 0; i < nthreads; i++)
        for (size_t k = 0; k < turns * res->total_actions; k++)
            res->action_share[k] += (double)ws[i].action_turn[k];
    for (size_t k = 0; k < turns * res->total_actions; k++)
        res->action_share[k] /= (double)runs;
    *out = res;
    res = NULL;
out:
    if (ws)
        for (size_t i = 0; i < nthreads; i++)
            worker_free(&ws[i]);
    free(ws);
    free(th);
    free(sh.block_var_sum);
    pg_scenario_result_free(res);
    return rc;
}

size_t
pg_scenario_result_runs(const pg_scenario_result *r)
{
    return r ? r->runs : 0;
}

size_t
pg_scenario_result_turns(const pg_scenario_result *r)
{
    return r ? r->turns : 0;
}

const double *
pg_scenario_result_performance(const pg_scenario_result *r, size_t run)
{
    return (r && run < r->runs) ? r->perf + run * (r->turns + 1) : NULL;
}

const pg_resilience *
pg_scenario_result_metrics(const pg_scenario_result *r, size_t run)
{
    return (r && run < r->runs) ? &r->metrics[run] : NULL;
}

size_t
pg_scenario_result_onset(const pg_scenario_result *r, size_t run)
{
    return (r && run < r->runs) ? r->onset[run] : 0;
}

size_t
pg_scenario_result_action_count(const pg_scenario_result *r, size_t run, size_t agent,
                                size_t action)
{
    if (!r || run >= r->runs || agent >= r->sc->n_agents ||
        action >= r->sc->agents[agent].n_actions)
        return 0;
    return r->action_counts[run * r->total_actions + r->action_offset[agent] + action];
}
