/* The dispatch printers: JSON and CSV carry the very doubles the solvers computed (round-trip
 * precision: a reader gets r's numbers back bit for bit), a number that does not exist is null
 * in JSON, an empty CSV cell and "-" in the tables, never nan; the text reports and the charts
 * of run and opf come from the library; running out of memory is an error, never a crash. */
#include "harness.h"

#include <jansson.h>
#include <limits.h>
#include <sys/stat.h>

#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"

static json_t *
parse(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    if (!v)
        fail_msg("not JSON: %s (line %d)", je.text, je.line);
    return v;
}

/* v is the JSON form of x: null when x is not finite, otherwise exactly x. */
static void
same(const json_t *v, double x, const char *what, size_t i)
{
    if (!isfinite(x)) {
        if (!json_is_null(v))
            fail_msg("%s %zu: %g is not null in JSON", what, i, x);
        return;
    }
    if (!json_is_number(v) || json_number_value(v) != x)
        fail_msg("%s %zu: JSON %.17g, result %.17g", what, i, json_number_value(v), x);
}

static pg_world *
read_world(const char *path)
{
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_world_read(path, NULL, &w, NULL, &err) != PG_OK)
        fail_msg("%s: %s", path, err.msg);
    return w;
}

static void
test_dcopf_json_round_trip(void **state)
{
    (void)state;
    pg_world *w = read_world(pgt_data_path("matpower/cases/case118.m"));
    pg_dcopf_result *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_dcopf_solve(w, NULL, &r, &err), PG_OK);
    char *text = NULL;
    assert_int_equal(pg_dcopf_result_json(w, r, &text, &err), PG_OK);
    json_t *doc = parse(text);
    same(json_object_get(doc, "objective"), r->objective, "objective", 0);
    const json_t *th = json_object_get(doc, "thermal"), *bus = json_object_get(doc, "bus"),
                 *br = json_object_get(doc, "branch");
    assert_int_equal(json_array_size(th), r->n_thermals);
    assert_int_equal(json_array_size(bus), r->n_buses);
    assert_int_equal(json_array_size(br), r->n_branches);
    for (size_t g = 0; g < r->n_thermals; g++)
        same(json_object_get(json_array_get(th, g), "p"), r->pg[g], "p of unit", g);
    for (size_t b = 0; b < r->n_buses; b++) {
        same(json_object_get(json_array_get(bus, b), "angle_deg"), r->va[b], "angle of bus", b);
        same(json_object_get(json_array_get(bus, b), "lmp"), r->lmp[b], "lmp of bus", b);
    }
    for (size_t k = 0; k < r->n_branches; k++) {
        same(json_object_get(json_array_get(br, k), "flow"), r->flow[k], "flow of branch", k);
        same(json_object_get(json_array_get(br, k), "price"), r->branch_price[k], "price", k);
    }
    json_decref(doc);
    free(text);
    assert_int_equal(pg_dcopf_result_text(w, r, &text, &err), PG_OK);
    assert_non_null(strstr(text, "DC optimal power flow of case118: 118 buses"));
    assert_non_null(strstr(text, "Objective function value: "));
    free(text);
    pg_dcopf_result_free(r);
    pg_world_free(w);
}

typedef struct day {
    pg_world *w;
    pg_dispatch_result *r;
    pg_dispatch_ac *ac;
} day;

static day
hello_day(void)
{
    day d = {read_world(pgt_source_path("examples/hello-microworld.json")), NULL, NULL};
    pg_error err = {0};
    assert_int_equal(pg_dispatch_run(d.w, NULL, &d.r, &err), PG_OK);
    assert_int_equal(pg_dispatch_ac_check(d.w, d.r, NULL, &d.ac, &err), PG_OK);
    return d;
}

static void
day_free(day *d)
{
    pg_dispatch_ac_free(d->ac);
    pg_dispatch_result_free(d->r);
    pg_world_free(d->w);
}

