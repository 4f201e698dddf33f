/* Games: finite distributions with Bayesian conditioning, open games after Ghani, Hedges,
 * Winschel and Zahn ("Compositional game theory", 2016) with an equilibrium check by unilateral
 * deviation, normal-form and Markov games with their solvers, and the classic-game file format
 * (docs/open-games.md) with an analysis report.
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
 * Everything is deterministic: functions that draw take the caller's pg_rng (learn.h). Objects
 * are not shared between threads by the library; distinct objects may be used concurrently, and a
 * finished pg_og may be read (evaluated, checked) by several threads at once. */
#ifndef PLURIGRID_GAME_H
#define PLURIGRID_GAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/learn.h"

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

/* ================================================================ normal-form games */

/* A finite game in normal (strategic) form: players with named actions and a payoff vector for
 * every action profile. */
typedef struct pg_nf pg_nf;

/* Creates a game with all payoffs 0. Copies names; actions are labelled "0", "1", ... */
PG_API int pg_nf_new(pg_nf **out, const char *name, size_t n_players, const char *const *players,
                     const size_t *n_actions, pg_error *err);
PG_API void pg_nf_free(pg_nf *g);
PG_API int pg_nf_set_action_label(pg_nf *g, size_t player, size_t action, const char *label,
                                  pg_error *err);
/* Payoffs of one action profile (profile: one action per player; payoffs: one per player). */
PG_API int pg_nf_set_payoffs(pg_nf *g, const size_t *profile, const double *payoffs, pg_error *err);
PG_API double pg_nf_payoff(const pg_nf *g, const size_t *profile, size_t player);
PG_API const char *pg_nf_name(const pg_nf *g);
PG_API size_t pg_nf_n_players(const pg_nf *g);
PG_API const char *pg_nf_player(const pg_nf *g, size_t player);
PG_API size_t pg_nf_n_actions(const pg_nf *g, size_t player);
PG_API const char *pg_nf_action(const pg_nf *g, size_t player, size_t action);
/* Total number of actions over players: the length of a mixed profile, which lists each
 * player's action probabilities in player order. */
PG_API size_t pg_nf_profile_size(const pg_nf *g);

/* Expected payoffs of a mixed profile, and each player's gain from its best pure deviation. */
PG_API int pg_nf_expected(const pg_nf *g, const double *mixed, double *payoffs, pg_error *err);
PG_API int pg_nf_gains(const pg_nf *g, const double *mixed, double *gains, pg_error *err);

/* The open game of simultaneous play: one decision per player (named after the player) in
 * parallel, then one payoff node. Variables are named after the players too. */
PG_API int pg_nf_to_og(const pg_nf *g, pg_og **out, pg_error *err);

/* Every pure Nash equilibrium (no player gains more than tol by deviating): *profiles receives
 * n x n_players actions (malloc'd, caller frees; NULL when n is 0). */
PG_API int pg_nf_pure_equilibria(const pg_nf *g, double tol, size_t **profiles, size_t *n,
                                 pg_error *err);
/* Every extreme Nash equilibrium of a two-player game, mixed ones included, by enumerating the
 * vertices of the two best-response polytopes (Avis, Rosenberg, Savani, von Stengel 2010):
 * complete for degenerate games too, whose equilibrium components are the convex hulls of
 * these. *equilibria receives n x pg_nf_profile_size() probabilities (caller frees). PG_ELIMIT
 * for games too large to enumerate this way (more than about a million bases). */
PG_API int pg_nf_bimatrix_equilibria(const pg_nf *g, double **equilibria, size_t *n, pg_error *err);
/* Equilibria of a two-player game by support enumeration (supports of equal size with a unique
 * indifference solution): every equilibrium of a nondegenerate game, found independently of
 * the vertex method. Same output convention. */
PG_API int pg_nf_support_equilibria(const pg_nf *g, double **equilibria, size_t *n, pg_error *err);

/* Learning in repeated play of a normal-form game. */
typedef struct pg_nf_learning {
    size_t rounds;
    double *average;   /* mean policies (profile size) */
    double *last;      /* final policies (profile size) */
    double *frequency; /* empirical action frequencies (profile size) */
    size_t *last_play; /* actions played in the final round (n_players) */
    double *joint;     /* empirical frequency of each action profile (row-major, player 0 most
                          significant), for correlated equilibria */
    size_t n_joint;
} pg_nf_learning;

