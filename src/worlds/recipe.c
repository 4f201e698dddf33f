/* Recipes of generated worlds (plurigrid-recipe/1, docs/worlds.md): reading them, the default
 * recipe of each kind from its documented parameter specs, drawing a parameter from its
 * distribution, and writing a recipe back as canonical JSON (every parameter written out, in the
 * order of the kind's specs), which is what a manifest records.
 *
 * A distribution is a number (a constant) or an object with one of the members "uniform": [a, b],
 * "int": [a, b], "normal": [mean, sd], "lognormal": [mu, sigma] (of the logarithm) with optional
 * "min" and "max" (the cut; a value outside is drawn again), or "choice": [values] with optional
 * "weights". Every value a distribution can give must lie in the spec's range. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_read.h"
#include "core/json_write.h"
#include "core/util.h"
#include "worlds/internal.h"

#define RECIPE_FORMAT "plurigrid-recipe/1"
#define NAME_MAX_LEN 40
#define CHOICE_MAX 64
#define INT_ABS_MAX 1e9

static void
dist_clear(pgi_dist *d)
{
    free(d->values);
    free(d->weights);
    memset(d, 0, sizeof *d);
}

void
pg_recipe_free(pg_recipe *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->kind);
    free(r->description);
    for (size_t i = 0; i < r->n_params; i++) {
        if (r->keys)
            free(r->keys[i]);
        if (r->dists)
            dist_clear(&r->dists[i]);
    }
    free(r->keys);
    free(r->dists);
    free(r);
}

const char *
pg_recipe_name(const pg_recipe *r)
{
    return r ? r->name : NULL;
}

const char *
pg_recipe_kind(const pg_recipe *r)
{
    return r ? r->kind : NULL;
}

/* ---------------------------------------------------------------- reading a distribution */

/* The range of parameter i of kind k (all finite numbers when the kind gives none). */
static pgi_param_range
range_of(const pgi_kind *k, size_t i)
{
    pgi_param_range rg = {-INFINITY, INFINITY};
    if (k->ranges)
        rg = k->ranges[i];
    return rg;
}

/* A value of the parameter: a finite number in the spec's range. */
static int
value_in_range(pgi_jr *jr, const json_t *v, const pgi_param_spec *sp, const pgi_param_range *rg,
               double *out)
{
    int rc = pgi_jr_number(jr, v, -INFINITY, INFINITY, out);
    if (rc)
        return rc;
    if (*out < rg->lo || *out > rg->hi)
        return pgi_jr_fail(jr, PG_EPARSE, "%g is outside the range of '%s' (%g to %g%s%s)", *out,
                           sp->key, rg->lo, rg->hi, sp->unit && *sp->unit ? " " : "",
                           sp->unit ? sp->unit : "");
    return PG_OK;
}

/* arr must be an array of exactly two numbers; each is read by value_in_range when in_range. */
static int
read_pair(pgi_jr *jr, const json_t *obj, const char *key, const pgi_param_spec *sp,
          const pgi_param_range *rg, bool in_range, double *a, double *b)
{
    json_t *arr = json_object_get(obj, key);
    size_t mark = pgi_jr_push_key(jr, key);
    int rc = pgi_jr_want(jr, arr, JSON_ARRAY, "an array of two numbers");
    if (!rc && json_array_size(arr) != 2)
        rc = pgi_jr_fail(jr, PG_EPARSE, "must be an array of two numbers, not of %zu",
                         json_array_size(arr));
    double *outs[2] = {a, b};
    for (size_t i = 0; i < 2 && !rc; i++) {
        size_t m2 = pgi_jr_push_index(jr, i);
        json_t *x = json_array_get(arr, i);
        rc = in_range ? value_in_range(jr, x, sp, rg, outs[i])
                      : pgi_jr_number(jr, x, -INFINITY, INFINITY, outs[i]);
        pgi_jr_pop(jr, m2);
    }
    pgi_jr_pop(jr, mark);
    return rc;
}

