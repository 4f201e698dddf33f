/* The ledger's public functions in libplurigrid: each pg_ledger_X that needs libsodium or SQLite
 * forwards through the one table of api.h to pgi_ledger_X in the module ledger.so (loaded at the
 * first such call, so a program that never uses a ledger never loads either library; the static
 * library has it built in). The few functions that need neither (hex, parsing, the order of ids,
 * options, wiping a key) are here. A function given an object (a ledger, an op) can only have been
 * given one the module made, so it finds the table loaded. */
#include <stdint.h>
#include <string.h>

#include "core/file.h"
#include "ledger/api.h"

/* ---------------------------------------------------------------- without the module */

void
pg_ledger_options_init(pg_ledger_options *o)
{
    memset(o, 0, sizeof *o);
    o->max_pending = 100000;
    o->max_pending_bytes = (size_t)64 << 20;
}

void
pg_ledger_hex(const void *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *b = bytes;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static int
nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int
parse32(const char *hex, uint8_t out[32], const char *what, pg_error *err)
{
    uint8_t b[32];
    size_t n = hex ? strlen(hex) : 0;
    if (n != 64)
        return pg_error_set(err, PG_EPARSE, "%s: expected 64 hex digits, got %zu characters", what,
                            n);
    for (size_t i = 0; i < 32; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return pg_error_set(err, PG_EPARSE, "%s: '%c' at position %zu is not a hex digit", what,
                                hi < 0 ? hex[2 * i] : hex[2 * i + 1],
                                hi < 0 ? 2 * i + 1 : 2 * i + 2);
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(out, b, 32);
    return PG_OK;
}

int
pg_ledger_pubkey_parse(const char *hex, pg_ledger_pubkey *out, pg_error *err)
{
    return parse32(hex, out->b, "public key", err);
}

int
pg_ledger_id_parse(const char *hex, pg_ledger_id *out, pg_error *err)
{
    return parse32(hex, out->b, "op id", err);
}

int
pg_ledger_id_cmp(const pg_ledger_id *a, const pg_ledger_id *b)
{
    return memcmp(a->b, b->b, sizeof a->b);
}

void
pg_ledger_key_wipe(pg_ledger_key *k)
{
    /* Through a volatile pointer, so the stores are not dropped as dead. */
    volatile uint8_t *p = (volatile uint8_t *)k;
    for (size_t i = 0; i < sizeof *k; i++)
        p[i] = 0;
}

/* ---------------------------------------------------------------- forwarded to the module */

#define FWD(call, fail)                                                                            \
    do {                                                                                           \
        const pgi_ledger_api *t = pgi_ledger_api_get(err);                                         \
        return t ? t->call : (fail);                                                               \
    } while (0)
/* For functions without an error object: their argument was made by the module, so it is loaded. */
#define FWD0(call, fail)                                                                           \
    do {                                                                                           \
        const pgi_ledger_api *t = pgi_ledger_api_get(NULL);                                        \
        return t ? t->call : (fail);                                                               \
    } while (0)
#define FWDV(call)                                                                                 \
    do {                                                                                           \
        const pgi_ledger_api *t = pgi_ledger_api_get(NULL);                                        \
        if (t)                                                                                     \
            t->call;                                                                               \
    } while (0)

int
pg_ledger_key_generate(pg_ledger_key *out, pg_error *err)
{
    FWD(key_generate(out, err), PG_EUNSUPPORTED);
}

int
pg_ledger_key_from_seed(pg_ledger_key *out, const uint8_t seed[32], pg_error *err)
{
    FWD(key_from_seed(out, seed, err), PG_EUNSUPPORTED);
}

int
pg_ledger_key_read(const char *path, pg_ledger_key *out, pg_error *err)
{
    FWD(key_read(path, out, err), PG_EUNSUPPORTED);
}

int
pg_ledger_key_write(const char *path, const pg_ledger_key *k, pg_error *err)
{
    FWD(key_write(path, k, pgi_output_open_private, err), PG_EUNSUPPORTED);
}

int
pg_ledger_op_encode(const pg_ledger_key *k, const pg_ledger_id *preds, size_t n_preds,
                    const pg_ledger_payload *p, uint8_t **op, size_t *len, pg_error *err)
{
    FWD(op_encode(k, preds, n_preds, p, op, len, err), PG_EUNSUPPORTED);
}

int
pg_ledger_op_decode(const void *op, size_t len, pg_ledger_op **out, pg_error *err)
{
    FWD(op_decode(op, len, out, err), PG_EUNSUPPORTED);
}

void
pg_ledger_op_free(pg_ledger_op *op)
{
    if (op)
        FWDV(op_free(op));
}

int
pg_ledger_open(pg_ledger **out, const char *path, const void *genesis, size_t genesis_len,
               const pg_ledger_options *o, pg_error *err)
{
    FWD(open(out, path, genesis, genesis_len, o, err), PG_EUNSUPPORTED);
}

void
pg_ledger_close(pg_ledger *l)
{
    if (l)
        FWDV(close(l));
}

int
pg_ledger_append(pg_ledger *l, const pg_ledger_key *k, const pg_ledger_payload *p, pg_ledger_id *id,
                 pg_error *err)
{
    FWD(append(l, k, p, id, err), PG_EUNSUPPORTED);
}

int
pg_ledger_ingest(pg_ledger *l, const void *const *ops, const size_t *lens, size_t n,
                 pg_ledger_ingest_stats *st, pg_error *err)
{
    FWD(ingest(l, ops, lens, n, st, err), PG_EUNSUPPORTED);
}

const char *
pg_ledger_community(const pg_ledger *l)
{
    FWD0(community(l), NULL);
}

void
pg_ledger_genesis_id(const pg_ledger *l, pg_ledger_id *out)
{
    FWDV(genesis_id(l, out));
}

size_t
pg_ledger_count(const pg_ledger *l)
{
    FWD0(count(l), 0);
}

int
pg_ledger_heads(const pg_ledger *l, pg_ledger_id *out, size_t max, size_t *n_heads, pg_error *err)
{
    FWD(heads(l, out, max, n_heads, err), PG_EUNSUPPORTED);
}

int
pg_ledger_heads_digest(const pg_ledger *l, pg_ledger_id *out, pg_error *err)
{
    FWD(heads_digest(l, out, err), PG_EUNSUPPORTED);
}

int
pg_ledger_state_digest(const pg_ledger *l, pg_ledger_id *out, pg_error *err)
{
    FWD(state_digest(l, out, err), PG_EUNSUPPORTED);
}

bool
pg_ledger_has(const pg_ledger *l, const pg_ledger_id *id)
{
    FWD0(has(l, id), false);
}

int
pg_ledger_get(pg_ledger *l, const pg_ledger_id *id, uint8_t **op, size_t *len, pg_error *err)
{
    FWD(get(l, id, op, len, err), PG_EUNSUPPORTED);
}

int
pg_ledger_each(pg_ledger *l, uint64_t after_seq, int (*fn)(void *ud, const pg_ledger_op *op),
               void *ud, pg_error *err)
{
    FWD(each(l, after_seq, fn, ud, err), PG_EUNSUPPORTED);
}

int
pg_ledger_each_record(pg_ledger *l, pg_ledger_record_type type, uint32_t interval,
                      int (*fn)(void *ud, const pg_ledger_op *op), void *ud, pg_error *err)
{
    FWD(each_record(l, type, interval, fn, ud, err), PG_EUNSUPPORTED);
}

size_t
pg_ledger_members(const pg_ledger *l, pg_ledger_member *out, size_t max)
{
    FWD0(members(l, out, max), 0);
}

const char *
pg_ledger_member_name(const pg_ledger *l, const pg_ledger_pubkey *key)
{
    FWD0(member_name(l, key), NULL);
}

int
pg_ledger_register_get(pg_ledger *l, const pg_ledger_pubkey *author, const char *name, void **value,
                       size_t *len, pg_error *err)
{
    FWD(register_get(l, author, name, value, len, err), PG_EUNSUPPORTED);
}

int64_t
pg_ledger_counter_get(const pg_ledger *l, const char *name)
{
    FWD0(counter_get(l, name), 0);
}

void
pg_ledger_get_stats(const pg_ledger *l, pg_ledger_stats *s)
{
    const pgi_ledger_api *t = pgi_ledger_api_get(NULL);
    if (t)
        t->get_stats(l, s);
    else
        memset(s, 0, sizeof *s);
}

int
pg_ledger_verify_file(const char *path, const pg_ledger_checker *checker,
                      pg_ledger_verify_report *rep, pg_error *err)
{
    FWD(verify_file(path, checker, rep, err), PG_EUNSUPPORTED);
}

void
pg_ledger_verify_report_free(pg_ledger_verify_report *rep)
{
    if (rep && rep->problems)
        FWDV(verify_report_free(rep));
}

int
pg_ledger_show(pg_ledger *l, bool json, char **text, pg_error *err)
{
    FWD(show(l, json, text, err), PG_EUNSUPPORTED);
}

int
pg_ledger_export(pg_ledger *l, bool json, char **text, pg_error *err)
{
    FWD(export_(l, json, text, err), PG_EUNSUPPORTED);
}

int
pg_ledger_verify_report_text(const pg_ledger_verify_report *rep, bool json, char **text,
                             pg_error *err)
{
    FWD(verify_report_text(rep, json, text, err), PG_EUNSUPPORTED);
}

void
pg_ledger_net_options_init(pg_ledger_net_options *o)
{
    const pgi_ledger_api *t = pgi_ledger_api_get(NULL);
    if (t)
        t->net_options_init(o);
    else
        memset(o, 0, sizeof *o);
}

int
pg_ledger_net_new(pg_ledger_net **out, pg_ledger *l, pg_bus *b, const pg_ledger_net_options *o,
                  pg_error *err)
{
    FWD(net_new(out, l, b, o, err), PG_EUNSUPPORTED);
}

void
pg_ledger_net_free(pg_ledger_net *n)
{
    if (n)
        FWDV(net_free(n));
}

int
pg_ledger_net_publish(pg_ledger_net *n, const pg_ledger_id *id, pg_error *err)
{
    FWD(net_publish(n, id, err), PG_EUNSUPPORTED);
}

int
pg_ledger_net_reconcile(pg_ledger_net *n, const char *peer, pg_error *err)
{
    FWD(net_reconcile(n, peer, err), PG_EUNSUPPORTED);
}

int
pg_ledger_net_step(pg_ledger_net *n, double now, pg_error *err)
{
    FWD(net_step(n, now, err), PG_EUNSUPPORTED);
}

bool
pg_ledger_net_idle(const pg_ledger_net *n)
{
    FWD0(net_idle(n), true);
}

int
pg_ledger_net_sync(pg_ledger_net *n, const char *peer, double timeout_s, pg_error *err)
{
    FWD(net_sync(n, peer, timeout_s, err), PG_EUNSUPPORTED);
}

void
pg_ledger_net_get_stats(const pg_ledger_net *n, pg_ledger_net_stats *s)
{
    const pgi_ledger_api *t = pgi_ledger_api_get(NULL);
    if (t)
        t->net_get_stats(n, s);
    else
        memset(s, 0, sizeof *s);
}
