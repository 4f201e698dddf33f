/* Jobs (http.h): long work that runs on the server's job threads, never on a request thread. A
 * job is queued (at most max_jobs queued or running at once: PG_ELIMIT beyond, which the API
 * answers 429), run by the first free job thread, and ends done, failed or cancelled; its
 * progress and its end are "job" events. Finished jobs are kept for their results (the oldest
 * dropped beyond keep_jobs), with their result already dumped as text. Every job lives in one
 * list under one lock; handlers copy what they need under it and never keep a job pointer. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/json_write.h"
#include "core/util.h"
#include "http/internal.h"

#define WAIT_MAX_S 30.0
#define CANCEL_WAIT_S 10.0
#define PROGRESS_EVERY_S 0.1

typedef enum state { QUEUED, RUNNING, DONE, FAILED, CANCELLED } state;
static const char *const state_names[] = {"queued", "running", "done", "failed", "cancelled"};

struct pgh_job {
    pghi_jobs *js;
    char id[PGH_JOB_ID_MAX];
    char kind[24];
    state st;
    pgh_job_fn fn;
    void *arg;
    void (*free_arg)(void *);
    volatile int stop;
    double done, total;
    char units[24];
    double last_event;
    char created[32];
    double t_start, t_end;
    char *result;
    size_t result_len;
    pg_error err;
    pgh_job *next;
};

struct pghi_jobs {
    pgh_server *s;
    pthread_mutex_t mu;
    pthread_cond_t work;  /* a job was queued, or shutdown */
    pthread_cond_t ended; /* a job changed state */
    pgh_job *head, *tail;
    size_t active;   /* queued or running */
    size_t finished; /* done, failed or cancelled, kept */
    pthread_t *threads;
    size_t n_threads;
    bool shutdown;
};

static void
abs_deadline(struct timespec *ts, double wait_s)
{
    clock_gettime(CLOCK_REALTIME, ts);
    if (wait_s < 0)
        wait_s = 0;
    ts->tv_sec += (time_t)wait_s;
    ts->tv_nsec += (long)((wait_s - floor(wait_s)) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* The job's status document; call under js->mu. */
static json_t *
job_json(const pgh_job *j)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_string(j->id));
    json_object_set_new(o, "kind", json_string(j->kind));
    json_object_set_new(o, "status", json_string(state_names[j->st]));
    if (j->total > 0 || j->done > 0)
        json_object_set_new(o, "progress",
                            json_pack("{s:o, s:o, s:s}", "done", pgi_json_num(j->done), "total",
                                      pgi_json_num(j->total), "units", j->units));
    else
        json_object_set_new(o, "progress", json_null());
    json_object_set_new(o, "error", j->st == FAILED ? pgh_error_json(&j->err) : json_null());
    json_object_set_new(o, "created", json_string(j->created));
    double secs = j->st == QUEUED ? 0 : (j->st == RUNNING ? pgi_now() : j->t_end) - j->t_start;
    if (j->t_start == 0)
        secs = 0;
    json_object_set_new(o, "seconds", pgi_json_num(secs > 0 ? secs : 0));
    json_object_set_new(o, "href", json_sprintf("/api/jobs/%s", j->id));
    return o;
}

static pgh_job *
find_job(pghi_jobs *js, const char *id)
{
    for (pgh_job *j = js->head; j; j = j->next)
        if (strcmp(j->id, id) == 0)
            return j;
    return NULL;
}

static void
job_free(pgh_job *j)
{
    if (!j)
        return;
    if (j->free_arg && j->arg)
        j->free_arg(j->arg);
    free(j->result);
    free(j);
}

/* Drops the oldest finished jobs beyond keep_jobs; under js->mu. */
static void
trim(pghi_jobs *js)
{
    size_t keep = pgh_server_options(js->s)->keep_jobs;
    pgh_job **pp = &js->head, *prev = NULL;
    while (js->finished > keep && *pp) {
        pgh_job *j = *pp;
        if (j->st >= DONE) {
            *pp = j->next;
            if (js->tail == j)
                js->tail = prev;
            js->finished--;
            job_free(j);
            continue;
        }
        prev = j;
        pp = &j->next;
    }
}

/* Marks j ended in state st (under js->mu), publishes its "job" event and returns its document
 * (j itself may be dropped by then: keep_jobs). Events are published under js->mu, so that a
 * job's events are in the order of its states. */
