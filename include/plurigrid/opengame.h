/* Open games: finite distributions with Bayesian conditioning, and open games after Ghani, Hedges,
 * Winschel and Zahn ("Compositional game theory", 2016) with an equilibrium check by unilateral
 * deviation and learning (docs/open-games.md). The classic games built on them (normal-form,
 * Markov, Cournot, auctions, the game file format) are in game.h.
 *
 * An open game here is a small tree of typed nodes over a finite value space: a game declares
 * players and variables (each with a finite set of values), and its nodes read and write those
 * variables. Atomic nodes are decisions (a player observes some variables and picks a value of
 * another), nature draws, forward functions, payoffs and other backward functions (which
 * transform the players' continuation utilities), and discounting; seq and par compose them.
 * Play runs forward over a distribution of histories (the context's state); utilities run
 * backward as the continuation. A strategy profile gives each decision a mixed action per
 * observation, as a lookup table or a function. The equilibrium check evaluates every decision
 * in its context (the history distribution that reaches it, conditioned on each observation by
 * Bayes' rule, and the continuation under the other decisions' strategies) and reports the
 * current payoff, the best unilateral deviation and its payoff.
 *
 * Everything is deterministic: functions that draw take the caller's pg_rng (rng.h). Objects
 * are not shared between threads by the library; distinct objects may be used concurrently, and a
 * finished pg_og may be read (evaluated, checked) by several threads at once. */
#ifndef PLURIGRID_OPENGAME_H
#define PLURIGRID_OPENGAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/learn.h"
#include "plurigrid/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================ finite distributions */

/* A finite probability distribution over outcomes that are tuples of `width` ints. Equal
 * outcomes are merged; weights need not sum to 1 (probabilities are weight / total). */
typedef struct pg_dist pg_dist;

/* Event and function callbacks receive one outcome (width ints). */
typedef bool (*pg_dist_event)(const int *outcome, void *ud);
typedef double (*pg_dist_fn)(const int *outcome, void *ud);

/* Creates an empty distribution over tuples of width ints (width may be 0: one empty outcome).
 * *out is written only on success. */
PG_API int pg_dist_new(pg_dist **out, size_t width, pg_error *err);
/* Frees d. Accepts NULL. */
PG_API void pg_dist_free(pg_dist *d);
/* Deep copy. */
PG_API int pg_dist_clone(pg_dist **out, const pg_dist *d, pg_error *err);
/* Adds weight (finite, >= 0) to outcome, copying the outcome; merges with an equal outcome. */
PG_API int pg_dist_add(pg_dist *d, const int *outcome, double weight, pg_error *err);

PG_API size_t pg_dist_width(const pg_dist *d);
/* Number of distinct outcomes (including any of weight 0), in order of first addition. */
PG_API size_t pg_dist_size(const pg_dist *d);
/* The i-th outcome (borrowed, valid until the next change) and its probability. */
PG_API const int *pg_dist_outcome(const pg_dist *d, size_t i);
PG_API double pg_dist_prob(const pg_dist *d, size_t i);
/* Total weight (1 after pg_dist_normalize or pg_dist_condition). */
PG_API double pg_dist_total(const pg_dist *d);
/* Probability of one outcome (0 when absent) and of an event. */
PG_API double pg_dist_prob_of(const pg_dist *d, const int *outcome);
PG_API double pg_dist_prob_event(const pg_dist *d, pg_dist_event event, void *ud);
/* Expected value of f. */
PG_API double pg_dist_expect(const pg_dist *d, pg_dist_fn f, void *ud);
/* Scales the weights to total 1. PG_EMODEL when the total is 0. */
PG_API int pg_dist_normalize(pg_dist *d, pg_error *err);
/* Bayesian conditioning on an event: keeps the outcomes in it and renormalises. Writes the
 * event's prior probability (the evidence) to *evidence when not NULL. PG_EMODEL when the event
 * has probability 0 (d is then unchanged). */
PG_API int pg_dist_condition(pg_dist *d, pg_dist_event event, void *ud, double *evidence,
                             pg_error *err);
/* Conditioning on outcome[coord] == value. */
PG_API int pg_dist_condition_eq(pg_dist *d, size_t coord, int value, double *evidence,
                                pg_error *err);
