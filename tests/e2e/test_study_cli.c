/* plurigrid study end to end: a folder of MATPOWER cases with a bad world among them (a result
 * with its error, exit 1), the JSON the same bytes for 1 and 4 threads and for any cut of a
 * contingency study, the numbers those of plurigrid pf, CSV and SVG outputs, a series study, and
 * bad input: a missing folder, /dev/zero, standard output to /dev/full, an output on a full disk
 * (the old file kept), unknown options. */
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static const char *
case_path(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "matpower/cases/%s.m", name);
    return pgt_data_path(rel);
}

static void
copy(const char *src, const char *dst)
{
    size_t len = 0;
    char *text = pgt_slurp(src, &len);
    pgt_write(dst, text);
    free(text);
}

/* A folder with case9, case14 and a file that is not a world. */
static const char *
worlds_dir(void)
{
    static char dir[1024];
    char p[1200];
    snprintf(dir, sizeof dir, "%s/worlds", pgt_tmpdir());
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/case9.m", dir);
    copy(case_path("case9"), p);
    snprintf(p, sizeof p, "%s/case14.m", dir);
    copy(case_path("case14"), p);
    snprintf(p, sizeof p, "%s/broken.json", dir);
    pgt_write(p, "{\"format\": \"plurigrid-world/1\",\n \"buses\": [1, 2]\n");
    return dir;
}

static json_t *
parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("not JSON: %s", je.text);
    return j;
}

static void
folder_with_a_bad_world(void **state)
{
    (void)state;
    const char *dir = worlds_dir();
    const char *csv = pgt_tmp("study.csv"), *svg = pgt_tmp("study.svg");
    const char *args[] = {"study", "pf", "--worlds", dir, "--json", "-",
                          "--csv", csv,  "--svg",    svg, NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 1);
    json_t *doc = parse(out);
    json_t *worlds = json_object_get(doc, "worlds");
    assert_int_equal(json_array_size(worlds), 3);
    /* Name order: broken, case14, case9. */
    json_t *bad = json_array_get(worlds, 0);
    assert_string_equal(json_string_value(json_object_get(bad, "id")), "broken");
    assert_false(json_is_true(json_object_get(bad, "ok")));
    assert_non_null(strstr(json_string_value(json_object_get(bad, "error")), "broken.json"));
    json_t *totals = json_object_get(doc, "totals");
    assert_int_equal(json_integer_value(json_object_get(totals, "converged")), 2);
    assert_int_equal(json_integer_value(json_object_get(totals, "worlds_failed")), 1);
    /* case9's losses are plurigrid pf's, to the bit. */
    const char *pf_args[] = {"pf", case_path("case9"), "--json", "-", NULL};
    char *pout, *perr;
    assert_int_equal(pgt_run_cli(pf_args, NULL, &pout, &perr), 0);
    json_t *pf = parse(pout);
    double loss = json_number_value(json_object_get(json_object_get(pf, "totals"), "loss_mw"));
    size_t i;
    json_t *it;
    bool seen = false;
    json_array_foreach(json_object_get(doc, "items"), i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "world")), "case9") == 0) {
            assert_true(json_number_value(json_object_get(it, "loss_mw")) == loss);
            assert_near(loss, 4.641, 5e-4); /* MATPOWER's runpf */
            seen = true;
        }
    }
    assert_true(seen);
    json_decref(pf);
    free(pout);
    free(perr);
    /* The CSV has a header and one row per world; the SVG is a drawing. */
    char *c = pgt_slurp(csv, NULL);
    assert_true(strncmp(c, "world,index,converged,", 22) == 0);
    assert_non_null(strstr(c, "\ncase9,0,true,"));
    assert_non_null(strstr(c, "\nbroken,,"));
    free(c);
    char *s = pgt_slurp(svg, NULL);
    assert_true(strncmp(s, "<?xml", 5) == 0);
    assert_non_null(strstr(s, "Losses of every converged item"));
    assert_non_null(strstr(s, "</svg>\n"));
    free(s);
    json_decref(doc);
    free(out);
    free(err);
}

