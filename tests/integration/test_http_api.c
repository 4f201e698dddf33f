/* The JSON API of `plurigrid serve` end to end (docs/http.md, "Endpoints"): a real server on a
 * free loopback port (tests/http_fixture.h), every endpoint of worlds, validation, import,
 * layout, jobs and scenarios with good input and real results, and with the bad input a hostile
 * client sends: bad JSON, unknown keys, invalid worlds, huge numbers, names that try to leave the
 * served folders.
 *
 * Results are checked against what stands on its own: the power flow of a world through the API
 * equals `plurigrid pf --json` of the same file; MATPOWER's case14 imported through the API and
 * solved by a job equals MATPOWER's own solution (../shared/data/matpower/reference) to the
 * tolerances of the library's power-flow tests; a saved world reads back equal
 * (pg_world_equal); a day-ahead job equals `plurigrid run --json`; a community job's market run
 * equals the one `plurigrid community` plays. */
#define _GNU_SOURCE
#include "harness.h"
#include "http_fixture.h"

#include <jansson.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plurigrid/io.h"
#include "plurigrid/model.h"

/* ---------------------------------------------------------------- helpers */

static long
req(pgt_http *h, const char *method, const char *path, const char *body, pgt_http_reply *out)
{
    pgt_http_req rq = {
        .method = method, .path = path, .body = body, .len = body ? strlen(body) : 0};
    return pgt_http_do(h, &rq, out);
}

/* The reply's body as JSON (fails the test when it is not). */
static json_t *
body_json(const pgt_http_reply *r)
{
    json_error_t je;
    json_t *v = json_loadb(r->body, r->len, 0, &je);
    if (!v)
        fail_msg("reply %ld is not JSON (%s): %.300s", r->status, je.text, r->body);
    return v;
}

/* Sends the request, expects status, returns the reply's JSON. */
static json_t *
expect(pgt_http *h, const char *method, const char *path, const char *body, long status)
{
    pgt_http_reply r = {0};
    long got = req(h, method, path, body, &r);
    if (got != status)
        fail_msg("%s %s: status %ld (%s), expected %ld: %.600s", method ? method : "GET", path, got,
                 r.error, status, r.body ? r.body : "");
    json_t *v = body_json(&r);
    pgt_http_reply_free(&r);
    return v;
}

/* The error object of an error reply, checked for its shape. */
static json_t *
error_of(json_t *v, long status)
{
    json_t *e = json_object_get(v, "error");
    assert_non_null(e);
    assert_int_equal(json_integer_value(json_object_get(e, "status")), status);
    assert_true(json_is_string(json_object_get(e, "code")));
    assert_true(json_is_string(json_object_get(e, "message")));
    return e;
}

static const char *
msg_of(json_t *v)
{
    return json_string_value(json_object_get(json_object_get(v, "error"), "message"));
}

static bool
contains(const char *s, const char *needle)
{
    return s && strstr(s, needle) != NULL;
}

/* {"world": <text of a world>, extra members...} as a request body (malloc'd). */
static char *
with_world(const char *world_text, const char *extra)
{
    size_t n = strlen(world_text) + (extra ? strlen(extra) : 0) + 32;
    char *b = malloc(n);
    assert_non_null(b);
    snprintf(b, n, "{\"world\": %s%s%s}", world_text, extra ? ", " : "", extra ? extra : "");
    return b;
}

/* Submits body to path (202 expected), waits for the job to end and returns its final Job
 * object; *result gets the result when it is done (NULL otherwise). */
static json_t *
run_job(pgt_http *h, const char *path, const char *body, json_t **result)
{
    pgt_http_reply r = {0};
    long st = req(h, "POST", path, body, &r);
    if (st != 202)
        fail_msg("POST %s: status %ld: %.600s", path, st, r.body);
    json_t *sub = body_json(&r);
    const char *loc = pgt_http_header(&r, "Location");
    assert_non_null(loc);
    char href[128];
    snprintf(href, sizeof href, "%s", json_string_value(json_object_get(sub, "href")));
    assert_true(contains(loc, href));
    assert_string_equal(json_string_value(json_object_get(sub, "status")), "queued");
    pgt_http_reply_free(&r);
    json_decref(sub);
    json_t *job = NULL;
    for (int i = 0; i < 6000; i++) { /* 600 s */
        job = expect(h, NULL, href, NULL, 200);
        const char *s = json_string_value(json_object_get(job, "status"));
        if (strcmp(s, "done") == 0 || strcmp(s, "failed") == 0 || strcmp(s, "cancelled") == 0)
            break;
        json_decref(job);
        job = NULL;
        usleep(100000);
    }
    assert_non_null(job);
    *result = NULL;
    if (strcmp(json_string_value(json_object_get(job, "status")), "done") == 0) {
        char rpath[160];
        snprintf(rpath, sizeof rpath, "%s/result", href);
        *result = expect(h, NULL, rpath, NULL, 200);
    }
    return job;
}

/* Removes the members that time a run (they differ from run to run), recursively. */
static void
drop_timings(json_t *v)
{
    if (json_is_object(v)) {
        static const char *const keys[] = {"time_ms", "seconds", "dispatch_seconds", NULL};
        for (size_t i = 0; keys[i]; i++)
            json_object_del(v, keys[i]);
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) drop_timings(x);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) drop_timings(x);
    }
}

/* The JSON the command writes to standard output for args. */
static json_t *
cli_json(const char *const *args)
{
    char *out = NULL, *err = NULL;
    int rc = pgt_run_cli(args, NULL, &out, &err);
    if (rc != 0 && rc != 1)
        fail_msg("plurigrid %s: exit %d: %s", args[0], rc, err);
    json_error_t je;
    json_t *v = json_loads(out, 0, &je);
    if (!v)
        fail_msg("plurigrid %s: not JSON: %s", args[0], je.text);
    free(out);
    free(err);
    return v;
}

