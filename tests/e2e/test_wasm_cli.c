/* plurigrid wasm check and build from the command line: the example strategies accepted and
 * built into objects a node runs; modules the ABI refuses named with the import or export that
 * is refused (exit 2); files that are not WebAssembly, missing files and bad options refused
 * with a message (exit 2); --help; --json (plurigrid-wasm-check/1, alone on standard output
 * with -); a refused build leaves no file and an old one untouched. */
#include <jansson.h>
#include <sys/stat.h>

#include "harness.h"
#include "plurigrid/node.h"
#include "wasm_util.h"

static const char refused_wat[] =
    "(module\n"
    "  (import \"env\" \"open_socket\" (func $s (param i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"path_open\"\n"
    "    (func $p (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (func (export \"pg_init\") (result i32) (call $s (i32.const 0)))\n"
    "  (func (export \"pg_on_interval\") (result i32) i32.const 0))\n";

/* no pg_on_interval */
static const char no_export_wat[] = "(module\n"
                                    "  (memory (export \"memory\") 1)\n"
                                    "  (func (export \"pg_init\") (result i32) i32.const 0))\n";

static void
test_help(void **state)
{
    (void)state;
    const char *sets[][4] = {{"wasm", "--help", NULL, NULL},
                             {"wasm", "check", "--help", NULL},
                             {"wasm", "build", "-h", NULL},
                             {"wasm", "help", "build", NULL},
                             {"help", "wasm", NULL, NULL}};
    const char *words[] = {"check", "plurigrid wasm check", "-o STRATEGY.so", "-o STRATEGY.so",
                           "build"};
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
        char *out = NULL, *err = NULL;
        assert_int_equal(pgt_run_cli(sets[i], NULL, &out, &err), 0);
        assert_non_null(strstr(out, "Usage: plurigrid wasm"));
        assert_non_null(strstr(out, words[i]));
        free(out);
        free(err);
    }
    /* plurigrid --help lists the command */
    char *out = NULL, *err = NULL;
    const char *top[] = {"--help", NULL};
    assert_int_equal(pgt_run_cli(top, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "  wasm "));
    free(out);
    free(err);
}

static void
test_check_accepts_the_examples(void **state)
{
    (void)state;
    pgt_need_strategies();
    const char *names[] = {"threshold", "forecast"};
    for (size_t i = 0; i < 2; i++) {
        const char *wasm = pgt_strategy(names[i], ".wasm");
        char *out = NULL, *err = NULL;
        const char *args[] = {"wasm", "check", wasm, NULL};
        assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
        assert_non_null(strstr(out, "accepted by the strategy ABI"));
        assert_non_null(strstr(out, "pg.view"));
        assert_non_null(strstr(out, "pg_on_interval"));
        assert_non_null(strstr(out, "memory:"));
        free(out);
        free(err);
        /* --json -: the JSON alone */
        const char *jargs[] = {"wasm", "check", wasm, "--json", "-", NULL};
        assert_int_equal(pgt_run_cli(jargs, NULL, &out, &err), 0);
        json_error_t je;
        json_t *root = json_loads(out, 0, &je);
        if (!root)
            fail_msg("not JSON (%s): %s", je.text, out);
        assert_string_equal(json_string_value(json_object_get(root, "format")),
                            "plurigrid-wasm-check/1");
        assert_true(json_is_true(json_object_get(root, "accepted")));
        assert_int_equal(json_array_size(json_object_get(root, "problems")), 0);
        json_t *imports = json_object_get(root, "imports");
        assert_true(json_array_size(imports) >= 2);
        for (size_t k = 0; k < json_array_size(imports); k++)
            assert_true(json_is_true(json_object_get(json_array_get(imports, k), "allowed")));
        assert_non_null(json_object_get(json_object_get(root, "memory"), "ceiling_pages"));
        json_decref(root);
        free(out);
        free(err);
    }
}

