/* Power flow on small worlds built in code, checked against closed-form answers and invariants:
 * admittance entries of a line and a phase-shifting transformer, the two-bus voltage solution,
 * the DC flow through a phase shifter, Q-limit switching (also of the reference bus), islands
 * without a reference bus, non-convergence past the nose point, several units at one bus,
 * renewables and storage as injections, solver reuse across steps and topology changes, and the
 * errors a bad world gets, from a new solver and from one that knows the network. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/io.h"
#include "plurigrid/pf.h"

/* ---------------------------------------------------------------- building worlds */

static pg_world *
new_world(void)
{
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_new(&w, "test", 100.0, &err), PG_OK);
    return w;
}

static size_t
add_bus(pg_world *w, const char *name, pg_bus_type type)
{
    pg_bus b;
    pg_bus_init(&b);
    b.name = (char *)name;
    b.number = (int)w->n_buses + 1;
    b.type = type;
    b.base_kv = 20;
    size_t idx;
    pg_error err = {0};
    assert_int_equal(pg_world_add_bus(w, &b, &idx, &err), PG_OK);
    return idx;
}

static size_t
add_line(pg_world *w, size_t f, size_t t, double r, double x, double b)
{
    pg_branch br;
    pg_branch_init(&br);
    char name[32];
    snprintf(name, sizeof name, "br%zu", w->n_branches + 1);
    br.name = name;
    br.from = f;
    br.to = t;
    br.r = r;
    br.x = x;
    br.b = b;
    size_t idx;
    pg_error err = {0};
    assert_int_equal(pg_world_add_branch(w, &br, &idx, &err), PG_OK);
    return idx;
}

static size_t
add_load(pg_world *w, size_t bus, double p, double q)
{
    pg_load l;
    pg_load_init(&l);
    char name[32];
    snprintf(name, sizeof name, "load%zu", w->n_loads + 1);
    l.name = name;
    l.bus = bus;
    l.p = p;
    l.q = q;
    size_t idx;
    pg_error err = {0};
    assert_int_equal(pg_world_add_load(w, &l, &idx, &err), PG_OK);
    return idx;
}

static size_t
add_gen(pg_world *w, size_t bus, double p, double vg, double qmin, double qmax)
{
    pg_thermal t;
    pg_thermal_init(&t);
    char name[32];
    snprintf(name, sizeof name, "gen%zu", w->n_thermals + 1);
    t.name = name;
    t.bus = bus;
    t.p = p;
    t.vg = vg;
    t.pmax = 1000;
    t.qmin = qmin;
    t.qmax = qmax;
    size_t idx;
    pg_error err = {0};
    assert_int_equal(pg_world_add_thermal(w, &t, &idx, &err), PG_OK);
    return idx;
}

static pg_pf_result *
solve(const pg_world *w, bool dc, bool qlim)
{
    pg_pf_options o;
    pg_pf_options_init(&o);
    o.dc = dc;
    o.enforce_q_lims = qlim;
    pg_pf_result *r = NULL;
    pg_error err = {0};
    int rc = pg_pf_solve(w, &o, &r, &err);
    if (rc)
        fail_msg("pg_pf_solve: %s", err.msg);
    return r;
}

/* Active and reactive balance: sources = loads + shunts + series losses. */
static void
assert_balanced(const pg_pf_result *r, double tol)
{
    assert_near(r->gen_p + r->inj_p, r->load_p + r->shunt_p + r->loss_p, tol);
    if (!r->dc)
        assert_near(r->gen_q + r->inj_q + r->shunt_q + r->charging_q, r->load_q + r->loss_q, tol);
}

/* ---------------------------------------------------------------- admittance */

/* A line and a transformer with tap 1.05 and shift 10 degrees, and a bus shunt, against the
 * pi-model formulas written out by hand. */
