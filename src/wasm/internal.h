/* The contract between the parts of the WebAssembly sandbox (docs/wasm.md):
 *   - the ABI table (abi.c): which imports a module may ask for and with which signature, which
 *     exports a strategy provides; the checker (check.c) refuses anything else at load time;
 *   - the glue generator (glue.c): the C source compiled with wasm2c's output and the runtime
 *     into the strategy's shared object, which exports one table, PGI_WASM_SO_SYMBOL;
 *   - the sandbox (sandbox.c, parent side): the runner executable started as a child process,
 *     one call at a time over a pipe pair, with a watchdog per call;
 *   - the strategy calls (strategy.c): a node's view marshalled to the child, pg_on_interval
 *     called, the plan read back and checked before it is trusted.
 * Nothing here is public; the command reaches it through plurigrid/wasm.h. */
#ifndef PG_WASM_INTERNAL_H
#define PG_WASM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/node.h"
#include "wasm/module.h"

/* ---------------------------------------------------------------- the ABI table */

/* An import the host offers. Signatures are written with one letter per value type:
 * 'i' i32, 'I' i64, 'f' f32, 'F' f64 (params, then results). */
typedef struct pgi_wasm_abi_import {
    const char *module; /* "pg" or "wasi_snapshot_preview1" */
    const char *name;
    const char *params;  /* e.g. "iiii" */
    const char *results; /* "" or "i" */
    const char *summary; /* what the host does, one line (for check's listing and the docs) */
} pgi_wasm_abi_import;

/* Module names of the ABI's imports. */
#define PGI_WASM_MOD_PG "pg"
#define PGI_WASM_MOD_WASI "wasi_snapshot_preview1"

/* The table's rows by number (the order of pgi_wasm_abi_imports). */
enum {
    PGI_WASM_IMP_VIEW,
    PGI_WASM_IMP_SERIES,
    PGI_WASM_IMP_DR_EVENT,
    PGI_WASM_IMP_LOG,
    PGI_WASM_IMP_ARGS_GET,
    PGI_WASM_IMP_ARGS_SIZES_GET,
    PGI_WASM_IMP_ENVIRON_GET,
    PGI_WASM_IMP_ENVIRON_SIZES_GET,
    PGI_WASM_IMP_CLOCK_RES_GET,
    PGI_WASM_IMP_CLOCK_TIME_GET,
    PGI_WASM_IMP_FD_WRITE,
    PGI_WASM_IMP_FD_CLOSE,
    PGI_WASM_IMP_FD_SEEK,
    PGI_WASM_IMP_FD_FDSTAT_GET,
    PGI_WASM_IMP_FD_PRESTAT_GET,
    PGI_WASM_IMP_FD_PRESTAT_DIR_NAME,
    PGI_WASM_IMP_FD_READ,
    PGI_WASM_IMP_PROC_EXIT,
    PGI_WASM_IMP_RANDOM_GET,
    PGI_WASM_IMP_SCHED_YIELD,
    PGI_WASM_IMP_COUNT
};

/* The table, in a fixed order: the glue forwards import k as number k. */
extern const pgi_wasm_abi_import pgi_wasm_abi_imports[];
extern const size_t pgi_wasm_abi_n_imports;

/* The index of import module.name in the table, or -1 when the ABI does not offer it. */
int pgi_wasm_abi_find(const char *module, const char *name);

/* 1 when the function type t is the signature of table entry k. */
int pgi_wasm_abi_type_matches(size_t k, const pgi_wasm_functype *t);

/* The exports of a strategy: required ones and optional ones, with their signatures. */
typedef struct pgi_wasm_abi_export {
    const char *name;
    const char *params;
    const char *results;
    int required;
} pgi_wasm_abi_export;
extern const pgi_wasm_abi_export pgi_wasm_abi_exports[];
extern const size_t pgi_wasm_abi_n_exports;
/* Besides those: the memory must be defined by the module (not imported) and exported as
 * "memory"; `_initialize` (a WASI reactor's constructor runner, () -> ()) is called once after
 * instantiation when exported; a command's `_start` is refused (build strategies with
 * -mexec-model=reactor). */
#define PGI_WASM_EXPORT_MEMORY "memory"
#define PGI_WASM_EXPORT_INITIALIZE "_initialize"
#define PGI_WASM_EXPORT_START "_start"

/* ---------------------------------------------------------------- building a shared object */

/* The shared object's one exported symbol (a pgw_module_v1, src/wasm/so_abi.h). */
#define PGI_WASM_SO_SYMBOL "pg_wasm_module_v1"
/* wasm2c must be run with `-n strategy` and its output named strategy.c and strategy.h: the glue
 * includes "strategy.h" and calls Z_strategy_*. */
