/* Where the commands' output goes and what happens when it cannot be written (docs/cli.md):
 * run, pf, opf, convert and version take --json FILE|- ('-' is standard output), standard output
 * carries one thing (the table, or the JSON, or the CSV), a write error is exit 2 with a message
 * (standard output on /dev/full, a file on /dev/full, a full disk) and never a crash, a file on a
 * full disk keeps its old contents, an output never replaces the command's own input, and a
 * diverged power flow never prints inf or nan. */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <jansson.h>

#include "plurigrid/io.h"

static char hello[4096], case9[4096], case118[4096];

static int
setup(void **state)
{
    (void)state;
    snprintf(hello, sizeof hello, "%s", pgt_source_path("examples/hello-microworld.json"));
    snprintf(case9, sizeof case9, "%s", pgt_data_path("matpower/cases/case9.m"));
    snprintf(case118, sizeof case118, "%s", pgt_data_path("matpower/cases/case118.m"));
    return 0;
}

/* Runs the command with standard output going to stdout_path (NULL: captured into *out). */
static int
run(const char *const *args, const char *stdout_path, char **out, char **err)
{
    int rc = pgt_run_cli_io(args, NULL, NULL, stdout_path, out, err);
    if (rc < 0)
        fail_msg("plurigrid %s was killed by a signal (a crash)", args[0]);
    return rc;
}

static void
print_args(const char *const *args)
{
    print_message("  plurigrid");
    for (size_t i = 0; args[i]; i++)
        print_message(" %s", args[i]);
    print_message("\n");
}

static json_t *
parse(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    if (!v)
        fail_msg("not JSON: %s (line %d): %.200s", je.text, je.line, text);
    return v;
}

/* Every command, help and version included, fails with exit 2 and says so when standard output
 * cannot be written. */