/* Bayes' rule with a likelihood: posterior weight = prior weight x likelihood(outcome) (finite,
 * >= 0), renormalised; *evidence receives sum prior x likelihood. PG_EMODEL when that is 0. */
PG_API int pg_dist_reweight(pg_dist *d, pg_dist_fn likelihood, void *ud, double *evidence,
                            pg_error *err);
/* Marginal over the coordinates listed (in that order). *out is a new distribution. */
PG_API int pg_dist_marginal(pg_dist **out, const pg_dist *d, const size_t *coords, size_t n,
                            pg_error *err);
/* Draws an outcome index with the caller's generator (pg_dist_size() when empty). */
PG_API size_t pg_dist_sample(const pg_dist *d, pg_rng *rng);

/* ================================================================ open games */

typedef struct pg_og pg_og;

/* A node of a game, by index in its game. */
typedef size_t pg_og_node;
/* "No node", "every observation", "every player". */
#define PG_OG_NONE ((size_t)-1)
#define PG_OG_ALL ((size_t)-1)

typedef enum pg_og_kind {
    PG_OG_DECISION = 1, /* a player observes variables and chooses the value of one */
    PG_OG_NATURE = 2,   /* a draw of a variable given the values of others */
    PG_OG_FORWARD = 3,  /* a deterministic function of variables into a variable */
    PG_OG_PAYOFF = 4,   /* adds payoffs to the players' utilities (a backward function) */
    PG_OG_BACKWARD = 5, /* any backward function: transforms the continuation utilities */
    PG_OG_DISCOUNT = 6, /* multiplies continuation utilities by a factor */
    PG_OG_SEQ = 7,      /* sequential composition: children in order, later ones see earlier */
    PG_OG_PAR = 8,      /* parallel composition: children independent of one another */
} pg_og_kind;

/* Callbacks. `in` holds the values of the node's input variables in the order given when the
 * node was made. Return PG_OK or a negative status to stop the evaluation. */
/* Nature: write the probability of each value of the output variable into probs. */
typedef int (*pg_og_nature_cb)(const int *in, double *probs, void *ud);
/* Forward function: write the output value (0 .. n_values-1) to *out. */
typedef int (*pg_og_forward_cb)(const int *in, int *out, void *ud);
/* Payoff: payoffs (one per player) arrive zeroed; write what this node adds. */
typedef int (*pg_og_payoff_cb)(const int *in, double *payoffs, void *ud);
/* Backward function: utility (one per player) holds the continuation utility after this node;
 * replace it by the utility before it. */
typedef int (*pg_og_backward_cb)(const int *in, double *utility, void *ud);
/* Strategy as a function: write the probability of each action given the observation. */
typedef int (*pg_og_strategy_cb)(const int *obs, double *probs, void *ud);

/* Creates a game with its players (n_players >= 1, unique non-empty names, copied). */
PG_API int pg_og_new(pg_og **out, const char *name, size_t n_players, const char *const *players,
                     pg_error *err);
/* Frees g and everything it owns (not the ud pointers of callbacks). Accepts NULL. */
PG_API void pg_og_free(pg_og *g);

/* Declares a variable with n_values >= 1 values. labels (n_values strings) may be NULL for "0",
 * "1", ...; names and labels are copied. */
PG_API int pg_og_add_variable(pg_og *g, const char *name, size_t n_values,
                              const char *const *labels, size_t *index, pg_error *err);

/* Atomic games. Node names are unique within a game; inputs/observes list variable indices
 * (copied). Tables are copied and indexed by the input tuple in row-major order (the first input
 * is the most significant digit; no inputs means one row). */
PG_API int pg_og_decision(pg_og *g, const char *name, size_t player, const size_t *observes,
                          size_t n_observes, size_t out_var, pg_og_node *node, pg_error *err);
/* table: rows x n_values(out_var) probabilities, each row summing to 1. */
PG_API int pg_og_nature(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs,
                        size_t out_var, const double *table, pg_og_node *node, pg_error *err);
PG_API int pg_og_nature_fn(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs,
                           size_t out_var, pg_og_nature_cb fn, void *ud, pg_og_node *node,
                           pg_error *err);
/* table: one output value per row. */
PG_API int pg_og_forward(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs,
                         size_t out_var, const int *table, pg_og_node *node, pg_error *err);
