/* The generator: a world is a function of (recipe, seed, index); 1000 lv-feeder worlds from a
 * fixed seed are kept, each validating, converging and scheduling (checked again here on a
 * sample), with the same files and manifest whatever the number of threads; the distributions
 * of feeder length, peak load, PV share, segment lengths and transformer sizes over 1000 worlds
 * match the documented parameters within 4 standard errors; the manifest reads back and
 * reproduces its worlds from their ids; a world that cannot carry its load is dropped with its
 * reason; bad options are refused. Under the sanitizers (some ten times slower) the 1000-world
 * tests use 150 worlds. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"
#include "plurigrid/pf.h"
#include "plurigrid/worlds.h"
#include "worlds/internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define N_WORLDS 150
#else
#define N_WORLDS 1000
#endif

static void
fail_err(const char *what, pg_error *err)
{
    char buf[1200];
    fail_msg("%s: %s", what, pg_error_format(err, buf, sizeof buf));
}

static pg_recipe *
recipe_of(const char *kind)
{
    pg_error err = {0};
    pg_recipe *r = NULL;
    if (pg_recipe_default(&r, kind, &err))
        fail_err(kind, &err);
    return r;
}

static pg_recipe *
recipe_text(const char *text)
{
    pg_error err = {0};
    pg_recipe *r = NULL;
    if (pg_recipe_parse(&r, text, strlen(text), "test recipe", &err))
        fail_err("recipe", &err);
    return r;
}

static char *
slurp(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    pg_error err = {0};
    if (pg_input_read(path, PG_INPUT_MAX, &data, &len, &err))
        fail_err(path, &err);
    return data;
}

/* ---------------------------------------------------------------- determinism */

static void
test_make_is_a_function_of_seed_and_index(void **state)
{
    (void)state;
    pg_recipe *r = recipe_of("lv-feeder");
    pg_error err = {0};
    pg_world *a = NULL, *b = NULL, *c = NULL;
    if (pg_worlds_make(&a, r, 7, 3, NULL, &err) || pg_worlds_make(&b, r, 7, 3, NULL, &err) ||
        pg_worlds_make(&c, r, 7, 4, NULL, &err))
        fail_err("make", &err);
    char diff[256];
    assert_true(pg_world_equal(a, b, diff, sizeof diff));
    assert_false(pg_world_equal(a, c, diff, sizeof diff));
    assert_string_equal(a->name, "lv-feeder-7-3");
    assert_int_equal(pg_world_validate(a, &err), PG_OK);
    pg_world_free(a);
    pg_world_free(b);
    pg_world_free(c);
    pg_recipe_free(r);
}

/* ---------------------------------------------------------------- statistics */

static double
phi(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* Mean of a lognormal(mu, s) cut to [a, b]. */
static double
trunc_lognormal_mean(double mu, double s, double a, double b)
{
    double la = log(a), lb = log(b);
    double den = phi((lb - mu) / s) - phi((la - mu) / s);
    double num = phi((lb - mu - s * s) / s) - phi((la - mu - s * s) / s);
    return exp(mu + s * s / 2) * num / den;
}

/* The quantile q of a lognormal(mu, s) cut to [a, b] (bisection on its distribution function). */
static double
trunc_lognormal_quantile(double mu, double s, double a, double b, double q)
{
    double pa = phi((log(a) - mu) / s), pb = phi((log(b) - mu) / s);
    double lo = log(a), hi = log(b);
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        double p = (phi((mid - mu) / s) - pa) / (pb - pa);
        if (p < q)
            lo = mid;
        else
            hi = mid;
    }
    return exp(0.5 * (lo + hi));
}

typedef struct stats {
    double sum, sum2;
    size_t n;
} stats;

static void
add(stats *s, double x)
{
    s->sum += x;
    s->sum2 += x * x;
    s->n++;
}

/* The sample mean lies within 4 standard errors of expected. */
static void
check_mean(const char *what, const stats *s, double expected)
{
    double mean = s->sum / (double)s->n;
    double var = (s->sum2 - s->n * mean * mean) / (double)(s->n - 1);
    double se = sqrt(var / (double)s->n);
    printf("# %s: mean %.5g, expected %.5g, standard error %.3g (%zu samples)\n", what, mean,
           expected, se, s->n);
    if (fabs(mean - expected) > 4 * se)
        fail_msg("%s: the mean %.6g is %.2f standard errors from the documented %.6g", what, mean,
                 fabs(mean - expected) / se, expected);
}

