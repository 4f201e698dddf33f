/* plurigrid convert: converts between the formats and back exactly, prints notes, and answers bad
 * input and bad usage with exit status 2 and a message that names the place -- never a crash. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/io.h"

static int
run(const char *const *args, const char *in, char **out, char **err)
{
    int rc = pgt_run_cli(args, in, out, err);
    assert_true(rc >= 0); /* -1: killed by a signal */
    return rc;
}

static const char *
tmp(const char *name)
{
    static char buf[8][4200];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", pgt_tmpdir(), name);
    return p;
}

static pg_world *
read_world(const char *path)
{
    pg_world *w = NULL;
    pg_error err = {0};
    int rc = pg_world_read(path, NULL, &w, NULL, &err);
    if (rc)
        print_error("%s: %s\n", path, err.msg);
    assert_int_equal(rc, PG_OK);
    return w;
}

static void
test_help(void **state)
{
    (void)state;
    char *out, *err;
    const char *a[] = {"convert", "--help", NULL};
    assert_int_equal(run(a, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Usage: plurigrid convert IN OUT"));
    free(out);
    free(err);
    const char *b[] = {"--help", NULL};
    assert_int_equal(run(b, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "convert"));
    free(out);
    free(err);
}

static void
test_matpower_json_matpower(void **state)
{
    (void)state;
    const char *src = pgt_data_path("matpower/cases/case30.m");
    const char *j = tmp("c30.json"),
               *m = tmp("case30.m"); /* MATPOWER names a case after its file */
    char *out, *err;
    const char *a[] = {"convert", src, j, NULL};
    assert_int_equal(run(a, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "30 buses, 41 branches"));
    free(out);
    free(err);
    const char *b[] = {"convert", j, m, "--json", "-", NULL};
    assert_int_equal(run(b, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "\"buses\": 30"));
    assert_non_null(strstr(out, "\"write_notes\": []"));
    free(out);
    free(err);
    pg_world *w0 = read_world(src), *w1 = read_world(j), *w2 = read_world(m);
    char diff[256];
    assert_true(pg_world_equal(w0, w1, diff, sizeof diff));
    assert_true(pg_world_equal(w0, w2, diff, sizeof diff));
    pg_world_free(w0);
    pg_world_free(w1);
    pg_world_free(w2);
    pgt_tmpdir_cleanup();
}

static void
test_stdin_stdout_and_step(void **state)
{
    (void)state;
    char *text = pgt_slurp(pgt_data_path("matpower/cases/case9.m"), NULL);
    char *out, *err;
    const char *a[] = {"convert", "-", "-", "--from", "matpower", "--to", "json", NULL};
    assert_int_equal(run(a, text, &out, &err), 0);
    assert_non_null(strstr(out, "\"format\": \"plurigrid-world/1\""));
    assert_non_null(strstr(out, "\"name\": \"case9\""));
    free(out);
    free(err);
    free(text);
    /* one hour of the hello microworld as a MATPOWER case: notes say what is lost */
    const char *hello = pgt_source_path("examples/hello-microworld.json");
    const char *b[] = {"convert", hello, "-", "--to", "matpower", "--step", "18", NULL};
    assert_int_equal(run(b, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "function mpc = hello_microworld"));
    assert_non_null(strstr(out, "\t2\t4.65\t")); /* wind: 0.31 x 15 MW at 18:00 */
    assert_non_null(strstr(err, "note: renewable units are written as generators"));
    free(out);
    free(err);
}

static void
expect_usage(const char *const *args, const char *msg)
{
    char *out, *err;
    assert_int_equal(run(args, NULL, &out, &err), 2);
    if (!strstr(err, msg))
        print_error("stderr '%s' lacks '%s'\n", err, msg);
    assert_non_null(strstr(err, msg));
    free(out);
    free(err);
}

static void
test_usage_errors(void **state)
{
    (void)state;
    const char *a[] = {"convert", NULL};
    expect_usage(a, "needs an input and an output");
    const char *b[] = {"convert", "a.m", "b.txt", NULL};
    expect_usage(b, "cannot tell the format of 'b.txt'");
    const char *c[] = {"convert", "a.m", "b.json", "--to", "csv", NULL};
    expect_usage(c, "--to 'csv'");
    const char *d[] = {"convert", "a.m", "b.json", "--frobnicate", NULL};
    expect_usage(d, "unknown option '--frobnicate'");
    const char *e[] = {"convert", "a.m", "b.json", "c.json", NULL};
    expect_usage(e, "too many arguments");
    const char *f[] = {"convert", "/nonexistent/a.m", tmp("b.json"), NULL};
    expect_usage(f, "/nonexistent/a.m: cannot read the file");
    const char *g[] = {"convert", "a.m", "b.json", "--step", "x", NULL};
    expect_usage(g, "--step needs");
    const char *h[] = {"convert", "-", "b.json", NULL};
    expect_usage(h, "--from json|matpower");
    pgt_tmpdir_cleanup();
}

/* Writes text to a file, converts it, expects exit 2 and every part in stderr. */
static void
expect_bad(const char *name, const char *text, const char *const *parts)
{
    const char *in = tmp(name);
    pgt_write(in, text);
    const char *outp = strstr(name, ".json") ? tmp("out.m") : tmp("out.json");
    const char *a[] = {"convert", in, outp, NULL};
    char *out, *err;
    int rc = run(a, NULL, &out, &err);
    if (rc != 2)
        print_error("%s: exit %d, stderr: %s\n", name, rc, err);
    assert_int_equal(rc, 2);
    for (; *parts; parts++) {
        if (!strstr(err, *parts))
            print_error("%s: stderr '%s' lacks '%s'\n", name, err, *parts);
        assert_non_null(strstr(err, *parts));
    }
    free(out);
    free(err);
}

#define MP_HEAD "function mpc = bad\nmpc.version = '2';\nmpc.baseMVA = 100;\n"
#define MP_BUS "mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
#define MP_GEN "mpc.gen = [1 0 0 10 -10 1 100 1 10 0];\n"
#define MP_BR "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360];\n"

static void
test_malformed_input(void **state)
{
    (void)state;
    const char *empty[] = {"empty.m:", "empty", NULL};
    expect_bad("empty.m", "", empty);
    const char *trunc[] = {"trunc.m:4:", "mpc.bus", "never closed", NULL};
    expect_bad("trunc.m", MP_HEAD "mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9;\n2 1 0", trunc);
    const char *cols[] = {"cols.m:6:", "mpc.branch", "has 10 columns", NULL};
    expect_bad("cols.m", MP_HEAD MP_BUS MP_GEN "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0];\n", cols);
    const char *unk[] = {"unk.m:5:", "mpc.gen row 1, column 1 (GEN_BUS)", "bus 4", NULL};
    expect_bad("unk.m", MP_HEAD MP_BUS "mpc.gen = [4 0 0 10 -10 1 100 1 10 0];\n" MP_BR, unk);
    const char *dup[] = {"dup.m:4:", "mpc.bus row 2, column 1 (BUS_I)", "used twice", NULL};
    expect_bad("dup.m",
               MP_HEAD "mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9; 1 1 0 0 0 0 1 1 0 135 1 1.1 "
                       "0.9];\n" MP_GEN MP_BR,
               dup);
    const char *nan[] = {"nan.m:6:", "mpc.branch row 1, column 4 (BR_X)", "NaN", NULL};
    expect_bad("nan.m", MP_HEAD MP_BUS MP_GEN "mpc.branch = [1 2 0 NaN 0 0 0 0 0 0 1 -360 360];\n",
               nan);
    const char *inf[] = {"inf.m:4:", "mpc.bus row 1, column 6 (BS)", "Inf", NULL};
    expect_bad("inf.m",
               MP_HEAD "mpc.bus = [1 3 0 0 0 Inf 1 1 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 "
                       "0.9];\n" MP_GEN MP_BR,
               inf);
    const char *base[] = {"base.m:3:", "mpc.baseMVA", "positive", NULL};
    expect_bad("base.m",
               "function mpc = bad\nmpc.version = '2';\nmpc.baseMVA = -100;\n" MP_BUS MP_GEN MP_BR,
               base);
    const char *zero[] = {"zero.m:3:", "positive", NULL};
    expect_bad("zero.m",
               "function mpc = bad\nmpc.version = '2';\nmpc.baseMVA = 0;\n" MP_BUS MP_GEN MP_BR,
               zero);
    const char *ver[] = {"ver.m:2:", "mpc.version", "version 2", NULL};
    expect_bad("ver.m",
               "function mpc = bad\nmpc.version = '1';\nmpc.baseMVA = 100;\n" MP_BUS MP_GEN MP_BR,
               ver);
    /* JSON */
    const char *key[] = {"key.json:3:", "$.buses[0].colour", "unknown key 'colour'", NULL};
    expect_bad("key.json",
               "{\"format\": \"plurigrid-world/1\",\n \"buses\": [\n  {\"name\": \"a\", "
               "\"colour\": 1}]}\n",
               key);
    const char *type[] = {"type.json:2:", "$.base_mva", "must be a number, got a string", NULL};
    expect_bad("type.json", "{\"format\": \"plurigrid-world/1\",\n \"base_mva\": \"100\"}\n", type);
    const char *syn[] = {"syn.json:2:", "JSON syntax error", NULL};
    expect_bad("syn.json", "{\"format\": \"plurigrid-world/1\",\n \"buses\": [}\n", syn);
    const char *emptyj[] = {"e.json:", "empty", NULL};
    expect_bad("e.json", "\n", emptyj);
    const char *bin[] = {"bin.m:1:", NULL};
    expect_bad("bin.m", "\x7f\x45\x4c\x46\x02", bin);
    pgt_tmpdir_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_matpower_json_matpower),
        cmocka_unit_test(test_stdin_stdout_and_step),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_malformed_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
