/* Learning in open games: one learner per decision proposes a strategy (states are the
 * decision's observations). Rounds sample a play under the learners' current policies; each
 * decision on the sampled history learns either from the exact expected continuation payoff of
 * every action (full-information rules) or from its realised continuation payoff (Roth-Erev,
 * Q-learning as a bandit). The resulting profile is what the equilibrium check then verifies. */
#include "opengame/internal.h"

#include <stdlib.h>
#include <string.h>

#include "opengame/eval.h"

static bool
needs_counterfactual(pg_learn_rule r)
{
    return r == PG_LEARN_REGRET_MATCHING || r == PG_LEARN_CONDITIONAL_REGRET ||
           r == PG_LEARN_FICTITIOUS_PLAY || r == PG_LEARN_BEST_RESPONSE;
}

/* Copies the learners' policies (average or current) into profile p. */
static int
to_profile(const pg_og *g, pg_learner **learners, bool average, pg_og_profile *p, double *probs,
           pg_error *err)
{
    for (size_t k = 0; k < g->n_decisions; k++) {
        pg_og_node d = g->steps[g->decisions[k]];
        const og_node *n = &g->nodes[d];
        size_t na = g->var_n[n->out];
        for (size_t o = 0; o < n->n_rows; o++) {
            if (average)
                pg_learner_average_policy(learners[k], o, probs);
            else
                pg_learner_policy(learners[k], o, probs);
            /* Rounding can leave a sum a few ulps from 1; renormalise before the strict check. */
            double t = 0;
            for (size_t a = 0; a < na; a++)
                t += probs[a];
            for (size_t a = 0; a < na; a++)
                probs[a] /= t;
            int rc = pg_og_profile_set_mixed(p, d, o, probs, err);
            if (rc)
                return rc;
        }
    }
    return PG_OK;
}

int
pg_og_learn(const pg_og *g, const pg_learn_options *o, size_t rounds, pg_rng *rng,
            pg_og_profile *average, pg_og_profile *last, pg_error *err)
{
    if (!g || !o || !rng)
        return pg_error_set(err, PG_EINVAL, "pg_og_learn: argument is NULL");
    if ((average && average->g != g) || (last && last->g != g))
        return pg_error_set(err, PG_EINVAL, "pg_og_learn: the profiles belong to another game");
    if (g->root == PG_OG_NONE)
        return pg_error_set(err, PG_ESTATE, "game '%s' is not finished (pg_og_set_root)", g->name);
    size_t nd = g->n_decisions, nv = g->n_vars ? g->n_vars : 1, np = g->n_players;
    pg_learner **learners = calloc(nd ? nd : 1, sizeof *learners);
    pg_og_profile *cur = NULL;
    pgi_og_eval ev;
    bool ev_ready = false;
    int *hist = malloc((g->n_steps + 1) * nv * sizeof *hist);
    double *after = malloc((g->n_steps ? g->n_steps : 1) * np * sizeof *after);
    double *payoffs = malloc(np * sizeof *payoffs);
    double *u = malloc(np * sizeof *u);
    double *probs = malloc(g->max_values * sizeof *probs);
    /* Feedback gathered for every decision before any learner changes (simultaneous updates). */
    double *cf = malloc((nd ? nd : 1) * g->max_values * sizeof *cf);
    pg_learn_feedback *fb = calloc(nd ? nd : 1, sizeof *fb);
    int rc = PG_OK;
    if (!learners || !hist || !after || !payoffs || !u || !probs || !cf || !fb) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < nd; k++) {
        const og_node *n = &g->nodes[g->steps[g->decisions[k]]];
        pg_learn_options lo = *o;
        lo.n_states = n->n_rows;
        lo.n_actions = g->var_n[n->out];
        rc = pg_learner_new(&learners[k], &lo, err);
        if (rc)
            goto out;
    }
    rc = pg_og_profile_new(&cur, g, err);
    if (rc)
        goto out;
    rc = pgi_og_eval_init(&ev, cur, err);
    if (rc)
        goto out;
    ev_ready = true;
    bool full = needs_counterfactual(o->rule);
    const size_t step = rounds >= 100 ? rounds / 100 : 1; /* progress about every 1% */
    for (size_t t = 0; t < rounds; t++) {
        rc = to_profile(g, learners, false, cur, probs, err);
        if (rc)
            goto out;
        pgi_og_eval_reset(&ev);
        rc = pgi_og_sample_path(&ev, rng, hist, payoffs, after);
        if (rc)
            goto out;
        for (size_t k = 0; k < nd; k++) {
            size_t i = g->decisions[k];
            const og_node *n = &g->nodes[g->steps[i]];
            size_t na = g->var_n[n->out], p = n->player;
            int *s = hist + i * nv; /* the history the decision saw */
            pg_learn_feedback_init(&fb[k]);
            fb[k].state = pgi_og_row(g, n->inputs, n->n_inputs, s);
            fb[k].action = (size_t)hist[(i + 1) * nv + n->out];
            fb[k].reward = after[i * np + p];
            if (full) {
                double *c = cf + k * g->max_values;
                int old = s[n->out];
                for (size_t a = 0; a < na; a++) {
                    s[n->out] = (int)a;
                    rc = pgi_og_value(&ev, i + 1, s, u);
                    if (rc)
                        goto out;
                    c[a] = u[p];
                }
                s[n->out] = old;
                fb[k].counterfactual = c;
                fb[k].reward = c[fb[k].action];
            }
        }
        for (size_t k = 0; k < nd; k++) {
            rc = pg_learner_update(learners[k], &fb[k], err);
            if (rc)
                goto out;
        }
        if (o->progress && ((t + 1) % step == 0 || t + 1 == rounds))
            o->progress(t + 1, rounds, o->progress_ud);
    }
    if (average)
        rc = to_profile(g, learners, true, average, probs, err);
    if (!rc && last)
        rc = to_profile(g, learners, false, last, probs, err);
out:
    if (ev_ready)
        pgi_og_eval_clear(&ev);
    pg_og_profile_free(cur);
    if (learners)
        for (size_t k = 0; k < nd; k++)
            pg_learner_free(learners[k]);
    free(learners);
    free(hist);
    free(after);
    free(payoffs);
    free(u);
    free(probs);
    free(cf);
    free(fb);
    return rc;
}
