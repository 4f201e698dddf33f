/* Studies on NATS workers over a real nats-server (tests/nats_fixture.h), the workers being
 * `plurigrid worker` processes started here: 1, 2 and 4 workers give the local run's JSON to the
 * byte (through the library and through `plurigrid study --nats`); a worker killed (SIGKILL) while
 * it runs a job has the job sent again and the study completes with every job once; worlds and
 * results larger than the server's max_payload travel in parts; a malformed offer gets an error
 * reply and the worker goes on serving; a client that vanishes after a worker took its job, and
 * a server restart, leave the worker serving. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "nats_fixture.h"

#include "plurigrid/lattice.h"
#include "plurigrid/study.h"
#include "study/internal.h"

#define MAX_WORKERS 8

static pid_t workers[MAX_WORKERS];
static char worker_log[MAX_WORKERS][512];
static size_t n_workers;

static void
nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Starts `plurigrid worker --nats url --threads threads`, its standard error in a file; it dies
 * with this process. */
static size_t
start_worker(const char *url, int threads)
{
    assert_true(n_workers < MAX_WORKERS);
    size_t i = n_workers;
    char name[32];
    snprintf(name, sizeof name, "worker%zu.log", i);
    snprintf(worker_log[i], sizeof worker_log[i], "%s", pgt_tmp(name));
    char th[16];
    snprintf(th, sizeof th, "%d", threads);
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        FILE *f = freopen(worker_log[i], "w", stderr);
        (void)f;
        char *argv[] = {(char *)PG_CLI_PATH, "worker", "--nats", (char *)url,
                        "--threads",         th,       NULL};
        execv(PG_CLI_PATH, argv);
        _exit(127);
    }
    workers[i] = pid;
    n_workers++;
    return i;
}

/* The server's subscriptions with no client connected (its own: a fresh nats-server has some). */
static long base_subs;

static void
note_base(pgt_nats *s)
{
    base_subs = pgt_nats_subscriptions(s, 0);
    assert_true(base_subs >= 0);
}

/* Waits until every worker started has connected and subscribed (inbox, chunks, jobs: three
 * subscriptions each, beyond the server's own). */
static void
wait_workers(pgt_nats *s)
{
    if (!pgt_nats_wait_connections(s, 0, (long)n_workers, 20.0))
        fail_msg("the workers did not connect to the NATS server");
    if (!pgt_nats_wait_subscriptions(s, 0, base_subs + 3 * (long)n_workers, 20.0))
        fail_msg("the workers did not subscribe");
}

/* Waits until the server has forgotten every client's subscriptions (after workers stopped). */
static void
wait_no_clients(pgt_nats *s)
{
    double end = now() + 20;
    while (pgt_nats_subscriptions(s, 0) > base_subs && now() < end)
        nap(0.02);
    assert_true(pgt_nats_subscriptions(s, 0) <= base_subs);
}

/* The worker's id, from its first log line "plurigrid worker: worker ID: ...". */
static void
worker_id(size_t i, char id[17])
{
    double end = now() + 20;
    while (now() < end) {
        char *t = pgt_slurp(worker_log[i], NULL);
        const char *p = t ? strstr(t, "worker: worker ") : NULL;
        if (p && strlen(p) >= 15 + 16) {
            memcpy(id, p + 15, 16);
            id[16] = 0;
            free(t);
            return;
        }
        free(t);
        nap(0.02);
    }
    fail_msg("worker %zu wrote no id", i);
}

static bool
alive(size_t i)
{
    return workers[i] > 0 && waitpid(workers[i], NULL, WNOHANG) == 0;
}

/* Stops every worker: SIGTERM, then SIGKILL after 10 s. Returns how many exited 0 on SIGTERM. */
static size_t
stop_workers(void)
{
    size_t clean = 0;
    for (size_t i = 0; i < n_workers; i++)
        if (workers[i] > 0)
            kill(workers[i], SIGTERM);
    for (size_t i = 0; i < n_workers; i++) {
        if (workers[i] <= 0)
            continue;
        double end = now() + 10;
        int st = 0;
        pid_t r = 0;
        while ((r = waitpid(workers[i], &st, WNOHANG)) == 0 && now() < end)
            nap(0.01);
        if (r == 0) {
            kill(workers[i], SIGKILL);
            waitpid(workers[i], &st, 0);
        } else if (r > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            clean++;
        }
        workers[i] = 0;
    }
    n_workers = 0;
    return clean;
}

