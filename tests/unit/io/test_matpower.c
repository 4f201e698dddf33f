/* The MATPOWER reader and writer: every reference case reads with the counts its README gives and
 * the values its file holds; writing and reading back gives the same world; the MATLAB syntax
 * real case files use is understood (with a byte order mark, CR or CR LF line ends); malformed
 * or hostile input (NUL bytes, a field assigned twice, huge numbers) gives an error that names
 * the place. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "plurigrid/io.h"

typedef struct case_info {
    const char *name;
    size_t buses, gens, branches;
} case_info;

/* From the table in the data folder's README. */
static const case_info cases[] = {
    {"case9", 9, 3, 9},
    {"case14", 14, 5, 20},
    {"case30", 30, 6, 41},
    {"case57", 57, 7, 80},
    {"case118", 118, 54, 186},
    {"case300", 300, 69, 411},
    {"case2383wp", 2383, 327, 2896},
};

static pg_world *
read_case(const char *name, pg_notes *notes)
{
    char rel[128];
    snprintf(rel, sizeof rel, "matpower/cases/%s.m", name);
    pg_world *w = NULL;
    pg_error err = {0};
    int rc = pg_matpower_read_file(pgt_data_path(rel), &w, notes, &err);
    if (rc) {
        char buf[1400];
        print_error("%s\n", pg_error_format(&err, buf, sizeof buf));
    }
    assert_int_equal(rc, PG_OK);
    assert_non_null(w);
    return w;
}

static pg_world *
read_text(const char *text, pg_error *err, int expect)
{
    pg_world *w = NULL;
    pg_error_clear(err);
    int rc = pg_matpower_read_buffer(text, strlen(text), "t.m", &w, NULL, err);
    if (rc != expect) {
        char buf[1400];
        print_error("rc %d (%s): %s\n", rc, pg_strerror(rc), pg_error_format(err, buf, sizeof buf));
    }
    assert_int_equal(rc, expect);
    if (rc)
        assert_null(w);
    return w;
}

static void
test_every_case_reads_with_its_counts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pg_notes notes = {0};
        pg_world *w = read_case(cases[i].name, &notes);
        assert_string_equal(w->name, cases[i].name);
        assert_int_equal(w->n_buses, cases[i].buses);
        assert_int_equal(w->n_thermals, cases[i].gens);
        assert_int_equal(w->n_branches, cases[i].branches);
        assert_near(w->base_mva, 100.0, 0);
        for (size_t k = 0; k < w->n_thermals; k++) {
            assert_true(w->thermals[k].in_service);
            assert_int_equal(w->thermals[k].cost.model, PG_COST_POLYNOMIAL);
            assert_int_equal(w->thermals[k].cost.n, 3);
        }
        for (size_t k = 0; k < w->n_branches; k++)
            assert_true(w->branches[k].in_service);
        size_t refs = 0;
        for (size_t k = 0; k < w->n_buses; k++)
            refs += w->buses[k].type == PG_BUS_REF;
        assert_int_equal(refs, 1);
        pg_error err = {0};
        int rc = pg_world_validate(w, &err);
        if (rc)
            print_error("%s: %s\n", cases[i].name, err.msg);
        assert_int_equal(rc, PG_OK);
        pg_notes_clear(&notes);
        pg_world_free(w);
    }
}

static void
test_case9_values(void **state)
{
    (void)state;
    pg_world *w = read_case("case9", NULL);
    assert_non_null(w->description);
    assert_true(strncmp(w->description, "CASE9    Power flow data for 9 bus", 34) == 0);
    /* bus 5: 90 MW, 30 MVAr load; bus 1 is the reference at 345 kV */
    assert_int_equal(w->buses[0].type, PG_BUS_REF);
    assert_near(w->buses[0].base_kv, 345, 0);
    assert_string_equal(w->buses[4].name, "5");
    assert_int_equal(w->n_loads, 3);
    assert_string_equal(w->loads[0].name, "load 5");
    assert_int_equal(w->loads[0].bus, 4);
    assert_near(w->loads[0].p, 90, 0);
    assert_near(w->loads[0].q, 30, 0);
    assert_near(w->loads[2].p, 125, 0);
    /* gen 2: 2 163 6.54 300 -300 1.025 100 1 300 10 */
    const pg_thermal *g = &w->thermals[1];
    assert_int_equal(g->bus, 1);
    assert_near(g->p, 163, 0);
    assert_near(g->q, 6.54, 0);
    assert_near(g->qmax, 300, 0);
    assert_near(g->qmin, -300, 0);
    assert_near(g->vg, 1.025, 0);
    assert_near(g->pmax, 300, 0);
    assert_near(g->pmin, 10, 0);
    /* gencost row 2: 2 2000 0 3 0.085 1.2 600 -> ascending 600 + 1.2 P + 0.085 P^2 */
    assert_near(g->startup_cost, 2000, 0);
    assert_near(g->cost.coef[0], 600, 0);
    assert_near(g->cost.coef[1], 1.2, 0);
    assert_near(g->cost.coef[2], 0.085, 0);
    /* branch 2: 4 5 0.017 0.092 0.158 250 250 250 0 0 1 -360 360 (a line) */
    const pg_branch *br = &w->branches[1];
    assert_int_equal(br->from, 3);
    assert_int_equal(br->to, 4);
    assert_near(br->r, 0.017, 0);
    assert_near(br->x, 0.092, 0);
    assert_near(br->b, 0.158, 0);
    assert_near(br->rate_a, 250, 0);
    assert_int_equal(br->kind, PG_BRANCH_LINE);
    assert_near(br->tap, 1, 0);
    assert_near(br->angmin, -360, 0);
    pg_world_free(w);
}

