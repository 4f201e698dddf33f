/* The nexus kind: the four node configurations of examples/nodes/ (residential.json,
 * commercial.json, datacenter.json, offgrid.json) as loads, PV, batteries and backup generators
 * behind one low-voltage feeder, with the grid connection at the slack.
 *
 * The world: the 20 kV bus (the reference, where the grid connection buys and sells at a price),
 * a 20/0.4 kV transformer sized to the nodes' peak, the low-voltage busbar and one NAYY feeder of
 * homes (the residential node: household load, 6 kWp rooftop PV, a 13.5 kWh / 5 kW battery),
 * solar home systems (the off-grid node: a small evening load, a 0.3 kWp panel, a 0.5 kWh home
 * pack and a 1 kWh shared pack) and offices (the commercial node: a G0-shaped load, 50 kWp PV, a
 * 100 kWh / 50 kW battery, a 60 kW backup generator at 0.45 $/kWh). A data centre (the datacenter
 * node: IT load at PUE 1.4, PV, a UPS battery that keeps 40 % in reserve, a diesel backup at
 * 0.35 $/kWh), scaled by a drawn factor, has its own service cable from the busbar, since its load
 * would take most of a feeder. Sizes are the example nodes' own numbers; counts and the data
 * centre's scale are drawn. docs/worlds.md gives every parameter. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "worlds/internal.h"
#include "worlds/kind_common.h"

static const pgi_cable nayy[] = {
    {150, "NAYY 4x150 SE", 0.208, 0.080, 261, 0.270},
    {240, "NAYY 4x240 SE", 0.125, 0.080, 260, 0.357},
};

/* Standard distribution transformer ratings, kVA (IEC 60076 / DIN EN 50464-1 series). */
static const double trafo_kva[] = {100, 160, 250, 400, 630, 800, 1000, 1250};

static const pgi_param_spec specs[] = {
    {"homes", "{\"int\": [4, 16]}", "", "examples/nodes/residential.json",
     "residential nodes on the feeder"},
    {"solar_home_systems", "{\"int\": [0, 4]}", "", "examples/nodes/offgrid.json",
     "off-grid solar home systems (docked on the feeder)"},
    {"offices", "{\"int\": [0, 1]}", "", "examples/nodes/commercial.json",
     "commercial nodes on the feeder"},
    {"datacenters", "{\"int\": [0, 1]}", "", "examples/nodes/datacenter.json",
     "data centres on their own service cable"},
    {"datacenter_scale", "{\"uniform\": [0.1, 0.3]}", "",
     "examples/nodes/datacenter.json (400 kW IT at PUE 1.4) scaled to an edge data centre",
     "share of the example data centre's IT load, PV, UPS and diesel"},
    {"home_peak_kw", "{\"lognormal\": [1.1, 0.3], \"min\": 1.5, \"max\": 8}", "kW",
     "examples/nodes/residential.json (house load with a 3 kW air conditioner); "
     "profile shaped after BDEW H0 (VDEW 1999), not the published table",
     "peak demand of one home"},
    {"office_peak_kw", "{\"uniform\": [30, 80]}", "kW",
     "examples/nodes/commercial.json (20 kW plug loads, 15 kW lighting, HVAC up to 100 kW)",
     "peak demand of one office"},
    {"shs_peak_kw", "{\"uniform\": [0.03, 0.1]}", "kW",
     "examples/nodes/offgrid.json (lights, phone, radio)", "peak demand of a solar home system"},
    {"segment_m", "{\"lognormal\": [3.4, 0.45], \"min\": 8, \"max\": 150}", "m",
     "Dickert et al. 2013 (distance between connection points, lognormal; median 30 m)",
     "cable length from one node to the next"},
    {"cable_mm2", "{\"choice\": [150, 240], \"weights\": [0.5, 0.5]}", "mm2",
     "Kerber 2011 (NAYY 4x150 and 4x240 feeders)", "cross-section of the feeder's NAYY cable"},
    {"load_power_factor", "0.95", "", "Dickert and Schegner 2011 (households and small business)",
     "power factor of every load"},
    {"grid_price", "{\"uniform\": [60, 150]}", "$/MWh",
     "wholesale prices plus network charges for a low-voltage connection",
     "price at which the grid connection buys and sells energy"},
    {"latitude_deg", "{\"uniform\": [30, 55]}", "deg", "", "latitude of the PV systems"},
    {"day_of_year", "{\"int\": [0, 364]}", "", "", "first day of the time series (0 = 1 January)"},
    {"steps", "24", "", "", "number of hourly steps of the time series"},
};