static int
teardown(void **state)
{
    stop_workers();
    return pgt_nats_teardown(state);
}

/* ---------------------------------------------------------------- running studies */

typedef struct study_run {
    pg_study_kind kind;
    const char *const *files;
    size_t outages_per_job;
    const char *executor, *url;
    double job_timeout_s;
    /* out */
    int rc;
    char *json;
    pg_study_totals totals;
    char id[17];
    volatile int started;
    pg_error err;
} study_run;

static void
run_study(study_run *r)
{
    pg_study_options o;
    pg_study_options_init(&o);
    o.kind = r->kind;
    if (r->outages_per_job)
        o.outages_per_job = r->outages_per_job;
    o.executor = r->executor;
    o.url = r->url;
    o.threads = 2;
    if (r->job_timeout_s > 0)
        o.job_timeout_s = r->job_timeout_s;
    pg_study *s = NULL;
    pg_error_clear(&r->err);
    r->rc = pg_study_new(&s, &o, &r->err);
    for (size_t i = 0; r->rc == PG_OK && r->files[i]; i++)
        r->rc = pg_study_add_file(s, r->files[i], NULL, &r->err);
    if (r->rc == PG_OK) {
        snprintf(r->id, sizeof r->id, "%s", pgi_study_id(s));
        r->started = 1;
        r->rc = pg_study_run(s, &r->err);
    }
    if (r->rc == PG_OK)
        r->rc = pg_study_report_json(s, &r->json, &r->err);
    if (r->rc == PG_OK)
        pg_study_get_totals(s, &r->totals);
    r->started = 1;
    pg_study_free(s);
}

static char *
study_json(pg_study_kind kind, const char *const *files, size_t per_job, const char *url,
           pg_study_totals *t)
{
    study_run r = {kind, files, per_job, url ? "nats" : "local", url, 0, 0, NULL, {0}, "", 0, {0}};
    run_study(&r);
    if (r.rc)
        fail_msg("study on %s: %s", r.executor, r.err.msg);
    if (t)
        *t = r.totals;
    return r.json;
}

/* ---------------------------------------------------------------- tests */

static void
test_workers_match_local(void **state)
{
    (void)state;
    const char *pf_files[] = {
        pgt_data_path("matpower/cases/case9.m"),   pgt_data_path("matpower/cases/case14.m"),
        pgt_data_path("matpower/cases/case30.m"),  pgt_data_path("matpower/cases/case57.m"),
        pgt_data_path("matpower/cases/case118.m"), NULL};
    const char *n1_files[] = {pgt_data_path("matpower/cases/case118.m"),
                              pgt_data_path("matpower/cases/case30.m"), NULL};
    char *pf_local = study_json(PG_STUDY_PF, pf_files, 0, NULL, NULL);
    char *n1_local = study_json(PG_STUDY_CONTINGENCY, n1_files, 16, NULL, NULL);
    pgt_nats *s = pgt_nats_start();
    const char *url = pgt_nats_url(s, 0);
    note_base(s);
    const int counts[] = {1, 2, 4};
    for (size_t c = 0; c < 3; c++) {
        for (int i = 0; i < counts[c]; i++)
            start_worker(url, 1);
        wait_workers(s);
        pg_study_totals t;
        char *pf = study_json(PG_STUDY_PF, pf_files, 0, url, &t);
        assert_string_equal(pf, pf_local);
        assert_int_equal(t.n_jobs, 5);
        assert_int_equal(t.jobs_resent, 0);
        char *n1 = study_json(PG_STUDY_CONTINGENCY, n1_files, 16, url, &t);
        assert_string_equal(n1, n1_local);
        assert_true(t.n_jobs > 10);
        free(pf);
        free(n1);
        if (c == 2) {
            /* the command end to end: plurigrid study ... --nats URL */
            const char *local_args[] = {"study",
                                        "contingency",
                                        "--case",
                                        n1_files[0],
                                        "--case",
                                        n1_files[1],
                                        "--outages-per-job",
                                        "16",
                                        "--json",
                                        "-",
                                        "--quiet",
                                        NULL};
            const char *nats_args[] = {"study",
                                       "contingency",
                                       "--case",
                                       n1_files[0],
                                       "--case",
                                       n1_files[1],
                                       "--outages-per-job",
                                       "16",
                                       "--json",
                                       "-",
                                       "--quiet",
                                       "--nats",
                                       url,
                                       NULL};
            char *out1 = NULL, *err1 = NULL, *out2 = NULL, *err2 = NULL;
            assert_int_equal(pgt_run_cli(local_args, NULL, &out1, &err1), 0);
            int rc = pgt_run_cli(nats_args, NULL, &out2, &err2);
            if (rc != 0)
                fail_msg("plurigrid study --nats exited %d: %s", rc, err2);
            assert_true(strlen(out1) > 1000);
            assert_string_equal(out1, out2);
            free(out1);
            free(err1);
            free(out2);
            free(err2);
        }
        assert_int_equal(stop_workers(), (size_t)counts[c]); /* each stopped cleanly by SIGTERM */
        wait_no_clients(s);
    }
    free(pf_local);
    free(n1_local);
    pgt_nats_stop(s);
}

