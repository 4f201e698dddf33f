/* Reader of "plurigrid-scenario/1" files (docs/scenarios.md): JSON text to a checked pg_scenario
 * with every name resolved to an index. Every error names the file, the line, the JSON path of
 * the offending value and what is wrong, in words a newcomer understands; unknown keys are
 * errors. */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "game/scenario_internal.h"

#define FORMAT "plurigrid-scenario/1"
#define MAX_ACTIONS 64
#define MAX_Q_STATES 100000
#define MAX_AIF_STATES 4096
#define MAX_AIF_POLICIES 100000
#define MAX_TURNS 100000
#define MAX_RUNS 100000000

typedef struct rd {
    pg_error *err;
    const char *file;
    const char *text; /* the document, to find the line of an error */
    size_t len;
    char path[256];
    size_t plen;
    pg_scenario *s;
} rd;

static int fail(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(rd *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pg_error_vset(r->err, PG_EPARSE, fmt, ap);
    va_end(ap);
    int line = 0, col = 0;
    if (r->err)
        pgi_json_locate(r->text, r->len, r->path, &line, &col);
    pg_error_at(r->err, r->file, line, col, r->path);
    return PG_EPARSE;
}

static size_t
push_key(rd *r, const char *key)
{
    size_t saved = r->plen;
    int n = snprintf(r->path + r->plen, sizeof r->path - r->plen, ".%s", key);
    if (n > 0)
        r->plen = strlen(r->path);
    return saved;
}

static size_t
push_index(rd *r, size_t i)
{
    size_t saved = r->plen;
    int n = snprintf(r->path + r->plen, sizeof r->path - r->plen, "[%zu]", i);
    if (n > 0)
        r->plen = strlen(r->path);
    return saved;
}

static void
pop(rd *r, size_t saved)
{
    r->plen = saved;
    r->path[saved] = '\0';
}

static const char *
type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* Fails on any key of obj not in allowed (a NULL-terminated list). */
static int
check_keys(rd *r, const json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                ok = 1;
        if (!ok) {
            char list[400] = "";
            for (size_t i = 0; allowed[i]; i++) {
                if (i)
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, allowed[i], sizeof list - strlen(list) - 1);
            }
            size_t saved = push_key(r, key);
            int rc = fail(r, "unknown key '%s'; the keys allowed here are: %s", key, list);
            pop(r, saved);
            return rc;
        }
    }
    return PG_OK;
}

static int
expect_type(rd *r, const json_t *j, json_type t, const char *what)
{
    int ok = json_typeof(j) == t || (t == JSON_REAL && json_is_integer(j));
    if (!ok)
        return fail(r, "must be %s, not %s", what, type_name(j));
    return PG_OK;
}

/* Optional string member: *out is NULL when absent. */
static int
get_string(rd *r, const json_t *obj, const char *key, int required, char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v) {
        if (required) {
            return fail(r, "the key '%s' is missing (a string)", key);
        }
        return PG_OK;
    }
    size_t saved = push_key(r, key);
    int rc = expect_type(r, v, JSON_STRING, "a string");
    if (!rc && required && json_string_length(v) == 0)
        rc = fail(r, "must not be empty");
    if (!rc && !(*out = pgi_strdup(json_string_value(v))))
        rc = pg_error_set(r->err, PG_ENOMEM, "out of memory");
    pop(r, saved);
    return rc;
}

static int
number_value(rd *r, const json_t *v, double lo, double hi, double *out)
{
    if (!json_is_number(v))
        return fail(r, "must be a number, not %s", type_name(v));
    double x = json_number_value(v);
    if (!isfinite(x))
        return fail(r, "must be a finite number");
    if (x < lo || x > hi) {
        if (isinf(hi))
            return fail(r, "must be at least %g (it is %g)", lo, x);
        if (isinf(lo))
            return fail(r, "must be at most %g (it is %g)", hi, x);
        return fail(r, "must be between %g and %g (it is %g)", lo, hi, x);
    }
    *out = x;
    return PG_OK;
}

/* Optional number member in [lo, hi]; def when absent. */
static int
get_number(rd *r, const json_t *obj, const char *key, double def, double lo, double hi, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = def;
        return PG_OK;
    }
    size_t saved = push_key(r, key);
    int rc = number_value(r, v, lo, hi, out);
    pop(r, saved);
    return rc;
}

static int
get_size(rd *r, const json_t *obj, const char *key, size_t def, size_t lo, size_t hi, size_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = def;
        return PG_OK;
    }
    size_t saved = push_key(r, key);
    int rc = PG_OK;
    if (!json_is_integer(v))
        rc = fail(r, "must be a whole number, not %s", type_name(v));
    else if (json_integer_value(v) < (json_int_t)lo || (uint64_t)json_integer_value(v) > hi)
        rc = fail(r, "must be a whole number from %zu to %zu (it is %lld)", lo, hi,
                  (long long)json_integer_value(v));
    else
        *out = (size_t)json_integer_value(v);
    pop(r, saved);
    return rc;
}

static int
get_bool(rd *r, const json_t *obj, const char *key, int def, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = def;
        return PG_OK;
    }
    size_t saved = push_key(r, key);
    int rc = PG_OK;
    if (!json_is_boolean(v))
        rc = fail(r, "must be true or false, not %s", type_name(v));
    else
        *out = json_is_true(v);
    pop(r, saved);
    return rc;
}

/* Member that must be an array (empty when absent and not required). */
static int
get_array(rd *r, const json_t *obj, const char *key, int required, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    *out = v;
    if (!v)
        return required ? fail(r, "the key '%s' is missing (an array)", key) : PG_OK;
    size_t saved = push_key(r, key);
    int rc = expect_type(r, v, JSON_ARRAY, "an array");
    pop(r, saved);
    return rc;
}

static int
get_object(rd *r, const json_t *obj, const char *key, int required, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    *out = v;
    if (!v)
        return required ? fail(r, "the key '%s' is missing (an object)", key) : PG_OK;
    size_t saved = push_key(r, key);
    int rc = expect_type(r, v, JSON_OBJECT, "an object");
    pop(r, saved);
    return rc;
}

static void *
alloc_array(rd *r, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        pg_error_set(r->err, PG_ENOMEM, "out of memory");
    return p;
}

/* Comma-separated names for "unknown X" messages (cut short when long). */
static void
name_list(char *buf, size_t size, size_t n, const char *(*name)(const pg_scenario *, size_t),
          const pg_scenario *s)
{
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strlen(buf) + strlen(name(s, i)) + 8 >= size) {
            strncat(buf, ", ...", size - strlen(buf) - 1);
            return;
        }
        if (i)
            strncat(buf, ", ", size - strlen(buf) - 1);
        strncat(buf, name(s, i), size - strlen(buf) - 1);
    }
}

static const char *
var_name(const pg_scenario *s, size_t i)
{
    return s->vars[i].name;
}

static const char *
quantity_name(const pg_scenario *s, size_t i)
{
    return pgi_sc_quantity_name(s, i);
}

static const char *
agent_name(const pg_scenario *s, size_t i)
{
    return s->agents[i].name;
}

static const char *
shock_name(const pg_scenario *s, size_t i)
{
    return s->shocks[i].name;
}

static int
lookup_var(rd *r, const char *name, size_t *out)
{
    for (size_t i = 0; i < r->s->n_vars; i++)
        if (strcmp(r->s->vars[i].name, name) == 0) {
            *out = i;
            return PG_OK;
        }
    char list[300];
    name_list(list, sizeof list, r->s->n_vars, var_name, r->s);
    int is_ind = 0;
    for (size_t i = 0; i < r->s->n_inds; i++)
        if (r->s->inds[i].name && strcmp(r->s->inds[i].name, name) == 0)
            is_ind = 1;
    if (is_ind)
        return fail(r,
                    "'%s' is an indicator; only state variables can be changed here "
                    "(variables: %s)",
                    name, list);
    return fail(r, "unknown variable '%s' (variables: %s)", name, list);
}

static int
lookup_quantity(rd *r, const char *name, size_t *out)
{
    size_t nq = pgi_sc_n_quantities(r->s);
    for (size_t i = 0; i < nq; i++) {
        const char *qn = pgi_sc_quantity_name(r->s, i);
        if (qn && strcmp(qn, name) == 0) {
            *out = i;
            return PG_OK;
        }
    }
    char list[300];
    name_list(list, sizeof list, nq, quantity_name, r->s);
    return fail(r, "unknown variable or indicator '%s' (known: %s)", name, list);
}

