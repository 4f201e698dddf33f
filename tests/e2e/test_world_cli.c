/* Worlds as the commands read them, end to end: the world at one step written by convert --step
 * and read again solves as the original at that step; limits on the steps resampling may make;
 * worlds with no buses or an impossible base; folders, devices and FIFOs as inputs; and text
 * with a byte order mark, CR line ends, NUL bytes and other hostile content -- each answered
 * with exit 0 or exit 2 and a message that says what is wrong, never a crash or a hang. */
#define _DEFAULT_SOURCE /* forkpty */
#include "harness.h"

#include <pty.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plurigrid/io.h"
#include "plurigrid/pf.h"

static char hello[4096], case9[4096];

static int
setup(void **state)
{
    (void)state;
    snprintf(hello, sizeof hello, "%s", pgt_source_path("examples/hello-microworld.json"));
    snprintf(case9, sizeof case9, "%s", pgt_data_path("matpower/cases/case9.m"));
    return 0;
}

static pg_world *
read_world(const char *path)
{
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_world_read(path, NULL, &w, NULL, &err))
        fail_msg("%s: %s", path, err.msg);
    return w;
}

/* The power flows of two worlds give the same numbers, bit for bit. */
static void
same_power_flow(const pg_world *a, const pg_world *b, const char *what)
{
    pg_pf_result *ra = NULL, *rb = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_solve(a, NULL, &ra, &err), PG_OK);
    assert_int_equal(pg_pf_solve(b, NULL, &rb, &err), PG_OK);
    assert_true(ra->all_solved && rb->all_solved);
    for (size_t i = 0; i < ra->n_buses; i++) {
        if (ra->vm[i] != rb->vm[i] || ra->va[i] != rb->va[i])
            fail_msg("%s: bus %zu: %.17g/%.17g vs %.17g/%.17g", what, i, ra->vm[i], ra->va[i],
                     rb->vm[i], rb->va[i]);
    }
    assert_near(ra->load_q, rb->load_q, 0);
    assert_near(ra->load_p, rb->load_p, 0);
    assert_near(ra->inj_p, rb->inj_p, 0);
    assert_near(ra->inj_q, rb->inj_q, 0);
    assert_near(ra->gen_q, rb->gen_q, 0);
    pg_pf_result_free(ra);
    pg_pf_result_free(rb);
}

/* convert --step K writes the world as it is at step K. Read back, it solves exactly as the
 * original at step K -- with or without --step 0, which must not scale it a second time (it used
 * to: step 10's 19.2 MVAr of load became 15.4). */
static void
test_convert_step_reread(void **state)
{
    (void)state;
    pg_world *w = read_world(hello);
    size_t steps[] = {0, 10, 18, 23};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        char k[16], name[32];
        snprintf(k, sizeof k, "%zu", steps[i]);
        snprintf(name, sizeof name, "h%zu.json", steps[i]);
        const char *out = pgt_tmp(name);
        const char *a[] = {"convert", hello, out, "--step", k, NULL};
        pgt_expect_cli(a, NULL, 0, NULL);
        pg_world *at = NULL, *back = read_world(out), *again = NULL;
        pg_error err = {0};
        assert_int_equal(pg_world_at_step(&at, w, steps[i], &err), PG_OK);
        assert_true(pg_world_equal(at, back, NULL, 0));
        assert_int_equal(pg_world_at_step(&again, back, 0, &err), PG_OK);
        char diff[256] = "";
        if (!pg_world_equal(back, again, diff, sizeof diff))
            fail_msg("step %zu read back, then step 0 of it: %s", steps[i], diff);
        same_power_flow(at, back, "read back");
        same_power_flow(at, again, "read back, step 0");
        if (steps[i] == 10)
            assert_near(pg_world_load_mw(again, 0), 24, 1e-12);
        /* and the command itself: both solve */
        const char *pf0[] = {"pf", out, "--step", "0", NULL};
        pgt_expect_cli(pf0, NULL, 0, NULL);
        const char *pf[] = {"pf", out, NULL};
        pgt_expect_cli(pf, NULL, 0, NULL);
        const char *pf1[] = {"pf", out, "--step", "1", NULL};
        const char *one[] = {"--step 1", "(0 to 0)", NULL};
        pgt_expect_cli(pf1, NULL, 2, one);
        pg_world_free(again);
        pg_world_free(back);
        pg_world_free(at);
    }
    /* a dispatch of the one step still sees the renewables' availability at that step */
    const char *run[] = {"run", pgt_tmp("h10.json"), "--no-ac", NULL};
    pgt_expect_cli(run, NULL, 0, NULL);
    pg_world_free(w);
}

