/* Every kind of generated world, from its default recipe over many seeds: the world validates,
 * its base-case AC power flow converges, its day-ahead schedule (unit commitment and dispatch on
 * the DC network) is found and serves all demand. The village balances energy in every hour
 * (gensets + PV + battery discharge = demand + battery charge + spill), its battery's state of
 * charge follows its efficiencies, and its gensets cover the peak; the nexus world holds the
 * example nodes' components. Measured households (the CityLearn data folder) build too. Fewer
 * seeds under the sanitizers, which run the same code some ten times slower. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/dispatch.h"
#include "plurigrid/pf.h"
#include "worlds/internal.h"

/* Worlds per kind (the village's unit commitment is the slowest: a fraction of a second). */
#ifndef SEEDS
#if defined(__SANITIZE_ADDRESS__)
#define SEEDS 10
#define VILLAGE_SEEDS 4
#else
#define SEEDS 100
#define VILLAGE_SEEDS 30
#endif
#endif

static void
fail_err(const char *what, pg_error *err)
{
    char buf[1200];
    fail_msg("%s: %s", what, pg_error_format(err, buf, sizeof buf));
}

/* World number index of kind name's default recipe, built as the generator builds it. */
static pg_world *
build_world(const char *kind, const pgi_profiles *prof, uint64_t seed, size_t index,
            pgi_world_facts *facts)
{
    pg_error err = {0};
    pg_recipe *r = NULL;
    if (pg_recipe_default(&r, kind, &err))
        fail_err(kind, &err);
    const pgi_kind *k = pgi_kind_find(kind);
    assert_non_null(k);
    char name[64];
    snprintf(name, sizeof name, "%s-%llu-%zu", kind, (unsigned long long)seed, index);
    pg_world *w = NULL;
    if (pg_world_new(&w, name, 1.0, &err))
        fail_err(name, &err);
    pg_rng rng;
    pg_rng_seed(&rng, seed, index);
    memset(facts, 0, sizeof *facts);
    if (k->build(w, r, &rng, prof, facts, &err))
        fail_err(name, &err);
    pg_recipe_free(r);
    return w;
}

/* Validates, converges and schedules w with no demand left unserved; returns the schedule. */
static pg_dispatch_result *
check_world(const pg_world *w)
{
    pg_error err = {0};
    if (pg_world_validate(w, &err))
        fail_err(w->name, &err);
    pg_pf_result *pf = NULL;
    if (pg_pf_solve(w, NULL, &pf, &err))
        fail_err(w->name, &err);
    if (!pf->converged || !pf->all_solved)
        fail_msg("%s: power flow: %s", w->name, pf->reason);
    pg_pf_result_free(pf);
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    pg_dispatch_result *d = NULL;
    if (pg_dispatch_run(w, &o, &d, &err))
        fail_err(w->name, &err);
    if (d->total_unserved_mwh > 1e-9)
        fail_msg("%s: %g MWh unserved", w->name, d->total_unserved_mwh);
    return d;
}

static void
test_every_kind_builds_converges_schedules(void **state)
{
    (void)state;
    pgi_profiles *prof = NULL;
    pg_error err = {0};
    assert_int_equal(pgi_profiles_open(&prof, NULL, &err), PG_OK);
    size_t n_kinds = 0;
    const pg_worlds_kind *kinds = pg_worlds_kinds(&n_kinds);
    assert_true(n_kinds >= 4);
    for (size_t k = 0; k < n_kinds; k++) {
        double buses = 0, km = 0;
        size_t n = strcmp(kinds[k].name, "village") == 0 ? VILLAGE_SEEDS : SEEDS;
        for (size_t i = 0; i < n; i++) {
            pgi_world_facts facts;
            pg_world *w = build_world(kinds[k].name, prof, 42, i, &facts);
            pg_dispatch_result *d = check_world(w);
            buses += (double)w->n_buses;
            km += facts.feeder_km;
            assert_true(facts.feeder_km > 0);
            pg_dispatch_result_free(d);
            pg_world_free(w);
        }
        print_message("%s: %zu worlds, mean %.1f buses, %.2f km of lines\n", kinds[k].name, n,
                      buses / (double)n, km / (double)n);
    }
    pgi_profiles_free(prof);
}

/* The same (seed, index) gives the same world; another index another world. */
static void
test_deterministic(void **state)
{
    (void)state;
    pgi_profiles *prof = NULL;
    pg_error err = {0};
    assert_int_equal(pgi_profiles_open(&prof, NULL, &err), PG_OK);
    const char *const kinds[] = {"village", "nexus"};
    for (size_t k = 0; k < 2; k++) {
        pgi_world_facts f1, f2, f3;
        pg_world *a = build_world(kinds[k], prof, 7, 3, &f1);
        pg_world *b = build_world(kinds[k], prof, 7, 3, &f2);
        pg_world *c = build_world(kinds[k], prof, 7, 4, &f3);
        char diff[256];
        bool same = pg_world_equal(a, b, diff, sizeof diff);
        if (!same)
            fail_msg("%s: %s", kinds[k], diff);
        /* Names differ by index; compare something drawn instead. */
        assert_true(f1.feeder_km == f2.feeder_km);
        assert_true(f1.feeder_km != f3.feeder_km);
        pg_world_free(a);
        pg_world_free(b);
        pg_world_free(c);
    }
    pgi_profiles_free(prof);
}

/* The village: islanded (no grid unit), 20 to 200 households' worth of feeders, gensets that
 * cover the peak, and an energy balance that holds hour by hour. */
