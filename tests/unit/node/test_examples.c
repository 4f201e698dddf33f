/* The example node configs (examples/nodes/) read and run days with the rules controller, every
 * step balanced; the reader and a node survive the failure of each allocation they make. */
#include "node_sim.h"

#include <limits.h>

#include "node/internal.h"

static const char *const examples[] = {"offgrid", "residential", "commercial", "datacenter"};

static pg_node_config *
read_example(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "examples/nodes/%s.json", name);
    pg_node_config *c = NULL;
    pg_error err = {0};
    int rc = pg_node_config_read(&c, pgt_source_path(rel), &err);
    if (rc) {
        char buf[1200];
        fail_msg("%s: %s", rel, pg_error_format(&err, buf, sizeof buf));
    }
    return c;
}

static void
test_examples_run_a_day(void **state)
{
    (void)state;
    for (size_t e = 0; e < sizeof examples / sizeof examples[0]; e++) {
        pg_node_config *c = read_example(examples[e]);
        assert_string_equal(pg_node_profile_name(pg_node_config_profile(c)), examples[e]);
        pg_node_step st[96];
        pg_error err = {0};
        for (int q = 0; q < 2; q++) { /* hourly and quarter-hourly */
            double dt = q ? 0.25 : 1.0;
            size_t n = q ? 96 : 48;
            assert_int_equal(sim_run(c, dt, n, NULL, 0, st, &err), PG_OK);
            double load = 0, imp = 0, unserved = 0;
            for (size_t t = 0; t < n; t++) {
                load += st[t].load_kwh;
                imp += st[t].import_kwh;
                unserved += st[t].unserved_kwh;
            }
            print_message("%s dt %g: load %.2f kWh, import %.2f, unserved %.3f\n", examples[e], dt,
                          load, imp, unserved);
            assert_true(load > 0);
            if (e == 0)
                assert_near(imp, 0, 0);
        }
        pg_node_config_free(c);
    }
}

/* Every controller of the table runs every example node a day (and each step balances). */
static void
test_examples_under_every_controller(void **state)
{
    (void)state;
    size_t n_ctl = 0;
    const pg_node_controller *ctl = pg_node_controllers(&n_ctl);
    for (size_t e = 0; e < sizeof examples / sizeof examples[0]; e++) {
        pg_node_config *c = read_example(examples[e]);
        for (size_t k = 0; k < n_ctl; k++) {
            c->controller = pg_node_controller_find(ctl[k].name, NULL);
            pg_error err = {0};
            int rc = sim_run(c, 1, 24, NULL, 0, NULL, &err);
            char buf[1200];
            print_message("%s under %s: %s\n", examples[e], ctl[k].name,
                          rc ? pg_error_format(&err, buf, sizeof buf) : "ok");
            if (strcmp(ctl[k].name, "wasm") == 0) {
                /* a strategy module is needed (tests/integration/test_wasm_*.c run them) */
                assert_int_equal(rc, PG_EMODEL);
                assert_non_null(strstr(err.msg, "\"strategy\""));
                continue;
            }
            /* a controller not in this build refuses to start; every other one runs */
            assert_true(rc == PG_OK || rc == PG_EUNSUPPORTED);
        }
        pg_node_config_free(c);
    }
}

static void
test_allocation_failures(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    pg_error err = {0};
    for (size_t e = 0; e < sizeof examples / sizeof examples[0]; e++) {
        char rel[128];
        snprintf(rel, sizeof rel, "examples/nodes/%s.json", examples[e]);
        assert_int_equal(pg_input_read(pgt_source_path(rel), 0, &text, &len, &err), PG_OK);
        /* reading */
        pg_node_config *c = NULL;
        pgt_alloc_fail_after(LONG_MAX);
        assert_int_equal(pg_node_config_parse(&c, rel, text, len, &err), PG_OK);
        long n = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        pg_node_config_free(c);
        for (long k = 0; k < n; k++) {
            c = NULL;
            memset(&err, 0, sizeof err);
            pgt_alloc_fail_after(k);
            int rc = pg_node_config_parse(&c, rel, text, len, &err);
            pgt_alloc_fail_after(-1);
            if (rc == PG_OK)
                pg_node_config_free(c);
            else {
                assert_int_equal(rc, PG_ENOMEM);
                assert_null(c);
            }
        }
        /* running two days */
        assert_int_equal(pg_node_config_parse(&c, rel, text, len, &err), PG_OK);
        pgt_alloc_fail_after(LONG_MAX);
        assert_int_equal(sim_run(c, 1, 48, NULL, 0, NULL, &err), PG_OK);
        n = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        for (long k = 0; k < n; k++) {
            memset(&err, 0, sizeof err);
            pgt_alloc_fail_after(k);
            int rc = sim_run(c, 1, 48, NULL, 0, NULL, &err);
            pgt_alloc_fail_after(-1);
            if (rc != PG_OK)
                assert_int_equal(rc, PG_ENOMEM);
        }
        pg_node_config_free(c);
        free(text);
        text = NULL;
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_run_a_day),
        cmocka_unit_test(test_examples_under_every_controller),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