static int
read_cut(pgi_jr *jr, const json_t *obj, const pgi_param_spec *sp, const pgi_param_range *rg,
         double floor_lo, pgi_dist *d)
{
    d->min = fmax(rg->lo, floor_lo);
    d->max = rg->hi;
    int rc = pgi_jr_get_number(jr, obj, "min", false, -INFINITY, INFINITY, &d->min);
    if (!rc)
        rc = pgi_jr_get_number(jr, obj, "max", false, -INFINITY, INFINITY, &d->max);
    if (rc)
        return rc;
    if (d->min < fmax(rg->lo, floor_lo) || d->max > rg->hi)
        return pgi_jr_fail(
            jr, PG_EPARSE, "the cut [%g, %g] goes beyond the range of '%s' (%g to %g %s)", d->min,
            d->max, sp->key, fmax(rg->lo, floor_lo), rg->hi, sp->unit ? sp->unit : "");
    if (!(d->min <= d->max))
        return pgi_jr_fail(jr, PG_EPARSE, "min %g is above max %g", d->min, d->max);
    return PG_OK;
}

/* Reads the distribution v of parameter sp into *d (cleared first). */
static int
parse_dist(pgi_jr *jr, const json_t *v, const pgi_param_spec *sp, const pgi_param_range *rg,
           pgi_dist *d)
{
    memset(d, 0, sizeof *d);
    d->min = -INFINITY;
    d->max = INFINITY;
    if (json_is_number(v)) {
        d->kind = PGI_DIST_CONST;
        return value_in_range(jr, v, sp, rg, &d->a);
    }
    if (!json_is_object(v))
        return pgi_jr_fail(jr, PG_EPARSE,
                           "must be a number or a distribution object ({\"uniform\": [a, b]}, "
                           "{\"int\": [a, b]}, {\"normal\": [mean, sd]}, {\"lognormal\": [mu, "
                           "sigma]}, {\"choice\": [values]}), not %s",
                           pgi_jr_type_name(v));
    static const char *const forms[] = {"uniform", "int", "normal", "lognormal", "choice", NULL};
    const char *form = NULL;
    for (size_t i = 0; forms[i]; i++) {
        if (json_object_get(v, forms[i])) {
            if (form)
                return pgi_jr_fail(jr, PG_EPARSE,
                                   "a distribution has one form: '%s' and '%s' are both given",
                                   form, forms[i]);
            form = forms[i];
        }
    }
    if (!form)
        return pgi_jr_fail(jr, PG_EPARSE,
                           "a distribution needs one of the members uniform, int, normal, "
                           "lognormal or choice");
    int rc = PG_OK;
    if (strcmp(form, "uniform") == 0 || strcmp(form, "int") == 0) {
        static const char *const ku[] = {"uniform", NULL}, *const ki[] = {"int", NULL};
        if ((rc = pgi_jr_check_keys(jr, v, "a distribution", form[0] == 'u' ? ku : ki)))
            return rc;
        d->kind = form[0] == 'u' ? PGI_DIST_UNIFORM : PGI_DIST_INT;
        if ((rc = read_pair(jr, v, form, sp, rg, true, &d->a, &d->b)))
            return rc;
        size_t mark = pgi_jr_push_key(jr, form);
        if (d->a > d->b)
            rc = pgi_jr_fail(jr, PG_EPARSE, "the lower end %g is above the upper end %g", d->a,
                             d->b);
        else if (d->kind == PGI_DIST_INT && (d->a != floor(d->a) || d->b != floor(d->b)))
            rc = pgi_jr_fail(jr, PG_EPARSE, "the ends of an int distribution must be whole");
        else if (d->kind == PGI_DIST_INT && (fabs(d->a) > INT_ABS_MAX || fabs(d->b) > INT_ABS_MAX))
            rc = pgi_jr_fail(jr, PG_EPARSE,
                             "the ends of an int distribution must lie within "
                             "-1e9 to 1e9");
        pgi_jr_pop(jr, mark);
        return rc;
    }
    if (strcmp(form, "normal") == 0 || strcmp(form, "lognormal") == 0) {
        bool logn = form[0] == 'l';
        static const char *const kn[] = {"normal", "min", "max", NULL}, *const kl[] = {"lognormal",
                                                                                       "min", "max",
                                                                                       NULL};
        if ((rc = pgi_jr_check_keys(jr, v, "a distribution", logn ? kl : kn)))
            return rc;
        d->kind = logn ? PGI_DIST_LOGNORMAL : PGI_DIST_NORMAL;
        if ((rc = read_pair(jr, v, form, sp, rg, false, &d->a, &d->b)))
            return rc;
        size_t mark = pgi_jr_push_key(jr, form);
        if (d->b < 0 || fabs(d->a) > 1e12 || d->b > 1e12)
            rc = pgi_jr_fail(jr, PG_EPARSE,
                             "the standard deviation must be 0 or more and both numbers within "
                             "1e12 (they are %g and %g)",
                             d->a, d->b);
        pgi_jr_pop(jr, mark);
        if (!rc)
            rc = read_cut(jr, v, sp, rg, logn ? 0.0 : -INFINITY, d);
        if (rc)
            return rc;
        /* The cut must leave a fair part of the distribution, so that redrawing ends soon. */
        double lo = logn ? (d->min > 0 ? log(d->min) : -INFINITY) : d->min;
        double hi = logn ? log(d->max) : d->max;
        if (hi < d->a - 4 * d->b || lo > d->a + 4 * d->b)
            return pgi_jr_fail(jr, PG_EPARSE,
                               "the cut [%g, %g] leaves almost nothing of the distribution (it "
                               "lies beyond 4 standard deviations)",
                               d->min, d->max);
        return PG_OK;
    }
    /* choice */
    static const char *const kc[] = {"choice", "weights", NULL};
    if ((rc = pgi_jr_check_keys(jr, v, "a distribution", kc)))
        return rc;
    d->kind = PGI_DIST_CHOICE;
    json_t *vals = json_object_get(v, "choice"), *ws = json_object_get(v, "weights");
    size_t mark = pgi_jr_push_key(jr, "choice");
    if ((rc = pgi_jr_want(jr, vals, JSON_ARRAY, "an array of numbers")))
        goto pop;
    size_t n = json_array_size(vals);
    if (n == 0 || n > CHOICE_MAX) {
        rc = pgi_jr_fail(jr, PG_EPARSE, "must hold 1 to %d values, not %zu", CHOICE_MAX, n);
        goto pop;
    }
    d->values = calloc(n, sizeof *d->values);
    d->weights = calloc(n, sizeof *d->weights);
    if (!d->values || !d->weights) {
        rc = pgi_jr_nomem(jr);
        goto pop;
    }
    d->n = n;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t m2 = pgi_jr_push_index(jr, i);
        rc = value_in_range(jr, json_array_get(vals, i), sp, rg, &d->values[i]);
        d->weights[i] = 1.0;
        pgi_jr_pop(jr, m2);
    }
    pgi_jr_pop(jr, mark);
    if (rc || !ws)
        return rc;
    mark = pgi_jr_push_key(jr, "weights");
    if ((rc = pgi_jr_want(jr, ws, JSON_ARRAY, "an array of numbers")))
        goto pop;
    if (json_array_size(ws) != n) {
        rc = pgi_jr_fail(jr, PG_EPARSE, "must hold one weight per value (%zu), not %zu", n,
                         json_array_size(ws));
        goto pop;
    }
    double sum = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t m2 = pgi_jr_push_index(jr, i);
        rc = pgi_jr_number(jr, json_array_get(ws, i), 0, 1e12, &d->weights[i]);
        sum += d->weights[i];
        pgi_jr_pop(jr, m2);
    }
    if (!rc && !(sum > 0))
        rc = pgi_jr_fail(jr, PG_EPARSE, "the weights must not all be 0");