static json_t *
end_job(pghi_jobs *js, pgh_job *j, state st)
{
    j->st = st;
    j->t_end = pgi_now();
    if (j->t_start == 0)
        j->t_start = j->t_end;
    if (j->free_arg && j->arg)
        j->free_arg(j->arg);
    j->arg = NULL;
    js->active--;
    js->finished++;
    json_t *doc = job_json(j);
    pgh_events_publish(js->s, "job", json_incref(doc));
    trim(js);
    pthread_cond_broadcast(&js->ended);
    return doc;
}

static void *
worker(void *arg)
{
    pghi_jobs *js = arg;
    pthread_mutex_lock(&js->mu);
    for (;;) {
        pgh_job *j = NULL;
        while (!js->shutdown) {
            for (j = js->head; j && j->st != QUEUED; j = j->next) {
            }
            if (j)
                break;
            pthread_cond_wait(&js->work, &js->mu);
        }
        if (js->shutdown)
            break;
        j->st = RUNNING;
        j->t_start = pgi_now();
        pgh_events_publish(js->s, "job", job_json(j));
        pthread_cond_broadcast(&js->ended);
        pthread_mutex_unlock(&js->mu);

        json_t *result = NULL;
        pg_error err;
        pg_error_clear(&err);
        int rc = j->fn(j, j->arg, &result, &err);
        char *text = NULL;
        if (rc == PG_OK) {
            text = result ? pgi_json_dumps(result, JSON_INDENT(1) | JSON_PRESERVE_ORDER)
                          : pgi_strdup("null\n");
            if (!text)
                rc = pg_error_set(&err, PG_ENOMEM, "out of memory writing the job's result");
        }
        json_decref(result);

        pthread_mutex_lock(&js->mu);
        state st;
        if (rc == PG_OK) {
            st = DONE;
            j->result = text;
            j->result_len = strlen(text);
        } else if (rc == PG_ECANCELED || j->stop) {
            st = CANCELLED;
            free(text);
        } else {
            st = FAILED;
            j->err = err;
            if (!j->err.code)
                j->err.code = rc;
            if (!j->err.msg[0])
                snprintf(j->err.msg, sizeof j->err.msg, "%s", pg_strerror(rc));
            free(text);
        }
        json_decref(end_job(js, j, st));
    }
    pthread_mutex_unlock(&js->mu);
    return NULL;
}

/* ---------------------------------------------------------------- life cycle */

int
pghi_jobs_create(pgh_server *s, pghi_jobs **out, pg_error *err)
{
    const pgh_options *o = pgh_server_options(s);
    pghi_jobs *js = calloc(1, sizeof *js);
    if (!js)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    js->s = s;
    pthread_mutex_init(&js->mu, NULL);
    pthread_cond_init(&js->work, NULL);
    pthread_cond_init(&js->ended, NULL);
    js->threads = calloc(o->job_threads, sizeof *js->threads);
    if (!js->threads) {
        pghi_jobs_destroy(js);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < o->job_threads; i++) {
        int e = pthread_create(&js->threads[i], NULL, worker, js);
        if (e) {
            pghi_jobs_shutdown(js);
            pghi_jobs_destroy(js);
            return pg_error_set(err, PG_ENOMEM, "cannot start the job threads: %s", strerror(e));
        }
        js->n_threads++;
    }
    *out = js;
    return PG_OK;
}

void
pghi_jobs_shutdown(pghi_jobs *js)
{
    if (!js)
        return;
    pthread_mutex_lock(&js->mu);
    js->shutdown = true;
    for (pgh_job *j = js->head; j; j = j->next) {
        j->stop = 1;
        if (j->st == QUEUED)
            json_decref(end_job(js, j, CANCELLED));
    }
    pthread_cond_broadcast(&js->work);
    pthread_cond_broadcast(&js->ended);
    pthread_mutex_unlock(&js->mu);
}

void
pghi_jobs_destroy(pghi_jobs *js)
{
    if (!js)
        return;
    for (size_t i = 0; i < js->n_threads; i++)
        pthread_join(js->threads[i], NULL);
    free(js->threads);
    pgh_job *j = js->head;
    while (j) {
        pgh_job *n = j->next;
        job_free(j);
        j = n;
    }
    pthread_cond_destroy(&js->work);
    pthread_cond_destroy(&js->ended);
    pthread_mutex_destroy(&js->mu);
    free(js);
}

