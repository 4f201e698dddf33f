/* Classic games: finite games in normal (strategic) form with their pure and mixed equilibria,
 * learning in their repeated play, Cournot oligopolies on a quantity grid, sealed-bid auctions as
 * open games, discounted Markov games with exact policy values, a subgame-perfection check and
 * learning, and the classic-game file format "plurigrid-game/1" (docs/open-games.md) with its
 * analysis report. Built on open games (opengame.h): every classic game is checked for
 * equilibrium as an open game. Learning draws from the caller's pg_rng (rng.h) with the learners
 * of learn.h; an active-inference player (aif.h) can play a two-player normal-form game.
 *
 * Objects are not shared between threads by the library; distinct objects may be used
 * concurrently. */
#ifndef PLURIGRID_GAME_H
#define PLURIGRID_GAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/aif.h"
#include "plurigrid/core.h"
#include "plurigrid/learn.h"
#include "plurigrid/opengame.h"
#include "plurigrid/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* An active-inference player (aif.h, pg_aif_game_new) for `player` (0 or 1) of a two-player
 * game, the other player being the opponent, preferring outcomes by beta x its payoff. opts may
 * be NULL for pg_aif_game_new's defaults. Borrows g; *out is a new agent (pg_aif_free). */
PG_API int pg_nf_aif_new(pg_aif **out, const pg_nf *g, size_t player, double beta,
                         const pg_aif_options *opts, pg_error *err);

/* Cournot oligopoly with inverse demand P = max(0, a - b Q) and unit costs c_i: firm i chooses
 * q_i from the grid 0, q_max/n_steps, ..., q_max and earns q_i (P - c_i). Players are "firm1",
 * ... ; action labels are the quantities. */
PG_API int pg_nf_cournot(pg_nf **out, double a, double b, const double *costs, size_t n_firms,
                         double q_max, size_t n_steps, pg_error *err);
/* The closed-form interior Cournot equilibrium q_i = (a - (n+1) c_i + sum c) / ((n+1) b). */
PG_API void pg_nf_cournot_equilibrium(double a, double b, const double *costs, size_t n_firms,
                                      double *q);

/* Sealed-bid auctions with independent private values drawn from a discrete prior. */
typedef enum pg_game_auction_rule {
    PG_GAME_AUCTION_FIRST_PRICE = 1,  /* the highest bid wins and pays its bid */
    PG_GAME_AUCTION_SECOND_PRICE = 2, /* the highest bid wins and pays the highest other bid */
} pg_game_auction_rule;

/* The Bayesian auction as an open game: nature draws each bidder's value ("value1", ...) from
 * prior (n_values probabilities over values), bidder i ("bidder1", ...) observes its own value
 * and bids from bids; ties are broken uniformly at random; the winner earns value - price,
 * the others 0. Decisions are named "bid1", .... */
PG_API int pg_game_auction(pg_og **out, pg_game_auction_rule rule, size_t n_bidders,
                           const double *values, size_t n_values, const double *prior,
                           const double *bids, size_t n_bids, pg_error *err);

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

/* Most rounds of one learning run (steps for a Markov game), in a file ("rounds") and in
 * pg_game_options.rounds alike. */
#define PG_GAME_MAX_ROUNDS ((size_t)100000000)

/* Progress of the learning runs: what (the run in words: "regret-matching, learning run 1 of
 * 2"), done of total rounds (steps for a Markov game). */
typedef void (*pg_game_progress_fn)(const char *what, size_t done, size_t total, void *ud);

typedef struct pg_game_options {
    uint64_t seed;       /* learning runs: default 1 */
    size_t rounds;       /* learning rounds, 1 to PG_GAME_MAX_ROUNDS; 0 (default) = each run's
                            own or the kind's default */
    double tolerance;    /* equilibrium check, absolute payoff; default 1e-9 */
    bool learning;       /* run the learning dynamics (default true) */
    size_t max_profiles; /* pure-profile enumeration limit, default 100000 */
    /* Called from the calling thread about every 1% of each learning run and at its end; NULL
     * (the default) for none. */
    pg_game_progress_fn progress;
    void *progress_ud;
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

/* True when the first len bytes of text are a JSON object whose "format" is "plurigrid-game/1",
 * so that a program that has read a file once (pg_input_read) can tell classic games from
 * scenario files. False for anything else, text that is not JSON included. Borrows text. */
PG_API bool pg_game_text_is_classic(const char *text, size_t len);
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
