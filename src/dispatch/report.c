/* Printers of a dispatch result: JSON ("plurigrid-dispatch/1") and long-format CSV, both written
 * into strings so that the command, the HTTP API and tests share them. docs/dispatch.md documents
 * both formats. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "plurigrid/dispatch.h"

static void
json_str(pgi_buf *b, const char *s)
{
    pgi_buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            pgi_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            pgi_buf_printf(b, "\\u%04x", *p);
        else
            pgi_buf_append(b, (const char *)p, 1);
    }
    pgi_buf_puts(b, "\"");
}

static void
json_num(pgi_buf *b, double v)
{
    if (!isfinite(v))
        pgi_buf_puts(b, "null");
    else
        pgi_buf_printf(b, "%.10g", v == 0 ? 0.0 : v);
}

/* `, "key": number` */
static void
json_key_num(pgi_buf *b, const char *key, double v)
{
    pgi_buf_printf(b, ", \"%s\": ", key);
    json_num(b, v);
}

/* `, "key": "string"` */
static void
json_key_str(pgi_buf *b, const char *key, const char *s)
{
    pgi_buf_printf(b, ", \"%s\": ", key);
    json_str(b, s);
}

/* Opens the i-th object of a list of components, one a line: `{"name": "..."`. */
static void
json_item(pgi_buf *b, size_t i, const char *name)
{
    pgi_buf_puts(b, i ? ",\n    {\"name\": " : "\n    {\"name\": ");
    json_str(b, name);
}

/* Series of component i: values[t * n + i] for each step. */
static void
json_series(pgi_buf *b, const char *key, const double *v, size_t T, size_t n, size_t i)
{
    pgi_buf_printf(b, ", \"%s\": [", key);
    for (size_t t = 0; t < T; t++) {
        if (t)
            pgi_buf_puts(b, ", ");
        json_num(b, v[t * n + i]);
    }
    pgi_buf_puts(b, "]");
}

static void
json_flags(pgi_buf *b, const char *key, const unsigned char *v, size_t T, size_t n, size_t i)
{
    pgi_buf_printf(b, ", \"%s\": [", key);
    for (size_t t = 0; t < T; t++)
        pgi_buf_printf(b, "%s%d", t ? ", " : "", v[t * n + i]);
    pgi_buf_puts(b, "]");
}

static const char *
uc_status_name(pg_uc_status s)
{
    switch (s) {
    case PG_UC_OPTIMAL: return "optimal";
    case PG_UC_TIME_LIMIT: return "time_limit";
    default: return "none";
    }
}

