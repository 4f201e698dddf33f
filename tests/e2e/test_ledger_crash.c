/* Crash safety of the ledger: a child process appends ops (registers, counters) and ingests
 * batches of ops made on its heads, in a loop, on one database, and after each call that
 * returned PG_OK writes the ids it acknowledged to a pipe; the parent kills it with SIGKILL at a
 * random moment (seeded; from at once to a few hundred milliseconds in, so some kills land while
 * it opens the file, most while it writes), several rounds on the same file. After each kill the
 * database reopens, holds every acknowledged op, is one chain (one head: nothing half-applied),
 * its counter equals the counter ops it holds, and pg_ledger_verify_file finds no problem. The
 * same for a child killed while it creates the database. */
#include "harness.h"
#include "unit/ledger/ledger_build.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 8
#define MAX_ACKED 200000

static pg_ledger_key G, A, B;

/* The child: never returns; exits 10 + what failed (it is normally killed first). */
static void
child(const char *path, const lb_op *genesis, int fd)
{
    pg_ledger *l = NULL;
    pg_error err = {0};
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.create = genesis != NULL;
    if (pg_ledger_open(&l, path, genesis ? genesis->bytes : NULL, genesis ? genesis->len : 0, &o,
                       &err) != PG_OK)
        _exit(10);
    for (unsigned i = 0; i < 1000000; i++) {
        pg_ledger_id ids[3];
        size_t n = 0;
        pg_ledger_payload p;
        char v[32];
        if (i % 3 == 0) {
            snprintf(v, sizeof v, "v%u", i);
            p = lb_register("r", v);
            if (pg_ledger_append(l, &A, &p, &ids[n++], &err) != PG_OK)
                _exit(11);
        } else if (i % 3 == 1) {
            p = lb_counter("c", 1);
            if (pg_ledger_append(l, &B, &p, &ids[n++], &err) != PG_OK)
                _exit(12);
        } else { /* three ops on the heads, a chain, ingested in one call */
            uint8_t *bytes[3] = {NULL, NULL, NULL};
            size_t lens[3];
            pg_ledger_id heads[4];
            size_t nh = lt_heads(l, heads, 4);
            if (nh < 1 || nh > 4)
                _exit(13);
            for (int k = 0; k < 3; k++) {
                p = lb_counter("c", 1);
                const pg_ledger_key *who = k == 1 ? &A : &B;
                if (pg_ledger_op_encode(who, k ? &ids[k - 1] : heads, k ? 1 : nh, &p, &bytes[k],
                                        &lens[k], &err) != PG_OK)
                    _exit(14);
                ids[k] = lb_hash(bytes[k], lens[k]);
            }
            n = 3;
            pg_ledger_ingest_stats st;
            if (pg_ledger_ingest(l, (const void *const *)bytes, lens, 3, &st, &err) != PG_OK)
                _exit(15);
            if (st.delivered != 3)
                _exit(16);
            for (int k = 0; k < 3; k++)
                free(bytes[k]);
        }
        /* acknowledged: the call returned PG_OK */
        const uint8_t *b = (const uint8_t *)ids;
        size_t left = n * sizeof *ids;
        while (left) {
            ssize_t w = write(fd, b, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                _exit(17);
            b += w;
            left -= (size_t)w;
        }
    }
    pg_ledger_close(l);
    _exit(0);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct counted {
    size_t counters, ops;
} counted;

static int
count_fn(void *ud, const pg_ledger_op *op)
{
    counted *c = ud;
    c->ops++;
    if (op->payload.kind == PG_LEDGER_COUNTER && strcmp(op->payload.name, "c") == 0)
        c->counters += (size_t)op->payload.delta;
    return 0;
}

static void
test_kill_while_writing(void **state)
{
    (void)state;
    G = lb_key(1), A = lb_key(2), B = lb_key(3);
    pg_ledger_member m[] = {{"a", A.pk}, {"b", B.pk}};
    lb_op g = lb_genesis(&G, "crash", PG_LEDGER_ADMIT_GENESIS, m, 2, NULL, 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/crash.db", pgt_tmpdir());
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    pg_ledger_close(lb_open(path, &g, &o));

    pg_ledger_id *acked = malloc(MAX_ACKED * sizeof *acked);
    assert_non_null(acked);
    size_t n_acked = 0;
    uint64_t rng = 0xc4a5;
    size_t killed_writing = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(path, NULL, fds[1]);
        }
        close(fds[1]);
        /* the first round is killed at once; the others after up to 400 ms */
        double wait = round == 0 ? 0 : (double)lb_below(&rng, 400) / 1000;
        double end = now_s() + wait;
        uint8_t buf[4096];
        size_t have = 0, before = n_acked;
        bool eof = false;
        for (;;) {
            double left = end - now_s();
            if (left <= 0)
                break;
            struct pollfd pfd = {fds[0], POLLIN, 0};
            if (poll(&pfd, 1, (int)(left * 1000) + 1) > 0) {
                ssize_t r = read(fds[0], buf + have, sizeof buf - have);
                if (r <= 0) {
                    eof = true;
                    break;
                }
                have += (size_t)r;
                while (have >= sizeof *acked) {
                    assert_true(n_acked < MAX_ACKED);
                    memcpy(&acked[n_acked++], buf, sizeof *acked);
                    memmove(buf, buf + sizeof *acked, have - sizeof *acked);
                    have -= sizeof *acked;
                }
            }
        }
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
            fail_msg("round %d: the child failed (exit %d) before it was killed", round,
                     WEXITSTATUS(status));
        /* what it acknowledged before it died */
        for (;;) {
            ssize_t r = read(fds[0], buf + have, sizeof buf - have);
            if (r <= 0)
                break;
            have += (size_t)r;
            while (have >= sizeof *acked) {
                assert_true(n_acked < MAX_ACKED);
                memcpy(&acked[n_acked++], buf, sizeof *acked);
                memmove(buf, buf + sizeof *acked, have - sizeof *acked);
                have -= sizeof *acked;
            }
        }
        close(fds[0]);
        (void)eof;
        killed_writing += n_acked > before;

        /* reopen: every acknowledged op is there, the graph is one chain */
        pg_ledger *l = lb_open(path, NULL, &o);
        for (size_t i = 0; i < n_acked; i++)
            if (!pg_ledger_has(l, &acked[i]))
                fail_msg("round %d: acknowledged op %zu (%s) is missing after the kill", round, i,
                         lb_hex(&acked[i]));
        size_t count = pg_ledger_count(l);
        assert_true(count >= n_acked + 1);
        pg_ledger_id heads[4];
        assert_int_equal(lt_heads(l, heads, 4), 1);
        counted c = {0, 0};
        pg_error err = {0};
        assert_int_equal(pg_ledger_each(l, 0, count_fn, &c, &err), PG_OK);
        assert_int_equal(c.ops, count);
        assert_int_equal(pg_ledger_counter_get(l, "c"), (int64_t)c.counters);
        pg_ledger_id hd, sd;
        assert_int_equal(pg_ledger_heads_digest(l, &hd, NULL), PG_OK);
        assert_int_equal(pg_ledger_state_digest(l, &sd, NULL), PG_OK);
        pg_ledger_close(l);

        pg_ledger_verify_report rep;
        memset(&rep, 0, sizeof rep);
        assert_int_equal(pg_ledger_verify_file(path, NULL, &rep, &err), PG_OK);
        for (size_t k = 0; k < rep.n_problems && k < PG_LEDGER_MAX_PROBLEMS; k++)
            print_error("round %d: seq %llu %s: %s\n", round,
                        (unsigned long long)rep.problems[k].seq, rep.problems[k].id,
                        rep.problems[k].what);
        assert_int_equal(rep.n_problems, 0);
        assert_int_equal(rep.ops, count);
        assert_true(lb_id_eq(&rep.heads_digest, &hd));
        assert_true(lb_id_eq(&rep.state_digest, &sd));
        pg_ledger_verify_report_free(&rep);
        print_message("round %d: killed after %.3f s, %zu ops acknowledged in all, %zu stored\n",
                      round, wait, n_acked, count);
    }
    /* the test did test something: most kills hit a child that was writing */
    assert_true(killed_writing >= ROUNDS / 2);
    assert_true(n_acked > 0);
    free(acked);
    free(g.bytes);
    pgt_tmpdir_cleanup();
}

/* Killed while it creates the database (at a moment within twice the time a creation takes):
 * the file is then either
 * absent, or empty, or a ledger with its genesis; opening it with create and the genesis works,
 * every acknowledged op is there and it verifies. */
static void
test_kill_while_creating(void **state)
{
    (void)state;
    G = lb_key(1), A = lb_key(2), B = lb_key(3);
    pg_ledger_member m[] = {{"a", A.pk}, {"b", B.pk}};
    lb_op g = lb_genesis(&G, "crash", PG_LEDGER_ADMIT_GENESIS, m, 2, NULL, 0);
    uint64_t rng = 0xc4a6;
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    /* how long a creation takes here: kills land uniformly in twice that */
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/probe.db", pgt_tmpdir());
    double t0 = now_s();
    pg_ledger_close(lb_open(probe, &g, &o));
    long span_us = (long)((now_s() - t0) * 2e6) + 1;
    for (int round = 0; round < 12; round++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/create-%d.db", pgt_tmpdir(), round);
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(path, &g, fds[1]);
        }
        close(fds[1]);
        long us = (long)lb_below(&rng, (size_t)span_us);
        struct timespec ts = {0, us * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
            fail_msg("round %d: the child failed (exit %d) before it was killed", round,
                     WEXITSTATUS(status));
        pg_ledger_id acked[4096];
        size_t n_acked = 0, have = 0;
        uint8_t buf[4096];
        for (;;) {
            ssize_t r = read(fds[0], buf + have, sizeof buf - have);
            if (r <= 0)
                break;
            have += (size_t)r;
            while (have >= sizeof *acked && n_acked < 4096) {
                memcpy(&acked[n_acked++], buf, sizeof *acked);
                memmove(buf, buf + sizeof *acked, have - sizeof *acked);
                have -= sizeof *acked;
            }
        }
        close(fds[0]);
        struct stat sb;
        const char *left = stat(path, &sb) != 0 ? "no file"
                           : sb.st_size == 0    ? "an empty file"
                                                : "a file";
        pg_ledger *l = lb_open(path, &g, &o); /* creates it if the child did not get that far */
        pg_ledger_id gid;
        pg_ledger_genesis_id(l, &gid);
        assert_true(lb_id_eq(&gid, &g.id));
        for (size_t i = 0; i < n_acked; i++)
            if (!pg_ledger_has(l, &acked[i]))
                fail_msg("round %d: acknowledged op %zu is missing", round, i);
        size_t count = pg_ledger_count(l);
        assert_true(count >= n_acked + 1);
        pg_ledger_close(l);
        pg_ledger_verify_report rep;
        memset(&rep, 0, sizeof rep);
        pg_error err = {0};
        assert_int_equal(pg_ledger_verify_file(path, NULL, &rep, &err), PG_OK);
        assert_int_equal(rep.n_problems, 0);
        assert_int_equal(rep.ops, count);
        pg_ledger_verify_report_free(&rep);
        print_message("round %d: killed after %ld us, leaving %s; %zu ops acknowledged, %zu "
                      "stored\n",
                      round, us, left, n_acked, count);
    }
    free(g.bytes);
    pgt_tmpdir_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_while_writing),
        cmocka_unit_test(test_kill_while_creating),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