/* The share of samples below the documented quantile q lies within 4 binomial standard errors of
 * q. */
static void
check_quantile(const char *what, const double *x, size_t n, double q, double at)
{
    size_t below = 0;
    for (size_t i = 0; i < n; i++)
        below += x[i] < at;
    double share = (double)below / (double)n, se = sqrt(q * (1 - q) / (double)n);
    printf("# %s: %.4f of %zu below %.4g, expected %.2f (se %.4f)\n", what, share, n, at, q, se);
    if (fabs(share - q) > 4 * se)
        fail_msg("%s: %.4f of the samples lie below the documented %.0f %% quantile %.5g", what,
                 share, q * 100, at);
}

/* Draws N_WORLDS lv-feeder worlds of the default recipe and compares them with the parameters the
 * kind documents (kind_lv.c, docs/worlds.md): per world, the total feeder length (sum over
 * feeders and households of the segment length), the nominal peak load (the household peaks)
 * and the share of households with PV; over all worlds, the quartiles of segment lengths and the
 * median PV system, and the transformer sizes' frequencies. */
static void
test_lv_distributions_match_the_documented_parameters(void **state)
{
    (void)state;
    pg_recipe *r = recipe_of("lv-feeder");
    pgi_profiles *prof = NULL;
    pg_error err = {0};
    if (pgi_profiles_open(&prof, NULL, &err))
        fail_err("profiles", &err);
    stats km = {0}, load = {0}, pv = {0}, feeders = {0};
    size_t cap = 100000, n_seg = 0, n_kwp = 0, n_t[3] = {0, 0, 0};
    double *seg = malloc(cap * sizeof *seg), *kwp = malloc(cap * sizeof *kwp);
    assert_non_null(seg);
    assert_non_null(kwp);
    for (size_t i = 0; i < N_WORLDS; i++) {
        pg_world *w = NULL;
        if (pg_worlds_make(&w, r, 2024, i, NULL, &err))
            fail_err("make", &err);
        double total_km = 0;
        size_t n_feeders = 0;
        for (size_t k = 0; k < w->n_branches; k++) {
            const pg_branch *b = &w->branches[k];
            if (b->kind == PG_BRANCH_TRANSFORMER) {
                double s = b->rate_a * 1000;
                n_t[0] += fabs(s - 250) < 1e-6;
                n_t[1] += fabs(s - 400) < 1e-6;
                n_t[2] += fabs(s - 630) < 1e-6;
                continue;
            }
            /* Both NAYY types have 0.080 ohm/km; the base impedance is 0.4^2 / 1 MVA. */
            double m = b->x * (0.4 * 0.4 / w->base_mva) / 0.080 * 1000.0;
            total_km += m / 1000.0;
            if (n_seg < cap)
                seg[n_seg++] = m;
            n_feeders +=
                w->buses[b->from].base_kv == 0.4 && strcmp(w->buses[b->from].name, "lv") == 0;
        }
        double peak = 0;
        for (size_t k = 0; k < w->n_loads; k++)
            peak += w->loads[k].p * 1000;
        for (size_t k = 0; k < w->n_renewables && n_kwp < cap; k++)
            kwp[n_kwp++] = w->renewables[k].rating * 1000;
        add(&km, total_km);
        add(&load, peak);
        add(&pv, (double)w->n_renewables / (double)w->n_loads);
        add(&feeders, (double)n_feeders);
        pg_world_free(w);
    }
    /* Documented: feeders int 2..4, households a feeder int 6..18, segment lognormal(3.4, 0.45)
     * m cut to [8, 200], household peak lognormal(0, 0.35) kW cut to [0.3, 4], PV on a share
     * uniform 0.1..0.5 of the households, PV lognormal(1.8, 0.35) kWp cut to [2, 30]. */
    double e_seg = trunc_lognormal_mean(3.4, 0.45, 8, 200);
    double e_peak = trunc_lognormal_mean(0, 0.35, 0.3, 4);
    check_mean("feeders", &feeders, 3.0);
    check_mean("feeder length, km", &km, 3.0 * 12.0 * e_seg / 1000.0);
    check_mean("peak load, kW", &load, 3.0 * 12.0 * e_peak);
    check_mean("share of households with PV", &pv, 0.3);
    for (int q = 1; q <= 3; q++)
        check_quantile("segment length", seg, n_seg, q / 4.0,
                       trunc_lognormal_quantile(3.4, 0.45, 8, 200, q / 4.0));
    check_quantile("PV system", kwp, n_kwp, 0.5, trunc_lognormal_quantile(1.8, 0.35, 2, 30, 0.5));
    double w_t[3] = {0.3, 0.45, 0.25};
    for (int k = 0; k < 3; k++) {
        double share = (double)n_t[k] / N_WORLDS, se = sqrt(w_t[k] * (1 - w_t[k]) / N_WORLDS);
        printf("# transformer %d: share %.3f, expected %.2f\n", k, share, w_t[k]);
        assert_true(fabs(share - w_t[k]) <= 4 * se);
    }
    free(seg);
    free(kwp);
    pgi_profiles_free(prof);
    pg_recipe_free(r);
}