/* Watches the beats of a study: kills worker `victim` as soon as it says it holds a job. */
typedef struct watch {
    char victim_id[17];
    bool killed;
    size_t victim;
} watch;

static void
on_beat(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    watch *w = ctx;
    if (w->killed || len < 7 + 16 + 2 || memcmp(data, "beat/1 ", 7) != 0 ||
        memcmp((const char *)data + 7, w->victim_id, 16) != 0)
        return;
    kill(workers[w->victim], SIGKILL);
    waitpid(workers[w->victim], NULL, 0);
    workers[w->victim] = 0;
    w->killed = true;
}

static void *
run_thread(void *arg)
{
    run_study(arg);
    return NULL;
}

static void
test_killed_worker(void **state)
{
    (void)state;
    const char *files[] = {pgt_data_path("matpower/cases/case2383wp.m"), NULL};
    pg_study_totals lt;
    char *local = study_json(PG_STUDY_CONTINGENCY, files, 100, NULL, &lt);
    pgt_nats *s = pgt_nats_start();
    const char *url = pgt_nats_url(s, 0);
    note_base(s);
    size_t a = start_worker(url, 1);
    start_worker(url, 1);
    wait_workers(s);
    watch w = {"", false, a};
    worker_id(a, w.victim_id);

    pg_bus *bus = NULL;
    pg_error err = {0};
    assert_int_equal(pg_bus_open(&bus, "nats", url, &err), PG_OK);
    study_run r = {PG_STUDY_CONTINGENCY, files, 100, "nats", url, 1.0, 0, NULL, {0}, "", 0, {0}};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_thread, &r), 0);
    while (!r.started)
        nap(0.001);
    char subject[128];
    snprintf(subject, sizeof subject, "pg.study.c.%s.beat", r.id);
    assert_int_equal(pg_bus_subscribe(bus, subject, on_beat, &w, NULL, &err), PG_OK);
    double end = now() + 120;
    while (!w.killed && now() < end)
        assert_int_equal(pg_bus_poll(bus, 0.01, NULL, &err), PG_OK);
    pthread_join(th, NULL);
    pg_bus_close(bus);
    assert_true(w.killed);
    if (r.rc)
        fail_msg("the study failed: %s", r.err.msg);
    assert_true(r.totals.jobs_resent >= 1);
    assert_int_equal(r.totals.n_jobs, lt.n_jobs);
    assert_int_equal(r.totals.n_items, lt.n_items);
    /* every job once: the results are the local run's, byte for byte */
    assert_string_equal(r.json, local);
    free(r.json);
    free(local);
    stop_workers();
    pgt_nats_stop(s);
}

/* A server whose max_payload is 16 KiB: case2383wp's file (about 400 KB) reaches the workers in
 * chunks, and results larger than 16 KiB come back in parts. */
static void
test_small_max_payload(void **state)
{
    (void)state;
    const char *files[] = {pgt_data_path("matpower/cases/case2383wp.m"),
                           pgt_data_path("matpower/cases/case14.m"), NULL};
    char *local = study_json(PG_STUDY_CONTINGENCY, files, 300, NULL, NULL);
    char *local_pf = study_json(PG_STUDY_PF, files, 0, NULL, NULL);
    pgt_nats *s = pgt_nats_start_config("max_payload: 16384\n");
    const char *url = pgt_nats_url(s, 0);
    note_base(s);
    start_worker(url, 2);
    start_worker(url, 1);
    wait_workers(s);
    char *pf = study_json(PG_STUDY_PF, files, 0, url, NULL);
    assert_string_equal(pf, local_pf);
    char *n1 = study_json(PG_STUDY_CONTINGENCY, files, 300, url, NULL);
    assert_string_equal(n1, local);
    free(pf);
    free(n1);
    free(local);
    free(local_pf);
    assert_int_equal(stop_workers(), 2);
    pgt_nats_stop(s);
}

