/* The ledger in the shared library: the module ledger.so in the folder plurigrid/ beside
 * libplurigrid.so (src/core/loader.h), loaded at the first pg_ledger_ call that needs it, once
 * per process, so that a program that never uses a ledger never loads libsodium and SQLite. */
#include <pthread.h>

#include "core/loader.h"
#include "ledger/api.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const pgi_ledger_api *table;
static char why[4300];

static void
load(void)
{
    table = pgi_module_symbol("ledger.so", "pgi_ledger_table", why, sizeof why);
}

const pgi_ledger_api *
pgi_ledger_api_get(pg_error *err)
{
    pthread_once(&once, load);
    if (!table)
        pg_error_set(err, PG_EUNSUPPORTED,
                     "ledger: the ledger module could not be loaded: %s; reinstall plurigrid (it "
                     "needs libsodium and SQLite, Debian's libsodium23 and libsqlite3-0)",
                     why);
    return table;
}
