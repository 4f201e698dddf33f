/* The active-inference agent against independent computations: the posterior equals an exact
 * Bayes filter written out here over the explicit joint transition matrix; G, risk and ambiguity
 * equal the textbook formulas; a perfectly informative cue is worth ln 2 of information gain;
 * Dirichlet learning of B converges to the true transitions; bad models are refused. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/aif.h"

/* A small deterministic generator for the test's own random numbers (independent of the
 * library's). */
static uint64_t lcg_state = 12345;
static double
urand(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) / 9007199254740992.0;
}

/* Fills a column-stochastic rows x cols matrix (row-major) with random positive entries. */
static void
random_stochastic(double *m, size_t rows, size_t cols)
{
    for (size_t c = 0; c < cols; c++) {
        double sum = 0;
        for (size_t r = 0; r < rows; r++) {
            m[r * cols + c] = 0.05 + urand();
            sum += m[r * cols + c];
        }
        for (size_t r = 0; r < rows; r++)
            m[r * cols + c] /= sum;
    }
}

/* Two factors (3 and 2 states), 2 actions, two modalities (4 and 3 outcomes) over the joint. */
enum { N0 = 3, N1 = 2, S = N0 * N1, NA = 2, NO0 = 4, NO1 = 3 };

typedef struct model {
    double B0[NA * N0 * N0], B1[NA * N1 * N1];
    double A0[NO0 * S], A1[NO1 * S];
    double D0[N0], D1[N1];
    double C0[NO0], C1[NO1];
} model;

static void
make_model(model *m)
{
    for (int a = 0; a < NA; a++) {
        random_stochastic(m->B0 + a * N0 * N0, N0, N0);
        random_stochastic(m->B1 + a * N1 * N1, N1, N1);
    }
    random_stochastic(m->A0, NO0, S);
    random_stochastic(m->A1, NO1, S);
    random_stochastic(m->D0, N0, 1);
    random_stochastic(m->D1, N1, 1);
    for (int o = 0; o < NO0; o++)
        m->C0[o] = 2.0 * urand() - 1.0;
    for (int o = 0; o < NO1; o++)
        m->C1[o] = 3.0 * urand();
}

static pg_aif *
new_agent(const model *m, const pg_aif_options *o)
{
    static const size_t ns[2] = {N0, N1}, no[2] = {NO0, NO1};
    const double *B[2] = {m->B0, m->B1}, *A[2] = {m->A0, m->A1}, *D[2] = {m->D0, m->D1};
    const double *C[2] = {m->C0, m->C1};
    pg_aif_model md = {2, ns, NA, B, 2, no, A, C, D, NULL};
    pg_aif *ag = NULL;
    pg_error err = {0};
    int rc = pg_aif_new(&ag, &md, o, &err);
    if (rc)
        fail_msg("pg_aif_new: %s", err.msg);
    return ag;
}

/* The joint transition P(s' | s, a) = B0[a](s'0|s0) * B1[a](s'1|s1), joint s = s0 * N1 + s1. */
static double
joint_T(const model *m, int a, int next, int prev)
{
    int n0 = next / N1, n1 = next % N1, p0 = prev / N1, p1 = prev % N1;
    return m->B0[(a * N0 + n0) * N0 + p0] * m->B1[(a * N1 + n1) * N1 + p1];
}