static const pgi_param_range ranges[] = {
    {1, 40},  {0, 20},    {0, 4},   {0, 2},     {0.01, 1}, {0.1, 20}, {1, 200},  {0.005, 1},
    {1, 500}, {150, 240}, {0.5, 1}, {0, 10000}, {-66, 66}, {0, 364},  {1, 168},
};

_Static_assert(sizeof ranges / sizeof ranges[0] == sizeof specs / sizeof specs[0],
               "one range per parameter");

/* A battery of e_kwh and p_kw at bus, state of charge between soc_min and full, starting (and
 * ending a schedule) at soc0, one-way efficiency eff. */
static int
add_battery(pgi_builder *b, const char *name, size_t bus, double e_kwh, double p_kw, double soc_min,
            double soc0, double eff)
{
    pg_storage s;
    pg_storage_init(&s);
    s.name = (char *)name;
    s.bus = bus;
    s.in_service = true;
    s.energy_mwh = e_kwh / 1000.0;
    s.soc_min_mwh = soc_min * s.energy_mwh;
    s.soc_initial_mwh = soc0 * s.energy_mwh;
    s.soc_target_mwh = s.soc_initial_mwh;
    s.charge_mw = p_kw / 1000.0;
    s.discharge_mw = p_kw / 1000.0;
    s.eff_charge = eff;
    s.eff_discharge = eff;
    s.cost = 20.0; /* wear, $/MWh */
    return pg_world_add_storage(b->w, &s, NULL, b->err);
}

/* A backup generator of max_kw (running at least min_kw) costing usd_kwh, off at the start. */
static int
add_backup(pgi_builder *b, const char *name, size_t bus, double max_kw, double min_kw,
           double usd_kwh, double min_run_h)
{
    pg_thermal t;
    pg_thermal_init(&t);
    t.name = (char *)name;
    t.bus = bus;
    t.in_service = true;
    t.pmin = min_kw / 1000.0;
    t.pmax = max_kw / 1000.0;
    t.qmin = -0.75 * t.pmax;
    t.qmax = 0.75 * t.pmax;
    t.vg = 1.0;
    t.mbase = t.pmax / 0.8;
    t.min_up_h = min_run_h;
    t.min_down_h = 1;
    t.initial_on = false;
    t.initial_h = 24;
    t.p = 0;
    double coef[2] = {0.0, usd_kwh * 1000.0};
    int rc = pg_cost_set_polynomial(&t.cost, coef, 2, b->err);
    if (!rc)
        rc = pg_world_add_thermal(b->w, &t, NULL, b->err);
    pg_cost_clear(&t.cost);
    return rc;
}

