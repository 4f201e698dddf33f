/* The results of a study as reports: one JSON document (plurigrid-study/1), CSV (one row per
 * item), text (totals and the worst items) and an SVG summary (histogram of losses, voltage range
 * per item, the worst contingencies by loading). Every report is built from the stored result
 * texts, read back in job order, so the JSON and CSV depend only on the results: not on the
 * executor, the threads or the timing (which only the text report shows). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_write.h"
#include "core/util.h"
#include "plurigrid/plot.h"
#include "study/study_priv.h"

/* The parsed results, one per job, in job order. */
typedef struct parsed {
    json_t **root;
    size_t n;
} parsed;

static void
parsed_free(parsed *p)
{
    for (size_t k = 0; k < p->n; k++)
        json_decref(p->root[k]);
    free(p->root);
    p->root = NULL;
    p->n = 0;
}

static int
parse_all(const pg_study *s, parsed *p, pg_error *err)
{
    p->n = 0;
    p->root = NULL;
    if (!s->ran || s->cap_results < s->n_jobs)
        return pg_error_set(err, PG_ESTATE, "the study has not run");
    p->root = calloc(s->n_jobs ? s->n_jobs : 1, sizeof *p->root);
    if (!p->root)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    p->n = s->n_jobs;
    for (size_t k = 0; k < s->n_jobs; k++) {
        if (!s->results[k]) {
            parsed_free(p);
            return pg_error_set(err, PG_ESTATE, "job %zu has no result", k);
        }
        json_error_t je;
        p->root[k] = json_loadb(s->results[k], s->result_len[k], 0, &je);
        if (!json_is_object(p->root[k])) {
            parsed_free(p);
            return pg_error_set(err, PG_EPARSE, "the result of job %zu is malformed", k);
        }
    }
    return PG_OK;
}

/* Whether an item counts as converged (scheduled), islanding, or neither (failed). */
static bool
item_converged(const json_t *it)
{
    if (json_is_true(json_object_get(it, "scheduled")))
        return true;
    const char *st = json_string_value(json_object_get(it, "status"));
    if (st && strcmp(st, "solved") != 0)
        return false;
    return json_is_true(json_object_get(it, "converged"));
}

static bool
item_islanding(const json_t *it)
{
    const char *st = json_string_value(json_object_get(it, "status"));
    return st && strcmp(st, "islanding") == 0;
}

static long long
int_of(const json_t *o, const char *key)
{
    json_t *x = json_object_get(o, key);
    return json_is_integer(x) ? (long long)json_integer_value(x) : 0;
}

static double
num_of(const json_t *o, const char *key)
{
    json_t *x = json_object_get(o, key);
    return json_is_number(x) ? json_number_value(x) : NAN;
}

/* Per world: items, converged, failed, islanding, and whether the world failed. */
typedef struct wsum {
    size_t items, converged, failed, islanding, overloads, vviol;
    bool world_failed;
    const char *error;  /* the first job's error, borrowed from the parsed results */
    const json_t *base; /* contingency: the base case */
} wsum;

/* One world's counts. A job with an error and no items is one failed item when a world is an
 * item (pf of the base case, run). */
static void
world_sums(const pg_study *s, const parsed *p, wsum *ws)
{
    memset(ws, 0, s->n_worlds * sizeof *ws);
    bool whole = !(s->o.kind == PG_STUDY_CONTINGENCY || (s->o.kind == PG_STUDY_PF && s->o.series));
    for (size_t k = 0; k < p->n; k++) {
        wsum *w = &ws[s->jobs[k].world];
        json_t *r = p->root[k];
        const char *e = json_string_value(json_object_get(r, "error"));
        json_t *items = json_object_get(r, "items");
        if (e) {
            if (!w->error)
                w->error = e;
            w->world_failed = true;
            if (whole && json_array_size(items) == 0) {
                w->items++;
                w->failed++;
            }
        }
        json_t *base = json_object_get(r, "base");
        if (base && !w->base) {
            w->base = base;
            if (!json_is_true(json_object_get(base, "converged")))
                w->world_failed = true;
        }
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            w->items++;
            if (item_converged(it))
                w->converged++;
            else if (item_islanding(it))
                w->islanding++;
            else {
                w->failed++;
                if (s->o.kind != PG_STUDY_CONTINGENCY)
                    w->world_failed = true;
            }
            /* A power flow that did not converge has no state to check. */
            if (item_converged(it) && int_of(it, "overloads") > 0)
                w->overloads++;
            if (item_converged(it) && int_of(it, "voltage_violations") > 0)
                w->vviol++;
        }
    }
}

