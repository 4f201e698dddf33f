/* The study object: its options, its worlds (files read once and kept as text, since jobs carry
 * a world as the text of its file), the cut of each world into jobs (fixed here, when the world is
 * added, so that no executor decides it), the store of results (one per job, the first kept and
 * any later one compared with it), running on an executor, and the totals. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "study/study_priv.h"

void
pg_study_options_init(pg_study_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->kind = PG_STUDY_PF;
    pg_pf_options_init(&o->pf);
    o->series = false;
    o->rating = PG_PF_RATE_A;
    pg_dispatch_options_init(&o->dispatch);
    o->outages_per_job = 256;
    o->steps_per_job = 0;
    o->executor = "local";
    o->threads = 0;
    o->url = NULL;
    o->job_timeout_s = 10;
    o->max_attempts = 5;
}

void
pg_study_worker_options_init(pg_study_worker_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->queue = "plurigrid-study";
    o->threads = 0;
    o->max_world_cache = (size_t)256 << 20;
}

static void
make_id(char out[17])
{
    uint64_t x = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(&x, sizeof x, 1, f) : 0;
    if (f)
        fclose(f);
    if (got != 1) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
        x ^= (uint64_t)(uintptr_t)out;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        x ^= x >> 31;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)x);
}

int
pg_study_new(pg_study **out, const pg_study_options *o, pg_error *err)
{
    if (!out)
        return pg_error_set(err, PG_EINVAL, "pg_study_new: out is NULL");
    pg_study_options d;
    if (!o) {
        pg_study_options_init(&d);
        o = &d;
    }
    if (o->kind != PG_STUDY_PF && o->kind != PG_STUDY_RUN && o->kind != PG_STUDY_CONTINGENCY)
        return pg_error_set(err, PG_EINVAL, "unknown study kind %d", (int)o->kind);
    if (o->rating != PG_PF_RATE_A && o->rating != PG_PF_RATE_B && o->rating != PG_PF_RATE_C)
        return pg_error_set(err, PG_EINVAL, "unknown rating %d", (int)o->rating);
    if (o->series && o->kind != PG_STUDY_PF)
        return pg_error_set(err, PG_EINVAL, "a time series study is a power-flow study (pf)");
    if (o->kind == PG_STUDY_CONTINGENCY && (o->pf.dc || o->pf.enforce_q_lims))
        return pg_error_set(err, PG_EINVAL,
                            "contingency analysis is AC without reactive limits: --dc and "
                            "--enforce-q-lims are not available for it");
    if (o->threads < 0 || o->threads > 1024)
        return pg_error_set(err, PG_EINVAL, "threads must be from 0 to 1024 (it is %d)",
                            o->threads);
    if (!(o->job_timeout_s > 0) || o->job_timeout_s > 86400)
        return pg_error_set(err, PG_EINVAL, "the job timeout must be above 0 and at most 86400 s");
    if (o->max_attempts < 1)
        return pg_error_set(err, PG_EINVAL, "max_attempts must be at least 1");
    pg_study *s = calloc(1, sizeof *s);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    s->o = *o;
    if (!s->o.executor)
        s->o.executor = "local";
    if (s->o.outages_per_job == 0)
        s->o.outages_per_job = 256;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return pg_error_set(err, PG_ENOMEM, "cannot create a lock");
    }
    make_id(s->id);
    *out = s;
    return PG_OK;
}

void
pg_study_free(pg_study *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_worlds; i++) {
        free(s->worlds[i].id);
        free(s->worlds[i].path);
        free(s->worlds[i].name);
        free(s->worlds[i].text);
    }
    free(s->worlds);
    free(s->jobs);
    for (size_t k = 0; k < s->cap_results; k++)
        free(s->results[k]);
    free(s->results);
    free(s->result_len);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static const char *
base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static char *
id_from_name(const char *name)
{
    char *id = pgi_strdup(name);
    if (!id)
        return NULL;
    char *dot = strrchr(id, '.');
    if (dot && dot != id)
        *dot = '\0';
    return id;
}

static int
push_job(pg_study *s, size_t world, size_t first, size_t count)
{
    if (s->n_jobs == s->cap_jobs) {
        size_t cap = s->cap_jobs ? 2 * s->cap_jobs : 16;
        pgi_study_job *j = realloc(s->jobs, cap * sizeof *j);
        if (!j)
            return PG_ENOMEM;
        s->jobs = j;
        s->cap_jobs = cap;
    }
    s->jobs[s->n_jobs++] = (pgi_study_job){world, first, count};
    return PG_OK;
}

/* Adds a world. strict: a file that is not a world is an error; otherwise it is kept as a world
 * whose one job reports why it could not be read. */
