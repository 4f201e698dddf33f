/* The endpoints that start long work (docs/http.md, "Endpoints"): power flow, day-ahead
 * scheduling and community runs as jobs on the server's job threads, and the list of community
 * scenarios a job may run.
 *
 * Everything a client sends is checked before a job is queued, so a bad world or scenario is a
 * 400 or 422 at once and a queued job fails only for what cannot be told in advance. The jobs
 * call the library as the commands do (src/cli/cmd_pf.c, cmd_run.c, cmd_community.c), and their
 * results are the library's JSON documents (plurigrid-pf/1, plurigrid-dispatch/1, the community
 * report).
 *
 * A community job plays the scenario on the in-process bus, which has no clock: the operator
 * opens each interval as soon as the last one is settled. With interval_s > 0 the job paces it
 * itself: the run's event hook sleeps until interval k's time (k * interval_s after the start)
 * before the first event of interval k, in short slices that watch the job's stop flag, so a
 * dashboard sees the prices change and a cancel is seen within a slice.
 *
 * The server keeps one live state, so it takes one community job at a time: while one is queued
 * or running, another is refused with 409 naming it (their events would mix in the live state). */
#define _GNU_SOURCE /* realpath, lstat */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/json_write.h"
#include "core/util.h"
#include "http/api.h"
#include "http/http.h"
#include "plurigrid/community.h"
#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"
#include "plurigrid/market.h"
#include "plurigrid/model.h"
#include "plurigrid/pf.h"

#define COMMUNITY_FORMAT "plurigrid-community/1"
/* Most files GET /api/scenarios looks at. */
#define SCAN_MAX 2000
/* A community job's pacing sleeps in slices this long, watching the stop flag, seconds. */
#define SLICE_S 0.05

/* ---------------------------------------------------------------- shared */

/* Queues a job and replies 202 {"id", "kind", "status", "href"} with Location; 429 when the
 * server has as many jobs as it takes. arg is taken. */
static int
submit(pgh_server *s, const char *kind, pgh_job_fn fn, void *arg, void (*free_arg)(void *),
       pgh_reply *rp, pg_error *err)
{
    char id[PGH_JOB_ID_MAX];
    pg_error e = {0};
    int rc = pgh_job_submit(s, kind, fn, arg, free_arg, id, &e);
    if (rc == PG_ELIMIT)
        return pgh_reply_error(rp, 429, "busy", "%s", e.msg);
    if (rc) {
        *err = e;
        return rc;
    }
    json_t *res = json_pack("{s:s, s:s, s:s, s:s+}", "id", id, "kind", kind, "status", "queued",
                            "href", "/api/jobs/", id);
    if (!res)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    snprintf(rp->location, sizeof rp->location, "/api/jobs/%s", id);
    return pgh_reply_json(rp, 202, res, err);
}

/* text (a JSON document a library printer made, taken) as *result. */
static int
json_result(char *text, json_t **result, pg_error *err)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    free(text);
    if (!v)
        return pg_error_set(err, PG_ENOMEM, "the result could not be read back: %s", je.text);
    *result = v;
    return PG_OK;
}

/* ---------------------------------------------------------------- power flow */

typedef struct pf_arg {
    pg_world *w; /* the world to solve (at its step when one was asked for) */
    pg_pf_options o;
} pf_arg;

static void
pf_arg_free(void *p)
{
    pf_arg *a = p;
    if (a)
        pg_world_free(a->w);
    free(a);
}

static int
pf_job(pgh_job *j, void *arg, json_t **result, pg_error *err)
{
    pf_arg *a = arg;
    pg_pf_result *r = NULL;
    char *text = NULL;
    pgh_job_progress(j, 0, 1, "solves");
    int rc = pg_pf_solve(a->w, &a->o, &r, err);
    if (rc == PG_OK && pgh_job_cancelled(j))
        rc = pg_error_set(err, PG_ECANCELED, "cancelled");
    if (rc == PG_OK && (rc = pg_pf_result_json(a->w, r, &text, err)) == PG_OK)
        rc = json_result(text, result, err);
    if (rc == PG_OK)
        pgh_job_progress(j, 1, 1, "solves");
    pg_pf_result_free(r);
    return rc;
}

/* The step the request asks for ("step": a whole number or "peak") into *step; *has false for
 * none. 400 for a value of the wrong type, 422 for a step the world does not have. */
