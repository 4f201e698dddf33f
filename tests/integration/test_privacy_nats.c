/* Secure aggregation on a real nats-server with its members as separate processes: this test is
 * the aggregator; each member is a child process with its own NATS connection. Members are
 * SIGKILLed mid-round (each at a randomly chosen message of the protocol), up to the number the
 * threshold allows: the sum released is exactly the sum of the inputs of the members it says it
 * includes, and those are exactly the members that sent their masked vector; one kill too many
 * and nothing is released. A listener on every subject (">") records every message on the wire:
 * none holds a test member's value in any encoding (the double's bytes either way round, as a
 * float, as fixed-point integers of several scales either way round, as decimal text, scaled). */
#include "harness.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "nats_fixture.h"
#include "plurigrid/lattice.h"
#include "privacy/internal.h"
#include "privacy/pclear.h"
#include "privacy/pnet.h"

#define N 8
#define T 5
#define LEN 6

static uint64_t rng_state;

static uint64_t
next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct world {
    uint8_t pk[N][32], sk[N][64], spk[32], ssk[64];
    double x[N][LEN];
    uint64_t in[N][LEN];
    pgi_secagg_params p;
} world;

/* The world of one aggregation: from its seed alone, so a member process makes the same. */
static void
make_world(world *w, const char *label, uint64_t seed_)
{
    pg_error err = {0};
    memset(w, 0, sizeof *w);
    uint64_t saved = rng_state;
    rng_state = seed_;
    for (int i = 0; i < N; i++) {
        uint8_t seed[32] = {(uint8_t)(i + 1), 7, 7};
        assert_int_equal(pgi_secagg_sign_keypair_from_seed(w->pk[i], w->sk[i], seed), 0);
        for (int k = 0; k < LEN; k++)
            w->x[i][k] = (double)(next() % 100000) / 977.0;
    }
    /* member 0 is the canary: values a test can look for on the wire */
    const double canary[LEN] = {3.1415926535, 2.718281828, 1234.5678, 0.577215664, 42.4242, 7.77};
    memcpy(w->x[0], canary, sizeof canary);
    for (int i = 0; i < N; i++)
        assert_int_equal(pgi_secagg_encode(w->x[i], LEN, PGI_PCLEAR_SCALE, w->in[i], &err), 0);
    uint8_t seed[32] = {99};
    assert_int_equal(pgi_secagg_sign_keypair_from_seed(w->spk, w->ssk, seed), 0);
    w->p = (pgi_secagg_params){.n = N, .t = T, .min_coalition = T, .len = LEN};
    pgi_secagg_round_id(w->p.round_id, label, strlen(label));
    rng_state = saved;
}

/* ---------------------------------------------------------------- a member process */

static void
log_line(void *ud, pg_log_level level, const char *msg)
{
    (void)ud;
    (void)level;
    fprintf(stderr, "%s\n", msg);
}

typedef struct child_ctx {
    int go;                   /* read end of the go pipe */
    int up;                   /* write end of the pipe saying it is subscribed */
    pgi_secagg_msg_type kill; /* 0: never */
} child_ctx;

static void
child_ready(void *ud)
{
    child_ctx *c = ud;
    char b = 1;
    if (write(c->up, &b, 1) != 1 || read(c->go, &b, 1) != 1)
        _exit(3);
}

static bool
child_die(void *ud, uint32_t id, pgi_secagg_msg_type type)
{
    child_ctx *c = ud;
    if (getenv("PGT_DEBUG"))
        fprintf(stderr, "member %u hears %d (dies at %d)\n", id, type, c->kill);
    if (c->kill && type == c->kill)
        raise(SIGKILL); /* killed mid-round */
    return false;
}

