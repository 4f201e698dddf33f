/* Reader of "plurigrid-scenario/1" files (docs/scenarios.md): JSON text to a checked pg_scenario
 * with every name resolved to an index. Every error names the file, the line, the JSON path of
 * the offending value and what is wrong, in words a newcomer understands; unknown keys are
 * errors. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_read.h"
#include "core/util.h"
#include "scenario/internal.h"

#define FORMAT "plurigrid-scenario/1"
#define MAX_ACTIONS 64
#define MAX_Q_STATES 100000
#define MAX_AIF_STATES 4096
#define MAX_AIF_POLICIES 100000
#define MAX_TURNS ((json_int_t)PG_SCENARIO_MAX_TURNS)
#define MAX_RUNS PG_SCENARIO_MAX_RUNS

typedef struct rd {
    pgi_jr jr;
    pg_scenario *s;
} rd;

static void *
alloc_array(rd *r, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        pgi_jr_nomem(&r->jr);
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
        return pgi_jr_fail(&r->jr, PG_EPARSE,
                           "'%s' is an indicator; only state variables can be changed here "
                           "(variables: %s)",
                           name, list);
    return pgi_jr_fail(&r->jr, PG_EPARSE, "unknown variable '%s' (variables: %s)", name, list);
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
    return pgi_jr_fail(&r->jr, PG_EPARSE, "unknown variable or indicator '%s' (known: %s)", name,
                       list);
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
    return pgi_jr_fail(&r->jr, PG_EPARSE, "unknown agent '%s' (agents: %s)", name, list);
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
    return pgi_jr_fail(&r->jr, PG_EPARSE, "agent '%s' has no action '%s' (its actions: %s)",
                       a->name, name, list);
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
    return pgi_jr_fail(&r->jr, PG_EPARSE, "unknown shock '%s' (shocks: %s)", name,
                       list[0] ? list : "none");
}

/* Member key of obj names a variable, a quantity, an agent or a shock (lookup_*): its index. */
static int
get_ref(rd *r, const json_t *obj, const char *key, int (*lookup)(rd *, const char *, size_t *),
        size_t *out)
{
    const char *name = NULL;
    int rc = pgi_jr_get_string(&r->jr, obj, key, true, &name);
    if (rc)
        return rc;
    size_t mark = pgi_jr_push_key(&r->jr, key);
    rc = lookup(r, name, out);
    pgi_jr_pop(&r->jr, mark);
    return rc;
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
                size_t saved = pgi_jr_push_index(&r->jr, i);
                int rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "name",
                                         "the %s name '%s' is used twice (also at index %zu)", what,
                                         a, j);
                pgi_jr_pop(&r->jr, saved);
                return rc;
            }
        }
    }
    return PG_OK;
}

/* A number from min to max, or a range [low, high] within them: *lo and *hi (equal for a number).
 */
static int
number_or_range(rd *r, const json_t *v, double min, double max, double *lo, double *hi)
{
    if (!json_is_array(v)) {
        int rc = pgi_jr_number(&r->jr, v, min, max, lo);
        if (!rc)
            *hi = *lo;
        return rc;
    }
    if (json_array_size(v) != 2)
        return pgi_jr_fail(&r->jr, PG_EPARSE, "a range must have two numbers [low, high]");
    size_t mark = pgi_jr_push_index(&r->jr, 0);
    int rc = pgi_jr_number(&r->jr, json_array_get(v, 0), min, max, lo);
    pgi_jr_pop(&r->jr, mark);
    if (rc)
        return rc;
    mark = pgi_jr_push_index(&r->jr, 1);
    rc = pgi_jr_number(&r->jr, json_array_get(v, 1), *lo, max, hi);
    pgi_jr_pop(&r->jr, mark);
    return rc;
}

/* ---------------------------------------------------------------- variables, indicators */

static int
parse_variables(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name", "description", "unit",  "initial", "min",
                                       "max",  "baseline",    "decay", "noise",   NULL};
    json_t *arr;
    int rc = pgi_jr_get_array(&r->jr, root, "variables", true, 0, &arr);
    if (rc)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, "variables");
    pg_scenario *s = r->s;
    s->n_vars = json_array_size(arr);
    if (!s->n_vars) {
        rc = pgi_jr_fail(&r->jr, PG_EPARSE, "a scenario needs at least one state variable");
        goto out;
    }
    if (!(s->vars = alloc_array(r, s->n_vars, sizeof *s->vars))) {
        rc = PG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < s->n_vars; i++) {
        json_t *v = json_array_get(arr, i);
        sc_var *x = &s->vars[i];
        size_t si = pgi_jr_push_index(&r->jr, i);
        json_t *init;
        x->max = 1.0;
        if ((rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object")) ||
            (rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "name", true, &x->name)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "description", false, &x->description)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "unit", false, &x->unit)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "min", false, -INFINITY, INFINITY, &x->min)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "max", false, -INFINITY, INFINITY, &x->max)))
            goto out;
        if (!(x->max > x->min)) {
            rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "max", "max (%g) must be greater than min (%g)",
                                 x->max, x->min);
            goto out;
        }
        if ((rc = pgi_jr_member(&r->jr, v, "initial", true, "a number or a range [low, high]",
                                &init)))
            goto out;
        size_t sk = pgi_jr_push_key(&r->jr, "initial");
        rc = number_or_range(r, init, x->min, x->max, &x->init_lo, &x->init_hi);
        pgi_jr_pop(&r->jr, sk);
        x->baseline = 0.5 * (x->init_lo + x->init_hi);
        if (rc ||
            (rc = pgi_jr_get_number(&r->jr, v, "baseline", false, x->min, x->max, &x->baseline)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "decay", false, 0.0, 1.0, &x->decay)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "noise", false, 0.0, INFINITY, &x->noise)))
            goto out;
        pgi_jr_pop(&r->jr, si);
    }
    rc = check_unique(r, &s->vars[0].name, sizeof *s->vars, s->n_vars, "variable");
out:
    pgi_jr_pop(&r->jr, saved);
    return rc;
}

