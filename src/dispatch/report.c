/* Machine-readable printers of dispatch results: the day-ahead schedule as JSON
 * ("plurigrid-dispatch/1") and long-format CSV, and the DC OPF as JSON ("plurigrid-dcopf/1"). JSON
 * is built as a jansson tree and dumped by core (json_write.h), CSV is written here; both give
 * every number at round-trip precision, so a program reading them gets the doubles the solver
 * computed, and a number that does not exist (the price of an isolated bus) is null in JSON and an
 * empty cell in CSV. Everything is returned as text, so the command, a server and tests share
 * it. docs/dispatch.md documents the formats; report_text.c and report_plot.c hold the tables
 * and the charts. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_write.h"
#include "core/util.h"
#include "plurigrid/dispatch.h"

static const char *
uc_status_name(pg_uc_status s)
{
    switch (s) {
    case PG_UC_OPTIMAL: return "optimal";
    case PG_UC_TIME_LIMIT: return "time_limit";
    default: return "none";
    }
}

static bool
matches(const pg_world *w, const pg_dispatch_result *r)
{
    return w->n_buses == r->n_buses && w->n_branches == r->n_branches &&
           w->n_thermals == r->n_thermals && w->n_renewables == r->n_renewables &&
           w->n_storages == r->n_storages;
}

/* ------------------------------------------------------------------ JSON */

/* Sets o[key] = v, taking v; a failure (v NULL when memory ran out) sets *bad. */
static void
set(json_t *o, const char *key, json_t *v, int *bad)
{
    if (!o || json_object_set_new(o, key, v) != 0) {
        if (!o)
            json_decref(v);
        *bad = 1;
    }
}

static void
add(json_t *a, json_t *v, int *bad)
{
    if (!a || json_array_append_new(a, v) != 0) {
        if (!a)
            json_decref(v);
        *bad = 1;
    }
}

/* The series of component i: v[t * n + i] for each of T steps. */
static json_t *
series(const double *v, size_t T, size_t n, size_t i, int *bad)
{
    json_t *a = json_array();
    for (size_t t = 0; a && t < T; t++)
        add(a, pgi_json_num(v[t * n + i]), bad);
    if (!a)
        *bad = 1;
    return a;
}

static json_t *
flags(const unsigned char *v, size_t T, size_t n, size_t i, int *bad)
{
    json_t *a = json_array();
    for (size_t t = 0; a && t < T; t++)
        add(a, json_integer(v[t * n + i]), bad);
    if (!a)
        *bad = 1;
    return a;
}

/* A new object {"name": name} appended to the list a; NULL when memory ran out. */
static json_t *
item(json_t *a, const char *name, int *bad)
{
    json_t *o = json_object();
    if (!o || json_array_append_new(a, o) != 0) { /* takes o even when it fails */
        *bad = 1;
        return NULL;
    }
    set(o, "name", pgi_json_str(name), bad);
    return o;
}

/* The AC check as an object of per-step arrays. */
static json_t *
json_ac(const pg_dispatch_ac *ac, int *bad)
{
    size_t T = ac->n_steps;
    json_t *o = json_object();
    set(o, "unsolved_steps", json_integer((json_int_t)ac->n_unsolved), bad);
    set(o, "steps_with_violations", json_integer((json_int_t)ac->n_with_violations), bad);
    enum { SOLVED, ITER, LOSS, SLACK, VMIN, VMAX, NV, NO, LOAD, NQ, HELD, REASON, N_KEYS };
    static const char *const keys[N_KEYS] = {"solved",
                                             "iterations",
                                             "losses_mw",
                                             "slack_mw",
                                             "vm_min",
                                             "vm_max",
                                             "voltage_violations",
                                             "overloads",
                                             "max_loading",
                                             "q_limit_violations",
                                             "reference_held",
                                             "reason"};
    json_t *a[N_KEYS];
    for (int k = 0; k < N_KEYS; k++) {
        a[k] = json_array();
        set(o, keys[k], a[k], bad);
    }
    for (size_t t = 0; t < T && !*bad; t++) {
        const pg_dispatch_ac_step *s = &ac->steps[t];
        add(a[SOLVED], json_boolean(s->solved), bad);
        add(a[ITER], json_integer(s->iterations), bad);
        add(a[LOSS], pgi_json_num(s->losses_mw), bad);
        add(a[SLACK], pgi_json_num(s->slack_mw), bad);
        add(a[VMIN], pgi_json_num(s->vm_min), bad);
        add(a[VMAX], pgi_json_num(s->vm_max), bad);
        add(a[NV], json_integer((json_int_t)s->n_voltage), bad);
        add(a[NO], json_integer((json_int_t)s->n_overload), bad);
        add(a[LOAD], pgi_json_num(s->max_loading), bad);
        add(a[NQ], json_integer((json_int_t)s->n_q_limit), bad);
        add(a[HELD], json_boolean(s->ref_held), bad);
        add(a[REASON], pgi_json_str(s->reason), bad);
    }
    return o;
}