static void
test_posterior_matches_exact_filter(void **state)
{
    (void)state;
    model m;
    make_model(&m);
    pg_aif_options o;
    pg_aif_options_init(&o);
    o.policy_depth = 2;
    pg_aif *ag = new_agent(&m, &o);
    pg_error err = {0};

    double belief[S];
    for (int s = 0; s < S; s++)
        belief[s] = m.D0[s / N1] * m.D1[s % N1];
    int last_action = -1;
    for (int t = 0; t < 40; t++) {
        size_t obs[2] = {(size_t)(urand() * NO0), (size_t)(urand() * NO1)};
        if (t % 7 == 3)
            obs[1] = PG_AIF_MISSING;
        /* exact Bayes filter: predict with the joint transition, correct with the likelihoods */
        double prior[S];
        for (int s = 0; s < S; s++) {
            if (last_action < 0) {
                prior[s] = belief[s];
                continue;
            }
            prior[s] = 0;
            for (int r = 0; r < S; r++)
                prior[s] += joint_T(&m, last_action, s, r) * belief[r];
        }
        double z = 0;
        for (int s = 0; s < S; s++) {
            belief[s] = prior[s] * m.A0[obs[0] * S + (size_t)s];
            if (obs[1] != PG_AIF_MISSING)
                belief[s] *= m.A1[obs[1] * S + (size_t)s];
            z += belief[s];
        }
        for (int s = 0; s < S; s++)
            belief[s] /= z;

        assert_int_equal(pg_aif_observe(ag, obs, &err), PG_OK);
        const double *q = pg_aif_posterior(ag);
        for (int s = 0; s < S; s++)
            assert_near(q[s], belief[s], 1e-12);
        double marg0[N0];
        assert_int_equal(pg_aif_marginal(ag, 0, marg0, &err), PG_OK);
        for (int i = 0; i < N0; i++)
            assert_near(marg0[i], belief[i * N1] + belief[i * N1 + 1], 1e-12);

        /* alternate the agent's own choices with imposed actions */
        if (t % 2 == 0) {
            assert_int_equal(pg_aif_plan(ag, &err), PG_OK);
            size_t a = 99;
            assert_int_equal(pg_aif_act(ag, &a, &err), PG_OK);
            assert_true(a < NA);
            last_action = (int)a;
        } else {
            last_action = (int)(urand() * NA);
            assert_int_equal(pg_aif_set_action(ag, (size_t)last_action, &err), PG_OK);
        }
    }
    pg_aif_free(ag);
}

/* Risk, ambiguity and G of one predicted belief, from the definitions. */
static void
efe_of(const model *m, const double *qs, double *risk, double *amb)
{
    const double *As[2] = {m->A0, m->A1};
    const double *Cs[2] = {m->C0, m->C1};
    const int nos[2] = {NO0, NO1};
    *risk = 0;
    *amb = 0;
    for (int k = 0; k < 2; k++) {
        int no = nos[k];
        double lse = 0;
        for (int o = 0; o < no; o++)
            lse += exp(Cs[k][o]);
        lse = log(lse);
        for (int o = 0; o < no; o++) {
            double qo = 0;
            for (int s = 0; s < S; s++)
                qo += As[k][o * S + s] * qs[s];
            *risk += qo * (log(qo) - (Cs[k][o] - lse));
        }
        for (int s = 0; s < S; s++) {
            double h = 0;
            for (int o = 0; o < no; o++) {
                double p = As[k][o * S + s];
                h -= p * log(p);
            }
            *amb += qs[s] * h;
        }
    }
}

static void
test_expected_free_energy_matches_definition(void **state)
{
    (void)state;
    model m;
    make_model(&m);
    pg_aif_options o;
    pg_aif_options_init(&o);
    o.policy_depth = 2;
    o.gamma = 3.0;
    pg_aif *ag = new_agent(&m, &o);
    pg_error err = {0};
    size_t obs[2] = {1, 2};
    assert_int_equal(pg_aif_observe(ag, obs, &err), PG_OK);
    assert_int_equal(pg_aif_plan(ag, &err), PG_OK);
    assert_int_equal(pg_aif_n_policies(ag), NA * NA);
    const double *q0 = pg_aif_posterior(ag);
    const double *G = pg_aif_G(ag), *R = pg_aif_risk(ag), *H = pg_aif_ambiguity(ag);
    double expect_G[NA * NA];
    for (int k = 0; k < NA * NA; k++) {
        size_t acts[2];
        assert_int_equal(pg_aif_policy(ag, (size_t)k, acts, &err), PG_OK);
        assert_int_equal(acts[0], (size_t)(k / NA));
        assert_int_equal(acts[1], (size_t)(k % NA));
        double q1[S], q2[S], r1, h1, r2, h2;
        for (int s = 0; s < S; s++) {
            q1[s] = 0;
            for (int r = 0; r < S; r++)
                q1[s] += joint_T(&m, (int)acts[0], s, r) * q0[r];
        }
        for (int s = 0; s < S; s++) {
            q2[s] = 0;
            for (int r = 0; r < S; r++)
                q2[s] += joint_T(&m, (int)acts[1], s, r) * q1[r];
        }
        efe_of(&m, q1, &r1, &h1);
        efe_of(&m, q2, &r2, &h2);
        assert_near(R[k], r1 + r2, 1e-10);
        assert_near(H[k], h1 + h2, 1e-10);
        assert_near(G[k], r1 + r2 + h1 + h2, 1e-10);
        expect_G[k] = r1 + r2 + h1 + h2;
    }
    /* policy posterior softmax(-gamma G) and action posterior by first action */
    double z = 0, qpi[NA * NA];
    for (int k = 0; k < NA * NA; k++)
        z += qpi[k] = exp(-3.0 * expect_G[k]);
    const double *P = pg_aif_policy_posterior(ag), *QA = pg_aif_action_posterior(ag);
    for (int k = 0; k < NA * NA; k++)
        assert_near(P[k], qpi[k] / z, 1e-12);
    for (int a = 0; a < NA; a++)
        assert_near(QA[a], (qpi[a * NA] + qpi[a * NA + 1]) / z, 1e-12);
    pg_aif_free(ag);
}