static int
parse_indicators(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name", "description", "terms", "offset", NULL};
    json_t *arr;
    int rc = pgi_jr_get_array(&r->jr, root, "indicators", false, 0, &arr);
    if (rc || !arr)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, "indicators");
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
        size_t si = pgi_jr_push_index(&r->jr, i);
        json_t *terms;
        if ((rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object")) ||
            (rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "name", true, &x->name)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "description", false, &x->description)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "offset", false, -INFINITY, INFINITY, &x->offset)) ||
            (rc = pgi_jr_get_object(&r->jr, v, "terms", true, &terms)))
            goto out;
        for (size_t k = 0; k < s->n_vars; k++)
            if (strcmp(s->vars[k].name, x->name) == 0) {
                rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "name",
                                     "'%s' is already the name of a variable", x->name);
                goto out;
            }
        x->n_terms = json_object_size(terms);
        if (!x->n_terms) {
            rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "terms",
                                 "an indicator needs at least one term {\"variable\": weight}");
            goto out;
        }
        if (!(x->var = alloc_array(r, x->n_terms, sizeof *x->var)) ||
            !(x->weight = alloc_array(r, x->n_terms, sizeof *x->weight))) {
            rc = PG_ENOMEM;
            goto out;
        }
        size_t sk = pgi_jr_push_key(&r->jr, "terms");
        const char *key;
        json_t *w;
        size_t k = 0;
        x->lo = x->hi = x->offset;
        json_object_foreach(terms, key, w)
        {
            size_t st = pgi_jr_push_key(&r->jr, key);
            if ((rc = lookup_var(r, key, &x->var[k])) ||
                (rc = pgi_jr_number(&r->jr, w, -INFINITY, INFINITY, &x->weight[k]))) {
                goto out;
            }
            pgi_jr_pop(&r->jr, st);
            const sc_var *vv = &s->vars[x->var[k]];
            double a = x->weight[k] * vv->min, b = x->weight[k] * vv->max;
            x->lo += fmin(a, b);
            x->hi += fmax(a, b);
            k++;
        }
        pgi_jr_pop(&r->jr, sk);
        pgi_jr_pop(&r->jr, si);
    }
    rc = check_unique(r, &s->inds[0].name, sizeof *s->inds, n, "indicator");
out:
    pgi_jr_pop(&r->jr, saved);
    return rc;
}

/* ---------------------------------------------------------------- conditions and effects */

static int
parse_conditions(rd *r, const json_t *obj, sc_cond **out, size_t *n_out)
{
    static const char *const keys[] = {"quantity", "above", "below", "shock", "active", NULL};
    json_t *arr;
    int rc = pgi_jr_get_array(&r->jr, obj, "if", false, 0, &arr);
    *out = NULL;
    *n_out = 0;
    if (rc || !arr)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, "if");
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
        size_t si = pgi_jr_push_index(&r->jr, i);
        if ((rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object")) ||
            (rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)))
            goto out;
        json_t *q = json_object_get(v, "quantity"), *sh = json_object_get(v, "shock");
        if ((q != NULL) == (sh != NULL)) {
            rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                             "a condition names either a \"quantity\" (with \"above\" and/or "
                             "\"below\") or a \"shock\" (with \"active\"), not %s",
                             q ? "both" : "neither");
            goto out;
        }
        if (q) {
            c[i].kind = COND_RANGE;
            c[i].above = -INFINITY;
            c[i].below = INFINITY;
            if ((rc = get_ref(r, v, "quantity", lookup_quantity, &c[i].q)) ||
                (rc = pgi_jr_get_number(&r->jr, v, "above", false, -INFINITY, INFINITY,
                                        &c[i].above)) ||
                (rc = pgi_jr_get_number(&r->jr, v, "below", false, -INFINITY, INFINITY,
                                        &c[i].below)))
                goto out;
            if (json_object_get(v, "active")) {
                rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                                 "\"active\" goes with \"shock\", not with \"quantity\"");
                goto out;
            }
            if (isinf(c[i].above) && isinf(c[i].below)) {
                rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                                 "a quantity condition needs \"above\", \"below\" or both");
                goto out;
            }
            if (!(c[i].above < c[i].below)) {
                rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                                 "\"above\" (%g) must be less than \"below\" (%g): nothing "
                                 "would satisfy this condition",
                                 c[i].above, c[i].below);
                goto out;
            }
        } else {
            c[i].kind = COND_SHOCK;
            c[i].active = true;
            if ((rc = get_ref(r, v, "shock", lookup_shock, &c[i].q)) ||
                (rc = pgi_jr_get_bool(&r->jr, v, "active", false, &c[i].active)))
                goto out;
            if (json_object_get(v, "above") || json_object_get(v, "below")) {
                rc =
                    pgi_jr_fail(&r->jr, PG_EPARSE,
                                "\"above\" and \"below\" go with \"quantity\", not with \"shock\"");
                goto out;
            }
        }
        pgi_jr_pop(&r->jr, si);
    }
out:
    pgi_jr_pop(&r->jr, saved);
    return rc;
}

static int
parse_effects(rd *r, const json_t *obj, const char *key, bool required, sc_effect **out,
              size_t *n_out)
{
    static const char *const keys[] = {"var", "add", "per", "noise", NULL};
    json_t *arr;
    int rc = pgi_jr_get_array(&r->jr, obj, key, required, 0, &arr);
    *out = NULL;
    *n_out = 0;
    if (rc || !arr)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, key);
    size_t n = json_array_size(arr);
    if (required && n == 0) {
        rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                         "needs at least one effect {\"var\": ..., \"add\": ...}");
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
        size_t si = pgi_jr_push_index(&r->jr, i);
        json_t *per;
        if ((rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object")) ||
            (rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) ||
            (rc = get_ref(r, v, "var", lookup_var, &e[i].var)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "add", false, -INFINITY, INFINITY, &e[i].add)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "noise", false, 0.0, INFINITY, &e[i].noise)) ||
            (rc = pgi_jr_get_object(&r->jr, v, "per", false, &per)))
            goto out;
        if (!json_object_get(v, "add") && !per && e[i].noise == 0) {
            rc =
                pgi_jr_fail(&r->jr, PG_EPARSE,
                            "an effect needs \"add\", \"per\" or \"noise\"; this one does nothing");
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
            size_t sp = pgi_jr_push_key(&r->jr, "per");
            const char *qk;
            json_t *qv;
            size_t k = 0;
            json_object_foreach(per, qk, qv)
            {
                size_t sq = pgi_jr_push_key(&r->jr, qk);
                if ((rc = lookup_quantity(r, qk, &e[i].per_q[k])) ||
                    (rc = pgi_jr_number(&r->jr, qv, -INFINITY, INFINITY, &e[i].per_coef[k])))
                    goto out;
                pgi_jr_pop(&r->jr, sq);
                k++;
            }
            pgi_jr_pop(&r->jr, sp);
        }
        pgi_jr_pop(&r->jr, si);
    }
out:
    pgi_jr_pop(&r->jr, saved);
    return rc;
}

/* ---------------------------------------------------------------- agents and strategies */

