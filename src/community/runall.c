/* Playing a whole scenario: every variant with its market and with the market off (the
 * baseline), and, when the scenario has demand-response events and asks for it, each of them
 * again without the events (the counterfactual of the DR metrics). Each run is independent and a
 * deterministic function of the scenario and the seed, so runs are played on up to
 * PG_COMMUNITY_MAX_THREADS threads, each result written to its own slot: the report is the same
 * whatever the number of threads. On the lattice (options' lattice) each run is played over the
 * transport with every member hosted here, each run under its own session token so that runs on
 * one server do not hear each other. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "community/internal.h"
#include "core/util.h"

typedef struct job {
    cm_run_spec spec;
    char session[96];
    cm_trace trace;
    int rc;
    pg_error err;
} job;

typedef struct pool {
    const pg_community *c;
    job *jobs;
    size_t n_jobs, next, done;
    bool failed;
    pthread_mutex_t mu;
} pool;

static job *
take_job(pool *p)
{
    job *j = NULL;
    pthread_mutex_lock(&p->mu);
    if (!p->failed && p->next < p->n_jobs)
        j = &p->jobs[p->next++];
    pthread_mutex_unlock(&p->mu);
    return j;
}

static void
finish_job(pool *p, job *j)
{
    pthread_mutex_lock(&p->mu);
    p->done++;
    if (j->rc)
        p->failed = true;
    pthread_mutex_unlock(&p->mu);
}

static void *
worker(void *arg)
{
    pool *p = arg;
    job *j;
    while ((j = take_job(p))) {
        j->rc = pgi_community_play(p->c, &j->spec, &j->trace, &j->err);
        finish_job(p, j);
    }
    return NULL;
}

/* The lattice's log callback called by one run at a time (runs play on several threads). */
typedef struct locked_log {
    pthread_mutex_t mu;
    void (*log)(void *ud, pg_log_level level, const char *msg);
    void *ud;
} locked_log;

static void
log_locked(void *ud, pg_log_level level, const char *msg)
{
    locked_log *l = ud;
    pthread_mutex_lock(&l->mu);
    l->log(l->ud, level, msg);
    pthread_mutex_unlock(&l->mu);
}

void
pg_community_report_free(pg_community_report *r)
{
    if (!r)
        return;
    for (size_t v = 0; v < r->n_variants; v++) {
        free(r->variants[v].name);
        pgi_community_run_free(&r->variants[v].market);
        pgi_community_run_free(&r->variants[v].baseline);
    }
    free(r->variants);
    for (size_t i = 0; i < r->n_nodes && r->node_names; i++)
        free(r->node_names[i]);
    free(r->node_names);
    free(r->scenario);
    free(r->mechanism);
    free(r);
}

int
pgi_community_report_new(const pg_community *c, const char *mechanism, uint64_t seed, size_t first,
                         size_t n_variants, pg_community_report **out, pg_error *err)
{
    pg_community_report *r = calloc(1, sizeof *r);
    if (!r || !(r->variants = calloc(n_variants, sizeof *r->variants)) ||
        !(r->node_names = calloc(c->n_nodes, sizeof *r->node_names)) ||
        !(r->scenario = pgi_strdup(c->name)) || !(r->mechanism = pgi_strdup(mechanism)))
        goto oom;
    r->n_nodes = c->n_nodes;
    r->n_variants = n_variants;
    for (size_t i = 0; i < c->n_nodes; i++)
        if (!(r->node_names[i] = pgi_strdup(c->nodes[i].name)))
            goto oom;
    for (size_t v = 0; v < n_variants; v++)
        if (!(r->variants[v].name = pgi_strdup(c->variants[first + v])))
            goto oom;
    r->seed = seed;
    r->start_day = c->start_day;
    r->days = c->days;
    r->n_intervals = c->n;
    r->step_h = c->step_h;
    r->grid_connected = c->connected;
    *out = r;
    return PG_OK;
oom:
    pg_community_report_free(r);
    return pg_error_set(err, PG_ENOMEM, "out of memory");
}

