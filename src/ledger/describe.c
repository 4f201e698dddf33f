/* Show and export of a ledger: a placeholder until they land; both say they are not there yet. */
#include "ledger/internal.h"

int
pgi_ledger_show(pg_ledger *l, bool json, char **text, pg_error *err)
{
    (void)l, (void)json, (void)text;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: show is not there yet");
}

int
pgi_ledger_export(pg_ledger *l, bool json, char **text, pg_error *err)
{
    (void)l, (void)json, (void)text;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: export is not there yet");
}
