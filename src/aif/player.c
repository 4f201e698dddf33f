/* The active-inference player of repeated two-player matrix games (see aif.h): one hidden factor,
 * the last round's outcome (own action, opponent's action); the transition to the next outcome
 * puts the agent's chosen action in place with certainty and learns the opponent's next action
 * from experience, starting from "anything is possible"; the outcome is observed exactly and
 * preferred by beta x payoff. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/aif.h"

void
pg_aif_game_spec_init(pg_aif_game_spec *s)
{
    memset(s, 0, sizeof *s);
    s->beta = 1.0;
}

size_t
pg_aif_game_outcome(const pg_aif_game_spec *s, size_t mine, size_t theirs)
{
    return mine * s->n_opponent + theirs;
}

int
pg_aif_game_new(pg_aif **out, const pg_aif_game_spec *sp, const pg_aif_options *opts, pg_error *err)
{
    if (!out || !sp || !sp->payoff)
        return pg_error_set(err, PG_EINVAL, "pg_aif_game_new: out, spec or payoff is NULL");
    const size_t na = sp->n_actions, no = sp->n_opponent;
    if (na < 1 || no < 1 || na > 64 || no > 64)
        return pg_error_set(err, PG_EINVAL,
                            "a repeated game needs 1 to 64 actions for each player (got %zu and "
                            "%zu)",
                            na, no);
    if (!isfinite(sp->beta))
        return pg_error_set(err, PG_EINVAL, "beta must be a finite number");
    for (size_t i = 0; i < na * no; i++)
        if (!isfinite(sp->payoff[i]))
            return pg_error_set(err, PG_EINVAL, "payoff %zu is not a finite number", i);
    const size_t n = na * no;
    double *B = calloc(na * n * n, sizeof *B), *A = calloc(n * n, sizeof *A);
    double *C = malloc(n * sizeof *C);
    int rc = PG_ENOMEM;
    if (!B || !A || !C)
        goto out;
    for (size_t a = 0; a < na; a++)
        for (size_t prev = 0; prev < n; prev++)
            for (size_t o = 0; o < no; o++)
                B[(a * n + a * no + o) * n + prev] = 1.0 / (double)no;
    for (size_t s = 0; s < n; s++) {
        A[s * n + s] = 1;
        C[s] = sp->beta * sp->payoff[s];
    }
    pg_aif_options o;
    if (opts) {
        o = *opts;
    } else {
        /* Sampling keeps trying actions the model knows little about; with argmax a player can
         * lock into a cycle whose alternatives it never tests. */
        pg_aif_options_init(&o);
        o.policy_depth = 2;
        o.gamma = 8;
        o.action_selection = PG_AIF_SAMPLE;
        o.learn_B_rate = 1;
        o.B_concentration = 1;
    }
    const size_t ns[1] = {n};
    const double *Bs[1] = {B}, *As[1] = {A}, *Cs[1] = {C};
    pg_aif_model m = {.n_factors = 1,
                      .n_states = ns,
                      .n_actions = na,
                      .B = Bs,
                      .n_modalities = 1,
                      .n_obs = ns,
                      .A = As,
                      .C = Cs,
                      .D = NULL};
    rc = pg_aif_new(out, &m, &o, err);
out:
    free(B);
    free(A);
    free(C);
    if (rc == PG_ENOMEM)
        pg_error_set(err, rc, "out of memory");
    return rc;
}
