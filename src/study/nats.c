/* The "nats" executor of studies: offers each job to the workers of a NATS queue group through the
 * lattice bus (include/plurigrid/lattice.h) and gathers their results, sending a job again when
 * its worker falls silent past the study's job_timeout_s, and keeping exactly one result per job
 * (pgi_study_result_accept). The protocol is in docs/study.md, "On NATS workers":
 *
 *  - a job is offered by a request on pg.study.q.QUEUE.job, which only workers with a free slot
 *    subscribe to (in the queue group QUEUE): the server gives it to one of them, which answers
 *    "ack" (it runs the job), "busy" (its slots filled meanwhile) or "error" (a malformed offer);
 *    nobody subscribed (every slot busy) is the server's immediate "no responders", and the next
 *    offer waits for a worker's "ready" (a slot freed) or a short timer;
 *  - a worker sends "beat" for its jobs while it fetches and runs them, and the result (in parts
 *    when larger than the server's max_payload) on pg.study.c.STUDY.result;
 *  - a worker fetches a world's text in chunks by request on pg.study.c.STUDY.world.
 *
 * Everything happens on the calling thread: handlers only record what arrived. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "plurigrid/lattice.h"
#include "study/internal.h"
#include "study/wire.h"

enum { PENDING, RUNNING, DONE };

typedef struct jstate {
    int state;
    int attempts; /* times taken by a worker */
    char worker[17];
    double heard; /* the last word of its worker about it */
} jstate;

/* A result arriving in parts from one worker. */
typedef struct part_buf {
    struct part_buf *next;
    size_t k;
    char worker[17];
    size_t next_part, n_parts, total, got;
    char *buf;
} part_buf;

typedef struct client {
    pg_study *s;
    const pg_study_options *o;
    pg_bus *bus;
    const char *queue;
    char id[17];
    jstate *jobs;
    size_t n_jobs;
    part_buf *parts;
    bool ready_hint; /* a worker said it has a free slot since the last offer nobody took */
    size_t readies;  /* "ready" messages heard */
    int rc;          /* the first error that ends the study */
    pg_error err;
    size_t malformed; /* messages refused */
    double last_taken;
} client;