/* ---------------------------------------------------------------- generating with checks */

static void
test_1000_worlds_kept_checked_and_reproducible(void **state)
{
    (void)state;
    pg_recipe *r = recipe_of("lv-feeder");
    pg_worlds_options o;
    pg_worlds_options_init(&o);
    o.seed = 42;
    o.count = N_WORLDS;
    o.threads = 2;
    const char *dir = pgt_tmp("lv1000");
    pg_worlds_manifest *m = NULL;
    pg_error err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (pg_worlds_generate(r, dir, &o, &m, &err))
        fail_err("generate", &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("# %d lv-feeder worlds generated and checked in %.2f s on 2 threads (%zu dropped)\n",
           N_WORLDS, s, m->n_dropped);
    assert_int_equal(m->n_kept, N_WORLDS);
    /* Dropping is the exception for the default recipe. */
    assert_true(m->n_dropped <= N_WORLDS / 20);
    /* Every kept world's file is the world of its id; every 25th is checked again here. */
    pg_worlds_manifest *back = NULL;
    if (pg_worlds_manifest_read(&back, dir, &err))
        fail_err("manifest", &err);
    assert_int_equal(back->n_entries, m->n_entries);
    assert_int_equal(back->n_kept, m->n_kept);
    assert_true(back->seed == 42);
    assert_string_equal(back->recipe_name, "lv-feeder");
    size_t checked = 0;
    for (size_t i = 0; i < back->n_entries; i++) {
        const pg_worlds_entry *e = &back->entries[i];
        assert_string_equal(e->id, m->entries[i].id);
        assert_int_equal(e->dropped, m->entries[i].dropped);
        if (e->dropped) {
            assert_true(strlen(e->reason) > 0);
            continue;
        }
        if (i % 25)
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->file);
        pg_world *f = NULL, *w = NULL;
        if (pg_world_json_read_file(path, &f, NULL, &err))
            fail_err(path, &err);
        if (pg_worlds_reproduce(&w, back, e->id, NULL, &err))
            fail_err(e->id, &err);
        char diff[256];
        if (!pg_world_equal(f, w, diff, sizeof diff))
            fail_msg("%s: the file differs from the reproduced world: %s", e->id, diff);
        assert_int_equal(e->n_buses, w->n_buses);
        pg_pf_result *pf = NULL;
        if (pg_pf_solve(w, NULL, &pf, &err))
            fail_err("pf", &err);
        assert_true(pf->converged && pf->all_solved);
        pg_dispatch_result *d = NULL;
        if (pg_dispatch_run(w, NULL, &d, &err))
            fail_err("dispatch", &err);
        assert_true(d->total_unserved_mwh < 1e-6);
        assert_int_equal(d->n_steps, 24);
        pg_dispatch_result_free(d);
        pg_pf_result_free(pf);
        pg_world_free(f);
        pg_world_free(w);
        checked++;
    }
    assert_true(checked >= N_WORLDS / 25 - 2);
    pg_worlds_manifest_free(back);
    pg_worlds_manifest_free(m);
    pg_recipe_free(r);
}

