/* libFuzzer target for the ledger's op decoder (pg_ledger_op_decode). Each input is decoded twice:
 * as it is (nearly always refused: mutations break the signature), and with its author field set
 * to a test key and signed again by that key, so that the fuzzer explores the structure behind
 * the signature. A refusal must say why and return nothing. An accepted op must be canonical:
 * its id is BLAKE2b-256 of the bytes, its predecessors strictly ascending and within the limits,
 * and encoding what was decoded with the same key gives the same bytes (Ed25519 signatures are
 * deterministic). Nothing may crash, leak or trip a sanitizer. Its corpus
 * (tests/fuzz/corpus/ledger_op/: ops of every kind and record type) replays as a test. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OFF_AUTHOR 5 /* "PGL", version, kind */

static pg_ledger_key key;
static bool have_key;

static void
check_accepted(const uint8_t *bytes, size_t len, const pg_ledger_op *op, bool ours)
{
    pg_ledger_id h;
    crypto_generichash(h.b, sizeof h.b, bytes, len, NULL, 0);
    if (memcmp(h.b, op->id.b, sizeof h.b) != 0)
        abort(); /* the id is the hash of the encoding */
    if (op->n_preds > PG_LEDGER_MAX_PREDS || len > PG_LEDGER_MAX_OP)
        abort();
    for (size_t i = 1; i < op->n_preds; i++)
        if (pg_ledger_id_cmp(&op->preds[i - 1], &op->preds[i]) >= 0)
            abort(); /* strictly ascending */
    if (memcmp(bytes + len - PG_LEDGER_SIG_BYTES, op->sig, PG_LEDGER_SIG_BYTES) != 0)
        abort();
    if (op->payload.kind == PG_LEDGER_COUNTER &&
        (op->payload.delta > ((int64_t)1 << 53) || op->payload.delta < -((int64_t)1 << 53)))
        abort();
    if (!ours)
        return;
    /* encode what was decoded: the same bytes */
    uint8_t *again = NULL;
    size_t again_len = 0;
    pg_error err = {0};
    if (pg_ledger_op_encode(&key, op->preds, op->n_preds, &op->payload, &again, &again_len, &err) !=
        PG_OK)
        abort(); /* what decodes can be encoded */
    if (again_len != len || memcmp(again, bytes, len) != 0)
        abort(); /* and only one encoding decodes */
    free(again);
}

static void
decode(const uint8_t *bytes, size_t len, bool ours)
{
    pg_ledger_op *op = NULL;
    pg_error err = {0};
    int rc = pg_ledger_op_decode(bytes, len, &op, &err);
    if (rc != PG_OK) {
        if (op || !err.msg[0] || err.code == PG_OK)
            abort(); /* a refusal says why and returns nothing */
        return;
    }
    if (!op)
        abort();
    check_accepted(bytes, len, op, ours);
    pg_ledger_op_free(op);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!have_key) {
        uint8_t seed[32];
        memset(seed, 0x42, sizeof seed);
        pg_error err = {0};
        if (sodium_init() < 0 || pg_ledger_key_from_seed(&key, seed, &err) != PG_OK)
            abort();
        have_key = true;
    }
    decode(data, size, false);
    if (size < OFF_AUTHOR + PG_LEDGER_KEY_BYTES + PG_LEDGER_SIG_BYTES || size > PG_LEDGER_MAX_OP)
        return 0;
    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    memcpy(copy + OFF_AUTHOR, key.pk.b, PG_LEDGER_KEY_BYTES);
    crypto_sign_detached(copy + size - PG_LEDGER_SIG_BYTES, NULL, copy, size - PG_LEDGER_SIG_BYTES,
                         key.sk);
    decode(copy, size, true);
    free(copy);
    return 0;
}