static void say(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(client *c, const char *fmt, ...)
{
    if (!c->o->log)
        return;
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->o->log(c->o->log_user, line);
}

static void
fail(client *c, int rc, const char *msg)
{
    if (c->rc)
        return;
    c->rc = rc;
    pg_error_set(&c->err, rc, "%s", msg);
}

static void
refuse(client *c, const char *what, const pg_error *e)
{
    c->malformed++;
    say(c, "dropped a malformed %s message: %s", what, e ? e->msg : "");
}

/* ---------------------------------------------------------------- handlers */

static void
on_ready(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    client *c = ctx;
    pgi_wire w;
    pg_error e;
    pg_error_clear(&e);
    size_t free_slots;
    if (pgi_wire_parse(data, len, &w, &e) || strcmp(w.tok[0], "ready/1") || w.n_tok != 3 ||
        !pgi_wire_id(&w, 1) || !pgi_wire_size(&w, 2, &free_slots)) {
        refuse(c, "ready", &e);
        return;
    }
    if (free_slots > 0) {
        c->ready_hint = true;
        c->readies++;
    }
}

static void
on_beat(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    client *c = ctx;
    pgi_wire w;
    pg_error e;
    pg_error_clear(&e);
    if (pgi_wire_parse(data, len, &w, &e) || strcmp(w.tok[0], "beat/1") || w.n_tok < 2 ||
        !pgi_wire_id(&w, 1)) {
        refuse(c, "beat", &e);
        return;
    }
    double now = pgi_now();
    for (size_t i = 2; i < w.n_tok; i++) {
        size_t k;
        if (!pgi_wire_size(&w, i, &k) || k >= c->n_jobs) {
            refuse(c, "beat", NULL);
            return;
        }
        jstate *j = &c->jobs[k];
        /* The job's worker, or a worker that took it before it was sent again: either may still
         * finish it, so either keeps it from being sent once more. */
        if (j->state == RUNNING)
            j->heard = now;
    }
}

static void
accept_result(client *c, size_t k, const char *worker, const char *text, size_t len)
{
    pg_error e;
    pg_error_clear(&e);
    size_t named;
    if (pgi_study_text_job(text, len, &named, &e) || named != k) {
        refuse(c, "result", &e);
        return;
    }
    int rc = pgi_study_result_accept(c->s, k, text, len, &e);
    if (rc == PG_ESTATE) {
        /* two runs of one job disagree: a worker is not deterministic, no result can be trusted */
        char msg[900];
        snprintf(msg, sizeof msg, "%s (the second came from worker %s)", e.msg, worker);
        fail(c, PG_ESTATE, msg);
        return;
    } else if (rc == PG_ENOMEM) {
        fail(c, PG_ENOMEM, "out of memory");
        return;
    } else if (rc) {
        refuse(c, "result", &e);
        return;
    }
    c->jobs[k].state = DONE;
}

static void
on_result(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    client *c = ctx;
    pgi_wire w;
    pg_error e;
    pg_error_clear(&e);
    if (pgi_wire_parse(data, len, &w, &e)) {
        refuse(c, "result", &e);
        return;
    }
    size_t k;
    if (strcmp(w.tok[0], "failed/1") == 0 && w.n_tok == 3 && pgi_wire_id(&w, 1) &&
        pgi_wire_size(&w, 2, &k) && k < c->n_jobs) {
        jstate *j = &c->jobs[k];
        char why[300];
        snprintf(why, sizeof why, "%.*s", (int)(w.body_len < 299 ? w.body_len : 299),
                 w.body ? w.body : "");
        say(c, "job %zu failed on worker %s: %s", k, w.tok[1], why);
        if (j->state != RUNNING)
            return;
        if (j->attempts >= c->o->max_attempts) {
            char msg[400];
            snprintf(msg, sizeof msg, "job %zu failed on %d workers; the last said: %s", k,
                     j->attempts, why);
            fail(c, PG_ESOLVER, msg);
            return;
        }
        j->state = PENDING;
        return;
    }
    size_t part, n_parts, total;
    if (strcmp(w.tok[0], "result/1") || w.n_tok != 6 || !pgi_wire_id(&w, 1) ||
        !pgi_wire_size(&w, 2, &k) || k >= c->n_jobs || !pgi_wire_size(&w, 3, &part) ||
        !pgi_wire_size(&w, 4, &n_parts) || !pgi_wire_size(&w, 5, &total) || n_parts == 0 ||
        part >= n_parts || !w.body || w.body_len > total || total > PG_INPUT_MAX) {
        refuse(c, "result", &e);
        return;
    }
    const char *worker = w.tok[1];
    if (c->jobs[k].attempts == 0) {
        /* no worker was ever given this job: whoever sent it, it is not a result */
        pg_error_set(&e, PG_EPARSE, "a result for job %zu, which was never sent", k);
        refuse(c, "result", &e);
        return;
    }
    /* A duplicate (a job sent again whose first worker was only slow) is still read whole and
     * compared with the result kept: two that differ fail the study (accept_result). */
    if (n_parts == 1) {
        if (w.body_len != total) {
            refuse(c, "result", NULL);
            return;
        }
        accept_result(c, k, worker, w.body, w.body_len);
        return;
    }
    part_buf **pp = &c->parts, *pb = NULL;
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->k == k && strcmp((*pp)->worker, worker) == 0) {
            pb = *pp;
            break;
        }
    if (pb && (pb->next_part != part || pb->n_parts != n_parts || pb->total != total)) {
        /* parts of one worker come in order: a gap means this one started again */
        *pp = pb->next;
        free(pb->buf);
        free(pb);
        pb = NULL;
    }
    if (!pb) {
        if (part != 0)
            return;
        pb = calloc(1, sizeof *pb);
        if (!pb) {
            fail(c, PG_ENOMEM, "out of memory");
            return;
        }
        *pb = (part_buf){c->parts, k, "", 0, n_parts, total, 0, NULL};
        snprintf(pb->worker, sizeof pb->worker, "%s", worker);
        c->parts = pb;
        pp = &c->parts;
    }
    if (w.body_len > pb->total - pb->got) {
        refuse(c, "result", NULL);
        return;
    }
    /* grown as the parts come, so memory follows what arrived, not what a header claims */
    char *grown = realloc(pb->buf, pb->got + w.body_len + 1);
    if (!grown) {
        fail(c, PG_ENOMEM, "out of memory");
        return;
    }
    pb->buf = grown;
    memcpy(pb->buf + pb->got, w.body, w.body_len);
    pb->got += w.body_len;
    pb->next_part++;
    if (pb->next_part < pb->n_parts)
        return;
    for (pp = &c->parts; *pp != pb; pp = &(*pp)->next) {
    }
    *pp = pb->next;
    if (pb->got == pb->total)
        accept_result(c, k, worker, pb->buf, pb->got);
    else
        refuse(c, "result", NULL);
    free(pb->buf);
    free(pb);
}

