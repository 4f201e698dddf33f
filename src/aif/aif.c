/* The discrete active-inference agent (see aif.h and docs/active-inference.md): exact filtering
 * over the joint hidden state, expected free energy of every policy by a depth-first walk of the
 * policy tree (policies sharing a prefix share its predictions), softmax policy posterior, action
 * selection, and Dirichlet learning of B and A.
 *
 * Beliefs over joint states are usually concentrated on a few states (a known clock, a measured
 * state of charge), so propagation and outcome prediction skip zero entries: their cost follows
 * the number of states with belief, not the size of the joint space. */
#include "plurigrid/aif.h"
#include "plurigrid/rng.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JOINT_STATES ((size_t)1 << 22)
#define PROB_TOL 1e-6

struct pg_aif {
    size_t F, S, NA, M, depth, n_pol;
    pg_aif_options opt;
    size_t *ns, *stride, *no;
    size_t *nb;            /* matrices in B[f]: 1 for an uncontrolled factor, else NA */
    double **B, **B0, **b; /* current B, initial B, Dirichlet counts (b NULL: no learning) */
    double **A, **A0, **a; /* the same for A, layout A[m][o * S + s] */
    double **lnC;          /* log softmax(C[m]); flat preferences when C[m] was NULL */
    double **H;            /* H[m][s]: entropy of P(o | s) */
    double *prior0;        /* joint D */
    double *q, *q_prev;    /* posterior now and at the previous step */
    double *levels;        /* (depth + 1) * S: predicted beliefs along the current tree path */
    double *tmp;           /* S */
    double *qo;            /* max n_obs */
    double *mprev, *mnow;  /* max n_states: marginals for learning */
    double *G, *risk, *amb, *qpi, *qa;
    size_t last_action;
    int has_obs;    /* at least one observation was taken in */
    int has_action; /* an action was recorded since the last observation */
    int planned;
    pg_rng rng;
};

void
pg_aif_options_init(pg_aif_options *o)
{
    memset(o, 0, sizeof *o);
    o->policy_depth = 1;
    o->gamma = 16.0;
    o->action_selection = PG_AIF_SAMPLE;
    o->seed = 1;
    o->use_utility = 1;
    o->use_info_gain = 1;
    o->learn_B_rate = 0;
    o->B_concentration = 1.0;
    o->learn_A_rate = 0;
    o->A_concentration = 1.0;
    o->max_policies = 1000000;
}

static void
free_matrices(double **m, size_t n)
{
    if (!m)
        return;
    for (size_t i = 0; i < n; i++)
        free(m[i]);
    free(m);
}

void
pg_aif_free(pg_aif *a)
{
    if (!a)
        return;
    free_matrices(a->B, a->F);
    free_matrices(a->B0, a->F);
    free_matrices(a->b, a->F);
    free_matrices(a->A, a->M);
    free_matrices(a->A0, a->M);
    free_matrices(a->a, a->M);
    free_matrices(a->lnC, a->M);
    free_matrices(a->H, a->M);
    free(a->ns);
    free(a->nb);
    free(a->stride);
    free(a->no);
    free(a->prior0);
    free(a->q);
    free(a->q_prev);
    free(a->levels);
    free(a->tmp);
    free(a->qo);
    free(a->mprev);
    free(a->mnow);
    free(a->G);
    free(a->risk);
    free(a->amb);
    free(a->qpi);
    free(a->qa);
    free(a);
}

/* Checks that m (n_rows x n_cols, row-major) is column-stochastic: entries finite and
 * non-negative, each column summing to one. */
static int
check_stochastic(const double *m, size_t n_rows, size_t n_cols, const char *what, pg_error *err)
{
    for (size_t c = 0; c < n_cols; c++) {
        double sum = 0;
        for (size_t r = 0; r < n_rows; r++) {
            double v = m[r * n_cols + c];
            if (!isfinite(v) || v < 0)
                return pg_error_set(err, PG_EMODEL,
                                    "%s: entry (row %zu, column %zu) is %g; probabilities "
                                    "must be finite and non-negative",
                                    what, r, c, v);
            sum += v;
        }
        if (fabs(sum - 1.0) > PROB_TOL)
            return pg_error_set(err, PG_EMODEL,
                                "%s: column %zu sums to %.9g; each column is a probability "
                                "distribution and must sum to 1",
                                what, c, sum);
    }
    return PG_OK;
}

