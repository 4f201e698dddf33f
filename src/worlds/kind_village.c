/* The village kind: an islanded mini-grid of a remote village, sized the way the off-grid
 * literature sizes PV-diesel-battery hybrids (HOMER's component models; ESMAP, "Mini Grids for
 * Half a Billion People: Market Outlook and Handbook for Decision Makers", World Bank 2019; IRENA,
 * "Innovation Outlook: Renewable Mini-grids", 2016).
 *
 * The world: a powerhouse bus at 0.4 kV (the reference) with one to three diesel gensets (HOMER's
 * linear fuel curve, a minimum load ratio, no-load fuel while running, start costs), a PV array and
 * a battery; a few radial overhead feeders of aerial bundled cable (ABC) on poles a span apart,
 * each pole serving a few households. Households follow the off-grid village profile (evening
 * lighting peak, HOMER's random variability), productive and community loads (mill, school,
 * clinic, shops) at the powerhouse follow the commercial profile. The gensets together cover the
 * peak demand with a reserve, so every hour can be served even without sun or battery; the feeders
 * are as many as keep each one's peak within what its cable carries. docs/worlds.md gives every
 * parameter and its source. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "worlds/internal.h"
#include "worlds/kind_common.h"

/* Aerial bundled cables, aluminium phase conductors (NF C 33-209 / HD 626 S1 type 3x..+54.6 mm2
 * messenger): resistance at 20 C, reactance of the twisted bundle, current in free air. */
static const pgi_cable abc_cables[] = {
    {35, "ABC 3x35+54.6", 0.868, 0.10, 10, 0.138},
    {50, "ABC 3x50+54.6", 0.641, 0.10, 10, 0.168},
    {70, "ABC 3x70+54.6", 0.443, 0.10, 10, 0.207},
    {95, "ABC 3x95+54.6", 0.320, 0.10, 10, 0.252},
};

/* The largest peak a feeder is given, as a share of what its cable carries at 0.4 kV: voltage
 * drop, not heating, limits long rural feeders. */
#define FEEDER_LOADING 0.35

