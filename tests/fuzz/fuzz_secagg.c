/* libFuzzer target for the messages of secure aggregation (src/privacy/): the aggregator in each
 * of its five rounds and a member in each of its four waiting states are fed one message. The
 * first input byte picks the receiver (0..4: the aggregator collecting round 0..4; 5..8: member 0
 * waiting for KEYS, SHARES_FWD, CONSIST_REQ, UNMASK_REQ), the second says what to repair before
 * delivery so that the fuzzer explores the bodies behind the signature (bit 0: sign again with
 * the key the receiver expects; bit 1: set the round id; bit 2: set the body length), the rest is
 * the message. A refused message must say why and change nothing (a member may also abort, which
 * reveals nothing); an accepted one lets the aggregation go on. Nothing may crash, leak or trip a
 * sanitizer. Its corpus (tests/fuzz/corpus/secagg/: the real messages of every round of a
 * 3-member aggregation) replays as a test. */
#include <stdlib.h>
#include <string.h>

#include "privacy/common.h"
#include "privacy/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { N = 3, T = 2, L = 2 };

typedef struct world {
    pgi_secagg_params p;
    uint8_t pk[N][32], sk[N][64], spk[32], ssk[64];
    pgi_secagg_server *s;
    pgi_secagg_client *c[N];
    /* For the corpus: every message of the run, with the receiver it was for. */
    void (*record)(int target, const uint8_t *msg, size_t len);
} world;

static void
seed_of(uint8_t out[32], uint8_t a)
{
    memset(out, a, 32);
}

static int
world_init(world *w)
{
    memset(w->c, 0, sizeof w->c);
    w->s = NULL;
    uint8_t sd[32];
    w->p = (pgi_secagg_params){.n = N, .t = T, .len = L};
    pgi_secagg_round_id(w->p.round_id, "fuzz", 4);
    for (int i = 0; i < N; i++) {
        seed_of(sd, (uint8_t)(i + 1));
        pgi_secagg_sign_keypair_from_seed(w->pk[i], w->sk[i], sd);
    }
    seed_of(sd, 99);
    pgi_secagg_sign_keypair_from_seed(w->spk, w->ssk, sd);
    if (pgi_secagg_server_new(&w->s, &w->p, (const uint8_t(*)[32])w->pk, w->ssk, NULL))
        return -1;
    for (int i = 0; i < N; i++) {
        pgi_secagg_rng r;
        seed_of(sd, (uint8_t)(50 + i));
        pgi_secagg_rng_seed(&r, sd);
        if (pgi_secagg_client_new(&w->c[i], &w->p, (const uint8_t(*)[32])w->pk, (uint32_t)i,
                                  w->sk[i], w->spk, &r, NULL))
            return -1;
    }
    return 0;
}

static void
world_free(world *w)
{
    for (int i = 0; i < N; i++)
        pgi_secagg_client_free(w->c[i]);
    pgi_secagg_server_free(w->s);
}