/* ---------------------------------------------------------------- jobs */

static int
random_id(char id[PGH_JOB_ID_MAX], pg_error *err)
{
    unsigned char b[12];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got < sizeof b) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        ssize_t r = fd >= 0 ? read(fd, b, sizeof b) : -1;
        if (fd >= 0)
            close(fd);
        if (r != (ssize_t)sizeof b)
            return pg_error_set(err, PG_EIO, "cannot read random bytes for a job id");
    }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(id + 2 * i, 3, "%02x", b[i]);
    return PG_OK;
}

int
pgh_job_submit(pgh_server *s, const char *kind, pgh_job_fn fn, void *arg, void (*free_arg)(void *),
               char id[PGH_JOB_ID_MAX], pg_error *err)
{
    pghi_jobs *js = s ? pghi_server_jobs(s) : NULL;
    int rc = PG_OK;
    pgh_job *j = NULL;
    if (!js || !fn || !kind) {
        rc = pg_error_set(err, PG_EINVAL, "pgh_job_submit: no server, kind or function");
        goto fail;
    }
    j = calloc(1, sizeof *j);
    if (!j) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto fail;
    }
    j->js = js;
    j->fn = fn;
    snprintf(j->kind, sizeof j->kind, "%s", kind);
    pghi_utc_now(j->created);
    if ((rc = random_id(j->id, err)))
        goto fail;
    const pgh_options *o = pgh_server_options(s);
    pthread_mutex_lock(&js->mu);
    if (js->shutdown) {
        pthread_mutex_unlock(&js->mu);
        rc = pg_error_set(err, PG_ELIMIT, "the server is stopping: it takes no more jobs");
        goto fail;
    }
    if (js->active >= o->max_jobs) {
        pthread_mutex_unlock(&js->mu);
        rc = pg_error_set(err, PG_ELIMIT,
                          "too many jobs at once (%zu queued or running, the most this server "
                          "takes): wait for one to end, or cancel one",
                          o->max_jobs);
        goto fail;
    }
    j->arg = arg;
    j->free_arg = free_arg;
    arg = NULL;
    if (js->tail)
        js->tail->next = j;
    else
        js->head = j;
    js->tail = j;
    js->active++;
    memcpy(id, j->id, PGH_JOB_ID_MAX);
    pgh_events_publish(s, "job", job_json(j));
    pthread_cond_signal(&js->work);
    pthread_mutex_unlock(&js->mu);
    return PG_OK;
fail:
    free(j);
    if (free_arg && arg)
        free_arg(arg);
    return rc;
}

bool
pgh_job_cancelled(const pgh_job *j)
{
    return j->stop != 0;
}

const volatile int *
pgh_job_stop_flag(const pgh_job *j)
{
    return &j->stop;
}

pgh_server *
pgh_job_server(const pgh_job *j)
{
    return j->js->s;
}

const char *
pgh_job_id(const pgh_job *j)
{
    return j->id;
}

void
pgh_job_progress(pgh_job *j, double done, double total, const char *units)
{
    pghi_jobs *js = j->js;
    pthread_mutex_lock(&js->mu);
    j->done = isfinite(done) ? done : 0;
    j->total = isfinite(total) ? total : 0;
    snprintf(j->units, sizeof j->units, "%s", units ? units : "");
    double t = pgi_now();
    if (t - j->last_event >= PROGRESS_EVERY_S || done >= total) {
        j->last_event = t;
        pgh_events_publish(js->s, "job", job_json(j));
    }
    pthread_mutex_unlock(&js->mu);
}

/* ---------------------------------------------------------------- routes */

static int
h_list(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    (void)rq;
    pghi_jobs *js = pghi_server_jobs(s);
    json_t *a = json_array();
    pthread_mutex_lock(&js->mu);
    for (pgh_job *j = js->head; a && j; j = j->next)
        json_array_append_new(a, job_json(j));
    pthread_mutex_unlock(&js->mu);
    return pgh_reply_json(rp, 200, a ? json_pack("{s:o}", "jobs", a) : NULL, err);
}

