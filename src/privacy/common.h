/* What the client (secagg_client.c) and the server (secagg_server.c) of secure aggregation
 * share, inside privacy.so: making, signing and checking messages, key derivation and the mask
 * generator. */
#ifndef PG_PRIVACY_COMMON_H
#define PG_PRIVACY_COMMON_H

#include "privacy/internal.h"
#include "privacy/wire.h"

/* Sizes of the fixed parts of bodies. */
#define PGI_SA_ADV_BODY 64 /* c_pk, s_pk */
#define PGI_SA_ADV_MSG (PGI_SA_HEADER + PGI_SA_ADV_BODY + PGI_SA_SIG)
#define PGI_SA_PLAIN (2 + 2 + 2 * PGI_SHAMIR_SHARE_BYTES)    /* u, v, b-share, s-share */
#define PGI_SA_CT (PGI_SA_PLAIN + 16)                        /* with the Poly1305 tag */
#define PGI_SA_ENTRY (2 + 24 + PGI_SA_CT)                    /* peer id, nonce, ciphertext */
#define PGI_SA_UNMASK_ENTRY (2 + 1 + PGI_SHAMIR_SHARE_BYTES) /* id, kind, share */
#define PGI_SA_KIND_B 1
#define PGI_SA_KIND_S 2

/* Checks the parameters of an aggregation (PG_EINVAL naming what is wrong). */
int pgi_sa_check_params(const pgi_secagg_params *p, pg_error *err);

/* A message of body_len bytes with its header written (the body and the signature left for the
 * caller: write the body at m + PGI_SA_HEADER, then pgi_sa_msg_sign). NULL when out of memory. */
uint8_t *pgi_sa_msg_alloc(uint8_t type, uint32_t sender, uint32_t to, const uint8_t rid[32],
                          size_t body_len, size_t *len);
void pgi_sa_msg_sign(uint8_t *m, size_t len, const uint8_t sk[64]);
/* Reads the header and checks, in order: the framing, the type expected, the round id, the
 * sender's signature with pk (chosen by the caller from h->sender: pass a resolver). */
int pgi_sa_msg_open(const void *msg, size_t len, uint8_t type, const uint8_t rid[32],
                    pgi_sa_header *h, pg_error *err);
int pgi_sa_msg_verify(const void *msg, size_t len, const pgi_sa_header *h, const uint8_t pk[32],
                      pg_error *err);

/* The key of a pair of members from an X25519 agreement: BLAKE2b-256 of a label, the round id,
 * both ids and public keys in id order and the shared point. PG_EAUTH for a public key of small
 * order (the agreement would be all zero). */
int pgi_sa_pair_key(uint8_t out[32], const char *label, const uint8_t rid[32],
                    const uint8_t my_sk[32], uint32_t me, const uint8_t my_pk[32], uint32_t peer,
                    const uint8_t peer_pk[32]);
/* The self-mask key of a seed b. */
void pgi_sa_self_key(uint8_t out[32], const uint8_t rid[32], const uint8_t b[32]);
/* acc[i] += sign * PRG(key)[i] mod 2^64 for i < n (PRG: ChaCha20 keystream, nonce 0, read as
 * little-endian 64-bit words); scratch holds 8n bytes. */
void pgi_sa_prg_add(uint64_t *acc, size_t n, const uint8_t key[32], int sign, uint8_t *scratch);
/* Whether a public key is of small order (refused wherever one is received). */
bool pgi_sa_pk_bad(const uint8_t pk[32]);
/* The statement members sign in the consistency round: a prefix, the round id and the survivor
 * set as sent (count and ids). *len bytes, malloc'd. */
uint8_t *pgi_sa_statement(const uint8_t rid[32], const uint8_t *set, size_t set_len, size_t *len);

#endif