#define PGI_WASM_C_MODULE "strategy"
#define PGI_WASM_C_HEADER "strategy.h"
/* The C compiler's flags for every file of the shared object (strategy.c, the glue, the
 * runtime's wasm-rt-impl.c from PGI_WASM_RT_IMPL), NULL-terminated: explicit bounds checks (no
 * 8 GiB guard reservation, no SIGSEGV handler: see docs/wasm.md), the call-depth counter, hidden
 * visibility, and the link's --wrap of the runtime's memory allocation (the glue caps the memory at
 * the ceiling there). Add -I for the folder of strategy.h and -shared -o OUT. The glue needs
 * nothing of wasm2c's debug names. */
extern const char *const pgi_wasm_cflags[];
#define PGI_WASM_RT_IMPL "/usr/src/wasm2c/wasm-rt-impl.c"
#define PGI_WASM_RT_INCLUDE "/usr/src/wasm2c"
/* The call-depth counter's ceiling compiled in; the sandbox's stack_depth limit (at most this)
 * is applied per call by starting the counter at PGI_WASM_MAX_DEPTH - stack_depth. */
#define PGI_WASM_MAX_DEPTH 100000u

/* The glue C source for a module described by info: the import functions of the ABI (each
 * forwarding to the runner's host table), a typed invoke of every exported function, memory
 * access with bounds checks and the pgw_module_v1 table. It includes only wasm-rt.h,
 * wasm-rt-impl.h and strategy.h. On success *src is a new string (free()). PG_EUNSUPPORTED when
 * the module imports a memory, table or global, or a function the ABI does not offer (the check
 * refuses these first). Borrows info. */
int pgi_wasm_glue_source(const pgi_wasm_module_info *info, char **src, pg_error *err);

/* ---------------------------------------------------------------- the sandbox */

/* Limits of one sandboxed strategy (pgi_wasm_limits_init gives the defaults). */
typedef struct pgi_wasm_sandbox_limits {
    uint32_t memory_pages; /* ceiling of the linear memory, 64 KiB pages (default 256: 16 MiB) */
    uint32_t stack_depth;  /* wasm call depth before a trap (default 4096, at most
                              PGI_WASM_MAX_DEPTH) */
    uint32_t call_ms;      /* wall-clock deadline of one call, ms (default 250) */
    uint32_t init_ms;      /* deadline of starting the child, instantiating and pg_init (2000) */
    uint32_t log_bytes;    /* bytes of log kept per call (default 4096) */
    uint32_t cpu_s;        /* RLIMIT_CPU of the child's whole life, s: a backstop (default 600) */
    uint32_t selftest;     /* 0; tests of the runner only (PGW_SELFTEST_*, src/wasm/proto.h) */
} pgi_wasm_sandbox_limits;

void pgi_wasm_limits_init(pgi_wasm_sandbox_limits *l);

/* What the host gives a strategy besides the view of each call. */
typedef struct pgi_wasm_host {
    uint64_t seed;      /* random_get's generator is seeded with it (runs repeat) */
    size_t n_inputs;    /* the node config's input series (pg_node_env.forecast) */
    const char *runner; /* the runner executable; NULL: $PLURIGRID_SANDBOX, else
                           plurigrid/plurigrid-sandbox beside libplurigrid, else the build tree's */
    /* Called after each call with the log it wrote (fd_write to 1 or 2, pg.log), if any. */
    void (*log)(void *user, const char *text, size_t len);
    void *user;
} pgi_wasm_host;

typedef enum pgi_wasm_outcome_kind {
    PGI_WASM_OK = 0,       /* the call returned */
    PGI_WASM_TRAPPED = 1,  /* a WebAssembly trap: trap says which */
    PGI_WASM_EXITED = 2,   /* proc_exit(exit_code) */
    PGI_WASM_KILLED = 3,   /* past its deadline: the child was killed (restarted at the next
                              call) */
    PGI_WASM_DIED = 4,     /* the child died (signal: a seccomp violation is SIGSYS) */
    PGI_WASM_PROTOCOL = 5, /* the child sent a malformed, oversized or unexpected reply */
    PGI_WASM_BAD_BID = 6,  /* the call returned a plan that is not valid (strategy calls) */
} pgi_wasm_outcome_kind;

/* WebAssembly traps (the runtime's wasm_rt_trap_t numbers). */
typedef enum pgi_wasm_trap {
    PGI_WASM_TRAP_NONE = 0,
    PGI_WASM_TRAP_OOB = 1,
    PGI_WASM_TRAP_INT_OVERFLOW = 2,
    PGI_WASM_TRAP_DIV_BY_ZERO = 3,
    PGI_WASM_TRAP_INVALID_CONVERSION = 4,
    PGI_WASM_TRAP_UNREACHABLE = 5,
    PGI_WASM_TRAP_CALL_INDIRECT = 6,
    PGI_WASM_TRAP_UNCAUGHT_EXCEPTION = 7,
    PGI_WASM_TRAP_EXHAUSTION = 8,
} pgi_wasm_trap;