/* A hidden context (left or right, 50/50) that a "look" action reveals and "wait" does not. With
 * no preferences, G is minus the information gain: ln 2 for looking, 0 for waiting. */
static void
test_information_gain_of_a_cue(void **state)
{
    (void)state;
    const size_t ns[2] = {2, 2}; /* context, location (0 wait, 1 cue) */
    const size_t no[1] = {3};    /* nothing, cue says left, cue says right */
    double Bctx[2 * 4] = {1, 0, 0, 1, 1, 0, 0, 1};
    double Bloc[2 * 4] = {1, 1, 0, 0, /* wait: go to 0 */ 0, 0, 1, 1 /* look: go to 1 */};
    double A[3 * 4] = {0};
    for (size_t s = 0; s < 4; s++) {
        size_t ctx = s / 2, loc = s % 2;
        if (loc == 0)
            A[0 * 4 + s] = 1;
        else
            A[(1 + ctx) * 4 + s] = 1;
    }
    const double *B[2] = {Bctx, Bloc}, *As[1] = {A};
    double Dloc[2] = {1, 0};
    const double *D[2] = {NULL, Dloc};
    pg_aif_model md = {2, ns, 2, B, 1, no, As, NULL, D, NULL};
    pg_aif_options o;
    pg_aif_options_init(&o);
    o.action_selection = PG_AIF_ARGMAX;
    pg_aif *ag = NULL;
    pg_error err = {0};
    assert_int_equal(pg_aif_new(&ag, &md, &o, &err), PG_OK);
    size_t obs[1] = {0};
    size_t act = 9;
    assert_int_equal(pg_aif_step(ag, obs, &act, &err), PG_OK);
    const double *G = pg_aif_G(ag);
    /* risk against flat preferences is KL(Q(o) || uniform over 3 outcomes) */
    assert_near(G[0], log(3.0), 1e-12);
    const double *R = pg_aif_risk(ag), *H = pg_aif_ambiguity(ag);
    assert_near(R[0], log(3.0), 1e-12);            /* waiting: outcome "nothing" for sure */
    assert_near(R[1], log(3.0) - log(2.0), 1e-12); /* looking: left or right, 50/50 */
    assert_near(H[0], 0, 1e-12);
    assert_near(H[1], 0, 1e-12);
    assert_near(G[0] - G[1], log(2.0), 1e-12);
    assert_int_equal(act, 1);
    /* after looking, the context is known: nothing more to learn, both actions tie */
    obs[0] = 2;
    assert_int_equal(pg_aif_observe(ag, obs, &err), PG_OK);
    double mctx[2];
    assert_int_equal(pg_aif_marginal(ag, 0, mctx, &err), PG_OK);
    assert_near(mctx[1], 1.0, 1e-12);
    assert_int_equal(pg_aif_plan(ag, &err), PG_OK);
    assert_near(pg_aif_G(ag)[0] - pg_aif_G(ag)[1], 0.0, 1e-12);
    pg_aif_free(ag);
}

