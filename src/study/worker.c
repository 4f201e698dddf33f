/* A study worker (pg_study_worker, `plurigrid worker --nats URL`): takes jobs offered in a NATS
 * queue group, fetches the worlds they name from the study's client (in chunks no larger than the
 * server's max_payload, kept in a cache by study and world index), runs them on its threads with
 * pgi_study_job_execute (the same call the local executor makes, so the same result bytes) and
 * sends the results back. The protocol is in docs/study.md, "On NATS workers"; the client's side
 * is nats.c.
 *
 * The thread that calls pg_study_worker owns the bus: it answers offers, fetches worlds, sends
 * heartbeats and results. It is subscribed to the offers only while a slot is free, so a busy
 * worker holds no job another could run. Its threads only run jobs whose world is already here,
 * taking them from a queue and leaving their results in another. A client that vanishes costs
 * the worker nothing but its world fetches giving up; a malformed offer is answered with an error
 * and counted; a server restart is the bus's reconnection (the subscriptions come back). */
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "plurigrid/lattice.h"
#include "study/internal.h"
#include "study/wire.h"

/* A world's text, whole or arriving. */
typedef struct world {
    struct world *next;
    char study[17];
    size_t index, bytes;
    /* what has arrived, NUL-terminated; it grows as the parts come (cap bytes set aside), never
     * by the size an offer claims */
    char *text;
    size_t got, cap;
    bool complete, failed;
    int pins; /* jobs using it */
    double used;
    /* the chunk asked for and not yet answered */
    bool asking;
    double asked;
    int tries;
} world;

enum { FETCHING, QUEUED, RUNNING, FINISHED };

typedef struct wjob {
    struct wjob *next;
    int state;
    char study[17];
    size_t k, world_index, bytes;
    double beat_s;
    char *text; /* the job's JSON */
    size_t len;
    world *w;
    char *result; /* FINISHED: the result, or NULL with why */
    size_t rlen;
    char why[800];
} wjob;

typedef struct worker {
    const pg_study_worker_options *o;
    pg_bus *bus;
    char id[17];
    char job_subject[PG_BUS_MAX_SUBJECT], ready_subject[PG_BUS_MAX_SUBJECT];
    char chunk_subject[PG_BUS_MAX_SUBJECT];
    int slots, busy;
    uint64_t offer_sid;
    bool subscribed;
    bool beat_now; /* a job was taken: its client hears of it at once */
    wjob *jobs;    /* every job held, any state */
    world *worlds;
    size_t cached; /* bytes of complete worlds */
    size_t malformed, finished;

    pthread_mutex_t lock; /* the queue of jobs to run, and the jobs' states */
    pthread_cond_t cond;
    volatile int stopping;
    int fatal;
    pg_error err;
} worker;