static const pgi_param_spec specs[] = {
    {"households", "{\"int\": [20, 200]}", "",
     "ESMAP 2019 (mini-grids serve from a few dozen to a few hundred customers; median about 100 "
     "in Africa and Asia)",
     "households connected to the mini-grid"},
    {"households_per_pole", "{\"int\": [2, 5]}", "",
     "ESMAP 2019 (service drops from a pole to the houses around it)",
     "households served from one pole of a feeder"},
    {"span_m", "{\"uniform\": [30, 50]}", "m",
     "low-voltage overhead line practice (spans of 30 to 50 m between poles)",
     "distance between two poles of a feeder"},
    {"feeders", "{\"int\": [2, 4]}", "", "ESMAP 2019 (radial low-voltage distribution)",
     "feeders leaving the powerhouse (more when their load needs it)"},
    {"cable_mm2", "{\"choice\": [35, 50, 70, 95], \"weights\": [0.2, 0.4, 0.3, 0.1]}", "mm2",
     "NF C 33-209 aerial bundled cables of rural networks",
     "phase cross-section of the aerial bundled cable of the feeders"},
    {"household_peak_kw", "{\"lognormal\": [-1.6, 0.4], \"min\": 0.05, \"max\": 1.0}", "kW",
     "ESMAP Multi-Tier Framework (tier 2: 50 W, tier 3: 200 W, tier 4: 800 W of capacity); ESMAP "
     "2019 (median consumption of mini-grid households a few hundred Wh a day)",
     "peak demand of one household"},
    {"productive_share", "{\"uniform\": [0.1, 0.4]}", "",
     "ESMAP 2019 (productive and community uses, anchor loads)",
     "peak of the productive and community loads as a share of the households' total peak"},
    {"load_power_factor", "0.9", "", "HOMER and ESMAP 2019 (lighting, motors, electronics)",
     "power factor of every load"},
    {"pv_kwp_per_kw", "{\"uniform\": [1.2, 3.0]}", "kWp/kW",
     "HOMER least-cost PV-diesel-battery hybrids; IRENA 2016 (PV arrays 1 to 3 times the peak "
     "load)",
     "PV array peak power per kW of peak demand"},
    {"battery_hours", "{\"uniform\": [2, 6]}", "h",
     "HOMER least-cost hybrids; ESMAP 2019 (storage for the evening peak and the night)",
     "usable battery energy in hours of peak demand"},
    {"battery_c_rate", "{\"uniform\": [0.25, 0.5]}", "1/h",
     "lithium-ion and lead-acid battery data sheets (C/4 to C/2)",
     "battery power per unit of its energy"},
    {"battery_efficiency", "{\"uniform\": [0.92, 0.97]}", "",
     "lithium-ion one-way efficiency (round trip 85 to 94 %)", "charge and discharge efficiency"},
    {"battery_min_soc", "{\"uniform\": [0.1, 0.3]}", "",
     "HOMER (minimum state of charge 20 % for lithium-ion, 40 % for lead-acid)",
     "lowest state of charge, share of the capacity"},
    {"battery_wear_usd_mwh", "{\"uniform\": [20, 100]}", "$/MWh",
     "HOMER battery wear cost (replacement cost over lifetime throughput)",
     "cost of energy discharged"},
    {"gensets", "{\"int\": [2, 3]}", "",
     "ESMAP 2019 (one to three gensets a powerhouse; two or more for N+1 redundancy)",
     "diesel gensets in the powerhouse"},
    {"genset_reserve", "{\"uniform\": [1.1, 1.5]}", "",
     "HOMER (gensets sized to the peak load plus operating reserve)",
     "total genset rating over the peak demand"},
    {"diesel_usd_l", "{\"uniform\": [0.8, 1.6]}", "$/l",
     "ESMAP 2019 (delivered diesel at remote sites 0.8 to over 1.5 $/l)",
     "price of diesel at the village"},
    {"fuel_slope_l_kwh", "0.246", "l/kWh", "HOMER generator fuel curve (default slope)",
     "fuel per kWh of output"},
    {"fuel_intercept_l_kwh", "0.08145", "l/h per kW",
     "HOMER generator fuel curve (default intercept coefficient)",
     "no-load fuel per hour per kW of rating while running"},
    {"genset_min_load", "{\"uniform\": [0.25, 0.4]}", "",
     "HOMER (minimum load ratio 25 %); manufacturers (30 to 40 % to avoid wet stacking)",
     "minimum output while running, share of the rating"},
    {"genset_start_usd_per_kw", "{\"uniform\": [0.02, 0.1]}", "$/kW",
     "start-up fuel and wear of small diesel gensets", "cost of a start per kW of rating"},
    {"latitude_deg", "{\"uniform\": [-20, 20]}", "deg",
     "ESMAP 2019 (most mini-grids are in sub-Saharan Africa and South Asia)",
     "latitude of the village"},
    {"day_of_year", "{\"int\": [0, 364]}", "", "", "first day of the time series (0 = 1 January)"},
    {"steps", "24", "", "", "number of hourly steps of the time series"},
};

static const pgi_param_range ranges[] = {
    {20, 200}, {1, 20},   {5, 200},  {1, 12},  {35, 95}, {0.01, 5}, {0, 2},   {0.5, 1},
    {0.1, 10}, {0.5, 48}, {0.05, 4}, {0.5, 1}, {0, 0.9}, {0, 1000}, {1, 3},   {1.05, 4},
    {0, 10},   {0, 1},    {0, 1},    {0, 0.9}, {0, 10},  {-66, 66}, {0, 364}, {1, 168},
};

_Static_assert(sizeof ranges / sizeof ranges[0] == sizeof specs / sizeof specs[0],
               "one range per parameter");