static void
test_village_energy_balance(void **state)
{
    (void)state;
    pgi_profiles *prof = NULL;
    pg_error err = {0};
    assert_int_equal(pgi_profiles_open(&prof, NULL, &err), PG_OK);
    for (size_t i = 0; i < VILLAGE_SEEDS; i++) {
        pgi_world_facts facts;
        pg_world *w = build_world("village", prof, 5, i, &facts);
        pg_dispatch_result *d = check_world(w);
        assert_int_equal(w->n_storages, 1);
        assert_true(w->n_thermals >= 2 && w->n_thermals <= 3); /* the default recipe: 2 or 3 */
        assert_true(w->n_renewables == 1);
        double gen_mw = 0;
        for (size_t g = 0; g < w->n_thermals; g++) {
            assert_true(strncmp(w->thermals[g].name, "diesel", 6) == 0);
            assert_true(w->thermals[g].pmin >= 0.25 * w->thermals[g].pmax - 1e-12);
            gen_mw += w->thermals[g].pmax;
        }
        size_t n_steps = 0;
        double step_h = 0;
        assert_int_equal(pg_world_horizon(w, &n_steps, &step_h, &err), PG_OK);
        double peak = 0;
        for (size_t t = 0; t < n_steps; t++)
            peak = fmax(peak, pg_world_load_mw(w, t));
        assert_true(gen_mw >= 1.1 * pg_world_load_mw(w, PG_NONE) - 1e-12);
        assert_true(gen_mw >= peak);
        const pg_storage *s = &w->storages[0];
        double soc = s->soc_initial_mwh;
        for (size_t t = 0; t < d->n_steps; t++) {
            double supply = 0, demand = 0;
            for (size_t g = 0; g < d->n_thermals; g++)
                supply += d->thermal_p[t * d->n_thermals + g];
            for (size_t r = 0; r < d->n_renewables; r++)
                supply += d->renewable_p[t * d->n_renewables + r];
            double ch = d->storage_charge[t], dis = d->storage_discharge[t];
            supply += dis - ch;
            for (size_t b = 0; b < d->n_buses; b++)
                demand += d->bus_demand[t * d->n_buses + b] - d->bus_unserved[t * d->n_buses + b] +
                          d->bus_overgen[t * d->n_buses + b];
            assert_near(supply, demand, 1e-6 * fmax(1.0, demand) + 1e-9);
            assert_near(demand, pg_world_load_mw(w, t), 1e-9);
            soc += (ch * s->eff_charge - dis / s->eff_discharge) * d->step_h;
            assert_near(d->storage_soc[t], soc, 1e-6);
            assert_true(d->storage_soc[t] >= s->soc_min_mwh - 1e-6);
        }
        /* With two or more gensets the smallest leads: committed every hour. */
        if (w->n_thermals >= 2)
            for (size_t t = 0; t < d->n_steps; t++)
                assert_true(d->thermal_on[t * d->n_thermals + d->n_thermals - 1]);
        /* A day's schedule leaves the battery as found. */
        assert_near(d->storage_soc[d->n_steps - 1], s->soc_target_mwh, 1e-6);
        pg_dispatch_result_free(d);
        pg_world_free(w);
    }
    pgi_profiles_free(prof);
}

/* The nexus world: a grid connection at the reference bus, one battery per home, two per solar
 * home system, one per office and data centre, a backup generator per office and data centre. */
static void
test_nexus_nodes(void **state)
{
    (void)state;
    pgi_profiles *prof = NULL;
    pg_error err = {0};
    assert_int_equal(pgi_profiles_open(&prof, NULL, &err), PG_OK);
    for (size_t i = 0; i < SEEDS; i++) {
        pgi_world_facts facts;
        pg_world *w = build_world("nexus", prof, 9, i, &facts);
        size_t homes = 0, shs = 0, offices = 0, dcs = 0;
        for (size_t b = 0; b < w->n_buses; b++) {
            const char *n = w->buses[b].name;
            homes += strncmp(n, "home", 4) == 0;
            shs += strncmp(n, "shs", 3) == 0;
            offices += strncmp(n, "office", 6) == 0;
            dcs += strncmp(n, "datacenter", 10) == 0;
        }
        assert_true(homes >= 4 && homes <= 16);
        assert_int_equal(w->n_storages, homes + 2 * shs + offices + dcs);
        assert_int_equal(w->n_thermals, 1 + offices + dcs);
        size_t grid = pg_world_find_bus(w, "mv");
        assert_int_equal(w->buses[grid].type, PG_BUS_REF);
        bool has_grid = false;
        for (size_t g = 0; g < w->n_thermals; g++)
            has_grid |= strcmp(w->thermals[g].name, "grid") == 0 && w->thermals[g].bus == grid;
        assert_true(has_grid);
        pg_dispatch_result *d = check_world(w);
        pg_dispatch_result_free(d);
        pg_world_free(w);
    }
    pgi_profiles_free(prof);
}

/* With the data folder, households are measured homes: the worlds still check. */
static void
test_measured_homes(void **state)
{
    (void)state;
    pgi_profiles *prof = NULL;
    pg_error err = {0};
    if (pgi_profiles_open(&prof, pgt_data_dir(), &err))
        fail_err("profiles", &err);
    for (size_t i = 0; i < 10; i++) {
        pgi_world_facts facts;
        pg_world *w = build_world("nexus", prof, 11, i, &facts);
        pg_dispatch_result *d = check_world(w);
        pg_dispatch_result_free(d);
        pg_world_free(w);
    }
    pgi_profiles_free(prof);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_builds_converges_schedules),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_village_energy_balance),
        cmocka_unit_test(test_nexus_nodes),
        cmocka_unit_test(test_measured_homes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
