/* The HTTP server as a client meets it: the real `plurigrid serve` on a free port (http_fixture.h),
 * its replies, errors, auth, limits, path checks, slow clients, events and jobs, its options and
 * its stop on SIGTERM. */
#include "harness.h"
#include "http_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
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
    /* The API's description, built in from docs/openapi.json byte for byte. */
    size_t olen;
    char *openapi = pgt_slurp(pgt_source_path("docs/openapi.json"), &olen);
    assert_int_equal(pgt_http_get(h, "/api/openapi.json", NULL, &r), 200);
    assert_int_equal(r.len, olen);
    assert_memory_equal(r.body, openapi, olen);
    free(openapi);
    pgt_http_reply_free(&r);
    /* HEAD of a GET route: the headers, no body. */
    pgt_http_req rq = {.method = "HEAD", .path = "/api/health"};
    assert_int_equal(pgt_http_do(h, &rq, &r), 200);
    assert_int_equal(r.len, 0);
    pgt_http_reply_free(&r);
    assert_int_equal(pgt_http_stop(h), 0);
    /* SIGINT (Ctrl-C) stops it as well, with 0. */
    h = pgt_http_start(NULL);
    assert_int_equal(kill(pgt_http_pid(h), SIGINT), 0);
    double t0 = now_s();
    while (pgt_http_alive(h) && now_s() - t0 < 10)
        sleep_s(0.02);
    assert_false(pgt_http_alive(h));
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
    size_t raw_len[sizeof raw / sizeof *raw] = {0};
    raw_len[0] = sizeof "GET /index.html\0/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n" - 1;
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

/* ---------------------------------------------------------------- bodies */

static long
post(pgt_http *h, const char *method, const char *path, const char *body, size_t len, bool chunked,
     pgt_http_reply *r)
{
    pgt_http_req rq = {
        .method = method, .path = path, .body = body, .len = len, .chunked = chunked};
    return pgt_http_do(h, &rq, r);
}

static void
test_body_limit(void **state)
{
    (void)state;
    const char *args[] = {"--max-body", "1000", NULL};
    pgt_http *h = pgt_http_start(args);
    pgt_http_reply r;
    char *big = malloc(5000);
    assert_non_null(big);
    memset(big, ' ', 5000);
    big[0] = '{';
    big[4999] = '}';
    /* Declared: refused before it is read. */
    post(h, "POST", "/api/validate", big, 5000, false, &r);
    expect_error(&r, 413, "too_large");
    pgt_http_reply_free(&r);
    /* Not declared (chunked): refused once more than the limit came. */
    post(h, "POST", "/api/validate", big, 5000, true, &r);
    expect_error(&r, 413, "too_large");
    pgt_http_reply_free(&r);
    /* Exactly the limit is taken (and then judged as a world: not a 413). */
    post(h, "POST", "/api/validate", big, 1000, false, &r);
    assert_int_not_equal(r.status, 413);
    assert_int_not_equal(r.status, 0);
    pgt_http_reply_free(&r);
    free(big);
    /* A huge declared length, and nothing sent: 413 at once, nothing waited for. */
    int fd = pgt_http_connect(h);
    const char huge[] = "POST /api/validate HTTP/1.1\r\nHost: x\r\nContent-Length: "
                        "99999999999999999999\r\n\r\n";
    assert_true(pgt_http_send(fd, huge, sizeof huge - 1));
    bool closed;
    char *got = pgt_http_read_until(fd, "}", 10, &closed);
    assert_non_null(strstr(got, " 413 "));
    free(got);
    close(fd);
    fd = pgt_http_connect(h);
    const char large[] = "PUT /api/worlds/x HTTP/1.1\r\nHost: x\r\nContent-Length: "
                         "1073741824\r\n\r\n{";
    assert_true(pgt_http_send(fd, large, sizeof large - 1));
    got = pgt_http_read_until(fd, "}", 10, &closed);
    assert_non_null(strstr(got, " 413 "));
    free(got);
    close(fd);
    /* A chunked body that never ends: cut off, and the server goes on. */
    size_t n = (size_t)8 << 20;
    char *endless = malloc(n);
    assert_non_null(endless);
    memset(endless, 'x', n);
    long st = post(h, "POST", "/api/validate", endless, n, true, &r);
    assert_true(st == 0 || st == 413);
    pgt_http_reply_free(&r);
    free(endless);
    assert_int_equal(pgt_http_get(h, "/api/health", NULL, &r), 200);
    pgt_http_reply_free(&r);
    /* Bad JSON: 400 with where. */
    const char *bad = "{\n  \"format\": \"plurigrid-world/1\",\n  ]\n}";
    post(h, "POST", "/api/validate", bad, strlen(bad), false, &r);
    expect_error(&r, 400, "bad_json");
    json_t *v = body_json(&r);
    json_t *e = json_object_get(v, "error");
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 3);
    assert_true(json_integer_value(json_object_get(e, "column")) > 0);
    json_decref(v);
    pgt_http_reply_free(&r);
    assert_int_equal(pgt_http_stop(h), 0);
}