static void
run_member(const world *w, const char *url, const char *label, uint32_t id, child_ctx *cx)
{
    pg_error err = {0};
    pg_bus *bus = NULL;
    if (pg_bus_open(&bus, "nats", url, &err))
        _exit(4);
    const uint64_t *in = w->in[id];
    pgi_pnet_round r = {.bus = bus,
                        .prefix = "pg.canary.privacy.v1",
                        .label = label,
                        .params = &w->p,
                        .roster = (const uint8_t(*)[32])w->pk,
                        .server_pk = w->spk,
                        .n_hosted = 1,
                        .hosted = &id,
                        .member_sk = (const uint8_t(*)[64]) & w->sk[id],
                        .inputs = &in,
                        .round_s = 0.05,
                        .overall_s = 30,
                        .ready = child_ready,
                        .ready_ud = cx,
                        .log = log_line,
                        .die = child_die,
                        .die_ud = cx};
    pgi_secagg_client_state st;
    pgi_pnet_result res = {.member_state = &st};
    int rc = pgi_pnet_run(&r, &res, &err);
    pg_bus_close(bus);
    _exit(rc ? 5 : st == PGI_SAC_DONE ? 0 : 6);
}

/* ---------------------------------------------------------------- the wire listener */

typedef struct tap {
    uint8_t **msg;
    size_t *len, n, cap;
} tap;

static void
on_tap(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    tap *t = ctx;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        t->msg = realloc(t->msg, t->cap * sizeof *t->msg);
        t->len = realloc(t->len, t->cap * sizeof *t->len);
        assert_non_null(t->msg);
        assert_non_null(t->len);
    }
    t->msg[t->n] = malloc(len + 1);
    assert_non_null(t->msg[t->n]);
    memcpy(t->msg[t->n], data, len);
    t->len[t->n++] = len;
}

static void
tap_free(tap *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->msg[i]);
    free(t->msg);
    free(t->len);
    memset(t, 0, sizeof *t);
}

static bool
contains(const uint8_t *h, size_t hn, const void *needle, size_t nn)
{
    for (size_t i = 0; nn && i + nn <= hn; i++)
        if (memcmp(h + i, needle, nn) == 0)
            return true;
    return false;
}

static void
reverse(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        uint8_t t = b[i];
        b[i] = b[n - 1 - i];
        b[n - 1 - i] = t;
    }
}

/* Whether any message holds x in one of its encodings (first failing encoding in *what). */
static bool
on_wire(const tap *t, double x, char *what, size_t wn)
{
    uint8_t pat[64][16];
    size_t pn[64], np = 0;
    char names[64][80];
#define ADD(buf, n, name)                                                                          \
    do {                                                                                           \
        memcpy(pat[np], (buf), (n));                                                               \
        pn[np] = (n);                                                                              \
        snprintf(names[np], sizeof names[np], "%s", (name));                                       \
        np++;                                                                                      \
        memcpy(pat[np], (buf), (n));                                                               \
        reverse(pat[np], (n));                                                                     \
        pn[np] = (n);                                                                              \
        snprintf(names[np], sizeof names[np], "%.40s (other byte order)", (name));                 \
        np++;                                                                                      \
    } while (0)
    ADD(&x, 8, "double");
    float f = (float)x;
    ADD(&f, 4, "float");
    const double scales[] = {PGI_PCLEAR_SCALE, 1, 10, 100, 1e3, 1e4, 1e6, 1e9, 65536, 4294967296.0};
    for (size_t k = 0; k < sizeof scales / sizeof *scales; k++) {
        int64_t v = (int64_t)llround(x * scales[k]);
        if (llabs(v) < 65536)
            continue; /* a small integer is in any message by chance: it tells nothing */
        char nm[40];
        snprintf(nm, sizeof nm, "int64 x %g", scales[k]);
        ADD(&v, 8, nm);
        if (llabs(v) < 2147483647) {
            int32_t v32 = (int32_t)v;
            snprintf(nm, sizeof nm, "int32 x %g", scales[k]);
            ADD(&v32, 4, nm);
        }
    }
#undef ADD
    char txt[6][40];
    snprintf(txt[0], sizeof txt[0], "%.17g", x);
    snprintf(txt[1], sizeof txt[1], "%g", x);
    snprintf(txt[2], sizeof txt[2], "%.3f", x);
    snprintf(txt[3], sizeof txt[3], "%.6f", x);
    snprintf(txt[4], sizeof txt[4], "%.0f", x * 1000); /* Wh */
    snprintf(txt[5], sizeof txt[5], "%.0f", x * PGI_PCLEAR_SCALE);
    for (size_t i = 0; i < t->n; i++) {
        for (size_t k = 0; k < np; k++)
            if (contains(t->msg[i], t->len[i], pat[k], pn[k])) {
                snprintf(what, wn, "%s in message %zu", names[k], i);
                return true;
            }
        for (int k = 0; k < 6; k++)
            if (strlen(txt[k]) >= 4 && contains(t->msg[i], t->len[i], txt[k], strlen(txt[k]))) {
                snprintf(what, wn, "text '%s' in message %zu", txt[k], i);
                return true;
            }
    }
    return false;
}

