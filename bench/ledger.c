/* Ledger benchmark: how fast ops are ingested, next to the signature check alone, and how fast
 * two large copies are reconciled over a local nats-server.
 *
 *  - ingest: N signed ops (a chain by three members, counters and registers) made beforehand,
 *    ingested into a fresh ledger in batches of 1000 (one transaction each: decode, Ed25519
 *    verification, validity by the ancestors, SQLite store, CRDT state): ops/s, each run in a
 *    fresh process (this program forks one per run). In the same process, just before,
 *    crypto_sign_verify_detached alone over the same ops: the ceiling of any ingest.
 *  - reconciliation: two copies of 100,000 ops each, 1% of each unknown to the other (99,000 ops
 *    in common, then 1,000 made on each side), each on its own connection to a nats-server this
 *    program starts on a free loopback port; copy b's connection polled by a thread as another
 *    process would; pg_ledger_net_sync on copy a timed (both copies hold every op at the end:
 *    checked by the heads digests). With Bloom filters (algorithm 2) and without (algorithm 1).
 *    Opening the copies and the net's first read of the graph are not timed (printed apart).
 *
 * Each figure is the median of --runs runs (round trips: the mean).
 *
 *   build/bench/ledger [--runs N] [--ingest-ops N] [--ops N] [--alg1-runs N]
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "core/util.h"
#include "plurigrid/ledger.h"

static pg_ledger_key keys[4];
static uint8_t *genesis;
static size_t genesis_len;
static char dir[512];

static void
die(const char *what, const pg_error *err)
{
    fprintf(stderr, "ledger bench: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    exit(1);
}

/* ---------------------------------------------------------------- ops made beforehand */

typedef struct oplist {
    uint8_t **op;
    size_t *len;
    size_t n;
} oplist;

static void
make_keys(void)
{
    pg_error err = {0};
    for (int i = 0; i < 4; i++) {
        uint8_t seed[32];
        memset(seed, 0x20 + i, sizeof seed);
        if (pg_ledger_key_from_seed(&keys[i], seed, &err))
            die("key", &err);
    }
    pg_ledger_member m[3] = {{"m1", keys[1].pk}, {"m2", keys[2].pk}, {"m3", keys[3].pk}};
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_GENESIS;
    p.genesis.community = "bench";
    p.genesis.members = m;
    p.genesis.n_members = 3;
    if (pg_ledger_op_encode(&keys[0], NULL, 0, &p, &genesis, &genesis_len, &err))
        die("genesis", &err);
}

/* n ops in a chain on top of head by the given members in turn. *head moves to the last. */
static void
make_chain(oplist *l, size_t n, pg_ledger_id *head, const int *authors, int n_authors)
{
    l->op = malloc(n * sizeof *l->op);
    l->len = malloc(n * sizeof *l->len);
    if (!l->op || !l->len)
        die("out of memory", NULL);
    l->n = n;
    pg_error err = {0};
    uint8_t value[48];
    for (size_t i = 0; i < n; i++) {
        pg_ledger_payload p;
        memset(&p, 0, sizeof p);
        char name[16];
        snprintf(name, sizeof name, "r%zu", i % 5);
        if (i % 2) {
            p.kind = PG_LEDGER_COUNTER;
            p.name = "energy";
            p.delta = (int64_t)(i % 1000) - 300;
        } else {
            memset(value, (int)(i & 0xff), sizeof value);
            p.kind = PG_LEDGER_REGISTER;
            p.name = name;
            p.value = value;
            p.value_len = sizeof value;
        }
        if (pg_ledger_op_encode(&keys[authors[i % (size_t)n_authors]], head, 1, &p, &l->op[i],
                                &l->len[i], &err))
            die("encoding an op", &err);
        crypto_generichash(head->b, sizeof head->b, l->op[i], l->len[i], NULL, 0);
    }
}