static void
test_admittance_closed_form(void **state)
{
    (void)state;
    pg_world *w = new_world();
    size_t a = add_bus(w, "a", PG_BUS_REF), b = add_bus(w, "b", PG_BUS_PQ);
    size_t c = add_bus(w, "c", PG_BUS_PQ);
    add_line(w, a, b, 0.01, 0.1, 0.04);
    size_t xf = add_line(w, b, c, 0.0, 0.2, 0.0);
    w->branches[xf].kind = PG_BRANCH_TRANSFORMER;
    w->branches[xf].tap = 1.05;
    w->branches[xf].shift = 10;
    size_t off = add_line(w, a, c, 0.0, 0.3, 0.0);
    w->branches[off].in_service = false;
    w->buses[c].gs = 5;  /* MW at 1 p.u. */
    w->buses[c].bs = 12; /* MVAr at 1 p.u. */
    pg_pf_admittance *y = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_admittance_build(&y, w, &err), PG_OK);

    /* Line: ys = 1 / (0.01 + 0.1j) = 0.990099 - 9.90099j. */
    double den = 0.01 * 0.01 + 0.1 * 0.1, ysr = 0.01 / den, ysi = -0.1 / den;
    /* Transformer: ys = -5j, t = 1.05 e^{j 10 deg}. */
    double th = 10 * M_PI / 180, tr = 1.05 * cos(th), ti = 1.05 * sin(th);
    const pg_pf_sparse *Y = &y->ybus;
    assert_int_equal(Y->n_rows, 3);
    assert_int_equal(Y->n_cols, 3);
    /* The out-of-service a-c branch leaves no entry: 3 diagonals + 2 x 2 off-diagonals. */
    assert_int_equal(Y->nnz, 7);
    double want[3][3][2] = {{{0}}};
    want[0][0][0] = ysr, want[0][0][1] = ysi + 0.02;
    want[0][1][0] = -ysr, want[0][1][1] = -ysi;
    want[1][0][0] = -ysr, want[1][0][1] = -ysi;
    /* yff of the transformer = -5j / 1.05^2 */
    want[1][1][0] = ysr, want[1][1][1] = ysi + 0.02 - 5.0 / (1.05 * 1.05);
    /* yft = -ys / conj(t) = 5j / conj(t) = 5j t / |t|^2 */
    want[1][2][0] = -5 * ti / (1.05 * 1.05), want[1][2][1] = 5 * tr / (1.05 * 1.05);
    /* ytf = -ys / t = 5j conj(t) / |t|^2 */
    want[2][1][0] = 5 * ti / (1.05 * 1.05), want[2][1][1] = 5 * tr / (1.05 * 1.05);
    want[2][2][0] = 0.05, want[2][2][1] = -5 + 0.12;
    for (int col = 0; col < 3; col++) {
        for (int p = Y->colptr[col]; p < Y->colptr[col + 1]; p++) {
            int row = Y->rowind[p];
            if (p > Y->colptr[col])
                assert_true(row > Y->rowind[p - 1]);
            assert_near(Y->re[p], want[row][col][0], 1e-12);
            assert_near(Y->im[p], want[row][col][1], 1e-12);
        }
    }
    /* Yf row of the transformer (branch 1): yff at column b, yft at column c; Yf and Yt rows of
     * the out-of-service branch are empty. */
    const pg_pf_sparse *Yf = &y->yf, *Yt = &y->yt;
    assert_int_equal(Yf->n_rows, 3);
    assert_int_equal(Yf->nnz, 4);
    assert_int_equal(Yt->nnz, 4);
    for (int col = 0; col < 3; col++)
        for (int p = Yf->colptr[col]; p < Yf->colptr[col + 1]; p++) {
            assert_true(Yf->rowind[p] != (int)off);
            if (Yf->rowind[p] == (int)xf && col == (int)b)
                assert_near(Yf->im[p], -5.0 / (1.05 * 1.05), 1e-12);
            if (Yf->rowind[p] == (int)xf && col == (int)c)
                assert_near(Yf->re[p], -5 * ti / (1.05 * 1.05), 1e-12);
        }
    pg_pf_admittance_free(y);
    pg_world_free(w);
}

/* ---------------------------------------------------------------- AC closed form */

/* A reference bus at 1 p.u. feeding a load P + jQ over a lossless line of reactance x: the load
 * voltage solves V^4 + (2Qx - 1) V^2 + x^2 (P^2 + Q^2) = 0 (upper root) and sin(angle) = -Px/V. */
