/* The plurigrid JSON world format, "plurigrid-world/1" (docs/world-format.md): reader and writer
 * on top of jansson.
 *
 * One table per component kind lists its keys in the order the writer emits them, with their
 * type and default, so that reader, writer and the documentation agree. Keys whose value equals
 * the default are left out when writing; reading fills them back in, so read(write(w)) equals w
 * field by field. The writer puts each component on one line (dumped by jansson with the fewest
 * significant digits, 15 to 17, that read back exactly), which keeps large cases readable and
 * diffable.
 *
 * jansson reports lines only for syntax errors; errors in well-formed JSON (a wrong type, an
 * unknown key, a bus that does not exist) go through the core JSON reading helper (pgi_jr), which
 * finds their line from the JSON path. This format's own messages name the key ("'vm' must be a
 * number, got a string"). */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_read.h"
#include "core/json_write.h"
#include "core/util.h"
#include "model/io/io_internal.h"
#include "model/io/names.h"

#define FORMAT_NAME "plurigrid-world/1"

/* ---------------------------------------------------------------- key tables */

typedef enum {
    K_NUM,     /* a finite number */
    K_NUM_INF, /* a number, or the string "inf" / "-inf" */
    K_INT,     /* a whole number that fits an int */
    K_BOOL,    /* true or false */
    K_POS,     /* a drawing coordinate: a number within +-PG_POSITION_MAX, NaN (not placed)
                  when absent and then not written */
    K_SPECIAL, /* handled by the component's own code (names, references, enums, costs) */
} key_kind;

typedef struct key_desc {
    const char *key;
    key_kind kind;
    size_t off; /* offset of the field in the struct (not K_SPECIAL) */
    double def; /* default when the key is absent */
    bool required;
} key_desc;

#define NUM(s, f, d)                                                                               \
    {                                                                                              \
#f, K_NUM, offsetof(s, f), d, false                                                        \
    }
#define REQ(s, f)                                                                                  \
    {                                                                                              \
#f, K_NUM, offsetof(s, f), 0, true                                                         \
    }
#define INF(s, f, d)                                                                               \
    {                                                                                              \
#f, K_NUM_INF, offsetof(s, f), d, false                                                    \
    }
#define INT(s, f, d)                                                                               \
    {                                                                                              \
#f, K_INT, offsetof(s, f), d, false                                                        \
    }
#define BOOL(s, f, d)                                                                              \
    {                                                                                              \
#f, K_BOOL, offsetof(s, f), d, false                                                       \
    }
#define POS(s, f)                                                                                  \
    {                                                                                              \
#f, K_POS, offsetof(s, f), NAN, false                                                      \
    }
#define SPECIAL(k)                                                                                 \
    {                                                                                              \
        k, K_SPECIAL, 0, 0, false                                                                  \
    }

static const key_desc world_keys[] = {
    SPECIAL("format"),     SPECIAL("name"),     SPECIAL("description"), SPECIAL("base_mva"),
    SPECIAL("buses"),      SPECIAL("branches"), SPECIAL("loads"),       SPECIAL("thermals"),
    SPECIAL("renewables"), SPECIAL("storages"), SPECIAL("series"),
};

static const key_desc bus_keys[] = {
    SPECIAL("name"),    SPECIAL("number"),  SPECIAL("type"),        NUM(pg_bus, base_kv, 0),
    NUM(pg_bus, vm, 1), NUM(pg_bus, va, 0), NUM(pg_bus, vmin, 0.9), NUM(pg_bus, vmax, 1.1),
    NUM(pg_bus, gs, 0), NUM(pg_bus, bs, 0), INT(pg_bus, area, 1),   INT(pg_bus, zone, 1),
    POS(pg_bus, x),     POS(pg_bus, y),
};

static const key_desc branch_keys[] = {
    SPECIAL("name"),
    SPECIAL("kind"),
    SPECIAL("from"),
    SPECIAL("to"),
    NUM(pg_branch, r, 0),
    REQ(pg_branch, x),
    NUM(pg_branch, b, 0),
    NUM(pg_branch, rate_a, 0),
    NUM(pg_branch, rate_b, 0),
    NUM(pg_branch, rate_c, 0),
    NUM(pg_branch, tap, 1),
    NUM(pg_branch, shift, 0),
    NUM(pg_branch, angmin, -360),
    NUM(pg_branch, angmax, 360),
    BOOL(pg_branch, in_service, 1),
};

static const key_desc load_keys[] = {
    SPECIAL("name"),
    SPECIAL("bus"),
    REQ(pg_load, p),
    NUM(pg_load, q, 0),
    SPECIAL("p_series"),
    SPECIAL("q_series"),
    BOOL(pg_load, in_service, 1),
};

static const key_desc thermal_keys[] = {
    SPECIAL("name"),
    SPECIAL("bus"),
    BOOL(pg_thermal, in_service, 1),
    NUM(pg_thermal, p, 0),
    NUM(pg_thermal, q, 0),
    NUM(pg_thermal, pmin, 0),
    REQ(pg_thermal, pmax),
    INF(pg_thermal, qmin, -INFINITY),
    INF(pg_thermal, qmax, INFINITY),
    NUM(pg_thermal, vg, 1),
    NUM(pg_thermal, mbase, 100),
    NUM(pg_thermal, ramp_up, 0),
    NUM(pg_thermal, ramp_down, 0),
    NUM(pg_thermal, min_up_h, 0),
    NUM(pg_thermal, min_down_h, 0),
    BOOL(pg_thermal, initial_on, 1),
    NUM(pg_thermal, initial_h, 0),
    SPECIAL("cost"),
    NUM(pg_thermal, fixed_cost, 0),
    NUM(pg_thermal, startup_cost, 0),
    NUM(pg_thermal, shutdown_cost, 0),
};

static const key_desc renewable_keys[] = {
    SPECIAL("name"),           SPECIAL("bus"),
    SPECIAL("technology"),     BOOL(pg_renewable, in_service, 1),
    REQ(pg_renewable, rating), NUM(pg_renewable, power_factor, 1),
    SPECIAL("availability"),   NUM(pg_renewable, cost, 0),
    NUM(pg_renewable, p, 0),   NUM(pg_renewable, q, 0),
};