/* "observe": "level" (with "bins") or "change" (with "band"; three outcomes). */
static int
parse_observe(rd *r, const json_t *v, sc_strategy *st, size_t def_bins, size_t min_bins,
              size_t max_bins)
{
    const char *mode = NULL;
    int rc = pgi_jr_get_string(&r->jr, v, "observe", false, &mode);
    if (rc)
        return rc;
    if (!mode || strcmp(mode, "level") == 0) {
        st->observe_change = 0;
        st->bins = def_bins;
        rc = pgi_jr_get_size(&r->jr, v, "bins", false, min_bins, max_bins, &st->bins);
        if (!rc && json_object_get(v, "band"))
            rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "band",
                                 "\"band\" goes with \"observe\": \"change\"");
    } else if (strcmp(mode, "change") == 0) {
        st->observe_change = 1;
        st->bins = 3;
        st->band = 0.001;
        if (json_object_get(v, "bins"))
            rc = pgi_jr_fail_key(
                &r->jr, PG_EPARSE, "bins",
                "\"bins\" goes with \"observe\": \"level\"; a change reads as down, "
                "flat or up");
        else
            rc = pgi_jr_get_number(&r->jr, v, "band", false, 0.0, 1.0, &st->band);
    } else {
        rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "observe",
                             "unknown observation '%s' (use \"level\" or \"change\")", mode);
    }
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
    int rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object");
    if (rc)
        return rc;
    const char *kind = NULL;
    if ((rc = pgi_jr_get_string(&r->jr, v, "kind", true, &kind)))
        return rc;
    size_t na = ag->n_actions;
    if (strcmp(kind, "fixed") == 0 || strcmp(kind, "random") == 0) {
        int is_random = kind[0] == 'r';
        st->kind = ST_FIXED;
        if ((rc = pgi_jr_check_keys(&r->jr, v, NULL, is_random ? random_keys : fixed_keys)))
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
            rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                             "a fixed strategy gives either \"action\" (one action) or \"mix\" "
                             "({\"action\": probability, ...})");
            goto out;
        } else if (act) {
            const char *name = NULL;
            size_t a;
            if ((rc = pgi_jr_get_string(&r->jr, v, "action", true, &name)))
                goto out;
            size_t sk = pgi_jr_push_key(&r->jr, "action");
            rc = lookup_action(r, (size_t)(ag - r->s->agents), name, &a);
            pgi_jr_pop(&r->jr, sk);
            if (rc)
                goto out;
            st->mix[a] = 1;
        } else {
            size_t sk = pgi_jr_push_key(&r->jr, "mix");
            if ((rc = pgi_jr_want(&r->jr, mix, JSON_OBJECT, "an object"))) {
                pgi_jr_pop(&r->jr, sk);
                goto out;
            }
            const char *an;
            json_t *pv;
            double total = 0;
            json_object_foreach(mix, an, pv)
            {
                size_t sa = pgi_jr_push_key(&r->jr, an);
                size_t a;
                double p;
                if ((rc = lookup_action(r, (size_t)(ag - r->s->agents), an, &a)) ||
                    (rc = pgi_jr_number(&r->jr, pv, 0.0, 1.0, &p))) {
                    goto out;
                }
                pgi_jr_pop(&r->jr, sa);
                st->mix[a] = p;
                total += p;
            }
            if (fabs(total - 1.0) > 1e-9) {
                rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                                 "the probabilities add up to %g; they must add up to 1", total);
                goto out;
            }
            pgi_jr_pop(&r->jr, sk);
        }
    } else if (strcmp(kind, "roth-erev") == 0) {
        st->kind = ST_ROTH_EREV;
        pg_learn_options_init(&st->learn, PG_LEARN_ROTH_EREV, 1, na);
        if ((rc = pgi_jr_check_keys(&r->jr, v, NULL, re_keys)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "initial_propensity", false, 1e-9, INFINITY,
                                    &st->learn.initial_propensity)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "recency", false, 0.0, 0.999999,
                                    &st->learn.recency)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "experimentation", false, 0.0, 0.999999,
                                    &st->learn.experimentation)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "temperature", false, 0.0, INFINITY,
                                    &st->learn.temperature)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "epsilon", false, 0.0, 1.0, &st->learn.epsilon)))
            goto out;
    } else if (strcmp(kind, "q-learning") == 0) {
        st->kind = ST_Q_LEARNING;
        if ((rc = pgi_jr_check_keys(&r->jr, v, NULL, q_keys)) ||
            (rc = parse_observe(r, v, st, 3, 1, 1000)))
            goto out;
        size_t ns = 1;
        for (size_t k = 0; k < ag->n_observes; k++) {
            if (ns > MAX_Q_STATES / st->bins) {
                rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                                 "%zu bins for each of the %zu quantities agent '%s' observes make "
                                 "more than %d states; use fewer bins or observe less",
                                 st->bins, ag->n_observes, ag->name, MAX_Q_STATES);
                goto out;
            }
            ns *= st->bins;
        }
        pg_learn_options_init(&st->learn, PG_LEARN_Q_LEARNING, ns, na);
        if ((rc = pgi_jr_get_number(&r->jr, v, "alpha", false, 0.0, 1.0, &st->learn.alpha)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "gamma", false, 0.0, 0.999999, &st->learn.gamma)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "epsilon", false, 0.0, 1.0, &st->learn.epsilon)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "initial", false, -INFINITY, INFINITY,
                                    &st->learn.initial_value)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "temperature", false, 0.0, INFINITY,
                                    &st->learn.temperature)))
            goto out;
    } else if (strcmp(kind, "active-inference") == 0) {
        st->kind = ST_AIF;
        st->depth = 2;
        st->gamma = 8.0;
        st->learning_rate = 1.0;
        st->concentration = 1.0;
        st->precision = 4.0;
        const char *sel = NULL;
        if ((rc = pgi_jr_check_keys(&r->jr, v, NULL, aif_keys)) ||
            (rc = pgi_jr_get_size(&r->jr, v, "depth", false, 1, 20, &st->depth)) ||
            (rc = parse_observe(r, v, st, 4, 2, 64)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "gamma", false, 0.0, 1e6, &st->gamma)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "learning_rate", false, 0.0, 1e6,
                                    &st->learning_rate)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "concentration", false, 1e-6, 1e6,
                                    &st->concentration)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "precision", false, 0.0, 1e3, &st->precision)) ||
            (rc = pgi_jr_get_string(&r->jr, v, "selection", false, &sel)))
            goto out;
        st->sample = !sel || strcmp(sel, "argmax") != 0;
        if (sel && st->sample && strcmp(sel, "sample") != 0) {
            rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "selection",
                                 "unknown selection '%s' (use \"sample\" or \"argmax\")", sel);
            goto out;
        }
        if (!ag->n_observes) {
            rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                             "an active-inference agent needs something to observe: give agent "
                             "'%s' an \"observes\" list",
                             ag->name);
            goto out;
        }
        size_t S = 1;
        for (size_t k = 0; k < ag->n_observes; k++) {
            if (S > MAX_AIF_STATES / st->bins) {
                rc = pgi_jr_fail(&r->jr, PG_EPARSE,
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
                rc = pgi_jr_fail(&r->jr, PG_EPARSE,
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
        if ((rc = pgi_jr_get_object(&r->jr, v, "preferences", false, &pref)))
            goto out;
        int any = 0;
        if (pref) {
            size_t sk = pgi_jr_push_key(&r->jr, "preferences");
            const char *qk;
            json_t *qv;
            json_object_foreach(pref, qk, qv)
            {
                size_t sq = pgi_jr_push_key(&r->jr, qk), q, k;
                double w;
                if ((rc = lookup_quantity(r, qk, &q)) ||
                    (rc = pgi_jr_number(&r->jr, qv, -INFINITY, INFINITY, &w)))
                    goto out;
                for (k = 0; k < ag->n_observes && ag->observes[k] != q; k++)
                    ;
                if (k == ag->n_observes) {
                    rc = pgi_jr_fail(
                        &r->jr, PG_EPARSE,
                        "agent '%s' does not observe '%s'; preferences are over what it "
                        "observes",
                        ag->name, qk);
                    goto out;
                }
                st->pref[k] = w;
                any |= (w != 0);
                pgi_jr_pop(&r->jr, sq);
            }
            pgi_jr_pop(&r->jr, sk);
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
            rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                             "agent '%s' would have no preferences: give \"preferences\" "
                             "({\"quantity\": weight}) or reward terms on quantities it observes",
                             ag->name);
            goto out;
        }
    } else if (strcmp(kind, "regret-matching") == 0 || strcmp(kind, "fictitious-play") == 0 ||
               strcmp(kind, "conditional-regret") == 0 || strcmp(kind, "best-response") == 0) {
        rc = pgi_jr_fail_key(
            &r->jr, PG_EPARSE, "kind",
            "'%s' learns from the payoffs of actions not taken, which a scenario "
            "cannot know; use \"roth-erev\", \"q-learning\" or \"active-inference\"",
            kind);
        goto out;
    } else {
        rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "kind",
                             "unknown strategy kind '%s' (kinds: fixed, random, roth-erev, "
                             "q-learning, active-inference)",
                             kind);
        goto out;
    }
out:
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
    int rc = pgi_jr_get_array(&r->jr, root, "agents", true, 0, &arr);
    if (rc)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, "agents");
    pg_scenario *s = r->s;
    size_t n = json_array_size(arr);
    if (!n) {
        rc = pgi_jr_fail(&r->jr, PG_EPARSE, "a scenario needs at least one agent");
        goto out;
    }
    if (!(s->agents = alloc_array(r, n, sizeof *s->agents))) {
        rc = PG_ENOMEM;
        goto out;
    }
    /* names first, so that strategies and rules can refer to any agent */
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        size_t si = pgi_jr_push_index(&r->jr, i);
        if ((rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object")) ||
            (rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "name", true, &s->agents[i].name)))
            goto out;
        s->n_agents = i + 1;
        pgi_jr_pop(&r->jr, si);
    }
    if ((rc = check_unique(r, &s->agents[0].name, sizeof *s->agents, n, "agent")))
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i), *acts, *obs, *rew, *strat;
        sc_agent *ag = &s->agents[i];
        size_t si = pgi_jr_push_index(&r->jr, i);
        if ((rc = pgi_jr_dup_string(&r->jr, v, "description", false, &ag->description)) ||
            (rc = pgi_jr_get_array(&r->jr, v, "actions", true, 0, &acts)) ||
            (rc = pgi_jr_get_array(&r->jr, v, "observes", false, 0, &obs)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "observation_noise", false, 0.0, INFINITY,
                                    &ag->observation_noise)))
            goto out;
        ag->n_actions = json_array_size(acts);
        size_t sk = pgi_jr_push_key(&r->jr, "actions");
        if (ag->n_actions == 0 || ag->n_actions > MAX_ACTIONS) {
            rc = pgi_jr_fail(&r->jr, PG_EPARSE, "an agent needs from 1 to %d actions (it has %zu)",
                             MAX_ACTIONS, ag->n_actions);
            goto out;
        }
        if (!(ag->actions = alloc_array(r, ag->n_actions, sizeof *ag->actions))) {
            rc = PG_ENOMEM;
            goto out;
        }
        for (size_t a = 0; a < ag->n_actions; a++) {
            json_t *av = json_array_get(acts, a);
            size_t sa = pgi_jr_push_index(&r->jr, a);
            if (json_is_string(av)) {
                if (!json_string_length(av)) {
                    rc = pgi_jr_fail(&r->jr, PG_EPARSE, "an action name must not be empty");
                    goto out;
                }
                if (!(ag->actions[a].name = pgi_strdup(json_string_value(av)))) {
                    rc = pgi_jr_nomem(&r->jr);
                    goto out;
                }
            } else if ((rc = pgi_jr_want(&r->jr, av, JSON_OBJECT, "an object or a name")) ||
                       (rc = pgi_jr_check_keys(&r->jr, av, NULL, akeys)) ||
                       (rc = pgi_jr_dup_string(&r->jr, av, "name", true, &ag->actions[a].name)) ||
                       (rc = pgi_jr_dup_string(&r->jr, av, "description", false,
                                               &ag->actions[a].description)) ||
                       (rc = pgi_jr_get_number(&r->jr, av, "cost", false, -INFINITY, INFINITY,
                                               &ag->actions[a].cost))) {
                goto out;
            }
            pgi_jr_pop(&r->jr, sa);
        }
        if ((rc = check_unique(r, &ag->actions[0].name, sizeof *ag->actions, ag->n_actions,
                               "action")))
            goto out;
        pgi_jr_pop(&r->jr, sk);
        if (obs) {
            ag->n_observes = json_array_size(obs);
            if (!(ag->observes = alloc_array(r, ag->n_observes, sizeof(size_t)))) {
                rc = PG_ENOMEM;
                goto out;
            }
            sk = pgi_jr_push_key(&r->jr, "observes");
            for (size_t k = 0; k < ag->n_observes; k++) {
                json_t *qv = json_array_get(obs, k);
                size_t sq = pgi_jr_push_index(&r->jr, k);
                if ((rc = pgi_jr_want(&r->jr, qv, JSON_STRING, "a variable or indicator name")) ||
                    (rc = lookup_quantity(r, json_string_value(qv), &ag->observes[k])))
                    goto out;
                for (size_t j = 0; j < k; j++)
                    if (ag->observes[j] == ag->observes[k]) {
                        rc = pgi_jr_fail(&r->jr, PG_EPARSE, "'%s' is listed twice",
                                         json_string_value(qv));
                        goto out;
                    }
                pgi_jr_pop(&r->jr, sq);
            }
            pgi_jr_pop(&r->jr, sk);
        }
        if ((rc = pgi_jr_get_object(&r->jr, v, "reward", false, &rew)))
            goto out;
        if (rew) {
            sk = pgi_jr_push_key(&r->jr, "reward");
            json_t *terms;
            if ((rc = pgi_jr_check_keys(&r->jr, rew, NULL, rkeys)) ||
                (rc = pgi_jr_get_number(&r->jr, rew, "offset", false, -INFINITY, INFINITY,
                                        &ag->reward_offset)) ||
                (rc = pgi_jr_get_array(&r->jr, rew, "terms", true, 0, &terms)))
                goto out;
            ag->n_reward = json_array_size(terms);
            if (!(ag->reward = alloc_array(r, ag->n_reward, sizeof *ag->reward))) {
                rc = PG_ENOMEM;
                goto out;
            }
            size_t st = pgi_jr_push_key(&r->jr, "terms");
            for (size_t k = 0; k < ag->n_reward; k++) {
                static const char *const tkeys[] = {"quantity", "weight", "change", NULL};
                json_t *tv = json_array_get(terms, k);
                size_t sq = pgi_jr_push_index(&r->jr, k);
                ag->reward[k].weight = 1.0;
                if ((rc = pgi_jr_want(&r->jr, tv, JSON_OBJECT, "an object")) ||
                    (rc = pgi_jr_check_keys(&r->jr, tv, NULL, tkeys)) ||
                    (rc = get_ref(r, tv, "quantity", lookup_quantity, &ag->reward[k].q)) ||
                    (rc = pgi_jr_get_number(&r->jr, tv, "weight", false, -INFINITY, INFINITY,
                                            &ag->reward[k].weight)) ||
                    (rc = pgi_jr_get_bool(&r->jr, tv, "change", false, &ag->reward[k].change)))
                    goto out;
                pgi_jr_pop(&r->jr, sq);
            }
            pgi_jr_pop(&r->jr, st);
            pgi_jr_pop(&r->jr, sk);
        }
        if ((rc = pgi_jr_get_object(&r->jr, v, "strategy", false, &strat)))
            goto out;
        if (strat) {
            sk = pgi_jr_push_key(&r->jr, "strategy");
            if ((rc = parse_strategy(r, strat, ag, &ag->strategy)))
                goto out;
            pgi_jr_pop(&r->jr, sk);
        } else {
            ag->strategy.kind = ST_FIXED;
            if (!(ag->strategy.mix = alloc_array(r, ag->n_actions, sizeof(double)))) {
                rc = PG_ENOMEM;
                goto out;
            }
            for (size_t a = 0; a < ag->n_actions; a++)
                ag->strategy.mix[a] = 1.0 / (double)ag->n_actions;
        }
        pgi_jr_pop(&r->jr, si);
    }
