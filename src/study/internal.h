/* What the files of the study module share: jobs as they travel (text that any executor carries
 * unchanged), running one job, accepting its result, and the table of executors. Internal to
 * src/study/.
 *
 * A job names its study (a random id), its number, the kind, one world (by its index in the study,
 * its file name and size: the executor supplies the world's text through a fetch callback, a
 * worker caching it by study and index), the items it covers (outages or steps first .. first +
 * count - 1; the world itself for pf and run) and the options that change results. Its result is
 * text too. The local executor and NATS workers both run pgi_study_job_execute on the same job
 * text, so they give the same result text to the bit. */
#ifndef PG_STUDY_INTERNAL_H
#define PG_STUDY_INTERNAL_H

#include <stddef.h>

#include "plurigrid/study.h"

/* The number of jobs of s (fixed once worlds are added and pg_study_run starts). */
size_t pgi_study_n_jobs(const pg_study *s);
const pg_study_options *pgi_study_options(const pg_study *s);
/* The study's random id (hex, [0-9a-f]{16}). */
const char *pgi_study_id(const pg_study *s);

/* Job number k as text (malloc'd, NUL-terminated, *len bytes). */
int pgi_study_job_encode(const pg_study *s, size_t k, char **text, size_t *len, pg_error *err);

/* The text of world index i of s (borrowed, valid for the study's life) and its file name. */
int pgi_study_world_text(const pg_study *s, size_t i, const char **text, size_t *len,
                         const char **name, pg_error *err);

/* How a job's runner gets the text of its world: study id, world index, file name and size as the
 * job states them. *text stays valid until the runner returns. */
typedef int (*pgi_study_fetch_fn)(void *user, const char *study, size_t world, const char *name,
                                  size_t bytes, const char **text, size_t *len, pg_error *err);

/* Runs one job. A world that cannot be read or solved is a result (its items say why); errors are
 * for a malformed job (PG_EPARSE), a failed fetch and PG_ENOMEM. *result (malloc'd,
 * NUL-terminated, *rlen bytes) is written only on success. stop may be NULL. */
int pgi_study_job_execute(const char *job, size_t len, pgi_study_fetch_fn fetch, void *user,
                          const volatile int *stop, char **result, size_t *rlen, pg_error *err);

/* The job number a job's or a result's text names, for executors that track them (PG_EPARSE when
 * it names none). */
int pgi_study_text_job(const char *text, size_t len, size_t *k, pg_error *err);

/* Stores the result of job k. The first result of a job is kept; a later one is compared with it
 * and dropped (PG_ESTATE when it differs, which means a worker is not deterministic). Thread
 * safe. */
int pgi_study_result_accept(pg_study *s, size_t k, const char *result, size_t len, pg_error *err);
bool pgi_study_job_done(const pg_study *s, size_t k);
size_t pgi_study_n_done(const pg_study *s);
/* Counts a job sent more than once (pg_study_totals.jobs_resent). */
void pgi_study_count_resent(pg_study *s);

/* An executor runs every job of s that is not done, calling pgi_study_result_accept for each,
 * and reports progress through the study's options. */
typedef struct pgi_study_executor {
    pg_study_executor pub;
    int (*run)(pg_study *s, pg_error *err);
} pgi_study_executor;

extern const pgi_study_executor pgi_study_local, pgi_study_nats;

#endif
