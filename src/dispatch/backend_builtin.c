/* The solver backend of the static library: the COIN-OR adapter is linked in. */
#include "dispatch/lp.h"

const pgi_lp_backend *
pgi_lp_backend_get(pg_error *err)
{
    (void)err;
    return &pgi_coin_backend;
}
