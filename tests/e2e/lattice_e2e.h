/* What the end-to-end tests of the lattice share: member daemons (`plurigrid node`) and
 * community runs as real processes of the built command, each with its standard error kept in a
 * log file of the test's temporary folder; waiting for a line in a log (instead of sleeping);
 * killing and restarting; and the JSON reports compared field by field. Every process started
 * here dies with the test (PR_SET_PDEATHSIG, so also when the test is killed), is killed at exit
 * and by the teardown (pge_teardown), which also prints every log when the test failed and stops
 * the nats-servers of the fixture.
 *
 * A header of static functions, included by each tests/e2e/test_lattice_*.c (one executable
 * each). */
#ifndef PG_TEST_LATTICE_E2E_H
#define PG_TEST_LATTICE_E2E_H

#include "harness.h"
#include "nats_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PGE_MAX_PROCS 48

typedef struct pge_proc {
    char name[64];
    pid_t pid;
    char log[4200]; /* its standard error */
    char out[4200]; /* its standard output */
    bool running;
    int status; /* waitpid's, once it is not running */
} pge_proc;

static pge_proc pge_procs[PGE_MAX_PROCS];
static size_t pge_nprocs;
static bool pge_passed;

static inline double
pge_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void
pge_sleep(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Collects p's exit status if it has ended (block: waits for it). */
static inline void
pge_reap(pge_proc *p, bool block)
{
    if (!p->running)
        return;
    int st = 0;
    pid_t r;
    while ((r = waitpid(p->pid, &st, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r == p->pid) {
        p->running = false;
        p->status = st;
    }
}

static inline bool
pge_alive(pge_proc *p)
{
    pge_reap(p, false);
    return p->running;
}

static inline void
pge_kill(pge_proc *p, int sig)
{
    if (!pge_alive(p))
        return;
    kill(p->pid, sig);
    if (sig == SIGKILL)
        pge_reap(p, true);
}

static inline void
pge_kill_all(void)
{
    for (size_t i = 0; i < pge_nprocs; i++)
        pge_kill(&pge_procs[i], SIGKILL);
}

/* Starts the built command with args (NULL-terminated), standard input from /dev/null, standard
 * output to NAME.out and standard error to NAME.log in the test's temporary folder (NAME-2.log,
 * ... when name was started before). */
static inline pge_proc *
pge_start(const char *name, const char *const *args)
{
    static bool hooked;
    if (!hooked) {
        atexit(pge_kill_all);
        hooked = true;
    }
    if (pge_nprocs == PGE_MAX_PROCS)
        fail_msg("more than %d processes in one test", PGE_MAX_PROCS);
    size_t again = 0;
    for (size_t i = 0; i < pge_nprocs; i++)
        if (strncmp(pge_procs[i].name, name, strlen(name)) == 0 &&
            (pge_procs[i].name[strlen(name)] == '\0' || pge_procs[i].name[strlen(name)] == '-'))
            again++;
    char nm[64];
    if (again)
        snprintf(nm, sizeof nm, "%.40s-%zu", name, again + 1);
    else
        snprintf(nm, sizeof nm, "%.40s", name);
    pge_proc *p = &pge_procs[pge_nprocs++];
    memset(p, 0, sizeof *p);
    memcpy(p->name, nm, sizeof nm);
    snprintf(p->log, sizeof p->log, "%s/%s.log", pgt_tmpdir(), nm);
    snprintf(p->out, sizeof p->out, "%s/%s.out", pgt_tmpdir(), nm);
    size_t n = 0;
    while (args[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    assert_non_null(argv);
    argv[0] = (char *)PG_CLI_PATH;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(126);
        int in = open("/dev/null", O_RDONLY);
        int out = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execv(PG_CLI_PATH, argv);
        _exit(127);
    }
    free(argv);
    p->pid = pid;
    p->running = true;
    return p;
}

/* p's log so far (malloc'd, caller frees; "" when there is none yet). */
static inline char *
pge_log_text(const pge_proc *p, size_t *len)
{
    struct stat st;
    if (stat(p->log, &st) != 0) {
        char *e = calloc(1, 1);
        assert_non_null(e);
        if (len)
            *len = 0;
        return e;
    }
    return pgt_slurp(p->log, len);
}

static inline size_t
pge_log_size(const pge_proc *p)
{
    struct stat st;
    return stat(p->log, &st) == 0 ? (size_t)st.st_size : 0;
}

/* Waits up to timeout_s for needle in p's log at or after byte from; returns the offset just
 * after it, or -1 when it did not come (timeout, or the process ended without writing it). */
static inline long
pge_wait_log(pge_proc *p, size_t from, const char *needle, double timeout_s)
{
    double end = pge_now() + timeout_s;
    for (;;) {
        bool was_alive = pge_alive(p);
        size_t len;
        char *t = pge_log_text(p, &len);
        char *hit = from <= len ? strstr(t + from, needle) : NULL;
        long at = hit ? (long)(hit - t + (long)strlen(needle)) : -1;
        free(t);
        if (at >= 0)
            return at;
        if (!was_alive || pge_now() > end)
            return -1;
        pge_sleep(0.01);
    }
}

/* Waits up to timeout_s for needle in the log of any of the n processes from (after from[i] in
 * process i's log when from is not NULL); returns its index, or -1. */
static inline long
pge_wait_any_log(pge_proc **ps, const size_t *from, size_t n, const char *needle, double timeout_s)
{
    double end = pge_now() + timeout_s;
    for (;;) {
        for (size_t i = 0; i < n; i++) {
            size_t len;
            char *t = pge_log_text(ps[i], &len);
            size_t f = from ? from[i] : 0;
            bool hit = f <= len && strstr(t + f, needle) != NULL;
            free(t);
            if (hit)
                return (long)i;
        }
        if (pge_now() > end)
            return -1;
        pge_sleep(0.01);
    }
}

/* How many times needle is in p's log. */
static inline size_t
pge_log_count(const pge_proc *p, const char *needle)
{
    char *t = pge_log_text(p, NULL);
    size_t n = 0;
    for (const char *s = t; (s = strstr(s, needle)) != NULL; s += strlen(needle))
        n++;
    free(t);
    return n;
}

/* How many times needle is in p's log before the first place where until is (all of it when until
 * is not there). */
static inline size_t
pge_log_count_before(const pge_proc *p, const char *needle, const char *until)
{
    char *t = pge_log_text(p, NULL);
    char *end = strstr(t, until);
    if (end)
        *end = '\0';
    size_t n = 0;
    for (const char *s = t; (s = strstr(s, needle)) != NULL; s += strlen(needle))
        n++;
    free(t);
    return n;
}

/* Waits up to timeout_s for p to end; returns its exit code, -1 when a signal ended it. A
 * process still running then is killed and fails the test. */
static inline int
pge_wait_exit(pge_proc *p, double timeout_s)
{
    double end = pge_now() + timeout_s;
    while (pge_alive(p)) {
        if (pge_now() > end) {
            pge_kill(p, SIGKILL);
            fail_msg("%s did not end within %.0f s (killed)", p->name, timeout_s);
        }
        pge_sleep(0.02);
    }
    if (WIFSIGNALED(p->status))
        return -1;
    return WEXITSTATUS(p->status);
}

/* Prints every process's log (when a test fails). */
static inline void
pge_dump_logs(void)
{
    for (size_t i = 0; i < pge_nprocs; i++) {
        pge_proc *p = &pge_procs[i];
        size_t len;
        char *t = pge_log_text(p, &len);
        const char *from = t;
        if (len > 60000)
            from = t + len - 60000;
        pge_reap(p, false);
        fprintf(stderr, "----- %s (pid %d, %s) standard error%s:\n%s", p->name, (int)p->pid,
                p->running ? "running" : "ended", from != t ? ", last 60000 bytes" : "", from);
        if (len && t[len - 1] != '\n')
            fputc('\n', stderr);
        fprintf(stderr, "----- end of %s\n", p->name);
        free(t);
    }
    fflush(stderr);
}

/* cmocka setup and teardown of every lattice test: the teardown kills every process, prints their
 * logs unless the test reached pge_pass(), stops the servers and removes the temporary folder. */
static inline int
pge_setup(void **state)
{
    (void)state;
    pge_passed = false;
    pge_nprocs = 0;
    return 0;
}

static inline void
pge_pass(void)
{
    pge_passed = true;
}

static inline int
pge_teardown(void **state)
{
    (void)state;
    pge_kill_all();
    if (!pge_passed)
        pge_dump_logs();
    pge_nprocs = 0;
    pgt_nats_stop_all();
    if (getenv("PGE_KEEP")) /* keep the logs and reports to look at */
        fprintf(stderr, "kept %s\n", pgt_tmpdir());
    else
        pgt_tmpdir_cleanup();
    return 0;
}

/* ---------------------------------------------------------------- the example community */

/* examples/lattice: four homes (home-1 .. home-4) of the CityLearn data over two days of hourly
 * intervals. */
#define PGE_MEMBERS 4
#define PGE_INTERVALS 48

static char pge_scen[4096], pge_data[4096];

/* The example's scenario and the data folder (failing the test when the data is missing). */
static inline void
pge_paths(void)
{
    snprintf(pge_scen, sizeof pge_scen, "%s", pgt_source_path("examples/lattice/scenario.json"));
    snprintf(pge_data, sizeof pge_data, "%s",
             pgt_data_path("citylearn-2022-fontana/Building_1.csv"));
    *strrchr(pge_data, '/') = '\0';
}

/* Writes a member file for member (of the example's scenario, the data folder given) into the
 * temporary folder, with lattice (the text of the "lattice" object, or NULL); returns its path
 * (static, one per member name). */
static inline const char *
pge_member_file(const char *member, const char *lattice)
{
    static char paths[16][4200];
    static size_t next;
    char *path = paths[next++ % 16];
    snprintf(path, sizeof paths[0], "%s/%s.member.json", pgt_tmpdir(), member);
    char text[16384];
    snprintf(text, sizeof text,
             "{\"format\": \"plurigrid-member/1\", \"community\": \"%s\", \"name\": \"%s\",\n"
             " \"data\": \"%s\"%s%s}\n",
             pge_scen, member, pge_data, lattice ? ",\n \"lattice\": " : "",
             lattice ? lattice : "");
    pgt_write(path, text);
    return path;
}

/* Starts the daemon of member (a member file written by pge_member_file) on the servers urls,
 * logging at info level, writing its report to NAME.json in the temporary folder. */
static inline pge_proc *
pge_start_node(const char *member, const char *member_file, const char *urls)
{
    char json[4200];
    snprintf(json, sizeof json, "%s/%s.json", pgt_tmpdir(), member);
    const char *args[] = {"node",        "--config", member_file, "--nats", urls,
                          "--log-level", "info",     "--json",    json,     NULL};
    return pge_start(member, args);
}

/* ---------------------------------------------------------------- the daemons' logs */

/* What the tests read in a daemon's log (docs/lattice.md, Node daemons): one line each,
 * "plurigrid node NAME: LEVEL: message". */
#define PGE_LOG_OPERATOR "operator is now "
#define PGE_LOG_DROP " dropped (silent for "
#define PGE_LOG_LOST "connection lost"
#define PGE_LOG_RESTORED "connection restored to "

/* Whether line is a member's award of an interval ("NAME: interval N: bought X kWh from peers at
 * P $/kWh", "... sold X kWh to peers ...", "... no peer trade"): its interval and kWh (> 0
 * bought, < 0 sold). */
static inline bool
pge_award_line(const char *line, long *interval, double *kwh)
{
    for (const char *iv = line; (iv = strstr(iv, ": interval ")) != NULL; iv++) {
        char *end;
        long k = strtol(iv + 11, &end, 10);
        if (end == iv + 11 || end[0] != ':' || end[1] != ' ')
            continue;
        const char *what = end + 2;
        double q;
        if (strncmp(what, "bought ", 7) == 0 && strstr(what, " kWh from peers"))
            q = strtod(what + 7, NULL);
        else if (strncmp(what, "sold ", 5) == 0 && strstr(what, " kWh to peers"))
            q = -strtod(what + 5, NULL);
        else if (strncmp(what, "no peer trade", 13) == 0)
            q = 0;
        else
            continue;
        *interval = k;
        *kwh = q;
        return true;
    }
    return false;
}

/* The awards in p's log from byte from: up to max of them, their intervals and traded kWh (> 0
 * bought, < 0 sold) in order; returns how many there are. */
static inline size_t
pge_awards(const pge_proc *p, size_t from, long *interval, double *kwh, size_t max)
{
    size_t len, n = 0;
    char *t = pge_log_text(p, &len);
    for (char *line = from <= len ? t + from : t + len; *line;) {
        char *nl = strchr(line, '\n');
        if (!nl)
            break; /* a line still being written */
        *nl = '\0';
        long k;
        double q;
        if (pge_award_line(line, &k, &q)) {
            if (n < max) {
                if (interval)
                    interval[n] = k;
                if (kwh)
                    kwh[n] = q;
            }
            n++;
        }
        line = nl + 1;
    }
    free(t);
    return n;
}

/* The last interval p's log has an award for (from byte from), or -1. */
static inline long
pge_last_award(const pge_proc *p, size_t from)
{
    long iv[4096];
    size_t n = pge_awards(p, from, iv, NULL, 4096);
    long last = -1;
    for (size_t i = 0; i < n && i < 4096; i++)
        if (iv[i] > last)
            last = iv[i];
    return last;
}

/* Waits up to timeout_s until one of the n processes has logged an award for interval k or later;
 * returns that process's index, or -1. */
static inline long
pge_wait_award(pge_proc **ps, size_t n, long k, double timeout_s)
{
    double end = pge_now() + timeout_s;
    for (;;) {
        for (size_t i = 0; i < n; i++)
            if (pge_last_award(ps[i], 0) >= k)
                return (long)i;
        if (pge_now() > end)
            return -1;
        pge_sleep(0.005);
    }
}

/* The name in the last "operator is now NAME (term T)" line of p's log from byte from (into name,
 * "" when there is none); returns its term (0 when none). */
static inline long
pge_operator(const pge_proc *p, size_t from, char *name, size_t n)
{
    size_t len;
    char *t = pge_log_text(p, &len);
    long term = 0;
    name[0] = '\0';
    for (const char *s = from <= len ? t + from : t + len;
         (s = strstr(s, PGE_LOG_OPERATOR)) != NULL;) {
        s += strlen(PGE_LOG_OPERATOR);
        size_t k = strcspn(s, " \n");
        if (k < n) {
            memcpy(name, s, k);
            name[k] = '\0';
        }
        const char *tm = strstr(s, "(term ");
        term = tm ? strtol(tm + 6, NULL, 10) : 0;
    }
    free(t);
    return term;
}

/* Fails the test unless every "operator is now ..." line in the logs of the n processes is one of
 * the allowed (a NULL-terminated list of "NAME (term T)"): no member took the role when it should
 * not have. */
static inline void
pge_assert_operators(pge_proc **ps, size_t n, const char *const *allowed)
{
    for (size_t i = 0; i < n; i++) {
        char *t = pge_log_text(ps[i], NULL);
        for (const char *s = t; (s = strstr(s, PGE_LOG_OPERATOR)) != NULL;) {
            s += strlen(PGE_LOG_OPERATOR);
            size_t k = strcspn(s, "\n");
            bool ok = false;
            for (const char *const *a = allowed; *a && !ok; a++)
                ok = strlen(*a) == k && strncmp(s, *a, k) == 0;
            if (!ok) {
                char line[128];
                snprintf(line, sizeof line, "%.*s", (int)(k < 100 ? k : 100), s);
                free(t);
                fail_msg("%s's log says \"operator is now %s\", but only %s%s%s should have held "
                         "the role",
                         ps[i]->name, line, allowed[0] ? allowed[0] : "none",
                         allowed[0] && allowed[1] ? " then " : "",
                         allowed[0] && allowed[1] ? allowed[1] : "");
            }
        }
        free(t);
    }
}

/* ---------------------------------------------------------------- reports */

/* Removes every key starting with "messages_" (the bus's message counters, which depend on the
 * transport) from every object under v. */
static inline void
pge_json_strip_counters(json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, x)
        {
            if (strncmp(k, "messages_", 9) == 0)
                json_object_del(v, k);
            else
                pge_json_strip_counters(x);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            pge_json_strip_counters(json_array_get(v, i));
    }
}

/* The first place where a and b differ (a JSON path written into where), or false when they are
 * equal: same keys, same array lengths, numbers exactly equal. */
static inline bool
pge_json_diff(const json_t *a, const json_t *b, char *where, size_t n)
{
    if (json_is_number(a) && json_is_number(b)) {
        if (json_number_value(a) == json_number_value(b))
            return false;
        snprintf(where + strlen(where), n - strlen(where), " (%.17g != %.17g)",
                 json_number_value(a), json_number_value(b));
        return true;
    }
    if (json_typeof(a) != json_typeof(b)) {
        snprintf(where + strlen(where), n - strlen(where), " (types differ)");
        return true;
    }
    size_t at = strlen(where);
    if (json_is_object(a)) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)a, k, x)
        {
            snprintf(where + at, n - at, ".%s", k);
            const json_t *y = json_object_get(b, k);
            if (!y) {
                snprintf(where + strlen(where), n - strlen(where), " (missing in the second)");
                return true;
            }
            if (pge_json_diff(x, y, where, n))
                return true;
        }
        json_object_foreach((json_t *)b, k, x)
        {
            if (!json_object_get(a, k)) {
                snprintf(where + at, n - at, ".%s (missing in the first)", k);
                return true;
            }
        }
        where[at] = '\0';
        return false;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b)) {
            snprintf(where + at, n - at, " (lengths %zu and %zu)", json_array_size(a),
                     json_array_size(b));
            return true;
        }
        for (size_t i = 0; i < json_array_size(a); i++) {
            snprintf(where + at, n - at, "[%zu]", i);
            if (pge_json_diff(json_array_get(a, i), json_array_get(b, i), where, n))
                return true;
        }
        where[at] = '\0';
        return false;
    }
    if (!json_equal((json_t *)a, (json_t *)b)) {
        snprintf(where + at, n - at, " (values differ)");
        return true;
    }
    return false;
}