static char *
ask(pg_bus *b, const char *subject, const char *text)
{
    void *ans = NULL;
    size_t n = 0;
    pg_error err = {0};
    if (pg_bus_request(b, subject, text, strlen(text), 5, &ans, &n, &err))
        fail_msg("no answer to an offer: %s", err.msg);
    char *t = malloc(n + 1);
    memcpy(t, ans, n);
    t[n] = 0;
    free(ans);
    return t;
}

/* Malformed offers get error replies; a client that vanishes after its job was taken (it never
 * answers the world's fetch) costs the worker nothing; the worker survives a server restart; and
 * after all that it still serves a study correctly. */
static void
test_malformed_and_vanished(void **state)
{
    (void)state;
    const char *files[] = {pgt_data_path("matpower/cases/case30.m"),
                           pgt_data_path("matpower/cases/case14.m"), NULL};
    char *local = study_json(PG_STUDY_PF, files, 0, NULL, NULL);
    pgt_nats *s = pgt_nats_start();
    const char *url = pgt_nats_url(s, 0);
    note_base(s);
    size_t wi = start_worker(url, 2);
    wait_workers(s);
    pg_bus *b = NULL;
    pg_error err = {0};
    assert_int_equal(pg_bus_open(&b, "nats", url, &err), PG_OK);
    const char *subject = "pg.study.q.plurigrid-study.job";
    const char *bad[] = {
        "hello",
        "job/1 0123456789abcdef 0 1 250\n{not json",
        "job/1 0123456789abcdef 0 1 250\n{\"job\":1}",
        "job/1 XYZ 0 1 250\n{}",
        "job/1 0123456789abcdef 0 1 0\n{\"job\":0}",
        "job/1 0123456789abcdef 0 1 250",
        "job/1 0123456789abcdef 0 1 250 extra\n{}",
        "job/1 0123456789abcdef 00 1 250\n{\"job\":0}",
        "job/1 0123456789abcdef 0 1 250\n{\"job\":0,\"study\":\"0123456789abcdef\",\"world\":0,"
        "\"bytes\":99999999999}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *a = ask(b, subject, bad[i]);
        if (strncmp(a, "error/1 ", 8) != 0)
            fail_msg("offer %zu: answer '%s'", i, a);
        free(a);
    }
    /* a real job of a study whose client then vanishes: the worker takes it, asks for its world,
     * hears nothing, gives it up */
    pg_study_options o;
    pg_study_options_init(&o);
    pg_study *st = NULL;
    assert_int_equal(pg_study_new(&st, &o, &err), PG_OK);
    assert_int_equal(pg_study_add_file(st, files[0], NULL, &err), PG_OK);
    char *job = NULL;
    size_t jlen = 0;
    assert_int_equal(pgi_study_job_encode(st, 0, &job, &jlen, &err), PG_OK);
    char *offer = malloc(jlen + 100);
    snprintf(offer, jlen + 100, "job/1 %s 0 1 250\n%s", pgi_study_id(st), job);
    char *a = ask(b, subject, offer);
    assert_true(strncmp(a, "ack/1 ", 6) == 0);
    free(a);
    free(offer);
    free(job);
    pg_study_free(st);
    pg_bus_close(b);
    /* meanwhile (its other slot) and afterwards it serves real studies */
    char *got = study_json(PG_STUDY_PF, files, 0, url, NULL);
    assert_string_equal(got, local);
    free(got);
    double end = now() + 30;
    char *log = NULL;
    while (now() < end) {
        free(log);
        log = pgt_slurp(worker_log[wi], NULL);
        if (log && strstr(log, "no answer from the client"))
            break;
        nap(0.05);
    }
    assert_non_null(strstr(log, "no answer from the client"));
    assert_non_null(strstr(log, "refused a malformed offer"));
    free(log);
    assert_true(alive(wi));
    /* the server restarts: the worker reconnects and serves again */
    pgt_nats_kill(s, 0);
    pgt_nats_restart(s, 0);
    wait_workers(s);
    got = study_json(PG_STUDY_PF, files, 0, url, NULL);
    assert_string_equal(got, local);
    free(got);
    assert_true(alive(wi));
    free(local);
    assert_int_equal(stop_workers(), 1);
    pgt_nats_stop(s);
}

