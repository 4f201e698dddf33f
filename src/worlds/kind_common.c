/* The builder the grid kinds share (kind_common.h): components added to a world in per unit of
 * its base, from cable and transformer data in physical units. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/model_internal.h"
#include "worlds/kind_common.h"

const pgi_cable *
pgi_cable_pick(const pgi_cable *cables, size_t n, double mm2)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (fabs(cables[i].mm2 - mm2) < fabs(cables[best].mm2 - mm2))
            best = i;
    return &cables[best];
}

double
pgi_dt_pk_pct(double s_kva)
{
    static const double kva[] = {100, 160, 250, 400, 630, 1000},
                        pk_w[] = {1750, 2350, 3250, 4600, 6500, 10500};
    const size_t n = sizeof kva / sizeof kva[0];
    double s = fmin(fmax(s_kva, kva[0]), kva[n - 1]), ls = log(s), pk = pk_w[n - 1];
    for (size_t i = 0; i + 1 < n; i++) {
        if (ls <= log(kva[i + 1])) {
            double t = (ls - log(kva[i])) / (log(kva[i + 1]) - log(kva[i]));
            pk = pk_w[i] + t * (pk_w[i + 1] - pk_w[i]);
            break;
        }
    }
    return pk / (s * 1000.0) * 100.0;
}

int
pgi_builder_init(pgi_builder *b, pg_world *w, const pgi_profiles *prof, size_t steps, double step_h,
                 int day, double latitude, pg_error *err)
{
    b->w = w;
    b->prof = prof;
    b->err = err;
    b->steps = steps;
    b->step_h = step_h;
    b->day = day;
    b->latitude = latitude;
    b->pv_series = PG_NONE;
    b->feeder_km = 0;
    b->buf = calloc(steps ? steps : 1, sizeof *b->buf);
    if (!b->buf)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    return PG_OK;
}

void
pgi_builder_free(pgi_builder *b)
{
    free(b->buf);
    b->buf = NULL;
}

int
pgi_builder_bus(pgi_builder *b, const char *name, double kv, pg_bus_type type, size_t *index)
{
    pg_bus bus;
    pg_bus_init(&bus);
    bus.name = (char *)name;
    bus.number = (int)b->w->n_buses + 1;
    bus.type = type;
    bus.base_kv = kv;
    bus.vm = 1.0;
    bus.va = 0.0;
    bus.vmin = 0.9;
    bus.vmax = 1.1;
    return pg_world_add_bus(b->w, &bus, index, b->err);
}

int
pgi_builder_line(pgi_builder *b, size_t from, size_t to, const pgi_cable *c, double km,
                 size_t *index)
{
    double kv = b->w->buses[to].base_kv, base = b->w->base_mva;
    double zb = kv * kv / base;
    char name[48];
    snprintf(name, sizeof name, "l%zu", b->w->n_branches + 1);
    pg_branch br;
    pg_branch_init(&br);
    br.name = name;
    br.kind = PG_BRANCH_LINE;
    br.from = from;
    br.to = to;
    br.r = c->r_ohm_km * km / zb;
    br.x = c->x_ohm_km * km / zb;
    br.b = 2.0 * M_PI * 50.0 * c->c_nf_km * 1e-9 * km * zb;
    br.rate_a = sqrt(3.0) * kv * c->imax_ka;
    br.rate_b = br.rate_a;
    br.rate_c = br.rate_a;
    br.tap = 1.0;
    br.in_service = true;
    int rc = pg_world_add_branch(b->w, &br, index, b->err);
    if (!rc)
        b->feeder_km += km;
    return rc;
}

int
pgi_builder_transformer(pgi_builder *b, const char *name, size_t from, size_t to, double s_mva,
                        double uk_pct, double pk_pct)
{
    double base = b->w->base_mva;
    double z = uk_pct / 100.0 * base / s_mva, r = pk_pct / 100.0 * base / s_mva;
    pg_branch br;
    pg_branch_init(&br);
    br.name = (char *)name;
    br.kind = PG_BRANCH_TRANSFORMER;
    br.from = from;
    br.to = to;
    br.r = r;
    br.x = sqrt(fmax(z * z - r * r, 0.0));
    br.rate_a = br.rate_b = br.rate_c = s_mva;
    br.tap = 1.0;
    br.in_service = true;
    return pg_world_add_branch(b->w, &br, NULL, b->err);
}

static int
add_series(pgi_builder *b, const char *prefix, size_t *index)
{
    char name[48];
    snprintf(name, sizeof name, "%s%zu", prefix, b->w->n_series + 1);
    return pg_world_add_series(b->w, name, b->step_h, b->buf, b->steps, index, b->err);
}

static int
profile(pgi_builder *b, pgi_profile_kind kind, pg_rng *rng)
{
    pgi_profile_request rq = {.kind = kind,
                              .n = b->steps,
                              .step_h = b->step_h,
                              .day_of_year = b->day,
                              .latitude_deg = b->latitude};
    return pgi_profile(b->prof, &rq, rng, b->buf, b->err);
}

int
pgi_builder_load(pgi_builder *b, size_t bus, double p_mw, double pf, pgi_profile_kind kind,
                 pg_rng *rng)
{
    size_t s = PG_NONE;
    int rc = profile(b, kind, rng);
    if (!rc)
        rc = add_series(b, "load", &s);
    if (rc)
        return rc;
    char name[48];
    snprintf(name, sizeof name, "load%zu", b->w->n_loads + 1);
    pg_load l;
    pg_load_init(&l);
    l.name = name;
    l.bus = bus;
    l.p = p_mw;
    /* Q from P and the power factor: the model's one conversion (pgi_renewable_q). */
    pg_renewable as_pf;
    pg_renewable_init(&as_pf);
    as_pf.power_factor = pf;
    l.q = pgi_renewable_q(&as_pf, p_mw);
    l.p_series = s;
    l.q_series = s;
    l.in_service = true;
    return pg_world_add_load(b->w, &l, NULL, b->err);
}

