/* docs/openapi.json against the running server: the file is an OpenAPI 3.0 document, the server
 * serves the same document at /api/openapi.json, every operation it lists exists on a real
 * `plurigrid serve` (its example request gets a status the document lists, never an
 * undocumented 404 or 405, and a method the document does not list on a path gets 405), every
 * JSON reply has the shape of its documented schema (a small checker of type, nullable, enum,
 * required, properties, additionalProperties, items, oneOf, anyOf and $ref), and every route in
 * the server's route tables (the rows {"METHOD", "/api/..."} of the .c files of src/http) is
 * documented. */
#define _GNU_SOURCE
#include "harness.h"
#include "http_fixture.h"

#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

static json_t *doc;

static json_t *
load_doc(void)
{
    json_error_t je;
    json_t *d = json_load_file(pgt_source_path("docs/openapi.json"), 0, &je);
    if (!d)
        fail_msg("docs/openapi.json: line %d: %s", je.line, je.text);
    return d;
}

/* ---------------------------------------------------------------- the schema checker */

static const json_t *
resolve(const json_t *schema)
{
    for (int hops = 0; hops < 16; hops++) {
        const char *ref = json_string_value(json_object_get(schema, "$ref"));
        if (!ref)
            return schema;
        const char *pre = "#/components/schemas/";
        if (strncmp(ref, pre, strlen(pre)) != 0)
            fail_msg("$ref %s: only #/components/schemas/ is used", ref);
        schema = json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                                 ref + strlen(pre));
        if (!schema)
            fail_msg("$ref %s: no such schema", ref);
    }
    fail_msg("$ref loop");
    return NULL;
}

static bool
type_ok(const char *type, const json_t *v)
{
    if (strcmp(type, "object") == 0)
        return json_is_object(v);
    if (strcmp(type, "array") == 0)
        return json_is_array(v);
    if (strcmp(type, "string") == 0)
        return json_is_string(v);
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(type, "number") == 0)
        return json_is_number(v);
    if (strcmp(type, "integer") == 0)
        return json_is_integer(v) ||
               (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)));
    fail_msg("unknown schema type '%s'", type);
    return false;
}

/* Whether v conforms to schema; otherwise why (with the JSON path where). */
static bool
conforms(const json_t *schema, const json_t *v, const char *where, char *why, size_t n)
{
    schema = resolve(schema);
    const json_t *alts;
    if ((alts = json_object_get(schema, "oneOf")) || (alts = json_object_get(schema, "anyOf"))) {
        if (json_is_null(v) && json_is_true(json_object_get(schema, "nullable")))
            return true;
        size_t i, hits = 0;
        const json_t *alt;
        char sub[400] = "";
        json_array_foreach(alts, i, alt) hits += conforms(alt, v, where, sub, sizeof sub);
        bool one = json_object_get(schema, "oneOf") != NULL;
        if (one ? hits == 1 : hits >= 1)
            return true;
        snprintf(why, n, "%s: %zu of the alternatives match (%s)", where, hits, sub);
        return false;
    }
    if (json_is_null(v)) {
        if (json_is_true(json_object_get(schema, "nullable")) || !json_object_get(schema, "type"))
            return true;
        snprintf(why, n, "%s: null, not nullable", where);
        return false;
    }
    const char *type = json_string_value(json_object_get(schema, "type"));
    if (type && !type_ok(type, v)) {
        snprintf(why, n, "%s: not of type %s", where, type);
        return false;
    }
    const json_t *en = json_object_get(schema, "enum"), *x;
    size_t i;
    if (en) {
        bool found = false;
        json_array_foreach(en, i, x) found = found || json_equal(x, v);
        if (!found) {
            snprintf(why, n, "%s: a value not in the enum", where);
            return false;
        }
    }
    const json_t *req = json_object_get(schema, "required"),
                 *props = json_object_get(schema, "properties");
    json_array_foreach(req, i, x)
    {
        if (!json_object_get(v, json_string_value(x))) {
            snprintf(why, n, "%s: the required '%s' is missing", where, json_string_value(x));
            return false;
        }
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *pv;
        json_object_foreach((json_t *)v, k, pv)
        {
            const json_t *ps = json_object_get(props, k);
            char sub[300];
            snprintf(sub, sizeof sub, "%s.%s", where, k);
            if (ps && !conforms(ps, pv, sub, why, n))
                return false;
            if (!ps && json_is_false(json_object_get(schema, "additionalProperties"))) {
                snprintf(why, n, "%s: not a documented property", sub);
                return false;
            }
        }
    }
    const json_t *items = json_object_get(schema, "items");
    if (items && json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            char sub[300];
            snprintf(sub, sizeof sub, "%s[%zu]", where, i);
            if (!conforms(items, x, sub, why, n))
                return false;
        }
    }
    return true;
}

