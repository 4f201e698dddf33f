/* The ledger object: placeholder. */
#include <string.h>

#include "ledger/internal.h"

#define NYI pg_error_set(err, PG_EUNSUPPORTED, "ledger: not there yet")

int
pgi_ledger_open(pg_ledger **out, const char *path, const void *genesis, size_t genesis_len,
                const pg_ledger_options *o, pg_error *err)
{
    (void)out, (void)path, (void)genesis, (void)genesis_len, (void)o;
    return NYI;
}
void
pgi_ledger_close(pg_ledger *l)
{
    (void)l;
}
int
pgi_ledger_append(pg_ledger *l, const pg_ledger_key *k, const pg_ledger_payload *p,
                  pg_ledger_id *id, pg_error *err)
{
    (void)l, (void)k, (void)p, (void)id;
    return NYI;
}
int
pgi_ledger_ingest(pg_ledger *l, const void *const *ops, const size_t *lens, size_t n,
                  pg_ledger_ingest_stats *st, pg_error *err)
{
    (void)l, (void)ops, (void)lens, (void)n, (void)st;
    return NYI;
}
const char *
pgi_ledger_community(const pg_ledger *l)
{
    (void)l;
    return "";
}
void
pgi_ledger_genesis_id(const pg_ledger *l, pg_ledger_id *out)
{
    (void)l;
    memset(out, 0, sizeof *out);
}
size_t
pgi_ledger_count(const pg_ledger *l)
{
    (void)l;
    return 0;
}
size_t
pgi_ledger_heads(const pg_ledger *l, pg_ledger_id *out, size_t max)
{
    (void)l, (void)out, (void)max;
    return 0;
}
void
pgi_ledger_heads_digest(const pg_ledger *l, pg_ledger_id *out)
{
    (void)l;
    memset(out, 0, sizeof *out);
}
void
pgi_ledger_state_digest(const pg_ledger *l, pg_ledger_id *out)
{
    (void)l;
    memset(out, 0, sizeof *out);
}
bool
pgi_ledger_has(const pg_ledger *l, const pg_ledger_id *id)
{
    (void)l, (void)id;
    return false;
}
int
pgi_ledger_get(pg_ledger *l, const pg_ledger_id *id, uint8_t **op, size_t *len, pg_error *err)
{
    (void)l, (void)id, (void)op, (void)len;
    return NYI;
}
int
pgi_ledger_each(pg_ledger *l, uint64_t after_seq, int (*fn)(void *ud, const pg_ledger_op *op),
                void *ud, pg_error *err)
{
    (void)l, (void)after_seq, (void)fn, (void)ud;
    return NYI;
}
int
pgi_ledger_each_record(pg_ledger *l, pg_ledger_record_type type, uint32_t interval,
                       int (*fn)(void *ud, const pg_ledger_op *op), void *ud, pg_error *err)
{
    (void)l, (void)type, (void)interval, (void)fn, (void)ud;
    return NYI;
}
size_t
pgi_ledger_members(const pg_ledger *l, pg_ledger_member *out, size_t max)
{
    (void)l, (void)out, (void)max;
    return 0;
}
const char *
pgi_ledger_member_name(const pg_ledger *l, const pg_ledger_pubkey *key)
{
    (void)l, (void)key;
    return NULL;
}
int
pgi_ledger_register_get(pg_ledger *l, const pg_ledger_pubkey *author, const char *name,
                        void **value, size_t *len, pg_error *err)
{
    (void)l, (void)author, (void)name, (void)value, (void)len;
    return NYI;
}
int64_t
pgi_ledger_counter_get(const pg_ledger *l, const char *name)
{
    (void)l, (void)name;
    return 0;
}
void
pgi_ledger_get_stats(const pg_ledger *l, pg_ledger_stats *s)
{
    (void)l;
    memset(s, 0, sizeof *s);
}