/* ---------------------------------------------------------------- one aggregation */

/* Every member is subscribed (they say so on the up pipe): let them advertise. */
static void
go_all(void *ud)
{
    int *fd = ud; /* [0] up (read), [1] go (write) */
    char b[N] = {0};
    size_t got = 0;
    while (got < N) {
        ssize_t k = read(fd[0], b, N - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    assert_int_equal(write(fd[1], b, N), N);
}

/* Plays one aggregation with member i killed at kill[i] (0: not killed); returns whether it was
 * released, with the sum and who is included. */
static bool
play(const char *url, const world *w, uint64_t wseed, const char *label,
     const pgi_secagg_msg_type *killat, uint64_t *sum, bool *included, tap *tp)
{
    pg_error err = {0};
    int pipefd[2], upfd[2];
    assert_int_equal(pipe(pipefd), 0);
    assert_int_equal(pipe(upfd), 0);
    pid_t pid[N];
    for (uint32_t i = 0; i < N; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0) {
            /* a fresh program: the NATS client's threads do not survive a fork */
            close(pipefd[1]);
            close(upfd[0]);
            char a[6][64];
            snprintf(a[0], sizeof a[0], "%llu", (unsigned long long)wseed);
            snprintf(a[1], sizeof a[1], "%u", i);
            snprintf(a[2], sizeof a[2], "%d", (int)killat[i]);
            snprintf(a[3], sizeof a[3], "%d", pipefd[0]);
            snprintf(a[4], sizeof a[4], "%d", upfd[1]);
            execl("/proc/self/exe", "member", "--member", url, label, a[0], a[1], a[2], a[3], a[4],
                  (char *)NULL);
            _exit(7);
        }
    }
    close(pipefd[0]);
    close(upfd[1]);
    int fds[2] = {upfd[0], pipefd[1]};
    pg_bus *bus = NULL, *tb = NULL;
    assert_int_equal(pg_bus_open(&bus, "nats", url, &err), PG_OK);
    assert_int_equal(pg_bus_open(&tb, "nats", url, &err), PG_OK);
    uint64_t sid;
    assert_int_equal(pg_bus_subscribe(tb, ">", on_tap, tp, &sid, &err), PG_OK);
    assert_int_equal(pg_bus_flush(tb, 5, &err), PG_OK);
    pgi_pnet_round r = {.bus = bus,
                        .prefix = "pg.canary.privacy.v1",
                        .label = label,
                        .params = &w->p,
                        .roster = (const uint8_t(*)[32])w->pk,
                        .server_pk = w->spk,
                        .server_sk = w->ssk,
                        .round_s = 1.0,
                        .overall_s = 40,
                        .ready = go_all,
                        .ready_ud = fds,
                        .log = log_line};
    pgi_pnet_result res = {.sum = sum, .included = included};
    int rc = pgi_pnet_run(&r, &res, &err);
    if (rc)
        fail_msg("aggregation: %s", err.msg);
    close(pipefd[1]);
    close(upfd[0]);
    /* the members: the killed died by SIGKILL, the others ended their part (or, when nothing was
     * released, are waiting for a round that will not come: stopped here) */
    double until = pgi_now() + 10;
    for (int i = 0; i < N; i++) {
        int status = 0;
        pid_t got;
        while ((got = waitpid(pid[i], &status, WNOHANG)) == 0 && pgi_now() < until)
            nanosleep(&(struct timespec){0, 10000000}, NULL);
        if (got == 0) {
            kill(pid[i], SIGKILL);
            waitpid(pid[i], &status, 0);
            assert_false(res.released); /* only a withheld sum leaves members waiting */
            continue;
        }
        if (killat[i])
            assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        else if (res.released && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            fail_msg("member %d ended with status %d", i, status);
    }
    for (int k = 0; k < 50; k++)
        pg_bus_poll(tb, 0.02, NULL, &err); /* the last messages to the listener */
    pg_bus_close(tb);
    pg_bus_close(bus);
    return res.released;
}

static void
killed_members(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    const char *url = pgt_nats_url(s, 0);
    rng_state = (uint64_t)time(NULL);
    printf("seed %llu\n", (unsigned long long)rng_state);
    const pgi_secagg_msg_type phases[] = {PGI_SA_KEYS, PGI_SA_SHARES_FWD, PGI_SA_CONSIST_REQ,
                                          PGI_SA_UNMASK_REQ};
    tap tp = {0};
    for (int trial = 0; trial < 3; trial++) {
        world w;
        char label[32];
        snprintf(label, sizeof label, "kill%d", trial);
        uint64_t wseed = next();
        make_world(&w, label, wseed);
        /* trial 0: nobody killed; then up to N - T members killed at random phases */
        pgi_secagg_msg_type kill[N] = {0};
        int k = trial == 0 ? 0 : (int)(1 + next() % (N - T));
        for (int q = 0; q < k;) {
            uint32_t i = (uint32_t)(1 + next() % (N - 1)); /* never the canary: it must speak */
            if (kill[i])
                continue;
            kill[i] = phases[next() % 4];
            q++;
        }
        uint64_t sum[LEN];
        bool inc[N];
        assert_true(play(url, &w, wseed, label, kill, sum, inc, &tp));
        for (int i = 0; i < N; i++) {
            /* included: exactly those that sent their masked vector */
            bool sent = !kill[i] || kill[i] == PGI_SA_CONSIST_REQ || kill[i] == PGI_SA_UNMASK_REQ;
            if (inc[i] != sent)
                fail_msg("trial %d: member %d killed at %d: included %d", trial, i, kill[i],
                         inc[i]);
        }
        for (int v = 0; v < LEN; v++) {
            uint64_t want = 0;
            for (int i = 0; i < N; i++)
                if (inc[i])
                    want += w.in[i][v];
            assert_true(sum[v] == want);
        }
    }
    /* one kill too many before the masked vectors: nothing is released */
    world w;
    uint64_t wseed = next();
    make_world(&w, "toomany", wseed);
    pgi_secagg_msg_type kill[N] = {0};
    for (int i = 1; i <= N - T + 1; i++)
        kill[i] = i % 2 ? PGI_SA_KEYS : PGI_SA_SHARES_FWD;
    uint64_t sum[LEN];
    for (int v = 0; v < LEN; v++)
        sum[v] = 0xdeadbeefull;
    bool inc[N];
    assert_false(play(url, &w, wseed, "toomany", kill, sum, inc, &tp));
    for (int v = 0; v < LEN; v++)
        assert_true(sum[v] == 0xdeadbeefull);
    /* the canary: no encoding of member 0's values in any message of any trial */
    assert_true(tp.n > 4 * N);
    char what[128];
    for (int v = 0; v < LEN; v++)
        if (on_wire(&tp, w.x[0][v], what, sizeof what))
            fail_msg("member 0's value %d is on the wire: %s", v, what);
    /* the listener would have seen it: a message holding the value is found */
    double planted = w.x[0][2];
    uint8_t fake[32] = {1, 2, 3};
    memcpy(fake + 5, &planted, 8);
    on_tap(&tp, "x", fake, sizeof fake, NULL);
    assert_true(on_wire(&tp, planted, what, sizeof what));
    tap_free(&tp);
    pgt_nats_stop(s);
}

int
main(int argc, char **argv)
{
    if (argc == 9 && strcmp(argv[1], "--member") == 0) {
        /* a member process: url label seed id kill go-fd up-fd */
        world w;
        make_world(&w, argv[3], strtoull(argv[4], NULL, 10));
        child_ctx cx = {
            .go = atoi(argv[7]), .up = atoi(argv[8]), .kill = (pgi_secagg_msg_type)atoi(argv[6])};
        run_member(&w, argv[2], argv[3], (uint32_t)atoi(argv[5]), &cx);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(killed_members, pgt_nats_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
