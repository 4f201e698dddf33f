/* The messages of a community on the bus (docs/lattice.md): a fixed, versioned, compact binary
 * encoding. Every message is a header (magic "PGCM", version, type, two zero bytes) and the
 * type's fields, little-endian, doubles as IEEE 754 binary64. Decoders check every field (the
 * magic, the version, the type, the exact length, finite numbers, counts and ranges) and return
 * PG_EPARSE naming the first thing wrong; receivers count such messages and drop them. */
#ifndef PG_COMMUNITY_MSG_H
#define PG_COMMUNITY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/market.h"
#include "plurigrid/node.h"

#define PGI_MSG_MAGIC "PGCM"
#define PGI_MSG_VERSION 2
#define PGI_MSG_HEADER 8
#define PGI_MSG_MAX_HORIZON 192
#define PGI_MSG_MAX_NAME 255     /* a member's name in an announcement, bytes */
#define PGI_MSG_MAX_EVENTS 1024  /* DR events in an open message */
#define PGI_MSG_MAX_RECORDS 4096 /* records (nodes) in one result or settle message */
#define PGI_MSG_ALL 0xffffffffu  /* a DR event's targets: every node */
#define PGI_MSG_NONE 0xffffffffu /* no node */

typedef enum {
    PGI_MSG_OPEN = 1,
    PGI_MSG_BID = 2,
    PGI_MSG_RESULT = 3,
    PGI_MSG_TELEMETRY = 4,
    PGI_MSG_DR_EVENT = 5,
    PGI_MSG_DOCK = 6,
    PGI_MSG_UNDOCK = 7,
    PGI_MSG_PACK = 8,
    PGI_MSG_ANNOUNCE = 9,
    PGI_MSG_HEARTBEAT = 10,
    PGI_MSG_ACK = 11,
    PGI_MSG_SETTLE = 12,
    PGI_MSG_DISPUTE = 13,
} pgi_msg_type;
#define PGI_MSG_LAST PGI_MSG_DISPUTE

/* Announce and heartbeat: a member is here. incarnation grows when the member restarts; run_id
 * names the run it plays; term and operator_ the operator it follows (0 and PGI_MSG_NONE: none
 * yet); done the intervals it has recorded from the first, last the last interval it has
 * recorded + 1 (0: none). */
typedef struct pgi_msg_member {
    uint32_t node;
    uint64_t incarnation, run_id;
    uint32_t term, operator_, done, last;
    char name[PGI_MSG_MAX_NAME + 1];
} pgi_msg_member;

typedef struct pgi_msg_dr {
    pg_dr_event event;
    uint32_t n_targets; /* PGI_MSG_ALL: every node */
    uint32_t *targets;  /* decode: malloc'd (free it); NULL for all */
} pgi_msg_dr;

/* The operator opens an interval: who opens it (its term and member index), the interval's times,
 * the price forecast of the horizon and every DR event known and not over. */
typedef struct pgi_msg_open {
    uint32_t term, operator_;
    uint32_t interval;
    double hours, time_h, hour_of_day;
    bool market; /* false: the baseline, nodes plan and answer with empty bids */
    uint16_t horizon;
    double retail[PGI_MSG_MAX_HORIZON], feed_in[PGI_MSG_MAX_HORIZON];
    uint16_t n_events;
    pgi_msg_dr *events; /* decode: malloc'd with their targets (pgi_msg_open_free) */
} pgi_msg_open;

/* A node's bid for an interval (no points: it takes part without a curve). */
typedef struct pgi_msg_bid {
    uint32_t interval, node;
    uint8_t n_points;
    pg_market_point curve[PG_NODE_MAX_POINTS];
} pgi_msg_bid;

/* The operator acknowledges a bid (its digest, pgi_msg_bid_digest). */
typedef struct pgi_msg_ack {
    uint32_t term, operator_, interval, node;
    uint64_t digest;
} pgi_msg_ack;

/* A node's award in a result: the digest of the bid cleared, the net quantity (> 0 bought) and
 * the average price of its fills ($/kWh, 0 when nothing cleared). */
typedef struct pgi_msg_award {
    uint32_t node;
    uint64_t digest;
    double cleared_kwh, price;
} pgi_msg_award;

/* The clearing result of an interval (gate closure): the nodes whose bids were cleared, in node
 * order, records [first, first + count) of n_total, so a large community's result is several
 * messages. */
typedef struct pgi_msg_result {
    uint32_t term, operator_, interval;
    uint32_t n_total, first, count;
    pgi_msg_award *awards; /* [count]; decode: malloc'd (free it) */
} pgi_msg_result;