pop:
    pgi_jr_pop(jr, mark);
    return rc;
}

/* ---------------------------------------------------------------- recipes */

static int
recipe_new(pg_recipe **out, const pgi_kind *k, pg_error *err)
{
    pg_recipe *r = calloc(1, sizeof *r);
    if (!r)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    r->k = k;
    r->kind = pgi_strdup(k->pub.name);
    r->keys = calloc(k->n_specs ? k->n_specs : 1, sizeof *r->keys);
    r->dists = calloc(k->n_specs ? k->n_specs : 1, sizeof *r->dists);
    if (!r->kind || !r->keys || !r->dists) {
        pg_recipe_free(r);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    r->n_params = k->n_specs;
    for (size_t i = 0; i < k->n_specs; i++) {
        if (!(r->keys[i] = pgi_strdup(k->specs[i].key))) {
            pg_recipe_free(r);
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        }
    }
    *out = r;
    return PG_OK;
}

/* The spec's default distribution into r->dists[i]. */
static int
default_dist(pg_recipe *r, size_t i, pg_error *err)
{
    const pgi_param_spec *sp = &r->k->specs[i];
    pgi_jr jr;
    int rc = PG_OK;
    pgi_jr_init(&jr, sp->key, sp->dist_json, strlen(sp->dist_json), err);
    /* A default may be a bare number, which a document reader would refuse. */
    json_error_t je;
    jr.root = json_loads(sp->dist_json, JSON_DECODE_ANY, &je);
    if (!jr.root)
        rc = pg_error_set(err, PG_EPARSE, "not valid JSON: %s", je.text);
    if (!rc) {
        pgi_param_range rg = range_of(r->k, i);
        rc = parse_dist(&jr, jr.root, sp, &rg, &r->dists[i]);
    }
    pgi_jr_close(&jr);
    if (rc) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err ? err->msg : "");
        return pg_error_set(err, PG_EINVAL,
                            "the default of parameter '%s' of the kind '%s' is not a valid "
                            "distribution: %s",
                            sp->key, r->kind, why);
    }
    return PG_OK;
}

