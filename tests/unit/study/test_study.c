/* Batch studies (pg_study_*): the results of pf, series, contingency and run studies equal the
 * library's direct calls on the same worlds (pg_pf_solve, pg_pf_series, pg_pf_contingency,
 * pg_dispatch_run) on MATPOWER's cases and the hello microworld; the JSON and CSV are the same
 * bytes for 1, 2 and 4 threads, and for any cut of a contingency study into jobs; jobs and
 * results as text (encode, execute, accept: a second, different result is refused); folders with
 * and without a manifest, a bad world among good ones, and the stop flag. */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#include "plurigrid/io.h"
#include "plurigrid/pf.h"
#include "plurigrid/study.h"
#include "study/internal.h"

static const char *
case_path(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "matpower/cases/%s.m", name);
    return pgt_data_path(rel);
}

static pg_world *
load(const char *path)
{
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_world_read(path, NULL, &w, NULL, &err))
        fail_msg("%s: %s", path, err.msg);
    return w;
}

static pg_study *
new_study(const pg_study_options *o)
{
    pg_study *s = NULL;
    pg_error err = {0};
    if (pg_study_new(&s, o, &err))
        fail_msg("pg_study_new: %s", err.msg);
    return s;
}

static void
add(pg_study *s, const char *path)
{
    pg_error err = {0};
    if (pg_study_add_file(s, path, NULL, &err))
        fail_msg("add %s: %s", path, err.msg);
}

static void
run(pg_study *s)
{
    pg_error err = {0};
    if (pg_study_run(s, &err))
        fail_msg("pg_study_run: %s", err.msg);
}

static char *
report_json(const pg_study *s)
{
    char *t = NULL;
    pg_error err = {0};
    if (pg_study_report_json(s, &t, &err))
        fail_msg("report json: %s", err.msg);
    return t;
}

static char *
report_csv(const pg_study *s)
{
    char *t = NULL;
    pg_error err = {0};
    if (pg_study_report_csv(s, &t, &err))
        fail_msg("report csv: %s", err.msg);
    return t;
}

static json_t *
parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("report is not JSON: %s", je.text);
    return j;
}

/* The item of world id and index in a plurigrid-study/1 document. */
static json_t *
item(json_t *doc, const char *id, long long index)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(doc, "items"), i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "world")), id) == 0 &&
            json_integer_value(json_object_get(it, "index")) == index)
            return it;
    }
    fail_msg("no item %s/%lld", id, index);
    return NULL;
}

static double
num(json_t *o, const char *k)
{
    json_t *x = json_object_get(o, k);
    if (json_is_null(x))
        return NAN;
    if (!json_is_number(x))
        fail_msg("no number %s", k);
    return json_number_value(x);
}

/* The numbers of a summary equal an item's, exactly (JSON keeps every bit). */
static void
assert_summary(json_t *it, const pg_pf_summary *sm, const pg_world *w)
{
    assert_int_equal(json_is_true(json_object_get(it, "converged")), sm->converged);
    assert_int_equal(num(it, "iterations"), sm->iterations);
    assert_true(num(it, "loss_mw") == sm->loss_p);
    assert_true(num(it, "load_mw") == sm->load_p);
    assert_true(num(it, "gen_mw") == sm->gen_p);
    assert_true(num(it, "vm_min") == sm->vm_min);
    assert_true(num(it, "vm_max") == sm->vm_max);
    assert_true(num(it, "max_loading") == sm->max_loading);
    assert_int_equal(num(it, "overloads"), sm->n_overloads);
    assert_int_equal(num(it, "voltage_violations"), sm->n_voltage_violations);
    assert_string_equal(json_string_value(json_object_get(it, "vm_min_bus")),
                        w->buses[sm->vm_min_bus].name);
}

