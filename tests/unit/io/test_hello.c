/* The hello microworld (examples/hello-microworld.json): it reads, validates, is a fixed point of
 * read + write, and holds what examples/README.md says it holds. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/io.h"
#include "plurigrid/pf.h"

static pg_world *
read_hello(char **text_out)
{
    const char *path = pgt_source_path("examples/hello-microworld.json");
    pg_world *w = NULL;
    pg_error err = {0};
    int rc = pg_world_read(path, NULL, &w, NULL, &err);
    if (rc)
        print_error("%s:%d: %s: %s\n", err.file, err.line, err.path, err.msg);
    assert_int_equal(rc, PG_OK);
    if (text_out)
        *text_out = pgt_slurp(path, NULL);
    return w;
}

static void
test_reads_validates_and_is_a_fixed_point(void **state)
{
    (void)state;
    char *text = NULL;
    pg_world *w = read_hello(&text);
    pg_error err = {0};
    assert_int_equal(pg_world_validate(w, &err), PG_OK);
    char *again = NULL;
    assert_int_equal(pg_world_json_write_buffer(w, &again, NULL, &err), PG_OK);
    assert_string_equal(again, text);
    free(again);
    free(text);
    pg_world_free(w);
}

static void
test_contents(void **state)
{
    (void)state;
    pg_world *w = read_hello(NULL);
    pg_error err = {0};
    assert_int_equal(w->n_buses, 3);
    assert_int_equal(w->n_loads, 3);
    assert_int_equal(w->n_thermals, 1);
    assert_int_equal(w->n_renewables, 3);
    assert_int_equal(w->n_branches, 2);
    assert_near(w->base_mva, 100, 0);
    size_t refs = 0;
    for (size_t i = 0; i < w->n_buses; i++) {
        assert_near(w->buses[i].base_kv, 20, 0);
        refs += w->buses[i].type == PG_BUS_REF;
    }
    assert_int_equal(refs, 1);
    const pg_thermal *d = &w->thermals[0];
    assert_string_equal(d->name, "diesel_gen");
    assert_int_equal(w->buses[d->bus].type, PG_BUS_REF);
    assert_near(d->pmax, 50, 0);
    assert_near(d->qmax, 25, 0);
    assert_near(d->ramp_up, 50, 0);
    assert_near(pg_cost_eval(&d->cost, 10), 300, 1e-12); /* 30 $/MWh */
    assert_near(d->fixed_cost, 50, 0);
    assert_near(d->startup_cost, 100, 0);
    assert_int_equal(w->branches[1].kind, PG_BRANCH_TRANSFORMER);
    assert_near(w->branches[1].r, 0.015, 0);
    assert_near(w->branches[1].x, 0.025, 0);
    assert_near(w->branches[0].x, 0.015, 0);
    assert_near(w->branches[0].b, 0.025, 0);
    double ratings[] = {10, 15, 25};
    pg_technology techs[] = {PG_TECH_SOLAR, PG_TECH_WIND, PG_TECH_HYDRO};
    for (size_t i = 0; i < 3; i++) {
        assert_near(w->renewables[i].rating, ratings[i], 0);
        assert_near(w->renewables[i].power_factor, 0.8, 0);
        assert_int_equal(w->renewables[i].technology, techs[i]);
        assert_true(w->renewables[i].availability != PG_NONE);
    }
    size_t steps = 0;
    double step_h = 0;
    assert_int_equal(pg_world_horizon(w, &steps, &step_h, &err), PG_OK);
    assert_int_equal(steps, 24);
    assert_near(step_h, 1, 0);
    for (size_t k = 0; k < 24; k++) {
        assert_near(pg_world_load_mw(w, k), 24, 1e-12);
        pg_world *s = NULL;
        assert_int_equal(pg_world_at_step(&s, w, k, &err), PG_OK);
        double solar = s->renewables[0].p;
        if (k < 6 || k >= 19)
            assert_near(solar, 0, 0); /* night */
        else
            assert_true(solar > 0);
        assert_near(s->loads[0].q, 6.4, 1e-12);
        /* renewables fall short at 18:00 and exceed the demand at noon */
        double ren = s->renewables[0].p + s->renewables[1].p + s->renewables[2].p;
        if (k == 18)
            assert_true(ren < 20);
        if (k == 12)
            assert_true(ren > 24);
        pg_world_free(s);
    }
    pg_world_free(w);
}

static void
test_converts_to_matpower(void **state)
{
    (void)state;
    pg_world *w = read_hello(NULL);
    char *text = NULL;
    pg_error err = {0};
    pg_notes notes = {0};
    assert_int_equal(pg_matpower_write_buffer(w, &text, NULL, &notes, &err), PG_OK);
    assert_true(notes.n > 0); /* series and renewables cannot be kept as such */
    pg_notes_clear(&notes);
    pg_world *m = NULL;
    assert_int_equal(pg_matpower_read_buffer(text, strlen(text), "hello.m", &m, NULL, &err), PG_OK);
    assert_int_equal(m->n_thermals, 4);
    assert_string_equal(m->buses[2].name, "bus3");
    assert_near(m->loads[2].p, 8, 0);
    assert_near(m->thermals[3].pmax, 25, 0);
    free(text);
    pg_world_free(m);
    pg_world_free(w);
}

/* The AC power flow converges at every hour, with the diesel unit (the slack) inside its limits
 * and voltages near 1 p.u.; power balances to the losses. */
static void
test_power_flow_every_hour(void **state)
{
    (void)state;
    pg_world *w = read_hello(NULL);
    pg_error err = {0};
    pg_pf_options o;
    pg_pf_options_init(&o);
    for (size_t k = 0; k < 24; k++) {
        pg_world *s = NULL;
        pg_pf_result *r = NULL;
        assert_int_equal(pg_world_at_step(&s, w, k, &err), PG_OK);
        assert_int_equal(pg_pf_solve(s, &o, &r, &err), PG_OK);
        if (!r->all_solved)
            print_error("hour %zu: %s\n", k, r->reason);
        assert_true(r->converged && r->all_solved);
        assert_true(r->iterations <= 4);
        for (size_t b = 0; b < s->n_buses; b++)
            assert_true(r->vm[b] > 0.99 && r->vm[b] < 1.01);
        assert_true(r->qg[0] >= -25 && r->qg[0] <= 25);
        assert_true(r->pg[0] <= 50);
        assert_near(r->gen_p + r->inj_p - r->load_p, r->loss_p, 1e-6);
        pg_pf_result_free(r);
        pg_world_free(s);
    }
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_validates_and_is_a_fixed_point),
        cmocka_unit_test(test_contents),
        cmocka_unit_test(test_converts_to_matpower),
        cmocka_unit_test(test_power_flow_every_hour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