/* 1, 2 and 3 threads write the same bytes. */
static void
test_same_files_whatever_the_threads(void **state)
{
    (void)state;
    pg_recipe *r = recipe_of("mv-grid");
    const int threads[] = {1, 2, 3};
    char *manifest[3] = {0};
    char dirs[3][512];
    pg_worlds_manifest *m = NULL;
    for (int t = 0; t < 3; t++) {
        pg_worlds_options o;
        pg_worlds_options_init(&o);
        o.seed = 5;
        o.count = 40;
        o.threads = threads[t];
        char name[32];
        snprintf(name, sizeof name, "threads%d", threads[t]);
        snprintf(dirs[t], sizeof dirs[t], "%s", pgt_tmp(name));
        pg_error err = {0};
        pg_worlds_manifest_free(m);
        m = NULL;
        if (pg_worlds_generate(r, dirs[t], &o, &m, &err))
            fail_err("generate", &err);
        char path[2048];
        snprintf(path, sizeof path, "%s/manifest.json", dirs[t]);
        manifest[t] = slurp(path);
    }
    assert_string_equal(manifest[0], manifest[1]);
    assert_string_equal(manifest[0], manifest[2]);
    for (size_t i = 0; i < m->n_entries; i++) {
        if (m->entries[i].dropped)
            continue;
        char *x[3];
        for (int t = 0; t < 3; t++) {
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", dirs[t], m->entries[i].file);
            x[t] = slurp(path);
        }
        assert_string_equal(x[0], x[1]);
        assert_string_equal(x[0], x[2]);
        for (int t = 0; t < 3; t++)
            free(x[t]);
    }
    for (int t = 0; t < 3; t++)
        free(manifest[t]);
    pg_worlds_manifest_free(m);
    pg_recipe_free(r);
}

/* Meshed MV grids (closed rings and ties) converge and schedule too. */
static void
test_meshed_mv_grids(void **state)
{
    (void)state;
    pg_recipe *r = recipe_text("{\"format\": \"plurigrid-recipe/1\", \"name\": \"meshed\", "
                               "\"kind\": \"mv-grid\", \"parameters\": {\"closed_rings\": 1, "
                               "\"ties\": {\"int\": [1, 3]}}}");
    pg_worlds_options o;
    pg_worlds_options_init(&o);
    o.seed = 11;
    o.count = 30;
    o.threads = 2;
    pg_worlds_manifest *m = NULL;
    pg_error err = {0};
    if (pg_worlds_generate(r, pgt_tmp("meshed"), &o, &m, &err))
        fail_err("generate", &err);
    assert_int_equal(m->n_kept, 30);
    pg_world *w = NULL;
    if (pg_worlds_reproduce(&w, m, m->entries[0].id, NULL, &err))
        fail_err("reproduce", &err);
    /* Closed rings: every branch in service; the ties make more branches than a tree has. */
    for (size_t k = 0; k < w->n_branches; k++)
        assert_true(w->branches[k].in_service);
    assert_true(w->n_branches > w->n_buses);
    pg_world_free(w);
    pg_worlds_manifest_free(m);
    pg_recipe_free(r);
}

/* A network that cannot carry its load: every world dropped, each with the reason. Its day-ahead
 * schedule leaves demand unserved, in both builds: Clp's doubleton presolve (CoinUtils 2.11)
 * leaks a work array on such an LP, which tests/lsan.supp names (presolve_dupmajor, a frame of
 * CoinUtils alone), so LeakSanitizer still reports any leak of ours on this path. A feeder whose
 * power flow diverges is dropped before any schedule. */
static void
dropped_all(const char *recipe, const char *want)
{
    pg_recipe *r = recipe_text(recipe);
    pg_worlds_options o;
    pg_worlds_options_init(&o);
    o.count = 2;
    o.threads = 2;
    pg_worlds_manifest *m = NULL;
    pg_error err = {0};
    if (pg_worlds_generate(r, pgt_tmp("overload"), &o, &m, &err))
        fail_err("generate", &err);
    /* Nothing is kept after 2 * 2 + 100 tries, each with its reason. */
    assert_int_equal(m->n_kept, 0);
    assert_int_equal(m->n_entries, 104);
    for (size_t i = 0; i < m->n_entries; i++)
        if (!strstr(m->entries[i].reason, want))
            fail_msg("%s: '%s' does not say '%s'", m->entries[i].id, m->entries[i].reason, want);
    pg_worlds_manifest_free(m);
    /* Without checks the same worlds are kept. */
    o.check = false;
    if (pg_worlds_generate(r, pgt_tmp("overload2"), &o, &m, &err))
        fail_err("generate", &err);
    assert_int_equal(m->n_kept, 2);
    pg_worlds_manifest_free(m);
    pg_recipe_free(r);
}