static int
build(pg_world *w, const pg_recipe *r, pg_rng *rng, const pgi_profiles *prof,
      pgi_world_facts *facts, pg_error *err)
{
    size_t n_homes = (size_t)pgi_recipe_draw(r, "homes", rng);
    size_t n_shs = (size_t)pgi_recipe_draw(r, "solar_home_systems", rng);
    size_t n_off = (size_t)pgi_recipe_draw(r, "offices", rng);
    size_t n_dc = (size_t)pgi_recipe_draw(r, "datacenters", rng);
    double dc_scale = pgi_recipe_draw(r, "datacenter_scale", rng);
    double mm2 = pgi_recipe_draw(r, "cable_mm2", rng);
    double pf = pgi_recipe_draw(r, "load_power_factor", rng);
    double price = pgi_recipe_draw(r, "grid_price", rng);
    double lat = pgi_recipe_draw(r, "latitude_deg", rng);
    int day = (int)pgi_recipe_draw(r, "day_of_year", rng);
    size_t steps = (size_t)pgi_recipe_draw(r, "steps", rng);
    if (steps < 1 || n_homes + n_shs + n_off + n_dc == 0)
        return pg_error_set(err, PG_EINVAL, "nexus: no nodes or no steps");

    /* The feeder's nodes in order along it: homes, solar home systems and offices shuffled. */
    size_t n_nodes = n_homes + n_shs + n_off;
    int *kind = malloc(sizeof(int) * (n_nodes ? n_nodes : 1));
    double *peak = malloc(sizeof(double) * (n_nodes ? n_nodes : 1));
    if (!kind || !peak) {
        free(kind);
        free(peak);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_nodes; i++)
        kind[i] = i < n_homes ? 0 : i < n_homes + n_shs ? 1 : 2;
    for (size_t i = n_nodes; i > 1; i--) {
        size_t j = pg_rng_below(rng, i);
        int t = kind[i - 1];
        kind[i - 1] = kind[j];
        kind[j] = t;
    }
    double feeder_kw = 0;
    for (size_t i = 0; i < n_nodes; i++) {
        const char *key = kind[i] == 0   ? "home_peak_kw"
                          : kind[i] == 1 ? "shs_peak_kw"
                                         : "office_peak_kw";
        peak[i] = pgi_recipe_draw(r, key, rng);
        feeder_kw += peak[i];
    }
    double dc_kw = n_dc ? 400.0 * 1.4 * dc_scale : 0.0;
    double total_kw = feeder_kw + n_dc * dc_kw;
    const pgi_cable *cab = pgi_cable_pick(nayy, 2, mm2);
    /* A feeder carries its peak within 60 % of its rating (voltage drop): the thicker cable when
     * the drawn one would not. */
    if (feeder_kw > 0.6 * sqrt(3.0) * 0.4 * cab->imax_ka * 1000.0 * pf)
        cab = &nayy[1];
    double s_kva = trafo_kva[sizeof trafo_kva / sizeof trafo_kva[0] - 1];
    for (size_t i = 0; i < sizeof trafo_kva / sizeof trafo_kva[0]; i++)
        if (trafo_kva[i] >= 1.25 * total_kw / pf) {
            s_kva = trafo_kva[i];
            break;
        }

    pgi_builder b;
    int rc = pgi_builder_init(&b, w, prof, steps, 1.0, day, lat, err);
    if (rc)
        goto done;
    size_t mv = 0, lv = 0;
    if ((rc = pgi_builder_bus(&b, "mv", 20.0, PG_BUS_REF, &mv)))
        goto out;
    if ((rc = pgi_builder_bus(&b, "lv", 0.4, PG_BUS_PQ, &lv)))
        goto out;
    if ((rc = pgi_builder_transformer(&b, "trafo", mv, lv, s_kva / 1000.0, s_kva > 630 ? 6.0 : 4.0,
                                      pgi_dt_pk_pct(s_kva))))
        goto out;
    if ((rc = pgi_builder_pv_series(&b, rng)))
        goto out;
    size_t prev = lv;
    for (size_t i = 0; i < n_nodes && !rc; i++) {
        static const char *const tag[] = {"home", "shs", "office"};
        char name[48];
        snprintf(name, sizeof name, "%s%zu", tag[kind[i]], i + 1);
        size_t bus = 0;
        double seg = pgi_recipe_draw(r, "segment_m", rng);
        if ((rc = pgi_builder_bus(&b, name, 0.4, PG_BUS_PQ, &bus)))
            break;
        if ((rc = pgi_builder_line(&b, prev, bus, cab, seg / 1000.0, NULL)))
            break;
        prev = bus;
        char sname[64];
        if (kind[i] == 0) { /* residential.json */
            if ((rc = pgi_builder_load(&b, bus, peak[i] / 1000.0, pf, PGI_PROFILE_HOUSEHOLD, rng)))
                break;
            if ((rc = pgi_builder_pv(&b, bus, 6.0 / 1000.0)))
                break;
            snprintf(sname, sizeof sname, "%s-powerwall", name);
            rc = add_battery(&b, sname, bus, 13.5, 5.0, 0.1, 0.5, 0.95);
        } else if (kind[i] == 1) { /* offgrid.json */
            if ((rc = pgi_builder_load(&b, bus, peak[i] / 1000.0, pf, PGI_PROFILE_VILLAGE, rng)))
                break;
            if ((rc = pgi_builder_pv(&b, bus, 0.3 / 1000.0)))
                break;
            snprintf(sname, sizeof sname, "%s-home-pack", name);
            if ((rc = add_battery(&b, sname, bus, 0.5, 0.2, 0.2, 0.6, 0.95)))
                break;
            snprintf(sname, sizeof sname, "%s-shared-pack", name);
            rc = add_battery(&b, sname, bus, 1.0, 0.5, 0.1, 0.8, 0.95);
        } else { /* commercial.json */
            if ((rc = pgi_builder_load(&b, bus, peak[i] / 1000.0, pf, PGI_PROFILE_COMMERCIAL, rng)))
                break;
            if ((rc = pgi_builder_pv(&b, bus, 50.0 / 1000.0)))
                break;
            snprintf(sname, sizeof sname, "%s-storage", name);
            if ((rc = add_battery(&b, sname, bus, 100.0, 50.0, 0.1, 0.5, 0.95)))
                break;
            snprintf(sname, sizeof sname, "%s-backup", name);
            rc = add_backup(&b, sname, bus, 60.0, 15.0, 0.45, 2.0);
        }
    }
    for (size_t d = 0; d < n_dc && !rc; d++) { /* datacenter.json, scaled */
        char name[48], sname[64];
        snprintf(name, sizeof name, "datacenter%zu", d + 1);
        size_t bus = 0;
        if ((rc = pgi_builder_bus(&b, name, 0.4, PG_BUS_PQ, &bus)))
            break;
        const pgi_cable *svc = &nayy[1];
        if ((rc = pgi_builder_line(&b, lv, bus, svc, 0.03, NULL)))
            break;
        if ((rc = pgi_builder_load(&b, bus, dc_kw / 1000.0, pf, PGI_PROFILE_DATACENTER, rng)))
            break;
        if ((rc = pgi_builder_pv(&b, bus, 100.0 * dc_scale / 1000.0)))
            break;
        snprintf(sname, sizeof sname, "%s-ups", name);
        if ((rc = add_battery(&b, sname, bus, 500.0 * dc_scale, 250.0 * dc_scale, 0.4, 0.7, 0.95)))
            break;
        snprintf(sname, sizeof sname, "%s-diesel", name);
        rc = add_backup(&b, sname, bus, 800.0 * dc_scale, 200.0 * dc_scale, 0.35, 1.0);
    }
    if (!rc)
        rc = pgi_builder_grid(&b, mv, s_kva / 1000.0, price);
    if (!rc)
        pgi_builder_facts(&b, facts);
out:
    pgi_builder_free(&b);
done:
    free(kind);
    free(peak);
    return rc;
}

const pgi_kind pgi_kind_nexus = {
    .pub = {.name = "nexus",
            .summary = "the four Nexus node configurations (homes, solar home systems, offices, "
                       "a data centre) behind one low-voltage feeder with a grid connection",
            .source = "examples/nodes/*.json (residential, offgrid, commercial, datacenter); "
                      "Kerber 2011 and Dickert et al. 2013 for the feeder"},
    .specs = specs,
    .n_specs = sizeof specs / sizeof specs[0],
    .ranges = ranges,
    .build = build,
};