out:
    pgi_jr_pop(&r->jr, saved);
    return rc;
}

/* ---------------------------------------------------------------- rules, shocks */

/* An action name of the agent, or a non-empty list of them, as a set of bits; anything else is
 * "must be <what>". */
static int
action_set(rd *r, const json_t *v, size_t agent, const char *what, uint64_t *out)
{
    size_t a;
    int rc;
    if (json_is_string(v)) {
        if ((rc = lookup_action(r, agent, json_string_value(v), &a)))
            return rc;
        *out = (uint64_t)1 << a;
        return PG_OK;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return pgi_jr_fail(&r->jr, PG_EPARSE, "must be %s", what);
    uint64_t set = 0;
    for (size_t k = 0; k < json_array_size(v); k++) {
        json_t *av = json_array_get(v, k);
        size_t mark = pgi_jr_push_index(&r->jr, k);
        rc = pgi_jr_want(&r->jr, av, JSON_STRING, "an action name");
        if (!rc)
            rc = lookup_action(r, agent, json_string_value(av), &a);
        pgi_jr_pop(&r->jr, mark);
        if (rc)
            return rc;
        set |= (uint64_t)1 << a;
    }
    *out = set;
    return PG_OK;
}

static int
parse_when(rd *r, const json_t *obj, sc_when **out, size_t *n_out)
{
    json_t *when;
    int rc = pgi_jr_get_object(&r->jr, obj, "when", false, &when);
    *out = NULL;
    *n_out = 0;
    if (rc || !when)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, "when");
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
        size_t sk = pgi_jr_push_key(&r->jr, key);
        if ((rc = lookup_agent(r, key, &w[i].agent)) ||
            (rc = action_set(r, v, w[i].agent, "an action name or a non-empty list of action names",
                             &w[i].actions)))
            goto out;
        pgi_jr_pop(&r->jr, sk);
        i++;
    }
