/* What the files of the world generator share: recipes as parsed (parameters and their
 * distributions), the table of kinds and the builder each kind provides, and the time-series
 * profiles (profiles.c). Internal to src/worlds/. */
#ifndef PG_WORLDS_INTERNAL_H
#define PG_WORLDS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "plurigrid/model.h"
#include "plurigrid/rng.h"
#include "plurigrid/worlds.h"

/* ---------------------------------------------------------------- distributions */

typedef enum {
    PGI_DIST_CONST = 0,     /* a: the value */
    PGI_DIST_UNIFORM = 1,   /* a .. b */
    PGI_DIST_INT = 2,       /* whole numbers a .. b, each equally likely */
    PGI_DIST_NORMAL = 3,    /* mean a, standard deviation b, cut to [min, max] by redrawing */
    PGI_DIST_LOGNORMAL = 4, /* exp of a normal of mean a, sd b (of the log), cut to [min, max] */
    PGI_DIST_CHOICE = 5,    /* one of values[] with weights[] (numbers) */
} pgi_dist_kind;

typedef struct pgi_dist {
    pgi_dist_kind kind;
    double a, b;
    double min, max; /* -inf, inf when not cut */
    double *values, *weights;
    size_t n;
} pgi_dist;

/* A parameter of a kind: its documented default distribution (JSON text as it would appear in a
 * recipe), unit and source. A recipe may give its own distribution for any of these keys and for
 * no other key. */
typedef struct pgi_param_spec {
    const char *key;
    const char *dist_json; /* e.g. "{\"uniform\": [0.2, 0.5]}" or "4" */
    const char *unit;
    const char *source;
    const char *doc;
} pgi_param_spec;

/* The range of a parameter: every value its distribution may give lies in [lo, hi] (a recipe's
 * distribution must keep to it; normal and lognormal ones are cut to it). */
typedef struct pgi_param_range {
    double lo, hi;
} pgi_param_range;

struct pg_recipe {
    char *name, *kind, *description;
    const struct pgi_kind *k;
    size_t n_params;
    char **keys;       /* one per spec of the kind, in the spec's order */
    pgi_dist *dists;   /* the recipe's or the default */
};

/* Draws parameter key of r from rng. The key must be one of the kind's specs (a programming
 * error otherwise: returns NaN). */
double pgi_recipe_draw(const pg_recipe *r, const char *key, pg_rng *rng);

/* One draw of distribution d. */
double pgi_dist_draw(const pgi_dist *d, pg_rng *rng);

/* The recipe as a jansson object, as pg_recipe_json writes it (NULL when out of memory). */
struct json_t;
struct json_t *pgi_recipe_tree(const pg_recipe *r);

/* ---------------------------------------------------------------- profiles (profiles.c) */

typedef struct pgi_profiles pgi_profiles;

/* Opens the profile library; data_dir (may be NULL) is the folder holding
 * citylearn-2022-fontana/ whose measured homes household profiles then draw from. */
int pgi_profiles_open(pgi_profiles **out, const char *data_dir, pg_error *err);
void pgi_profiles_free(pgi_profiles *p);

/* Profile families, each a function of the day of year, the hour and a draw from rng; every
 * series is n values at step_h hours starting at 00:00 of day_of_year (0..364), and wraps at the
 * end of the year. Household and commercial series are multipliers of the annual peak (<= 1);
 * PV series are the fraction of the rating available (0..1). Deterministic in rng. */
typedef enum {
    PGI_PROFILE_HOUSEHOLD = 0,  /* shaped after BDEW H0 (VDEW 1999), not the published
                                   table; or a measured CityLearn home */
    PGI_PROFILE_COMMERCIAL = 1, /* shaped after BDEW G0, not the published table */
    PGI_PROFILE_DATACENTER = 2, /* flat IT load with a small diurnal cooling swing */
    PGI_PROFILE_PV = 3,         /* clear-sky PV at a latitude times a drawn daily clearness */
    PGI_PROFILE_VILLAGE = 4,    /* an off-grid village's evening-peaked demand */
} pgi_profile_kind;

typedef struct pgi_profile_request {
    pgi_profile_kind kind;
    size_t n;
    double step_h;
    int day_of_year;
    double latitude_deg; /* PV */
} pgi_profile_request;

int pgi_profile(const pgi_profiles *p, const pgi_profile_request *rq, pg_rng *rng, double *out,
                pg_error *err);

/* The full-load hours of the standard profiles (HOUSEHOLD without measured homes, COMMERCIAL):
 * the annual energy of a series of peak 1 over a year, hours (NaN for the other kinds). */
double pgi_profile_full_load_hours(const pgi_profiles *p, pgi_profile_kind kind);

/* ---------------------------------------------------------------- kinds */

/* Facts a builder records about the world it built, for the manifest. */
typedef struct pgi_world_facts {
    double feeder_km; /* total length of lines */
} pgi_world_facts;

typedef struct pgi_kind {
    pg_worlds_kind pub;
    const pgi_param_spec *specs;
    size_t n_specs;
    const pgi_param_range *ranges; /* one per spec, or NULL: any finite number */
    /* Builds world number index into an empty world w (named already) from r's parameters,
     * drawing everything from rng (seeded from seed and index by the caller). */
    int (*build)(pg_world *w, const pg_recipe *r, pg_rng *rng, const pgi_profiles *prof,
                 pgi_world_facts *facts, pg_error *err);
} pgi_kind;

extern const pgi_kind pgi_kind_lv_feeder, pgi_kind_mv_grid, pgi_kind_village, pgi_kind_nexus;

/* The kind called name, NULL when none. */
const pgi_kind *pgi_kind_find(const char *name);

#endif
