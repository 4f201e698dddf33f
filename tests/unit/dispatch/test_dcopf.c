/* DC OPF against MATPOWER's rundcopf on case9, case30, case118 and case300: the objective within
 * 1e-5 relative, every generator's output within 1e-3 MW, and every bus's LMP within 1e-3 $/MWh
 * (the quadratic costs make the dispatch, and here the prices, unique). */
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../bench/feeder.h"
#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"

/* The dcopf row's objective in summary.csv (analysis,success,iterations,objective). */
static double
summary_objective(const char *dir)
{
    char rel[256];
    snprintf(rel, sizeof rel, "matpower/reference/%s/summary.csv", dir);
    char *text = pgt_slurp(pgt_data_path(rel), NULL);
    double obj = NAN;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "dcopf,", 6) != 0)
            continue;
        char *last = strrchr(line, ',');
        obj = strtod(last + 1, NULL);
    }
    free(text);
    if (isnan(obj))
        fail_msg("%s has no dcopf row", rel);
    return obj;
}

static void
check_case(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "matpower/cases/%s.m", name);
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_matpower_read_file(pgt_data_path(rel), &w, NULL, &err) != PG_OK)
        fail_msg("%s: %s", name, err.msg);
    pg_dcopf_result *r = NULL;
    if (pg_dcopf_solve(w, NULL, &r, &err) != PG_OK)
        fail_msg("%s: %s", name, err.msg);

    double obj = summary_objective(name);
    if (fabs(r->objective - obj) > 1e-5 * fabs(obj))
        fail_msg("%s: objective %.10g, MATPOWER %.10g", name, r->objective, obj);
    assert_near(r->unserved_mw, 0, 1e-9);

    size_t nc = 0;
    double *v = NULL;
    char **hdr = NULL;
    snprintf(rel, sizeof rel, "matpower/reference/%s/dcopf_gen.csv", name);
    size_t rows = pgt_read_csv(pgt_data_path(rel), &nc, &v, &hdr);
    assert_int_equal(rows, w->n_thermals);
    size_t cp = pgt_csv_col(hdr, nc, "Pg");
    double worst = 0;
    for (size_t g = 0; g < rows; g++)
        worst = fmax(worst, fabs(r->pg[g] - v[g * nc + cp]));
    if (worst > 1e-3)
        fail_msg("%s: largest Pg difference %.3g MW", name, worst);
    free(v);
    pgt_free_header(hdr, nc);

    snprintf(rel, sizeof rel, "matpower/reference/%s/dcopf_bus.csv", name);
    rows = pgt_read_csv(pgt_data_path(rel), &nc, &v, &hdr);
    assert_int_equal(rows, w->n_buses);
    size_t cl = pgt_csv_col(hdr, nc, "lam_P"), ca = pgt_csv_col(hdr, nc, "Va_deg");
    double worst_lmp = 0, worst_va = 0;
    for (size_t b = 0; b < rows; b++) {
        worst_lmp = fmax(worst_lmp, fabs(r->lmp[b] - v[b * nc + cl]));
        worst_va = fmax(worst_va, fabs(r->va[b] - v[b * nc + ca]));
    }
    if (worst_lmp > 1e-3)
        fail_msg("%s: largest LMP difference %.3g $/MWh", name, worst_lmp);
    if (worst_va > 1e-3)
        fail_msg("%s: largest angle difference %.3g degrees", name, worst_va);
    free(v);
    pgt_free_header(hdr, nc);

    print_message("%s: objective %.8g (MATPOWER %.8g), max |dPg| %.2g MW, max |dLMP| %.2g "
                  "$/MWh, %.1f ms\n",
                  name, r->objective, obj, worst, worst_lmp, r->seconds * 1e3);
    pg_dcopf_result_free(r);
    pg_world_free(w);
}

static void
test_case9(void **state)
{
    (void)state;
    check_case("case9");
}

static void
test_case30(void **state)
{
    (void)state;
    check_case("case30");
}

static void
test_case118(void **state)
{
    (void)state;
    check_case("case118");
}

static void
test_case300(void **state)
{
    (void)state;
    check_case("case300");
}

/* The network model against MATPOWER's DC power flow of case2383wp (taps, six phase shifters,
 * shunt conductance, 514 independent loops): with every unit held at its case output except those
 * at the reference bus, which take up the rest, the dispatch is the power flow, and its branch
 * flows and bus angles must be MATPOWER's. */