/* --step on a world without series says so instead of "0 steps (0 to 0)". */
static void
test_convert_step_without_series(void **state)
{
    (void)state;
    const char *a[] = {"convert", case9, pgt_tmp("c9.json"), "--step", "0", NULL};
    const char *parts[] = {"has no time series", "--step", NULL};
    pgt_expect_cli(a, NULL, 2, parts);
}

/* Resampling the series to tiny steps is refused with the limit named, before anything is
 * allocated for the steps (it used to build 24 million steps, or exit 3). */
static void
test_step_length_limits(void **state)
{
    (void)state;
    /* Steps shorter than a second are refused by name; the cap on the number of steps (100000,
     * which hello's day cannot reach at one-second steps) is tested on a year of series in
     * tests/unit/dispatch/test_limits.c. */
    const char *steps[] = {"1e-6", "1e-9", "1e-300", "0.0002"};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        const char *a[] = {"run", hello, "--step-h", steps[i], "--no-ac", NULL};
        const char *parts[] = {"step length", "one second", NULL};
        pgt_expect_cli(a, NULL, 2, parts);
    }
    const char *ok[] = {"run", hello, "--step-h", "0.25", "--no-ac", NULL};
    pgt_expect_cli(ok, NULL, 0, NULL);
}

/* A world must have buses and a system base per-unit arithmetic can take, for every command. */
static void
test_empty_world_and_base(void **state)
{
    (void)state;
    const char *empty = pgt_tmp("empty.json");
    pgt_write(empty, "{\"format\": \"plurigrid-world/1\", \"buses\": []}\n");
    const char *no_buses[] = {"no buses", NULL};
    const char *run[] = {"run", empty, NULL};
    pgt_expect_cli(run, NULL, 2, no_buses);
    const char *pf[] = {"pf", empty, NULL};
    pgt_expect_cli(pf, NULL, 2, no_buses);
    const char *pfdc[] = {"pf", empty, "--dc", NULL};
    pgt_expect_cli(pfdc, NULL, 2, no_buses);
    const char *opf[] = {"opf", empty, "--dc", NULL};
    pgt_expect_cli(opf, NULL, 2, no_buses);
    const char *tiny = pgt_tmp("tiny.json");
    pgt_write(tiny, "{\"format\": \"plurigrid-world/1\", \"base_mva\": 1e-300,\n"
                    " \"buses\": [{\"name\": \"a\", \"type\": \"ref\"}]}\n");
    const char *base[] = {"tiny.json:1:", "base_mva", "from 0.001 to 1000000", NULL};
    const char *pft[] = {"pf", tiny, NULL};
    pgt_expect_cli(pft, NULL, 2, base);
    const char *runt[] = {"run", tiny, NULL};
    pgt_expect_cli(runt, NULL, 2, base);
}

/* Writes the file at src into the FIFO at path from a child process; returns its pid. */
static pid_t
feed_fifo(const char *path, const char *src)
{
    size_t len = 0;
    char *text = pgt_slurp(src, &len);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        int fd = open(path, O_WRONLY);
        if (fd < 0)
            _exit(1);
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(fd, text + off, len - off);
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        close(fd);
        _exit(0);
    }
    free(text);
    return pid;
}

static void
reap(pid_t pid)
{
    kill(pid, SIGKILL); /* in case the command never opened the FIFO */
    waitpid(pid, NULL, 0);
}

/* Inputs that are not regular files: a folder and /dev/zero are refused at once with exit 2 and
 * a message (not read until memory runs out); a FIFO is read once and works. */