/* The price of bus 1 at hour 2 does not exist (as for an isolated bus). */
static void
test_dispatch_json_csv_round_trip(void **state)
{
    (void)state;
    day d = hello_day();
    const pg_dispatch_result *r = d.r;
    size_t T = r->n_steps, nb = r->n_buses, ng = r->n_thermals;
    d.r->lmp[2 * nb + 1] = NAN;
    pg_error err = {0};
    char *text = NULL;
    assert_int_equal(pg_dispatch_result_json(d.w, r, d.ac, &text, &err), PG_OK);
    json_t *doc = parse(text);
    assert_int_equal(json_integer_value(json_object_get(doc, "steps")), (json_int_t)T);
    for (size_t g = 0; g < ng; g++) {
        const json_t *p = json_object_get(json_array_get(json_object_get(doc, "thermal"), g), "p");
        assert_int_equal(json_array_size(p), T);
        for (size_t t = 0; t < T; t++)
            same(json_array_get(p, t), r->thermal_p[t * ng + g], "thermal p at step", t);
    }
    for (size_t b = 0; b < nb; b++) {
        const json_t *o = json_array_get(json_object_get(doc, "bus"), b);
        for (size_t t = 0; t < T; t++) {
            same(json_array_get(json_object_get(o, "lmp"), t), r->lmp[t * nb + b], "lmp", t);
            same(json_array_get(json_object_get(o, "demand"), t), r->bus_demand[t * nb + b],
                 "demand", t);
        }
    }
    const json_t *ac = json_object_get(doc, "ac");
    for (size_t t = 0; t < T; t++)
        same(json_array_get(json_object_get(ac, "losses_mw"), t), d.ac->steps[t].losses_mw,
             "AC losses at step", t);
    same(json_object_get(json_object_get(doc, "totals"), "cost"), r->total_cost, "cost", 0);
    json_decref(doc);
    free(text);

    /* CSV: every thermal p and bus lmp reads back exactly; the missing price is an empty cell */
    assert_int_equal(pg_dispatch_result_csv(d.w, r, d.ac, &text, &err), PG_OK);
    size_t seen = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char kind[32], name[64], q[32];
        size_t t;
        double hour;
        int used = 0;
        if (sscanf(line, "%zu,%lf,%31[^,],%63[^,],%31[^,],%n", &t, &hour, kind, name, q, &used) <
                5 ||
            !used)
            continue;
        const char *val = line + used;
        if (strcmp(kind, "thermal") == 0 && strcmp(q, "p") == 0) {
            size_t g = 0;
            while (g < ng && strcmp(d.w->thermals[g].name, name) != 0)
                g++;
            assert_true(g < ng);
            assert_true(strtod(val, NULL) == r->thermal_p[t * ng + g]);
            seen++;
        } else if (strcmp(kind, "bus") == 0 && strcmp(q, "lmp") == 0) {
            size_t b = 0;
            while (b < nb && strcmp(d.w->buses[b].name, name) != 0)
                b++;
            assert_true(b < nb);
            if (isfinite(r->lmp[t * nb + b]))
                assert_true(strtod(val, NULL) == r->lmp[t * nb + b]);
            else
                assert_string_equal(val, "");
            seen++;
        }
    }
    assert_int_equal(seen, T * (ng + nb));
    free(text);

    /* the tables show the missing price as "-", never nan */
    assert_int_equal(pg_dispatch_result_text(d.w, r, d.ac, &text, &err), PG_OK);
    assert_non_null(strstr(text, "Schedule (MW;"));
    assert_non_null(strstr(text, "Prices ($/MWh)"));
    assert_non_null(strstr(text, "Total cost "));
    assert_non_null(strstr(text, "AC check: 24 of 24 steps solved"));
    assert_non_null(strstr(text, "\n     2      30.00          -      30.00"));
    assert_null(strstr(text, "nan"));
    free(text);
    day_free(&d);
}

