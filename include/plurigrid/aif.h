/* A discrete active-inference agent: a partially observed Markov decision model (A likelihoods,
 * B transitions per action, C log-preferences over observations, D priors), exact Bayesian
 * filtering of the hidden state, expected free energy (risk + ambiguity, i.e. minus utility and
 * information gain) of every policy of a fixed depth, a policy posterior softmax(-gamma G),
 * action selection by sampling (seeded) or argmax, and Dirichlet learning of B and A.
 *
 * Hidden states may be split into factors (hour of day, state of charge, ...). Each factor has
 * its own transitions per action (or one for all actions when the agent does not control it),
 * which depend only on that factor; likelihoods A see the joint state. Beliefs are always kept over
 * the joint state, so state inference is exact Bayesian filtering whatever the number of factors.
 * The agent also serves as a controller for a home battery (pg_aif_battery_new) and as a strategy
 * in repeated games and scenarios. docs/active-inference.md gives the equations. */
#ifndef PLURIGRID_AIF_H
#define PLURIGRID_AIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pg_aif pg_aif;

/* Passed in an observation vector for a modality that was not observed this step. */
#define PG_AIF_MISSING ((size_t)-1)

/* The generative model. Joint states are numbered row-major over the factors (factor 0 varies
 * slowest): s = ((s_0 * n_1 + s_1) * n_2 + s_2) ...; S is the product of n_states. */
typedef struct pg_aif_model {
    size_t n_factors;       /* hidden-state factors, >= 1 */
    const size_t *n_states; /* [n_factors], each >= 1 */
    size_t n_actions;       /* >= 1 */
    /* B[f][(a * n + next) * n + prev] = P(next | prev, a) for factor f with n = n_states[f].
     * Columns (fixed prev and a) sum to 1. A factor the agent does not control may repeat the
     * same matrix for every action; each copy is then learned on its own, from the steps that
     * took its action only. Marking the factor uncontrolled (below) gives it one matrix instead. */
    const double *const *B;
    size_t n_modalities; /* observation modalities, >= 1 */
    const size_t *n_obs; /* [n_modalities], each >= 1 */
    /* A[m][o * S + s] = P(o | s) for modality m; each column s sums to 1. */
    const double *const *A;
    /* C[m][o]: log-preference for outcome o (finite; only differences matter). C itself or any
     * C[m] may be NULL: no preference over that modality. */
    const double *const *C;
    /* D[f][s]: prior over factor f at the first step; D or any D[f] NULL means uniform. */
    const double *const *D;
    /* uncontrolled[f] true: factor f does not depend on the action (a clock, the weather). Its
     * B[f] is one matrix, B[f][next * n + prev] = P(next | prev), shared by every action (as
     * pymdp's uncontrolled factors), and Dirichlet learning counts every step's transition in
     * it whatever action was taken. NULL (or false): one matrix per action, as above. */
    const bool *uncontrolled;
} pg_aif_model;

enum {
    PG_AIF_SAMPLE = 0, /* draw the action from the action posterior with the agent's RNG */
    PG_AIF_ARGMAX = 1, /* take the most probable action (the lowest index on ties) */
};

typedef struct pg_aif_options {
    size_t policy_depth;  /* steps planned ahead; policies are all n_actions^depth sequences
                             (default 1) */
    double gamma;         /* policy precision (default 16) */
    int action_selection; /* PG_AIF_SAMPLE (default) or PG_AIF_ARGMAX */
    uint64_t seed;        /* RNG seed for sampling (default 1) */
    int use_utility;      /* 1 (default): G includes the risk (expected utility) term */
    int use_info_gain;    /* 1 (default): G includes the ambiguity (information gain) term */
    /* Dirichlet learning. The initial counts are concentration * (the model's matrix); each step
     * adds rate * (posterior outer product). A rate of 0 (the default) turns learning off. */
    double learn_B_rate;
    double B_concentration; /* default 1 */
    double learn_A_rate;
    double A_concentration; /* default 1 */
    size_t max_policies;    /* refuse models with more policies than this (default 1000000) */
} pg_aif_options;

PG_API void pg_aif_options_init(pg_aif_options *o);

/* Creates an agent from a model; checks that every matrix is a probability table and every
 * number finite. Copies everything in model and opts (the caller keeps ownership of both). */