static double
entropy(const double *p, size_t n, size_t stride)
{
    double h = 0;
    for (size_t i = 0; i < n; i++) {
        double v = p[i * stride];
        if (v > 0)
            h -= v * log(v);
    }
    return h;
}

static void
update_entropy(pg_aif *a, size_t m)
{
    for (size_t s = 0; s < a->S; s++)
        a->H[m][s] = entropy(a->A[m] + s, a->no[m], a->S);
}

static double *
dup_array(const double *src, size_t n)
{
    double *d = malloc(n * sizeof *d);
    if (d)
        memcpy(d, src, n * sizeof *d);
    return d;
}

static int
validate_model(const pg_aif_model *m, const pg_aif_options *o, size_t *S_out, size_t *npol_out,
               pg_error *err)
{
    if (!m->n_factors || !m->n_states || !m->B)
        return pg_error_set(err, PG_EINVAL, "active inference model: no hidden-state factors");
    if (!m->n_actions)
        return pg_error_set(err, PG_EINVAL, "active inference model: no actions");
    if (!m->n_modalities || !m->n_obs || !m->A)
        return pg_error_set(err, PG_EINVAL, "active inference model: no observation modalities");
    size_t S = 1;
    for (size_t f = 0; f < m->n_factors; f++) {
        if (!m->n_states[f])
            return pg_error_set(err, PG_EMODEL, "factor %zu has no states", f);
        if (S > MAX_JOINT_STATES / m->n_states[f])
            return pg_error_set(err, PG_ELIMIT,
                                "the joint state space is larger than %zu states; use fewer or "
                                "smaller factors",
                                MAX_JOINT_STATES);
        S *= m->n_states[f];
        if (!m->B[f])
            return pg_error_set(err, PG_EINVAL, "factor %zu has no transition matrix B", f);
        size_t n = m->n_states[f];
        char what[64];
        bool shared = m->uncontrolled && m->uncontrolled[f];
        for (size_t act = 0; act < (shared ? 1 : m->n_actions); act++) {
            if (shared)
                snprintf(what, sizeof what, "B of factor %zu (shared by every action)", f);
            else
                snprintf(what, sizeof what, "B of factor %zu, action %zu", f, act);
            int rc = check_stochastic(m->B[f] + act * n * n, n, n, what, err);
            if (rc)
                return rc;
        }
        if (m->D && m->D[f]) {
            snprintf(what, sizeof what, "D of factor %zu", f);
            int rc = check_stochastic(m->D[f], n, 1, what, err);
            if (rc)
                return rc;
        }
    }
    for (size_t k = 0; k < m->n_modalities; k++) {
        if (!m->n_obs[k])
            return pg_error_set(err, PG_EMODEL, "modality %zu has no outcomes", k);
        if (!m->A[k])
            return pg_error_set(err, PG_EINVAL, "modality %zu has no likelihood A", k);
        if (m->n_obs[k] > MAX_JOINT_STATES / S)
            return pg_error_set(err, PG_ELIMIT, "likelihood A of modality %zu is too large", k);
        char what[64];
        snprintf(what, sizeof what, "A of modality %zu", k);
        int rc = check_stochastic(m->A[k], m->n_obs[k], S, what, err);
        if (rc)
            return rc;
        if (m->C && m->C[k])
            for (size_t i = 0; i < m->n_obs[k]; i++)
                if (!isfinite(m->C[k][i]))
                    return pg_error_set(err, PG_EMODEL,
                                        "C of modality %zu: preference %zu is not a finite number",
                                        k, i);
    }
    if (o->policy_depth < 1)
        return pg_error_set(err, PG_EINVAL, "policy depth must be at least 1");
    if (!(o->gamma >= 0) || !isfinite(o->gamma))
        return pg_error_set(err, PG_EINVAL, "gamma must be a finite non-negative number");
    if (!(o->learn_A_rate >= 0) || !(o->learn_B_rate >= 0) || !isfinite(o->learn_A_rate) ||
        !isfinite(o->learn_B_rate))
        return pg_error_set(err, PG_EINVAL, "learning rates must be finite and non-negative");
    if (!(o->A_concentration > 0) || !(o->B_concentration > 0) || !isfinite(o->A_concentration) ||
        !isfinite(o->B_concentration))
        return pg_error_set(err, PG_EINVAL, "Dirichlet concentrations must be finite and > 0");
    if (o->action_selection != PG_AIF_SAMPLE && o->action_selection != PG_AIF_ARGMAX)
        return pg_error_set(err, PG_EINVAL, "unknown action selection %d", o->action_selection);
    size_t npol = 1;
    for (size_t d = 0; d < o->policy_depth; d++) {
        if (npol > o->max_policies / m->n_actions)
            return pg_error_set(err, PG_ELIMIT,
                                "%zu actions to the depth %zu make more than %zu policies; "
                                "plan less deep",
                                m->n_actions, o->policy_depth, o->max_policies);
        npol *= m->n_actions;
    }
    *S_out = S;
    *npol_out = npol;
    return PG_OK;
}