out:
    pgi_jr_pop(&r->jr, saved);
    return rc;
}

static int
parse_shocks(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name",     "description", "turn",   "probability",
                                       "duration", "onset",       "during", NULL};
    json_t *arr;
    int rc = pgi_jr_get_array(&r->jr, root, "shocks", false, 0, &arr);
    if (rc || !arr)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, "shocks");
    pg_scenario *s = r->s;
    size_t n = json_array_size(arr);
    if (!(s->shocks = alloc_array(r, n, sizeof *s->shocks))) {
        rc = PG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        sc_shock *x = &s->shocks[i];
        size_t si = pgi_jr_push_index(&r->jr, i);
        if ((rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object")) ||
            (rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "name", true, &x->name)))
            goto out;
        s->n_shocks = i + 1;
        pgi_jr_pop(&r->jr, si);
    }
    if ((rc = check_unique(r, &s->shocks[0].name, sizeof *s->shocks, n, "shock")))
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        sc_shock *x = &s->shocks[i];
        size_t si = pgi_jr_push_index(&r->jr, i);
        json_t *t;
        x->probability = 1.0;
        x->duration = 1;
        if ((rc = pgi_jr_dup_string(&r->jr, v, "description", false, &x->description)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "probability", false, 0.0, 1.0, &x->probability)) ||
            (rc = pgi_jr_get_size(&r->jr, v, "duration", false, 1, MAX_TURNS, &x->duration)) ||
            (rc = parse_effects(r, v, "onset", false, &x->onset, &x->n_onset)) ||
            (rc = parse_effects(r, v, "during", false, &x->during, &x->n_during)))
            goto out;
        if (!x->n_onset && !x->n_during) {
            rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                             "a shock needs \"onset\" effects, \"during\" effects or both");
            goto out;
        }
        if ((rc = pgi_jr_member(&r->jr, v, "turn", true, "a turn number or a range [first, last]",
                                &t)))
            goto out;
        size_t sk = pgi_jr_push_key(&r->jr, "turn");
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
            rc =
                pgi_jr_fail(&r->jr, PG_EPARSE,
                            "must be a turn number from 1 or a range [first, last] of turn numbers "
                            "with first <= last");
            goto out;
        }
        pgi_jr_pop(&r->jr, sk);
        pgi_jr_pop(&r->jr, si);
    }
