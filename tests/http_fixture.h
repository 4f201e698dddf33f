/* A test fixture that runs the real `plurigrid serve` on a free loopback port and talks HTTP to
 * it (libcurl, or raw sockets for what a well-behaved client would not send). The server is
 * always stopped: it dies with the test process (PR_SET_PDEATHSIG, also when the test is killed),
 * at exit (atexit), and at every pgt_http_stop or pgt_http_teardown (a cmocka teardown), so a
 * test that fails half-way leaves no server behind.
 *
 * The server's standard error goes to an unlinked temporary file: the fixture reads the port
 * from its first line ("plurigrid serve: listening on http://127.0.0.1:PORT") and a test can
 * read the whole of it (pgt_http_stderr). Every function that cannot do its job fails the
 * running cmocka test with a message saying why (with the server's standard error). Servers must
 * be started from the test's main thread (PR_SET_PDEATHSIG fires when the forking thread ends). */
#ifndef PG_TEST_HTTP_FIXTURE_H
#define PG_TEST_HTTP_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pgt_http pgt_http;

/* Starts `plurigrid serve ARGS... --listen 127.0.0.1:0` (no --listen added when args has one)
 * and returns when it has said where it listens. args is NULL-terminated (NULL: none). */
pgt_http *pgt_http_start(const char *const *args);
/* The same with the server's standard output going to stdout_path (/dev/full, ...). */
pgt_http *pgt_http_start_io(const char *const *args, const char *stdout_path);
/* Runs `plurigrid serve ARGS...` expecting it NOT to start: returns its exit status (-1 when
 * killed by a signal) once it exits, with its standard error in *err (caller frees); fails the
 * test when it starts listening instead (the server is then stopped). */
int pgt_http_refused(const char *const *args, char **err);

/* Stops the server with SIGTERM and waits for it (up to 20 s, then SIGKILL, which fails the
 * test); returns its exit status (-1 when a signal ended it). Frees h. NULL: returns 0. */
int pgt_http_stop(pgt_http *h);
/* Kills every server this process started (the atexit hook does the same). */
void pgt_http_kill_all(void);
/* A cmocka teardown: pgt_http_kill_all(), then 0. */
int pgt_http_teardown(void **state);

int pgt_http_port(const pgt_http *h);
/* "http://127.0.0.1:PORT" */
const char *pgt_http_url(const pgt_http *h);
/* Everything the server wrote to standard error so far (malloc'd; caller frees). */
char *pgt_http_stderr(const pgt_http *h);
/* Whether the server process is still running. */
bool pgt_http_alive(pgt_http *h);
/* The server's process id. */
int pgt_http_pid(const pgt_http *h);

/* A reply: status (0 when no reply came: the connection failed or was cut; error says how),
 * headers as received (one "Name: value\r\n" a line), body (NUL-terminated), and its length. */
typedef struct pgt_http_reply {
    long status;
    char *headers;
    char *body;
    size_t len;
    char error[256];
} pgt_http_reply;

/* A request: method (NULL: GET; "HEAD" sends no body back), path as sent (not normalised:
 * "/../x" stays), extra headers ("Name: value", NULL-terminated, or NULL), a body of len bytes
 * (NULL: none) sent with Content-Length, or with chunked transfer encoding when chunked. */
typedef struct pgt_http_req {
    const char *method;
    const char *path;
    const char *const *headers;
    const char *body;
    size_t len;
    bool chunked;
    double timeout_s; /* 0: 60 s */
} pgt_http_req;

/* Sends rq and fills *out (pgt_http_reply_free it); returns the status (0: no reply). */
long pgt_http_do(pgt_http *h, const pgt_http_req *rq, pgt_http_reply *out);
/* GET path (headers as above, NULL-terminated or NULL). */
long pgt_http_get(pgt_http *h, const char *path, const char *const *headers, pgt_http_reply *out);
void pgt_http_reply_free(pgt_http_reply *r);
/* The value of header name in r (case-insensitive), copied into a static buffer, or NULL. */
const char *pgt_http_header(const pgt_http_reply *r, const char *name);

/* Raw sockets: a connection to the server (fails the test when none), bytes sent on it (false
 * when the server closed it), and what comes back until needle appears, the server closes the
 * connection, or timeout_s passes: returns what was read (malloc'd, NUL-terminated) and sets
 * *closed when the server closed it. */
int pgt_http_connect(pgt_http *h);
bool pgt_http_send(int fd, const void *bytes, size_t n);
char *pgt_http_read_until(int fd, const char *needle, double timeout_s, bool *closed);

#endif