static double
sum(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

static int
finish(pgi_buf *b, char **text, pg_error *err)
{
    if (b->failed || !b->data) {
        pgi_buf_free(b);
        return pg_error_set(err, PG_ENOMEM, "out of memory while writing the result");
    }
    *text = b->data;
    return PG_OK;
}

static bool
matches(const pg_world *w, const pg_dispatch_result *r)
{
    return w->n_buses == r->n_buses && w->n_branches == r->n_branches &&
           w->n_thermals == r->n_thermals && w->n_renewables == r->n_renewables &&
           w->n_storages == r->n_storages;
}

/* The AC check as an object of per-step arrays. */
static void
json_ac(pgi_buf *b, const pg_dispatch_ac *ac)
{
    size_t T = ac->n_steps;
    pgi_buf_printf(b, "{\"unsolved_steps\": %zu, \"steps_with_violations\": %zu", ac->n_unsolved,
                   ac->n_with_violations);
#define AC_ARRAY(key, fmt, expr)                                                                   \
    do {                                                                                           \
        pgi_buf_puts(b, ", \"" key "\": [");                                                       \
        for (size_t t = 0; t < T; t++) {                                                           \
            const pg_dispatch_ac_step *st = &ac->steps[t];                                         \
            if (t)                                                                                 \
                pgi_buf_puts(b, ", ");                                                             \
            pgi_buf_printf(b, fmt, expr);                                                          \
        }                                                                                          \
        pgi_buf_puts(b, "]");                                                                      \
    } while (0)
#define AC_NUMS(key, expr)                                                                         \
    do {                                                                                           \
        pgi_buf_puts(b, ", \"" key "\": [");                                                       \
        for (size_t t = 0; t < T; t++) {                                                           \
            const pg_dispatch_ac_step *st = &ac->steps[t];                                         \
            if (t)                                                                                 \
                pgi_buf_puts(b, ", ");                                                             \
            json_num(b, expr);                                                                     \
        }                                                                                          \
        pgi_buf_puts(b, "]");                                                                      \
    } while (0)
    AC_ARRAY("solved", "%s", st->solved ? "true" : "false");
    AC_ARRAY("iterations", "%d", st->iterations);
    AC_NUMS("losses_mw", st->losses_mw);
    AC_NUMS("slack_mw", st->slack_mw);
    AC_NUMS("vm_min", st->vm_min);
    AC_NUMS("vm_max", st->vm_max);
    AC_ARRAY("voltage_violations", "%zu", st->n_voltage);
    AC_ARRAY("overloads", "%zu", st->n_overload);
    AC_NUMS("max_loading", st->max_loading);
    AC_ARRAY("q_limit_violations", "%zu", st->n_q_limit);
    AC_ARRAY("reference_held", "%s", st->ref_held ? "true" : "false");
    pgi_buf_puts(b, ", \"reason\": [");
    for (size_t t = 0; t < T; t++) {
        if (t)
            pgi_buf_puts(b, ", ");
        json_str(b, ac->steps[t].reason);
    }
    pgi_buf_puts(b, "]}");
#undef AC_ARRAY
#undef AC_NUMS
}

int
pg_dispatch_result_json(const pg_world *w, const pg_dispatch_result *r, const pg_dispatch_ac *ac,
                        char **text, pg_error *err)
{
    if (!w || !r || !text)
        return pg_error_set(err, PG_EINVAL, "pg_dispatch_result_json: NULL argument");
    if (!matches(w, r) || (ac && ac->n_steps != r->n_steps))
        return pg_error_set(err, PG_EINVAL, "the dispatch result is not from this world");
    pgi_buf b = {0};
    size_t T = r->n_steps;
    pgi_buf_puts(&b, "{\n  \"format\": \"plurigrid-dispatch/1\",\n  \"world\": ");
    json_str(&b, w->name);
    pgi_buf_printf(&b,
                   ",\n  \"steps\": %zu, \"step_h\": %.10g, \"start_step\": %zu, "
                   "\"network\": \"%s\",\n",
                   T, r->step_h, r->start_step, r->network == PG_NETWORK_DC ? "dc" : "copper");
    pgi_buf_printf(
        &b, "  \"commitment\": {\"status\": \"%s\", \"objective\": ", uc_status_name(r->uc_status));
    json_num(&b, r->uc_objective);
    json_key_num(&b, "bound", r->uc_bound);
    json_key_num(&b, "gap", r->uc_gap);
    pgi_buf_printf(&b, ", \"seconds\": %.4f},\n", r->uc_seconds);
    pgi_buf_printf(&b,
                   "  \"problem\": {\"variables\": %zu, \"integers\": %zu, \"constraints\": "
                   "%zu, \"dispatch_seconds\": %.4f},\n",
                   r->n_variables, r->n_integers, r->n_constraints, r->ed_seconds);
    pgi_buf_puts(&b, "  \"totals\": {\"cost\": ");
    json_num(&b, r->total_cost);
    json_key_num(&b, "variable", sum(r->cost_variable, T));
    json_key_num(&b, "fixed", sum(r->cost_fixed, T));
    json_key_num(&b, "startup", sum(r->cost_startup, T));
    json_key_num(&b, "penalty", sum(r->cost_penalty, T));
    json_key_num(&b, "unserved_mwh", r->total_unserved_mwh);
    json_key_num(&b, "overgen_mwh", r->total_overgen_mwh);
    json_key_num(&b, "curtailed_mwh", r->total_curtailed_mwh);
    pgi_buf_puts(&b, "},\n  \"step\": {\"hour\": [");
    for (size_t t = 0; t < T; t++)
        pgi_buf_printf(&b, "%s%.10g", t ? ", " : "", (double)t * r->step_h);
    pgi_buf_puts(&b, "]");
    json_series(&b, "energy_price", r->energy_price, T, 1, 0);
    json_series(&b, "cost_variable", r->cost_variable, T, 1, 0);
    json_series(&b, "cost_fixed", r->cost_fixed, T, 1, 0);
    json_series(&b, "cost_startup", r->cost_startup, T, 1, 0);
    json_series(&b, "cost_penalty", r->cost_penalty, T, 1, 0);
    pgi_buf_puts(&b, "},\n  \"thermal\": [");
    for (size_t g = 0; g < r->n_thermals; g++) {
        json_item(&b, g, w->thermals[g].name);
        json_key_str(&b, "bus", w->buses[w->thermals[g].bus].name);
        json_series(&b, "p", r->thermal_p, T, r->n_thermals, g);
        json_flags(&b, "on", r->thermal_on, T, r->n_thermals, g);
        json_flags(&b, "start", r->thermal_start, T, r->n_thermals, g);
        json_flags(&b, "stop", r->thermal_stop, T, r->n_thermals, g);
        pgi_buf_puts(&b, "}");
    }
    pgi_buf_puts(&b, "],\n  \"renewable\": [");
    for (size_t k = 0; k < r->n_renewables; k++) {
        json_item(&b, k, w->renewables[k].name);
        json_key_str(&b, "bus", w->buses[w->renewables[k].bus].name);
        json_series(&b, "p", r->renewable_p, T, r->n_renewables, k);
        json_series(&b, "available", r->renewable_avail, T, r->n_renewables, k);
        pgi_buf_puts(&b, "}");
    }
    pgi_buf_puts(&b, "],\n  \"storage\": [");
    for (size_t s = 0; s < r->n_storages; s++) {
        json_item(&b, s, w->storages[s].name);
        json_key_str(&b, "bus", w->buses[w->storages[s].bus].name);
        json_series(&b, "charge", r->storage_charge, T, r->n_storages, s);
        json_series(&b, "discharge", r->storage_discharge, T, r->n_storages, s);
        json_series(&b, "soc_mwh", r->storage_soc, T, r->n_storages, s);
        pgi_buf_puts(&b, "}");
    }
    pgi_buf_puts(&b, "],\n  \"bus\": [");
    for (size_t i = 0; i < r->n_buses; i++) {
        json_item(&b, i, w->buses[i].name);
        pgi_buf_printf(&b, ", \"number\": %d", w->buses[i].number);
        json_series(&b, "demand", r->bus_demand, T, r->n_buses, i);
        json_series(&b, "unserved", r->bus_unserved, T, r->n_buses, i);
        json_series(&b, "overgen", r->bus_overgen, T, r->n_buses, i);
        json_series(&b, "lmp", r->lmp, T, r->n_buses, i);
        json_series(&b, "angle_deg", r->bus_angle, T, r->n_buses, i);
        pgi_buf_puts(&b, "}");
    }
    pgi_buf_puts(&b, "],\n  \"branch\": [");
    for (size_t k = 0; k < r->n_branches; k++) {
        const pg_branch *br = &w->branches[k];
        json_item(&b, k, br->name);
        json_key_str(&b, "from", w->buses[br->from].name);
        json_key_str(&b, "to", w->buses[br->to].name);
        json_series(&b, "flow", r->branch_flow, T, r->n_branches, k);
        json_series(&b, "price", r->branch_price, T, r->n_branches, k);
        pgi_buf_puts(&b, "}");
    }
    pgi_buf_puts(&b, "],\n  \"ac\": ");
    if (ac)
        json_ac(&b, ac);
    else
        pgi_buf_puts(&b, "null");
    pgi_buf_puts(&b, "\n}\n");
    return finish(&b, text, err);
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
    pgi_buf_printf(b, "%zu,%.10g,%s,", t, hour, kind);
    csv_field(b, name);
    pgi_buf_printf(b, ",%s,", q);
    if (isfinite(v))
        pgi_buf_printf(b, "%.10g", v == 0 ? 0.0 : v);
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
    for (size_t t = 0; t < r->n_steps; t++) {
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
    return finish(&b, text, err);
}

int
pg_dcopf_result_json(const pg_world *w, const pg_dcopf_result *r, char **text, pg_error *err)
{
    if (!w || !r || !text)
        return pg_error_set(err, PG_EINVAL, "pg_dcopf_result_json: NULL argument");
    if (w->n_buses != r->n_buses || w->n_branches != r->n_branches ||
        w->n_thermals != r->n_thermals)
        return pg_error_set(err, PG_EINVAL, "the OPF result is not from this world");
    pgi_buf b = {0};
    pgi_buf_puts(&b, "{\n  \"format\": \"plurigrid-dcopf/1\",\n  \"world\": ");
    json_str(&b, w->name);
    pgi_buf_puts(&b, ",\n  \"objective\": ");
    json_num(&b, r->objective);
    json_key_num(&b, "unserved_mw", r->unserved_mw);
    json_key_num(&b, "overgen_mw", r->overgen_mw);
    pgi_buf_printf(&b, ", \"seconds\": %.6f,\n  \"thermal\": [", r->seconds);
    for (size_t g = 0; g < r->n_thermals; g++) {
        json_item(&b, g, w->thermals[g].name);
        json_key_str(&b, "bus", w->buses[w->thermals[g].bus].name);
        json_key_num(&b, "p", r->pg[g]);
        pgi_buf_puts(&b, "}");
    }
    pgi_buf_puts(&b, "],\n  \"bus\": [");
    for (size_t i = 0; i < r->n_buses; i++) {
        json_item(&b, i, w->buses[i].name);
        pgi_buf_printf(&b, ", \"number\": %d, \"angle_deg\": ", w->buses[i].number);
        json_num(&b, r->va[i]);
        json_key_num(&b, "lmp", r->lmp[i]);
        pgi_buf_puts(&b, "}");
    }
    pgi_buf_puts(&b, "],\n  \"branch\": [");
    for (size_t k = 0; k < r->n_branches; k++) {
        const pg_branch *br = &w->branches[k];
        json_item(&b, k, br->name);
        json_key_str(&b, "from", w->buses[br->from].name);
        json_key_str(&b, "to", w->buses[br->to].name);
        json_key_num(&b, "flow", r->flow[k]);
        json_key_num(&b, "price", r->branch_price[k]);
        pgi_buf_puts(&b, "}");
    }
    pgi_buf_puts(&b, "]\n}\n");
    return finish(&b, text, err);
}
