/* The ledger on the lattice (pg_ledger_net): a placeholder until reconciliation lands; every
 * function says it is not there yet. */
#include <string.h>

#include "ledger/internal.h"

void
pgi_ledger_net_options_init(pg_ledger_net_options *o)
{
    memset(o, 0, sizeof *o);
}

int
pgi_ledger_net_new(pg_ledger_net **out, pg_ledger *l, pg_bus *b, const pg_ledger_net_options *o,
                   pg_error *err)
{
    (void)out, (void)l, (void)b, (void)o;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: reconciliation is not there yet");
}

void
pgi_ledger_net_free(pg_ledger_net *n)
{
    (void)n;
}

int
pgi_ledger_net_publish(pg_ledger_net *n, const pg_ledger_id *id, pg_error *err)
{
    (void)n, (void)id;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: reconciliation is not there yet");
}

int
pgi_ledger_net_reconcile(pg_ledger_net *n, const char *peer, pg_error *err)
{
    (void)n, (void)peer;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: reconciliation is not there yet");
}

int
pgi_ledger_net_step(pg_ledger_net *n, double now, pg_error *err)
{
    (void)n, (void)now;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: reconciliation is not there yet");
}

bool
pgi_ledger_net_idle(const pg_ledger_net *n)
{
    (void)n;
    return true;
}

int
pgi_ledger_net_sync(pg_ledger_net *n, const char *peer, double timeout_s, pg_error *err)
{
    (void)n, (void)peer, (void)timeout_s;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: reconciliation is not there yet");
}

void
pgi_ledger_net_get_stats(const pg_ledger_net *n, pg_ledger_net_stats *s)
{
    (void)n;
    memset(s, 0, sizeof *s);
}
