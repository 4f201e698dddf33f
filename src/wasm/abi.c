/* The strategy ABI as data: every import the host offers a module (the "pg" functions and the
 * subset of WASI that a wasi-libc reactor needs) with its exact signature, and the exports a
 * strategy provides. The checker refuses any import not in this table, the glue generator
 * forwards import k of the table as number k to the runner, and the runner implements each row
 * (src/wasm/runner/host.c). docs/wasm.md lists the same rows. */
#include "wasm/internal.h"

#include <string.h>

/* The order is the forwarding number: append only. */
const pgi_wasm_abi_import pgi_wasm_abi_imports[] = {
    {PGI_WASM_MOD_PG, "view", "ii", "i", "copies the node's view of this interval"},
    {PGI_WASM_MOD_PG, "series", "iii", "i", "copies a price or forecast series over the horizon"},
    {PGI_WASM_MOD_PG, "dr_event", "iii", "i", "copies a demand-response event"},
    {PGI_WASM_MOD_PG, "log", "ii", "", "adds text to the call's log (capped per call)"},
    {PGI_WASM_MOD_WASI, "args_get", "ii", "i", "no arguments"},
    {PGI_WASM_MOD_WASI, "args_sizes_get", "ii", "i", "no arguments (0, 0)"},
    {PGI_WASM_MOD_WASI, "environ_get", "ii", "i", "no environment"},
    {PGI_WASM_MOD_WASI, "environ_sizes_get", "ii", "i", "no environment (0, 0)"},
    {PGI_WASM_MOD_WASI, "clock_res_get", "ii", "i", "1 ns"},
    {PGI_WASM_MOD_WASI, "clock_time_get", "iIi", "i",
     "the simulated time of the interval (ns from the start of the run)"},
    {PGI_WASM_MOD_WASI, "fd_write", "iiii", "i",
     "fd 1 and 2 go to the call's log (capped per call); others EBADF"},
    {PGI_WASM_MOD_WASI, "fd_close", "i", "i", "EBADF"},
    {PGI_WASM_MOD_WASI, "fd_seek", "iIii", "i", "ESPIPE on 0-2, EBADF otherwise"},
    {PGI_WASM_MOD_WASI, "fd_fdstat_get", "ii", "i",
     "fd 1 and 2 are write-only character devices; others EBADF"},
    {PGI_WASM_MOD_WASI, "fd_prestat_get", "ii", "i", "EBADF: no preopened folders"},
    {PGI_WASM_MOD_WASI, "fd_prestat_dir_name", "iii", "i", "EBADF"},
    {PGI_WASM_MOD_WASI, "fd_read", "iiii", "i", "EBADF: no input"},
    {PGI_WASM_MOD_WASI, "proc_exit", "i", "", "ends the call as \"exited\" with the code"},
    {PGI_WASM_MOD_WASI, "random_get", "ii", "i",
     "bytes from the host's generator seeded per strategy (runs repeat)"},
    {PGI_WASM_MOD_WASI, "sched_yield", "", "i", "returns at once"},
};
const size_t pgi_wasm_abi_n_imports = sizeof pgi_wasm_abi_imports / sizeof pgi_wasm_abi_imports[0];

const pgi_wasm_abi_export pgi_wasm_abi_exports[] = {
    {"pg_init", "", "i", 1},
    {"pg_on_interval", "", "i", 1},
    {"pg_on_dr_event", "", "i", 0},
};
const size_t pgi_wasm_abi_n_exports = sizeof pgi_wasm_abi_exports / sizeof pgi_wasm_abi_exports[0];

int
pgi_wasm_abi_find(const char *module, const char *name)
{
    if (!module || !name)
        return -1;
    for (size_t k = 0; k < pgi_wasm_abi_n_imports; k++)
        if (!strcmp(pgi_wasm_abi_imports[k].module, module) &&
            !strcmp(pgi_wasm_abi_imports[k].name, name))
            return (int)k;
    return -1;
}

static int
letter_type(char c)
{
    switch (c) {
    case 'i': return PGI_WASM_I32;
    case 'I': return PGI_WASM_I64;
    case 'f': return PGI_WASM_F32;
    case 'F': return PGI_WASM_F64;
    default: return -1;
    }
}

static int
list_matches(const char *sig, const uint8_t *types, uint32_t n)
{
    if (strlen(sig) != n)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        if (letter_type(sig[i]) != types[i])
            return 0;
    return 1;
}

int
pgi_wasm_abi_type_matches(size_t k, const pgi_wasm_functype *t)
{
    if (k >= pgi_wasm_abi_n_imports || !t)
        return 0;
    return list_matches(pgi_wasm_abi_imports[k].params, t->params, t->n_params) &&
           list_matches(pgi_wasm_abi_imports[k].results, t->results, t->n_results);
}

const char *const pgi_wasm_cflags[] = {
    "-std=gnu11",
    "-fPIC",
    "-fvisibility=hidden",
    "-fno-strict-aliasing",
    "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0",
    "-DWASM_RT_USE_STACK_DEPTH_COUNT=1",
    "-DWASM_RT_MAX_CALL_STACK_DEPTH=100000",
    "-I" PGI_WASM_RT_INCLUDE,
    "-Wl,--wrap=wasm_rt_allocate_memory",
    "-Wl,--wrap=wasm_rt_allocate_funcref_table",
    "-Wl,--wrap=wasm_rt_allocate_externref_table",
    NULL,
};

const char *
pgi_wasm_outcome_name(pgi_wasm_outcome_kind k)
{
    switch (k) {
    case PGI_WASM_OK: return "ok";
    case PGI_WASM_TRAPPED: return "trapped";
    case PGI_WASM_EXITED: return "exited";
    case PGI_WASM_KILLED: return "killed";
    case PGI_WASM_DIED: return "died";
    case PGI_WASM_PROTOCOL: return "protocol error";
    case PGI_WASM_BAD_BID: return "bad bid";
    }
    return "?";
}

const char *
pgi_wasm_trap_name(pgi_wasm_trap t)
{
    switch (t) {
    case PGI_WASM_TRAP_NONE: return "none";
    case PGI_WASM_TRAP_OOB: return "out-of-bounds memory or table access";
    case PGI_WASM_TRAP_INT_OVERFLOW: return "integer overflow";
    case PGI_WASM_TRAP_DIV_BY_ZERO: return "integer division by zero";
    case PGI_WASM_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case PGI_WASM_TRAP_UNREACHABLE: return "unreachable executed";
    case PGI_WASM_TRAP_CALL_INDIRECT: return "invalid indirect call";
    case PGI_WASM_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
    case PGI_WASM_TRAP_EXHAUSTION: return "call stack exhausted";
    }
    return "unknown trap";
}
