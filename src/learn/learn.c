/* Learners: the value tables and update rules of regret matching (unconditional and conditional),
 * fictitious play, best-response dynamics, modified Roth-Erev reinforcement and Q-learning, and
 * how each turns its table into a policy. A learner owns plain arrays indexed [state][action]
 * (conditional regret: [state][from][to]); it keeps no global state and draws nothing itself. */
#include "plurigrid/learn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Propensities are kept above this so proportional choice stays defined. */
#define RE_FLOOR 1e-9

struct pg_learner {
    pg_learn_options o;
    size_t ns, na;
    double *values; /* ns x na: see pg_learner_values() */
    double *cond;   /* conditional regret: ns x na x na, cond[s][j][k] = sum over rounds where j
                       was played of u(k) - u(j) */
    double *avg;    /* ns x na: sum of the policies in force at each update */
    size_t *visits; /* ns */
    size_t *counts; /* ns x na */
    size_t *last;   /* ns: last action (conditional regret), PG_LEARN_TERMINAL before any */
    double max_abs; /* largest payoff magnitude seen (automatic inertia) */
};

static const struct {
    pg_learn_rule rule;
    const char *name;
} rule_names[] = {
    {PG_LEARN_REGRET_MATCHING, "regret-matching"},
    {PG_LEARN_CONDITIONAL_REGRET, "conditional-regret"},
    {PG_LEARN_FICTITIOUS_PLAY, "fictitious-play"},
    {PG_LEARN_BEST_RESPONSE, "best-response"},
    {PG_LEARN_ROTH_EREV, "roth-erev"},
    {PG_LEARN_Q_LEARNING, "q-learning"},
};

const char *
pg_learn_rule_name(pg_learn_rule rule)
{
    for (size_t i = 0; i < sizeof rule_names / sizeof *rule_names; i++)
        if (rule_names[i].rule == rule)
            return rule_names[i].name;
    return "unknown";
}

int
pg_learn_rule_parse(const char *name, pg_learn_rule *rule)
{
    if (!name || !rule)
        return PG_EINVAL;
    for (size_t i = 0; i < sizeof rule_names / sizeof *rule_names; i++)
        if (strcmp(rule_names[i].name, name) == 0) {
            *rule = rule_names[i].rule;
            return PG_OK;
        }
    return PG_ENOTFOUND;
}

void
pg_learn_options_init(pg_learn_options *o, pg_learn_rule rule, size_t n_states, size_t n_actions)
{
    memset(o, 0, sizeof *o);
    o->rule = rule;
    o->n_states = n_states;
    o->n_actions = n_actions;
    o->alpha = 0.1;
    o->gamma = 0.95;
    o->initial_propensity = 1.0;
    o->recency = 0.1;
    o->experimentation = 0.1;
    if (rule == PG_LEARN_Q_LEARNING)
        o->epsilon = 0.1;
}

void
pg_learn_feedback_init(pg_learn_feedback *fb)
{
    memset(fb, 0, sizeof *fb);
    fb->next_state = PG_LEARN_TERMINAL;
}

static int
check_options(const pg_learn_options *o, pg_error *err)
{
    if (!o)
        return pg_error_set(err, PG_EINVAL, "learner options are missing");
    if (strcmp(pg_learn_rule_name(o->rule), "unknown") == 0)
        return pg_error_set(err, PG_EINVAL, "unknown learning rule %d", (int)o->rule);
    if (o->n_states == 0 || o->n_actions == 0)
        return pg_error_set(err, PG_EINVAL,
                            "a learner needs at least one state and one action (got %zu states, "
                            "%zu actions)",
                            o->n_states, o->n_actions);
    if (o->n_states > ((size_t)1 << 28) / o->n_actions ||
        (o->rule == PG_LEARN_CONDITIONAL_REGRET && o->n_actions > 4096))
        return pg_error_set(err, PG_ELIMIT, "learner table of %zu states x %zu actions is too big",
                            o->n_states, o->n_actions);
    if (!(o->epsilon >= 0 && o->epsilon <= 1))
        return pg_error_set(err, PG_EINVAL, "epsilon must be in [0, 1], got %g", o->epsilon);
    if (!(o->temperature >= 0) || !isfinite(o->temperature))
        return pg_error_set(err, PG_EINVAL, "temperature must be >= 0, got %g", o->temperature);
    if (o->rule == PG_LEARN_Q_LEARNING) {
        if (!(o->alpha <= 1) || !isfinite(o->alpha))
            return pg_error_set(err, PG_EINVAL, "alpha must be at most 1, got %g", o->alpha);
        if (!(o->gamma >= 0 && o->gamma < 1))
            return pg_error_set(err, PG_EINVAL, "gamma must be in [0, 1), got %g", o->gamma);
        if (!isfinite(o->initial_value))
            return pg_error_set(err, PG_EINVAL, "initial Q value must be finite");
    }
    if (o->rule == PG_LEARN_ROTH_EREV) {
        if (!(o->initial_propensity > 0) || !isfinite(o->initial_propensity))
            return pg_error_set(err, PG_EINVAL, "initial propensity must be > 0, got %g",
                                o->initial_propensity);
        if (!(o->recency >= 0 && o->recency < 1))
            return pg_error_set(err, PG_EINVAL, "recency must be in [0, 1), got %g", o->recency);
        if (!(o->experimentation >= 0 && o->experimentation < 1))
            return pg_error_set(err, PG_EINVAL, "experimentation must be in [0, 1), got %g",
                                o->experimentation);
    }
    if (!isfinite(o->inertia))
        return pg_error_set(err, PG_EINVAL, "inertia must be finite");
    return PG_OK;
}