static inline json_t *
pge_json_load(const char *path)
{
    json_error_t je;
    json_t *v = json_load_file(path, JSON_DECODE_ANY, &je);
    if (!v)
        fail_msg("%s is not JSON: %s (line %d)", path, je.text, je.line);
    return v;
}

/* Fails the test, naming the first difference, unless a and b are equal (what names them). */
static inline void
pge_assert_json_equal(const json_t *a, const json_t *b, const char *what)
{
    if (!a || !b)
        fail_msg("%s: the %s is missing", what, a ? "second" : "first");
    char where[1024] = "$";
    if (pge_json_diff(a, b, where, sizeof where))
        fail_msg("%s differ at %s", what, where);
}

/* The variant called name in a community report (NULL when it has none). */
static inline json_t *
pge_report_variant(json_t *report, const char *name)
{
    json_t *vars = json_object_get(report, "variants");
    for (size_t i = 0; i < json_array_size(vars); i++) {
        json_t *v = json_array_get(vars, i);
        const char *vn = json_string_value(json_object_get(v, "name"));
        if (vn && strcmp(vn, name) == 0)
            return v;
    }
    return NULL;
}

/* The run of a variant of a report: its market run, or the baseline slot when it has only that
 * (a lattice run's report holds its one run there, named by its mechanism). */
