/* The active-inference player of a two-player normal-form game: the repeated-game player of aif.h
 * (pg_aif_game_new) with its payoff matrix read from the game, the other player being the
 * opponent. */
#include <stdlib.h>

#include "plurigrid/aif.h"
#include "plurigrid/game.h"

int
pg_nf_aif_new(pg_aif **out, const pg_nf *g, size_t player, double beta, const pg_aif_options *opts,
              pg_error *err)
{
    if (!out || !g)
        return pg_error_set(err, PG_EINVAL, "pg_nf_aif_new: out or game is NULL");
    if (pg_nf_n_players(g) != 2)
        return pg_error_set(err, PG_EUNSUPPORTED,
                            "the active-inference player plays two-player games (this one has "
                            "%zu players)",
                            pg_nf_n_players(g));
    if (player > 1)
        return pg_error_set(err, PG_EINVAL, "player must be 0 or 1 (got %zu)", player);
    pg_aif_game_spec sp;
    pg_aif_game_spec_init(&sp);
    sp.n_actions = pg_nf_n_actions(g, player);
    sp.n_opponent = pg_nf_n_actions(g, 1 - player);
    sp.beta = beta;
    size_t cells = sp.n_actions * sp.n_opponent;
    double *pay = malloc((cells > 0 ? cells : 1) * sizeof *pay);
    if (!pay)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t a = 0; a < sp.n_actions; a++)
        for (size_t b = 0; b < sp.n_opponent; b++) {
            size_t profile[2];
            profile[player] = a;
            profile[1 - player] = b;
            pay[a * sp.n_opponent + b] = pg_nf_payoff(g, profile, player);
        }
    sp.payoff = pay;
    int rc = pg_aif_game_new(out, &sp, opts, err);
    free(pay);
    return rc;
}