/* A worker's request for part of a world: "get/1 WORKER WORLD OFFSET LENGTH". */
static void
on_world(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    client *c = ctx;
    pgi_wire w;
    pg_error e;
    pg_error_clear(&e);
    size_t world, off, want;
    const char *text = NULL;
    size_t tlen = 0;
    char head[PGI_WIRE_HEADER_ROOM];
    if (!reply)
        return;
    if (pgi_wire_parse(data, len, &w, &e) || strcmp(w.tok[0], "get/1") || w.n_tok != 5 ||
        !pgi_wire_id(&w, 1) || !pgi_wire_size(&w, 2, &world) || !pgi_wire_size(&w, 3, &off) ||
        !pgi_wire_size(&w, 4, &want) || want == 0 ||
        pgi_study_world_text(c->s, world, &text, &tlen, NULL, &e) != PG_OK || off > tlen) {
        refuse(c, "world request", &e);
        int n = snprintf(head, sizeof head, "error/1 %s", "a malformed request for a world");
        pg_bus_publish(c->bus, reply, head, (size_t)n, NULL);
        return;
    }
    size_t room = pg_bus_max_payload(c->bus);
    room = room > PGI_WIRE_HEADER_ROOM ? room - PGI_WIRE_HEADER_ROOM : 0;
    size_t n = tlen - off;
    if (n > want)
        n = want;
    if (n > room)
        n = room;
    int hl =
        snprintf(head, sizeof head, "chunk/1 %s %zu %zu %zu %zu\n", c->id, world, off, n, tlen);
    char *msg = malloc((size_t)hl + n);
    if (!msg) {
        fail(c, PG_ENOMEM, "out of memory");
        return;
    }
    memcpy(msg, head, (size_t)hl);
    memcpy(msg + hl, text + off, n);
    if (pg_bus_publish(c->bus, reply, msg, (size_t)hl + n, &e))
        say(c, "could not send part of world %zu to worker %s: %s", world, w.tok[1], e.msg);
    free(msg);
}

/* ---------------------------------------------------------------- offers */