static char *
json_of(const char *const *args)
{
    char *out, *err;
    int rc = pgt_run_cli(args, NULL, &out, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    free(err);
    return out;
}

static void
same_bytes(void **state)
{
    (void)state;
    const char *c14 = case_path("case14"), *c30 = case_path("case30");
    const char *a1[] = {"study",  "contingency", "--case",    c14, "--case", c30,
                        "--json", "-",           "--threads", "1", NULL};
    const char *a4[] = {
        "study", "contingency",       "--case", c14, "--case", c30, "--json", "-", "--threads",
        "4",     "--outages-per-job", "3",      NULL};
    char *j1 = json_of(a1), *j4 = json_of(a4);
    assert_string_equal(j1, j4);
    json_t *doc = parse(j1);
    json_t *totals = json_object_get(doc, "totals");
    /* case14 has 20 branches, case30 41, all in service. */
    assert_int_equal(json_integer_value(json_object_get(totals, "items")), 61);
    json_decref(doc);
    free(j1);
    free(j4);
}

static void
series(void **state)
{
    (void)state;
    const char *hello = pgt_source_path("examples/hello-microworld.json");
    const char *args[] = {"study", "pf", "--series", "--case", hello, "--csv", "-", NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    assert_true(strncmp(out, "world,step,converged,", 21) == 0);
    size_t rows = 0;
    for (const char *p = out; *p; p++)
        rows += *p == '\n';
    assert_int_equal(rows, 25); /* the header and 24 hours */
    free(out);
    free(err);
}

static void
bad_input(void **state)
{
    (void)state;
    const char *c9 = case_path("case9");
    const char *missing[] = {"study", "pf", "--worlds", "/nonexistent/folder", NULL};
    PGT_EXPECT_CLI(missing, 2, "/nonexistent/folder", "cannot open the folder");
    const char *dev[] = {"study", "pf", "--case", "/dev/zero", NULL};
    PGT_EXPECT_CLI(dev, 2, "/dev/zero");
    const char *stdin_zero[] = {"study", "pf", "--case", "-", NULL};
    const char *needles[] = {"standard input", NULL};
    pgt_expect_cli(stdin_zero, "/dev/zero", 2, needles);
    const char *kind[] = {"study", "opf", "--case", c9, NULL};
    PGT_EXPECT_CLI(kind, 2, "unknown study 'opf'");
    const char *none[] = {"study", "pf", NULL};
    PGT_EXPECT_CLI(none, 2, "which worlds?");
    const char *opt[] = {"study", "pf", "--case", c9, "--frobnicate", NULL};
    PGT_EXPECT_CLI(opt, 2, "unknown option '--frobnicate'");
    const char *thr[] = {"study", "pf", "--case", c9, "--threads", "0", NULL};
    PGT_EXPECT_CLI(thr, 2, "--threads");
    const char *rating[] = {"study", "pf", "--case", c9, "--rating", "d", NULL};
    PGT_EXPECT_CLI(rating, 2, "--rating is a, b or c");
    const char *two[] = {"study", "pf", "--case", c9, "--json", "-", "--csv", "-", NULL};
    PGT_EXPECT_CLI(two, 2, "only one of");
    const char *over[] = {"study", "pf", "--case", c9, "--json", c9, NULL};
    PGT_EXPECT_CLI(over, 2, "would overwrite an input");
    const char *series_run[] = {"study", "run", "--series", "--case", c9, NULL};
    PGT_EXPECT_CLI(series_run, 2, "--series is for pf");
    const char *steps[] = {"study", "pf", "--steps-per-job", "3", "--case", c9, NULL};
    PGT_EXPECT_CLI(steps, 2, "--steps-per-job is for pf --series");
    const char *outages[] = {"study", "pf", "--outages-per-job", "3", "--case", c9, NULL};
    PGT_EXPECT_CLI(outages, 2, "--outages-per-job is for contingency");

    /* Standard output on /dev/full. */
    const char *full[] = {"study", "pf", "--case", c9, NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli_io(full, NULL, NULL, "/dev/full", &out, &err), 2);
    assert_non_null(strstr(err, "standard output"));
    free(out);
    free(err);
    const char *devfull[] = {"study", "pf", "--case", c9, "--json", "/dev/full", NULL};
    PGT_EXPECT_CLI(devfull, 2, "/dev/full");

    /* An output on a full disk: the old file stays. */
    const char *dir = pgt_full_disk_begin(4096);
    char path[4300];
    snprintf(path, sizeof path, "%s/results.json", dir);
    pgt_write(path, "old\n");
    const char *disk[] = {"study",  "contingency", "--case", case_path("case118"),
                          "--json", path,          NULL};
    int rc = pgt_run_cli(disk, NULL, &out, &err);
    char *now = pgt_slurp(path, NULL);
    pgt_full_disk_end();
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, path));
    assert_string_equal(now, "old\n");
    free(now);
    free(out);
    free(err);

    const char *help[] = {"study", "--help", NULL};
    assert_int_equal(pgt_run_cli(help, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "--worlds DIR"));
    assert_non_null(strstr(out, "--nats URL"));
    free(out);
    free(err);
}