PG_API int pg_aif_new(pg_aif **out, const pg_aif_model *model, const pg_aif_options *opts,
                      pg_error *err);
PG_API void pg_aif_free(pg_aif *a);

/* Returns the agent to its state right after pg_aif_new (prior beliefs, initial Dirichlet
 * counts, no last action) and reseeds its RNG. */
PG_API void pg_aif_reset(pg_aif *a, uint64_t seed);

/* State inference for one step: the prior is D at the first step and B[last action] applied to
 * the previous posterior afterwards; the posterior is prior times the likelihood of obs (one
 * outcome per modality, PG_AIF_MISSING to skip a modality), normalised. With learning on, the
 * Dirichlet counts of B (for the last transition) and A are updated. Borrows obs. Fails with
 * PG_EMODEL, leaving the agent unchanged, when the observation has zero probability under the
 * model. */
PG_API int pg_aif_observe(pg_aif *a, const size_t *obs, pg_error *err);

/* Evaluates the expected free energy of every policy from the current posterior and forms the
 * policy and action posteriors. */
PG_API int pg_aif_plan(pg_aif *a, pg_error *err);

/* Selects an action from the action posterior of the last pg_aif_plan (sampled or argmax, per
 * the options), records it as the action taken and writes it to *action. */
PG_API int pg_aif_act(pg_aif *a, size_t *action, pg_error *err);

/* Records the action that was actually taken when it differs from the agent's choice (an
 * action imposed from outside); the next prior uses it. */
PG_API int pg_aif_set_action(pg_aif *a, size_t action, pg_error *err);

/* observe + plan + act. */
PG_API int pg_aif_step(pg_aif *a, const size_t *obs, size_t *action, pg_error *err);

/* Read access. Pointers stay owned by the agent and valid until its next call. */
PG_API size_t pg_aif_n_states(const pg_aif *a); /* S, joint states */
PG_API size_t pg_aif_n_policies(const pg_aif *a);
/* Posterior over joint states after the last pg_aif_observe (the prior before the first). */
PG_API const double *pg_aif_posterior(const pg_aif *a);
/* Marginal posterior of factor f into out[n_states[f]]. */
PG_API int pg_aif_marginal(const pg_aif *a, size_t f, double *out, pg_error *err);
/* Policy k's actions into actions[policy_depth] (the first action at index 0). */
PG_API int pg_aif_policy(const pg_aif *a, size_t k, size_t *actions, pg_error *err);
/* Expected free energy of each policy after the last plan, and its two parts (risk: divergence
 * of predicted outcomes from preferences; ambiguity: expected outcome entropy). G = risk +
 * ambiguity when both terms are on. Arrays of pg_aif_n_policies() values. */
PG_API const double *pg_aif_G(const pg_aif *a);
PG_API const double *pg_aif_risk(const pg_aif *a);
PG_API const double *pg_aif_ambiguity(const pg_aif *a);
PG_API const double *pg_aif_policy_posterior(const pg_aif *a);
PG_API const double *pg_aif_action_posterior(const pg_aif *a); /* n_actions values */
/* The current (possibly learned) B of factor f and A of modality m, in the model's layout (one
 * matrix for an uncontrolled factor). */
PG_API const double *pg_aif_B(const pg_aif *a, size_t f);
PG_API const double *pg_aif_A(const pg_aif *a, size_t m);

/* ------------------------------------------------------------------ home battery controller */

/* Actions, modalities and price levels of the battery model. */
enum { PG_AIF_BAT_CHARGE = 0, PG_AIF_BAT_IDLE = 1, PG_AIF_BAT_DISCHARGE = 2 };
enum {
    PG_AIF_BAT_OBS_PRICE = 0,
    PG_AIF_BAT_OBS_DR = 1,
    PG_AIF_BAT_OBS_SOC = 2,
    PG_AIF_BAT_OBS_BILL = 3,
    PG_AIF_BAT_OBS_RESPONSE = 4,
    PG_AIF_BAT_N_OBS = 5
};
enum { PG_AIF_PRICE_LOW = 0, PG_AIF_PRICE_MID = 1, PG_AIF_PRICE_HIGH = 2 };

