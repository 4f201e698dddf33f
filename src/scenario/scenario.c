/* The scenario model's helpers: freeing, read-outs, quantity names and ranges, strategy copies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/internal.h"

const char *
pgi_sc_quantity_name(const pg_scenario *s, size_t q)
{
    if (q < s->n_vars)
        return s->vars[q].name;
    if (q < s->n_vars + s->n_inds)
        return s->inds[q - s->n_vars].name;
    return NULL;
}

void
pgi_sc_quantity_range(const pg_scenario *s, size_t q, double *lo, double *hi)
{
    if (q < s->n_vars) {
        *lo = s->vars[q].min;
        *hi = s->vars[q].max;
    } else {
        *lo = s->inds[q - s->n_vars].lo;
        *hi = s->inds[q - s->n_vars].hi;
    }
}

const char *
pgi_sc_strategy_kind_name(int kind)
{
    switch (kind) {
    case ST_FIXED: return "fixed";
    case ST_ROTH_EREV: return "roth-erev";
    case ST_Q_LEARNING: return "q-learning";
    case ST_AIF: return "active-inference";
    default: return "unknown";
    }
}

void
pgi_sc_strategy_clear(sc_strategy *st)
{
    free(st->mix);
    free(st->pref);
    st->mix = NULL;
    st->pref = NULL;
}

int
pgi_sc_strategy_copy(sc_strategy *dst, const sc_strategy *src, size_t n_actions, size_t n_observes)
{
    *dst = *src;
    dst->mix = NULL;
    dst->pref = NULL;
    if (src->mix) {
        if (!(dst->mix = malloc(n_actions * sizeof(double))))
            return PG_ENOMEM;
        memcpy(dst->mix, src->mix, n_actions * sizeof(double));
    }
    if (src->pref) {
        if (!(dst->pref = malloc((n_observes ? n_observes : 1) * sizeof(double)))) {
            pgi_sc_strategy_clear(dst);
            return PG_ENOMEM;
        }
        memcpy(dst->pref, src->pref, n_observes * sizeof(double));
    }
    return PG_OK;
}

static void
free_conds(sc_cond *c)
{
    free(c);
}

static void
free_effects(sc_effect *e, size_t n)
{
    if (!e)
        return;
    for (size_t i = 0; i < n; i++) {
        free(e[i].per_q);
        free(e[i].per_coef);
    }
    free(e);
}

/* Counts may be set before their array was allocated (a reader that ran out of memory), so
 * every loop checks its array. */
void
pg_scenario_free(pg_scenario *s)
{
    if (!s)
        return;
    free(s->file);
    free(s->name);
    free(s->description);
    for (size_t i = 0; s->assumptions && i < s->n_assumptions; i++)
        free(s->assumptions[i]);
    free(s->assumptions);
    for (size_t i = 0; s->vars && i < s->n_vars; i++) {
        free(s->vars[i].name);
        free(s->vars[i].description);
        free(s->vars[i].unit);
    }
    free(s->vars);
    for (size_t i = 0; s->inds && i < s->n_inds; i++) {
        free(s->inds[i].name);
        free(s->inds[i].description);
        free(s->inds[i].var);
        free(s->inds[i].weight);
    }
    free(s->inds);
    for (size_t i = 0; s->agents && i < s->n_agents; i++) {
        sc_agent *a = &s->agents[i];
        free(a->name);
        free(a->description);
        if (a->actions)
            for (size_t k = 0; k < a->n_actions; k++) {
                free(a->actions[k].name);
                free(a->actions[k].description);
            }
        free(a->actions);
        free(a->observes);
        free(a->reward);
        pgi_sc_strategy_clear(&a->strategy);
    }
    free(s->agents);
    for (size_t i = 0; s->rules && i < s->n_rules; i++) {
        sc_rule *r = &s->rules[i];
        free(r->name);
        free(r->description);
        free(r->when);
        free_conds(r->cond);
        free_effects(r->effects, r->n_effects);
    }
    free(s->rules);
    for (size_t i = 0; s->shocks && i < s->n_shocks; i++) {
        sc_shock *x = &s->shocks[i];
        free(x->name);
        free(x->description);
        free_effects(x->onset, x->n_onset);
        free_effects(x->during, x->n_during);
    }
    free(s->shocks);
    for (size_t i = 0; s->alliances && i < s->n_alliances; i++) {
        free(s->alliances[i].name);
        free(s->alliances[i].description);
        free(s->alliances[i].members);
        free_conds(s->alliances[i].cond);
    }
    free(s->alliances);
    for (size_t i = 0; s->negs && i < s->n_negs; i++) {
        sc_negotiation *x = &s->negs[i];
        free(x->name);
        free(x->description);
        free(x->partners);
        free(x->transfers);
        free_conds(x->cond);
    }
    free(s->negs);
    for (size_t i = 0; s->groups && i < s->n_groups; i++) {
        free(s->groups[i].name);
        free(s->groups[i].description);
        free(s->groups[i].lo);
        free(s->groups[i].hi);
    }
    free(s->groups);
    for (size_t i = 0; s->profiles && i < s->n_profiles; i++) {
        free(s->profiles[i].name);
        free(s->profiles[i].description);
        if (s->profiles[i].strategy)
            for (size_t a = 0; a < s->n_agents; a++)
                pgi_sc_strategy_clear(&s->profiles[i].strategy[a]);
        free(s->profiles[i].strategy);
    }
    free(s->profiles);
    free(s->rank_by);
    free(s);
}

const char *
pg_scenario_name(const pg_scenario *s)
{
    return s ? s->name : NULL;
}

size_t
pg_scenario_default_runs(const pg_scenario *s)
{
    return s ? s->runs : 0;
}

size_t
pg_scenario_default_turns(const pg_scenario *s)
{
    return s ? s->turns : 0;
}

uint64_t
pg_scenario_default_seed(const pg_scenario *s)
{
    return s ? s->seed : 0;
}

size_t
pg_scenario_n_agents(const pg_scenario *s)
{
    return s ? s->n_agents : 0;
}

const char *
pg_scenario_agent(const pg_scenario *s, size_t i)
{
    return (s && i < s->n_agents) ? s->agents[i].name : NULL;
}

size_t
pg_scenario_n_variables(const pg_scenario *s)
{
    return s ? s->n_vars : 0;
}

const char *
pg_scenario_variable(const pg_scenario *s, size_t i)
{
    return (s && i < s->n_vars) ? s->vars[i].name : NULL;
}

size_t
pg_scenario_n_profiles(const pg_scenario *s)
{
    return s ? s->n_profiles : 0;
}

const char *
pg_scenario_profile(const pg_scenario *s, size_t i)
{
    return (s && i < s->n_profiles) ? s->profiles[i].name : NULL;
}

size_t
pg_scenario_n_groups(const pg_scenario *s)
{
    return s ? s->n_groups : 0;
}

const char *
pg_scenario_group(const pg_scenario *s, size_t i)
{
    return (s && i < s->n_groups) ? s->groups[i].name : NULL;
}