static void say(worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(worker *w, const char *fmt, ...)
{
    if (!w->o->log)
        return;
    char line[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    w->o->log(w->o->log_user, line);
}

/* ---------------------------------------------------------------- the threads */

static int
fetch(void *user, const char *study, size_t index, const char *name, size_t bytes,
      const char **text, size_t *len, pg_error *err)
{
    (void)name;
    wjob *j = user;
    if (strcmp(study, j->study) != 0 || index != j->world_index || bytes != j->bytes ||
        !j->w->complete)
        return pg_error_set(err, PG_EPARSE,
                            "the job names study %.20s world %zu (%zu bytes), its offer study %s "
                            "world %zu (%zu bytes)",
                            study, index, bytes, j->study, j->world_index, j->bytes);
    *text = j->w->text;
    *len = j->w->bytes;
    return PG_OK;
}

static void *
run_jobs(void *arg)
{
    worker *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        wjob *j = NULL;
        while (!w->stopping) {
            for (j = w->jobs; j && j->state != QUEUED; j = j->next) {
            }
            if (j)
                break;
            pthread_cond_wait(&w->cond, &w->lock);
        }
        if (w->stopping)
            break;
        j->state = RUNNING;
        pthread_mutex_unlock(&w->lock);
        pg_error e;
        pg_error_clear(&e);
        char *res = NULL;
        size_t rlen = 0;
        int rc = pgi_study_job_execute(j->text, j->len, fetch, j, &w->stopping, &res, &rlen, &e);
        pthread_mutex_lock(&w->lock);
        if (rc == PG_OK) {
            j->result = res;
            j->rlen = rlen;
        } else {
            snprintf(j->why, sizeof j->why, "%s", e.msg[0] ? e.msg : pg_strerror(rc));
        }
        j->state = FINISHED;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* ---------------------------------------------------------------- worlds */

static void
world_free(world *x)
{
    if (x) {
        free(x->text);
        free(x);
    }
}

/* Asks the client for the next chunk of x. */
static void
ask_chunk(worker *w, world *x)
{
    char subject[PG_BUS_MAX_SUBJECT], msg[PGI_WIRE_HEADER_ROOM];
    snprintf(subject, sizeof subject, "pg.study.c.%s.world", x->study);
    size_t room = pg_bus_max_payload(w->bus);
    room = room > PGI_WIRE_HEADER_ROOM ? room - PGI_WIRE_HEADER_ROOM : 1;
    int n = snprintf(msg, sizeof msg, "get/1 %s %zu %zu %zu", w->id, x->index, x->got, room);
    pg_error e;
    pg_error_clear(&e);
    if (pg_bus_publish_reply(w->bus, subject, w->chunk_subject, msg, (size_t)n, &e))
        say(w, "asking for world %zu of study %s: %s", x->index, x->study, e.msg);
    x->asking = true;
    x->asked = pgi_now();
    x->tries++;
}

/* Evicts complete worlds no job uses, least recently used first, down to max_world_cache. */
static void
evict(worker *w)
{
    while (w->cached > w->o->max_world_cache) {
        world **best = NULL;
        for (world **pp = &w->worlds; *pp; pp = &(*pp)->next)
            if ((*pp)->complete && (*pp)->pins == 0 && (!best || (*pp)->used < (*best)->used))
                best = pp;
        if (!best)
            return;
        world *x = *best;
        *best = x->next;
        w->cached -= x->bytes;
        world_free(x);
    }
}

/* The world of a job: cached, arriving, or asked for now. NULL when out of memory. */
static world *
world_get(worker *w, const char *study, size_t index, size_t bytes)
{
    for (world *x = w->worlds; x; x = x->next)
        if (strcmp(x->study, study) == 0 && x->index == index && x->bytes == bytes && !x->failed)
            return x;
    world *x = calloc(1, sizeof *x);
    if (!x || !(x->text = malloc(1))) {
        free(x);
        return NULL;
    }
    snprintf(x->study, sizeof x->study, "%s", study);
    x->index = index;
    x->bytes = bytes;
    x->text[0] = '\0';
    x->cap = 1;
    x->used = pgi_now();
    x->next = w->worlds;
    w->worlds = x;
    if (bytes == 0)
        x->complete = true;
    else
        ask_chunk(w, x);
    return x;
}

/* ---------------------------------------------------------------- the bus's side */

static void update_subscription(worker *w);

static void
reply_text(worker *w, const char *reply, const char *text)
{
    if (reply)
        pg_bus_publish(w->bus, reply, text, strlen(text), NULL);
}

/* An offer: "job/1 STUDY K ATTEMPT BEAT_MS\n<job JSON>". */
static void
on_offer(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    worker *w = ctx;
    pgi_wire m;
    pg_error e;
    pg_error_clear(&e);
    size_t k, attempt, beat_ms;
    char ans[PGI_WIRE_HEADER_ROOM + 300];
    int bad = pgi_wire_parse(data, len, &m, &e);
    if (!bad && (strcmp(m.tok[0], "job/1") || m.n_tok != 5 || !pgi_wire_id(&m, 1) ||
                 !pgi_wire_size(&m, 2, &k) || !pgi_wire_size(&m, 3, &attempt) ||
                 !pgi_wire_size(&m, 4, &beat_ms) || beat_ms == 0 || !m.body || m.body_len == 0))
        bad = pg_error_set(&e, PG_EPARSE,
                           "an offer must be \"job/1 STUDY JOB ATTEMPT BEAT_MS\" "
                           "and the job on the next line");
    /* the study and world the job names, so the world is fetched before the job runs */
    size_t wi = 0, bytes = 0;
    if (!bad) {
        json_error_t je;
        json_t *root = json_loadb(m.body, m.body_len, 0, &je);
        json_t *jk = json_object_get(root, "job"), *jw = json_object_get(root, "world");
        json_t *jb = json_object_get(root, "bytes");
        const char *study = json_string_value(json_object_get(root, "study"));
        if (!json_is_integer(jk) || json_integer_value(jk) < 0 ||
            (size_t)json_integer_value(jk) != k || !json_is_integer(jw) ||
            json_integer_value(jw) < 0 || !json_is_integer(jb) || json_integer_value(jb) < 0 ||
            json_integer_value(jb) > (json_int_t)PG_INPUT_MAX || !study ||
            strcmp(study, m.tok[1]) != 0)
            bad = pg_error_set(&e, PG_EPARSE,
                               "the offer's job is not job %zu of study %s with a world of at "
                               "most %zu bytes",
                               k, m.tok[1], (size_t)PG_INPUT_MAX);
        else {
            wi = (size_t)json_integer_value(jw);
            bytes = (size_t)json_integer_value(jb);
        }
        json_decref(root);
    }
    if (bad) {
        w->malformed++;
        say(w, "refused a malformed offer: %s", e.msg);
        snprintf(ans, sizeof ans, "error/1 %s %.400s", w->id, e.msg);
        reply_text(w, reply, ans);
        return;
    }
    if (w->busy >= w->slots || w->stopping) {
        snprintf(ans, sizeof ans, "busy/1 %s", w->id);
        reply_text(w, reply, ans);
        return;
    }
    wjob *j = calloc(1, sizeof *j);
    char *text = j ? malloc(m.body_len + 1) : NULL;
    world *x = text ? world_get(w, m.tok[1], wi, bytes) : NULL;
    if (!x) {
        free(text);
        free(j);
        snprintf(ans, sizeof ans, "busy/1 %s", w->id); /* out of memory: let another take it */
        reply_text(w, reply, ans);
        return;
    }
    memcpy(text, m.body, m.body_len);
    text[m.body_len] = '\0';
    snprintf(j->study, sizeof j->study, "%s", m.tok[1]);
    j->k = k;
    j->world_index = wi;
    j->bytes = bytes;
    j->beat_s = (double)beat_ms / 1000.0;
    j->text = text;
    j->len = m.body_len;
    j->w = x;
    x->pins++;
    x->used = pgi_now();
    pthread_mutex_lock(&w->lock);
    j->state = x->complete ? QUEUED : FETCHING;
    j->next = w->jobs;
    w->jobs = j;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    w->busy++;
    w->beat_now = true;
    update_subscription(w);
    snprintf(ans, sizeof ans, "ack/1 %s %zu %d", w->id, k, w->slots - w->busy);
    reply_text(w, reply, ans);
}

/* A chunk of a world: "chunk/1 STUDY WORLD OFFSET LENGTH TOTAL\n<bytes>", or "error/1 ...". */
static void
on_chunk(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    worker *w = ctx;
    pgi_wire m;
    pg_error e;
    pg_error_clear(&e);
    size_t index, off, n, total;
    if (pgi_wire_parse(data, len, &m, &e) || strcmp(m.tok[0], "chunk/1") || m.n_tok != 6 ||
        !pgi_wire_id(&m, 1) || !pgi_wire_size(&m, 2, &index) || !pgi_wire_size(&m, 3, &off) ||
        !pgi_wire_size(&m, 4, &n) || !pgi_wire_size(&m, 5, &total) || !m.body || m.body_len != n) {
        w->malformed++;
        say(w, "dropped a malformed part of a world: %s", e.msg[0] ? e.msg : "bad header");
        return;
    }
    for (world *x = w->worlds; x; x = x->next) {
        if (strcmp(x->study, m.tok[1]) || x->index != index || x->complete || x->failed ||
            !x->asking || x->got != off)
            continue;
        if (total != x->bytes || n > x->bytes - x->got || n == 0) {
            say(w, "world %zu of study %s: the client sent %zu of %zu bytes at %zu, expected %zu",
                index, x->study, n, total, off, x->bytes);
            x->failed = true;
            return;
        }
        if (x->got + n + 1 > x->cap) {
            size_t cap = x->cap * 2 < x->got + n + 1 ? x->got + n + 1 : x->cap * 2;
            if (cap > x->bytes + 1)
                cap = x->bytes + 1;
            char *t = realloc(x->text, cap);
            if (!t) {
                say(w, "world %zu of study %s: out of memory", index, x->study);
                x->failed = true;
                return;
            }
            x->text = t;
            x->cap = cap;
        }
        memcpy(x->text + x->got, m.body, n);
        x->got += n;
        x->text[x->got] = '\0';
        x->asking = false;
        x->tries = 0;
        if (x->got < x->bytes) {
            ask_chunk(w, x);
            return;
        }
        x->complete = true;
        w->cached += x->bytes;
        pthread_mutex_lock(&w->lock);
        for (wjob *j = w->jobs; j; j = j->next)
            if (j->w == x && j->state == FETCHING)
                j->state = QUEUED;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        return;
    }
}

static void
update_subscription(worker *w)
{
    pg_error e;
    pg_error_clear(&e);
    bool want = w->busy < w->slots && !w->stopping;
    if (want && !w->subscribed) {
        if (pg_bus_subscribe_queue(w->bus, w->job_subject,
                                   w->o->queue ? w->o->queue : PGI_WIRE_DEFAULT_QUEUE, on_offer, w,
                                   &w->offer_sid, &e) == PG_OK) {
            w->subscribed = true;
            char msg[64];
            int n = snprintf(msg, sizeof msg, "ready/1 %s %d", w->id, w->slots - w->busy);
            pg_bus_publish(w->bus, w->ready_subject, msg, (size_t)n, NULL);
        } else {
            say(w, "cannot take jobs: %s", e.msg);
        }
    } else if (!want && w->subscribed) {
        pg_bus_unsubscribe(w->bus, w->offer_sid, NULL);
        w->subscribed = false;
    }
}

/* Sends the result of j (in parts when larger than the server's max_payload) or its failure. */
static void
send_result(worker *w, wjob *j)
{
    char subject[PG_BUS_MAX_SUBJECT], head[PGI_WIRE_HEADER_ROOM];
    snprintf(subject, sizeof subject, "pg.study.c.%s.result", j->study);
    pg_error e;
    pg_error_clear(&e);
    if (!j->result) {
        int hl = snprintf(head, sizeof head, "failed/1 %s %zu\n", w->id, j->k);
        size_t wl = strlen(j->why);
        char *msg = malloc((size_t)hl + wl);
        if (msg) {
            memcpy(msg, head, (size_t)hl);
            memcpy(msg + hl, j->why, wl);
            pg_bus_publish(w->bus, subject, msg, (size_t)hl + wl, NULL);
            free(msg);
        }
        say(w, "job %zu of study %s failed: %s", j->k, j->study, j->why);
        return;
    }
    size_t room = pg_bus_max_payload(w->bus);
    room = room > PGI_WIRE_HEADER_ROOM ? room - PGI_WIRE_HEADER_ROOM : 1;
    size_t parts = j->rlen ? (j->rlen + room - 1) / room : 1;
    char *msg = malloc(PGI_WIRE_HEADER_ROOM + (j->rlen < room ? j->rlen : room));
    if (!msg)
        return; /* the client sends it again elsewhere */
    for (size_t p = 0; p < parts; p++) {
        size_t off = p * room, n = j->rlen - off < room ? j->rlen - off : room;
        int hl = snprintf(head, sizeof head, "result/1 %s %zu %zu %zu %zu\n", w->id, j->k, p, parts,
                          j->rlen);
        memcpy(msg, head, (size_t)hl);
        memcpy(msg + hl, j->result + off, n);
        if (pg_bus_publish(w->bus, subject, msg, (size_t)hl + n, &e)) {
            say(w, "sending the result of job %zu of study %s: %s", j->k, j->study, e.msg);
            break;
        }
    }
    free(msg);
}

static void
job_free(wjob *j)
{
    free(j->text);
    free(j->result);
    free(j);
}

/* Finished jobs: results sent, slots freed. Fetches that gave up: jobs dropped. Heartbeats. */
static void
tend(worker *w, double *next_beat)
{
    double now = pgi_now();
    /* world fetches that waited too long */
    for (world *x = w->worlds; x; x = x->next) {
        if (x->complete || x->failed || !x->asking || now - x->asked < PGI_WIRE_CHUNK_TIMEOUT_S)
            continue;
        if (x->tries >= PGI_WIRE_CHUNK_TRIES) {
            say(w, "world %zu of study %s: no answer from the client, giving its jobs up", x->index,
                x->study);
            x->failed = true;
        } else {
            ask_chunk(w, x);
        }
    }
    pthread_mutex_lock(&w->lock);
    wjob **pp = &w->jobs;
    while (*pp) {
        wjob *j = *pp;
        bool gone = j->state == FETCHING && j->w->failed;
        if (j->state != FINISHED && !gone) {
            pp = &j->next;
            continue;
        }
        *pp = j->next;
        pthread_mutex_unlock(&w->lock);
        if (!gone) {
            send_result(w, j);
            w->finished++;
        }
        j->w->pins--;
        j->w->used = now;
        job_free(j);
        w->busy--;
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    /* failed worlds no job uses */
    for (world **xp = &w->worlds; *xp;) {
        world *x = *xp;
        if (x->failed && x->pins == 0) {
            *xp = x->next;
            world_free(x);
        } else {
            xp = &x->next;
        }
    }
    evict(w);
    update_subscription(w);
    if (now < *next_beat && !w->beat_now)
        return;
    w->beat_now = false;
    /* one beat per study, listing its jobs held here */
    double every = 1.0;
    pthread_mutex_lock(&w->lock);
    for (wjob *j = w->jobs; j; j = j->next)
        if (j->beat_s < every)
            every = j->beat_s;
    for (wjob *j = w->jobs; j; j = j->next) {
        bool first = true;
        for (wjob *i = w->jobs; i != j; i = i->next)
            first &= strcmp(i->study, j->study) != 0;
        if (!first)
            continue;
        char msg[PGI_WIRE_MAX_HEADER + 1];
        int n = snprintf(msg, sizeof msg, "beat/1 %s", w->id);
        size_t listed = 0;
        for (wjob *i = j; i; i = i->next) {
            if (strcmp(i->study, j->study) != 0)
                continue;
            if ((size_t)n + 24 > PGI_WIRE_MAX_HEADER || listed + 2 >= PGI_WIRE_MAX_TOKENS) {
                char subject[PG_BUS_MAX_SUBJECT];
                snprintf(subject, sizeof subject, "pg.study.c.%s.beat", j->study);
                pg_bus_publish(w->bus, subject, msg, (size_t)n, NULL);
                n = snprintf(msg, sizeof msg, "beat/1 %s", w->id);
                listed = 0;
            }
            n += snprintf(msg + n, sizeof msg - (size_t)n, " %zu", i->k);
            listed++;
        }
        char subject[PG_BUS_MAX_SUBJECT];
        snprintf(subject, sizeof subject, "pg.study.c.%s.beat", j->study);
        pg_bus_publish(w->bus, subject, msg, (size_t)n, NULL);
    }
    pthread_mutex_unlock(&w->lock);
    *next_beat = now + every;
}

int
pg_study_worker(const pg_study_worker_options *opts, pg_error *err)
{
    if (!opts || !opts->url)
        return pg_error_set(err, PG_EINVAL, "a worker needs the NATS servers' URL");
    const char *queue = opts->queue ? opts->queue : PGI_WIRE_DEFAULT_QUEUE;
    if (!pgi_wire_queue_ok(queue))
        return pg_error_set(err, PG_EINVAL,
                            "the queue name \"%.80s\" must have 1 to 64 letters, digits, '-' or "
                            "'_'",
                            queue);
    if (opts->threads < 0 || opts->threads > 1024)
        return pg_error_set(err, PG_EINVAL, "a worker runs 1 to 1024 jobs at once (got %d)",
                            opts->threads);
    worker w;
    memset(&w, 0, sizeof w);
    w.o = opts;
    pg_error_clear(&w.err);
    pgi_wire_new_id(w.id);
    w.slots = opts->threads;
    if (w.slots == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        w.slots = c > 0 ? (int)(c < 256 ? c : 256) : 1;
    }
    snprintf(w.job_subject, sizeof w.job_subject, "pg.study.q.%s.job", queue);
    snprintf(w.ready_subject, sizeof w.ready_subject, "pg.study.q.%s.ready", queue);
    snprintf(w.chunk_subject, sizeof w.chunk_subject, "pg.study.w.%s.chunk", w.id);
    if (pthread_mutex_init(&w.lock, NULL) != 0)
        return pg_error_set(err, PG_ENOMEM, "cannot create a lock");
    if (pthread_cond_init(&w.cond, NULL) != 0) {
        pthread_mutex_destroy(&w.lock);
        return pg_error_set(err, PG_ENOMEM, "cannot create a condition variable");
    }
    pthread_t *th = calloc((size_t)w.slots, sizeof *th);
    int started = 0, rc = PG_OK;
    if (!th) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pg_bus_open(&w.bus, "nats", opts->url, err)))
        goto out;
    if ((rc = pg_bus_subscribe(w.bus, w.chunk_subject, on_chunk, &w, NULL, err)))
        goto out;
    for (int i = 0; i < w.slots; i++) {
        if (pthread_create(&th[i], NULL, run_jobs, &w) != 0)
            break;
        started++;
    }
    if (started == 0) {
        rc = pg_error_set(err, PG_ENOMEM, "cannot start a thread");
        goto out;
    }
    w.slots = started;
    update_subscription(&w);
    if (!w.subscribed) {
        rc = pg_error_set(err, PG_ENET, "cannot subscribe to the jobs of queue %s", queue);
        goto out;
    }
    say(&w, "worker %s: %d slots, queue %s", w.id, w.slots, queue);
    double next_beat = 0;
    while (!(opts->stop && *opts->stop)) {
        pg_error e;
        pg_error_clear(&e);
        /* while jobs run, look often for finished ones; idle, wait for offers */
        if (pg_bus_poll(w.bus, w.busy ? 0.001 : 0.1, NULL, &e) != PG_OK)
            say(&w, "poll: %s", e.msg);
        tend(&w, &next_beat);
    }
    say(&w, "worker %s stopping: %zu jobs done, %zu malformed messages refused", w.id, w.finished,
        w.malformed);
out:
    pthread_mutex_lock(&w.lock);
    w.stopping = 1;
    pthread_cond_broadcast(&w.cond);
    pthread_mutex_unlock(&w.lock);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
    if (w.bus && w.subscribed)
        pg_bus_unsubscribe(w.bus, w.offer_sid, NULL);
    pg_bus_close(w.bus);
    while (w.jobs) {
        wjob *j = w.jobs;
        w.jobs = j->next;
        job_free(j);
    }
    while (w.worlds) {
        world *x = w.worlds;
        w.worlds = x->next;
        world_free(x);
    }
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return rc;
}