static void
pf_equals_solve(void **state)
{
    (void)state;
    const char *cases[] = {"case9", "case14", "case30", "case118"};
    pg_study_options o;
    pg_study_options_init(&o);
    o.threads = 2;
    pg_study *s = new_study(&o);
    for (size_t i = 0; i < 4; i++)
        add(s, case_path(cases[i]));
    run(s);
    pg_study_totals t;
    pg_study_get_totals(s, &t);
    assert_int_equal(t.n_worlds, 4);
    assert_int_equal(t.n_jobs, 4);
    assert_int_equal(t.n_items, 4);
    assert_int_equal(t.n_converged, 4);
    assert_int_equal(t.n_failed, 0);
    assert_int_equal(t.n_worlds_failed, 0);
    char *text = report_json(s);
    json_t *doc = parse(text);
    assert_string_equal(json_string_value(json_object_get(doc, "format")), "plurigrid-study/1");
    for (size_t i = 0; i < 4; i++) {
        pg_world *w = load(case_path(cases[i]));
        pg_pf_result *r = NULL;
        pg_error err = {0};
        assert_int_equal(pg_pf_solve(w, NULL, &r, &err), PG_OK);
        pg_pf_summary sm;
        pg_pf_summarize(w, r, PG_PF_RATE_A, &sm);
        /* And the summary is the solve's: losses as the result's, voltages its extremes. */
        assert_true(sm.loss_p == r->loss_p);
        assert_summary(item(doc, cases[i], 0), &sm, w);
        pg_pf_result_free(r);
        pg_world_free(w);
    }
    /* case9's losses as MATPOWER gives them (runpf: 4.641 MW, 3 decimals). */
    assert_near(num(item(doc, "case9", 0), "loss_mw"), 4.641, 5e-4);
    json_decref(doc);
    free(text);
    pg_study_free(s);
}

/* The JSON and CSV of a study run on 1, 2 and 4 threads. */
static void
reports_for_threads(const pg_study_options *base, const char *const *paths, size_t n, int threads,
                    char **json, char **csv)
{
    pg_study_options o = *base;
    o.threads = threads;
    pg_study *s = new_study(&o);
    for (size_t i = 0; i < n; i++)
        add(s, paths[i]);
    run(s);
    *json = report_json(s);
    *csv = report_csv(s);
    pg_study_free(s);
}

static void
same_for_threads(void **state)
{
    (void)state;
    const char *paths[] = {case_path("case9"),  case_path("case14"),  case_path("case30"),
                           case_path("case57"), case_path("case118"), case_path("case300")};
    const char *kept[6];
    char buf[6][512];
    for (size_t i = 0; i < 6; i++) {
        snprintf(buf[i], sizeof buf[i], "%s", paths[i]);
        kept[i] = buf[i];
    }
    pg_study_options o;
    pg_study_options_init(&o);
    char *j1, *c1, *j2, *c2, *j4, *c4;
    reports_for_threads(&o, kept, 6, 1, &j1, &c1);
    reports_for_threads(&o, kept, 6, 2, &j2, &c2);
    reports_for_threads(&o, kept, 6, 4, &j4, &c4);
    assert_string_equal(j1, j2);
    assert_string_equal(j1, j4);
    assert_string_equal(c1, c2);
    assert_string_equal(c1, c4);
    free(j1), free(c1), free(j2), free(c2), free(j4), free(c4);

    o.kind = PG_STUDY_CONTINGENCY;
    o.outages_per_job = 7;
    reports_for_threads(&o, kept + 1, 2, 1, &j1, &c1);
    reports_for_threads(&o, kept + 1, 2, 2, &j2, &c2);
    reports_for_threads(&o, kept + 1, 2, 4, &j4, &c4);
    assert_string_equal(j1, j2);
    assert_string_equal(j1, j4);
    assert_string_equal(c1, c2);
    assert_string_equal(c1, c4);
    free(j1), free(c1), free(j2), free(c2), free(j4), free(c4);
}