static void
test_case_specific_values(void **state)
{
    (void)state;
    pg_world *w = read_case("case14", NULL);
    /* case14 names its buses: 'Bus 1     HV' ... */
    assert_string_equal(w->buses[0].name, "Bus 1     HV");
    assert_int_equal(w->buses[0].number, 1);
    /* branch 8: 4 7 0 0.20912 0 ... 0.978 0 1 -> a transformer */
    assert_int_equal(w->branches[7].kind, PG_BRANCH_TRANSFORMER);
    assert_near(w->branches[7].tap, 0.978, 0);
    assert_near(w->branches[7].x, 0.20912, 0);
    /* bus 9 has a 19 MVAr shunt */
    assert_near(w->buses[8].bs, 19, 0);
    pg_world_free(w);

    w = read_case("case2383wp", NULL);
    /* Qmax/Qmin Inf/-Inf are kept as infinities */
    size_t inf = 0;
    for (size_t k = 0; k < w->n_thermals; k++)
        inf += isinf(w->thermals[k].qmax) && w->thermals[k].qmax > 0 &&
               isinf(w->thermals[k].qmin) && w->thermals[k].qmin < 0;
    assert_true(inf > 0);
    /* the phase shifters corrected in 2018 are transformers with a shift */
    size_t shifters = 0;
    for (size_t k = 0; k < w->n_branches; k++)
        shifters += w->branches[k].shift != 0 && w->branches[k].kind == PG_BRANCH_TRANSFORMER;
    assert_true(shifters > 0);
    pg_world_free(w);

    w = read_case("case118", NULL);
    /* case118 keeps the two tap-1.0 transformers as transformers */
    size_t tap1 = 0;
    for (size_t k = 0; k < w->n_branches; k++)
        tap1 += w->branches[k].kind == PG_BRANCH_TRANSFORMER && w->branches[k].tap == 1.0;
    assert_true(tap1 >= 2);
    pg_world_free(w);
}

static void
test_write_read_is_exact_for_every_case(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pg_world *w = read_case(cases[i].name, NULL);
        char *text = NULL;
        size_t len = 0;
        pg_error err = {0};
        pg_notes notes = {0};
        assert_int_equal(pg_matpower_write_buffer(w, &text, &len, &notes, &err), PG_OK);
        assert_int_equal(notes.n, 0); /* nothing lost */
        assert_int_equal(strlen(text), len);
        pg_world *r = NULL;
        int rc = pg_matpower_read_buffer(text, len, "written.m", &r, NULL, &err);
        if (rc)
            print_error("%s: %s (line %d)\n", cases[i].name, err.msg, err.line);
        assert_int_equal(rc, PG_OK);
        char diff[512];
        bool eq = pg_world_equal(w, r, diff, sizeof diff);
        if (!eq)
            print_error("%s: %s\n", cases[i].name, diff);
        assert_true(eq);
        /* and writing again gives the same text */
        char *text2 = NULL;
        assert_int_equal(pg_matpower_write_buffer(r, &text2, NULL, NULL, &err), PG_OK);
        assert_string_equal(text, text2);
        free(text);
        free(text2);
        pg_world_free(r);
        pg_world_free(w);
    }
}