/* Every player runs a learner with options o (sizes set per player) for `rounds` rounds of
 * sampled play; each learns from its realised payoff and, for rules that use them, the payoffs
 * of its other actions against the others' realised actions. Fills *out (caller clears). */
PG_API int pg_nf_learn(const pg_nf *g, const pg_learn_options *o, size_t rounds, pg_rng *rng,
                       pg_nf_learning *out, pg_error *err);
PG_API void pg_nf_learning_clear(pg_nf_learning *l);

/* Cournot oligopoly with inverse demand P = max(0, a - b Q) and unit costs c_i: firm i chooses
 * q_i from the grid 0, q_max/n_steps, ..., q_max and earns q_i (P - c_i). Players are "firm1",
 * ... ; action labels are the quantities. */
PG_API int pg_nf_cournot(pg_nf **out, double a, double b, const double *costs, size_t n_firms,
                         double q_max, size_t n_steps, pg_error *err);
/* The closed-form interior Cournot equilibrium q_i = (a - (n+1) c_i + sum c) / ((n+1) b). */
PG_API void pg_cournot_equilibrium(double a, double b, const double *costs, size_t n_firms,
                                   double *q);

/* Sealed-bid auctions with independent private values drawn from a discrete prior. */
typedef enum pg_auction_rule {
    PG_AUCTION_FIRST_PRICE = 1,  /* the highest bid wins and pays its bid */
    PG_AUCTION_SECOND_PRICE = 2, /* the highest bid wins and pays the highest other bid */
} pg_auction_rule;

/* The Bayesian auction as an open game: nature draws each bidder's value ("value1", ...) from
 * prior (n_values probabilities over values), bidder i ("bidder1", ...) observes its own value
 * and bids from bids; ties are broken uniformly at random; the winner earns value - price,
 * the others 0. Decisions are named "bid1", .... */
PG_API int pg_og_auction(pg_og **out, pg_auction_rule rule, size_t n_bidders, const double *values,
                         size_t n_values, const double *prior, const double *bids, size_t n_bids,
                         pg_error *err);

/* ================================================================ Markov games */

/* A finite discounted Markov (stochastic) game: in each state the players play a normal-form
 * stage game; the action profile gives stage payoffs and a distribution of the next state. */
typedef struct pg_mg pg_mg;

/* Creates a game with every stage payoff 0 and every transition staying in place. */
PG_API int pg_mg_new(pg_mg **out, const char *name, size_t n_players, const char *const *players,
                     const size_t *n_actions, size_t n_states, const char *const *states,
                     double discount, pg_error *err);
PG_API void pg_mg_free(pg_mg *g);
PG_API int pg_mg_set_action_label(pg_mg *g, size_t player, size_t action, const char *label,
                                  pg_error *err);
/* Stage payoffs (one per player) and next-state probabilities (n_states, summing to 1) of one
 * action profile in one state. */
PG_API int pg_mg_set(pg_mg *g, size_t state, const size_t *profile, const double *payoffs,
                     const double *next, pg_error *err);
PG_API size_t pg_mg_n_states(const pg_mg *g);
PG_API const char *pg_mg_state(const pg_mg *g, size_t state);
PG_API size_t pg_mg_n_players(const pg_mg *g);
PG_API const char *pg_mg_player(const pg_mg *g, size_t player);
PG_API size_t pg_mg_n_actions(const pg_mg *g, size_t player);
PG_API const char *pg_mg_action(const pg_mg *g, size_t player, size_t action);
PG_API double pg_mg_discount(const pg_mg *g);
/* A stationary policy lists, for each player in order, each state's action probabilities:
 * player i, state s, action a is at offset_i + s n_actions_i + a. */
PG_API size_t pg_mg_policy_size(const pg_mg *g);
PG_API size_t pg_mg_policy_offset(const pg_mg *g, size_t player);

/* Exact discounted values of a stationary policy: values[s n_players + i] (solves the linear
 * Bellman equations). */
