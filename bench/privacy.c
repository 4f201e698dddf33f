/* Secure aggregation's cost for 10, 50 and 200 members (docs/privacy.md, bench/RESULTS.md
 * "privacy"): per member, the engine's own work in one aggregation (every client call timed, the
 * messages passed in memory) and the aggregator's; the round latency of a whole aggregation on
 * the in-process bus and over a local nats-server (the aggregator and every member in this
 * process, on one connection: the members' work runs one after another on one core, so this
 * latency is the coalition's summed work plus the network's); next to the raw cost, measured in
 * the same run, of the X25519 operations a member does (crypto_scalarmult: two key pairs, and one
 * agreement per peer for each of its two keys). Each figure is the median of several runs; the
 * vector is a private bid (40 values: 20 price levels, buy and sell). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "core/util.h"
#include "plurigrid/lattice.h"
#include "privacy/internal.h"
#include "privacy/pnet.h"

#define LEN 40
#define REPS 3

static pid_t server_pid;

static void
die(const char *what, const pg_error *err)
{
    fprintf(stderr, "bench/privacy: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    exit(1);
}

static int
free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (void *)&a, &n))
        die("no free port", NULL);
    close(fd);
    return ntohs(a.sin_port);
}

static void
server_stop(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
}

static void
server_start(char *url, size_t n)
{
    int port = free_port();
    snprintf(url, n, "nats://127.0.0.1:%d", port);
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    fflush(stdout);
    server_pid = fork();
    if (server_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", p, (char *)NULL);
        execl("/usr/sbin/nats-server", "nats-server", "-a", "127.0.0.1", "-p", p, (char *)NULL);
        _exit(127);
    }
    atexit(server_stop);
    double end = pgi_now() + 20;
    for (;;) {
        pg_bus *b = NULL;
        if (pg_bus_open(&b, "nats", url, NULL) == PG_OK) {
            pg_bus_close(b);
            return;
        }
        if (pgi_now() > end)
            die("nats-server did not start (scripts/deps.sh installs it)", NULL);
        nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
}

typedef struct world {
    uint32_t n;
    uint8_t (*pk)[32], (*sk)[64], spk[32], ssk[64];
    uint64_t *in; /* [n * LEN] */
    const uint64_t **inputs;
    uint32_t *ids;
    pgi_secagg_params p;
} world;

static void
world_make(world *w, uint32_t n, const char *label)
{
    w->n = n;
    w->pk = calloc(n, sizeof *w->pk);
    w->sk = calloc(n, sizeof *w->sk);
    w->in = calloc((size_t)n * LEN, sizeof *w->in);
    w->inputs = calloc(n, sizeof *w->inputs);
    w->ids = calloc(n, sizeof *w->ids);
    if (!w->pk || !w->sk || !w->in || !w->inputs || !w->ids)
        die("out of memory", NULL);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t seed[32];
        randombytes_buf(seed, sizeof seed);
        pgi_secagg_sign_keypair_from_seed(w->pk[i], w->sk[i], seed);
        for (int k = 0; k < LEN; k++)
            w->in[(size_t)i * LEN + k] = randombytes_uniform(1u << 30);
        w->inputs[i] = w->in + (size_t)i * LEN;
        w->ids[i] = i;
    }
    uint8_t seed[32] = {1};
    pgi_secagg_sign_keypair_from_seed(w->spk, w->ssk, seed);
    w->p = (pgi_secagg_params){.n = n, .t = pgi_secagg_threshold(n, 0), .len = LEN};
    w->p.min_coalition = w->p.t;
    pgi_secagg_round_id(w->p.round_id, label, strlen(label));
}

static void
world_free(world *w)
{
    free(w->pk);
    free(w->sk);
    free(w->in);
    free(w->inputs);
    free(w->ids);
}

/* One aggregation with the messages passed in memory: the members' and the aggregator's time
 * (s) measured apart. */