static void
test_write_file_and_read_file(void **state)
{
    (void)state;
    pg_world *w = read_case("case30", NULL);
    char path[4200];
    snprintf(path, sizeof path, "%s/case30.m", pgt_tmpdir()); /* named after its file */
    pg_error err = {0};
    assert_int_equal(pg_matpower_write_file(w, path, NULL, &err), PG_OK);
    pg_world *r = NULL;
    assert_int_equal(pg_matpower_read_file(path, &r, NULL, &err), PG_OK);
    assert_true(pg_world_equal(w, r, NULL, 0));
    pg_world_free(r);
    /* Written under another file name, the case function takes that name (as MATPOWER's savecase
     * does), so MATLAB finds it by its file name. */
    snprintf(path, sizeof path, "%s/my-grid.m", pgt_tmpdir());
    assert_int_equal(pg_matpower_write_file(w, path, NULL, &err), PG_OK);
    char *text = pgt_slurp(path, NULL);
    assert_non_null(strstr(text, "function mpc = my_grid\n"));
    free(text);
    pg_world_free(w);
    assert_int_equal(pg_matpower_read_file("/nonexistent/x.m", &r, NULL, &err), PG_EIO);
    assert_non_null(strstr(err.file, "/nonexistent/x.m"));
    pgt_tmpdir_cleanup();
}

/* A small case written the many ways MATLAB allows. */
static const char *syntax_case =
    "function mpc = tricky()\n"
    "%TRICKY a case that uses the syntax real files use\n"
    "%  second help line\n"
    "\n"
    "%{\n"
    "a block comment: mpc.bus = [ this is not data\n"
    "%}\n"
    "mpc.version = \"2\";   # Octave comment\n"
    "mpc.baseMVA = 1e2;\n"
    "mpc.bus = [ 1, 3, 0, 0, 0, 0, 1, 1.06, 0, 135, 1, 1.1, 0.9  % slack\n"
    "  2 1 -2.17e1 +12.7 0 19 1 1 -4.98 135 1 1.1 .9;   3 2 10 ...  a continuation\n"
    "      5 0 0 1 1.01 0 135 1 1.1 0.9\n"
    "\n"
    "];\n"
    "mpc.gen = [\n"
    "\t1\t232.4\t-16.9\tInf\t-Inf\t1.06\t100\t1\t332.4\t0\t0\t0\t0\t0\t0\t0\t0\t0\t15\t0\t0;\n"
    "\t3\t40\t42.4\t50\t-40\t1.045\t100\t0\t140\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0;\n"
    "];\n"
    "mpc.branch = [\n"
    "1 2 0.01938 0.05917 0.0528 0 0 0 0 0 1 -360 360;\n"
    "2 3 0 0.2 0 9900 0 0 0.978 0 1 -360 360;\n"
    "1 3 0.01 0.1 0 0 0 0 0 -3 0 -30 30;\n"
    "];\n"
    "mpc.gencost = [\n"
    "  2 0 0 3 0.0430293 20 0 0;\n"
    "  1 100 50 2 0 0 140 2800;\n"
    "];\n"
    "mpc.areas = [1 5];\n"
    "mpc.gentype = {'ST'; 'NG'};\n"
    "mpc.bus_name = { 'One'; 'It''s two'\n 'three' };\n"
    "mpc.reserves.zones = [1 1];\n"
    "mpc.dcline = [];\n"
    "end\n";