static int
lookup_agent(rd *r, const char *name, size_t *out)
{
    for (size_t i = 0; i < r->s->n_agents; i++)
        if (strcmp(r->s->agents[i].name, name) == 0) {
            *out = i;
            return PG_OK;
        }
    char list[300];
    name_list(list, sizeof list, r->s->n_agents, agent_name, r->s);
    return fail(r, "unknown agent '%s' (agents: %s)", name, list);
}

static int
lookup_action(rd *r, size_t agent, const char *name, size_t *out)
{
    const sc_agent *a = &r->s->agents[agent];
    for (size_t i = 0; i < a->n_actions; i++)
        if (strcmp(a->actions[i].name, name) == 0) {
            *out = i;
            return PG_OK;
        }
    char list[300] = "";
    for (size_t i = 0; i < a->n_actions; i++) {
        if (i)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, a->actions[i].name, sizeof list - strlen(list) - 1);
    }
    return fail(r, "agent '%s' has no action '%s' (its actions: %s)", a->name, name, list);
}

static int
lookup_shock(rd *r, const char *name, size_t *out)
{
    for (size_t i = 0; i < r->s->n_shocks; i++)
        if (strcmp(r->s->shocks[i].name, name) == 0) {
            *out = i;
            return PG_OK;
        }
    char list[300];
    name_list(list, sizeof list, r->s->n_shocks, shock_name, r->s);
    return fail(r, "unknown shock '%s' (shocks: %s)", name, list[0] ? list : "none");
}

/* Checks that names[0..n-1] are unique; path points at the array. */
static int
check_unique(rd *r, char *const *names, size_t stride_bytes, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        const char *a = *(char *const *)((const char *)names + i * stride_bytes);
        for (size_t j = 0; j < i; j++) {
            const char *b = *(char *const *)((const char *)names + j * stride_bytes);
            if (strcmp(a, b) == 0) {
                size_t saved = push_index(r, i);
                push_key(r, "name");
                int rc = fail(r, "the %s name '%s' is used twice (also at index %zu)", what, a, j);
                pop(r, saved);
                return rc;
            }
        }
    }
    return PG_OK;
}

/* ---------------------------------------------------------------- variables, indicators */

static int
parse_variables(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name", "description", "unit",  "initial", "min",
                                       "max",  "baseline",    "decay", "noise",   NULL};
    json_t *arr;
    int rc = get_array(r, root, "variables", 1, &arr);
    if (rc)
        return rc;
    size_t saved = push_key(r, "variables");
    pg_scenario *s = r->s;
    s->n_vars = json_array_size(arr);
    if (!s->n_vars) {
        rc = fail(r, "a scenario needs at least one state variable");
        goto out;
    }
    if (!(s->vars = alloc_array(r, s->n_vars, sizeof *s->vars))) {
        rc = PG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < s->n_vars; i++) {
        json_t *v = json_array_get(arr, i);
        sc_var *x = &s->vars[i];
        size_t si = push_index(r, i);
        if ((rc = expect_type(r, v, JSON_OBJECT, "an object")) || (rc = check_keys(r, v, keys)) ||
            (rc = get_string(r, v, "name", 1, &x->name)) ||
            (rc = get_string(r, v, "description", 0, &x->description)) ||
            (rc = get_string(r, v, "unit", 0, &x->unit)) ||
            (rc = get_number(r, v, "min", 0.0, -INFINITY, INFINITY, &x->min)) ||
            (rc = get_number(r, v, "max", 1.0, -INFINITY, INFINITY, &x->max)))
            goto out;
        if (!(x->max > x->min)) {
            size_t sk = push_key(r, "max");
            rc = fail(r, "max (%g) must be greater than min (%g)", x->max, x->min);
            pop(r, sk);
            goto out;
        }
        json_t *init = json_object_get(v, "initial");
        size_t sk = push_key(r, "initial");
        if (!init) {
            pop(r, sk);
            rc = fail(r, "the key 'initial' is missing (a number or a range [low, high])");
            goto out;
        }
        if (json_is_array(init)) {
            if (json_array_size(init) != 2) {
                rc = fail(r, "a range must have two numbers [low, high]");
                goto out;
            }
            size_t s0 = push_index(r, 0);
            rc = number_value(r, json_array_get(init, 0), x->min, x->max, &x->init_lo);
            pop(r, s0);
            if (rc)
                goto out;
            s0 = push_index(r, 1);
            rc = number_value(r, json_array_get(init, 1), x->init_lo, x->max, &x->init_hi);
            pop(r, s0);
            if (rc)
                goto out;
        } else {
            if ((rc = number_value(r, init, x->min, x->max, &x->init_lo)))
                goto out;
            x->init_hi = x->init_lo;
        }
        pop(r, sk);
        if ((rc = get_number(r, v, "baseline", 0.5 * (x->init_lo + x->init_hi), x->min, x->max,
                             &x->baseline)) ||
            (rc = get_number(r, v, "decay", 0.0, 0.0, 1.0, &x->decay)) ||
            (rc = get_number(r, v, "noise", 0.0, 0.0, INFINITY, &x->noise)))
            goto out;
        pop(r, si);
    }
    rc = check_unique(r, &s->vars[0].name, sizeof *s->vars, s->n_vars, "variable");
out:
    pop(r, saved);
    return rc;
}

static int
parse_indicators(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name", "description", "terms", "offset", NULL};
    json_t *arr;
    int rc = get_array(r, root, "indicators", 0, &arr);
    if (rc || !arr)
        return rc;
    size_t saved = push_key(r, "indicators");
    pg_scenario *s = r->s;
    size_t n = json_array_size(arr);
    if (!(s->inds = alloc_array(r, n, sizeof *s->inds))) {
        rc = PG_ENOMEM;
        goto out;
    }
    s->n_inds = n;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        sc_indicator *x = &s->inds[i];
        size_t si = push_index(r, i);
        json_t *terms;
        if ((rc = expect_type(r, v, JSON_OBJECT, "an object")) || (rc = check_keys(r, v, keys)) ||
            (rc = get_string(r, v, "name", 1, &x->name)) ||
            (rc = get_string(r, v, "description", 0, &x->description)) ||
            (rc = get_number(r, v, "offset", 0.0, -INFINITY, INFINITY, &x->offset)) ||
            (rc = get_object(r, v, "terms", 1, &terms)))
            goto out;
        for (size_t k = 0; k < s->n_vars; k++)
            if (strcmp(s->vars[k].name, x->name) == 0) {
                size_t sk = push_key(r, "name");
                rc = fail(r, "'%s' is already the name of a variable", x->name);
                pop(r, sk);
                goto out;
            }
        x->n_terms = json_object_size(terms);
        if (!x->n_terms) {
            size_t sk = push_key(r, "terms");
            rc = fail(r, "an indicator needs at least one term {\"variable\": weight}");
            pop(r, sk);
            goto out;
        }
        if (!(x->var = alloc_array(r, x->n_terms, sizeof *x->var)) ||
            !(x->weight = alloc_array(r, x->n_terms, sizeof *x->weight))) {
            rc = PG_ENOMEM;
            goto out;
        }
        size_t sk = push_key(r, "terms");
        const char *key;
        json_t *w;
        size_t k = 0;
        x->lo = x->hi = x->offset;
        json_object_foreach(terms, key, w)
        {
            size_t st = push_key(r, key);
            if ((rc = lookup_var(r, key, &x->var[k])) ||
                (rc = number_value(r, w, -INFINITY, INFINITY, &x->weight[k]))) {
                goto out;
            }
            pop(r, st);
            const sc_var *vv = &s->vars[x->var[k]];
            double a = x->weight[k] * vv->min, b = x->weight[k] * vv->max;
            x->lo += fmin(a, b);
            x->hi += fmax(a, b);
            k++;
        }
        pop(r, sk);
        pop(r, si);
    }
    rc = check_unique(r, &s->inds[0].name, sizeof *s->inds, n, "indicator");
out:
    pop(r, saved);
    return rc;
}

/* ---------------------------------------------------------------- conditions and effects */

