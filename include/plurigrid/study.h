/* Batch studies: many power flows, schedules or contingency analyses at once, on local threads
 * or on NATS workers on as many machines as there are.
 *
 * A study is a list of worlds (files: plurigrid JSON or MATPOWER) and a kind:
 *  - pf: the base-case power flow of every world, or, with series, of every step of each world's
 *    time series (pg_pf_series: one solver's analysis reused, each step from the previous one);
 *  - run: the day-ahead schedule of every world (pg_dispatch_run);
 *  - contingency: N-1 of every world (pg_pf_contingency: every in-service branch out in turn).
 * It is cut into jobs (one world, or one batch of outages or steps of a world); where a cut falls
 * is fixed by the study and never by who runs it, and every job's result depends on the job
 * alone, so the results are the same to the bit whether the jobs ran on one thread, on several,
 * or on any number of workers.
 *
 * Executors are a table (pg_study_executors): "local" runs jobs on threads of this process,
 * "nats" publishes them to workers (pg_study_worker, `plurigrid worker --nats URL`) in a NATS
 * queue group and gathers the results, sending a job again when its worker falls silent past its
 * deadline, and keeping exactly one result per job. docs/study.md. */
#ifndef PLURIGRID_STUDY_H
#define PLURIGRID_STUDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/dispatch.h"
#include "plurigrid/pf.h"
#include "plurigrid/plot.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PG_STUDY_PF = 0,
    PG_STUDY_RUN = 1,
    PG_STUDY_CONTINGENCY = 2,
} pg_study_kind;

typedef struct pg_study_options {
    pg_study_kind kind;
    pg_pf_options pf;    /* pf and contingency solves */
    bool series;         /* pf: every step of each world's series instead of the base case */
    pg_pf_rating rating; /* limits checked (pf, contingency); default PG_PF_RATE_A */
    pg_dispatch_options dispatch; /* run (its progress hook is not used) */
    size_t outages_per_job;       /* contingency: outages in one job; default 256 */
    size_t steps_per_job; /* series: steps in one job, each job starting from the world's own
                             starting point; 0 (default): a world's whole series is one job */
    const char *executor; /* "local" (default) or "nats" */
    int threads;          /* local: threads, 0 (default) = one per core */
    const char *url;      /* nats: the servers (as pg_bus_open) */
    double job_timeout_s; /* nats: a job whose worker has not been heard from for this long
                             is sent again; default 10 */
    int max_attempts;     /* nats: sends of one job before the study fails; default 5 */
    void (*progress)(void *user, size_t done, size_t total); /* jobs; may be NULL; calling thread */
    void *progress_user;
    void (*log)(void *user, const char *line); /* executor events (a job sent again, a worker
                                                  heard); may be NULL */
    void *log_user;
    const volatile int *stop; /* may be NULL; stops with PG_ECANCELED */
    const char *queue; /* nats: the workers' queue group; NULL (default) = "plurigrid-study" */
} pg_study_options;

PG_API void pg_study_options_init(pg_study_options *o);

typedef struct pg_study pg_study;

/* A new, empty study with options o (copied; strings borrowed for the study's life). */
PG_API int pg_study_new(pg_study **out, const pg_study_options *o, pg_error *err);
PG_API void pg_study_free(pg_study *s); /* accepts NULL */

/* Adds one world file (read now, checked now: errors name the file). id: how results name it
 * (NULL: the file's name without its extension); ids are unique in a study. */
PG_API int pg_study_add_file(pg_study *s, const char *path, const char *id, pg_error *err);
/* Adds every world of a folder: those its manifest.json lists (generated worlds, dropped ones
 * left out) or, without a manifest, every *.json and *.m file, in name order. */
PG_API int pg_study_add_dir(pg_study *s, const char *dir, pg_error *err);

/* Runs every job on the chosen executor. A world whose solve fails (a bad world, a power flow
 * that does not converge) is a result, not an error; errors are for the executor (PG_ENET: no
 * server; PG_ESOLVER: a job failed max_attempts times) and PG_ECANCELED. */
PG_API int pg_study_run(pg_study *s, pg_error *err);

/* After pg_study_run: the results. */
typedef struct pg_study_totals {
    size_t n_worlds, n_jobs, n_items;         /* items: worlds, steps or outages solved */
    size_t n_converged, n_failed;             /* items that converged (or scheduled) and did not */
    size_t n_overloads, n_voltage_violations; /* items with at least one */
    double wall_s;                            /* pg_study_run's wall time */
    size_t jobs_resent;                       /* nats: jobs sent more than once */
    size_t n_islanding;     /* contingency: outages that split an island (neither converged nor
                               failed: n_items = n_converged + n_failed + n_islanding) */
    size_t n_worlds_failed; /* worlds that could not be read, or whose power flow (pf: any of its
                               steps), schedule or base case (contingency) failed */
} pg_study_totals;
PG_API void pg_study_get_totals(const pg_study *s, pg_study_totals *t);

/* The results as one JSON document (format plurigrid-study/1, docs/study.md), as CSV (one row per
 * item), as text (a summary and the worst items), and as an SVG summary (histogram of losses,
 * voltage range per item, the worst contingencies). Each is a new string the caller frees. The
 * JSON and CSV do not depend on the executor or on timing (timings are in the text only). */
PG_API int pg_study_report_json(const pg_study *s, char **text, pg_error *err);
PG_API int pg_study_report_csv(const pg_study *s, char **text, pg_error *err);
PG_API int pg_study_report_text(const pg_study *s, char **text, pg_error *err);
PG_API int pg_study_report_svg(const pg_study *s, char **svg, pg_error *err);

/* ---------------------------------------------------------------- executors and workers */

typedef struct pg_study_executor {
    const char *name; /* "local", "nats" */
    const char *summary;
} pg_study_executor;

PG_API const pg_study_executor *pg_study_executors(size_t *n);

typedef struct pg_study_worker_options {
    const char *url;        /* NATS servers */
    const char *queue;      /* queue group; default "plurigrid-study" */
    int threads;            /* jobs run at once; 0 (default) = one per core */
    size_t max_world_cache; /* bytes of world files kept between jobs; default 256 MiB */
    void (*log)(void *user, const char *line); /* may be NULL */
    void *log_user;
    const volatile int *stop; /* the worker returns PG_OK once *stop is nonzero */
} pg_study_worker_options;

PG_API void pg_study_worker_options_init(pg_study_worker_options *o);

/* Runs a worker until *opts->stop: takes jobs from the queue group, runs them, replies with their
 * results. Reconnects on its own while the server is away. */
PG_API int pg_study_worker(const pg_study_worker_options *opts, pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
