/* `plurigrid node` (the node daemon) and `plurigrid community --nats` end to end, without the
 * lattice's own behaviour (that is test_lattice_*.c): --help of both, every bad option with its
 * message, member files that are not (missing, a folder, /dev/zero, a FIFO carrying a mistake, a
 * node configuration, a scenario) or name what the scenario does not have (a member, a variant),
 * each exit 2 naming the file and the field; a daemon stopped by SIGTERM or SIGINT leaves cleanly
 * (exit 0, "stopped", its summary) within two seconds, alone or in the middle of a run; four
 * daemons that play the whole run print the in-process run's bills and write them in their JSON;
 * and a community sent to a NATS server that is not there fails with a clear message within a
 * bounded time. */
#include "harness.h"
#include "nats_fixture.h"

#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char scen[4096], data[4096];

static int
setup(void **state)
{
    (void)state;
    snprintf(scen, sizeof scen, "%s", pgt_source_path("examples/lattice/scenario.json"));
    snprintf(data, sizeof data, "%s", pgt_data_path("citylearn-2022-fontana/Building_1.csv"));
    *strrchr(data, '/') = '\0';
    return 0;
}

static double
now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A member file named name in the temporary folder: the lattice example's scenario, with the
 * member's name and the rest of the object as given. */
static const char *
member(const char *name, const char *who, const char *rest)
{
    char text[8192];
    snprintf(text, sizeof text,
             "{\"format\": \"plurigrid-member/1\", \"community\": \"%s\", \"name\": \"%s\"%s}\n",
             scen, who, rest ? rest : "");
    const char *path = pgt_tmp(name);
    pgt_write(path, text);
    return path;
}