static int
parse_conditions(rd *r, const json_t *obj, sc_cond **out, size_t *n_out)
{
    static const char *const keys[] = {"quantity", "above", "below", "shock", "active", NULL};
    json_t *arr;
    int rc = get_array(r, obj, "if", 0, &arr);
    *out = NULL;
    *n_out = 0;
    if (rc || !arr)
        return rc;
    size_t saved = push_key(r, "if");
    size_t n = json_array_size(arr);
    sc_cond *c = alloc_array(r, n, sizeof *c);
    if (!c) {
        rc = PG_ENOMEM;
        goto out;
    }
    *out = c;
    *n_out = n;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        size_t si = push_index(r, i);
        if ((rc = expect_type(r, v, JSON_OBJECT, "an object")) || (rc = check_keys(r, v, keys)))
            goto out;
        json_t *q = json_object_get(v, "quantity"), *sh = json_object_get(v, "shock");
        if ((q != NULL) == (sh != NULL)) {
            rc = fail(r,
                      "a condition names either a \"quantity\" (with \"above\" and/or "
                      "\"below\") or a \"shock\" (with \"active\"), not %s",
                      q ? "both" : "neither");
            goto out;
        }
        char *name = NULL;
        if (q) {
            c[i].kind = COND_RANGE;
            if ((rc = get_string(r, v, "quantity", 1, &name)))
                goto out;
            size_t sk = push_key(r, "quantity");
            rc = lookup_quantity(r, name, &c[i].q);
            pop(r, sk);
            free(name);
            if (rc ||
                (rc = get_number(r, v, "above", -INFINITY, -INFINITY, INFINITY, &c[i].above)) ||
                (rc = get_number(r, v, "below", INFINITY, -INFINITY, INFINITY, &c[i].below)))
                goto out;
            if (json_object_get(v, "active")) {
                rc = fail(r, "\"active\" goes with \"shock\", not with \"quantity\"");
                goto out;
            }
            if (isinf(c[i].above) && isinf(c[i].below)) {
                rc = fail(r, "a quantity condition needs \"above\", \"below\" or both");
                goto out;
            }
            if (!(c[i].above < c[i].below)) {
                rc = fail(r,
                          "\"above\" (%g) must be less than \"below\" (%g): nothing "
                          "would satisfy this condition",
                          c[i].above, c[i].below);
                goto out;
            }
        } else {
            c[i].kind = COND_SHOCK;
            if ((rc = get_string(r, v, "shock", 1, &name)))
                goto out;
            size_t sk = push_key(r, "shock");
            rc = lookup_shock(r, name, &c[i].q);
            pop(r, sk);
            free(name);
            if (rc || (rc = get_bool(r, v, "active", 1, &c[i].active)))
                goto out;
            if (json_object_get(v, "above") || json_object_get(v, "below")) {
                rc = fail(r, "\"above\" and \"below\" go with \"quantity\", not with \"shock\"");
                goto out;
            }
        }
        pop(r, si);
    }
out:
    pop(r, saved);
    return rc;
}

static int
parse_effects(rd *r, const json_t *obj, const char *key, int required, sc_effect **out,
              size_t *n_out)
{
    static const char *const keys[] = {"var", "add", "per", "noise", NULL};
    json_t *arr;
    int rc = get_array(r, obj, key, required, &arr);
    *out = NULL;
    *n_out = 0;
    if (rc || !arr)
        return rc;
    size_t saved = push_key(r, key);
    size_t n = json_array_size(arr);
    if (required && n == 0) {
        rc = fail(r, "needs at least one effect {\"var\": ..., \"add\": ...}");
        goto out;
    }
    sc_effect *e = alloc_array(r, n, sizeof *e);
    if (!e) {
        rc = PG_ENOMEM;
        goto out;
    }
    *out = e;
    *n_out = n;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        size_t si = push_index(r, i);
        char *name = NULL;
        json_t *per;
        if ((rc = expect_type(r, v, JSON_OBJECT, "an object")) || (rc = check_keys(r, v, keys)) ||
            (rc = get_string(r, v, "var", 1, &name)))
            goto out;
        size_t sk = push_key(r, "var");
        rc = lookup_var(r, name, &e[i].var);
        pop(r, sk);
        free(name);
        if (rc || (rc = get_number(r, v, "add", 0.0, -INFINITY, INFINITY, &e[i].add)) ||
            (rc = get_number(r, v, "noise", 0.0, 0.0, INFINITY, &e[i].noise)) ||
            (rc = get_object(r, v, "per", 0, &per)))
            goto out;
        if (!json_object_get(v, "add") && !per && e[i].noise == 0) {
            rc = fail(r, "an effect needs \"add\", \"per\" or \"noise\"; this one does nothing");
            goto out;
        }
        if (per) {
            size_t np = json_object_size(per);
            if (!(e[i].per_q = alloc_array(r, np, sizeof(size_t))) ||
                !(e[i].per_coef = alloc_array(r, np, sizeof(double)))) {
                rc = PG_ENOMEM;
                goto out;
            }
            e[i].n_per = np;
            size_t sp = push_key(r, "per");
            const char *qk;
            json_t *qv;
            size_t k = 0;
            json_object_foreach(per, qk, qv)
            {
                size_t sq = push_key(r, qk);
                if ((rc = lookup_quantity(r, qk, &e[i].per_q[k])) ||
                    (rc = number_value(r, qv, -INFINITY, INFINITY, &e[i].per_coef[k])))
                    goto out;
                pop(r, sq);
                k++;
            }
            pop(r, sp);
        }
        pop(r, si);
    }
out:
    pop(r, saved);
    return rc;
}

/* ---------------------------------------------------------------- agents and strategies */

/* "observe": "level" (with "bins") or "change" (with "band"; three outcomes). */
static int
parse_observe(rd *r, const json_t *v, sc_strategy *st, size_t def_bins, size_t min_bins,
              size_t max_bins)
{
    char *mode = NULL;
    int rc = get_string(r, v, "observe", 0, &mode);
    if (rc)
        return rc;
    if (!mode || strcmp(mode, "level") == 0) {
        st->observe_change = 0;
        rc = get_size(r, v, "bins", def_bins, min_bins, max_bins, &st->bins);
        if (!rc && json_object_get(v, "band")) {
            size_t sk = push_key(r, "band");
            rc = fail(r, "\"band\" goes with \"observe\": \"change\"");
            pop(r, sk);
        }
    } else if (strcmp(mode, "change") == 0) {
        st->observe_change = 1;
        st->bins = 3;
        if (json_object_get(v, "bins")) {
            size_t sk = push_key(r, "bins");
            rc = fail(r, "\"bins\" goes with \"observe\": \"level\"; a change reads as down, "
                         "flat or up");
            pop(r, sk);
        } else {
            rc = get_number(r, v, "band", 0.001, 0.0, 1.0, &st->band);
        }
    } else {
        size_t sk = push_key(r, "observe");
        rc = fail(r, "unknown observation '%s' (use \"level\" or \"change\")", mode);
        pop(r, sk);
    }
    free(mode);
    return rc;
}