static int
h_status(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    pghi_jobs *js = pghi_server_jobs(s);
    const char *id = pgh_request_param(rq, 0);
    const char *w = pgh_request_query(rq, "wait");
    double wait = 0;
    if (w) {
        char *end;
        errno = 0;
        wait = strtod(w, &end);
        if (!*w || *end || errno || !(wait >= 0) || wait > WAIT_MAX_S)
            return pgh_reply_error(rp, 400, "invalid_request",
                                   "wait must be a number of seconds from 0 to %g (it is '%s')",
                                   WAIT_MAX_S, w);
    }
    struct timespec until;
    abs_deadline(&until, wait);
    double end_t = pgi_now() + wait;
    pthread_mutex_lock(&js->mu);
    pgh_job *j = find_job(js, id);
    while (j && j->st < DONE && !js->shutdown && pgi_now() < end_t) {
        pthread_cond_timedwait(&js->ended, &js->mu, &until);
        j = find_job(js, id); /* it may have been dropped meanwhile */
    }
    json_t *v = j ? job_json(j) : NULL;
    pthread_mutex_unlock(&js->mu);
    if (!j)
        return pgh_reply_error(rp, 404, "not_found",
                               "no job '%s' (finished jobs are kept for a "
                               "while, then dropped)",
                               id);
    return pgh_reply_json(rp, 200, v, err);
}

static int
h_result(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    pghi_jobs *js = pghi_server_jobs(s);
    const char *id = pgh_request_param(rq, 0);
    int rc = PG_OK;
    pthread_mutex_lock(&js->mu);
    pgh_job *j = find_job(js, id);
    if (!j)
        rc = pgh_reply_error(rp, 404, "not_found", "no job '%s'", id);
    else if (j->st == DONE)
        rc = pgh_reply_text(rp, 200, j->result, j->result_len, err);
    else if (j->st == FAILED)
        rc = pgh_reply_pg_error(rp, &j->err);
    else if (j->st == CANCELLED)
        rc = pgh_reply_error(rp, 409, "cancelled", "job '%s' was cancelled: it has no result", id);
    else
        rc = pgh_reply_error(rp, 409, "not_ready", "job '%s' is %s: its result is not ready", id,
                             state_names[j->st]);
    pthread_mutex_unlock(&js->mu);
    return rc;
}

static int
h_cancel(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    pghi_jobs *js = pghi_server_jobs(s);
    const char *id = pgh_request_param(rq, 0);
    json_t *v = NULL;
    int status = 200;
    pthread_mutex_lock(&js->mu);
    pgh_job *j = find_job(js, id);
    if (!j) {
        pthread_mutex_unlock(&js->mu);
        return pgh_reply_error(rp, 404, "not_found", "no job '%s'", id);
    }
    if (j->st == DONE || j->st == FAILED) {
        const char *what = state_names[j->st];
        pthread_mutex_unlock(&js->mu);
        return pgh_reply_error(rp, 409, "ended", "job '%s' has already ended (%s)", id, what);
    }
    if (j->st == QUEUED) {
        j->stop = 1;
        v = end_job(js, j, CANCELLED);
    } else if (j->st == RUNNING) {
        /* A running job stops when its work next looks at the flag; wait a little for that so
         * that the reply can say it ended. */
        j->stop = 1;
        struct timespec until;
        abs_deadline(&until, CANCEL_WAIT_S);
        double end_t = pgi_now() + CANCEL_WAIT_S;
        while (j && j->st == RUNNING && pgi_now() < end_t)
            if (pthread_cond_timedwait(&js->ended, &js->mu, &until) == ETIMEDOUT)
                break;
            else
                j = find_job(js, id);
        v = j ? job_json(j) : json_pack("{s:s, s:s}", "id", id, "status", "cancelled");
        if (j && j->st == RUNNING)
            status = 202; /* asked to stop, still ending */
    } else {
        v = job_json(j);
    }
    pthread_mutex_unlock(&js->mu);
    return pgh_reply_json(rp, status, v, err);
}

static const pgh_route job_routes[] = {
    {"GET", "/api/jobs", h_list, "The jobs: queued, running and recently finished"},
    {"GET", "/api/jobs/{id}", h_status, "A job's status (?wait=SECONDS waits for its end)"},
    {"GET", "/api/jobs/{id}/result", h_result, "A finished job's result"},
    {"DELETE", "/api/jobs/{id}", h_cancel, "Cancels a queued or running job"},
};
const pgh_route_set pgh_routes_jobs = {job_routes, sizeof job_routes / sizeof *job_routes};