static void
test_matlab_syntax(void **state)
{
    (void)state;
    pg_world *w = NULL;
    pg_error err = {0};
    pg_notes notes = {0};
    int rc =
        pg_matpower_read_buffer(syntax_case, strlen(syntax_case), "tricky.m", &w, &notes, &err);
    if (rc)
        print_error("%s line %d path %s\n", err.msg, err.line, err.path);
    assert_int_equal(rc, PG_OK);
    assert_string_equal(w->name, "tricky");
    assert_string_equal(w->description, "TRICKY a case that uses the syntax real files use\n"
                                        "  second help line");
    assert_int_equal(w->n_buses, 3);
    assert_string_equal(w->buses[1].name, "It's two");
    assert_near(w->buses[0].vm, 1.06, 0);
    assert_near(w->buses[1].vmin, 0.9, 0);
    assert_near(w->buses[1].bs, 19, 0);
    assert_near(w->buses[1].va, -4.98, 0);
    assert_near(w->buses[2].vm, 1.01, 0);
    assert_int_equal(w->n_loads, 2);
    assert_near(w->loads[0].p, -21.7, 1e-15);
    assert_near(w->loads[0].q, 12.7, 0);
    assert_near(w->loads[1].p, 10, 0);
    assert_near(w->loads[1].q, 5, 0);
    assert_true(isinf(w->thermals[0].qmax) && w->thermals[0].qmax > 0);
    assert_true(isinf(w->thermals[0].qmin) && w->thermals[0].qmin < 0);
    assert_near(w->thermals[0].ramp_up, 30, 0);
    assert_false(w->thermals[1].in_service);
    assert_int_equal(w->thermals[0].cost.model, PG_COST_POLYNOMIAL);
    assert_near(w->thermals[0].cost.coef[2], 0.0430293, 0);
    assert_near(w->thermals[0].cost.coef[1], 20, 0);
    assert_int_equal(w->thermals[1].cost.model, PG_COST_PIECEWISE);
    assert_int_equal(w->thermals[1].cost.n, 2);
    assert_near(w->thermals[1].cost.px[1], 140, 0);
    assert_near(w->thermals[1].cost.py[1], 2800, 0);
    assert_near(w->thermals[1].startup_cost, 100, 0);
    assert_near(w->thermals[1].shutdown_cost, 50, 0);
    assert_int_equal(w->branches[0].kind, PG_BRANCH_LINE);
    assert_int_equal(w->branches[1].kind, PG_BRANCH_TRANSFORMER);
    assert_near(w->branches[1].tap, 0.978, 0);
    assert_int_equal(w->branches[2].kind, PG_BRANCH_TRANSFORMER); /* shift only */
    assert_near(w->branches[2].tap, 1, 0);
    assert_near(w->branches[2].shift, -3, 0);
    assert_false(w->branches[2].in_service);
    assert_near(w->branches[2].angmin, -30, 0);
    /* ignored fields are reported */
    bool areas = false, gentype = false, reserves = false, dcline = false;
    for (size_t i = 0; i < notes.n; i++) {
        areas |= strstr(notes.items[i], "mpc.areas") != NULL;
        gentype |= strstr(notes.items[i], "mpc.gentype") != NULL;
        reserves |= strstr(notes.items[i], "mpc.reserves.zones") != NULL;
        dcline |= strstr(notes.items[i], "mpc.dcline") != NULL;
    }
    assert_true(areas && gentype && reserves && dcline);
    pg_notes_clear(&notes);

    /* It round-trips through the writer too (names included). */
    char *text = NULL;
    assert_int_equal(pg_matpower_write_buffer(w, &text, NULL, NULL, &err), PG_OK);
    pg_world *r = NULL;
    assert_int_equal(pg_matpower_read_buffer(text, strlen(text), "w.m", &r, NULL, &err), PG_OK);
    char diff[256];
    bool eq = pg_world_equal(w, r, diff, sizeof diff);
    if (!eq)
        print_error("%s\n", diff);
    assert_true(eq);
    free(text);
    pg_world_free(r);
    pg_world_free(w);
}

static void
test_results_columns_and_reactive_costs_are_noted(void **state)
{
    (void)state;
    const char *text = "function mpc = res\nmpc.version = '2';\nmpc.baseMVA = 100;\n"
                       "mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9 10 0 0 0;\n"
                       "           2 1 5 1 0 0 1 1 0 135 1 1.1 0.9 11 0 0 0];\n"
                       "mpc.gen = [1 5 1 10 -10 1 100 1 10 0];\n"
                       "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360 5 1 -5 -1];\n"
                       "mpc.gencost = [2 0 0 2 10 0; 2 0 0 2 1 0];\n";
    pg_world *w = NULL;
    pg_error err = {0};
    pg_notes notes = {0};
    assert_int_equal(pg_matpower_read_buffer(text, strlen(text), "r.m", &w, &notes, &err), PG_OK);
    bool bus = false, br = false, q = false;
    for (size_t i = 0; i < notes.n; i++) {
        bus |= strstr(notes.items[i], "mpc.bus columns 14-17") != NULL;
        br |= strstr(notes.items[i], "mpc.branch columns 14-17") != NULL;
        q |= strstr(notes.items[i], "reactive power costs") != NULL;
    }
    assert_true(bus && br && q);
    assert_near(w->thermals[0].cost.coef[1], 10, 0);
    pg_notes_clear(&notes);
    pg_world_free(w);
}

/* --------------------------------------------------------------- errors */

static const char *head = "function mpc = bad\nmpc.version = '2';\nmpc.baseMVA = 100;\n";

static char *
with_head(const char *rest)
{
    size_t n = strlen(head) + strlen(rest) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%s", head, rest);
    return s;
}

static const char *good_tail = "mpc.gen = [1 0 0 10 -10 1 100 1 10 0];\n"
                               "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360];\n";

