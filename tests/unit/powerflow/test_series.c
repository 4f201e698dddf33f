/* Time-series power flow (pg_pf_series): every step equals the world at that step
 * (pg_world_at_step, thermal setpoints scaled by the step's load) solved from scratch by
 * pg_pf_solve from the previous step's solution, to within the tolerance; the same world and
 * options give the same bits; a step that does not converge is reported and the next one starts
 * again from the world's own start; the DC model, a world without series, the first/count
 * window, and the errors (steps past the end, a series too short, a stop request). */
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

/* w with every load following one series of n hourly values: a daily profile from 0.7 to 1.0,
 * times bump at step bump_at (1 elsewhere). */
static void
add_profile(pg_world *w, size_t n, size_t bump_at, double bump)
{
    double *v = malloc(n * sizeof *v);
    for (size_t h = 0; h < n; h++)
        v[h] = (0.85 + 0.15 * sin(2 * M_PI * (double)(h % 24) / 24.0)) * (h == bump_at ? bump : 1);
    size_t sid;
    pg_error err = {0};
    assert_int_equal(pg_world_add_series(w, "daily", 1.0, v, n, &sid, &err), PG_OK);
    free(v);
    for (size_t i = 0; i < w->n_loads; i++)
        w->loads[i].p_series = w->loads[i].q_series = sid;
}

static pg_pf_summary *
series(const pg_world *w, const pg_pf_series_options *o, size_t *n)
{
    pg_pf_summary *s = NULL;
    pg_error err = {0};
    if (pg_pf_series(w, o, &s, n, &err))
        fail_msg("series: %s", err.msg);
    return s;
}

/* The steps first .. first + n - 1 from scratch, as pg_pf_series documents them. */
static void
check_against_scratch(const pg_world *w, const pg_pf_series_options *o, const pg_pf_summary *s,
                      size_t n)
{
    double nominal = pg_world_load_mw(w, PG_NONE);
    double *vm = malloc(w->n_buses * sizeof *vm), *va = malloc(w->n_buses * sizeof *va);
    bool have = false;
    pg_error err = {0};
    for (size_t k = 0; k < n; k++) {
        size_t step = o->first + k;
        pg_world *ws = NULL;
        assert_int_equal(pg_world_at_step(&ws, w, step, &err), PG_OK);
        if (o->scale_thermals)
            for (size_t g = 0; g < ws->n_thermals; g++)
                ws->thermals[g].p *= pg_world_load_mw(w, step) / nominal;
        for (size_t b = 0; have && b < w->n_buses; b++)
            if (vm[b] > 0) {
                ws->buses[b].vm = vm[b];
                ws->buses[b].va = va[b];
            }
        pg_pf_result *r = NULL;
        assert_int_equal(pg_pf_solve(ws, &o->pf, &r, &err), PG_OK);
        pg_pf_summary ref;
        pg_pf_summarize(ws, r, o->rating, &ref);
        assert_int_equal(s[k].converged, ref.converged);
        if (ref.converged) {
            assert_true(s[k].max_mismatch < o->pf.tol);
            assert_near(s[k].load_p, ref.load_p, 1e-9);
            assert_near(s[k].gen_p, ref.gen_p, 1e-5);
            assert_near(s[k].loss_p, ref.loss_p, 1e-5);
            assert_near(s[k].vm_min, ref.vm_min, 1e-7);
            assert_near(s[k].vm_max, ref.vm_max, 1e-7);
            assert_near(s[k].max_loading, ref.max_loading, 1e-6);
            assert_int_equal(s[k].n_overloads, ref.n_overloads);
            assert_int_equal(s[k].n_voltage_violations, ref.n_voltage_violations);
        }
        have = r->converged;
        memcpy(vm, r->vm, w->n_buses * sizeof *vm);
        memcpy(va, r->va, w->n_buses * sizeof *va);
        pg_pf_result_free(r);
        pg_world_free(ws);
    }
    free(vm);
    free(va);
}

static void
test_case118_day(void **state)
{
    (void)state;
    pg_world *w = load_case("case118");
    add_profile(w, 48, PG_NONE, 1);
    pg_pf_series_options o;
    pg_pf_series_options_init(&o);
    assert_true(o.scale_thermals);
    assert_int_equal(o.first, 0);
    assert_int_equal(o.count, 0);
    size_t n = 0;
    pg_pf_summary *s = series(w, &o, &n);
    assert_int_equal(n, 48);
    check_against_scratch(w, &o, s, n);
    /* generation follows load: the total output moves with the profile */
    assert_true(s[6].gen_p > s[18].gen_p + 100);
    /* the same bits again */
    size_t n2 = 0;
    pg_pf_summary *s2 = series(w, &o, &n2);
    assert_int_equal(n2, n);
    assert_memory_equal(s, s2, n * sizeof *s);
    free(s2);
    /* a window of the series, and the thermals left as they are */
    o.first = 30;
    o.count = 5;
    o.scale_thermals = false;
    o.rating = PG_PF_RATE_C;
    s2 = series(w, &o, &n2);
    assert_int_equal(n2, 5);
    check_against_scratch(w, &o, s2, n2);
    free(s2);
    free(s);
    pg_world_free(w);
}

