/* The messages of studies on NATS workers (docs/study.md, "On NATS workers"): the subjects, and
 * the one header line every message begins with ("TAG/1 TOKEN TOKEN ...", printable ASCII, at most
 * PGI_WIRE_MAX_HEADER bytes), followed by '\n' and a body for those that carry one. Shared by the
 * executor (nats.c) and the worker (worker.c); every message is checked here on receipt. */
#ifndef PG_STUDY_WIRE_H
#define PG_STUDY_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "plurigrid/core.h"

#define PGI_WIRE_MAX_HEADER 512
#define PGI_WIRE_MAX_TOKENS 40
#define PGI_WIRE_DEFAULT_QUEUE "plurigrid-study"
/* How long an offer waits for a worker's answer, and a worker for a chunk of a world. */
#define PGI_WIRE_ACK_TIMEOUT_S 2.0
#define PGI_WIRE_CHUNK_TIMEOUT_S 2.0
#define PGI_WIRE_CHUNK_TRIES 3
/* The room kept for the header of a message carrying part of a world or a result. */
#define PGI_WIRE_HEADER_ROOM 256

/* A parsed header: its tokens point into line (a copy of the header). */
typedef struct pgi_wire {
    char line[PGI_WIRE_MAX_HEADER + 1];
    const char *tok[PGI_WIRE_MAX_TOKENS];
    size_t n_tok;
    const char *body; /* after the '\n', into the message; NULL when it has none */
    size_t body_len;
} pgi_wire;

/* Splits a message: header tokens (tok[0] is the tag) and body. PG_EPARSE naming what is wrong. */
int pgi_wire_parse(const void *data, size_t len, pgi_wire *w, pg_error *err);
/* Token i as a whole number (decimal digits only, at most 2^53); false when it is not one. */
bool pgi_wire_size(const pgi_wire *w, size_t i, size_t *v);
/* Whether token i is an id: 16 lowercase hexadecimal digits. */
bool pgi_wire_id(const pgi_wire *w, size_t i);
/* A random id of 16 lowercase hexadecimal digits. */
void pgi_wire_new_id(char out[17]);
/* Whether name can be a queue name: 1 to 64 letters, digits, '-' or '_'. */
bool pgi_wire_queue_ok(const char *name);

#endif