static const key_desc storage_keys[] = {
    SPECIAL("name"),
    SPECIAL("bus"),
    BOOL(pg_storage, in_service, 1),
    REQ(pg_storage, energy_mwh),
    NUM(pg_storage, soc_min_mwh, 0),
    NUM(pg_storage, soc_initial_mwh, 0),
    NUM(pg_storage, soc_target_mwh, -1),
    REQ(pg_storage, charge_mw),
    REQ(pg_storage, discharge_mw),
    NUM(pg_storage, eff_charge, 1),
    NUM(pg_storage, eff_discharge, 1),
    NUM(pg_storage, cost, 0),
    NUM(pg_storage, p, 0),
    NUM(pg_storage, q, 0),
};

static const key_desc series_keys[] = {
    SPECIAL("name"),
    SPECIAL("step_h"),
    SPECIAL("values"),
};

static const key_desc cost_keys[] = {
    SPECIAL("model"),
    SPECIAL("coef"),
    SPECIAL("points"),
};

#define NKEYS(t) (sizeof t / sizeof *t)

static const char *const bus_types[] = {NULL, "pq", "pv", "ref", "isolated"};
static const char *const branch_kinds[] = {"line", "transformer"};
static const char *const technologies[] = {"solar", "wind", "hydro", "other"};

/* ---------------------------------------------------------------- reader */

typedef struct reader {
    pgi_jr jr;
    pg_world *w;
    pgi_names buses;
} reader;

/* Every key table is shorter than this; thermal_keys is the longest. */
#define MAX_KEYS 32
_Static_assert(NKEYS(thermal_keys) < MAX_KEYS, "check_keys needs room for every key");

/* Checks that obj (at the reader's path, describing "a bus", ...) is an object with only keys
 * from the table. */
static int
check_keys(reader *r, const json_t *obj, const char *what, const key_desc *kd, size_t nk)
{
    if (!json_is_object(obj))
        return pgi_jr_fail(&r->jr, PG_EPARSE, "%s must be an object {...}, got %s", what,
                           pgi_jr_type_name(obj));
    const char *keys[MAX_KEYS];
    for (size_t i = 0; i < nk; i++)
        keys[i] = kd[i].key;
    keys[nk] = NULL;
    return pgi_jr_check_keys(&r->jr, obj, what, keys);
}

/* One non-special key of a table into its field (the reader's path is at the key). */
static int
read_field(reader *r, const json_t *v, const key_desc *d, const char *what, char *field)
{
    if (!v) {
        if (d->required)
            return pgi_jr_fail(&r->jr, PG_EPARSE, "%s needs '%s'", what, d->key);
        switch (d->kind) {
        case K_NUM:
        case K_NUM_INF:
        case K_POS: *(double *)field = d->def; break;
        case K_INT: *(int *)field = (int)d->def; break;
        case K_BOOL: *(bool *)field = d->def != 0; break;
        case K_SPECIAL: break;
        }
        return PG_OK;
    }
    switch (d->kind) {
    case K_NUM:
        if (!json_is_number(v))
            return pgi_jr_fail(&r->jr, PG_EPARSE, "'%s' must be a number, got %s", d->key,
                               pgi_jr_type_name(v));
        *(double *)field = json_number_value(v);
        break;
    case K_POS:
        if (!json_is_number(v))
            return pgi_jr_fail(&r->jr, PG_EPARSE, "'%s' must be a number, got %s", d->key,
                               pgi_jr_type_name(v));
        if (!(fabs(json_number_value(v)) <= PG_POSITION_MAX))
            return pgi_jr_fail(&r->jr, PG_EMODEL,
                               "'%s' is %g; a drawing coordinate must be from %g to %g", d->key,
                               json_number_value(v), -PG_POSITION_MAX, PG_POSITION_MAX);
        *(double *)field = json_number_value(v);
        break;
    case K_NUM_INF:
        if (json_is_string(v) && strcmp(json_string_value(v), "inf") == 0)
            *(double *)field = INFINITY;
        else if (json_is_string(v) && strcmp(json_string_value(v), "-inf") == 0)
            *(double *)field = -INFINITY;
        else if (json_is_number(v))
            *(double *)field = json_number_value(v);
        else
            return pgi_jr_fail(&r->jr, PG_EPARSE,
                               "'%s' must be a number, \"inf\" or \"-inf\", got %s", d->key,
                               pgi_jr_type_name(v));
        break;
    case K_INT: {
        json_int_t x = json_is_integer(v) ? json_integer_value(v) : 0;
        if (!json_is_integer(v) || x < INT_MIN || x > INT_MAX)
            return pgi_jr_fail(&r->jr, PG_EPARSE, "'%s' must be a whole number, got %s", d->key,
                               json_is_integer(v) ? "one that is too large" : pgi_jr_type_name(v));
        *(int *)field = (int)x;
        break;
    }
    case K_BOOL:
        if (!json_is_boolean(v))
            return pgi_jr_fail(&r->jr, PG_EPARSE, "'%s' must be true or false, got %s", d->key,
                               pgi_jr_type_name(v));
        *(bool *)field = json_is_true(v);
        break;
    case K_SPECIAL: break;
    }
    return PG_OK;
}

/* Reads every non-special key of the table into the struct at base. */
static int
read_fields(reader *r, const json_t *obj, const char *what, const key_desc *kd, size_t nk,
            void *base)
{
    int rc = PG_OK;
    for (size_t i = 0; i < nk && !rc; i++) {
        if (kd[i].kind == K_SPECIAL)
            continue;
        size_t mark = pgi_jr_push_key(&r->jr, kd[i].key);
        rc = read_field(r, json_object_get(obj, kd[i].key), &kd[i], what, (char *)base + kd[i].off);
        pgi_jr_pop(&r->jr, mark);
    }
    return rc;
}

/* A required or optional string key. *out is NULL when absent and optional. */
static int
get_string(reader *r, const json_t *obj, const char *key, bool required, const char *what,
           const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v)
        return required ? pgi_jr_fail_key(&r->jr, PG_EPARSE, key, "%s needs '%s'", what, key)
                        : PG_OK;
    if (!json_is_string(v))
        return pgi_jr_fail_key(&r->jr, PG_EPARSE, key, "'%s' must be a string, got %s", key,
                               pgi_jr_type_name(v));
    if (required && !json_string_value(v)[0])
        return pgi_jr_fail_key(&r->jr, PG_EPARSE, key, "'%s' must not be empty", key);
    *out = json_string_value(v);
    return PG_OK;
}