static int
parse_strategy(rd *r, const json_t *v, const sc_agent *ag, sc_strategy *st)
{
    static const char *const fixed_keys[] = {"kind", "action", "mix", NULL};
    static const char *const random_keys[] = {"kind", NULL};
    static const char *const re_keys[] = {
        "kind", "initial_propensity", "recency", "experimentation", "temperature", "epsilon", NULL};
    static const char *const q_keys[] = {"kind",        "alpha", "gamma",   "epsilon", "initial",
                                         "temperature", "bins",  "observe", "band",    NULL};
    static const char *const aif_keys[] = {
        "kind",        "depth",     "gamma",     "bins",    "learning_rate", "concentration",
        "preferences", "precision", "selection", "observe", "band",          NULL};
    memset(st, 0, sizeof *st);
    int rc = expect_type(r, v, JSON_OBJECT, "an object");
    if (rc)
        return rc;
    char *kind = NULL;
    if ((rc = get_string(r, v, "kind", 1, &kind)))
        return rc;
    size_t na = ag->n_actions;
    if (strcmp(kind, "fixed") == 0 || strcmp(kind, "random") == 0) {
        int is_random = kind[0] == 'r';
        st->kind = ST_FIXED;
        if ((rc = check_keys(r, v, is_random ? random_keys : fixed_keys)))
            goto out;
        if (!(st->mix = alloc_array(r, na, sizeof(double)))) {
            rc = PG_ENOMEM;
            goto out;
        }
        json_t *act = json_object_get(v, "action"), *mix = json_object_get(v, "mix");
        if (is_random) {
            for (size_t a = 0; a < na; a++)
                st->mix[a] = 1.0 / (double)na;
        } else if ((act != NULL) == (mix != NULL)) {
            rc = fail(r, "a fixed strategy gives either \"action\" (one action) or \"mix\" "
                         "({\"action\": probability, ...})");
            goto out;
        } else if (act) {
            char *name = NULL;
            size_t a;
            if ((rc = get_string(r, v, "action", 1, &name)))
                goto out;
            size_t sk = push_key(r, "action");
            rc = lookup_action(r, (size_t)(ag - r->s->agents), name, &a);
            pop(r, sk);
            free(name);
            if (rc)
                goto out;
            st->mix[a] = 1;
        } else {
            size_t sk = push_key(r, "mix");
            if ((rc = expect_type(r, mix, JSON_OBJECT, "an object"))) {
                pop(r, sk);
                goto out;
            }
            const char *an;
            json_t *pv;
            double total = 0;
            json_object_foreach(mix, an, pv)
            {
                size_t sa = push_key(r, an);
                size_t a;
                double p;
                if ((rc = lookup_action(r, (size_t)(ag - r->s->agents), an, &a)) ||
                    (rc = number_value(r, pv, 0.0, 1.0, &p))) {
                    goto out;
                }
                pop(r, sa);
                st->mix[a] = p;
                total += p;
            }
            if (fabs(total - 1.0) > 1e-9) {
                rc = fail(r, "the probabilities add up to %g; they must add up to 1", total);
                goto out;
            }
            pop(r, sk);
        }
    } else if (strcmp(kind, "roth-erev") == 0) {
        st->kind = ST_ROTH_EREV;
        pg_learn_options_init(&st->learn, PG_LEARN_ROTH_EREV, 1, na);
        if ((rc = check_keys(r, v, re_keys)) ||
            (rc = get_number(r, v, "initial_propensity", st->learn.initial_propensity, 1e-9,
                             INFINITY, &st->learn.initial_propensity)) ||
            (rc = get_number(r, v, "recency", st->learn.recency, 0.0, 0.999999,
                             &st->learn.recency)) ||
            (rc = get_number(r, v, "experimentation", st->learn.experimentation, 0.0, 0.999999,
                             &st->learn.experimentation)) ||
            (rc = get_number(r, v, "temperature", st->learn.temperature, 0.0, INFINITY,
                             &st->learn.temperature)) ||
            (rc = get_number(r, v, "epsilon", st->learn.epsilon, 0.0, 1.0, &st->learn.epsilon)))
            goto out;
    } else if (strcmp(kind, "q-learning") == 0) {
        st->kind = ST_Q_LEARNING;
        if ((rc = check_keys(r, v, q_keys)) || (rc = parse_observe(r, v, st, 3, 1, 1000)))
            goto out;
        size_t ns = 1;
        for (size_t k = 0; k < ag->n_observes; k++) {
            if (ns > MAX_Q_STATES / st->bins) {
                rc = fail(r,
                          "%zu bins for each of the %zu quantities agent '%s' observes make "
                          "more than %d states; use fewer bins or observe less",
                          st->bins, ag->n_observes, ag->name, MAX_Q_STATES);
                goto out;
            }
            ns *= st->bins;
        }
        pg_learn_options_init(&st->learn, PG_LEARN_Q_LEARNING, ns, na);
        if ((rc = get_number(r, v, "alpha", st->learn.alpha, 0.0, 1.0, &st->learn.alpha)) ||
            (rc = get_number(r, v, "gamma", st->learn.gamma, 0.0, 0.999999, &st->learn.gamma)) ||
            (rc = get_number(r, v, "epsilon", st->learn.epsilon, 0.0, 1.0, &st->learn.epsilon)) ||
            (rc = get_number(r, v, "initial", st->learn.initial_value, -INFINITY, INFINITY,
                             &st->learn.initial_value)) ||
            (rc = get_number(r, v, "temperature", st->learn.temperature, 0.0, INFINITY,
                             &st->learn.temperature)))
            goto out;
    } else if (strcmp(kind, "active-inference") == 0) {
        st->kind = ST_AIF;
        char *sel = NULL;
        if ((rc = check_keys(r, v, aif_keys)) ||
            (rc = get_size(r, v, "depth", 2, 1, 20, &st->depth)) ||
            (rc = parse_observe(r, v, st, 4, 2, 64)) ||
            (rc = get_number(r, v, "gamma", 8.0, 0.0, 1e6, &st->gamma)) ||
            (rc = get_number(r, v, "learning_rate", 1.0, 0.0, 1e6, &st->learning_rate)) ||
            (rc = get_number(r, v, "concentration", 1.0, 1e-6, 1e6, &st->concentration)) ||
            (rc = get_number(r, v, "precision", 4.0, 0.0, 1e3, &st->precision)) ||
            (rc = get_string(r, v, "selection", 0, &sel)))
            goto out;
        st->sample = 1;
        if (sel) {
            if (strcmp(sel, "argmax") == 0) {
                st->sample = 0;
            } else if (strcmp(sel, "sample") != 0) {
                size_t sk = push_key(r, "selection");
                rc = fail(r, "unknown selection '%s' (use \"sample\" or \"argmax\")", sel);
                pop(r, sk);
            }
            free(sel);
            if (rc)
                goto out;
        }
        if (!ag->n_observes) {
            rc = fail(r,
                      "an active-inference agent needs something to observe: give agent "
                      "'%s' an \"observes\" list",
                      ag->name);
            goto out;
        }
        size_t S = 1;
        for (size_t k = 0; k < ag->n_observes; k++) {
            if (S > MAX_AIF_STATES / st->bins) {
                rc = fail(r,
                          "%zu bins for each of the %zu observed quantities make more than "
                          "%d hidden states; use fewer bins or observe less",
                          st->bins, ag->n_observes, MAX_AIF_STATES);
                goto out;
            }
            S *= st->bins;
        }
        size_t np = 1;
        for (size_t d = 0; d < st->depth; d++) {
            if (np > MAX_AIF_POLICIES / na) {
                rc = fail(r,
                          "%zu actions to the depth %zu make more than %d policies; plan "
                          "less deep",
                          na, st->depth, MAX_AIF_POLICIES);
                goto out;
            }
            np *= na;
        }
        if (!(st->pref = alloc_array(r, ag->n_observes, sizeof(double)))) {
            rc = PG_ENOMEM;
            goto out;
        }
        json_t *pref;
        if ((rc = get_object(r, v, "preferences", 0, &pref)))
            goto out;
        int any = 0;
        if (pref) {
            size_t sk = push_key(r, "preferences");
            const char *qk;
            json_t *qv;
            json_object_foreach(pref, qk, qv)
            {
                size_t sq = push_key(r, qk), q, k;
                double w;
                if ((rc = lookup_quantity(r, qk, &q)) ||
                    (rc = number_value(r, qv, -INFINITY, INFINITY, &w)))
                    goto out;
                for (k = 0; k < ag->n_observes && ag->observes[k] != q; k++)
                    ;
                if (k == ag->n_observes) {
                    rc = fail(r,
                              "agent '%s' does not observe '%s'; preferences are over what it "
                              "observes",
                              ag->name, qk);
                    goto out;
                }
                st->pref[k] = w;
                any |= (w != 0);
                pop(r, sq);
            }
            pop(r, sk);
        } else {
            /* by default the agent prefers high levels of what its reward values */
            for (size_t t = 0; t < ag->n_reward; t++)
                for (size_t k = 0; k < ag->n_observes; k++)
                    if (ag->observes[k] == ag->reward[t].q) {
                        st->pref[k] += ag->reward[t].weight;
                        any |= (ag->reward[t].weight != 0);
                    }
        }
        if (!any) {
            rc = fail(r,
                      "agent '%s' would have no preferences: give \"preferences\" "
                      "({\"quantity\": weight}) or reward terms on quantities it observes",
                      ag->name);
            goto out;
        }
    } else if (strcmp(kind, "regret-matching") == 0 || strcmp(kind, "fictitious-play") == 0 ||
               strcmp(kind, "conditional-regret") == 0 || strcmp(kind, "best-response") == 0) {
        size_t sk = push_key(r, "kind");
        rc = fail(r,
                  "'%s' learns from the payoffs of actions not taken, which a scenario "
                  "cannot know; use \"roth-erev\", \"q-learning\" or \"active-inference\"",
                  kind);
        pop(r, sk);
        goto out;
    } else {
        size_t sk = push_key(r, "kind");
        rc = fail(r,
                  "unknown strategy kind '%s' (kinds: fixed, random, roth-erev, "
                  "q-learning, active-inference)",
                  kind);
        pop(r, sk);
        goto out;
    }
out:
    free(kind);
    return rc;
}

