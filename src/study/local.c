/* The "local" executor: the study's jobs on threads of this process. Each thread takes the next
 * job not yet done, encodes it, runs it as a worker would (pgi_study_job_execute on the job's
 * text, the world's text fetched from the study) and hands the result to the store; the calling
 * thread reports progress and watches the stop flag. Which thread runs which job changes nothing:
 * a result depends on its job alone. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "study/study_priv.h"

typedef struct pool {
    pg_study *s;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t next;     /* next job to look at */
    size_t finished; /* jobs run by this pool */
    int running;     /* threads still working */
    int failed;      /* a job failed: the others stop taking jobs */
    pg_error err;
    int rc;
    volatile int stop; /* copied from the study's stop flag by the calling thread */
} pool;

static int
fetch(void *user, const char *study, size_t world, const char *name, size_t bytes,
      const char **text, size_t *len, pg_error *err)
{
    (void)study;
    (void)name;
    (void)bytes;
    return pgi_study_world_text((const pg_study *)user, world, text, len, NULL, err);
}

static void *
work(void *arg)
{
    pool *p = arg;
    for (;;) {
        size_t k;
        pthread_mutex_lock(&p->lock);
        while (p->next < pgi_study_n_jobs(p->s) && pgi_study_job_done(p->s, p->next))
            p->next++;
        if (p->failed || p->stop || p->next >= pgi_study_n_jobs(p->s)) {
            p->running--;
            pthread_cond_broadcast(&p->cond);
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        k = p->next++;
        pthread_mutex_unlock(&p->lock);

        pg_error e;
        pg_error_clear(&e);
        char *job = NULL, *res = NULL;
        size_t jlen = 0, rlen = 0;
        int rc = pgi_study_job_encode(p->s, k, &job, &jlen, &e);
        if (rc == PG_OK)
            rc = pgi_study_job_execute(job, jlen, fetch, p->s, &p->stop, &res, &rlen, &e);
        if (rc == PG_OK)
            rc = pgi_study_result_accept(p->s, k, res, rlen, &e);
        free(job);
        free(res);

        pthread_mutex_lock(&p->lock);
        if (rc != PG_OK && !p->failed) {
            p->failed = 1;
            p->rc = rc;
            p->err = e;
        }
        if (rc == PG_OK)
            p->finished++;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
    }
}

static int
local_run(pg_study *s, pg_error *err)
{
    const pg_study_options *o = pgi_study_options(s);
    size_t n_jobs = pgi_study_n_jobs(s);
    int n = o->threads;
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)(c < 256 ? c : 256) : 1;
    }
    if ((size_t)n > n_jobs)
        n = (int)(n_jobs ? n_jobs : 1);
    pool p;
    memset(&p, 0, sizeof p);
    p.s = s;
    pg_error_clear(&p.err);
    if (pthread_mutex_init(&p.lock, NULL) != 0)
        return pg_error_set(err, PG_ENOMEM, "cannot create a lock");
    if (pthread_cond_init(&p.cond, NULL) != 0) {
        pthread_mutex_destroy(&p.lock);
        return pg_error_set(err, PG_ENOMEM, "cannot create a condition variable");
    }
    pthread_t *th = calloc((size_t)n, sizeof *th);
    int started = 0, rc = PG_OK;
    if (!th) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    pthread_mutex_lock(&p.lock);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&th[i], NULL, work, &p) != 0)
            break;
        started++;
        p.running++;
    }
    if (started == 0) {
        pthread_mutex_unlock(&p.lock);
        rc = pg_error_set(err, PG_ENOMEM, "cannot start a thread");
        goto out;
    }
    size_t reported = (size_t)-1;
    while (p.running > 0) {
        size_t done = pgi_study_n_done(s);
        if (o->progress && done != reported) {
            reported = done;
            pthread_mutex_unlock(&p.lock);
            o->progress(o->progress_user, done, n_jobs);
            pthread_mutex_lock(&p.lock);
            continue;
        }
        if (o->stop && *o->stop)
            p.stop = 1;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p.cond, &p.lock, &ts);
    }
    pthread_mutex_unlock(&p.lock);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (p.failed && !(p.rc == PG_ECANCELED && p.stop)) {
        if (err)
            *err = p.err;
        rc = p.rc;
    } else if (pgi_study_n_done(s) < n_jobs) {
        rc = pg_error_set(err, PG_ECANCELED, "the study was stopped with %zu of %zu jobs done",
                          pgi_study_n_done(s), n_jobs);
    } else if (o->progress && reported != pgi_study_n_done(s)) {
        o->progress(o->progress_user, pgi_study_n_done(s), n_jobs);
    }
out:
    free(th);
    pthread_cond_destroy(&p.cond);
    pthread_mutex_destroy(&p.lock);
    return rc;
}

const pgi_study_executor pgi_study_local = {
    {"local", "threads of this process (the default)"},
    local_run,
};