/* A fake worker that knows the study's id sends a well-formed result for a job no worker was ever
 * given (before any worker runs): it is refused, and the study's results are the local run's. */
static void
test_forged_result(void **state)
{
    (void)state;
    const char *files[] = {pgt_data_path("matpower/cases/case9.m"),
                           pgt_data_path("matpower/cases/case14.m"), NULL};
    char *local = study_json(PG_STUDY_PF, files, 0, NULL, NULL);
    pgt_nats *s = pgt_nats_start();
    const char *url = pgt_nats_url(s, 0);
    note_base(s);
    pg_bus *bus = NULL;
    pg_error err = {0};
    assert_int_equal(pg_bus_open(&bus, "nats", url, &err), PG_OK);
    study_run r = {PG_STUDY_PF, files, 0, "nats", url, 0, 0, NULL, {0}, "", 0, {0}};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_thread, &r), 0);
    while (!r.started)
        nap(0.001);
    char subject[128], body[256], msg[512];
    snprintf(subject, sizeof subject, "pg.study.c.%s.result", r.id);
    int n = snprintf(body, sizeof body,
                     "{\"format\":\"plurigrid-study-result/1\",\"study\":\"%s\",\"job\":1,"
                     "\"items\":[]}",
                     r.id);
    int m = snprintf(msg, sizeof msg, "result/1 0123456789abcdef 1 0 1 %d\n%s", n, body);
    /* the study's subscriptions may not be there yet: send it for a while */
    for (int i = 0; i < 20; i++) {
        assert_int_equal(pg_bus_publish(bus, subject, msg, (size_t)m, &err), PG_OK);
        assert_int_equal(pg_bus_flush(bus, 1, &err), PG_OK);
        nap(0.02);
    }
    start_worker(url, 1);
    pthread_join(th, NULL);
    pg_bus_close(bus);
    if (r.rc)
        fail_msg("the study failed: %s", r.err.msg);
    assert_string_equal(r.json, local);
    free(r.json);
    free(local);
    stop_workers();
    pgt_nats_stop(s);
}

/* The worker's virtual memory, kB (VmSize in /proc/PID/status). */
static long
vm_kb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    char *t = pgt_slurp(path, NULL);
    const char *p = t ? strstr(t, "VmSize:") : NULL;
    long kb = p ? strtol(p + 7, NULL, 10) : -1;
    free(t);
    return kb;
}

/* A fake client offers a job whose world it claims is 256 MiB (the most a worker takes) and
 * never sends it: the worker must not set that much memory aside for a claim. */
static void
test_claimed_world_size(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    const char *url = pgt_nats_url(s, 0);
    note_base(s);
    size_t wi = start_worker(url, 2);
    wait_workers(s);
    pg_bus *b = NULL;
    pg_error err = {0};
    assert_int_equal(pg_bus_open(&b, "nats", url, &err), PG_OK);
    long before = vm_kb(workers[wi]);
    assert_true(before > 0);
    char offer[256];
    for (int k = 0; k < 2; k++) {
        snprintf(offer, sizeof offer,
                 "job/1 0123456789abcdef %d 1 250\n{\"job\":%d,\"study\":\"0123456789abcdef\","
                 "\"world\":%d,\"bytes\":%zu}",
                 k, k, k, (size_t)PG_INPUT_MAX);
        char *a = ask(b, "pg.study.q.plurigrid-study.job", offer);
        if (strncmp(a, "ack/1 ", 6) != 0)
            fail_msg("offer %d: answer '%s'", k, a);
        free(a);
    }
    nap(0.3);
    long after = vm_kb(workers[wi]);
    /* Less than one claimed world (the threads' malloc arenas may reserve up to 64 MiB each). */
    if (after - before >= (long)(PG_INPUT_MAX / 1024))
        fail_msg("the worker grew by %ld kB for two claimed worlds it never received",
                 after - before);
    assert_true(alive(wi));
    pg_bus_close(b);
    stop_workers();
    pgt_nats_stop(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_workers_match_local, teardown),
        cmocka_unit_test_teardown(test_killed_worker, teardown),
        cmocka_unit_test_teardown(test_small_max_payload, teardown),
        cmocka_unit_test_teardown(test_malformed_and_vanished, teardown),
        cmocka_unit_test_teardown(test_claimed_world_size, teardown),
        cmocka_unit_test_teardown(test_forged_result, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pgt_tmpdir_cleanup();
    return rc;
}