static void
test_two_bus_closed_form(void **state)
{
    (void)state;
    pg_world *w = new_world();
    size_t a = add_bus(w, "a", PG_BUS_REF), b = add_bus(w, "b", PG_BUS_PQ);
    double x = 0.1, P = 1.5, Q = 0.5; /* p.u. */
    add_line(w, a, b, 0, x, 0);
    add_load(w, b, P * 100, Q * 100);
    add_gen(w, a, 0, 1.0, -INFINITY, INFINITY);
    pg_pf_result *r = solve(w, false, false);
    assert_true(r->converged);
    assert_true(r->all_solved);
    double k = 1 - 2 * Q * x;
    double v2 = (k + sqrt(k * k - 4 * x * x * (P * P + Q * Q))) / 2, v = sqrt(v2);
    assert_near(r->vm[b], v, 1e-9);
    assert_near(r->va[b], asin(-P * x / v) * 180 / M_PI, 1e-7);
    assert_near(r->vm[a], 1.0, 0);
    assert_near(r->va[a], 0.0, 0);
    /* The slack supplies the load and nothing is lost in P; Q loss is I^2 x. */
    assert_near(r->pg[0], 150, 1e-6);
    assert_near(r->loss_p, 0, 1e-9);
    assert_near(r->loss_q, (P * P + Q * Q) / v2 * x * 100, 1e-6);
    assert_near(r->pf[0], 150, 1e-6);
    assert_near(r->pt[0], -150, 1e-6);
    assert_near(r->qt[0], -50, 1e-6);
    assert_balanced(r, 1e-6);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* The DC model through a phase shifter: with the load side free, the flow is
 * b (va_f - va_t - shift) where b = 1 / (x tap), and the slack covers load and shunt Gs. */
static void
test_dc_phase_shifter(void **state)
{
    (void)state;
    pg_world *w = new_world();
    size_t a = add_bus(w, "a", PG_BUS_REF), b = add_bus(w, "b", PG_BUS_PQ);
    size_t c = add_bus(w, "c", PG_BUS_PQ);
    add_line(w, a, b, 0.05, 0.1, 0.3);
    size_t xf = add_line(w, b, c, 0, 0.2, 0);
    w->branches[xf].tap = 0.95;
    w->branches[xf].shift = -3;
    add_load(w, c, 60, 20);
    add_gen(w, a, 0, 1.0, -100, 100);
    w->buses[b].gs = 4;
    pg_pf_result *r = solve(w, true, false);
    assert_true(r->converged);
    /* All of c's load passes the transformer: 0.6 = (va_b - va_c - shift) / (0.2 * 0.95). */
    double shift = -3 * M_PI / 180;
    double vb = -(0.6 + 0.04) * 0.1; /* line a-b carries load + Gs */
    double vc = vb - shift - 0.6 * 0.2 * 0.95;
    assert_near(r->va[b], vb * 180 / M_PI, 1e-9);
    assert_near(r->va[c], vc * 180 / M_PI, 1e-9);
    assert_near(r->pf[xf], 60, 1e-9);
    assert_near(r->pt[xf], -60, 1e-9);
    assert_near(r->pg[0], 64, 1e-9);
    assert_near(r->qg[0], 0, 0);
    assert_near(r->vm[c], 1, 0);
    assert_balanced(r, 1e-9);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* ---------------------------------------------------------------- reactive limits */

/* The reference unit can give only 20 MVAr while the load needs far more: with limits enforced
 * the reference bus becomes PQ, the PV bus takes over as reference, the original reference keeps
 * its angle, and every unit ends within its limits with the power balanced. */
static void
test_q_limits_reference_bus(void **state)
{
    (void)state;
    pg_world *w = new_world();
    size_t a = add_bus(w, "a", PG_BUS_REF), b = add_bus(w, "b", PG_BUS_PV);
    size_t c = add_bus(w, "c", PG_BUS_PQ);
    w->buses[a].va = 5; /* a reference angle that must survive the switch */
    add_line(w, a, c, 0.01, 0.1, 0);
    add_line(w, b, c, 0.01, 0.1, 0);
    add_load(w, c, 100, 80);
    size_t ga = add_gen(w, a, 0, 1.05, -20, 20);
    size_t gb = add_gen(w, b, 50, 1.02, -200, 200);

    pg_pf_result *free_q = solve(w, false, false);
    assert_true(free_q->converged);
    assert_true(free_q->qg[ga] > 20); /* the limit binds */

    pg_pf_result *r = solve(w, false, true);
    assert_true(r->converged);
    assert_true(r->q_lim_rounds >= 2);
    assert_true(r->q_limited[ga]);
    assert_false(r->q_limited[gb]);
    assert_near(r->qg[ga], 20, 1e-9);
    assert_int_equal(r->bus_type[a], PG_BUS_PQ);
    assert_int_equal(r->bus_type[b], PG_BUS_REF);
    assert_near(r->va[a], 5, 1e-9);
    assert_true(r->vm[a] < 1.05); /* the voltage gives way */
    assert_near(r->vm[b], 1.02, 1e-12);
    for (size_t g = 0; g < w->n_thermals; g++) {
        assert_true(r->qg[g] <= w->thermals[g].qmax + 1e-6);
        assert_true(r->qg[g] >= w->thermals[g].qmin - 1e-6);
    }
    /* As in MATPOWER, a's unit keeps the active output it had as the slack when it was held at
     * its limit (the first round, the same as without enforcement); b's unit is the slack now. */
    assert_near(r->pg[ga], free_q->pg[ga], 1e-9);
    assert_true(r->pg[gb] != 50);
    assert_balanced(r, 1e-6);
    pg_pf_result_free(free_q);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* On a MATPOWER case where limits bind (case300: 11 units exceed theirs without enforcement, and
 * switching takes several rounds), every unit ends within its limits and the balance holds. */
static void
test_q_limits_case300(void **state)
{
    (void)state;
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(
        pg_matpower_read_file(pgt_data_path("matpower/cases/case300.m"), &w, NULL, &err), PG_OK);
    pg_pf_result *plain = solve(w, false, false);
    int violated = 0;
    for (size_t g = 0; g < w->n_thermals; g++)
        violated +=
            plain->qg[g] > w->thermals[g].qmax + 1e-6 || plain->qg[g] < w->thermals[g].qmin - 1e-6;
    assert_true(violated > 0);
    pg_pf_result *r = solve(w, false, true);
    assert_true(r->converged);
    assert_true(r->q_lim_rounds > 2);
    int limited = 0;
    for (size_t g = 0; g < w->n_thermals; g++) {
        assert_true(r->qg[g] <= w->thermals[g].qmax + 5e-6);
        assert_true(r->qg[g] >= w->thermals[g].qmin - 5e-6);
        limited += r->q_limited[g];
    }
    assert_true(limited >= violated);
    assert_balanced(r, 1e-6);
    pg_pf_result_free(plain);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* When every voltage-controlling unit exceeds the same limit, nothing can be switched: the result
 * says so. */
static void
test_q_limits_infeasible(void **state)
{
    (void)state;
    pg_world *w = new_world();
    size_t a = add_bus(w, "a", PG_BUS_REF), b = add_bus(w, "b", PG_BUS_PQ);
    add_line(w, a, b, 0.01, 0.1, 0);
    add_load(w, b, 50, 60);
    add_gen(w, a, 0, 1.0, -10, 10);
    pg_pf_result *r = solve(w, false, true);
    assert_false(r->converged);
    assert_false(r->all_solved);
    assert_non_null(strstr(r->reason, "reactive"));
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* ---------------------------------------------------------------- islands */

/* Two islands: a-b with the reference, c-d with a load and no reference. The first is solved
 * exactly as on its own; the second is reported and left de-energized. */
static void
test_island_without_reference(void **state)
{
    (void)state;
    pg_world *w = new_world();
    size_t a = add_bus(w, "a", PG_BUS_REF), b = add_bus(w, "b", PG_BUS_PQ);
    size_t c = add_bus(w, "c", PG_BUS_PQ), d = add_bus(w, "d", PG_BUS_PQ);
    add_line(w, a, b, 0.01, 0.1, 0.02);
    size_t cd = add_line(w, c, d, 0.01, 0.1, 0.02);
    add_load(w, b, 40, 10);
    add_load(w, d, 30, 10);
    add_gen(w, a, 0, 1.0, -100, 100);
    pg_pf_result *r = solve(w, false, false);
    assert_true(r->converged);
    assert_false(r->all_solved);
    assert_int_equal(r->n_islands, 2);
    assert_int_equal(r->island[a], r->island[b]);
    assert_int_equal(r->island[c], r->island[d]);
    const pg_pf_island *I = &r->islands[r->island[c]];
    assert_int_equal(I->status, PG_PF_ISLAND_NO_REFERENCE);
    assert_int_equal(I->n_buses, 2);
    assert_near(I->load_mw, 30, 0);
    assert_non_null(strstr(I->reason, "no reference bus"));
    assert_non_null(strstr(r->reason, "no reference bus"));
    assert_near(r->vm[c], 0, 0);
    assert_near(r->pf[cd], 0, 0);
    assert_near(r->load_p, 40, 0); /* only the served load */
    assert_balanced(r, 1e-6);

    /* The same island alone gives the same voltages. */
    pg_world *w2 = new_world();
    size_t a2 = add_bus(w2, "a", PG_BUS_REF), b2 = add_bus(w2, "b", PG_BUS_PQ);
    add_line(w2, a2, b2, 0.01, 0.1, 0.02);
    add_load(w2, b2, 40, 10);
    add_gen(w2, a2, 0, 1.0, -100, 100);
    pg_pf_result *r2 = solve(w2, false, false);
    assert_near(r->vm[b], r2->vm[b2], 1e-12);
    assert_near(r->va[b], r2->va[b2], 1e-10);
    assert_near(r->pg[0], r2->pg[0], 1e-9);

    /* DC too. */
    pg_pf_result *rd = solve(w, true, false);
    assert_true(rd->converged);
    assert_false(rd->all_solved);
    assert_near(rd->pg[0], 40, 1e-9);
    pg_pf_result_free(rd);
    pg_pf_result_free(r2);
    pg_world_free(w2);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* A reference bus whose only unit is out of service: with a PV bus in the island, it becomes the
 * reference (as MATPOWER's bustypes does); without one, the island is reported. */
static void
test_reference_without_unit(void **state)
{
    (void)state;
    pg_world *w = new_world();
    size_t a = add_bus(w, "a", PG_BUS_REF), b = add_bus(w, "b", PG_BUS_PV);
    size_t c = add_bus(w, "c", PG_BUS_PQ);
    add_line(w, a, c, 0.01, 0.1, 0);
    add_line(w, b, c, 0.01, 0.1, 0);
    add_load(w, c, 50, 10);
    size_t ga = add_gen(w, a, 0, 1.0, -100, 100);
    size_t gb = add_gen(w, b, 0, 1.01, -100, 100);
    w->thermals[ga].in_service = false;
    pg_pf_result *r = solve(w, false, false);
    assert_true(r->all_solved);
    assert_int_equal(r->bus_type[b], PG_BUS_REF);
    assert_int_equal(r->bus_type[a], PG_BUS_PQ);
    assert_near(r->pg[ga], 0, 0);
    assert_true(r->pg[gb] > 50);
    pg_pf_result_free(r);
    w->thermals[gb].in_service = false;
    r = solve(w, false, false);
    assert_false(r->all_solved);
    assert_int_equal(r->islands[0].status, PG_PF_ISLAND_NO_GENERATOR);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* An isolated bus and the branch to it take no part; its load is not served. */
static void
test_isolated_bus(void **state)
{
    (void)state;
    pg_world *w = new_world();
    size_t a = add_bus(w, "a", PG_BUS_REF), b = add_bus(w, "b", PG_BUS_PQ);
    size_t c = add_bus(w, "c", PG_BUS_ISOLATED);
    add_line(w, a, b, 0.01, 0.1, 0);
    size_t bc = add_line(w, b, c, 0.01, 0.1, 0);
    add_load(w, b, 20, 5);
    add_load(w, c, 20, 5);
    add_gen(w, a, 0, 1.0, -100, 100);
    pg_pf_result *r = solve(w, false, false);
    assert_true(r->all_solved);
    assert_int_equal(r->n_islands, 1);
    assert_int_equal(r->island[c], PG_NONE);
    assert_int_equal(r->bus_type[c], PG_BUS_ISOLATED);
    assert_near(r->pf[bc], 0, 0);
    assert_near(r->load_p, 20, 0);
    assert_balanced(r, 1e-6);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* ---------------------------------------------------------------- non-convergence */

/* Loads far beyond the nose point of case9: no solution exists; the result says so. */
static void
test_beyond_nose_point(void **state)
{
    (void)state;
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(pg_matpower_read_file(pgt_data_path("matpower/cases/case9.m"), &w, NULL, &err),
                     PG_OK);
    for (size_t i = 0; i < w->n_loads; i++) {
        w->loads[i].p *= 10;
        w->loads[i].q *= 10;
    }
    pg_pf_result *r = solve(w, false, false);
    assert_false(r->converged);
    assert_false(r->all_solved);
    assert_true(r->iterations <= 10);
    assert_true(strlen(r->reason) > 0);
    pg_pf_result_free(r);

    /* And with max_iter 0 a case that needs iterations is "not converged", not an error. */
    for (size_t i = 0; i < w->n_loads; i++) {
        w->loads[i].p /= 10;
        w->loads[i].q /= 10;
    }
    pg_pf_options o;
    pg_pf_options_init(&o);
    o.max_iter = 0;
    assert_int_equal(pg_pf_solve(w, &o, &r, &err), PG_OK);
    assert_false(r->converged);
    assert_int_equal(r->iterations, 0);
    assert_true(r->max_mismatch > 1e-8);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* ---------------------------------------------------------------- units and injections */

/* Two units at one PV bus share its reactive output as MATPOWER does: in proportion to their
 * ranges, (Qg - Qmin) / (Qmax - Qmin) equal; two at the reference bus: the first takes the slack,
 * the second keeps its setpoint. */
static void
test_units_sharing_a_bus(void **state)
{
    (void)state;
    pg_world *w = new_world();
    size_t a = add_bus(w, "a", PG_BUS_REF), b = add_bus(w, "b", PG_BUS_PV);
    size_t c = add_bus(w, "c", PG_BUS_PQ);
    add_line(w, a, c, 0.01, 0.1, 0);
    add_line(w, b, c, 0.01, 0.1, 0);
    add_load(w, c, 120, 60);
    size_t a1 = add_gen(w, a, 0, 1.0, -50, 50);
    size_t a2 = add_gen(w, a, 30, 1.0, -50, 50);
    size_t b1 = add_gen(w, b, 20, 1.01, -10, 30);
    size_t b2 = add_gen(w, b, 25, 1.01, 0, 100);
    pg_pf_result *r = solve(w, false, false);
    assert_true(r->converged);
    double fb1 = (r->qg[b1] + 10) / 40, fb2 = (r->qg[b2] - 0) / 100;
    assert_near(fb1, fb2, 1e-9);
    assert_near(r->pg[a2], 30, 0);
    assert_near(r->pg[b1], 20, 0);
    assert_near(r->pg[b2], 25, 0);
    assert_near(r->pg[a1] + 30 + 20 + 25, 120 + r->loss_p, 1e-6);
    assert_balanced(r, 1e-6);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* A renewable and a storage unit that inject exactly what a load at their bus draws give the
 * same solution as neither being there. */
static void
test_renewables_and_storage_are_injections(void **state)
{
    (void)state;
    pg_world *w = new_world();
    size_t a = add_bus(w, "a", PG_BUS_REF), b = add_bus(w, "b", PG_BUS_PQ);
    add_line(w, a, b, 0.02, 0.1, 0.01);
    add_load(w, b, 30, 10);
    add_gen(w, a, 0, 1.0, -100, 100);
    pg_pf_result *base = solve(w, false, false);

    add_load(w, b, 25, 8);
    pg_renewable u;
    pg_renewable_init(&u);
    u.name = "pv";
    u.bus = b;
    u.rating = 30;
    u.p = 15;
    u.q = 3;
    pg_error err = {0};
    assert_int_equal(pg_world_add_renewable(w, &u, NULL, &err), PG_OK);
    pg_storage s;
    pg_storage_init(&s);
    s.name = "bat";
    s.bus = b;
    s.p = 10;
    s.q = 5;
    assert_int_equal(pg_world_add_storage(w, &s, NULL, &err), PG_OK);
    pg_pf_result *r = solve(w, false, false);
    assert_near(r->vm[b], base->vm[b], 1e-12);
    assert_near(r->va[b], base->va[b], 1e-10);
    assert_near(r->pg[0], base->pg[0], 1e-9);
    assert_near(r->inj_p, 25, 0);
    assert_near(r->inj_q, 8, 0);
    assert_balanced(r, 1e-6);
    pg_pf_result_free(r);
    pg_pf_result_free(base);
    pg_world_free(w);
}

/* ---------------------------------------------------------------- solver reuse */

/* One solver over the 24 steps of a world whose loads follow a profile: the analysis is done once,
 * the factors of the starting Jacobian (the same every step: same start, same network) are kept,
 * and every step equals a fresh solve. Then a branch goes out of service: the solver analyses the
 * new topology and still agrees with a fresh solve. */
static void
test_solver_reuse_across_steps(void **state)
{
    (void)state;
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(
        pg_matpower_read_file(pgt_data_path("matpower/cases/case30.m"), &w, NULL, &err), PG_OK);
    double prof[24];
    for (int h = 0; h < 24; h++)
        prof[h] = 0.7 + 0.3 * sin(M_PI * h / 24.0);
    size_t sidx;
    assert_int_equal(pg_world_add_series(w, "profile", 1.0, prof, 24, &sidx, &err), PG_OK);
    for (size_t i = 0; i < w->n_loads; i++)
        w->loads[i].p_series = w->loads[i].q_series = sidx;
    pg_pf_solver *s = NULL;
    assert_int_equal(pg_pf_solver_new(&s, NULL, &err), PG_OK);
    int iterations = 0, steps = 0;
    for (size_t h = 0; h < 24; h += 5) {
        pg_world *at = NULL;
        assert_int_equal(pg_world_at_step(&at, w, h, &err), PG_OK);
        pg_pf_result *warm = NULL, *cold = NULL;
        assert_int_equal(pg_pf_solver_solve(s, at, &warm, &err), PG_OK);
        assert_int_equal(pg_pf_solve(at, NULL, &cold, &err), PG_OK);
        assert_true(warm->converged);
        assert_int_equal(warm->iterations, cold->iterations);
        iterations += warm->iterations;
        steps++;
        for (size_t b = 0; b < at->n_buses; b++) {
            assert_near(warm->vm[b], cold->vm[b], 1e-10);
            assert_near(warm->va[b], cold->va[b], 1e-8);
        }
        pg_pf_result_free(warm);
        pg_pf_result_free(cold);
        pg_world_free(at);
    }
    pg_pf_solver_info info;
    pg_pf_solver_get_info(s, &info);
    assert_int_equal(info.analyses, 1);
    /* Fresh factorizations: the iterations' (first step) and, when the start repeats (second
     * step), the starting Jacobian's, which is kept: from the third step on the first Newton step
     * needs no factorization. */
    assert_int_equal(info.factorizations, 2);
    assert_int_equal(info.factorizations + info.refactorizations, iterations - (steps - 2));

    w->branches[10].in_service = false;
    pg_pf_result *warm = NULL, *cold = NULL;
    assert_int_equal(pg_pf_solver_solve(s, w, &warm, &err), PG_OK);
    assert_int_equal(pg_pf_solve(w, NULL, &cold, &err), PG_OK);
    pg_pf_solver_get_info(s, &info);
    assert_int_equal(info.analyses, 2);
    for (size_t b = 0; b < w->n_buses; b++)
        assert_near(warm->vm[b], cold->vm[b], 1e-10);
    assert_near(warm->pf[10], 0, 0);
    pg_pf_result_free(warm);
    pg_pf_result_free(cold);
    pg_pf_solver_free(s);
    pg_world_free(w);
}

/* A solver that knows a network checks only what can change between solves (starting voltages,
 * setpoints, injections) while the network stays the same, and everything when it does not: each
 * bad value gets a clear error from a warm solver too, the solver keeps its analysis, and the good
 * world then solves exactly as before. */
static void
test_solver_rechecks_every_solve(void **state)
{
    (void)state;
    pg_world *w = new_world();
    size_t a = add_bus(w, "a", PG_BUS_REF), b = add_bus(w, "b", PG_BUS_PQ);
    size_t l = add_line(w, a, b, 0.02, 0.1, 0.01);
    size_t ld = add_load(w, b, 30, 10);
    size_t g = add_gen(w, a, 0, 1.0, -100, 100);
    pg_renewable u;
    pg_renewable_init(&u);
    u.name = "pv";
    u.bus = b;
    u.rating = 30;
    u.p = 15;
    pg_storage st;
    pg_storage_init(&st);
    st.name = "bat";
    st.bus = b;
    st.p = 5;
    pg_error err = {0};
    assert_int_equal(pg_world_add_renewable(w, &u, NULL, &err), PG_OK);
    assert_int_equal(pg_world_add_storage(w, &st, NULL, &err), PG_OK);
    pg_pf_solver *s = NULL;
    assert_int_equal(pg_pf_solver_new(&s, NULL, &err), PG_OK);
    pg_pf_result *first = NULL, *r = NULL;
    assert_int_equal(pg_pf_solver_solve(s, w, &first, &err), PG_OK);
    assert_true(first->converged);

    /* Inputs of the same network: the warm checks. */
    struct {
        double *field;
        double bad;
        const char *says;
    } inputs[] = {
        {&w->loads[ld].p, NAN, "load1"},
        {&w->loads[ld].q, INFINITY, "load1"},
        {&w->thermals[g].p, NAN, "gen1"},
        {&w->thermals[g].vg, -INFINITY, "gen1"},
        {&w->thermals[g].qmax, NAN, "gen1"},
        {&w->renewables[0].q, NAN, "pv"},
        {&w->storages[0].p, INFINITY, "bat"},
        {&w->buses[b].vm, NAN, "'b'"},
        {&w->buses[a].va, INFINITY, "'a'"},
        /* Network parameters: checked in full because they differ from the known ones. */
        {&w->branches[l].x, NAN, "br1"},
        {&w->buses[b].gs, INFINITY, "'b'"},
        {&w->branches[l].tap, -1, "negative tap"},
    };
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        double keep = *inputs[i].field;
        *inputs[i].field = inputs[i].bad;
        pg_error_clear(&err);
        assert_int_equal(pg_pf_solver_solve(s, w, &r, &err), PG_EMODEL);
        assert_null(r);
        if (!strstr(err.msg, inputs[i].says))
            fail_msg("case %zu: '%s' does not name %s", i, err.msg, inputs[i].says);
        *inputs[i].field = keep;
    }
    /* Indices out of range, in the topology key (units, branch ends) and outside it (loads,
     * renewables, storage), including ones that agree with a valid index in their low 32 bits. */
    size_t huge = ((size_t)1 << 32) + b;
    size_t *indices[] = {&w->loads[ld].bus, &w->renewables[0].bus, &w->storages[0].bus,
                         &w->thermals[g].bus, &w->branches[l].to};
    for (size_t i = 0; i < sizeof indices / sizeof *indices; i++) {
        size_t keep = *indices[i];
        size_t bad[] = {99, huge};
        for (size_t k = 0; k < 2; k++) {
            if (bad[k] == huge && sizeof(size_t) <= 4)
                continue;
            *indices[i] = bad[k];
            pg_error_clear(&err);
            assert_int_equal(pg_pf_solver_solve(s, w, &r, &err), PG_EMODEL);
            assert_null(r);
            if (!strstr(err.msg, "does not exist"))
                fail_msg("index %zu: '%s'", i, err.msg);
        }
        *indices[i] = keep;
    }

    assert_int_equal(pg_pf_solver_solve(s, w, &r, &err), PG_OK);
    for (size_t k = 0; k < w->n_buses; k++) {
        assert_near(r->vm[k], first->vm[k], 0);
        assert_near(r->va[k], first->va[k], 0);
    }
    assert_near(r->loss_p, first->loss_p, 0);
    pg_pf_solver_info info;
    pg_pf_solver_get_info(s, &info);
    assert_int_equal(info.analyses, 1);
    pg_pf_result_free(r);
    pg_pf_result_free(first);
    pg_pf_solver_free(s);
    pg_world_free(w);
}

/* ---------------------------------------------------------------- bad input */

static void
test_bad_input(void **state)
{
    (void)state;
    pg_world *w = new_world();
    size_t a = add_bus(w, "a", PG_BUS_REF), b = add_bus(w, "b", PG_BUS_PQ);
    size_t l = add_line(w, a, b, 0, 0, 0);
    w->branches[l].name[0] = 'Z';
    add_gen(w, a, 0, 1.0, -10, 10);
    pg_pf_result *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_solve(w, NULL, &r, &err), PG_EMODEL);
    assert_null(r);
    assert_non_null(strstr(err.msg, "Zr1"));
    assert_non_null(strstr(err.msg, "zero impedance"));

    w->branches[l].r = 0.01; /* DC needs a reactance */
    pg_pf_options o;
    pg_pf_options_init(&o);
    o.dc = true;
    pg_error_clear(&err);
    assert_int_equal(pg_pf_solve(w, &o, &r, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "zero reactance"));

    w->branches[l].x = 0.1;
    w->buses[b].vm = NAN;
    pg_error_clear(&err);
    assert_int_equal(pg_pf_solve(w, NULL, &r, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "'b'"));
    w->buses[b].vm = 1;

    pg_pf_options_init(&o);
    o.tol = 0;
    assert_int_equal(pg_pf_solve(w, &o, &r, &err), PG_EINVAL);
    o.tol = 1e-8;
    o.max_iter = -1;
    assert_int_equal(pg_pf_solve(w, &o, &r, &err), PG_EINVAL);
    pg_pf_options_init(&o);
    assert_int_equal(pg_pf_solve(w, &o, &r, &err), PG_OK);
    assert_true(r->converged);
    pg_pf_result_free(r);

    /* A world with no buses is not a power system: refused, not "solved". */
    pg_world *empty = new_world();
    r = NULL;
    assert_int_equal(pg_pf_solve(empty, NULL, &r, &err), PG_EMODEL);
    assert_null(r);
    assert_non_null(strstr(err.msg, "no buses"));
    assert_int_equal(pg_pf_solve(empty, &o, &r, &err), PG_EMODEL); /* AC or DC */
    o.dc = true;
    assert_int_equal(pg_pf_solve(empty, &o, &r, &err), PG_EMODEL);
    assert_null(r);
    assert_int_equal(pg_world_validate(empty, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "no buses"));
    pg_world_free(empty);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admittance_closed_form),
        cmocka_unit_test(test_two_bus_closed_form),
        cmocka_unit_test(test_dc_phase_shifter),
        cmocka_unit_test(test_q_limits_reference_bus),
        cmocka_unit_test(test_q_limits_case300),
        cmocka_unit_test(test_q_limits_infeasible),
        cmocka_unit_test(test_island_without_reference),
        cmocka_unit_test(test_reference_without_unit),
        cmocka_unit_test(test_isolated_bus),
        cmocka_unit_test(test_beyond_nose_point),
        cmocka_unit_test(test_units_sharing_a_bus),
        cmocka_unit_test(test_renewables_and_storage_are_injections),
        cmocka_unit_test(test_solver_reuse_across_steps),
        cmocka_unit_test(test_solver_rechecks_every_solve),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
