/* plurigrid game as a user meets it: the input read once whatever it is (a FIFO, standard input,
 * a device refused), --json FILE|- for both kinds of file, failed writes (/dev/full, a full disk)
 * exiting 2 with the old file intact, the limits on runs and rounds named in one message each,
 * learning progress, and control characters from a file escaped before they reach a terminal. */
#include "harness.h"

#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *
example(const char *name)
{
    static char buf[4][4096];
    static int slot;
    char rel[256];
    snprintf(rel, sizeof rel, "examples/games/%s", name);
    char *b = buf[slot++ % 4];
    snprintf(b, 4096, "%s", pgt_source_path(rel));
    return b;
}

static char *
tmp_path(const char *name)
{
    static char buf[4][4200];
    static int slot;
    char *b = buf[slot++ % 4];
    snprintf(b, 4200, "%s/%s", pgt_tmpdir(), name);
    return b;
}

/* Runs the command; returns its exit status and frees what the caller does not want. */
static int
cli(const char *const *args, const char *in, char **out, char **err)
{
    char *o = NULL, *e = NULL;
    int rc = pgt_run_cli(args, in, &o, &e);
    if (out)
        *out = o;
    else
        free(o);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}

/* text with the first find replaced by repl (malloc'd); fails the test when find is absent. */
static char *
replace_first(const char *text, const char *find, const char *repl)
{
    const char *at = strstr(text, find);
    if (!at)
        fail_msg("'%s' not found", find);
    size_t n = strlen(text) - strlen(find) + strlen(repl) + 1;
    char *t = malloc(n);
    assert_non_null(t);
    memcpy(t, text, (size_t)(at - text));
    strcpy(t + (at - text), repl);
    strcat(t, at + strlen(find));
    return t;
}

static json_t *
parse_json(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    if (!v)
        fail_msg("not JSON (%s, line %d): %.200s", je.text, je.line, text);
    return v;
}

/* ---------------------------------------------------------------- reading the input once */

/* Writes text into the FIFO at path from a child process (the reader opens it once). */
static pid_t
fifo_writer(const char *path, const char *text)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        FILE *f = fopen(path, "w");
        if (f) {
            fputs(text, f);
            fclose(f);
        }
        _exit(0);
    }
    return pid;
}

