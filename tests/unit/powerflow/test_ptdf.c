/* Power-transfer distribution factors (pg_pf_ptdf): on MATPOWER's cases, flows from the PTDFs
 * times the buses' net injections equal the DC power flow's flows; on a small network, the closed
 * form of a triangle, taps, phase shifters, branches out of service, isolated buses and islands;
 * bad worlds and every allocation failing in turn. */
#include <limits.h>

#include "harness.h"

#include "plurigrid/io.h"
#include "plurigrid/pf.h"

static pg_world *
load_case(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "matpower/cases/%s.m", name);
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_matpower_read_file(pgt_data_path(rel), &w, NULL, &err))
        fail_msg("%s: %s", name, err.msg);
    return w;
}

/* Net injection at every bus as the DC power flow sees it, MW: units (the solved outputs, slack
 * included), renewables and storage, minus loads and shunt conductance. */
static void
net_injections(const pg_world *w, const pg_pf_result *r, double *p)
{
    for (size_t b = 0; b < w->n_buses; b++)
        p[b] = -w->buses[b].gs;
    for (size_t g = 0; g < w->n_thermals; g++)
        p[w->thermals[g].bus] += r->pg[g];
    for (size_t i = 0; i < w->n_renewables; i++)
        if (w->renewables[i].in_service)
            p[w->renewables[i].bus] += w->renewables[i].p;
    for (size_t i = 0; i < w->n_storages; i++)
        if (w->storages[i].in_service)
            p[w->storages[i].bus] += w->storages[i].p;
    for (size_t i = 0; i < w->n_loads; i++)
        if (w->loads[i].in_service)
            p[w->loads[i].bus] -= w->loads[i].p;
}

/* Largest |PTDF p + offset - DC flow| over the branches. */
static double
worst_flow_error(const pg_world *w, const double *ptdf, const double *offset)
{
    pg_pf_options o;
    pg_pf_options_init(&o);
    o.dc = true;
    pg_pf_result *r = NULL;
    pg_error err = {0};
    if (pg_pf_solve(w, &o, &r, &err))
        fail_msg("DC power flow: %s", err.msg);
    assert_true(r->all_solved);
    size_t nb = w->n_buses;
    double *p = calloc(nb, sizeof *p);
    net_injections(w, r, p);
    double worst = 0;
    for (size_t l = 0; l < w->n_branches; l++) {
        double f = offset ? offset[l] : 0;
        for (size_t b = 0; b < nb; b++)
            f += ptdf[l * nb + b] * p[b];
        double e = fabs(f - r->pf[l]);
        if (e > worst)
            worst = e;
    }
    free(p);
    pg_pf_result_free(r);
    return worst;
}

static void
test_matpower_cases(void **state)
{
    (void)state;
    static const char *cases[] = {"case9", "case14", "case30", "case57", "case118", "case300"};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        pg_world *w = load_case(cases[c]);
        double *ptdf = NULL;
        pg_error err = {0};
        if (pg_pf_ptdf(w, &ptdf, &err))
            fail_msg("%s: %s", cases[c], err.msg);
        double worst = worst_flow_error(w, ptdf, NULL);
        if (worst > 1e-9)
            fail_msg("%s: PTDF flows differ from the DC power flow by %g MW", cases[c], worst);
        /* the reference bus's column is zero */
        for (size_t b = 0; b < w->n_buses; b++)
            if (w->buses[b].type == PG_BUS_REF)
                for (size_t l = 0; l < w->n_branches; l++)
                    assert_true(ptdf[l * w->n_buses + b] == 0.0);
        free(ptdf);
        pg_world_free(w);
    }
}

/* A triangle of equal reactances (buses 0 ref, 1, 2; branches 0-1, 1-2, 0-2), plus bus 3 hung off
 * bus 2 by a transformer, bus 4 isolated, and an island of buses 5-6 with its own reference. */
static pg_world *
small_world(void)
{
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_new(&w, "small", 100, &err), PG_OK);
    for (int i = 0; i < 7; i++) {
        pg_bus b;
        pg_bus_init(&b);
        char name[16];
        snprintf(name, sizeof name, "b%d", i);
        b.name = name;
        b.number = i + 1;
        b.base_kv = 12.47;
        b.type = (i == 0 || i == 5) ? PG_BUS_REF : i == 4 ? PG_BUS_ISOLATED : PG_BUS_PQ;
        assert_int_equal(pg_world_add_bus(w, &b, NULL, &err), PG_OK);
    }
    static const struct {
        int f, t;
        double x, tap, shift;
        bool on;
    } br[] = {
        {0, 1, 0.1, 1, 0, true},    {1, 2, 0.1, 1, 0, true},  {0, 2, 0.1, 1, 0, true},
        {2, 3, 0.2, 0.95, 0, true}, {1, 3, 0.3, 1, 0, false}, {3, 4, 0.1, 1, 0, true},
        {5, 6, 0.05, 1, 0, true},
    };
    for (size_t i = 0; i < sizeof br / sizeof *br; i++) {
        pg_branch b;
        pg_branch_init(&b);
        char name[16];
        snprintf(name, sizeof name, "l%zu", i);
        b.name = name;
        b.from = (size_t)br[i].f;
        b.to = (size_t)br[i].t;
        b.r = 0.01;
        b.x = br[i].x;
        b.tap = br[i].tap;
        b.shift = br[i].shift;
        b.kind = br[i].tap != 1 ? PG_BRANCH_TRANSFORMER : PG_BRANCH_LINE;
        b.in_service = br[i].on;
        assert_int_equal(pg_world_add_branch(w, &b, NULL, &err), PG_OK);
    }
    int gen_bus[] = {0, 5};
    for (int i = 0; i < 2; i++) {
        pg_thermal t;
        pg_thermal_init(&t);
        char name[16];
        snprintf(name, sizeof name, "g%d", i);
        t.name = name;
        t.bus = (size_t)gen_bus[i];
        t.pmax = 100;
        assert_int_equal(pg_world_add_thermal(w, &t, NULL, &err), PG_OK);
    }
    double load[][2] = {{1, 3}, {2, 1.5}, {3, 2}, {6, 4}};
    for (int i = 0; i < 4; i++) {
        pg_load l;
        pg_load_init(&l);
        char name[16];
        snprintf(name, sizeof name, "d%d", i);
        l.name = name;
        l.bus = (size_t)load[i][0];
        l.p = load[i][1];
        assert_int_equal(pg_world_add_load(w, &l, NULL, &err), PG_OK);
    }
    return w;
}