typedef struct pgi_wasm_outcome {
    pgi_wasm_outcome_kind kind;
    pgi_wasm_trap trap; /* TRAPPED */
    int exit_code;      /* EXITED */
    int signal;         /* DIED: the signal, 0 when it exited */
    double ms;          /* wall-clock time of the call */
    size_t log_dropped; /* log bytes beyond the cap this call */
    char why[256];      /* in words: "trap: out-of-bounds memory access", "killed: deadline of
                           250 ms", "bad bid: point 3: price nan is not a finite number" */
} pgi_wasm_outcome;

const char *pgi_wasm_outcome_name(pgi_wasm_outcome_kind k); /* "ok", "trapped", ... */
const char *pgi_wasm_trap_name(pgi_wasm_trap t);

/* A typed value. type is PGI_WASM_I32, _I64, _F32 or _F64 (module.h). */
typedef struct pgi_wasm_val {
    uint8_t type;
    union {
        uint32_t i32;
        uint64_t i64;
        float f32;
        double f64;
    } v;
} pgi_wasm_val;

/* A sandbox runs one call at a time: one thread (the node's) uses it at a time. */
typedef struct pgi_wasm_sandbox pgi_wasm_sandbox;

/* Starts the runner for the shared object at so_path (made by pg_wasm_build), instantiates the
 * module under the limits (NULL: defaults) and calls _initialize then pg_init when exported. A
 * module that cannot be loaded or instantiated, whose initial memory exceeds the ceiling, or
 * whose pg_init traps or returns non-zero gives PG_EMODEL naming why; a runner that cannot be
 * found or started PG_ENOTFOUND / PG_EIO. *out is written only on success. Copies so_path, limits
 * and host. */
int pgi_wasm_sandbox_new(pgi_wasm_sandbox **out, const char *so_path,
                         const pgi_wasm_sandbox_limits *limits, const pgi_wasm_host *host,
                         pg_error *err);

/* Calls the export named export_name with nargs typed args (types must match its signature) and
 * reads nres results. Returns PG_OK when the call was made, whatever it did: *outcome says how it
 * ended and results are written only when outcome->kind is PGI_WASM_OK. A child that is not
 * running (killed, died, exited before) is restarted first (and pg_init called again). Errors
 * (PG_ENOTFOUND no such export, PG_EINVAL mismatched types, PG_EIO the runner cannot be
 * restarted) are about the host. Borrows everything. */
int pgi_wasm_sandbox_invoke(pgi_wasm_sandbox *sb, const char *export_name, const pgi_wasm_val *args,
                            size_t nargs, pgi_wasm_val *results, size_t nres,
                            pgi_wasm_outcome *outcome, pg_error *err);

/* The child's process id (0 when none is running): for tests. */
long pgi_wasm_sandbox_pid(const pgi_wasm_sandbox *sb);

/* Stops the child (closes its pipe, kills it if it does not exit at once, reaps it) and frees.
 * Accepts NULL. */
void pgi_wasm_sandbox_free(pgi_wasm_sandbox *sb);

/* ---------------------------------------------------------------- strategy calls */

/* One interval of a strategy: the view v (its env's prices and forecasts over env->horizon, and
 * the n_inputs forecast series given at sandbox_new) is sent to the child, pg_on_interval is
 * called, and the plan it points to is read back and checked: n_points <= PG_NODE_MAX_POINTS,
 * every number finite (hvac_kw may be NaN) and within PG_MARKET_PRICE_MAX / PG_MARKET_QTY_MAX,
 * the curve monotone as docs/market.md requires. Returns PG_OK when the call was made;
 * *outcome says how it ended, and *out is written only when it is PGI_WASM_OK (a plan that fails
 * the checks is PGI_WASM_BAD_BID, never trusted). A return of 0 from the strategy is a valid
 * empty plan (no bid: n_points 0, the devices on their own: hvac_kw NaN). Borrows v. */
int pgi_wasm_strategy_bid(pgi_wasm_sandbox *sb, const pg_node_view *v, pg_node_plan *out,
                          pgi_wasm_outcome *outcome, pg_error *err);

/* Tells the strategy of a demand-response event (pg_on_dr_event; PGI_WASM_OK at once when the
 * module does not export it). Borrows e. */
int pgi_wasm_strategy_dr_event(pgi_wasm_sandbox *sb, const pg_dr_event *e,
                               pgi_wasm_outcome *outcome, pg_error *err);

#endif