static int
add_world(pg_study *s, const char *path, const char *id, bool strict, pg_error *err)
{
    int rc = PG_OK;
    char *text = NULL, *wid = NULL, *wpath = NULL, *wname = NULL;
    size_t len = 0, n_items = 1, jobs_before = s->n_jobs;
    bool bad = false;
    if (s->ran)
        return pg_error_set(err, PG_ESTATE, "worlds cannot be added to a study that has run");
    rc = pg_input_read(path, 0, &text, &len, err);
    if (rc != PG_OK)
        goto out;
    wid = id ? pgi_strdup(id) : id_from_name(base_name(path));
    wpath = pgi_strdup(path);
    wname = pgi_strdup(base_name(path));
    if (!wid || !wpath || !wname) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if (!*wid) {
        rc = pg_error_set(err, PG_EINVAL, "%s: a world's id cannot be empty", path);
        goto out;
    }
    for (size_t i = 0; i < s->n_worlds; i++)
        if (strcmp(s->worlds[i].id, wid) == 0) {
            rc = pg_error_set(err, PG_EINVAL,
                              "%s: the study already has a world named '%s' (from %s); ids are "
                              "unique in a study",
                              path, wid, s->worlds[i].path);
            goto out;
        }
    pg_error e;
    pg_error_clear(&e);
    /* A world that is one item need not be read here unless a bad one is an error: its job reads
     * it (and reports a bad one). */
    bool whole = s->o.kind == PG_STUDY_RUN || (s->o.kind == PG_STUDY_PF && !s->o.series);
    int crc =
        whole && !strict ? PG_OK : pgi_study_count_items(&s->o, wname, text, len, &n_items, &e);
    if (crc == PG_ENOMEM) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if (crc != PG_OK) {
        if (strict) {
            if (err)
                *err = e;
            if (err && !err->file[0])
                pg_error_at(err, path, 0, 0, NULL);
            rc = crc;
            goto out;
        }
        bad = true;
        n_items = 1;
    }
    if (s->n_worlds == s->cap_worlds) {
        size_t cap = s->cap_worlds ? 2 * s->cap_worlds : 8;
        pgi_study_world *w = realloc(s->worlds, cap * sizeof *w);
        if (!w) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        s->worlds = w;
        s->cap_worlds = cap;
    }
    /* The cut: a fixed number of items per job, counted from the world's first item. */
    size_t per = 0;
    if (!bad && s->o.kind == PG_STUDY_CONTINGENCY)
        per = s->o.outages_per_job;
    else if (!bad && s->o.kind == PG_STUDY_PF && s->o.series)
        per = s->o.steps_per_job ? s->o.steps_per_job : n_items;
    if (per == 0 || n_items == 0) {
        rc = push_job(s, s->n_worlds, 0, bad ? 1 : n_items);
    } else {
        for (size_t f = 0; f < n_items && rc == PG_OK; f += per)
            rc = push_job(s, s->n_worlds, f, n_items - f < per ? n_items - f : per);
    }
    if (rc != PG_OK) {
        s->n_jobs = jobs_before;
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    s->worlds[s->n_worlds++] = (pgi_study_world){wid, wpath, wname, text, len, bad, n_items};
    wid = wpath = wname = text = NULL;
out:
    free(text);
    free(wid);
    free(wpath);
    free(wname);
    return rc;
}

int
pg_study_add_file(pg_study *s, const char *path, const char *id, pg_error *err)
{
    if (!s || !path)
        return pg_error_set(err, PG_EINVAL, "pg_study_add_file: NULL argument");
    return add_world(s, path, id, true, err);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcasecmp(name + n - e, ext) == 0;
}

/* A file a folder (or its manifest) names must be a regular file inside the folder: a FIFO, a
 * device or a socket among the worlds would block or never end, and a symbolic link leading out
 * of the folder would let a folder's contents make the study read elsewhere. */
static int
check_folder_file(const char *dir, const char *fpath, pg_error *err)
{
    struct stat st;
    if (stat(fpath, &st) != 0)
        return pg_error_set(err, PG_EIO, "%s: cannot read the file: %s", fpath, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return pg_error_set(err, PG_EIO,
                            "%s: not a regular file (a folder of worlds holds world files only)",
                            fpath);
    char *rd = realpath(dir, NULL), *rf = realpath(fpath, NULL);
    int rc = PG_OK;
    if (!rd || !rf) {
        rc = errno == ENOMEM ? pg_error_set(err, PG_ENOMEM, "out of memory")
                             : pg_error_set(err, PG_EIO, "%s: cannot resolve the path: %s", fpath,
                                            strerror(errno));
    } else {
        size_t n = strlen(rd);
        bool inside = strncmp(rf, rd, n) == 0 && (rf[n] == '/' || (n == 1 && rd[0] == '/'));
        if (!inside)
            rc = pg_error_set(err, PG_EINVAL,
                              "%s: a symbolic link that leads out of the folder %s (to %s); a "
                              "study reads only the folder's own files",
                              fpath, dir, rf);
    }
    free(rd);
    free(rf);
    return rc;
}

/* The worlds a manifest (plurigrid-worlds/1) lists: its entries' id, file and dropped only (an
 * entry without "dropped" is kept). */
static int
add_manifest(pg_study *s, const char *dir, const char *mpath, pg_error *err)
{
    int rc = PG_OK;
    char *text = NULL, *fpath = NULL;
    size_t len = 0;
    json_t *root = NULL;
    rc = pg_input_read(mpath, 0, &text, &len, err);
    if (rc != PG_OK)
        goto out;
    json_error_t je;
    root = json_loadb(text, len, 0, &je);
    if (!root) {
        rc = pg_error_set(err, PG_EPARSE, "not valid JSON: %s", je.text);
        pg_error_at(err, mpath, je.line, je.column, NULL);
        goto out;
    }
    /* The generator writes its entries as "worlds"; "entries" is read too. */
    const char *key = "worlds";
    json_t *entries = json_is_object(root) ? json_object_get(root, key) : NULL;
    if (!json_is_array(entries) && json_is_object(root)) {
        key = "entries";
        entries = json_object_get(root, key);
    }
    if (!json_is_array(entries)) {
        rc = pg_error_set(err, PG_EPARSE,
                          "a manifest (plurigrid-worlds/1) is an object with an array \"worlds\" "
                          "of entries");
        pg_error_at(err, mpath, 0, 0, "$.worlds");
        goto out;
    }
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        char place[64];
        snprintf(place, sizeof place, "$.%s[%zu]", key, i);
        json_t *dropped = json_object_get(e, "dropped");
        if (!json_is_object(e) || (dropped && !json_is_boolean(dropped))) {
            rc = pg_error_set(err, PG_EPARSE,
                              "an entry is an object whose \"dropped\" is true or false");
            pg_error_at(err, mpath, 0, 0, place);
            goto out;
        }
        if (json_is_true(dropped))
            continue;
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *file = json_string_value(json_object_get(e, "file"));
        if (!id || !file || !*file || strchr(file, '/') || strcmp(file, "..") == 0) {
            rc = pg_error_set(err, PG_EPARSE,
                              "an entry that is kept needs a string \"id\" and a \"file\" that "
                              "names a file of the folder");
            pg_error_at(err, mpath, 0, 0, place);
            goto out;
        }
        fpath = pgi_path_join(dir, file);
        if (!fpath) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        rc = check_folder_file(dir, fpath, err);
        if (rc == PG_OK)
            rc = add_world(s, fpath, id, false, err);
        free(fpath);
        fpath = NULL;
        if (rc != PG_OK)
            goto out;
    }
out:
    json_decref(root);
    free(text);
    free(fpath);
    return rc;
}

int
pg_study_add_dir(pg_study *s, const char *dir, pg_error *err)
{
    if (!s || !dir)
        return pg_error_set(err, PG_EINVAL, "pg_study_add_dir: NULL argument");
    int rc = PG_OK;
    char *mpath = NULL, *fpath = NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    DIR *d = NULL;
    struct stat st;
    if (stat(dir, &st) != 0) {
        rc = pg_error_set(err, PG_EIO, "%s: cannot open the folder: %s", dir, strerror(errno));
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        rc = pg_error_set(err, PG_EIO, "%s: not a folder", dir);
        goto out;
    }
    mpath = pgi_path_join(dir, "manifest.json");
    if (!mpath) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if (lstat(mpath, &st) == 0) {
        rc = add_manifest(s, dir, mpath, err);
        goto out;
    }
    d = opendir(dir);
    if (!d) {
        rc = pg_error_set(err, PG_EIO, "%s: cannot open the folder: %s", dir, strerror(errno));
        goto out;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (nm[0] == '.' || strcmp(nm, "manifest.json") == 0)
            continue;
        if (!has_ext(nm, ".json") && !has_ext(nm, ".m"))
            continue;
        if (n == cap) {
            size_t c2 = cap ? 2 * cap : 64;
            char **nn = realloc(names, c2 * sizeof *nn);
            if (!nn) {
                rc = pg_error_set(err, PG_ENOMEM, "out of memory");
                goto out;
            }
            names = nn;
            cap = c2;
        }
        if (!(names[n] = pgi_strdup(nm))) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        n++;
    }
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        fpath = pgi_path_join(dir, names[i]);
        if (!fpath) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        rc = check_folder_file(dir, fpath, err);
        if (rc == PG_OK)
            rc = add_world(s, fpath, NULL, false, err);
        free(fpath);
        fpath = NULL;
        if (rc != PG_OK)
            goto out;
    }
out:
    if (d)
        closedir(d);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(mpath);
    free(fpath);
    return rc;
}