static void
test_help(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    const char *a1[] = {"node", "--help", NULL};
    assert_int_equal(pgt_run_cli(a1, NULL, &out, &err), 0);
    const char *want[] = {"--config",
                          "--nats",
                          "--log-level",
                          "--clock",
                          "--interval-s",
                          "--json",
                          "plurigrid-member/1",
                          "SIGTERM",
                          "Exit status",
                          "--session",
                          NULL};
    for (const char *const *w = want; *w; w++)
        if (!strstr(out, *w))
            fail_msg("node --help does not mention %s:\n%s", *w, out);
    assert_string_equal(err, "");
    free(out);
    free(err);
    const char *a2[] = {"help", "node", NULL};
    assert_int_equal(pgt_run_cli(a2, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Usage: plurigrid node --config MEMBER.json"));
    free(out);
    free(err);
    const char *a3[] = {"--help", NULL};
    assert_int_equal(pgt_run_cli(a3, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "  node "));
    free(out);
    free(err);
    const char *a4[] = {"community", "--help", NULL};
    assert_int_equal(pgt_run_cli(a4, NULL, &out, &err), 0);
    const char *cwant[] = {"--nats", "--session", "--connections", "--log-level", NULL};
    for (const char *const *w = cwant; *w; w++)
        if (!strstr(out, *w))
            fail_msg("community --help does not mention %s", *w);
    free(out);
    free(err);
}

static void
test_bad_options(void **state)
{
    (void)state;
    const char *m = pgt_source_path("examples/lattice/home1.json");
    const char *url = "nats://127.0.0.1:4222";
    {
        const char *a[] = {"node", NULL};
        PGT_EXPECT_CLI(a, 2, "--config MEMBER.json is needed");
    }
    {
        const char *a[] = {"node", "--config", NULL};
        PGT_EXPECT_CLI(a, 2, "--config needs a member file");
    }
    {
        const char *a[] = {"node", "--config", m, NULL};
        PGT_EXPECT_CLI(a, 2, "--nats URL is needed", "nats-server");
    }
    {
        const char *a[] = {"node", "--config", m, "--nats", NULL};
        PGT_EXPECT_CLI(a, 2, "--nats needs a NATS server URL");
    }
    const char *bad_urls[] = {"", "a,,b", "a,", ",a", "nats://x:1, nats://y:2", "a\x1b[2Jb"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof *bad_urls; i++) {
        const char *a[] = {"node", "--config", m, "--nats", bad_urls[i], NULL};
        PGT_EXPECT_CLI(a, 2, "--nats must be server URLs separated by commas");
    }
    {
        const char *a[] = {"node", "--config", m, "--nats", "a\x1b[2Jb", NULL};
        char *out = NULL, *err = NULL;
        assert_int_equal(pgt_run_cli(a, NULL, &out, &err), 2);
        assert_null(strchr(err, '\x1b')); /* shown escaped */
        assert_non_null(strstr(err, "\\x1b"));
        free(out);
        free(err);
    }
    struct {
        const char *opt, *value, *needle;
    } bad[] = {
        {"--log-level", "loud", "--log-level must be error, warn, info or debug (it is 'loud')"},
        {"--log-level", "INFO", "--log-level must be"},
        {"--clock", "fast", "--clock must be simulation or wall"},
        {"--interval-s", "0", "--interval-s must be a number of seconds above 0"},
        {"--interval-s", "-1", "--interval-s must be"},
        {"--interval-s", "1e400", "--interval-s must be"},
        {"--interval-s", "nan", "--interval-s must be"},
        {"--interval-s", "2s", "--interval-s must be"},
        {"--interval-s", "1e6", "at most 86400"},
        {"--transport", "inproc", "unknown option"}, /* one member: not in one process */
        {"--session", "a.b", "the session 'a.b' must be 1 to 63 letters"},
        {"--session", "", "the session '' must be"},
        {"--days", "0", "--days must be a whole number from 1 to 100000"},
        {"--days", "-1", "--days must be"},
        {"--start-day", "-1", "--start-day must be a whole number from 0"},
        {"--start-day", "1e3", "--start-day must be"},
        {"--connections", "per-node", "unknown option"}, /* one member: nothing to share */
        {"--bogus", "1", "unknown option; try 'plurigrid node --help' (got '--bogus')"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *a[] = {"node", "--config", m, "--nats", url, bad[i].opt, bad[i].value, NULL};
        PGT_EXPECT_CLI(a, 2, bad[i].needle);
    }
    const char *missing[] = {"--log-level", "--clock", "--interval-s", "--session",
                             "--json",      "--data",  "--days",       "--start-day"};
    for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
        const char *a[] = {"node", "--config", m, "--nats", url, missing[i], NULL};
        PGT_EXPECT_CLI(a, 2, missing[i], "needs");
    }
    {
        const char *sim =
            member("sim.json", "home-1", ", \"lattice\": {\"clock\": \"simulation\"}");
        const char *a[] = {"node", "--config", sim, "--nats", url, "--interval-s", "2", NULL};
        PGT_EXPECT_CLI(a, 2, "--interval-s paces intervals on the wall clock; add --clock wall");
    }
    {
        const char *a[] = {"node", m, "--nats", url, NULL};
        PGT_EXPECT_CLI(a, 2, "the member file goes with --config");
    }
    {
        const char *a[] = {"node", "--config", m, "--nats", url, "--json", m, NULL};
        PGT_EXPECT_CLI(a, 2, "--json would replace the member file");
    }
    {
        const char *a[] = {"node", "--config", m, "--nats", url, "--json", scen, NULL};
        PGT_EXPECT_CLI(a, 2, "--json would replace the scenario file");
    }
    /* community: the lattice options */
    {
        const char *a[] = {"community", scen, "--session", "s1", NULL};
        PGT_EXPECT_CLI(a, 2, "are for runs on the lattice: add --nats URL");
    }
    {
        const char *a[] = {"community", scen, "--nats", url, "--connections", "many", NULL};
        PGT_EXPECT_CLI(a, 2, "--connections must be shared or per-node");
    }
    {
        const char *a[] = {"community", scen, "--nats", "a,,b", NULL};
        PGT_EXPECT_CLI(a, 2, "--nats must be server URLs");
    }
    {
        const char *a[] = {"community", scen, "--nats", url, "--log-level", "all", NULL};
        PGT_EXPECT_CLI(a, 2, "--log-level must be");
    }
    {
        const char *a[] = {"community", scen, "--transport", "nats", NULL};
        PGT_EXPECT_CLI(a, 2, "--nats URL is needed");
    }
    {
        const char *a[] = {"community", scen, "--transport", "tcp", NULL};
        PGT_EXPECT_CLI(a, 2, "--transport must be nats or inproc");
    }
    {
        const char *a[] = {"community", scen, "--transport", "inproc", "--nats", url, NULL};
        PGT_EXPECT_CLI(a, 2, "--nats is for the nats transport, not 'inproc'");
    }
}

/* Writes text into the FIFO at path from a child process (the reader opens it). */
static pid_t
feed_fifo(const char *path, const char *text)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY);
        ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;
        _exit(n == (ssize_t)strlen(text) ? 0 : 1);
    }
    return pid;
}

