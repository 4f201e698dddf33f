/* Ops: the canonical encoding (docs/ledger.md "Ops"), signing and decoding. */
#include <sqlite3.h>
#include <stdlib.h>

#include "ledger/internal.h"

int
pgi_ledger_op_encode(const pg_ledger_key *k, const pg_ledger_id *preds, size_t n_preds,
                     const pg_ledger_payload *p, uint8_t **op, size_t *len, pg_error *err)
{
    (void)k, (void)preds, (void)n_preds, (void)p, (void)op, (void)len;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: not there yet");
}

int
pgi_ledger_op_decode(const void *op, size_t len, pg_ledger_op **out, pg_error *err)
{
    (void)op, (void)len, (void)out;
    return pg_error_set(err, PG_EUNSUPPORTED, "ledger: not there yet");
}

void
pgi_ledger_op_free(pg_ledger_op *op)
{
    free(op);
}
