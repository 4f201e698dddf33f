/* A small driver for node tests: synthetic input series by name (PV availability, a household
 * load, an outdoor temperature), a time-of-use retail price, and a loop that runs a node
 * interval by interval with the market clearing nothing (every node trades with the grid). Each
 * step's energy balance is checked as it runs. Header-only: each test file is one executable. */
#ifndef PG_TEST_NODE_SIM_H
#define PG_TEST_NODE_SIM_H

#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/node.h"

#define SIM_H 24 /* forecast horizon, intervals */

/* The value of input `name` at hour h from the start. */
static inline double
sim_input(const char *name, double h, double dt)
{
    (void)dt;
    double hod = fmod(h, 24.0);
    if (strcmp(name, "pv") == 0)
        return fmax(0, sin(M_PI * (hod - 6) / 12));
    if (strcmp(name, "outdoor_temp") == 0)
        return 30 + 6 * sin(M_PI * (hod - 9) / 12);
    if (strcmp(name, "load") == 0) /* mean kW over the interval */
        return 0.5 + 0.3 * (hod >= 17 && hod < 22) + 0.2 * sin(M_PI * hod / 24);
    return 0;
}

static inline double
sim_retail(double h)
{
    double hod = fmod(h, 24.0);
    return hod >= 16 && hod < 21 ? 0.45 : hod >= 8 && hod < 16 ? 0.25 : 0.15;
}

typedef struct sim {
    const pg_node_config *cfg;
    double dt;
    size_t n_inputs;
    double retail[SIM_H], feed_in[SIM_H];
    double fc[8][SIM_H];
    const double *fcp[8];
    double actual[8];
    pg_node_env env;
} sim;

/* Fills s->env for interval t (grid as the config says). */
static inline void
sim_env(sim *s, size_t t, const pg_dr_event *ev, size_t n_ev)
{
    double h0 = (double)t * s->dt;
    s->n_inputs = pg_node_config_n_inputs(s->cfg);
    assert_true(s->n_inputs <= 8);
    for (size_t k = 0; k < SIM_H; k++) {
        double h = h0 + (double)k * s->dt;
        s->retail[k] = sim_retail(h);
        s->feed_in[k] = 0.05;
        for (size_t i = 0; i < s->n_inputs; i++)
            s->fc[i][k] = sim_input(pg_node_config_input(s->cfg, i), h, s->dt);
    }
    for (size_t i = 0; i < s->n_inputs; i++) {
        s->fcp[i] = s->fc[i];
        s->actual[i] = s->fc[i][0];
    }
    s->env = (pg_node_env){.t = t,
                           .hours = s->dt,
                           .time_h = h0,
                           .hour_of_day = fmod(h0, 24.0),
                           .horizon = SIM_H,
                           .retail = s->retail,
                           .feed_in = s->feed_in,
                           .grid_connected = pg_node_config_profile(s->cfg) != PG_NODE_OFFGRID,
                           .forecast = s->fcp,
                           .actual = s->actual,
                           .n_events = n_ev,
                           .events = ev};
}

/* load + charge + export = pv + discharge + import + generator + unserved - spilled, with pv the
 * energy generated (used, exported and spilled). */
static inline void
sim_check_balance(const pg_node_step *st)
{
    double pv_gen = st->pv_kwh + st->pv_spilled_kwh;
    double lhs = st->load_kwh + st->battery_in_kwh + st->export_kwh;
    double rhs = pv_gen + st->battery_out_kwh + st->import_kwh + st->generator_kwh +
                 st->unserved_kwh - st->pv_spilled_kwh;
    /* to rounding of the largest flow */
    assert_near(lhs, rhs, 1e-9 * fmax(fmax(1, fabs(lhs)), fmax(pv_gen, st->generator_kwh)));
    assert_true(st->import_kwh >= 0 && st->export_kwh >= 0 && st->pv_spilled_kwh >= 0);
    assert_true(st->unserved_kwh >= 0 && st->battery_in_kwh >= 0 && st->battery_out_kwh >= 0);
    assert_false(st->battery_in_kwh > 0 && st->battery_out_kwh > 0);
}

/* Runs n intervals of dt hours; steps[t] gets each step (may be NULL). Returns PG_OK or the first
 * failure. */
static inline int
sim_run(const pg_node_config *cfg, double dt, size_t n, const pg_dr_event *ev, size_t n_ev,
        pg_node_step *steps, pg_error *err)
{
    sim s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.dt = dt;
    pg_node *node = NULL;
    int rc = pg_node_new(&node, cfg, 0, 42, err);
    if (rc)
        return rc;
    for (size_t t = 0; t < n && !rc; t++) {
        pg_node_plan plan;
        pg_node_step st;
        sim_env(&s, t, ev, n_ev);
        if ((rc = pg_node_bid(node, &s.env, &plan, err)))
            break;
        for (size_t i = 1; i < plan.n_points; i++) /* a curve: prices up, quantities down */
            assert_true(plan.curve[i].price > plan.curve[i - 1].price &&
                        plan.curve[i].qty <= plan.curve[i - 1].qty);
        /* and one the market takes */
        pg_market_book book;
        pg_market_book_init(&book);
        rc = pg_market_book_add_curve(&book, 0, plan.curve, plan.n_points, err);
        pg_market_book_free(&book);
        if (rc)
            break;
        if ((rc = pg_node_operate(node, &s.env, 0, NAN, &st, err)))
            break;
        sim_check_balance(&st);
        if (steps)
            steps[t] = st;
    }
    pg_node_free(node);
    return rc;
}

static inline pg_node_config *
sim_config(const char *json)
{
    pg_node_config *c = NULL;
    pg_error err = {0};
    int rc = pg_node_config_parse(&c, "test.json", json, strlen(json), &err);
    if (rc) {
        char buf[1200];
        fail_msg("%s", pg_error_format(&err, buf, sizeof buf));
    }
    return c;
}

#endif