void
pg_learner_reset(pg_learner *l)
{
    if (!l)
        return;
    size_t n = l->ns * l->na;
    double v0 = 0;
    if (l->o.rule == PG_LEARN_ROTH_EREV)
        v0 = l->o.initial_propensity;
    else if (l->o.rule == PG_LEARN_Q_LEARNING)
        v0 = l->o.initial_value;
    for (size_t i = 0; i < n; i++) {
        l->values[i] = v0;
        l->avg[i] = 0;
        l->counts[i] = 0;
    }
    if (l->cond)
        memset(l->cond, 0, n * l->na * sizeof *l->cond);
    for (size_t s = 0; s < l->ns; s++) {
        l->visits[s] = 0;
        l->last[s] = PG_LEARN_TERMINAL;
    }
    l->max_abs = 0;
}

int
pg_learner_new(pg_learner **out, const pg_learn_options *o, pg_error *err)
{
    if (!out)
        return pg_error_set(err, PG_EINVAL, "pg_learner_new: out is NULL");
    int rc = check_options(o, err);
    if (rc)
        return rc;
    pg_learner *l = calloc(1, sizeof *l);
    if (!l)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    l->o = *o;
    l->ns = o->n_states;
    l->na = o->n_actions;
    size_t n = l->ns * l->na;
    l->values = malloc(n * sizeof *l->values);
    l->avg = malloc(n * sizeof *l->avg);
    l->counts = malloc(n * sizeof *l->counts);
    l->visits = malloc(l->ns * sizeof *l->visits);
    l->last = malloc(l->ns * sizeof *l->last);
    if (o->rule == PG_LEARN_CONDITIONAL_REGRET)
        l->cond = malloc(n * l->na * sizeof *l->cond);
    if (!l->values || !l->avg || !l->counts || !l->visits || !l->last ||
        (o->rule == PG_LEARN_CONDITIONAL_REGRET && !l->cond)) {
        pg_learner_free(l);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    pg_learner_reset(l);
    *out = l;
    return PG_OK;
}

void
pg_learner_free(pg_learner *l)
{
    if (!l)
        return;
    free(l->values);
    free(l->cond);
    free(l->avg);
    free(l->visits);
    free(l->counts);
    free(l->last);
    free(l);
}

const pg_learn_options *
pg_learner_options(const pg_learner *l)
{
    return l ? &l->o : NULL;
}

/* ---------------------------------------------------------------- policies */

static void
uniform(double *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = 1.0 / (double)n;
}

/* Uniform over the maximisers of v (values within a relative 1e-12 of the largest tie). */
static void
argmax_uniform(const double *v, size_t n, double *p)
{
    double best = v[0];
    for (size_t i = 1; i < n; i++)
        if (v[i] > best)
            best = v[i];
    double tol = 1e-12 * (1.0 + fabs(best));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (v[i] >= best - tol);
    for (size_t i = 0; i < n; i++)
        p[i] = (v[i] >= best - tol) ? 1.0 / (double)k : 0.0;
}

/* Logit choice exp(v[i] * scale / temperature), shifted by the maximum so exp cannot overflow. */
static void
softmax(const double *v, size_t n, double scale, double temperature, double *p)
{
    double best = v[0] * scale;
    for (size_t i = 1; i < n; i++)
        if (v[i] * scale > best)
            best = v[i] * scale;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = exp((v[i] * scale - best) / temperature);
        total += p[i];
    }
    for (size_t i = 0; i < n; i++)
        p[i] /= total;
}

static double
inertia(const pg_learner *l)
{
    if (l->o.inertia > 0)
        return l->o.inertia;
    return 2.0 * (double)(l->na - 1) * l->max_abs;
}