static int
pf_step(const json_t *root, const pg_world *w, bool *has, size_t *step, pgh_reply *rp,
        pg_error *err)
{
    const json_t *v = json_object_get(root, "step");
    *has = false;
    if (!v || json_is_null(v))
        return PG_OK;
    bool peak = json_is_string(v) && strcmp(json_string_value(v), "peak") == 0;
    if (!peak && !json_is_number(v)) {
        pgh_reply_error(rp, 400, "bad_request",
                        "'step' must be a step number (0 is the first), \"peak\" or null");
        return PGH_REPLIED;
    }
    size_t n = 0;
    double step_h = 1;
    pg_error e = {0};
    int rc = pg_world_horizon(w, &n, &step_h, &e);
    if (rc == PG_ENOMEM) {
        *err = e;
        return rc;
    }
    if (rc)
        return pgh_api_error(rp, pgh_api_status(rc), "invalid", &e, "$.world", NULL, 0);
    if (n == 0) {
        pgh_reply_error(rp, 422, "invalid",
                        "'step': the world has no time series, so there is no step to choose");
        return PGH_REPLIED;
    }
    if (peak) {
        size_t best = 0;
        for (size_t k = 1; k < n; k++)
            if (pg_world_load_mw(w, k) > pg_world_load_mw(w, best))
                best = k;
        *step = best;
    } else if (!pgh_api_size(root, "step", 0, 0, n - 1, step, rp)) {
        return PGH_REPLIED;
    }
    *has = true;
    return PG_OK;
}