static void
test_bad_member_files(void **state)
{
    (void)state;
    const char *url = "nats://127.0.0.1:4222";
    {
        const char *p = pgt_tmp("missing.json");
        const char *a[] = {"node", "--config", p, "--nats", url, NULL};
        PGT_EXPECT_CLI(a, 2, "missing.json", "No such file");
    }
    {
        const char *a[] = {"node", "--config", "/dev/zero", "--nats", url, NULL};
        PGT_EXPECT_CLI(a, 2, "/dev/zero", "device");
    }
    {
        const char *a[] = {"node", "--config", pgt_tmpdir(), "--nats", url, NULL};
        PGT_EXPECT_CLI(a, 2, pgt_tmpdir(), "folder");
    }
    {
        /* a FIFO is read once, as it comes: here with a mistake in it */
        const char *fifo = pgt_tmp("member.fifo");
        assert_int_equal(mkfifo(fifo, 0600), 0);
        pid_t w = feed_fifo(fifo, "{\"format\": \"plurigrid-member/1\", \"community\": \"s\",\n"
                                  " \"name\": \"home-1\", \"dayz\": 2}\n");
        const char *a[] = {"node", "--config", fifo, "--nats", url, NULL};
        PGT_EXPECT_CLI(a, 2, "member.fifo:2:", "$.dayz", "unknown key 'dayz'");
        int st = 0;
        assert_int_equal(waitpid(w, &st, 0), w);
        unlink(fifo);
    }
    {
        const char *p = pgt_source_path("examples/scenario0/home-4kw.json");
        const char *a[] = {"node", "--config", p, "--nats", url, NULL};
        PGT_EXPECT_CLI(a, 2, "home-4kw.json", "$.format", "node configuration",
                       "a node daemon needs a member file", "plurigrid-member/1");
    }
    {
        const char *a[] = {"node", "--config", scen, "--nats", url, NULL};
        PGT_EXPECT_CLI(a, 2, "$.format", "community scenario",
                       "plurigrid community SCENARIO --nats URL");
    }
    {
        const char *p = member("ghost.json", "home-9", ", \"data\": \"/nonexistent\"");
        const char *a[] = {"node", "--config", p, "--nats", url, "--data", data, NULL};
        PGT_EXPECT_CLI(a, 2, "ghost.json", "$.name", "no member 'home-9'",
                       "its members are: home-1, home-2, home-3, home-4");
    }
    {
        const char *p = member("variant.json", "home-2", ", \"variant\": \"with-devices\"");
        const char *a[] = {"node", "--config", p, "--nats", url, "--data", data, NULL};
        PGT_EXPECT_CLI(a, 2, "variant.json", "$.variant", "no variant 'with-devices'",
                       "its variants are: default");
    }
    {
        const char *p = member("market.json", "home-2", ", \"market\": \"vcg\"");
        const char *a[] = {"node", "--config", p, "--nats", url, NULL};
        PGT_EXPECT_CLI(a, 2, "market.json", "$.market", "unknown market mechanism 'vcg'");
    }
    {
        const char *p = member("huge.json", "home-2", ", \"lattice\": {\"timeout_s\": 1e300}");
        const char *a[] = {"node", "--config", p, "--nats", url, NULL};
        PGT_EXPECT_CLI(a, 2, "huge.json", "$.lattice.timeout_s", "between");
    }
    {
        const char *p = member("neg.json", "home-2", ", \"days\": -2");
        const char *a[] = {"node", "--config", p, "--nats", url, NULL};
        PGT_EXPECT_CLI(a, 2, "neg.json", "$.days", "from 1 to");
    }
    {
        /* the scenario a member names is not there: named as resolved from the member file */
        const char *p = pgt_tmp("lost.json");
        pgt_write(p, "{\"format\": \"plurigrid-member/1\", \"community\": \"nowhere/s.json\", "
                     "\"name\": \"home-1\"}");
        const char *a[] = {"node", "--config", p, "--nats", url, NULL};
        char want[4200];
        snprintf(want, sizeof want, "%s/nowhere/s.json", pgt_tmpdir());
        PGT_EXPECT_CLI(a, 2, want, "No such file");
    }
    {
        /* the data folder of the member file, relative to it */
        const char *p = member("nodata.json", "home-2", ", \"data\": \"no-data-here\"");
        const char *a[] = {"node", "--config", p, "--nats", url, NULL};
        PGT_EXPECT_CLI(a, 2, "no-data-here", "--data DIR");
    }
}

