/* Reading JSON formats with jansson: the path of the value being read, errors that name the file,
 * line, column and path, and typed getters with the same words for every format (json_read.h). */
#include "core/json_read.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

void
pgi_jr_init(pgi_jr *r, const char *file, const char *text, size_t len, pg_error *err)
{
    memset(r, 0, sizeof *r);
    r->err = err;
    r->file = file;
    r->text = text ? text : "";
    r->len = text ? len : 0;
    r->path[0] = '$';
    r->plen = 1;
}

int
pgi_jr_open(pgi_jr *r, const char *file, const char *text, size_t len, pg_error *err)
{
    pgi_jr_init(r, file, text, len, err);
    json_error_t je;
    r->root = json_loadb(r->text, r->len, JSON_REJECT_DUPLICATES, &je);
    if (!r->root) {
        pg_error_set(err, PG_EPARSE, "not valid JSON: %s", je.text);
        pg_error_at(err, file, je.line > 0 ? je.line : 0, je.column > 0 ? je.column : 0, NULL);
        return PG_EPARSE;
    }
    return PG_OK;
}

void
pgi_jr_close(pgi_jr *r)
{
    json_decref(r->root);
    r->root = NULL;
}

static size_t push(pgi_jr *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t
push(pgi_jr *r, const char *fmt, ...)
{
    size_t mark = r->plen;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->path + r->plen, sizeof r->path - r->plen, fmt, ap);
    va_end(ap);
    r->plen += strlen(r->path + r->plen);
    return mark;
}

size_t
pgi_jr_push_key(pgi_jr *r, const char *key)
{
    return push(r, ".%s", key);
}

size_t
pgi_jr_push_index(pgi_jr *r, size_t i)
{
    return push(r, "[%zu]", i);
}

void
pgi_jr_pop(pgi_jr *r, size_t mark)
{
    r->plen = mark;
    r->path[mark] = '\0';
}

/* Names the file, and the line, column and path of where the reader is, on the error. */
static void
here(pgi_jr *r)
{
    if (!r->err)
        return;
    int line = 0, col = 0;
    pgi_json_locate(r->text, r->len, r->path, &line, &col);
    pg_error_at(r->err, r->file, line, col, r->path);
}

int
pgi_jr_fail(pgi_jr *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pg_error_vset(r->err, code, fmt, ap);
    va_end(ap);
    here(r);
    return code;
}

int
pgi_jr_fail_key(pgi_jr *r, int code, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pg_error_vset(r->err, code, fmt, ap);
    va_end(ap);
    size_t mark = pgi_jr_push_key(r, key);
    here(r);
    pgi_jr_pop(r, mark);
    return code;
}

int
pgi_jr_place(pgi_jr *r, int rc)
{
    if (!rc || !r->err || r->err->file[0])
        return rc;
    if (rc == PG_ENOMEM)
        pg_error_at(r->err, r->file, 0, 0, NULL);
    else
        here(r);
    return rc;
}

int
pgi_jr_nomem(pgi_jr *r)
{
    return pg_error_set(r->err, PG_ENOMEM, "out of memory");
}

const char *
pgi_jr_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

int
pgi_jr_want(pgi_jr *r, const json_t *v, json_type t, const char *what)
{
    if (json_typeof(v) == t || (t == JSON_REAL && json_is_integer(v)))
        return PG_OK;
    return pgi_jr_fail(r, PG_EPARSE, "must be %s, not %s", what, pgi_jr_type_name(v));
}

int
pgi_jr_check_keys(pgi_jr *r, const json_t *obj, const char *what, const char *const *keys)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;
        while (keys[i] && strcmp(key, keys[i]) != 0)
            i++;
        if (keys[i])
            continue;
        char list[600];
        size_t n = 0;
        list[0] = '\0';
        for (i = 0; keys[i] && n < sizeof list; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", keys[i]);
        return pgi_jr_fail_key(r, PG_EPARSE, key, "unknown key '%s'%s%s (the keys are: %s)", key,
                               what ? " in " : "", what ? what : "", list);
    }
    return PG_OK;
}

int
pgi_jr_member(pgi_jr *r, const json_t *obj, const char *key, bool required, const char *what,
              json_t **out)
{
    *out = json_object_get(obj, key);
    if (!*out && required)
        return pgi_jr_fail(r, PG_EPARSE, "the key '%s' is missing (%s)", key, what);
    return PG_OK;
}