/* POST /api/jobs/pf: body {"world", "dc", "enforce_q_lims", "step"}. */
static int
submit_pf(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    static const char *const keys[] = {"world", "dc", "enforce_q_lims", "step", NULL};
    json_t *root = NULL;
    pg_world *w = NULL, *at = NULL;
    pf_arg *a = NULL;
    int rc = PG_OK;
    if (pgh_api_body(rq, &root, rp) != PG_OK)
        return PG_OK;
    pg_pf_options o;
    pg_pf_options_init(&o);
    if (!pgh_api_keys_known(root, keys, rp) || !pgh_api_bool(root, "dc", false, &o.dc, rp) ||
        !pgh_api_bool(root, "enforce_q_lims", false, &o.enforce_q_lims, rp))
        goto out;
    if (o.dc && o.enforce_q_lims) {
        pgh_reply_error(rp, 400, "bad_request",
                        "'enforce_q_lims' is for the AC power flow: the DC model has no reactive "
                        "power");
        goto out;
    }
    if ((rc = pgh_api_world(rq, root, "world", true, &w, NULL, rp, err)))
        goto out;
    bool has_step = false;
    size_t step = 0;
    if ((rc = pf_step(root, w, &has_step, &step, rp, err)))
        goto out;
    if (has_step) {
        pg_error e = {0};
        if ((rc = pg_world_at_step(&at, w, step, &e))) {
            if (rc == PG_ENOMEM)
                *err = e;
            else
                rc = pgh_api_error(rp, pgh_api_status(rc), "invalid", &e, "$.world", NULL, 0);
            goto out;
        }
        pg_world_free(w);
        w = at;
        at = NULL;
    }
    if (!(a = calloc(1, sizeof *a))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    a->w = w;
    a->o = o;
    w = NULL;
    rc = submit(s, "pf", pf_job, a, pf_arg_free, rp, err);
out:
    pg_world_free(at);
    pg_world_free(w);
    json_decref(root);
    return rc == PGH_REPLIED ? PG_OK : rc;
}

/* ---------------------------------------------------------------- day-ahead scheduling */

typedef struct run_arg {
    pg_world *w;
    bool ac_check;
    pgh_job *j; /* while it runs, for the progress callback */
} run_arg;

static void
run_arg_free(void *p)
{
    run_arg *a = p;
    if (a)
        pg_world_free(a->w);
    free(a);
}

/* Progress in phases: commitment 0..1, dispatch and prices 1..2, the AC check 2..3 by steps. */
static void
run_progress(void *user, pg_dispatch_phase phase, size_t step, size_t n)
{
    run_arg *a = user;
    double total = a->ac_check ? 3 : 2;
    switch (phase) {
    case PG_DISPATCH_COMMITMENT: pgh_job_progress(a->j, 0, total, "phases"); break;
    case PG_DISPATCH_ECONOMIC: pgh_job_progress(a->j, 1, total, "phases"); break;
    case PG_DISPATCH_AC:
        pgh_job_progress(a->j, 2 + (n ? (double)(step + 1) / (double)n : 1), total, "phases");
        break;
    default: break;
    }
}

static int
run_job(pgh_job *j, void *arg, json_t **result, pg_error *err)
{
    run_arg *a = arg;
    pg_dispatch_result *r = NULL;
    pg_dispatch_ac *ac = NULL;
    char *text = NULL;
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    a->j = j;
    o.progress = run_progress;
    o.progress_user = a;
    /* Day-ahead jobs run at once; their MILP solves take turns inside the library (Cbc). */
    int rc = pgh_job_cancelled(j) ? pg_error_set(err, PG_ECANCELED, "cancelled")
                                  : pg_dispatch_run(a->w, &o, &r, err);
    /* the solvers take no stop flag: a cancel is seen between the phases */
    if (rc == PG_OK && pgh_job_cancelled(j))
        rc = pg_error_set(err, PG_ECANCELED, "cancelled");
    if (rc == PG_OK && a->ac_check)
        rc = pg_dispatch_ac_check(a->w, r, &o, &ac, err);
    if (rc == PG_OK && pgh_job_cancelled(j))
        rc = pg_error_set(err, PG_ECANCELED, "cancelled");
    if (rc == PG_OK && (rc = pg_dispatch_result_json(a->w, r, ac, &text, err)) == PG_OK)
        rc = json_result(text, result, err);
    if (rc == PG_OK)
        pgh_job_progress(j, a->ac_check ? 3 : 2, a->ac_check ? 3 : 2, "phases");
    pg_dispatch_ac_free(ac);
    pg_dispatch_result_free(r);
    return rc;
}

/* POST /api/jobs/run: body {"world", "ac_check"}. */
static int
submit_run(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    static const char *const keys[] = {"world", "ac_check", NULL};
    json_t *root = NULL;
    pg_world *w = NULL;
    run_arg *a = NULL;
    bool ac = false;
    int rc = PG_OK;
    if (pgh_api_body(rq, &root, rp) != PG_OK)
        return PG_OK;
    if (!pgh_api_keys_known(root, keys, rp) || !pgh_api_bool(root, "ac_check", false, &ac, rp))
        goto out;
    if ((rc = pgh_api_world(rq, root, "world", true, &w, NULL, rp, err)))
        goto out;
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    pg_error e = {0};
    if ((rc = pg_dispatch_check(w, &o, &e))) {
        size_t len = 0;
        const char *body = pgh_request_body(rq, &len);
        if (rc == PG_ENOMEM)
            *err = e;
        else
            rc = pgh_api_error(rp, pgh_api_status(rc), "invalid", &e, "$.world", body, len);
        goto out;
    }
    if (!(a = calloc(1, sizeof *a))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    a->w = w;
    a->ac_check = ac;
    w = NULL;
    rc = submit(s, "run", run_job, a, run_arg_free, rp, err);
out:
    pg_world_free(w);
    json_decref(root);
    return rc == PGH_REPLIED ? PG_OK : rc;
}

/* ---------------------------------------------------------------- community scenarios */

/* What a scenario file itself says, for the list of scenarios: read without its node files and
 * data, which a run reads through pg_community_read. */
typedef struct scenario_head {
    json_t *root; /* the document */
    const char *community;
    size_t n_nodes;
    double step_h;
} scenario_head;

static void
head_free(scenario_head *h)
{
    json_decref(h->root);
    memset(h, 0, sizeof *h);
}

/* Reads path as JSON and keeps it when its "format" is plurigrid-community/1. PG_EPARSE for a file
 * that is not a scenario; other codes from reading. */
static int
head_read(const char *path, scenario_head *h, pg_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = pg_input_read(path, PG_COMMUNITY_INPUT_MAX, &text, &len, err);
    if (rc)
        return rc;
    memset(h, 0, sizeof *h);
    json_error_t je;
    h->root = json_loadb(text, len, 0, &je);
    free(text);
    const json_t *f = json_object_get(h->root, "format");
    if (!json_is_string(f) || strcmp(json_string_value(f), COMMUNITY_FORMAT) != 0) {
        head_free(h);
        return pg_error_set(err, PG_EPARSE, "not a " COMMUNITY_FORMAT " scenario");
    }
    h->community = json_string_value(json_object_get(h->root, "name"));
    h->step_h = json_is_number(json_object_get(h->root, "step_h"))
                    ? json_number_value(json_object_get(h->root, "step_h"))
                    : 1;
    h->n_nodes = json_array_size(json_object_get(h->root, "nodes"));
    return PG_OK;
}

/* The scenario's variant names, a JSON array. */
static json_t *
variant_names(const scenario_head *h)
{
    const json_t *vars = json_object_get(h->root, "variants");
    if (!json_array_size(vars))
        return json_pack("[s]", "default");
    json_t *a = json_array();
    for (size_t i = 0; a && i < json_array_size(vars); i++)
        if (json_array_append(a, json_array_get(vars, i))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Whether rel is a scenario name: a relative path of 1 to 4 parts, each passing pgh_name_valid
 * (so no "..", no hidden file, no empty part), ending in ".json". */
static bool
scenario_name_valid(const char *rel)
{
    size_t n = strlen(rel), parts = 0;
    if (n < 6 || n > 255 || strcmp(rel + n - 5, ".json") != 0)
        return false;
    const char *p = rel;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        char part[80];
        if (l == 0 || l >= sizeof part)
            return false;
        memcpy(part, p, l);
        part[l] = '\0';
        if (!pgh_name_valid(part) || ++parts > 4)
            return false;
        p += l;
        if (*p == '/')
            p++;
        if (e && !*p)
            return false; /* a trailing '/' */
    }
    return true;
}

/* The scenario file rel of dir, resolved (malloc'd into *out): PG_ENOTFOUND when there is none
 * or when it resolves (through a symbolic link) to a place outside dir. */
static int
scenario_path(const char *dir, const char *rel, char **out, pg_error *err)
{
    char *joined = pgi_path_join(dir, rel), *real_dir = NULL, *real = NULL;
    int rc = PG_OK;
    if (!joined) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if (!(real_dir = realpath(dir, NULL))) {
        rc = pg_error_set(err, PG_EIO, "the scenarios folder cannot be read: %s", strerror(errno));
        goto out;
    }
    size_t dl = strlen(real_dir);
    struct stat st;
    if (!(real = realpath(joined, NULL)) || stat(real, &st) != 0 || !S_ISREG(st.st_mode) ||
        strncmp(real, real_dir, dl) != 0 || (real[dl] != '/' && dl > 1)) {
        rc = pg_error_set(err, PG_ENOTFOUND, "there is no scenario '%s'", rel);
        goto out;
    }
    *out = real;
    real = NULL;
out:
    free(real);
    free(real_dir);
    free(joined);
    return rc;
}

/* The server's one community job (the API's slot): busy from its submission until its argument
 * is freed (it ended, was cancelled or could not be queued); gen tells the reservations apart. */
typedef struct community_slot {
    pthread_mutex_t mu;
    bool busy;
    uint64_t gen;
    char id[PGH_JOB_ID_MAX];
} community_slot;

static void *
community_slot_make(pgh_server *s)
{
    (void)s;
    community_slot *c = calloc(1, sizeof *c);
    if (c)
        pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void
community_slot_free(void *p)
{
    community_slot *c = p;
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

typedef struct community_arg {
    pgh_server *s;
    community_slot *slot; /* NULL until this job holds the server's community slot */
    uint64_t gen;
    pg_community *c;
    char *market; /* NULL: the scenario's */
    size_t variant;
    double interval_s;
    /* while it runs */
    pgh_job *j;
    const volatile int *stop;
    double t0;    /* wall clock at the first event */
    size_t paced; /* the last interval waited for (PG_COMMUNITY_NO_INTERVAL: none) */
    double done;  /* intervals settled */
} community_arg;

static void
community_arg_free(void *p)
{
    community_arg *a = p;
    if (!a)
        return;
    if (a->slot) {
        pthread_mutex_lock(&a->slot->mu);
        if (a->slot->gen == a->gen) {
            a->slot->busy = false;
            a->slot->id[0] = '\0';
        }
        pthread_mutex_unlock(&a->slot->mu);
    }
    pg_community_free(a->c);
    free(a->market);
    free(a);
}

/* Sleeps until the monotonic time t, in slices that watch the stop flag. */
static void
sleep_until(double t, const volatile int *stop)
{
    for (;;) {
        double left = t - pgi_now();
        if (left <= 0 || (stop && *stop))
            return;
        double d = left < SLICE_S ? left : SLICE_S;
        struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* The run's event hook: the live state gets every event; the job counts intervals settled and,
 * with interval_s, holds each interval back to its time. */
static void
community_event(void *ud, const pg_community_event *ev)
{
    community_arg *a = ud;
    size_t k = ev->interval;
    if (a->interval_s > 0 && k != PG_COMMUNITY_NO_INTERVAL) {
        if (a->paced == PG_COMMUNITY_NO_INTERVAL) {
            a->t0 = pgi_now() - (double)k * a->interval_s;
            a->paced = k;
        } else if (k > a->paced) {
            sleep_until(a->t0 + (double)k * a->interval_s, a->stop);
            a->paced = k;
        }
    }
    pgh_live_event(a->s, ev);
    if ((ev->kind == PG_COMMUNITY_EVENT_CLEARED || ev->kind == PG_COMMUNITY_EVENT_SETTLED) &&
        k != PG_COMMUNITY_NO_INTERVAL && (double)(k + 1) > a->done) {
        a->done = (double)(k + 1);
        pgh_job_progress(a->j, a->done, (double)pg_community_n_intervals(a->c), "intervals");
    }
}

static int
community_job(pgh_job *j, void *arg, json_t **result, pg_error *err)
{
    community_arg *a = arg;
    pg_community_report *rep = NULL;
    char *text = NULL;
    a->j = j;
    a->stop = pgh_job_stop_flag(j);
    a->paced = PG_COMMUNITY_NO_INTERVAL;
    size_t n = pg_community_n_intervals(a->c);
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    lo.transport = "inproc";
    lo.variant = a->variant;
    lo.stop = a->stop;
    lo.event = community_event;
    lo.event_ud = a;
    pgh_job_progress(j, 0, (double)n, "intervals");
    char source[PGH_JOB_ID_MAX + 8];
    snprintf(source, sizeof source, "job %s", pgh_job_id(j));
    size_t n_nodes = pg_community_n_nodes(a->c);
    const char **nodes = calloc(n_nodes ? n_nodes : 1, sizeof *nodes);
    if (!nodes)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_nodes; i++)
        nodes[i] = pg_community_node_name(a->c, i);
    pgh_live_begin(a->s, source, pg_community_name(a->c), nodes, n_nodes, n,
                   pg_community_step_h(a->c));
    free(nodes);
    int rc = pg_community_run_lattice(a->c, NULL, 0, a->market, &lo, &rep, err);
    pgh_live_end(a->s);
    if (rc == PG_OK && (rc = pg_community_report_json(rep, &text, err)) == PG_OK)
        rc = json_result(text, result, err);
    pg_community_report_free(rep);
    return rc;
}

/* POST /api/jobs/community: body {"scenario", "days", "start_day", "variant", "market",
 * "interval_s"}. */
static int
submit_community(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    static const char *const keys[] = {"scenario", "days",       "start_day", "variant",
                                       "market",   "interval_s", NULL};
    const pgh_options *so = pgh_server_options(s);
    json_t *root = NULL;
    community_arg *a = NULL;
    char *path = NULL;
    int rc = PG_OK;
    if (pgh_api_body(rq, &root, rp) != PG_OK)
        return PG_OK;
    if (!(a = calloc(1, sizeof *a))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    a->s = s;
    pg_community_options o;
    pg_community_options_init(&o);
    o.data_dir = so->data_dir;
    const json_t *sc = json_object_get(root, "scenario"), *var = json_object_get(root, "variant"),
                 *mk = json_object_get(root, "market"), *iv = json_object_get(root, "interval_s");
    if (!pgh_api_keys_known(root, keys, rp) ||
        !pgh_api_size(root, "days", 1, 0, 36600, &o.days, rp) ||
        !pgh_api_size(root, "start_day", 0, 0, 36600, &o.start_day, rp))
        goto out;
    if (!json_is_string(sc)) {
        pgh_reply_error(rp, 400, "bad_request",
                        "'scenario' is required: the name of a scenario of GET /api/scenarios");
        goto out;
    }
    if ((var && !json_is_null(var) && !json_is_string(var)) ||
        (mk && !json_is_null(mk) && !json_is_string(mk)) ||
        (iv && !json_is_null(iv) && !json_is_number(iv))) {
        pgh_reply_error(rp, 400, "bad_request",
                        "'variant' and 'market' are names (or null), 'interval_s' a number of "
                        "seconds");
        goto out;
    }
    a->interval_s = json_is_number(iv) ? json_number_value(iv) : 0;
    if (!(a->interval_s >= 0 && a->interval_s <= 86400)) {
        pgh_reply_error(rp, 422, "invalid",
                        "'interval_s' is %.17g: it must be from 0 (as fast as it goes) to 86400 "
                        "seconds",
                        a->interval_s);
        goto out;
    }
    const char *rel = json_string_value(sc);
    if (!scenario_name_valid(rel)) {
        pgh_reply_error(rp, 400, "bad_name",
                        "'scenario' is a path inside the scenarios folder such as "
                        "\"NAME/scenario.json\": parts of letters, digits, '.', '_' or '-', none "
                        "starting with '.', ending in .json");
        goto out;
    }
    if (!so->scenarios_dir) {
        pgh_reply_error(rp, 409, "no_scenarios_dir",
                        "this server runs no scenarios: start it with --scenarios DIR");
        goto out;
    }
    pg_error e = {0};
    if ((rc = scenario_path(so->scenarios_dir, rel, &path, &e))) {
        if (rc == PG_ENOMEM) {
            *err = e;
            goto out;
        }
        rc = pgh_reply_error(rp, rc == PG_EPARSE ? 422 : 404,
                             rc == PG_EPARSE ? "invalid" : "not_found", "'%s': %s", rel, e.msg);
        goto out;
    }
    if (mk && json_is_string(mk)) {
        const char *m = json_string_value(mk);
        if (strcmp(m, "none") != 0 && !pg_market_mechanism_find(m, &e)) {
            pgh_reply_error(rp, 422, "invalid", "'market': %s", e.msg);
            goto out;
        }
        if (!(a->market = pgi_strdup(m))) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
    }
    if ((rc = pg_community_read(&a->c, path, &o, &e))) {
        if (rc == PG_ENOMEM) {
            *err = e;
            goto out;
        }
        /* the scenario's own files are named relative to the folder, never by the server's
         * paths */
        char msg[1200];
        pg_error shown = e;
        shown.file[0] = '\0';
        pg_error_format(&shown, msg, sizeof msg);
        rc = pgh_reply_error(rp, rc == PG_EIO ? 500 : 422, rc == PG_EIO ? "internal" : "invalid",
                             "'%s': %s", rel, msg);
        goto out;
    }
    if (var && json_is_string(var)) {
        const char *want = json_string_value(var), *name;
        for (a->variant = 0; (name = pg_community_variant_name(a->c, a->variant)); a->variant++)
            if (strcmp(name, want) == 0)
                break;
        if (!name) {
            rc = pgh_reply_error(rp, 422, "invalid", "the scenario '%s' has no variant '%s'", rel,
                                 want);
            goto out;
        }
    }
    community_slot *slot =
        pgh_server_slot(s, PGH_SLOT_API, community_slot_make, community_slot_free);
    if (!slot) {
        rc = pgh_reply_error(rp, 429, "busy", "the server is stopping: it takes no more jobs");
        goto out;
    }
    pthread_mutex_lock(&slot->mu);
    if (slot->busy) {
        char id[PGH_JOB_ID_MAX];
        snprintf(id, sizeof id, "%s", slot->id);
        pthread_mutex_unlock(&slot->mu);
        rc = pgh_reply_error(rp, 409, "community_busy",
                             "a community run is already going on%s%s%s: the server runs one at "
                             "a time (the dashboard shows one); wait for its end or cancel it "
                             "(DELETE /api/jobs/%s)",
                             id[0] ? " (job " : "", id, id[0] ? ")" : "", id[0] ? id : "ID");
        goto out;
    }
    slot->busy = true;
    a->gen = ++slot->gen;
    a->slot = slot;
    pthread_mutex_unlock(&slot->mu);
    uint64_t gen = a->gen;
    rc = submit(s, "community", community_job, a, community_arg_free, rp, err);
    a = NULL;
    /* the job's id, for the next one refused (it may have ended already: then nothing) */
    pthread_mutex_lock(&slot->mu);
    if (rp->location[0] && slot->busy && slot->gen == gen) {
        const char *loc = strrchr(rp->location, '/');
        snprintf(slot->id, sizeof slot->id, "%s", loc ? loc + 1 : "");
    }
    pthread_mutex_unlock(&slot->mu);
out:
    community_arg_free(a);
    free(path);
    json_decref(root);
    return rc == PGH_REPLIED ? PG_OK : rc;
}

/* A row of GET /api/scenarios for the file path, named rel; NULL when it is not a scenario. */
static json_t *
scenario_row(const char *path, const char *rel)
{
    scenario_head h;
    pg_error e = {0};
    if (head_read(path, &h, &e))
        return NULL;
    const json_t *iv = json_object_get(h.root, "intervals"),
                 *mk = json_object_get(h.root, "market");
    const char *mech = json_string_value(json_object_get(mk, "mechanism"));
    json_t *vars = variant_names(&h);
    json_t *row =
        vars ? json_pack("{s:s, s:s?, s:s?, s:I, s:o, s:o, s:o, s:s?}", "name", rel, "community",
                         h.community, "description",
                         json_string_value(json_object_get(h.root, "description")), "nodes",
                         (json_int_t)h.n_nodes, "intervals",
                         json_is_integer(iv) ? json_incref((json_t *)iv) : json_null(), "step_h",
                         pgi_json_num(h.step_h), "variants", vars, "market", mech)
             : NULL;
    head_free(&h);
    return row;
}

static int
rel_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds to names (at most SCAN_MAX) the files *.json of dir/sub (sub "" for dir itself), as paths
 * relative to dir, and, at depth 0, those of its subfolders. Symbolic links are not followed. */
static int
scan(const char *dir, const char *sub, int depth, char **names, size_t *n)
{
    char *here = sub[0] ? pgi_path_join(dir, sub) : pgi_strdup(dir);
    if (!here)
        return PG_ENOMEM;
    DIR *d = opendir(here);
    int rc = PG_OK;
    if (!d)
        goto out;
    struct dirent *de;
    while (rc == PG_OK && *n < SCAN_MAX && (de = readdir(d))) {
        if (!pgh_name_valid(de->d_name))
            continue;
        char rel[300];
        snprintf(rel, sizeof rel, "%s%s%s", sub, sub[0] ? "/" : "", de->d_name);
        char *full = pgi_path_join(dir, rel);
        struct stat st;
        if (!full) {
            rc = PG_ENOMEM;
            break;
        }
        if (lstat(full, &st) == 0) {
            size_t l = strlen(de->d_name);
            if (S_ISREG(st.st_mode) && l > 5 && strcmp(de->d_name + l - 5, ".json") == 0) {
                if (!(names[*n] = pgi_strdup(rel)))
                    rc = PG_ENOMEM;
                else
                    (*n)++;
            } else if (S_ISDIR(st.st_mode) && depth == 0) {
                rc = scan(dir, rel, depth + 1, names, n);
            }
        }
        free(full);
    }
    closedir(d);
out:
    free(here);
    return rc;
}

/* GET /api/scenarios */
static int
list_scenarios(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    (void)rq;
    const char *dir = pgh_server_options(s)->scenarios_dir;
    json_t *root = json_object(), *list = json_array();
    char **names = NULL;
    size_t n = 0;
    int rc = PG_OK;
    if (!root || !list || json_object_set(root, "scenarios", list) ||
        json_object_set_new(root, "dir", dir ? pgi_json_str(dir) : json_null()))
        goto nomem;
    if (dir) {
        if (!(names = calloc(SCAN_MAX, sizeof *names)) || scan(dir, "", 0, names, &n))
            goto nomem;
        qsort(names, n, sizeof *names, rel_cmp);
        for (size_t i = 0; i < n; i++) {
            char *full = pgi_path_join(dir, names[i]);
            if (!full)
                goto nomem;
            json_t *row = scenario_row(full, names[i]);
            free(full);
            if (row && json_array_append_new(list, row))
                goto nomem;
        }
    }
    rc = pgh_reply_json(rp, 200, root, err);
    root = NULL;
    goto out;
nomem:
    rc = pg_error_set(err, PG_ENOMEM, "out of memory");
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    json_decref(list);
    json_decref(root);
    return rc;
}

static const pgh_route routes[] = {
    {"POST", "/api/jobs/pf", submit_pf, "Start a power-flow job"},
    {"POST", "/api/jobs/run", submit_run, "Start a day-ahead scheduling job"},
    {"POST", "/api/jobs/community", submit_community, "Start a community run"},
    {"GET", "/api/scenarios", list_scenarios, "List the community scenarios"},
};

const pgh_route_set pgh_routes_run = {routes, sizeof routes / sizeof *routes};
