/* The HTTP server as a client meets it: the real `plurigrid serve` on a free port (http_fixture.h),
 * its replies, errors, auth, limits, path checks, slow clients, events and jobs, its options and
 * its stop on SIGTERM. */
#include "harness.h"
#include "http_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

static double __attribute__((unused)) now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void __attribute__((unused)) sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The body of r as JSON; fails the test when it is not. */
static json_t *
body_json(const pgt_http_reply *r)
{
    json_error_t je;
    json_t *v = json_loadb(r->body, r->len, 0, &je);
    if (!v)
        fail_msg("the reply (status %ld) is not JSON: %s\n%s", r->status, je.text, r->body);
    return v;
}

/* Fails unless r is an error reply {"error": {"status": status, "code": code, "message"}}. */
static void
expect_error(const pgt_http_reply *r, long status, const char *code)
{
    if (r->status != status)
        fail_msg("status %ld, expected %ld: %s", r->status, status, r->body);
    const char *ct = pgt_http_header(r, "Content-Type");
    assert_non_null(ct);
    assert_string_equal(ct, "application/json");
    json_t *v = body_json(r);
    json_t *e = json_object_get(v, "error");
    assert_true(json_is_object(e));
    assert_int_equal(json_integer_value(json_object_get(e, "status")), status);
    if (code)
        assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_true(json_string_length(json_object_get(e, "message")) > 0);
    json_decref(v);
}

static void
expect_security_headers(const pgt_http_reply *r)
{
    const char *v = pgt_http_header(r, "Content-Security-Policy");
    assert_non_null(v);
    assert_string_equal(v, "default-src 'self'");
    assert_string_equal(pgt_http_header(r, "X-Content-Type-Options"), "nosniff");
    assert_string_equal(pgt_http_header(r, "Referrer-Policy"), "no-referrer");
    assert_string_equal(pgt_http_header(r, "X-Frame-Options"), "DENY");
    assert_null(pgt_http_header(r, "Access-Control-Allow-Origin"));
}

/* ---------------------------------------------------------------- basics */

static void
test_health_and_stop(void **state)
{
    (void)state;
    pgt_http *h = pgt_http_start(NULL);
    pgt_http_reply r;
    assert_int_equal(pgt_http_get(h, "/api/health", NULL, &r), 200);
    expect_security_headers(&r);
    assert_string_equal(pgt_http_header(&r, "Content-Type"), "application/json");
    json_t *v = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(v, "mode")), "serve");
    assert_non_null(json_string_value(json_object_get(v, "version")));
    json_decref(v);
    pgt_http_reply_free(&r);
    /* HEAD of a GET route: the headers, no body. */
    pgt_http_req rq = {.method = "HEAD", .path = "/api/health"};
    assert_int_equal(pgt_http_do(h, &rq, &r), 200);
    assert_int_equal(r.len, 0);
    pgt_http_reply_free(&r);
    assert_int_equal(pgt_http_stop(h), 0);
}

static void
test_not_found_and_method(void **state)
{
    (void)state;
    pgt_http *h = pgt_http_start(NULL);
    pgt_http_reply r;
    pgt_http_get(h, "/api/nope", NULL, &r);
    expect_error(&r, 404, "not_found");
    expect_security_headers(&r);
    pgt_http_reply_free(&r);
    pgt_http_req rq = {.method = "POST", .path = "/api/health", .body = "{}", .len = 2};
    pgt_http_do(h, &rq, &r);
    expect_error(&r, 405, "method_not_allowed");
    assert_non_null(strstr(pgt_http_header(&r, "Allow"), "GET"));
    pgt_http_reply_free(&r);
    rq = (pgt_http_req){.method = "DELETE", .path = "/index.html"};
    pgt_http_do(h, &rq, &r);
    expect_error(&r, 405, NULL);
    pgt_http_reply_free(&r);
    pgt_http_get(h, "/nope.html", NULL, &r);
    assert_int_equal(r.status, 404);
    pgt_http_reply_free(&r);
    assert_int_equal(pgt_http_stop(h), 0);
}