static bool
name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return s[0] != '-' && s[n - 1] != '-';
}

int
pg_recipe_default(pg_recipe **out, const char *kind, pg_error *err)
{
    if (!out || !kind)
        return pg_error_set(err, PG_EINVAL, "pg_recipe_default needs an output and a kind");
    const pgi_kind *k = pgi_kind_find(kind);
    if (!k)
        return pg_error_set(err, PG_ENOTFOUND,
                            "there is no kind of world called '%s' (the kinds are: lv-feeder, "
                            "mv-grid, village, nexus)",
                            kind);
    pg_recipe *r = NULL;
    int rc = recipe_new(&r, k, err);
    if (rc)
        return rc;
    r->name = pgi_strdup(k->pub.name);
    r->description = pgi_strdup(k->pub.summary);
    if (!r->name || !r->description)
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n_params && !rc; i++)
        rc = default_dist(r, i, err);
    if (rc) {
        pg_recipe_free(r);
        return rc;
    }
    *out = r;
    return PG_OK;
}

static int
parse_root(pgi_jr *jr, pg_recipe **out)
{
    json_t *root = jr->root, *params = NULL;
    pg_recipe *r = NULL;
    const char *format = NULL, *name = NULL, *kind = NULL;
    static const char *const keys[] = {"format", "name", "kind", "description", "parameters", NULL};
    int rc = pgi_jr_want(jr, root, JSON_OBJECT, "an object (a plurigrid-recipe/1 recipe)");
    if (!rc)
        rc = pgi_jr_check_keys(jr, root, "a recipe", keys);
    if (!rc)
        rc = pgi_jr_get_string(jr, root, "format", true, &format);
    if (!rc && strcmp(format, RECIPE_FORMAT) != 0)
        rc = pgi_jr_fail_key(jr, PG_EPARSE, "format", "must be \"%s\", not \"%s\"", RECIPE_FORMAT,
                             format);
    if (!rc)
        rc = pgi_jr_get_string(jr, root, "name", true, &name);
    if (!rc && !name_ok(name))
        rc = pgi_jr_fail_key(jr, PG_EPARSE, "name",
                             "must be 1 to %d lower-case letters, digits and '-' (not at either "
                             "end): it begins the id of every world made from the recipe",
                             NAME_MAX_LEN);
    if (!rc)
        rc = pgi_jr_get_string(jr, root, "kind", true, &kind);
    const pgi_kind *k = rc ? NULL : pgi_kind_find(kind);
    if (!rc && !k)
        rc = pgi_jr_fail_key(jr, PG_EPARSE, "kind",
                             "there is no kind of world called '%s' (the kinds are: lv-feeder, "
                             "mv-grid, village, nexus)",
                             kind);
    if (!rc)
        rc = recipe_new(&r, k, jr->err);
    if (!rc && !(r->name = pgi_strdup(name)))
        rc = pgi_jr_nomem(jr);
    if (!rc)
        rc = pgi_jr_dup_string(jr, root, "description", false, &r->description);
    if (!rc && !r->description && !(r->description = pgi_strdup("")))
        rc = pgi_jr_nomem(jr);
    if (!rc)
        rc = pgi_jr_get_object(jr, root, "parameters", false, &params);
    if (!rc && params) {
        size_t mark = pgi_jr_push_key(jr, "parameters");
        const char *key;
        json_t *v;
        json_object_foreach(params, key, v)
        {
            size_t i = 0;
            while (i < k->n_specs && strcmp(k->specs[i].key, key) != 0)
                i++;
            if (i == k->n_specs) {
                pgi_buf b = {0};
                for (size_t j = 0; j < k->n_specs; j++)
                    pgi_buf_printf(&b, "%s%s", j ? ", " : "", k->specs[j].key);
                rc = pgi_jr_fail_key(jr, PG_EPARSE, key,
                                     "the kind '%s' has no parameter '%s' (its parameters are: "
                                     "%s)",
                                     k->pub.name, key, b.data ? b.data : "none");
                pgi_buf_free(&b);
                break;
            }
            size_t m2 = pgi_jr_push_key(jr, key);
            pgi_dist d;
            pgi_param_range rg = range_of(k, i);
            rc = parse_dist(jr, v, &k->specs[i], &rg, &d);
            pgi_jr_pop(jr, m2);
            if (rc) {
                dist_clear(&d);
                break;
            }
            r->dists[i] = d;
        }
        pgi_jr_pop(jr, mark);
    }
    /* Parameters the recipe does not give take the kind's default. */
    for (size_t i = 0; !rc && r && i < r->n_params; i++) {
        if (params && json_object_get(params, r->keys[i]))
            continue;
        rc = default_dist(r, i, jr->err);
    }
    if (rc) {
        pg_recipe_free(r);
        return rc;
    }
    *out = r;
    return PG_OK;
}

