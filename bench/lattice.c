/* Lattice benchmark: a community on NATS next to the raw limits of the NATS server it runs on.
 *
 * The community is the synthetic one of bench/community.c (homes with a load of one of ten daily
 * profiles, rooftop PV from the clear-sky model, a home battery in every third, the rules
 * controller, the uniform-price market), 1000 homes over 96 intervals of 15 minutes, every node and
 * the market operator hosted by one process (pg_community_run_lattice, simulation clock: the
 * operator opens each interval as soon as the last one is settled), on one local nats-server that
 * this program starts on free loopback ports and stops. Target: <= 60 s on 2 cores. For each
 * connection mode (one connection shared by every node of the process; one per node) it reports:
 *
 *  - the wall time of the run;
 *  - the bid round trip (a node's bid published -> the operator's acknowledgement), median and
 *    p99, measured from outside: a client of its own subscribes to the bids and to their reply
 *    subjects and timestamps each as it arrives (so it leaves out the node's own send, about one
 *    server hop);
 *  - the message rate through the server during the run: its /varz in_msgs (published by clients)
 *    and out_msgs (delivered to clients, less what the observing client received), per second.
 *
 * In the same run, the server's raw limits, measured with cnats directly: the publish rate (one
 * client publishing messages of a bid's size in a loop, another subscribed counting them: first
 * published to last received) and the request/reply latency (a trivial responder echoing; a client
 * making one request after the other), median and p99.
 *
 * Each lattice run is a fresh process (this program run again with --child); each figure is the
 * median over --runs of them.
 *
 *   build/bench/lattice [--runs N] [--nodes N] [--days N] [--per-node-nodes N] [--raw N]
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "bench.h"
#include "synthetic.h"
#include "core/util.h"
#include "plurigrid/community.h"

/* The synthetic community's subjects (docs/lattice.md): bids, and the subjects the operator
 * acknowledges them on (each node's, named in the bid's reply subject). */
#define BID_SUBJECT "pg.synthetic.market.bid"
#define ACK_PATTERN "pg.synthetic.ack.*"

/* The payload of the raw measurements: about a bid's size. */
#define RAW_PAYLOAD 128

static void
die(const char *what, const pg_error *err)
{
    char buf[1400];
    if (err)
        fprintf(stderr, "lattice bench: %s: %s\n", what, pg_error_format(err, buf, sizeof buf));
    else
        fprintf(stderr, "lattice bench: %s\n", what);
    exit(1);
}

static void
nats_check(natsStatus s, const char *what)
{
    if (s != NATS_OK) {
        fprintf(stderr, "lattice bench: %s: %s\n", what, natsStatus_GetText(s));
        exit(1);
    }
}

static void
sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---------------------------------------------------------------- the server */

static pid_t server_pid;
static char server_dir[256];
static int server_port, monitor_port;
static char server_url[64];

/* A loopback port nobody listens on now. */
static int
free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &n) != 0)
        die("cannot find a free loopback port", NULL);
    close(fd);
    return ntohs(a.sin_port);
}