int
pg_community_run_all(const pg_community *c, const pg_community_options *o,
                     pg_community_report **out, pg_error *err)
{
    pg_community_options defaults;
    pg_community_options_init(&defaults);
    if (!o)
        o = &defaults;
    const char *mname = o->market ? o->market : c->mechanism;
    const pg_market_mechanism *mech = NULL;
    if (strcmp(mname, "none") != 0 && !(mech = pg_market_mechanism_find(mname, err)))
        return PG_EINVAL;
    bool sharing = c->sharing && !(o->market && strcmp(o->market, "none") == 0);
    bool has_market = mech || sharing;
    uint64_t seed = o->set_seed ? o->seed : c->seed;
    size_t per = (has_market ? 2 : 1) * (c->dr_counterfactual ? 2 : 1);
    size_t n_jobs = c->n_variants * per;
    pool p = {.c = c, .n_jobs = n_jobs};
    pg_community_report *r = NULL;
    int rc = PG_OK;
    double t0 = pgi_now();
    char token[64] = "";
    pg_lattice_options lo;
    locked_log ll = {.log = NULL};
    if (o->lattice) {
        if ((rc = pg_lattice_options_check(o->lattice, err)))
            return rc;
        lo = *o->lattice;
        if (o->lattice->session) {
            snprintf(token, sizeof token, "%.60s", o->lattice->session);
        } else {
            /* a token of this call: two commands on one server do not meet either */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t x = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
            x ^= (uint64_t)(uintptr_t)&ts * 0x9e3779b97f4a7c15ull;
            snprintf(token, sizeof token, "x%016llx", (unsigned long long)x);
        }
    }
    if (!(p.jobs = calloc(n_jobs, sizeof *p.jobs)))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    if (o->lattice && lo.log) {
        pthread_mutex_init(&ll.mu, NULL);
        ll.log = lo.log;
        ll.ud = lo.log_ud;
        lo.log = log_locked;
        lo.log_ud = &ll;
    }
    /* Jobs of variant v: [market], baseline, then the same without the events. */
    for (size_t v = 0, k = 0; v < c->n_variants; v++)
        for (int cf = 0; cf < (c->dr_counterfactual ? 2 : 1); cf++)
            for (int m = has_market ? 0 : 1; m < 2; m++)
                p.jobs[k++].spec = (cm_run_spec){.variant = v,
                                                 .mech = m == 0 ? mech : NULL,
                                                 .sharing = m == 0 && sharing,
                                                 .events = cf == 0,
                                                 .seed = seed,
                                                 .lattice = o->lattice ? &lo : NULL};
    for (size_t k = 0; o->lattice && k < n_jobs; k++) {
        snprintf(p.jobs[k].session, sizeof p.jobs[k].session, "%s-%zu", token, k);
        p.jobs[k].spec.session = p.jobs[k].session;
    }
    /* The shared ledger records one run, the one the community's members play by default: the
     * first variant with the market (or its baseline with the market off). The other runs are
     * for comparison and leave no record. The event hook hears that run too, and only it. */
    pg_lattice_options lo_plain;
    if (o->lattice && (lo.ledger_dir || lo.event)) {
        lo_plain = lo;
        lo_plain.ledger_dir = NULL;
        lo_plain.event = NULL;
        for (size_t k = 1; k < n_jobs; k++)
            p.jobs[k].spec.lattice = &lo_plain;
    }
    pthread_mutex_init(&p.mu, NULL);
    size_t threads = o->threads < 1 ? 1 : o->threads;
    if (threads > PG_COMMUNITY_MAX_THREADS)
        threads = PG_COMMUNITY_MAX_THREADS;
    if (threads > n_jobs)
        threads = n_jobs;
    pthread_t tid[PG_COMMUNITY_MAX_THREADS];
    size_t started = 0;
    for (size_t i = 1; i < threads; i++) {
        if (pthread_create(&tid[started], NULL, worker, &p) != 0)
            break; /* fewer threads: the calling thread does the rest */
        started++;
    }
    job *j;
    while ((j = take_job(&p))) {
        j->rc = pgi_community_play(c, &j->spec, &j->trace, &j->err);
        finish_job(&p, j);
        if (o->progress) {
            pthread_mutex_lock(&p.mu);
            size_t done = p.done;
            pthread_mutex_unlock(&p.mu);
            o->progress(done, n_jobs, o->progress_ud);
        }
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&p.mu);
    if (o->progress)
        o->progress(n_jobs, n_jobs, o->progress_ud);
    /* The first failure in job order (the same error whatever the threads). */
    for (size_t k = 0; k < n_jobs; k++)
        if (p.jobs[k].rc) {
            rc = p.jobs[k].rc;
            if (err)
                *err = p.jobs[k].err;
            goto out;
        }
    if ((rc = pgi_community_report_new(c, mname, seed, 0, c->n_variants, &r, err)))
        goto out;
    for (size_t v = 0; v < c->n_variants; v++) {
        pg_community_variant *var = &r->variants[v];
        var->has_market = has_market;
        job *base = &p.jobs[v * per], *cfb = c->dr_counterfactual ? base + per / 2 : NULL;
        for (size_t m = 0; m < (has_market ? 2u : 1u); m++) {
            job *jb = base + m, *cf = cfb ? cfb + m : NULL;
            pgi_community_finish_run(c, &jb->trace, cf ? &cf->trace : NULL);
            bool is_market = has_market && m == 0;
            pg_community_run *dst = is_market ? &var->market : &var->baseline;
            *dst = jb->trace.run;
            memset(&jb->trace.run, 0, sizeof jb->trace.run);
        }
    }
    r->seconds = pgi_now() - t0;
out:
    if (ll.log)
        pthread_mutex_destroy(&ll.mu);
    for (size_t k = 0; k < n_jobs; k++)
        pgi_community_trace_free(&p.jobs[k].trace);
    free(p.jobs);
    if (rc) {
        pg_community_report_free(r);
        return rc;
    }
    *out = r;
    return PG_OK;
}
