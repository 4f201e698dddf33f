/* Reading a community scenario (plurigrid-community/1, docs/community.md): the community's name,
 * its data folder and calendar, the prices and named series (each read by pgi_series_read for the
 * run's intervals only), the nodes with their configurations per variant and the series that feed
 * their inputs, the market, the grid, an optional feeder for grid-aware clearing, demand-response
 * events in the OpenADR 2.0b vocabulary and an optional pool of shared portable batteries. Every
 * mistake is reported with the file, the line and the JSON path. */
#define _GNU_SOURCE /* strnlen, realpath */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "community/internal.h"
#include "community/series.h"
#include "core/json_read.h"
#include "core/util.h"
#include "community/msg.h"
#include "node/node_json.h"
#include "plurigrid/io.h"

#define FORMAT "plurigrid-community/1"

/* days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DDTHH:MM" (":SS" allowed, a space for the T) as days since 1970 and an hour. */
static bool
parse_datetime(const char *s, int64_t *day, double *hour)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return false;
    const char *p = s + n;
    if (*p) {
        int m2 = 0;
        if ((*p != 'T' && *p != ' ') || sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m2) != 2 || m2 != 5)
            return false;
        p += 1 + m2;
        if (*p == ':') {
            int m3 = 0;
            if (sscanf(p + 1, "%2d%n", &sec, &m3) != 1 || m3 != 2)
                return false;
            p += 3;
        }
        if (*p)
            return false;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59 ||
        y < 1900 || y > 2999)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    *day = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *hour = h + mi / 60.0 + sec / 3600.0;
    return true;
}

/* An ISO 8601 duration of days, hours, minutes and seconds ("PT4H", "P1DT30M") in hours. */
static bool
parse_duration(const char *s, double *hours)
{
    if (*s != 'P')
        return false;
    s++;
    double h = 0;
    bool in_time = false, any = false;
    while (*s) {
        if (*s == 'T') {
            if (in_time)
                return false;
            in_time = true;
            s++;
            continue;
        }
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno || !(v >= 0) || !isfinite(v) || *s == '+' || *s == '-')
            return false;
        s = end;
        if (!in_time && *s == 'D')
            h += 24 * v;
        else if (!in_time && *s == 'W')
            h += 168 * v;
        else if (in_time && *s == 'H')
            h += v;
        else if (in_time && *s == 'M')
            h += v / 60;
        else if (in_time && *s == 'S')
            h += v / 3600;
        else
            return false;
        s++;
        any = true;
    }
    if (!any)
        return false;
    *hours = h;
    return true;
}

static int
get_datetime(pgi_jr *r, const json_t *obj, const char *key, int64_t *day, double *hour)
{
    const char *s = NULL;
    int rc = pgi_jr_get_string(r, obj, key, true, &s);
    if (rc)
        return rc;
    if (!parse_datetime(s, day, hour))
        return pgi_jr_fail_key(r, PG_EPARSE, key,
                               "must be a date and time 'YYYY-MM-DDTHH:MM' (it is '%s')", s);
    return PG_OK;
}

static int
get_duration(pgi_jr *r, const json_t *obj, const char *key, bool required, double *hours)
{
    const char *s = NULL;
    int rc = pgi_jr_get_string(r, obj, key, required, &s);
    if (rc || !s)
        return rc;
    if (!parse_duration(s, hours))
        return pgi_jr_fail_key(r, PG_EPARSE, key,
                               "must be an ISO 8601 duration such as 'PT1H' or 'PT15M' (it is "
                               "'%s')",
                               s);
    return PG_OK;
}

/* ---------------------------------------------------------------- freeing */

void
pg_community_free(pg_community *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_nodes; i++) {
        cm_node *nd = &c->nodes[i];
        for (size_t v = 0; v < c->n_variants; v++) {
            if (nd->cfg)
                pg_node_config_free(nd->cfg[v]);
            if (nd->inputs)
                free((void *)nd->inputs[v]);
        }
        free(nd->cfg);
        free((void *)nd->inputs);
        free(nd->name);
    }
    free(c->nodes);
    for (size_t i = 0; i < c->n_series; i++) {
        free(c->series[i].name);
        free(c->series[i].v);
    }
    free(c->series);
    for (size_t i = 0; i < c->n_variants; i++)
        free(c->variants[i]);
    free(c->variants);
    for (size_t i = 0; i < c->n_events; i++)
        free(c->events[i].targets);
    free(c->events);
    free(c->packs);
    pg_world_free(c->feeder);
    free(c->node_bus);
    free(c->retail);
    free(c->feed_in);
    free(c->mechanism);
    free(c->token);
    free(c->name);
    free(c);
}

const char *
pg_community_name(const pg_community *c)
{
    return c->name;
}

size_t
pg_community_n_nodes(const pg_community *c)
{
    return c->n_nodes;
}

size_t
pg_community_n_intervals(const pg_community *c)
{
    return c->n;
}

const char *
pg_community_node_name(const pg_community *c, size_t i)
{
    return i < c->n_nodes ? c->nodes[i].name : NULL;
}

double
pg_community_step_h(const pg_community *c)
{
    return c->step_h;
}

const char *
pg_community_variant_name(const pg_community *c, size_t v)
{
    return v < c->n_variants ? c->variants[v] : NULL;
}

const char *
pg_community_mechanism(const pg_community *c)
{
    return c->mechanism;
}

void
pg_community_options_init(pg_community_options *o)
{
    memset(o, 0, sizeof *o);
    o->threads = 2;
}

/* ---------------------------------------------------------------- the reader */

typedef struct reader {
    pgi_jr r;
    pg_community *c;
    const pg_community_options *o;
    const char *base_dir;
    char *data_dir;
    const char *dataset;
} reader;

/* A run keeps a few numbers per node and interval (and
 * one per series and interval): bounded, so that a large scenario is refused
 * with a message rather than exhausting memory. */
#define MAX_NODE_INTERVALS 50000000.0