int
pg_recipe_parse(pg_recipe **out, const char *text, size_t len, const char *name, pg_error *err)
{
    if (!out || (!text && len))
        return pg_error_set(err, PG_EINVAL, "pg_recipe_parse needs an output and a text");
    pgi_jr jr;
    int rc = pgi_jr_open(&jr, name ? name : "recipe", text ? text : "", len, err);
    if (!rc)
        rc = parse_root(&jr, out);
    pgi_jr_close(&jr);
    return rc;
}

int
pg_recipe_read(pg_recipe **out, const char *path, pg_error *err)
{
    if (!out || !path)
        return pg_error_set(err, PG_EINVAL, "pg_recipe_read needs an output and a path");
    char *data = NULL;
    size_t len = 0;
    int rc = pg_input_read(path, PG_INPUT_MAX, &data, &len, err);
    if (!rc)
        rc = pg_recipe_parse(out, data, len, path, err);
    free(data);
    return rc;
}

/* ---------------------------------------------------------------- writing */

static json_t *
pair(double a, double b)
{
    json_t *arr = json_array();
    if (arr) {
        json_array_append_new(arr, pgi_json_num(a));
        json_array_append_new(arr, pgi_json_num(b));
    }
    return arr;
}

static json_t *
dist_json(const pgi_dist *d)
{
    json_t *o = NULL;
    switch (d->kind) {
    case PGI_DIST_CONST: return pgi_json_num(d->a);
    case PGI_DIST_UNIFORM:
    case PGI_DIST_INT:
        o = json_object();
        if (o)
            json_object_set_new(o, d->kind == PGI_DIST_INT ? "int" : "uniform", pair(d->a, d->b));
        return o;
    case PGI_DIST_NORMAL:
    case PGI_DIST_LOGNORMAL:
        o = json_object();
        if (!o)
            return NULL;
        json_object_set_new(o, d->kind == PGI_DIST_NORMAL ? "normal" : "lognormal",
                            pair(d->a, d->b));
        if (isfinite(d->min))
            json_object_set_new(o, "min", pgi_json_num(d->min));
        if (isfinite(d->max))
            json_object_set_new(o, "max", pgi_json_num(d->max));
        return o;
    case PGI_DIST_CHOICE: {
        o = json_object();
        json_t *v = json_array(), *w = json_array();
        for (size_t i = 0; v && w && i < d->n; i++) {
            json_array_append_new(v, pgi_json_num(d->values[i]));
            json_array_append_new(w, pgi_json_num(d->weights[i]));
        }
        if (o) {
            json_object_set_new(o, "choice", v);
            json_object_set_new(o, "weights", w);
        } else {
            json_decref(v);
            json_decref(w);
        }
        return o;
    }
    }
    return NULL;
}

