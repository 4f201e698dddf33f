/* Jobs and their results as text. A job is a small JSON object (format plurigrid-study-job/1)
 * naming its study, its number, the kind, the world (index, file name, size) and the items it
 * covers, with every option that changes results at round-trip precision; its result
 * (plurigrid-study-result/1) is the summary of each item, written by pgi_json_dumps. Whoever runs a
 * job, here or on a worker, runs pgi_study_job_execute on the same text and so gives the same
 * bytes: results hold no timings and nothing that depends on where they were computed. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_write.h"
#include "core/util.h"
#include "plurigrid/io.h"
#include "plurigrid/model.h"
#include "study/study_priv.h"

#define JOB_FORMAT "plurigrid-study-job/1"
#define RESULT_FORMAT "plurigrid-study-result/1"

const char *
pgi_study_kind_name(pg_study_kind k)
{
    switch (k) {
    case PG_STUDY_PF: return "pf";
    case PG_STUDY_RUN: return "run";
    case PG_STUDY_CONTINGENCY: return "contingency";
    }
    return "?";
}

int
pgi_study_kind_from_name(const char *name, pg_study_kind *k)
{
    if (!name)
        return PG_EPARSE;
    if (strcmp(name, "pf") == 0)
        *k = PG_STUDY_PF;
    else if (strcmp(name, "run") == 0)
        *k = PG_STUDY_RUN;
    else if (strcmp(name, "contingency") == 0)
        *k = PG_STUDY_CONTINGENCY;
    else
        return PG_EPARSE;
    return PG_OK;
}

const char *
pgi_study_rating_name(pg_pf_rating r)
{
    return r == PG_PF_RATE_B ? "b" : r == PG_PF_RATE_C ? "c" : "a";
}

/* Reads world text by its file name's extension (JSON when it names none and the text starts
 * with '{'). */
static int
read_world(const char *name, const char *text, size_t len, pg_world **w, pg_error *err)
{
    const char *fmt = pg_world_format_from_path(name);
    if (!fmt) {
        size_t i = 0;
        while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
            i++;
        fmt = i < len && text[i] == '{' ? "json" : "matpower";
    }
    int rc = strcmp(fmt, "json") == 0 ? pg_world_json_read_buffer(text, len, name, w, NULL, err)
                                      : pg_matpower_read_buffer(text, len, name, w, NULL, err);
    if (rc == PG_OK) {
        rc = pg_world_validate(*w, err);
        if (rc != PG_OK) {
            pg_world_free(*w);
            *w = NULL;
        }
    }
    return rc;
}

static size_t
n_in_service(const pg_world *w)
{
    size_t n = 0;
    for (size_t l = 0; l < w->n_branches; l++)
        n += w->branches[l].in_service;
    return n;
}

int
pgi_study_count_items(const pg_study_options *o, const char *name, const char *text, size_t len,
                      size_t *n, pg_error *err)
{
    pg_world *w = NULL;
    int rc = read_world(name, text, len, &w, err);
    if (rc != PG_OK)
        return rc;
    if (o->kind == PG_STUDY_CONTINGENCY) {
        *n = n_in_service(w);
    } else if (o->kind == PG_STUDY_PF && o->series) {
        size_t steps = 0;
        double step_h = 0;
        rc = pg_world_horizon(w, &steps, &step_h, err);
        if (rc == PG_OK)
            *n = steps ? steps : 1;
    } else {
        *n = 1;
    }
    pg_world_free(w);
    return rc;
}

/* ---------------------------------------------------------------- jobs */

static int
set_new(json_t *o, const char *key, json_t *v)
{
    return v ? json_object_set_new(o, key, v) : -1;
}