static void
expect_error(const char *rest, int code, int line, const char *path_part, const char *msg_part)
{
    char *text = with_head(rest);
    pg_error err = {0};
    read_text(text, &err, code);
    assert_string_equal(err.file, "t.m");
    if (line != err.line)
        print_error("expected line %d, got %d (%s)\n", line, err.line, err.msg);
    assert_int_equal(err.line, line);
    if (path_part && !strstr(err.path, path_part))
        print_error("path '%s' lacks '%s'\n", err.path, path_part);
    if (path_part)
        assert_non_null(strstr(err.path, path_part));
    if (!strstr(err.msg, msg_part))
        print_error("message '%s' lacks '%s'\n", err.msg, msg_part);
    assert_non_null(strstr(err.msg, msg_part));
    free(text);
}

static void
test_empty_file(void **state)
{
    (void)state;
    pg_error err = {0};
    read_text("", &err, PG_EPARSE);
    assert_non_null(strstr(err.msg, "empty"));
    assert_string_equal(err.file, "t.m");
    read_text("  \n\t\n", &err, PG_EPARSE);
    assert_non_null(strstr(err.msg, "empty"));
    read_text("% only a comment\n", &err, PG_EPARSE);
    assert_non_null(strstr(err.msg, "there is no mpc.bus"));
}

static void
test_truncated_matrix(void **state)
{
    (void)state;
    expect_error("mpc.bus = [\n1 3 0 0 0 0 1 1 0 135 1 1.1 0.9;\n2 1 0 0 0", PG_EPARSE, 4,
                 "mpc.bus", "never closed");
    expect_error("mpc.bus = [\n1 3 0 0 0 0 1 1 0 135 1 1.1 0.9;\n", PG_EPARSE, 4, "mpc.bus",
                 "never closed");
    expect_error("mpc.bus = [\n1 3 0 0 0 0 1 1 0 135 1 1.1 0.9;\nmpc.gen = [1 2];\n", PG_EPARSE, 6,
                 "mpc.bus row 2", "'];' missing");
}

static void
test_wrong_column_count(void **state)
{
    (void)state;
    char rest[1024];
    snprintf(rest, sizeof rest,
             "mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1; 2 1 0 0 0 0 1 1 0 135 1 "
             "1.1];\n%s",
             good_tail);
    expect_error(rest, PG_EPARSE, 4, "mpc.bus", "has 12 columns");
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
                 "mpc.gen = [1 0 0 10 -10 1 100 1 10 0];\n"
                 "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360;\n"
                 "  2 1 0 0.1 0 0 0 0 0 0 1 -360];\n",
                 PG_EPARSE, 7, "mpc.branch row 2", "row 2 has 12 values");
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
                 "mpc.gen = [1 0 0 10 -10 1 100 1 10];\n"
                 "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360];\n",
                 PG_EPARSE, 5, "mpc.gen", "has 9 columns");
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
                 "mpc.gen = [1 0 0 10 -10 1 100 1 10 0];\n"
                 "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360];\n"
                 "mpc.gencost = [2 0 0 3 1 2];\n",
                 PG_EPARSE, 7, "mpc.gencost row 1, column 4 (NCOST)", "NCOST = 3 needs 7");
}

static void
test_unknown_and_duplicate_bus(void **state)
{
    (void)state;
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
                 "mpc.gen = [7 0 0 10 -10 1 100 1 10 0];\n"
                 "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360];\n",
                 PG_EMODEL, 5, "mpc.gen row 1, column 1 (GEN_BUS)", "bus 7");
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
                 "mpc.gen = [1 0 0 10 -10 1 100 1 10 0];\n"
                 "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360;\n"
                 "   1 2 0 0.1 0 0 0 0 0 0 1 -360 360\n"
                 "   2 9 0 0.1 0 0 0 0 0 0 1 -360 360];\n",
                 PG_EMODEL, 8, "mpc.branch row 3, column 2 (T_BUS)", "bus 9");
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9\n"
                 " 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9\n"
                 " 1 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
                 "mpc.gen = [1 0 0 10 -10 1 100 1 10 0];\n"
                 "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360];\n",
                 PG_EMODEL, 6, "mpc.bus row 3, column 1 (BUS_I)", "bus number 1 is used twice");
}

