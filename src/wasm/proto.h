/* The framed protocol between the sandbox (parent) and the runner (child) over one Unix socket
 * pair: each frame is a 12-byte header (magic, type, payload length) and a payload of at most
 * PGW_FRAME_MAX bytes. Both sides check every length before reading, and the parent reads each
 * reply under the call's deadline; a frame that breaks these rules is a protocol error. Payloads
 * are native-endian (both ends run on the same machine) and read field by field with bounds
 * checks (pgw_rd). */
#ifndef PG_WASM_PROTO_H
#define PG_WASM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PGW_MAGIC 0x31574750u /* "PGW1" */
#define PGW_FRAME_MAX ((uint32_t)8 << 20)
#define PGW_CHILD_FD 3 /* the runner's end of the socket pair */

enum {
    /* parent -> child */
    PGW_MSG_INIT = 1,   /* pgw_init_msg */
    PGW_MSG_STATE = 2,  /* the view, series and events the "pg" imports read */
    PGW_MSG_INVOKE = 3, /* u32 name length, name, u32 nargs, nargs x (u32 type, u64 bits), u32 nres,
                           u32 readback: bytes to read at result 0 when it is a non-zero address */
    /* child -> parent */
    PGW_MSG_READY = 101,  /* i32 status (0 ready, 1 trapped, 2 exited, -1 refused), u32 trap,
                             i32 exit code, then a message (the rest) */
    PGW_MSG_RESULT = 102, /* see pgw_result below */
};

/* Self-tests of the runner (sandbox tests only). */
enum {
    PGW_SELFTEST_OPEN = 1,    /* at the first call, after the filter: open() (must die: SIGSYS) */
    PGW_SELFTEST_GARBAGE = 2, /* at the first call: a malformed reply */
    PGW_SELFTEST_HUGE = 4,    /* at the first call: a header announcing an oversized frame */
};

typedef struct pgw_init_msg {
    uint32_t max_pages;
    uint32_t depth;
    uint32_t log_bytes;
    uint32_t cpu_s;
    uint64_t seed;
    uint32_t selftest;
    uint32_t reserved;
} pgw_init_msg;

/* RESULT status. */
enum {
    PGW_RES_OK = 0,
    PGW_RES_TRAP = 1,
    PGW_RES_EXIT = 2,
    PGW_RES_NOFUNC = 3,  /* no such export */
    PGW_RES_BADARGS = 4, /* argument or result count or types do not match */
    PGW_RES_BADREAD = 5, /* the readback address is outside the memory */
};
/* RESULT payload: u32 status, u32 trap, i32 exit code, u32 nres, nres x (u32 type, u64 bits),
 * u32 log length, u32 log bytes dropped, log, u32 readback length, readback bytes. */

/* A bounded reader of a payload. */
typedef struct pgw_rd {
    const uint8_t *p;
    size_t left;
    int bad;
} pgw_rd;

int pgw_get(pgw_rd *r, void *dst, size_t n);
uint32_t pgw_u32(pgw_rd *r);
uint64_t pgw_u64(pgw_rd *r);
const uint8_t *pgw_bytes(pgw_rd *r, size_t n);

/* A growable payload (abort-free: failed set on allocation failure). */
typedef struct pgw_wr {
    uint8_t *p;
    size_t len, cap;
    int failed;
} pgw_wr;

void pgw_put(pgw_wr *w, const void *src, size_t n);
void pgw_put_u32(pgw_wr *w, uint32_t v);
void pgw_put_u64(pgw_wr *w, uint64_t v);
void pgw_wr_free(pgw_wr *w);

/* Blocking I/O of whole frames (the runner's side): 0, or -1 on EOF, error or a bad frame. */
int pgw_send_blocking(int fd, uint32_t type, const void *payload, uint32_t len);
int pgw_recv_blocking(int fd, uint32_t *type, uint8_t **payload, uint32_t *len);

#endif