/* ---------------------------------------------------------------- jobs and events */

/* A pf job's body: {"world": hello-microworld}. malloc'd. */
static char *
pf_body(void)
{
    char *world = pgt_slurp(pgt_source_path("examples/hello-microworld.json"), NULL);
    size_t n = strlen(world) + 32;
    char *b = malloc(n);
    assert_non_null(b);
    snprintf(b, n, "{\"world\": %s}", world);
    free(world);
    return b;
}

/* A community job paced at interval_s a step (24 steps): a job that runs as long as a test
 * needs. Returns the reply's status; id receives the job's id when 202. */
static long
submit_slow(pgt_http *h, double interval_s, char id[64])
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"scenario\": \"offgrid-village/scenario.json\", \"days\": 1, "
             "\"interval_s\": %g, \"market\": \"none\"}",
             interval_s);
    pgt_http_reply r;
    long st = post(h, "POST", "/api/jobs/community", body, strlen(body), false, &r);
    if (st == 202) {
        json_t *v = body_json(&r);
        snprintf(id, 64, "%s", json_string_value(json_object_get(v, "id")));
        json_decref(v);
    }
    pgt_http_reply_free(&r);
    return st;
}

static long
submit_pf(pgt_http *h, char id[64])
{
    char *b = pf_body();
    pgt_http_reply r;
    long st = post(h, "POST", "/api/jobs/pf", b, strlen(b), false, &r);
    free(b);
    if (st == 202) {
        json_t *v = body_json(&r);
        snprintf(id, 64, "%s", json_string_value(json_object_get(v, "id")));
        json_decref(v);
    }
    pgt_http_reply_free(&r);
    return st;
}

/* GET /api/jobs/ID[?wait=W]: the job's JSON (status 200 expected). */
static json_t *
job_get(pgt_http *h, const char *id, const char *wait)
{
    char path[160];
    snprintf(path, sizeof path, "/api/jobs/%s%s%s", id, wait ? "?wait=" : "", wait ? wait : "");
    pgt_http_reply r;
    long st = pgt_http_get(h, path, NULL, &r);
    if (st != 200)
        fail_msg("GET %s: %ld %s", path, st, r.body);
    json_t *v = body_json(&r);
    pgt_http_reply_free(&r);
    return v;
}

static const char *
status_of(const json_t *job)
{
    const char *s = json_string_value(json_object_get(job, "status"));
    assert_non_null(s);
    return s;
}