int
pgi_study_job_encode(const pg_study *s, size_t k, char **text, size_t *len, pg_error *err)
{
    if (!s || !text)
        return pg_error_set(err, PG_EINVAL, "pgi_study_job_encode: NULL argument");
    if (k >= s->n_jobs)
        return pg_error_set(err, PG_EINVAL, "the study has no job %zu", k);
    const pgi_study_job *j = &s->jobs[k];
    const pgi_study_world *w = &s->worlds[j->world];
    const pg_study_options *o = &s->o;
    int bad = 0;
    json_t *root = json_object();
    json_t *pf = json_object(), *dp = json_object();
    bad |= !root || !pf || !dp;
    if (!bad) {
        bad |= set_new(root, "format", json_string(JOB_FORMAT));
        bad |= set_new(root, "study", json_string(s->id));
        bad |= set_new(root, "job", json_integer((json_int_t)k));
        bad |= set_new(root, "kind", json_string(pgi_study_kind_name(o->kind)));
        bad |= set_new(root, "series", json_boolean(o->series));
        bad |= set_new(root, "world", json_integer((json_int_t)j->world));
        bad |= set_new(root, "name", pgi_json_str(w->name));
        bad |= set_new(root, "bytes", json_integer((json_int_t)w->len));
        bad |= set_new(root, "first", json_integer((json_int_t)j->first));
        bad |= set_new(root, "count", json_integer((json_int_t)j->count));
        bad |= set_new(root, "rating", json_string(pgi_study_rating_name(o->rating)));
        bad |= set_new(pf, "dc", json_boolean(o->pf.dc));
        bad |= set_new(pf, "enforce_q_lims", json_boolean(o->pf.enforce_q_lims));
        bad |= set_new(pf, "tol", pgi_json_real(o->pf.tol));
        bad |= set_new(pf, "max_iter", json_integer(o->pf.max_iter));
        bad |= set_new(pf, "q_lim_tol", pgi_json_real(o->pf.q_lim_tol));
        const pg_dispatch_options *d = &o->dispatch;
        bad |= set_new(dp, "start_step", json_integer((json_int_t)d->start_step));
        bad |= set_new(dp, "horizon", json_integer((json_int_t)d->horizon));
        bad |= set_new(dp, "step_h", pgi_json_real(d->step_h));
        bad |= set_new(dp, "network", json_string(d->network == PG_NETWORK_DC ? "dc" : "copper"));
        bad |= set_new(dp, "commitment", json_boolean(d->commitment));
        bad |= set_new(dp, "intertemporal", json_boolean(d->intertemporal));
        bad |= set_new(dp, "voll", pgi_json_real(d->voll));
        bad |= set_new(dp, "overgen_cost", pgi_json_real(d->overgen_cost));
        bad |= set_new(dp, "pwl_segments", json_integer(d->pwl_segments));
        bad |= set_new(dp, "mip_gap", pgi_json_real(d->mip_gap));
        bad |= set_new(dp, "time_limit_s", pgi_json_real(d->time_limit_s));
        bad |= set_new(dp, "threads", json_integer(d->threads));
        bad |= json_object_set(root, "pf", pf);
        bad |= json_object_set(root, "dispatch", dp);
    }
    char *t = bad ? NULL : pgi_json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(pf);
    json_decref(dp);
    json_decref(root);
    if (!t)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    /* pgi_json_dumps ends the text with a newline; a job is the object alone. */
    size_t n = strlen(t);
    if (n && t[n - 1] == '\n')
        t[--n] = '\0';
    *text = t;
    if (len)
        *len = n;
    return PG_OK;
}

/* A job as read back. */
typedef struct job {
    char study[64];
    size_t k, world, bytes, first, count;
    char name[256];
    pg_study_kind kind;
    bool series;
    pg_pf_rating rating;
    pg_pf_options pf;
    pg_dispatch_options dispatch;
} job;

static int
get_size(json_t *o, const char *key, size_t *v)
{
    json_t *x = json_object_get(o, key);
    if (!json_is_integer(x) || json_integer_value(x) < 0)
        return -1;
    *v = (size_t)json_integer_value(x);
    return 0;
}

static int
get_int(json_t *o, const char *key, int lo, int hi, int *v)
{
    json_t *x = json_object_get(o, key);
    if (!json_is_integer(x) || json_integer_value(x) < lo || json_integer_value(x) > hi)
        return -1;
    *v = (int)json_integer_value(x);
    return 0;
}

static int
get_real(json_t *o, const char *key, double *v)
{
    json_t *x = json_object_get(o, key);
    if (!json_is_number(x))
        return -1;
    *v = json_number_value(x);
    return isfinite(*v) ? 0 : -1;
}