static int
read_series_spec(reader *rd, const json_t *spec, const char *name, double **values)
{
    pgi_series_ctx ctx = {
        .data_dir = rd->data_dir,
        .dataset = rd->dataset,
        .step_h = rd->c->step_h,
        .first = rd->c->first,
        .n = rd->c->n,
        .seed = rd->c->seed,
        .name = name,
    };
    return pgi_series_read(&rd->r, spec, &ctx, values);
}

static int
read_data(reader *rd, const json_t *root)
{
    pgi_jr *r = &rd->r;
    json_t *data = NULL;
    int rc = pgi_jr_get_object(r, root, "data", false, &data);
    if (rc)
        return rc;
    const char *dir = NULL;
    rd->dataset = "the scenario's data";
    if (data) {
        size_t m = pgi_jr_push_key(r, "data");
        static const char *const keys[] = {"dataset", "dir", NULL};
        if ((rc = pgi_jr_check_keys(r, data, "data", keys)) ||
            (rc = pgi_jr_get_string(r, data, "dataset", true, &rd->dataset)) ||
            (rc = pgi_jr_get_string(r, data, "dir", false, &dir)))
            return rc;
        pgi_jr_pop(r, m);
    }
    if (rd->o && rd->o->data_dir)
        rd->data_dir = pgi_strdup(rd->o->data_dir);
    else if (dir)
        rd->data_dir = pgi_path_join(rd->base_dir, dir);
    else
        return PG_OK;
    if (!rd->data_dir)
        return pgi_jr_nomem(r);
    struct stat st;
    if (data && (stat(rd->data_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        pg_error *err = r->err;
        pg_error_set(err, PG_ENOTFOUND,
                     "the data folder '%s' is missing: this scenario needs the dataset '%s' "
                     "there (or give its folder with --data DIR)",
                     rd->data_dir, rd->dataset);
        pg_error_at(err, r->file, 0, 0, "");
        return PG_ENOTFOUND;
    }
    return PG_OK;
}

static int
read_calendar(reader *rd, const json_t *root)
{
    pgi_jr *r = &rd->r;
    pg_community *c = rd->c;
    int rc;
    c->step_h = 1;
    if ((rc = pgi_jr_get_number(r, root, "step_h", false, 1.0 / 60, 24, &c->step_h)))
        return rc;
    double per_day = 24 / c->step_h;
    if (fabs(per_day - round(per_day)) > 1e-9)
        return pgi_jr_fail_key(r, PG_EMODEL, "step_h", "must divide a day (24 h) evenly");
    size_t ipd = (size_t)round(per_day);
    if ((rc = pgi_jr_get_size(r, root, "intervals", true, 1, PG_COMMUNITY_MAX_INTERVALS,
                              &c->data_intervals)))
        return rc;
    c->start_civil_day = 0;
    c->start_hour = 0;
    json_t *start = NULL;
    if ((rc = pgi_jr_member(r, root, "start", false, NULL, &start)))
        return rc;
    if (start) {
        size_t m = pgi_jr_push_key(r, "start");
        static const char *const keys[] = {"date", "weekday", NULL};
        if ((rc = pgi_jr_want(r, start, JSON_OBJECT,
                              "an object {\"date\": ..., \"weekday\": ...}")) ||
            (rc = pgi_jr_check_keys(r, start, "start", keys)) ||
            (rc = get_datetime(r, start, "date", &c->start_civil_day, &c->start_hour)))
            return rc;
        const char *wd = NULL;
        if ((rc = pgi_jr_get_string(r, start, "weekday", false, &wd)))
            return rc;
        if (wd) {
            static const char *const names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                "Friday", "Saturday", "Sunday"};
            int64_t w = ((c->start_civil_day % 7) + 7 + 3) % 7; /* 1970-01-01 was a Thursday */
            if (strcmp(wd, names[w]) != 0)
                return pgi_jr_fail_key(r, PG_EMODEL, "weekday", "the date is a %s, not a %s",
                                       names[w], wd);
        }
        pgi_jr_pop(r, m);
    }
    size_t data_days = c->data_intervals / ipd;
    size_t start_day = rd->o ? rd->o->start_day : 0;
    if (data_days == 0)
        return pgi_jr_fail_key(r, PG_EMODEL, "intervals",
                               "%zu intervals of %g h are less than a day: a run plays whole days, "
                               "so the data must have at least %zu intervals",
                               c->data_intervals, c->step_h, ipd);
    if (start_day >= data_days) {
        pg_error_set(r->err, PG_EMODEL,
                     "the data has %zu whole days: the start day must be from 0 to %zu (it is "
                     "%zu)",
                     data_days, data_days ? data_days - 1 : 0, start_day);
        return PG_EMODEL;
    }
    size_t days = rd->o && rd->o->days ? rd->o->days : data_days - start_day;
    if (days > data_days - start_day) {
        pg_error_set(r->err, PG_EMODEL,
                     "the data has %zu days from day %zu: --days must be at most %zu (it is %zu)",
                     data_days - start_day, start_day, data_days - start_day, days);
        return PG_EMODEL;
    }
    c->start_day = start_day;
    c->days = days;
    c->first = start_day * ipd;
    c->n = days * ipd;
    double horizon_h = 24;
    if ((rc = pgi_jr_get_number(r, root, "horizon_h", false, c->step_h, 48, &horizon_h)))
        return rc;
    c->horizon = (size_t)floor(horizon_h / c->step_h + 1e-9);
    if (c->horizon < 1)
        c->horizon = 1;
    if (c->horizon > PGI_MSG_MAX_HORIZON)
        c->horizon = PGI_MSG_MAX_HORIZON;
    return PG_OK;
}

/* "prices": {"retail": SPEC, "feed_in": SPEC}; off-grid communities may leave them out (the value
 * of energy is then 1 $/kWh to buy and 0 to sell, for the nodes' bids). */
static int
read_prices(reader *rd, const json_t *root)
{
    pgi_jr *r = &rd->r;
    pg_community *c = rd->c;
    json_t *prices = NULL;
    int rc = pgi_jr_get_object(r, root, "prices", c->connected, &prices);
    if (rc)
        return rc;
    if (!prices) {
        if (!(c->retail = malloc(c->n * sizeof *c->retail)) ||
            !(c->feed_in = malloc(c->n * sizeof *c->feed_in)))
            return pgi_jr_nomem(r);
        for (size_t t = 0; t < c->n; t++) {
            c->retail[t] = 1;
            c->feed_in[t] = 0;
        }
        return PG_OK;
    }
    size_t m = pgi_jr_push_key(r, "prices");
    static const char *const keys[] = {"retail", "feed_in", NULL};
    if ((rc = pgi_jr_check_keys(r, prices, "prices", keys)))
        return rc;
    const char *names[2] = {"retail", "feed_in"};
    double **dst[2] = {&c->retail, &c->feed_in};
    for (int i = 0; i < 2; i++) {
        json_t *spec = NULL;
        if ((rc = pgi_jr_member(r, prices, names[i], true, "prices", &spec)))
            return rc;
        size_t m2 = pgi_jr_push_key(r, names[i]);
        if ((rc = read_series_spec(rd, spec, names[i], dst[i])))
            return rc;
        for (size_t t = 0; t < c->n; t++)
            if (!(fabs((*dst[i])[t]) <= 1e6))
                return pgi_jr_fail(r, PG_EMODEL,
                                   "the price of interval %zu is %g $/kWh: prices must be "
                                   "finite and within +-1e6 $/kWh",
                                   t, (*dst[i])[t]);
        pgi_jr_pop(r, m2);
    }
    for (size_t t = 0; t < c->n; t++)
        if (c->feed_in[t] > c->retail[t])
            return pgi_jr_fail(r, PG_EMODEL,
                               "in interval %zu the feed-in price (%g) is above the retail price "
                               "(%g): nodes could buy from the grid to sell back to it",
                               t, c->feed_in[t], c->retail[t]);
    pgi_jr_pop(r, m);
    return PG_OK;
}

static int
read_series(reader *rd, const json_t *root)
{
    pgi_jr *r = &rd->r;
    pg_community *c = rd->c;
    json_t *series = NULL;
    int rc = pgi_jr_get_object(r, root, "series", false, &series);
    if (rc || !series)
        return rc;
    size_t n = json_object_size(series);
    if ((double)n * (double)c->n > MAX_NODE_INTERVALS)
        return pgi_jr_fail_key(r, PG_ELIMIT, "series",
                               "the run is too large: %zu series x %zu intervals is more than %.0f "
                               "series-intervals; run fewer days (--days) or use fewer series",
                               n, c->n, MAX_NODE_INTERVALS);
    if (!(c->series = calloc(n ? n : 1, sizeof *c->series)))
        return pgi_jr_nomem(r);
    size_t m = pgi_jr_push_key(r, "series");
    const char *key;
    json_t *spec;
    json_object_foreach(series, key, spec)
    {
        size_t m2 = pgi_jr_push_key(r, key);
        cm_series *s = &c->series[c->n_series];
        if (!(s->name = pgi_strdup(key)))
            return pgi_jr_nomem(r);
        c->n_series++;
        if ((rc = read_series_spec(rd, spec, key, &s->v)))
            return rc;
        for (size_t t = 0; t < c->n; t++)
            if (!(fabs(s->v[t]) <= 1e9))
                return pgi_jr_fail(r, PG_EMODEL,
                                   "the value of interval %zu is %g: series values must be "
                                   "finite and within +-1e9",
                                   t, s->v[t]);
        pgi_jr_pop(r, m2);
    }
    pgi_jr_pop(r, m);
    return PG_OK;
}

static const cm_series *
find_series(const pg_community *c, const char *name)
{
    for (size_t i = 0; i < c->n_series; i++)
        if (strcmp(c->series[i].name, name) == 0)
            return &c->series[i];
    return NULL;
}

static int
read_variants(reader *rd, const json_t *root)
{
    pgi_jr *r = &rd->r;
    pg_community *c = rd->c;
    json_t *vars = NULL;
    int rc = pgi_jr_get_array(r, root, "variants", false, 1, &vars);
    if (rc)
        return rc;
    size_t n = vars ? json_array_size(vars) : 1;
    if (n > PG_COMMUNITY_MAX_VARIANTS)
        return pgi_jr_fail_key(r, PG_EMODEL, "variants", "at most %d variants",
                               PG_COMMUNITY_MAX_VARIANTS);
    if (!(c->variants = calloc(n, sizeof *c->variants)))
        return pgi_jr_nomem(r);
    if (!vars) {
        c->n_variants = 1;
        return (c->variants[0] = pgi_strdup("default")) ? PG_OK : pgi_jr_nomem(r);
    }
    size_t m = pgi_jr_push_key(r, "variants");
    for (size_t i = 0; i < n; i++) {
        size_t m2 = pgi_jr_push_index(r, i);
        json_t *v = json_array_get(vars, i);
        if ((rc = pgi_jr_want(r, v, JSON_STRING, "a variant name")))
            return rc;
        const char *s = json_string_value(v);
        if (!pgi_token_ok(s))
            return pgi_jr_fail(r, PG_EMODEL,
                               "a variant name is 1 to 63 letters, digits, '-' or '_' (it is "
                               "'%s')",
                               s);
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->variants[j], s) == 0)
                return pgi_jr_fail(r, PG_EMODEL, "the variant '%s' is named twice", s);
        if (!(c->variants[i] = pgi_strdup(s)))
            return pgi_jr_nomem(r);
        c->n_variants++;
        pgi_jr_pop(r, m2);
    }
    pgi_jr_pop(r, m);
    return PG_OK;
}

