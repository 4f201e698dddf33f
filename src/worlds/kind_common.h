/* What the builders of grid kinds share: cable types, and a builder that adds buses, lines of a
 * cable type and length, transformers from their rating and short-circuit voltage, loads and PV
 * with their time series, and the grid connection, all converted to per unit on the world's base.
 * Internal to src/worlds/. */
#ifndef PG_WORLDS_KIND_COMMON_H
#define PG_WORLDS_KIND_COMMON_H

#include <stddef.h>

#include "worlds/internal.h"

/* A cable type: per-km data at 50 Hz. */
typedef struct pgi_cable {
    double mm2;       /* conductor cross-section, what recipes choose by */
    const char *type; /* its designation */
    double r_ohm_km;  /* series resistance */
    double x_ohm_km;  /* series reactance */
    double c_nf_km;   /* capacitance */
    double imax_ka;   /* thermal current limit (laid in ground) */
} pgi_cable;

/* The cable of cables[0..n) whose cross-section is nearest mm2. */
const pgi_cable *pgi_cable_pick(const pgi_cable *cables, size_t n, double mm2);

typedef struct pgi_builder {
    pg_world *w;
    const pgi_profiles *prof;
    pg_error *err;
    size_t steps;
    double step_h;
    int day;
    double latitude;
    size_t pv_series; /* PG_NONE until pgi_builder_pv_series */
    double feeder_km;
    double *buf; /* steps values */
} pgi_builder;

int pgi_builder_init(pgi_builder *b, pg_world *w, const pgi_profiles *prof, size_t steps,
                     double step_h, int day, double latitude, pg_error *err);
void pgi_builder_free(pgi_builder *b);

/* A bus named name at kv (voltage limits 0.9 to 1.1 p.u., EN 50160); *index its index. */
int pgi_builder_bus(pgi_builder *b, const char *name, double kv, pg_bus_type type, size_t *index);
/* A line of km of cable from bus to bus (per unit on the to bus's voltage and the world's base;
 * rated at sqrt(3) U Imax). Counts its length in the feeder length. *index may be NULL. */
int pgi_builder_line(pgi_builder *b, size_t from, size_t to, const pgi_cable *c, double km,
                     size_t *index);
/* A transformer of s_mva from bus (high voltage) to bus (low voltage) with short-circuit voltage
 * uk_pct and load losses pk_pct (both % of the rating). */
int pgi_builder_transformer(pgi_builder *b, const char *name, size_t from, size_t to, double s_mva,
                            double uk_pct, double pk_pct);
/* A load of peak p_mw at power factor pf (inductive) following a profile of kind drawn from rng
 * (a series of its own). */
int pgi_builder_load(pgi_builder *b, size_t bus, double p_mw, double pf, pgi_profile_kind kind,
                     pg_rng *rng);
/* The PV availability series every PV system of the world shares (one weather). */
int pgi_builder_pv_series(pgi_builder *b, pg_rng *rng);
/* A PV system of rating_mw at unity power factor on the shared series. */
int pgi_builder_pv(pgi_builder *b, size_t bus, double rating_mw);
/* The grid connection at bus: a thermal unit that buys (p > 0) and sells (p < 0) up to limit_mw
 * at price $/MWh, always committed. */
int pgi_builder_grid(pgi_builder *b, size_t bus, double limit_mw, double price);
/* Records the facts (feeder length). */
void pgi_builder_facts(const pgi_builder *b, pgi_world_facts *facts);

/* Load losses of a distribution transformer of s_kva, % of the rating (EN 50464-1 list Bk: 1750 W
 * at 100 kVA, 2350 W at 160, 3250 W at 250, 4600 W at 400, 6500 W at 630, 10500 W at 1000 kVA;
 * interpolated on log s). */
double pgi_dt_pk_pct(double s_kva);

#endif