int
pgi_builder_pv_series(pgi_builder *b, pg_rng *rng)
{
    int rc = profile(b, PGI_PROFILE_PV, rng);
    if (!rc)
        rc = add_series(b, "pv", &b->pv_series);
    return rc;
}

int
pgi_builder_pv(pgi_builder *b, size_t bus, double rating_mw)
{
    char name[48];
    snprintf(name, sizeof name, "pv%zu", b->w->n_renewables + 1);
    pg_renewable r;
    pg_renewable_init(&r);
    r.name = name;
    r.bus = bus;
    r.in_service = true;
    r.technology = PG_TECH_SOLAR;
    r.rating = rating_mw;
    r.power_factor = 1.0;
    r.availability = b->pv_series;
    r.cost = 0.0;
    r.p = 0.0;
    r.q = 0.0;
    return pg_world_add_renewable(b->w, &r, NULL, b->err);
}

int
pgi_builder_grid(pgi_builder *b, size_t bus, double limit_mw, double price)
{
    pg_thermal t;
    pg_thermal_init(&t);
    t.name = "grid";
    t.bus = bus;
    t.in_service = true;
    t.pmin = -limit_mw;
    t.pmax = limit_mw;
    t.qmin = -limit_mw;
    t.qmax = limit_mw;
    t.p = 0.0;
    for (size_t i = 0; i < b->w->n_loads; i++)
        t.p += b->w->loads[i].p;
    t.vg = 1.0;
    t.mbase = limit_mw;
    t.initial_on = true;
    t.initial_h = 24;
    double coef[2] = {0.0, price};
    size_t idx = 0;
    int rc = pg_cost_set_polynomial(&t.cost, coef, 2, b->err);
    if (!rc)
        rc = pg_world_add_thermal(b->w, &t, &idx, b->err);
    pg_cost_clear(&t.cost);
    return rc;
}

void
pgi_builder_facts(const pgi_builder *b, pgi_world_facts *facts)
{
    if (facts)
        facts->feeder_km = b->feeder_km;
}
