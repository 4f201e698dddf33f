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

/* ---------------------------------------------------------------- auth */

static const char TOKEN[] = "s3cret-token-0123456789abcdef";

/* A token file in the test's folder with mode; returns its path. */
static const char *
token_file(const char *name, const char *text, mode_t mode)
{
    const char *path = pgt_tmp(name);
    pgt_write(path, text);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void
test_auth(void **state)
{
    (void)state;
    pgt_http_reply r;
    /* Loopback without a token: no token needed. */
    pgt_http *h = pgt_http_start(NULL);
    assert_int_equal(pgt_http_get(h, "/api/jobs", NULL, &r), 200);
    pgt_http_reply_free(&r);
    assert_int_equal(pgt_http_stop(h), 0);

    char text[128];
    snprintf(text, sizeof text, "%s\n", TOKEN);
    const char *tf = token_file("token", text, 0600);
    const char *args[] = {"--token-file", tf, NULL};
    h = pgt_http_start(args);
    pgt_http_get(h, "/api/health", NULL, &r);
    expect_error(&r, 401, "unauthorized");
    assert_non_null(pgt_http_header(&r, "WWW-Authenticate"));
    expect_security_headers(&r);
    pgt_http_reply_free(&r);
    const char *wrong[] = {"Authorization: Bearer s3cret-token-0123456789abcdeX", NULL};
    pgt_http_get(h, "/api/health", wrong, &r);
    expect_error(&r, 401, "unauthorized");
    pgt_http_reply_free(&r);
    const char *prefix[] = {"Authorization: Bearer s3cret-token", NULL};
    pgt_http_get(h, "/api/health", prefix, &r);
    expect_error(&r, 401, NULL);
    pgt_http_reply_free(&r);
    const char *longer[] = {"Authorization: Bearer s3cret-token-0123456789abcdef0", NULL};
    pgt_http_get(h, "/api/health", longer, &r);
    expect_error(&r, 401, NULL);
    pgt_http_reply_free(&r);
    const char *basic[] = {"Authorization: Basic czNjcmV0", NULL};
    pgt_http_get(h, "/api/health", basic, &r);
    expect_error(&r, 401, NULL);
    pgt_http_reply_free(&r);
    char good[128];
    snprintf(good, sizeof good, "Authorization: Bearer %s", TOKEN);
    const char *right[] = {good, NULL};
    assert_int_equal(pgt_http_get(h, "/api/health", right, &r), 200);
    pgt_http_reply_free(&r);
    /* A 404 behind the token is a 401 without it (nothing is told about the API). */
    pgt_http_get(h, "/api/nope", NULL, &r);
    expect_error(&r, 401, NULL);
    pgt_http_reply_free(&r);
    /* Static files need no token. */
    assert_int_equal(pgt_http_get(h, "/", NULL, &r), 200);
    pgt_http_reply_free(&r);
    assert_int_equal(pgt_http_stop(h), 0);

    /* A token file readable by others is refused, with the fix. */
    char *err = NULL;
    const char *open_tf = token_file("token-open", text, 0644);
    const char *a2[] = {"--token-file", open_tf, NULL};
    assert_int_equal(pgt_http_refused(a2, &err), 2);
    assert_non_null(strstr(err, "chmod 600"));
    free(err);
    /* Too short; empty; a missing file. */
    const char *short_tf = token_file("token-short", "abc\n", 0600);
    const char *a3[] = {"--token-file", short_tf, NULL};
    assert_int_equal(pgt_http_refused(a3, &err), 2);
    assert_non_null(strstr(err, "16"));
    free(err);
    const char *spaced_tf = token_file("token-spaced", "two words in the token file\n", 0600);
    const char *a4[] = {"--token-file", spaced_tf, NULL};
    assert_int_equal(pgt_http_refused(a4, &err), 2);
    free(err);
    const char *a5[] = {"--token-file", "/nonexistent/token", NULL};
    assert_int_equal(pgt_http_refused(a5, &err), 2);
    assert_non_null(strstr(err, "/nonexistent/token"));
    free(err);
    /* Not loopback and no token: refused, naming the option. */
    const char *a6[] = {"--listen", "0.0.0.0:0", NULL};
    assert_int_equal(pgt_http_refused(a6, &err), 2);
    assert_non_null(strstr(err, "--token-file"));
    free(err);
    pgt_tmpdir_cleanup();
}

/* ---------------------------------------------------------------- limits */

static void
test_rate_limit(void **state)
{
    (void)state;
    const char *args[] = {"--rate", "2", "--burst", "4", NULL};
    pgt_http *h = pgt_http_start(args);
    pgt_http_reply r;
    int ok = 0;
    long last = 0;
    for (int i = 0; i < 10 && last != 429; i++) {
        last = pgt_http_get(h, "/api/health", NULL, &r);
        if (last == 200)
            ok++;
        else
            break;
        pgt_http_reply_free(&r);
    }
    assert_true(ok >= 4);
    assert_true(ok <= 6); /* 4 at once, and what refilled meanwhile */
    expect_error(&r, 429, "rate_limited");
    const char *ra = pgt_http_header(&r, "Retry-After");
    assert_non_null(ra);
    assert_true(atoi(ra) >= 1);
    pgt_http_reply_free(&r);
    /* After waiting as told, served again. */
    sleep_s(1.1);
    assert_int_equal(pgt_http_get(h, "/api/health", NULL, &r), 200);
    pgt_http_reply_free(&r);
    assert_int_equal(pgt_http_stop(h), 0);
}

/* Paths that try to leave the embedded files: never anything but the embedded files, never a
 * 500, and the server goes on. */
static void
test_path_traversal(void **state)
{
    (void)state;
    pgt_http *h = pgt_http_start(NULL);
    static const char *const paths[] = {
        "/../etc/passwd",
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E/etc/passwd",
        "/..%2fetc%2fpasswd",
        "/%2fetc%2fpasswd",
        "//etc/passwd",
        "/a/../../etc/passwd",
        "/./index.html",
        "/index.html/..",
        "/a\\..\\etc\\passwd",
        "/%5c..%5cetc%5cpasswd",
        "/%00",
        "/index.html%00",
        "/index.html%00.js",
        "/%252e%252e/x",
        "/api/../../etc/passwd",
        "/api/%2e%2e/health",
        "/api/jobs/..%2f..%2fetc",
        "/api/jobs/%2e%2e",
        "/api/jobs/.",
        "/api//jobs",
        "/%zz",
        "/etc/passwd",
        "/CMakeLists.txt",
        "/../CMakeLists.txt",
        "/../web/index.html",
        "/web/index.html",
        "/%c0%ae%c0%ae/etc/passwd",
        "/..;/etc/passwd",
    };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        pgt_http_reply r;
        long st = pgt_http_get(h, paths[i], NULL, &r);
        if (st != 400 && st != 404)
            fail_msg("path %zu: status %ld (%s), expected 400 or 404", i, st, r.error);
        assert_null(strstr(r.body, "root:"));
        assert_null(strstr(r.body, "cmake_minimum_required"));
        expect_security_headers(&r);
        pgt_http_reply_free(&r);
    }
    /* What a URL library will not send: a raw NUL (libmicrohttpd ends the path there, so this
     * asks for /index.html and may get it: an embedded file), a lone '%', no leading slash. */
    static const char *const raw[] = {
        "GET /index.html\0/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /% HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /%2 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /\x01/index.html HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET ../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET http://127.0.0.1/../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    static const size_t raw_len[] = {
        sizeof "GET /index.html\0/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n" - 1};
    for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
        int fd = pgt_http_connect(h);
        pgt_http_send(fd, raw[i], raw_len[i] ? raw_len[i] : strlen(raw[i]));
        bool closed;
        char *got = pgt_http_read_until(fd, "\r\n\r\n", 10, &closed);
        assert_null(strstr(got, "root:"));
        assert_null(strstr(got, " 500 "));
        if (i > 0)
            assert_null(strstr(got, " 200 "));
        free(got);
        close(fd);
    }
    /* Still serving. */
    pgt_http_reply r;
    assert_int_equal(pgt_http_get(h, "/index.html", NULL, &r), 200);
    pgt_http_reply_free(&r);
    assert_true(pgt_http_alive(h));
    assert_int_equal(pgt_http_stop(h), 0);
}