int
pg_aif_new(pg_aif **out, const pg_aif_model *model, const pg_aif_options *opts, pg_error *err)
{
    if (!out || !model)
        return pg_error_set(err, PG_EINVAL, "pg_aif_new: out or model is NULL");
    pg_aif_options o;
    if (opts)
        o = *opts;
    else
        pg_aif_options_init(&o);
    size_t S = 0, npol = 0;
    int rc = validate_model(model, &o, &S, &npol, err);
    if (rc)
        return rc;
    pg_aif *a = calloc(1, sizeof *a);
    if (!a)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    a->F = model->n_factors;
    a->S = S;
    a->NA = model->n_actions;
    a->M = model->n_modalities;
    a->depth = o.policy_depth;
    a->n_pol = npol;
    a->opt = o;
    rc = PG_ENOMEM;
    a->ns = malloc(a->F * sizeof *a->ns);
    a->nb = malloc(a->F * sizeof *a->nb);
    a->stride = malloc(a->F * sizeof *a->stride);
    a->no = malloc(a->M * sizeof *a->no);
    a->B = calloc(a->F, sizeof *a->B);
    a->B0 = calloc(a->F, sizeof *a->B0);
    a->A = calloc(a->M, sizeof *a->A);
    a->A0 = calloc(a->M, sizeof *a->A0);
    a->lnC = calloc(a->M, sizeof *a->lnC);
    a->H = calloc(a->M, sizeof *a->H);
    if (!a->ns || !a->nb || !a->stride || !a->no || !a->B || !a->B0 || !a->A || !a->A0 || !a->lnC ||
        !a->H)
        goto out;
    if (o.learn_B_rate > 0 && !(a->b = calloc(a->F, sizeof *a->b)))
        goto out;
    if (o.learn_A_rate > 0 && !(a->a = calloc(a->M, sizeof *a->a)))
        goto out;
    size_t max_ns = 1, max_no = 1;
    for (size_t f = a->F; f-- > 0;) {
        a->ns[f] = model->n_states[f];
        a->nb[f] = (model->uncontrolled && model->uncontrolled[f]) ? 1 : a->NA;
        a->stride[f] = (f + 1 == a->F) ? 1 : a->stride[f + 1] * a->ns[f + 1];
        size_t len = a->nb[f] * a->ns[f] * a->ns[f];
        if (!(a->B[f] = dup_array(model->B[f], len)) || !(a->B0[f] = dup_array(model->B[f], len)))
            goto out;
        if (a->b && !(a->b[f] = malloc(len * sizeof(double))))
            goto out;
        if (a->ns[f] > max_ns)
            max_ns = a->ns[f];
    }
    for (size_t m = 0; m < a->M; m++) {
        a->no[m] = model->n_obs[m];
        size_t len = a->no[m] * S;
        if (!(a->A[m] = dup_array(model->A[m], len)) || !(a->A0[m] = dup_array(model->A[m], len)))
            goto out;
        if (a->a && !(a->a[m] = malloc(len * sizeof(double))))
            goto out;
        if (!(a->lnC[m] = malloc(a->no[m] * sizeof(double))) ||
            !(a->H[m] = malloc(S * sizeof(double))))
            goto out;
        /* log softmax of the preferences (flat when none): risk is then a true divergence */
        const double *c = model->C ? model->C[m] : NULL;
        double cmax = -DBL_MAX;
        for (size_t i = 0; i < a->no[m]; i++)
            if ((c ? c[i] : 0) > cmax)
                cmax = c ? c[i] : 0;
        double z = 0;
        for (size_t i = 0; i < a->no[m]; i++)
            z += exp((c ? c[i] : 0) - cmax);
        for (size_t i = 0; i < a->no[m]; i++)
            a->lnC[m][i] = (c ? c[i] : 0) - cmax - log(z);
        if (a->no[m] > max_no)
            max_no = a->no[m];
    }
    if (!(a->prior0 = malloc(S * sizeof(double))) || !(a->q = malloc(S * sizeof(double))) ||
        !(a->q_prev = malloc(S * sizeof(double))) ||
        !(a->levels = malloc((a->depth + 1) * S * sizeof(double))) ||
        !(a->tmp = malloc(S * sizeof(double))) || !(a->qo = malloc(max_no * sizeof(double))) ||
        !(a->mprev = malloc(max_ns * sizeof(double))) ||
        !(a->mnow = malloc(max_ns * sizeof(double))) || !(a->G = calloc(npol, sizeof(double))) ||
        !(a->risk = calloc(npol, sizeof(double))) || !(a->amb = calloc(npol, sizeof(double))) ||
        !(a->qpi = calloc(npol, sizeof(double))) || !(a->qa = calloc(a->NA, sizeof(double))))
        goto out;
    for (size_t s = 0; s < S; s++) {
        double p = 1;
        for (size_t f = 0; f < a->F; f++) {
            size_t sf = (s / a->stride[f]) % a->ns[f];
            const double *d = model->D ? model->D[f] : NULL;
            p *= d ? d[sf] : 1.0 / (double)a->ns[f];
        }
        a->prior0[s] = p;
    }
    pg_aif_reset(a, o.seed);
    *out = a;
    return PG_OK;
out:
    pg_aif_free(a);
    return pg_error_set(err, rc, "out of memory");
}