/* A node configuration: a file name (relative to the scenario) or an inline plurigrid-node/1
 * object. */
static int
read_config(reader *rd, const json_t *v, pg_node_config **out)
{
    pgi_jr *r = &rd->r;
    int rc;
    if (json_is_string(v)) {
        char *path = pgi_path_join(rd->base_dir, json_string_value(v));
        if (!path)
            return pgi_jr_nomem(r);
        rc = pg_node_config_read(out, path, r->err);
        free(path);
        return rc;
    }
    if ((rc = pgi_jr_want(r, v, JSON_OBJECT, "a node configuration file name or object")))
        return rc;
    return pgi_node_config_from_json(r, v, out);
}

static int
bind_inputs(reader *rd, cm_node *nd, size_t var, const json_t *inputs)
{
    pgi_jr *r = &rd->r;
    const pg_node_config *cfg = nd->cfg[var];
    size_t n = pg_node_config_n_inputs(cfg);
    const double **in = calloc(n ? n : 1, sizeof *in);
    if (!in)
        return pgi_jr_nomem(r);
    nd->inputs[var] = in;
    for (size_t i = 0; i < n; i++) {
        const char *want = pg_node_config_input(cfg, i);
        json_t *sv = inputs ? json_object_get(inputs, want) : NULL;
        if (!sv)
            return pgi_jr_fail(r, PG_EMODEL,
                               "the node's configuration (variant '%s') reads the input '%s': "
                               "name the series that feeds it in \"inputs\"",
                               rd->c->variants[var], want);
        const cm_series *s = find_series(rd->c, json_string_value(sv));
        in[i] = s->v; /* checked by read_nodes */
    }
    return PG_OK;
}