static void
contingency_equals_library(void **state)
{
    (void)state;
    const char *cases[] = {"case14", "case118"};
    for (size_t c = 0; c < 2; c++) {
        char *first = NULL;
        const size_t cuts[] = {1, 5, 256};
        for (size_t q = 0; q < 3; q++) {
            pg_study_options o;
            pg_study_options_init(&o);
            o.kind = PG_STUDY_CONTINGENCY;
            o.outages_per_job = cuts[q];
            o.threads = 2;
            pg_study *s = new_study(&o);
            add(s, case_path(cases[c]));
            run(s);
            pg_world *w = load(case_path(cases[c]));
            size_t in_service = 0;
            for (size_t l = 0; l < w->n_branches; l++)
                in_service += w->branches[l].in_service;
            pg_study_totals t;
            pg_study_get_totals(s, &t);
            assert_int_equal(t.n_items, in_service);
            assert_int_equal(t.n_jobs, (in_service + cuts[q] - 1) / cuts[q]);
            assert_int_equal(t.n_converged + t.n_failed + t.n_islanding, t.n_items);
            char *text = report_json(s);
            if (!first) {
                /* The study's numbers are pg_pf_contingency's, outage by outage. */
                pg_pf_contingency_options co;
                pg_pf_contingency_options_init(&co);
                pg_pf_contingency_result *cr = NULL;
                pg_error err = {0};
                assert_int_equal(pg_pf_contingency(w, &co, &cr, &err), PG_OK);
                assert_int_equal(cr->n_outages, in_service);
                json_t *doc = parse(text);
                size_t islanding = 0;
                for (size_t k = 0; k < cr->n_outages; k++) {
                    json_t *it = item(doc, cases[c], (long long)k);
                    const pg_pf_outage *ou = &cr->outages[k];
                    assert_int_equal(num(it, "branch"), ou->branch);
                    if (ou->status == PG_PF_OUTAGE_SOLVED) {
                        assert_string_equal(json_string_value(json_object_get(it, "status")),
                                            "solved");
                        assert_summary(it, &ou->summary, w);
                    } else {
                        assert_int_equal(ou->status, PG_PF_OUTAGE_ISLANDING);
                        assert_true(num(it, "islanded_load_mw") == ou->islanded_load_mw);
                        islanding++;
                    }
                }
                assert_int_equal(islanding, t.n_islanding);
                assert_int_equal(cr->n_islanding, t.n_islanding);
                json_t *wd = json_array_get(json_object_get(doc, "worlds"), 0);
                assert_summary(json_object_get(wd, "base"), &cr->base_summary, w);
                json_decref(doc);
                pg_pf_contingency_result_free(cr);
                first = text;
            } else {
                /* Any cut into jobs gives the same document. */
                assert_string_equal(first, text);
                free(text);
            }
            pg_world_free(w);
            pg_study_free(s);
        }
        free(first);
    }
}

static void
series_equals_library(void **state)
{
    (void)state;
    const char *hello = pgt_source_path("examples/hello-microworld.json");
    pg_world *w = load(hello);
    pg_pf_series_options so;
    pg_pf_series_options_init(&so);
    pg_pf_summary *steps = NULL;
    size_t n = 0;
    pg_error err = {0};
    assert_int_equal(pg_pf_series(w, &so, &steps, &n, &err), PG_OK);
    assert_int_equal(n, 24);

    pg_study_options o;
    pg_study_options_init(&o);
    o.series = true;
    pg_study *s = new_study(&o);
    add(s, hello);
    run(s);
    pg_study_totals t;
    pg_study_get_totals(s, &t);
    assert_int_equal(t.n_jobs, 1);
    assert_int_equal(t.n_items, 24);
    char *text = report_json(s);
    json_t *doc = parse(text);
    for (size_t k = 0; k < n; k++)
        assert_summary(item(doc, "hello-microworld", (long long)k), &steps[k], w);
    json_decref(doc);
    free(text);
    pg_study_free(s);

    /* Cut into jobs of 5 steps, each job starts from the world's starting point: its first step
     * is the series' from that point, the others as the library gives them for that range. */
    o.steps_per_job = 5;
    s = new_study(&o);
    add(s, hello);
    run(s);
    pg_study_get_totals(s, &t);
    assert_int_equal(t.n_jobs, 5);
    assert_int_equal(t.n_items, 24);
    text = report_json(s);
    doc = parse(text);
    pg_pf_summary *part = NULL;
    size_t np = 0;
    so.first = 10;
    so.count = 5;
    assert_int_equal(pg_pf_series(w, &so, &part, &np, &err), PG_OK);
    assert_int_equal(np, 5);
    for (size_t k = 0; k < np; k++)
        assert_summary(item(doc, "hello-microworld", (long long)(10 + k)), &part[k], w);
    free(part);
    json_decref(doc);
    free(text);
    pg_study_free(s);
    free(steps);
    pg_world_free(w);
}