static void
test_build_makes_a_runnable_object(void **state)
{
    (void)state;
    pgt_need_strategies();
    char so[1024];
    snprintf(so, sizeof so, "%s/threshold.so", pgt_tmpdir());
    const char *args[] = {"wasm", "build", pgt_strategy("threshold", ".wasm"), "-o", so, NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    assert_string_equal(out, "");
    free(out);
    free(err);
    struct stat st;
    assert_int_equal(stat(so, &st), 0);
    assert_true(st.st_size > 1000);
    /* a node config runs it: the node's controller starts the sandbox on it */
    char cfg[1200], text[1600];
    snprintf(cfg, sizeof cfg, "%s/home.json", pgt_tmpdir());
    snprintf(text, sizeof text,
             "{\"format\": \"plurigrid-node/1\", \"name\": \"home\", \"profile\": "
             "\"residential\",\n"
             " \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"h\", \"input\": \"load\"}],\n"
             " \"controller\": {\"kind\": \"wasm\", \"strategy\": \"%s\"}}\n",
             so);
    pgt_write(cfg, text);
    pg_node_config *c = NULL;
    pg_error e = {0};
    if (pg_node_config_read(&c, cfg, &e) != PG_OK)
        fail_msg("%s", e.msg);
    pg_node_config_free(c);
}

static void
test_refusals(void **state)
{
    (void)state;
    char *refused = pgt_wat("refused", refused_wat);
    char *noexp = pgt_wat("noexport", no_export_wat);
    /* check: every refused import named, exit 2; the listing still on standard output */
    char *out = NULL, *err = NULL;
    const char *a1[] = {"wasm", "check", refused, NULL};
    assert_int_equal(pgt_run_cli(a1, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "open_socket"));
    assert_non_null(strstr(err, "path_open"));
    assert_non_null(strstr(err, "refused by the strategy ABI"));
    assert_non_null(strstr(out, "REFUSED"));
    free(out);
    free(err);
    /* --json to a file: written, accepted false, and still exit 2 */
    char js[1024];
    snprintf(js, sizeof js, "%s/check.json", pgt_tmpdir());
    const char *a2[] = {"wasm", "check", refused, "--json", js, NULL};
    assert_int_equal(pgt_run_cli(a2, NULL, &out, &err), 2);
    free(out);
    free(err);
    json_error_t je;
    json_t *root = json_load_file(js, 0, &je);
    assert_non_null(root);
    assert_true(json_is_false(json_object_get(root, "accepted")));
    assert_true(json_array_size(json_object_get(root, "problems")) >= 2);
    json_decref(root);
    /* a missing export is named */
    PGT_EXPECT_CLI(((const char *[]){"wasm", "check", noexp, NULL}), 2, "pg_on_interval");
    /* build refuses the same, leaving an old output as it was */
    char so[1024];
    snprintf(so, sizeof so, "%s/old.so", pgt_tmpdir());
    pgt_write(so, "old contents");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "build", refused, "-o", so, NULL}), 2, "open_socket");
    char *kept = pgt_slurp(so, NULL);
    assert_string_equal(kept, "old contents");
    free(kept);
    /* not WebAssembly, a missing file, a folder */
    char bad[1024];
    snprintf(bad, sizeof bad, "%s/bad.wasm", pgt_tmpdir());
    pgt_write(bad, "this is text, not a module\n");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "check", bad, NULL}), 2, "bad.wasm",
                   "not a WebAssembly module");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "check", "/nonexistent/x.wasm", NULL}), 2,
                   "/nonexistent/x.wasm");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "check", pgt_tmpdir(), NULL}), 2, pgt_tmpdir());
    PGT_EXPECT_CLI(((const char *[]){"wasm", "build", bad, "-o", so, NULL}), 2, "bad.wasm");
    free(refused);
    free(noexp);
}

static void
test_bad_usage(void **state)
{
    (void)state;
    PGT_EXPECT_CLI(((const char *[]){"wasm", NULL}), 2, "a subcommand is needed");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "run", NULL}), 2, "unknown subcommand 'run'");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "check", NULL}), 2, "the module to check");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "check", "a.wasm", "--frobnicate", NULL}), 2,
                   "unknown option '--frobnicate'");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "check", "a.wasm", "b.wasm", NULL}), 2,
                   "one module at a time");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "check", "a.wasm", "--json", NULL}), 2, "--json");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "check", "a.wasm", "--json", "a.wasm", NULL}), 2,
                   "overwrite");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "build", "a.wasm", NULL}), 2, "-o STRATEGY.so");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "build", "a.wasm", "-o", NULL}), 2, "-o");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "build", "a.wasm", "-o", "-", NULL}), 2,
                   "standard output");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "build", "a.wasm", "-o", "a.wasm", NULL}), 2,
                   "overwrite");
    PGT_EXPECT_CLI(((const char *[]){"wasm", "build", "--cc", NULL}), 2, "--cc");
}

/* The listing of a refused module to a full standard output is an error too (exit 2). */
static void
test_stdout_full(void **state)
{
    (void)state;
    pgt_need_strategies();
    const char *args[] = {"wasm", "check", pgt_strategy("threshold", ".wasm"), NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(pgt_run_cli_io(args, NULL, NULL, "/dev/full", &out, &err), 2);
    assert_non_null(strstr(err, "cannot write to standard output"));
    free(out);
    free(err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test_teardown(test_check_accepts_the_examples, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_build_makes_a_runnable_object, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_refusals, pgt_teardown_tmpdir),
        cmocka_unit_test(test_bad_usage),
        cmocka_unit_test(test_stdout_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