static int
get_enum(reader *r, const json_t *obj, const char *key, const char *const *names, size_t n, int def,
         int *out)
{
    const char *s;
    int rc = get_string(r, obj, key, false, "", &s);
    if (rc)
        return rc;
    if (!s) {
        *out = def;
        return PG_OK;
    }
    char list[200];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        if (strcmp(names[i], s) == 0) {
            *out = (int)i;
            return PG_OK;
        }
        used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%s\"", used ? ", " : "",
                                 names[i]);
    }
    return pgi_jr_fail_key(&r->jr, PG_EPARSE, key, "'%s' is \"%s\"; it must be one of %s", key, s,
                           list);
}

static int
get_bus(reader *r, const json_t *obj, const char *key, const char *what, size_t *out)
{
    const char *s;
    int rc = get_string(r, obj, key, true, what, &s);
    if (rc)
        return rc;
    size_t i = pgi_names_get(&r->buses, s);
    if (i == (size_t)-1)
        return pgi_jr_fail_key(&r->jr, PG_EMODEL, key, "there is no bus named \"%s\" in $.buses",
                               s);
    *out = i;
    return PG_OK;
}

static int
get_series(reader *r, const json_t *obj, const char *key, size_t *out)
{
    json_t *v = json_object_get(obj, key);
    *out = PG_NONE;
    if (!v || json_is_null(v))
        return PG_OK;
    const char *s;
    int rc = get_string(r, obj, key, false, "", &s);
    if (rc)
        return rc;
    size_t i = pg_world_find_series(r->w, s);
    if (i == PG_NONE)
        return pgi_jr_fail_key(&r->jr, PG_EMODEL, key,
                               "there is no time series named \"%s\" in $.series", s);
    *out = i;
    return PG_OK;
}

/* An optional array at key; *out NULL when absent. */
static int
get_array(reader *r, const json_t *obj, const char *key, json_t **out)
{
    *out = json_object_get(obj, key);
    if (*out && !json_is_array(*out))
        return pgi_jr_fail_key(&r->jr, PG_EPARSE, key, "'%s' must be an array [...], got %s", key,
                               pgi_jr_type_name(*out));
    return PG_OK;
}

/* Reads each element of the optional array root[key] with one(), its path pushed. */
static int
read_section(reader *r, const json_t *root, const char *key, int (*one)(reader *r, const json_t *o))
{
    json_t *arr;
    int rc = get_array(r, root, key, &arr);
    if (rc || !arr)
        return rc;
    size_t mark = pgi_jr_push_key(&r->jr, key);
    for (size_t i = 0; i < json_array_size(arr) && !rc; i++) {
        size_t at = pgi_jr_push_index(&r->jr, i);
        rc = one(r, json_array_get(arr, i));
        pgi_jr_pop(&r->jr, at);
    }
    pgi_jr_pop(&r->jr, mark);
    return rc;
}

/* An array of numbers at key (present: the caller checked), malloc'd into *out. */
static int
number_array(reader *r, const json_t *obj, const char *key, const char *what, double **out,
             size_t *n)
{
    json_t *a = json_object_get(obj, key);
    if (!json_is_array(a))
        return pgi_jr_fail_key(&r->jr, PG_EPARSE, key, "'%s' must be an array of numbers, got %s",
                               key, pgi_jr_type_name(a));
    *n = json_array_size(a);
    double *v = malloc((*n ? *n : 1) * sizeof *v);
    if (!v)
        return pgi_jr_nomem(&r->jr);
    for (size_t k = 0; k < *n; k++) {
        json_t *x = json_array_get(a, k);
        if (!json_is_number(x)) {
            free(v);
            size_t mark = pgi_jr_push_key(&r->jr, key);
            pgi_jr_push_index(&r->jr, k);
            int rc = pgi_jr_fail(&r->jr, PG_EPARSE, "%s must be numbers, got %s", what,
                                 pgi_jr_type_name(x));
            pgi_jr_pop(&r->jr, mark);
            return rc;
        }
        v[k] = json_number_value(x);
    }
    *out = v;
    return PG_OK;
}

static int
read_series(reader *r, const json_t *o)
{
    const char *name;
    double step = 1.0, *v = NULL;
    size_t n = 0;
    json_t *s = json_object_get(o, "step_h");
    int rc;
    if ((rc = check_keys(r, o, "a time series", series_keys, NKEYS(series_keys))) ||
        (rc = get_string(r, o, "name", true, "a time series", &name)))
        return rc;
    if (s && !json_is_number(s))
        return pgi_jr_fail_key(&r->jr, PG_EPARSE, "step_h", "'step_h' must be a number, got %s",
                               pgi_jr_type_name(s));
    if (s)
        step = json_number_value(s);
    if (!(step > 0))
        return pgi_jr_fail_key(&r->jr, PG_EMODEL, "step_h",
                               "'step_h' is %g; a step must be longer than 0 hours", step);
    if (!json_object_get(o, "values"))
        return pgi_jr_fail_key(&r->jr, PG_EPARSE, "values", "a time series needs 'values'");
    if ((rc = number_array(r, o, "values", "time series values", &v, &n)))
        return rc;
    if (n == 0)
        rc = pgi_jr_fail_key(&r->jr, PG_EMODEL, "values",
                             "'values' is empty; a time series needs at least one value");
    else
        rc = pgi_jr_place(&r->jr, pg_world_add_series(r->w, name, step, v, n, NULL, r->jr.err));
    free(v);
    return rc;
}