/* Offers job k once. Returns true when a worker took it. */
static bool
offer(client *c, size_t k, const char *subject)
{
    jstate *j = &c->jobs[k];
    pg_error e;
    pg_error_clear(&e);
    char *job = NULL;
    size_t jlen = 0;
    if (pgi_study_job_encode(c->s, k, &job, &jlen, &e)) {
        fail(c, e.code ? e.code : PG_ENOMEM, e.msg);
        return false;
    }
    double beat_ms = c->o->job_timeout_s * 1000.0 / 4.0;
    if (beat_ms < 50)
        beat_ms = 50;
    if (beat_ms > 60000)
        beat_ms = 60000;
    char head[PGI_WIRE_HEADER_ROOM];
    int hl =
        snprintf(head, sizeof head, "job/1 %s %zu %d %.0f\n", c->id, k, j->attempts + 1, beat_ms);
    char *msg = malloc((size_t)hl + jlen);
    if (!msg) {
        free(job);
        fail(c, PG_ENOMEM, "out of memory");
        return false;
    }
    memcpy(msg, head, (size_t)hl);
    memcpy(msg + hl, job, jlen);
    free(job);
    void *ans = NULL;
    size_t alen = 0;
    size_t readies = c->readies; /* one heard while the offer waits is not lost */
    int rc = pg_bus_request(c->bus, subject, msg, (size_t)hl + jlen, PGI_WIRE_ACK_TIMEOUT_S, &ans,
                            &alen, &e);
    free(msg);
    if (rc == PG_ENET) {
        /* nobody free (the server said so at once), or no answer in time */
        c->ready_hint = c->readies != readies;
        return false;
    }
    if (rc) {
        fail(c, rc, e.msg);
        return false;
    }
    pgi_wire w;
    bool taken = false;
    if (pgi_wire_parse(ans, alen, &w, &e) == PG_OK && w.n_tok >= 2 && pgi_wire_id(&w, 1)) {
        size_t named;
        if (strcmp(w.tok[0], "ack/1") == 0 && w.n_tok == 4 && pgi_wire_size(&w, 2, &named) &&
            named == k) {
            taken = true;
            if (j->attempts > 0)
                pgi_study_count_resent(c->s);
            j->attempts++;
            if (j->state == PENDING)
                j->state = RUNNING;
            snprintf(j->worker, sizeof j->worker, "%s", w.tok[1]);
            j->heard = pgi_now();
            c->last_taken = j->heard;
        } else if (strcmp(w.tok[0], "busy/1") == 0) {
            c->ready_hint = c->readies != readies;
        } else if (strcmp(w.tok[0], "error/1") == 0) {
            char why[300];
            snprintf(why, sizeof why, "worker %s refused job %zu as malformed", w.tok[1], k);
            strncat(why, " (is it an older or newer plurigrid?)", sizeof why - strlen(why) - 1);
            fail(c, PG_ESTATE, why);
        } else {
            refuse(c, "answer to an offer", NULL);
        }
    } else {
        refuse(c, "answer to an offer", &e);
    }
    free(ans);
    return taken;
}

/* Jobs whose worker fell silent go back to be offered again; false (c->rc set) when one has been
 * taken max_attempts times. */
static void
check_deadlines(client *c, double now)
{
    for (size_t k = 0; k < c->n_jobs && !c->rc; k++) {
        jstate *j = &c->jobs[k];
        if (j->state != RUNNING || now - j->heard <= c->o->job_timeout_s)
            continue;
        if (j->attempts >= c->o->max_attempts) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "job %zu was sent %d times and every worker fell silent for more than %g s", k,
                     j->attempts, c->o->job_timeout_s);
            fail(c, PG_ESOLVER, msg);
            return;
        }
        say(c, "job %zu: worker %s silent for %.1f s, sending the job again", k, j->worker,
            now - j->heard);
        j->state = PENDING;
    }
}

static int
sub(client *c, const char *subject, pg_bus_handler cb, pg_error *err)
{
    return pg_bus_subscribe(c->bus, subject, cb, c, NULL, err);
}