PG_API int pg_og_forward_fn(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs,
                            size_t out_var, pg_og_forward_cb fn, void *ud, pg_og_node *node,
                            pg_error *err);
/* table: rows x n_players payoffs added to the utilities. */
PG_API int pg_og_payoff(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs,
                        const double *table, pg_og_node *node, pg_error *err);
PG_API int pg_og_payoff_fn(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs,
                           pg_og_payoff_cb fn, void *ud, pg_og_node *node, pg_error *err);
PG_API int pg_og_backward_fn(pg_og *g, const char *name, const size_t *inputs, size_t n_inputs,
                             pg_og_backward_cb fn, void *ud, pg_og_node *node, pg_error *err);
/* Multiplies the continuation utility of one player (or PG_OG_ALL) by factor (finite, >= 0). */
PG_API int pg_og_discount(pg_og *g, const char *name, double factor, size_t player,
                          pg_og_node *node, pg_error *err);

/* Composition (children copied as a list; each node may be a child once). */
PG_API int pg_og_seq(pg_og *g, const char *name, const pg_og_node *children, size_t n,
                     pg_og_node *node, pg_error *err);
PG_API int pg_og_par(pg_og *g, const char *name, const pg_og_node *children, size_t n,
                     pg_og_node *node, pg_error *err);

/* Finishes the game with root as the whole game, checking that every node belongs to the tree,
 * every variable is written before it is read, the children of a par neither read what a
 * sibling writes nor write the same variable, and no discount or backward function sits inside
 * a par. After this the game is read-only. */
PG_API int pg_og_set_root(pg_og *g, pg_og_node root, pg_error *err);

/* Read-outs (borrowed strings). */
PG_API const char *pg_og_name(const pg_og *g);
PG_API size_t pg_og_n_players(const pg_og *g);
PG_API const char *pg_og_player(const pg_og *g, size_t player);
PG_API size_t pg_og_n_variables(const pg_og *g);
PG_API const char *pg_og_variable(const pg_og *g, size_t var);
PG_API size_t pg_og_n_values(const pg_og *g, size_t var);
PG_API const char *pg_og_value_label(const pg_og *g, size_t var, size_t value);
/* Node by name, or PG_OG_NONE. */
PG_API pg_og_node pg_og_find(const pg_og *g, const char *name);
PG_API pg_og_kind pg_og_node_kind(const pg_og *g, pg_og_node node);
PG_API const char *pg_og_node_name(const pg_og *g, pg_og_node node);
/* Decisions in play order (after pg_og_set_root). */
PG_API size_t pg_og_n_decisions(const pg_og *g);
PG_API pg_og_node pg_og_decision_at(const pg_og *g, size_t k);
/* A decision's player, number of actions (values of its output) and of observations (product
 * of the observed variables' value counts; 1 when it observes nothing). */
PG_API size_t pg_og_decision_player(const pg_og *g, pg_og_node decision);
PG_API size_t pg_og_n_actions(const pg_og *g, pg_og_node decision);
PG_API size_t pg_og_n_observations(const pg_og *g, pg_og_node decision);
/* The label of a decision's action (borrowed; NULL when out of range). */
PG_API const char *pg_og_action_label(const pg_og *g, pg_og_node decision, size_t action);
/* Observation index of the observed values (row-major, like tables), and its label: the values'
 * labels joined by ", " ("" when the decision observes nothing). Writes at most size bytes. */
PG_API size_t pg_og_observation_index(const pg_og *g, pg_og_node decision, const int *observed);
PG_API void pg_og_observation_label(const pg_og *g, pg_og_node decision, size_t obs, char *buf,
                                    size_t size);

/* ---------------------------------------------------------------- strategy profiles */

/* A strategy for every decision of one game: a table of mixed actions per observation, or a
 * function. Borrows the game, which must outlive the profile. New profiles play uniformly. */
typedef struct pg_og_profile pg_og_profile;

PG_API int pg_og_profile_new(pg_og_profile **out, const pg_og *g, pg_error *err);
PG_API void pg_og_profile_free(pg_og_profile *p);
PG_API int pg_og_profile_copy(pg_og_profile *dst, const pg_og_profile *src, pg_error *err);
PG_API const pg_og *pg_og_profile_game(const pg_og_profile *p);
/* Sets a pure action or a mixed action (n_actions probabilities, copied) at one observation
 * or at every observation (obs = PG_OG_ALL). Replaces a function strategy by a table. */