int
pgi_study_compute_totals(const pg_study *s, pg_study_totals *t, pg_error *err)
{
    memset(t, 0, sizeof *t);
    parsed p;
    int rc = parse_all(s, &p, err);
    if (rc != PG_OK)
        return rc;
    wsum *ws = calloc(s->n_worlds ? s->n_worlds : 1, sizeof *ws);
    if (!ws) {
        parsed_free(&p);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    world_sums(s, &p, ws);
    t->n_worlds = s->n_worlds;
    t->n_jobs = s->n_jobs;
    for (size_t i = 0; i < s->n_worlds; i++) {
        t->n_items += ws[i].items;
        t->n_converged += ws[i].converged;
        t->n_failed += ws[i].failed;
        t->n_islanding += ws[i].islanding;
        t->n_overloads += ws[i].overloads;
        t->n_voltage_violations += ws[i].vviol;
        t->n_worlds_failed += ws[i].world_failed;
    }
    free(ws);
    parsed_free(&p);
    return PG_OK;
}

/* ---------------------------------------------------------------- JSON */

static int
set_new(json_t *o, const char *key, json_t *v)
{
    return v ? json_object_set_new(o, key, v) : -1;
}

static json_t *
options_json(const pg_study *s)
{
    const pg_study_options *o = &s->o;
    json_t *j = json_object();
    int bad = !j;
    if (!bad && o->kind != PG_STUDY_RUN) {
        json_t *pf = json_object();
        bad |= !pf;
        if (pf) {
            bad |= set_new(pf, "dc", json_boolean(o->pf.dc));
            bad |= set_new(pf, "enforce_q_lims", json_boolean(o->pf.enforce_q_lims));
            bad |= set_new(pf, "tol", pgi_json_real(o->pf.tol));
            bad |= set_new(pf, "max_iter", json_integer(o->pf.max_iter));
        }
        bad |= set_new(j, "pf", pf);
        bad |= set_new(j, "rating", json_string(pgi_study_rating_name(o->rating)));
    }
    if (!bad && o->kind == PG_STUDY_PF && o->series)
        bad |= set_new(j, "steps_per_job", json_integer((json_int_t)o->steps_per_job));
    if (!bad && o->kind == PG_STUDY_RUN) {
        const pg_dispatch_options *d = &o->dispatch;
        json_t *dp = json_object();
        bad |= !dp;
        if (dp) {
            bad |= set_new(dp, "start_step", json_integer((json_int_t)d->start_step));
            bad |= set_new(dp, "horizon", json_integer((json_int_t)d->horizon));
            bad |=
                set_new(dp, "network", json_string(d->network == PG_NETWORK_DC ? "dc" : "copper"));
            bad |= set_new(dp, "commitment", json_boolean(d->commitment));
            bad |= set_new(dp, "mip_gap", pgi_json_real(d->mip_gap));
        }
        bad |= set_new(j, "dispatch", dp);
    }
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static json_t *
totals_json(const pg_study_totals *t)
{
    json_t *j = json_object();
    int bad = !j;
    if (!bad) {
        bad |= set_new(j, "worlds", json_integer((json_int_t)t->n_worlds));
        bad |= set_new(j, "worlds_failed", json_integer((json_int_t)t->n_worlds_failed));
        bad |= set_new(j, "items", json_integer((json_int_t)t->n_items));
        bad |= set_new(j, "converged", json_integer((json_int_t)t->n_converged));
        bad |= set_new(j, "failed", json_integer((json_int_t)t->n_failed));
        bad |= set_new(j, "islanding", json_integer((json_int_t)t->n_islanding));
        bad |= set_new(j, "with_overloads", json_integer((json_int_t)t->n_overloads));
        bad |= set_new(j, "with_voltage_violations",
                       json_integer((json_int_t)t->n_voltage_violations));
    }
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int
pg_study_report_json(const pg_study *s, char **text, pg_error *err)
{
    if (!s || !text)
        return pg_error_set(err, PG_EINVAL, "pg_study_report_json: NULL argument");
    parsed p;
    int rc = parse_all(s, &p, err);
    if (rc != PG_OK)
        return rc;
    wsum *ws = calloc(s->n_worlds ? s->n_worlds : 1, sizeof *ws);
    json_t *root = json_object(), *worlds = json_array(), *items = json_array();
    char *t = NULL;
    int bad = !ws || !root || !worlds || !items;
    if (!bad) {
        world_sums(s, &p, ws);
        bad |= set_new(root, "format", json_string("plurigrid-study/1"));
        bad |= set_new(root, "kind", json_string(pgi_study_kind_name(s->o.kind)));
        bad |= set_new(root, "series", json_boolean(s->o.series));
        bad |= set_new(root, "options", options_json(s));
        bad |= set_new(root, "totals", totals_json(&s->totals));
    }
    for (size_t i = 0; !bad && i < s->n_worlds; i++) {
        const pgi_study_world *w = &s->worlds[i];
        json_t *o = json_object();
        bad |= !o;
        if (!o)
            break;
        bad |= set_new(o, "id", pgi_json_str(w->id));
        bad |= set_new(o, "file", pgi_json_str(w->name));
        bad |= set_new(o, "ok", json_boolean(!ws[i].world_failed));
        bad |= set_new(o, "items", json_integer((json_int_t)ws[i].items));
        bad |= set_new(o, "converged", json_integer((json_int_t)ws[i].converged));
        bad |= set_new(o, "failed", json_integer((json_int_t)ws[i].failed));
        if (s->o.kind == PG_STUDY_CONTINGENCY)
            bad |= set_new(o, "islanding", json_integer((json_int_t)ws[i].islanding));
        bad |= set_new(o, "with_overloads", json_integer((json_int_t)ws[i].overloads));
        bad |= set_new(o, "with_voltage_violations", json_integer((json_int_t)ws[i].vviol));
        bad |= set_new(o, "error", ws[i].error ? pgi_json_str(ws[i].error) : json_null());
        if (ws[i].base)
            bad |= json_object_set(o, "base", (json_t *)ws[i].base);
        bad |= json_array_append_new(worlds, o);
    }
    for (size_t k = 0; !bad && k < p.n; k++) {
        const char *wid = s->worlds[s->jobs[k].world].id;
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(p.root[k], "items"), i, it)
        {
            json_t *o = json_object();
            bad |= !o || set_new(o, "world", pgi_json_str(wid));
            if (o)
                bad |= json_object_update(o, it);
            bad |= json_array_append_new(items, o);
            if (bad)
                break;
        }
    }
    if (!bad) {
        bad |= json_object_set(root, "worlds", worlds);
        bad |= json_object_set(root, "items", items);
    }
    if (!bad)
        t = pgi_json_dumps_lines(root);
    if (!t)
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
    else
        *text = t;
    json_decref(items);
    json_decref(worlds);
    json_decref(root);
    free(ws);
    parsed_free(&p);
    return rc;
}

/* ---------------------------------------------------------------- CSV */

/* A real at the fewest digits (15 to 17) that read back exactly; empty for no number. */
static void
put_real(pgi_buf *b, double x)
{
    if (!isfinite(x))
        return;
    char tmp[40];
    for (int d = 15; d <= 17; d++) {
        snprintf(tmp, sizeof tmp, "%.*g", d, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    pgi_buf_puts(b, tmp);
}

static void
put_field(pgi_buf *b, const char *s)
{
    if (!s)
        return;
    if (strpbrk(s, ",\"\r\n") == NULL) {
        pgi_buf_puts(b, s);
        return;
    }
    pgi_buf_puts(b, "\"");
    for (const char *c = s; *c; c++) {
        if (*c == '"')
            pgi_buf_puts(b, "\"");
        pgi_buf_append(b, c, 1);
    }
    pgi_buf_puts(b, "\"");
}

static void
put_value(pgi_buf *b, const json_t *v)
{
    if (json_is_string(v))
        put_field(b, json_string_value(v));
    else if (json_is_integer(v))
        pgi_buf_printf(b, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        put_real(b, json_real_value(v));
    else if (json_is_true(v))
        pgi_buf_puts(b, "true");
    else if (json_is_false(v))
        pgi_buf_puts(b, "false");
}

static const char *const summary_cols[] = {
    "converged",
    "iterations",
    "max_mismatch",
    "load_mw",
    "gen_mw",
    "loss_mw",
    "vm_min",
    "vm_min_bus",
    "vm_max",
    "vm_max_bus",
    "voltage_violations",
    "max_loading",
    "max_loading_branch",
    "overloads",
};

static const char *const contingency_cols[] = {"branch", "branch_name", "from_bus",
                                               "to_bus", "status",      "islanded_load_mw"};

static const char *const run_cols[] = {"scheduled",   "steps",         "total_cost", "unserved_mwh",
                                       "overgen_mwh", "curtailed_mwh", "uc_status",  "uc_gap"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

int
pg_study_report_csv(const pg_study *s, char **text, pg_error *err)
{
    if (!s || !text)
        return pg_error_set(err, PG_EINVAL, "pg_study_report_csv: NULL argument");
    parsed p;
    int rc = parse_all(s, &p, err);
    if (rc != PG_OK)
        return rc;
    const char *const *cols[2] = {NULL, NULL};
    size_t ncols[2] = {0, 0};
    const char *index_name = "index";
    if (s->o.kind == PG_STUDY_RUN) {
        cols[0] = run_cols;
        ncols[0] = N_OF(run_cols);
    } else {
        if (s->o.kind == PG_STUDY_CONTINGENCY) {
            cols[0] = contingency_cols;
            ncols[0] = N_OF(contingency_cols);
            index_name = "outage";
        } else if (s->o.series) {
            index_name = "step";
        }
        cols[1] = summary_cols;
        ncols[1] = N_OF(summary_cols);
    }
    pgi_buf b = {0};
    pgi_buf_printf(&b, "world,%s", index_name);
    for (int g = 0; g < 2; g++)
        for (size_t c = 0; c < ncols[g]; c++)
            pgi_buf_printf(&b, ",%s", cols[g][c]);
    pgi_buf_puts(&b, ",error\n");
    for (size_t k = 0; k < p.n; k++) {
        const char *wid = s->worlds[s->jobs[k].world].id;
        json_t *items = json_object_get(p.root[k], "items");
        const char *e = json_string_value(json_object_get(p.root[k], "error"));
        if (e && json_array_size(items) == 0) {
            /* A world that gave no items: one row with its error. */
            put_field(&b, wid);
            pgi_buf_puts(&b, ",");
            for (int g = 0; g < 2; g++)
                for (size_t c = 0; c < ncols[g]; c++)
                    pgi_buf_puts(&b, ",");
            pgi_buf_puts(&b, ",");
            put_field(&b, e);
            pgi_buf_puts(&b, "\n");
            continue;
        }
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            put_field(&b, wid);
            pgi_buf_puts(&b, ",");
            put_value(&b, json_object_get(it, "index"));
            for (int g = 0; g < 2; g++)
                for (size_t c = 0; c < ncols[g]; c++) {
                    pgi_buf_puts(&b, ",");
                    put_value(&b, json_object_get(it, cols[g][c]));
                }
            pgi_buf_puts(&b, ",");
            json_t *reason = json_object_get(it, "reason");
            put_field(&b, e ? e : json_string_value(reason));
            pgi_buf_puts(&b, "\n");
        }
    }
    parsed_free(&p);
    if (b.failed) {
        pgi_buf_free(&b);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    *text = b.data;
    return PG_OK;
}

/* ---------------------------------------------------------------- worst items */

typedef struct ref {
    const char *world;
    const json_t *it;
    double key;
    size_t pos; /* place in the study: ties keep study order */
} ref;

static int
by_key_desc(const void *a, const void *b)
{
    const ref *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Every item with a finite sign * item[key], largest first (ties in study order). Items whose
 * power flow did not converge are left out: their last iterate's voltages, losses and loadings
 * are not a state of the network. */
static ref *
collect(const pg_study *s, const parsed *p, const char *key, double sign, size_t *n)
{
    size_t cap = 0, m = 0;
    for (size_t k = 0; k < p->n; k++)
        cap += json_array_size(json_object_get(p->root[k], "items"));
    ref *r = malloc((cap ? cap : 1) * sizeof *r);
    if (!r)
        return NULL;
    for (size_t k = 0; k < p->n; k++) {
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(p->root[k], "items"), i, it)
        {
            double v = num_of(it, key);
            if (!isfinite(v) || json_is_false(json_object_get(it, "converged")))
                continue;
            r[m] = (ref){s->worlds[s->jobs[k].world].id, it, sign * v, m};
            m++;
        }
    }
    if (m > 1)
        qsort(r, m, sizeof *r, by_key_desc);
    *n = m;
    return r;
}

static void
item_label(pgi_buf *b, const pg_study *s, const ref *r)
{
    pgi_buf_printf(b, "%s", r->world);
    if (s->o.kind == PG_STUDY_CONTINGENCY) {
        const char *bn = json_string_value(json_object_get(r->it, "branch_name"));
        const char *fb = json_string_value(json_object_get(r->it, "from_bus"));
        const char *tb = json_string_value(json_object_get(r->it, "to_bus"));
        pgi_buf_printf(b, " without %s (%s - %s)", bn ? bn : "?", fb ? fb : "?", tb ? tb : "?");
    } else if (s->o.series) {
        pgi_buf_printf(b, " step %lld (counted from 0)", int_of(r->it, "index"));
    }
}

int
pg_study_report_text(const pg_study *s, char **text, pg_error *err)
{
    if (!s || !text)
        return pg_error_set(err, PG_EINVAL, "pg_study_report_text: NULL argument");
    parsed p;
    int rc = parse_all(s, &p, err);
    if (rc != PG_OK)
        return rc;
    const pg_study_totals *t = &s->totals;
    pgi_buf b = {0};
    const char *what = s->o.kind == PG_STUDY_RUN           ? "day-ahead schedules"
                       : s->o.kind == PG_STUDY_CONTINGENCY ? "N-1 contingency analysis"
                       : s->o.series                       ? "power flow of every step"
                                                           : "power flow";
    pgi_buf_printf(&b, "Study: %s of %zu world%s (%zu job%s on %s)\n", what, t->n_worlds,
                   t->n_worlds == 1 ? "" : "s", t->n_jobs, t->n_jobs == 1 ? "" : "s",
                   s->o.executor);
    pgi_buf_printf(&b, "  %-24s %zu\n", "items", t->n_items);
    pgi_buf_printf(&b, "  %-24s %zu\n", s->o.kind == PG_STUDY_RUN ? "scheduled" : "converged",
                   t->n_converged);
    pgi_buf_printf(&b, "  %-24s %zu\n", "failed", t->n_failed);
    if (s->o.kind == PG_STUDY_CONTINGENCY)
        pgi_buf_printf(&b, "  %-24s %zu\n", "islanding", t->n_islanding);
    if (s->o.kind != PG_STUDY_RUN) {
        pgi_buf_printf(&b, "  %-24s %zu (rating %s)\n", "with overloads", t->n_overloads,
                       pgi_study_rating_name(s->o.rating));
        pgi_buf_printf(&b, "  %-24s %zu\n", "with voltage violations", t->n_voltage_violations);
    }
    pgi_buf_printf(&b, "  %-24s %zu\n", "worlds failed", t->n_worlds_failed);
    pgi_buf_printf(&b, "  %-24s %.3f s", "wall time", t->wall_s);
    if (t->jobs_resent)
        pgi_buf_printf(&b, ", %zu job%s sent again", t->jobs_resent,
                       t->jobs_resent == 1 ? "" : "s");
    pgi_buf_puts(&b, "\n");

    /* Worlds that failed, with why. */
    size_t shown = 0;
    for (size_t k = 0; k < p.n && shown < 10; k++) {
        const char *e = json_string_value(json_object_get(p.root[k], "error"));
        if (!e)
            continue;
        if (shown++ == 0)
            pgi_buf_puts(&b, "\nWorlds with errors:\n");
        pgi_buf_printf(&b, "  %s: %s\n", s->worlds[s->jobs[k].world].id, e);
    }

    /* Items that failed (did not converge or schedule), with why: the first ten. */
    shown = 0;
    for (size_t k = 0; k < p.n && shown < 10; k++) {
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(p.root[k], "items"), i, it)
        {
            if (shown >= 10 || item_converged(it) || item_islanding(it))
                continue;
            const char *why = json_string_value(json_object_get(it, "reason"));
            if (!why)
                why = json_string_value(json_object_get(it, "error"));
            if (!why && json_object_get(it, "converged"))
                why = "did not converge";
            if (!why)
                continue;
            if (shown++ == 0)
                pgi_buf_puts(&b, "\nItems that failed:\n");
            ref r1 = {s->worlds[s->jobs[k].world].id, it, 0, 0};
            pgi_buf t2 = {0};
            item_label(&t2, s, &r1);
            pgi_buf_printf(&b, "  %s: %s\n", t2.data ? t2.data : "", why);
            b.failed |= t2.failed;
            pgi_buf_free(&t2);
        }
    }

    const size_t top = 10;
    if (s->o.kind == PG_STUDY_RUN) {
        size_t n = 0;
        ref *r = collect(s, &p, "unserved_mwh", 1, &n);
        if (!r)
            b.failed = 1;
        size_t m = 0;
        for (size_t i = 0; r && i < n && m < top; i++) {
            if (!(r[i].key > 0))
                break;
            if (m++ == 0)
                pgi_buf_puts(&b, "\nMost unserved energy:\n");
            pgi_buf_printf(&b, "  %-40s %12.3f MWh\n", r[i].world, r[i].key);
        }
        free(r);
        r = collect(s, &p, "total_cost", 1, &n);
        if (!r)
            b.failed = 1;
        for (size_t i = 0; r && i < n && i < top; i++) {
            if (i == 0)
                pgi_buf_puts(&b, "\nHighest cost:\n");
            pgi_buf_printf(&b, "  %-40s %14.2f $\n", r[i].world, r[i].key);
        }
        free(r);
    } else {
        size_t n = 0;
        ref *r = collect(s, &p, "max_loading", 1, &n);
        if (!r)
            b.failed = 1;
        for (size_t i = 0; r && i < n && i < top; i++) {
            if (!(r[i].key > 0))
                break;
            if (i == 0)
                pgi_buf_puts(&b, "\nHighest branch loading:\n");
            pgi_buf_puts(&b, "  ");
            pgi_buf t2 = {0};
            item_label(&t2, s, &r[i]);
            const char *mb = json_string_value(json_object_get(r[i].it, "max_loading_branch"));
            pgi_buf_printf(&b, "%-56s %8.1f %%  on %s\n", t2.data ? t2.data : "", 100 * r[i].key,
                           mb ? mb : "?");
            b.failed |= t2.failed;
            pgi_buf_free(&t2);
        }
        free(r);
        r = collect(s, &p, "vm_min", -1, &n);
        if (!r)
            b.failed = 1;
        for (size_t i = 0; r && i < n && i < top; i++) {
            if (i == 0)
                pgi_buf_puts(&b, "\nLowest voltage:\n");
            pgi_buf_puts(&b, "  ");
            pgi_buf t2 = {0};
            item_label(&t2, s, &r[i]);
            const char *vb = json_string_value(json_object_get(r[i].it, "vm_min_bus"));
            pgi_buf_printf(&b, "%-56s %8.4f p.u. at %s\n", t2.data ? t2.data : "", -r[i].key,
                           vb ? vb : "?");
            b.failed |= t2.failed;
            pgi_buf_free(&t2);
        }
        free(r);
    }
    parsed_free(&p);
    if (b.failed) {
        pgi_buf_free(&b);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    *text = b.data;
    return PG_OK;
}

/* ---------------------------------------------------------------- SVG */

/* The charts as one SVG: each chart rendered by src/report and placed below the previous one. */
#define NOTE_HEIGHT 80

static int
stack_svgs(char **parts, const int *heights, size_t n, int width, char **svg, pg_error *err)
{
    pgi_buf b = {0};
    size_t total = 0, at = 0;
    for (size_t i = 0; i < n; i++)
        total += (size_t)heights[i];
    pgi_buf_printf(&b,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" "
                   "viewBox=\"0 0 %d %zu\">\n<title>Study summary</title>\n",
                   width, total, width, total);
    for (size_t i = 0; i < n; i++) {
        const char *body = strstr(parts[i], "<svg");
        if (!body)
            continue;
        pgi_buf_printf(&b, "<g transform=\"translate(0,%zu)\">\n", at);
        pgi_buf_puts(&b, body);
        pgi_buf_puts(&b, "</g>\n");
        at += (size_t)heights[i];
    }
    pgi_buf_puts(&b, "</svg>\n");
    if (b.failed) {
        pgi_buf_free(&b);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    *svg = b.data;
    return PG_OK;
}

int
pg_study_report_svg(const pg_study *s, char **svg, pg_error *err)
{
    if (!s || !svg)
        return pg_error_set(err, PG_EINVAL, "pg_study_report_svg: NULL argument");
    parsed p;
    int rc = parse_all(s, &p, err);
    if (rc != PG_OK)
        return rc;
    pg_plot *pl[3] = {NULL, NULL, NULL};
    char *parts[3] = {NULL, NULL, NULL}, *note = NULL;
    int heights[3] = {0, 0, 0};
    size_t n_parts = 0;
    double *x = NULL, *y = NULL, *y2 = NULL;
    ref *r = NULL;
    size_t n = 0;
    pg_plot_options po;
    pg_plot_options_init(&po);
    const bool run = s->o.kind == PG_STUDY_RUN;

    /* 1. Histogram of losses (pf, contingency) or of costs (run). */
    r = collect(s, &p, run ? "total_cost" : "loss_mw", 1, &n);
    if (!r) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    {
        const size_t bins = 20;
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            lo = fmin(lo, r[i].key);
            hi = fmax(hi, r[i].key);
        }
        if (n == 0)
            lo = 0, hi = 1;
        if (!(hi > lo))
            hi = lo + (lo != 0 ? fabs(lo) * 1e-3 : 1.0);
        x = calloc(bins, sizeof *x);
        y = calloc(bins, sizeof *y);
        if (!x || !y) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        double w = (hi - lo) / (double)bins;
        for (size_t i = 0; i < bins; i++)
            x[i] = lo + w * ((double)i + 0.5);
        for (size_t i = 0; i < n; i++) {
            size_t k = (size_t)((r[i].key - lo) / w);
            y[k < bins ? k : bins - 1] += 1;
        }
        rc = pg_plot_new(&pl[0], run ? "Cost of the schedules" : "Losses of every converged item",
                         run ? "total cost, $" : "losses, MW", "items", &po, err);
        if (rc == PG_OK)
            rc = pg_plot_add_bars(pl[0], run ? "schedules" : "items", x, y, bins, NULL, err);
        if (rc != PG_OK)
            goto out;
        free(x);
        free(y);
        x = y = NULL;
    }
    free(r);
    r = NULL;

    if (!run) {
        /* 2. Voltage range of every item, in study order. */
        size_t m = 0;
        for (size_t k = 0; k < p.n; k++)
            m += json_array_size(json_object_get(p.root[k], "items"));
        x = calloc(m ? m : 1, sizeof *x);
        y = calloc(m ? m : 1, sizeof *y);
        y2 = calloc(m ? m : 1, sizeof *y2);
        if (!x || !y || !y2) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        size_t q = 0;
        for (size_t k = 0; k < p.n; k++) {
            size_t i;
            json_t *it;
            json_array_foreach(json_object_get(p.root[k], "items"), i, it)
            {
                bool conv = !json_is_false(json_object_get(it, "converged"));
                x[q] = (double)q;
                y[q] = conv ? num_of(it, "vm_min") : NAN;
                y2[q] = conv ? num_of(it, "vm_max") : NAN;
                q++;
            }
        }
        pg_plot_options vo = po;
        vo.y_from_zero = 0;
        rc = pg_plot_new(&pl[1], "Voltage range of every converged item",
                         s->o.kind == PG_STUDY_CONTINGENCY ? "outage (in study order)"
                         : s->o.series                     ? "step (in study order)"
                                                           : "world (in study order)",
                         "voltage, p.u.", &vo, err);
        if (rc == PG_OK)
            rc = pg_plot_add_band(pl[1], "min to max", x, y, y2, q, NULL, err);
        if (rc == PG_OK)
            rc = pg_plot_add_line(pl[1], "lowest", x, y, q, NULL, err);
        if (rc == PG_OK)
            rc = pg_plot_add_line(pl[1], "highest", x, y2, q, NULL, err);
        if (rc != PG_OK)
            goto out;
        free(x);
        free(y);
        free(y2);
        x = y = y2 = NULL;

        /* 3. The worst items by branch loading. */
        r = collect(s, &p, "max_loading", 1, &n);
        if (!r) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        size_t top = 0;
        while (top < n && top < 20 && r[top].key > 0)
            top++;
        if (top == 0) {
            /* No item has a loading: no branch is rated (or nothing converged). A note, not an
             * empty chart. */
            char rated_note[128];
            snprintf(rated_note, sizeof rated_note,
                     "No branch is rated (rate_%s is 0 on every branch): no loading to show.",
                     pgi_study_rating_name(s->o.rating));
            pgi_buf nb = {0};
            pgi_buf_printf(&nb,
                           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">"
                           "<text x=\"70\" y=\"30\" font-family=\"sans-serif\" font-size=\"16\" "
                           "font-weight=\"bold\">Branch loading</text><text x=\"70\" y=\"60\" "
                           "font-family=\"sans-serif\" font-size=\"14\">%s</text></svg>\n",
                           po.width, NOTE_HEIGHT,
                           n == 0 ? "No converged item to show." : rated_note);
            if (nb.failed) {
                pgi_buf_free(&nb);
                rc = pg_error_set(err, PG_ENOMEM, "out of memory");
                goto out;
            }
            note = nb.data;
            goto render;
        }
        x = calloc(top ? top : 1, sizeof *x);
        y = calloc(top ? top : 1, sizeof *y);
        if (!x || !y) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < top; i++) {
            x[i] = (double)(i + 1);
            y[i] = 100 * r[i].key;
        }
        rc = pg_plot_new(&pl[2],
                         s->o.kind == PG_STUDY_CONTINGENCY ? "Worst contingencies by loading"
                                                           : "Highest branch loading",
                         "rank (the text report names them)", "largest loading, % of rating", &po,
                         err);
        if (rc == PG_OK)
            rc = pg_plot_add_bars(pl[2], "loading", x, y, top, "#e15759", err);
        if (rc != PG_OK)
            goto out;
    }
render:
    for (size_t i = 0; i < 3; i++) {
        if (!pl[i])
            continue;
        rc = pg_plot_render(pl[i], &parts[n_parts], NULL, err);
        if (rc != PG_OK)
            goto out;
        heights[n_parts] = po.height;
        n_parts++;
    }
    if (note) {
        parts[n_parts] = note;
        heights[n_parts] = NOTE_HEIGHT;
        note = NULL;
        n_parts++;
    }
    rc = stack_svgs(parts, heights, n_parts, po.width, svg, err);
out:
    for (size_t i = 0; i < 3; i++) {
        pg_plot_free(pl[i]);
        free(parts[i]);
    }
    free(x);
    free(y);
    free(y2);
    free(r);
    free(note);
    parsed_free(&p);
    return rc;
}