static int
nats_run(pg_study *s, pg_error *err)
{
    const pg_study_options *o = pgi_study_options(s);
    client c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.o = o;
    c.queue = o->queue ? o->queue : PGI_WIRE_DEFAULT_QUEUE;
    c.n_jobs = pgi_study_n_jobs(s);
    pg_error_clear(&c.err);
    snprintf(c.id, sizeof c.id, "%s", pgi_study_id(s));
    int rc = PG_OK;
    if (!pgi_wire_queue_ok(c.queue))
        return pg_error_set(err, PG_EINVAL,
                            "the queue name \"%.80s\" must have 1 to 64 letters, digits, '-' or "
                            "'_'",
                            c.queue);
    if (!(o->job_timeout_s > 0) || !isfinite(o->job_timeout_s) || o->max_attempts < 1)
        return pg_error_set(err, PG_EINVAL,
                            "the job timeout must be more than 0 s and the attempts at least 1 "
                            "(got %g s and %d)",
                            o->job_timeout_s, o->max_attempts);
    c.jobs = calloc(c.n_jobs ? c.n_jobs : 1, sizeof *c.jobs);
    if (!c.jobs)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t k = 0; k < c.n_jobs; k++)
        c.jobs[k].state = pgi_study_job_done(s, k) ? DONE : PENDING;
    if ((rc = pg_bus_open(&c.bus, "nats", o->url, err)))
        goto out;
    char subj[PG_BUS_MAX_SUBJECT], job_subject[PG_BUS_MAX_SUBJECT];
    snprintf(job_subject, sizeof job_subject, "pg.study.q.%s.job", c.queue);
    snprintf(subj, sizeof subj, "pg.study.q.%s.ready", c.queue);
    if ((rc = sub(&c, subj, on_ready, err)))
        goto out;
    snprintf(subj, sizeof subj, "pg.study.c.%s.beat", c.id);
    if ((rc = sub(&c, subj, on_beat, err)))
        goto out;
    snprintf(subj, sizeof subj, "pg.study.c.%s.result", c.id);
    if ((rc = sub(&c, subj, on_result, err)))
        goto out;
    snprintf(subj, sizeof subj, "pg.study.c.%s.world", c.id);
    if ((rc = sub(&c, subj, on_world, err)))
        goto out;
    if ((rc = pg_bus_flush(c.bus, 5, err)))
        goto out;

    size_t n_jobs = c.n_jobs, reported = (size_t)-1;
    double retry_at = 0, started = pgi_now(), next_wait_note = started + 10;
    c.last_taken = started;
    size_t next = 0; /* where the search for a pending job starts */
    for (;;) {
        if (c.rc)
            break;
        size_t done = pgi_study_n_done(s);
        if (o->progress && done != reported) {
            reported = done;
            o->progress(o->progress_user, done, n_jobs);
        }
        if (done >= n_jobs)
            break;
        if (o->stop && *o->stop) {
            rc = pg_error_set(err, PG_ECANCELED, "the study was stopped with %zu of %zu jobs done",
                              done, n_jobs);
            goto out;
        }
        double now = pgi_now();
        check_deadlines(&c, now);
        if (c.rc)
            break;
        /* the next pending job, in order */
        size_t k = n_jobs;
        for (size_t i = 0; i < n_jobs; i++) {
            size_t t = (next + i) % n_jobs;
            if (c.jobs[t].state == PENDING) {
                k = t;
                break;
            }
        }
        if (k < n_jobs && (c.ready_hint || now >= retry_at)) {
            if (offer(&c, k, job_subject)) {
                next = k + 1;
                continue;
            }
            retry_at = pgi_now() + 0.2;
        }
        if (now >= next_wait_note && now - c.last_taken > 10) {
            say(&c,
                "no worker has taken a job for %.0f s: start workers with `plurigrid worker "
                "--nats URL` (queue %s)",
                now - c.last_taken, c.queue);
            next_wait_note = now + 30;
        }
        double wait = k < n_jobs ? retry_at - pgi_now() : 0.1;
        if (wait > 0.1)
            wait = 0.1;
        if (wait < 0)
            wait = 0;
        if ((rc = pg_bus_poll(c.bus, wait, NULL, err)))
            goto out;
    }
    if (c.rc) {
        rc = c.rc;
        if (err)
            *err = c.err;
        goto out;
    }
    if (o->progress && reported != pgi_study_n_done(s))
        o->progress(o->progress_user, pgi_study_n_done(s), n_jobs);
out:
    while (c.parts) {
        part_buf *p = c.parts;
        c.parts = p->next;
        free(p->buf);
        free(p);
    }
    pg_bus_close(c.bus);
    free(c.jobs);
    return rc;
}

const pgi_study_executor pgi_study_nats = {
    {"nats", "NATS workers in a queue group (plurigrid worker --nats URL)"},
    nats_run,
};
