/* Generated microworlds: a library of realistic small power systems made from recipes.
 *
 * A recipe (a plurigrid-recipe/1 JSON file, docs/worlds.md; examples/worlds/ holds the catalog's)
 * names a kind of world and the distributions its parameters are drawn from, each citing its
 * source: radial low-voltage feeders after Kerber's and Dickert's reference networks, meshed and
 * ring medium-voltage grids, islanded village microgrids with diesel, PV and batteries, and the
 * four Nexus node configurations behind a feeder. The kinds are one table of builders
 * (pg_worlds_kinds), so a new kind is one row.
 *
 * World number i of recipe r with seed s is a pure function of (r, s, i): its id
 * "<recipe>-<seed>-<i>" reproduces it anywhere (pg_worlds_reproduce), on any machine, whatever
 * else was generated with it. Every generated world passes pg_world_validate, has a converging
 * base-case AC power flow and a feasible day-ahead schedule, or the generator drops it and says
 * why (the manifest keeps the reason). The time series of loads and renewables come from
 * documented standard profiles, or from measured homes (the CityLearn data set) when a data
 * folder is given. */
#ifndef PLURIGRID_WORLDS_H
#define PLURIGRID_WORLDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- kinds */

typedef struct pg_worlds_kind {
    const char *name;    /* "lv-feeder", "mv-grid", "village", "nexus" */
    const char *summary; /* one line for `plurigrid worlds kinds` and --help */
    const char *source;  /* where its parameters come from (a citation) */
} pg_worlds_kind;

/* The kinds the generator knows, in a fixed order; *n is set to their number. */
PG_API const pg_worlds_kind *pg_worlds_kinds(size_t *n);
/* The kinds with their parameters (key, default distribution, unit, source, meaning) as JSON text
 * (format plurigrid-worlds-kinds/1, docs/worlds.md). *text is the caller's. */
PG_API int pg_worlds_kinds_json(char **text, pg_error *err);

/* ---------------------------------------------------------------- recipes */

typedef struct pg_recipe pg_recipe;

/* Reads a recipe file (pg_input_read; errors name the file, line and JSON path). */
PG_API int pg_recipe_read(pg_recipe **out, const char *path, pg_error *err);
/* Parses a recipe from text; name is what errors call it. */
PG_API int pg_recipe_parse(pg_recipe **out, const char *text, size_t len, const char *name,
                           pg_error *err);
/* The recipe of a kind with its documented default distributions. */
PG_API int pg_recipe_default(pg_recipe **out, const char *kind, pg_error *err);
PG_API void pg_recipe_free(pg_recipe *r);              /* accepts NULL */
PG_API const char *pg_recipe_name(const pg_recipe *r); /* the id prefix, [a-z0-9-]+ */
PG_API const char *pg_recipe_kind(const pg_recipe *r);
/* The recipe as canonical JSON text (every distribution written out, defaults included): what a
 * manifest records, so the manifest alone reproduces its worlds. *text is the caller's. */
PG_API int pg_recipe_json(const pg_recipe *r, char **text, pg_error *err);

/* ---------------------------------------------------------------- generating */

typedef struct pg_worlds_options {
    uint64_t seed;        /* default 1 */
    size_t count;         /* worlds to keep; default 10, at most PG_WORLDS_MAX */
    const char *data_dir; /* folder of the measured data sets (CityLearn homes); NULL: the
                             standard profiles only. Part of a world's identity: the manifest
                             records whether it was used. */
    bool check;           /* true (default): power flow and day-ahead schedule of every world,
                             dropping those that fail; false: validation only */
    int threads;          /* 0 (default): one per core */
    void (*progress)(void *user, size_t done, size_t total); /* may be NULL; any thread, one at a
                                                                 time */
    void *progress_user;
    const volatile int *stop; /* may be NULL; stops with PG_ECANCELED */
} pg_worlds_options;

#define PG_WORLDS_MAX 1000000

PG_API void pg_worlds_options_init(pg_worlds_options *o);

/* World number index of recipe r with seed: validated (not checked by power flow or schedule).
 * Deterministic. *out is the caller's. */
PG_API int pg_worlds_make(pg_world **out, const pg_recipe *r, uint64_t seed, size_t index,
                          const char *data_dir, pg_error *err);

/* One entry of a manifest. */
typedef struct pg_worlds_entry {
    char id[96];    /* "<recipe>-<seed>-<index>" */
    char file[128]; /* file name inside the folder ("" when dropped) */
    size_t index;
    bool dropped;
    char reason[256]; /* why it was dropped ("" otherwise) */
    size_t n_buses, n_branches;
    double load_mw;   /* peak total load, MW */
    double pv_share;  /* renewable energy / load energy over the series */
    double feeder_km; /* total length of lines, km */
} pg_worlds_entry;

typedef struct pg_worlds_manifest {
    char *recipe_json; /* the recipe as pg_recipe_json wrote it */
    char recipe_name[64];
    char kind[32];
    uint64_t seed;
    bool data;        /* measured profiles were used */
    size_t n_entries; /* kept and dropped, in index order */
    pg_worlds_entry *entries;
    size_t n_kept, n_dropped;
} pg_worlds_manifest;

PG_API void pg_worlds_manifest_free(pg_worlds_manifest *m); /* accepts NULL */

/* Generates worlds 0, 1, 2, ... of r until opts->count are kept (at most 2 * count + 100 tried),
 * writes each as <id>.json in out_dir (created when missing; files written atomically) and
 * writes out_dir/manifest.json (format plurigrid-worlds/1) last. *manifest (may be NULL) is the
 * caller's. The files are the same bytes whatever the number of threads. */
PG_API int pg_worlds_generate(const pg_recipe *r, const char *out_dir,
                              const pg_worlds_options *opts, pg_worlds_manifest **manifest,
                              pg_error *err);

/* Reads dir/manifest.json. */
PG_API int pg_worlds_manifest_read(pg_worlds_manifest **out, const char *dir, pg_error *err);

/* Rebuilds the world of an id from the manifest's recipe (and data_dir when the manifest says
 * measured profiles were used). */
PG_API int pg_worlds_reproduce(pg_world **out, const pg_worlds_manifest *m, const char *id,
                               const char *data_dir, pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