static int
get_bool(json_t *o, const char *key, bool *v)
{
    json_t *x = json_object_get(o, key);
    if (!json_is_boolean(x))
        return -1;
    *v = json_is_true(x);
    return 0;
}

static int
get_str(json_t *o, const char *key, char *buf, size_t size)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s || strlen(s) >= size)
        return -1;
    memcpy(buf, s, strlen(s) + 1);
    return 0;
}

static int
job_decode(const char *text, size_t len, job *j, pg_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root)
        return pg_error_set(err, PG_EPARSE, "a job that is not JSON: %s (line %d)", je.text,
                            je.line);
    int bad = 0;
    char fmt[64] = "", kind[32] = "", rating[8] = "", network[16] = "";
    memset(j, 0, sizeof *j);
    pg_pf_options_init(&j->pf);
    pg_dispatch_options_init(&j->dispatch);
    json_t *pf = json_object_get(root, "pf"), *dp = json_object_get(root, "dispatch");
    bad |= get_str(root, "format", fmt, sizeof fmt);
    bad |= get_str(root, "study", j->study, sizeof j->study);
    bad |= get_size(root, "job", &j->k);
    bad |= get_str(root, "kind", kind, sizeof kind);
    bad |= get_bool(root, "series", &j->series);
    bad |= get_size(root, "world", &j->world);
    bad |= get_str(root, "name", j->name, sizeof j->name);
    bad |= get_size(root, "bytes", &j->bytes);
    bad |= get_size(root, "first", &j->first);
    bad |= get_size(root, "count", &j->count);
    bad |= get_str(root, "rating", rating, sizeof rating);
    bad |= !json_is_object(pf) || !json_is_object(dp);
    if (!bad) {
        bad |= get_bool(pf, "dc", &j->pf.dc);
        bad |= get_bool(pf, "enforce_q_lims", &j->pf.enforce_q_lims);
        bad |= get_real(pf, "tol", &j->pf.tol);
        bad |= get_int(pf, "max_iter", 0, 100000, &j->pf.max_iter);
        bad |= get_real(pf, "q_lim_tol", &j->pf.q_lim_tol);
        pg_dispatch_options *d = &j->dispatch;
        bad |= get_size(dp, "start_step", &d->start_step);
        bad |= get_size(dp, "horizon", &d->horizon);
        bad |= get_real(dp, "step_h", &d->step_h);
        bad |= get_str(dp, "network", network, sizeof network);
        bad |= get_bool(dp, "commitment", &d->commitment);
        bad |= get_bool(dp, "intertemporal", &d->intertemporal);
        bad |= get_real(dp, "voll", &d->voll);
        bad |= get_real(dp, "overgen_cost", &d->overgen_cost);
        bad |= get_int(dp, "pwl_segments", 1, 1000, &d->pwl_segments);
        bad |= get_real(dp, "mip_gap", &d->mip_gap);
        bad |= get_real(dp, "time_limit_s", &d->time_limit_s);
        bad |= get_int(dp, "threads", 1, 64, &d->threads);
        d->network = strcmp(network, "copper") == 0 ? PG_NETWORK_COPPER : PG_NETWORK_DC;
        bad |= strcmp(network, "copper") != 0 && strcmp(network, "dc") != 0;
    }
    json_decref(root);
    if (!bad)
        bad |= strcmp(fmt, JOB_FORMAT) != 0 || pgi_study_kind_from_name(kind, &j->kind) != PG_OK;
    if (!bad) {
        if (strcmp(rating, "a") == 0)
            j->rating = PG_PF_RATE_A;
        else if (strcmp(rating, "b") == 0)
            j->rating = PG_PF_RATE_B;
        else if (strcmp(rating, "c") == 0)
            j->rating = PG_PF_RATE_C;
        else
            bad = 1;
    }
    if (bad)
        return pg_error_set(err, PG_EPARSE, "a malformed job (format %s expected)", JOB_FORMAT);
    return PG_OK;
}