static int
add_genset(pgi_builder *b, size_t bus, int k, int n, size_t steps, double rating_mw,
           double min_load, double price_l, double slope, double intercept, double start_per_kw)
{
    char name[32];
    snprintf(name, sizeof name, "diesel%d", k + 1);
    pg_thermal t;
    pg_thermal_init(&t);
    t.name = name;
    t.bus = bus;
    t.in_service = true;
    t.pmin = min_load * rating_mw;
    t.pmax = rating_mw;
    t.qmin = -0.75 * rating_mw;
    t.qmax = 0.75 * rating_mw; /* rated at cos phi 0.8 */
    t.vg = 1.0;
    t.mbase = rating_mw / 0.8;
    t.ramp_up = rating_mw; /* full range within the hour (minutes for small gensets) */
    t.ramp_down = rating_mw;
    t.min_up_h = 1;
    t.min_down_h = 1;
    t.initial_on = false;
    t.initial_h = 24;
    t.p = 0;
    if (n == 1) {
        /* A lone genset may stop when PV and the battery carry the village. */
        t.initial_on = true;
        t.p = t.pmin;
    } else if (k == n - 1) {
        /* The smallest unit leads: it forms the grid and runs all day (HOMER's load following
         * with a unit always on), so covering a shortfall never waits on a start. Its minimum up
         * time outlasts the day. */
        t.initial_on = true;
        t.initial_h = 1;
        t.min_up_h = (double)steps + 1;
        t.p = t.pmin;
    }
    /* HOMER's fuel curve F = F0 Ycap + F1 P (l/h): F1 P at the diesel price is the variable cost,
     * F0 Ycap the no-load cost while running. */
    double coef[2] = {0.0, slope * 1000.0 * price_l};
    t.fixed_cost = intercept * rating_mw * 1000.0 * price_l;
    t.startup_cost = start_per_kw * rating_mw * 1000.0;
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
    /* Every parameter is drawn once, in this order, before anything is built. */
    size_t n_house = (size_t)pgi_recipe_draw(r, "households", rng);
    size_t per_pole = (size_t)pgi_recipe_draw(r, "households_per_pole", rng);
    size_t n_feeders = (size_t)pgi_recipe_draw(r, "feeders", rng);
    double mm2 = pgi_recipe_draw(r, "cable_mm2", rng);
    double prod_share = pgi_recipe_draw(r, "productive_share", rng);
    double pf = pgi_recipe_draw(r, "load_power_factor", rng);
    double pv_ratio = pgi_recipe_draw(r, "pv_kwp_per_kw", rng);
    double bat_h = pgi_recipe_draw(r, "battery_hours", rng);
    double c_rate = pgi_recipe_draw(r, "battery_c_rate", rng);
    double eff = pgi_recipe_draw(r, "battery_efficiency", rng);
    double min_soc = pgi_recipe_draw(r, "battery_min_soc", rng);
    double wear = pgi_recipe_draw(r, "battery_wear_usd_mwh", rng);
    int n_gen = (int)pgi_recipe_draw(r, "gensets", rng);
    double reserve = pgi_recipe_draw(r, "genset_reserve", rng);
    double diesel = pgi_recipe_draw(r, "diesel_usd_l", rng);
    double slope = pgi_recipe_draw(r, "fuel_slope_l_kwh", rng);
    double intercept = pgi_recipe_draw(r, "fuel_intercept_l_kwh", rng);
    double min_load = pgi_recipe_draw(r, "genset_min_load", rng);
    double start_kw = pgi_recipe_draw(r, "genset_start_usd_per_kw", rng);
    double lat = pgi_recipe_draw(r, "latitude_deg", rng);
    int day = (int)pgi_recipe_draw(r, "day_of_year", rng);
    size_t steps = (size_t)pgi_recipe_draw(r, "steps", rng);
    if (n_house < 1 || per_pole < 1 || n_feeders < 1 || n_gen < 1 || n_gen > 3 || steps < 1)
        return pg_error_set(err, PG_EINVAL, "village: a count parameter is below 1");

    /* Household peaks first: the number of feeders depends on the load they carry. */
    double *peak_kw = malloc(sizeof(double) * n_house);
    if (!peak_kw)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    double house_kw = 0;
    for (size_t i = 0; i < n_house; i++) {
        peak_kw[i] = pgi_recipe_draw(r, "household_peak_kw", rng);
        house_kw += peak_kw[i];
    }
    const pgi_cable *cab =
        pgi_cable_pick(abc_cables, sizeof abc_cables / sizeof abc_cables[0], mm2);
    double feeder_kw = FEEDER_LOADING * sqrt(3.0) * 0.4 * cab->imax_ka * 1000.0 * pf;
    size_t need = (size_t)ceil(house_kw / feeder_kw);
    if (need > n_feeders)
        n_feeders = need;
    size_t n_poles = (n_house + per_pole - 1) / per_pole;
    if (n_feeders > n_poles)
        n_feeders = n_poles;
    double prod_kw = prod_share * house_kw;
    double peak_total_kw = house_kw + prod_kw;

    pgi_builder b;
    int rc = pgi_builder_init(&b, w, prof, steps, 1.0, day, lat, err);
    if (rc) {
        free(peak_kw);
        return rc;
    }
    size_t ph = 0;
    if ((rc = pgi_builder_bus(&b, "powerhouse", 0.4, PG_BUS_REF, &ph)))
        goto out;
    if ((rc = pgi_builder_pv_series(&b, rng)))
        goto out;
    if (prod_kw > 0 &&
        (rc = pgi_builder_load(&b, ph, prod_kw / 1000.0, pf, PGI_PROFILE_COMMERCIAL, rng)))
        goto out;
    /* Poles dealt to the feeders in turn, so feeders differ by at most one pole. */
    size_t house = 0;
    for (size_t f = 0; f < n_feeders && !rc; f++) {
        size_t poles = n_poles / n_feeders + (f < n_poles % n_feeders);
        size_t prev = ph;
        for (size_t p = 0; p < poles && !rc; p++) {
            double span = pgi_recipe_draw(r, "span_m", rng);
            char name[48];
            snprintf(name, sizeof name, "f%zu-p%zu", f + 1, p + 1);
            size_t bus = 0;
            if ((rc = pgi_builder_bus(&b, name, 0.4, PG_BUS_PQ, &bus)))
                break;
            if ((rc = pgi_builder_line(&b, prev, bus, cab, span / 1000.0, NULL)))
                break;
            /* The pole's households as one load: their peaks add (the village profile is the
             * diversified demand of a household). */
            double kw = 0;
            for (size_t h = 0; h < per_pole && house < n_house; h++)
                kw += peak_kw[house++];
            if (kw > 0 &&
                (rc = pgi_builder_load(&b, bus, kw / 1000.0, pf, PGI_PROFILE_VILLAGE, rng)))
                break;
            prev = bus;
        }
    }
    if (rc)
        goto out;
    if ((rc = pgi_builder_pv(&b, ph, pv_ratio * peak_total_kw / 1000.0)))
        goto out;
    {
        double e_mwh = bat_h * peak_total_kw / 1000.0;
        pg_storage s;
        pg_storage_init(&s);
        s.name = "battery";
        s.bus = ph;
        s.in_service = true;
        s.energy_mwh = e_mwh;
        s.soc_min_mwh = min_soc * e_mwh;
        s.soc_initial_mwh = 0.5 * (1.0 + min_soc) * e_mwh;
        s.soc_target_mwh = s.soc_initial_mwh; /* a day's schedule leaves the battery as found */
        /* The battery inverter carries the whole village when the gensets are off. */
        s.charge_mw = fmax(c_rate * e_mwh, peak_total_kw / 1000.0 / eff);
        s.discharge_mw = s.charge_mw;
        s.eff_charge = eff;
        s.eff_discharge = eff;
        s.cost = wear;
        if ((rc = pg_world_add_storage(w, &s, NULL, err)))
            goto out;
    }
    /* Unequal units, the largest first: a powerhouse pairs a large genset with smaller ones that
     * follow the lighter hours (and identical units would only make the schedule search through
     * equivalent commitments). */
    static const double split[3][3] = {{1.0, 0, 0}, {0.6, 0.4, 0}, {0.5, 0.3, 0.2}};
    double gen_mw = reserve * peak_total_kw / 1000.0;
    for (int k = 0; k < n_gen && !rc; k++)
        rc = add_genset(&b, ph, k, n_gen, steps, gen_mw * split[n_gen - 1][k], min_load, diesel,
                        slope, intercept, start_kw);
    if (!rc)
        pgi_builder_facts(&b, facts);
out:
    pgi_builder_free(&b);
    free(peak_kw);
    return rc;
}

const pgi_kind pgi_kind_village = {
    .pub = {.name = "village",
            .summary = "an islanded village mini-grid: diesel gensets, PV, a battery, "
                       "20-200 households on overhead feeders",
            .source = "ESMAP, Mini Grids for Half a Billion People, World Bank 2019; HOMER "
                      "component models (fuel curve, minimum load ratio); IRENA, Innovation "
                      "Outlook: Renewable Mini-grids, 2016"},
    .specs = specs,
    .n_specs = sizeof specs / sizeof specs[0],
    .ranges = ranges,
    .build = build,
};
