/* The secure-aggregation engine in the shared library: the module privacy.so in the folder
 * plurigrid/ beside libplurigrid.so (src/core/loader.h), loaded at the first
 * pgi_privacy_engine_get, once per process, so that a program that never aggregates never loads
 * libsodium. */
#include <pthread.h>

#include "core/loader.h"
#include "privacy/internal.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const pgi_privacy_engine *table;
static char why[4300];

static void
load(void)
{
    table = pgi_module_symbol("privacy.so", "pgi_privacy_engine_table", why, sizeof why);
}

const pgi_privacy_engine *
pgi_privacy_engine_get(pg_error *err)
{
    pthread_once(&once, load);
    if (!table)
        pg_error_set(err, PG_EUNSUPPORTED,
                     "privacy: the secure-aggregation module could not be loaded: %s; reinstall "
                     "plurigrid (it needs libsodium, Debian's libsodium23)",
                     why);
    return table;
}