/* Step 3 asks for eight times the load: case14 has no solution there. The next step starts
 * again from the world's start, as the from-scratch reference does. */
static void
test_diverging_step(void **state)
{
    (void)state;
    pg_world *w = load_case("case14");
    add_profile(w, 8, 3, 8.0);
    pg_pf_series_options o;
    pg_pf_series_options_init(&o);
    size_t n = 0;
    pg_pf_summary *s = series(w, &o, &n);
    assert_int_equal(n, 8);
    assert_false(s[3].converged);
    for (size_t k = 0; k < n; k++)
        if (k != 3)
            assert_true(s[k].converged);
    check_against_scratch(w, &o, s, n);
    free(s);
    pg_world_free(w);
}

static void
test_dc_and_no_series(void **state)
{
    (void)state;
    pg_world *w = load_case("case30");
    pg_pf_series_options o;
    pg_pf_series_options_init(&o);
    size_t n = 0;
    /* no series: one step, the world itself */
    pg_pf_summary *s = series(w, &o, &n);
    assert_int_equal(n, 1);
    pg_pf_result *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_solve(w, NULL, &r, &err), PG_OK);
    pg_pf_summary ref;
    pg_pf_summarize(w, r, PG_PF_RATE_A, &ref);
    assert_near(s[0].loss_p, ref.loss_p, 1e-9);
    assert_near(s[0].vm_min, ref.vm_min, 1e-12);
    assert_int_equal(s[0].iterations, ref.iterations);
    pg_pf_result_free(r);
    free(s);
    /* DC */
    add_profile(w, 24, PG_NONE, 1);
    o.pf.dc = true;
    s = series(w, &o, &n);
    assert_int_equal(n, 24);
    for (size_t k = 0; k < n; k++) {
        assert_true(s[k].converged);
        assert_int_equal(s[k].iterations, 1);
        assert_near(s[k].loss_p, 0, 1e-9);
        assert_near(s[k].vm_min, 1, 0);
    }
    check_against_scratch(w, &o, s, n);
    free(s);
    pg_world_free(w);
}

static void
count_progress(void *user, size_t done, size_t total)
{
    size_t *calls = user;
    assert_int_equal(done, calls[0] + 1);
    calls[0] = done;
    calls[1] = total;
}

static void
test_errors(void **state)
{
    (void)state;
    pg_world *w = load_case("case14");
    add_profile(w, 10, PG_NONE, 1);
    pg_pf_series_options o;
    pg_pf_series_options_init(&o);
    pg_pf_summary *s = NULL;
    size_t n = 0;
    pg_error err = {0};
    o.first = 10;
    assert_int_equal(pg_pf_series(w, &o, &s, &n, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "past the end"));
    o.first = 4;
    o.count = 7;
    assert_int_equal(pg_pf_series(w, &o, &s, &n, &err), PG_EINVAL);
    assert_null(s);
    /* a load whose series is shorter than the others */
    double v[3] = {1, 1, 1};
    size_t sid;
    assert_int_equal(pg_world_add_series(w, "short", 1.0, v, 3, &sid, &err), PG_OK);
    w->loads[0].p_series = sid;
    o.first = 0;
    o.count = 0;
    assert_int_equal(pg_pf_series(w, &o, &s, &n, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "short"));
    o.count = 3; /* the steps it has are fine */
    assert_int_equal(pg_pf_series(w, &o, &s, &n, &err), PG_OK);
    assert_int_equal(n, 3);
    free(s);
    s = NULL;
    /* stop, progress */
    volatile int stop = 1;
    o.stop = &stop;
    assert_int_equal(pg_pf_series(w, &o, &s, &n, &err), PG_ECANCELED);
    assert_null(s);
    o.stop = NULL;
    size_t calls[2] = {0, 0};
    o.progress = count_progress;
    o.progress_user = calls;
    assert_int_equal(pg_pf_series(w, &o, &s, &n, &err), PG_OK);
    assert_int_equal(calls[0], 3);
    assert_int_equal(calls[1], 3);
    free(s);
    /* bad solver options */
    pg_pf_series_options_init(&o);
    o.pf.tol = -1;
    o.count = 1;
    assert_int_equal(pg_pf_series(w, &o, &s, &n, &err), PG_EINVAL);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case118_day),
        cmocka_unit_test(test_diverging_step),
        cmocka_unit_test(test_dc_and_no_series),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
