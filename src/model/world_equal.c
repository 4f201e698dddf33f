/* Field-by-field comparison of two worlds: what "reading a written file gives the same world"
 * means, for the format round trips and for anyone who needs to know whether two worlds differ. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plurigrid/model.h"

typedef struct cmp {
    char *diff;
    size_t size;
    bool equal;
} cmp;

static void differ(cmp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
differ(cmp *c, const char *fmt, ...)
{
    if (!c->equal)
        return;
    c->equal = false;
    if (c->diff && c->size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->diff, c->size, fmt, ap);
        va_end(ap);
    }
}

static void
num(cmp *c, const char *what, size_t i, const char *field, double a, double b)
{
    if (a == b || (isnan(a) && isnan(b)))
        return;
    if (i == PG_NONE)
        differ(c, "%s: %.17g vs %.17g", field, a, b);
    else
        differ(c, "%s[%zu].%s: %.17g vs %.17g", what, i, field, a, b);
}

static void
integer(cmp *c, const char *what, size_t i, const char *field, long long a, long long b)
{
    if (a != b)
        differ(c, "%s[%zu].%s: %lld vs %lld", what, i, field, a, b);
}

static void
index_eq(cmp *c, const char *what, size_t i, const char *field, size_t a, size_t b)
{
    if (a != b)
        differ(c, "%s[%zu].%s: index %lld vs %lld", what, i, field,
               a == PG_NONE ? -1LL : (long long)a, b == PG_NONE ? -1LL : (long long)b);
}

static void
str(cmp *c, const char *what, size_t i, const char *field, const char *a, const char *b)
{
    if ((!a && !b) || (a && b && strcmp(a, b) == 0))
        return;
    if (i == PG_NONE)
        differ(c, "%s: \"%s\" vs \"%s\"", field, a ? a : "(none)", b ? b : "(none)");
    else
        differ(c, "%s[%zu].%s: \"%s\" vs \"%s\"", what, i, field, a ? a : "(none)",
               b ? b : "(none)");
}

static void
cost(cmp *c, size_t i, const pg_cost *a, const pg_cost *b)
{
    integer(c, "thermals", i, "cost.model", a->model, b->model);
    integer(c, "thermals", i, "cost.n", (long long)a->n, (long long)b->n);
    if (!c->equal)
        return;
    char f[40];
    for (size_t k = 0; k < a->n; k++) {
        if (a->model == PG_COST_POLYNOMIAL) {
            snprintf(f, sizeof f, "cost.coef[%zu]", k);
            num(c, "thermals", i, f, a->coef[k], b->coef[k]);
        } else if (a->model == PG_COST_PIECEWISE) {
            snprintf(f, sizeof f, "cost.px[%zu]", k);
            num(c, "thermals", i, f, a->px[k], b->px[k]);
            snprintf(f, sizeof f, "cost.py[%zu]", k);
            num(c, "thermals", i, f, a->py[k], b->py[k]);
        }
    }
}

bool
pg_world_equal(const pg_world *a, const pg_world *b, char *diff, size_t size)
{
    cmp c = {diff, size, true};
    if (diff && size)
        diff[0] = '\0';
    if (!a || !b) {
        if (a != b)
            differ(&c, "one world is NULL");
        return c.equal;
    }
    str(&c, "", PG_NONE, "name", a->name, b->name);
    str(&c, "", PG_NONE, "description", a->description, b->description);
    num(&c, "", PG_NONE, "base_mva", a->base_mva, b->base_mva);
#define COUNT(field)                                                                               \
    if (a->n_##field != b->n_##field)                                                              \
        differ(&c, "number of " #field ": %zu vs %zu", a->n_##field, b->n_##field);
    COUNT(buses)
    COUNT(branches)
    COUNT(series)
    COUNT(loads)
    COUNT(thermals)
    COUNT(renewables)
    COUNT(storages)
#undef COUNT
    if (!c.equal)
        return false;
    for (size_t i = 0; i < a->n_buses && c.equal; i++) {
        const pg_bus *x = &a->buses[i], *y = &b->buses[i];
        str(&c, "buses", i, "name", x->name, y->name);
        integer(&c, "buses", i, "number", x->number, y->number);
        integer(&c, "buses", i, "type", x->type, y->type);
        num(&c, "buses", i, "base_kv", x->base_kv, y->base_kv);
        num(&c, "buses", i, "vm", x->vm, y->vm);
        num(&c, "buses", i, "va", x->va, y->va);
        num(&c, "buses", i, "vmin", x->vmin, y->vmin);
        num(&c, "buses", i, "vmax", x->vmax, y->vmax);
        num(&c, "buses", i, "gs", x->gs, y->gs);
        num(&c, "buses", i, "bs", x->bs, y->bs);
        integer(&c, "buses", i, "area", x->area, y->area);
        integer(&c, "buses", i, "zone", x->zone, y->zone);
        num(&c, "buses", i, "x", x->x, y->x);
        num(&c, "buses", i, "y", x->y, y->y);
    }
    for (size_t i = 0; i < a->n_branches && c.equal; i++) {
        const pg_branch *x = &a->branches[i], *y = &b->branches[i];
        str(&c, "branches", i, "name", x->name, y->name);
        integer(&c, "branches", i, "kind", x->kind, y->kind);
        index_eq(&c, "branches", i, "from", x->from, y->from);
        index_eq(&c, "branches", i, "to", x->to, y->to);
        num(&c, "branches", i, "r", x->r, y->r);
        num(&c, "branches", i, "x", x->x, y->x);
        num(&c, "branches", i, "b", x->b, y->b);
        num(&c, "branches", i, "rate_a", x->rate_a, y->rate_a);
        num(&c, "branches", i, "rate_b", x->rate_b, y->rate_b);
        num(&c, "branches", i, "rate_c", x->rate_c, y->rate_c);
        num(&c, "branches", i, "tap", x->tap, y->tap);
        num(&c, "branches", i, "shift", x->shift, y->shift);
        num(&c, "branches", i, "angmin", x->angmin, y->angmin);
        num(&c, "branches", i, "angmax", x->angmax, y->angmax);
        integer(&c, "branches", i, "in_service", x->in_service, y->in_service);
    }
    for (size_t i = 0; i < a->n_series && c.equal; i++) {
        const pg_series *x = &a->series[i], *y = &b->series[i];
        str(&c, "series", i, "name", x->name, y->name);
        num(&c, "series", i, "step_h", x->step_h, y->step_h);
        integer(&c, "series", i, "n", (long long)x->n, (long long)y->n);
        for (size_t k = 0; k < x->n && c.equal; k++) {
            char f[40];
            snprintf(f, sizeof f, "values[%zu]", k);
            num(&c, "series", i, f, x->values[k], y->values[k]);
        }
    }
    for (size_t i = 0; i < a->n_loads && c.equal; i++) {
        const pg_load *x = &a->loads[i], *y = &b->loads[i];
        str(&c, "loads", i, "name", x->name, y->name);
        index_eq(&c, "loads", i, "bus", x->bus, y->bus);
        num(&c, "loads", i, "p", x->p, y->p);
        num(&c, "loads", i, "q", x->q, y->q);
        index_eq(&c, "loads", i, "p_series", x->p_series, y->p_series);
        index_eq(&c, "loads", i, "q_series", x->q_series, y->q_series);
        integer(&c, "loads", i, "in_service", x->in_service, y->in_service);
    }
    for (size_t i = 0; i < a->n_thermals && c.equal; i++) {
        const pg_thermal *x = &a->thermals[i], *y = &b->thermals[i];
        str(&c, "thermals", i, "name", x->name, y->name);
        index_eq(&c, "thermals", i, "bus", x->bus, y->bus);
        integer(&c, "thermals", i, "in_service", x->in_service, y->in_service);
        num(&c, "thermals", i, "p", x->p, y->p);
        num(&c, "thermals", i, "q", x->q, y->q);
        num(&c, "thermals", i, "pmin", x->pmin, y->pmin);
        num(&c, "thermals", i, "pmax", x->pmax, y->pmax);
        num(&c, "thermals", i, "qmin", x->qmin, y->qmin);
        num(&c, "thermals", i, "qmax", x->qmax, y->qmax);
        num(&c, "thermals", i, "vg", x->vg, y->vg);
        num(&c, "thermals", i, "mbase", x->mbase, y->mbase);
        num(&c, "thermals", i, "ramp_up", x->ramp_up, y->ramp_up);
        num(&c, "thermals", i, "ramp_down", x->ramp_down, y->ramp_down);
        num(&c, "thermals", i, "min_up_h", x->min_up_h, y->min_up_h);
        num(&c, "thermals", i, "min_down_h", x->min_down_h, y->min_down_h);
        integer(&c, "thermals", i, "initial_on", x->initial_on, y->initial_on);
        num(&c, "thermals", i, "initial_h", x->initial_h, y->initial_h);
        cost(&c, i, &x->cost, &y->cost);
        num(&c, "thermals", i, "fixed_cost", x->fixed_cost, y->fixed_cost);
        num(&c, "thermals", i, "startup_cost", x->startup_cost, y->startup_cost);
        num(&c, "thermals", i, "shutdown_cost", x->shutdown_cost, y->shutdown_cost);
    }
    for (size_t i = 0; i < a->n_renewables && c.equal; i++) {
        const pg_renewable *x = &a->renewables[i], *y = &b->renewables[i];
        str(&c, "renewables", i, "name", x->name, y->name);
        index_eq(&c, "renewables", i, "bus", x->bus, y->bus);
        integer(&c, "renewables", i, "in_service", x->in_service, y->in_service);
        integer(&c, "renewables", i, "technology", x->technology, y->technology);
        num(&c, "renewables", i, "rating", x->rating, y->rating);
        num(&c, "renewables", i, "power_factor", x->power_factor, y->power_factor);
        index_eq(&c, "renewables", i, "availability", x->availability, y->availability);
        num(&c, "renewables", i, "cost", x->cost, y->cost);
        num(&c, "renewables", i, "p", x->p, y->p);
        num(&c, "renewables", i, "q", x->q, y->q);
    }
    for (size_t i = 0; i < a->n_storages && c.equal; i++) {
        const pg_storage *x = &a->storages[i], *y = &b->storages[i];
        str(&c, "storages", i, "name", x->name, y->name);
        index_eq(&c, "storages", i, "bus", x->bus, y->bus);
        integer(&c, "storages", i, "in_service", x->in_service, y->in_service);
        num(&c, "storages", i, "energy_mwh", x->energy_mwh, y->energy_mwh);
        num(&c, "storages", i, "soc_min_mwh", x->soc_min_mwh, y->soc_min_mwh);
        num(&c, "storages", i, "soc_initial_mwh", x->soc_initial_mwh, y->soc_initial_mwh);
        num(&c, "storages", i, "soc_target_mwh", x->soc_target_mwh, y->soc_target_mwh);
        num(&c, "storages", i, "charge_mw", x->charge_mw, y->charge_mw);
        num(&c, "storages", i, "discharge_mw", x->discharge_mw, y->discharge_mw);
        num(&c, "storages", i, "eff_charge", x->eff_charge, y->eff_charge);
        num(&c, "storages", i, "eff_discharge", x->eff_discharge, y->eff_discharge);
        num(&c, "storages", i, "cost", x->cost, y->cost);
        num(&c, "storages", i, "p", x->p, y->p);
        num(&c, "storages", i, "q", x->q, y->q);
    }
    return c.equal;
}