static double
max_abs_diff(const double *a, const double *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > d)
            d = fabs(a[i] - b[i]);
    return d;
}

/* Fully observed states, random true transitions, random actions: the learned B (expected value
 * of the Dirichlet posterior) approaches the truth as counts grow. */
static void
test_dirichlet_learning_of_B_converges(void **state)
{
    (void)state;
    enum { n = 3, na = 2 };
    double Btrue[na * n * n], Bflat[na * n * n], A[n * n] = {0};
    for (int a = 0; a < na; a++)
        random_stochastic(Btrue + a * n * n, n, n);
    for (size_t i = 0; i < na * n * n; i++)
        Bflat[i] = 1.0 / n;
    for (int s = 0; s < n; s++)
        A[s * n + s] = 1;
    const size_t ns[1] = {n}, no[1] = {n};
    const double *B[1] = {Bflat}, *As[1] = {A};
    pg_aif_model md = {1, ns, na, B, 1, no, As, NULL, NULL, NULL};
    pg_aif_options o;
    pg_aif_options_init(&o);
    o.learn_B_rate = 1.0;
    o.B_concentration = 1.0;
    pg_aif *ag = NULL;
    pg_error err = {0};
    assert_int_equal(pg_aif_new(&ag, &md, &o, &err), PG_OK);
    int s = 0;
    double err_early = 0;
    for (int t = 0; t < 20000; t++) {
        size_t obs[1] = {(size_t)s};
        assert_int_equal(pg_aif_observe(ag, obs, &err), PG_OK);
        if (t == 200)
            err_early = max_abs_diff(pg_aif_B(ag, 0), Btrue, na * n * n);
        int a = (int)(urand() * na);
        assert_int_equal(pg_aif_set_action(ag, (size_t)a, &err), PG_OK);
        double u = urand(), c = 0;
        int nx = n - 1;
        for (int k = 0; k < n; k++) {
            c += Btrue[(a * n + k) * n + s];
            if (u < c) {
                nx = k;
                break;
            }
        }
        s = nx;
    }
    double err_late = max_abs_diff(pg_aif_B(ag, 0), Btrue, na * n * n);
    assert_true(err_late < 0.03);
    assert_true(err_late < err_early);
    /* reset restores the prior */
    pg_aif_reset(ag, 7);
    assert_near(max_abs_diff(pg_aif_B(ag, 0), Bflat, na * n * n), 0, 0);
    pg_aif_free(ag);
}

/* Learning A: a noisy sensor of a known, fixed state; the learned likelihood column of that
 * state approaches the sensor's outcome frequencies. */
static void
test_dirichlet_learning_of_A(void **state)
{
    (void)state;
    const size_t ns[1] = {2}, no[1] = {2};
    double B[4] = {1, 0, 0, 1};
    double A[4] = {0.5, 0.5, 0.5, 0.5};
    double D[2] = {1, 0};
    const double *Bs[1] = {B}, *As[1] = {A}, *Ds[1] = {D};
    pg_aif_model md = {1, ns, 1, Bs, 1, no, As, NULL, Ds, NULL};
    pg_aif_options o;
    pg_aif_options_init(&o);
    o.learn_A_rate = 1.0;
    pg_aif *ag = NULL;
    pg_error err = {0};
    assert_int_equal(pg_aif_new(&ag, &md, &o, &err), PG_OK);
    int ones = 0;
    for (int t = 0; t < 5000; t++) {
        size_t obs[1] = {urand() < 0.8 ? 1u : 0u};
        ones += (int)obs[0];
        assert_int_equal(pg_aif_observe(ag, obs, &err), PG_OK);
    }
    /* counts: 0.5 + ones for outcome 1 over 1 + 5000 in total (column of state 0) */
    assert_near(pg_aif_A(ag, 0)[1 * 2 + 0], (0.5 + ones) / 5001.0, 1e-12);
    assert_near(pg_aif_A(ag, 0)[1 * 2 + 0], 0.8, 0.02);
    pg_aif_free(ag);
}

