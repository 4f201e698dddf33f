/* A node daemon is its own dashboard (`plurigrid node --http`, docs/http.md "Live state and
 * nodes"): the example community (examples/lattice: four homes) on a real nats-server, one
 * daemon per home on the wall clock, home-1 with --http 127.0.0.1:0. While the run goes on,
 * GET /api/node names the member, its community and market and the server it is connected to;
 * GET /api/live shows the members and the clearing of the intervals as they are settled; and
 * /api/events delivers "live" events. The clearing prices /api/live showed are the prices of the
 * report the daemon writes at the end (--json), interval by interval, exactly. Every process is
 * stopped at the end, also when the test fails (the teardown). */
#include "lattice_e2e.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static int
connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool
send_all(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads from fd until needle is in what came (or the peer closed, or timeout_s passed);
 * returns what came (malloc'd) and whether needle is in it. */
static char *
read_until(int fd, const char *needle, double timeout_s, bool *found)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    buf[0] = '\0';
    double end = pge_now() + timeout_s;
    *found = false;
    while (!(needle && strstr(buf, needle))) {
        double left = end - pge_now();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r <= 0)
            continue;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        ssize_t got = recv(fd, buf + len, cap - len, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
        buf[len] = '\0';
    }
    *found = needle && strstr(buf, needle);
    return buf;
}

/* GET path (HTTP/1.0: the reply ends when the connection closes): the status (0 when no reply
 * came) and the body parsed as JSON into *body (NULL when it is not JSON). */
static long
get_json(int port, const char *path, json_t **body)
{
    *body = NULL;
    int fd = connect_port(port);
    if (fd < 0)
        return 0;
    char rq[512];
    snprintf(rq, sizeof rq, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    long status = 0;
    if (send_all(fd, rq)) {
        bool found;
        char *t = read_until(fd, NULL, 20, &found);
        char *sep = strstr(t, "\r\n\r\n");
        if (strncmp(t, "HTTP/1.", 7) == 0 && sep) {
            status = strtol(t + 9, NULL, 10);
            *body = json_loads(sep + 4, 0, NULL);
        }
        free(t);
    }
    close(fd);
    return status;
}

static pge_proc *
start_http_node(const char *member, const char *member_file, const char *url)
{
    char json[4200];
    snprintf(json, sizeof json, "%s/%s.json", pgt_tmpdir(), member);
    const char *args[] = {"node",   "--config", member_file, "--nats",      url,
                          "--json", json,       "--http",    "127.0.0.1:0", NULL};
    return pge_start(member, args);
}

static void
test_node_dashboard(void **state)
{
    (void)state;
    pge_paths();
    pgt_nats *s = pgt_nats_start();
    const char *lattice = "{\"clock\": \"wall\", \"interval_s\": 0.25}";
    pge_proc *p[PGE_MEMBERS];
    char member[PGE_MEMBERS][24];
    for (int i = 0; i < PGE_MEMBERS; i++) {
        snprintf(member[i], sizeof member[i], "home-%d", i + 1);
        const char *f = pge_member_file(member[i], lattice);
        p[i] = i == 0 ? start_http_node(member[i], f, pgt_nats_url(s, 0))
                      : pge_start_node(member[i], f, pgt_nats_url(s, 0));
    }
    /* the first line of its standard error says where it listens */
    const char *listening = "plurigrid node: listening on http://127.0.0.1:";
    assert_true(pge_wait_log(p[0], 0, listening, 60) >= 0);
    size_t len;
    char *log = pge_log_text(p[0], &len);
    assert_true(strncmp(log, listening, strlen(listening)) == 0);
    int port = atoi(log + strlen(listening));
    free(log);
    assert_true(port > 0 && port < 65536);

    /* the event stream, from the start */
    int sse = connect_port(port);
    assert_true(sse >= 0);
    assert_true(send_all(sse, "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));

    /* the node */
    json_t *v = NULL;
    double end = pge_now() + 60;
    for (;;) {
        assert_int_equal(get_json(port, "/api/node", &v), 200);
        assert_non_null(v);
        assert_string_equal(json_string_value(json_object_get(v, "member")), "home-1");
        assert_string_equal(json_string_value(json_object_get(v, "community")), "lattice-demo");
        assert_string_equal(json_string_value(json_object_get(v, "market")), "uniform");
        assert_int_equal(json_integer_value(json_object_get(v, "intervals")), PGE_INTERVALS);
        assert_true(json_is_null(json_object_get(v, "ledger")));
        if (json_is_true(json_object_get(v, "connected")))
            break;
        json_decref(v);
        assert_true(pge_now() < end);
        pge_sleep(0.05);
    }
    assert_string_equal(json_string_value(json_object_get(v, "server")), pgt_nats_url(s, 0));
    json_decref(v);

    /* the live state, until the clearing of interval 20 is there */
    json_t *last = NULL;
    long cleared = -1;
    end = pge_now() + 120;
    while (cleared < 20 && pge_now() < end && pge_alive(p[0])) {
        if (get_json(port, "/api/live", &v) != 200 || !v) {
            json_decref(v);
            break; /* the run is over: the server is gone */
        }
        json_t *cl = json_object_get(v, "clearing");
        if (json_is_object(cl)) {
            cleared = (long)json_integer_value(json_object_get(cl, "interval"));
            json_decref(last);
            last = v;
        } else {
            json_decref(v);
        }
        pge_sleep(0.1);
    }
    assert_non_null(last);
    assert_true(cleared >= 20);
    assert_true(json_is_true(json_object_get(last, "active")));
    assert_string_equal(json_string_value(json_object_get(last, "source")), "node home-1");
    json_t *members = json_object_get(last, "members");
    assert_int_equal(json_array_size(members), PGE_MEMBERS);
    for (size_t i = 0; i < PGE_MEMBERS; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(members, i), "name")),
                            member[i]);
    /* home-1's own telemetry is there */
    assert_true(json_is_object(json_object_get(json_array_get(members, 0), "telemetry")));

    /* "live" events came on the stream */
    bool found;
    char *t = read_until(sse, "event: live", 30, &found);
    free(t);
    close(sse);
    assert_true(found);

    for (int i = 0; i < PGE_MEMBERS; i++)
        assert_int_equal(pge_wait_exit(p[i], 240), 0);

    /* the prices shown are the report's */
    char path[4200];
    snprintf(path, sizeof path, "%s/home-1.json", pgt_tmpdir());
    json_t *report = pge_json_load(path);
    json_t *prices = json_object_get(
        json_object_get(
            json_object_get(json_array_get(json_object_get(report, "variants"), 0), "market"),
            "intervals"),
        "price");
    assert_int_equal(json_array_size(prices), PGE_INTERVALS);
    json_t *h = json_object_get(last, "history");
    json_t *hi = json_object_get(h, "interval"), *hp = json_object_get(h, "price");
    assert_int_equal(json_array_size(hi), json_array_size(hp));
    size_t compared = 0, traded = 0;
    for (size_t k = 0; k < json_array_size(hi); k++) {
        long t_k = (long)json_integer_value(json_array_get(hi, k));
        if (t_k > cleared)
            continue; /* the interval open now */
        json_t *a = json_array_get(hp, k), *b = json_array_get(prices, (size_t)t_k);
        assert_non_null(b);
        if (json_is_null(b)) {
            assert_true(json_is_null(a));
        } else {
            if (json_number_value(a) != json_number_value(b))
                fail_msg("interval %ld: /api/live showed %.17g $/kWh, the report has %.17g", t_k,
                         json_number_value(a), json_number_value(b));
            traded++;
        }
        compared++;
    }
    assert_true(compared >= 21);
    assert_true(traded >= 1);
    json_decref(report);
    json_decref(last);
    pge_pass();
}

/* --http's mistakes are usage errors, found before the run: a token file without --http, a
 * non-loopback address without a token, an address that is not one, an empty token file, a
 * token file others may read. */
static void
test_http_usage(void **state)
{
    (void)state;
    pge_paths();
    const char *f = pge_member_file("home-1", NULL);
    char empty[4200];
    snprintf(empty, sizeof empty, "%s/empty.token", pgt_tmpdir());
    pgt_write(empty, "\n");
    assert_int_equal(chmod(empty, 0600), 0);
    char shared[4200];
    snprintf(shared, sizeof shared, "%s/shared.token", pgt_tmpdir());
    pgt_write(shared, "0123456789abcdef0123\n");
    assert_int_equal(chmod(shared, 0644), 0);
    const struct {
        const char *a, *b, *c, *d, *says;
    } cases[] = {
        {"--token-file", empty, NULL, NULL, "--token-file goes with --http"},
        {"--http", "0.0.0.0:0", NULL, NULL, "token"},
        {"--http", "nowhere", NULL, NULL, "nowhere"},
        {"--http", "127.0.0.1:0", "--token-file", empty, "it needs 16 or more"},
        {"--http", "127.0.0.1:0", "--token-file", shared, "a token must be private"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const char *args[] = {"node",     "--config", f,          "--nats",   "nats://127.0.0.1:1",
                              cases[k].a, cases[k].b, cases[k].c, cases[k].d, NULL};
        char *out = NULL, *err = NULL;
        int rc = pgt_run_cli(args, NULL, &out, &err);
        if (rc != 2 || !strstr(err, cases[k].says))
            fail_msg("case %zu: exit %d, standard error: %s", k, rc, err);
        assert_null(strstr(err, "listening on http"));
        free(out);
        free(err);
    }
    pge_pass();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http_usage, pge_setup, pge_teardown),
        cmocka_unit_test_setup_teardown(test_node_dashboard, pge_setup, pge_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