static void
assert_json_equal(json_t *a, json_t *b, const char *what)
{
    if (!json_equal(a, b)) {
        char *ta = json_dumps(a, JSON_COMPACT), *tb = json_dumps(b, JSON_COMPACT);
        fail_msg("%s differ:\n%.2000s\n%.2000s", what, ta, tb);
    }
}

static const char *
example(const char *rel)
{
    return pgt_source_path(rel);
}

/* A folder of its own in the test's temporary folder. */
static const char *
mkdir_tmp(const char *name)
{
    const char *p = pgt_tmp(name);
    assert_int_equal(mkdir(p, 0755), 0);
    return p;
}

static pgt_http *
serve(const char *worlds, const char *scenarios, const char *data)
{
    const char *args[10];
    size_t n = 0;
    if (worlds) {
        args[n++] = "--worlds";
        args[n++] = worlds;
    }
    if (scenarios) {
        args[n++] = "--scenarios";
        args[n++] = scenarios;
    }
    if (data) {
        args[n++] = "--data";
        args[n++] = data;
    }
    args[n] = NULL;
    return pgt_http_start(args);
}

/* ---------------------------------------------------------------- worlds */

static void
test_worlds_without_folder(void **state)
{
    (void)state;
    pgt_http *h = serve(NULL, NULL, NULL);
    json_t *v = expect(h, NULL, "/api/worlds", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(v, "worlds")), 0);
    assert_true(json_is_array(json_object_get(v, "worlds")));
    assert_true(json_is_null(json_object_get(v, "dir")));
    json_decref(v);
    char *world = pgt_slurp(example("examples/hello-microworld.json"), NULL);
    v = expect(h, "PUT", "/api/worlds/hello", world, 409);
    error_of(v, 409);
    assert_true(contains(msg_of(v), "--worlds"));
    json_decref(v);
    v = expect(h, NULL, "/api/worlds/hello", NULL, 404);
    assert_true(contains(msg_of(v), "--worlds"));
    json_decref(v);
    free(world);
    assert_int_equal(pgt_http_stop(h), 0);
}

/* `plurigrid serve --worlds worlds/` in a fresh checkout: the folder is made, and saving works;
 * a folder whose parent does not exist is refused (exit 2) naming it. */
static void
test_worlds_folder_made(void **state)
{
    (void)state;
    const char *dir = pgt_tmp("new-worlds");
    struct stat st;
    assert_int_not_equal(stat(dir, &st), 0);
    pgt_http *h = serve(dir, NULL, NULL);
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    char *text = pgt_slurp(example("examples/hello-microworld.json"), NULL);
    json_t *v = expect(h, "PUT", "/api/worlds/hello", text, 201);
    json_decref(v);
    free(text);
    char path[600];
    snprintf(path, sizeof path, "%s/hello.json", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(pgt_http_stop(h), 0);

    snprintf(path, sizeof path, "%s/no/such", pgt_tmp("nowhere"));
    const char *args[] = {"serve", "--listen", "127.0.0.1:0", "--worlds", path, NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 2);
    if (!contains(err, path) || !contains(err, "cannot make the folder"))
        fail_msg("the error does not name the folder it cannot make: %s", err);
    free(out);
    free(err);
}

static void
test_worlds_save_list_load(void **state)
{
    (void)state;
    const char *dir = mkdir_tmp("worlds");
    char path[600];
    /* files that are not worlds are listed with an error, not failing the list */
    snprintf(path, sizeof path, "%s/broken.json", dir);
    pgt_write(path, "{\"format\": \"plurigrid-world/1\", \"buses\": [\n");
    snprintf(path, sizeof path, "%s/other.json", dir);
    pgt_write(path, "{\"format\": \"plurigrid-node/1\"}\n");
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    pgt_write(path, "not listed\n");
    pgt_http *h = serve(dir, NULL, NULL);

    const char *src = example("examples/hello-microworld.json");
    char *text = pgt_slurp(src, NULL);
    pgt_http_reply r = {0};
    assert_int_equal(req(h, "PUT", "/api/worlds/hello-microworld", text, &r), 201);
    assert_string_equal(pgt_http_header(&r, "Location"), "/api/worlds/hello-microworld");
    json_t *v = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(v, "name")), "hello-microworld");
    assert_int_equal(json_integer_value(json_object_get(v, "buses")), 3);
    assert_int_equal(json_integer_value(json_object_get(v, "branches")), 2);
    json_decref(v);
    pgt_http_reply_free(&r);

    /* the file saved reads back equal to what was sent, and so does what GET answers */
    pg_world *orig = NULL, *saved = NULL, *loaded = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_json_read_file(src, &orig, NULL, &err), PG_OK);
    snprintf(path, sizeof path, "%s/hello-microworld.json", dir);
    assert_int_equal(pg_world_json_read_file(path, &saved, NULL, &err), PG_OK);
    char diff[300];
    if (!pg_world_equal(orig, saved, diff, sizeof diff))
        fail_msg("saved world differs: %s", diff);
    assert_int_equal(req(h, NULL, "/api/worlds/hello-microworld", NULL, &r), 200);
    assert_int_equal(pg_world_json_read_buffer(r.body, r.len, "reply", &loaded, NULL, &err), PG_OK);
    if (!pg_world_equal(orig, loaded, diff, sizeof diff))
        fail_msg("loaded world differs: %s", diff);
    pgt_http_reply_free(&r);

    /* the list: by name, counts, bytes, modified */
    v = expect(h, NULL, "/api/worlds", NULL, 200);
    assert_string_equal(json_string_value(json_object_get(v, "dir")), dir);
    json_t *list = json_object_get(v, "worlds");
    assert_int_equal(json_array_size(list), 3);
    json_t *b = json_array_get(list, 0), *w = json_array_get(list, 1), *o = json_array_get(list, 2);
    assert_string_equal(json_string_value(json_object_get(b, "name")), "broken");
    assert_true(contains(json_string_value(json_object_get(b, "error")), "JSON"));
    assert_null(json_object_get(b, "buses"));
    assert_string_equal(json_string_value(json_object_get(w, "name")), "hello-microworld");
    assert_int_equal(json_integer_value(json_object_get(w, "buses")), 3);
    assert_int_equal(json_integer_value(json_object_get(w, "branches")), 2);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(json_integer_value(json_object_get(w, "bytes")), st.st_size);
    char when[32];
    struct tm tm;
    gmtime_r(&st.st_mtime, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    assert_string_equal(json_string_value(json_object_get(w, "modified")), when);
    assert_null(json_object_get(w, "error"));
    assert_string_equal(json_string_value(json_object_get(o, "name")), "other");
    assert_true(contains(json_string_value(json_object_get(o, "error")), "plurigrid-world/1"));
    json_decref(v);

    /* a world that is not there */
    v = expect(h, NULL, "/api/worlds/nope", NULL, 404);
    error_of(v, 404);
    json_decref(v);
    /* a stored file that is not a world: 422 naming the place */
    v = expect(h, NULL, "/api/worlds/broken", NULL, 422);
    assert_true(json_integer_value(json_object_get(error_of(v, 422), "line")) > 0);
    json_decref(v);

    pg_world_free(orig);
    pg_world_free(saved);
    pg_world_free(loaded);
    free(text);
    assert_int_equal(pgt_http_stop(h), 0);
}