static void
test_plots(void **state)
{
    (void)state;
    day d = hello_day();
    pg_error err = {0};
    pg_plot *p = NULL;
    char *svg = NULL;
    size_t len = 0;
    assert_int_equal(pg_dispatch_plot(&p, d.w, d.r, PG_DISPATCH_CHART_SCHEDULE, &err), PG_OK);
    assert_int_equal(pg_plot_render(p, &svg, &len, &err), PG_OK);
    assert_non_null(strstr(svg, "dispatch by unit"));
    assert_non_null(strstr(svg, "diesel_gen"));
    assert_non_null(strstr(svg, "hydro_gen"));
    free(svg);
    pg_plot_free(p);
    assert_int_equal(pg_dispatch_plot(&p, d.w, d.r, PG_DISPATCH_CHART_PRICES, &err), PG_OK);
    assert_int_equal(pg_plot_render(p, &svg, &len, &err), PG_OK);
    assert_non_null(strstr(svg, "locational marginal prices"));
    assert_non_null(strstr(svg, "bus3"));
    free(svg);
    pg_plot_free(p);
    p = NULL;
    assert_int_equal(pg_dispatch_plot(&p, d.w, d.r, (pg_dispatch_chart)7, &err), PG_EINVAL);
    assert_null(p);

    assert_int_equal(pg_dispatch_write_plots(d.w, d.r, pgt_tmpdir(), &err), PG_OK);
    char path[4200];
    snprintf(path, sizeof path, "%s/dispatch.svg", pgt_tmpdir());
    svg = pgt_slurp(path, NULL);
    assert_non_null(strstr(svg, "<svg"));
    free(svg);
    snprintf(path, sizeof path, "%s/prices.svg", pgt_tmpdir());
    svg = pgt_slurp(path, NULL);
    assert_non_null(strstr(svg, "<svg"));
    free(svg);
    /* a folder that does not exist: an error naming the file */
    snprintf(path, sizeof path, "%s/no/such/folder", pgt_tmpdir());
    assert_int_equal(pg_dispatch_write_plots(d.w, d.r, path, &err), PG_EIO);
    assert_non_null(strstr(err.file, "dispatch.svg"));
    day_free(&d);
    pgt_tmpdir_cleanup();
}

typedef int (*printer)(const pg_world *, const pg_dispatch_result *, const pg_dispatch_ac *,
                       char **, pg_error *);

/* Each allocation of each printer may fail: PG_ENOMEM, nothing written, nothing leaked. */
static void
test_allocation_failures(void **state)
{
    (void)state;
    day d = hello_day();
    printer printers[] = {pg_dispatch_result_text, pg_dispatch_result_json, pg_dispatch_result_csv};
    pg_error err = {0};
    for (int k = 0; k < 3; k++) {
        char *text = NULL;
        pgt_alloc_fail_after(LONG_MAX);
        assert_int_equal(printers[k](d.w, d.r, d.ac, &text, &err), PG_OK);
        long n = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        free(text);
        assert_true(n > 0);
        for (long i = 0; i < n; i++) {
            text = NULL;
            pgt_alloc_fail_after(i);
            int rc = printers[k](d.w, d.r, d.ac, &text, &err);
            pgt_alloc_fail_after(-1);
            assert_int_equal(rc, PG_ENOMEM);
            assert_null(text);
        }
    }
    for (int chart = 0; chart < 2; chart++) {
        pg_plot *p = NULL;
        pgt_alloc_fail_after(LONG_MAX);
        assert_int_equal(pg_dispatch_plot(&p, d.w, d.r, (pg_dispatch_chart)chart, &err), PG_OK);
        long n = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        pg_plot_free(p);
        for (long i = 0; i < n; i++) {
            p = NULL;
            pgt_alloc_fail_after(i);
            int rc = pg_dispatch_plot(&p, d.w, d.r, (pg_dispatch_chart)chart, &err);
            pgt_alloc_fail_after(-1);
            assert_int_equal(rc, PG_ENOMEM);
            assert_null(p);
        }
    }
    /* a result of another world is refused */
    pg_world *w9 = read_world(pgt_data_path("matpower/cases/case9.m"));
    char *text = NULL;
    for (int k = 0; k < 3; k++)
        assert_int_equal(printers[k](w9, d.r, d.ac, &text, &err), PG_EINVAL);
    assert_null(text);
    pg_world_free(w9);
    day_free(&d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dcopf_json_round_trip),
        cmocka_unit_test(test_dispatch_json_csv_round_trip),
        cmocka_unit_test(test_plots),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