static void
test_stdout_full(void **state)
{
    (void)state;
    const char *j = pgt_tmp("c9.json"), *k = pgt_tmp("c9b.json");
    const char *cases[][10] = {
        {"version", NULL},
        {"version", "--json", "-", NULL},
        {"--version", NULL},
        {"--help", NULL},
        {"help", "run", NULL},
        {"version", "--help", NULL},
        {"run", "--help", NULL},
        {"pf", "--help", NULL},
        {"opf", "--help", NULL},
        {"convert", "--help", NULL},
        {"pf", case9, NULL},
        {"pf", case9, "--json", "-", NULL},
        {"opf", case9, "--dc", NULL},
        {"opf", case9, "--dc", "--json", "-", NULL},
        {"run", hello, "--no-ac", NULL},
        {"run", hello, "--no-ac", "--json", "-", NULL},
        {"run", hello, "--no-ac", "--csv", "-", NULL},
        {"convert", case9, "-", "--to", "json", NULL},
        {"convert", case9, "-", "--to", "matpower", NULL},
        {"convert", case9, j, NULL},
        {"convert", case9, k, "--json", "-", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out, *err;
        int rc = run(cases[i], "/dev/full", &out, &err);
        if (rc != 2 || !strstr(err, "cannot write to standard output")) {
            print_args(cases[i]);
            fail_msg("exit %d, stderr '%s': expected exit 2 and a message about standard output",
                     rc, err);
        }
        free(out);
        free(err);
    }
}

/* An output file that cannot be written (/dev/full): exit 2, the message names the file. */
static void
test_file_dev_full(void **state)
{
    (void)state;
    const char *j = pgt_tmp("c9.json");
    const char *cases[][10] = {
        {"run", hello, "--no-ac", "--json", "/dev/full", NULL},
        {"run", hello, "--no-ac", "--csv", "/dev/full", NULL},
        {"run", hello, "--json", "-", "--csv", "/dev/full", NULL},
        {"pf", case9, "--json", "/dev/full", NULL},
        {"pf", case9, "--out", "/dev/full", NULL},
        {"opf", case9, "--dc", "--json", "/dev/full", NULL},
        {"convert", case9, "/dev/full", "--to", "json", NULL},
        {"convert", case9, j, "--json", "/dev/full", NULL},
        {"version", "--json", "/dev/full", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out, *err;
        int rc = run(cases[i], NULL, &out, &err);
        if (rc != 2 || !strstr(err, "/dev/full") || !strstr(err, "No space left on device")) {
            print_args(cases[i]);
            fail_msg("exit %d, stderr '%s': expected exit 2 and a message naming /dev/full", rc,
                     err);
        }
        free(out);
        free(err);
    }
}

/* The names in a folder other than `keep`. */
static int
others_in(const char *dir, const char *keep)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, keep)) {
            print_message("  left in the folder: %s\n", e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

/* On a full disk every output file keeps its old contents and the command exits 2 saying so;
 * no temporary file is left behind. One file per run: the disk holds one page, which the old
 * file takes (with a file-size limit instead of a small disk, every output here is larger). */
static void
test_full_disk_keeps_old_files(void **state)
{
    (void)state;
    struct {
        const char *file;
        const char *args[10];
    } cases[] = {
        {"run.json", {"run", hello, "--no-ac", "--json", "@", NULL}},
        {"run.csv", {"run", hello, "--no-ac", "--csv", "@", NULL}},
        {"pf.txt", {"pf", case118, "--out", "@", NULL}},
        {"pf.json", {"pf", case118, "--json", "@", NULL}},
        {"opf.json", {"opf", case118, "--dc", "--json", "@", NULL}},
        {"case.json", {"convert", case118, "@", NULL}},
        {"case.m", {"convert", case118, "@", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *dir = pgt_full_disk_begin(4096);
        char path[4300];
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].file);
        pgt_write(path, "old\n");
        const char *args[10] = {0};
        for (size_t a = 0; cases[i].args[a]; a++)
            args[a] = strcmp(cases[i].args[a], "@") == 0 ? path : cases[i].args[a];
        char *out, *err;
        int rc = run(args, NULL, &out, &err);
        char *now = pgt_slurp(path, NULL);
        int left = others_in(dir, cases[i].file);
        pgt_full_disk_end();
        if (rc != 2 || !strstr(err, path) || !strstr(err, "left as it was") ||
            strcmp(now, "old\n") != 0 || left) {
            print_args(args);
            fail_msg("exit %d, stderr '%s', the file now '%.40s', %d files left over: expected "
                     "exit 2, a message naming the file, the old file intact",
                     rc, err, now, left);
        }
        free(now);
        free(out);
        free(err);
    }
    pgt_tmpdir_cleanup();
}

/* Standard output carries one thing; --json FILE leaves the table on standard output. */
static void
test_one_thing_on_stdout(void **state)
{
    (void)state;
    char *out, *err;
    const char *csv[] = {"run", hello, "--no-ac", "--csv", "-", NULL};
    assert_int_equal(run(csv, NULL, &out, &err), 0);
    assert_int_equal(strncmp(out, "step,hour,component,name,quantity,value\n", 40), 0);
    assert_null(strstr(out, "Schedule"));
    assert_null(strstr(out, "Total cost"));
    free(out);
    free(err);

    const char *both[] = {"run", hello, "--json", "-", "--csv", "-", NULL};
    assert_int_equal(run(both, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "standard output"));
    assert_string_equal(out, "");
    free(out);
    free(err);

    const char *jf = pgt_tmp("run.json");
    const char *json_file[] = {"run", hello, "--no-ac", "--json", jf, NULL};
    assert_int_equal(run(json_file, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Schedule (MW;"));
    char *text = pgt_slurp(jf, NULL);
    json_t *doc = parse(text);
    assert_string_equal(json_string_value(json_object_get(doc, "format")), "plurigrid-dispatch/1");
    json_decref(doc);
    free(text);
    free(out);
    free(err);

    const char *pf[] = {"pf", case9, "--json", "-", NULL};
    assert_int_equal(run(pf, NULL, &out, &err), 0);
    doc = parse(out);
    assert_string_equal(json_string_value(json_object_get(doc, "format")), "plurigrid-pf/1");
    json_decref(doc);
    free(out);
    free(err);

    const char *of = pgt_tmp("opf.json");
    const char *opf[] = {"opf", case9, "--dc", "--json", of, NULL};
    assert_int_equal(run(opf, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Objective function value: 5216.03 $/hr"));
    text = pgt_slurp(of, NULL);
    doc = parse(text);
    assert_near(json_number_value(json_object_get(doc, "objective")), 5216.02660775, 1e-4);
    json_decref(doc);
    free(text);
    free(out);
    free(err);

    const char *cf = pgt_tmp("c9.json"), *sf = pgt_tmp("summary.json");
    const char *conv[] = {"convert", case9, cf, "--json", sf, NULL};
    assert_int_equal(run(conv, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "wrote "));
    text = pgt_slurp(sf, NULL);
    doc = parse(text);
    assert_int_equal(json_integer_value(json_object_get(doc, "buses")), 9);
    assert_string_equal(json_string_value(json_object_get(doc, "to")), "json");
    json_decref(doc);
    free(text);
    free(out);
    free(err);

    const char *ver[] = {"version", "--json", "-", NULL};
    assert_int_equal(run(ver, NULL, &out, &err), 0);
    doc = parse(out);
    assert_true(json_is_string(json_object_get(doc, "plurigrid")));
    json_decref(doc);
    free(out);
    free(err);
}

/* --json needs its value in every command; an output never replaces the command's input. */
static void
test_json_value_and_input_kept(void **state)
{
    (void)state;
    const char *cases[][6] = {
        {"run", hello, "--json", NULL},
        {"pf", case9, "--json", NULL},
        {"opf", case9, "--dc", "--json", NULL},
        {"convert", case9, "x.json", "--json", NULL},
        {"version", "--json", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out, *err;
        int rc = run(cases[i], NULL, &out, &err);
        if (rc != 2 || !strstr(err, "--json needs a file name, or - for standard output")) {
            print_args(cases[i]);
            fail_msg("exit %d, stderr '%s'", rc, err);
        }
        free(out);
        free(err);
    }
    char *orig = pgt_slurp(case9, NULL);
    const char *c = pgt_tmp("own.m");
    pgt_write(c, orig);
    const char *same[][8] = {
        {"pf", c, "--json", c, NULL},
        {"pf", c, "--out", c, NULL},
        {"opf", c, "--dc", "--json", c, NULL},
        {"run", c, "--csv", c, NULL},
        {"convert", c, pgt_tmp("x.json"), "--json", c, NULL},
    };
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        char *out, *err;
        int rc = run(same[i], NULL, &out, &err);
        char *now = pgt_slurp(c, NULL);
        if (rc != 2 || strcmp(now, orig) != 0) {
            print_args(same[i]);
            fail_msg("exit %d, stderr '%s': the input must be refused as an output", rc, err);
        }
        free(now);
        free(out);
        free(err);
    }
    free(orig);
}

/* True when text holds "inf" or "nan" as printf writes them (a word of its own). */
static bool
has_non_finite(const char *text)
{
    static const char *const words[] = {"inf", "nan"};
    for (int k = 0; k < 2; k++)
        for (const char *p = strstr(text, words[k]); p; p = strstr(p + 1, words[k])) {
            bool start = p == text || !isalpha((unsigned char)p[-1]);
            if (start && !isalpha((unsigned char)p[3]))
                return true;
        }
    return false;
}

/* A load so large that Newton's iterations overflow: the report and the JSON say the power flow
 * diverged and print no inf or nan. */
static void
test_diverged_pf(void **state)
{
    (void)state;
    pg_world *w = NULL;
    pg_error e = {0};
    assert_int_equal(pg_world_read(case9, NULL, &w, NULL, &e), PG_OK);
    w->loads[0].p = w->loads[0].q = 1e300;
    const char *path = pgt_tmp("huge.m");
    assert_int_equal(pg_world_write(w, path, NULL, NULL, &e), PG_OK);
    pg_world_free(w);
    const char *text[] = {"pf", path, NULL};
    const char *json[] = {"pf", path, "--json", "-", NULL};
    const char *const *runs[] = {text, json};
    for (int k = 0; k < 2; k++) {
        char *out, *err;
        int rc = run(runs[k], NULL, &out, &err);
        if (rc != 1 && rc != 2) /* 2 if such a load is ever refused as input */
            fail_msg("exit %d", rc);
        if (has_non_finite(out) || has_non_finite(err))
            fail_msg("inf or nan printed:\n%s\n%s", out, err);
        if (rc == 1 && k == 0)
            assert_non_null(strstr(out, "diverged"));
        if (rc == 1 && k == 1) {
            json_t *doc = parse(out);
            assert_true(json_is_null(json_object_get(doc, "max_mismatch_pu")));
            json_decref(doc);
        }
        free(out);
        free(err);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdout_full),
        cmocka_unit_test(test_file_dev_full),
        cmocka_unit_test(test_full_disk_keeps_old_files),
        cmocka_unit_test(test_one_thing_on_stdout),
        cmocka_unit_test(test_json_value_and_input_kept),
        cmocka_unit_test(test_diverged_pf),
    };
    return cmocka_run_group_tests(tests, setup, pgt_teardown_tmpdir);
}