out:
    pgi_jr_pop(&r->jr, saved);
    return rc;
}

static int
parse_rules(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name",        "description", "when", "if",
                                       "probability", "effects",     NULL};
    json_t *arr;
    int rc = pgi_jr_get_array(&r->jr, root, "rules", false, 0, &arr);
    if (rc || !arr)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, "rules");
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
        size_t si = pgi_jr_push_index(&r->jr, i);
        x->probability = 1.0;
        if ((rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object")) ||
            (rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "name", false, &x->name)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "description", false, &x->description)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "probability", false, 0.0, 1.0, &x->probability)) ||
            (rc = parse_when(r, v, &x->when, &x->n_when)) ||
            (rc = parse_conditions(r, v, &x->cond, &x->n_cond)) ||
            (rc = parse_effects(r, v, "effects", true, &x->effects, &x->n_effects)))
            goto out;
        if (!x->name) {
            char buf[32];
            snprintf(buf, sizeof buf, "rule %zu", i + 1);
            if (!(x->name = pgi_strdup(buf))) {
                rc = pgi_jr_nomem(&r->jr);
                goto out;
            }
        }
        pgi_jr_pop(&r->jr, si);
    }
out:
    pgi_jr_pop(&r->jr, saved);
    return rc;
}

/* ---------------------------------------------------------------- alliances, negotiations */

static int
agent_list(rd *r, const json_t *obj, const char *key, size_t **out, size_t *n_out)
{
    json_t *arr;
    int rc = pgi_jr_get_array(&r->jr, obj, key, true, 0, &arr);
    if (rc)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, key);
    size_t n = json_array_size(arr);
    size_t *m = alloc_array(r, n, sizeof *m);
    if (!m) {
        rc = PG_ENOMEM;
        goto out;
    }
    *out = m;
    *n_out = n;
    if (n < 2) {
        rc = pgi_jr_fail(&r->jr, PG_EPARSE, "needs at least two agents");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        size_t si = pgi_jr_push_index(&r->jr, i);
        if ((rc = pgi_jr_want(&r->jr, v, JSON_STRING, "an agent name")) ||
            (rc = lookup_agent(r, json_string_value(v), &m[i])))
            goto out;
        for (size_t j = 0; j < i; j++)
            if (m[j] == m[i]) {
                rc = pgi_jr_fail(&r->jr, PG_EPARSE, "agent '%s' is listed twice",
                                 json_string_value(v));
                goto out;
            }
        pgi_jr_pop(&r->jr, si);
    }
out:
    pgi_jr_pop(&r->jr, saved);
    return rc;
}

static int
parse_alliances(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name", "description", "members", "share", "if", NULL};
    json_t *arr;
    int rc = pgi_jr_get_array(&r->jr, root, "alliances", false, 0, &arr);
    if (rc || !arr)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, "alliances");
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
        size_t si = pgi_jr_push_index(&r->jr, i);
        x->share = 0.5;
        if ((rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object")) ||
            (rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "name", true, &x->name)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "description", false, &x->description)) ||
            (rc = agent_list(r, v, "members", &x->members, &x->n_members)) ||
            (rc = pgi_jr_get_number(&r->jr, v, "share", false, 0.0, 1.0, &x->share)) ||
            (rc = parse_conditions(r, v, &x->cond, &x->n_cond)))
            goto out;
        pgi_jr_pop(&r->jr, si);
    }
    rc = check_unique(r, &s->alliances[0].name, sizeof *s->alliances, n, "alliance");