static void
test_overloaded_worlds_are_dropped_with_the_reason(void **state)
{
    (void)state;
    /* 60 x 15 kW at 200 m spacing: no power flow solution. */
    dropped_all("{\"format\": \"plurigrid-recipe/1\", \"name\": \"diverge\", \"kind\": "
                "\"lv-feeder\", \"parameters\": {\"feeders\": 1, \"households_per_feeder\": 60, "
                "\"household_peak_kw\": 15, \"cable_mm2\": 150, \"segment_m\": 200, "
                "\"branch_probability\": 0, \"transformer_kva\": 630}}",
                "power flow did not converge");
    /* 60 x 6 kW at 10 m in January: the power flow converges, but the evening peak exceeds the
     * 187 kVA cable. */
    dropped_all("{\"format\": \"plurigrid-recipe/1\", \"name\": \"overload\", \"kind\": "
                "\"lv-feeder\", \"parameters\": {\"feeders\": 1, \"households_per_feeder\": 60, "
                "\"household_peak_kw\": 6, \"cable_mm2\": 150, \"segment_m\": 10, "
                "\"branch_probability\": 0, \"transformer_kva\": 630, \"day_of_year\": 15}}",
                "unserved");
}

static void
test_bad_options_and_ids(void **state)
{
    (void)state;
    pg_recipe *r = recipe_of("lv-feeder");
    pg_worlds_options o;
    pg_worlds_options_init(&o);
    pg_error err = {0};
    o.count = 0;
    assert_int_equal(pg_worlds_generate(r, pgt_tmp("bad"), &o, NULL, &err), PG_EINVAL);
    o.count = 3;
    o.seed = UINT64_MAX;
    assert_int_equal(pg_worlds_generate(r, pgt_tmp("bad"), &o, NULL, &err), PG_EINVAL);
    o.seed = 1;
    volatile int stop = 1;
    o.stop = &stop;
    assert_int_equal(pg_worlds_generate(r, pgt_tmp("bad"), &o, NULL, &err), PG_ECANCELED);
    o.stop = NULL;
    o.check = false;
    pg_worlds_manifest *m = NULL;
    if (pg_worlds_generate(r, pgt_tmp("ok/deeper"), &o, &m, &err))
        fail_err("generate", &err);
    pg_world *w = NULL;
    assert_int_equal(pg_worlds_reproduce(&w, m, "lv-feeder-2-0", NULL, &err), PG_ENOTFOUND);
    assert_int_equal(pg_worlds_reproduce(&w, m, "lv-feeder-1-x", NULL, &err), PG_ENOTFOUND);
    assert_int_equal(pg_worlds_reproduce(&w, m, "lv-feeder-1-01", NULL, &err), PG_ENOTFOUND);
    assert_int_equal(pg_worlds_reproduce(&w, m, "lv-feeder-1-1", NULL, &err), PG_OK);
    pg_world_free(w);
    /* A manifest that says measured data were used needs the data folder. */
    m->data = true;
    assert_int_equal(pg_worlds_reproduce(&w, m, "lv-feeder-1-1", NULL, &err), PG_EINVAL);
    pg_worlds_manifest_free(m);
    /* A manifest that is not one. */
    const char *dir = pgt_tmp("notmanifest");
    assert_int_equal(mkdir(dir, 0777), 0);
    char path[2048];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    assert_int_equal(pg_output_write(path, "{\"format\": \"x\"}", 15, &err), PG_OK);
    assert_int_equal(pg_worlds_manifest_read(&m, dir, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "plurigrid-worlds/1"));
    pg_recipe_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_is_a_function_of_seed_and_index),
        cmocka_unit_test(test_lv_distributions_match_the_documented_parameters),
        cmocka_unit_test(test_1000_worlds_kept_checked_and_reproducible),
        cmocka_unit_test(test_same_files_whatever_the_threads),
        cmocka_unit_test(test_meshed_mv_grids),
        cmocka_unit_test(test_overloaded_worlds_are_dropped_with_the_reason),
        cmocka_unit_test(test_bad_options_and_ids),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pgt_tmpdir_cleanup();
    return rc;
}