/* Dumps o (taken) into *text, or fails with PG_ENOMEM when building or dumping ran out of
 * memory. */
static int
finish_json(json_t *o, int bad, char **text, pg_error *err)
{
    char *s = bad || !o ? NULL : pgi_json_dumps_lines(o);
    json_decref(o);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory while writing the result");
    *text = s;
    return PG_OK;
}

static void
json_schedule_head(json_t *o, const pg_world *w, const pg_dispatch_result *r, int *bad)
{
    size_t T = r->n_steps;
    set(o, "format", json_string("plurigrid-dispatch/1"), bad);
    set(o, "world", pgi_json_str(w->name), bad);
    set(o, "steps", json_integer((json_int_t)T), bad);
    set(o, "step_h", pgi_json_num(r->step_h), bad);
    set(o, "start_step", json_integer((json_int_t)r->start_step), bad);
    set(o, "network", json_string(r->network == PG_NETWORK_DC ? "dc" : "copper"), bad);
    json_t *c = json_object();
    set(o, "commitment", c, bad);
    set(c, "status", json_string(uc_status_name(r->uc_status)), bad);
    set(c, "objective", pgi_json_num(r->uc_objective), bad);
    set(c, "bound", pgi_json_num(r->uc_bound), bad);
    set(c, "gap", pgi_json_num(r->uc_gap), bad);
    set(c, "seconds", pgi_json_num(r->uc_seconds), bad);
    json_t *p = json_object();
    set(o, "problem", p, bad);
    set(p, "variables", json_integer((json_int_t)r->n_variables), bad);
    set(p, "integers", json_integer((json_int_t)r->n_integers), bad);
    set(p, "constraints", json_integer((json_int_t)r->n_constraints), bad);
    set(p, "dispatch_seconds", pgi_json_num(r->ed_seconds), bad);
    json_t *tot = json_object();
    set(o, "totals", tot, bad);
    set(tot, "cost", pgi_json_num(r->total_cost), bad);
    set(tot, "variable", pgi_json_num(pgi_sum(r->cost_variable, T)), bad);
    set(tot, "fixed", pgi_json_num(pgi_sum(r->cost_fixed, T)), bad);
    set(tot, "startup", pgi_json_num(pgi_sum(r->cost_startup, T)), bad);
    set(tot, "penalty", pgi_json_num(pgi_sum(r->cost_penalty, T)), bad);
    set(tot, "unserved_mwh", pgi_json_num(r->total_unserved_mwh), bad);
    set(tot, "overgen_mwh", pgi_json_num(r->total_overgen_mwh), bad);
    set(tot, "curtailed_mwh", pgi_json_num(r->total_curtailed_mwh), bad);
    json_t *st = json_object(), *hour = json_array();
    set(o, "step", st, bad);
    set(st, "hour", hour, bad);
    for (size_t t = 0; hour && t < T; t++)
        add(hour, pgi_json_num((double)t * r->step_h), bad);
    set(st, "energy_price", series(r->energy_price, T, 1, 0, bad), bad);
    set(st, "cost_variable", series(r->cost_variable, T, 1, 0, bad), bad);
    set(st, "cost_fixed", series(r->cost_fixed, T, 1, 0, bad), bad);
    set(st, "cost_startup", series(r->cost_startup, T, 1, 0, bad), bad);
    set(st, "cost_penalty", series(r->cost_penalty, T, 1, 0, bad), bad);
}

