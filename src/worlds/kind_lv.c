/* The lv-feeder kind: a radial low-voltage network behind one secondary substation, in the manner
 * of Kerber's reference networks (G. Kerber, "Aufnahmefähigkeit von Niederspannungsverteilnetzen
 * für die Einspeisung aus Photovoltaikkleinanlagen", TU München 2011: Landnetz, Dorfnetz,
 * Vorstadtnetz) and of Dickert and Schegner's parameter distributions (J. Dickert, M. Domagk,
 * P. Schegner, "Benchmark low voltage distribution networks based on cluster analysis of actual
 * grid properties", IEEE PowerTech 2013).
 *
 * The world: the medium-voltage bus (the reference, where the grid connection is a thermal unit
 * that buys and sells at a price), a 20/0.4 kV transformer of 250 to 630 kVA, its low-voltage
 * busbar, and a few feeders of NAYY 4x150 or 4x240 cable, each a main line of house connection
 * points a drawn distance apart with some points branching off the line. Every point has a
 * household (a profile shaped after BDEW H0, or a measured home) and, with the recipe's probability, a rooftop PV
 * system (one clear-sky profile for the whole network: the same weather). docs/worlds.md gives
 * every parameter and its source. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "worlds/internal.h"
#include "worlds/kind_common.h"

/* Cable data (per km, 50 Hz) of the types the feeders use: the manufacturers' data sheets as
 * collected in pandapower's standard type library (NAYY 4x150 SE, NAYY 4x240 SE). */
static const pgi_cable lv_cables[] = {
    {150, "NAYY 4x150 SE", 0.208, 0.080, 261, 0.270},
    {240, "NAYY 4x240 SE", 0.125, 0.080, 260, 0.357},
};

static const pgi_param_spec specs[] = {
    {"transformer_kva", "{\"choice\": [250, 400, 630], \"weights\": [0.3, 0.45, 0.25]}", "kVA",
     "Kerber 2011, reference networks (250 kVA Landnetz, 400 kVA Dorfnetz, 630 kVA Vorstadtnetz)",
     "rating of the 20/0.4 kV secondary substation transformer"},
    {"transformer_uk_pct", "4", "%",
     "DIN EN 50464-1 (uk 4 % for distribution transformers up to "
     "630 kVA)",
     "short-circuit voltage of the transformer"},
    {"feeders", "{\"int\": [2, 4]}", "",
     "Kerber 2011 (Landnetz 1 to 2, Dorfnetz 3 to 6 feeders); "
     "Dickert et al. 2013",
     "feeders leaving the low-voltage busbar"},
    {"households_per_feeder", "{\"int\": [6, 18]}", "",
     "Kerber 2011 (13 to 16 connection points a feeder); Dickert et al. 2013",
     "house connection points on one feeder"},
    {"segment_m", "{\"lognormal\": [3.4, 0.45], \"min\": 8, \"max\": 200}", "m",
     "Dickert et al. 2013 (distance between connection points, lognormal; median 30 m); Kerber "
     "2011 (21 to 82 m a connection in the reference networks)",
     "cable length from one connection point to the next"},
    {"branch_probability", "0.2", "",
     "Kerber 2011 (Dorfnetz and Vorstadtnetz feeders have side branches)",
     "chance that a connection point branches off an earlier point of its feeder rather than "
     "continuing the main line"},
    {"cable_mm2", "{\"choice\": [150, 240], \"weights\": [0.6, 0.4]}", "mm2",
     "Kerber 2011 (NAYY 4x150 the most common, 4x240 in the Vorstadtnetz)",
     "cross-section of the NAYY 4x cable of each feeder (150 or 240)"},
    {"household_peak_kw", "{\"lognormal\": [0, 0.35], \"min\": 0.3, \"max\": 4}", "kW",
     "H0-shaped profile (shaped after BDEW H0, VDEW 1999, not the published table; peak about "
     "0.27 kW per 1000 kWh/a); Dickert and Schegner 2011 (annual energy of a "
     "household, lognormal around 3500 kWh/a)",
     "diversified peak load of one household (the H0 profile's peak for its annual energy)"},
    {"load_power_factor", "0.97", "",
     "Dickert and Schegner 2011 (cos phi of households 0.95 to "
     "0.99)",
     "power factor of household loads (inductive)"},
    {"pv_probability", "{\"uniform\": [0.1, 0.5]}", "",
     "Kerber 2011 (PV on 10 % to over 50 % of the roofs in rural and village networks)",
     "chance that a household has a rooftop PV system (drawn once for the network)"},
    {"pv_kwp", "{\"lognormal\": [1.8, 0.35], \"min\": 2, \"max\": 30}", "kWp",
     "Kerber 2011 (small PV systems up to 30 kWp, typically 4 to 10 kWp)",
     "peak power of one rooftop PV system"},
    {"grid_price", "{\"uniform\": [60, 120]}", "$/MWh",
     "wholesale prices plus network charges for a distribution grid connection",
     "price at which the grid connection buys and sells energy"},
    {"latitude_deg", "{\"uniform\": [47.5, 54.5]}", "deg",
     "Germany, where the reference "
     "networks come from",
     "latitude of the PV systems"},
    {"day_of_year", "{\"int\": [0, 364]}", "", "", "first day of the time series (0 = 1 January)"},
    {"steps", "24", "", "", "number of hourly steps of the time series"},
};