/* The body of an HTTP GET of path on the monitoring port (malloc'd), or NULL. */
static char *
monitor_get(const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)monitor_port);
    if (fd < 0)
        return NULL;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    char req[256];
    int rl = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (write(fd, req, (size_t)rl) != rl) {
        close(fd);
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ssize_t got;
    while (buf && (got = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)got;
        if (len + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    close(fd);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* A counter of the server's /varz ("in_msgs", ...), or -1. */
static double
varz(const char *key)
{
    char *body = monitor_get("/varz");
    if (!body)
        return -1;
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(body, pat);
    double v = p ? strtod(p + strlen(pat), NULL) : -1;
    free(body);
    return v;
}

static void
server_stop(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
        char p[320];
        snprintf(p, sizeof p, "%s/server.log", server_dir);
        unlink(p);
        rmdir(server_dir);
    }
}

/* Starts nats-server on free loopback ports and waits until it accepts clients. */
static void
server_start(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(server_dir, sizeof server_dir, "%s/pgbench-nats.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(server_dir))
        die("cannot make a temporary folder", NULL);
    server_port = free_port();
    monitor_port = free_port();
    snprintf(server_url, sizeof server_url, "nats://127.0.0.1:%d", server_port);
    char port[16], mport[16], log[320];
    snprintf(port, sizeof port, "%d", server_port);
    snprintf(mport, sizeof mport, "%d", monitor_port);
    snprintf(log, sizeof log, "%s/server.log", server_dir);
    pid_t parent = getpid();
    fflush(stdout);
    server_pid = fork();
    if (server_pid < 0)
        die("fork", NULL);
    if (server_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(126);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        const char *prog = getenv("PGT_NATS_SERVER");
        if (prog && *prog)
            execl(prog, prog, "-a", "127.0.0.1", "-p", port, "-m", mport, (char *)NULL);
        execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", port, "-m", mport,
               (char *)NULL);
        execl("/usr/sbin/nats-server", "nats-server", "-a", "127.0.0.1", "-p", port, "-m", mport,
              (char *)NULL);
        _exit(127);
    }
    atexit(server_stop);
    double end = pgi_now() + 20;
    for (;;) {
        char *body = monitor_get("/varz");
        if (body) {
            free(body);
            natsConnection *nc = NULL;
            if (natsConnection_ConnectTo(&nc, server_url) == NATS_OK) {
                natsConnection_Destroy(nc);
                return;
            }
        }
        int st;
        if (waitpid(server_pid, &st, WNOHANG) == server_pid) {
            server_pid = 0;
            die("nats-server did not start (is it installed? scripts/deps.sh installs it)", NULL);
        }
        if (pgi_now() > end)
            die("nats-server did not accept clients within 20 s", NULL);
        sleep_s(0.02);
    }
}

/* ---------------------------------------------------------------- raw limits */

/* A connection to the server; asap: every publish written at once (as the lattice's connections
 * do) instead of by cnats's flusher thread, which batches. */
static natsConnection *
connect_to(bool asap)
{
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    nats_check(natsOptions_Create(&o), "options");
    nats_check(natsOptions_SetURL(o, server_url), "options");
    nats_check(natsOptions_SetSendAsap(o, asap), "options");
    nats_check(natsConnection_Connect(&nc, o), "connecting");
    natsOptions_Destroy(o);
    return nc;
}

typedef struct counter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long n, want;
    double last;
} counter;

static void
count_cb(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    counter *c = closure;
    natsMsg_Destroy(msg);
    pthread_mutex_lock(&c->mu);
    if (++c->n == c->want) {
        c->last = pgi_now();
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
}

static void
echo_cb(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    (void)closure;
    const char *reply = natsMsg_GetReply(msg);
    if (reply)
        natsConnection_Publish(nc, reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

/* Messages per second from one publisher to one subscriber (n messages of RAW_PAYLOAD bytes);
 * also the rate of publishing alone (the publisher's loop and flush) in *pub_only. */
static double
raw_publish_rate(long n, double *pub_only)
{
    natsConnection *pub = NULL, *subc = NULL;
    natsSubscription *sub = NULL;
    counter c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, n, 0};
    nats_check(natsConnection_ConnectTo(&subc, server_url), "connecting");
    nats_check(natsConnection_ConnectTo(&pub, server_url), "connecting");
    nats_check(natsConnection_Subscribe(&sub, subc, "bench.raw", count_cb, &c), "subscribing");
    nats_check(natsSubscription_SetPendingLimits(sub, -1, -1), "pending limits");
    nats_check(natsConnection_Flush(subc), "flushing");
    char data[RAW_PAYLOAD];
    memset(data, 'x', sizeof data);
    double t0 = pgi_now();
    for (long i = 0; i < n; i++)
        nats_check(natsConnection_Publish(pub, "bench.raw", data, sizeof data), "publishing");
    nats_check(natsConnection_FlushTimeout(pub, 60000), "flushing");
    *pub_only = (double)n / (pgi_now() - t0);
    pthread_mutex_lock(&c.mu);
    double end = pgi_now() + 60;
    while (c.n < n && pgi_now() < end) {
        pthread_mutex_unlock(&c.mu);
        sleep_s(0.001);
        pthread_mutex_lock(&c.mu);
    }
    long got = c.n;
    double last = c.last;
    pthread_mutex_unlock(&c.mu);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(pub);
    natsConnection_Destroy(subc);
    if (got < n) {
        fprintf(stderr, "lattice bench: raw: %ld of %ld messages arrived\n", got, n);
        return -1;
    }
    return (double)n / (last - t0);
}

/* Request/reply round trips (n sequential requests of RAW_PAYLOAD bytes to an echoing client,
 * both sending at once), seconds: median and p99. */
static void
raw_request_latency(int n, double *median, double *p99)
{
    natsConnection *resp = connect_to(true), *req = connect_to(true);
    natsSubscription *sub = NULL;
    nats_check(natsConnection_Subscribe(&sub, resp, "bench.echo", echo_cb, NULL), "subscribing");
    nats_check(natsConnection_Flush(resp), "flushing");
    char data[RAW_PAYLOAD];
    memset(data, 'y', sizeof data);
    double *t = malloc((size_t)n * sizeof *t);
    if (!t)
        die("out of memory", NULL);
    for (int i = 0; i < n; i++) {
        natsMsg *m = NULL;
        double t0 = pgi_now();
        nats_check(natsConnection_Request(&m, req, "bench.echo", data, sizeof data, 5000),
                   "request");
        t[i] = pgi_now() - t0;
        natsMsg_Destroy(m);
    }
    qsort(t, (size_t)n, sizeof *t, bench_cmp_double);
    *median = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    *p99 = t[(size_t)((double)(n - 1) * 0.99)];
    free(t);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(req);
    natsConnection_Destroy(resp);
}

/* ---------------------------------------------------------------- the community */

/* ---------------------------------------------------------------- the observer */

/* Bids seen and not yet acknowledged, by reply subject (open addressing). */
#define OBS_SLOTS 65536
typedef struct obs_slot {
    char *reply;
    double t;      /* when the first unacknowledged bid on it was seen; 0: none pending */
    long interval; /* that bid's interval */
    long acked;    /* the interval of the last bid acknowledged (-1: none) */
} obs_slot;

typedef struct observer {
    pthread_mutex_t mu;
    obs_slot *slot;
    double *lat;
    size_t n_lat, cap_lat;
    long bids, acks, received;
} observer;

static uint64_t
hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* The slot of reply (a new one when create), or NULL. Called with the lock held. */
static obs_slot *
obs_find(observer *o, const char *reply, bool create)
{
    for (uint64_t i = hash_str(reply) % OBS_SLOTS, k = 0; k < OBS_SLOTS;
         i = (i + 1) % OBS_SLOTS, k++) {
        obs_slot *s = &o->slot[i];
        if (!s->reply) {
            if (!create)
                return NULL;
            s->reply = strdup(reply);
            s->acked = -1;
            return s->reply ? s : NULL;
        }
        if (strcmp(s->reply, reply) == 0)
            return s;
    }
    return NULL;
}

static void
bid_cb(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    double t = pgi_now();
    observer *o = closure;
    const char *reply = natsMsg_GetReply(msg);
    /* the bid's interval: a u32 after the 8-byte header (docs/community.md) */
    const unsigned char *d = (const unsigned char *)natsMsg_GetData(msg);
    long interval = -1;
    if (natsMsg_GetDataLength(msg) >= 12)
        interval = (long)((uint32_t)d[8] | (uint32_t)d[9] << 8 | (uint32_t)d[10] << 16 |
                          (uint32_t)d[11] << 24);
    pthread_mutex_lock(&o->mu);
    o->received++;
    o->bids++;
    obs_slot *s = reply ? obs_find(o, reply, true) : NULL;
    /* a bid sent again before its acknowledgement keeps the time of the first; one sent again
     * after it (the acknowledgement crossed it) is not a new round trip */
    if (s && s->t == 0 && interval != s->acked) {
        s->t = t;
        s->interval = interval;
    }
    pthread_mutex_unlock(&o->mu);
    natsMsg_Destroy(msg);
}

static void
ack_cb(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    double t = pgi_now();
    observer *o = closure;
    pthread_mutex_lock(&o->mu);
    o->received++;
    obs_slot *s = obs_find(o, natsMsg_GetSubject(msg), false);
    if (s && s->t > 0) {
        o->acks++;
        if (o->n_lat == o->cap_lat) {
            size_t nc2 = o->cap_lat ? 2 * o->cap_lat : 4096;
            double *nl = realloc(o->lat, nc2 * sizeof *nl);
            if (nl) {
                o->lat = nl;
                o->cap_lat = nc2;
            }
        }
        if (o->n_lat < o->cap_lat)
            o->lat[o->n_lat++] = t - s->t;
        s->t = 0;
        s->acked = s->interval;
    }
    pthread_mutex_unlock(&o->mu);
    natsMsg_Destroy(msg);
}

/* ---------------------------------------------------------------- the observer's process */

/* The observer runs in a process of its own, so that it takes nothing from the run's threads:
 * its connection delivers both subscriptions on one thread (cnats's global delivery, a pool of
 * one), so a bid and its acknowledgement are seen in the order the server sent them. It tells
 * the parent it is ready ('R' on out), waits until the parent writes to (or closes) in, then
 * writes "OBS median p99 n received\n" on out and ends. */
static void
observer_main(const char *url, int in, int out)
{
    observer ob = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0, 0, 0, 0};
    ob.slot = calloc(OBS_SLOTS, sizeof *ob.slot);
    if (!ob.slot)
        die("out of memory", NULL);
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    natsSubscription *sb = NULL, *sa = NULL;
    nats_check(nats_SetMessageDeliveryPoolSize(1), "delivery pool");
    nats_check(natsOptions_Create(&o), "options");
    nats_check(natsOptions_SetURL(o, url), "options");
    nats_check(natsOptions_UseGlobalMessageDelivery(o, true), "options");
    nats_check(natsConnection_Connect(&nc, o), "connecting the observer");
    nats_check(natsConnection_Subscribe(&sb, nc, BID_SUBJECT, bid_cb, &ob), "subscribing");
    nats_check(natsConnection_Subscribe(&sa, nc, ACK_PATTERN, ack_cb, &ob), "subscribing");
    nats_check(natsSubscription_SetPendingLimits(sb, -1, -1), "pending limits");
    nats_check(natsSubscription_SetPendingLimits(sa, -1, -1), "pending limits");
    nats_check(natsConnection_Flush(nc), "flushing");
    if (write(out, "R", 1) != 1)
        _exit(1);
    char c;
    while (read(in, &c, 1) < 0 && errno == EINTR)
        ;
    sleep_s(0.3); /* the last acknowledgements arrive */
    pthread_mutex_lock(&ob.mu);
    double med = NAN, p99 = NAN;
    size_t n = ob.n_lat;
    if (n) {
        qsort(ob.lat, n, sizeof *ob.lat, bench_cmp_double);
        med = n % 2 ? ob.lat[n / 2] : 0.5 * (ob.lat[n / 2 - 1] + ob.lat[n / 2]);
        p99 = ob.lat[(size_t)((double)(n - 1) * 0.99)];
    }
    long received = ob.received;
    pthread_mutex_unlock(&ob.mu);
    char line[160];
    int len = snprintf(line, sizeof line, "OBS %.9f %.9f %zu %ld\n", med, p99, n, received);
    if (write(out, line, (size_t)len) != len)
        _exit(1);
    natsSubscription_Destroy(sb);
    natsSubscription_Destroy(sa);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
    _exit(0);
}

/* ---------------------------------------------------------------- one run (a child process) */

/* Plays the community once on the server at url (its monitoring port mport) with an observer, and
 * prints one line: "RUN wall_s lat_median_s lat_p99_s n_lat in_msgs out_msgs peer_kwh". */
static int
child_run(bool per_node, size_t nodes, size_t intervals, const char *url, int mport)
{
    monitor_port = mport;
    /* The observer first, before this process has threads. */
    int to_obs[2], from_obs[2];
    if (pipe(to_obs) || pipe(from_obs))
        die("pipe", NULL);
    pid_t obs = fork();
    if (obs < 0)
        die("fork", NULL);
    if (obs == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(to_obs[1]);
        close(from_obs[0]);
        observer_main(url, to_obs[0], from_obs[1]);
    }
    close(to_obs[0]);
    close(from_obs[1]);
    char ready;
    if (read(from_obs[0], &ready, 1) != 1 || ready != 'R')
        die("the observer did not start", NULL);

    char *text = bench_synthetic_community(nodes, intervals);
    pg_error err = {0};
    pg_community *c = NULL;
    if (pg_community_parse(&c, "synthetic", text, strlen(text), NULL, NULL, &err))
        die("reading the synthetic scenario", &err);
    free(text);
    pg_lattice_options o;
    pg_lattice_options_init(&o);
    o.transport = "nats";
    o.servers = url;
    o.per_node_connections = per_node;
    o.form_s = 60;
    double in0 = varz("in_msgs"), out0 = varz("out_msgs");
    double t0 = pgi_now();
    pg_community_report *r = NULL;
    if (pg_community_run_lattice(c, NULL, 0, "uniform", &o, &r, &err))
        die("playing the community on NATS", &err);
    double wall = pgi_now() - t0;
    double in1 = varz("in_msgs"), out1 = varz("out_msgs");

    if (write(to_obs[1], "S", 1) != 1)
        die("the observer is gone", NULL);
    char line[256] = "";
    size_t got = 0;
    ssize_t k;
    while (got + 1 < sizeof line && (k = read(from_obs[0], line + got, sizeof line - 1 - got)) > 0)
        got += (size_t)k;
    line[got] = '\0';
    waitpid(obs, NULL, 0);
    double med, p99;
    size_t n;
    long received;
    if (sscanf(line, "OBS %lf %lf %zu %ld", &med, &p99, &n, &received) != 4)
        die("the observer gave no figures", NULL);

    const pg_community_variant *var = &r->variants[0];
    double traded = (var->has_market ? &var->market : &var->baseline)->total.peer_bought_kwh;
    pg_community_report_free(r);
    pg_community_free(c);
    printf("RUN %.6f %.9f %.9f %zu %.0f %.0f %.3f\n", wall, med, p99, n, in1 - in0,
           out1 - out0 - (double)received, traded);
    fflush(stdout);
    nats_Close();
    return 0;
}

typedef struct run_fig {
    double wall, med, p99, in, out, traded;
    size_t n_lat;
} run_fig;

/* Runs this program as a child playing one run; false when it failed. */
static bool
fresh_run(const char *self, bool per_node, size_t nodes, size_t intervals, run_fig *f)
{
    char cmd[2048], nb[32], ib[32];
    snprintf(nb, sizeof nb, "%zu", nodes);
    snprintf(ib, sizeof ib, "%zu", intervals);
    snprintf(cmd, sizeof cmd, "'%s' --child %s %s %s %s %d", self, per_node ? "per-node" : "shared",
             nb, ib, server_url, monitor_port);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    char line[512];
    bool ok = false;
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "RUN %lf %lf %lf %zu %lf %lf %lf", &f->wall, &f->med, &f->p99, &f->n_lat,
                   &f->in, &f->out, &f->traded) == 7)
            ok = true;
    int st = pclose(p);
    return ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void
report_mode(const char *mode, size_t nodes, size_t intervals, run_fig *f, int runs)
{
    double wall[100], med[100], p99[100], in[100], out[100];
    for (int r = 0; r < runs; r++) {
        wall[r] = f[r].wall;
        med[r] = f[r].med;
        p99[r] = f[r].p99;
        in[r] = f[r].in / f[r].wall;
        out[r] = f[r].out / f[r].wall;
    }
    printf("| %s | %zu x %zu | %.2f | %.2f | %.2f | %.0f | %.0f | %zu | %.0f |\n", mode, nodes,
           intervals, bench_median(wall, runs), 1e3 * bench_median(med, runs),
           1e3 * bench_median(p99, runs), bench_median(in, runs), bench_median(out, runs),
           f[0].n_lat, f[0].traded);
}

int
main(int argc, char **argv)
{
    int runs = 3;
    size_t nodes = 1000, intervals = 96, per_node_nodes = 1000;
    long raw = 1000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--child") == 0 && i + 5 < argc) {
            return child_run(strcmp(argv[i + 1], "per-node") == 0, (size_t)atol(argv[i + 2]),
                             (size_t)atol(argv[i + 3]), argv[i + 4], atoi(argv[i + 5]));
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc) {
            nodes = (size_t)atol(argv[++i]);
        } else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
            intervals = 96 * (size_t)atol(argv[++i]);
        } else if (strcmp(argv[i], "--per-node-nodes") == 0 && i + 1 < argc) {
            per_node_nodes = (size_t)atol(argv[++i]);
        } else if (strcmp(argv[i], "--raw") == 0 && i + 1 < argc) {
            raw = atol(argv[++i]);
        } else {
            fprintf(stderr, "usage: lattice [--runs N] [--nodes N] [--days N] "
                            "[--per-node-nodes N] [--raw N]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 100)
        runs = 3;
    if (nodes < 2 || intervals < 1 || raw < 1000)
        die("--nodes needs at least 2, --days 1 and --raw 1000", NULL);
    signal(SIGPIPE, SIG_IGN);
    server_start();

    /* Raw limits first, on the quiet server. */
    double rate[100], pub_only[100], rq_med[100], rq_p99[100];
    for (int r = 0; r < runs; r++) {
        rate[r] = raw_publish_rate(raw, &pub_only[r]);
        raw_request_latency(5000, &rq_med[r], &rq_p99[r]);
    }
    printf("nats-server at %s, %d runs, medians\n\n", server_url, runs);
    printf("| raw NATS (cnats, %d-byte messages) | figure |\n|---|---:|\n", RAW_PAYLOAD);
    printf("| publish -> subscriber, messages/s | %.0f |\n", bench_median(rate, runs));
    printf("| publish alone (loop + flush), messages/s | %.0f |\n", bench_median(pub_only, runs));
    printf("| request/reply round trip, median, ms | %.3f |\n", 1e3 * bench_median(rq_med, runs));
    printf("| request/reply round trip, p99, ms | %.3f |\n\n", 1e3 * bench_median(rq_p99, runs));
    fflush(stdout);

    printf("| connections | nodes x intervals | wall, s | bid round trip median, ms | p99, ms | "
           "published/s | delivered/s | bids timed | peer kWh |\n"
           "|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    run_fig f[100];
    const char *modes[2] = {"shared", "per node"};
    size_t mode_nodes[2] = {nodes, per_node_nodes};
    for (int m = 0; m < 2; m++) {
        int ok = 0;
        for (int r = 0; r < runs; r++) {
            if (!fresh_run(argv[0], m == 1, mode_nodes[m], intervals, &f[ok]))
                fprintf(stderr, "lattice bench: a %s run of %zu nodes failed\n", modes[m],
                        mode_nodes[m]);
            else
                ok++;
        }
        if (ok)
            report_mode(modes[m], mode_nodes[m], intervals, f, ok);
        fflush(stdout);
    }
    server_stop();
    nats_Close();
    return 0;
}
