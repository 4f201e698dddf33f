/* The host side of the strategy ABI's imports, inside the runner (host.c): the "pg" functions
 * read what the last STATE frame said, the WASI subset answers as docs/wasm.md describes. */
#ifndef PG_WASM_RUNNER_HOST_H
#define PG_WASM_RUNNER_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "wasm/so_abi.h"

typedef struct pgw_host_state {
    char *log; /* this call's log, at most log_cap bytes */
    size_t log_len, log_cap;
    uint64_t log_dropped;    /* bytes beyond the cap this call */
    uint64_t rng[4];         /* xoshiro256** */
    struct pgw_state *state; /* the last STATE frame, decoded */
} pgw_host_state;

pgw_host_state *pgw_host_new(uint64_t seed, uint32_t log_bytes);
/* Decodes a STATE frame: 0, or -1 when it is malformed. */
int pgw_host_set_state(pgw_host_state *hs, const uint8_t *p, uint32_t len);
/* Empties the call's log. */
void pgw_host_begin_call(pgw_host_state *hs);
/* The glue's import(): import number k of the ABI table. */
int pgw_host_import(void *user, uint32_t k, const pgw_value *args, pgw_value *results, uint8_t *mem,
                    uint32_t mem_size);

#endif
