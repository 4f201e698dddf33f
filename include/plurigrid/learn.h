/* Learning dynamics for repeated and Markov games: learners that keep a state/action value table
 * and turn it into a mixed strategy (a policy).
 *
 * Rules: unconditional regret matching (Hart and Mas-Colell 2001), conditional regret matching
 * (Hart and Mas-Colell 2000), fictitious play (and smooth fictitious play), best-response
 * dynamics, the modified Roth-Erev reinforcement of Nicolaisen, Petrov and Tesfatsion (2001), and
 * Q-learning (Watkins) for Markov games.
 *
 * Every learner is a plain object with no global state: one learner may be used by one thread at a
 * time, different learners by different threads at once. All randomness comes from a pg_rng
 * (rng.h) the caller passes in, so a run is a deterministic function of its seed. A learner sees
 * "states" (0 .. n_states-1: what the agent observes before it acts; use 1 state for a repeated
 * game without memory) and "actions" (0 .. n_actions-1).
 *
 * A round with a learner:
 *     pg_learner_draw(l, s, rng, &a);             pick an action from the current policy
 *     ... play a, observe the outcome ...
 *     fb.state = s; fb.action = a; fb.reward = r;  (and counterfactual / next_state as needed)
 *     pg_learner_update(l, &fb, err);
 */
#ifndef PLURIGRID_LEARN_H
#define PLURIGRID_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- learners */

typedef enum pg_learn_rule {
    /* Unconditional regret matching: play each action with probability proportional to the
     * positive part of its cumulative regret (what it would have earned minus what was earned).
     * The average policy approaches the set of coarse correlated equilibria; in two-player
     * zero-sum games it approaches a Nash equilibrium. Needs counterfactual payoffs. */
    PG_LEARN_REGRET_MATCHING = 1,
    /* Conditional (internal) regret matching: from the last action j switch to k with probability
     * proportional to the regret for having played j instead of k. The empirical distribution of
     * joint play approaches the set of correlated equilibria. Needs counterfactual payoffs. */
    PG_LEARN_CONDITIONAL_REGRET = 2,
    /* Fictitious play: best-respond to the opponents' empirical play, i.e. to the cumulative
     * counterfactual payoffs. temperature > 0 gives smooth (logit) fictitious play. Needs
     * counterfactual payoffs. */
    PG_LEARN_FICTITIOUS_PLAY = 3,
    /* Best-response dynamics: best-respond to the last round's counterfactual payoffs only. */
    PG_LEARN_BEST_RESPONSE = 4,
    /* Modified Roth-Erev reinforcement: propensities grow with the realised reward of the chosen
     * action, decay with recency, and spill a share (experimentation) to the other actions. Uses
     * the realised reward only; rewards should be >= 0 (propensities are kept >= 1e-9). */
    PG_LEARN_ROTH_EREV = 5,
    /* Q-learning: Q(s,a) += alpha (r + gamma max_b Q(s',b) - Q(s,a)); epsilon-greedy or Boltzmann
     * policy. Uses the realised reward and the next state. */
    PG_LEARN_Q_LEARNING = 6,
} pg_learn_rule;

/* "No state": the next_state of a step that ends an episode (Q-learning does not bootstrap). */
#define PG_LEARN_TERMINAL ((size_t)-1)

/* Progress of a long learning run: done of total rounds (or steps). */
typedef void (*pg_learn_progress_fn)(size_t done, size_t total, void *ud);

typedef struct pg_learn_options {
    pg_learn_rule rule;
    size_t n_states;  /* >= 1 */
    size_t n_actions; /* >= 1 */
    /* Exploration, every rule: with probability epsilon play uniformly at random. For fictitious
     * play, best response and Q-learning, temperature > 0 replaces the greedy choice by a logit
     * (Boltzmann) choice proportional to exp(value / temperature), fictitious play using average
     * rather than cumulative payoffs; Roth-Erev with temperature > 0 uses Gibbs-Boltzmann
     * probabilities over propensities instead of proportional ones. */
    double epsilon;
    double temperature;
    /* Q-learning: learning rate alpha in (0, 1] (alpha <= 0: 1/n, the sample average of the n
     * visits of (s, a)), discount gamma in [0, 1), initial Q value. */
    double alpha;
    double gamma;
    double initial_value;
    /* Roth-Erev: initial propensity (> 0), recency (forgetting) in [0, 1), experimentation in
     * [0, 1). */
    double initial_propensity;
    double recency;
    double experimentation;
    /* Conditional regret matching: the inertia mu (switching probabilities are regret / (t mu)).
     * <= 0: chosen automatically, 2 (n_actions - 1) times the largest payoff magnitude seen, which
     * keeps the probability of staying non-negative. */
    double inertia;
    /* Functions that run many rounds with these options (pg_og_learn in opengame.h, pg_nf_learn
     * and pg_mg_learn in game.h) call progress, when it is not NULL, from the calling thread
     * about every 1% of the rounds and after the last one. Learners themselves ignore it. */
    pg_learn_progress_fn progress;
    void *progress_ud;
} pg_learn_options;

