/* DC OPF against MATPOWER's rundcopf on case9, case30, case118 and case300: the objective within
 * 1e-5 relative, every generator's output within 1e-3 MW, and every bus's LMP within 1e-3 $/MWh
 * (the quadratic costs make the dispatch, and here the prices, unique). */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case9),
        cmocka_unit_test(test_case30),
        cmocka_unit_test(test_case118),
        cmocka_unit_test(test_case300),
        cmocka_unit_test(test_network_matches_dc_power_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