static int
read_buses(reader *r, const json_t *root)
{
    json_t *arr;
    int rc = get_array(r, root, "buses", &arr);
    if (rc || !arr)
        return rc;
    size_t n = json_array_size(arr);
    if (n == 0)
        return PG_OK;
    /* Filled directly (the adder's checks are done here, with a hash, so that big worlds read
     * in linear time). */
    r->w->buses = calloc(n, sizeof *r->w->buses);
    if (!r->w->buses)
        return pgi_jr_nomem(&r->jr);
    r->w->cap_buses = n;
    pgi_names numbers = {0};
    char(*numtext)[16] = malloc(n * sizeof *numtext);
    if (!numtext)
        return pgi_jr_nomem(&r->jr);
    size_t mark = pgi_jr_push_key(&r->jr, "buses");
    for (size_t i = 0; i < n && rc == PG_OK; i++) {
        json_t *o = json_array_get(arr, i);
        size_t at = pgi_jr_push_index(&r->jr, i);
        pg_bus b;
        pg_bus_init(&b);
        const char *name;
        int type = PG_BUS_PQ;
        if ((rc = check_keys(r, o, "a bus", bus_keys, NKEYS(bus_keys))) ||
            (rc = get_string(r, o, "name", true, "a bus", &name)) ||
            (rc = get_enum(r, o, "type", bus_types, 5, PG_BUS_PQ, &type)) ||
            (rc = read_fields(r, o, "a bus", bus_keys, NKEYS(bus_keys), &b)))
            break;
        b.type = (pg_bus_type)type;
        if (isnan(b.x) != isnan(b.y)) {
            const char *missing = isnan(b.x) ? "x" : "y";
            rc = pgi_jr_fail(&r->jr, PG_EMODEL,
                             "a bus on a drawing needs both 'x' and 'y'; this one has no '%s'",
                             missing);
            break;
        }
        json_t *num = json_object_get(o, "number");
        if (num) {
            json_int_t x = json_is_integer(num) ? json_integer_value(num) : 0;
            if (!json_is_integer(num) || x <= 0 || x > INT_MAX) {
                rc = pgi_jr_fail_key(&r->jr, json_is_integer(num) ? PG_EMODEL : PG_EPARSE, "number",
                                     "'number' must be a whole number greater than 0");
                break;
            }
            b.number = (int)x;
        } else if (i + 1 <= (size_t)INT_MAX) {
            b.number = (int)(i + 1);
        }
        size_t prev;
        int put = pgi_names_put(&r->buses, name, i, &prev);
        if (put == 1) {
            rc = pgi_jr_fail(&r->jr, PG_EMODEL,
                             "bus name \"%s\" is used twice ($.buses[%zu] and $.buses[%zu])", name,
                             prev, i);
            break;
        }
        snprintf(numtext[i], sizeof numtext[i], "%d", b.number);
        if (put == 0)
            put = pgi_names_put(&numbers, numtext[i], i, &prev);
        if (put == 1) {
            rc = pgi_jr_fail_key(
                &r->jr, PG_EMODEL, "number",
                "bus number %d is used twice ($.buses[%zu] and $.buses[%zu])%s", b.number, prev, i,
                num ? "" : "; a bus without 'number' gets its position (1, 2, ...)");
            break;
        }
        if (put < 0 || !(b.name = pgi_strdup(name))) {
            rc = pgi_jr_nomem(&r->jr);
            break;
        }
        r->w->buses[r->w->n_buses++] = b;
        pgi_jr_pop(&r->jr, at);
    }
    pgi_jr_pop(&r->jr, mark);
    pgi_names_free(&numbers);
    free(numtext);
    return rc;
}

static int
read_branch(reader *r, const json_t *o)
{
    pg_branch b;
    pg_branch_init(&b);
    int kind = PG_BRANCH_LINE, rc;
    if ((rc = check_keys(r, o, "a branch", branch_keys, NKEYS(branch_keys))) ||
        (rc = get_string(r, o, "name", true, "a branch", (const char **)&b.name)) ||
        (rc = get_enum(r, o, "kind", branch_kinds, 2, PG_BRANCH_LINE, &kind)) ||
        (rc = get_bus(r, o, "from", "a branch", &b.from)) ||
        (rc = get_bus(r, o, "to", "a branch", &b.to)) ||
        (rc = read_fields(r, o, "a branch", branch_keys, NKEYS(branch_keys), &b)))
        return rc;
    b.kind = (pg_branch_kind)kind;
    return pgi_jr_place(&r->jr, pg_world_add_branch(r->w, &b, NULL, r->jr.err));
}

static int
read_load(reader *r, const json_t *o)
{
    pg_load l;
    pg_load_init(&l);
    int rc;
    if ((rc = check_keys(r, o, "a load", load_keys, NKEYS(load_keys))) ||
        (rc = get_string(r, o, "name", true, "a load", (const char **)&l.name)) ||
        (rc = get_bus(r, o, "bus", "a load", &l.bus)) ||
        (rc = get_series(r, o, "p_series", &l.p_series)) ||
        (rc = get_series(r, o, "q_series", &l.q_series)) ||
        (rc = read_fields(r, o, "a load", load_keys, NKEYS(load_keys), &l)))
        return rc;
    return pgi_jr_place(&r->jr, pg_world_add_load(r->w, &l, NULL, r->jr.err));
}

