/* The scenario model as the reader builds it and the simulator runs it (see scenario.h and
 * docs/scenarios.md). Every reference is resolved to an index by the reader, so the simulator
 * never looks a name up.
 *
 * Quantities: variables are numbered 0 .. n_vars-1 and indicators after them, n_vars ..
 * n_vars+n_inds-1; conditions, effects' "per" terms, rewards and observations refer to
 * quantities by that number. */
#ifndef PG_SCENARIO_INTERNAL_H
#define PG_SCENARIO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/learn.h"
#include "plurigrid/scenario.h"

typedef struct sc_var {
    char *name, *description, *unit;
    double init_lo, init_hi; /* initial value drawn uniformly from [lo, hi] */
    double min, max, baseline, decay, noise;
} sc_var;

typedef struct sc_indicator {
    char *name, *description;
    size_t n_terms;
    size_t *var; /* variables */
    double *weight;
    double offset;
    double lo, hi; /* range implied by the variables' bounds */
} sc_indicator;

enum { COND_RANGE = 0, COND_SHOCK = 1 };

typedef struct sc_cond {
    int kind;
    size_t q;     /* COND_RANGE: quantity; COND_SHOCK: shock index */
    double above; /* -INFINITY when absent: q > above */
    double below; /* +INFINITY when absent: q < below */
    bool active;  /* COND_SHOCK: required state */
} sc_cond;

typedef struct sc_effect {
    size_t var;
    double add;
    size_t n_per;
    size_t *per_q;
    double *per_coef;
    double noise;
} sc_effect;

typedef struct sc_when {
    size_t agent;
    uint64_t actions; /* bit a set: action a satisfies */
} sc_when;

typedef struct sc_rule {
    char *name, *description;
    sc_when *when;
    size_t n_when;
    sc_cond *cond;
    size_t n_cond;
    double probability;
    sc_effect *effects;
    size_t n_effects;
} sc_rule;

typedef struct sc_shock {
    char *name, *description;
    size_t turn_lo, turn_hi;
    double probability;
    size_t duration;
    sc_effect *onset;
    size_t n_onset;
    sc_effect *during;
    size_t n_during;
} sc_shock;

typedef struct sc_action {
    char *name, *description;
    double cost;
} sc_action;

enum { ST_FIXED = 0, ST_ROTH_EREV = 1, ST_Q_LEARNING = 2, ST_AIF = 3 };

typedef struct sc_strategy {
    int kind;
    double *mix;            /* ST_FIXED: n_actions probabilities */
    pg_learn_options learn; /* ST_ROTH_EREV, ST_Q_LEARNING (n_states set by the reader) */
    size_t bins;            /* ST_Q_LEARNING, ST_AIF: levels per observed quantity */
    int observe_change;     /* 1: observe the change of each quantity (down, flat, up; bins
                               is 3) instead of its level */
    double band;            /* observe_change: |change| up to band x range reads as flat */
    /* ST_AIF */
    size_t depth;
    double gamma;
    double learning_rate;
    double concentration;
    double precision; /* log-preference of the best level relative to the worst */
    double *pref;     /* per observed quantity: weight of its level in preferences */
    int sample;       /* 1 sample, 0 argmax */
} sc_strategy;

typedef struct sc_reward_term {
    size_t q;
    double weight;
    bool change; /* weight x (value - value a turn before), else weight x value */
} sc_reward_term;

typedef struct sc_agent {
    char *name, *description;
    sc_action *actions;
    size_t n_actions;
    size_t *observes;
    size_t n_observes;
    double observation_noise;
    sc_reward_term *reward;
    size_t n_reward;
    double reward_offset;
    sc_strategy strategy; /* the default; profiles may replace it */
} sc_agent;

typedef struct sc_alliance {
    char *name, *description;
    size_t *members;
    size_t n_members;
    double share;
    sc_cond *cond;
    size_t n_cond;
} sc_alliance;

typedef struct sc_partner {
    size_t agent;
    size_t action;
    double accept; /* probability, or NAN: learned (Roth-Erev over accept/decline) */
} sc_partner;

typedef struct sc_transfer {
    size_t from, to;
    double amount;
} sc_transfer;

typedef struct sc_negotiation {
    char *name, *description;
    size_t proposer;
    uint64_t trigger; /* proposer actions that put the project on the table */
    sc_partner *partners;
    size_t n_partners;
    sc_transfer *transfers;
    size_t n_transfers;
    sc_cond *cond;
    size_t n_cond;
} sc_negotiation;

typedef struct sc_group {
    char *name, *description;
    double *lo, *hi; /* per variable; NAN: the variable's own initial range */
} sc_group;

typedef struct sc_profile {
    char *name, *description;
    sc_strategy *strategy; /* per agent */
} sc_profile;

struct pg_scenario {
    char *file, *name, *description;
    char **assumptions;
    size_t n_assumptions;
    size_t turns, runs;
    uint64_t seed;
    sc_var *vars;
    size_t n_vars;
    sc_indicator *inds;
    size_t n_inds;
    sc_agent *agents;
    size_t n_agents;
    sc_rule *rules;
    size_t n_rules;
    sc_shock *shocks;
    size_t n_shocks;
    sc_alliance *alliances;
    size_t n_alliances;
    sc_negotiation *negs;
    size_t n_negs;
    sc_group *groups;
    size_t n_groups;
    sc_profile *profiles;
    size_t n_profiles;
    /* resilience */
    size_t perf_q;
    pg_resilience_options res;
    char *rank_by; /* metric name */
};

/* Number of quantities and the name of quantity q. */
static inline size_t
pgi_sc_n_quantities(const pg_scenario *s)
{
    return s->n_vars + s->n_inds;
}
const char *pgi_sc_quantity_name(const pg_scenario *s, size_t q);
/* Lower and upper bounds of quantity q. */
void pgi_sc_quantity_range(const pg_scenario *s, size_t q, double *lo, double *hi);

void pgi_sc_strategy_clear(sc_strategy *st);
int pgi_sc_strategy_copy(sc_strategy *dst, const sc_strategy *src, size_t n_actions,
                         size_t n_observes);
const char *pgi_sc_strategy_kind_name(int kind);

/* Result storage shared by the runner and the report. */
struct pg_scenario_result {
    const pg_scenario *sc;
    size_t runs, turns;
    uint64_t seed;
    size_t threads;
    double *perf;           /* runs x (turns + 1) */
    pg_resilience *metrics; /* runs */
    size_t *onset;          /* runs: disruption onset turn */
    unsigned char *shocked; /* runs x n_shocks: shock happened */
    size_t *action_counts;  /* runs x total actions (agent-major) */
    size_t *agreements;     /* runs x n_negs: agreed projects */
    size_t *proposals;      /* runs x n_negs */
    double *final_vars;     /* runs x n_vars */
    size_t total_actions;
    size_t *action_offset; /* per agent */
    double *var_sum;       /* (turns + 1) x n_vars: sum over runs */
    double *action_share;  /* turns x total actions: number of runs taking each action each
                              turn */
};

/* The metric names in report order, the value of metric k of m, and whether more is better. */
#define PGI_N_METRICS 6
extern const char *const pgi_metric_names[PGI_N_METRICS];
double pgi_metric_value(const pg_resilience *m, size_t k);
int pgi_metric_higher_is_better(size_t k);
/* Index of a metric by name, or PGI_N_METRICS when unknown. */
size_t pgi_metric_index(const char *name);

#endif