static void
test_worlds_names_stay_inside(void **state)
{
    (void)state;
    const char *dir = mkdir_tmp("worlds");
    const char *outside = pgt_tmp("outside.json");
    char *hello = pgt_slurp(example("examples/hello-microworld.json"), NULL);
    pgt_write(outside, hello);
    char link[600], hidden[600];
    snprintf(link, sizeof link, "%s/evil.json", dir);
    assert_int_equal(symlink(outside, link), 0);
    snprintf(hidden, sizeof hidden, "%s/.hidden.json", dir);
    pgt_write(hidden, hello);
    pgt_http *h = serve(dir, NULL, NULL);

    static const char *const bad[] = {
        "/api/worlds/..",
        "/api/worlds/%2e%2e",
        "/api/worlds/.hidden",
        "/api/worlds/%2ehidden",
        "/api/worlds/..%2foutside",
        "/api/worlds/%2e%2e%2foutside",
        "/api/worlds/a/b",
        "/api/worlds/a%2fb",
        "/api/worlds/../outside",
        "/api/worlds/%00x",
        "/api/worlds/evil",
        "/api/worlds/x%20y",
        "/api/worlds/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        pgt_http_reply r = {0};
        long st = req(h, NULL, bad[i], NULL, &r);
        if (st < 400 || st >= 500 || contains(r.body, "hello-microworld"))
            fail_msg("GET %s: status %ld: %.300s", bad[i], st, r.body);
        pgt_http_reply_free(&r);
        st = req(h, "PUT", bad[i], hello, &r);
        if (st < 400 || st >= 500)
            fail_msg("PUT %s: status %ld: %.300s", bad[i], st, r.body);
        pgt_http_reply_free(&r);
    }
    /* the link is not followed: not served, not replaced, and listed with an error */
    json_t *v = expect(h, NULL, "/api/worlds/evil", NULL, 404);
    assert_true(contains(msg_of(v), "symbolic link"));
    json_decref(v);
    char *small = pgt_slurp(example("examples/hello-microworld.json"), NULL);
    v = expect(h, "PUT", "/api/worlds/evil", small, 409);
    json_decref(v);
    char *after = pgt_slurp(outside, NULL);
    assert_string_equal(after, hello);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    v = expect(h, NULL, "/api/worlds", NULL, 200);
    json_t *list = json_object_get(v, "worlds");
    assert_int_equal(json_array_size(list), 1); /* evil; .hidden is not listed */
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
                        "evil");
    assert_true(contains(json_string_value(json_object_get(json_array_get(list, 0), "error")),
                         "symbolic link"));
    json_decref(v);
    free(after);
    free(small);
    free(hello);
    assert_int_equal(pgt_http_stop(h), 0);
}

static void
test_worlds_bad_input(void **state)
{
    (void)state;
    const char *dir = mkdir_tmp("worlds");
    pgt_http *h = serve(dir, NULL, NULL);
    /* not JSON: 400 with the line and column */
    json_t *v =
        expect(h, "PUT", "/api/worlds/w", "{\n  \"format\": \"plurigrid-world/1\",\n  ]\n}", 400);
    json_t *e = error_of(v, 400);
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 3);
    assert_true(json_integer_value(json_object_get(e, "column")) > 0);
    json_decref(v);
    v = expect(h, "POST", "/api/validate", "{\"format\": ", 400);
    error_of(v, 400);
    json_decref(v);

    /* a world that is not valid: 422 naming the component, its path and line */
    const char *src = example("examples/hello-microworld.json");
    const char *bad = pgt_variant(src, "bad.json", "\"pmax\": 50", "\"pmin\": 60, \"pmax\": 50");
    char *text = pgt_slurp(bad, NULL);
    v = expect(h, "PUT", "/api/worlds/w", text, 422);
    error_of(v, 422);
    assert_true(contains(msg_of(v), "diesel_gen"));
    json_decref(v);
    v = expect(h, "POST", "/api/validate", text, 422);
    assert_true(contains(msg_of(v), "diesel_gen"));
    json_decref(v);
    free(text);
    /* nothing was saved */
    char path[600];
    snprintf(path, sizeof path, "%s/w.json", dir);
    assert_int_not_equal(access(path, F_OK), 0);

    /* an unknown key of a world, a huge number, an empty body */
    bad = pgt_variant(src, "unknown.json", "\"base_kv\": 20}", "\"base_kv\": 20, \"colour\": 1}");
    text = pgt_slurp(bad, NULL);
    v = expect(h, "POST", "/api/validate", text, 422);
    e = error_of(v, 422);
    assert_true(contains(msg_of(v), "colour"));
    assert_true(contains(json_string_value(json_object_get(e, "path")), "$.buses[0]"));
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 7);
    json_decref(v);
    free(text);
    bad = pgt_variant(src, "huge.json", "\"base_mva\": 100", "\"base_mva\": 1e300");
    text = pgt_slurp(bad, NULL);
    v = expect(h, "PUT", "/api/worlds/w", text, 422);
    assert_true(contains(msg_of(v), "base_mva"));
    json_decref(v);
    free(text);
    v = expect(h, "POST", "/api/validate", "", 400);
    json_decref(v);
    assert_int_not_equal(access(path, F_OK), 0);

    /* a good world validates, with its counts and horizon */
    text = pgt_slurp(src, NULL);
    v = expect(h, "POST", "/api/validate", text, 200);
    assert_true(json_is_true(json_object_get(v, "valid")));
    assert_int_equal(json_integer_value(json_object_get(v, "buses")), 3);
    assert_int_equal(json_integer_value(json_object_get(v, "loads")), 3);
    assert_int_equal(json_integer_value(json_object_get(v, "renewables")), 3);
    assert_int_equal(json_integer_value(json_object_get(v, "steps")), 24);
    assert_near(json_number_value(json_object_get(v, "step_h")), 1, 0);
    json_decref(v);
    free(text);
    assert_int_equal(pgt_http_stop(h), 0);
}

