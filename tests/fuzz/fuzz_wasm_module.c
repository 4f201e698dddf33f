/* libFuzzer target for the WebAssembly module reader (pgi_wasm_module_read), which reads
 * untrusted strategy modules before anything else does. Any input must be read or refused
 * without a crash, a leak or a read past its end; a refusal must say where ("byte N: ...") and
 * return nothing; what is read must hold together: every count within the reader's limits, every
 * type index below the number of types, every export's index within its kind's index space and
 * the function types it names, and every function type printable. Its corpus
 * (tests/fuzz/corpus/wasm_module/: small modules of every section kind, strategies built by
 * clang for wasm32-wasi, and broken ones) replays as a test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_limits(const pgi_wasm_limits *l)
{
    if (l->has_max != 0 && l->has_max != 1)
        abort();
    if (!l->is64 && (l->min > UINT32_MAX || l->max > UINT32_MAX))
        abort(); /* 32-bit limits are read as 32-bit numbers */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy of exactly size bytes, so that a read past the end is a sanitizer report */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    pgi_wasm_module_info *m = NULL;
    pg_error err = {0};
    int rc = pgi_wasm_module_read(copy, size, &m, &err);
    if (rc != PG_OK) {
        if (m || err.code != rc || strncmp(err.msg, "byte ", 5) != 0)
            abort(); /* nothing written, and the message says where */
        free(copy);
        return 0;
    }
    if (!m || m->n_types > PGI_WASM_MAX_TYPES || m->n_imports > PGI_WASM_MAX_IMPORTS ||
        m->n_funcs > PGI_WASM_MAX_FUNCS || m->n_exports > PGI_WASM_MAX_EXPORTS ||
        m->n_globals > PGI_WASM_MAX_GLOBALS || m->n_tables > PGI_WASM_MAX_TABLES ||
        m->n_memories > PGI_WASM_MAX_MEMORIES || m->n_func_imports > m->n_funcs ||
        m->n_memory_imports > m->n_memories)
        abort();
    char text[256];
    for (uint32_t i = 0; i < m->n_types; i++) {
        if (m->types[i].n_params > PGI_WASM_MAX_PARAMS ||
            m->types[i].n_results > PGI_WASM_MAX_RESULTS)
            abort();
        pgi_wasm_functype_text(&m->types[i], text, sizeof text);
        if (strlen(text) >= sizeof text || strstr(text, " -> ") == NULL)
            abort();
    }
    for (uint32_t i = 0; i < m->n_funcs; i++)
        if (m->func_types[i] >= m->n_types)
            abort();
    for (uint32_t i = 0; i < m->n_imports; i++) {
        const pgi_wasm_import *im = &m->imports[i];
        if (im->kind > PGI_WASM_KIND_GLOBAL || im->offset >= size ||
            strlen(im->module) > im->module_len || strlen(im->name) > im->name_len)
            abort();
        if (im->kind == PGI_WASM_KIND_FUNC && im->type >= m->n_types)
            abort();
        if (im->kind == PGI_WASM_KIND_MEMORY)
            check_limits(&im->memory);
    }
    for (uint32_t i = 0; i < m->n_memories; i++)
        check_limits(&m->memories[i]);
    for (uint32_t i = 0; i < m->n_exports; i++) {
        const pgi_wasm_export *ex = &m->exports[i];
        uint32_t space = ex->kind == PGI_WASM_KIND_FUNC     ? m->n_funcs
                         : ex->kind == PGI_WASM_KIND_TABLE  ? m->n_tables
                         : ex->kind == PGI_WASM_KIND_MEMORY ? m->n_memories
                         : ex->kind == PGI_WASM_KIND_GLOBAL ? m->n_globals
                                                            : 0;
        if (ex->index >= space || ex->offset >= size)
            abort();
        if (ex->kind == PGI_WASM_KIND_FUNC && ex->type != m->func_types[ex->index])
            abort();
        if (pgi_wasm_module_export(m, ex->name, ex->kind) == NULL &&
            strlen(ex->name) == ex->name_len)
            abort(); /* every export can be found by its name */
    }
    if (m->has_start && m->start >= m->n_funcs)
        abort();
    pgi_wasm_module_free(m);
    free(copy);
    return 0;
}