static void
ingest_all(pg_ledger *l, const oplist *ops)
{
    pg_error err = {0};
    for (size_t i = 0; i < ops->n; i += 1000) {
        size_t k = ops->n - i < 1000 ? ops->n - i : 1000;
        pg_ledger_ingest_stats st;
        if (pg_ledger_ingest(l, (const void *const *)(ops->op + i), ops->len + i, k, &st, &err))
            die("ingest", &err);
        if (st.delivered != k)
            die("ops were not delivered", NULL);
    }
}

static pg_ledger *
open_copy(const char *name, bool create)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.create = create;
    pg_ledger *l = NULL;
    pg_error err = {0};
    if (pg_ledger_open(&l, path, genesis, genesis_len, &o, &err))
        die("open", &err);
    return l;
}

/* ---------------------------------------------------------------- ingest */

static double verify_only(const oplist *ops);

/* One run in a fresh process: the signature check alone over the ops, then their ingest into a
 * fresh ledger, back to back so that both see the same machine. */
static void
ingest_child(const oplist *ops, int run, double *t_ingest, double *t_verify)
{
    int fd[2];
    if (pipe(fd))
        die("pipe", NULL);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", NULL);
    if (pid == 0) {
        char name[64];
        snprintf(name, sizeof name, "ingest%d.db", run);
        double t[2];
        t[1] = verify_only(ops);
        pg_ledger *l = open_copy(name, true);
        double t0 = pgi_now();
        ingest_all(l, ops);
        t[0] = pgi_now() - t0;
        pg_ledger_close(l);
        if (write(fd[1], t, sizeof t) != (ssize_t)sizeof t)
            _exit(1);
        _exit(0);
    }
    close(fd[1]);
    double t[2];
    if (read(fd[0], t, sizeof t) != (ssize_t)sizeof t)
        die("an ingest run failed", NULL);
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    *t_ingest = t[0];
    *t_verify = t[1];
}

static double
verify_only(const oplist *ops)
{
    double t0 = pgi_now();
    for (size_t i = 0; i < ops->n; i++) {
        const uint8_t *op = ops->op[i];
        size_t len = ops->len[i];
        /* The author's key at bytes 5..36, the signature the last 64 bytes (docs/ledger.md). */
        if (crypto_sign_verify_detached(op + len - 64, op, len - 64, op + 5))
            die("a signature does not verify", NULL);
    }
    return pgi_now() - t0;
}

/* ---------------------------------------------------------------- nats-server */

static pid_t server_pid;
static char server_url[64];

static void
server_stop(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
}

static int
free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) ||
        getsockname(s, (struct sockaddr *)&a, &n))
        die("no free port", NULL);
    close(s);
    return ntohs(a.sin_port);
}

static void
server_start(void)
{
    int port = free_port();
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    snprintf(server_url, sizeof server_url, "nats://127.0.0.1:%d", port);
    pid_t parent = getpid();
    fflush(stdout);
    server_pid = fork();
    if (server_pid < 0)
        die("fork", NULL);
    if (server_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(126);
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        const char *prog = getenv("PGT_NATS_SERVER");
        if (prog && *prog)
            execl(prog, prog, "-a", "127.0.0.1", "-p", p, (char *)NULL);
        execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", p, (char *)NULL);
        execl("/usr/sbin/nats-server", "nats-server", "-a", "127.0.0.1", "-p", p, (char *)NULL);
        _exit(127);
    }
    atexit(server_stop);
}

static pg_bus *
open_bus(void)
{
    pg_bus *b = NULL;
    pg_error err = {0};
    double end = pgi_now() + 20;
    while (pg_bus_open(&b, "nats", server_url, &err) != PG_OK) {
        if (pgi_now() > end)
            die("cannot reach the nats-server this program started (is nats-server installed?)",
                &err);
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    }
    return b;
}

/* ---------------------------------------------------------------- reconciliation */