out:
    pgi_jr_pop(&r->jr, saved);
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
    int rc = pgi_jr_get_array(&r->jr, root, "negotiations", false, 0, &arr);
    if (rc || !arr)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, "negotiations");
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
        size_t si = pgi_jr_push_index(&r->jr, i);
        json_t *tg;
        if ((rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object")) ||
            (rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "name", true, &x->name)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "description", false, &x->description)) ||
            (rc = get_ref(r, v, "proposer", lookup_agent, &x->proposer)) ||
            (rc = parse_conditions(r, v, &x->cond, &x->n_cond)) ||
            (rc = pgi_jr_member(&r->jr, v, "trigger", true,
                                "the proposer's action, or actions, that put the project on the "
                                "table",
                                &tg)))
            goto out;
        size_t sk = pgi_jr_push_key(&r->jr, "trigger");
        rc = action_set(r, tg, x->proposer,
                        "an action name of the proposer or a non-empty list of them", &x->trigger);
        pgi_jr_pop(&r->jr, sk);
        if (rc || (rc = pgi_jr_get_array(&r->jr, v, "partners", true, 0, &parts)))
            goto out;
        x->n_partners = json_array_size(parts);
        sk = pgi_jr_push_key(&r->jr, "partners");
        if (!x->n_partners) {
            rc = pgi_jr_fail(&r->jr, PG_EPARSE, "a negotiation needs at least one partner");
            goto out;
        }
        if (!(x->partners = alloc_array(r, x->n_partners, sizeof *x->partners))) {
            rc = PG_ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < x->n_partners; k++) {
            json_t *pv = json_array_get(parts, k);
            sc_partner *p = &x->partners[k];
            size_t sp = pgi_jr_push_index(&r->jr, k);
            const char *action = NULL;
            if ((rc = pgi_jr_want(&r->jr, pv, JSON_OBJECT, "an object")) ||
                (rc = pgi_jr_check_keys(&r->jr, pv, NULL, pkeys)) ||
                (rc = get_ref(r, pv, "agent", lookup_agent, &p->agent)))
                goto out;
            if (p->agent == x->proposer) {
                rc = pgi_jr_fail(&r->jr, PG_EPARSE, "the proposer cannot be its own partner");
                goto out;
            }
            for (size_t j = 0; j < k; j++)
                if (x->partners[j].agent == p->agent) {
                    rc = pgi_jr_fail(&r->jr, PG_EPARSE, "agent '%s' is a partner twice",
                                     s->agents[p->agent].name);
                    goto out;
                }
            if ((rc = pgi_jr_get_string(&r->jr, pv, "action", true, &action)))
                goto out;
            size_t sa = pgi_jr_push_key(&r->jr, "action");
            rc = lookup_action(r, p->agent, action, &p->action);
            pgi_jr_pop(&r->jr, sa);
            if (rc)
                goto out;
            json_t *acc = json_object_get(pv, "accept");
            p->accept = NAN;
            sa = pgi_jr_push_key(&r->jr, "accept");
            if (acc && !(json_is_string(acc) && strcmp(json_string_value(acc), "learn") == 0)) {
                if (json_is_string(acc)) {
                    rc = pgi_jr_fail(&r->jr, PG_EPARSE, "must be a probability or \"learn\"");
                    goto out;
                }
                if ((rc = pgi_jr_number(&r->jr, acc, 0.0, 1.0, &p->accept)))
                    goto out;
            }
            pgi_jr_pop(&r->jr, sa);
            pgi_jr_pop(&r->jr, sp);
        }
        pgi_jr_pop(&r->jr, sk);
        if ((rc = pgi_jr_get_array(&r->jr, v, "transfers", false, 0, &trs)))
            goto out;
        if (trs) {
            x->n_transfers = json_array_size(trs);
            if (!(x->transfers = alloc_array(r, x->n_transfers, sizeof *x->transfers))) {
                rc = PG_ENOMEM;
                goto out;
            }
            sk = pgi_jr_push_key(&r->jr, "transfers");
            for (size_t k = 0; k < x->n_transfers; k++) {
                json_t *tv = json_array_get(trs, k);
                sc_transfer *t = &x->transfers[k];
                size_t st = pgi_jr_push_index(&r->jr, k);
                if ((rc = pgi_jr_want(&r->jr, tv, JSON_OBJECT, "an object")) ||
                    (rc = pgi_jr_check_keys(&r->jr, tv, NULL, tkeys)) ||
                    (rc = get_ref(r, tv, "from", lookup_agent, &t->from)) ||
                    (rc = get_ref(r, tv, "to", lookup_agent, &t->to)) ||
                    (rc = pgi_jr_get_number(&r->jr, tv, "amount", true, 0.0, INFINITY, &t->amount)))
                    goto out;
                pgi_jr_pop(&r->jr, st);
            }
            pgi_jr_pop(&r->jr, sk);
        }
        pgi_jr_pop(&r->jr, si);
    }
    rc = check_unique(r, &s->negs[0].name, sizeof *s->negs, n, "negotiation");
out:
    pgi_jr_pop(&r->jr, saved);
    return rc;
}

/* ---------------------------------------------------------------- groups, profiles */

static int
parse_groups(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name", "description", "set", NULL};
    json_t *arr;
    pg_scenario *s = r->s;
    int rc = pgi_jr_get_array(&r->jr, root, "initial_conditions", false, 0, &arr);
    if (rc)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, "initial_conditions");
    size_t n = arr ? json_array_size(arr) : 0;
    if (arr && !n) {
        rc = pgi_jr_fail(&r->jr, PG_EPARSE, "give at least one group, or leave the key out");
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
            rc = pgi_jr_nomem(&r->jr);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i), *set;
        sc_group *g = &s->groups[i];
        size_t si = pgi_jr_push_index(&r->jr, i);
        if ((rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object")) ||
            (rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "name", true, &g->name)) ||
            (rc = pgi_jr_dup_string(&r->jr, v, "description", false, &g->description)) ||
            (rc = pgi_jr_get_object(&r->jr, v, "set", true, &set)))
            goto out;
        size_t sk = pgi_jr_push_key(&r->jr, "set");
        const char *key;
        json_t *val;
        json_object_foreach(set, key, val)
        {
            size_t sv = pgi_jr_push_key(&r->jr, key), k;
            if ((rc = lookup_var(r, key, &k)) ||
                (rc =
                     number_or_range(r, val, s->vars[k].min, s->vars[k].max, &g->lo[k], &g->hi[k])))
                goto out;
            pgi_jr_pop(&r->jr, sv);
        }
        pgi_jr_pop(&r->jr, sk);
        pgi_jr_pop(&r->jr, si);
    }
    rc = check_unique(r, &s->groups[0].name, sizeof *s->groups, n, "initial-condition group");
out:
    pgi_jr_pop(&r->jr, saved);
    return rc;
}

static int
parse_profiles(rd *r, const json_t *root)
{
    static const char *const keys[] = {"name", "description", "strategies", NULL};
    json_t *arr;
    pg_scenario *s = r->s;
    unsigned char *given = NULL;
    int rc = pgi_jr_get_array(&r->jr, root, "profiles", false, 0, &arr);
    if (rc)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, "profiles");
    size_t n = arr ? json_array_size(arr) : 0;
    if (arr && !n) {
        rc = pgi_jr_fail(&r->jr, PG_EPARSE, "give at least one profile, or leave the key out");
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
        size_t si = pgi_jr_push_index(&r->jr, i);
        memset(given, 0, s->n_agents);
        if (v) {
            if ((rc = pgi_jr_want(&r->jr, v, JSON_OBJECT, "an object")) ||
                (rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) ||
                (rc = pgi_jr_dup_string(&r->jr, v, "name", true, &p->name)) ||
                (rc = pgi_jr_dup_string(&r->jr, v, "description", false, &p->description)) ||
                (rc = pgi_jr_get_object(&r->jr, v, "strategies", true, &strat)))
                goto out;
            const char *key;
            json_t *sv;
            size_t sk = pgi_jr_push_key(&r->jr, "strategies");
            json_object_foreach(strat, key, sv)
            {
                size_t sa = pgi_jr_push_key(&r->jr, key), a;
                if ((rc = lookup_agent(r, key, &a)))
                    goto out;
                if ((rc = parse_strategy(r, sv, &s->agents[a], &p->strategy[a])))
                    goto out;
                given[a] = 1;
                pgi_jr_pop(&r->jr, sa);
            }
            pgi_jr_pop(&r->jr, sk);
        } else if (!(p->name = pgi_strdup("default"))) {
            rc = pgi_jr_nomem(&r->jr);
            goto out;
        }
        for (size_t a = 0; a < s->n_agents; a++) {
            if (given[a])
                continue;
            const sc_agent *ag = &s->agents[a];
            if ((rc = pgi_sc_strategy_copy(&p->strategy[a], &ag->strategy, ag->n_actions,
                                           ag->n_observes))) {
                pg_error_set(r->jr.err, rc, "out of memory");
                goto out;
            }
        }
        pgi_jr_pop(&r->jr, si);
    }
    if (n)
        rc = check_unique(r, &s->profiles[0].name, sizeof *s->profiles, n, "profile");