/* Daemons started and not yet known to be waited for: a test that fails half-way leaves them to
 * the teardown. */
static pid_t started[16];
static size_t n_started;

/* Kills what is left of the daemons a test started, then its servers. */
static int
teardown(void **state)
{
    for (size_t i = 0; i < n_started; i++)
        if (waitpid(started[i], NULL, WNOHANG) == 0) { /* our child, still running */
            kill(started[i], SIGKILL);
            waitpid(started[i], NULL, 0);
        }
    n_started = 0;
    return pgt_nats_teardown(state);
}

/* A daemon run in the background, its standard output and error in files. */
typedef struct daemon_run {
    pid_t pid;
    bool exited; /* waited for: status holds its wait status */
    int status;
    char out[4200], err[4200];
} daemon_run;

static void
start_daemon(daemon_run *d, const char *const *args, const char *tag)
{
    snprintf(d->out, sizeof d->out, "%s/%s.out", pgt_tmpdir(), tag);
    snprintf(d->err, sizeof d->err, "%s/%s.err", pgt_tmpdir(), tag);
    size_t n = 0;
    while (args[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    assert_non_null(argv);
    argv[0] = (char *)PG_CLI_PATH;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    d->exited = false;
    pid_t parent = getpid();
    d->pid = fork();
    assert_true(d->pid >= 0);
    if (d->pid == 0) {
        /* dies with the test, also when the test is killed */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(125);
        int o = open(d->out, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        int e = open(d->err, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        int in = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || in < 0)
            _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(PG_CLI_PATH, argv);
        _exit(127);
    }
    free(argv);
    if (n_started < sizeof started / sizeof *started)
        started[n_started++] = d->pid;
}

/* Waits up to seconds for the daemon to exit: its exit status, -1 killed by a signal, -2 still
 * running (then killed). */
static int
wait_daemon(daemon_run *d, double seconds)
{
    double t0 = now_s();
    while (!d->exited) {
        if (waitpid(d->pid, &d->status, WNOHANG) == d->pid)
            break;
        if (now_s() - t0 > seconds) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, &d->status, 0);
            d->exited = true;
            return -2;
        }
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    d->exited = true;
    return WIFEXITED(d->status) ? WEXITSTATUS(d->status) : -1;
}

/* Waits until the daemon's standard error holds needle (false when seconds pass or the daemon
 * ends first). */
static bool
wait_log(daemon_run *d, const char *needle, double seconds)
{
    double t0 = now_s();
    while (now_s() - t0 < seconds) {
        if (!d->exited && waitpid(d->pid, &d->status, WNOHANG) == d->pid)
            d->exited = true;
        size_t len = 0;
        struct stat st;
        if (stat(d->err, &st) != 0) { /* not made yet */
            nanosleep(&(struct timespec){0, 20000000}, NULL);
            continue;
        }
        char *text = pgt_slurp(d->err, &len);
        bool found = strstr(text, needle) != NULL;
        free(text);
        if (found)
            return true;
        if (d->exited)
            return false;
        nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
    return false;
}

/* Sends sig to the daemon and checks that it leaves within two seconds, exit 0, says so in its
 * log (every line of which has its prefix) and prints its summary, marked stopped. */
static void
stop_daemon(daemon_run *d, const char *name, int sig, const char *signame)
{
    double t0 = now_s();
    assert_int_equal(kill(d->pid, sig), 0);
    int rc = wait_daemon(d, 5);
    double took = now_s() - t0;
    size_t len;
    char *out = pgt_slurp(d->out, &len), *err = pgt_slurp(d->err, &len);
    printf("%s stopped by %s in %.3f s\n", name, signame, took);
    if (rc != 0 || took > 2.0)
        fail_msg("%s: exit %d after %.2f s\nstdout: %s\nstderr: %s", signame, rc, took, out, err);
    char want[128], prefix[64];
    snprintf(want, sizeof want, "plurigrid node %s: info: stopped by %s", name, signame);
    if (!strstr(err, want))
        fail_msg("'%s' is not in the log:\n%s", want, err);
    snprintf(want, sizeof want, "Member %s of lattice-demo", name);
    if (!strstr(out, want) || !strstr(out, "stopped"))
        fail_msg("no summary of a stopped member on standard output:\n%s", out);
    int n = snprintf(prefix, sizeof prefix, "plurigrid node %s: ", name);
    for (char *line = err; *line;) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, prefix, (size_t)n) != 0)
            fail_msg("a log line without the prefix: %.*s", nl ? (int)(nl - line) : 80, line);
        if (!nl)
            break;
        line = nl + 1;
    }
    free(out);
    free(err);
}

