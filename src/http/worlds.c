/* The microworld endpoints of the JSON API (docs/http.md, "Endpoints"): the worlds of the folder
 * `--worlds DIR` listed, loaded and saved, and worlds sent in a request validated, imported from
 * MATPOWER and laid out. Also the helpers every API handler shares (api.h): worlds read from a
 * request, option checks, and error replies that point into the request.
 *
 * A world in the folder is the file DIR/NAME.json, where NAME passes pgh_name_valid (no '/', no
 * leading '.'), so no request names a file elsewhere; a symbolic link or anything but a regular
 * file there is never read or replaced (lstat first), so a link cannot lead out of the folder.
 * Saving goes through the library's atomic writer: a failed save leaves the old file. */
#define _GNU_SOURCE /* strcasecmp, lstat, gmtime_r */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/json_write.h"
#include "core/util.h"
#include "http/api.h"
#include "http/http.h"
#include "plurigrid/io.h"
#include "plurigrid/model.h"

/* Most worlds a listing shows (the first by name). */
#define LIST_MAX 1000

/* ---------------------------------------------------------------- shared helpers (api.h) */

int
pgh_api_status(int code)
{
    switch (code) {
    case PG_ELIMIT: return 413;
    case PG_ENOTFOUND: return 404;
    case PG_ENOMEM:
    case PG_EIO:
    case PG_ESOLVER: return 500;
    default: return 422;
    }
}

int
pgh_api_error(pgh_reply *rp, int status, const char *code, const pg_error *e, const char *prefix,
              const char *body, size_t len)
{
    char path[600] = "";
    int line = 0, column = 0;
    const char *ep = e->path[0] == '$' ? e->path + 1 : "";
    if (prefix)
        snprintf(path, sizeof path, "%s%s", prefix, ep);
    else if (e->path[0])
        snprintf(path, sizeof path, "%s", e->path);
    if (!prefix) {
        line = e->line;
        column = e->column;
    }
    /* an error about a member (pg_world_validate's) has a path but no line: find it */
    if (body && line == 0 && path[0] == '$')
        pgi_json_locate(body, len, path, &line, &column);
    json_t *er = json_object(), *root = json_object();
    int rc = PGH_REPLIED;
    if (!er || !root || json_object_set_new(er, "status", json_integer(status)) ||
        json_object_set_new(er, "code", json_string(code)) ||
        json_object_set_new(er, "message",
                            pgi_json_str(e->msg[0] ? e->msg : pg_strerror(e->code))) ||
        (line > 0 && json_object_set_new(er, "line", json_integer(line))) ||
        (column > 0 && json_object_set_new(er, "column", json_integer(column))) ||
        (path[0] && json_object_set_new(er, "path", pgi_json_str(path)))) {
        json_decref(er);
        json_decref(root);
        pgh_reply_error(rp, 500, "internal", "out of memory");
        return rc;
    }
    json_object_set_new(root, "error", er);
    if (pgh_reply_json(rp, status, root, NULL) != PG_OK)
        pgh_reply_error(rp, 500, "internal", "out of memory");
    return rc;
}

bool
pgh_api_keys_known(const json_t *obj, const char *const *keys, pgh_reply *rp)
{
    pgi_buf bad = {0}, known = {0};
    const char *k;
    json_t *v;
    size_t n_bad = 0;
    json_object_foreach((json_t *)obj, k, v)
    {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k) != 0)
            i++;
        if (!keys[i])
            pgi_buf_printf(&bad, "%s'%s'", n_bad++ ? ", " : "", k);
    }
    if (n_bad) {
        for (size_t i = 0; keys[i]; i++)
            pgi_buf_printf(&known, "%s'%s'", i ? ", " : "", keys[i]);
        pgh_reply_error(rp, 400, "unknown_key", "unknown key%s %s: the keys are %s",
                        n_bad > 1 ? "s" : "", bad.data ? bad.data : "",
                        known.data ? known.data : "");
    }
    pgi_buf_free(&bad);
    pgi_buf_free(&known);
    return n_bad == 0;
}