/* The cost of a thermal unit, at the reader's path "...cost". */
static int
read_cost(reader *r, const json_t *v, pg_cost *c)
{
    static const char *const models[] = {"none", "piecewise", "polynomial"};
    int model = 0, rc;
    if ((rc = check_keys(r, v, "a cost", cost_keys, NKEYS(cost_keys))))
        return rc;
    if (!json_object_get(v, "model"))
        return pgi_jr_fail_key(&r->jr, PG_EPARSE, "model",
                               "a cost needs 'model' (\"polynomial\", \"piecewise\" or \"none\")");
    if ((rc = get_enum(r, v, "model", models, 3, PG_COST_NONE, &model)))
        return rc;
    json_t *coef = json_object_get(v, "coef"), *pts = json_object_get(v, "points");
    if (model == PG_COST_POLYNOMIAL) {
        const char *key = pts ? "points" : "coef";
        if (pts)
            return pgi_jr_fail_key(&r->jr, PG_EPARSE, key,
                                   "a polynomial cost has 'coef', not 'points'");
        if (!coef)
            return pgi_jr_fail_key(&r->jr, PG_EPARSE, key,
                                   "a polynomial cost needs 'coef' ([c0, c1, c2, ...])");
        double *k = NULL;
        size_t n = 0;
        if ((rc = number_array(r, v, "coef", "cost coefficients", &k, &n)))
            return rc;
        size_t mark = pgi_jr_push_key(&r->jr, "coef");
        rc = pgi_jr_place(&r->jr, pg_cost_set_polynomial(c, k, n, r->jr.err));
        pgi_jr_pop(&r->jr, mark);
        free(k);
        return rc;
    }
    if (model == PG_COST_PIECEWISE) {
        const char *key = coef ? "coef" : "points";
        if (coef)
            return pgi_jr_fail_key(&r->jr, PG_EPARSE, key,
                                   "a piecewise cost has 'points', not 'coef'");
        if (!pts)
            return pgi_jr_fail_key(&r->jr, PG_EPARSE, key,
                                   "a piecewise cost needs 'points' ([[MW, $/h], [MW, $/h], ...])");
        if (!json_is_array(pts))
            return pgi_jr_fail_key(&r->jr, PG_EPARSE, key,
                                   "'points' must be an array of [MW, $/h] pairs, got %s",
                                   pgi_jr_type_name(pts));
        size_t n = json_array_size(pts);
        if (n < 2)
            return pgi_jr_fail_key(&r->jr, PG_EMODEL, key,
                                   "a piecewise-linear cost needs at least 2 points");
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        size_t mark = pgi_jr_push_key(&r->jr, key);
        rc = x && y ? PG_OK : pgi_jr_nomem(&r->jr);
        for (size_t j = 0; j < n && !rc; j++) {
            json_t *pt = json_array_get(pts, j);
            if (!json_is_array(pt) || json_array_size(pt) != 2 ||
                !json_is_number(json_array_get(pt, 0)) || !json_is_number(json_array_get(pt, 1))) {
                pgi_jr_push_index(&r->jr, j);
                rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                                 "each point must be a pair of numbers [MW, $/h]");
                break;
            }
            x[j] = json_number_value(json_array_get(pt, 0));
            y[j] = json_number_value(json_array_get(pt, 1));
        }
        if (!rc)
            rc = pgi_jr_place(&r->jr, pg_cost_set_piecewise(c, x, y, n, r->jr.err));
        pgi_jr_pop(&r->jr, mark);
        free(x);
        free(y);
        return rc;
    }
    if (coef || pts)
        return pgi_jr_fail_key(&r->jr, PG_EPARSE, coef ? "coef" : "points",
                               "a cost with model \"none\" has no '%s'", coef ? "coef" : "points");
    return PG_OK;
}

static int
read_thermal(reader *r, const json_t *o)
{
    pg_thermal t;
    pg_thermal_init(&t);
    json_t *cost = json_object_get(o, "cost");
    int rc;
    if (!(rc = check_keys(r, o, "a thermal unit", thermal_keys, NKEYS(thermal_keys))) &&
        !(rc = get_string(r, o, "name", true, "a thermal unit", (const char **)&t.name)) &&
        !(rc = get_bus(r, o, "bus", "a thermal unit", &t.bus)) &&
        !(rc = read_fields(r, o, "a thermal unit", thermal_keys, NKEYS(thermal_keys), &t)) &&
        cost) {
        size_t mark = pgi_jr_push_key(&r->jr, "cost");
        rc = read_cost(r, cost, &t.cost);
        pgi_jr_pop(&r->jr, mark);
    }
    if (!rc)
        rc = pgi_jr_place(&r->jr, pg_world_add_thermal(r->w, &t, NULL, r->jr.err));
    pg_cost_clear(&t.cost);
    return rc;
}

static int
read_renewable(reader *r, const json_t *o)
{
    pg_renewable u;
    pg_renewable_init(&u);
    int tech = PG_TECH_OTHER, rc;
    if ((rc = check_keys(r, o, "a renewable unit", renewable_keys, NKEYS(renewable_keys))) ||
        (rc = get_string(r, o, "name", true, "a renewable unit", (const char **)&u.name)) ||
        (rc = get_bus(r, o, "bus", "a renewable unit", &u.bus)) ||
        (rc = get_enum(r, o, "technology", technologies, 4, PG_TECH_OTHER, &tech)) ||
        (rc = get_series(r, o, "availability", &u.availability)) ||
        (rc = read_fields(r, o, "a renewable unit", renewable_keys, NKEYS(renewable_keys), &u)))
        return rc;
    u.technology = (pg_technology)tech;
    return pgi_jr_place(&r->jr, pg_world_add_renewable(r->w, &u, NULL, r->jr.err));
}

static int
read_storage(reader *r, const json_t *o)
{
    pg_storage s;
    pg_storage_init(&s);
    int rc;
    if ((rc = check_keys(r, o, "a storage unit", storage_keys, NKEYS(storage_keys))) ||
        (rc = get_string(r, o, "name", true, "a storage unit", (const char **)&s.name)) ||
        (rc = get_bus(r, o, "bus", "a storage unit", &s.bus)) ||
        (rc = read_fields(r, o, "a storage unit", storage_keys, NKEYS(storage_keys), &s)))
        return rc;
    return pgi_jr_place(&r->jr, pg_world_add_storage(r->w, &s, NULL, r->jr.err));
}