static void
test_input_read_once(void **state)
{
    (void)state;
    char *pd = pgt_slurp(example("prisoners-dilemma.json"), NULL);
    char *georgia = pgt_slurp(example("georgia.json"), NULL);
    char *out = NULL, *err = NULL;

    /* standard input, both kinds */
    const char *a1[] = {"game", "-", "--no-learning", NULL};
    assert_int_equal(cli(a1, pd, &out, &err), 0);
    assert_non_null(strstr(out, "prisoners-dilemma (normal-form game"));
    free(out);
    free(err);
    const char *a2[] = {"game", "-", "--runs", "16", "--turns", "10", "--threads", "1", NULL};
    assert_int_equal(cli(a2, georgia, &out, &err), 0);
    assert_non_null(strstr(out, "Resilience report: georgia-energy-market"));
    free(out);
    free(err);

    /* a FIFO, both kinds: read once, no hang */
    const char *fifo = tmp_path("game.fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t w = fifo_writer(fifo, pd);
    const char *a3[] = {"game", fifo, "--no-learning", NULL};
    assert_int_equal(cli(a3, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "mutual defection"));
    free(out);
    free(err);
    waitpid(w, NULL, 0);
    w = fifo_writer(fifo, georgia);
    const char *a4[] = {"game", fifo, "--runs", "16", "--turns", "10", NULL};
    assert_int_equal(cli(a4, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Resilience report"));
    free(out);
    free(err);
    waitpid(w, NULL, 0);

    /* a device is refused at once, as a file and as standard input */
    const char *a5[] = {"game", "/dev/zero", NULL};
    assert_int_equal(cli(a5, NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "/dev/zero"));
    free(err);
    const char *a6[] = {"game", "-", NULL};
    assert_int_equal(pgt_run_cli_io(a6, NULL, "/dev/zero", NULL, &out, &err), 2);
    assert_non_null(strstr(err, "standard input"));
    free(out);
    free(err);
    /* a folder */
    const char *a7[] = {"game", pgt_tmpdir(), NULL};
    assert_int_equal(cli(a7, NULL, NULL, &err), 2);
    free(err);
    free(pd);
    free(georgia);
    pgt_tmpdir_cleanup();
}

/* ---------------------------------------------------------------- --json FILE|- */

static void
test_json_file_or_stdout(void **state)
{
    (void)state;
    const char *georgia = example("georgia.json"), *pd = example("prisoners-dilemma.json");
    char *out = NULL, *err = NULL, *json = NULL;

    /* scenario: "-" prints the JSON alone; FILE gets the same JSON and the text goes to stdout */
    const char *a1[] = {"game",      georgia, "--runs", "20", "--turns", "30",
                        "--threads", "2",     "--json", "-",  NULL};
    assert_int_equal(cli(a1, NULL, &json, &err), 0);
    free(err);
    json_decref(parse_json(json));
    assert_int_equal(json[0], '{');
    const char *file = tmp_path("report.json");
    const char *a2[] = {"game",      georgia, "--runs", "20", "--turns", "30",
                        "--threads", "1",     "--json", file, NULL};
    assert_int_equal(cli(a2, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Resilience report"));
    char *saved = pgt_slurp(file, NULL);
    assert_string_equal(saved, json);
    free(saved);
    free(out);
    free(err);
    free(json);

    /* classic game */
    const char *a3[] = {"game", pd, "--no-learning", "--json", "-", NULL};
    assert_int_equal(cli(a3, NULL, &json, &err), 0);
    free(err);
    json_t *v = parse_json(json);
    assert_string_equal(json_string_value(json_object_get(v, "format")), "plurigrid-game-report/1");
    json_decref(v);
    const char *a4[] = {"game", pd, "--no-learning", "--json", file, NULL};
    assert_int_equal(cli(a4, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "equilibrium: yes"));
    saved = pgt_slurp(file, NULL);
    assert_string_equal(saved, json);
    free(saved);
    free(out);
    free(err);
    free(json);

    /* --json needs its argument */
    const char *a5[] = {"game", pd, "--json", NULL};
    assert_int_equal(cli(a5, NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "--json"));
    free(err);
    pgt_tmpdir_cleanup();
}

/* ---------------------------------------------------------------- write errors */

static void
test_write_errors(void **state)
{
    (void)state;
    const char *georgia = example("georgia.json"), *pd = example("prisoners-dilemma.json");
    char *out = NULL, *err = NULL;
    /* the text report, and the JSON on standard output, to a full device */
    const char *a1[] = {"game", pd, "--no-learning", NULL};
    assert_int_equal(pgt_run_cli_io(a1, NULL, NULL, "/dev/full", &out, &err), 2);
    assert_non_null(strstr(err, "standard output"));
    free(out);
    free(err);
    const char *a2[] = {"game", georgia, "--runs", "16", "--turns", "10", NULL};
    assert_int_equal(pgt_run_cli_io(a2, NULL, NULL, "/dev/full", &out, &err), 2);
    assert_non_null(strstr(err, "standard output"));
    free(out);
    free(err);
    const char *a3[] = {"game", georgia, "--runs", "16", "--turns", "10", "--json", "-", NULL};
    assert_int_equal(pgt_run_cli_io(a3, NULL, NULL, "/dev/full", &out, &err), 2);
    free(out);
    free(err);

    /* --json FILE on a full disk: exit 2, the old file as it was */
    const char *dir = pgt_full_disk_begin(4096);
    char old[4300];
    snprintf(old, sizeof old, "%s/old.json", dir);
    pgt_write(old, "{\"old\": true}\n");
    const char *a4[] = {"game", georgia, "--runs", "16", "--turns", "60", "--json", old, NULL};
    assert_int_equal(cli(a4, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "old.json: cannot write the file"));
    free(out);
    free(err);
    const char *a5[] = {"game", pd, "--json", old, NULL};
    assert_int_equal(cli(a5, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "old.json: cannot write the file"));
    free(out);
    free(err);
    char *kept = pgt_slurp(old, NULL);
    assert_string_equal(kept, "{\"old\": true}\n");
    free(kept);
    pgt_full_disk_end();
    pgt_tmpdir_cleanup();
}

/* ---------------------------------------------------------------- limits */

static void
test_limits_named(void **state)
{
    (void)state;
    const char *georgia = example("georgia.json"), *pd = example("prisoners-dilemma.json");
    char *err = NULL;
    /* runs: a cap named, exit 2 (not "out of memory", exit 3) */
    const char *a1[] = {"game", georgia, "--runs", "100000000", NULL};
    assert_int_equal(cli(a1, NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "1000000"));
    assert_null(strstr(err, "out of memory"));
    free(err);
    /* runs x turns within the run cap but past the memory cap */
    const char *a2[] = {"game", georgia, "--runs", "1000000", "--turns", "100000", NULL};
    assert_int_equal(cli(a2, NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "100000000"));
    free(err);

    /* rounds: 0 is refused, and the command and the file share one cap and one message */
    const char *a3[] = {"game", pd, "--rounds", "0", NULL};
    assert_int_equal(cli(a3, NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "--rounds must be a whole number from 1 to 100000000"));
    free(err);
    const char *a4[] = {"game", pd, "--rounds", "1000000000", NULL};
    assert_int_equal(cli(a4, NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "--rounds must be a whole number from 1 to 100000000"));
    free(err);
    char *orig = pgt_slurp(pd, NULL);
    char *text = replace_first(orig, "\"rounds\": 5000", "\"rounds\": 200000000");
    const char *bad = tmp_path("rounds.json");
    pgt_write(bad, text);
    free(text);
    free(orig);
    const char *a5[] = {"game", bad, NULL};
    assert_int_equal(cli(a5, NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "rounds: must be a whole number from 1 to 100000000"));
    free(err);
    pgt_tmpdir_cleanup();
}

/* ---------------------------------------------------------------- progress */

static void
test_learning_progress(void **state)
{
    (void)state;
    const char *pd = example("prisoners-dilemma.json");
    char *out = NULL, *err = NULL;
    const char *a1[] = {"game", pd, "--rounds", "300000", "--progress", NULL};
    assert_int_equal(cli(a1, NULL, &out, &err), 0);
    assert_non_null(strstr(err, "regret-matching"));
    assert_non_null(strstr(err, "300000/300000 rounds"));
    free(out);
    free(err);
    /* scenario runs, the last count once */
    const char *a3[] = {"game",       example("georgia.json"),
                        "--runs",     "64",
                        "--turns",    "10",
                        "--threads",  "1",
                        "--progress", NULL};
    assert_int_equal(pgt_run_cli(a3, NULL, &out, &err), 0);
    size_t shown = 0;
    for (const char *p = strstr(err, "64/64 runs (100%)"); p; p = strstr(p + 1, "64/64 runs"))
        shown++;
    assert_int_equal(shown, 1);
    free(out);
    free(err);
    /* not a terminal and not asked for: silent */
    const char *a2[] = {"game", pd, "--rounds", "3000", NULL};
    assert_int_equal(cli(a2, NULL, &out, &err), 0);
    assert_string_equal(err, "");
    free(out);
    free(err);
}

/* ---------------------------------------------------------------- control characters */

static bool
has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
            return true;
    return false;
}

static void
test_control_characters_escaped(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    /* a scenario named with an ANSI escape sequence */
    const char *sc =
        "{\"format\": \"plurigrid-scenario/1\", \"name\": \"\\u001b[31mred\\u001b[0m\","
        " \"turns\": 8, \"runs\": 4,\n"
        " \"variables\": [{\"name\": \"x\", \"initial\": 0.8}],\n"
        " \"agents\": [{\"name\": \"A\\u0007\", \"actions\": [\"go\\rgo\", \"stop\"]}],"
        "\n \"shocks\": [{\"name\": \"cut\", \"turn\": 3, \"onset\": [{\"var\": "
        "\"x\", \"add\": -0.2}]}],\n"
        " \"resilience\": {\"indicator\": \"x\"}}\n";
    const char *a1[] = {"game", "-", NULL};
    assert_int_equal(cli(a1, sc, &out, &err), 0);
    assert_false(has_control(out));
    assert_non_null(strstr(out, "\\x1b[31mred"));
    free(out);
    free(err);
    /* JSON keeps the name exactly */
    const char *a2[] = {"game", "-", "--json", "-", NULL};
    assert_int_equal(cli(a2, sc, &out, &err), 0);
    json_t *v = parse_json(out);
    assert_string_equal(json_string_value(json_object_get(v, "scenario")), "\x1b[31mred\x1b[0m");
    json_decref(v);
    free(out);
    free(err);
    /* an error message quoting the file */
    char *bad =
        replace_first(sc, "\"indicator\": \"x\"", "\"indicator\": \"\\u001b]0;owned\\u0007\"");
    assert_int_equal(cli(a1, bad, &out, &err), 2);
    assert_false(has_control(err));
    assert_non_null(strstr(err, "\\x1b]0;owned"));
    free(out);
    free(err);
    free(bad);
    /* a classic game */
    char *orig = pgt_slurp(example("prisoners-dilemma.json"), NULL);
    char *pd = replace_first(orig, "\"prisoners-dilemma\"", "\"\\u001b[2Jprisoners\"");
    free(orig);
    const char *a3[] = {"game", "-", "--no-learning", NULL};
    assert_int_equal(cli(a3, pd, &out, &err), 0);
    assert_false(has_control(out));
    assert_non_null(strstr(out, "\\x1b[2J"));
    free(out);
    free(err);
    free(pd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_read_once),   cmocka_unit_test(test_json_file_or_stdout),
        cmocka_unit_test(test_write_errors),      cmocka_unit_test(test_limits_named),
        cmocka_unit_test(test_learning_progress), cmocka_unit_test(test_control_characters_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