static int
read_node(reader *rd, const json_t *obj, cm_node *nd)
{
    pgi_jr *r = &rd->r;
    pg_community *c = rd->c;
    int rc;
    static const char *const keys[] = {"name", "config", "inputs", "bus", NULL};
    if ((rc = pgi_jr_want(r, obj, JSON_OBJECT, "a node object")) ||
        (rc = pgi_jr_check_keys(r, obj, "a node", keys)) ||
        (rc = pgi_jr_dup_string(r, obj, "name", true, &nd->name)))
        return rc;
    if (!pgi_token_ok(nd->name))
        return pgi_jr_fail_key(r, PG_EMODEL, "name",
                               "a node name is 1 to 63 letters, digits, '-' or '_' (it is '%s')",
                               nd->name);
    if (!(nd->cfg = calloc(c->n_variants, sizeof *nd->cfg)) ||
        !(nd->inputs = calloc(c->n_variants, sizeof *nd->inputs)))
        return pgi_jr_nomem(r);
    json_t *cfg = NULL, *inputs = NULL;
    if ((rc = pgi_jr_member(r, obj, "config", true, "a node", &cfg)) ||
        (rc = pgi_jr_get_object(r, obj, "inputs", false, &inputs)))
        return rc;
    if (inputs) {
        size_t m = pgi_jr_push_key(r, "inputs");
        const char *k;
        json_t *v;
        json_object_foreach(inputs, k, v)
        {
            size_t m2 = pgi_jr_push_key(r, k);
            if ((rc = pgi_jr_want(r, v, JSON_STRING, "the name of a series")))
                return rc;
            if (!find_series(c, json_string_value(v)))
                return pgi_jr_fail(r, PG_EMODEL, "there is no series '%s' in \"series\"",
                                   json_string_value(v));
            pgi_jr_pop(r, m2);
        }
        pgi_jr_pop(r, m);
    }
    size_t m = pgi_jr_push_key(r, "config");
    /* Per variant: an object whose keys are all variant names of the scenario (an inline node
     * configuration has keys of its own: "name", "devices", ...). */
    bool per_variant = json_is_object(cfg) && json_object_size(cfg) > 0;
    {
        const char *k;
        json_t *v;
        json_object_foreach(cfg, k, v)
        {
            size_t i = 0;
            while (i < c->n_variants && strcmp(c->variants[i], k) != 0)
                i++;
            if (i == c->n_variants)
                per_variant = false;
        }
    }
    for (size_t v = 0; v < c->n_variants; v++) {
        const json_t *one = cfg;
        size_t m2 = 0;
        if (per_variant) {
            one = json_object_get(cfg, c->variants[v]);
            if (!one)
                return pgi_jr_fail(r, PG_EMODEL, "no configuration for the variant '%s'",
                                   c->variants[v]);
            m2 = pgi_jr_push_key(r, c->variants[v]);
        }
        /* A file named in several variants is read for each (configurations are small). */
        if ((rc = read_config(rd, one, &nd->cfg[v])))
            return pgi_jr_place(r, rc);
        if (per_variant)
            pgi_jr_pop(r, m2);
    }
    pgi_jr_pop(r, m);
    for (size_t v = 0; v < c->n_variants; v++)
        if ((rc = bind_inputs(rd, nd, v, inputs)))
            return rc;
    if (inputs) {
        /* Every input named is read by some variant's configuration: a misspelt input is an
         * error, not a silent no-op. */
        const char *k;
        json_t *val;
        json_object_foreach(inputs, k, val)
        {
            bool used = false;
            for (size_t v = 0; v < c->n_variants && !used; v++)
                for (size_t i = 0; i < pg_node_config_n_inputs(nd->cfg[v]) && !used; i++)
                    used = strcmp(pg_node_config_input(nd->cfg[v], i), k) == 0;
            if (!used) {
                (void)pgi_jr_push_key(r, "inputs"); /* the error's place: $.nodes[i].inputs.k */
                return pgi_jr_fail_key(r, PG_EMODEL, k,
                                       "no configuration of this node reads an input '%s'", k);
            }
        }
    }
    return PG_OK;
}

