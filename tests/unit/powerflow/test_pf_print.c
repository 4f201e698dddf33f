/* The power-flow printers (pg_pf_result_text, pg_pf_result_json): the JSON carries the solution
 * at round-trip precision, so a program that reads it can recompute every branch flow from the
 * voltages and the branch data to 1e-9; numbers a diverged power flow leaves are null in JSON and
 * "diverged" in the report, never inf or nan; names of any bytes give valid JSON; running out of
 * memory is an error, never a crash or a leak. */
#include "harness.h"

#include <complex.h>
#include <ctype.h>
#include <jansson.h>
#include <limits.h>

#include "plurigrid/io.h"
#include "plurigrid/pf.h"

static pg_world *
read_case(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "matpower/cases/%s.m", name);
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_read(pgt_data_path(rel), NULL, &w, NULL, &err), PG_OK);
    return w;
}

static json_t *
parse(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    if (!v)
        fail_msg("not JSON: %s (line %d)", je.text, je.line);
    return v;
}

static double
num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("'%s' is not a number", key);
    return json_number_value(v);
}

/* |a - b| <= 1e-9 relative, with 1e-9 MW as the floor for flows near zero. */
static void
close_rel(double a, double b, const char *what, size_t l)
{
    double tol = 1e-9 * fmax(fabs(b), 1.0);
    if (!(fabs(a - b) <= tol))
        fail_msg("branch %zu %s: recomputed %.17g, JSON %.17g", l, what, a, b);
}

/* MATPOWER's branch model: a pi section (r + jx, charging b split between the ends) behind an
 * ideal transformer of ratio tap * exp(j shift) at the from end. */
static void
test_flows_from_json_voltages(void **state)
{
    (void)state;
    pg_world *w = read_case("case118");
    pg_pf_result *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_solve(w, NULL, &r, &err), PG_OK);
    assert_true(r->converged);
    char *text = NULL;
    assert_int_equal(pg_pf_result_json(w, r, &text, &err), PG_OK);
    json_t *doc = parse(text);
    const json_t *buses = json_object_get(doc, "buses"),
                 *branches = json_object_get(doc, "branches");
    assert_int_equal(json_array_size(buses), w->n_buses);
    assert_int_equal(json_array_size(branches), w->n_branches);
    double complex *v = calloc(w->n_buses, sizeof *v);
    assert_non_null(v);
    for (size_t b = 0; b < w->n_buses; b++) {
        const json_t *o = json_array_get(buses, b);
        double vm = num(o, "vm_pu"), va = num(o, "va_deg");
        /* round-trip precision: the very doubles the solver computed */
        assert_true(vm == r->vm[b]);
        assert_true(va == r->va[b]);
        v[b] = vm * cexp(I * va * M_PI / 180);
    }
    size_t checked = 0;
    for (size_t l = 0; l < w->n_branches; l++) {
        const pg_branch *br = &w->branches[l];
        const json_t *o = json_array_get(branches, l);
        if (!br->in_service)
            continue;
        double complex ys = 1 / (br->r + I * br->x);
        double tap = br->tap != 0 ? br->tap : 1;
        double complex t = tap * cexp(I * br->shift * M_PI / 180);
        double complex ytt = ys + I * br->b / 2, yff = ytt / (tap * tap);
        double complex yft = -ys / conj(t), ytf = -ys / t;
        double complex vf = v[br->from], vt = v[br->to];
        double complex sf = vf * conj(yff * vf + yft * vt) * w->base_mva;
        double complex st = vt * conj(ytf * vf + ytt * vt) * w->base_mva;
        close_rel(creal(sf), num(o, "pf_mw"), "P from", l);
        close_rel(cimag(sf), num(o, "qf_mvar"), "Q from", l);
        close_rel(creal(st), num(o, "pt_mw"), "P to", l);
        close_rel(cimag(st), num(o, "qt_mvar"), "Q to", l);
        checked++;
    }
    assert_true(checked > 150);
    free(v);
    json_decref(doc);
    free(text);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* True when text holds "inf" or "nan" as printf writes them (a word of its own). */
static bool
has_non_finite(const char *text)
{
    static const char *const words[] = {"inf", "nan"};
    for (int k = 0; k < 2; k++)
        for (const char *p = strstr(text, words[k]); p; p = strstr(p + 1, words[k])) {
            bool start = p == text || !isalpha((unsigned char)p[-1]);
            bool end = !isalpha((unsigned char)p[3]);
            if (start && end)
                return true;
        }
    return false;
}

/* A power flow that diverged leaves numbers that are not finite: the report says "diverged",
 * the JSON says null, neither prints inf or nan. */