int
pgi_study_text_job(const char *text, size_t len, size_t *k, pg_error *err)
{
    json_error_t je;
    json_t *root = text ? json_loadb(text, len, 0, &je) : NULL;
    json_t *x = root ? json_object_get(root, "job") : NULL;
    int rc = PG_OK;
    if (!json_is_integer(x) || json_integer_value(x) < 0)
        rc = pg_error_set(err, PG_EPARSE, "the text names no job");
    else if (k)
        *k = (size_t)json_integer_value(x);
    json_decref(root);
    return rc;
}

/* ---------------------------------------------------------------- running a job */

static json_t *
name_or_null(const char *name)
{
    return name ? pgi_json_str(name) : json_null();
}

/* The members every summarised power flow has, added to o. */
static int
put_summary(json_t *o, const pg_world *w, const pg_pf_summary *sm)
{
    int bad = 0;
    bad |= set_new(o, "converged", json_boolean(sm->converged));
    bad |= set_new(o, "iterations", json_integer(sm->iterations));
    bad |= set_new(o, "max_mismatch", pgi_json_num(sm->max_mismatch));
    bad |= set_new(o, "load_mw", pgi_json_num(sm->load_p));
    bad |= set_new(o, "gen_mw", pgi_json_num(sm->gen_p));
    bad |= set_new(o, "loss_mw", pgi_json_num(sm->loss_p));
    bad |= set_new(o, "vm_min", pgi_json_num(sm->vm_min));
    bad |=
        set_new(o, "vm_min_bus",
                name_or_null(sm->vm_min_bus < w->n_buses ? w->buses[sm->vm_min_bus].name : NULL));
    bad |= set_new(o, "vm_max", pgi_json_num(sm->vm_max));
    bad |=
        set_new(o, "vm_max_bus",
                name_or_null(sm->vm_max_bus < w->n_buses ? w->buses[sm->vm_max_bus].name : NULL));
    bad |= set_new(o, "voltage_violations", json_integer((json_int_t)sm->n_voltage_violations));
    bad |= set_new(o, "max_loading", pgi_json_num(sm->max_loading));
    bad |= set_new(o, "max_loading_branch",
                   name_or_null(sm->max_loading_branch < w->n_branches
                                    ? w->branches[sm->max_loading_branch].name
                                    : NULL));
    bad |= set_new(o, "overloads", json_integer((json_int_t)sm->n_overloads));
    return bad;
}

static const char *
uc_name(pg_uc_status u)
{
    return u == PG_UC_OPTIMAL ? "optimal" : u == PG_UC_TIME_LIMIT ? "time-limit" : "none";
}

/* Runs what job j asks of world w, adding its items to items (and the base case to root).
 * A solver's refusal is the job's error (set on root); PG_ENOMEM and PG_ECANCELED are returned. */