static void
test_nan_inf(void **state)
{
    (void)state;
    char rest[1024];
    snprintf(rest, sizeof rest,
             "mpc.bus = [1 3 0 0 0 0 1 NaN 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n%s",
             good_tail);
    expect_error(rest, PG_EPARSE, 4, "mpc.bus row 1, column 8 (VM)", "NaN is not allowed");
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
                 "mpc.gen = [1 0 0 10 -10 1 100 1 Inf 0];\n"
                 "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360];\n",
                 PG_EPARSE, 5, "mpc.gen row 1, column 9 (PMAX)", "Inf is not allowed");
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
                 "mpc.gen = [1 0 0 10 -10 1 100 1 10 -Inf];\n"
                 "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360];\n",
                 PG_EPARSE, 5, "mpc.gen row 1, column 10 (PMIN)", "-Inf is not allowed");
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
                 "mpc.gen = [1 0 0 10 -10 1 100 1 10 0];\n"
                 "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360];\n"
                 "mpc.gencost = [2 0 0 2 nan 0];\n",
                 PG_EPARSE, 7, "mpc.gencost row 1, column 5", "NaN");
}

static void
test_bad_base_and_version(void **state)
{
    (void)state;
    const char *body = "mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9];\nmpc.gen = [];\n"
                       "mpc.branch = [];\n";
    char text[1024];
    pg_error err = {0};
    snprintf(text, sizeof text, "function mpc = b\nmpc.version = '2';\nmpc.baseMVA = -100;\n%s",
             body);
    read_text(text, &err, PG_EMODEL);
    assert_int_equal(err.line, 3);
    assert_string_equal(err.path, "mpc.baseMVA");
    assert_non_null(strstr(err.msg, "positive"));
    snprintf(text, sizeof text, "function mpc = b\nmpc.version = '2';\nmpc.baseMVA = 0;\n%s", body);
    read_text(text, &err, PG_EMODEL);
    assert_non_null(strstr(err.msg, "positive"));
    snprintf(text, sizeof text, "function mpc = b\nmpc.version = '2';\nmpc.baseMVA = Inf;\n%s",
             body);
    read_text(text, &err, PG_EPARSE);
    snprintf(text, sizeof text, "function mpc = b\nmpc.version = '1';\nmpc.baseMVA = 100;\n%s",
             body);
    read_text(text, &err, PG_EPARSE);
    assert_int_equal(err.line, 2);
    assert_string_equal(err.path, "mpc.version");
    assert_non_null(strstr(err.msg, "version 2"));
    read_text("function [baseMVA, bus, gen, branch] = old\nbaseMVA = 100;\n", &err, PG_EPARSE);
    assert_non_null(strstr(err.msg, "version 1"));
    /* no version line at all: read as version 2 with a note */
    snprintf(text, sizeof text, "function mpc = b\nmpc.baseMVA = 100;\n%s", body);
    pg_world *w = read_text(text, &err, PG_OK);
    assert_int_equal(w->n_buses, 1);
    pg_world_free(w);
}

static void
test_code_and_syntax_errors(void **state)
{
    (void)state;
    expect_error("define_constants;\n", PG_EUNSUPPORTED, 4, NULL, "MATLAB code");
    expect_error("mpc.bus(:, 3) = 0;\n", PG_EUNSUPPORTED, 4, NULL, "savecase");
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9*2];\n", PG_EPARSE, 4, "mpc.bus",
                 "arithmetic");
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9x];\n", PG_EPARSE, 4, NULL,
                 "not a number");
    expect_error("mpc.bus = [1 3 'a'];\n", PG_EPARSE, 4, "mpc.bus", "numeric matrix");
    expect_error("mpc.bus_name = {'a';\n", PG_EPARSE, 4, "mpc.bus_name", "never closed");
    expect_error("mpc.gentype = {'a';\n", PG_EPARSE, 4, "mpc.gentype", "never closed");
    expect_error("mpc.x = 'abc\n", PG_EPARSE, 4, NULL, "not closed");
    expect_error("mpc.bus = 7 7;\n", PG_EPARSE, 4, "mpc.bus", "not expressions");
    expect_error("\x01\n", PG_EPARSE, 4, NULL, "0x01");
}

static void
test_gencost_rows(void **state)
{
    (void)state;
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
                 "mpc.gen = [1 0 0 10 -10 1 100 1 10 0];\n"
                 "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360];\n"
                 "mpc.gencost = [2 0 0 2 1 0; 2 0 0 2 1 0; 2 0 0 2 1 0];\n",
                 PG_EMODEL, 7, "mpc.gencost", "3 rows but there are 1 generators");
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
                 "mpc.gen = [1 0 0 10 -10 1 100 1 10 0];\n"
                 "mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360];\n"
                 "mpc.gencost = [3 0 0 2 1 0];\n",
                 PG_EMODEL, 7, "mpc.gencost row 1, column 1 (MODEL)", "cost model 3");
}

/* Text as editors and other systems write it: a UTF-8 byte order mark, classic Mac OS line ends
 * (CR alone) and Windows ones (CR LF) read as the plain file does. */