static void
test_jobs(void **state)
{
    (void)state;
    const char *args[] = {"--scenarios",
                          pgt_source_path("examples"),
                          "--job-threads",
                          "1",
                          "--max-jobs",
                          "2",
                          "--keep-jobs",
                          "3",
                          NULL};
    pgt_http *h = pgt_http_start(args);
    pgt_http_reply r;
    char a[64], b[64], c[64];
    /* A pf job, waited for with ?wait= in one request. */
    assert_int_equal(submit_pf(h, a), 202);
    double t0 = now_s();
    json_t *job = job_get(h, a, "20");
    assert_string_equal(status_of(job), "done");
    assert_true(now_s() - t0 < 20);
    assert_string_equal(json_string_value(json_object_get(job, "kind")), "pf");
    assert_true(json_is_null(json_object_get(job, "error")));
    assert_non_null(json_string_value(json_object_get(job, "created")));
    json_decref(job);
    char path[160];
    snprintf(path, sizeof path, "/api/jobs/%s/result", a);
    assert_int_equal(pgt_http_get(h, path, NULL, &r), 200);
    json_t *res = body_json(&r);
    assert_true(json_is_object(res));
    json_decref(res);
    pgt_http_reply_free(&r);

    /* One thread, two jobs at most: a running one, a queued one, and the third is refused (the
     * queued one a pf job: the server takes one community job at a time). */
    assert_int_equal(submit_slow(h, 0.5, b), 202);
    assert_int_equal(submit_pf(h, c), 202);
    char x[64];
    assert_int_equal(submit_pf(h, x), 429);
    char *body = pf_body();
    post(h, "POST", "/api/jobs/pf", body, strlen(body), false, &r);
    free(body);
    expect_error(&r, 429, NULL);
    assert_non_null(pgt_http_header(&r, "Retry-After"));
    pgt_http_reply_free(&r);
    /* ?wait= on a running job returns after the wait with it still running. */
    t0 = now_s();
    job = job_get(h, b, "0.5");
    double dt = now_s() - t0;
    assert_true(dt >= 0.4 && dt < 5);
    assert_string_equal(status_of(job), "running");
    json_decref(job);
    /* Its result is not ready: 409. */
    snprintf(path, sizeof path, "/api/jobs/%s/result", b);
    pgt_http_get(h, path, NULL, &r);
    expect_error(&r, 409, NULL);
    pgt_http_reply_free(&r);
    /* The queued one is cancelled at once. */
    job = job_get(h, c, NULL);
    assert_string_equal(status_of(job), "queued");
    json_decref(job);
    snprintf(path, sizeof path, "/api/jobs/%s", c);
    pgt_http_req del = {.method = "DELETE", .path = path};
    assert_int_equal(pgt_http_do(h, &del, &r), 200);
    job = body_json(&r);
    assert_string_equal(status_of(job), "cancelled");
    json_decref(job);
    pgt_http_reply_free(&r);
    /* The running one ends as cancelled, promptly. */
    snprintf(path, sizeof path, "/api/jobs/%s", b);
    del.path = path;
    t0 = now_s();
    long st = pgt_http_do(h, &del, &r);
    assert_true(st == 200 || st == 202);
    pgt_http_reply_free(&r);
    job = job_get(h, b, "10");
    assert_string_equal(status_of(job), "cancelled");
    assert_true(now_s() - t0 < 5);
    json_decref(job);
    /* A second cancel of an ended job, an unknown job, a bad wait. */
    pgt_http_do(h, &del, &r);
    assert_true(r.status == 200 || r.status == 409);
    pgt_http_reply_free(&r);
    pgt_http_get(h, "/api/jobs/0123456789abcdef01234567", NULL, &r);
    expect_error(&r, 404, "not_found");
    pgt_http_reply_free(&r);
    snprintf(path, sizeof path, "/api/jobs/%s?wait=31", a);
    pgt_http_get(h, path, NULL, &r);
    expect_error(&r, 400, NULL);
    pgt_http_reply_free(&r);
    snprintf(path, sizeof path, "/api/jobs/%s?wait=soon", a);
    pgt_http_get(h, path, NULL, &r);
    expect_error(&r, 400, NULL);
    pgt_http_reply_free(&r);
    /* Room again: and only the last --keep-jobs finished jobs are kept. */
    char d[64], e[64];
    assert_int_equal(submit_pf(h, d), 202);
    json_decref(job_get(h, d, "20"));
    assert_int_equal(submit_pf(h, e), 202);
    json_decref(job_get(h, e, "20"));
    snprintf(path, sizeof path, "/api/jobs/%s", a);
    pgt_http_get(h, path, NULL, &r);
    expect_error(&r, 404, NULL); /* a, the oldest, was dropped */
    pgt_http_reply_free(&r);
    assert_int_equal(pgt_http_get(h, "/api/jobs", NULL, &r), 200);
    json_t *list = body_json(&r);
    assert_int_equal(json_array_size(json_object_get(list, "jobs")), 3);
    json_decref(list);
    pgt_http_reply_free(&r);
    /* Stopping with a running job: it is cancelled and the server exits 0 promptly. */
    assert_int_equal(submit_slow(h, 1.0, b), 202);
    json_decref(job_get(h, b, NULL));
    t0 = now_s();
    assert_int_equal(pgt_http_stop(h), 0);
    assert_true(now_s() - t0 < 10);
}

/* The id of the last "id: N" line in text at or before the event that holds needle; 0 when
 * none. */
static unsigned long
event_id_before(const char *text, const char *needle)
{
    const char *end = strstr(text, needle);
    if (!end)
        return 0;
    unsigned long id = 0;
    for (const char *p = text; (p = strstr(p, "id: ")) && p < end; p += 4)
        id = strtoul(p + 4, NULL, 10);
    return id;
}