static void
test_network_matches_dc_power_flow(void **state)
{
    (void)state;
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_matpower_read_file(pgt_data_path("matpower/cases/case2383wp.m"), &w, NULL, &err))
        fail_msg("%s", err.msg);
    for (size_t g = 0; g < w->n_thermals; g++) {
        pg_thermal *t = &w->thermals[g];
        if (w->buses[t->bus].type == PG_BUS_REF) {
            t->pmin = -1e5;
            t->pmax = 1e5;
        } else {
            t->pmin = t->pmax = t->p;
        }
    }
    for (size_t k = 0; k < w->n_branches; k++) {
        w->branches[k].rate_a = 0;
        w->branches[k].angmin = -360;
        w->branches[k].angmax = 360;
    }
    pg_dcopf_result *r = NULL;
    if (pg_dcopf_solve(w, NULL, &r, &err) != PG_OK)
        fail_msg("%s", err.msg);
    size_t nc = 0;
    double *v = NULL;
    char **hdr = NULL;
    size_t rows =
        pgt_read_csv(pgt_data_path("matpower/reference/case2383wp/dcpf_branch.csv"), &nc, &v, &hdr);
    assert_int_equal(rows, w->n_branches);
    size_t cpf = pgt_csv_col(hdr, nc, "Pf");
    double worst = 0;
    for (size_t k = 0; k < rows; k++)
        worst = fmax(worst, fabs(r->flow[k] - v[k * nc + cpf]));
    free(v);
    pgt_free_header(hdr, nc);
    rows = pgt_read_csv(pgt_data_path("matpower/reference/case2383wp/dcpf_bus.csv"), &nc, &v, &hdr);
    assert_int_equal(rows, w->n_buses);
    size_t cva = pgt_csv_col(hdr, nc, "Va_deg");
    double worst_va = 0;
    for (size_t b = 0; b < rows; b++)
        worst_va = fmax(worst_va, fabs(r->va[b] - v[b * nc + cva]));
    free(v);
    pgt_free_header(hdr, nc);
    print_message("case2383wp DC network: max |dPf| %.2g MW, max |dVa| %.2g degrees\n", worst,
                  worst_va);
    if (worst > 1e-4)
        fail_msg("largest branch flow difference %.3g MW", worst);
    if (worst_va > 1e-5)
        fail_msg("largest angle difference %.3g degrees", worst_va);
    pg_dcopf_result_free(r);
    pg_world_free(w);
}

/* A generated radial feeder of 3000 buses with one generator and ratings that never bind has a
 * closed-form answer: the generator carries the whole load, each branch carries the load of every
 * bus below it, every LMP is the generator's marginal cost c1 + 2 c2 P at that output, no branch
 * has a price, and each bus's angle is its parent's less flow x / base_mva. The schedule of the
 * `run` path (pg_dispatch_run) has the same flows. */
static void
test_radial_feeder_closed_form(void **state)
{
    (void)state;
    const size_t n = 3000;
    size_t *parent = malloc(n * sizeof *parent);
    double *down = calloc(n, sizeof *down);
    assert_non_null(parent);
    assert_non_null(down);
    pg_error err = {0};
    pg_world *w = feeder_make(n, 7, true, parent, &err);
    if (!w)
        fail_msg("%s", err.msg);
    assert_int_equal(w->n_branches, n - 1);
    double load = 0;
    for (size_t i = 0; i < w->n_loads; i++) {
        down[w->loads[i].bus] += w->loads[i].p;
        load += w->loads[i].p;
    }
    for (size_t i = n; i-- > 1;)
        down[parent[i]] += down[i];
    pg_dcopf_result *r = NULL;
    if (pg_dcopf_solve(w, NULL, &r, &err) != PG_OK)
        fail_msg("%s", err.msg);
    double lmp = FEEDER_C1 + 2 * FEEDER_C2 * load;
    assert_near(r->pg[0], load, 1e-6);
    assert_near(r->objective, FEEDER_C1 * load + FEEDER_C2 * load * load, 1e-6 * load);
    assert_near(r->unserved_mw, 0, 1e-9);
    for (size_t b = 0; b < n; b++)
        assert_near(r->lmp[b], lmp, 1e-6);
    assert_near(r->va[0], 0, 1e-12);
    for (size_t k = 0; k < w->n_branches; k++) {
        const pg_branch *br = &w->branches[k];
        assert_int_equal(br->from, parent[br->to]);
        assert_near(r->flow[k], down[br->to], 1e-6);
        assert_near(r->branch_price[k], 0, 0);
        double drop = r->flow[k] * br->x / w->base_mva * 180 / M_PI;
        assert_near(r->va[br->to], r->va[br->from] - drop, 1e-7);
    }
    pg_dispatch_result *d = NULL;
    if (pg_dispatch_run(w, NULL, &d, &err) != PG_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(d->n_steps, 1);
    assert_near(d->thermal_p[0], load, 1e-6);
    for (size_t k = 0; k < w->n_branches; k++)
        assert_near(d->branch_flow[k], r->flow[k], 1e-6);
    pg_dispatch_result_free(d);
    pg_dcopf_result_free(r);
    pg_world_free(w);
    free(parent);
    free(down);
}

/* The DC OPF grows like the network, not like its square: a 20000-bus radial feeder solves in
 * well under a second of processor time (it took 2.4 s when the QP was solved without presolve,
 * whose work grows as the square of the buses: 19 s at 50000 buses). */
static void
test_radial_feeder_scales(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_world *w = feeder_make(20000, 3, false, NULL, &err);
    if (!w)
        fail_msg("%s", err.msg);
    pg_dcopf_result *r = NULL;
    clock_t c0 = clock();
    if (pg_dcopf_solve(w, NULL, &r, &err) != PG_OK)
        fail_msg("%s", err.msg);
    double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    print_message("20000-bus feeder: DC OPF in %.3f s of processor time\n", cpu);
    double load = pg_world_load_mw(w, PG_NONE);
    assert_near(r->pg[0], load, 1e-6);
    if (cpu > 1.5)
        fail_msg("the DC OPF of a 20000-bus feeder took %.2f s of processor time (> 1.5 s)", cpu);
    pg_dcopf_result_free(r);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case9),
        cmocka_unit_test(test_case30),
        cmocka_unit_test(test_case118),
        cmocka_unit_test(test_case300),
        cmocka_unit_test(test_network_matches_dc_power_flow),
        cmocka_unit_test(test_radial_feeder_closed_form),
        cmocka_unit_test(test_radial_feeder_scales),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