static int
read_nodes(reader *rd, const json_t *root)
{
    pgi_jr *r = &rd->r;
    pg_community *c = rd->c;
    json_t *nodes = NULL;
    int rc = pgi_jr_get_array(r, root, "nodes", true, 1, &nodes);
    if (rc)
        return rc;
    size_t n = json_array_size(nodes);
    if (n > PG_COMMUNITY_MAX_NODES)
        return pgi_jr_fail_key(r, PG_EMODEL, "nodes", "at most %d nodes", PG_COMMUNITY_MAX_NODES);
    /* Refused before the nodes are read: reading 10^5 configurations takes a while. */
    if ((double)n * (double)c->n > MAX_NODE_INTERVALS)
        return pgi_jr_fail_key(r, PG_ELIMIT, "nodes",
                               "the run is too large: %zu nodes x %zu intervals is more than %.0f "
                               "node-intervals; run fewer days (--days) or fewer nodes",
                               n, c->n, MAX_NODE_INTERVALS);
    if (!(c->nodes = calloc(n, sizeof *c->nodes)))
        return pgi_jr_nomem(r);
    size_t m = pgi_jr_push_key(r, "nodes");
    for (size_t i = 0; i < n; i++) {
        size_t m2 = pgi_jr_push_index(r, i);
        c->n_nodes++;
        if ((rc = read_node(rd, json_array_get(nodes, i), &c->nodes[i])))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->nodes[j].name, c->nodes[i].name) == 0)
                return pgi_jr_fail_key(r, PG_EMODEL, "name", "the node '%s' is named twice",
                                       c->nodes[i].name);
        pgi_jr_pop(r, m2);
    }
    pgi_jr_pop(r, m);
    return PG_OK;
}

static int
check_size(reader *rd)
{
    const pg_community *c = rd->c;
    if ((double)c->n_nodes * (double)c->n > MAX_NODE_INTERVALS) {
        pg_error_set(rd->r.err, PG_ELIMIT,
                     "the run is too large: %zu nodes x %zu intervals is more than %.0f "
                     "node-intervals; run fewer days (--days) or fewer nodes",
                     c->n_nodes, c->n, MAX_NODE_INTERVALS);
        pg_error_at(rd->r.err, rd->r.file, 0, 0, "$.nodes");
        return PG_ELIMIT;
    }
    return PG_OK;
}

static int
find_node(const pg_community *c, const char *name, uint32_t *out)
{
    for (size_t i = 0; i < c->n_nodes; i++)
        if (strcmp(c->nodes[i].name, name) == 0) {
            *out = (uint32_t)i;
            return PG_OK;
        }
    return PG_ENOTFOUND;
}

static int
read_market(reader *rd, const json_t *root)
{
    pgi_jr *r = &rd->r;
    pg_community *c = rd->c;
    json_t *market = NULL, *grid = NULL;
    int rc;
    c->connected = true;
    if ((rc = pgi_jr_get_object(r, root, "grid", false, &grid)))
        return rc;
    if (grid) {
        size_t m = pgi_jr_push_key(r, "grid");
        static const char *const keys[] = {"connected", NULL};
        if ((rc = pgi_jr_check_keys(r, grid, "grid", keys)) ||
            (rc = pgi_jr_get_bool(r, grid, "connected", false, &c->connected)))
            return rc;
        pgi_jr_pop(r, m);
    }
    const char *mech = "uniform";
    if ((rc = pgi_jr_get_object(r, root, "market", false, &market)))
        return rc;
    if (market) {
        size_t m = pgi_jr_push_key(r, "market");
        static const char *const keys[] = {"mechanism", NULL};
        if ((rc = pgi_jr_check_keys(r, market, "market", keys)) ||
            (rc = pgi_jr_get_string(r, market, "mechanism", false, &mech)))
            return rc;
        if (strcmp(mech, "none") != 0) {
            pg_error e2 = {0};
            if (!pg_market_mechanism_find(mech, &e2))
                return pgi_jr_fail_key(r, PG_EMODEL, "mechanism", "%s (or \"none\")", e2.msg);
        }
        pgi_jr_pop(r, m);
    }
    return (c->mechanism = pgi_strdup(mech)) ? PG_OK : pgi_jr_nomem(r);
}

static int
read_feeder(reader *rd, const json_t *root, const json_t *nodes)
{
    pgi_jr *r = &rd->r;
    pg_community *c = rd->c;
    json_t *f = NULL;
    int rc = pgi_jr_get_object(r, root, "feeder", false, &f);
    if (rc || !f) {
        if (!rc)
            for (size_t i = 0; i < c->n_nodes; i++)
                if (json_object_get(json_array_get(nodes, i), "bus")) {
                    size_t m = pgi_jr_push_key(r, "nodes");
                    pgi_jr_push_index(r, i);
                    rc = pgi_jr_fail_key(r, PG_EMODEL, "bus",
                                         "a node sits on a bus only when the scenario has a "
                                         "\"feeder\"");
                    pgi_jr_pop(r, m);
                    return rc;
                }
        return rc;
    }
    size_t m = pgi_jr_push_key(r, "feeder");
    static const char *const keys[] = {"world", "substation_kw", "power_factor", NULL};
    const char *world = NULL;
    c->substation_kw = INFINITY;
    c->power_factor = 1;
    if ((rc = pgi_jr_check_keys(r, f, "feeder", keys)) ||
        (rc = pgi_jr_get_string(r, f, "world", true, &world)) ||
        (rc = pgi_jr_get_number(r, f, "substation_kw", false, 0, 1e9, &c->substation_kw)) ||
        (rc = pgi_jr_get_number(r, f, "power_factor", false, 0.05, 1, &c->power_factor)))
        return rc;
    char *path = pgi_path_join(rd->base_dir, world);
    if (!path)
        return pgi_jr_nomem(r);
    rc = pg_world_read(path, NULL, &c->feeder, NULL, r->err);
    free(path);
    if (rc)
        return rc;
    pgi_jr_pop(r, m);
    if (!(c->node_bus = calloc(c->n_nodes, sizeof *c->node_bus)))
        return pgi_jr_nomem(r);
    m = pgi_jr_push_key(r, "nodes");
    for (size_t i = 0; i < c->n_nodes; i++) {
        size_t m2 = pgi_jr_push_index(r, i);
        const char *bus = NULL;
        if ((rc = pgi_jr_get_string(r, json_array_get(nodes, i), "bus", true, &bus)))
            return rc;
        size_t b = pg_world_find_bus(c->feeder, bus);
        if (b == PG_NONE)
            return pgi_jr_fail_key(r, PG_EMODEL, "bus", "the feeder has no bus '%s'", bus);
        c->node_bus[i] = b;
        pgi_jr_pop(r, m2);
    }
    pgi_jr_pop(r, m);
    return PG_OK;
}

