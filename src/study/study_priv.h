/* The inside of a study, shared by the files of src/study/ that own it (study.c, job.c,
 * report.c): its worlds, its jobs (cut once, when each world is added) and the results store.
 * Executors see only src/study/internal.h. */
#ifndef PG_STUDY_PRIV_H
#define PG_STUDY_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "plurigrid/study.h"
#include "study/internal.h"

typedef struct pgi_study_world {
    char *id;   /* how results name it; unique in the study */
    char *path; /* as given */
    char *name; /* the file's name, without its folder */
    char *text; /* the file's bytes, NUL-terminated */
    size_t len;
    bool bad;       /* the file did not read as a world (its job reports why) */
    size_t n_items; /* outages studied (contingency), steps (series) or 1 */
} pgi_study_world;

typedef struct pgi_study_job {
    size_t world;
    size_t first, count; /* items of the world: outages or steps; 0 and 1 for a whole world */
} pgi_study_job;

struct pg_study {
    pg_study_options o;
    char id[17];
    pgi_study_world *worlds;
    size_t n_worlds, cap_worlds;
    pgi_study_job *jobs;
    size_t n_jobs, cap_jobs;

    pthread_mutex_t lock; /* guards the results store below */
    char **results;       /* per job, NULL until its first result is accepted */
    size_t *result_len;
    size_t cap_results;
    size_t n_done;
    size_t resent;

    bool ran;
    pg_study_totals totals;
};

/* The kind's name in jobs and reports ("pf", "run", "contingency") and back. */
const char *pgi_study_kind_name(pg_study_kind k);
int pgi_study_kind_from_name(const char *name, pg_study_kind *k);
const char *pgi_study_rating_name(pg_pf_rating r);

/* The number of items of world text (for cutting it into jobs): the outages of a contingency
 * study (branches in service), the steps of a series, 1 otherwise. Fails (the world's error in
 * err) when the text is not a world. */
int pgi_study_count_items(const pg_study_options *o, const char *name, const char *text, size_t len,
                          size_t *n, pg_error *err);

/* The executor of that name in the table (executor.c), NULL when none. */
const pgi_study_executor *pgi_study_executor_find(const char *name);

/* The totals of the accepted results (after every job is done). */
int pgi_study_compute_totals(const pg_study *s, pg_study_totals *t, pg_error *err);

#endif
