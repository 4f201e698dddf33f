/* The sandbox's parent side: the runner started as a child process, one call at a time over a
 * pipe pair, with a watchdog per call (docs/wasm.md, "Limits"). */
#include "wasm/internal.h"

#include <stdlib.h>

void
pgi_wasm_limits_init(pgi_wasm_sandbox_limits *l)
{
    l->memory_pages = 256;
    l->stack_depth = 4096;
    l->call_ms = 250;
    l->init_ms = 2000;
    l->log_bytes = 4096;
    l->cpu_s = 600;
}

int
pgi_wasm_sandbox_new(pgi_wasm_sandbox **out, const char *so_path,
                     const pgi_wasm_sandbox_limits *limits, const pgi_wasm_host *host,
                     pg_error *err)
{
    (void)out, (void)so_path, (void)limits, (void)host;
    return pg_error_set(err, PG_EUNSUPPORTED, "the sandbox is not written yet");
}

int
pgi_wasm_sandbox_invoke(pgi_wasm_sandbox *sb, const char *export_name, const pgi_wasm_val *args,
                        size_t nargs, pgi_wasm_val *results, size_t nres, pgi_wasm_outcome *outcome,
                        pg_error *err)
{
    (void)sb, (void)export_name, (void)args, (void)nargs, (void)results, (void)nres, (void)outcome;
    return pg_error_set(err, PG_EUNSUPPORTED, "the sandbox is not written yet");
}

long
pgi_wasm_sandbox_pid(const pgi_wasm_sandbox *sb)
{
    (void)sb;
    return 0;
}

void
pgi_wasm_sandbox_free(pgi_wasm_sandbox *sb)
{
    free(sb);
}