/* The checker itself is checked: it must be able to fail. */
static void
test_checker_fails(void **state)
{
    (void)state;
    json_t *err = json_pack("{s:{s:i, s:s}}", "error", "status", 400, "code", "bad_json");
    const json_t *schema =
        json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), "Error");
    char why[400];
    assert_false(conforms(schema, err, "$", why, sizeof why));
    assert_non_null(strstr(why, "message"));
    json_object_set_new(json_object_get(err, "error"), "message", json_string("m"));
    assert_true(conforms(schema, err, "$", why, sizeof why));
    json_object_set_new(json_object_get(err, "error"), "line", json_string("3"));
    assert_false(conforms(schema, err, "$", why, sizeof why));
    json_decref(err);
    json_t *job = json_pack("{s:s, s:s, s:s}", "id", "1", "kind", "pf", "status", "sleeping");
    schema = json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), "Job");
    assert_false(conforms(schema, job, "$", why, sizeof why));
    json_decref(job);
}

/* ---------------------------------------------------------------- the document */

static void
test_document(void **state)
{
    (void)state;
    assert_true(strncmp(json_string_value(json_object_get(doc, "openapi")), "3.0.", 4) == 0);
    json_t *info = json_object_get(doc, "info");
    assert_true(json_is_string(json_object_get(info, "title")));
    assert_true(json_is_string(json_object_get(info, "version")));
    json_t *paths = json_object_get(doc, "paths");
    assert_true(json_object_size(paths) >= 17);
    json_t *bearer = json_object_get(
        json_object_get(json_object_get(doc, "components"), "securitySchemes"), "bearerAuth");
    assert_string_equal(json_string_value(json_object_get(bearer, "scheme")), "bearer");
    /* every operation has an id, a summary and responses; every $ref resolves */
    const char *p, *m;
    json_t *item, *op;
    json_object_foreach(paths, p, item)
    {
        assert_true(strncmp(p, "/api/", 5) == 0);
        json_object_foreach(item, m, op)
        {
            if (strcmp(m, "parameters") == 0)
                continue;
            assert_true(json_is_string(json_object_get(op, "operationId")));
            assert_true(json_is_string(json_object_get(op, "summary")));
            assert_true(json_object_size(json_object_get(op, "responses")) > 0);
        }
    }
    char *text = json_dumps(doc, 0);
    for (const char *r = strstr(text, "\"$ref\": \""); r; r = strstr(r + 1, "\"$ref\": \"")) {
        char ref[200];
        assert_int_equal(sscanf(r + 9, "%199[^\"]", ref), 1);
        json_t *s = json_pack("{s:s}", "$ref", ref);
        resolve(s);
        json_decref(s);
    }
    free(text);
}

/* ---------------------------------------------------------------- against the server */

static pgt_http *
start(void)
{
    const char *worlds = pgt_tmp("worlds");
    assert_int_equal(mkdir(worlds, 0755), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/hello-microworld.json", worlds);
    char *hello = pgt_slurp(pgt_source_path("examples/hello-microworld.json"), NULL);
    pgt_write(path, hello);
    free(hello);
    const char *args[] = {"--worlds", worlds, "--scenarios", pgt_source_path("examples"), NULL};
    return pgt_http_start(args);
}

/* The response object documented for status, or NULL. */
static const json_t *
documented(const json_t *op, long status)
{
    char key[8];
    snprintf(key, sizeof key, "%ld", status);
    const json_t *r = json_object_get(json_object_get(op, "responses"), key);
    return r ? r : json_object_get(json_object_get(op, "responses"), "default");
}

/* A finished pf job's id, for the {id} of the job paths. */
static void
finished_job(pgt_http *h, char id[64])
{
    char *hello = pgt_slurp(pgt_source_path("examples/hello-microworld.json"), NULL);
    size_t n = strlen(hello) + 16;
    char *body = malloc(n);
    snprintf(body, n, "{\"world\": %s}", hello);
    pgt_http_req rq = {.method = "POST", .path = "/api/jobs/pf", .body = body, .len = strlen(body)};
    pgt_http_reply r = {0};
    assert_int_equal(pgt_http_do(h, &rq, &r), 202);
    json_t *v = json_loadb(r.body, r.len, 0, NULL);
    snprintf(id, 64, "%s", json_string_value(json_object_get(v, "id")));
    json_decref(v);
    pgt_http_reply_free(&r);
    char jp[128];
    snprintf(jp, sizeof jp, "/api/jobs/%s", id);
    for (int i = 0; i < 600; i++) {
        assert_int_equal(pgt_http_get(h, jp, NULL, &r), 200);
        v = json_loadb(r.body, r.len, 0, NULL);
        bool done = strcmp(json_string_value(json_object_get(v, "status")), "queued") != 0 &&
                    strcmp(json_string_value(json_object_get(v, "status")), "running") != 0;
        json_decref(v);
        pgt_http_reply_free(&r);
        if (done)
            break;
        usleep(50000);
    }
    free(body);
    free(hello);
}

/* The path of an operation with its parameters' examples filled in (id: the job's). */
static void
fill_path(const char *pattern, const json_t *item, const json_t *op, const char *job, char *out,
          size_t n)
{
    size_t o = 0;
    for (const char *p = pattern; *p && o + 1 < n;) {
        if (*p != '{') {
            out[o++] = *p++;
            continue;
        }
        const char *e = strchr(p, '}');
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(e - p - 1), p + 1);
        const char *val = NULL;
        const json_t *params[] = {json_object_get(item, "parameters"),
                                  json_object_get(op, "parameters")};
        for (size_t k = 0; k < 2 && !val; k++) {
            size_t i;
            const json_t *prm;
            json_array_foreach(params[k], i, prm)
            {
                if (strcmp(json_string_value(json_object_get(prm, "name")), name) == 0)
                    val = json_string_value(json_object_get(prm, "example"));
            }
        }
        if (strcmp(name, "id") == 0)
            val = job;
        if (!val)
            fail_msg("%s: the parameter {%s} has no example", pattern, name);
        o += (size_t)snprintf(out + o, n - o, "%s", val);
        p = e + 1;
    }
    out[o] = '\0';
    /* query parameters with an example */
    size_t i;
    const json_t *prm;
    json_array_foreach(json_object_get(op, "parameters"), i, prm)
    {
        const char *in = json_string_value(json_object_get(prm, "in"));
        const char *ex = json_string_value(json_object_get(prm, "example"));
        if (in && strcmp(in, "query") == 0 && ex) {
            o = strlen(out);
            snprintf(out + o, n - o, "%s%s=%s", strchr(out, '?') ? "&" : "?",
                     json_string_value(json_object_get(prm, "name")), ex);
        }
    }
}