static int
run_items(const job *j, const pg_world *w, json_t *root, json_t *items, const volatile int *stop,
          pg_error *err)
{
    pg_error e;
    pg_error_clear(&e);
    int rc = PG_OK, bad = 0;
    char msg[1024];
    if (j->kind == PG_STUDY_PF && !j->series) {
        pg_pf_result *r = NULL;
        rc = pg_pf_solve(w, &j->pf, &r, &e);
        if (rc == PG_OK) {
            pg_pf_summary sm;
            pg_pf_summarize(w, r, j->rating, &sm);
            json_t *it = json_object();
            bad |= !it || set_new(it, "index", json_integer(0));
            bad |= it ? put_summary(it, w, &sm) : 1;
            if (r->reason[0])
                bad |= it ? set_new(it, "reason", pgi_json_str(r->reason)) : 1;
            bad |= json_array_append_new(items, it);
            pg_pf_result_free(r);
        }
    } else if (j->kind == PG_STUDY_PF) {
        size_t n_steps = 0;
        double step_h = 0;
        if (pg_world_horizon(w, &n_steps, &step_h, &e) == PG_OK &&
            (j->first >= (n_steps ? n_steps : 1) ||
             j->count > (n_steps ? n_steps : 1) - j->first)) {
            snprintf(msg, sizeof msg, "the job asks for steps %zu to %zu but the world has %zu",
                     j->first, j->first + j->count, n_steps ? n_steps : 1);
            return set_new(root, "error", pgi_json_str(msg))
                       ? pg_error_set(err, PG_ENOMEM, "out of memory")
                       : PG_OK;
        }
        pg_pf_series_options so;
        pg_pf_series_options_init(&so);
        so.pf = j->pf;
        so.first = j->first;
        so.count = j->count;
        so.rating = j->rating;
        so.stop = stop;
        pg_pf_summary *steps = NULL;
        size_t n = 0;
        rc = pg_pf_series(w, &so, &steps, &n, &e);
        for (size_t i = 0; rc == PG_OK && i < n; i++) {
            json_t *it = json_object();
            bad |= !it || set_new(it, "index", json_integer((json_int_t)(j->first + i)));
            bad |= it ? put_summary(it, w, &steps[i]) : 1;
            bad |= json_array_append_new(items, it);
        }
        free(steps);
    } else if (j->kind == PG_STUDY_CONTINGENCY) {
        if (j->count > w->n_branches || j->first > w->n_branches) {
            snprintf(msg, sizeof msg,
                     "the job asks for outages %zu to %zu but the world has %zu branches", j->first,
                     j->first + j->count, w->n_branches);
            return set_new(root, "error", pgi_json_str(msg))
                       ? pg_error_set(err, PG_ENOMEM, "out of memory")
                       : PG_OK;
        }
        size_t *br = malloc((j->count ? j->count : 1) * sizeof *br);
        if (!br)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        size_t m = 0, seen = 0;
        for (size_t l = 0; l < w->n_branches && m < j->count; l++)
            if (w->branches[l].in_service && seen++ >= j->first)
                br[m++] = l;
        if (m != j->count) {
            free(br);
            snprintf(msg, sizeof msg,
                     "the job asks for outages %zu to %zu but the world has %zu branches in "
                     "service",
                     j->first, j->first + j->count, seen);
            return set_new(root, "error", pgi_json_str(msg))
                       ? pg_error_set(err, PG_ENOMEM, "out of memory")
                       : PG_OK;
        }
        pg_pf_contingency_options co;
        pg_pf_contingency_options_init(&co);
        co.pf = j->pf;
        co.branches = br;
        co.n_branches = m;
        co.rating = j->rating;
        co.stop = stop;
        pg_pf_contingency_result *cr = NULL;
        rc = pg_pf_contingency(w, &co, &cr, &e);
        free(br);
        if (rc == PG_OK) {
            json_t *base = json_object();
            bad |= base ? put_summary(base, w, &cr->base_summary) : 1;
            if (cr->base && cr->base->reason[0])
                bad |= base ? set_new(base, "reason", pgi_json_str(cr->base->reason)) : 1;
            bad |= set_new(root, "base", base);
            if (!cr->base_summary.converged) {
                snprintf(msg, sizeof msg, "the base case did not converge%s%s",
                         cr->base && cr->base->reason[0] ? ": " : "",
                         cr->base ? cr->base->reason : "");
                bad |= set_new(root, "error", pgi_json_str(msg));
            }
            for (size_t i = 0; i < cr->n_outages; i++) {
                const pg_pf_outage *ou = &cr->outages[i];
                json_t *it = json_object();
                bad |= !it || set_new(it, "index", json_integer((json_int_t)(j->first + i)));
                bad |= it ? set_new(it, "branch", json_integer((json_int_t)ou->branch)) : 1;
                bad |=
                    it ? set_new(it, "branch_name", pgi_json_str(w->branches[ou->branch].name)) : 1;
                bad |= it ? set_new(it, "from_bus",
                                    pgi_json_str(w->buses[w->branches[ou->branch].from].name))
                          : 1;
                bad |= it ? set_new(it, "to_bus",
                                    pgi_json_str(w->buses[w->branches[ou->branch].to].name))
                          : 1;
                const char *st = ou->status == PG_PF_OUTAGE_SOLVED      ? "solved"
                                 : ou->status == PG_PF_OUTAGE_ISLANDING ? "islanding"
                                                                        : "out";
                bad |= it ? set_new(it, "status", json_string(st)) : 1;
                if (ou->status == PG_PF_OUTAGE_SOLVED)
                    bad |= it ? put_summary(it, w, &ou->summary) : 1;
                else if (ou->status == PG_PF_OUTAGE_ISLANDING)
                    bad |= it ? set_new(it, "islanded_load_mw", pgi_json_num(ou->islanded_load_mw))
                              : 1;
                bad |= json_array_append_new(items, it);
            }
            pg_pf_contingency_result_free(cr);
        }
    } else {
        pg_dispatch_options d = j->dispatch;
        d.progress = NULL;
        d.progress_user = NULL;
        pg_dispatch_result *r = NULL;
        rc = pg_dispatch_run(w, &d, &r, &e);
        if (rc == PG_OK) {
            json_t *it = json_object();
            bad |= !it || set_new(it, "index", json_integer(0));
            bad |= it ? set_new(it, "scheduled", json_true()) : 1;
            bad |= it ? set_new(it, "steps", json_integer((json_int_t)r->n_steps)) : 1;
            bad |= it ? set_new(it, "total_cost", pgi_json_num(r->total_cost)) : 1;
            bad |= it ? set_new(it, "unserved_mwh", pgi_json_num(r->total_unserved_mwh)) : 1;
            bad |= it ? set_new(it, "overgen_mwh", pgi_json_num(r->total_overgen_mwh)) : 1;
            bad |= it ? set_new(it, "curtailed_mwh", pgi_json_num(r->total_curtailed_mwh)) : 1;
            bad |= it ? set_new(it, "uc_status", json_string(uc_name(r->uc_status))) : 1;
            bad |= it ? set_new(it, "uc_gap", pgi_json_num(r->uc_gap)) : 1;
            bad |= json_array_append_new(items, it);
            pg_dispatch_result_free(r);
        }
    }
    if (bad)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    if (rc == PG_ENOMEM || rc == PG_ECANCELED) {
        if (err)
            *err = e;
        return rc;
    }
    if (rc != PG_OK) {
        pg_error_format(&e, msg, sizeof msg);
        if (set_new(root, "error", pgi_json_str(msg)))
            return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    return PG_OK;
}

int
pgi_study_job_execute(const char *jtext, size_t len, pgi_study_fetch_fn fetch, void *user,
                      const volatile int *stop, char **result, size_t *rlen, pg_error *err)
{
    if (!jtext || !fetch || !result)
        return pg_error_set(err, PG_EINVAL, "pgi_study_job_execute: NULL argument");
    job j;
    int rc = job_decode(jtext, len, &j, err);
    if (rc != PG_OK)
        return rc;
    const char *wtext = NULL;
    size_t wlen = 0;
    rc = fetch(user, j.study, j.world, j.name, j.bytes, &wtext, &wlen, err);
    if (rc != PG_OK)
        return rc;
    if (wlen != j.bytes)
        return pg_error_set(err, PG_EIO, "world %zu (%s) is %zu bytes, the job says %zu", j.world,
                            j.name, wlen, j.bytes);
    json_t *root = json_object(), *items = json_array();
    pg_world *w = NULL;
    char *t = NULL;
    int bad = !root || !items;
    if (!bad) {
        bad |= set_new(root, "format", json_string(RESULT_FORMAT));
        bad |= set_new(root, "study", json_string(j.study));
        bad |= set_new(root, "job", json_integer((json_int_t)j.k));
        bad |= set_new(root, "world", json_integer((json_int_t)j.world));
        bad |= set_new(root, "first", json_integer((json_int_t)j.first));
        bad |= set_new(root, "count", json_integer((json_int_t)j.count));
    }
    if (bad) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    pg_error e;
    pg_error_clear(&e);
    int wrc = read_world(j.name, wtext, wlen, &w, &e);
    if (wrc == PG_ENOMEM) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if (wrc != PG_OK) {
        char msg[1024];
        pg_error_format(&e, msg, sizeof msg);
        if (set_new(root, "error", pgi_json_str(msg))) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
    } else {
        rc = run_items(&j, w, root, items, stop, err);
        if (rc != PG_OK)
            goto out;
    }
    if (json_object_set(root, "items", items)) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    t = pgi_json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!t) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    size_t n = strlen(t);
    if (n && t[n - 1] == '\n')
        t[--n] = '\0';
    *result = t;
    if (rlen)
        *rlen = n;
    t = NULL;
out:
    free(t);
    pg_world_free(w);
    json_decref(items);
    json_decref(root);
    return rc;
}