static void
policy(const pg_learner *l, size_t s, double *p)
{
    size_t na = l->na;
    const double *v = l->values + s * na;
    switch (l->o.rule) {
    case PG_LEARN_REGRET_MATCHING: {
        double total = 0;
        for (size_t a = 0; a < na; a++)
            total += v[a] > 0 ? v[a] : 0;
        if (total > 0)
            for (size_t a = 0; a < na; a++)
                p[a] = (v[a] > 0 ? v[a] : 0) / total;
        else
            uniform(p, na);
        break;
    }
    case PG_LEARN_CONDITIONAL_REGRET: {
        size_t j = l->last[s];
        double mu = inertia(l);
        if (j == PG_LEARN_TERMINAL || l->visits[s] == 0 || !(mu > 0)) {
            if (j == PG_LEARN_TERMINAL)
                uniform(p, na);
            else
                for (size_t a = 0; a < na; a++)
                    p[a] = (a == j);
            break;
        }
        const double *d = l->cond + (s * na + j) * na;
        double t = (double)l->visits[s], moved = 0;
        for (size_t k = 0; k < na; k++) {
            p[k] = (k != j && d[k] > 0) ? d[k] / (t * mu) : 0.0;
            moved += p[k];
        }
        if (moved > 1) { /* only with a user inertia that is too small: keep a distribution */
            for (size_t k = 0; k < na; k++)
                p[k] /= moved;
            moved = 1;
        }
        p[j] = 1.0 - moved;
        break;
    }
    case PG_LEARN_FICTITIOUS_PLAY:
    case PG_LEARN_BEST_RESPONSE:
    case PG_LEARN_Q_LEARNING:
        if (l->o.rule != PG_LEARN_Q_LEARNING && l->visits[s] == 0)
            uniform(p, na);
        else if (l->o.temperature > 0) {
            double scale =
                (l->o.rule == PG_LEARN_FICTITIOUS_PLAY) ? 1.0 / (double)l->visits[s] : 1.0;
            softmax(v, na, scale, l->o.temperature, p);
        } else
            argmax_uniform(v, na, p);
        break;
    case PG_LEARN_ROTH_EREV:
        if (l->o.temperature > 0)
            softmax(v, na, 1.0, l->o.temperature, p);
        else {
            double total = 0;
            for (size_t a = 0; a < na; a++)
                total += v[a];
            for (size_t a = 0; a < na; a++)
                p[a] = v[a] / total;
        }
        break;
    }
    if (l->o.epsilon > 0)
        for (size_t a = 0; a < na; a++)
            p[a] = (1.0 - l->o.epsilon) * p[a] + l->o.epsilon / (double)na;
}

int
pg_learner_policy(const pg_learner *l, size_t state, double *probs)
{
    if (!l || !probs || state >= l->ns)
        return PG_EINVAL;
    policy(l, state, probs);
    return PG_OK;
}

int
pg_learner_draw(const pg_learner *l, size_t state, pg_rng *rng, size_t *action)
{
    if (!l || !rng || !action || state >= l->ns)
        return PG_EINVAL;
    /* Small action sets (the usual case) draw without allocating. */
    double stack[64];
    double *p = l->na <= 64 ? stack : malloc(l->na * sizeof *p);
    if (!p)
        return PG_ENOMEM;
    policy(l, state, p);
    size_t a = pg_rng_pick(rng, p, l->na);
    if (p != stack)
        free(p);
    *action = a < l->na ? a : 0;
    return PG_OK;
}

/* ---------------------------------------------------------------- updates */