void
pg_aif_reset(pg_aif *a, uint64_t seed)
{
    if (!a)
        return;
    for (size_t f = 0; f < a->F; f++) {
        size_t len = a->nb[f] * a->ns[f] * a->ns[f];
        memcpy(a->B[f], a->B0[f], len * sizeof(double));
        if (a->b)
            for (size_t i = 0; i < len; i++)
                a->b[f][i] = a->opt.B_concentration * a->B0[f][i];
    }
    for (size_t m = 0; m < a->M; m++) {
        size_t len = a->no[m] * a->S;
        memcpy(a->A[m], a->A0[m], len * sizeof(double));
        if (a->a)
            for (size_t i = 0; i < len; i++)
                a->a[m][i] = a->opt.A_concentration * a->A0[m][i];
        update_entropy(a, m);
    }
    memcpy(a->q, a->prior0, a->S * sizeof(double));
    memcpy(a->q_prev, a->prior0, a->S * sizeof(double));
    a->has_obs = 0;
    a->has_action = 0;
    a->planned = 0;
    a->last_action = 0;
    pg_rng_seed(&a->rng, seed, 0);
}

/* out = (B_f[act] applied along factor f) in; only entries of in that are non-zero cost work. */
static void
apply_factor(const pg_aif *a, size_t f, size_t act, const double *in, double *out)
{
    size_t n = a->ns[f], st = a->stride[f];
    const double *Bf = a->B[f] + (a->nb[f] == 1 ? 0 : act) * n * n;
    memset(out, 0, a->S * sizeof(double));
    for (size_t s = 0; s < a->S; s++) {
        double v = in[s];
        if (v == 0)
            continue;
        size_t sf = (s / st) % n;
        size_t base = s - sf * st;
        for (size_t nx = 0; nx < n; nx++) {
            double p = Bf[nx * n + sf];
            if (p != 0)
                out[base + nx * st] += v * p;
        }
    }
}