/* Hours from the run's start of a date and time of the data's calendar. */
static double
run_hours(const pg_community *c, int64_t day, double hour)
{
    return (double)(day - c->start_civil_day) * 24 + hour - c->start_hour -
           (double)c->first * c->step_h;
}

static int
read_event(reader *rd, const json_t *obj, cm_event *ev)
{
    pgi_jr *r = &rd->r;
    pg_community *c = rd->c;
    pg_dr_event *e = &ev->e;
    int rc;
    static const char *const keys[] = {
        "eventID",      "modificationNumber", "dtstart",   "duration",
        "notification", "signalName",         "intervals", "value",
        "targets",      "eventStatus",        NULL};
    if ((rc = pgi_jr_want(r, obj, JSON_OBJECT, "an event object")) ||
        (rc = pgi_jr_check_keys(r, obj, "an event", keys)))
        return rc;
    const char *id = NULL, *sig = NULL, *status = NULL;
    size_t mod = 0;
    int64_t day;
    double hour, dur = 0, notice = 0;
    if ((rc = pgi_jr_get_string(r, obj, "eventID", true, &id)) ||
        (rc = pgi_jr_get_size(r, obj, "modificationNumber", false, 0, UINT32_MAX, &mod)) ||
        (rc = get_datetime(r, obj, "dtstart", &day, &hour)) ||
        (rc = get_duration(r, obj, "duration", true, &dur)) ||
        (rc = get_duration(r, obj, "notification", false, &notice)) ||
        (rc = pgi_jr_get_string(r, obj, "signalName", true, &sig)) ||
        (rc = pgi_jr_get_string(r, obj, "eventStatus", false, &status)))
        return rc;
    if (strlen(id) >= sizeof e->id)
        return pgi_jr_fail_key(r, PG_EMODEL, "eventID", "an event ID has at most %zu bytes",
                               sizeof e->id - 1);
    for (const char *p = id; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return pgi_jr_fail_key(r, PG_EMODEL, "eventID", "holds a control character");
    snprintf(e->id, sizeof e->id, "%s", id);
    e->modification = (uint32_t)mod;
    if (!(dur > 0))
        return pgi_jr_fail_key(r, PG_EMODEL, "duration", "must be longer than 0");
    if (strcmp(sig, "SIMPLE") == 0)
        e->signal = PG_DR_SIMPLE;
    else if (strcmp(sig, "ELECTRICITY_PRICE") == 0)
        e->signal = PG_DR_PRICE;
    else if (strcmp(sig, "LOAD_DISPATCH") == 0)
        e->signal = PG_DR_LOAD_DISPATCH;
    else
        return pgi_jr_fail_key(r, PG_EMODEL, "signalName",
                               "unknown signal '%s' (the signals are SIMPLE, ELECTRICITY_PRICE, "
                               "LOAD_DISPATCH)",
                               sig);
    e->cancelled = false;
    if (status) {
        static const char *const st[] = {"none",      "far",       "near", "active",
                                         "completed", "cancelled", NULL};
        size_t i = 0;
        while (st[i] && strcmp(st[i], status) != 0)
            i++;
        if (!st[i])
            return pgi_jr_fail_key(r, PG_EMODEL, "eventStatus",
                                   "unknown status '%s' (none, far, near, active, completed, "
                                   "cancelled)",
                                   status);
        e->cancelled = strcmp(status, "cancelled") == 0;
    }
    double lo = e->signal == PG_DR_SIMPLE ? 0 : -1e6, hi = e->signal == PG_DR_SIMPLE ? 3 : 1e6;
    json_t *ivs = NULL;
    if ((rc = pgi_jr_get_array(r, obj, "intervals", false, 1, &ivs)))
        return rc;
    if (ivs) {
        if (json_object_get(obj, "value"))
            return pgi_jr_fail_key(r, PG_EMODEL, "value",
                                   "give either \"value\" or \"intervals\", not both");
        size_t n = json_array_size(ivs);
        if (n > PG_DR_MAX_INTERVALS)
            return pgi_jr_fail_key(r, PG_EMODEL, "intervals", "at most %d intervals",
                                   PG_DR_MAX_INTERVALS);
        size_t m = pgi_jr_push_key(r, "intervals");
        double sum = 0;
        for (size_t i = 0; i < n; i++) {
            size_t m2 = pgi_jr_push_index(r, i);
            json_t *iv = json_array_get(ivs, i);
            static const char *const ikeys[] = {"duration", "value", NULL};
            if ((rc = pgi_jr_want(r, iv, JSON_OBJECT, "an interval object")) ||
                (rc = pgi_jr_check_keys(r, iv, "an interval", ikeys)) ||
                (rc = get_duration(r, iv, "duration", true, &e->interval_h[i])) ||
                (rc = pgi_jr_get_number(r, iv, "value", true, lo, hi, &e->interval_value[i])))
                return rc;
            if (!(e->interval_h[i] > 0))
                return pgi_jr_fail_key(r, PG_EMODEL, "duration", "must be longer than 0");
            sum += e->interval_h[i];
            pgi_jr_pop(r, m2);
        }
        pgi_jr_pop(r, m);
        if (fabs(sum - dur) > 1e-6 * dur)
            return pgi_jr_fail_key(r, PG_EMODEL, "intervals",
                                   "the intervals last %g h in all, the event %g h", sum, dur);
        e->n_intervals = n;
    } else {
        e->n_intervals = 1;
        e->interval_h[0] = dur;
        if ((rc = pgi_jr_get_number(r, obj, "value", true, lo, hi, &e->interval_value[0])))
            return rc;
    }
    e->duration_h = dur;
    e->notice_h = notice;
    e->start_h = run_hours(c, day, hour);
    json_t *targets = NULL;
    if ((rc = pgi_jr_get_array(r, obj, "targets", true, 1, &targets)))
        return rc;
    size_t nt = json_array_size(targets);
    size_t m = pgi_jr_push_key(r, "targets");
    ev->n_targets = UINT32_MAX;
    for (size_t i = 0; i < nt; i++) {
        size_t m2 = pgi_jr_push_index(r, i);
        json_t *tv = json_array_get(targets, i);
        if ((rc = pgi_jr_want(r, tv, JSON_STRING, "a node name or \"all\"")))
            return rc;
        const char *name = json_string_value(tv);
        if (strcmp(name, "all") == 0) {
            if (nt != 1)
                return pgi_jr_fail(r, PG_EMODEL, "\"all\" must be the only target");
        } else {
            uint32_t idx;
            if (find_node(c, name, &idx))
                return pgi_jr_fail(r, PG_EMODEL, "there is no node '%s'", name);
            if (!ev->targets && !(ev->targets = calloc(nt, sizeof *ev->targets)))
                return pgi_jr_nomem(r);
            for (uint32_t j = 0; j < ev->n_targets && ev->n_targets != UINT32_MAX; j++)
                if (ev->targets[j] == idx)
                    return pgi_jr_fail(r, PG_EMODEL, "the node '%s' is a target twice", name);
            if (ev->n_targets == UINT32_MAX)
                ev->n_targets = 0;
            ev->targets[ev->n_targets++] = idx;
        }
        pgi_jr_pop(r, m2);
    }
    pgi_jr_pop(r, m);
    return PG_OK;
}

static int
read_events(reader *rd, const json_t *root)
{
    pgi_jr *r = &rd->r;
    pg_community *c = rd->c;
    json_t *evs = NULL;
    int rc = pgi_jr_get_array(r, root, "dr_events", false, 0, &evs);
    if (rc || !evs)
        return rc;
    size_t n = json_array_size(evs);
    if (!(c->events = calloc(n ? n : 1, sizeof *c->events)))
        return pgi_jr_nomem(r);
    size_t m = pgi_jr_push_key(r, "dr_events");
    double end_h = (double)c->n * c->step_h;
    for (size_t i = 0; i < n; i++) {
        size_t m2 = pgi_jr_push_index(r, i);
        cm_event ev = {0};
        rc = read_event(rd, json_array_get(evs, i), &ev);
        if (rc) {
            free(ev.targets);
            return rc;
        }
        for (size_t j = 0; j < c->n_events; j++)
            if (strcmp(c->events[j].e.id, ev.e.id) == 0 &&
                c->events[j].e.modification == ev.e.modification) {
                free(ev.targets);
                return pgi_jr_fail_key(r, PG_EMODEL, "modificationNumber",
                                       "the event '%s' has two entries with modification %u",
                                       ev.e.id, ev.e.modification);
            }
        pgi_jr_pop(r, m2);
        /* Events wholly outside the run are kept out of it. */
        if (ev.e.start_h + ev.e.duration_h <= 0 || ev.e.start_h >= end_h) {
            free(ev.targets);
            continue;
        }
        double at = ev.e.start_h - ev.e.notice_h;
        ev.deliver_at = at <= 0 ? 0 : (size_t)floor(at / c->step_h + 1e-9);
        c->events[c->n_events++] = ev;
    }
    pgi_jr_pop(r, m);
    /* Start times before the run's start (a run that begins inside an event) are fine: the node
     * sees the event from the first interval, its value by pg_dr_event_value. But the message
     * encoding carries times >= 0, so such an event is cut at the start. */
    for (size_t i = 0; i < c->n_events; i++) {
        pg_dr_event *e = &c->events[i].e;
        while (e->start_h < 0 && e->n_intervals > 0) {
            double cut = fmin(-e->start_h, e->interval_h[0]);
            e->interval_h[0] -= cut;
            e->start_h += cut;
            e->duration_h -= cut;
            if (e->interval_h[0] <= 1e-12) {
                memmove(e->interval_h, e->interval_h + 1, (e->n_intervals - 1) * sizeof(double));
                memmove(e->interval_value, e->interval_value + 1,
                        (e->n_intervals - 1) * sizeof(double));
                e->n_intervals--;
            }
        }
        if (e->start_h < 0)
            e->start_h = 0;
        bool top = true;
        for (size_t j = 0; j < c->n_events; j++)
            if (j != i && strcmp(c->events[j].e.id, e->id) == 0 &&
                c->events[j].e.modification > e->modification)
                top = false;
        c->events[i].effective = top && !e->cancelled;
    }
    json_t *cf = json_object_get(root, "dr_counterfactual");
    c->dr_counterfactual = c->n_events > 0;
    if (cf) {
        bool b = true;
        if ((rc = pgi_jr_get_bool(r, root, "dr_counterfactual", false, &b)))
            return rc;
        c->dr_counterfactual = b && c->n_events > 0;
    }
    return PG_OK;
}

static int
read_sharing(reader *rd, const json_t *root)
{
    pgi_jr *r = &rd->r;
    pg_community *c = rd->c;
    json_t *sh = NULL, *packs = NULL;
    int rc = pgi_jr_get_object(r, root, "sharing", false, &sh);
    if (rc || !sh)
        return rc;
    size_t m = pgi_jr_push_key(r, "sharing");
    static const char *const keys[] = {"packs", "round_hour", "reserve", "min_soc", NULL};
    c->share_hour = 18;
    c->share_reserve = INFINITY;
    c->share_min_soc = 0.8;
    double reserve = -1;
    if ((rc = pgi_jr_check_keys(r, sh, "sharing", keys)) ||
        (rc = pgi_jr_get_number(r, sh, "round_hour", false, 0, 23.999, &c->share_hour)) ||
        (rc = pgi_jr_get_number(r, sh, "reserve", false, 0, 1e6, &reserve)) ||
        (rc = pgi_jr_get_number(r, sh, "min_soc", false, 0, 1, &c->share_min_soc)) ||
        (rc = pgi_jr_get_array(r, sh, "packs", true, 1, &packs)))
        return rc;
    if (reserve >= 0)
        c->share_reserve = reserve;
    size_t n = json_array_size(packs);
    if (n > 1000000)
        return pgi_jr_fail_key(r, PG_EMODEL, "packs", "at most 1000000 packs");
    if (!(c->packs = calloc(n, sizeof *c->packs)))
        return pgi_jr_nomem(r);
    size_t m1 = pgi_jr_push_key(r, "packs");
    for (size_t i = 0; i < n; i++) {
        size_t m2 = pgi_jr_push_index(r, i);
        json_t *p = json_array_get(packs, i);
        static const char *const pkeys[] = {"owner", "capacity_kwh", "power_kw",
                                            "soc",   "cost",         NULL};
        const char *owner = NULL;
        cm_pack *pk = &c->packs[i];
        double soc = 1;
        if ((rc = pgi_jr_want(r, p, JSON_OBJECT, "a pack object")) ||
            (rc = pgi_jr_check_keys(r, p, "a pack", pkeys)) ||
            (rc = pgi_jr_get_string(r, p, "owner", true, &owner)) ||
            (rc = pgi_jr_get_number(r, p, "capacity_kwh", true, 1e-6, 1e4, &pk->capacity_kwh)) ||
            (rc = pgi_jr_get_number(r, p, "power_kw", true, 1e-6, 1e4, &pk->power_kw)) ||
            (rc = pgi_jr_get_number(r, p, "soc", false, 0, 1, &soc)) ||
            (rc = pgi_jr_get_number(r, p, "cost", true, 0, 1e6, &pk->cost)))
            return rc;
        if (find_node(c, owner, &pk->owner))
            return pgi_jr_fail_key(r, PG_EMODEL, "owner", "there is no node '%s'", owner);
        pk->soc0_kwh = soc * pk->capacity_kwh;
        c->n_packs++;
        pgi_jr_pop(r, m2);
    }
    pgi_jr_pop(r, m1);
    pgi_jr_pop(r, m);
    c->sharing = true;
    return PG_OK;
}

int
pg_community_parse(pg_community **out, const char *file, const char *text, size_t len,
                   const char *base_dir, const pg_community_options *o, pg_error *err)
{
    reader rd = {.o = o, .base_dir = base_dir};
    pgi_jr *r = &rd.r;
    pg_community *c = calloc(1, sizeof *c);
    int rc = PG_OK;
    if (!c)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    rd.c = c;
    if ((rc = pgi_jr_open(r, file ? file : "<scenario>", text, len, err)))
        goto out;
    json_t *root = r->root;
    static const char *const keys[] = {
        "format",    "name",   "description", "seed",   "data",      "step_h",
        "intervals", "start",  "horizon_h",   "prices", "series",    "variants",
        "nodes",     "market", "grid",        "feeder", "dr_events", "dr_counterfactual",
        "sharing",   NULL};
    const char *format = NULL;
    size_t seed = 1;
    if ((rc = pgi_jr_want(r, root, JSON_OBJECT, "a plurigrid-community/1 object")) ||
        (rc = pgi_jr_check_keys(r, root, NULL, keys)) ||
        (rc = pgi_jr_get_string(r, root, "format", true, &format)))
        goto out;
    if (strcmp(format, FORMAT) != 0) {
        rc = pgi_jr_fail_key(r, PG_EPARSE, "format", "must be \"%s\" (it is \"%s\")", FORMAT,
                             format);
        goto out;
    }
    if ((rc = pgi_jr_dup_string(r, root, "name", true, &c->name)) ||
        (rc = pgi_jr_get_size(r, root, "seed", false, 0, SIZE_MAX, &seed)))
        goto out;
    c->seed = o && o->set_seed ? o->seed : (uint64_t)seed;
    /* The name as a subject token. */
    if (!(c->token = pgi_strdup(c->name))) {
        rc = pgi_jr_nomem(r);
        goto out;
    }
    for (char *p = c->token; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            *p = '_';
    if (strlen(c->token) > 63)
        c->token[63] = '\0';
    if (!*c->token) {
        rc = pgi_jr_fail_key(r, PG_EMODEL, "name", "must not be empty");
        goto out;
    }
    if ((rc = read_data(&rd, root)) || (rc = read_calendar(&rd, root)) ||
        (rc = read_market(&rd, root)) || (rc = read_prices(&rd, root)) ||
        (rc = read_series(&rd, root)) || (rc = read_variants(&rd, root)) ||
        (rc = read_nodes(&rd, root)) || (rc = check_size(&rd)) ||
        (rc = read_feeder(&rd, root, json_object_get(root, "nodes"))) ||
        (rc = read_events(&rd, root)) || (rc = read_sharing(&rd, root)))
        goto out;
    if (o && o->market && strcmp(o->market, "none") != 0 &&
        !pg_market_mechanism_find(o->market, err)) {
        rc = PG_EINVAL;
        goto out;
    }
out:
    pgi_jr_close(r);
    free(rd.data_dir);
    if (rc) {
        pg_community_free(c);
        return rc;
    }
    *out = c;
    return PG_OK;
}

int
pg_community_read(pg_community **out, const char *path, const pg_community_options *o,
                  pg_error *err)
{
    char *text = NULL, *dir = NULL;
    size_t len = 0;
    int rc = pg_input_read(path, PG_COMMUNITY_INPUT_MAX, &text, &len, err);
    if (rc)
        return rc;
    if (!(dir = pgi_path_dir(path))) {
        free(text);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    rc = pg_community_parse(out, path, text, len, strcmp(path, "-") == 0 ? "." : dir, o, err);
    free(dir);
    free(text);
    return rc;
}