static int
ensure_results(pg_study *s)
{
    if (s->cap_results >= s->n_jobs)
        return PG_OK;
    char **r = realloc(s->results, s->n_jobs * sizeof *r);
    if (!r)
        return PG_ENOMEM;
    s->results = r;
    size_t *l = realloc(s->result_len, s->n_jobs * sizeof *l);
    if (!l)
        return PG_ENOMEM;
    s->result_len = l;
    for (size_t k = s->cap_results; k < s->n_jobs; k++) {
        s->results[k] = NULL;
        s->result_len[k] = 0;
    }
    s->cap_results = s->n_jobs;
    return PG_OK;
}

int
pg_study_run(pg_study *s, pg_error *err)
{
    if (!s)
        return pg_error_set(err, PG_EINVAL, "pg_study_run: NULL study");
    int rc = PG_OK;
    const pgi_study_executor *ex = pgi_study_executor_find(s->o.executor);
    if (!ex)
        return pg_error_set(err, PG_EINVAL, "unknown executor '%s' (local or nats)", s->o.executor);
    if (s->n_worlds == 0)
        return pg_error_set(err, PG_EINVAL, "the study has no worlds");
    pthread_mutex_lock(&s->lock);
    rc = ensure_results(s);
    pthread_mutex_unlock(&s->lock);
    if (rc != PG_OK)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    s->ran = true;
    double t0 = pgi_now();
    rc = ex->run(s, err);
    double wall = pgi_now() - t0;
    if (rc != PG_OK)
        return rc;
    if (pgi_study_n_done(s) != s->n_jobs)
        return pg_error_set(err, PG_ESTATE, "the executor ended with %zu of %zu jobs done",
                            pgi_study_n_done(s), s->n_jobs);
    pg_study_totals t;
    rc = pgi_study_compute_totals(s, &t, err);
    if (rc != PG_OK)
        return rc;
    t.wall_s = wall;
    t.jobs_resent = s->resent;
    s->totals = t;
    return PG_OK;
}