int
pg_dispatch_result_json(const pg_world *w, const pg_dispatch_result *r, const pg_dispatch_ac *ac,
                        char **text, pg_error *err)
{
    if (!w || !r || !text)
        return pg_error_set(err, PG_EINVAL, "pg_dispatch_result_json: NULL argument");
    if (!matches(w, r) || (ac && ac->n_steps != r->n_steps))
        return pg_error_set(err, PG_EINVAL, "the dispatch result is not from this world");
    size_t T = r->n_steps;
    int bad = 0;
    json_t *o = json_object(), *a;
    json_schedule_head(o, w, r, &bad);
    set(o, "thermal", a = json_array(), &bad);
    for (size_t g = 0; g < r->n_thermals && !bad; g++) {
        size_t n = r->n_thermals;
        json_t *x = item(a, w->thermals[g].name, &bad);
        set(x, "bus", pgi_json_str(w->buses[w->thermals[g].bus].name), &bad);
        set(x, "p", series(r->thermal_p, T, n, g, &bad), &bad);
        set(x, "on", flags(r->thermal_on, T, n, g, &bad), &bad);
        set(x, "start", flags(r->thermal_start, T, n, g, &bad), &bad);
        set(x, "stop", flags(r->thermal_stop, T, n, g, &bad), &bad);
    }
    set(o, "renewable", a = json_array(), &bad);
    for (size_t k = 0; k < r->n_renewables && !bad; k++) {
        size_t n = r->n_renewables;
        json_t *x = item(a, w->renewables[k].name, &bad);
        set(x, "bus", pgi_json_str(w->buses[w->renewables[k].bus].name), &bad);
        set(x, "p", series(r->renewable_p, T, n, k, &bad), &bad);
        set(x, "available", series(r->renewable_avail, T, n, k, &bad), &bad);
    }
    set(o, "storage", a = json_array(), &bad);
    for (size_t s = 0; s < r->n_storages && !bad; s++) {
        size_t n = r->n_storages;
        json_t *x = item(a, w->storages[s].name, &bad);
        set(x, "bus", pgi_json_str(w->buses[w->storages[s].bus].name), &bad);
        set(x, "charge", series(r->storage_charge, T, n, s, &bad), &bad);
        set(x, "discharge", series(r->storage_discharge, T, n, s, &bad), &bad);
        set(x, "soc_mwh", series(r->storage_soc, T, n, s, &bad), &bad);
    }
    set(o, "bus", a = json_array(), &bad);
    for (size_t i = 0; i < r->n_buses && !bad; i++) {
        size_t n = r->n_buses;
        json_t *x = item(a, w->buses[i].name, &bad);
        set(x, "number", json_integer(w->buses[i].number), &bad);
        set(x, "demand", series(r->bus_demand, T, n, i, &bad), &bad);
        set(x, "unserved", series(r->bus_unserved, T, n, i, &bad), &bad);
        set(x, "overgen", series(r->bus_overgen, T, n, i, &bad), &bad);
        set(x, "lmp", series(r->lmp, T, n, i, &bad), &bad);
        set(x, "angle_deg", series(r->bus_angle, T, n, i, &bad), &bad);
    }
    set(o, "branch", a = json_array(), &bad);
    for (size_t k = 0; k < r->n_branches && !bad; k++) {
        const pg_branch *br = &w->branches[k];
        size_t n = r->n_branches;
        json_t *x = item(a, br->name, &bad);
        set(x, "from", pgi_json_str(w->buses[br->from].name), &bad);
        set(x, "to", pgi_json_str(w->buses[br->to].name), &bad);
        set(x, "flow", series(r->branch_flow, T, n, k, &bad), &bad);
        set(x, "price", series(r->branch_price, T, n, k, &bad), &bad);
    }
    set(o, "ac", ac && !bad ? json_ac(ac, &bad) : json_null(), &bad);
    return finish_json(o, bad, text, err);
}