static void
run_equals_dispatch(void **state)
{
    (void)state;
    const char *hello = pgt_source_path("examples/hello-microworld.json");
    pg_world *w = load(hello);
    pg_dispatch_result *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_dispatch_run(w, NULL, &r, &err), PG_OK);
    pg_study_options o;
    pg_study_options_init(&o);
    o.kind = PG_STUDY_RUN;
    pg_study *s = new_study(&o);
    add(s, hello);
    add(s, case_path("case9"));
    run(s);
    char *text = report_json(s);
    json_t *doc = parse(text);
    json_t *it = item(doc, "hello-microworld", 0);
    assert_true(json_is_true(json_object_get(it, "scheduled")));
    assert_true(num(it, "total_cost") == r->total_cost);
    assert_true(num(it, "unserved_mwh") == r->total_unserved_mwh);
    assert_int_equal(num(it, "steps"), r->n_steps);
    json_decref(doc);
    free(text);
    pg_study_totals t;
    pg_study_get_totals(s, &t);
    assert_int_equal(t.n_items, 2);
    pg_study_free(s);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

static const char *
copy_case(const char *dir, const char *name, const char *as)
{
    size_t len = 0;
    char *text = pgt_slurp(case_path(name), &len);
    static char path[8][2100];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 2100, "%s/%s", dir, as);
    pgt_write(p, text);
    free(text);
    return p;
}

static void
folder_with_a_bad_world(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/worlds", pgt_tmpdir());
    mkdir(dir, 0755);
    copy_case(dir, "case9", "a-case9.m");
    copy_case(dir, "case14", "c-case14.m");
    char bad[1100];
    snprintf(bad, sizeof bad, "%s/b-bad.json", dir);
    pgt_write(bad, "{\"format\": \"plurigrid-world/1\", \"name\": 3}\n");
    snprintf(bad, sizeof bad, "%s/notes.txt", dir);
    pgt_write(bad, "not a world\n");
    pg_study_options o;
    pg_study_options_init(&o);
    pg_study *s = new_study(&o);
    pg_error err = {0};
    assert_int_equal(pg_study_add_dir(s, dir, &err), PG_OK);
    run(s);
    pg_study_totals t;
    pg_study_get_totals(s, &t);
    assert_int_equal(t.n_worlds, 3);
    assert_int_equal(t.n_items, 3);
    assert_int_equal(t.n_converged, 2);
    assert_int_equal(t.n_failed, 1);
    assert_int_equal(t.n_worlds_failed, 1);
    char *text = report_json(s);
    json_t *doc = parse(text);
    json_t *worlds = json_object_get(doc, "worlds");
    assert_int_equal(json_array_size(worlds), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(worlds, 1), "id")),
                        "b-bad");
    const char *e = json_string_value(json_object_get(json_array_get(worlds, 1), "error"));
    assert_non_null(e);
    assert_non_null(strstr(e, "b-bad.json"));
    assert_true(json_is_null(json_object_get(json_array_get(worlds, 0), "error")));
    json_decref(doc);
    free(text);
    char *csv = report_csv(s);
    assert_non_null(strstr(csv, "\nb-bad,"));
    free(csv);
    pg_study_free(s);

    /* A bad file given alone is an error that names it. */
    s = new_study(&o);
    snprintf(bad, sizeof bad, "%s/b-bad.json", dir);
    assert_int_equal(pg_study_add_file(s, bad, NULL, &err), PG_EPARSE);
    assert_non_null(strstr(err.file, "b-bad.json"));
    /* A missing folder and a file that is not a folder. */
    assert_int_equal(pg_study_add_dir(s, "/nonexistent/worlds", &err), PG_EIO);
    assert_int_equal(pg_study_add_dir(s, bad, &err), PG_EIO);
    /* /dev/zero is not a world file. */
    assert_int_equal(pg_study_add_file(s, "/dev/zero", NULL, &err), PG_EIO);
    /* Ids are unique. */
    assert_int_equal(pg_study_add_file(s, case_path("case9"), "x", &err), PG_OK);
    assert_int_equal(pg_study_add_file(s, case_path("case14"), "x", &err), PG_EINVAL);
    pg_study_free(s);
}

