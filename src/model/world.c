/* The microworld container: construction, deep copy, adders that keep names unique and indices in
 * range, look-ups, cost curves and validation. The world at one step of its time series is in
 * steps.c, its islands in islands.c. */
#include "plurigrid/model.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static void
free_cost(pg_cost *c)
{
    free(c->coef);
    free(c->px);
    free(c->py);
    c->coef = c->px = c->py = NULL;
}

void
pg_cost_clear(pg_cost *c)
{
    if (!c)
        return;
    free_cost(c);
    c->model = PG_COST_NONE;
    c->n = 0;
}

void
pg_world_free(pg_world *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_buses; i++)
        free(w->buses[i].name);
    for (size_t i = 0; i < w->n_branches; i++)
        free(w->branches[i].name);
    for (size_t i = 0; i < w->n_series; i++) {
        free(w->series[i].name);
        free(w->series[i].values);
    }
    for (size_t i = 0; i < w->n_loads; i++)
        free(w->loads[i].name);
    for (size_t i = 0; i < w->n_thermals; i++) {
        free(w->thermals[i].name);
        free_cost(&w->thermals[i].cost);
    }
    for (size_t i = 0; i < w->n_renewables; i++)
        free(w->renewables[i].name);
    for (size_t i = 0; i < w->n_storages; i++)
        free(w->storages[i].name);
    free(w->buses);
    free(w->branches);
    free(w->series);
    free(w->loads);
    free(w->thermals);
    free(w->renewables);
    free(w->storages);
    free(w->name);
    free(w->description);
    free(w);
}

