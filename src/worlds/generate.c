/* The generation driver: world number i of a recipe from (seed, i), the checks that keep or
 * drop it (validation, base-case AC power flow, day-ahead schedule without unserved energy), the
 * threads that generate many, the manifest (plurigrid-worlds/1), and reproducing a world from its
 * id.
 *
 * Threads take world numbers in increasing order from one counter; each world is a function of
 * its number alone, so the kept worlds and their files are the same whatever the number of
 * threads. Generation stops handing out numbers once the worlds finished in order hold `count`
 * kept ones; a kept world past that point (made by a thread that was ahead) has its file removed
 * again. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json_read.h"
#include "core/json_write.h"
#include "core/util.h"
#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"
#include "plurigrid/pf.h"
#include "worlds/internal.h"

#define MANIFEST_FORMAT "plurigrid-worlds/1"
#define MANIFEST_NAME "manifest.json"
#define MAX_THREADS 64
/* Energy below this is rounding, not a shortfall, MWh. */
#define ENERGY_TOL 1e-6

void
pg_worlds_options_init(pg_worlds_options *o)
{
    if (!o)
        return;
    o->seed = 1;
    o->count = 10;
    o->data_dir = NULL;
    o->check = true;
    o->threads = 0;
    o->progress = NULL;
    o->progress_user = NULL;
    o->stop = NULL;
}

void
pg_worlds_manifest_free(pg_worlds_manifest *m)
{
    if (!m)
        return;
    free(m->recipe_json);
    free(m->entries);
    free(m);
}

/* ---------------------------------------------------------------- one world */

static void
world_id(char *id, size_t size, const pg_recipe *r, uint64_t seed, size_t index)
{
    snprintf(id, size, "%s-%" PRIu64 "-%zu", r->name, seed, index);
}

/* Builds world index of r (validated) and its facts. */
static int
make_world(pg_world **out, const pg_recipe *r, const pgi_profiles *prof, uint64_t seed,
           size_t index, pgi_world_facts *facts, pg_error *err)
{
    char id[96];
    world_id(id, sizeof id, r, seed, index);
    pg_world *w = NULL;
    pg_rng rng;
    pg_rng_seed(&rng, seed, index);
    pgi_world_facts f = {0};
    int rc = pg_world_new(&w, id, 1.0, err);
    if (rc)
        return rc;
    char desc[200];
    snprintf(desc, sizeof desc, "%s world %zu of the recipe '%s' (seed %" PRIu64 ")",
             r->k->pub.name, index, r->name, seed);
    if (!(w->description = pgi_strdup(desc)))
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
    if (!rc)
        rc = r->k->build(w, r, &rng, prof, &f, err);
    if (!rc)
        rc = pg_world_validate(w, err);
    if (rc) {
        pg_world_free(w);
        return rc;
    }
    if (facts)
        *facts = f;
    *out = w;
    return PG_OK;
}

int
pg_worlds_make(pg_world **out, const pg_recipe *r, uint64_t seed, size_t index,
               const char *data_dir, pg_error *err)
{
    if (!out || !r)
        return pg_error_set(err, PG_EINVAL, "pg_worlds_make needs an output and a recipe");
    pgi_profiles *prof = NULL;
    int rc = pgi_profiles_open(&prof, data_dir, err);
    if (!rc)
        rc = make_world(out, r, prof, seed, index, NULL, err);
    pgi_profiles_free(prof);
    return rc;
}