static void
test_events(void **state)
{
    (void)state;
    pgt_http *h = pgt_http_start(NULL);
    int fd = pgt_http_connect(h);
    const char get[] = "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_true(pgt_http_send(fd, get, sizeof get - 1));
    bool closed;
    char *head = pgt_http_read_until(fd, ": connected", 10, &closed);
    assert_non_null(strstr(head, " 200 "));
    assert_non_null(strstr(head, "text/event-stream"));
    assert_non_null(strstr(head, "X-Content-Type-Options: nosniff"));
    free(head);
    char id[64];
    assert_int_equal(submit_pf(h, id), 202);
    char *got = pgt_http_read_until(fd, "\"status\":\"done\"", 30, &closed);
    assert_false(closed);
    assert_non_null(strstr(got, "event: job"));
    assert_non_null(strstr(got, id));
    assert_non_null(strstr(got, "\"status\":\"queued\""));
    unsigned long first = event_id_before(got, "\"status\":\"queued\"");
    unsigned long last = event_id_before(got, "\"status\":\"done\"");
    assert_true(first >= 1);
    assert_true(last > first);
    free(got);
    close(fd);
    /* Reconnecting with Last-Event-ID: every event after it, at once. */
    fd = pgt_http_connect(h);
    char req[200];
    snprintf(req, sizeof req, "GET /api/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: %lu\r\n\r\n",
             first);
    assert_true(pgt_http_send(fd, req, strlen(req)));
    got = pgt_http_read_until(fd, "\"status\":\"done\"", 10, &closed);
    assert_non_null(strstr(got, "\"status\":\"done\""));
    char want[32];
    snprintf(want, sizeof want, "id: %lu\n", first + 1);
    assert_non_null(strstr(got, want));
    snprintf(want, sizeof want, "id: %lu\n", first);
    assert_null(strstr(got, want)); /* not the one it had */
    free(got);
    /* Stopping the server ends the stream at once (and the server exits 0). */
    double t0 = now_s();
    assert_int_equal(kill(pgt_http_pid(h), SIGTERM), 0);
    got = pgt_http_read_until(fd, NULL, 10, &closed);
    free(got);
    assert_true(closed);
    assert_true(now_s() - t0 < 5);
    close(fd);
    assert_int_equal(pgt_http_stop(h), 0);
}

/* A client of /api/events that stops reading while events pour in is dropped: once it is more
 * than the kept events behind, or, when the connection is so full that the server cannot write
 * at all, after --timeout; never does the server hold what it has not read. */
static void
test_events_slow_reader(void **state)
{
    (void)state;
    const char *args[] = {"--scenarios", pgt_source_path("examples"), "--timeout", "3",
                          "--log-level", "info", NULL};
    pgt_http *h = pgt_http_start(args);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    int small = 4096;
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)pgt_http_port(h));
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    const char get[] = "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_true(pgt_http_send(fd, get, sizeof get - 1));
    bool closed;
    free(pgt_http_read_until(fd, ": connected", 10, &closed));
    /* A community run as fast as it goes: thousands of events a second. */
    const char *body = "{\"scenario\": \"offgrid-village/scenario.json\", \"days\": 0}";
    pgt_http_reply r;
    char id[64] = "";
    assert_int_equal(post(h, "POST", "/api/jobs/community", body, strlen(body), false, &r), 202);
    json_t *v = body_json(&r);
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(v, "id")));
    json_decref(v);
    pgt_http_reply_free(&r);
    /* Not reading until the server has dropped this client. */
    double t0 = now_s();
    char *err = NULL;
    while (now_s() - t0 < 60) {
        err = pgt_http_stderr(h);
        if (strstr(err, "too slow to read was dropped") ||
            strstr(err, "GET /api/events: the client was too slow (timeout)"))
            break;
        free(err);
        err = NULL;
        sleep_s(0.1);
    }
    if (!err)
        fail_msg("the slow events client was not dropped within 60 s");
    free(err);
    /* What it reads now ends: the server closed the stream. */
    size_t total = 0;
    char *got = pgt_http_read_until(fd, NULL, 20, &closed);
    total = strlen(got);
    free(got);
    assert_true(closed);
    assert_true(total < ((size_t)16 << 20));
    close(fd);
    /* Others are served, and a new client gets the stream. */
    assert_int_equal(pgt_http_get(h, "/api/health", NULL, &r), 200);
    pgt_http_reply_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    pgt_http_req del = {.method = "DELETE", .path = path};
    pgt_http_do(h, &del, &r);
    pgt_http_reply_free(&r);
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
        cmocka_unit_test_teardown(test_body_limit, pgt_http_teardown),
        cmocka_unit_test_teardown(test_jobs, pgt_http_teardown),
        cmocka_unit_test_teardown(test_events, pgt_http_teardown),
        cmocka_unit_test_teardown(test_events_slow_reader, pgt_http_teardown),
        cmocka_unit_test_teardown(test_help_and_bad_options, pgt_http_teardown),
        cmocka_unit_test_teardown(test_stdout_full, pgt_http_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
