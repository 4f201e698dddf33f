/* The nats-server fixtures of nats_fixture.h: child processes on free loopback ports that die with
 * the test (PR_SET_PDEATHSIG), at exit and at every stop; readiness and routes are read from the
 * server's monitoring endpoint with a plain HTTP GET over a socket. */
#define _GNU_SOURCE
#include "nats_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct server {
    pid_t pid; /* 0 when not running */
    int port, mport, cport;
    char url[48];
    int logfd; /* the server's log: a file already unlinked, so nothing is left behind even when
                  the test is killed; -1 when none */
} server;

struct pgt_nats {
    size_t n;
    server s[PGT_NATS_MAX_SERVERS];
    char urls[PGT_NATS_MAX_SERVERS * 48];
    int conffd; /* the servers' configuration file (unlinked, given as /dev/fd/3), or -1 */
    pgt_nats *next;
};

static pgt_nats *all; /* every set this process started and has not stopped */
static pid_t owner;   /* the process that registered the atexit hook */
static void (*fail_hook)(const char *);

static void fail_with(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
fail_with(const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (fail_hook) {
        fail_hook(msg);
        abort(); /* the hook must not return */
    }
    fail_msg("nats fixture: %s", msg);
}

void
pgt_nats_set_fail_hook(void (*fn)(const char *message))
{
    fail_hook = fn;
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---------------------------------------------------------------- finding nats-server */

static const char *
server_program(void)
{
    static char found[4096];
    const char *env = getenv("PGT_NATS_SERVER");
    if (env && *env)
        return access(env, X_OK) == 0 ? env : NULL;
    const char *path = getenv("PATH");
    if (path) {
        const char *p = path;
        while (*p) {
            const char *e = strchr(p, ':');
            size_t k = e ? (size_t)(e - p) : strlen(p);
            if (k > 0 && k < sizeof found - 16) {
                snprintf(found, sizeof found, "%.*s/nats-server", (int)k, p);
                if (access(found, X_OK) == 0)
                    return found;
            }
            p += k + (e ? 1 : 0);
        }
    }
    if (access("/usr/sbin/nats-server", X_OK) == 0)
        return "/usr/sbin/nats-server";
    if (access("/usr/bin/nats-server", X_OK) == 0)
        return "/usr/bin/nats-server";
    return NULL;
}

/* ---------------------------------------------------------------- sockets */

/* A socket bound to a free loopback port (kept open so the port stays ours until we close it). */
static int
bind_free(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

int
pgt_nats_free_port(void)
{
    int port = 0;
    int fd = bind_free(&port);
    if (fd < 0)
        fail_with("cannot find a free loopback port: %s", strerror(errno));
    close(fd);
    return port;
}

const char *
pgt_nats_closed_url(void)
{
    static char url[48];
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", pgt_nats_free_port());
    return url;
}

static int
connect_port(int port, double timeout_s)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {(time_t)timeout_s,
                         (suseconds_t)((timeout_s - (double)(time_t)timeout_s) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
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

/* The body of GET path on a loopback port, or NULL (no answer, not 200). */
static char *
http_get(int port, const char *path)
{
    int fd = connect_port(port, 2.0);
    if (fd < 0)
        return NULL;
    char req[512];
    int k = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    char *buf = NULL;
    size_t n = 0, cap = 0;
    if (k < 0 || (size_t)k >= sizeof req || send(fd, req, (size_t)k, MSG_NOSIGNAL) != k)
        goto fail;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            size_t nc = cap ? cap * 2 : 16384;
            char *nb = realloc(buf, nc);
            if (!nb)
                goto fail;
            buf = nb;
            cap = nc;
        }
        ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto fail;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (!buf)
        return NULL;
    buf[n] = 0;
    char *body = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.", 7) != 0 || !strstr(buf, " 200") || !body) {
        free(buf);
        return NULL;
    }
    body += 4;
    memmove(buf, body, strlen(body) + 1);
    return buf;
fail:
    close(fd);
    free(buf);
    return NULL;
}

/* The whole number after "key": in a monitoring document, or -1. */
static long
json_long(const char *doc, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = doc ? strstr(doc, pat) : NULL;
    if (!p)
        return -1;
    p += strlen(pat);
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':')
        p++;
    char *end;
    long v = strtol(p, &end, 10);
    return end == p ? -1 : v;
}

/* Whether the client port greets with INFO and answers a PING after CONNECT (the server accepts
 * clients). The probe waits for the PONG so that the server has registered it before it closes:
 * a probe that left after INFO alone could be counted by the monitoring after "no clients" was
 * seen, and a test would then meet a client that is not its own. */
static bool
client_ready(int port)
{
    int fd = connect_port(port, 1.0);
    if (fd < 0)
        return false;
    char buf[8192];
    size_t n = 0;
    bool sent = false, ok = false;
    while (n < sizeof buf - 1) {
        ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = 0;
        if (n >= 5 && memcmp(buf, "INFO ", 5) != 0)
            break;
        if (!sent && strstr(buf, "\r\n")) {
            const char *hello = "CONNECT {\"verbose\":false}\r\nPING\r\n";
            if (send(fd, hello, strlen(hello), MSG_NOSIGNAL) != (ssize_t)strlen(hello))
                break;
            sent = true;
        }
        if (sent && strstr(buf, "PONG\r\n")) {
            ok = true;
            break;
        }
    }
    close(fd);
    return ok;
}

/* ---------------------------------------------------------------- processes */

static void
stop_at_exit(void)
{
    if (getpid() == owner) /* not in a forked child of the test that calls exit() */
        pgt_nats_stop_all();
}

static void
log_tail(const server *v)
{
    struct stat st;
    if (v->logfd < 0 || fstat(v->logfd, &st) != 0)
        return;
    char buf[2048];
    off_t from = st.st_size > (off_t)sizeof buf - 1 ? st.st_size - (off_t)sizeof buf + 1 : 0;
    ssize_t n = pread(v->logfd, buf, sizeof buf - 1, from);
    buf[n > 0 ? n : 0] = 0;
    fprintf(stderr, "--- end of the nats-server log (port %d) ---\n%s\n---\n", v->port, buf);
}

static void
reap(server *v)
{
    if (v->pid <= 0)
        return;
    kill(v->pid, SIGKILL);
    while (waitpid(v->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    v->pid = 0;
}

/* Forks and execs server i of s; the child dies with this thread. held: sockets keeping the
 * ports, closed just before the fork. */
static bool
spawn(pgt_nats *s, size_t i, const int *held, size_t n_held)
{
    server *v = &s->s[i];
    const char *prog = server_program();
    const char *env = getenv("PGT_NATS_SERVER");
    if (!prog && env && *env)
        fail_with("$PGT_NATS_SERVER (%s) is not an executable nats-server", env);
    if (!prog)
        fail_with("nats-server not found (looked at $PGT_NATS_SERVER, PATH, /usr/sbin, /usr/bin): "
                  "it is a dependency of the NATS tests; install it (scripts/deps.sh installs "
                  "Debian's nats-server)");
    char a_port[16], a_mport[16], a_cluster[64], a_name[32];
    char routes[PGT_NATS_MAX_SERVERS * 48] = "";
    snprintf(a_port, sizeof a_port, "%d", v->port);
    snprintf(a_mport, sizeof a_mport, "%d", v->mport);
    snprintf(a_cluster, sizeof a_cluster, "nats://127.0.0.1:%d", v->cport);
    snprintf(a_name, sizeof a_name, "pgt-%d", v->port);
    for (size_t j = 0; j < s->n; j++) {
        if (j == i)
            continue;
        size_t k = strlen(routes);
        snprintf(routes + k, sizeof routes - k, "%snats://127.0.0.1:%d", k ? "," : "",
                 s->s[j].cport);
    }
    const char *argv[20];
    size_t c = 0;
    argv[c++] = prog;
    argv[c++] = "-a";
    argv[c++] = "127.0.0.1";
    argv[c++] = "-p";
    argv[c++] = a_port;
    argv[c++] = "-m";
    argv[c++] = a_mport;
    argv[c++] = "-n";
    argv[c++] = a_name;
    if (s->conffd >= 0) {
        argv[c++] = "-c";
        argv[c++] = "/dev/fd/3";
    }
    if (s->n > 1) {
        argv[c++] = "--cluster";
        argv[c++] = a_cluster;
        argv[c++] = "--cluster_name";
        argv[c++] = "pgt";
        argv[c++] = "--routes";
        argv[c++] = routes;
    }
    argv[c] = NULL;

    char path[] = "/tmp/pgt-nats-XXXXXX";
    int logfd = mkostemp(path, O_CLOEXEC);
    if (logfd < 0)
        fail_with("cannot create a log file for nats-server: %s", strerror(errno));
    unlink(path);
    if (v->logfd >= 0)
        close(v->logfd);
    v->logfd = logfd;
    for (size_t k = 0; k < n_held; k++)
        if (held[k] >= 0)
            close(held[k]);
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        fail_with("cannot fork nats-server: %s", strerror(errno));
    if (pid == 0) {
        /* Dies when the test's thread that started it dies, also by SIGKILL. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        if (s->conffd == 3)
            fcntl(3, F_SETFD, 0); /* dup2 onto itself would leave it close-on-exec */
        else if (s->conffd >= 0)
            dup2(s->conffd, 3);
        long maxfd = sysconf(_SC_OPEN_MAX);
        if (maxfd < 0 || maxfd > 65536)
            maxfd = 65536;
        for (int fd = s->conffd >= 0 ? 4 : 3; fd < maxfd; fd++)
            close(fd);
        execv(prog, (char *const *)argv);
        _exit(127);
    }
    v->pid = pid;
    return true;
}

/* Whether server v's process is still alive (reaps it when it exited). */
static bool
alive(server *v)
{
    if (v->pid <= 0)
        return false;
    int st;
    pid_t r = waitpid(v->pid, &st, WNOHANG);
    if (r == v->pid) {
        v->pid = 0;
        return false;
    }
    return true;
}

/* Waits until server i accepts clients and answers monitoring (fresh: and shows no client, so
 * that counts of clients start from 0 without the readiness probe); false when it exited. */
static bool
wait_ready(pgt_nats *s, size_t i, double timeout_s, bool fresh)
{
    server *v = &s->s[i];
    double end = now_s() + timeout_s;
    while (now_s() < end) {
        if (!alive(v))
            return false;
        char *varz = http_get(v->mport, "/varz");
        bool ok = varz && client_ready(v->port);
        free(varz);
        if (ok && !fresh)
            return true;
        while (ok && now_s() < end) {
            char *connz = http_get(v->mport, "/connz");
            long k = json_long(connz, "num_connections");
            free(connz);
            if (k == 0)
                return true;
            sleep_s(0.01);
        }
        sleep_s(0.02);
    }
    return false;
}

/* Waits until every running server of a cluster has a route to every other running one. */
static bool
wait_routes(pgt_nats *s, double timeout_s)
{
    if (s->n < 2)
        return true;
    double end = now_s() + timeout_s;
    while (now_s() < end) {
        long up = 0;
        for (size_t i = 0; i < s->n; i++)
            up += s->s[i].pid > 0;
        bool ok = true;
        for (size_t i = 0; ok && i < s->n; i++) {
            if (s->s[i].pid <= 0)
                continue;
            char *routez = http_get(s->s[i].mport, "/routez");
            long r = json_long(routez, "num_routes");
            free(routez);
            ok = r >= up - 1;
        }
        if (ok)
            return true;
        sleep_s(0.05);
    }
    return false;
}

static pgt_nats *
start_set(size_t n, const char *config)
{
    if (n < 1 || n > PGT_NATS_MAX_SERVERS)
        fail_with("a set of %zu servers (1..%d)", n, PGT_NATS_MAX_SERVERS);
    if (!owner) {
        owner = getpid();
        atexit(stop_at_exit);
    }
    pgt_nats *s = calloc(1, sizeof *s);
    if (!s)
        fail_with("out of memory");
    s->n = n;
    s->conffd = -1;
    s->next = all;
    all = s;
    if (config) {
        char path[] = "/tmp/pgt-nats-conf-XXXXXX";
        s->conffd = mkostemp(path, O_CLOEXEC);
        if (s->conffd < 0)
            fail_with("cannot create a configuration file for nats-server: %s", strerror(errno));
        unlink(path);
        size_t len = strlen(config);
        if (write(s->conffd, config, len) != (ssize_t)len)
            fail_with("cannot write the configuration file of nats-server: %s", strerror(errno));
    }
    for (size_t i = 0; i < n; i++)
        s->s[i].logfd = -1;
    /* A port taken by someone else between our bind and the server's fails the start: try again
     * with other ports a few times. */
    for (int attempt = 0; attempt < 5; attempt++) {
        int held[3 * PGT_NATS_MAX_SERVERS];
        size_t nh = 0;
        for (size_t i = 0; i < n; i++) {
            server *v = &s->s[i];
            held[nh++] = bind_free(&v->port);
            held[nh++] = bind_free(&v->mport);
            held[nh++] = n > 1 ? bind_free(&v->cport) : -1;
            snprintf(v->url, sizeof v->url, "nats://127.0.0.1:%d", v->port);
        }
        for (size_t k = 0; k < nh; k++)
            if (held[k] < 0 && (k % 3 != 2 || n > 1))
                fail_with("cannot find a free loopback port: %s", strerror(errno));
        for (size_t i = 0; i < n; i++)
            spawn(s, i, i == 0 ? held : NULL, i == 0 ? nh : 0);
        bool ok = true;
        for (size_t i = 0; ok && i < n; i++)
            ok = wait_ready(s, i, 15.0, true);
        if (ok && !wait_routes(s, 15.0)) {
            for (size_t i = 0; i < n; i++)
                log_tail(&s->s[i]);
            fail_with("the %zu nats-servers started but did not form a cluster in 15 s", n);
        }
        if (ok)
            break;
        for (size_t i = 0; i < n; i++) {
            bool was = s->s[i].pid > 0;
            reap(&s->s[i]);
            if (attempt == 4 || !was)
                log_tail(&s->s[i]);
        }
        if (attempt == 4)
            fail_with("nats-server (%s) did not start on a free loopback port in 5 attempts "
                      "(its log is above)",
                      server_program());
    }
    s->urls[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(s->urls);
        snprintf(s->urls + k, sizeof s->urls - k, "%s%s", i ? "," : "", s->s[i].url);
    }
    return s;
}

pgt_nats *
pgt_nats_start(void)
{
    return start_set(1, NULL);
}

pgt_nats *
pgt_nats_start_config(const char *config)
{
    return start_set(1, config);
}

pgt_nats *
pgt_nats_cluster(size_t n)
{
    if (n < 2)
        fail_with("a cluster needs at least 2 servers (asked for %zu)", n);
    return start_set(n, NULL);
}

void
pgt_nats_stop(pgt_nats *s)
{
    if (!s)
        return;
    for (pgt_nats **p = &all; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    for (size_t i = 0; i < s->n; i++) {
        reap(&s->s[i]);
        if (s->s[i].logfd >= 0)
            close(s->s[i].logfd);
    }
    if (s->conffd >= 0)
        close(s->conffd);
    free(s);
}

void
pgt_nats_stop_all(void)
{
    while (all)
        pgt_nats_stop(all);
}

int
pgt_nats_teardown(void **state)
{
    (void)state;
    pgt_nats_stop_all();
    return 0;
}

static server *
at(const pgt_nats *s, size_t i)
{
    if (!s || i >= s->n)
        fail_with("no server %zu (the set has %zu)", i, s ? s->n : 0);
    return (server *)&s->s[i];
}

size_t
pgt_nats_count(const pgt_nats *s)
{
    return s ? s->n : 0;
}

const char *
pgt_nats_url(const pgt_nats *s, size_t i)
{
    return at(s, i)->url;
}

const char *
pgt_nats_urls(const pgt_nats *s)
{
    if (!s)
        fail_with("no server set");
    return s->urls;
}

int
pgt_nats_port(const pgt_nats *s, size_t i)
{
    return at(s, i)->port;
}

int
pgt_nats_monitor_port(const pgt_nats *s, size_t i)
{
    return at(s, i)->mport;
}

bool
pgt_nats_running(const pgt_nats *s, size_t i)
{
    return alive(at(s, i));
}

void
pgt_nats_kill(pgt_nats *s, size_t i)
{
    server *v = at(s, i);
    reap(v);
    double end = now_s() + 5.0;
    for (;;) {
        int fd = connect_port(v->port, 0.5);
        if (fd < 0)
            break;
        close(fd);
        if (now_s() > end)
            fail_with("port %d still accepts connections after its server was killed", v->port);
        sleep_s(0.01);
    }
}

void
pgt_nats_restart(pgt_nats *s, size_t i)
{
    server *v = at(s, i);
    if (alive(v))
        fail_with("server %zu (port %d) is still running: kill it before restarting it", i,
                  v->port);
    spawn(s, i, NULL, 0);
    if (!wait_ready(s, i, 15.0, false)) {
        reap(v);
        log_tail(v);
        fail_with("nats-server did not start again on port %d (its log is above)", v->port);
    }
    if (!wait_routes(s, 15.0)) {
        log_tail(v);
        fail_with("the restarted nats-server (port %d) did not rejoin its cluster in 15 s",
                  v->port);
    }
}

char *
pgt_nats_monitor_get(const pgt_nats *s, size_t i, const char *path)
{
    server *v = at(s, i);
    return v->pid > 0 ? http_get(v->mport, path) : NULL;
}

long
pgt_nats_connections(const pgt_nats *s, size_t i)
{
    char *doc = pgt_nats_monitor_get(s, i, "/connz");
    long n = json_long(doc, "num_connections");
    free(doc);
    return n;
}

long
pgt_nats_subscriptions(const pgt_nats *s, size_t i)
{
    char *doc = pgt_nats_monitor_get(s, i, "/subsz");
    long n = json_long(doc, "num_subscriptions");
    free(doc);
    return n;
}

size_t
pgt_nats_busiest(const pgt_nats *s)
{
    size_t best = 0;
    long most = -2;
    for (size_t i = 0; i < pgt_nats_count(s); i++) {
        long c = pgt_nats_connections(s, i);
        if (c > most) {
            most = c;
            best = i;
        }
    }
    if (most < 0)
        fail_with("no server of the set answers its monitoring port");
    return best;
}

bool
pgt_nats_wait_connections(const pgt_nats *s, size_t i, long n, double timeout_s)
{
    double end = now_s() + timeout_s;
    for (;;) {
        if (pgt_nats_connections(s, i) >= n)
            return true;
        if (now_s() >= end)
            return false;
        sleep_s(0.02);
    }
}

bool
pgt_nats_wait_subscriptions(const pgt_nats *s, size_t i, long n, double timeout_s)
{
    double end = now_s() + timeout_s;
    for (;;) {
        if (pgt_nats_subscriptions(s, i) >= n)
            return true;
        if (now_s() >= end)
            return false;
        sleep_s(0.02);
    }
}

size_t
pgt_nats_live_count(void)
{
    size_t n = 0;
    for (pgt_nats *s = all; s; s = s->next)
        for (size_t i = 0; i < s->n; i++)
            n += alive(&s->s[i]);
    return n;
}
