/* Classic-game files inside the library: what the reader (reader.c) hands the analysis
 * (analyze.c): the game in the form its kind needs, its decisions as the file names
 * them, the profiles the file asks to check and the learning runs it asks for. */
#ifndef PG_GAME_INTERNAL_H
#define PG_GAME_INTERNAL_H

#include "plurigrid/game.h"

#define CG_FORMAT "plurigrid-game/1"

typedef enum cg_kind {
    CG_NORMAL_FORM = 1,
    CG_COURNOT = 2,
    CG_AUCTION = 3,
    CG_MARKOV = 4,
    CG_OPEN = 5,
} cg_kind;

/* A decision as profiles see it: observations (with labels) and actions (with labels). For
 * normal-form kinds it is a player with one observation; for Markov games a player observing
 * the state. A profile is a probs vector: for each decision, n_obs x n_actions probabilities,
 * decisions in order. */
typedef struct cg_decision {
    char *name;
    size_t n_obs;
    char **obs_labels;
    size_t n_actions;
    char **action_labels;
} cg_decision;

/* A profile named in the file. */
typedef struct cg_named {
    char *name;
    int expect; /* 1 equilibrium, 0 not, -1 no claim */
    double *probs;
} cg_named;

/* A learning run asked for (or the kind's default). */
typedef struct cg_run {
    pg_learn_options o; /* sizes are set per decision when the run is made */
    size_t rounds;
    bool average;     /* report the average policy (else the last one) */
    double tolerance; /* check tolerance for the learned profile */
    int expect;
} cg_run;

typedef struct cg_game {
    cg_kind kind;
    char *name;
    char *description;
    char *file;
    double tolerance;
    pg_nf *nf;          /* normal-form and Cournot */
    pg_og *og;          /* every kind but Markov */
    pg_mg *mg;          /* Markov */
    size_t start_state; /* Markov: where learning starts */
    double cournot_a, cournot_b;
    double *cournot_costs;
    size_t n_firms;
    cg_decision *dec;
    size_t n_dec;
    size_t n_probs; /* length of a profile */
    cg_named *profiles;
    size_t n_profiles;
    cg_run *runs;
    size_t n_runs;
} cg_game;

/* Reads a classic-game file's text. name is the file name used in errors. */
int pgi_cg_parse(const char *text, size_t len, const char *name, const pg_game_options *o,
                 cg_game **out, pg_error *err);
void pgi_cg_free(cg_game *g);

/* Offset of decision k's block in a profile. */
size_t pgi_cg_offset(const cg_game *g, size_t k);

/* Copies a profile vector into an open-game profile of g->og (decisions in play order) and back.
 * Probabilities are renormalised per observation (learned and enumerated vectors carry
 * rounding). */
int pgi_cg_to_og(const cg_game *g, const double *probs, pg_og_profile *p, pg_error *err);
int pgi_cg_from_og(const cg_game *g, const pg_og_profile *p, double *probs, pg_error *err);

/* Solves M Z = R for the n x nrhs matrix Z (all row-major; M is n x n and destroyed, R is
 * overwritten by Z) by Gaussian elimination with partial pivoting. Returns false when a pivot is
 * smaller than tiny in magnitude: M is singular for the purpose at hand. For the small dense
 * systems of equilibrium and policy evaluation (nash.c, markov.c). */
bool pgi_solve_dense(double *M, double *R, size_t n, size_t nrhs, double tiny);

#endif