bool
pgh_api_bool(const json_t *obj, const char *key, bool def, bool *out, pgh_reply *rp)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return true;
    }
    if (!json_is_boolean(v)) {
        pgh_reply_error(rp, 400, "bad_request", "'%s' must be true or false", key);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

bool
pgh_api_size(const json_t *obj, const char *key, size_t def, size_t lo, size_t hi, size_t *out,
             pgh_reply *rp)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return true;
    }
    if (!json_is_number(v)) {
        pgh_reply_error(rp, 400, "bad_request", "'%s' must be a whole number from %zu to %zu", key,
                        lo, hi);
        return false;
    }
    double x = json_number_value(v);
    if (!(x >= (double)lo && x <= (double)hi) || x != (double)(size_t)x) {
        pgh_reply_error(rp, 422, "invalid",
                        "'%s' is %.17g: it must be a whole number from %zu to %zu", key, x, lo, hi);
        return false;
    }
    *out = (size_t)x;
    return true;
}

int
pgh_api_world(const pgh_request *rq, const json_t *root, const char *key, bool validate,
              pg_world **out, pg_notes *notes, pgh_reply *rp, pg_error *err)
{
    const json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        pgh_reply_error(rp, 400, "bad_request",
                        "'%s' is missing: send the world, a plurigrid-world/1 document", key);
        return PGH_REPLIED;
    }
    if (!json_is_object(v)) {
        pgh_reply_error(rp, 400, "bad_request",
                        "'%s' must be a plurigrid-world/1 document (a JSON object)", key);
        return PGH_REPLIED;
    }
    char *text = pgi_json_dumps(v, JSON_COMPACT);
    if (!text)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    pg_world *w = NULL;
    pg_notes got = {0};
    pg_error e = {0};
    int rc = pg_world_json_read_buffer(text, strlen(text), key, &w, &got, &e);
    if (rc == PG_OK && validate)
        rc = pg_world_validate(w, &e);
    free(text);
    if (rc == PG_ENOMEM) {
        *err = e;
        goto out;
    }
    if (rc) {
        char prefix[80];
        size_t blen = 0;
        const char *body = pgh_request_body(rq, &blen);
        snprintf(prefix, sizeof prefix, "$.%s", key);
        rc = pgh_api_error(rp, pgh_api_status(rc), "invalid", &e, prefix, body, blen);
        goto out;
    }
    for (size_t i = 0; notes && i < got.n; i++)
        if ((rc = pg_notes_add(notes, "%s", got.items[i]))) {
            pg_error_set(err, rc, "out of memory");
            goto out;
        }
    *out = w;
    w = NULL;
out:
    pg_notes_clear(&got);
    pg_world_free(w);
    return rc;
}

int
pgh_api_world_json(const pg_world *w, json_t **out, pg_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = pg_world_json_write_buffer(w, &text, &len, err);
    if (rc)
        return rc;
    json_error_t je;
    json_t *v = json_loadb(text, len, 0, &je);
    free(text);
    if (!v)
        return pg_error_set(err, PG_ENOMEM, "the world's JSON could not be read back: %s", je.text);
    *out = v;
    return PG_OK;
}