static void
test_bom_and_line_ends(void **state)
{
    (void)state;
    size_t len = 0;
    char *text = pgt_slurp(pgt_data_path("matpower/cases/case9.m"), &len);
    pg_error err = {0};
    pg_world *plain = NULL, *w = NULL;
    assert_int_equal(pg_matpower_read_buffer(text, len, "case9.m", &plain, NULL, &err), PG_OK);
    char *bom = malloc(len + 3), *mac = malloc(len), *dos = malloc(2 * len);
    assert_true(bom && mac && dos);
    memcpy(bom, "\xef\xbb\xbf", 3);
    memcpy(bom + 3, text, len);
    size_t n_dos = 0;
    for (size_t i = 0; i < len; i++) {
        mac[i] = text[i] == '\n' ? '\r' : text[i];
        if (text[i] == '\n')
            dos[n_dos++] = '\r';
        dos[n_dos++] = text[i];
    }
    const char *variants[] = {bom, mac, dos};
    size_t lens[] = {len + 3, len, n_dos};
    for (size_t v = 0; v < 3; v++) {
        char buf[1400];
        int rc = pg_matpower_read_buffer(variants[v], lens[v], "case9.m", &w, NULL, &err);
        if (rc)
            print_error("variant %zu: %s\n", v, pg_error_format(&err, buf, sizeof buf));
        assert_int_equal(rc, PG_OK);
        char diff[256] = "";
        if (!pg_world_equal(plain, w, diff, sizeof diff))
            print_error("variant %zu: %s\n", v, diff);
        assert_true(pg_world_equal(plain, w, NULL, 0));
        assert_int_equal(w->n_buses, 9);
        pg_world_free(w);
        w = NULL;
    }
    /* A line number in a CR-only file counts its CR line ends. */
    const char *cr_err =
        "function mpc = b\rmpc.version = '2';\rmpc.baseMVA = 100;\rmpc.bus = 7 7;\r";
    read_text(cr_err, &err, PG_EPARSE);
    assert_int_equal(err.line, 4);
    free(bom);
    free(mac);
    free(dos);
    free(text);
    pg_world_free(plain);
}

/* What the reader says about text that is not a case: each message names the problem. */
static void
test_hostile_text(void **state)
{
    (void)state;
    pg_error err = {0};
    /* a function name that starts with a digit */
    read_text("function mpc = 9case\nmpc.version = '2';\n", &err, PG_EPARSE);
    assert_int_equal(err.line, 1);
    assert_non_null(strstr(err.msg, "'9case' is not a function name"));
    /* NUL bytes after a case (a file padded with zeros), and in the middle of one */
    char *text = with_head("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9];\n");
    size_t len = strlen(text);
    char *padded = malloc(len + 100);
    assert_non_null(padded);
    memcpy(padded, text, len);
    memset(padded + len, 0, 100);
    pg_world *w = NULL;
    assert_int_equal(pg_matpower_read_buffer(padded, len + 100, "t.m", &w, NULL, &err), PG_EPARSE);
    assert_null(w);
    assert_int_equal(err.line, 5);
    assert_non_null(strstr(err.msg, "100 NUL bytes"));
    padded[10] = '\0';
    assert_int_equal(pg_matpower_read_buffer(padded, len, "t.m", &w, NULL, &err), PG_EPARSE);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 11);
    assert_non_null(strstr(err.msg, "NUL byte"));
    free(padded);
    free(text);
    /* a byte that is not ASCII where a statement starts (not a byte order mark) */
    expect_error("\xef\n", PG_EPARSE, 4, NULL, "byte 0xef (not ASCII)");
    /* a field assigned twice: both lines named */
    expect_error("mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9];\n"
                 "mpc.gen = [1 0 0 10 -10 1 100 1 10 0];\n"
                 "mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9];\n",
                 PG_EPARSE, 6, "mpc.bus", "assigned twice, on line 4 and again on line 6");
    expect_error("mpc.baseMVA = 10;\n", PG_EPARSE, 4, "mpc.baseMVA", "on line 3 and again");
    /* a system base per-unit arithmetic cannot take */
    double bases[] = {1e-300, 1e-4, 2e6, 1e300};
    for (size_t i = 0; i < sizeof bases / sizeof *bases; i++) {
        char t[512];
        snprintf(t, sizeof t,
                 "function mpc = b\nmpc.version = '2';\nmpc.baseMVA = %g;\n"
                 "mpc.bus = [1 3 0 0 0 0 1 1 0 135 1 1.1 0.9];\nmpc.gen = [];\nmpc.branch = [];\n",
                 bases[i]);
        read_text(t, &err, PG_EMODEL);
        assert_int_equal(err.line, 3);
        assert_non_null(strstr(err.msg, "from 0.001 to 1000000 MVA"));
    }
}