int
pgi_jr_number(pgi_jr *r, const json_t *v, double lo, double hi, double *out)
{
    if (!json_is_number(v))
        return pgi_jr_fail(r, PG_EPARSE, "must be a number, not %s", pgi_jr_type_name(v));
    double x = json_number_value(v);
    if (!isfinite(x))
        return pgi_jr_fail(r, PG_EPARSE, "must be a finite number");
    if (x < lo || x > hi) {
        if (isinf(hi))
            return pgi_jr_fail(r, PG_EPARSE, "must be at least %g (it is %g)", lo, x);
        if (isinf(lo))
            return pgi_jr_fail(r, PG_EPARSE, "must be at most %g (it is %g)", hi, x);
        return pgi_jr_fail(r, PG_EPARSE, "must be between %g and %g (it is %g)", lo, hi, x);
    }
    *out = x;
    return PG_OK;
}

int
pgi_jr_get_number(pgi_jr *r, const json_t *obj, const char *key, bool required, double lo,
                  double hi, double *out)
{
    json_t *v;
    int rc = pgi_jr_member(r, obj, key, required, "a number", &v);
    if (rc || !v)
        return rc;
    size_t mark = pgi_jr_push_key(r, key);
    rc = pgi_jr_number(r, v, lo, hi, out);
    pgi_jr_pop(r, mark);
    return rc;
}

int
pgi_jr_get_size(pgi_jr *r, const json_t *obj, const char *key, bool required, size_t lo, size_t hi,
                size_t *out)
{
    json_t *v;
    int rc = pgi_jr_member(r, obj, key, required, "a whole number", &v);
    if (rc || !v)
        return rc;
    size_t mark = pgi_jr_push_key(r, key);
    json_int_t x = json_is_integer(v) ? json_integer_value(v) : 0;
    if (json_is_real(v))
        rc = pgi_jr_fail(r, PG_EPARSE, "must be a whole number from %zu to %zu (it is %g)", lo, hi,
                         json_real_value(v));
    else if (!json_is_integer(v))
        rc = pgi_jr_fail(r, PG_EPARSE, "must be a whole number, not %s", pgi_jr_type_name(v));
    else if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi)
        rc = pgi_jr_fail(r, PG_EPARSE, "must be a whole number from %zu to %zu (it is %lld)", lo,
                         hi, (long long)x);
    else
        *out = (size_t)x;
    pgi_jr_pop(r, mark);
    return rc;
}

int
pgi_jr_get_bool(pgi_jr *r, const json_t *obj, const char *key, bool required, bool *out)
{
    json_t *v;
    int rc = pgi_jr_member(r, obj, key, required, "true or false", &v);
    if (rc || !v)
        return rc;
    if (!json_is_boolean(v))
        return pgi_jr_fail_key(r, PG_EPARSE, key, "must be true or false, not %s",
                               pgi_jr_type_name(v));
    *out = json_is_true(v);
    return PG_OK;
}

int
pgi_jr_get_string(pgi_jr *r, const json_t *obj, const char *key, bool required, const char **out)
{
    json_t *v;
    int rc = pgi_jr_member(r, obj, key, required, "a string", &v);
    if (rc || !v)
        return rc;
    size_t mark = pgi_jr_push_key(r, key);
    rc = pgi_jr_want(r, v, JSON_STRING, "a string");
    if (!rc && required && json_string_length(v) == 0)
        rc = pgi_jr_fail(r, PG_EPARSE, "must not be empty");
    if (!rc)
        *out = json_string_value(v);
    pgi_jr_pop(r, mark);
    return rc;
}

int
pgi_jr_dup_string(pgi_jr *r, const json_t *obj, const char *key, bool required, char **out)
{
    const char *s = NULL;
    int rc = pgi_jr_get_string(r, obj, key, required, &s);
    if (rc || !s)
        return rc;
    char *copy = pgi_strdup(s);
    if (!copy)
        return pgi_jr_nomem(r);
    *out = copy;
    return PG_OK;
}

int
pgi_jr_get_array(pgi_jr *r, const json_t *obj, const char *key, bool required, size_t min,
                 json_t **out)
{
    int rc = pgi_jr_member(r, obj, key, required, "an array", out);
    if (rc || !*out)
        return rc;
    size_t mark = pgi_jr_push_key(r, key);
    rc = pgi_jr_want(r, *out, JSON_ARRAY, "an array");
    if (!rc && json_array_size(*out) < min)
        rc = pgi_jr_fail(r, PG_EPARSE, "needs at least %zu element%s", min, min == 1 ? "" : "s");
    pgi_jr_pop(r, mark);
    return rc;
}

int
pgi_jr_get_object(pgi_jr *r, const json_t *obj, const char *key, bool required, json_t **out)
{
    int rc = pgi_jr_member(r, obj, key, required, "an object", out);
    if (rc || !*out)
        return rc;
    size_t mark = pgi_jr_push_key(r, key);
    rc = pgi_jr_want(r, *out, JSON_OBJECT, "an object");
    pgi_jr_pop(r, mark);
    return rc;
}