/* Peak load, PV share and sizes of w into e. */
static void
world_figures(const pg_world *w, const pgi_world_facts *f, pg_worlds_entry *e)
{
    size_t n = 0;
    double step_h = 1;
    pg_error ignore;
    if (pg_world_horizon(w, &n, &step_h, &ignore) || n == 0)
        n = 1;
    double peak = 0, load_e = 0, ren_e = 0;
    for (size_t k = 0; k < n; k++) {
        double l = pg_world_load_mw(w, n > 1 || w->n_series ? k : PG_NONE);
        if (!isfinite(l))
            l = pg_world_load_mw(w, PG_NONE);
        peak = fmax(peak, l);
        load_e += l;
        for (size_t i = 0; i < w->n_renewables; i++) {
            const pg_renewable *rw = &w->renewables[i];
            if (!rw->in_service)
                continue;
            double a = 1.0;
            if (rw->availability != PG_NONE && rw->availability < w->n_series &&
                k < w->series[rw->availability].n)
                a = w->series[rw->availability].values[k];
            ren_e += rw->rating * a;
        }
    }
    e->n_buses = w->n_buses;
    e->n_branches = w->n_branches;
    e->load_mw = peak;
    e->pv_share = load_e > 0 ? ren_e / load_e : 0;
    e->feeder_km = f->feeder_km;
}

/* The checks: a converging base-case AC power flow and a day-ahead schedule that serves every
 * load and spills nothing. PG_OK with *reason "" when it passes, PG_OK with a reason when it is
 * dropped, an error when something else failed (memory). */
static int
check_world(const pg_world *w, char *reason, size_t size, pg_error *err)
{
    reason[0] = '\0';
    pg_pf_result *pf = NULL;
    pg_dispatch_result *d = NULL;
    pg_error e2;
    pg_error_clear(&e2);
    int rc = pg_pf_solve(w, NULL, &pf, &e2);
    if (rc == PG_ENOMEM) {
        *err = e2;
        goto out;
    }
    if (rc) {
        snprintf(reason, size, "the base-case power flow failed: %.200s", e2.msg);
        rc = PG_OK;
        goto out;
    }
    if (!pf->all_solved) {
        snprintf(reason, size, "the base-case power flow did not converge: %.180s", pf->reason);
        goto out;
    }
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    o.time_limit_s = 60;
    /* A world whose only thermal unit is its grid connection (always committed) has no
     * commitment to decide: the dispatch LP alone is its schedule. */
    size_t n_on = 0;
    bool fixed = true;
    for (size_t i = 0; i < w->n_thermals; i++) {
        const pg_thermal *t = &w->thermals[i];
        n_on += t->in_service;
        fixed = fixed && (!t->in_service ||
                          (t->initial_on && t->pmin <= 0 && t->min_up_h <= 0 &&
                           t->fixed_cost == 0 && t->startup_cost == 0 && t->shutdown_cost == 0));
    }
    o.commitment = !(fixed && n_on <= 1);
    rc = pg_dispatch_run(w, &o, &d, &e2);
    if (rc == PG_ENOMEM || rc == PG_EINVAL) {
        *err = e2;
        goto out;
    }
    if (rc) {
        snprintf(reason, size, "no day-ahead schedule: %.200s", e2.msg);
        rc = PG_OK;
        goto out;
    }
    if (d->total_unserved_mwh > ENERGY_TOL)
        snprintf(reason, size,
                 "the day-ahead schedule leaves %.6g MWh of demand unserved (the network cannot "
                 "carry it)",
                 d->total_unserved_mwh);
    else if (d->total_overgen_mwh > ENERGY_TOL)
        snprintf(reason, size,
                 "the day-ahead schedule spills %.6g MWh of generation that cannot be used",
                 d->total_overgen_mwh);
out:
    pg_pf_result_free(pf);
    pg_dispatch_result_free(d);
    return rc;
}

/* ---------------------------------------------------------------- many worlds */

typedef struct gen {
    const pg_recipe *r;
    const pgi_profiles *prof;
    const pg_worlds_options *o;
    const char *dir;
    size_t count, max_tries;
    pg_worlds_entry *entries;
    unsigned char *done;
    pthread_mutex_t mu;
    size_t next;
    size_t prefix, prefix_kept; /* worlds 0..prefix-1 are done, prefix_kept of them kept */
    int rc;                     /* the first failure */
    pg_error err;
} gen;

