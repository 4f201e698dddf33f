/* AC and DC power flow of every MATPOWER case in the reference data against the solutions
 * MATPOWER computed (reference/<case>/pf_*.csv, dcpf_*.csv, summary.csv): bus voltages, unit
 * outputs, branch flows at both ends and iteration counts, within the tolerances a 1e-8 p.u.
 * mismatch allows. Also the power balance of each solution and warm solves equal to cold ones. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/io.h"
#include "plurigrid/pf.h"

static const char *const cases[] = {"case9",   "case14",  "case30",    "case57",
                                    "case118", "case300", "case2383wp"};
#define N_CASES (sizeof cases / sizeof *cases)

static pg_world *
load_case(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "matpower/cases/%s.m", name);
    pg_world *w = NULL;
    pg_error err = {0};
    int rc = pg_matpower_read_file(pgt_data_path(rel), &w, NULL, &err);
    if (rc)
        fail_msg("%s: %s", name, err.msg);
    return w;
}

typedef struct table {
    size_t rows, cols;
    double *v;
    char **header;
} table;

static table
read_table(const char *name, const char *file)
{
    char rel[160];
    snprintf(rel, sizeof rel, "matpower/reference/%s/%s", name, file);
    table t;
    t.rows = pgt_read_csv(pgt_data_path(rel), &t.cols, &t.v, &t.header);
    return t;
}

static void
free_table(table *t)
{
    free(t->v);
    pgt_free_header(t->header, t->cols);
}

static double
cell(const table *t, size_t row, const char *col)
{
    return t->v[row * t->cols + pgt_csv_col(t->header, t->cols, col)];
}

/* The reference's iteration count for an analysis ("pf" or "dcpf"). */
static int
ref_iterations(const char *name, const char *analysis)
{
    char rel[160];
    snprintf(rel, sizeof rel, "matpower/reference/%s/summary.csv", name);
    const char *path = pgt_data_path(rel);
    char *text = pgt_slurp(path, NULL);
    char key[32];
    snprintf(key, sizeof key, "\n%s,", analysis);
    char *p = strstr(text, key);
    assert_non_null(p);
    int success = 0, its = -1;
    assert_int_equal(sscanf(p + strlen(key), "%d,%d", &success, &its), 2);
    assert_int_equal(success, 1);
    free(text);
    return its;
}

/* Angles compared modulo 360 degrees. */
static double
angle_diff(double a, double b)
{
    double d = fmod(a - b, 360.0);
    if (d > 180)
        d -= 360;
    if (d < -180)
        d += 360;
    return d;
}

static void
check_against_reference(const char *name, bool dc)
{
    pg_world *w = load_case(name);
    pg_pf_options o;
    pg_pf_options_init(&o);
    o.dc = dc;
    pg_pf_result *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_solve(w, &o, &r, &err), PG_OK);
    if (!r->converged)
        fail_msg("%s %s: did not converge: %s", name, dc ? "dcpf" : "pf", r->reason);
    assert_true(r->all_solved);
    const char *pre = dc ? "dcpf" : "pf";
    char file[64];

    snprintf(file, sizeof file, "%s_bus.csv", pre);
    table tb = read_table(name, file);
    assert_int_equal(tb.rows, w->n_buses);
    for (size_t i = 0; i < tb.rows; i++) {
        assert_int_equal((int)cell(&tb, i, "bus_i"), w->buses[i].number);
        assert_near(r->vm[i], cell(&tb, i, "Vm"), 1e-6);
        assert_near(angle_diff(r->va[i], cell(&tb, i, "Va_deg")), 0, 1e-5);
    }
    free_table(&tb);

    snprintf(file, sizeof file, "%s_gen.csv", pre);
    table tg = read_table(name, file);
    assert_int_equal(tg.rows, w->n_thermals);
    for (size_t g = 0; g < tg.rows; g++) {
        assert_near(r->pg[g], cell(&tg, g, "Pg"), 1e-4);
        assert_near(r->qg[g], cell(&tg, g, "Qg"), 1e-4);
    }
    free_table(&tg);

    snprintf(file, sizeof file, "%s_branch.csv", pre);
    table tl = read_table(name, file);
    assert_int_equal(tl.rows, w->n_branches);
    for (size_t l = 0; l < tl.rows; l++) {
        assert_near(r->pf[l], cell(&tl, l, "Pf"), 1e-4);
        assert_near(r->qf[l], cell(&tl, l, "Qf"), 1e-4);
        assert_near(r->pt[l], cell(&tl, l, "Pt"), 1e-4);
        assert_near(r->qt[l], cell(&tl, l, "Qt"), 1e-4);
    }
    free_table(&tl);

    int its = ref_iterations(name, pre);
    if (abs(r->iterations - its) > 1)
        fail_msg("%s %s: %d iterations, MATPOWER took %d", name, pre, r->iterations, its);

    /* Power balance: what units and injections supply = loads + shunts + series losses. */
    double supplied = r->gen_p + r->inj_p;
    assert_near(supplied, r->load_p + r->shunt_p + r->loss_p, 1e-6 * (1 + supplied));
    if (!dc)
        assert_near(r->gen_q + r->inj_q + r->shunt_q + r->charging_q, r->load_q + r->loss_q,
                    1e-6 * (1 + fabs(r->gen_q)));
    else
        assert_near(r->loss_p, 0, 1e-9);
    pg_pf_result_free(r);
    pg_world_free(w);
}

static void
test_ac_reference(void **state)
{
    (void)state;
    for (size_t c = 0; c < N_CASES; c++)
        check_against_reference(cases[c], false);
}

static void
test_dc_reference(void **state)
{
    (void)state;
    for (size_t c = 0; c < N_CASES; c++)
        check_against_reference(cases[c], true);
}

/* A solver reused on the same world (symbolic analysis and pivots kept) gives the same answer as
 * a fresh one, and does no new analysis. */
static void
test_warm_equals_cold(void **state)
{
    (void)state;
    const char *names[] = {"case118", "case2383wp"};
    for (size_t c = 0; c < 2; c++) {
        pg_world *w = load_case(names[c]);
        pg_pf_solver *s = NULL;
        pg_error err = {0};
        assert_int_equal(pg_pf_solver_new(&s, NULL, &err), PG_OK);
        pg_pf_result *cold = NULL, *warm = NULL;
        assert_int_equal(pg_pf_solver_solve(s, w, &cold, &err), PG_OK);
        pg_pf_solver_info a, b;
        pg_pf_solver_get_info(s, &a);
        assert_int_equal(pg_pf_solver_solve(s, w, &warm, &err), PG_OK);
        pg_pf_solver_get_info(s, &b);
        assert_int_equal(a.analyses, 1);
        assert_int_equal(b.analyses, 1);
        assert_true(b.refactorizations > a.refactorizations);
        assert_true(cold->converged && warm->converged);
        assert_int_equal(cold->iterations, warm->iterations);
        for (size_t i = 0; i < w->n_buses; i++) {
            assert_near(warm->vm[i], cold->vm[i], 1e-10);
            assert_near(warm->va[i], cold->va[i], 1e-8);
        }
        for (size_t l = 0; l < w->n_branches; l++)
            assert_near(warm->pf[l], cold->pf[l], 1e-7);
        pg_pf_result_free(cold);
        pg_pf_result_free(warm);
        pg_pf_solver_free(s);
        pg_world_free(w);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ac_reference),
        cmocka_unit_test(test_dc_reference),
        cmocka_unit_test(test_warm_equals_cold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