static void
engine_only(const world *w, double *member_s, double *server_s)
{
    pg_error err = {0};
    uint32_t n = w->n;
    pgi_secagg_client **c = calloc(n, sizeof *c);
    pgi_secagg_server *s = NULL;
    double tm = 0, ts = 0, t0;
    t0 = pgi_now();
    if (pgi_secagg_server_new(&s, &w->p, (const uint8_t(*)[32])w->pk, w->ssk, &err))
        die("server", &err);
    ts += pgi_now() - t0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *m = NULL;
        size_t len = 0;
        t0 = pgi_now();
        if (pgi_secagg_client_new(&c[i], &w->p, (const uint8_t(*)[32])w->pk, i, w->sk[i], w->spk,
                                  NULL, &err) ||
            pgi_secagg_client_start(c[i], w->inputs[i], &m, &len, &err))
            die("client", &err);
        tm += pgi_now() - t0;
        t0 = pgi_now();
        if (pgi_secagg_server_receive(s, m, len, &err))
            die("receive", &err);
        ts += pgi_now() - t0;
        free(m);
    }
    while (pgi_secagg_server_state_get(s) < PGI_SAS_DONE) {
        pgi_secagg_outbox box = {0};
        t0 = pgi_now();
        if (pgi_secagg_server_advance(s, &box, &err))
            die("advance", &err);
        ts += pgi_now() - t0;
        for (size_t k = 0; k < box.n; k++)
            for (uint32_t i = 0; i < n; i++) {
                if (box.msgs[k].to != PGI_SECAGG_ALL && box.msgs[k].to != i)
                    continue;
                uint8_t *r = NULL;
                size_t rl = 0;
                t0 = pgi_now();
                int rc = pgi_secagg_client_handle(c[i], box.msgs[k].data, box.msgs[k].len, &r, &rl,
                                                  &err);
                tm += pgi_now() - t0;
                if (rc)
                    die("handle", &err);
                if (r) {
                    t0 = pgi_now();
                    if (pgi_secagg_server_receive(s, r, rl, &err))
                        die("receive", &err);
                    ts += pgi_now() - t0;
                    free(r);
                }
            }
        pgi_secagg_outbox_free(&box);
    }
    for (uint32_t i = 0; i < n; i++)
        pgi_secagg_client_free(c[i]);
    pgi_secagg_server_free(s);
    free(c);
    *member_s = tm / n;
    *server_s = ts;
}

/* One aggregation on a bus (every member hosted here): its wall time, s. */
static double
on_bus(const world *w, const char *transport, const char *url, const char *label)
{
    pg_error err = {0};
    pg_bus *bus = NULL;
    if (pg_bus_open(&bus, transport, url, &err))
        die("bus", &err);
    uint64_t sum[LEN];
    pgi_pnet_round r = {.bus = bus,
                        .prefix = "pg.bench.privacy.v1",
                        .label = label,
                        .params = &w->p,
                        .roster = (const uint8_t(*)[32])w->pk,
                        .server_pk = w->spk,
                        .server_sk = w->ssk,
                        .n_hosted = w->n,
                        .hosted = w->ids,
                        .member_sk = (const uint8_t(*)[64])w->sk,
                        .inputs = w->inputs,
                        /* every member works in this process, one after another: a round on
                         * NATS lasts their summed work, so its deadline is generous */
                        .round_s = url ? 600 : 0,
                        .overall_s = url ? 3600 : 0};
    pgi_pnet_result res = {.sum = sum};
    double t0 = pgi_now();
    if (pgi_pnet_run(&r, &res, &err))
        die("aggregation", &err);
    double dt = pgi_now() - t0;
    if (!res.released || res.n_included != w->n) {
        fprintf(stderr, "bench/privacy: %s, %u members: released %d with %u included (%s)\n",
                transport, w->n, res.released, res.n_included, res.failure);
        exit(1);
    }
    pg_bus_close(bus);
    return dt;
}

int
main(void)
{
    if (sodium_init() < 0)
        die("libsodium", NULL);
    char url[64];
    server_start(url, sizeof url);
    /* raw X25519: one crypto_scalarmult */
    double xs[REPS];
    for (int r = 0; r < REPS; r++) {
        uint8_t a[32], b[32], q[32];
        randombytes_buf(a, 32);
        crypto_scalarmult_base(b, a);
        int k = 2000;
        double t0 = pgi_now();
        for (int i = 0; i < k; i++)
            if (crypto_scalarmult(q, a, b) != 0)
                die("scalarmult", NULL);
        xs[r] = (pgi_now() - t0) / k;
    }
    double x25519 = bench_median(xs, REPS);
    printf("privacy: X25519 crypto_scalarmult %.1f us (median of %d x 2000)\n", x25519 * 1e6, REPS);
    printf("%8s %14s %14s %16s %16s %14s %16s\n", "members", "member ms", "aggregator ms",
           "round inproc ms", "round NATS ms", "X25519/member", "X25519 raw ms");
    const uint32_t sizes[] = {10, 50, 200};
    for (size_t z = 0; z < 3; z++) {
        uint32_t n = sizes[z];
        double m[REPS], s[REPS], ip[REPS], nt[REPS];
        int reps = n >= 200 ? 1 : REPS; /* 200 members: one run (minutes on two cores) */
        for (int r = 0; r < reps; r++) {
            char label[32];
            snprintf(label, sizeof label, "n%u-r%d", n, r);
            world w;
            world_make(&w, n, label);
            engine_only(&w, &m[r], &s[r]);
            ip[r] = on_bus(&w, "inproc", NULL, label);
            nt[r] = on_bus(&w, "nats", url, label);
            world_free(&w);
        }
        /* a member's X25519 work: its two key pairs, and one agreement with each peer for each */
        double ops = 2.0 + 2.0 * (n - 1);
        printf("%8u %14.2f %14.1f %16.1f %16.1f %14.0f %16.2f\n", n, 1e3 * bench_median(m, reps),
               1e3 * bench_median(s, reps), 1e3 * bench_median(ip, reps),
               1e3 * bench_median(nt, reps), ops, 1e3 * ops * x25519);
        fflush(stdout);
    }
    return 0;
}