static int
parse_agents(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name",   "description", "actions",           "observes",
                                       "reward", "strategy",    "observation_noise", NULL};
    static const char *const akeys[] = {"name", "description", "cost", NULL};
    static const char *const rkeys[] = {"terms", "offset", NULL};
    json_t *arr;
    int rc = get_array(r, root, "agents", 1, &arr);
    if (rc)
        return rc;
    size_t saved = push_key(r, "agents");
    pg_scenario *s = r->s;
    size_t n = json_array_size(arr);
    if (!n) {
        rc = fail(r, "a scenario needs at least one agent");
        goto out;
    }
    if (!(s->agents = alloc_array(r, n, sizeof *s->agents))) {
        rc = PG_ENOMEM;
        goto out;
    }
    /* names first, so that strategies and rules can refer to any agent */
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        size_t si = push_index(r, i);
        if ((rc = expect_type(r, v, JSON_OBJECT, "an object")) || (rc = check_keys(r, v, keys)) ||
            (rc = get_string(r, v, "name", 1, &s->agents[i].name)))
            goto out;
        s->n_agents = i + 1;
        pop(r, si);
    }
    if ((rc = check_unique(r, &s->agents[0].name, sizeof *s->agents, n, "agent")))
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i), *acts, *obs, *rew, *strat;
        sc_agent *ag = &s->agents[i];
        size_t si = push_index(r, i);
        if ((rc = get_string(r, v, "description", 0, &ag->description)) ||
            (rc = get_array(r, v, "actions", 1, &acts)) ||
            (rc = get_array(r, v, "observes", 0, &obs)) ||
            (rc =
                 get_number(r, v, "observation_noise", 0.0, 0.0, INFINITY, &ag->observation_noise)))
            goto out;
        ag->n_actions = json_array_size(acts);
        size_t sk = push_key(r, "actions");
        if (ag->n_actions == 0 || ag->n_actions > MAX_ACTIONS) {
            rc = fail(r, "an agent needs from 1 to %d actions (it has %zu)", MAX_ACTIONS,
                      ag->n_actions);
            goto out;
        }
        if (!(ag->actions = alloc_array(r, ag->n_actions, sizeof *ag->actions))) {
            rc = PG_ENOMEM;
            goto out;
        }
        for (size_t a = 0; a < ag->n_actions; a++) {
            json_t *av = json_array_get(acts, a);
            size_t sa = push_index(r, a);
            if (json_is_string(av)) {
                if (!json_string_length(av)) {
                    rc = fail(r, "an action name must not be empty");
                    goto out;
                }
                ag->actions[a].name = pgi_strdup(json_string_value(av));
                if (!ag->actions[a].name) {
                    rc = pg_error_set(r->err, PG_ENOMEM, "out of memory");
                    goto out;
                }
            } else if ((rc = expect_type(r, av, JSON_OBJECT, "an object or a name")) ||
                       (rc = check_keys(r, av, akeys)) ||
                       (rc = get_string(r, av, "name", 1, &ag->actions[a].name)) ||
                       (rc = get_string(r, av, "description", 0, &ag->actions[a].description)) ||
                       (rc = get_number(r, av, "cost", 0.0, -INFINITY, INFINITY,
                                        &ag->actions[a].cost))) {
                goto out;
            }
            pop(r, sa);
        }
        if ((rc = check_unique(r, &ag->actions[0].name, sizeof *ag->actions, ag->n_actions,
                               "action")))
            goto out;
        pop(r, sk);
        if (obs) {
            ag->n_observes = json_array_size(obs);
            if (!(ag->observes = alloc_array(r, ag->n_observes, sizeof(size_t)))) {
                rc = PG_ENOMEM;
                goto out;
            }
            sk = push_key(r, "observes");
            for (size_t k = 0; k < ag->n_observes; k++) {
                json_t *qv = json_array_get(obs, k);
                size_t sq = push_index(r, k);
                if ((rc = expect_type(r, qv, JSON_STRING, "a variable or indicator name")) ||
                    (rc = lookup_quantity(r, json_string_value(qv), &ag->observes[k])))
                    goto out;
                for (size_t j = 0; j < k; j++)
                    if (ag->observes[j] == ag->observes[k]) {
                        rc = fail(r, "'%s' is listed twice", json_string_value(qv));
                        goto out;
                    }
                pop(r, sq);
            }
            pop(r, sk);
        }
        if ((rc = get_object(r, v, "reward", 0, &rew)))
            goto out;
        if (rew) {
            sk = push_key(r, "reward");
            json_t *terms;
            if ((rc = check_keys(r, rew, rkeys)) ||
                (rc = get_number(r, rew, "offset", 0.0, -INFINITY, INFINITY, &ag->reward_offset)) ||
                (rc = get_array(r, rew, "terms", 1, &terms)))
                goto out;
            ag->n_reward = json_array_size(terms);
            if (!(ag->reward = alloc_array(r, ag->n_reward, sizeof *ag->reward))) {
                rc = PG_ENOMEM;
                goto out;
            }
            size_t st = push_key(r, "terms");
            for (size_t k = 0; k < ag->n_reward; k++) {
                static const char *const tkeys[] = {"quantity", "weight", "change", NULL};
                json_t *tv = json_array_get(terms, k);
                size_t sq = push_index(r, k);
                char *name = NULL;
                if ((rc = expect_type(r, tv, JSON_OBJECT, "an object")) ||
                    (rc = check_keys(r, tv, tkeys)) ||
                    (rc = get_string(r, tv, "quantity", 1, &name)))
                    goto out;
                size_t sn = push_key(r, "quantity");
                rc = lookup_quantity(r, name, &ag->reward[k].q);
                pop(r, sn);
                free(name);
                if (rc ||
                    (rc = get_number(r, tv, "weight", 1.0, -INFINITY, INFINITY,
                                     &ag->reward[k].weight)) ||
                    (rc = get_bool(r, tv, "change", 0, &ag->reward[k].change)))
                    goto out;
                pop(r, sq);
            }
            pop(r, st);
            pop(r, sk);
        }
        if ((rc = get_object(r, v, "strategy", 0, &strat)))
            goto out;
        if (strat) {
            sk = push_key(r, "strategy");
            if ((rc = parse_strategy(r, strat, ag, &ag->strategy)))
                goto out;
            pop(r, sk);
        } else {
            ag->strategy.kind = ST_FIXED;
            if (!(ag->strategy.mix = alloc_array(r, ag->n_actions, sizeof(double)))) {
                rc = PG_ENOMEM;
                goto out;
            }
            for (size_t a = 0; a < ag->n_actions; a++)
                ag->strategy.mix[a] = 1.0 / (double)ag->n_actions;
        }
        pop(r, si);
    }
out:
    pop(r, saved);
    return rc;
}

/* ---------------------------------------------------------------- rules, shocks */

static int
parse_when(rd *r, const json_t *obj, sc_when **out, size_t *n_out)
{
    json_t *when;
    int rc = get_object(r, obj, "when", 0, &when);
    *out = NULL;
    *n_out = 0;
    if (rc || !when)
        return rc;
    size_t saved = push_key(r, "when");
    size_t n = json_object_size(when);
    sc_when *w = alloc_array(r, n, sizeof *w);
    if (!w) {
        rc = PG_ENOMEM;
        goto out;
    }
    *out = w;
    *n_out = n;
    const char *key;
    json_t *v;
    size_t i = 0;
    json_object_foreach(when, key, v)
    {
        size_t sk = push_key(r, key);
        if ((rc = lookup_agent(r, key, &w[i].agent)))
            goto out;
        if (json_is_string(v)) {
            size_t a;
            if ((rc = lookup_action(r, w[i].agent, json_string_value(v), &a)))
                goto out;
            w[i].actions = (uint64_t)1 << a;
        } else if (json_is_array(v) && json_array_size(v) > 0) {
            for (size_t k = 0; k < json_array_size(v); k++) {
                json_t *av = json_array_get(v, k);
                size_t sa = push_index(r, k), a;
                if ((rc = expect_type(r, av, JSON_STRING, "an action name")) ||
                    (rc = lookup_action(r, w[i].agent, json_string_value(av), &a)))
                    goto out;
                w[i].actions |= (uint64_t)1 << a;
                pop(r, sa);
            }
        } else {
            rc = fail(r, "must be an action name or a non-empty list of action names");
            goto out;
        }
        pop(r, sk);
        i++;
    }
out:
    pop(r, saved);
    return rc;
}