/* The SVG of a case without ratings says so instead of drawing an empty chart; items whose power
 * flow did not converge are in no ranking, chart or violation count. */
static void
svg_and_unconverged(void **state)
{
    (void)state;
    char svg[1024];
    snprintf(svg, sizeof svg, "%s/unrated.svg", pgt_tmpdir());
    const char *c118[] = {"study", "contingency", "--case",  case_path("case118"),
                          "--svg", svg,           "--quiet", NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(c118, NULL, &out, &err), 0);
    free(out);
    free(err);
    char *text = pgt_slurp(svg, NULL);
    assert_non_null(strstr(text, "No branch is rated (rate_a is 0 on every branch)"));
    assert_null(strstr(text, "Worst contingencies by loading"));
    free(text);

    /* One Newton step: case14 does not converge. */
    const char *one[] = {"study", "pf",    "--case", case_path("case14"), "--max-iter",
                         "1",     "--svg", svg,      "--quiet",           NULL};
    assert_int_equal(pgt_run_cli(one, NULL, &out, &err), 1);
    assert_non_null(strstr(out, "converged                0"));
    assert_non_null(strstr(out, "with voltage violations  0"));
    assert_null(strstr(out, "Lowest voltage"));
    free(out);
    free(err);
    text = pgt_slurp(svg, NULL);
    assert_non_null(strstr(text, "No converged item to show."));
    free(text);
}

/* A world with a load of 1e300 MW: every study says why it failed, and nothing crashes. */
static void
huge_numbers(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/huge.m", pgt_tmpdir());
    char *text = pgt_slurp(case_path("case14"), NULL);
    char *at = strstr(text, "\t2\t2\t21.7\t");
    assert_non_null(at);
    char *fixed = malloc(strlen(text) + 16);
    assert_non_null(fixed);
    sprintf(fixed, "%.*s\t2\t2\t1e300\t%s", (int)(at - text), text, at + strlen("\t2\t2\t21.7\t"));
    pgt_write(path, fixed);
    free(fixed);
    free(text);
    const char *pf[] = {"study", "pf", "--case", path, "--quiet", NULL};
    const char *n1[] = {"study", "contingency", "--case", path, "--quiet", NULL};
    const char *series[] = {"study", "pf", "--series", "--case", path, "--quiet", NULL};
    const char *run[] = {"study", "run", "--case", path, "--quiet", NULL};
    const char *const *cmds[] = {pf, n1, series, run};
    const char *why[] = {"Items that failed:\n  huge: the mismatch became infinite or NaN",
                         "huge: the base case did not converge", "Items that failed:\n  huge",
                         "outside the range the dispatch takes"};
    for (size_t i = 0; i < 4; i++) {
        char *out, *err;
        assert_int_equal(pgt_run_cli(cmds[i], NULL, &out, &err), 1);
        if (!strstr(out, why[i]))
            fail_msg("%s: '%s' not in:\n%s", cmds[i][1], why[i], out);
        free(out);
        free(err);
    }
}