static void
test_non_regular_inputs(void **state)
{
    (void)state;
    const char *dm = pgt_tmp("folder.m"), *dj = pgt_tmp("folder.json");
    assert_int_equal(mkdir(dm, 0700), 0);
    assert_int_equal(mkdir(dj, 0700), 0);
    const char *folder[] = {"it is a folder, not a file", NULL};
    const char *a1[] = {"pf", dm, NULL};
    pgt_expect_cli(a1, NULL, 2, folder);
    const char *a2[] = {"convert", dj, pgt_tmp("x.m"), NULL};
    pgt_expect_cli(a2, NULL, 2, folder);
    const char *a3[] = {"run", dj, NULL};
    pgt_expect_cli(a3, NULL, 2, folder);
    const char *a4[] = {"pf", pgt_tmpdir(), "--format", "matpower", NULL};
    pgt_expect_cli(a4, NULL, 2, folder);

    const char *device[] = {"/dev/zero", "it is a device, not a file", NULL};
    const char *format[] = {"/dev/zero", "cannot tell the format", NULL};
    const char *z1[] = {"pf", "/dev/zero", NULL};
    pgt_expect_cli(z1, NULL, 2, format);
    const char *z2[] = {"pf", "/dev/zero", "--format", "matpower", NULL};
    pgt_expect_cli(z2, NULL, 2, device);
    const char *z3[] = {"pf", "/dev/zero", "--format", "json", NULL};
    pgt_expect_cli(z3, NULL, 2, device);
    const char *z4[] = {"convert", "/dev/zero", pgt_tmp("x.json"), NULL};
    pgt_expect_cli(z4, NULL, 2, format);
    const char *z5[] = {"convert", "/dev/zero", pgt_tmp("x.json"), "--from", "json", NULL};
    pgt_expect_cli(z5, NULL, 2, device);
    const char *z6[] = {"run", "/dev/zero", "--format", "json", NULL};
    pgt_expect_cli(z6, NULL, 2, device);
    const char *stdin_device[] = {"standard input", "it is a device, not a file", NULL};
    const char *z7[] = {"convert", "-", pgt_tmp("x.json"), "--from", "json", NULL};
    pgt_expect_cli(z7, "/dev/zero", 2, stdin_device);
    const char *z8[] = {"convert", "-", pgt_tmp("x.json"), "--from", "matpower", NULL};
    pgt_expect_cli(z8, "/dev/zero", 2, stdin_device);

    /* a FIFO, as `pf <(cat case9.m)` gives one, and as standard input */
    const char *fifo = pgt_tmp("case.fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t pid = feed_fifo(fifo, case9);
    char *out = NULL, *err = NULL;
    const char *f1[] = {"pf", fifo, "--format", "matpower", NULL};
    int rc = pgt_run_cli_io(f1, NULL, NULL, NULL, &out, &err);
    reap(pid);
    if (rc != 0)
        print_error("pf FIFO: exit %d: %s\n", rc, err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "Converged"));
    free(out);
    free(err);
    pid = feed_fifo(fifo, case9);
    const char *f2[] = {"convert", "-", pgt_tmp("fifo.json"), "--from", "matpower", NULL};
    rc = pgt_run_cli_io(f2, NULL, fifo, NULL, &out, &err);
    reap(pid);
    if (rc != 0)
        print_error("convert - < FIFO: exit %d: %s\n", rc, err);
    assert_int_equal(rc, 0);
    free(out);
    free(err);
    pg_world *a = read_world(case9), *b = read_world(pgt_tmp("fifo.json"));
    assert_true(pg_world_equal(a, b, NULL, 0));
    pg_world_free(a);
    pg_world_free(b);
}