static int
parse_shocks(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name",     "description", "turn",   "probability",
                                       "duration", "onset",       "during", NULL};
    json_t *arr;
    int rc = get_array(r, root, "shocks", 0, &arr);
    if (rc || !arr)
        return rc;
    size_t saved = push_key(r, "shocks");
    pg_scenario *s = r->s;
    size_t n = json_array_size(arr);
    if (!(s->shocks = alloc_array(r, n, sizeof *s->shocks))) {
        rc = PG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        sc_shock *x = &s->shocks[i];
        size_t si = push_index(r, i);
        if ((rc = expect_type(r, v, JSON_OBJECT, "an object")) || (rc = check_keys(r, v, keys)) ||
            (rc = get_string(r, v, "name", 1, &x->name)))
            goto out;
        s->n_shocks = i + 1;
        pop(r, si);
    }
    if ((rc = check_unique(r, &s->shocks[0].name, sizeof *s->shocks, n, "shock")))
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        sc_shock *x = &s->shocks[i];
        size_t si = push_index(r, i);
        if ((rc = get_string(r, v, "description", 0, &x->description)) ||
            (rc = get_number(r, v, "probability", 1.0, 0.0, 1.0, &x->probability)) ||
            (rc = get_size(r, v, "duration", 1, 1, MAX_TURNS, &x->duration)) ||
            (rc = parse_effects(r, v, "onset", 0, &x->onset, &x->n_onset)) ||
            (rc = parse_effects(r, v, "during", 0, &x->during, &x->n_during)))
            goto out;
        if (!x->n_onset && !x->n_during) {
            rc = fail(r, "a shock needs \"onset\" effects, \"during\" effects or both");
            goto out;
        }
        json_t *t = json_object_get(v, "turn");
        size_t sk = push_key(r, "turn");
        if (!t) {
            pop(r, sk);
            rc = fail(r, "the key 'turn' is missing (a turn number or a range [first, last])");
            goto out;
        }
        if (json_is_integer(t) && json_integer_value(t) >= 1 &&
            json_integer_value(t) <= MAX_TURNS) {
            x->turn_lo = x->turn_hi = (size_t)json_integer_value(t);
        } else if (json_is_array(t) && json_array_size(t) == 2 &&
                   json_is_integer(json_array_get(t, 0)) && json_is_integer(json_array_get(t, 1)) &&
                   json_integer_value(json_array_get(t, 0)) >= 1 &&
                   json_integer_value(json_array_get(t, 1)) >=
                       json_integer_value(json_array_get(t, 0)) &&
                   json_integer_value(json_array_get(t, 1)) <= MAX_TURNS) {
            x->turn_lo = (size_t)json_integer_value(json_array_get(t, 0));
            x->turn_hi = (size_t)json_integer_value(json_array_get(t, 1));
        } else {
            rc = fail(r, "must be a turn number from 1 or a range [first, last] of turn numbers "
                         "with first <= last");
            goto out;
        }
        pop(r, sk);
        pop(r, si);
    }
out:
    pop(r, saved);
    return rc;
}

static int
parse_rules(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name",        "description", "when", "if",
                                       "probability", "effects",     NULL};
    json_t *arr;
    int rc = get_array(r, root, "rules", 0, &arr);
    if (rc || !arr)
        return rc;
    size_t saved = push_key(r, "rules");
    pg_scenario *s = r->s;
    size_t n = json_array_size(arr);
    if (!(s->rules = alloc_array(r, n, sizeof *s->rules))) {
        rc = PG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        sc_rule *x = &s->rules[i];
        s->n_rules = i + 1;
        size_t si = push_index(r, i);
        if ((rc = expect_type(r, v, JSON_OBJECT, "an object")) || (rc = check_keys(r, v, keys)) ||
            (rc = get_string(r, v, "name", 0, &x->name)) ||
            (rc = get_string(r, v, "description", 0, &x->description)) ||
            (rc = get_number(r, v, "probability", 1.0, 0.0, 1.0, &x->probability)) ||
            (rc = parse_when(r, v, &x->when, &x->n_when)) ||
            (rc = parse_conditions(r, v, &x->cond, &x->n_cond)) ||
            (rc = parse_effects(r, v, "effects", 1, &x->effects, &x->n_effects)))
            goto out;
        if (!x->name) {
            char buf[32];
            snprintf(buf, sizeof buf, "rule %zu", i + 1);
            if (!(x->name = pgi_strdup(buf))) {
                rc = pg_error_set(r->err, PG_ENOMEM, "out of memory");
                goto out;
            }
        }
        pop(r, si);
    }
out:
    pop(r, saved);
    return rc;
}

/* ---------------------------------------------------------------- alliances, negotiations */

static int
agent_list(rd *r, const json_t *obj, const char *key, size_t **out, size_t *n_out)
{
    json_t *arr;
    int rc = get_array(r, obj, key, 1, &arr);
    if (rc)
        return rc;
    size_t saved = push_key(r, key);
    size_t n = json_array_size(arr);
    size_t *m = alloc_array(r, n, sizeof *m);
    if (!m) {
        rc = PG_ENOMEM;
        goto out;
    }
    *out = m;
    *n_out = n;
    if (n < 2) {
        rc = fail(r, "needs at least two agents");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        size_t si = push_index(r, i);
        if ((rc = expect_type(r, v, JSON_STRING, "an agent name")) ||
            (rc = lookup_agent(r, json_string_value(v), &m[i])))
            goto out;
        for (size_t j = 0; j < i; j++)
            if (m[j] == m[i]) {
                rc = fail(r, "agent '%s' is listed twice", json_string_value(v));
                goto out;
            }
        pop(r, si);
    }
out:
    pop(r, saved);
    return rc;
}

static int
parse_alliances(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name", "description", "members", "share", "if", NULL};
    json_t *arr;
    int rc = get_array(r, root, "alliances", 0, &arr);
    if (rc || !arr)
        return rc;
    size_t saved = push_key(r, "alliances");
    pg_scenario *s = r->s;
    size_t n = json_array_size(arr);
    if (!(s->alliances = alloc_array(r, n, sizeof *s->alliances))) {
        rc = PG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        sc_alliance *x = &s->alliances[i];
        s->n_alliances = i + 1;
        size_t si = push_index(r, i);
        if ((rc = expect_type(r, v, JSON_OBJECT, "an object")) || (rc = check_keys(r, v, keys)) ||
            (rc = get_string(r, v, "name", 1, &x->name)) ||
            (rc = get_string(r, v, "description", 0, &x->description)) ||
            (rc = agent_list(r, v, "members", &x->members, &x->n_members)) ||
            (rc = get_number(r, v, "share", 0.5, 0.0, 1.0, &x->share)) ||
            (rc = parse_conditions(r, v, &x->cond, &x->n_cond)))
            goto out;
        pop(r, si);
    }
    rc = check_unique(r, &s->alliances[0].name, sizeof *s->alliances, n, "alliance");
out:
    pop(r, saved);
    return rc;
}