/* out = B[act] in over all factors (out and in distinct; a->tmp is scratch). */
static void
propagate(pg_aif *a, size_t act, const double *in, double *out)
{
    /* Ping-pong between out and tmp so the last factor lands in out. */
    const double *src = in;
    for (size_t f = 0; f < a->F; f++) {
        double *dst = ((a->F - f) % 2 == 1) ? out : a->tmp;
        apply_factor(a, f, act, src, dst);
        src = dst;
    }
}

static void
marginal(const pg_aif *a, const double *q, size_t f, double *m)
{
    size_t n = a->ns[f], st = a->stride[f];
    memset(m, 0, n * sizeof(double));
    for (size_t s = 0; s < a->S; s++)
        if (q[s] != 0)
            m[(s / st) % n] += q[s];
}

static void
learn(pg_aif *a, const size_t *obs, int with_transition)
{
    if (a->b && with_transition) {
        size_t act = a->last_action;
        for (size_t f = 0; f < a->F; f++) {
            size_t n = a->ns[f];
            marginal(a, a->q_prev, f, a->mprev);
            marginal(a, a->q, f, a->mnow);
            size_t k = a->nb[f] == 1 ? 0 : act; /* an uncontrolled factor learns from all */
            double *bf = a->b[f] + k * n * n, *Bf = a->B[f] + k * n * n;
            for (size_t pv = 0; pv < n; pv++) {
                if (a->mprev[pv] == 0)
                    continue;
                for (size_t nx = 0; nx < n; nx++)
                    bf[nx * n + pv] += a->opt.learn_B_rate * a->mnow[nx] * a->mprev[pv];
                double sum = 0;
                for (size_t nx = 0; nx < n; nx++)
                    sum += bf[nx * n + pv];
                for (size_t nx = 0; nx < n; nx++)
                    Bf[nx * n + pv] = bf[nx * n + pv] / sum;
            }
        }
    }
    if (a->a) {
        for (size_t m = 0; m < a->M; m++) {
            if (obs[m] == PG_AIF_MISSING)
                continue;
            size_t no = a->no[m], S = a->S;
            for (size_t s = 0; s < S; s++) {
                if (a->q[s] == 0)
                    continue;
                a->a[m][obs[m] * S + s] += a->opt.learn_A_rate * a->q[s];
                double sum = 0;
                for (size_t o = 0; o < no; o++)
                    sum += a->a[m][o * S + s];
                for (size_t o = 0; o < no; o++)
                    a->A[m][o * S + s] = a->a[m][o * S + s] / sum;
                a->H[m][s] = entropy(a->A[m] + s, no, S);
            }
        }
    }
}

