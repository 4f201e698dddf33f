/* The messages of a community on the bus (docs/community.md): a fixed, versioned, compact binary
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
#include "plurigrid/node.h"

#define PGI_MSG_MAGIC "PGCM"
#define PGI_MSG_VERSION 1
#define PGI_MSG_HEADER 8
#define PGI_MSG_MAX_HORIZON 192
#define PGI_MSG_ALL 0xffffffffu /* a DR event's targets: every node */

typedef enum {
    PGI_MSG_OPEN = 1,
    PGI_MSG_BID = 2,
    PGI_MSG_AWARD = 3,
    PGI_MSG_TELEMETRY = 4,
    PGI_MSG_DR_EVENT = 5,
    PGI_MSG_DOCK = 6,
    PGI_MSG_UNDOCK = 7,
    PGI_MSG_PACK = 8,
} pgi_msg_type;

/* The operator opens an interval: its times and the price forecast of the horizon. */
typedef struct pgi_msg_open {
    uint32_t interval;
    double hours, time_h, hour_of_day;
    bool market; /* false: the baseline, nodes plan but do not bid */
    uint16_t horizon;
    double retail[PGI_MSG_MAX_HORIZON], feed_in[PGI_MSG_MAX_HORIZON];
} pgi_msg_open;

typedef struct pgi_msg_bid {
    uint32_t interval, node;
    uint8_t n_points;
    pg_market_point curve[PG_NODE_MAX_POINTS];
} pgi_msg_bid;

typedef struct pgi_msg_award {
    uint32_t interval, node;
    double cleared_kwh; /* > 0 bought, < 0 sold */
    double price;       /* $/kWh (0 when nothing cleared) */
} pgi_msg_award;

typedef struct pgi_msg_telemetry {
    uint32_t interval, node;
    pg_node_step step;
} pgi_msg_telemetry;

typedef struct pgi_msg_dr {
    pg_dr_event event;
    uint32_t n_targets; /* PGI_MSG_ALL: every node */
    uint32_t *targets;  /* decode: malloc'd (free it); NULL for all */
} pgi_msg_dr;

/* Dock (the operator tells a node a pack arrives) and undock (a pack leaves); pack (the node
 * reports the state of charge of a pack it undocked). */
typedef struct pgi_msg_pack {
    uint32_t node, pack;
    double capacity_kwh, power_kw, soc_kwh;
} pgi_msg_pack;

/* Encoders: *out (malloc'd, the caller frees) and *len. PG_ENOMEM, or PG_EINVAL for a value the
 * encoding cannot hold. */
int pgi_msg_encode_open(const pgi_msg_open *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_bid(const pgi_msg_bid *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_award(const pgi_msg_award *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_telemetry(const pgi_msg_telemetry *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_dr(const pgi_msg_dr *m, uint8_t **out, size_t *len, pg_error *err);
int pgi_msg_encode_pack(pgi_msg_type type, const pgi_msg_pack *m, uint8_t **out, size_t *len,
                        pg_error *err);

/* The type of a message whose header is valid, or PG_EPARSE. */
int pgi_msg_type_of(const void *data, size_t len, pgi_msg_type *type, pg_error *err);

/* Decoders: *m is written only on success. */
int pgi_msg_decode_open(const void *data, size_t len, pgi_msg_open *m, pg_error *err);
int pgi_msg_decode_bid(const void *data, size_t len, pgi_msg_bid *m, pg_error *err);
int pgi_msg_decode_award(const void *data, size_t len, pgi_msg_award *m, pg_error *err);
int pgi_msg_decode_telemetry(const void *data, size_t len, pgi_msg_telemetry *m, pg_error *err);
int pgi_msg_decode_dr(const void *data, size_t len, pgi_msg_dr *m, pg_error *err);
int pgi_msg_decode_pack(pgi_msg_type type, const void *data, size_t len, pgi_msg_pack *m,
                        pg_error *err);

#endif