static void
test_sampling_is_reproducible(void **state)
{
    (void)state;
    model m;
    make_model(&m);
    pg_aif_options o;
    pg_aif_options_init(&o);
    o.gamma = 0.5; /* a spread posterior, so samples differ */
    o.seed = 99;
    pg_aif *x = new_agent(&m, &o), *y = new_agent(&m, &o);
    pg_error err = {0};
    int counts[NA] = {0};
    for (int t = 0; t < 200; t++) {
        size_t obs[2] = {(size_t)(t % NO0), (size_t)(t % NO1)};
        size_t ax, ay;
        assert_int_equal(pg_aif_step(x, obs, &ax, &err), PG_OK);
        assert_int_equal(pg_aif_step(y, obs, &ay, &err), PG_OK);
        assert_int_equal(ax, ay);
        counts[ax]++;
    }
    assert_true(counts[0] > 0 && counts[1] > 0);
    pg_aif_free(x);
    pg_aif_free(y);
}

static void
test_bad_models_are_refused(void **state)
{
    (void)state;
    const size_t ns[1] = {2}, no[1] = {2};
    double B[4] = {0.5, 0.5, 0.5, 0.6}; /* column 1 sums to 1.1 */
    double A[4] = {1, 0, 0, 1};
    const double *Bs[1] = {B}, *As[1] = {A};
    pg_aif_model md = {1, ns, 1, Bs, 1, no, As, NULL, NULL, NULL};
    pg_aif *ag = NULL;
    pg_error err = {0};
    assert_int_equal(pg_aif_new(&ag, &md, NULL, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "B of factor 0, action 0: column 1 sums to 1.1"));
    assert_null(ag);
    B[3] = 0.5;
    A[0] = NAN;
    pg_error_clear(&err);
    assert_int_equal(pg_aif_new(&ag, &md, NULL, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "A of modality 0"));
    A[0] = 1;
    pg_aif_options o;
    pg_aif_options_init(&o);
    o.policy_depth = 30;
    assert_int_equal(pg_aif_new(&ag, &md, &o, &err), PG_OK); /* 1 action: 1 policy */
    pg_aif_free(ag);
    /* an impossible observation leaves the agent as it was */
    double D[2] = {1, 0};
    const double *Ds[1] = {D};
    md.D = Ds;
    assert_int_equal(pg_aif_new(&ag, &md, NULL, &err), PG_OK);
    size_t obs[1] = {1};
    assert_int_equal(pg_aif_observe(ag, obs, &err), PG_EMODEL);
    assert_near(pg_aif_posterior(ag)[0], 1.0, 0);
    obs[0] = 5;
    assert_int_equal(pg_aif_observe(ag, obs, &err), PG_EINVAL);
    obs[0] = 0;
    assert_int_equal(pg_aif_observe(ag, obs, &err), PG_OK);
    size_t act;
    assert_int_equal(pg_aif_act(ag, &act, &err), PG_ESTATE); /* plan first */
    pg_aif_free(ag);
}

/* A factor the agent does not control. Fully observed (A is the identity), so each posterior is
 * the observed state and each step adds exactly one count to the Dirichlet parameters of B:
 * counts = concentration x B + transitions seen. Per action (the default), a transition teaches
 * only the matrix of the action taken; with one shared B (uncontrolled), every transition teaches
 * the one matrix whatever the action. */
static void
run_walk(pg_aif *ag)
{
    /* states 0 1 1 1 1 0 under actions 0 1 0 1 0: transitions 0->1 (a0), 1->1 (a1), 1->1 (a0),
     * 1->1 (a1), 1->0 (a0) */
    const size_t states[6] = {0, 1, 1, 1, 1, 0}, acts[5] = {0, 1, 0, 1, 0};
    pg_error err = {0};
    for (size_t t = 0; t < 6; t++) {
        size_t obs[1] = {states[t]};
        assert_int_equal(pg_aif_observe(ag, obs, &err), PG_OK);
        if (t < 5)
            assert_int_equal(pg_aif_set_action(ag, acts[t], &err), PG_OK);
    }
}

