/* The open-game evaluation engine shared by play, the equilibrium check and learning: scratch
 * space per step, the memo of continuation utilities, and the forward and backward primitives. */
#ifndef PG_OPENGAME_EVAL_H
#define PG_OPENGAME_EVAL_H

#include "opengame/internal.h"

/* Distinct histories one evaluation may hold (in a history distribution or in the memo) before it
 * gives up with PG_ELIMIT, a guard against games that grow exponentially with their depth: about
 * 32 MB of stored variable values. */
#define PGI_OG_MAX_CELLS ((size_t)1 << 23)
#define PGI_OG_MAX_HISTORIES(g) (PGI_OG_MAX_CELLS / ((g)->n_vars + 1))

/* One evaluation of one profile. Not shared between threads. The memo is valid only while the
 * profile does not change; pgi_og_eval_reset forgets it. */
typedef struct pgi_og_eval {
    const pg_og *g;
    const pg_og_profile *p;
    pg_error *err;
    size_t np;    /* players */
    size_t key_w; /* memo key: step, then every variable */
    int *keys;    /* n_memo x key_w */
    double *vals; /* n_memo x np */
    size_t n_memo, cap_memo;
    size_t *slots; /* hash index: entry + 1, 0 = empty */
    size_t nslots;
    double *probs; /* per step: max_values */
    int *in;       /* per step: max_inputs */
    double *u;     /* per step (and one spare): np */
    int *key;
} pgi_og_eval;

int pgi_og_eval_init(pgi_og_eval *ev, const pg_og_profile *p, pg_error *err);
void pgi_og_eval_reset(pgi_og_eval *ev);
void pgi_og_eval_clear(pgi_og_eval *ev);

/* The distribution of the history before step 0: every variable unset (-1). */
int pgi_og_initial(const pg_og *g, pg_dist **out, pg_error *err);
/* Mixed action / nature draw of step i (a decision or nature node) given the history. */
int pgi_og_branch_probs(pgi_og_eval *ev, size_t i, const int *state, double *probs);
/* Value written by the forward function at step i. */
int pgi_og_forward_value(pgi_og_eval *ev, size_t i, const int *state, int *value);
/* Applies step i's backward effect (payoff, backward function, discount; nothing for others)
 * to the continuation utility u, seeing the history before the step. */
int pgi_og_backward(pgi_og_eval *ev, size_t i, const int *state, double *u);
/* Every player's expected utility from step i on, given the history before step i. state is
 * restored before returning. */
int pgi_og_value(pgi_og_eval *ev, size_t i, int *state, double *out);
/* Pushes the history distribution through step i. */
int pgi_og_push(pgi_og_eval *ev, size_t i, const pg_dist *in, pg_dist *out);
/* Samples one play: hist receives the history before each step and at the end ((n_steps + 1) x
 * max(n_vars, 1) ints), payoffs the realised utilities, after (when not NULL, n_steps x np) the
 * realised utility from step i + 1 on. */
int pgi_og_sample_path(pgi_og_eval *ev, pg_rng *rng, int *hist, double *payoffs, double *after);

#endif