PG_API int pg_og_profile_set_pure(pg_og_profile *p, pg_og_node decision, size_t obs, size_t action,
                                  pg_error *err);
PG_API int pg_og_profile_set_mixed(pg_og_profile *p, pg_og_node decision, size_t obs,
                                   const double *probs, pg_error *err);
/* Strategy as a function (borrows ud). */
PG_API int pg_og_profile_set_fn(pg_og_profile *p, pg_og_node decision, pg_og_strategy_cb fn,
                                void *ud, pg_error *err);
/* The mixed action at an observation (n_actions probabilities into probs, caller owns). */
PG_API int pg_og_profile_get(const pg_og_profile *p, pg_og_node decision, size_t obs, double *probs,
                             pg_error *err);

/* ---------------------------------------------------------------- play */

/* Expected total payoff of every player (n_players numbers into payoffs). */
PG_API int pg_og_evaluate(const pg_og_profile *p, double *payoffs, pg_error *err);
/* The distribution of complete histories: outcomes are the values of every variable (width
 * n_variables; -1 for a variable never written on that history). *out is new. */
PG_API int pg_og_play(const pg_og_profile *p, pg_dist **out, pg_error *err);
/* One sampled play: the history (n_variables values) and realised payoffs (n_players). */
PG_API int pg_og_sample(const pg_og_profile *p, pg_rng *rng, int *values, double *payoffs,
                        pg_error *err);

/* ---------------------------------------------------------------- equilibrium check */

typedef struct pg_og_observation_check {
    size_t obs;         /* observation index */
    char *label;        /* its label ("" when the decision observes nothing) */
    double probability; /* probability that the decision is reached with this observation */
    double payoff;      /* the player's expected continuation payoff from the decision on,
                           conditional on the observation, under the current strategies */
    size_t best_action; /* the best unilateral deviation (lowest index among ties) */
    char *best_label;
    double best_payoff; /* its expected continuation payoff */
    double gain;        /* best_payoff - payoff (>= 0) */
} pg_og_observation_check;

typedef struct pg_og_decision_check {
    char *decision; /* node name */
    char *player;
    double reach;       /* probability that the decision is reached at all */
    double payoff;      /* continuation payoff averaged over the reached observations */
    double best_payoff; /* same for the best deviation (the best action at each observation) */
    double gain;        /* best_payoff - payoff */
    bool ok;            /* gain <= tolerance at every reached observation */
    pg_og_observation_check *obs; /* the reached observations, in index order */
    size_t n_obs;
} pg_og_decision_check;

typedef struct pg_og_check {
    bool equilibrium; /* every decision ok */
    double max_gain;  /* largest gain over decisions and observations */
    double tolerance;
    pg_og_decision_check *decisions; /* in play order */
    size_t n_decisions;
} pg_og_check;

/* Checks the profile for a Nash equilibrium by unilateral deviation at every decision and every
 * observation reached with positive probability (observations off the path of play are not
 * checked, as in the open-game engine). A gain above tol (absolute, >= 0) fails. Fills *out
 * (caller clears it with pg_og_check_clear). */
PG_API int pg_og_check_equilibrium(const pg_og_profile *p, double tol, pg_og_check *out,
                                   pg_error *err);
PG_API void pg_og_check_clear(pg_og_check *c);

/* ---------------------------------------------------------------- learning in open games */

/* Proposes an equilibrium by learning: one learner per decision (states = observations, actions
 * = the decision's actions, rule and parameters from o; o's n_states/n_actions are ignored).
 * Each round samples a play under the learners' current policies; every decision reached learns
 * from its realised continuation payoff (Roth-Erev, Q-learning as a bandit) or from the exact
 * expected continuation payoff of each of its actions (regret matching, conditional regret,
 * fictitious play, best response). average (mean policies) and last (final policies) receive the
 * result when not NULL; both must be profiles of g. */
PG_API int pg_og_learn(const pg_og *g, const pg_learn_options *o, size_t rounds, pg_rng *rng,
                       pg_og_profile *average, pg_og_profile *last, pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