static void
folder_with_a_manifest(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/generated", pgt_tmpdir());
    mkdir(dir, 0755);
    copy_case(dir, "case9", "w-0001.m");
    copy_case(dir, "case14", "w-0003.m");
    copy_case(dir, "case30", "stray.m"); /* not in the manifest: not studied */
    char m[1100];
    snprintf(m, sizeof m, "%s/manifest.json", dir);
    pgt_write(m,
              "{\"format\": \"plurigrid-worlds/1\", \"seed\": 7, \"entries\": [\n"
              " {\"id\": \"lv-1\", \"file\": \"w-0001.m\", \"dropped\": false, \"kind\": \"x\"},\n"
              " {\"id\": \"lv-2\", \"file\": \"\", \"dropped\": true, \"reason\": \"no\"},\n"
              " {\"id\": \"lv-3\", \"file\": \"w-0003.m\", \"dropped\": false}]}\n");
    pg_study_options o;
    pg_study_options_init(&o);
    pg_study *s = new_study(&o);
    pg_error err = {0};
    assert_int_equal(pg_study_add_dir(s, dir, &err), PG_OK);
    run(s);
    char *text = report_json(s);
    json_t *doc = parse(text);
    json_t *worlds = json_object_get(doc, "worlds");
    assert_int_equal(json_array_size(worlds), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(worlds, 0), "id")),
                        "lv-1");
    assert_string_equal(json_string_value(json_object_get(json_array_get(worlds, 1), "id")),
                        "lv-3");
    json_decref(doc);
    free(text);
    pg_study_free(s);

    /* The generator's own layout: entries under "worlds", a count of dropped worlds at the top,
     * and kept entries without "dropped". */
    pgt_write(m, "{\"format\": \"plurigrid-worlds/1\", \"kept\": 2, \"dropped\": 1, \"worlds\": [\n"
                 " {\"id\": \"g-0\", \"index\": 0, \"file\": \"w-0003.m\", \"buses\": 14},\n"
                 " {\"id\": \"g-1\", \"index\": 1, \"dropped\": true, \"reason\": \"no\"},\n"
                 " {\"id\": \"g-2\", \"index\": 2, \"file\": \"w-0001.m\"}]}\n");
    s = new_study(&o);
    assert_int_equal(pg_study_add_dir(s, dir, &err), PG_OK);
    run(s);
    text = report_json(s);
    doc = parse(text);
    worlds = json_object_get(doc, "worlds");
    assert_int_equal(json_array_size(worlds), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(worlds, 0), "id")), "g-0");
    assert_string_equal(json_string_value(json_object_get(json_array_get(worlds, 0), "file")),
                        "w-0003.m");
    assert_string_equal(json_string_value(json_object_get(json_array_get(worlds, 1), "id")), "g-2");
    json_decref(doc);
    free(text);
    pg_study_free(s);

    /* A manifest that is not one: an error naming it. */
    pgt_write(m, "{\"entries\": 3}");
    s = new_study(&o);
    assert_int_equal(pg_study_add_dir(s, dir, &err), PG_EPARSE);
    assert_non_null(strstr(err.file, "manifest.json"));
    pg_study_free(s);
}