/* Huge finite numbers in every column of every matrix are either read (and then validated or
 * refused with a message, and written back exactly) or refused with a message that names the
 * place; never a crash, an undefined conversion or a NaN. */
static void
test_huge_numbers_everywhere(void **state)
{
    (void)state;
    static const double bus[2][13] = {{1, 3, 5, 1, 0, 0, 1, 1, 0, 135, 1, 1.1, 0.9},
                                      {2, 1, 5, 1, 0, 0, 1, 1, 0, 135, 1, 1.1, 0.9}};
    static const double gen[10] = {1, 5, 0, 10, -10, 1, 100, 1, 50, 0};
    static const double branch[13] = {1, 2, 0.01, 0.1, 0.02, 100, 100, 100, 0, 0, 1, -360, 360};
    static const double gencost[7] = {2, 0, 0, 3, 0.01, 20, 5};
    const double huge[] = {1e300, -1e300, 1e308, -1e308, 1.7976931348623157e308};
    struct {
        const char *name;
        const double *row;
        size_t cols;
    } mats[] = {
        {"bus", bus[0], 13}, {"gen", gen, 10}, {"branch", branch, 13}, {"gencost", gencost, 7}};
    size_t read_ok = 0, refused = 0;
    for (size_t m = 0; m < 4; m++)
        for (size_t c = 0; c < mats[m].cols; c++)
            for (size_t h = 0; h < sizeof huge / sizeof *huge; h++) {
                pgi_buf b = {0};
                pgi_buf_printf(&b, "function mpc = huge\nmpc.version = '2';\nmpc.baseMVA = 100;\n");
                for (size_t k = 0; k < 4; k++) {
                    pgi_buf_printf(&b, "mpc.%s = [", mats[k].name);
                    size_t rows = k == 0 ? 2 : 1;
                    for (size_t r = 0; r < rows; r++) {
                        const double *row = k == 0 ? bus[r] : mats[k].row;
                        for (size_t j = 0; j < mats[k].cols; j++)
                            pgi_buf_printf(&b, " %.17g",
                                           k == m && r == 0 && j == c ? huge[h] : row[j]);
                        pgi_buf_printf(&b, ";");
                    }
                    pgi_buf_printf(&b, "];\n");
                }
                assert_false(b.failed);
                pg_world *w = NULL, *back = NULL;
                pg_error err = {0};
                int rc = pg_matpower_read_buffer(b.data, b.len, "huge.m", &w, NULL, &err);
                if (rc == PG_OK)
                    rc = pg_world_validate(w, &err);
                if (rc != PG_OK) {
                    if (rc != PG_EPARSE && rc != PG_EMODEL)
                        fail_msg("mpc.%s column %zu = %g: status %d", mats[m].name, c + 1, huge[h],
                                 rc);
                    assert_true(err.msg[0] != '\0');
                    assert_null(strstr(err.msg, "nan"));
                    refused++;
                } else {
                    char *text = NULL;
                    size_t len = 0;
                    assert_int_equal(pg_matpower_write_buffer(w, &text, &len, NULL, &err), PG_OK);
                    assert_int_equal(
                        pg_matpower_read_buffer(text, len, "back.m", &back, NULL, &err), PG_OK);
                    assert_true(pg_world_equal(w, back, NULL, 0));
                    free(text);
                    read_ok++;
                }
                pg_world_free(back);
                pg_world_free(w);
                pgi_buf_free(&b);
            }
    assert_true(read_ok > 0 && refused > 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_case_reads_with_its_counts),
        cmocka_unit_test(test_case9_values),
        cmocka_unit_test(test_case_specific_values),
        cmocka_unit_test(test_write_read_is_exact_for_every_case),
        cmocka_unit_test(test_write_file_and_read_file),
        cmocka_unit_test(test_matlab_syntax),
        cmocka_unit_test(test_results_columns_and_reactive_costs_are_noted),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_truncated_matrix),
        cmocka_unit_test(test_wrong_column_count),
        cmocka_unit_test(test_unknown_and_duplicate_bus),
        cmocka_unit_test(test_nan_inf),
        cmocka_unit_test(test_bad_base_and_version),
        cmocka_unit_test(test_code_and_syntax_errors),
        cmocka_unit_test(test_gencost_rows),
        cmocka_unit_test(test_bom_and_line_ends),
        cmocka_unit_test(test_hostile_text),
        cmocka_unit_test(test_huge_numbers_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