out:
    free(given);
    pgi_jr_pop(&r->jr, saved);
    return rc;
}

static int
parse_resilience(rd *r, const json_t *root)
{
    static const char *const keys[] = {"indicator", "recovery_threshold", "baseline_window",
                                       "rank_by", NULL};
    json_t *v;
    pg_scenario *s = r->s;
    int rc = pgi_jr_get_object(&r->jr, root, "resilience", true, &v);
    if (rc)
        return rc;
    size_t saved = pgi_jr_push_key(&r->jr, "resilience");
    pg_resilience_options_init(&s->res);
    if ((rc = pgi_jr_check_keys(&r->jr, v, NULL, keys)) ||
        (rc = get_ref(r, v, "indicator", lookup_quantity, &s->perf_q)) ||
        (rc = pgi_jr_get_number(&r->jr, v, "recovery_threshold", false, 0.0, 1.0,
                                &s->res.recovery_threshold)) ||
        (rc = pgi_jr_get_size(&r->jr, v, "baseline_window", false, 1, MAX_TURNS,
                              &s->res.baseline_window)) ||
        (rc = pgi_jr_dup_string(&r->jr, v, "rank_by", false, &s->rank_by)))
        goto out;
    if (!s->rank_by) {
        if (!(s->rank_by = pgi_strdup("loss_area")))
            rc = pgi_jr_nomem(&r->jr);
    } else if (pgi_metric_index(s->rank_by) == PGI_N_METRICS) {
        char list[200] = "";
        for (size_t k = 0; k < PGI_N_METRICS; k++) {
            if (k)
                strcat(list, ", ");
            strcat(list, pgi_metric_names[k]);
        }
        rc = pgi_jr_fail_key(&r->jr, PG_EPARSE, "rank_by", "unknown metric '%s' (metrics: %s)",
                             s->rank_by, list);
    }
out:
    pgi_jr_pop(&r->jr, saved);
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
    int rc = pgi_jr_want(&r->jr, root, JSON_OBJECT, "an object (a scenario)");
    if (rc)
        return rc;
    const char *format = NULL;
    if ((rc = pgi_jr_get_string(&r->jr, root, "format", true, &format)))
        return rc;
    if (strcmp(format, FORMAT) != 0)
        return pgi_jr_fail_key(&r->jr, PG_EPARSE, "format",
                               "unknown format '%s'; this version reads \"%s\"", format, FORMAT);
    s->turns = 100;
    s->runs = 100;
    if ((rc = pgi_jr_check_keys(&r->jr, root, NULL, keys)) ||
        (rc = pgi_jr_dup_string(&r->jr, root, "name", true, &s->name)) ||
        (rc = pgi_jr_dup_string(&r->jr, root, "description", false, &s->description)) ||
        (rc = pgi_jr_get_size(&r->jr, root, "turns", false, 1, MAX_TURNS, &s->turns)) ||
        (rc = pgi_jr_get_size(&r->jr, root, "runs", false, 1, MAX_RUNS, &s->runs)))
        return rc;
    json_t *seed = json_object_get(root, "seed");
    s->seed = 1;
    if (seed) {
        size_t sk = pgi_jr_push_key(&r->jr, "seed");
        if (json_is_real(seed))
            rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                             "must be a whole number from 0 to %" PRId64 " (it is %g)",
                             (int64_t)INT64_MAX, json_real_value(seed));
        else if (!json_is_integer(seed))
            rc = pgi_jr_fail(&r->jr, PG_EPARSE, "must be a whole number, not %s",
                             pgi_jr_type_name(seed));
        else if (json_integer_value(seed) < 0)
            rc = pgi_jr_fail(&r->jr, PG_EPARSE,
                             "must be a whole number from 0 to %" PRId64 " (it is %" PRId64 ")",
                             (int64_t)INT64_MAX, (int64_t)json_integer_value(seed));
        else
            s->seed = (uint64_t)json_integer_value(seed);
        pgi_jr_pop(&r->jr, sk);
        if (rc)
            return rc;
    }
    json_t *as;
    if ((rc = pgi_jr_get_array(&r->jr, root, "assumptions", false, 0, &as)))
        return rc;
    if (as) {
        size_t saved = pgi_jr_push_key(&r->jr, "assumptions");
        s->n_assumptions = json_array_size(as);
        if (!(s->assumptions = alloc_array(r, s->n_assumptions, sizeof(char *))))
            return PG_ENOMEM;
        for (size_t i = 0; i < s->n_assumptions; i++) {
            size_t si = pgi_jr_push_index(&r->jr, i);
            json_t *v = json_array_get(as, i);
            if ((rc = pgi_jr_want(&r->jr, v, JSON_STRING, "a string")))
                return rc;
            if (!(s->assumptions[i] = pgi_strdup(json_string_value(v))))
                return pgi_jr_nomem(&r->jr);
            pgi_jr_pop(&r->jr, si);
        }
        pgi_jr_pop(&r->jr, saved);
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
    rd r = {.s = NULL};
    int rc = pgi_jr_open(&r.jr, name ? name : "<scenario>", text, len, err);
    if (rc)
        return rc;
    if (!(r.s = calloc(1, sizeof *r.s)) || !(r.s->file = pgi_strdup(r.jr.file)))
        rc = pgi_jr_nomem(&r.jr);
    if (!rc)
        rc = parse_root(&r, r.jr.root);
    pgi_jr_close(&r.jr);
    if (rc) {
        pgi_jr_place(&r.jr, rc);
        pg_scenario_free(r.s);
        return rc;
    }
    *out = r.s;
    return PG_OK;
}

int
pg_scenario_read(const char *path, pg_scenario **out, pg_error *err)
{
    if (!path || !out)
        return pg_error_set(err, PG_EINVAL, "pg_scenario_read: path or out is NULL");
    char *text = NULL;
    size_t len = 0;
    int rc = pg_input_read(path, PG_SCENARIO_INPUT_MAX, &text, &len, err);
    if (rc)
        return rc;
    rc = pg_scenario_parse(text, len, path, out, err);
    free(text);
    return rc;
}