/* ---------------------------------------------------------------- power flow */

static void
test_pf_equals_cli(void **state)
{
    (void)state;
    pgt_http *h = serve(NULL, NULL, NULL);
    const char *src = example("examples/hello-microworld.json");
    char *world = pgt_slurp(src, NULL);
    static const struct {
        const char *extra;
        const char *args[6];
    } cases[] = {
        {NULL, {"pf", "WORLD", "--json", "-", NULL}},
        {"\"step\": 12", {"pf", "WORLD", "--json", "-", "--step", "12"}},
        {"\"step\": \"peak\", \"enforce_q_lims\": true",
         {"pf", "WORLD", "--json", "-", "--step", "peak"}},
        {"\"dc\": true, \"step\": 3", {"pf", "WORLD", "--json", "-", "--dc", "--step"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *args[9];
        size_t n = 0;
        for (size_t k = 0; k < 6 && cases[i].args[k]; k++)
            args[n++] = k == 1 ? src : cases[i].args[k];
        if (i == 2)
            args[n++] = "--enforce-q-lims";
        if (i == 3)
            args[n++] = "3";
        args[n] = NULL;
        char *body = with_world(world, cases[i].extra);
        json_t *res = NULL, *job = run_job(h, "/api/jobs/pf", body, &res);
        assert_string_equal(json_string_value(json_object_get(job, "kind")), "pf");
        assert_non_null(res);
        json_t *cli = cli_json(args);
        drop_timings(res);
        drop_timings(cli);
        assert_json_equal(res, cli, "power flow through the API and plurigrid pf --json");
        json_decref(cli);
        json_decref(res);
        json_decref(job);
        free(body);
    }
    free(world);
    assert_int_equal(pgt_http_stop(h), 0);
}

static double
angle_diff(double a, double b)
{
    double d = fmod(a - b, 360.0);
    return d > 180 ? d - 360 : d < -180 ? d + 360 : d;
}

/* case14 through /api/import, then a pf job: MATPOWER's solution. */
static void
test_import_case14_pf_matpower(void **state)
{
    (void)state;
    pgt_http *h = serve(NULL, NULL, NULL);
    char *m = pgt_slurp(pgt_data_path("matpower/cases/case14.m"), NULL);
    json_t *imp = expect(h, "POST", "/api/import?name=case14", m, 200);
    json_t *world = json_object_get(imp, "world");
    assert_true(json_is_array(json_object_get(imp, "notes")));
    assert_string_equal(json_string_value(json_object_get(world, "name")), "case14");
    json_t *buses = json_object_get(world, "buses");
    assert_int_equal(json_array_size(buses), 14);
    /* every bus placed, no two closer than the layout's gap */
    for (size_t i = 0; i < 14; i++) {
        json_t *bi = json_array_get(buses, i);
        assert_true(json_is_number(json_object_get(bi, "x")));
        assert_true(json_is_number(json_object_get(bi, "y")));
        for (size_t k = 0; k < i; k++) {
            json_t *bk = json_array_get(buses, k);
            double dx = json_number_value(json_object_get(bi, "x")) -
                        json_number_value(json_object_get(bk, "x"));
            double dy = json_number_value(json_object_get(bi, "y")) -
                        json_number_value(json_object_get(bk, "y"));
            assert_true(sqrt(dx * dx + dy * dy) >= PG_LAYOUT_MIN_GAP - 1e-9);
        }
    }
    char *wt = json_dumps(world, JSON_COMPACT);
    char *body = with_world(wt, NULL);
    json_t *res = NULL, *job = run_job(h, "/api/jobs/pf", body, &res);
    assert_non_null(res);
    assert_true(json_is_true(json_object_get(res, "converged")));

    size_t cols, rows;
    double *v;
    char **hd;
    rows = pgt_read_csv(pgt_data_path("matpower/reference/case14/pf_bus.csv"), &cols, &v, &hd);
    json_t *rb = json_object_get(res, "buses");
    assert_int_equal(json_array_size(rb), rows);
    for (size_t i = 0; i < rows; i++) {
        json_t *b = json_array_get(rb, i);
        assert_int_equal(json_integer_value(json_object_get(b, "number")),
                         (json_int_t)v[i * cols + pgt_csv_col(hd, cols, "bus_i")]);
        assert_near(json_number_value(json_object_get(b, "vm_pu")),
                    v[i * cols + pgt_csv_col(hd, cols, "Vm")], 1e-6);
        assert_near(angle_diff(json_number_value(json_object_get(b, "va_deg")),
                               v[i * cols + pgt_csv_col(hd, cols, "Va_deg")]),
                    0, 1e-5);
    }
    free(v);
    pgt_free_header(hd, cols);
    rows = pgt_read_csv(pgt_data_path("matpower/reference/case14/pf_gen.csv"), &cols, &v, &hd);
    json_t *rg = json_object_get(res, "thermals");
    assert_int_equal(json_array_size(rg), rows);
    for (size_t g = 0; g < rows; g++) {
        json_t *t = json_array_get(rg, g);
        assert_near(json_number_value(json_object_get(t, "p_mw")),
                    v[g * cols + pgt_csv_col(hd, cols, "Pg")], 1e-4);
        assert_near(json_number_value(json_object_get(t, "q_mvar")),
                    v[g * cols + pgt_csv_col(hd, cols, "Qg")], 1e-4);
    }
    free(v);
    pgt_free_header(hd, cols);
    rows = pgt_read_csv(pgt_data_path("matpower/reference/case14/pf_branch.csv"), &cols, &v, &hd);
    json_t *rl = json_object_get(res, "branches");
    assert_int_equal(json_array_size(rl), rows);
    static const char *const q[][2] = {
        {"pf_mw", "Pf"}, {"qf_mvar", "Qf"}, {"pt_mw", "Pt"}, {"qt_mvar", "Qt"}};
    for (size_t l = 0; l < rows; l++)
        for (size_t k = 0; k < 4; k++)
            assert_near(json_number_value(json_object_get(json_array_get(rl, l), q[k][0])),
                        v[l * cols + pgt_csv_col(hd, cols, q[k][1])], 1e-4);
    free(v);
    pgt_free_header(hd, cols);

    /* a case that is not MATPOWER: 422 naming the place; a bad ?name=: 400 */
    json_t *e = expect(h, "POST", "/api/import", "function mpc = x\nmpc.version = '2';\n", 422);
    error_of(e, 422);
    json_decref(e);
    e = expect(h, "POST", "/api/import?name=..", m, 400);
    json_decref(e);

    free(body);
    free(wt);
    free(m);
    json_decref(res);
    json_decref(job);
    json_decref(imp);
    assert_int_equal(pgt_http_stop(h), 0);
}

static void
test_pf_bad_requests(void **state)
{
    (void)state;
    pgt_http *h = serve(NULL, NULL, NULL);
    const char *src = example("examples/hello-microworld.json");
    char *world = pgt_slurp(src, NULL);
    char *body = with_world(world, "\"tol\": 1, \"colour\": 2");
    json_t *v = expect(h, "POST", "/api/jobs/pf", body, 400);
    assert_true(contains(msg_of(v), "'tol'") && contains(msg_of(v), "'colour'"));
    assert_true(contains(msg_of(v), "'enforce_q_lims'"));
    json_decref(v);
    free(body);
    static const struct {
        const char *extra;
        long status;
        const char *needle;
    } cases[] = {
        {"\"dc\": true, \"enforce_q_lims\": true", 400, "DC"},
        {"\"dc\": 1", 400, "'dc'"},
        {"\"step\": 24", 422, "step"},
        {"\"step\": -1", 422, "step"},
        {"\"step\": 1.5", 422, "step"},
        {"\"step\": 1e300", 422, "step"},
        {"\"step\": \"noon\"", 400, "step"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        body = with_world(world, cases[i].extra);
        v = expect(h, "POST", "/api/jobs/pf", body, cases[i].status);
        error_of(v, cases[i].status);
        if (!contains(msg_of(v), cases[i].needle))
            fail_msg("%s: %s", cases[i].extra, msg_of(v));
        json_decref(v);
        free(body);
    }
    v = expect(h, "POST", "/api/jobs/pf", "{}", 400);
    assert_true(contains(msg_of(v), "'world'"));
    json_decref(v);
    v = expect(h, "POST", "/api/jobs/pf", "{\"world\": [1]}", 400);
    json_decref(v);
    v = expect(h, "POST", "/api/jobs/pf", "[1, 2]", 400);
    json_decref(v);
    /* bad JSON: the line and column */
    v = expect(h, "POST", "/api/jobs/pf", "{\"world\":\n {\"format\" \"x\"}}", 400);
    json_t *e = error_of(v, 400);
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 2);
    assert_true(json_integer_value(json_object_get(e, "column")) > 0);
    json_decref(v);
    /* an invalid world inside the request: the path and line point into the request */
    const char *bad = pgt_variant(src, "bad.json", "\"pmax\": 50", "\"pmin\": 60, \"pmax\": 50");
    char *bt = pgt_slurp(bad, NULL);
    body = with_world(bt, NULL);
    v = expect(h, "POST", "/api/jobs/pf", body, 422);
    error_of(v, 422);
    assert_true(contains(msg_of(v), "diesel_gen"));
    json_decref(v);
    free(body);
    free(bt);
    bad = pgt_variant(src, "unknown.json", "\"base_kv\": 20}", "\"base_kv\": 20, \"colour\": 1}");
    bt = pgt_slurp(bad, NULL);
    body = with_world(bt, NULL);
    v = expect(h, "POST", "/api/jobs/pf", body, 422);
    e = error_of(v, 422);
    assert_true(contains(msg_of(v), "colour"));
    assert_true(contains(json_string_value(json_object_get(e, "path")), "$.world.buses[0]"));
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 7);
    json_decref(v);
    free(body);
    free(bt);
    /* a world without series has no step */
    body = with_world("{\"format\": \"plurigrid-world/1\", \"base_mva\": 100, \"buses\": "
                      "[{\"name\": \"a\", \"type\": \"ref\"}, {\"name\": \"b\"}], "
                      "\"branches\": [{\"name\": \"ab\", \"from\": \"a\", \"to\": \"b\", "
                      "\"x\": 0.1}], \"thermals\": [{\"name\": \"g\", \"bus\": \"a\", "
                      "\"pmax\": 10}]}",
                      "\"step\": 0");
    v = expect(h, "POST", "/api/jobs/pf", body, 422);
    assert_true(contains(msg_of(v), "no time series"));
    json_decref(v);
    free(body);
    free(world);
    assert_int_equal(pgt_http_stop(h), 0);
}

/* Huge finite numbers: refused with 422 where the library's checks refuse them, a result (not a
 * crash) where the solver takes them; a number jansson cannot hold is bad JSON. */
static void
test_huge_numbers(void **state)
{
    (void)state;
    pgt_http *h = serve(NULL, NULL, NULL);
    const char *src = example("examples/hello-microworld.json");
    char *huge =
        pgt_slurp(pgt_variant(src, "huge.json",
                              "\"p\": 8, \"q\": 8, \"p_series\": \"active_load\", \"q_series\": "
                              "\"reactive_load\"",
                              "\"p\": 1e300, \"q\": 8"),
                  NULL);
    char *body = with_world(huge, NULL);
    json_t *v = expect(h, "POST", "/api/jobs/run", body, 422);
    assert_true(contains(msg_of(v), "load_1"));
    json_decref(v);
    json_t *res = NULL, *job = run_job(h, "/api/jobs/pf", body, &res);
    assert_non_null(res);
    assert_true(json_is_false(json_object_get(res, "converged")));
    assert_true(json_string_length(json_object_get(res, "reason")) > 0);
    json_decref(res);
    json_decref(job);
    free(body);
    body = with_world(huge, "\"step\": 1e308");
    v = expect(h, "POST", "/api/jobs/pf", body, 422);
    json_decref(v);
    free(body);
    v = expect(h, "POST", "/api/jobs/pf",
               "{\"world\": {\"format\": \"plurigrid-world/1\", \"base_mva\": "
               "1000000000000000000000000000000000000000000000000000}}",
               400);
    error_of(v, 400);
    json_decref(v);
    v = expect(h, "POST", "/api/jobs/pf", "{\"world\": {\"base_mva\": 1e999}}", 400);
    json_decref(v);
    free(huge);
    assert_true(pgt_http_alive(h));
    assert_int_equal(pgt_http_stop(h), 0);
}

/* ---------------------------------------------------------------- day-ahead */

static void
test_run_equals_cli(void **state)
{
    (void)state;
    pgt_http *h = serve(NULL, NULL, NULL);
    const char *src = example("examples/hello-microworld.json");
    char *world = pgt_slurp(src, NULL);
    char *body = with_world(world, "\"ac_check\": true");
    json_t *res = NULL, *job = run_job(h, "/api/jobs/run", body, &res);
    assert_string_equal(json_string_value(json_object_get(job, "kind")), "run");
    assert_non_null(res);
    const char *args[] = {"run", src, "--json", "-", NULL};
    json_t *cli = cli_json(args);
    drop_timings(res);
    drop_timings(cli);
    assert_json_equal(res, cli, "day-ahead through the API and plurigrid run --json");
    json_decref(res);
    json_decref(job);
    json_decref(cli);
    free(body);
    /* without the AC check there is none in the result */
    body = with_world(world, NULL);
    job = run_job(h, "/api/jobs/run", body, &res);
    assert_non_null(res);
    assert_true(json_is_null(json_object_get(res, "ac")) || !json_object_get(res, "ac"));
    json_decref(res);
    json_decref(job);
    free(body);
    body = with_world(world, "\"horizon\": 3");
    json_t *v = expect(h, "POST", "/api/jobs/run", body, 400);
    assert_true(contains(msg_of(v), "'horizon'"));
    json_decref(v);
    free(body);
    free(world);
    assert_int_equal(pgt_http_stop(h), 0);
}

/* ---------------------------------------------------------------- layout */

static void
test_layout(void **state)
{
    (void)state;
    pgt_http *h = serve(NULL, NULL, NULL);
    char *world = pgt_slurp(example("examples/hello-microworld.json"), NULL);
    char *body = with_world(world, "\"all\": true");
    json_t *v = expect(h, "POST", "/api/layout", body, 200);
    assert_string_equal(json_string_value(json_object_get(v, "format")), "plurigrid-world/1");
    json_t *buses = json_object_get(v, "buses");
    assert_int_equal(json_array_size(buses), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_true(json_is_number(json_object_get(json_array_get(buses, i), "x")));
        assert_true(json_is_number(json_object_get(json_array_get(buses, i), "y")));
    }
    /* the same world again: the same places (deterministic) */
    json_t *again = expect(h, "POST", "/api/layout", body, 200);
    assert_json_equal(v, again, "two layouts of one world");
    json_decref(again);
    json_decref(v);
    free(body);
    body = with_world(world, "\"all\": \"yes\"");
    v = expect(h, "POST", "/api/layout", body, 400);
    json_decref(v);
    free(body);
    body = with_world(world, "\"every\": true");
    v = expect(h, "POST", "/api/layout", body, 400);
    assert_true(contains(msg_of(v), "'every'"));
    json_decref(v);
    free(body);
    free(world);
    assert_int_equal(pgt_http_stop(h), 0);
}

/* ---------------------------------------------------------------- community */

static void
test_scenarios_and_community_run(void **state)
{
    (void)state;
    const char *data = pgt_data_path("citylearn-2022-fontana");
    pgt_http *h = serve(NULL, example("examples"), data);
    json_t *v = expect(h, NULL, "/api/scenarios", NULL, 200);
    json_t *list = json_object_get(v, "scenarios"), *lat = NULL, *row;
    size_t i;
    json_array_foreach(list, i, row)
    {
        const char *n = json_string_value(json_object_get(row, "name"));
        if (strcmp(n, "lattice/scenario.json") == 0)
            lat = row;
        assert_true(json_integer_value(json_object_get(row, "nodes")) > 0);
        assert_true(json_array_size(json_object_get(row, "variants")) > 0);
    }
    assert_non_null(lat);
    assert_int_equal(json_integer_value(json_object_get(lat, "nodes")), 4);
    assert_string_equal(json_string_value(json_object_get(lat, "community")), "lattice-demo");
    assert_int_equal(json_integer_value(json_object_get(lat, "intervals")), 48);
    json_decref(v);

    json_t *res = NULL,
           *job = run_job(h, "/api/jobs/community",
                          "{\"scenario\": \"lattice/scenario.json\", \"days\": 1}", &res);
    if (!res)
        fail_msg("community job: %s", json_dumps(job, 0));
    assert_string_equal(json_string_value(json_object_get(res, "format")),
                        "plurigrid-community-report/1");
    assert_int_equal(json_integer_value(json_object_get(res, "intervals")), 24);
    /* the market run equals the one `plurigrid community` plays */
    char scen[600];
    snprintf(scen, sizeof scen, "%s", example("examples/lattice/scenario.json"));
    const char *args[] = {"community", scen, "--days", "1", "--data", data, "--json", "-", NULL};
    json_t *cli = cli_json(args);
    json_t *a = json_object_get(json_array_get(json_object_get(res, "variants"), 0), "market");
    json_t *b = json_object_get(json_array_get(json_object_get(cli, "variants"), 0), "market");
    assert_non_null(a);
    assert_json_equal(a, b, "the community's market run through the API and plurigrid community");
    json_decref(cli);
    json_decref(res);
    json_decref(job);

    assert_int_equal(pgt_http_stop(h), 0);
}

static void
test_community_cancel(void **state)
{
    (void)state;
    pgt_http *h = serve(NULL, example("examples"), NULL);
    /* 24 intervals paced at 0.25 s each: 6 s unless cancelled */
    pgt_http_reply r = {0};
    assert_int_equal(req(h, "POST", "/api/jobs/community",
                         "{\"scenario\": \"offgrid-village/scenario.json\", \"days\": 1, "
                         "\"interval_s\": 0.25, \"market\": \"none\"}",
                         &r),
                     202);
    json_t *sub = body_json(&r);
    pgt_http_reply_free(&r);
    char href[128];
    snprintf(href, sizeof href, "%s", json_string_value(json_object_get(sub, "href")));
    json_decref(sub);
    /* wait until it has settled a few intervals */
    double done = 0;
    for (int i = 0; i < 300 && done < 3; i++) {
        json_t *job = expect(h, NULL, href, NULL, 200);
        done = json_number_value(json_object_get(json_object_get(job, "progress"), "done"));
        assert_string_not_equal(json_string_value(json_object_get(job, "status")), "done");
        json_decref(job);
        usleep(50000);
    }
    assert_true(done >= 3);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *v = expect(h, "DELETE", href, NULL, 200);
    json_decref(v);
    const char *status = NULL;
    json_t *job = NULL;
    for (int i = 0; i < 200; i++) {
        job = expect(h, NULL, href, NULL, 200);
        status = json_string_value(json_object_get(job, "status"));
        if (strcmp(status, "running") != 0 && strcmp(status, "queued") != 0)
            break;
        json_decref(job);
        job = NULL;
        usleep(20000);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_non_null(job);
    assert_string_equal(status, "cancelled");
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (took > 2)
        fail_msg("the cancel took %.2f s", took);
    json_t *prog = json_object_get(job, "progress");
    assert_true(json_number_value(json_object_get(prog, "done")) < 24);
    json_decref(job);
    assert_true(pgt_http_alive(h));
    assert_int_equal(pgt_http_stop(h), 0);
}

/* The server keeps one live state: a second community job while one is queued or running is
 * refused with 409 naming the first (their events would mix in /api/live); once the first is
 * cancelled, a new one is taken and the live state follows it. */
static void
test_community_one_at_a_time(void **state)
{
    (void)state;
    pgt_http *h = serve(NULL, example("examples"), NULL);
    const char *body = "{\"scenario\": \"offgrid-village/scenario.json\", \"days\": 1, "
                       "\"interval_s\": 0.25, \"market\": \"none\"}";
    json_t *sub = expect(h, "POST", "/api/jobs/community", body, 202);
    char id[64], href[128], source[80];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(sub, "id")));
    snprintf(href, sizeof href, "/api/jobs/%s", id);
    json_decref(sub);
    /* at once (queued or running) and again once it runs */
    for (int k = 0; k < 2; k++) {
        json_t *v = expect(h, "POST", "/api/jobs/community", body, 409);
        assert_string_equal(json_string_value(json_object_get(json_object_get(v, "error"), "code")),
                            "community_busy");
        if (!contains(msg_of(v), id))
            fail_msg("the 409 does not name the running job %s: %s", id, msg_of(v));
        json_decref(v);
        usleep(600000);
    }
    json_t *live = expect(h, NULL, "/api/live?history=1", NULL, 200);
    snprintf(source, sizeof source, "job %s", id);
    assert_string_equal(json_string_value(json_object_get(live, "source")), source);
    json_decref(live);
    /* other jobs are not held back */
    char *world = pgt_slurp(example("examples/hello-microworld.json"), NULL);
    char *pf = with_world(world, "\"dc\": false");
    json_t *v = expect(h, "POST", "/api/jobs/pf", pf, 202);
    json_decref(v);
    free(pf);
    free(world);
    /* cancelled: the next one is taken and the live state is its own */
    v = expect(h, "DELETE", href, NULL, 200);
    json_decref(v);
    json_t *job = expect(h, NULL, href, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(job, "status")), "cancelled");
    json_decref(job);
    sub = expect(h, "POST", "/api/jobs/community", body, 202);
    char id2[64];
    snprintf(id2, sizeof id2, "%s", json_string_value(json_object_get(sub, "id")));
    json_decref(sub);
    assert_string_not_equal(id, id2);
    snprintf(source, sizeof source, "job %s", id2);
    bool follows = false;
    for (int i = 0; i < 100 && !follows; i++) {
        live = expect(h, NULL, "/api/live?history=1", NULL, 200);
        const char *src = json_string_value(json_object_get(live, "source"));
        follows = src && strcmp(src, source) == 0;
        json_decref(live);
        if (!follows)
            usleep(50000);
    }
    assert_true(follows);
    snprintf(href, sizeof href, "/api/jobs/%s", id2);
    v = expect(h, "DELETE", href, NULL, 200);
    json_decref(v);
    assert_int_equal(pgt_http_stop(h), 0);
}