static void
test_closed_form(void **state)
{
    (void)state;
    pg_world *w = small_world();
    double *ptdf = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_ptdf(w, &ptdf, &err), PG_OK);
    size_t nb = 7;
#define F(l, b) ptdf[(l)*nb + (b)]
    /* 1 MW in at bus 1, out at bus 0: 2/3 on the direct branch (against its direction), 1/3
     * around through bus 2 */
    assert_near(F(0, 1), -2.0 / 3, 1e-12);
    assert_near(F(1, 1), 1.0 / 3, 1e-12);
    assert_near(F(2, 1), -1.0 / 3, 1e-12);
    assert_near(F(0, 2), -1.0 / 3, 1e-12);
    assert_near(F(1, 2), -1.0 / 3, 1e-12);
    assert_near(F(2, 2), -2.0 / 3, 1e-12);
    /* bus 3 hangs off bus 2 (radially, the other branch is out): all of it flows to bus 3's
     * transformer, tap or not, and then as from bus 2 */
    assert_near(F(3, 3), -1.0, 1e-12);
    for (size_t l = 0; l < 3; l++)
        assert_near(F(l, 3), F(l, 2), 1e-12);
    for (size_t b = 0; b < nb; b++) {
        assert_true(F(4, b) == 0.0); /* out of service */
        assert_true(F(5, b) == 0.0); /* to the isolated bus */
    }
    for (size_t l = 0; l < 7; l++) {
        assert_true(F(l, 0) == 0.0); /* references */
        assert_true(F(l, 5) == 0.0);
        assert_true(F(l, 4) == 0.0); /* isolated */
    }
    /* the other island: only its own branch moves */
    assert_near(F(6, 6), -1.0, 1e-12);
    for (size_t l = 0; l < 6; l++)
        assert_true(F(l, 6) == 0.0);
    assert_near(worst_flow_error(w, ptdf, NULL), 0, 1e-12);
#undef F
    free(ptdf);

    /* A phase shifter on branch 1-2: the factors see the DC model's branch susceptances only,
     * and the flows are the factors' plus what the shifter drives with no injection. */
    w->branches[1].shift = 5;
    w->branches[1].kind = PG_BRANCH_TRANSFORMER;
    assert_int_equal(pg_pf_ptdf(w, &ptdf, &err), PG_OK);
    pg_world *w0 = NULL;
    assert_int_equal(pg_world_clone(&w0, w, &err), PG_OK);
    for (size_t i = 0; i < w0->n_loads; i++)
        w0->loads[i].p = 0;
    pg_pf_options o;
    pg_pf_options_init(&o);
    o.dc = true;
    pg_pf_result *r0 = NULL;
    assert_int_equal(pg_pf_solve(w0, &o, &r0, &err), PG_OK);
    assert_true(fabs(r0->pf[1]) > 1); /* the shifter drives a loop flow */
    assert_near(worst_flow_error(w, ptdf, r0->pf), 0, 1e-10);
    pg_pf_result_free(r0);
    pg_world_free(w0);
    free(ptdf);
    pg_world_free(w);
}

static void
test_bad_worlds(void **state)
{
    (void)state;
    pg_error err = {0};
    double *ptdf = (double *)&err;
    assert_int_equal(pg_pf_ptdf(NULL, &ptdf, &err), PG_EINVAL);
    pg_world *w = small_world();
    assert_int_equal(pg_pf_ptdf(w, NULL, &err), PG_EINVAL);
    w->branches[2].x = 0;
    w->branches[2].r = 0;
    assert_int_equal(pg_pf_ptdf(w, &ptdf, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "l2"));
    w->branches[2].r = 0.01;
    assert_int_equal(pg_pf_ptdf(w, &ptdf, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "zero reactance"));
    w->branches[2].x = NAN;
    assert_int_equal(pg_pf_ptdf(w, &ptdf, &err), PG_EMODEL);
    w->branches[2].x = 0.1;
    w->branches[0].from = 99;
    assert_int_equal(pg_pf_ptdf(w, &ptdf, &err), PG_EMODEL);
    assert_ptr_equal(ptdf, (double *)&err); /* untouched */
    pg_world_free(w);
}

static void
test_alloc_failures(void **state)
{
    (void)state;
    pg_world *w = load_case("case30");
    pg_error err = {0};
    double *ptdf = NULL;
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pg_pf_ptdf(w, &ptdf, &err), PG_OK);
    long total = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    free(ptdf);
    assert_true(total > 3);
    for (long k = 0; k < total; k++) {
        ptdf = NULL;
        pgt_alloc_fail_after(k);
        int rc = pg_pf_ptdf(w, &ptdf, &err);
        pgt_alloc_fail_after(-1);
        if (rc != PG_ENOMEM)
            fail_msg("allocation %ld failing gave %d (%s)", k, rc, err.msg);
        assert_null(ptdf);
    }
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matpower_cases),
        cmocka_unit_test(test_closed_form),
        cmocka_unit_test(test_bad_worlds),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