int
pg_world_json_read_buffer(const char *data, size_t len, const char *name, pg_world **out,
                          pg_notes *notes, pg_error *err)
{
    (void)notes; /* the JSON reader has nothing to note: every key means something */
    if (!out || (!data && len))
        return pg_error_set(err, PG_EINVAL, "pg_world_json_read_buffer: NULL argument");
    if (data)
        pgi_io_skip_bom(&data, &len);
    reader r = {0};
    pgi_jr_init(&r.jr, name ? name : "<input>", data, len, err);
    json_error_t je;
    json_t *root = NULL;
    int rc = PG_OK;
    size_t i = 0;
    while (i < len && data[i] && strchr(" \t\r\n", data[i]))
        i++;
    if (i == len) {
        rc = pgi_io_fail(err, PG_EPARSE, r.jr.file, 0, 0, "",
                         "the file is empty: expected a plurigrid world, a JSON object that "
                         "starts with \"format\": \"" FORMAT_NAME "\"");
        goto out;
    }
    if ((rc = pgi_io_no_nul(data, len, r.jr.file, "plurigrid world", err)))
        goto out;
    root = json_loadb(r.jr.text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        /* jansson names its own flag for an escaped NUL; say what is wrong instead. */
        const char *what = strstr(je.text, "\\u0000") ? "a string contains the NUL character "
                                                        "\\u0000, which plurigrid does not "
                                                        "accept in text"
                                                      : je.text;
        rc = pgi_io_fail(err, PG_EPARSE, r.jr.file, je.line > 0 ? je.line : 0,
                         je.column > 0 ? je.column : 0, "", "JSON syntax error: %s", what);
        goto out;
    }
    if (!json_is_object(root)) {
        rc = pgi_jr_fail(&r.jr, PG_EPARSE, "a plurigrid world is a JSON object {...}, got %s",
                         pgi_jr_type_name(root));
        goto out;
    }
    const char *format, *wname, *desc;
    if ((rc = get_string(&r, root, "format", false, "", &format)))
        goto out;
    if (!format) {
        rc = pgi_jr_fail_key(&r.jr, PG_EPARSE, "format",
                             "'format' is missing: a plurigrid world starts with \"format\": "
                             "\"" FORMAT_NAME "\"");
        goto out;
    }
    if (strcmp(format, FORMAT_NAME) != 0) {
        rc = pgi_jr_fail_key(
            &r.jr, PG_EUNSUPPORTED, "format",
            "'format' is \"%s\"; this version of plurigrid reads \"" FORMAT_NAME "\"", format);
        goto out;
    }
    if ((rc = check_keys(&r, root, "a world", world_keys, NKEYS(world_keys))) ||
        (rc = get_string(&r, root, "name", false, "", &wname)) ||
        (rc = get_string(&r, root, "description", false, "", &desc)))
        goto out;
    double base = 100.0;
    json_t *b = json_object_get(root, "base_mva");
    if (b && !json_is_number(b)) {
        rc = pgi_jr_fail_key(&r.jr, PG_EPARSE, "base_mva", "'base_mva' must be a number, got %s",
                             pgi_jr_type_name(b));
        goto out;
    }
    if (b)
        base = json_number_value(b);
    if (!(base >= PG_BASE_MVA_MIN && base <= PG_BASE_MVA_MAX)) {
        rc = pgi_jr_fail_key(&r.jr, PG_EMODEL, "base_mva",
                             "'base_mva' is %g; the system base must be a positive number of "
                             "MVA from %g to %.0f",
                             base, PG_BASE_MVA_MIN, PG_BASE_MVA_MAX);
        goto out;
    }
    char stem[128];
    pgi_path_stem(name, stem, sizeof stem);
    if ((rc = pg_world_new(&r.w, wname ? wname : stem[0] ? stem : "world", base, err)))
        goto out;
    if (desc && !(r.w->description = pgi_strdup(desc))) {
        rc = pgi_jr_nomem(&r.jr);
        goto out;
    }
    if ((rc = read_section(&r, root, "series", read_series)) || (rc = read_buses(&r, root)) ||
        (rc = read_section(&r, root, "branches", read_branch)) ||
        (rc = read_section(&r, root, "loads", read_load)) ||
        (rc = read_section(&r, root, "thermals", read_thermal)) ||
        (rc = read_section(&r, root, "renewables", read_renewable)) ||
        (rc = read_section(&r, root, "storages", read_storage)))
        goto out;
out:
    json_decref(root);
    pgi_names_free(&r.buses);
    if (rc) {
        pgi_jr_place(&r.jr, rc);
        pg_world_free(r.w);
        return rc;
    }
    *out = r.w;
    return PG_OK;
}

int
pg_world_json_read_file(const char *path, pg_world **out, pg_notes *notes, pg_error *err)
{
    if (!path || !out)
        return pg_error_set(err, PG_EINVAL, "pg_world_json_read_file: NULL argument");
    return pgi_read_world_file(path, pg_world_json_read_buffer, out, notes, err);
}

/* ---------------------------------------------------------------- writer */

typedef struct writer {
    pgi_buf b;
    pg_error *err;
    int rc;
} writer;

/* A number as JSON: whole numbers as integers ("100", not "100.0"), others as reals. */
static json_t *
jnum(double x)
{
    if (x == floor(x) && fabs(x) < 9007199254740992.0)
        return json_integer((json_int_t)x);
    return json_real(x);
}

static int
set(writer *wr, json_t *obj, const char *key, json_t *v)
{
    if (!v || json_object_set_new(obj, key, v)) {
        if (!wr->rc)
            wr->rc = pg_error_set(wr->err, PG_ENOMEM, "out of memory");
        return wr->rc;
    }
    return PG_OK;
}

static int
nonfinite(writer *wr, const char *what, const char *name, const char *key, double x)
{
    if (!wr->rc)
        wr->rc = pg_error_set(wr->err, PG_EMODEL,
                              "%s '%s': %s is %g, which JSON cannot hold (numbers must be finite)",
                              what, name ? name : "", key, x);
    return wr->rc;
}

/* Adds the non-special keys of the table whose values differ from their defaults. */
static void
write_fields(writer *wr, json_t *obj, const key_desc *kd, size_t nk, const void *base,
             const char *what, const char *name)
{
    for (size_t i = 0; i < nk && !wr->rc; i++) {
        const key_desc *d = &kd[i];
        const char *field = (const char *)base + d->off;
        switch (d->kind) {
        case K_NUM: {
            double x = *(const double *)field;
            if (!isfinite(x)) {
                nonfinite(wr, what, name, d->key, x);
                break;
            }
            if (d->required || x != d->def)
                set(wr, obj, d->key, jnum(x));
            break;
        }
        case K_NUM_INF: {
            double x = *(const double *)field;
            if (isnan(x)) {
                nonfinite(wr, what, name, d->key, x);
                break;
            }
            if (x == d->def)
                break;
            set(wr, obj, d->key, isinf(x) ? json_string(x > 0 ? "inf" : "-inf") : jnum(x));
            break;
        }
        case K_POS: {
            double x = *(const double *)field;
            if (isnan(x))
                break;
            if (!isfinite(x)) {
                nonfinite(wr, what, name, d->key, x);
                break;
            }
            set(wr, obj, d->key, jnum(x));
            break;
        }
        case K_INT: {
            int x = *(const int *)field;
            if (x != (int)d->def)
                set(wr, obj, d->key, json_integer(x));
            break;
        }
        case K_BOOL: {
            bool x = *(const bool *)field;
            if (x != (d->def != 0))
                set(wr, obj, d->key, json_boolean(x));
            break;
        }
        case K_SPECIAL: break;
        }
    }
}