int
pg_aif_observe(pg_aif *a, const size_t *obs, pg_error *err)
{
    if (!a || !obs)
        return pg_error_set(err, PG_EINVAL, "pg_aif_observe: agent or observation is NULL");
    for (size_t m = 0; m < a->M; m++)
        if (obs[m] != PG_AIF_MISSING && obs[m] >= a->no[m])
            return pg_error_set(err, PG_EINVAL,
                                "observation %zu of modality %zu is out of range (it has %zu "
                                "outcomes)",
                                obs[m], m, a->no[m]);
    int with_transition = 0;
    double *post = a->levels; /* scratch: the first tree level, free outside planning */
    if (!a->has_obs) {
        memcpy(post, a->prior0, a->S * sizeof(double));
    } else {
        if (!a->has_action) {
            if (a->NA != 1)
                return pg_error_set(err, PG_ESTATE,
                                    "no action was taken since the last observation; call "
                                    "pg_aif_act or pg_aif_set_action first");
            a->last_action = 0;
        }
        propagate(a, a->last_action, a->q, post);
        with_transition = 1;
    }
    double total = 0;
    for (size_t s = 0; s < a->S; s++) {
        double p = post[s];
        if (p == 0)
            continue;
        for (size_t m = 0; m < a->M && p != 0; m++)
            if (obs[m] != PG_AIF_MISSING)
                p *= a->A[m][obs[m] * a->S + s];
        post[s] = p;
        total += p;
    }
    if (!(total > 0) || !isfinite(total))
        return pg_error_set(err, PG_EMODEL,
                            "the observation has zero probability under the agent's model");
    for (size_t s = 0; s < a->S; s++)
        post[s] /= total;
    memcpy(a->q_prev, a->q, a->S * sizeof(double));
    memcpy(a->q, post, a->S * sizeof(double));
    learn(a, obs, with_transition);
    a->has_obs = 1;
    a->has_action = 0;
    a->planned = 0;
    return PG_OK;
}

/* The terms of the expected free energy of one predicted belief over joint states, summed over
 * modalities: negent = sum_o Q(o) ln Q(o) (minus the outcome entropy), util = sum_o Q(o) ln C(o)
 * (expected log-preference) and amb = sum_s Q(s) H[P(o|s)] (ambiguity). Risk is negent - util,
 * the divergence of predicted outcomes from preferred ones; information gain is -negent - amb. */
typedef struct terms {
    double negent, util, amb;
} terms;

static void
step_terms(pg_aif *a, const double *q, terms *t)
{
    for (size_t m = 0; m < a->M; m++) {
        size_t no = a->no[m], S = a->S;
        const double *Am = a->A[m], *Hm = a->H[m];
        memset(a->qo, 0, no * sizeof(double));
        for (size_t s = 0; s < S; s++) {
            double v = q[s];
            if (v == 0)
                continue;
            t->amb += v * Hm[s];
            for (size_t o = 0; o < no; o++)
                a->qo[o] += v * Am[o * S + s];
        }
        for (size_t o = 0; o < no; o++) {
            double p = a->qo[o];
            if (p > 0) {
                t->negent += p * log(p);
                t->util += p * a->lnC[m][o];
            }
        }
    }
}

static void
walk_tree(pg_aif *a, size_t d, size_t prefix, terms acc)
{
    const double *q = a->levels + d * a->S;
    double *next = a->levels + (d + 1) * a->S;
    for (size_t act = 0; act < a->NA; act++) {
        propagate(a, act, q, next);
        terms t = acc;
        step_terms(a, next, &t);
        size_t idx = prefix * a->NA + act;
        if (d + 1 == a->depth) {
            /* G = -utility - information gain = risk + ambiguity when both terms are on */
            double g = 0;
            if (a->opt.use_utility)
                g -= t.util;
            if (a->opt.use_info_gain)
                g += t.negent + t.amb;
            a->risk[idx] = t.negent - t.util;
            a->amb[idx] = t.amb;
            a->G[idx] = g;
        } else {
            walk_tree(a, d + 1, idx, t);
        }
    }
}

int
pg_aif_plan(pg_aif *a, pg_error *err)
{
    if (!a)
        return pg_error_set(err, PG_EINVAL, "pg_aif_plan: agent is NULL");
    memcpy(a->levels, a->q, a->S * sizeof(double));
    terms zero = {0, 0, 0};
    walk_tree(a, 0, 0, zero);
    double gmin = DBL_MAX;
    for (size_t k = 0; k < a->n_pol; k++)
        if (a->G[k] < gmin)
            gmin = a->G[k];
    double z = 0;
    for (size_t k = 0; k < a->n_pol; k++) {
        a->qpi[k] = exp(-a->opt.gamma * (a->G[k] - gmin));
        z += a->qpi[k];
    }
    memset(a->qa, 0, a->NA * sizeof(double));
    size_t per_first = a->n_pol / a->NA;
    for (size_t k = 0; k < a->n_pol; k++) {
        a->qpi[k] /= z;
        a->qa[k / per_first] += a->qpi[k];
    }
    a->planned = 1;
    return PG_OK;
}