static int
parse_negotiations(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name",     "description", "proposer", "trigger",
                                       "partners", "transfers",   "if",       NULL};
    static const char *const pkeys[] = {"agent", "action", "accept", NULL};
    static const char *const tkeys[] = {"from", "to", "amount", NULL};
    json_t *arr;
    int rc = get_array(r, root, "negotiations", 0, &arr);
    if (rc || !arr)
        return rc;
    size_t saved = push_key(r, "negotiations");
    pg_scenario *s = r->s;
    size_t n = json_array_size(arr);
    if (!(s->negs = alloc_array(r, n, sizeof *s->negs))) {
        rc = PG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i), *parts, *trs;
        sc_negotiation *x = &s->negs[i];
        s->n_negs = i + 1;
        size_t si = push_index(r, i);
        char *name = NULL;
        if ((rc = expect_type(r, v, JSON_OBJECT, "an object")) || (rc = check_keys(r, v, keys)) ||
            (rc = get_string(r, v, "name", 1, &x->name)) ||
            (rc = get_string(r, v, "description", 0, &x->description)) ||
            (rc = get_string(r, v, "proposer", 1, &name)))
            goto out;
        size_t sk = push_key(r, "proposer");
        rc = lookup_agent(r, name, &x->proposer);
        pop(r, sk);
        free(name);
        if (rc || (rc = parse_conditions(r, v, &x->cond, &x->n_cond)))
            goto out;
        /* trigger: one action name or a list */
        json_t *tg = json_object_get(v, "trigger");
        sk = push_key(r, "trigger");
        if (!tg) {
            pop(r, sk);
            rc = fail(r, "the key 'trigger' is missing (the proposer's action, or actions, that "
                         "put the project on the table)");
            goto out;
        }
        if (json_is_string(tg)) {
            size_t a;
            if ((rc = lookup_action(r, x->proposer, json_string_value(tg), &a)))
                goto out;
            x->trigger = (uint64_t)1 << a;
        } else if (json_is_array(tg) && json_array_size(tg) > 0) {
            for (size_t k = 0; k < json_array_size(tg); k++) {
                size_t sa = push_index(r, k), a;
                json_t *av = json_array_get(tg, k);
                if ((rc = expect_type(r, av, JSON_STRING, "an action name")) ||
                    (rc = lookup_action(r, x->proposer, json_string_value(av), &a)))
                    goto out;
                x->trigger |= (uint64_t)1 << a;
                pop(r, sa);
            }
        } else {
            rc = fail(r, "must be an action name of the proposer or a non-empty list of them");
            goto out;
        }
        pop(r, sk);
        if ((rc = get_array(r, v, "partners", 1, &parts)))
            goto out;
        x->n_partners = json_array_size(parts);
        sk = push_key(r, "partners");
        if (!x->n_partners) {
            rc = fail(r, "a negotiation needs at least one partner");
            goto out;
        }
        if (!(x->partners = alloc_array(r, x->n_partners, sizeof *x->partners))) {
            rc = PG_ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < x->n_partners; k++) {
            json_t *pv = json_array_get(parts, k);
            sc_partner *p = &x->partners[k];
            size_t sp = push_index(r, k);
            if ((rc = expect_type(r, pv, JSON_OBJECT, "an object")) ||
                (rc = check_keys(r, pv, pkeys)) || (rc = get_string(r, pv, "agent", 1, &name)))
                goto out;
            size_t sa = push_key(r, "agent");
            rc = lookup_agent(r, name, &p->agent);
            pop(r, sa);
            free(name);
            name = NULL;
            if (rc)
                goto out;
            if (p->agent == x->proposer) {
                rc = fail(r, "the proposer cannot be its own partner");
                goto out;
            }
            for (size_t j = 0; j < k; j++)
                if (x->partners[j].agent == p->agent) {
                    rc = fail(r, "agent '%s' is a partner twice", s->agents[p->agent].name);
                    goto out;
                }
            if ((rc = get_string(r, pv, "action", 1, &name)))
                goto out;
            sa = push_key(r, "action");
            rc = lookup_action(r, p->agent, name, &p->action);
            pop(r, sa);
            free(name);
            name = NULL;
            if (rc)
                goto out;
            json_t *acc = json_object_get(pv, "accept");
            p->accept = NAN;
            sa = push_key(r, "accept");
            if (acc && !(json_is_string(acc) && strcmp(json_string_value(acc), "learn") == 0)) {
                if (json_is_string(acc)) {
                    rc = fail(r, "must be a probability or \"learn\"");
                    goto out;
                }
                if ((rc = number_value(r, acc, 0.0, 1.0, &p->accept)))
                    goto out;
            }
            pop(r, sa);
            pop(r, sp);
        }
        pop(r, sk);
        if ((rc = get_array(r, v, "transfers", 0, &trs)))
            goto out;
        if (trs) {
            x->n_transfers = json_array_size(trs);
            if (!(x->transfers = alloc_array(r, x->n_transfers, sizeof *x->transfers))) {
                rc = PG_ENOMEM;
                goto out;
            }
            sk = push_key(r, "transfers");
            for (size_t k = 0; k < x->n_transfers; k++) {
                json_t *tv = json_array_get(trs, k);
                sc_transfer *t = &x->transfers[k];
                size_t st = push_index(r, k);
                if ((rc = expect_type(r, tv, JSON_OBJECT, "an object")) ||
                    (rc = check_keys(r, tv, tkeys)) || (rc = get_string(r, tv, "from", 1, &name)))
                    goto out;
                size_t sa = push_key(r, "from");
                rc = lookup_agent(r, name, &t->from);
                pop(r, sa);
                free(name);
                name = NULL;
                if (rc || (rc = get_string(r, tv, "to", 1, &name)))
                    goto out;
                sa = push_key(r, "to");
                rc = lookup_agent(r, name, &t->to);
                pop(r, sa);
                free(name);
                name = NULL;
                if (rc || (rc = get_number(r, tv, "amount", 0.0, 0.0, INFINITY, &t->amount)))
                    goto out;
                if (!json_object_get(tv, "amount")) {
                    rc = fail(r, "the key 'amount' is missing (a number)");
                    goto out;
                }
                pop(r, st);
            }
            pop(r, sk);
        }
        pop(r, si);
    }
    rc = check_unique(r, &s->negs[0].name, sizeof *s->negs, n, "negotiation");
out:
    pop(r, saved);
    return rc;
}

/* ---------------------------------------------------------------- groups, profiles */

static int
parse_groups(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name", "description", "set", NULL};
    json_t *arr;
    pg_scenario *s = r->s;
    int rc = get_array(r, root, "initial_conditions", 0, &arr);
    if (rc)
        return rc;
    size_t saved = push_key(r, "initial_conditions");
    size_t n = arr ? json_array_size(arr) : 0;
    if (arr && !n) {
        rc = fail(r, "give at least one group, or leave the key out");
        goto out;
    }
    s->n_groups = n ? n : 1;
    if (!(s->groups = alloc_array(r, s->n_groups, sizeof *s->groups))) {
        rc = PG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < s->n_groups; i++) {
        sc_group *g = &s->groups[i];
        if (!(g->lo = alloc_array(r, s->n_vars, sizeof(double))) ||
            !(g->hi = alloc_array(r, s->n_vars, sizeof(double)))) {
            rc = PG_ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < s->n_vars; k++)
            g->lo[k] = g->hi[k] = NAN;
    }
    if (!n) {
        if (!(s->groups[0].name = pgi_strdup("default")))
            rc = pg_error_set(r->err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i), *set;
        sc_group *g = &s->groups[i];
        size_t si = push_index(r, i);
        if ((rc = expect_type(r, v, JSON_OBJECT, "an object")) || (rc = check_keys(r, v, keys)) ||
            (rc = get_string(r, v, "name", 1, &g->name)) ||
            (rc = get_string(r, v, "description", 0, &g->description)) ||
            (rc = get_object(r, v, "set", 1, &set)))
            goto out;
        size_t sk = push_key(r, "set");
        const char *key;
        json_t *val;
        json_object_foreach(set, key, val)
        {
            size_t sv = push_key(r, key), k;
            if ((rc = lookup_var(r, key, &k)))
                goto out;
            const sc_var *x = &s->vars[k];
            if (json_is_array(val)) {
                if (json_array_size(val) != 2) {
                    rc = fail(r, "a range must have two numbers [low, high]");
                    goto out;
                }
                size_t s0 = push_index(r, 0);
                rc = number_value(r, json_array_get(val, 0), x->min, x->max, &g->lo[k]);
                pop(r, s0);
                if (rc)
                    goto out;
                s0 = push_index(r, 1);
                rc = number_value(r, json_array_get(val, 1), g->lo[k], x->max, &g->hi[k]);
                pop(r, s0);
                if (rc)
                    goto out;
            } else {
                if ((rc = number_value(r, val, x->min, x->max, &g->lo[k])))
                    goto out;
                g->hi[k] = g->lo[k];
            }
            pop(r, sv);
        }
        pop(r, sk);
        pop(r, si);
    }
    rc = check_unique(r, &s->groups[0].name, sizeof *s->groups, n, "initial-condition group");
out:
    pop(r, saved);
    return rc;
}