static void
test_community_bad_requests(void **state)
{
    (void)state;
    const char *dir = mkdir_tmp("scenarios");
    char p[600];
    snprintf(p, sizeof p, "%s/village", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    /* a link inside the folder to a scenario outside it */
    snprintf(p, sizeof p, "%s/village/out.json", dir);
    assert_int_equal(symlink(example("examples/offgrid-village/scenario.json"), p), 0);
    snprintf(p, sizeof p, "%s/outside", dir);
    assert_int_equal(symlink(example("examples/offgrid-village"), p), 0);
    snprintf(p, sizeof p, "%s/notes.json", dir);
    pgt_write(p, "{\"format\": \"plurigrid-world/1\"}");
    pgt_http *h = serve(NULL, dir, NULL);
    json_t *v = expect(h, NULL, "/api/scenarios", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(v, "scenarios")), 0);
    json_decref(v);
    static const struct {
        const char *body;
        long status;
        const char *needle;
    } cases[] = {
        {"{\"scenario\": \"../x.json\"}", 400, "scenario"},
        {"{\"scenario\": \"%2e%2e/x.json\"}", 400, "scenario"},
        {"{\"scenario\": \"/etc/passwd.json\"}", 400, "scenario"},
        {"{\"scenario\": \".hidden/s.json\"}", 400, "scenario"},
        {"{\"scenario\": \"village//out.json\"}", 400, "scenario"},
        {"{\"scenario\": \"village/out.json\"}", 404, "village/out.json"},
        {"{\"scenario\": \"outside/scenario.json\"}", 404, "outside/scenario.json"},
        {"{\"scenario\": \"notes.json\"}", 422, "plurigrid-community/1"},
        {"{\"scenario\": \"nope.json\"}", 404, "nope.json"},
        {"{\"scenario\": 3}", 400, "scenario"},
        {"{}", 400, "scenario"},
        {"{\"scenario\": \"a.json\", \"speed\": 1}", 400, "'speed'"},
        {"{\"scenario\": \"a.json\", \"days\": -1}", 422, "days"},
        {"{\"scenario\": \"a.json\", \"days\": 1e300}", 422, "days"},
        {"{\"scenario\": \"a.json\", \"interval_s\": 1e300}", 422, "interval_s"},
        {"{\"scenario\": \"a.json\", \"interval_s\": -1}", 422, "interval_s"},
        {"{\"scenario\": \"a.json\", \"variant\": 2}", 400, "variant"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        v = expect(h, "POST", "/api/jobs/community", cases[i].body, cases[i].status);
        error_of(v, cases[i].status);
        if (!contains(msg_of(v), cases[i].needle))
            fail_msg("%s: %s", cases[i].body, msg_of(v));
        json_decref(v);
    }
    assert_int_equal(pgt_http_stop(h), 0);

    /* a real scenario with a variant or market it does not have */
    h = serve(NULL, example("examples"), NULL);
    v = expect(h, "POST", "/api/jobs/community",
               "{\"scenario\": \"offgrid-village/scenario.json\", \"variant\": \"nope\"}", 422);
    assert_true(contains(msg_of(v), "nope"));
    json_decref(v);
    v = expect(h, "POST", "/api/jobs/community",
               "{\"scenario\": \"offgrid-village/scenario.json\", \"market\": \"barter\"}", 422);
    assert_true(contains(msg_of(v), "barter"));
    json_decref(v);
    assert_int_equal(pgt_http_stop(h), 0);

    /* no scenarios folder */
    h = serve(NULL, NULL, NULL);
    v = expect(h, "POST", "/api/jobs/community", "{\"scenario\": \"a/b.json\"}", 409);
    assert_true(contains(msg_of(v), "--scenarios"));
    json_decref(v);
    v = expect(h, NULL, "/api/scenarios", NULL, 200);
    assert_true(json_is_null(json_object_get(v, "dir")));
    json_decref(v);
    assert_int_equal(pgt_http_stop(h), 0);
}

static int
teardown(void **state)
{
    pgt_http_teardown(state);
    return pgt_teardown_tmpdir(state);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_worlds_without_folder, teardown),
        cmocka_unit_test_teardown(test_worlds_folder_made, teardown),
        cmocka_unit_test_teardown(test_worlds_save_list_load, teardown),
        cmocka_unit_test_teardown(test_worlds_names_stay_inside, teardown),
        cmocka_unit_test_teardown(test_worlds_bad_input, teardown),
        cmocka_unit_test_teardown(test_pf_equals_cli, teardown),
        cmocka_unit_test_teardown(test_import_case14_pf_matpower, teardown),
        cmocka_unit_test_teardown(test_pf_bad_requests, teardown),
        cmocka_unit_test_teardown(test_huge_numbers, teardown),
        cmocka_unit_test_teardown(test_run_equals_cli, teardown),
        cmocka_unit_test_teardown(test_layout, teardown),
        cmocka_unit_test_teardown(test_scenarios_and_community_run, teardown),
        cmocka_unit_test_teardown(test_community_cancel, teardown),
        cmocka_unit_test_teardown(test_community_one_at_a_time, teardown),
        cmocka_unit_test_teardown(test_community_bad_requests, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