int
pg_dcopf_result_json(const pg_world *w, const pg_dcopf_result *r, char **text, pg_error *err)
{
    if (!w || !r || !text)
        return pg_error_set(err, PG_EINVAL, "pg_dcopf_result_json: NULL argument");
    if (w->n_buses != r->n_buses || w->n_branches != r->n_branches ||
        w->n_thermals != r->n_thermals)
        return pg_error_set(err, PG_EINVAL, "the OPF result is not from this world");
    int bad = 0;
    json_t *o = json_object(), *a;
    set(o, "format", json_string("plurigrid-dcopf/1"), &bad);
    set(o, "world", pgi_json_str(w->name), &bad);
    set(o, "objective", pgi_json_num(r->objective), &bad);
    set(o, "unserved_mw", pgi_json_num(r->unserved_mw), &bad);
    set(o, "overgen_mw", pgi_json_num(r->overgen_mw), &bad);
    set(o, "seconds", pgi_json_num(r->seconds), &bad);
    set(o, "thermal", a = json_array(), &bad);
    for (size_t g = 0; g < r->n_thermals && !bad; g++) {
        json_t *x = item(a, w->thermals[g].name, &bad);
        set(x, "bus", pgi_json_str(w->buses[w->thermals[g].bus].name), &bad);
        set(x, "p", pgi_json_num(r->pg[g]), &bad);
    }
    set(o, "bus", a = json_array(), &bad);
    for (size_t i = 0; i < r->n_buses && !bad; i++) {
        json_t *x = item(a, w->buses[i].name, &bad);
        set(x, "number", json_integer(w->buses[i].number), &bad);
        set(x, "angle_deg", pgi_json_num(r->va[i]), &bad);
        set(x, "lmp", pgi_json_num(r->lmp[i]), &bad);
    }
    set(o, "branch", a = json_array(), &bad);
    for (size_t k = 0; k < r->n_branches && !bad; k++) {
        const pg_branch *br = &w->branches[k];
        json_t *x = item(a, br->name, &bad);
        set(x, "from", pgi_json_str(w->buses[br->from].name), &bad);
        set(x, "to", pgi_json_str(w->buses[br->to].name), &bad);
        set(x, "flow", pgi_json_num(r->flow[k]), &bad);
        set(x, "price", pgi_json_num(r->branch_price[k]), &bad);
    }
    return finish_json(o, bad, text, err);
}

/* ------------------------------------------------------------------ CSV */

/* The shortest of 15 to 17 significant digits that reads back as v; nothing when v is not
 * finite. */
static void
csv_num(pgi_buf *b, double v)
{
    if (!isfinite(v))
        return;
    if (v == 0)
        v = 0; /* no "-0" */
    char s[40];
    for (int p = 15; p <= 17; p++) {
        snprintf(s, sizeof s, "%.*g", p, v);
        if (strtod(s, NULL) == v)
            break;
    }
    pgi_buf_puts(b, s);
}

