/* The binary layout of the engine's messages (docs/privacy.md, "Wire format"): a fixed header,
 * a body whose layout the type fixes, and the sender's Ed25519 signature over both. Big-endian
 * integers. Reading the header needs no libsodium (wire.c is in libplurigrid); checking the
 * signature is the receiver's (secagg_*.c). */
#ifndef PG_PRIVACY_WIRE_H
#define PG_PRIVACY_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"

#define PGI_SA_MAGIC "PGSA"
#define PGI_SA_VERSION 1
#define PGI_SA_HEADER 46 /* magic 4, version 1, type 1, sender 2, to 2, round id 32, body 4 */
#define PGI_SA_SIG 64

typedef struct pgi_sa_header {
    uint8_t type;
    uint16_t sender, to;
    uint8_t round_id[32];
    uint32_t body_len;
    const uint8_t *body; /* into the message */
    const uint8_t *sig;  /* into the message */
} pgi_sa_header;

/* Checks the framing (magic, version, a known type, the body length matching the message's,
 * the size limit) and fills h. PG_EPARSE with the reason otherwise. */
int pgi_sa_header_read(const void *msg, size_t len, pgi_sa_header *h, pg_error *err);

static inline void
pgi_sa_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void
pgi_sa_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline uint32_t
pgi_sa_get16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}
static inline uint32_t
pgi_sa_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