void
pg_study_get_totals(const pg_study *s, pg_study_totals *t)
{
    if (!t)
        return;
    memset(t, 0, sizeof *t);
    if (s)
        *t = s->totals;
}

/* ---------------------------------------------------------------- internal.h */

size_t
pgi_study_n_jobs(const pg_study *s)
{
    return s->n_jobs;
}

const pg_study_options *
pgi_study_options(const pg_study *s)
{
    return &s->o;
}

const char *
pgi_study_id(const pg_study *s)
{
    return s->id;
}

int
pgi_study_world_text(const pg_study *s, size_t i, const char **text, size_t *len, const char **name,
                     pg_error *err)
{
    if (i >= s->n_worlds)
        return pg_error_set(err, PG_ENOTFOUND, "the study has no world %zu", i);
    if (text)
        *text = s->worlds[i].text;
    if (len)
        *len = s->worlds[i].len;
    if (name)
        *name = s->worlds[i].name;
    return PG_OK;
}

int
pgi_study_result_accept(pg_study *s, size_t k, const char *result, size_t len, pg_error *err)
{
    if (!s || !result)
        return pg_error_set(err, PG_EINVAL, "pgi_study_result_accept: NULL argument");
    if (k >= s->n_jobs)
        return pg_error_set(err, PG_EINVAL, "a result for job %zu of a study of %zu jobs", k,
                            s->n_jobs);
    /* A result must be one of this study's, for this job. */
    json_error_t je;
    json_t *root = json_loadb(result, len, 0, &je);
    const char *sid = root ? json_string_value(json_object_get(root, "study")) : NULL;
    const char *fmt = root ? json_string_value(json_object_get(root, "format")) : NULL;
    json_t *jk = root ? json_object_get(root, "job") : NULL;
    json_t *items = root ? json_object_get(root, "items") : NULL;
    json_t *error = root ? json_object_get(root, "error") : NULL;
    bool ok = sid && strcmp(sid, s->id) == 0 && fmt &&
              strcmp(fmt, "plurigrid-study-result/1") == 0 && json_is_integer(jk) &&
              json_integer_value(jk) >= 0 && (size_t)json_integer_value(jk) == k &&
              json_is_array(items) && (!error || json_is_string(error));
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) ok = ok && json_is_object(it);
    json_decref(root);
    if (!ok)
        return pg_error_set(err, PG_EPARSE, "a malformed result for job %zu of study %s", k, s->id);
    int rc = PG_OK;
    pthread_mutex_lock(&s->lock);
    if (ensure_results(s) != PG_OK) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if (s->results[k]) {
        if (s->result_len[k] != len || memcmp(s->results[k], result, len) != 0)
            rc = pg_error_set(err, PG_ESTATE,
                              "job %zu gave two different results: a worker is not deterministic",
                              k);
        goto out;
    }
    char *c = malloc(len + 1);
    if (!c) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(c, result, len);
    c[len] = '\0';
    s->results[k] = c;
    s->result_len[k] = len;
    s->n_done++;
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

bool
pgi_study_job_done(const pg_study *s, size_t k)
{
    pg_study *m = (pg_study *)s;
    pthread_mutex_lock(&m->lock);
    bool done = k < s->cap_results && s->results[k] != NULL;
    pthread_mutex_unlock(&m->lock);
    return done;
}

size_t
pgi_study_n_done(const pg_study *s)
{
    pg_study *m = (pg_study *)s;
    pthread_mutex_lock(&m->lock);
    size_t n = s->n_done;
    pthread_mutex_unlock(&m->lock);
    return n;
}

void
pgi_study_count_resent(pg_study *s)
{
    pthread_mutex_lock(&s->lock);
    s->resent++;
    pthread_mutex_unlock(&s->lock);
}