static void
test_diverged_numbers(void **state)
{
    (void)state;
    pg_world *w = read_case("case9");
    pg_pf_result *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_solve(w, NULL, &r, &err), PG_OK);
    r->converged = r->all_solved = false;
    r->max_mismatch = NAN;
    r->vm[4] = NAN;
    r->va[5] = -INFINITY;
    r->pf[0] = INFINITY;
    r->qt[2] = -NAN;
    r->qg[1] = NAN;
    r->gen_q = NAN;
    r->loss_p = INFINITY;
    r->islands[0].load_mw = NAN;
    char *text = NULL, *json = NULL;
    assert_int_equal(pg_pf_result_text(w, r, &text, &err), PG_OK);
    if (has_non_finite(text))
        fail_msg("the report prints inf or nan:\n%s", text);
    assert_non_null(strstr(text, "DID NOT CONVERGE"));
    assert_non_null(strstr(text, "diverged"));
    assert_non_null(strstr(text, "not a solution"));
    assert_int_equal(pg_pf_result_json(w, r, &json, &err), PG_OK);
    assert_false(has_non_finite(json));
    json_t *doc = parse(json);
    assert_true(json_is_null(json_object_get(doc, "max_mismatch_pu")));
    assert_true(
        json_is_null(json_object_get(json_array_get(json_object_get(doc, "buses"), 4), "vm_pu")));
    assert_true(
        json_is_null(json_object_get(json_array_get(json_object_get(doc, "buses"), 5), "va_deg")));
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(doc, "branches"), 0), "pf_mw")));
    assert_true(json_is_null(json_object_get(json_object_get(doc, "totals"), "loss_mw")));
    assert_true(json_is_false(json_object_get(doc, "converged")));
    json_decref(doc);
    free(text);
    free(json);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* Reactive limits MATPOWER writes as Inf (case2383wp) are capacities without a limit, not
 * numbers a diverged power flow left: the report says "unlimited", never "diverged". */
static void
test_unlimited_capacity(void **state)
{
    (void)state;
    pg_world *w = read_case("case9");
    w->thermals[0].qmax = INFINITY;
    w->thermals[1].qmin = -INFINITY;
    pg_pf_result *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_solve(w, NULL, &r, &err), PG_OK);
    assert_true(r->converged);
    char *text = NULL;
    assert_int_equal(pg_pf_result_text(w, r, &text, &err), PG_OK);
    if (strstr(text, "diverged") || has_non_finite(text))
        fail_msg("unlimited capacity printed as a diverged number:\n%s", text);
    assert_non_null(strstr(text, "unlimited to unlimited"));
    free(text);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* Names with quotes, backslashes, control characters and bytes that are not UTF-8 give valid
 * JSON; the names read back (invalid bytes as U+FFFD). */
static void
test_names_escaped(void **state)
{
    (void)state;
    pg_world *w = read_case("case9");
    free(w->buses[0].name);
    w->buses[0].name = strdup("a \"quoted\" \\ name\twith\nbreaks");
    free(w->branches[0].name);
    w->branches[0].name = strdup("bad \xff\xfe bytes \xc3\xa9");
    pg_pf_result *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_solve(w, NULL, &r, &err), PG_OK);
    char *json = NULL;
    assert_int_equal(pg_pf_result_json(w, r, &json, &err), PG_OK);
    json_t *doc = parse(json);
    const json_t *bus = json_array_get(json_object_get(doc, "buses"), 0);
    assert_string_equal(json_string_value(json_object_get(bus, "name")),
                        "a \"quoted\" \\ name\twith\nbreaks");
    const json_t *br = json_array_get(json_object_get(doc, "branches"), 0);
    assert_string_equal(json_string_value(json_object_get(br, "name")),
                        "bad \xef\xbf\xbd\xef\xbf\xbd bytes \xc3\xa9");
    assert_string_equal(json_string_value(json_object_get(br, "from")),
                        "a \"quoted\" \\ name\twith\nbreaks");
    json_decref(doc);
    free(json);
    pg_pf_result_free(r);
    pg_world_free(w);
}

/* Each allocation of either printer may fail: PG_ENOMEM, nothing written, nothing leaked. */
static void
test_allocation_failures(void **state)
{
    (void)state;
    pg_world *w = read_case("case9");
    pg_pf_result *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_solve(w, NULL, &r, &err), PG_OK);
    int (*printers[])(const pg_world *, const pg_pf_result *, char **,
                      pg_error *) = {pg_pf_result_text, pg_pf_result_json};
    for (int k = 0; k < 2; k++) {
        char *text = NULL;
        pgt_alloc_fail_after(LONG_MAX);
        assert_int_equal(printers[k](w, r, &text, &err), PG_OK);
        long n = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        free(text);
        assert_true(n > 0);
        long failed = 0;
        for (long i = 0; i < n; i++) {
            text = NULL;
            pgt_alloc_fail_after(i);
            int rc = printers[k](w, r, &text, &err);
            pgt_alloc_fail_after(-1);
            if (rc == PG_OK) { /* an allocation whose failure the printer recovers from */
                free(text);
                continue;
            }
            assert_int_equal(rc, PG_ENOMEM);
            assert_null(text);
            failed++;
        }
        assert_true(failed > 0);
    }
    /* a result of another world is refused */
    pg_world *w14 = read_case("case14");
    char *text = NULL;
    assert_int_equal(pg_pf_result_text(w14, r, &text, &err), PG_EINVAL);
    assert_int_equal(pg_pf_result_json(w14, r, &text, &err), PG_EINVAL);
    assert_null(text);
    pg_world_free(w14);
    pg_pf_result_free(r);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flows_from_json_voltages), cmocka_unit_test(test_diverged_numbers),
        cmocka_unit_test(test_unlimited_capacity),       cmocka_unit_test(test_names_escaped),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
