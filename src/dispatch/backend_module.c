/* The solver backend of the shared library: the COIN-OR adapter is a module, coin.so, in the
 * folder plurigrid/ beside libplurigrid.so (found by the loader of src/core/loader.h). It is
 * loaded at the first solve, once per process, so that a program that only reads worlds or
 * solves power flows never loads COIN-OR's C++, LAPACK and BLAS runtimes (about 6 ms per process
 * start, measured in bench/RESULTS.md). */
#include <pthread.h>

#include "core/loader.h"
#include "dispatch/lp.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const pgi_lp_backend *backend;
static char why[4300];

static void
load(void)
{
    backend = pgi_module_symbol("coin.so", "pgi_coin_backend", why, sizeof why);
}

const pgi_lp_backend *
pgi_lp_backend_get(pg_error *err)
{
    pthread_once(&once, load);
    if (!backend)
        pg_error_set(err, PG_EUNSUPPORTED,
                     "the COIN-OR solver module could not be loaded: %s; reinstall plurigrid", why);
    return backend;
}
