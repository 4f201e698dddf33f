/* The time series of a community scenario: where each comes from (a column of a CSV file in the
 * scenario's data folder, or a documented model such as clear-sky PV or an off-grid household's
 * load) and its values on the run's intervals. The scenario reader hands each "series" member of
 * a plurigrid-community/1 document to pgi_series_read; the runner sees only arrays of numbers.
 *
 * A series spec is one JSON object, either
 *   {"csv": {"file": "Building_1.csv", "column": "non_shiftable_load", "scale": 1,
 *            "rows": 8760}}
 * read from the data folder (rows: how many data rows the file must have; every row must have a
 * finite number in the column, or the error names the file, line and column), or
 *   {"model": "NAME", ...parameters...}
 * computed by the model NAME from the table of models (docs/community.md lists them), or
 *   {"constant": 0.05}.
 * A CSV series holds one value per data row, each covering data_step_h hours (the scenario's data
 * step); pgi_series_read returns the values of the run's intervals, which start at interval
 * first and have the run's step (equal to the data step in this version). */
#ifndef PG_COMMUNITY_SERIES_H
#define PG_COMMUNITY_SERIES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/json_read.h"
#include "plurigrid/core.h"
#include "plurigrid/rng.h"

typedef struct pgi_series_ctx {
    const char *data_dir; /* the scenario's data folder (already resolved; may be NULL when the
                             scenario reads no files) */
    const char *dataset;  /* the dataset's name, for the message when a file is missing */
    double step_h;        /* the run's interval, h */
    size_t first;         /* the run's first interval, counted from the data's first row */
    size_t n;             /* intervals in the run */
    uint64_t seed;        /* for models that draw random numbers (each series its own stream,
                             from the seed and the series' name) */
    const char *name;     /* the series' name in the scenario */
    double year_hour;     /* where the data's first row falls in its year: hours from 1 January
                             00:00 (0..8760, a 365-day year; 0 when the caller does not know).
                             Models put their intervals on the calendar by it, unless their
                             parameters "start_day" and "start_hour" say otherwise. */
} pgi_series_ctx;

/* Reads the spec at the current path of r (errors name the scenario file, line and JSON path;
 * errors in a CSV file name that file, its line and column) and fills *values with c->n numbers
 * (malloc'd, the caller frees). A CSV file with fewer than first + n rows, or a missing or
 * non-numeric value (a missing hour), is PG_EPARSE; a missing data folder or file is PG_ENOTFOUND
 * naming the dataset and the --data option. */
int pgi_series_read(pgi_jr *r, const json_t *spec, const pgi_series_ctx *c, double **values);

/* The names of the models, NULL-terminated, for help and errors. */
const char *const *pgi_series_models(void);

/* ---------------------------------------------------------------- the table of models
 * (models.c; docs/scenarios-community.md gives their equations and sources). A model reads its
 * parameters from the spec object at the current path of r (every member but "model" is one of
 * its parameters; an unknown one is an error) and fills v[0 .. c->n) with the values of the run's
 * intervals. rng is the series' own stream (seeded from c->seed and c->name). */
typedef struct pgi_series_model {
    const char *name;
    const char *summary;
    int (*fill)(pgi_jr *r, const json_t *spec, const pgi_series_ctx *c, pg_rng *rng, double *v);
} pgi_series_model;

/* The model called name, or NULL. */
const pgi_series_model *pgi_series_model_find(const char *name);

/* The sun's position (NOAA's general solar position equations): the cosine of the zenith angle
 * and the azimuth (degrees clockwise from north) at latitude and longitude (degrees, east > 0),
 * for a time zone utc_offset_h hours from UTC, on day of year doy (1..365) at local standard
 * time hour (0..24). */
void pgi_solar_position(double latitude, double longitude, double utc_offset_h, double doy,
                        double hour, double *cos_zenith, double *azimuth_deg);

#endif