static void
csv_field(pgi_buf *b, const char *s)
{
    bool quote = s && strpbrk(s, ",\"\n\r") != NULL;
    if (!quote) {
        pgi_buf_puts(b, s ? s : "");
        return;
    }
    pgi_buf_puts(b, "\"");
    for (const char *p = s; *p; p++)
        pgi_buf_append(b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
    pgi_buf_puts(b, "\"");
}

static void
csv_row(pgi_buf *b, size_t t, double hour, const char *kind, const char *name, const char *q,
        double v)
{
    pgi_buf_printf(b, "%zu,", t);
    csv_num(b, hour);
    pgi_buf_printf(b, ",%s,", kind);
    csv_field(b, name);
    pgi_buf_printf(b, ",%s,", q);
    csv_num(b, v);
    pgi_buf_puts(b, "\n");
}

int
pg_dispatch_result_csv(const pg_world *w, const pg_dispatch_result *r, const pg_dispatch_ac *ac,
                       char **text, pg_error *err)
{
    if (!w || !r || !text)
        return pg_error_set(err, PG_EINVAL, "pg_dispatch_result_csv: NULL argument");
    if (!matches(w, r) || (ac && ac->n_steps != r->n_steps))
        return pg_error_set(err, PG_EINVAL, "the dispatch result is not from this world");
    pgi_buf b = {0};
    pgi_buf_puts(&b, "step,hour,component,name,quantity,value\n");
    for (size_t t = 0; t < r->n_steps && !b.failed; t++) {
        double h = (double)t * r->step_h;
        csv_row(&b, t, h, "system", "", "energy_price", r->energy_price[t]);
        csv_row(&b, t, h, "system", "", "cost_variable", r->cost_variable[t]);
        csv_row(&b, t, h, "system", "", "cost_fixed", r->cost_fixed[t]);
        csv_row(&b, t, h, "system", "", "cost_startup", r->cost_startup[t]);
        csv_row(&b, t, h, "system", "", "cost_penalty", r->cost_penalty[t]);
        for (size_t g = 0; g < r->n_thermals; g++) {
            size_t i = t * r->n_thermals + g;
            csv_row(&b, t, h, "thermal", w->thermals[g].name, "p", r->thermal_p[i]);
            csv_row(&b, t, h, "thermal", w->thermals[g].name, "on", r->thermal_on[i]);
        }
        for (size_t k = 0; k < r->n_renewables; k++) {
            size_t i = t * r->n_renewables + k;
            csv_row(&b, t, h, "renewable", w->renewables[k].name, "p", r->renewable_p[i]);
            csv_row(&b, t, h, "renewable", w->renewables[k].name, "available",
                    r->renewable_avail[i]);
        }
        for (size_t s = 0; s < r->n_storages; s++) {
            size_t i = t * r->n_storages + s;
            csv_row(&b, t, h, "storage", w->storages[s].name, "charge", r->storage_charge[i]);
            csv_row(&b, t, h, "storage", w->storages[s].name, "discharge", r->storage_discharge[i]);
            csv_row(&b, t, h, "storage", w->storages[s].name, "soc_mwh", r->storage_soc[i]);
        }
        for (size_t k = 0; k < r->n_buses; k++) {
            size_t i = t * r->n_buses + k;
            csv_row(&b, t, h, "bus", w->buses[k].name, "demand", r->bus_demand[i]);
            csv_row(&b, t, h, "bus", w->buses[k].name, "unserved", r->bus_unserved[i]);
            csv_row(&b, t, h, "bus", w->buses[k].name, "overgen", r->bus_overgen[i]);
            csv_row(&b, t, h, "bus", w->buses[k].name, "lmp", r->lmp[i]);
        }
        for (size_t k = 0; k < r->n_branches; k++) {
            size_t i = t * r->n_branches + k;
            csv_row(&b, t, h, "branch", w->branches[k].name, "flow", r->branch_flow[i]);
            csv_row(&b, t, h, "branch", w->branches[k].name, "price", r->branch_price[i]);
        }
        if (ac) {
            const pg_dispatch_ac_step *st = &ac->steps[t];
            csv_row(&b, t, h, "ac", "", "solved", st->solved);
            csv_row(&b, t, h, "ac", "", "losses_mw", st->losses_mw);
            csv_row(&b, t, h, "ac", "", "slack_mw", st->slack_mw);
            csv_row(&b, t, h, "ac", "", "vm_min", st->vm_min);
            csv_row(&b, t, h, "ac", "", "vm_max", st->vm_max);
            csv_row(&b, t, h, "ac", "", "voltage_violations", (double)st->n_voltage);
            csv_row(&b, t, h, "ac", "", "overloads", (double)st->n_overload);
            csv_row(&b, t, h, "ac", "", "max_loading", st->max_loading);
            csv_row(&b, t, h, "ac", "", "q_limit_violations", (double)st->n_q_limit);
        }
    }
    if (b.failed || !b.data) {
        pgi_buf_free(&b);
        return pg_error_set(err, PG_ENOMEM, "out of memory while writing the result");
    }
    *text = b.data;
    return PG_OK;
}