/* Runs the aggregation until the receiver target waits for its next message. */
static int
world_run_to(world *w, int target)
{
    uint8_t *reply[N] = {0};
    size_t rlen[N] = {0};
    uint64_t x[L] = {1, 2};
    int rc = 0;
    for (int i = 0; i < N; i++)
        if (pgi_secagg_client_start(w->c[i], x, &reply[i], &rlen[i], NULL))
            return -1;
    for (int r = 0;; r++) {
        /* reply[] holds the members' messages of round r. */
        if (w->record)
            for (int i = 0; i < N; i++)
                w->record(r, reply[i], rlen[i]);
        if (target == r || r == 5)
            break;
        for (int i = 0; i < N && !rc; i++)
            rc = pgi_secagg_server_receive(w->s, reply[i], rlen[i], NULL);
        for (int i = 0; i < N; i++) {
            free(reply[i]);
            reply[i] = NULL;
        }
        pgi_secagg_outbox box = {0};
        if (rc || pgi_secagg_server_advance(w->s, &box, NULL))
            return -1;
        if (r == 4)
            break;
        for (size_t k = 0; k < box.n; k++)
            if (w->record && (box.msgs[k].to == 0 || box.msgs[k].to == PGI_SECAGG_ALL))
                w->record(5 + r, box.msgs[k].data, box.msgs[k].len);
        if (target == 5 + r) {
            pgi_secagg_outbox_free(&box);
            break;
        }
        for (size_t k = 0; k < box.n; k++)
            for (int i = 0; i < N; i++)
                if (box.msgs[k].to == PGI_SECAGG_ALL || box.msgs[k].to == (uint32_t)i)
                    if (pgi_secagg_client_handle(w->c[i], box.msgs[k].data, box.msgs[k].len,
                                                 &reply[i], &rlen[i], NULL))
                        rc = -1;
        pgi_secagg_outbox_free(&box);
        if (rc)
            return -1;
    }
    for (int i = 0; i < N; i++)
        free(reply[i]);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int target = data[0] % 9, fix = data[1];
    size_t len = size - 2;
    uint8_t *m = malloc(len ? len : 1);
    if (!m)
        return 0;
    memcpy(m, data + 2, len);
    world w = {0};
    if (world_init(&w) || world_run_to(&w, target))
        abort();
    if (len >= PGI_SA_HEADER + PGI_SA_SIG) {
        if (fix & 2)
            memcpy(m + 10, w.p.round_id, 32);
        if (fix & 4)
            pgi_sa_put32(m + 42, (uint32_t)(len - PGI_SA_HEADER - PGI_SA_SIG));
        if (fix & 1) {
            uint32_t sender = pgi_sa_get16(m + 6);
            pgi_sa_msg_sign(m, len, target >= 5 ? w.ssk : w.sk[sender < N ? sender : 0]);
        }
    }
    pg_error err = {0};
    if (target < 5) {
        pgi_secagg_view before, after;
        pgi_secagg_server_view(w.s, &before);
        pgi_secagg_server_state st = pgi_secagg_server_state_get(w.s);
        int rc = pgi_secagg_server_receive(w.s, m, len, &err);
        pgi_secagg_server_view(w.s, &after);
        if (rc && (!err.msg[0] || after.refused != before.refused + 1 ||
                   pgi_secagg_server_state_get(w.s) != st))
            abort();
        pgi_secagg_outbox box = {0};
        if (pgi_secagg_server_advance(w.s, &box, &err) == PG_OK)
            pgi_secagg_outbox_free(&box);
        else if (!err.msg[0])
            abort();
    } else {
        pgi_secagg_client_state st = pgi_secagg_client_state_get(w.c[0]);
        uint8_t *reply = NULL;
        size_t rl = 0;
        int rc = pgi_secagg_client_handle(w.c[0], m, len, &reply, &rl, &err);
        pgi_secagg_client_state now = pgi_secagg_client_state_get(w.c[0]);
        if (rc && (!err.msg[0] || reply || (now != st && now != PGI_SAC_ABORTED)))
            abort();
        if (!rc && now == st)
            abort();
        free(reply);
    }
    free(m);
    world_free(&w);
    return 0;
}

#ifdef FUZZ_SECAGG_CORPUS
/* Writes the corpus: every message of a run, prefixed by its receiver and "repair all". */
#include <stdio.h>
static const char *dir;
static int count;
static void
record(int target, const uint8_t *msg, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/round%d_%02d", dir, target, count++);
    FILE *f = fopen(path, "wb");
    uint8_t head[2] = {(uint8_t)target, 7};
    fwrite(head, 1, 2, f);
    fwrite(msg, 1, len, f);
    fclose(f);
}
int
main(int argc, char **argv)
{
    world w = {0};
    dir = argc > 1 ? argv[1] : ".";
    w.record = record;
    if (world_init(&w) || world_run_to(&w, 99))
        return 1;
    world_free(&w);
    return 0;
}
#endif