static void
test_uncontrolled_factor_shares_one_B(void **state)
{
    (void)state;
    static const size_t ns[1] = {2};
    const double uniform2[2 * 4] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    const double eye[4] = {1, 0, 0, 1};
    const double *A[1] = {eye};
    pg_aif_options o;
    pg_aif_options_init(&o);
    o.learn_B_rate = 1;
    o.B_concentration = 1;
    pg_error err = {0};

    /* per action: B[a](next | prev), layout (a * 2 + next) * 2 + prev */
    const double *Bp[1] = {uniform2};
    pg_aif_model per = {.n_factors = 1,
                        .n_states = ns,
                        .n_actions = 2,
                        .B = Bp,
                        .n_modalities = 1,
                        .n_obs = ns,
                        .A = A};
    pg_aif *ag = NULL;
    assert_int_equal(pg_aif_new(&ag, &per, &o, &err), PG_OK);
    run_walk(ag);
    const double *B = pg_aif_B(ag, 0);
    /* action 0 from 0: 0.5 + {0, 1} -> 1/4, 3/4; from 1: 0.5 + {1, 1} -> 1/2, 1/2 */
    assert_near(B[(0 * 2 + 0) * 2 + 0], 0.25, 1e-15);
    assert_near(B[(0 * 2 + 1) * 2 + 0], 0.75, 1e-15);
    assert_near(B[(0 * 2 + 0) * 2 + 1], 0.5, 1e-15);
    /* action 1 from 1: 0.5 + {0, 2} -> 1/6, 5/6; from 0: never seen, 1/2 */
    assert_near(B[(1 * 2 + 0) * 2 + 1], 1.0 / 6.0, 1e-15);
    assert_near(B[(1 * 2 + 1) * 2 + 1], 5.0 / 6.0, 1e-15);
    assert_near(B[(1 * 2 + 1) * 2 + 0], 0.5, 1e-15);
    pg_aif_free(ag);

    /* one shared B: layout next * 2 + prev, one matrix */
    const bool unc[1] = {true};
    const double uniform1[4] = {0.5, 0.5, 0.5, 0.5};
    const double *Bs[1] = {uniform1};
    pg_aif_model shared = per;
    shared.B = Bs;
    shared.uncontrolled = unc;
    assert_int_equal(pg_aif_new(&ag, &shared, &o, &err), PG_OK);
    run_walk(ag);
    B = pg_aif_B(ag, 0);
    /* from 0: 0.5 + {0, 1} -> 1/4, 3/4; from 1: 0.5 + {1, 3} -> 3/10, 7/10 */
    assert_near(B[0 * 2 + 0], 0.25, 1e-15);
    assert_near(B[1 * 2 + 0], 0.75, 1e-15);
    assert_near(B[0 * 2 + 1], 0.3, 1e-15);
    assert_near(B[1 * 2 + 1], 0.7, 1e-15);
    /* and predictions use it whatever the action: both actions predict the same */
    assert_int_equal(pg_aif_plan(ag, &err), PG_OK);
    const double *G = pg_aif_G(ag);
    assert_near(G[0], G[1], 1e-15);
    pg_aif_free(ag);

    /* a shared B is checked as one matrix */
    const double bad[4] = {0.5, 0.5, 0.6, 0.5};
    Bs[0] = bad;
    assert_int_equal(pg_aif_new(&ag, &shared, &o, &err), PG_EMODEL);
    assert_non_null(
        strstr(err.msg, "B of factor 0 (shared by every action): column 0 sums to 1.1"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_posterior_matches_exact_filter),
        cmocka_unit_test(test_expected_free_energy_matches_definition),
        cmocka_unit_test(test_information_gain_of_a_cue),
        cmocka_unit_test(test_dirichlet_learning_of_B_converges),
        cmocka_unit_test(test_dirichlet_learning_of_A),
        cmocka_unit_test(test_sampling_is_reproducible),
        cmocka_unit_test(test_bad_models_are_refused),
        cmocka_unit_test(test_uncontrolled_factor_shares_one_B),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