static int
parse_profiles(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name", "description", "strategies", NULL};
    json_t *arr;
    pg_scenario *s = r->s;
    unsigned char *given = NULL;
    int rc = get_array(r, root, "profiles", 0, &arr);
    if (rc)
        return rc;
    size_t saved = push_key(r, "profiles");
    size_t n = arr ? json_array_size(arr) : 0;
    if (arr && !n) {
        rc = fail(r, "give at least one profile, or leave the key out");
        goto out;
    }
    size_t np = n ? n : 1;
    given = alloc_array(r, s->n_agents, 1);
    if (!given || !(s->profiles = alloc_array(r, np, sizeof *s->profiles))) {
        rc = PG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < np; i++) {
        sc_profile *p = &s->profiles[i];
        s->n_profiles = i + 1;
        if (!(p->strategy = alloc_array(r, s->n_agents, sizeof *p->strategy))) {
            rc = PG_ENOMEM;
            goto out;
        }
        json_t *v = n ? json_array_get(arr, i) : NULL, *strat = NULL;
        size_t si = push_index(r, i);
        memset(given, 0, s->n_agents);
        if (v) {
            if ((rc = expect_type(r, v, JSON_OBJECT, "an object")) ||
                (rc = check_keys(r, v, keys)) || (rc = get_string(r, v, "name", 1, &p->name)) ||
                (rc = get_string(r, v, "description", 0, &p->description)) ||
                (rc = get_object(r, v, "strategies", 1, &strat)))
                goto out;
            const char *key;
            json_t *sv;
            size_t sk = push_key(r, "strategies");
            json_object_foreach(strat, key, sv)
            {
                size_t sa = push_key(r, key), a;
                if ((rc = lookup_agent(r, key, &a)))
                    goto out;
                if ((rc = parse_strategy(r, sv, &s->agents[a], &p->strategy[a])))
                    goto out;
                given[a] = 1;
                pop(r, sa);
            }
            pop(r, sk);
        } else if (!(p->name = pgi_strdup("default"))) {
            rc = pg_error_set(r->err, PG_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t a = 0; a < s->n_agents; a++) {
            if (given[a])
                continue;
            const sc_agent *ag = &s->agents[a];
            if ((rc = pgi_sc_strategy_copy(&p->strategy[a], &ag->strategy, ag->n_actions,
                                           ag->n_observes))) {
                pg_error_set(r->err, rc, "out of memory");
                goto out;
            }
        }
        pop(r, si);
    }
    if (n)
        rc = check_unique(r, &s->profiles[0].name, sizeof *s->profiles, n, "profile");
out:
    free(given);
    pop(r, saved);
    return rc;
}

static int
parse_resilience(rd *r, const json_t *root)
{
    static const char *const keys[] = {"indicator", "recovery_threshold", "baseline_window",
                                       "rank_by", NULL};
    json_t *v;
    pg_scenario *s = r->s;
    int rc = get_object(r, root, "resilience", 1, &v);
    if (rc)
        return rc;
    size_t saved = push_key(r, "resilience");
    char *name = NULL;
    pg_resilience_options_init(&s->res);
    if ((rc = check_keys(r, v, keys)) || (rc = get_string(r, v, "indicator", 1, &name)))
        goto out;
    size_t sk = push_key(r, "indicator");
    rc = lookup_quantity(r, name, &s->perf_q);
    pop(r, sk);
    free(name);
    if (rc ||
        (rc = get_number(r, v, "recovery_threshold", s->res.recovery_threshold, 0.0, 1.0,
                         &s->res.recovery_threshold)) ||
        (rc = get_size(r, v, "baseline_window", 1, 1, MAX_TURNS, &s->res.baseline_window)) ||
        (rc = get_string(r, v, "rank_by", 0, &s->rank_by)))
        goto out;
    if (!s->rank_by) {
        if (!(s->rank_by = pgi_strdup("loss_area")))
            rc = pg_error_set(r->err, PG_ENOMEM, "out of memory");
    } else if (pgi_metric_index(s->rank_by) == PGI_N_METRICS) {
        sk = push_key(r, "rank_by");
        char list[200] = "";
        for (size_t k = 0; k < PGI_N_METRICS; k++) {
            if (k)
                strcat(list, ", ");
            strcat(list, pgi_metric_names[k]);
        }
        rc = fail(r, "unknown metric '%s' (metrics: %s)", s->rank_by, list);
        pop(r, sk);
    }
out:
    pop(r, saved);
    return rc;
}

static int
parse_root(rd *r, const json_t *root)
{
    static const char *const keys[] = {
        "format",    "name",         "description",        "assumptions", "turns",      "runs",
        "seed",      "variables",    "indicators",         "agents",      "rules",      "shocks",
        "alliances", "negotiations", "initial_conditions", "profiles",    "resilience", NULL};
    pg_scenario *s = r->s;
    int rc = expect_type(r, root, JSON_OBJECT, "an object (a scenario)");
    if (rc)
        return rc;
    char *format = NULL;
    if ((rc = get_string(r, root, "format", 1, &format)))
        return rc;
    if (strcmp(format, FORMAT) != 0) {
        size_t sk = push_key(r, "format");
        rc = fail(r, "unknown format '%s'; this version reads \"%s\"", format, FORMAT);
        pop(r, sk);
        free(format);
        return rc;
    }
    free(format);
    if ((rc = check_keys(r, root, keys)) || (rc = get_string(r, root, "name", 1, &s->name)) ||
        (rc = get_string(r, root, "description", 0, &s->description)) ||
        (rc = get_size(r, root, "turns", 100, 1, MAX_TURNS, &s->turns)) ||
        (rc = get_size(r, root, "runs", 100, 1, MAX_RUNS, &s->runs)))
        return rc;
    json_t *seed = json_object_get(root, "seed");
    s->seed = 1;
    if (seed) {
        size_t sk = push_key(r, "seed");
        if (!json_is_integer(seed) || json_integer_value(seed) < 0)
            rc = fail(r, "must be a whole number from 0");
        else
            s->seed = (uint64_t)json_integer_value(seed);
        pop(r, sk);
        if (rc)
            return rc;
    }
    json_t *as;
    if ((rc = get_array(r, root, "assumptions", 0, &as)))
        return rc;
    if (as) {
        size_t saved = push_key(r, "assumptions");
        s->n_assumptions = json_array_size(as);
        if (!(s->assumptions = alloc_array(r, s->n_assumptions, sizeof(char *))))
            return PG_ENOMEM;
        for (size_t i = 0; i < s->n_assumptions; i++) {
            size_t si = push_index(r, i);
            json_t *v = json_array_get(as, i);
            if ((rc = expect_type(r, v, JSON_STRING, "a string")))
                return rc;
            if (!(s->assumptions[i] = pgi_strdup(json_string_value(v))))
                return pg_error_set(r->err, PG_ENOMEM, "out of memory");
            pop(r, si);
        }
        pop(r, saved);
    }
    if ((rc = parse_variables(r, root)) || (rc = parse_indicators(r, root)) ||
        (rc = parse_agents(r, root)) || (rc = parse_shocks(r, root)) ||
        (rc = parse_rules(r, root)) || (rc = parse_alliances(r, root)) ||
        (rc = parse_negotiations(r, root)) || (rc = parse_groups(r, root)) ||
        (rc = parse_profiles(r, root)) || (rc = parse_resilience(r, root)))
        return rc;
    return PG_OK;
}

int
pg_scenario_parse(const char *text, size_t len, const char *name, pg_scenario **out, pg_error *err)
{
    if (!text || !out)
        return pg_error_set(err, PG_EINVAL, "pg_scenario_parse: text or out is NULL");
    const char *file = name ? name : "<scenario>";
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        pg_error_set(err, PG_EPARSE, "not valid JSON: %s", je.text);
        pg_error_at(err, file, je.line > 0 ? je.line : 0, je.column > 0 ? je.column : 0, NULL);
        return PG_EPARSE;
    }
    pg_scenario *s = calloc(1, sizeof *s);
    if (!s) {
        json_decref(root);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    rd r = {.err = err, .file = file, .text = text, .len = len, .path = "$", .plen = 1, .s = s};
    int rc = PG_OK;
    if (!(s->file = pgi_strdup(file)))
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
    if (!rc)
        rc = parse_root(&r, root);
    json_decref(root);
    if (rc) {
        if (err && !err->file[0])
            pg_error_at(err, file, 0, 0, NULL);
        pg_scenario_free(s);
        return rc;
    }
    *out = s;
    return PG_OK;
}

int
pg_scenario_read(const char *path, pg_scenario **out, pg_error *err)
{
    if (!path || !out)
        return pg_error_set(err, PG_EINVAL, "pg_scenario_read: path or out is NULL");
    char *text = NULL;
    size_t len = 0;
    int e = pgi_read_file(path, &text, &len);
    if (e) {
        pg_error_set(err, PG_EIO, "cannot read the scenario file: %s", strerror(-e));
        pg_error_at(err, path, 0, 0, NULL);
        return PG_EIO;
    }
    int rc = pg_scenario_parse(text, len, path, out, err);
    free(text);
    return rc;
}