static inline json_t *
pge_variant_run(json_t *variant)
{
    json_t *m = json_object_get(variant, "market");
    return m ? m : json_object_get(variant, "baseline");
}

/* Fails the test unless every variant of report got (a lattice run's) has its run equal, field by
 * field, to the run of the same variant and mechanism in the reference report ref. */
static inline void
pge_assert_same_runs(json_t *ref, json_t *got, const char *who)
{
    json_t *vars = json_object_get(got, "variants");
    if (json_array_size(vars) < 1)
        fail_msg("%s's report has no variant", who);
    for (size_t v = 0; v < json_array_size(vars); v++) {
        json_t *gv = json_array_get(vars, v);
        const char *vn = json_string_value(json_object_get(gv, "name"));
        json_t *rv = vn ? pge_report_variant(ref, vn) : NULL;
        if (!rv)
            fail_msg("%s's report has a variant '%s' the reference has not", who, vn ? vn : "?");
        json_t *run = pge_variant_run(gv);
        const char *mech = json_string_value(json_object_get(run, "mechanism"));
        json_t *rrun = mech && strcmp(mech, "none") == 0 ? json_object_get(rv, "baseline")
                                                         : json_object_get(rv, "market");
        char what[256];
        snprintf(what, sizeof what, "the reference's run and %.100s's (variant %.60s)", who, vn);
        pge_assert_json_equal(rrun, run, what);
    }
}

/* The in-process report of the example (`plurigrid community`, the reference), without its
 * message counters. */
static inline json_t *
pge_reference(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/inproc.json", pgt_tmpdir());
    pge_proc *p = pge_start("inproc", (const char *const[]){"community", pge_scen, "--data",
                                                            pge_data, "--json", path, NULL});
    assert_int_equal(pge_wait_exit(p, 240), 0);
    json_t *ref = pge_json_load(path);
    pge_json_strip_counters(ref);
    /* Not vacuous: the homes trade among themselves in the market run. */
    json_t *mkt = json_object_get(json_array_get(json_object_get(ref, "variants"), 0), "market");
    double bought =
        json_number_value(json_object_get(json_object_get(mkt, "community"), "peer_bought_kwh"));
    if (!(bought > 0))
        fail_msg("the example community trades nothing among its homes (%g kWh): the test "
                 "would compare nothing",
                 bought);
    return ref;
}

#endif