/* A home battery facing a daily tariff and demand-response (DR) events. Hidden factors: hour of
 * the day (a deterministic clock); storage: the state of charge (soc_levels steps, one step per
 * charge or discharge) together with the action actually executed last (charging a full or
 * discharging an empty battery executes as idle); DR event (off/on, a Markov chain). An action
 * chosen at step t is executed during step t+1. Observations: the price level of the hour, the
 * DR status, the state of charge, the bill of the executed action (bought or sold one step of
 * energy at a price level, or idle) and the DR response (no event; event while charging, idle or
 * discharging). Preferences are beta * money over the bill and the response, so the agent prefers
 * low cost. */
typedef struct pg_aif_battery_spec {
    size_t hours;           /* steps per day (default 24) */
    size_t start_hour;      /* hour of the first observation (default 0) */
    size_t soc_levels;      /* state-of-charge levels including empty and full (default 5) */
    size_t start_soc;       /* initial level (default 0, empty) */
    const int *price_level; /* [hours]: the expected price level of each hour (required) */
    double price[3];        /* money per step of energy at each level (default 0.1, 0.2, 0.4) */
    double efficiency;      /* fraction of the stored energy sold back (default 0.9) */
    double price_noise;     /* probability that an hour's level differs from the profile
                               (default 0.05) */
    double dr_start;        /* P(event next hour | none now) (default 0.02) */
    double dr_stay;         /* P(event next hour | event now) (default 0.5) */
    double dr_value;        /* money paid per step discharged during an event (default 0.5) */
    double dr_penalty;      /* money charged per step charged during an event (default 0.5) */
    double beta;            /* log-preference per unit of money (default 10) */
} pg_aif_battery_spec;

PG_API void pg_aif_battery_spec_init(pg_aif_battery_spec *s);

/* Outcomes of the bill and DR-response modalities for an executed action (idle when the battery
 * was full for a charge or empty for a discharge); the environment uses them to form the
 * observation. Bill: 0-2 bought at a low/mid/high price, 3 idle, 4-6 sold at low/mid/high.
 * Response: 0 no event, 1 charged, 2 idle, 3 discharged during an event. */
#define PG_AIF_BAT_N_BILL 7
#define PG_AIF_BAT_N_RESPONSE 4
PG_API size_t pg_aif_battery_bill(size_t action, int price_level);
PG_API size_t pg_aif_battery_response(size_t action, int dr_event);

/* Builds the battery model and an agent for it (opts may be NULL: depth 6, argmax). Copies
 * spec and opts. */
PG_API int pg_aif_battery_new(pg_aif **out, const pg_aif_battery_spec *spec,
                              const pg_aif_options *opts, pg_error *err);

/* ------------------------------------------------------------------ repeated two-player games */

/* A player of a repeated two-player matrix game. Its hidden state is the last round's outcome
 * (its own action, the opponent's action); it learns by Dirichlet counting how the opponent's
 * next action follows from that outcome (so it can learn tit-for-tat, a fixed mix, ...), and it
 * prefers outcomes by beta x its payoff. It plans policy_depth rounds ahead, so with depth 2 or
 * more it sees that what it does now shapes what a responsive opponent does next.
 *
 * A round: pg_aif_step(agent, obs, &action) with obs[0] = PG_AIF_MISSING before the first round
 * and pg_aif_game_outcome(spec, mine, theirs) of the last round afterwards. */
typedef struct pg_aif_game_spec {
    size_t n_actions;     /* the agent's actions (>= 1) */
    size_t n_opponent;    /* the opponent's actions (>= 1) */
    const double *payoff; /* n_actions x n_opponent: the agent's payoff, row = its action */
    double beta;          /* log-preference per unit of payoff (default 1) */
} pg_aif_game_spec;

PG_API void pg_aif_game_spec_init(pg_aif_game_spec *s);
PG_API size_t pg_aif_game_outcome(const pg_aif_game_spec *s, size_t mine, size_t theirs);

/* Builds the agent (opts may be NULL: depth 2, gamma 8, sampled actions, learning of B at rate
 * 1 from concentration 1). Each context (last outcome, own action) is learned on its own, so the
 * agent must try actions to learn what follows them: sample actions rather than take the argmax.
 * Copies spec and opts. */
PG_API int pg_aif_game_new(pg_aif **out, const pg_aif_game_spec *spec, const pg_aif_options *opts,
                           pg_error *err);

/* pg_nf_aif_new (game.h) makes this player for one player of a two-player normal-form game. */

#ifdef __cplusplus
}
#endif
#endif