/* A lone member, connected and waiting for its peers (form_s of a minute), is stopped. */
static void
stop_alone(int sig, const char *signame)
{
    pgt_nats *srv = pgt_nats_start();
    const char *p = member("alone.json", "home-3", ", \"lattice\": {\"form_s\": 60}");
    const char *a[] = {"node",   "--config", p,        "--log-level",        "debug",
                       "--data", data,       "--nats", pgt_nats_url(srv, 0), NULL};
    daemon_run d;
    start_daemon(&d, a, signame);
    /* in its loop once it says it is connected (the server's count of connections can include
     * the fixture's own check that it accepts clients) */
    if (!wait_log(&d, "plurigrid node home-3: info: connected to ", 20)) {
        int rc = wait_daemon(&d, 0);
        size_t len;
        char *e = pgt_slurp(d.err, &len);
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", e);
        free(e);
        fail_msg("the daemon did not connect (exit %d): %s", rc, msg);
    }
    stop_daemon(&d, "home-3", sig, signame);
    pgt_nats_stop(srv);
}

static void
test_sigterm(void **state)
{
    (void)state;
    stop_alone(SIGTERM, "SIGTERM");
}

static void
test_sigint(void **state)
{
    (void)state;
    stop_alone(SIGINT, "SIGINT");
}

/* Node i's bill in the report JSON at path: the run of slot ("market", "baseline") of the only
 * variant. */
static double
report_bill(const char *path, const char *slot, size_t i)
{
    json_error_t je;
    json_t *r = json_load_file(path, 0, &je);
    if (!r)
        fail_msg("%s: %s", path, je.text);
    assert_string_equal(json_string_value(json_object_get(r, "format")),
                        "plurigrid-community-report/1");
    json_t *v = json_array_get(json_object_get(r, "variants"), 0);
    json_t *node = json_array_get(json_object_get(json_object_get(v, slot), "nodes"), i);
    json_t *bill = json_object_get(node, "bill");
    if (!json_is_number(bill))
        fail_msg("%s: no bill of node %zu in %s", path, i, slot);
    double x = json_number_value(bill);
    json_decref(r);
    return x;
}

/* Four daemons play the whole run on the simulation clock: each exits 0 with its figures, and
 * its bill, in the summary and in its --json report, is the in-process run's. */
static void
test_complete_run(void **state)
{
    (void)state;
    char inproc[4200];
    snprintf(inproc, sizeof inproc, "%s/inproc.json", pgt_tmpdir());
    {
        const char *a[] = {"community", scen, "--data", data, "--json", inproc, NULL};
        char *out = NULL, *err = NULL;
        assert_int_equal(pgt_run_cli(a, NULL, &out, &err), 0);
        free(out);
        free(err);
    }
    pgt_nats *srv = pgt_nats_start();
    daemon_run d[4];
    char json[4][4200];
    for (int i = 0; i < 4; i++) {
        char name[32], file[48];
        snprintf(name, sizeof name, "home-%d", i + 1);
        snprintf(file, sizeof file, "full%d.json", i + 1);
        snprintf(json[i], sizeof json[i], "%s/report%d.json", pgt_tmpdir(), i + 1);
        const char *p = member(file, name, ", \"lattice\": {\"form_s\": 30}");
        const char *a[] = {"node",   "--config",           p,        "--data", data,
                           "--nats", pgt_nats_url(srv, 0), "--json", json[i],  NULL};
        start_daemon(&d[i], a, file);
    }
    for (int i = 0; i < 4; i++) {
        int rc = wait_daemon(&d[i], 120);
        size_t len;
        char *out = pgt_slurp(d[i].out, &len), *err = pgt_slurp(d[i].err, &len);
        if (rc != 0)
            fail_msg("home-%d: exit %d\nstdout: %s\nstderr: %s", i + 1, rc, out, err);
        assert_non_null(strstr(err, "48 of 48 intervals recorded"));
        assert_null(strstr(out, "stopped"));
        double want = report_bill(inproc, "market", (size_t)i);
        assert_true(report_bill(json[i], "market", (size_t)i) == want);
        char line[128];
        snprintf(line, sizeof line, "  bill                  $   %10.2f\n", want);
        if (!strstr(out, line))
            fail_msg("home-%d: the summary does not say '%s':\n%s", i + 1, line, out);
        free(out);
        free(err);
    }
    pgt_nats_stop(srv);
}