static int
fetch(void *user, const char *study, size_t world, const char *name, size_t bytes,
      const char **text, size_t *len, pg_error *err)
{
    (void)study;
    (void)name;
    (void)bytes;
    return pgi_study_world_text(user, world, text, len, NULL, err);
}

static void
jobs_as_text(void **state)
{
    (void)state;
    pg_study_options o;
    pg_study_options_init(&o);
    pg_study *s = new_study(&o);
    add(s, case_path("case9"));
    add(s, case_path("case14"));
    assert_int_equal(pgi_study_n_jobs(s), 2);
    assert_int_equal(strlen(pgi_study_id(s)), 16);
    pg_error err = {0};
    char *job = NULL, *res = NULL, *res2 = NULL;
    size_t jlen = 0, rlen = 0, rlen2 = 0, k = 99;
    assert_int_equal(pgi_study_job_encode(s, 1, &job, &jlen, &err), PG_OK);
    assert_int_equal(strlen(job), jlen);
    assert_int_equal(pgi_study_text_job(job, jlen, &k, &err), PG_OK);
    assert_int_equal(k, 1);
    assert_int_equal(pgi_study_job_execute(job, jlen, fetch, s, NULL, &res, &rlen, &err), PG_OK);
    assert_int_equal(pgi_study_job_execute(job, jlen, fetch, s, NULL, &res2, &rlen2, &err), PG_OK);
    assert_int_equal(rlen, rlen2);
    assert_memory_equal(res, res2, rlen); /* the same job gives the same bytes */
    assert_int_equal(pgi_study_text_job(res, rlen, &k, &err), PG_OK);
    assert_int_equal(k, 1);
    assert_false(pgi_study_job_done(s, 1));
    assert_int_equal(pgi_study_result_accept(s, 1, res, rlen, &err), PG_OK);
    assert_true(pgi_study_job_done(s, 1));
    assert_int_equal(pgi_study_n_done(s), 1);
    /* The same result again is dropped; another one for the same job is refused. */
    assert_int_equal(pgi_study_result_accept(s, 1, res2, rlen2, &err), PG_OK);
    assert_int_equal(pgi_study_n_done(s), 1);
    char *loss = strstr(res2, "\"loss_mw\":");
    assert_non_null(loss);
    loss[10] = loss[10] == '1' ? '2' : '1';
    assert_int_equal(pgi_study_result_accept(s, 1, res2, rlen2, &err), PG_ESTATE);
    /* A result of another job or study, and job numbers out of range. */
    assert_int_equal(pgi_study_result_accept(s, 0, res, rlen, &err), PG_EPARSE);
    assert_int_equal(pgi_study_result_accept(s, 5, res, rlen, &err), PG_EINVAL);
    {
        /* A result whose items are not a list of objects is refused. */
        char *items = strstr(res, "\"items\":[");
        assert_non_null(items);
        char broken[4096];
        snprintf(broken, sizeof broken, "%.*s\"items\":[3]}", (int)(items - res), res);
        assert_int_equal(pgi_study_result_accept(s, 1, broken, strlen(broken), &err), PG_EPARSE);
        snprintf(broken, sizeof broken, "%.*s\"items\":{}}", (int)(items - res), res);
        assert_int_equal(pgi_study_result_accept(s, 1, broken, strlen(broken), &err), PG_EPARSE);
    }
    /* Malformed jobs. */
    assert_int_equal(pgi_study_job_execute("{", 1, fetch, s, NULL, &res2, &rlen2, &err), PG_EPARSE);
    assert_int_equal(pgi_study_job_execute("{\"job\": 1}", 10, fetch, s, NULL, &res2, &rlen2, &err),
                     PG_EPARSE);
    assert_int_equal(pgi_study_text_job("[]", 2, &k, &err), PG_EPARSE);
    {
        /* A job that asks for more outages than the world has is a result with an error, and
         * allocates nothing of its size. */
        pg_study_options co;
        pg_study_options_init(&co);
        co.kind = PG_STUDY_CONTINGENCY;
        pg_study *cs = new_study(&co);
        add(cs, case_path("case14"));
        char *cj = NULL, *cr = NULL;
        size_t cjlen = 0, crlen = 0;
        assert_int_equal(pgi_study_job_encode(cs, 0, &cj, &cjlen, &err), PG_OK);
        char *at = strstr(cj, "\"count\":20,");
        assert_non_null(at);
        char huge[2048];
        snprintf(huge, sizeof huge, "%.*s\"count\":1099511627776,%s", (int)(at - cj), cj,
                 at + strlen("\"count\":20,"));
        assert_int_equal(
            pgi_study_job_execute(huge, strlen(huge), fetch, cs, NULL, &cr, &crlen, &err), PG_OK);
        assert_non_null(strstr(cr, "\"error\":\"the job asks for outages"));
        free(cr);
        free(cj);
        pg_study_free(cs);
    }
    /* The rest runs on the executor: job 1 is not run again. */
    run(s);
    pg_study_totals t;
    pg_study_get_totals(s, &t);
    assert_int_equal(t.n_items, 2);
    assert_int_equal(t.n_converged, 2);
    size_t n = 0;
    const pg_study_executor *ex = pg_study_executors(&n);
    assert_true(n >= 2);
    assert_string_equal(ex[0].name, "local");
    assert_string_equal(ex[1].name, "nats");
    free(job);
    free(res);
    free(res2);
    pg_study_free(s);
}