static const pgi_param_range ranges[] = {
    {100, 1000}, {2, 8}, {1, 12},    {1, 60},    {1, 1000}, {0, 1},   {150, 240}, {0.05, 20},
    {0.8, 1},    {0, 1}, {0.5, 100}, {0, 10000}, {-66, 66}, {0, 364}, {1, 168},
};

static int
build(pg_world *w, const pg_recipe *r, pg_rng *rng, const pgi_profiles *prof,
      pgi_world_facts *facts, pg_error *err)
{
    /* Every parameter is drawn once, in this order, before anything is built: the order is part
     * of what makes a world reproducible. */
    double s_kva = pgi_recipe_draw(r, "transformer_kva", rng);
    double uk = pgi_recipe_draw(r, "transformer_uk_pct", rng);
    size_t n_feeders = (size_t)pgi_recipe_draw(r, "feeders", rng);
    double p_branch = pgi_recipe_draw(r, "branch_probability", rng);
    double pf = pgi_recipe_draw(r, "load_power_factor", rng);
    double p_pv = pgi_recipe_draw(r, "pv_probability", rng);
    double price = pgi_recipe_draw(r, "grid_price", rng);
    double lat = pgi_recipe_draw(r, "latitude_deg", rng);
    int day = (int)pgi_recipe_draw(r, "day_of_year", rng);
    size_t steps = (size_t)pgi_recipe_draw(r, "steps", rng);

    pgi_builder b;
    int rc = pgi_builder_init(&b, w, prof, steps, 1.0, day, lat, err);
    if (rc)
        return rc;
    size_t mv = 0, lv = 0;
    if ((rc = pgi_builder_bus(&b, "mv", 20.0, PG_BUS_REF, &mv)))
        goto out;
    if ((rc = pgi_builder_bus(&b, "lv", 0.4, PG_BUS_PQ, &lv)))
        goto out;
    if ((rc = pgi_builder_transformer(&b, "trafo", mv, lv, s_kva / 1000.0, uk,
                                      pgi_dt_pk_pct(s_kva))))
        goto out;
    if ((rc = pgi_builder_pv_series(&b, rng)))
        goto out;
    for (size_t f = 0; f < n_feeders && !rc; f++) {
        size_t n_h = (size_t)pgi_recipe_draw(r, "households_per_feeder", rng);
        const pgi_cable *cab = pgi_cable_pick(lv_cables, 2, pgi_recipe_draw(r, "cable_mm2", rng));
        size_t first = w->n_buses, prev = lv;
        for (size_t h = 0; h < n_h && !rc; h++) {
            double seg_m = pgi_recipe_draw(r, "segment_m", rng);
            size_t parent = prev;
            /* A side branch leaves an earlier point of the feeder (not the busbar). */
            if (h > 1 && pg_rng_uniform(rng) < p_branch)
                parent = first + pg_rng_below(rng, h - 1);
            char name[48];
            snprintf(name, sizeof name, "f%zu-h%zu", f + 1, h + 1);
            size_t bus = 0;
            if ((rc = pgi_builder_bus(&b, name, 0.4, PG_BUS_PQ, &bus)))
                break;
            if ((rc = pgi_builder_line(&b, parent, bus, cab, seg_m / 1000.0, NULL)))
                break;
            double peak_kw = pgi_recipe_draw(r, "household_peak_kw", rng);
            if ((rc = pgi_builder_load(&b, bus, peak_kw / 1000.0, pf, PGI_PROFILE_HOUSEHOLD, rng)))
                break;
            if (pg_rng_uniform(rng) < p_pv) {
                double kwp = pgi_recipe_draw(r, "pv_kwp", rng);
                if ((rc = pgi_builder_pv(&b, bus, kwp / 1000.0)))
                    break;
            }
            prev = bus;
        }
    }
    if (!rc)
        rc = pgi_builder_grid(&b, mv, s_kva / 1000.0, price);
    if (!rc)
        pgi_builder_facts(&b, facts);
out:
    pgi_builder_free(&b);
    return rc;
}

const pgi_kind pgi_kind_lv_feeder = {
    .pub = {.name = "lv-feeder",
            .summary = "a radial low-voltage network: a 20/0.4 kV substation, NAYY feeders, "
                       "households with rooftop PV",
            .source = "G. Kerber, Aufnahmefähigkeit von Niederspannungsverteilnetzen für die "
                      "Einspeisung aus Photovoltaikkleinanlagen, TU München 2011; J. Dickert, "
                      "M. Domagk, P. Schegner, Benchmark low voltage distribution networks based "
                      "on cluster analysis of actual grid properties, IEEE PowerTech 2013"},
    .specs = specs,
    .n_specs = sizeof specs / sizeof specs[0],
    .ranges = ranges,
    .build = build,
};

_Static_assert(sizeof ranges / sizeof ranges[0] == sizeof specs / sizeof specs[0],
               "one range per parameter");
