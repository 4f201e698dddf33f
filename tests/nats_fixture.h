/* Test fixtures that run real nats-server processes (nats-server 2.9, a declared dependency) on
 * free loopback ports: one server, or a cluster of servers joined by routes, for the tests of the
 * NATS bus and of the lattice. They are always stopped: each server dies with the test process
 * (PR_SET_PDEATHSIG, so also when the test is killed with SIGKILL), at exit (atexit), and at the
 * end of each test (pgt_nats_stop, or pgt_nats_teardown as a cmocka teardown). A test that cannot
 * find or start nats-server fails with a message saying so; it never skips.
 *
 * Every function that cannot do its job fails the running cmocka test (fail_msg), after saying why
 * on standard error (with the end of the server's log when a server did not start); a program
 * that is not a cmocka test (a benchmark) sets pgt_nats_set_fail_hook first.
 *
 * Servers must be started from the thread that stays alive for the whole test (the main thread):
 * PR_SET_PDEATHSIG fires when the thread that forked the server exits.
 *
 * The server's program is $PGT_NATS_SERVER when set, otherwise nats-server on PATH, otherwise
 * /usr/sbin/nats-server or /usr/bin/nats-server. */
#ifndef PG_TEST_NATS_FIXTURE_H
#define PG_TEST_NATS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

/* A set of servers: one, or a cluster (each server routes to every other). */
typedef struct pgt_nats pgt_nats;

#define PGT_NATS_MAX_SERVERS 8

/* Starts one server on free loopback ports (client and monitoring) and returns when it accepts
 * clients. */
pgt_nats *pgt_nats_start(void);
/* The same, with the server's configuration file (nats-server's format) holding config, e.g.
 * "max_payload: 1024\n"; options the fixture gives on the command line (address, ports, name)
 * override the file's. */
pgt_nats *pgt_nats_start_config(const char *config);
/* Starts n servers (2..PGT_NATS_MAX_SERVERS) joined into one cluster by routes
 * (-cluster nats://127.0.0.1:P -routes ...) and returns when every server has a route to every
 * other (monitoring /routez). */
pgt_nats *pgt_nats_cluster(size_t n);

/* Stops every server of s (SIGKILL, waited for) and frees s. Accepts NULL. A server's log is
 * an unlinked temporary file, shown on standard error when it fails to start. */
void pgt_nats_stop(pgt_nats *s);
/* Stops every server this process started (the atexit hook does the same). */
void pgt_nats_stop_all(void);
/* A cmocka teardown: pgt_nats_stop_all(), then returns 0. Use it as the teardown of every test
 * that starts servers, so they are stopped when the test fails half-way. */
int pgt_nats_teardown(void **state);

/* How many servers s has. */
size_t pgt_nats_count(const pgt_nats *s);
/* Server i's client URL, "nats://127.0.0.1:PORT" (valid until pgt_nats_stop). */
const char *pgt_nats_url(const pgt_nats *s, size_t i);
/* Every server's client URL, comma-joined: "nats://127.0.0.1:P1,nats://127.0.0.1:P2,...". */
const char *pgt_nats_urls(const pgt_nats *s);
/* Server i's client port and monitoring (HTTP) port. */
int pgt_nats_port(const pgt_nats *s, size_t i);
int pgt_nats_monitor_port(const pgt_nats *s, size_t i);
/* Whether server i is running (not killed). */
bool pgt_nats_running(const pgt_nats *s, size_t i);

/* Kills server i with SIGKILL and waits until it is gone (its port refuses connections). */
void pgt_nats_kill(pgt_nats *s, size_t i);
/* Starts server i again, with the same ports, routes and options, and returns when it accepts
 * clients (and, in a cluster, has its routes to every other running server). */
void pgt_nats_restart(pgt_nats *s, size_t i);

/* Monitoring: server i's number of client connections (/connz num_connections), or -1 when the
 * server does not answer. */
long pgt_nats_connections(const pgt_nats *s, size_t i);
/* Server i's number of subscriptions, its clients' and those its routes told it of (/subsz
 * num_subscriptions), or -1 when it does not answer: wait on this for the interest of a
 * subscription made on another server of a cluster to arrive. */
long pgt_nats_subscriptions(const pgt_nats *s, size_t i);
/* The running server with the most client connections (the lowest index among equals). */
size_t pgt_nats_busiest(const pgt_nats *s);
/* Waits up to timeout_s until server i has at least n client connections (true) or not (false). */
bool pgt_nats_wait_connections(const pgt_nats *s, size_t i, long n, double timeout_s);
/* Waits up to timeout_s until server i has at least n subscriptions (see above). */
bool pgt_nats_wait_subscriptions(const pgt_nats *s, size_t i, long n, double timeout_s);
/* The body of an HTTP GET of path on server i's monitoring port (malloc'd, caller frees), or NULL
 * when it does not answer. */
char *pgt_nats_monitor_get(const pgt_nats *s, size_t i, const char *path);

/* A loopback port nobody listens on now (bound and closed), and a nats:// URL of it. */
int pgt_nats_free_port(void);
const char *pgt_nats_closed_url(void);

/* Whether a nats-server process started by this process is still alive (for a test that checks
 * nothing is left behind). */
size_t pgt_nats_live_count(void);

/* Replaces failing the cmocka test: fn(message) is called instead, and must not return (a
 * benchmark prints and exits). NULL restores the default. */
void pgt_nats_set_fail_hook(void (*fn)(const char *message));

#endif