/* Fills o with the defaults of a rule for n_states x n_actions: epsilon 0 and temperature 0 for
 * regret matching, fictitious play and best response; epsilon 0.1, alpha 0.1, gamma 0.95,
 * initial value 0 for Q-learning; initial propensity 1, recency 0.1, experimentation 0.1 for
 * Roth-Erev (experimentation / (n_actions - 1) at most recency keeps the propensities of
 * actions not taken from growing); automatic inertia. */
PG_API void pg_learn_options_init(pg_learn_options *o, pg_learn_rule rule, size_t n_states,
                                  size_t n_actions);

/* What a learner is told after acting once. */
typedef struct pg_learn_feedback {
    size_t state;                 /* state the action was taken in */
    size_t action;                /* action taken */
    double reward;                /* realised payoff */
    const double *counterfactual; /* n_actions payoffs each action would have earned against what
                                     the others actually did (counterfactual[action] is normally
                                     the reward); NULL when unknown. Required by regret matching,
                                     conditional regret, fictitious play and best response. */
    size_t next_state;            /* Q-learning: state reached, or PG_LEARN_TERMINAL */
} pg_learn_feedback;

/* Initialises fb: everything 0, counterfactual NULL, next_state PG_LEARN_TERMINAL. */
PG_API void pg_learn_feedback_init(pg_learn_feedback *fb);

typedef struct pg_learner pg_learner;

/* Creates a learner. Copies the options. Fails with PG_EINVAL for sizes of 0 or options out of
 * range (the message names the option). *out is written only on success. */
PG_API int pg_learner_new(pg_learner **out, const pg_learn_options *o, pg_error *err);
/* Frees a learner. Accepts NULL. */
PG_API void pg_learner_free(pg_learner *l);
/* Forgets everything learned (back to the state right after pg_learner_new). */
PG_API void pg_learner_reset(pg_learner *l);
/* The learner's rule name ("regret-matching", "conditional-regret", "fictitious-play",
 * "best-response", "roth-erev", "q-learning"); pg_learn_rule_parse() reads those names back. */
PG_API const char *pg_learn_rule_name(pg_learn_rule rule);
PG_API int pg_learn_rule_parse(const char *name, pg_learn_rule *rule);

/* Writes the current policy in state (n_actions probabilities summing to 1) into probs, which the
 * caller owns. PG_EINVAL when state is out of range. */
PG_API int pg_learner_policy(const pg_learner *l, size_t state, double *probs);
/* Draws an action from the current policy with the caller's generator. The learner is only read,
 * so concurrent draws on one learner are safe when each thread has its own rng. */
PG_API int pg_learner_draw(const pg_learner *l, size_t state, pg_rng *rng, size_t *action);
/* Learns from one step. Borrows fb (and its counterfactual array) for the call. PG_EINVAL for an
 * out-of-range state or action, a missing counterfactual the rule needs, or a non-finite number. */
PG_API int pg_learner_update(pg_learner *l, const pg_learn_feedback *fb, pg_error *err);

/* The mean of the policies in force at each update in state (n_actions probabilities; uniform
 * before the first update). This is what regret matching and fictitious play converge in. */
PG_API int pg_learner_average_policy(const pg_learner *l, size_t state, double *probs);
/* The value table row of state (n_actions numbers, borrowed, valid until the next update):
 * cumulative regrets (regret matching), cumulative counterfactual payoffs (fictitious play),
 * last counterfactual payoffs (best response), propensities (Roth-Erev), Q values (Q-learning),
 * cumulative regret for having played the last action instead of each action (conditional
 * regret; all zero before the first update). NULL for a bad state. */
PG_API const double *pg_learner_values(const pg_learner *l, size_t state);
/* The action with the largest value in state (lowest index on ties); the greedy action of
 * Q-learning. Returns 0 for a bad state. */
PG_API size_t pg_learner_best(const pg_learner *l, size_t state);
/* Number of updates seen in state, and how often each action was taken there (counts: n_actions
 * entries, caller owns). */
PG_API size_t pg_learner_visits(const pg_learner *l, size_t state);
PG_API int pg_learner_action_counts(const pg_learner *l, size_t state, size_t *counts);
/* The options the learner was made with (borrowed). */
PG_API const pg_learn_options *pg_learner_options(const pg_learner *l);

#ifdef __cplusplus
}
#endif
#endif
