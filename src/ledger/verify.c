/* Verifying a ledger file from scratch: placeholder. */
#include <stdlib.h>
#include <string.h>

#include "ledger/internal.h"

int
pgi_ledger_verify_file(const char *path, const pg_ledger_checker *checker,
                       pg_ledger_verify_report *rep, pg_error *err)
{
    (void)path, (void)checker, (void)rep;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: not there yet");
}

void
pgi_ledger_verify_report_free(pg_ledger_verify_report *rep)
{
    free(rep->problems);
    memset(rep, 0, sizeof *rep);
}