json_t *
pgh_api_notes(const pg_notes *notes)
{
    json_t *a = json_array();
    for (size_t i = 0; a && notes && i < notes->n; i++)
        if (json_array_append_new(a, pgi_json_str(notes->items[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* ---------------------------------------------------------------- the worlds folder */

/* The body size a stored world may have: what a request may send to save one. */
static size_t
world_max(pgh_server *s)
{
    size_t m = pgh_server_options(s)->max_body;
    return m ? m : PGH_MAX_BODY_DEFAULT;
}

/* "DIR/NAME.json" (malloc'd) or NULL when out of memory. */
static char *
world_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 7;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s.json", dir, name);
    return p;
}

/* ISO 8601 UTC of t: "2026-12-05T17:36:58Z". */
static void
iso_time(time_t t, char buf[32])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, 32, "1970-01-01T00:00:00Z");
}

/* Reads the stored world NAME.json of dir into *data (malloc'd, NUL-terminated) and *len, with
 * its lstat in *st. PG_ENOTFOUND when there is none, or when it is a symbolic link or not a
 * regular file (never followed); PG_ELIMIT beyond max bytes; PG_EIO when it cannot be read. The
 * messages name NAME.json, never the folder. */
static int
read_stored(const char *dir, const char *name, size_t max, char **data, size_t *len,
            struct stat *st, pg_error *err)
{
    char *path = world_path(dir, name);
    int rc = PG_OK;
    memset(st, 0, sizeof *st);
    if (!path)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    if (lstat(path, st) != 0) {
        memset(st, 0, sizeof *st);
        rc = errno == ENOENT
                 ? pg_error_set(err, PG_ENOTFOUND, "there is no world '%s'", name)
                 : pg_error_set(err, PG_EIO, "'%s.json' cannot be read: %s", name, strerror(errno));
        goto out;
    }
    if (S_ISLNK(st->st_mode)) {
        rc = pg_error_set(err, PG_ENOTFOUND,
                          "'%s.json' is a symbolic link: only regular files in the worlds folder "
                          "are served",
                          name);
        goto out;
    }
    if (!S_ISREG(st->st_mode)) {
        rc = pg_error_set(err, PG_ENOTFOUND, "'%s.json' is not a regular file", name);
        goto out;
    }
    if ((size_t)st->st_size > max) {
        rc = pg_error_set(err, PG_ELIMIT, "'%s.json' has %lld bytes, more than the %zu served",
                          name, (long long)st->st_size, max);
        goto out;
    }
    pg_error e = {0};
    if ((rc = pg_input_read(path, max, data, len, &e))) {
        pg_error_set(err, rc, "'%s.json': %s", name, e.msg);
        goto out;
    }
out:
    free(path);
    return rc;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One row of the listing: name, buses, branches, bytes, modified; or name and error. */
static json_t *
summary(pgh_server *s, const char *dir, const char *name)
{
    json_t *row = json_object();
    if (!row || json_object_set_new(row, "name", json_string(name)))
        goto fail;
    char *data = NULL;
    size_t len = 0;
    struct stat st;
    pg_error e = {0};
    pg_world *w = NULL;
    int rc = read_stored(dir, name, world_max(s), &data, &len, &st, &e);
    if (rc == PG_OK) {
        char file[80];
        snprintf(file, sizeof file, "%s.json", name);
        rc = pg_world_json_read_buffer(data, len, file, &w, NULL, &e);
    }
    free(data);
    if (rc == PG_ENOMEM)
        goto fail;
    if (st.st_mode && S_ISREG(st.st_mode)) {
        char when[32];
        iso_time(st.st_mtime, when);
        if (json_object_set_new(row, "bytes", json_integer((json_int_t)st.st_size)) ||
            json_object_set_new(row, "modified", json_string(when)))
            goto fail;
    }
    if (rc == PG_OK) {
        int bad = json_object_set_new(row, "buses", json_integer((json_int_t)w->n_buses)) ||
                  json_object_set_new(row, "branches", json_integer((json_int_t)w->n_branches));
        pg_world_free(w);
        if (bad)
            goto fail;
    } else {
        char msg[1400];
        pg_error_format(&e, msg, sizeof msg);
        if (json_object_set_new(row, "error", pgi_json_str(msg)))
            goto fail;
    }
    return row;
fail:
    json_decref(row);
    return NULL;
}

/* GET /api/worlds */
static int
list_worlds(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    (void)rq;
    const char *dir = pgh_server_options(s)->worlds_dir;
    json_t *root = json_object(), *list = json_array();
    char **names = NULL;
    size_t n = 0;
    int rc = PG_OK;
    DIR *d = NULL;
    bool truncated = false;
    if (!root || !list || json_object_set(root, "worlds", list) ||
        json_object_set_new(root, "dir", dir ? pgi_json_str(dir) : json_null()))
        goto nomem;
    if (dir) {
        if (!(d = opendir(dir))) {
            rc = pgh_reply_error(rp, 500, "internal", "the worlds folder cannot be read: %s",
                                 strerror(errno));
            goto out;
        }
        if (!(names = calloc(LIST_MAX, sizeof *names)))
            goto nomem;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t l = strlen(de->d_name);
            if (l <= 5 || strcmp(de->d_name + l - 5, ".json") != 0)
                continue;
            char stem[80];
            if (l - 5 >= sizeof stem)
                continue;
            memcpy(stem, de->d_name, l - 5);
            stem[l - 5] = '\0';
            if (!pgh_name_valid(stem))
                continue;
            if (n == LIST_MAX) {
                truncated = true;
                continue;
            }
            if (!(names[n] = pgi_strdup(stem)))
                goto nomem;
            n++;
        }
        qsort(names, n, sizeof *names, name_cmp);
        for (size_t i = 0; i < n; i++) {
            json_t *row = summary(s, dir, names[i]);
            if (!row || json_array_append_new(list, row))
                goto nomem;
        }
        if (truncated && json_object_set_new(root, "truncated", json_true()))
            goto nomem;
    }
    rc = pgh_reply_json(rp, 200, root, err);
    root = NULL;
    goto out;
nomem:
    rc = pg_error_set(err, PG_ENOMEM, "out of memory");
out:
    if (d)
        closedir(d);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    json_decref(list);
    json_decref(root);
    return rc;
}

/* The {name} of the request, checked; otherwise rp = 400. */
static const char *
request_name(const pgh_request *rq, pgh_reply *rp)
{
    const char *name = pgh_request_param(rq, 0);
    if (!name || !pgh_name_valid(name)) {
        pgh_reply_error(rp, 400, "bad_name",
                        "a world's name is 1 to 64 letters, digits, '.', '_' or '-', not "
                        "starting with '.'");
        return NULL;
    }
    return name;
}

/* GET /api/worlds/{name} */
static int
get_world(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    const char *dir = pgh_server_options(s)->worlds_dir;
    const char *name = request_name(rq, rp);
    if (!name)
        return PG_OK;
    if (!dir)
        return pgh_reply_error(rp, 404, "not_found",
                               "there is no world '%s': this server keeps no worlds (start it "
                               "with --worlds DIR)",
                               name);
    char *data = NULL, file[80];
    size_t len = 0;
    struct stat st;
    pg_error e = {0};
    pg_world *w = NULL;
    int rc = read_stored(dir, name, world_max(s), &data, &len, &st, &e);
    snprintf(file, sizeof file, "%s.json", name);
    if (rc == PG_OK)
        rc = pg_world_json_read_buffer(data, len, file, &w, NULL, &e);
    if (rc == PG_ENOMEM) {
        *err = e;
        goto out;
    }
    if (rc) {
        rc = PG_OK;
        pgh_api_error(rp, pgh_api_status(e.code), e.code == PG_ENOTFOUND ? "not_found" : "invalid",
                      &e, NULL, NULL, 0);
        goto out;
    }
    /* the file as stored: it reads as a world */
    rc = pgh_reply_text(rp, 200, data, len, err);
out:
    pg_world_free(w);
    free(data);
    return rc;
}

/* A world from the body of the request (the whole body is the document), named file in errors.
 * 400 for a body that is not JSON, 422 for a world that is not valid. */
static int
body_world(const pgh_request *rq, const char *file, bool validate, pg_world **out, pg_notes *notes,
           pgh_reply *rp, pg_error *err)
{
    json_t *v = NULL;
    if (pgh_request_json(rq, false, &v, rp) != PG_OK)
        return PGH_REPLIED;
    json_decref(v);
    size_t len = 0;
    const char *body = pgh_request_body(rq, &len);
    pg_world *w = NULL;
    pg_error e = {0};
    int rc = pg_world_json_read_buffer(body, len, file, &w, notes, &e);
    if (rc == PG_OK && validate)
        rc = pg_world_validate(w, &e);
    if (rc == PG_ENOMEM) {
        *err = e;
    } else if (rc) {
        rc = pgh_api_error(rp, pgh_api_status(rc), "invalid", &e, NULL, body, len);
    } else {
        *out = w;
        w = NULL;
    }
    pg_world_free(w);
    return rc;
}

/* PUT /api/worlds/{name} */
static int
put_world(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    const char *dir = pgh_server_options(s)->worlds_dir;
    const char *name = request_name(rq, rp);
    if (!name)
        return PG_OK;
    if (!dir)
        return pgh_reply_error(rp, 409, "no_worlds_dir",
                               "this server keeps no worlds: start it with --worlds DIR to save "
                               "them");
    char file[80];
    snprintf(file, sizeof file, "%s.json", name);
    pg_world *w = NULL;
    char *path = world_path(dir, name);
    json_t *res = NULL;
    int rc = PG_OK;
    if (!path) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        rc = pgh_reply_error(rp, 409, "conflict",
                             "'%s' in the worlds folder is %s: it is not replaced", file,
                             S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
        goto out;
    }
    if ((rc = body_world(rq, file, true, &w, NULL, rp, err)))
        goto out;
    pg_error e = {0};
    if ((rc = pg_world_json_write_file(w, path, &e))) {
        if (rc == PG_ENOMEM) {
            *err = e;
            goto out;
        }
        rc = pgh_reply_error(rp, 500, "internal", "'%s' could not be saved: %s", file, e.msg);
        goto out;
    }
    if (!(res = json_pack("{s:s, s:I, s:I, s:s+}", "name", name, "buses", (json_int_t)w->n_buses,
                          "branches", (json_int_t)w->n_branches, "href", "/api/worlds/", name))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(rp->location, sizeof rp->location, "/api/worlds/%s", name);
    rc = pgh_reply_json(rp, 201, res, err);
    res = NULL;
out:
    json_decref(res);
    free(path);
    pg_world_free(w);
    return rc == PGH_REPLIED ? PG_OK : rc;
}

/* POST /api/validate */
static int
validate_world(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    (void)s;
    pg_world *w = NULL;
    pg_notes notes = {0};
    json_t *res = NULL;
    int rc = body_world(rq, "world", true, &w, &notes, rp, err);
    if (rc)
        goto out;
    size_t steps = 0;
    double step_h = 1;
    pg_error e = {0};
    if ((rc = pg_world_horizon(w, &steps, &step_h, &e))) {
        size_t len = 0;
        const char *body = pgh_request_body(rq, &len);
        rc = e.code == PG_ENOMEM
                 ? (*err = e, rc)
                 : pgh_api_error(rp, pgh_api_status(rc), "invalid", &e, NULL, body, len);
        goto out;
    }
    json_t *n = pgh_api_notes(&notes);
    if (!n || !(res = json_pack(
                    "{s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "valid", 1,
                    "name", w->name ? w->name : "", "buses", (json_int_t)w->n_buses, "branches",
                    (json_int_t)w->n_branches, "loads", (json_int_t)w->n_loads, "thermals",
                    (json_int_t)w->n_thermals, "renewables", (json_int_t)w->n_renewables,
                    "storages", (json_int_t)w->n_storages, "series", (json_int_t)w->n_series,
                    "steps", (json_int_t)steps, "step_h", pgi_json_num(step_h), "notes", n))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    rc = pgh_reply_json(rp, 200, res, err);
    res = NULL;
out:
    json_decref(res);
    pg_notes_clear(&notes);
    pg_world_free(w);
    return rc == PGH_REPLIED ? PG_OK : rc;
}

/* {"world": w, "notes": [...]} or w alone (notes NULL), as the reply. */
static int
reply_world(pgh_reply *rp, const pg_world *w, const pg_notes *notes, pg_error *err)
{
    json_t *wj = NULL, *res = NULL;
    int rc = pgh_api_world_json(w, &wj, err);
    if (rc)
        return rc;
    if (!notes) {
        res = wj;
    } else {
        json_t *n = pgh_api_notes(notes);
        if (!n || !(res = json_pack("{s:o, s:o}", "world", wj, "notes", n))) {
            if (!n)
                json_decref(wj);
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        }
    }
    return pgh_reply_json(rp, 200, res, err);
}

/* POST /api/import?name=NAME: body a MATPOWER case. */
static int
import_case(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    (void)s;
    size_t len = 0;
    const char *body = pgh_request_body(rq, &len);
    const char *name = pgh_request_query(rq, "name");
    if (name && !pgh_name_valid(name))
        return pgh_reply_error(rp, 400, "bad_name",
                               "?name= is 1 to 64 letters, digits, '.', '_' or '-', not starting "
                               "with '.'");
    char file[80];
    snprintf(file, sizeof file, "%s.m", name ? name : "case");
    pg_world *w = NULL;
    pg_notes notes = {0};
    pg_error e = {0};
    int rc = pg_matpower_read_buffer(body, len, file, &w, &notes, &e);
    if (rc == PG_OK && name) {
        char *copy = pgi_strdup(name);
        if (!copy) {
            rc = pg_error_set(&e, PG_ENOMEM, "out of memory");
        } else {
            free(w->name);
            w->name = copy;
        }
    }
    if (rc == PG_OK)
        rc = pg_world_layout(w, false, &e);
    if (rc == PG_ENOMEM) {
        *err = e;
        goto out;
    }
    if (rc) {
        rc = pgh_api_error(rp, pgh_api_status(rc), "invalid", &e, NULL, NULL, 0);
        goto out;
    }
    rc = reply_world(rp, w, &notes, err);
out:
    pg_notes_clear(&notes);
    pg_world_free(w);
    return rc == PGH_REPLIED ? PG_OK : rc;
}

/* POST /api/layout: body {"world": ..., "all": bool}. */
static int
layout_world(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    (void)s;
    static const char *const keys[] = {"world", "all", NULL};
    json_t *root = NULL;
    pg_world *w = NULL;
    bool all = false;
    int rc = PG_OK;
    if (pgh_request_json(rq, false, &root, rp) != PG_OK)
        return PG_OK;
    if (!pgh_api_keys_known(root, keys, rp) || !pgh_api_bool(root, "all", false, &all, rp))
        goto out;
    if ((rc = pgh_api_world(rq, root, "world", false, &w, NULL, rp, err)))
        goto out;
    pg_error e = {0};
    if ((rc = pg_world_layout(w, all, &e))) {
        if (rc == PG_ENOMEM)
            *err = e;
        else
            rc = pgh_api_error(rp, pgh_api_status(rc), "invalid", &e, "$.world", NULL, 0);
        goto out;
    }
    rc = reply_world(rp, w, NULL, err);
out:
    json_decref(root);
    pg_world_free(w);
    return rc == PGH_REPLIED ? PG_OK : rc;
}

static const pgh_route routes[] = {
    {"GET", "/api/worlds", list_worlds, "List the worlds of the worlds folder"},
    {"GET", "/api/worlds/{name}", get_world, "Load a world"},
    {"PUT", "/api/worlds/{name}", put_world, "Validate and save a world"},
    {"POST", "/api/validate", validate_world, "Validate a world"},
    {"POST", "/api/import", import_case, "Import a MATPOWER case as a world, laid out"},
    {"POST", "/api/layout", layout_world, "Place the buses of a world on a drawing"},
};

const pgh_route_set pgh_routes_worlds = {routes, sizeof routes / sizeof *routes};