/* Where key stands in a table: the writers split a table around the special keys they write
 * themselves, so that every key comes out in table order. */
static size_t
key_at(const key_desc *kd, size_t nk, const char *key)
{
    size_t k = 0;
    while (k < nk && strcmp(kd[k].key, key) != 0)
        k++;
    return k;
}

/* Appends v dumped on one line. Takes v. */
static void
emit(writer *wr, json_t *v)
{
    if (wr->rc) {
        json_decref(v);
        return;
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(pgi_json_real_digits(v)));
    json_decref(v);
    if (!s) {
        wr->rc = pg_error_set(wr->err, PG_ENOMEM, "out of memory");
        return;
    }
    pgi_buf_puts(&wr->b, s);
    free(s);
}

static void
emit_member(writer *wr, const char *key, json_t *v, bool *first)
{
    pgi_buf_puts(&wr->b, *first ? "\n  " : ",\n  ");
    *first = false;
    emit(wr, json_string(key));
    pgi_buf_puts(&wr->b, ": ");
    emit(wr, v);
}

/* `"key": [` one element per line `]`. */
static void
open_array(writer *wr, const char *key, bool *first)
{
    pgi_buf_puts(&wr->b, *first ? "\n  " : ",\n  ");
    *first = false;
    emit(wr, json_string(key));
    pgi_buf_puts(&wr->b, ": [");
}

static void
array_item(writer *wr, json_t *v, size_t i)
{
    pgi_buf_puts(&wr->b, i ? ",\n    " : "\n    ");
    emit(wr, v);
}

static void
close_array(writer *wr, size_t n)
{
    pgi_buf_puts(&wr->b, n ? "\n  ]" : "]");
}

static json_t *
bus_json(writer *wr, const pg_world *w, size_t i)
{
    const pg_bus *b = &w->buses[i];
    json_t *o = json_object();
    set(wr, o, "name", json_string(b->name ? b->name : ""));
    if (b->number != (int)(i + 1) || i + 1 > (size_t)INT_MAX)
        set(wr, o, "number", json_integer(b->number));
    if (b->type != PG_BUS_PQ) {
        if (b->type >= PG_BUS_PQ && b->type <= PG_BUS_ISOLATED)
            set(wr, o, "type", json_string(bus_types[b->type]));
        else if (!wr->rc)
            wr->rc = pg_error_set(wr->err, PG_EMODEL, "bus '%s' has unknown type %d", b->name,
                                  (int)b->type);
    }
    if (isnan(b->x) != isnan(b->y) && !wr->rc)
        wr->rc = pg_error_set(wr->err, PG_EMODEL,
                              "bus '%s' has only one drawing coordinate (x %g, y %g): a bus is "
                              "placed with both or neither",
                              b->name, b->x, b->y);
    write_fields(wr, o, bus_keys, NKEYS(bus_keys), b, "bus", b->name);
    return o;
}

static const char *
bus_name(writer *wr, const pg_world *w, size_t bus, const char *what, const char *name)
{
    if (bus < w->n_buses && w->buses[bus].name)
        return w->buses[bus].name;
    if (!wr->rc)
        wr->rc = pg_error_set(wr->err, PG_EMODEL, "%s '%s' refers to a bus that does not exist",
                              what, name ? name : "");
    return "";
}

static void
set_series(writer *wr, const pg_world *w, json_t *o, const char *key, size_t s, const char *what,
           const char *name)
{
    if (s == PG_NONE)
        return;
    if (s >= w->n_series) {
        if (!wr->rc)
            wr->rc = pg_error_set(wr->err, PG_EMODEL,
                                  "%s '%s' refers to a time series that does not exist", what,
                                  name ? name : "");
        return;
    }
    set(wr, o, key, json_string(w->series[s].name));
}

static json_t *
branch_json(writer *wr, const pg_world *w, const pg_branch *b)
{
    json_t *o = json_object();
    set(wr, o, "name", json_string(b->name ? b->name : ""));
    if (b->kind != PG_BRANCH_LINE)
        set(wr, o, "kind", json_string(branch_kinds[b->kind == PG_BRANCH_TRANSFORMER]));
    set(wr, o, "from", json_string(bus_name(wr, w, b->from, "branch", b->name)));
    set(wr, o, "to", json_string(bus_name(wr, w, b->to, "branch", b->name)));
    write_fields(wr, o, branch_keys, NKEYS(branch_keys), b, "branch", b->name);
    return o;
}

static json_t *
load_json(writer *wr, const pg_world *w, const pg_load *l)
{
    json_t *o = json_object();
    set(wr, o, "name", json_string(l->name ? l->name : ""));
    set(wr, o, "bus", json_string(bus_name(wr, w, l->bus, "load", l->name)));
    /* p and q first, then the series that scale them */
    size_t k = key_at(load_keys, NKEYS(load_keys), "p_series");
    write_fields(wr, o, load_keys, k, l, "load", l->name);
    set_series(wr, w, o, "p_series", l->p_series, "load", l->name);
    set_series(wr, w, o, "q_series", l->q_series, "load", l->name);
    write_fields(wr, o, load_keys + k, NKEYS(load_keys) - k, l, "load", l->name);
    return o;
}

static json_t *
cost_json(writer *wr, const pg_thermal *t)
{
    const pg_cost *c = &t->cost;
    json_t *o = json_object();
    if (c->model == PG_COST_POLYNOMIAL) {
        set(wr, o, "model", json_string("polynomial"));
        json_t *a = json_array();
        for (size_t k = 0; k < c->n && a; k++) {
            if (!isfinite(c->coef[k]))
                nonfinite(wr, "thermal unit", t->name, "a cost coefficient", c->coef[k]);
            json_array_append_new(a, jnum(c->coef[k]));
        }
        set(wr, o, "coef", a);
    } else {
        set(wr, o, "model", json_string("piecewise"));
        json_t *a = json_array();
        for (size_t k = 0; k < c->n && a; k++) {
            if (!isfinite(c->px[k]) || !isfinite(c->py[k]))
                nonfinite(wr, "thermal unit", t->name, "a cost point",
                          isfinite(c->px[k]) ? c->py[k] : c->px[k]);
            json_t *pt = json_array();
            if (pt) {
                json_array_append_new(pt, jnum(c->px[k]));
                json_array_append_new(pt, jnum(c->py[k]));
            }
            json_array_append_new(a, pt);
        }
        set(wr, o, "points", a);
    }
    return o;
}

