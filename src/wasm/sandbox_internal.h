/* The sandbox object, shared by sandbox.c (the child and its calls) and strategy.c (the strategy
 * calls, which send the node's state before a call and read the plan back with it). */
#ifndef PG_WASM_SANDBOX_INTERNAL_H
#define PG_WASM_SANDBOX_INTERNAL_H

#include <sys/types.h>

#include "wasm/internal.h"
#include "wasm/proto.h"

struct pgi_wasm_sandbox {
    pgi_wasm_sandbox_limits limits;
    pgi_wasm_host host;
    char *so_path;
    char *runner;
    pid_t pid;    /* 0: no child running */
    int fd;       /* the parent's end of the socket pair, -1 when none */
    pgw_wr state; /* the STATE frame sent before each call (empty: none) */
};

/* pgi_wasm_sandbox_invoke, and when readback > 0 and the call returns a non-zero i32 as its
 * first result, the readback bytes of guest memory at that address copied to back (an address
 * outside the memory is the outcome PGI_WASM_BAD_BID). */
int pgi_wasm_sandbox_call(pgi_wasm_sandbox *sb, const char *name, const pgi_wasm_val *args,
                          size_t nargs, pgi_wasm_val *results, size_t nres, uint32_t readback,
                          uint8_t *back, pgi_wasm_outcome *o, pg_error *err);

#endif