/* Writes text of len bytes (NULs allowed) to the temporary folder. */
static const char *
write_bytes(const char *name, const char *text, size_t len)
{
    const char *path = pgt_tmp(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Text as other editors and systems write it, and text that is not a world: a byte order mark
 * and CR line ends are read; a bad function name, NUL characters or bytes and a field assigned
 * twice are named. */
static void
test_reader_messages(void **state)
{
    (void)state;
    size_t n9 = 0, nh = 0;
    char *c9 = pgt_slurp(case9, &n9), *hw = pgt_slurp(hello, &nh);
    char *buf = malloc((n9 > nh ? n9 : nh) + 64);
    assert_non_null(buf);

    memcpy(buf, "\xef\xbb\xbf", 3);
    memcpy(buf + 3, c9, n9);
    const char *p1[] = {"pf", write_bytes("bom.m", buf, n9 + 3), NULL};
    pgt_expect_cli(p1, NULL, 0, NULL);
    memcpy(buf + 3, hw, nh);
    const char *p2[] = {"pf", write_bytes("bom.json", buf, nh + 3), "--step", "3", NULL};
    pgt_expect_cli(p2, NULL, 0, NULL);
    for (size_t i = 0; i < n9; i++)
        buf[i] = c9[i] == '\n' ? '\r' : c9[i];
    const char *p3[] = {"pf", write_bytes("mac.m", buf, n9), NULL};
    pgt_expect_cli(p3, NULL, 0, NULL);

    char *at = strstr(c9, "function mpc = case9");
    assert_non_null(at);
    memcpy(buf, c9, n9);
    memcpy(buf + (at - c9), "function mpc = 9case", 20);
    const char *p4[] = {"pf", write_bytes("f9.m", buf, n9), NULL};
    const char *m4[] = {"f9.m:1:16:", "'9case' is not a function name", NULL};
    pgt_expect_cli(p4, NULL, 2, m4);

    memcpy(buf, c9, n9);
    memset(buf + n9, 0, 8);
    const char *p5[] = {"pf", write_bytes("nul.m", buf, n9 + 8), NULL};
    const char *m5[] = {"8 NUL bytes", NULL};
    pgt_expect_cli(p5, NULL, 2, m5);
    memcpy(buf, hw, nh);
    memset(buf + nh, 0, 3);
    const char *p6[] = {"pf", write_bytes("nul.json", buf, nh + 3), NULL};
    const char *m6[] = {"3 NUL bytes", NULL};
    pgt_expect_cli(p6, NULL, 2, m6);

    char *name = strstr(hw, "\"hello-microworld\"");
    assert_non_null(name);
    size_t off = (size_t)(name - hw) + 6;
    memcpy(buf, hw, off);
    memcpy(buf + off, "\\u0000", 6);
    memcpy(buf + off + 6, hw + off, nh - off);
    const char *p7[] = {"pf", write_bytes("esc.json", buf, nh + 6), NULL};
    const char *m7[] = {"esc.json:3:", "NUL character \\u0000", NULL};
    pgt_expect_cli(p7, NULL, 2, m7);
    const char *m7b[] = {"NUL character", NULL};
    const char *p7b[] = {"convert", "-", pgt_tmp("x.m"), "--from", "json", NULL};
    pgt_expect_cli(p7b, pgt_tmp("esc.json"), 2, m7b);

    memcpy(buf, c9, n9);
    const char *again = "\nmpc.gen = [1 0 0 300 -300 1 100 1 250 10];\n";
    memcpy(buf + n9, again, strlen(again));
    const char *p8[] = {"pf", write_bytes("twice.m", buf, n9 + strlen(again)), NULL};
    const char *m8[] = {"mpc.gen", "assigned twice, on line", NULL};
    pgt_expect_cli(p8, NULL, 2, m8);

    free(buf);
    free(c9);
    free(hw);
}

/* Every command's error messages escape control characters that come from the input, so a file
 * cannot clear or retitle the terminal through them. */
static void
test_messages_escape_control_characters(void **state)
{
    (void)state;
    const char *bad =
        pgt_variant(hello, "esc.json", "\"buses\"", "\"\\u001b[2J\\u009b1m\": 1, \"buses\"");
    const char *cmds[][4] = {
        {"pf", bad, NULL}, {"run", bad, NULL}, {"convert", bad, pgt_tmp("out.json"), NULL}};
    for (size_t i = 0; i < 3; i++) {
        const char *const *args = cmds[i];
        char *out = NULL, *err = NULL;
        assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 2);
        if (!strstr(err, "\\x1b[2J") || !strstr(err, "\\u009b1m") || strchr(err, 0x1b) ||
            strstr(err, "\xc2\x9b"))
            fail_msg("%s: control characters not escaped in '%s'", cmds[i][0], err);
        free(out);
        free(err);
    }
}

/* On a terminal, the text report shows a unit name's control characters escaped; the same report
 * to a pipe keeps its bytes. */
static void
test_terminal_output_escaped(void **state)
{
    (void)state;
    const char *bad =
        pgt_variant(hello, "esc-name.json", "\"diesel_gen\"", "\"b\\u001b]0;x\\u0007\"");
    int master = -1;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(PG_CLI_PATH, PG_CLI_PATH, "run", bad, "--no-ac", (char *)NULL);
        _exit(127);
    }
    char *out = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 65536;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        ssize_t got = read(master, out + n, 4096);
        if (got <= 0) /* EIO once the child has gone */
            break;
        n += (size_t)got;
    }
    out[n] = '\0';
    int status = 0;
    waitpid(pid, &status, 0);
    close(master);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!strstr(out, "b\\x1b]0;x\\x07") || memchr(out, 0x1b, n) || memchr(out, 0x07, n))
        fail_msg("the name's control characters reached the terminal: %.300s", out);
    free(out);
    char *piped = NULL;
    const char *args[] = {"run", bad, "--no-ac", NULL};
    assert_int_equal(pgt_run_cli(args, NULL, &piped, NULL), 0);
    assert_non_null(strstr(piped, "b\x1b]0;x\x07"));
    free(piped);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_convert_step_reread, setup, pgt_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_convert_step_without_series, setup,
                                        pgt_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_step_length_limits, setup, pgt_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_messages_escape_control_characters, setup,
                                        pgt_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_terminal_output_escaped, setup, pgt_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_empty_world_and_base, setup, pgt_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_non_regular_inputs, setup, pgt_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_reader_messages, setup, pgt_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
