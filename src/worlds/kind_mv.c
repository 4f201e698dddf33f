/* The mv-grid kind: a medium-voltage (10 or 20 kV) grid fed from one HV/MV substation, its
 * secondary substations on cable rings of NA2XS2Y cable. A ring starts and ends at the
 * substation's busbar and is operated open at one point near its middle (the open-ring point:
 * the usual way of running German urban and suburban MV grids, e.g. Schwab, Elektroenergiesysteme,
 * 2017, ch. 11; the MV benchmark of CIGRE TF C6.04.02, 2014); the meshed variant closes its rings
 * and ties stations of different rings with extra cables. Each secondary substation is a load
 * (households on a profile shaped after BDEW H0, or businesses after G0) with PV on the same bus. docs/worlds.md
 * gives every parameter and its source. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "worlds/internal.h"
#include "worlds/kind_common.h"

/* NA2XS2Y 1x150 and 1x240 RM/25 single-core cables (trefoil, in ground) at 12/20 kV and 6/10 kV:
 * the manufacturers' data as collected in pandapower's standard type library. */
static const pgi_cable cables_20kv[] = {
    {150, "NA2XS2Y 1x150 RM/25 12/20 kV", 0.206, 0.116, 250, 0.319},
    {240, "NA2XS2Y 1x240 RM/25 12/20 kV", 0.122, 0.112, 304, 0.421},
};
static const pgi_cable cables_10kv[] = {
    {150, "NA2XS2Y 1x150 RM/25 6/10 kV", 0.206, 0.110, 360, 0.362},
    {240, "NA2XS2Y 1x240 RM/25 6/10 kV", 0.122, 0.105, 456, 0.457},
};

static const pgi_param_spec specs[] = {
    {"voltage_kv", "{\"choice\": [10, 20], \"weights\": [0.3, 0.7]}", "kV",
     "German MV grids: 20 kV in most rural and suburban areas, 10 kV in older urban grids",
     "nominal voltage of the MV grid (10 or 20)"},
    {"substation_mva", "{\"choice\": [25, 40], \"weights\": [0.5, 0.5]}", "MVA",
     "typical 110/20 kV transformer ratings (25 and 40 MVA)", "rating of the HV/MV transformer"},
    {"substation_uk_pct", "12", "%", "IEC 60076-5 (uk 10 to 14 % for 25 to 40 MVA)",
     "short-circuit voltage of the HV/MV transformer"},
    {"rings", "{\"int\": [2, 4]}", "",
     "CIGRE TF C6.04.02 2014 MV benchmark (two feeders); "
     "Schwab 2017",
     "cable rings leaving the MV busbar"},
    {"stations_per_ring", "{\"int\": [4, 10]}", "",
     "Schwab 2017 (5 to 15 secondary substations a ring)", "secondary substations on one ring"},
    {"segment_km", "{\"lognormal\": [-0.5, 0.5], \"min\": 0.1, \"max\": 5}", "km",
     "CIGRE TF C6.04.02 2014 (0.3 to 5 km between nodes); median 0.6 km",
     "cable length between neighbouring stations of a ring"},
    {"cable_mm2", "{\"choice\": [150, 240], \"weights\": [0.6, 0.4]}", "mm2",
     "NA2XS2Y 1x150 and 1x240, the common MV ring cables",
     "cross-section of each ring's cable (150 or 240)"},
    {"closed_rings", "0", "", "operating practice: rings are run open (0); meshed grids closed (1)",
     "1: rings are closed (no open point), 0: each is open near its middle"},
    {"ties", "0", "", "meshed urban MV grids (CIGRE TF C6.04.02 2014, the switches S1 to S3)",
     "extra cables tying stations of different rings"},
    {"station_peak_kw", "{\"lognormal\": [5.3, 0.4], \"min\": 50, \"max\": 630}", "kW",
     "secondary substations of 250 to 630 kVA loaded to about a third to a half at peak "
     "(median 200 kW)",
     "peak load of one secondary substation"},
    {"commercial_probability", "0.2", "", "share of business customers in mixed MV grids",
     "chance that a station's load follows the G0-shaped (business) profile instead of the "
     "H0-shaped one"},
    {"load_power_factor", "0.95", "",
     "grid codes (cos phi 0.95 inductive at MV connection "
     "points)",
     "power factor of the station loads"},
    {"pv_probability", "0.5", "",
     "PV on the LV networks behind most German secondary "
     "substations",
     "chance that a station has PV behind it"},
    {"station_pv_kw", "{\"lognormal\": [4.6, 0.6], \"min\": 10, \"max\": 1000}", "kW",
     "rooftop PV behind a secondary substation (median 100 kW)", "PV capacity behind one station"},
    {"grid_price", "{\"uniform\": [50, 100]}", "$/MWh",
     "wholesale prices plus the HV network charge",
     "price of energy bought from or sold to the "
     "HV grid"},
    {"latitude_deg", "{\"uniform\": [47.5, 54.5]}", "deg", "Germany", "latitude of the PV"},
    {"day_of_year", "{\"int\": [0, 364]}", "", "", "first day of the time series (0 = 1 January)"},
    {"steps", "24", "", "", "number of hourly steps of the time series"},
};

static const pgi_param_range ranges[] = {
    {10, 20},   {5, 100}, {4, 20},  {1, 8}, {1, 30},    {0.01, 20}, {150, 240}, {0, 1},   {0, 10},
    {1, 10000}, {0, 1},   {0.8, 1}, {0, 1}, {1, 10000}, {0, 10000}, {-66, 66},  {0, 364}, {1, 168},
};

