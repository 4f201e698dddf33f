/* The hello microworld's day: it schedules, and every hour supply meets demand (a lossless
 * balance), every unit stays within its limits, curtailment is what the renewables could have
 * given beyond their dispatch, the cost parts add up to the total and to the MILP's objective,
 * the diesel's fixed cost is paid exactly in the hours it is on and a start-up exactly when it
 * comes back; the AC check solves every hour. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"

static void
test_hello_day(void **state)
{
    (void)state;
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_world_read(pgt_source_path("examples/hello-microworld.json"), NULL, &w, NULL, &err))
        fail_msg("%s", err.msg);
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    o.mip_gap = 0;
    pg_dispatch_result *r = NULL;
    if (pg_dispatch_run(w, &o, &r, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(r->n_steps, 24);
    assert_near(r->step_h, 1, 0);
    assert_int_equal(r->uc_status, PG_UC_OPTIMAL);
    double total = 0, curtailed = 0;
    for (size_t t = 0; t < 24; t++) {
        double supply = 0, demand = 0;
        for (size_t g = 0; g < r->n_thermals; g++) {
            size_t i = t * r->n_thermals + g;
            const pg_thermal *th = &w->thermals[g];
            double p = r->thermal_p[i];
            if (r->thermal_on[i])
                assert_true(p >= th->pmin - 1e-7 && p <= th->pmax + 1e-7);
            else
                assert_near(p, 0, 1e-9);
            if (t > 0) {
                double dp = p - r->thermal_p[i - r->n_thermals];
                assert_true(dp <= th->ramp_up + 1e-7 && -dp <= th->ramp_down + 1e-7);
            }
            unsigned char before = t ? r->thermal_on[i - r->n_thermals] : th->initial_on;
            assert_int_equal(r->thermal_start[i], !before && r->thermal_on[i]);
            assert_int_equal(r->thermal_stop[i], before && !r->thermal_on[i]);
            supply += p;
        }
        double fixed = 0, start = 0;
        for (size_t g = 0; g < r->n_thermals; g++) {
            fixed += w->thermals[g].fixed_cost * r->thermal_on[t * r->n_thermals + g];
            start += w->thermals[g].startup_cost * r->thermal_start[t * r->n_thermals + g];
        }
        assert_near(r->cost_fixed[t], fixed, 1e-9);
        assert_near(r->cost_startup[t], start, 1e-9);
        for (size_t k = 0; k < r->n_renewables; k++) {
            size_t i = t * r->n_renewables + k;
            const pg_renewable *re = &w->renewables[k];
            double avail = re->rating * w->series[re->availability].values[t];
            assert_near(r->renewable_avail[i], avail, 1e-12);
            assert_true(r->renewable_p[i] >= -1e-9 && r->renewable_p[i] <= avail + 1e-7);
            supply += r->renewable_p[i];
            curtailed += avail - r->renewable_p[i];
        }
        for (size_t b = 0; b < r->n_buses; b++) {
            size_t i = t * r->n_buses + b;
            demand += r->bus_demand[i] - r->bus_unserved[i] + r->bus_overgen[i];
            assert_near(r->bus_unserved[i], 0, 1e-9);
        }
        assert_near(demand, pg_world_load_mw(w, t), 1e-9);
        assert_near(supply, demand, 1e-6);
        /* a price is the marginal cost of whatever serves the next MW: the diesel (30 $/MWh)
         * when it runs and renewables are exhausted, free renewable energy when it is spilled */
        for (size_t b = 0; b < r->n_buses; b++) {
            double lmp = r->lmp[t * r->n_buses + b];
            assert_true(fabs(lmp - 30) < 1e-6 || fabs(lmp) < 1e-6);
        }
        total += r->cost_variable[t] + r->cost_fixed[t] + r->cost_startup[t] + r->cost_penalty[t];
    }
    assert_near(total, r->total_cost, 1e-9 * total);
    assert_near(curtailed, r->total_curtailed_mwh, 1e-6);
    assert_near(r->total_cost, r->uc_objective, 1e-6 * r->total_cost);

    pg_dispatch_ac *ac = NULL;
    if (pg_dispatch_ac_check(w, r, NULL, &ac, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(ac->n_steps, 24);
    assert_int_equal(ac->n_unsolved, 0);
    for (size_t t = 0; t < 24; t++) {
        const pg_dispatch_ac_step *s = &ac->steps[t];
        /* the DC schedule is lossless: the reference unit makes up exactly the losses */
        assert_true(s->losses_mw > 0 && s->losses_mw < 0.5);
        assert_near(s->slack_mw, s->losses_mw, 1e-6);
    }
    pg_dispatch_ac_free(ac);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