int
pg_world_new(pg_world **out, const char *name, double base_mva, pg_error *err)
{
    if (!out)
        return pg_error_set(err, PG_EINVAL, "pg_world_new: out is NULL");
    if (!(base_mva >= PG_BASE_MVA_MIN && base_mva <= PG_BASE_MVA_MAX))
        return pg_error_set(err, PG_EMODEL,
                            "base MVA is %g; it must be a positive number from %g to %.0f MVA",
                            base_mva, PG_BASE_MVA_MIN, PG_BASE_MVA_MAX);
    pg_world *w = calloc(1, sizeof *w);
    if (!w)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    w->name = pgi_strdup(name ? name : "world");
    if (!w->name) {
        free(w);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    w->base_mva = base_mva;
    *out = w;
    return PG_OK;
}

/* ---------------------------------------------------------------- defaults */

void
pg_bus_init(pg_bus *b)
{
    memset(b, 0, sizeof *b);
    b->type = PG_BUS_PQ;
    b->vm = 1.0;
    b->vmin = 0.9;
    b->vmax = 1.1;
    b->area = 1;
    b->zone = 1;
    b->x = NAN; /* not placed on a drawing */
    b->y = NAN;
}

void
pg_branch_init(pg_branch *br)
{
    memset(br, 0, sizeof *br);
    br->kind = PG_BRANCH_LINE;
    br->from = br->to = PG_NONE;
    br->tap = 1.0;
    br->angmin = -360.0;
    br->angmax = 360.0;
    br->in_service = true;
}

void
pg_load_init(pg_load *l)
{
    memset(l, 0, sizeof *l);
    l->bus = PG_NONE;
    l->p_series = l->q_series = PG_NONE;
    l->in_service = true;
}

void
pg_thermal_init(pg_thermal *t)
{
    memset(t, 0, sizeof *t);
    t->bus = PG_NONE;
    t->in_service = true;
    t->vg = 1.0;
    t->mbase = 100.0;
    t->qmin = -INFINITY;
    t->qmax = INFINITY;
    t->initial_on = true;
    t->cost.model = PG_COST_NONE;
}

void
pg_renewable_init(pg_renewable *r)
{
    memset(r, 0, sizeof *r);
    r->bus = PG_NONE;
    r->in_service = true;
    r->technology = PG_TECH_OTHER;
    r->power_factor = 1.0;
    r->availability = PG_NONE;
}

void
pg_storage_init(pg_storage *s)
{
    memset(s, 0, sizeof *s);
    s->bus = PG_NONE;
    s->in_service = true;
    s->eff_charge = 1.0;
    s->eff_discharge = 1.0;
    s->soc_target_mwh = -1.0;
}

/* ---------------------------------------------------------------- growth */

static int
grow(void **arr, size_t *cap, size_t n, size_t elem, pg_error *err)
{
    if (n < *cap)
        return PG_OK;
    size_t nc = *cap ? *cap * 2 : 8;
    if (nc > SIZE_MAX / elem)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    *arr = p;
    *cap = nc;
    return PG_OK;
}

#define GROW(w, field, n, cap, err)                                                                \
    grow((void **)&(w)->field, &(w)->cap, (w)->n, sizeof *(w)->field, err)

static int
check_name(const char *kind, const char *name, pg_error *err)
{
    if (!name || !name[0])
        return pg_error_set(err, PG_EMODEL, "every %s needs a non-empty name", kind);
    return PG_OK;
}

static int
check_bus_ref(const pg_world *w, const char *kind, const char *name, size_t bus, pg_error *err)
{
    if (bus >= w->n_buses)
        return pg_error_set(err, PG_EMODEL, "%s '%s' refers to a bus that does not exist", kind,
                            name);
    return PG_OK;
}

static int
check_series_ref(const pg_world *w, const char *kind, const char *name, size_t s, pg_error *err)
{
    if (s != PG_NONE && s >= w->n_series)
        return pg_error_set(err, PG_EMODEL, "%s '%s' refers to a time series that does not exist",
                            kind, name);
    return PG_OK;
}

size_t
pg_world_find_bus(const pg_world *w, const char *name)
{
    if (!w || !name)
        return PG_NONE;
    for (size_t i = 0; i < w->n_buses; i++)
        if (strcmp(w->buses[i].name, name) == 0)
            return i;
    return PG_NONE;
}

size_t
pg_world_find_bus_number(const pg_world *w, int number)
{
    if (!w)
        return PG_NONE;
    for (size_t i = 0; i < w->n_buses; i++)
        if (w->buses[i].number == number)
            return i;
    return PG_NONE;
}

size_t
pg_world_find_series(const pg_world *w, const char *name)
{
    if (!w || !name)
        return PG_NONE;
    for (size_t i = 0; i < w->n_series; i++)
        if (strcmp(w->series[i].name, name) == 0)
            return i;
    return PG_NONE;
}

int
pg_world_add_bus(pg_world *w, const pg_bus *b, size_t *index, pg_error *err)
{
    if (!w || !b)
        return pg_error_set(err, PG_EINVAL, "pg_world_add_bus: NULL argument");
    int rc = check_name("bus", b->name, err);
    if (rc)
        return rc;
    if (pg_world_find_bus(w, b->name) != PG_NONE)
        return pg_error_set(err, PG_EMODEL, "bus name '%s' is used twice", b->name);
    if (b->number <= 0)
        return pg_error_set(err, PG_EMODEL, "bus '%s' has number %d; bus numbers must be > 0",
                            b->name, b->number);
    if (pg_world_find_bus_number(w, b->number) != PG_NONE)
        return pg_error_set(err, PG_EMODEL, "bus number %d is used twice", b->number);
    if ((rc = GROW(w, buses, n_buses, cap_buses, err)))
        return rc;
    pg_bus c = *b;
    if (!(c.name = pgi_strdup(b->name)))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    w->buses[w->n_buses] = c;
    if (index)
        *index = w->n_buses;
    w->n_buses++;
    return PG_OK;
}

int
pg_world_add_branch(pg_world *w, const pg_branch *br, size_t *index, pg_error *err)
{
    if (!w || !br)
        return pg_error_set(err, PG_EINVAL, "pg_world_add_branch: NULL argument");
    int rc = check_name("branch", br->name, err);
    if (rc)
        return rc;
    if (br->from >= w->n_buses || br->to >= w->n_buses)
        return pg_error_set(err, PG_EMODEL, "branch '%s' connects a bus that does not exist",
                            br->name);
    if ((rc = GROW(w, branches, n_branches, cap_branches, err)))
        return rc;
    pg_branch c = *br;
    if (!(c.name = pgi_strdup(br->name)))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    w->branches[w->n_branches] = c;
    if (index)
        *index = w->n_branches;
    w->n_branches++;
    return PG_OK;
}

int
pg_world_add_series(pg_world *w, const char *name, double step_h, const double *values, size_t n,
                    size_t *index, pg_error *err)
{
    if (!w || (!values && n))
        return pg_error_set(err, PG_EINVAL, "pg_world_add_series: NULL argument");
    int rc = check_name("time series", name, err);
    if (rc)
        return rc;
    if (pg_world_find_series(w, name) != PG_NONE)
        return pg_error_set(err, PG_EMODEL, "time series name '%s' is used twice", name);
    if (n == 0)
        return pg_error_set(err, PG_EMODEL, "time series '%s' has no values", name);
    if (!(step_h > 0) || !isfinite(step_h))
        return pg_error_set(err, PG_EMODEL, "time series '%s' has step %g h; it must be > 0", name,
                            step_h);
    if ((rc = GROW(w, series, n_series, cap_series, err)))
        return rc;
    pg_series s = {0};
    s.name = pgi_strdup(name);
    s.values = malloc(n * sizeof *s.values);
    if (!s.name || !s.values) {
        free(s.name);
        free(s.values);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    memcpy(s.values, values, n * sizeof *s.values);
    s.n = n;
    s.step_h = step_h;
    w->series[w->n_series] = s;
    if (index)
        *index = w->n_series;
    w->n_series++;
    return PG_OK;
}

int
pg_world_add_load(pg_world *w, const pg_load *l, size_t *index, pg_error *err)
{
    if (!w || !l)
        return pg_error_set(err, PG_EINVAL, "pg_world_add_load: NULL argument");
    int rc;
    if ((rc = check_name("load", l->name, err)) ||
        (rc = check_bus_ref(w, "load", l->name, l->bus, err)) ||
        (rc = check_series_ref(w, "load", l->name, l->p_series, err)) ||
        (rc = check_series_ref(w, "load", l->name, l->q_series, err)))
        return rc;
    if ((rc = GROW(w, loads, n_loads, cap_loads, err)))
        return rc;
    pg_load c = *l;
    if (!(c.name = pgi_strdup(l->name)))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    w->loads[w->n_loads] = c;
    if (index)
        *index = w->n_loads;
    w->n_loads++;
    return PG_OK;
}

static int
copy_cost(pg_cost *dst, const pg_cost *src, pg_error *err)
{
    memset(dst, 0, sizeof *dst);
    switch (src->model) {
    case PG_COST_NONE: return PG_OK;
    case PG_COST_POLYNOMIAL: return pg_cost_set_polynomial(dst, src->coef, src->n, err);
    case PG_COST_PIECEWISE: return pg_cost_set_piecewise(dst, src->px, src->py, src->n, err);
    }
    return pg_error_set(err, PG_EMODEL, "unknown cost model %d", (int)src->model);
}

int
pg_world_add_thermal(pg_world *w, const pg_thermal *t, size_t *index, pg_error *err)
{
    if (!w || !t)
        return pg_error_set(err, PG_EINVAL, "pg_world_add_thermal: NULL argument");
    int rc;
    if ((rc = check_name("thermal unit", t->name, err)) ||
        (rc = check_bus_ref(w, "thermal unit", t->name, t->bus, err)))
        return rc;
    if ((rc = GROW(w, thermals, n_thermals, cap_thermals, err)))
        return rc;
    pg_thermal c = *t;
    if ((rc = copy_cost(&c.cost, &t->cost, err)))
        return rc;
    if (!(c.name = pgi_strdup(t->name))) {
        free_cost(&c.cost);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    w->thermals[w->n_thermals] = c;
    if (index)
        *index = w->n_thermals;
    w->n_thermals++;
    return PG_OK;
}

int
pg_world_add_renewable(pg_world *w, const pg_renewable *r, size_t *index, pg_error *err)
{
    if (!w || !r)
        return pg_error_set(err, PG_EINVAL, "pg_world_add_renewable: NULL argument");
    int rc;
    if ((rc = check_name("renewable unit", r->name, err)) ||
        (rc = check_bus_ref(w, "renewable unit", r->name, r->bus, err)) ||
        (rc = check_series_ref(w, "renewable unit", r->name, r->availability, err)))
        return rc;
    if ((rc = GROW(w, renewables, n_renewables, cap_renewables, err)))
        return rc;
    pg_renewable c = *r;
    if (!(c.name = pgi_strdup(r->name)))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    w->renewables[w->n_renewables] = c;
    if (index)
        *index = w->n_renewables;
    w->n_renewables++;
    return PG_OK;
}

int
pg_world_add_storage(pg_world *w, const pg_storage *s, size_t *index, pg_error *err)
{
    if (!w || !s)
        return pg_error_set(err, PG_EINVAL, "pg_world_add_storage: NULL argument");
    int rc;
    if ((rc = check_name("storage unit", s->name, err)) ||
        (rc = check_bus_ref(w, "storage unit", s->name, s->bus, err)))
        return rc;
    if ((rc = GROW(w, storages, n_storages, cap_storages, err)))
        return rc;
    pg_storage c = *s;
    if (!(c.name = pgi_strdup(s->name)))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    w->storages[w->n_storages] = c;
    if (index)
        *index = w->n_storages;
    w->n_storages++;
    return PG_OK;
}

/* ---------------------------------------------------------------- costs */

int
pg_cost_set_polynomial(pg_cost *c, const double *coef, size_t n, pg_error *err)
{
    if (!c || (!coef && n))
        return pg_error_set(err, PG_EINVAL, "pg_cost_set_polynomial: NULL argument");
    double *k = NULL;
    if (n) {
        k = malloc(n * sizeof *k);
        if (!k)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        memcpy(k, coef, n * sizeof *k);
    }
    free_cost(c);
    c->model = PG_COST_POLYNOMIAL;
    c->n = n;
    c->coef = k;
    return PG_OK;
}

int
pg_cost_set_piecewise(pg_cost *c, const double *px, const double *py, size_t n, pg_error *err)
{
    if (!c || ((!px || !py) && n))
        return pg_error_set(err, PG_EINVAL, "pg_cost_set_piecewise: NULL argument");
    if (n < 2)
        return pg_error_set(err, PG_EMODEL, "a piecewise-linear cost needs at least 2 points");
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    memcpy(x, px, n * sizeof *x);
    memcpy(y, py, n * sizeof *y);
    free_cost(c);
    c->model = PG_COST_PIECEWISE;
    c->n = n;
    c->px = x;
    c->py = y;
    return PG_OK;
}

double
pg_cost_eval(const pg_cost *c, double p)
{
    if (!c)
        return 0.0;
    if (c->model == PG_COST_POLYNOMIAL) {
        double v = 0.0;
        for (size_t k = c->n; k-- > 0;)
            v = v * p + c->coef[k];
        return v;
    }
    if (c->model == PG_COST_PIECEWISE && c->n >= 2) {
        size_t i = 0;
        while (i + 2 < c->n && p > c->px[i + 1])
            i++;
        double dx = c->px[i + 1] - c->px[i];
        double slope = dx != 0 ? (c->py[i + 1] - c->py[i]) / dx : 0.0;
        return c->py[i] + slope * (p - c->px[i]);
    }
    return 0.0;
}

double
pg_cost_marginal(const pg_cost *c, double p)
{
    if (!c)
        return 0.0;
    if (c->model == PG_COST_POLYNOMIAL) {
        double d = 0.0;
        for (size_t k = c->n; k-- > 1;)
            d = d * p + (double)k * c->coef[k];
        return d;
    }
    if (c->model == PG_COST_PIECEWISE && c->n >= 2) {
        size_t i = 0;
        while (i + 2 < c->n && p > c->px[i + 1])
            i++;
        double dx = c->px[i + 1] - c->px[i];
        return dx != 0 ? (c->py[i + 1] - c->py[i]) / dx : 0.0;
    }
    return 0.0;
}

/* ---------------------------------------------------------------- clone */

int
pg_world_clone(pg_world **out, const pg_world *w, pg_error *err)
{
    if (!out || !w)
        return pg_error_set(err, PG_EINVAL, "pg_world_clone: NULL argument");
    pg_world *c = NULL;
    int rc = pg_world_new(&c, w->name, w->base_mva, err);
    if (rc)
        return rc;
    if (w->description && !(c->description = pgi_strdup(w->description))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    /* Buses are copied as they are: going through pg_world_add_bus would check every name and
     * number against every other, quadratic in the buses, for a world that already has them. */
    if (w->n_buses) {
        c->buses = calloc(w->n_buses, sizeof *c->buses);
        if (!c->buses)
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        else
            c->cap_buses = w->n_buses;
    }
    for (size_t i = 0; i < w->n_buses && !rc; i++) {
        c->buses[i] = w->buses[i];
        if (!w->buses[i].name)
            rc = pg_error_set(err, PG_EMODEL, "bus %zu has no name", i + 1);
        else if (!(c->buses[i].name = pgi_strdup(w->buses[i].name)))
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        else
            c->n_buses++;
    }
    for (size_t i = 0; i < w->n_series && !rc; i++)
        rc = pg_world_add_series(c, w->series[i].name, w->series[i].step_h, w->series[i].values,
                                 w->series[i].n, NULL, err);
    for (size_t i = 0; i < w->n_branches && !rc; i++)
        rc = pg_world_add_branch(c, &w->branches[i], NULL, err);
    for (size_t i = 0; i < w->n_loads && !rc; i++)
        rc = pg_world_add_load(c, &w->loads[i], NULL, err);
    for (size_t i = 0; i < w->n_thermals && !rc; i++)
        rc = pg_world_add_thermal(c, &w->thermals[i], NULL, err);
    for (size_t i = 0; i < w->n_renewables && !rc; i++)
        rc = pg_world_add_renewable(c, &w->renewables[i], NULL, err);
    for (size_t i = 0; i < w->n_storages && !rc; i++)
        rc = pg_world_add_storage(c, &w->storages[i], NULL, err);
out:
    if (rc) {
        pg_world_free(c);
        return rc;
    }
    *out = c;
    return PG_OK;
}

/* ---------------------------------------------------------------- validation */

static bool
finite_all(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return false;
    return true;
}

#define FAIL(...) return pg_error_set(err, PG_EMODEL, __VA_ARGS__)

static int
cmp_bus_name(const void *a, const void *b)
{
    return strcmp((*(const pg_bus *const *)a)->name, (*(const pg_bus *const *)b)->name);
}

static int
cmp_bus_number(const void *a, const void *b)
{
    int x = (*(const pg_bus *const *)a)->number, y = (*(const pg_bus *const *)b)->number;
    return (x > y) - (x < y);
}

/* Unique bus names and numbers, by sorting (a pairwise check is quadratic in the buses). */
static int
check_unique_buses(const pg_world *w, pg_error *err)
{
    if (w->n_buses < 2)
        return PG_OK;
    const pg_bus **v = malloc(w->n_buses * sizeof *v);
    if (!v)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < w->n_buses; i++)
        v[i] = &w->buses[i];
    int rc = PG_OK;
    qsort(v, w->n_buses, sizeof *v, cmp_bus_name);
    for (size_t i = 1; i < w->n_buses && !rc; i++)
        if (strcmp(v[i]->name, v[i - 1]->name) == 0)
            rc = pg_error_set(err, PG_EMODEL, "bus name '%s' is used twice", v[i]->name);
    if (!rc) {
        qsort(v, w->n_buses, sizeof *v, cmp_bus_number);
        for (size_t i = 1; i < w->n_buses && !rc; i++)
            if (v[i]->number == v[i - 1]->number)
                rc = pg_error_set(err, PG_EMODEL, "bus number %d is used twice", v[i]->number);
    }
    free(v);
    return rc;
}

int
pg_world_validate(const pg_world *w, pg_error *err)
{
    if (!w)
        return pg_error_set(err, PG_EINVAL, "pg_world_validate: NULL world");
    if (!(w->base_mva >= PG_BASE_MVA_MIN && w->base_mva <= PG_BASE_MVA_MAX))
        FAIL("base MVA is %g; it must be a positive number from %g to %.0f MVA", w->base_mva,
             PG_BASE_MVA_MIN, PG_BASE_MVA_MAX);
    if (w->n_buses == 0)
        FAIL("the world has no buses: a power system needs at least one");
    for (size_t i = 0; i < w->n_buses; i++) {
        const pg_bus *b = &w->buses[i];
        if (!b->name || !b->name[0])
            FAIL("bus %zu (number %d) has no name", i + 1, b->number);
        double v[] = {b->base_kv, b->vm, b->va, b->vmin, b->vmax, b->gs, b->bs};
        if (!finite_all(v, sizeof v / sizeof *v))
            FAIL("bus '%s' has a value that is not a finite number", b->name);
        if (b->type < PG_BUS_PQ || b->type > PG_BUS_ISOLATED)
            FAIL("bus '%s' has unknown type %d (1 PQ, 2 PV, 3 reference, 4 isolated)", b->name,
                 (int)b->type);
        if (b->base_kv < 0)
            FAIL("bus '%s' has negative base voltage %g kV", b->name, b->base_kv);
        if (b->vmin > b->vmax)
            FAIL("bus '%s': vmin %g p.u. > vmax %g p.u.", b->name, b->vmin, b->vmax);
        if (b->vm < 0)
            FAIL("bus '%s' has negative voltage magnitude %g p.u.", b->name, b->vm);
        if (isnan(b->x) != isnan(b->y))
            FAIL("bus '%s' has only one drawing coordinate (x %g, y %g): a bus is placed with "
                 "both or neither",
                 b->name, b->x, b->y);
        if (!isnan(b->x) && !(fabs(b->x) <= PG_POSITION_MAX && fabs(b->y) <= PG_POSITION_MAX))
            FAIL("bus '%s' is drawn at (%g, %g); drawing coordinates must be finite numbers from "
                 "%g to %g",
                 b->name, b->x, b->y, -PG_POSITION_MAX, PG_POSITION_MAX);
    }
    int rc = check_unique_buses(w, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < w->n_branches; i++) {
        const pg_branch *br = &w->branches[i];
        double v[] = {br->r,      br->x,   br->b,     br->rate_a, br->rate_b,
                      br->rate_c, br->tap, br->shift, br->angmin, br->angmax};
        if (!finite_all(v, sizeof v / sizeof *v))
            FAIL("branch '%s' has a value that is not a finite number", br->name);
        if (br->from >= w->n_buses || br->to >= w->n_buses)
            FAIL("branch '%s' connects a bus that does not exist", br->name);
        if (br->from == br->to)
            FAIL("branch '%s' connects bus '%s' to itself", br->name, w->buses[br->from].name);
        if (br->r == 0 && br->x == 0)
            FAIL("branch '%s' has zero impedance (r = x = 0)", br->name);
        if (!(br->tap > 0))
            FAIL("branch '%s' has tap ratio %g; it must be > 0", br->name, br->tap);
        if (br->rate_a < 0 || br->rate_b < 0 || br->rate_c < 0)
            FAIL("branch '%s' has a negative rating", br->name);
        if (br->angmin > br->angmax)
            FAIL("branch '%s': angmin %g > angmax %g degrees", br->name, br->angmin, br->angmax);
    }
    for (size_t i = 0; i < w->n_series; i++) {
        const pg_series *s = &w->series[i];
        if (s->n == 0)
            FAIL("time series '%s' has no values", s->name);
        if (!(s->step_h > 0) || !isfinite(s->step_h))
            FAIL("time series '%s' has step %g h; it must be > 0", s->name, s->step_h);
        for (size_t k = 0; k < s->n; k++)
            if (!isfinite(s->values[k]))
                FAIL("time series '%s' value %zu is not a finite number", s->name, k);
        for (size_t j = i + 1; j < w->n_series; j++)
            if (strcmp(w->series[j].name, s->name) == 0)
                FAIL("time series name '%s' is used twice", s->name);
    }
    for (size_t i = 0; i < w->n_loads; i++) {
        const pg_load *l = &w->loads[i];
        if (!isfinite(l->p) || !isfinite(l->q))
            FAIL("load '%s' has a value that is not a finite number", l->name);
        if (l->bus >= w->n_buses)
            FAIL("load '%s' refers to a bus that does not exist", l->name);
        if ((l->p_series != PG_NONE && l->p_series >= w->n_series) ||
            (l->q_series != PG_NONE && l->q_series >= w->n_series))
            FAIL("load '%s' refers to a time series that does not exist", l->name);
    }
    for (size_t i = 0; i < w->n_thermals; i++) {
        const pg_thermal *t = &w->thermals[i];
        double v[] = {t->p,         t->q,          t->pmin,         t->pmax,         t->vg,
                      t->mbase,     t->ramp_up,    t->ramp_down,    t->min_up_h,     t->min_down_h,
                      t->initial_h, t->fixed_cost, t->startup_cost, t->shutdown_cost};
        if (!finite_all(v, sizeof v / sizeof *v) || isnan(t->qmin) || isnan(t->qmax))
            FAIL("thermal unit '%s' has a value that is not a number", t->name);
        if (t->bus >= w->n_buses)
            FAIL("thermal unit '%s' refers to a bus that does not exist", t->name);
        if (t->pmin > t->pmax)
            FAIL("thermal unit '%s': pmin %g MW > pmax %g MW", t->name, t->pmin, t->pmax);
        if (t->qmin > t->qmax)
            FAIL("thermal unit '%s': qmin %g MVAr > qmax %g MVAr", t->name, t->qmin, t->qmax);
        if (t->ramp_up < 0 || t->ramp_down < 0)
            FAIL("thermal unit '%s' has a negative ramp limit", t->name);
        if (t->min_up_h < 0 || t->min_down_h < 0 || t->initial_h < 0)
            FAIL("thermal unit '%s' has a negative minimum up/down or initial time", t->name);
        if (t->startup_cost < 0 || t->shutdown_cost < 0)
            FAIL("thermal unit '%s' has a negative start-up or shut-down cost", t->name);
        if (!(t->vg > 0))
            FAIL("thermal unit '%s' has voltage setpoint %g p.u.; it must be > 0", t->name, t->vg);
        const pg_cost *c = &t->cost;
        if (c->model == PG_COST_POLYNOMIAL) {
            if (!finite_all(c->coef, c->n))
                FAIL("thermal unit '%s' has a cost coefficient that is not finite", t->name);
        } else if (c->model == PG_COST_PIECEWISE) {
            if (c->n < 2)
                FAIL("thermal unit '%s': a piecewise-linear cost needs at least 2 points", t->name);
            if (!finite_all(c->px, c->n) || !finite_all(c->py, c->n))
                FAIL("thermal unit '%s' has a cost point that is not finite", t->name);
            for (size_t k = 1; k < c->n; k++)
                if (!(c->px[k] > c->px[k - 1]))
                    FAIL("thermal unit '%s': cost breakpoints must increase (point %zu: %g MW "
                         "after %g MW)",
                         t->name, k + 1, c->px[k], c->px[k - 1]);
        } else if (c->model != PG_COST_NONE) {
            FAIL("thermal unit '%s' has unknown cost model %d", t->name, (int)c->model);
        }
    }
    for (size_t i = 0; i < w->n_renewables; i++) {
        const pg_renewable *r = &w->renewables[i];
        double v[] = {r->rating, r->power_factor, r->cost, r->p, r->q};
        if (!finite_all(v, sizeof v / sizeof *v))
            FAIL("renewable unit '%s' has a value that is not a finite number", r->name);
        if (r->bus >= w->n_buses)
            FAIL("renewable unit '%s' refers to a bus that does not exist", r->name);
        if (r->rating < 0)
            FAIL("renewable unit '%s' has negative rating %g MW", r->name, r->rating);
        if (!(r->power_factor > 0 && r->power_factor <= 1))
            FAIL("renewable unit '%s' has power factor %g; it must be in (0, 1]", r->name,
                 r->power_factor);
        if (r->availability != PG_NONE) {
            if (r->availability >= w->n_series)
                FAIL("renewable unit '%s' refers to a time series that does not exist", r->name);
            const pg_series *s = &w->series[r->availability];
            for (size_t k = 0; k < s->n; k++)
                if (s->values[k] < 0 || s->values[k] > 1)
                    FAIL("renewable unit '%s': availability series '%s' value %zu is %g; "
                         "availability is a fraction of the rating in [0, 1]",
                         r->name, s->name, k, s->values[k]);
        }
    }
    for (size_t i = 0; i < w->n_storages; i++) {
        const pg_storage *s = &w->storages[i];
        double v[] = {s->energy_mwh,
                      s->soc_min_mwh,
                      s->soc_initial_mwh,
                      s->soc_target_mwh,
                      s->charge_mw,
                      s->discharge_mw,
                      s->eff_charge,
                      s->eff_discharge,
                      s->cost,
                      s->p,
                      s->q};
        if (!finite_all(v, sizeof v / sizeof *v))
            FAIL("storage unit '%s' has a value that is not a finite number", s->name);
        if (s->bus >= w->n_buses)
            FAIL("storage unit '%s' refers to a bus that does not exist", s->name);
        if (s->energy_mwh < 0 || s->charge_mw < 0 || s->discharge_mw < 0)
            FAIL("storage unit '%s' has a negative capacity or power limit", s->name);
        if (!(s->eff_charge > 0 && s->eff_charge <= 1) ||
            !(s->eff_discharge > 0 && s->eff_discharge <= 1))
            FAIL("storage unit '%s' has an efficiency outside (0, 1] (charge %g, discharge %g)",
                 s->name, s->eff_charge, s->eff_discharge);
        if (s->soc_min_mwh < 0 || s->soc_min_mwh > s->energy_mwh)
            FAIL("storage unit '%s': minimum state of charge %g MWh is outside [0, %g] MWh",
                 s->name, s->soc_min_mwh, s->energy_mwh);
        if (s->soc_initial_mwh < s->soc_min_mwh || s->soc_initial_mwh > s->energy_mwh)
            FAIL("storage unit '%s': initial state of charge %g MWh is outside [%g, %g] MWh",
                 s->name, s->soc_initial_mwh, s->soc_min_mwh, s->energy_mwh);
        if (s->soc_target_mwh >= 0 &&
            (s->soc_target_mwh < s->soc_min_mwh || s->soc_target_mwh > s->energy_mwh))
            FAIL("storage unit '%s': target state of charge %g MWh is outside [%g, %g] MWh",
                 s->name, s->soc_target_mwh, s->soc_min_mwh, s->energy_mwh);
    }
    return PG_OK;
}