typedef struct pgi_msg_telemetry {
    uint32_t interval, node;
    pg_node_step step;
} pgi_msg_telemetry;

/* A node's settlement in a settle message: its meter and devices (metered: its own reading;
 * otherwise its award taken as its reading) and its settlement. */
typedef struct pgi_msg_settle_node {
    uint32_t node;
    bool metered;
    pg_node_step step;
    pg_market_settlement s;
} pgi_msg_settle_node;

/* The operator's settlement of an interval: the clearing price (NaN: no trade) and peer volume,
 * the feeder's AC check (ac 0 none, 1 converged with its figures, 2 did not converge), and the
 * records [first, first + count) of n_total, in node order. */
typedef struct pgi_msg_settle {
    uint32_t term, operator_, interval;
    double price, volume_kwh;
    uint8_t ac;
    double vm_min, vm_max, loading_max;
    uint32_t n_total, first, count;
    pgi_msg_settle_node *nodes; /* [count]; decode: malloc'd (free it) */
} pgi_msg_settle;

/* A member's recomputation of a result differs: the result's term, operator and interval, the
 * member reporting, the first node whose award differs and both quantities. */
typedef struct pgi_msg_dispute {
    uint32_t term, operator_, interval, reporter, node;
    double published_kwh, computed_kwh;
} pgi_msg_dispute;

/* Dock (the operator tells a node a pack arrives) and undock (a pack leaves); pack (the node
 * reports the state of charge of a pack it undocked). */
typedef struct pgi_msg_pack {
    uint32_t node, pack;
    double capacity_kwh, power_kw, soc_kwh;
} pgi_msg_pack;

/* Encoders: *out (malloc'd, the caller frees) and *len. PG_ENOMEM, or PG_EINVAL for a value the
 * encoding cannot hold. type is PGI_MSG_ANNOUNCE or PGI_MSG_HEARTBEAT for members, DOCK, UNDOCK
 * or PACK for packs. */
int pgi_msg_encode_member(pgi_msg_type type, const pgi_msg_member *m, uint8_t **out, size_t *len,
                          pg_error *err);
int pgi_msg_encode_open(const pgi_msg_open *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_bid(const pgi_msg_bid *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_ack(const pgi_msg_ack *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_result(const pgi_msg_result *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_telemetry(const pgi_msg_telemetry *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_settle(const pgi_msg_settle *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_dispute(const pgi_msg_dispute *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_dr(const pgi_msg_dr *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_pack(pgi_msg_type type, const pgi_msg_pack *m, uint8_t **out, size_t *len,
                        pg_error *err);

/* The type of a message whose header is valid, or PG_EPARSE. */
int pgi_msg_type_of(const void *data, size_t len, pgi_msg_type *type, pg_error *err);

/* Decoders: *m is written only on success. */
int pgi_msg_decode_member(pgi_msg_type type, const void *data, size_t len, pgi_msg_member *m,
                          pg_error *err);
int pgi_msg_decode_open(const void *data, size_t len, pgi_msg_open *m, pg_error *err);
int pgi_msg_decode_bid(const void *data, size_t len, pgi_msg_bid *m, pg_error *err);
int pgi_msg_decode_ack(const void *data, size_t len, pgi_msg_ack *m, pg_error *err);
int pgi_msg_decode_result(const void *data, size_t len, pgi_msg_result *m, pg_error *err);
int pgi_msg_decode_telemetry(const void *data, size_t len, pgi_msg_telemetry *m, pg_error *err);
int pgi_msg_decode_settle(const void *data, size_t len, pgi_msg_settle *m, pg_error *err);
int pgi_msg_decode_dispute(const void *data, size_t len, pgi_msg_dispute *m, pg_error *err);
int pgi_msg_decode_dr(const void *data, size_t len, pgi_msg_dr *m, pg_error *err);
int pgi_msg_decode_pack(pgi_msg_type type, const void *data, size_t len, pgi_msg_pack *m,
                        pg_error *err);

/* Frees what a decoded open message holds (its events and their targets); accepts NULL. */
void pgi_msg_open_free(pgi_msg_open *m);

/* The digest of a bid (64-bit FNV-1a of its encoded fields): what acknowledgements and results
 * name a bid by. */
uint64_t pgi_msg_bid_digest(const pgi_msg_bid *m);

/* 64-bit FNV-1a of bytes, continuing from h (start with PGI_FNV_OFFSET). */
#define PGI_FNV_OFFSET 0xcbf29ce484222325ull
uint64_t pgi_msg_fnv(uint64_t h, const void *data, size_t len);

#endif