typedef struct poller {
    pg_bus *bus;
    pg_ledger_net *net;
    int stop;
} poller;

static void *
poll_thread(void *arg)
{
    poller *p = arg;
    while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
        pg_bus_poll(p->bus, 0.005, NULL, NULL);
        pg_ledger_net_step(p->net, pgi_now(), NULL);
    }
    return NULL;
}

static void
copy_file(const char *from, const char *to)
{
    char a[700], b[700];
    snprintf(a, sizeof a, "%s/%s", dir, from);
    snprintf(b, sizeof b, "%s/%s", dir, to);
    FILE *in = fopen(a, "rb"), *out = fopen(b, "wb");
    if (!in || !out)
        die("copying the base ledger", NULL);
    static char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            die("copying the base ledger", NULL);
    fclose(in);
    if (fclose(out))
        die("copying the base ledger", NULL);
}

typedef struct sync_result {
    double seconds, setup;
    uint64_t round_trips, requests, bytes;
} sync_result;

static sync_result
reconcile_once(const oplist *only_a, const oplist *only_b, bool bloom)
{
    sync_result res = {0};
    char wal[720];
    const char *names[2] = {"a.db", "b.db"};
    for (int i = 0; i < 2; i++) {
        copy_file("base.db", names[i]);
        snprintf(wal, sizeof wal, "%s/%s-wal", dir, names[i]);
        unlink(wal);
        snprintf(wal, sizeof wal, "%s/%s-shm", dir, names[i]);
        unlink(wal);
    }
    double t0 = pgi_now();
    pg_ledger *a = open_copy("a.db", false), *b = open_copy("b.db", false);
    ingest_all(a, only_a);
    ingest_all(b, only_b);
    pg_bus *ba = open_bus(), *bb = open_bus();
    pg_ledger_net_options o;
    pg_ledger_net_options_init(&o);
    o.prefix = "pg.bench.ledger";
    o.bloom = bloom;
    o.timeout_s = 30;
    pg_ledger_net *na = NULL, *nb = NULL;
    pg_error err = {0};
    o.self = "a";
    if (pg_ledger_net_new(&na, a, ba, &o, &err))
        die("net", &err);
    o.self = "b";
    if (pg_ledger_net_new(&nb, b, bb, &o, &err))
        die("net", &err);
    if (pg_bus_flush(ba, 5, &err) || pg_bus_flush(bb, 5, &err))
        die("flush", &err);
    res.setup = pgi_now() - t0;
    poller p = {bb, nb, 0};
    pthread_t th;
    if (pthread_create(&th, NULL, poll_thread, &p))
        die("thread", NULL);
    t0 = pgi_now();
    int rc = pg_ledger_net_sync(na, "b", 600, &err);
    res.seconds = pgi_now() - t0;
    __atomic_store_n(&p.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    if (rc)
        die("reconciliation", &err);
    pg_ledger_id da, db;
    if (pg_ledger_heads_digest(a, &da, &err) || pg_ledger_heads_digest(b, &db, &err))
        die("heads digest", &err);
    if (memcmp(da.b, db.b, 32) || pg_ledger_count(a) != pg_ledger_count(b))
        die("the copies differ after reconciliation", NULL);
    pg_ledger_net_stats s;
    pg_ledger_net_get_stats(na, &s);
    res.round_trips = s.round_trips;
    res.requests = s.requests;
    res.bytes = s.bytes_sent + s.bytes_received;
    pg_ledger_net_free(na);
    pg_ledger_net_free(nb);
    pg_ledger_close(a);
    pg_ledger_close(b);
    pg_bus_close(ba);
    pg_bus_close(bb);
    return res;
}

static void
report_sync(const char *what, const oplist *only_a, const oplist *only_b, bool bloom, int runs)
{
    double *t = calloc((size_t)runs, sizeof *t), *setup = calloc((size_t)runs, sizeof *setup);
    double rt = 0, req = 0, bytes = 0;
    for (int r = 0; r < runs; r++) {
        sync_result x = reconcile_once(only_a, only_b, bloom);
        t[r] = x.seconds;
        setup[r] = x.setup;
        rt += (double)x.round_trips;
        req += (double)x.requests;
        bytes += (double)x.bytes;
        printf("  %s run %d: %.3f s, %llu round trips, %llu requests\n", what, r + 1, x.seconds,
               (unsigned long long)x.round_trips, (unsigned long long)x.requests);
    }
    printf("%s: median %.3f s; round trips %.3f (mean), requests %.2f, %.0f KiB exchanged; "
           "opening both copies and their nets (not timed) %.2f s\n",
           what, bench_median(t, runs), rt / runs, req / runs, bytes / runs / 1024,
           bench_median(setup, runs));
    free(t);
    free(setup);
}

int
main(int argc, char **argv)
{
    int runs = 7, alg1_runs = 3;
    size_t ingest_ops = 20000, total = 100000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--alg1-runs") && i + 1 < argc)
            alg1_runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ingest-ops") && i + 1 < argc)
            ingest_ops = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
            total = (size_t)atol(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: ledger [--runs N] [--alg1-runs N] [--ingest-ops N] [--ops N]\n");
            return 2;
        }
    }
    if (runs < 1 || alg1_runs < 0 || ingest_ops < 1000 || total < 1000) {
        fprintf(stderr, "ledger bench: --runs >= 1, --ingest-ops and --ops >= 1000\n");
        return 2;
    }
    if (sodium_init() < 0)
        die("libsodium", NULL);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/pgbench-ledger.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        die("cannot make a temporary folder", NULL);
    make_keys();
    pg_ledger_id gid;
    crypto_generichash(gid.b, sizeof gid.b, genesis, genesis_len, NULL, 0);

    /* Ingest. */
    static const int all3[] = {1, 2, 3};
    oplist ing;
    pg_ledger_id head = gid;
    make_chain(&ing, ingest_ops, &head, all3, 3);
    double *ti = calloc((size_t)runs, sizeof *ti), *tv = calloc((size_t)runs, sizeof *tv);
    for (int r = 0; r < runs; r++) {
        ingest_child(&ing, r, &ti[r], &tv[r]);
        printf("  ingest run %d: %.0f ops/s (signature check alone %.0f/s)\n", r + 1,
               (double)ing.n / ti[r], (double)ing.n / tv[r]);
    }
    printf("ingest of %zu ops (batches of 1000, a fresh process each run): median %.0f ops/s; "
           "crypto_sign_verify_detached alone: %.0f/s\n",
           ing.n, (double)ing.n / bench_median(ti, runs), (double)ing.n / bench_median(tv, runs));
    fflush(stdout);

    /* Reconciliation: base of total - 1%, then 1% on each side. */
    size_t diff = total / 100, common = total - diff - 1;
    oplist base, only_a, only_b;
    head = gid;
    make_chain(&base, common, &head, all3, 3);
    pg_ledger_id fork = head;
    static const int m1[] = {1}, m2[] = {2};
    make_chain(&only_a, diff, &head, m1, 1);
    head = fork;
    make_chain(&only_b, diff, &head, m2, 1);
    pg_ledger *bl = open_copy("base.db", true);
    ingest_all(bl, &base);
    pg_ledger_close(bl);
    printf("reconciliation of two %zu-op copies, %zu ops of each unknown to the other, over a "
           "local nats-server:\n",
           common + 1 + diff, diff);
    server_start();
    report_sync("algorithm 2 (Bloom filters)", &only_a, &only_b, true, runs);
    if (alg1_runs)
        report_sync("algorithm 1 (heads, then back along the graph)", &only_a, &only_b, false,
                    alg1_runs);
    server_stop();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "ledger bench: could not remove %s\n", dir);
    return 0;
}