static volatile int stop_now;

static void
on_progress(void *user, size_t done, size_t total)
{
    (void)user;
    (void)total;
    if (done >= 1)
        stop_now = 1;
}

static void
stop_flag(void **state)
{
    (void)state;
    pg_study_options o;
    pg_study_options_init(&o);
    o.kind = PG_STUDY_CONTINGENCY;
    o.outages_per_job = 1;
    o.threads = 1;
    o.stop = &stop_now;
    o.progress = on_progress;
    pg_study *s = new_study(&o);
    add(s, case_path("case118"));
    pg_error err = {0};
    stop_now = 0;
    assert_int_equal(pg_study_run(s, &err), PG_ECANCELED);
    assert_true(pgi_study_n_done(s) < pgi_study_n_jobs(s));
    char *t = NULL;
    assert_int_not_equal(pg_study_report_json(s, &t, &err), PG_OK);
    pg_study_free(s);

    /* Options refused. */
    pg_study_options_init(&o);
    o.series = true;
    o.kind = PG_STUDY_RUN;
    pg_study *bad = NULL;
    assert_int_equal(pg_study_new(&bad, &o, &err), PG_EINVAL);
    pg_study_options_init(&o);
    o.executor = "carrier-pigeon";
    bad = new_study(&o);
    add(bad, case_path("case9"));
    assert_int_equal(pg_study_run(bad, &err), PG_EINVAL);
    pg_study_free(bad);
}

static void
svg_and_text(void **state)
{
    (void)state;
    pg_study_options o;
    pg_study_options_init(&o);
    o.kind = PG_STUDY_CONTINGENCY;
    pg_study *s = new_study(&o);
    add(s, case_path("case30")); /* rated branches */
    run(s);
    char *svg = NULL, *text = NULL;
    pg_error err = {0};
    assert_int_equal(pg_study_report_svg(s, &svg, &err), PG_OK);
    assert_non_null(strstr(svg, "<svg"));
    assert_non_null(strstr(svg, "Losses of every converged item"));
    assert_non_null(strstr(svg, "Worst contingencies by loading"));
    assert_non_null(strstr(svg, "<rect x="));
    assert_int_equal(pg_study_report_text(s, &text, &err), PG_OK);
    assert_non_null(strstr(text, "N-1 contingency analysis of 1 world"));
    assert_non_null(strstr(text, "Highest branch loading"));
    free(svg);
    free(text);
    pg_study_free(s);
}

