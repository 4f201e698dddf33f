/* The nats-server fixtures themselves: a server accepts clients on its port, a cluster forms its
 * routes, kill and restart keep the port, the monitoring counts connections, and no server
 * outlives the test that started it, also when that test is killed with SIGKILL. */
#include "harness.h"
#include "nats_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A raw client connection (the fixture must not depend on the code under test). */
static int
raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool
port_open(int port)
{
    int fd = raw_connect(port);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void
test_one_server(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    assert_int_equal(pgt_nats_count(s), 1);
    char want[64];
    snprintf(want, sizeof want, "nats://127.0.0.1:%d", pgt_nats_port(s, 0));
    assert_string_equal(pgt_nats_url(s, 0), want);
    assert_string_equal(pgt_nats_urls(s), want);
    assert_true(pgt_nats_running(s, 0));
    assert_int_equal(pgt_nats_connections(s, 0), 0);

    /* A client that says CONNECT is counted by the monitoring. */
    int fd = raw_connect(pgt_nats_port(s, 0));
    assert_true(fd >= 0);
    const char *hello = "CONNECT {\"verbose\":false}\r\nPING\r\n";
    assert_int_equal(send(fd, hello, strlen(hello), 0), (ssize_t)strlen(hello));
    assert_true(pgt_nats_wait_connections(s, 0, 1, 5.0));
    assert_int_equal(pgt_nats_busiest(s), 0);
    close(fd);

    int port = pgt_nats_port(s, 0);
    pgt_nats_kill(s, 0);
    assert_false(pgt_nats_running(s, 0));
    assert_false(port_open(port));
    assert_int_equal(pgt_nats_connections(s, 0), -1);
    pgt_nats_restart(s, 0);
    assert_true(pgt_nats_running(s, 0));
    assert_int_equal(pgt_nats_port(s, 0), port);
    assert_true(port_open(port));
    assert_int_equal(pgt_nats_live_count(), 1);
    pgt_nats_stop(s);
    assert_int_equal(pgt_nats_live_count(), 0);
    assert_false(port_open(port));
}

static void
test_cluster(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_cluster(3);
    assert_int_equal(pgt_nats_count(s), 3);
    assert_int_equal(pgt_nats_live_count(), 3);
    /* The list has every server, in order. */
    char want[200];
    snprintf(want, sizeof want, "%s,%s,%s", pgt_nats_url(s, 0), pgt_nats_url(s, 1),
             pgt_nats_url(s, 2));
    assert_string_equal(pgt_nats_urls(s), want);
    for (size_t i = 0; i < 3; i++) {
        char *routez = pgt_nats_monitor_get(s, i, "/routez");
        assert_non_null(routez);
        assert_non_null(strstr(routez, "\"num_routes\": 2"));
        free(routez);
    }
    /* Two clients on server 2: it is the busiest. */
    int a = raw_connect(pgt_nats_port(s, 2)), b = raw_connect(pgt_nats_port(s, 2));
    int c = raw_connect(pgt_nats_port(s, 1));
    const char *hello = "CONNECT {\"verbose\":false}\r\nSUB probe.x 1\r\nPING\r\n";
    assert_true(send(a, hello, strlen(hello), 0) > 0);
    assert_true(send(b, hello, strlen(hello), 0) > 0);
    assert_true(send(c, hello, strlen(hello), 0) > 0);
    assert_true(pgt_nats_wait_connections(s, 2, 2, 5.0));
    assert_true(pgt_nats_wait_connections(s, 1, 1, 5.0));
    assert_int_equal(pgt_nats_busiest(s), 2);
    /* The interest of server 2's subscriptions reaches server 0 over the routes. */
    assert_true(pgt_nats_wait_subscriptions(s, 0, 1, 5.0));
    close(a);
    close(b);
    close(c);

    /* Killed and restarted on its ports, a server rejoins the cluster. */
    int port = pgt_nats_port(s, 1);
    pgt_nats_kill(s, 1);
    assert_int_equal(pgt_nats_live_count(), 2);
    pgt_nats_restart(s, 1);
    assert_int_equal(pgt_nats_port(s, 1), port);
    char *routez = pgt_nats_monitor_get(s, 1, "/routez");
    assert_non_null(routez);
    assert_non_null(strstr(routez, "\"num_routes\": 2"));
    free(routez);
    pgt_nats_stop(s);
    assert_int_equal(pgt_nats_live_count(), 0);
}

static void
child_fail(const char *msg)
{
    fprintf(stderr, "child: %s\n", msg);
    _exit(3);
}

/* A test process killed with SIGKILL takes its servers with it. */
static void
test_killed_test_takes_its_servers(void **state)
{
    (void)state;
    /* The servers the child starts are orphaned when it dies: this process adopts them, so it
     * can reap them (otherwise they would stay as zombies of an init that may not reap). */
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        pgt_nats_set_fail_hook(child_fail);
        pgt_nats *s = pgt_nats_cluster(2);
        int ports[2] = {pgt_nats_port(s, 0), pgt_nats_port(s, 1)};
        if (write(p[1], ports, sizeof ports) != (ssize_t)sizeof ports)
            _exit(4);
        for (;;)
            pause();
    }
    close(p[1]);
    int ports[2];
    ssize_t got = read(p[0], ports, sizeof ports);
    close(p[0]);
    assert_int_equal(got, (ssize_t)sizeof ports);
    assert_true(port_open(ports[0]) && port_open(ports[1]));
    kill(pid, SIGKILL);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    bool gone = false;
    for (int i = 0; i < 500 && !gone; i++) {
        gone = !port_open(ports[0]) && !port_open(ports[1]);
        if (!gone)
            sleep_ms(10);
    }
    assert_true(gone);
    /* Both servers are dead: reap them (they are ours now). */
    int reaped = 0;
    for (int i = 0; i < 500 && reaped < 2; i++) {
        pid_t r = waitpid(-1, &st, WNOHANG);
        if (r > 0)
            reaped++;
        else
            sleep_ms(10);
    }
    assert_int_equal(reaped, 2);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* A port nobody listens on refuses connections. */
static void
test_closed_url(void **state)
{
    (void)state;
    const char *url = pgt_nats_closed_url();
    int port = atoi(strrchr(url, ':') + 1);
    assert_true(port > 0);
    assert_false(port_open(port));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_one_server, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_cluster, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_killed_test_takes_its_servers, pgt_nats_teardown),
        cmocka_unit_test(test_closed_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