/* A client that sends half a request and then nothing: others are served meanwhile, and it is
 * cut off after --timeout. */
static void
test_slow_client(void **state)
{
    (void)state;
    const char *args[] = {"--timeout", "2", NULL};
    pgt_http *h = pgt_http_start(args);
    int slow[8];
    for (int i = 0; i < 8; i++) {
        slow[i] = pgt_http_connect(h);
        const char part[] = "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
        assert_true(pgt_http_send(slow[i], part, sizeof part - 1));
    }
    double t0 = now_s();
    for (int i = 0; i < 5; i++) {
        pgt_http_reply r;
        assert_int_equal(pgt_http_get(h, "/api/health", NULL, &r), 200);
        pgt_http_reply_free(&r);
    }
    assert_true(now_s() - t0 < 1.5); /* not held up by the slow ones */
    /* One more byte now and then does not keep a connection forever either: the timeout is
     * idle time, so a byte every second would; but nothing at all closes it. */
    for (int i = 0; i < 8; i++) {
        bool closed = false;
        char *got = pgt_http_read_until(slow[i], NULL, 8 - (now_s() - t0), &closed);
        free(got);
        if (!closed)
            fail_msg("slow connection %d still open %.1f s after it went quiet (timeout 2 s)", i,
                     now_s() - t0);
        close(slow[i]);
    }
    double dt = now_s() - t0;
    assert_true(dt >= 1.5);
    assert_true(dt < 8);
    pgt_http_reply r;
    assert_int_equal(pgt_http_get(h, "/api/health", NULL, &r), 200);
    pgt_http_reply_free(&r);
    assert_int_equal(pgt_http_stop(h), 0);
}

/* With --max-connections N, N idle connections take every place; the next client waits or is
 * refused, and is served again once the timeout has closed the idle ones. */
static void
test_max_connections(void **state)
{
    (void)state;
    const char *args[] = {"--max-connections", "3", "--timeout", "2", NULL};
    pgt_http *h = pgt_http_start(args);
    int idle[3];
    for (int i = 0; i < 3; i++)
        idle[i] = pgt_http_connect(h);
    sleep_s(0.3);
    pgt_http_reply r;
    pgt_http_req rq = {.path = "/api/health", .timeout_s = 1};
    long st = pgt_http_do(h, &rq, &r);
    assert_int_not_equal(st, 200);
    pgt_http_reply_free(&r);
    sleep_s(3.5);
    assert_int_equal(pgt_http_get(h, "/api/health", NULL, &r), 200);
    pgt_http_reply_free(&r);
    for (int i = 0; i < 3; i++)
        close(idle[i]);
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
        cmocka_unit_test_teardown(test_auth, pgt_http_teardown),
        cmocka_unit_test_teardown(test_rate_limit, pgt_http_teardown),
        cmocka_unit_test_teardown(test_path_traversal, pgt_http_teardown),
        cmocka_unit_test_teardown(test_slow_client, pgt_http_teardown),
        cmocka_unit_test_teardown(test_max_connections, pgt_http_teardown),
        cmocka_unit_test_teardown(test_help_and_bad_options, pgt_http_teardown),
        cmocka_unit_test_teardown(test_stdout_full, pgt_http_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