/* The recipe as a jansson object (canonical: every parameter, in the specs' order). */
static json_t *
recipe_tree(const pg_recipe *r)
{
    json_t *o = json_object(), *p = json_object();
    if (!o || !p) {
        json_decref(o);
        json_decref(p);
        return NULL;
    }
    json_object_set_new(o, "format", json_string(RECIPE_FORMAT));
    json_object_set_new(o, "name", pgi_json_str(r->name));
    json_object_set_new(o, "kind", pgi_json_str(r->kind));
    json_object_set_new(o, "description", pgi_json_str(r->description ? r->description : ""));
    for (size_t i = 0; i < r->n_params; i++)
        json_object_set_new(p, r->keys[i], dist_json(&r->dists[i]));
    json_object_set_new(o, "parameters", p);
    return o;
}

json_t *
pgi_recipe_tree(const pg_recipe *r)
{
    return recipe_tree(r);
}

int
pg_recipe_json(const pg_recipe *r, char **text, pg_error *err)
{
    if (!r || !text)
        return pg_error_set(err, PG_EINVAL, "pg_recipe_json needs a recipe and an output");
    json_t *o = recipe_tree(r);
    char *s = o ? pgi_json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    *text = s;
    return PG_OK;
}

/* ---------------------------------------------------------------- drawing */

double
pgi_dist_draw(const pgi_dist *d, pg_rng *rng)
{
    switch (d->kind) {
    case PGI_DIST_CONST: return d->a;
    case PGI_DIST_UNIFORM: return d->a + (d->b - d->a) * pg_rng_uniform(rng);
    case PGI_DIST_INT: return d->a + (double)pg_rng_below(rng, (size_t)(d->b - d->a) + 1);
    case PGI_DIST_NORMAL:
    case PGI_DIST_LOGNORMAL: {
        /* Redrawn until inside the cut (the reader made sure the cut keeps a fair part of the
         * distribution); after 1000 tries the nearest end of the cut. */
        double x = d->a;
        for (int i = 0; i < 1000; i++) {
            x = d->a + d->b * pg_rng_normal(rng);
            if (d->kind == PGI_DIST_LOGNORMAL)
                x = exp(x);
            if (x >= d->min && x <= d->max)
                return x;
        }
        return fmin(fmax(x, d->min), d->max);
    }
    case PGI_DIST_CHOICE: return d->values[pg_rng_pick(rng, d->weights, d->n)];
    }
    return NAN;
}

double
pgi_recipe_draw(const pg_recipe *r, const char *key, pg_rng *rng)
{
    for (size_t i = 0; r && key && i < r->n_params; i++)
        if (strcmp(r->keys[i], key) == 0)
            return pgi_dist_draw(&r->dists[i], rng);
    return NAN;
}