int
pg_aif_act(pg_aif *a, size_t *action, pg_error *err)
{
    if (!a || !action)
        return pg_error_set(err, PG_EINVAL, "pg_aif_act: agent or action is NULL");
    if (!a->planned)
        return pg_error_set(err, PG_ESTATE, "pg_aif_act: call pg_aif_plan first");
    size_t best = 0;
    if (a->opt.action_selection == PG_AIF_ARGMAX) {
        for (size_t i = 1; i < a->NA; i++)
            if (a->qa[i] > a->qa[best])
                best = i;
    } else {
        best = pg_rng_pick(&a->rng, a->qa, a->NA);
        if (best >= a->NA)
            best = 0;
    }
    a->last_action = best;
    a->has_action = 1;
    *action = best;
    return PG_OK;
}

int
pg_aif_set_action(pg_aif *a, size_t action, pg_error *err)
{
    if (!a)
        return pg_error_set(err, PG_EINVAL, "pg_aif_set_action: agent is NULL");
    if (action >= a->NA)
        return pg_error_set(err, PG_EINVAL, "action %zu is out of range (%zu actions)", action,
                            a->NA);
    a->last_action = action;
    a->has_action = 1;
    return PG_OK;
}

int
pg_aif_step(pg_aif *a, const size_t *obs, size_t *action, pg_error *err)
{
    int rc = pg_aif_observe(a, obs, err);
    if (!rc)
        rc = pg_aif_plan(a, err);
    if (!rc)
        rc = pg_aif_act(a, action, err);
    return rc;
}

size_t
pg_aif_n_states(const pg_aif *a)
{
    return a ? a->S : 0;
}

size_t
pg_aif_n_policies(const pg_aif *a)
{
    return a ? a->n_pol : 0;
}

const double *
pg_aif_posterior(const pg_aif *a)
{
    return a ? a->q : NULL;
}

int
pg_aif_marginal(const pg_aif *a, size_t f, double *out, pg_error *err)
{
    if (!a || !out)
        return pg_error_set(err, PG_EINVAL, "pg_aif_marginal: agent or out is NULL");
    if (f >= a->F)
        return pg_error_set(err, PG_EINVAL, "factor %zu is out of range (%zu factors)", f, a->F);
    marginal(a, a->q, f, out);
    return PG_OK;
}

int
pg_aif_policy(const pg_aif *a, size_t k, size_t *actions, pg_error *err)
{
    if (!a || !actions)
        return pg_error_set(err, PG_EINVAL, "pg_aif_policy: agent or actions is NULL");
    if (k >= a->n_pol)
        return pg_error_set(err, PG_EINVAL, "policy %zu is out of range (%zu policies)", k,
                            a->n_pol);
    for (size_t d = a->depth; d-- > 0;) {
        actions[d] = k % a->NA;
        k /= a->NA;
    }
    return PG_OK;
}

const double *
pg_aif_G(const pg_aif *a)
{
    return a ? a->G : NULL;
}

const double *
pg_aif_risk(const pg_aif *a)
{
    return a ? a->risk : NULL;
}

const double *
pg_aif_ambiguity(const pg_aif *a)
{
    return a ? a->amb : NULL;
}

const double *
pg_aif_policy_posterior(const pg_aif *a)
{
    return a ? a->qpi : NULL;
}

const double *
pg_aif_action_posterior(const pg_aif *a)
{
    return a ? a->qa : NULL;
}

const double *
pg_aif_B(const pg_aif *a, size_t f)
{
    return (a && f < a->F) ? a->B[f] : NULL;
}

const double *
pg_aif_A(const pg_aif *a, size_t m)
{
    return (a && m < a->M) ? a->A[m] : NULL;
}