static json_t *
thermal_json(writer *wr, const pg_world *w, const pg_thermal *t)
{
    json_t *o = json_object();
    set(wr, o, "name", json_string(t->name ? t->name : ""));
    set(wr, o, "bus", json_string(bus_name(wr, w, t->bus, "thermal unit", t->name)));
    /* keys before "cost", the cost, then the keys after it */
    size_t k = key_at(thermal_keys, NKEYS(thermal_keys), "cost");
    write_fields(wr, o, thermal_keys, k, t, "thermal unit", t->name);
    if (t->cost.model == PG_COST_POLYNOMIAL || t->cost.model == PG_COST_PIECEWISE)
        set(wr, o, "cost", cost_json(wr, t));
    else if (t->cost.model != PG_COST_NONE && !wr->rc)
        wr->rc = pg_error_set(wr->err, PG_EMODEL, "thermal unit '%s' has unknown cost model %d",
                              t->name, (int)t->cost.model);
    write_fields(wr, o, thermal_keys + k, NKEYS(thermal_keys) - k, t, "thermal unit", t->name);
    return o;
}

static json_t *
renewable_json(writer *wr, const pg_world *w, const pg_renewable *u)
{
    json_t *o = json_object();
    set(wr, o, "name", json_string(u->name ? u->name : ""));
    set(wr, o, "bus", json_string(bus_name(wr, w, u->bus, "renewable unit", u->name)));
    if (u->technology != PG_TECH_OTHER) {
        if ((int)u->technology >= 0 && u->technology < PG_TECH_OTHER)
            set(wr, o, "technology", json_string(technologies[u->technology]));
        else if (!wr->rc)
            wr->rc =
                pg_error_set(wr->err, PG_EMODEL, "renewable unit '%s' has unknown technology %d",
                             u->name, (int)u->technology);
    }
    size_t k = key_at(renewable_keys, NKEYS(renewable_keys), "availability");
    write_fields(wr, o, renewable_keys, k, u, "renewable unit", u->name);
    set_series(wr, w, o, "availability", u->availability, "renewable unit", u->name);
    write_fields(wr, o, renewable_keys + k, NKEYS(renewable_keys) - k, u, "renewable unit",
                 u->name);
    return o;
}

static json_t *
storage_json(writer *wr, const pg_world *w, const pg_storage *s)
{
    json_t *o = json_object();
    set(wr, o, "name", json_string(s->name ? s->name : ""));
    set(wr, o, "bus", json_string(bus_name(wr, w, s->bus, "storage unit", s->name)));
    write_fields(wr, o, storage_keys, NKEYS(storage_keys), s, "storage unit", s->name);
    return o;
}

static json_t *
series_json(writer *wr, const pg_series *s)
{
    json_t *o = json_object();
    set(wr, o, "name", json_string(s->name ? s->name : ""));
    if (!isfinite(s->step_h))
        nonfinite(wr, "time series", s->name, "step_h", s->step_h);
    if (s->step_h != 1.0)
        set(wr, o, "step_h", jnum(s->step_h));
    json_t *a = json_array();
    for (size_t k = 0; k < s->n && a; k++) {
        if (!isfinite(s->values[k]))
            nonfinite(wr, "time series", s->name, "a value", s->values[k]);
        json_array_append_new(a, jnum(s->values[k]));
    }
    set(wr, o, "values", a);
    return o;
}

int
pg_world_json_write_buffer(const pg_world *w, char **text, size_t *len, pg_error *err)
{
    if (!w || !text)
        return pg_error_set(err, PG_EINVAL, "pg_world_json_write_buffer: NULL argument");
    writer wr = {.err = err};
    bool first = true;
    if (!isfinite(w->base_mva))
        nonfinite(&wr, "world", w->name, "base_mva", w->base_mva);
    pgi_buf_puts(&wr.b, "{");
    emit_member(&wr, "format", json_string(FORMAT_NAME), &first);
    emit_member(&wr, "name", json_string(w->name ? w->name : "world"), &first);
    if (w->description)
        emit_member(&wr, "description", json_string(w->description), &first);
    emit_member(&wr, "base_mva", jnum(w->base_mva), &first);
    open_array(&wr, "buses", &first);
    for (size_t i = 0; i < w->n_buses; i++)
        array_item(&wr, bus_json(&wr, w, i), i);
    close_array(&wr, w->n_buses);
#define SECTION(key, n, expr)                                                                      \
    if (n) {                                                                                       \
        open_array(&wr, key, &first);                                                              \
        for (size_t i = 0; i < (n); i++)                                                           \
            array_item(&wr, expr, i);                                                              \
        close_array(&wr, n);                                                                       \
    }
    SECTION("branches", w->n_branches, branch_json(&wr, w, &w->branches[i]))
    SECTION("loads", w->n_loads, load_json(&wr, w, &w->loads[i]))
    SECTION("thermals", w->n_thermals, thermal_json(&wr, w, &w->thermals[i]))
    SECTION("renewables", w->n_renewables, renewable_json(&wr, w, &w->renewables[i]))
    SECTION("storages", w->n_storages, storage_json(&wr, w, &w->storages[i]))
    SECTION("series", w->n_series, series_json(&wr, &w->series[i]))
#undef SECTION
    pgi_buf_puts(&wr.b, "\n}\n");
    if (!wr.rc && wr.b.failed)
        wr.rc = pg_error_set(err, PG_ENOMEM, "out of memory");
    if (wr.rc) {
        pgi_buf_free(&wr.b);
        return wr.rc;
    }
    *text = wr.b.data;
    if (len)
        *len = wr.b.len;
    return PG_OK;
}

int
pg_world_json_write_file(const pg_world *w, const char *path, pg_error *err)
{
    if (!w || !path)
        return pg_error_set(err, PG_EINVAL, "pg_world_json_write_file: NULL argument");
    char *text = NULL;
    size_t len = 0;
    int rc = pg_world_json_write_buffer(w, &text, &len, err);
    if (rc)
        return rc;
    rc = pgi_write_text_file(path, text, len, err);
    free(text);
    return rc;
}