PG_API int pg_mg_values(const pg_mg *g, const double *policy, double *values, pg_error *err);
/* Subgame-perfection check of a stationary policy by the one-shot deviation principle, done as
 * an open game: nature picks any state, the players observe it and play the stage game in
 * parallel, the payoff is the stage payoff plus the discounted value of the next state under the
 * policy. Every state is checked (decisions are named after the players). */
PG_API int pg_mg_check(const pg_mg *g, const double *policy, double tol, pg_og_check *out,
                       pg_error *err);
/* Independent learners (one per player, states = game states) play from start_state for `steps`
 * steps, learning from stage payoffs and next states (o->gamma is replaced by the game's
 * discount for Q-learning). greedy receives each learner's best action per state as a pure
 * policy (pg_mg_policy_size numbers) when not NULL. */
PG_API int pg_mg_learn(const pg_mg *g, const pg_learn_options *o, size_t steps, size_t start_state,
                       pg_rng *rng, double *greedy, pg_error *err);

/* ================================================================ classic-game files */

/* The file format "plurigrid-game/1" (docs/open-games.md) describes a normal-form game, a
 * Cournot duopoly/oligopoly, a sealed-bid auction, a Markov game or a general open game, with
 * profiles to check (optionally with the expected answer) and learning runs to make. */

typedef struct pg_game_options {
    uint64_t seed;       /* learning runs: default 1 */
    size_t rounds;       /* learning rounds; 0 (default) = each run's own or the kind's default */
    double tolerance;    /* equilibrium check, absolute payoff; default 1e-9 */
    bool learning;       /* run the learning dynamics (default true) */
    size_t max_profiles; /* pure-profile enumeration limit, default 100000 */
} pg_game_options;

PG_API void pg_game_options_init(pg_game_options *o);

typedef struct pg_game_profile_report {
    char *name;        /* "truthful", "pure equilibrium 1", "regret-matching average", ... */
    char *source;      /* "file", "enumeration", "vertex-enumeration", "learning" */
    char *description; /* the profile in words: "row: D; col: D", "row: 0.5 H + 0.5 T; ..." */
    int expect;        /* 1: the file expects an equilibrium, 0: expects none, -1: no claim */
    bool expectation_met;
    double *probs; /* every decision's mixed action at every observation, decisions in play
                      order (pg_og_n_decisions), observations in index order */
    size_t n_probs;
    pg_og_check check; /* the equilibrium check of this profile */
} pg_game_profile_report;

typedef struct pg_game_report {
    char *name;
    char *kind; /* "normal-form", "cournot", "auction", "markov", "open" */
    char *description;
    char *file;
    size_t n_pure;    /* pure equilibria found by enumeration (SIZE_MAX when not enumerated) */
    size_t n_extreme; /* extreme equilibria of a two-player game (SIZE_MAX: not computed) */
    pg_game_profile_report *profiles;
    size_t n_profiles;
    char **notes; /* closed-form answers, learning details, limits, one sentence each */
    size_t n_notes;
    size_t n_failed; /* expectations in the file that did not hold */
} pg_game_report;

/* Largest classic-game file pg_game_file_analyze() reads, bytes (64 MiB). */
#define PG_GAME_INPUT_MAX ((size_t)64 << 20)

/* True when path holds JSON whose "format" is "plurigrid-game/1" (so `plurigrid game` can tell
 * classic games from scenario files). False for anything else, unreadable files included. */
PG_API bool pg_game_file_is_classic(const char *path);
/* Reads a classic-game file, checks the profiles it names, enumerates equilibria where the kind
 * allows and runs the learning dynamics; *out is a new report (free with pg_game_report_free).
 * Errors name the file, line and JSON path. opts may be NULL for defaults. */
PG_API int pg_game_file_analyze(const char *path, const pg_game_options *opts, pg_game_report **out,
                                pg_error *err);
/* The same from text in memory; name is used in error messages. */
PG_API int pg_game_text_analyze(const char *text, size_t len, const char *name,
                                const pg_game_options *opts, pg_game_report **out, pg_error *err);
PG_API void pg_game_report_free(pg_game_report *r);
/* Renders a report as JSON or as text for people; *out is malloc'd (caller frees). */
PG_API int pg_game_report_json(const pg_game_report *r, char **out, pg_error *err);
PG_API int pg_game_report_text(const pg_game_report *r, char **out, pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