/* Four members trading on the wall clock (a fifth of a second an interval): one stopped in the
 * middle of the run leaves as cleanly as a lone one, and so do the others after it. */
static void
test_stop_trading(void **state)
{
    (void)state;
    pgt_nats *srv = pgt_nats_start();
    daemon_run d[4];
    for (int i = 0; i < 4; i++) {
        char name[32], file[48];
        snprintf(name, sizeof name, "home-%d", i + 1);
        snprintf(file, sizeof file, "trade%d.json", i + 1);
        const char *p = member(file, name, ", \"lattice\": {\"form_s\": 30}");
        const char *a[] = {"node",
                           "--config",
                           p,
                           "--data",
                           data,
                           "--nats",
                           pgt_nats_url(srv, 0),
                           "--clock",
                           "wall",
                           "--interval-s",
                           "0.2",
                           NULL};
        start_daemon(&d[i], a, file);
    }
    if (!wait_log(&d[1], "home-2: interval 3:", 30)) {
        size_t len;
        char *e = pgt_slurp(d[1].err, &len);
        char msg[4096];
        snprintf(msg, sizeof msg, "%s", e);
        free(e);
        for (int i = 0; i < 4; i++)
            wait_daemon(&d[i], 0);
        fail_msg("home-2 was not awarded interval 3 in 30 s:\n%s", msg);
    }
    stop_daemon(&d[1], "home-2", SIGTERM, "SIGTERM");
    stop_daemon(&d[0], "home-1", SIGINT, "SIGINT");
    stop_daemon(&d[2], "home-3", SIGTERM, "SIGTERM");
    stop_daemon(&d[3], "home-4", SIGTERM, "SIGTERM");
    pgt_nats_stop(srv);
}

/* No server at the address: a clear error, a non-zero exit, in bounded time; the same for a
 * daemon. */
static void
test_unreachable(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "%s", pgt_nats_closed_url());
    {
        const char *a[] = {"community", scen, "--data", data, "--nats", url, NULL};
        double t0 = now_s();
        char *out = NULL, *err = NULL;
        int rc = pgt_run_cli(a, NULL, &out, &err);
        double took = now_s() - t0;
        if (rc != 3 || took > 30 || !strstr(err, url) || !strstr(err, "nats-server"))
            fail_msg("community --nats %s: exit %d after %.1f s: %s", url, rc, took, err);
        assert_string_equal(out, "");
        free(out);
        free(err);
    }
    {
        const char *p = member("unreach.json", "home-1", NULL);
        const char *a[] = {"node", "--config", p, "--data", data, "--nats", url, NULL};
        double t0 = now_s();
        char *out = NULL, *err = NULL;
        int rc = pgt_run_cli(a, NULL, &out, &err);
        double took = now_s() - t0;
        if (rc != 3 || took > 30 || !strstr(err, url))
            fail_msg("node --nats %s: exit %d after %.1f s: %s", url, rc, took, err);
        free(out);
        free(err);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_bad_member_files),
        cmocka_unit_test_teardown(test_sigterm, teardown),
        cmocka_unit_test_teardown(test_sigint, teardown),
        cmocka_unit_test_teardown(test_stop_trading, teardown),
        cmocka_unit_test_teardown(test_complete_run, teardown),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, setup, pgt_teardown_tmpdir);
}