/* Outages are named as plurigrid pf names branches: the branch's name and its buses. */
static void
outage_names(void **state)
{
    (void)state;
    const char *args[] = {"study", "contingency", "--case", case_path("case118"), "--quiet", NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    /* MATPOWER's branch 16 runs from bus 11 (SouthBnd) to bus 13 (Concord). */
    assert_non_null(strstr(out, "case118 without branch 16 (SouthBnd  V2 - Concord   V2)"));
    assert_null(strstr(out, "outage of"));
    free(out);
    free(err);
    const char *csv[] = {"study", "contingency", "--case",  case_path("case118"),
                         "--csv", "-",           "--quiet", NULL};
    assert_int_equal(pgt_run_cli(csv, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "world,outage,branch,branch_name,from_bus,to_bus,status,"));
    assert_non_null(strstr(out, "\ncase118,15,15,branch 16,SouthBnd  V2,Concord   V2,solved,"));
    free(out);
    free(err);
}

/* Hostile folders: a FIFO or a link to /dev/zero among the worlds is refused at once (it would
 * block for the FIFO's wait, for every such file), and neither a manifest's entry nor a world
 * file may be a symbolic link that leads out of the folder. */
static void
hostile_folders(void **state)
{
    (void)state;
    char dir[1024], p[1200];
    snprintf(dir, sizeof dir, "%s/hostile-fifo", pgt_tmpdir());
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/a.json", dir);
    assert_int_equal(mkfifo(p, 0644), 0);
    const char *fifo[] = {"study", "pf", "--worlds", dir, NULL};
    PGT_EXPECT_CLI(fifo, 2, "a.json", "not a regular file");

    snprintf(dir, sizeof dir, "%s/hostile-zero", pgt_tmpdir());
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/z.json", dir);
    assert_int_equal(symlink("/dev/zero", p), 0);
    const char *zero[] = {"study", "pf", "--worlds", dir, NULL};
    PGT_EXPECT_CLI(zero, 2, "z.json", "not a regular file");

    /* A manifest naming a link to a file outside the folder. */
    snprintf(dir, sizeof dir, "%s/hostile-link", pgt_tmpdir());
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/out.m", dir);
    assert_int_equal(symlink(case_path("case9"), p), 0);
    snprintf(p, sizeof p, "%s/manifest.json", dir);
    pgt_write(p, "{\"format\": \"plurigrid-worlds/1\", \"worlds\": [{\"id\": \"x\", \"file\": "
                 "\"out.m\"}]}\n");
    const char *link[] = {"study", "pf", "--worlds", dir, NULL};
    PGT_EXPECT_CLI(link, 2, "out.m", "leads out of the folder");
    /* Without the manifest: the same. */
    assert_int_equal(unlink(p), 0);
    PGT_EXPECT_CLI(link, 2, "out.m", "leads out of the folder");
    /* Paths in a manifest: refused before anything is read. */
    const char *bad_files[] = {"../../../../etc/passwd", "/etc/passwd", "..", ""};
    for (size_t i = 0; i < 4; i++) {
        char m[512];
        snprintf(m, sizeof m, "{\"worlds\": [{\"id\": \"x\", \"file\": \"%s\"}]}\n", bad_files[i]);
        pgt_write(p, m);
        PGT_EXPECT_CLI(link, 2, "manifest.json", "names a file of the folder");
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(folder_with_a_bad_world),
        cmocka_unit_test(same_bytes),
        cmocka_unit_test(series),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(hostile_folders),
        cmocka_unit_test(outage_names),
        cmocka_unit_test(huge_numbers),
        cmocka_unit_test(svg_and_unconverged),
    };
    return cmocka_run_group_tests(tests, NULL, pgt_teardown_tmpdir);
}