int
pg_learner_update(pg_learner *l, const pg_learn_feedback *fb, pg_error *err)
{
    if (!l || !fb)
        return pg_error_set(err, PG_EINVAL, "pg_learner_update: learner or feedback is NULL");
    size_t s = fb->state, a = fb->action, na = l->na;
    if (s >= l->ns)
        return pg_error_set(err, PG_EINVAL, "state %zu is out of range (the learner has %zu)", s,
                            l->ns);
    if (a >= na)
        return pg_error_set(err, PG_EINVAL, "action %zu is out of range (the learner has %zu)", a,
                            na);
    if (!isfinite(fb->reward))
        return pg_error_set(err, PG_EINVAL, "the reward is not a finite number");
    pg_learn_rule rule = l->o.rule;
    const double *u = fb->counterfactual;
    bool needs_u = rule == PG_LEARN_REGRET_MATCHING || rule == PG_LEARN_CONDITIONAL_REGRET ||
                   rule == PG_LEARN_FICTITIOUS_PLAY || rule == PG_LEARN_BEST_RESPONSE;
    if (needs_u && !u)
        return pg_error_set(err, PG_EINVAL,
                            "%s needs the payoff every action would have earned (counterfactual)",
                            pg_learn_rule_name(rule));
    if (u)
        for (size_t k = 0; k < na; k++)
            if (!isfinite(u[k]))
                return pg_error_set(err, PG_EINVAL, "counterfactual payoff %zu is not finite", k);
    if (rule == PG_LEARN_Q_LEARNING && fb->next_state != PG_LEARN_TERMINAL &&
        fb->next_state >= l->ns)
        return pg_error_set(err, PG_EINVAL, "next state %zu is out of range (the learner has %zu)",
                            fb->next_state, l->ns);

    /* The average policy records the strategy that was in force when the action was chosen. */
    double *avg = l->avg + s * na;
    double stack[64];
    double *p = na <= 64 ? stack : malloc(na * sizeof *p);
    if (!p)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    policy(l, s, p);
    for (size_t k = 0; k < na; k++)
        avg[k] += p[k];
    if (p != stack)
        free(p);

    double *v = l->values + s * na;
    switch (rule) {
    case PG_LEARN_REGRET_MATCHING:
        for (size_t k = 0; k < na; k++)
            v[k] += u[k] - u[a];
        break;
    case PG_LEARN_CONDITIONAL_REGRET: {
        double *d = l->cond + (s * na + a) * na;
        for (size_t k = 0; k < na; k++) {
            d[k] += u[k] - u[a];
            if (fabs(u[k]) > l->max_abs)
                l->max_abs = fabs(u[k]);
        }
        l->last[s] = a;
        break;
    }
    case PG_LEARN_FICTITIOUS_PLAY:
        for (size_t k = 0; k < na; k++)
            v[k] += u[k];
        break;
    case PG_LEARN_BEST_RESPONSE:
        for (size_t k = 0; k < na; k++)
            v[k] = u[k];
        break;
    case PG_LEARN_ROTH_EREV: {
        double phi = l->o.recency, eps = l->o.experimentation;
        double spill = na > 1 ? eps / (double)(na - 1) : 0.0;
        double r = fb->reward;
        for (size_t k = 0; k < na; k++) {
            double e = (k == a) ? r * (na > 1 ? 1.0 - eps : 1.0) : v[k] * spill;
            v[k] = (1.0 - phi) * v[k] + e;
            if (!(v[k] >= RE_FLOOR))
                v[k] = RE_FLOOR;
        }
        break;
    }
    case PG_LEARN_Q_LEARNING: {
        double target = fb->reward;
        if (fb->next_state != PG_LEARN_TERMINAL) {
            const double *q = l->values + fb->next_state * na;
            double best = q[0];
            for (size_t k = 1; k < na; k++)
                if (q[k] > best)
                    best = q[k];
            target += l->o.gamma * best;
        }
        double alpha = l->o.alpha > 0 ? l->o.alpha : 1.0 / (double)(l->counts[s * na + a] + 1);
        v[a] += alpha * (target - v[a]);
        break;
    }
    }
    l->visits[s]++;
    l->counts[s * na + a]++;
    return PG_OK;
}

/* ---------------------------------------------------------------- read-outs */

int
pg_learner_average_policy(const pg_learner *l, size_t state, double *probs)
{
    if (!l || !probs || state >= l->ns)
        return PG_EINVAL;
    if (l->visits[state] == 0) {
        uniform(probs, l->na);
        return PG_OK;
    }
    const double *avg = l->avg + state * l->na;
    double total = 0;
    for (size_t a = 0; a < l->na; a++)
        total += avg[a];
    for (size_t a = 0; a < l->na; a++)
        probs[a] = avg[a] / total;
    return PG_OK;
}

const double *
pg_learner_values(const pg_learner *l, size_t state)
{
    if (!l || state >= l->ns)
        return NULL;
    if (l->o.rule == PG_LEARN_CONDITIONAL_REGRET) {
        /* The row of the last action, or an all-zero row before any update. */
        size_t j = l->last[state];
        if (j == PG_LEARN_TERMINAL)
            j = 0;
        return l->cond + (state * l->na + j) * l->na;
    }
    return l->values + state * l->na;
}

size_t
pg_learner_best(const pg_learner *l, size_t state)
{
    const double *v = pg_learner_values(l, state);
    if (!v)
        return 0;
    size_t best = 0;
    for (size_t a = 1; a < l->na; a++)
        if (v[a] > v[best])
            best = a;
    return best;
}

size_t
pg_learner_visits(const pg_learner *l, size_t state)
{
    if (!l || state >= l->ns)
        return 0;
    return l->visits[state];
}

int
pg_learner_action_counts(const pg_learner *l, size_t state, size_t *counts)
{
    if (!l || !counts || state >= l->ns)
        return PG_EINVAL;
    memcpy(counts, l->counts + state * l->na, l->na * sizeof *counts);
    return PG_OK;
}