static void
test_static_files(void **state)
{
    (void)state;
    pgt_http *h = pgt_http_start(NULL);
    pgt_http_reply r, r2;
    size_t len;
    char *index = pgt_slurp(pgt_source_path("web/index.html"), &len);
    assert_int_equal(pgt_http_get(h, "/", NULL, &r), 200);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.body, index, len);
    assert_string_equal(pgt_http_header(&r, "Content-Type"), "text/html; charset=utf-8");
    expect_security_headers(&r);
    const char *etag = pgt_http_header(&r, "ETag");
    assert_non_null(etag);
    char tag[256];
    snprintf(tag, sizeof tag, "%s", etag);
    assert_non_null(pgt_http_header(&r, "Cache-Control"));
    assert_int_equal(pgt_http_get(h, "/index.html", NULL, &r2), 200);
    assert_int_equal(r2.len, len);
    pgt_http_reply_free(&r2);
    /* The same file again with its ETag: 304, no body. */
    char inm[300];
    snprintf(inm, sizeof inm, "If-None-Match: %s", tag);
    const char *hdr[] = {inm, NULL};
    assert_int_equal(pgt_http_get(h, "/index.html", hdr, &r2), 304);
    assert_int_equal(r2.len, 0);
    pgt_http_reply_free(&r2);
    const char *stale[] = {"If-None-Match: \"0000\"", NULL};
    assert_int_equal(pgt_http_get(h, "/index.html", stale, &r2), 200);
    pgt_http_reply_free(&r2);
    pgt_http_reply_free(&r);
    free(index);
    assert_int_equal(pgt_http_stop(h), 0);
}

/* ---------------------------------------------------------------- the command */

static void
test_help_and_bad_options(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    const char *help[] = {"serve", "--help", NULL};
    assert_int_equal(pgt_run_cli(help, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "--listen"));
    assert_non_null(strstr(out, "--token-file"));
    free(out);
    free(err);
    const char *bad[] = {"serve", "--nope", NULL};
    PGT_EXPECT_CLI(bad, 2, "unknown option", "--nope");
    const char *bad_listen[] = {"serve", "--listen", "127.0.0.1:99999", NULL};
    PGT_EXPECT_CLI(bad_listen, 2, "--listen", "127.0.0.1:99999");
    const char *bad_listen2[] = {"serve", "--listen", "nowhere", NULL};
    PGT_EXPECT_CLI(bad_listen2, 2, "--listen");
    const char *no_value[] = {"serve", "--listen", NULL};
    PGT_EXPECT_CLI(no_value, 2, "--listen");
    const char *bad_count[] = {"serve", "--max-body", "-3", NULL};
    PGT_EXPECT_CLI(bad_count, 2, "--max-body");
    const char *bad_level[] = {"serve", "--log-level", "loud", NULL};
    PGT_EXPECT_CLI(bad_level, 2, "--log-level");
    const char *bad_dir[] = {"serve", "--worlds", "/nonexistent/folder", NULL};
    PGT_EXPECT_CLI(bad_dir, 2, "--worlds");
    /* The port is taken: a clear message and 2. */
    pgt_http *h = pgt_http_start(NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", pgt_http_port(h));
    const char *taken[] = {"--listen", addr, NULL};
    char *e = NULL;
    assert_int_equal(pgt_http_refused(taken, &e), 2);
    assert_non_null(strstr(e, "cannot listen"));
    free(e);
    assert_int_equal(pgt_http_stop(h), 0);
}

static void
test_stdout_full(void **state)
{
    (void)state;
    pgt_http *h = pgt_http_start_io(NULL, "/dev/full");
    pgt_http_reply r;
    assert_int_equal(pgt_http_get(h, "/api/health", NULL, &r), 200);
    pgt_http_reply_free(&r);
    assert_int_equal(pgt_http_stop(h), 0);
    /* --help to a full disk: 2, not a crash. */
    char *out = NULL, *err = NULL;
    const char *help[] = {"serve", "--help", NULL};
    assert_int_equal(pgt_run_cli_io(help, NULL, NULL, "/dev/full", &out, &err), 2);
    free(out);
    free(err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_health_and_stop, pgt_http_teardown),
        cmocka_unit_test_teardown(test_not_found_and_method, pgt_http_teardown),
        cmocka_unit_test_teardown(test_static_files, pgt_http_teardown),
        cmocka_unit_test_teardown(test_help_and_bad_options, pgt_http_teardown),
        cmocka_unit_test_teardown(test_stdout_full, pgt_http_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
