/* Signing keys: libsodium's initialisation, Ed25519 keys (fresh or from a seed), key files. */
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "ledger/internal.h"

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status;

static void
sodium_start(void)
{
    sodium_status = sodium_init() < 0 ? -1 : 0;
}

int
pgi_ledger_sodium(pg_error *err)
{
    pthread_once(&sodium_once, sodium_start);
    if (sodium_status < 0)
        return pg_error_set(err, PG_EUNSUPPORTED, "ledger: libsodium could not be initialised");
    return PG_OK;
}

int
pgi_ledger_key_generate(pg_ledger_key *out, pg_error *err)
{
    (void)out;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: not there yet");
}

int
pgi_ledger_key_from_seed(pg_ledger_key *out, const uint8_t seed[32], pg_error *err)
{
    (void)out, (void)seed;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: not there yet");
}

int
pgi_ledger_key_read(const char *path, pg_ledger_key *out, pg_error *err)
{
    (void)path, (void)out;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: not there yet");
}

int
pgi_ledger_key_write(const char *path, const pg_ledger_key *k, pg_error *err)
{
    (void)path, (void)k;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: not there yet");
}