/* One whole study (add, run on one thread, the JSON) with one allocation failed: PG_ENOMEM from
 * the call that met it, never a crash, a leak (the sanitizer build checks) or a result that
 * swallowed the failure. */
static int
whole_study(pg_study_kind kind, char **json)
{
    pg_study_options o;
    pg_study_options_init(&o);
    o.kind = kind;
    o.threads = 1;
    o.outages_per_job = 4;
    pg_study *s = NULL;
    pg_error err = {0};
    int rc = pg_study_new(&s, &o, &err);
    if (rc == PG_OK)
        rc = pg_study_add_file(s, case_path("case9"), NULL, &err);
    if (rc == PG_OK)
        rc = pg_study_run(s, &err);
    if (rc == PG_OK)
        rc = pg_study_report_json(s, json, &err);
    pg_study_free(s);
    return rc;
}

static void
every_allocation_failing(void **state)
{
    (void)state;
    const pg_study_kind kinds[] = {PG_STUDY_PF, PG_STUDY_CONTINGENCY};
    for (size_t q = 0; q < 2; q++) {
        char *ref = NULL;
        pgt_alloc_fail_after(LONG_MAX);
        assert_int_equal(whole_study(kinds[q], &ref), PG_OK);
        long n = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        for (long k = 0; k < n; k++) {
            char *json = NULL;
            pgt_alloc_fail_after(k);
            int rc = whole_study(kinds[q], &json);
            pgt_alloc_fail_after(-1);
            if (rc == PG_OK) {
                /* A failure the code worked around: the results must be the same. */
                if (strcmp(json, ref) != 0)
                    fail_msg("allocation %ld of %ld failed and the study succeeded with other "
                             "results",
                             k, n);
                free(json);
            } else if (rc != PG_ENOMEM) {
                fail_msg("allocation %ld of %ld failed: status %d, not PG_ENOMEM", k, n, rc);
            }
        }
        free(ref);
    }
}

/* A contingency study whose base case does not converge: the world failed, with why, and no
 * outages. */
static void
base_case_not_converging(void **state)
{
    (void)state;
    pg_study_options o;
    pg_study_options_init(&o);
    o.kind = PG_STUDY_CONTINGENCY;
    o.pf.max_iter = 1;
    pg_study *s = new_study(&o);
    add(s, case_path("case14"));
    run(s);
    pg_study_totals t;
    pg_study_get_totals(s, &t);
    assert_int_equal(t.n_items, 0);
    assert_int_equal(t.n_worlds_failed, 1);
    char *text = report_json(s);
    json_t *doc = parse(text);
    json_t *w = json_array_get(json_object_get(doc, "worlds"), 0);
    assert_non_null(
        strstr(json_string_value(json_object_get(w, "error")), "the base case did not converge"));
    assert_false(json_is_true(json_object_get(json_object_get(w, "base"), "converged")));
    json_decref(doc);
    free(text);
    char *csv = report_csv(s);
    assert_non_null(strstr(csv, "\ncase14,,"));
    free(csv);
    pg_study_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pf_equals_solve),
        cmocka_unit_test(same_for_threads),
        cmocka_unit_test(contingency_equals_library),
        cmocka_unit_test(series_equals_library),
        cmocka_unit_test(run_equals_dispatch),
        cmocka_unit_test(folder_with_a_bad_world),
        cmocka_unit_test(folder_with_a_manifest),
        cmocka_unit_test(jobs_as_text),
        cmocka_unit_test(stop_flag),
        cmocka_unit_test(svg_and_text),
        cmocka_unit_test(every_allocation_failing),
        cmocka_unit_test(base_case_not_converging),
    };
    int rc = cmocka_run_group_tests(tests, NULL, pgt_teardown_tmpdir);
    return rc;
}