static int
build(pg_world *w, const pg_recipe *r, pg_rng *rng, const pgi_profiles *prof,
      pgi_world_facts *facts, pg_error *err)
{
    double kv = pgi_recipe_draw(r, "voltage_kv", rng) >= 15 ? 20.0 : 10.0;
    double s_mva = pgi_recipe_draw(r, "substation_mva", rng);
    double uk = pgi_recipe_draw(r, "substation_uk_pct", rng);
    size_t n_rings = (size_t)pgi_recipe_draw(r, "rings", rng);
    bool closed = pgi_recipe_draw(r, "closed_rings", rng) >= 0.5;
    size_t n_ties = (size_t)pgi_recipe_draw(r, "ties", rng);
    double p_com = pgi_recipe_draw(r, "commercial_probability", rng);
    double pf = pgi_recipe_draw(r, "load_power_factor", rng);
    double p_pv = pgi_recipe_draw(r, "pv_probability", rng);
    double price = pgi_recipe_draw(r, "grid_price", rng);
    double lat = pgi_recipe_draw(r, "latitude_deg", rng);
    int day = (int)pgi_recipe_draw(r, "day_of_year", rng);
    size_t steps = (size_t)pgi_recipe_draw(r, "steps", rng);
    const pgi_cable *table = kv > 15 ? cables_20kv : cables_10kv;

    w->base_mva = 10.0;
    pgi_builder b;
    int rc = pgi_builder_init(&b, w, prof, steps, 1.0, day, lat, err);
    if (rc)
        return rc;
    size_t hv = 0, mv = 0;
    size_t *first = calloc(n_rings ? n_rings : 1, sizeof *first);
    size_t *count = calloc(n_rings ? n_rings : 1, sizeof *count);
    if (!first || !count) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pgi_builder_bus(&b, "hv", 110.0, PG_BUS_REF, &hv)))
        goto out;
    if ((rc = pgi_builder_bus(&b, "mv", kv, PG_BUS_PQ, &mv)))
        goto out;
    /* HV/MV transformers have load losses of about 0.5 % of their rating. */
    if ((rc = pgi_builder_transformer(&b, "substation", hv, mv, s_mva, uk, 0.5)))
        goto out;
    if ((rc = pgi_builder_pv_series(&b, rng)))
        goto out;
    for (size_t g = 0; g < n_rings && !rc; g++) {
        size_t n_s = (size_t)pgi_recipe_draw(r, "stations_per_ring", rng);
        const pgi_cable *cab = pgi_cable_pick(table, 2, pgi_recipe_draw(r, "cable_mm2", rng));
        /* The open point: one of the ring's n_s + 1 cables, in its middle third. */
        size_t lo = (n_s + 1) / 3, span = (n_s + 1) - 2 * lo;
        size_t open = lo + pg_rng_below(rng, span ? span : 1);
        first[g] = w->n_buses;
        count[g] = n_s;
        size_t prev = mv;
        for (size_t s = 0; s <= n_s && !rc; s++) {
            double km = pgi_recipe_draw(r, "segment_km", rng);
            size_t bus = mv;
            if (s < n_s) {
                char name[48];
                snprintf(name, sizeof name, "r%zu-s%zu", g + 1, s + 1);
                if ((rc = pgi_builder_bus(&b, name, kv, PG_BUS_PQ, &bus)))
                    break;
            }
            size_t br = 0;
            if ((rc = pgi_builder_line(&b, prev, bus, cab, km, &br)))
                break;
            if (!closed && s == open)
                w->branches[br].in_service = false;
            if (s < n_s) {
                double peak = pgi_recipe_draw(r, "station_peak_kw", rng) / 1000.0;
                pgi_profile_kind pk =
                    pg_rng_uniform(rng) < p_com ? PGI_PROFILE_COMMERCIAL : PGI_PROFILE_HOUSEHOLD;
                if ((rc = pgi_builder_load(&b, bus, peak, pf, pk, rng)))
                    break;
                if (pg_rng_uniform(rng) < p_pv) {
                    double kw = pgi_recipe_draw(r, "station_pv_kw", rng);
                    if ((rc = pgi_builder_pv(&b, bus, kw / 1000.0)))
                        break;
                }
            }
            prev = bus;
        }
    }
    /* Ties between stations of two different rings. */
    for (size_t t = 0; t < n_ties && n_rings > 1 && !rc; t++) {
        size_t g1 = pg_rng_below(rng, n_rings);
        size_t g2 = (g1 + 1 + pg_rng_below(rng, n_rings - 1)) % n_rings;
        size_t a = first[g1] + pg_rng_below(rng, count[g1]);
        size_t c = first[g2] + pg_rng_below(rng, count[g2]);
        double km = pgi_recipe_draw(r, "segment_km", rng);
        rc = pgi_builder_line(&b, a, c, pgi_cable_pick(table, 2, 150), km, NULL);
    }
    if (!rc)
        rc = pgi_builder_grid(&b, hv, s_mva, price);
    if (!rc)
        pgi_builder_facts(&b, facts);
out:
    free(first);
    free(count);
    pgi_builder_free(&b);
    return rc;
}

const pgi_kind pgi_kind_mv_grid = {
    .pub = {.name = "mv-grid",
            .summary = "a 10 or 20 kV grid of NA2XS2Y cable rings (open or meshed) feeding "
                       "secondary substations with PV",
            .source = "CIGRE TF C6.04.02, Benchmark systems for network integration of renewable "
                      "and distributed energy resources, 2014; A. J. Schwab, "
                      "Elektroenergiesysteme, 5th ed., Springer 2017; NA2XS2Y cable data"},
    .specs = specs,
    .n_specs = sizeof specs / sizeof specs[0],
    .ranges = ranges,
    .build = build,
};

_Static_assert(sizeof ranges / sizeof ranges[0] == sizeof specs / sizeof specs[0],
               "one range per parameter");