/* Whether the concrete path (no query) fits pattern, {x} standing for one non-empty segment. */
static bool
fits(const char *pattern, const char *path)
{
    while (*pattern && *path) {
        if (*pattern == '{') {
            pattern = strchr(pattern, '}') + 1;
            if (*path == '/')
                return false;
            while (*path && *path != '/')
                path++;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return !*pattern && !*path;
}

/* Whether another documented operation of method fits path (GET /api/jobs/pf is GET
 * /api/jobs/{id} of a job "pf": a 404 there is that operation's). */
static bool
other_op(const char *method, const char *path)
{
    char lower[8];
    for (size_t k = 0; k <= strlen(method); k++)
        lower[k] = (char)(method[k] | (method[k] ? 0x20 : 0));
    const char *pattern;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), pattern, item)
    {
        if (json_object_get(item, lower) && fits(pattern, path))
            return true;
    }
    return false;
}

/* A stream (text/event-stream) is read until its headers only. */
static long
stream_status(pgt_http *h, const char *path, char **headers)
{
    int fd = pgt_http_connect(h);
    char rq[300];
    snprintf(rq, sizeof rq, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    assert_true(pgt_http_send(fd, rq, strlen(rq)));
    bool closed = false;
    char *got = pgt_http_read_until(fd, "\r\n\r\n", 10, &closed);
    close(fd);
    long status = 0;
    if (sscanf(got, "HTTP/1.%*d %ld", &status) != 1)
        fail_msg("GET %s: no status line: %.200s", path, got);
    *headers = got;
    return status;
}

static void
test_operations(void **state)
{
    (void)state;
    pgt_http *h = start();
    /* the server serves this very document */
    pgt_http_reply r = {0};
    assert_int_equal(pgt_http_get(h, "/api/openapi.json", NULL, &r), 200);
    json_t *served = json_loadb(r.body, r.len, 0, NULL);
    assert_non_null(served);
    assert_true(json_equal(served, doc));
    json_decref(served);
    pgt_http_reply_free(&r);

    char job[64];
    finished_job(h, job);
    static const char *const methods[] = {"GET", "PUT", "POST", "DELETE"};
    size_t n_ops = 0;
    /* DELETE last, so that the job is still there for the others */
    for (int pass = 0; pass < 2; pass++) {
        const char *pattern;
        json_t *item;
        json_object_foreach(json_object_get(doc, "paths"), pattern, item)
        {
            for (size_t mi = 0; mi < 4; mi++) {
                if ((pass == 0) == (strcmp(methods[mi], "DELETE") == 0))
                    continue;
                char lower[8];
                for (size_t k = 0; k <= strlen(methods[mi]); k++)
                    lower[k] = (char)(methods[mi][k] | (methods[mi][k] ? 0x20 : 0));
                json_t *op = json_object_get(item, lower);
                char path[400];
                fill_path(pattern, item, op, job, path, sizeof path);
                if (!op) {
                    /* not documented: the server does not allow it */
                    pgt_http_req rq = {.method = methods[mi], .path = path};
                    long st = pgt_http_do(h, &rq, &r);
                    if (st != 405 && !(st == 404 && (strcmp(pattern, "/api/node") == 0 ||
                                                     other_op(methods[mi], path))))
                        fail_msg("%s %s: not documented, but the server answers %ld", methods[mi],
                                 path, st);
                    pgt_http_reply_free(&r);
                    continue;
                }
                n_ops++;
                const json_t *content =
                    json_object_get(json_object_get(op, "requestBody"), "content");
                const json_t *jex =
                    json_object_get(json_object_get(content, "application/json"), "example");
                const json_t *tex =
                    json_object_get(json_object_get(content, "text/plain"), "example");
                char *body = jex ? json_dumps(jex, 0) : tex ? strdup(json_string_value(tex)) : NULL;
                const char *ctype[] = {
                    jex ? "Content-Type: application/json" : "Content-Type: text/plain", NULL};
                const json_t *ok = documented(op, 200);
                bool stream =
                    ok && json_object_get(json_object_get(ok, "content"), "text/event-stream");
                long st;
                if (stream) {
                    char *headers = NULL;
                    st = stream_status(h, path, &headers);
                    assert_int_equal(st, 200);
                    assert_non_null(strcasestr(headers, "text/event-stream"));
                    free(headers);
                    free(body);
                    continue;
                }
                pgt_http_req rq = {.method = methods[mi],
                                   .path = path,
                                   .body = body,
                                   .len = body ? strlen(body) : 0,
                                   .headers = body ? ctype : NULL};
                st = pgt_http_do(h, &rq, &r);
                const json_t *resp = documented(op, st);
                if (!resp)
                    fail_msg("%s %s: status %ld is not documented: %.400s", methods[mi], path, st,
                             r.body);
                const json_t *schema = json_object_get(
                    json_object_get(json_object_get(resp, "content"), "application/json"),
                    "schema");
                if (schema) {
                    json_error_t je;
                    json_t *v = json_loadb(r.body, r.len, 0, &je);
                    if (!v)
                        fail_msg("%s %s: %ld: not JSON: %s", methods[mi], path, st, je.text);
                    char why[600];
                    if (!conforms(schema, v, "$", why, sizeof why))
                        fail_msg("%s %s: %ld: the reply does not fit its schema: %s\n%.600s",
                                 methods[mi], path, st, why, r.body);
                    json_decref(v);
                }
                /* the example requests are good ones: they succeed */
                if (st >= 300 && !(strcmp(pattern, "/api/node") == 0 && st == 404) &&
                    !(strcmp(methods[mi], "DELETE") == 0 && st == 409))
                    fail_msg("%s %s: the documented example gets %ld: %.400s", methods[mi], path,
                             st, r.body);
                pgt_http_reply_free(&r);
                free(body);
            }
        }
    }
    assert_true(n_ops >= 19);
    assert_int_equal(pgt_http_stop(h), 0);
}

/* Every route of the server's route tables is an operation of the document. */
static void
test_routes_documented(void **state)
{
    (void)state;
    const char *dir = pgt_source_path("src/http");
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    size_t routes = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 3 || strcmp(de->d_name + l - 2, ".c") != 0)
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        char *text = pgt_slurp(path, NULL);
        for (char *p = strstr(text, "{\""); p; p = strstr(p + 1, "{\"")) {
            char method[8], pattern[200];
            if (sscanf(p, "{\"%7[A-Z]\", \"%199[^\"]\"", method, pattern) != 2 ||
                strncmp(pattern, "/api/", 5) != 0)
                continue;
            if (strcmp(method, "GET") && strcmp(method, "POST") && strcmp(method, "PUT") &&
                strcmp(method, "DELETE"))
                continue;
            char lower[8];
            for (size_t k = 0; k <= strlen(method); k++)
                lower[k] = (char)(method[k] | (method[k] ? 0x20 : 0));
            if (!json_object_get(json_object_get(json_object_get(doc, "paths"), pattern), lower))
                fail_msg("%s: the route %s %s is not in docs/openapi.json", de->d_name, method,
                         pattern);
            routes++;
        }
        free(text);
    }
    closedir(d);
    assert_true(routes >= 10);
}

static int
teardown(void **state)
{
    pgt_http_teardown(state);
    return pgt_teardown_tmpdir(state);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document),
        cmocka_unit_test(test_checker_fails),
        cmocka_unit_test(test_routes_documented),
        cmocka_unit_test_teardown(test_operations, teardown),
    };
    doc = load_doc();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    json_decref(doc);
    return rc;
}