static bool
enough(const gen *g)
{
    return g->prefix_kept >= g->count || g->rc != PG_OK || (g->o->stop && *g->o->stop);
}

/* World i: made, checked, written; its entry filled. */
static int
one(gen *g, size_t i, pg_worlds_entry *e, pg_error *err)
{
    memset(e, 0, sizeof *e);
    e->index = i;
    world_id(e->id, sizeof e->id, g->r, g->o->seed, i);
    pg_world *w = NULL;
    pgi_world_facts f = {0};
    char *text = NULL, *path = NULL;
    size_t len = 0;
    pg_error e2;
    pg_error_clear(&e2);
    int rc = make_world(&w, g->r, g->prof, g->o->seed, i, &f, &e2);
    if (rc == PG_EMODEL || rc == PG_ESOLVER) {
        e->dropped = true;
        snprintf(e->reason, sizeof e->reason, "not a valid world: %.200s", e2.msg);
        return PG_OK;
    }
    if (rc) {
        *err = e2;
        return rc;
    }
    world_figures(w, &f, e);
    if (g->o->check && (rc = check_world(w, e->reason, sizeof e->reason, err)))
        goto out;
    if (e->reason[0]) {
        e->dropped = true;
        goto out;
    }
    snprintf(e->file, sizeof e->file, "%s.json", e->id);
    if ((rc = pg_world_json_write_buffer(w, &text, &len, err)))
        goto out;
    if (!(path = pgi_path_join(g->dir, e->file))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    rc = pg_output_write(path, text, len, err);
out:
    free(path);
    free(text);
    pg_world_free(w);
    return rc;
}

static void *
worker(void *arg)
{
    gen *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!enough(g) && g->next < g->max_tries) {
        size_t i = g->next++;
        pthread_mutex_unlock(&g->mu);
        pg_worlds_entry e;
        pg_error err;
        pg_error_clear(&err);
        int rc = one(g, i, &e, &err);
        pthread_mutex_lock(&g->mu);
        if (rc) {
            if (!g->rc) {
                g->rc = rc;
                g->err = err;
            }
            break;
        }
        g->entries[i] = e;
        g->done[i] = 1;
        size_t before = g->prefix_kept < g->count ? g->prefix_kept : g->count;
        while (g->prefix < g->max_tries && g->done[g->prefix]) {
            if (!g->entries[g->prefix].dropped)
                g->prefix_kept++;
            g->prefix++;
        }
        size_t now = g->prefix_kept < g->count ? g->prefix_kept : g->count;
        if (g->o->progress && now != before)
            g->o->progress(g->o->progress_user, now, g->count);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* mkdir -p dir. */
static int
make_dirs(const char *dir, pg_error *err)
{
    char *p = pgi_strdup(dir);
    if (!p)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    int rc = PG_OK;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            struct stat st;
            if (stat(p, &st) != 0) {
                if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                    rc = pg_error_set(err, PG_EIO, "cannot create the folder '%s': %s", p,
                                      strerror(errno));
                    break;
                }
            } else if (!S_ISDIR(st.st_mode)) {
                rc = pg_error_set(err, PG_EIO, "'%s' is not a folder", p);
                break;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    free(p);
    return rc;
}

static json_t *
manifest_tree(const pg_worlds_manifest *m, const pg_recipe *r)
{
    json_t *o = json_object(), *ws = json_array();
    if (!o || !ws) {
        json_decref(o);
        json_decref(ws);
        return NULL;
    }
    json_object_set_new(o, "format", json_string(MANIFEST_FORMAT));
    json_object_set_new(o, "recipe", pgi_recipe_tree(r));
    json_object_set_new(o, "seed", json_integer((json_int_t)m->seed));
    json_object_set_new(o, "data", json_boolean(m->data));
    json_object_set_new(o, "kept", json_integer((json_int_t)m->n_kept));
    json_object_set_new(o, "dropped", json_integer((json_int_t)m->n_dropped));
    for (size_t i = 0; i < m->n_entries; i++) {
        const pg_worlds_entry *e = &m->entries[i];
        json_t *x = json_object();
        if (!x)
            break;
        json_object_set_new(x, "id", pgi_json_str(e->id));
        json_object_set_new(x, "index", json_integer((json_int_t)e->index));
        if (e->dropped) {
            json_object_set_new(x, "dropped", json_true());
            json_object_set_new(x, "reason", pgi_json_str(e->reason));
        } else {
            json_object_set_new(x, "file", pgi_json_str(e->file));
        }
        json_object_set_new(x, "buses", json_integer((json_int_t)e->n_buses));
        json_object_set_new(x, "branches", json_integer((json_int_t)e->n_branches));
        json_object_set_new(x, "load_mw", pgi_json_num(e->load_mw));
        json_object_set_new(x, "pv_share", pgi_json_num(e->pv_share));
        json_object_set_new(x, "feeder_km", pgi_json_num(e->feeder_km));
        json_array_append_new(ws, x);
    }
    json_object_set_new(o, "worlds", ws);
    return o;
}

int
pg_worlds_generate(const pg_recipe *r, const char *out_dir, const pg_worlds_options *opts,
                   pg_worlds_manifest **manifest, pg_error *err)
{
    if (!r || !out_dir || !*out_dir)
        return pg_error_set(err, PG_EINVAL, "pg_worlds_generate needs a recipe and a folder");
    pg_worlds_options defaults;
    pg_worlds_options_init(&defaults);
    const pg_worlds_options *o = opts ? opts : &defaults;
    if (o->count < 1 || o->count > PG_WORLDS_MAX)
        return pg_error_set(err, PG_EINVAL, "the number of worlds must be 1 to %d, not %zu",
                            PG_WORLDS_MAX, o->count);
    if (o->seed > (uint64_t)INT64_MAX)
        return pg_error_set(err, PG_EINVAL, "the seed must be 0 to %" PRId64 ", not %" PRIu64,
                            INT64_MAX, o->seed);
    if (o->threads < 0 || o->threads > MAX_THREADS)
        return pg_error_set(err, PG_EINVAL, "threads must be 0 (one per core) to %d, not %d",
                            MAX_THREADS, o->threads);
    gen g;
    memset(&g, 0, sizeof g);
    g.r = r;
    g.o = o;
    g.dir = out_dir;
    g.count = o->count;
    g.max_tries = 2 * o->count + 100;
    pgi_profiles *prof = NULL;
    pg_worlds_manifest *m = NULL;
    pthread_t th[MAX_THREADS];
    size_t n_started = 0;
    bool mu_ok = false;
    char *text = NULL, *path = NULL;
    json_t *tree = NULL;
    int rc = make_dirs(out_dir, err);
    if (rc)
        goto out;
    if ((rc = pgi_profiles_open(&prof, o->data_dir, err)))
        goto out;
    g.prof = prof;
    g.entries = calloc(g.max_tries, sizeof *g.entries);
    g.done = calloc(g.max_tries, 1);
    if (!g.entries || !g.done) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if (pthread_mutex_init(&g.mu, NULL) != 0) {
        rc = pg_error_set(err, PG_ENOMEM, "cannot create a mutex");
        goto out;
    }
    mu_ok = true;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n_threads = o->threads > 0 ? (size_t)o->threads : (cores > 0 ? (size_t)cores : 1);
    if (n_threads > MAX_THREADS)
        n_threads = MAX_THREADS;
    if (n_threads > g.count)
        n_threads = g.count;
    for (size_t t = 1; t < n_threads; t++) {
        if (pthread_create(&th[t], NULL, worker, &g) != 0)
            break;
        n_started++;
    }
    worker(&g);
    for (size_t t = 0; t < n_started; t++)
        pthread_join(th[t + 1], NULL);
    if (g.rc) {
        rc = g.rc;
        if (err)
            *err = g.err;
        goto out;
    }
    if (o->stop && *o->stop && g.prefix_kept < g.count) {
        rc = pg_error_set(err, PG_ECANCELED, "stopped after %zu of %zu worlds", g.prefix_kept,
                          g.count);
        goto out;
    }
    /* The manifest: worlds in order up to the count-th kept one. */
    if (!(m = calloc(1, sizeof *m))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    size_t n = 0, kept = 0;
    while (n < g.prefix && kept < g.count) {
        if (!g.entries[n].dropped)
            kept++;
        n++;
    }
    /* Files of kept worlds made past the end (a thread was ahead) go again. */
    for (size_t i = n; i < g.max_tries; i++) {
        if (g.done[i] && !g.entries[i].dropped && g.entries[i].file[0]) {
            char *p = pgi_path_join(out_dir, g.entries[i].file);
            if (p)
                remove(p);
            free(p);
        }
    }
    m->entries = n ? malloc(n * sizeof *m->entries) : NULL;
    m->recipe_json = NULL;
    if ((n && !m->entries) || (rc = pg_recipe_json(r, &m->recipe_json, err))) {
        rc = rc ? rc : pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if (n)
        memcpy(m->entries, g.entries, n * sizeof *m->entries);
    m->n_entries = n;
    m->n_kept = kept;
    m->n_dropped = n - kept;
    m->seed = o->seed;
    m->data = o->data_dir != NULL;
    snprintf(m->recipe_name, sizeof m->recipe_name, "%s", r->name);
    snprintf(m->kind, sizeof m->kind, "%s", r->kind);
    if (!(tree = manifest_tree(m, r)) ||
        !(text = pgi_json_dumps(tree, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) ||
        !(path = pgi_path_join(out_dir, MANIFEST_NAME))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pg_output_write(path, text, strlen(text), err)))
        goto out;
    if (manifest) {
        *manifest = m;
        m = NULL;
    }
out:
    json_decref(tree);
    free(text);
    free(path);
    pg_worlds_manifest_free(m);
    if (mu_ok)
        pthread_mutex_destroy(&g.mu);
    free(g.entries);
    free(g.done);
    pgi_profiles_free(prof);
    return rc;
}

/* ---------------------------------------------------------------- reading a manifest */

static int
read_entry(pgi_jr *jr, const json_t *x, const pg_worlds_manifest *m, size_t i, pg_worlds_entry *e)
{
    static const char *const keys[] = {"id",       "index",     "file",     "dropped",
                                       "reason",   "buses",     "branches", "load_mw",
                                       "pv_share", "feeder_km", NULL};
    const char *id = NULL, *file = NULL, *reason = NULL;
    size_t index = 0;
    memset(e, 0, sizeof *e);
    int rc = pgi_jr_want(jr, x, JSON_OBJECT, "an object (a world)");
    if (!rc)
        rc = pgi_jr_check_keys(jr, x, "a world of the manifest", keys);
    if (!rc)
        rc = pgi_jr_get_string(jr, x, "id", true, &id);
    if (!rc)
        rc = pgi_jr_get_size(jr, x, "index", true, 0, SIZE_MAX, &index);
    if (!rc)
        rc = pgi_jr_get_bool(jr, x, "dropped", false, &e->dropped);
    if (!rc)
        rc = pgi_jr_get_string(jr, x, e->dropped ? "reason" : "file", true,
                               e->dropped ? &reason : &file);
    if (!rc)
        rc = pgi_jr_get_size(jr, x, "buses", false, 0, SIZE_MAX, &e->n_buses);
    if (!rc)
        rc = pgi_jr_get_size(jr, x, "branches", false, 0, SIZE_MAX, &e->n_branches);
    if (!rc)
        rc = pgi_jr_get_number(jr, x, "load_mw", false, -INFINITY, INFINITY, &e->load_mw);
    if (!rc)
        rc = pgi_jr_get_number(jr, x, "pv_share", false, -INFINITY, INFINITY, &e->pv_share);
    if (!rc)
        rc = pgi_jr_get_number(jr, x, "feeder_km", false, 0, INFINITY, &e->feeder_km);
    if (rc)
        return rc;
    char want[96];
    snprintf(want, sizeof want, "%s-%" PRIu64 "-%zu", m->recipe_name, m->seed, index);
    if (strcmp(id, want) != 0)
        return pgi_jr_fail_key(jr, PG_EPARSE, "id",
                               "is '%s', but world %zu of the recipe '%s' with seed %" PRIu64
                               " is '%s'",
                               id, index, m->recipe_name, m->seed, want);
    if (i > 0 && index <= m->entries[i - 1].index)
        return pgi_jr_fail_key(jr, PG_EPARSE, "index", "the worlds must be in increasing order");
    if (file && (strchr(file, '/') || strlen(file) >= sizeof e->file || file[0] == '.'))
        return pgi_jr_fail_key(jr, PG_EPARSE, "file",
                               "must be a file name inside the folder (no '/', not starting "
                               "with '.')");
    snprintf(e->id, sizeof e->id, "%s", id);
    e->index = index;
    if (file)
        snprintf(e->file, sizeof e->file, "%s", file);
    if (reason)
        snprintf(e->reason, sizeof e->reason, "%s", reason);
    return PG_OK;
}

static int
read_manifest(pgi_jr *jr, pg_worlds_manifest *m)
{
    static const char *const keys[] = {"format", "recipe",  "seed",   "data",
                                       "kept",   "dropped", "worlds", NULL};
    json_t *root = jr->root, *rec = NULL, *ws = NULL;
    const char *format = NULL;
    double seed = 0;
    int rc = pgi_jr_want(jr, root, JSON_OBJECT, "an object (a plurigrid-worlds/1 manifest)");
    if (!rc)
        rc = pgi_jr_check_keys(jr, root, "a manifest", keys);
    if (!rc)
        rc = pgi_jr_get_string(jr, root, "format", true, &format);
    if (!rc && strcmp(format, MANIFEST_FORMAT) != 0)
        rc = pgi_jr_fail_key(jr, PG_EPARSE, "format", "must be \"%s\", not \"%s\"", MANIFEST_FORMAT,
                             format);
    if (!rc)
        rc = pgi_jr_get_object(jr, root, "recipe", true, &rec);
    if (!rc) {
        json_t *s = json_object_get(root, "seed");
        size_t mark = pgi_jr_push_key(jr, "seed");
        if (!json_is_integer(s) || json_integer_value(s) < 0)
            rc = pgi_jr_fail(jr, PG_EPARSE, "must be a whole number, 0 or more");
        else
            m->seed = (uint64_t)json_integer_value(s);
        pgi_jr_pop(jr, mark);
    }
    (void)seed;
    if (!rc)
        rc = pgi_jr_get_bool(jr, root, "data", false, &m->data);
    if (!rc)
        rc = pgi_jr_get_array(jr, root, "worlds", true, 0, &ws);
    if (rc)
        return rc;
    /* The recipe must read back as a recipe: it is what reproduces the worlds. */
    if (!(m->recipe_json = pgi_json_dumps(rec, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
        return pgi_jr_nomem(jr);
    pg_recipe *r = NULL;
    size_t mark = pgi_jr_push_key(jr, "recipe");
    pg_error e2;
    pg_error_clear(&e2);
    rc = pg_recipe_parse(&r, m->recipe_json, strlen(m->recipe_json), "recipe", &e2);
    if (rc)
        rc = pgi_jr_fail(jr, rc, "is not a valid recipe: %s%s%s", e2.path, e2.path[0] ? ": " : "",
                         e2.msg);
    pgi_jr_pop(jr, mark);
    if (rc)
        return rc;
    snprintf(m->recipe_name, sizeof m->recipe_name, "%s", r->name);
    snprintf(m->kind, sizeof m->kind, "%s", r->kind);
    pg_recipe_free(r);
    size_t n = json_array_size(ws);
    if (n > 2 * (size_t)PG_WORLDS_MAX + 100)
        return pgi_jr_fail_key(jr, PG_EPARSE, "worlds",
                               "holds %zu worlds, more than a manifest "
                               "can",
                               n);
    m->entries = calloc(n ? n : 1, sizeof *m->entries);
    if (!m->entries)
        return pgi_jr_nomem(jr);
    mark = pgi_jr_push_key(jr, "worlds");
    for (size_t i = 0; i < n && !rc; i++) {
        size_t m2 = pgi_jr_push_index(jr, i);
        rc = read_entry(jr, json_array_get(ws, i), m, i, &m->entries[i]);
        pgi_jr_pop(jr, m2);
        if (!rc) {
            m->n_entries++;
            if (m->entries[i].dropped)
                m->n_dropped++;
            else
                m->n_kept++;
        }
    }
    pgi_jr_pop(jr, mark);
    return rc;
}

int
pg_worlds_manifest_read(pg_worlds_manifest **out, const char *dir, pg_error *err)
{
    if (!out || !dir)
        return pg_error_set(err, PG_EINVAL, "pg_worlds_manifest_read needs an output and a folder");
    char *path = pgi_path_join(dir, MANIFEST_NAME), *data = NULL;
    size_t len = 0;
    pg_worlds_manifest *m = NULL;
    pgi_jr jr;
    bool open = false;
    int rc = PG_OK;
    if (!path) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pg_input_read(path, PG_INPUT_MAX, &data, &len, err)))
        goto out;
    if ((rc = pgi_jr_open(&jr, path, data, len, err)))
        goto out;
    open = true;
    if (!(m = calloc(1, sizeof *m))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = read_manifest(&jr, m)))
        goto out;
    *out = m;
    m = NULL;
out:
    if (open)
        pgi_jr_close(&jr);
    pg_worlds_manifest_free(m);
    free(data);
    free(path);
    return rc;
}

int
pg_worlds_reproduce(pg_world **out, const pg_worlds_manifest *m, const char *id,
                    const char *data_dir, pg_error *err)
{
    if (!out || !m || !id || !m->recipe_json)
        return pg_error_set(err, PG_EINVAL,
                            "pg_worlds_reproduce needs an output, a manifest "
                            "and an id");
    size_t nl = strlen(m->recipe_name);
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%s-%" PRIu64 "-", m->recipe_name, m->seed);
    size_t pl = strlen(prefix);
    (void)nl;
    const char *num = id + pl;
    bool ok = strncmp(id, prefix, pl) == 0 && *num >= '0' && *num <= '9' &&
              (num[0] != '0' || num[1] == '\0') && strlen(num) <= 9;
    for (const char *c = num; ok && *c; c++)
        ok = *c >= '0' && *c <= '9';
    if (!ok)
        return pg_error_set(err, PG_ENOTFOUND,
                            "'%s' is not the id of a world of this manifest (its ids are "
                            "%sN, N a world number)",
                            id, prefix);
    size_t index = (size_t)strtoull(num, NULL, 10);
    if (m->data && !data_dir)
        return pg_error_set(err, PG_EINVAL,
                            "the worlds of this manifest were made with measured profiles: "
                            "give the data folder they came from");
    pg_recipe *r = NULL;
    int rc = pg_recipe_parse(&r, m->recipe_json, strlen(m->recipe_json), "manifest recipe", err);
    if (!rc)
        rc = pg_worlds_make(out, r, m->seed, index, m->data ? data_dir : NULL, err);
    pg_recipe_free(r);
    return rc;
}
