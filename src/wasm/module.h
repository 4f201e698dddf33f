/* A reader of the WebAssembly binary format's module structure: types, imports, functions,
 * tables, memories, globals, exports and the start function. It does not validate code (wabt's
 * wasm-validate does); it lists what a module asks of its host and offers to it, so the strategy
 * ABI can be checked and the sandbox's glue generated. The input is untrusted: every LEB128 is
 * bounded, every count checked against what is left of its section and against the limits
 * below before anything is allocated, nothing is read past the end, and an error names the byte
 * offset and what is wrong. */
#ifndef PG_WASM_MODULE_H
#define PG_WASM_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"

/* Value types (their binary encoding). */
enum {
    PGI_WASM_I32 = 0x7f,
    PGI_WASM_I64 = 0x7e,
    PGI_WASM_F32 = 0x7d,
    PGI_WASM_F64 = 0x7c,
    PGI_WASM_V128 = 0x7b,
    PGI_WASM_FUNCREF = 0x70,
    PGI_WASM_EXTERNREF = 0x6f,
};

/* Import and export kinds (their binary encoding; the same numbers as pg_wasm_kind). */
enum {
    PGI_WASM_KIND_FUNC = 0,
    PGI_WASM_KIND_TABLE = 1,
    PGI_WASM_KIND_MEMORY = 2,
    PGI_WASM_KIND_GLOBAL = 3,
};

/* Limits the reader enforces (the implementation limits of the WebAssembly JS API, which every
 * browser engine applies; a module beyond them is refused before anything is allocated). */
#define PGI_WASM_MAX_TYPES 1000000u
#define PGI_WASM_MAX_FUNCS 1000000u
#define PGI_WASM_MAX_IMPORTS 100000u
#define PGI_WASM_MAX_EXPORTS 100000u
#define PGI_WASM_MAX_GLOBALS 1000000u
#define PGI_WASM_MAX_TABLES 100000u
#define PGI_WASM_MAX_MEMORIES 100u
#define PGI_WASM_MAX_PARAMS 1000u
#define PGI_WASM_MAX_RESULTS 1000u
#define PGI_WASM_MAX_NAME 100000u /* bytes of an import or export name */

/* A function type. */
typedef struct pgi_wasm_functype {
    uint32_t n_params;
    uint32_t n_results;
    uint8_t *params;  /* n_params value types */
    uint8_t *results; /* n_results value types */
} pgi_wasm_functype;

/* Limits of a table (elements) or memory (64 KiB pages). */
typedef struct pgi_wasm_limits {
    uint64_t min;
    uint64_t max; /* meaningful when has_max */
    int has_max;
    int is64;   /* memory64 */
    int shared; /* threads' shared memory */
} pgi_wasm_limits;

/* A table: its element type and limits. */
typedef struct pgi_wasm_table {
    uint8_t elem; /* PGI_WASM_FUNCREF or PGI_WASM_EXTERNREF */
    pgi_wasm_limits limits;
} pgi_wasm_table;

/* A global: its value type and mutability. */
typedef struct pgi_wasm_global {
    uint8_t type;
    int mut;
} pgi_wasm_global;

/* An import. Names are NUL-terminated copies; *_len give their byte lengths (a name may hold a
 * NUL byte, which the ABI check refuses). */
typedef struct pgi_wasm_import {
    char *module;
    size_t module_len;
    char *name;
    size_t name_len;
    uint8_t kind;           /* PGI_WASM_KIND_* */
    uint32_t type;          /* FUNC: index into types */
    pgi_wasm_table table;   /* TABLE */
    pgi_wasm_limits memory; /* MEMORY */
    pgi_wasm_global global; /* GLOBAL */
    size_t offset;          /* byte offset of the entry in the module */
} pgi_wasm_import;

/* An export. */
typedef struct pgi_wasm_export {
    char *name;
    size_t name_len;
    uint8_t kind;   /* PGI_WASM_KIND_* */
    uint32_t index; /* in the kind's index space (imports first) */
    uint32_t type;  /* FUNC: index into types of the function's type */
    size_t offset;
} pgi_wasm_export;

/* What a module declares. Index spaces count imports first, as the format does. */
typedef struct pgi_wasm_module_info {
    uint32_t n_types;
    pgi_wasm_functype *types;
    uint32_t n_imports;
    pgi_wasm_import *imports;
    uint32_t n_funcs; /* imported and defined */
    uint32_t n_func_imports;
    uint32_t *func_types; /* n_funcs type indices */
    uint32_t n_tables;    /* imported and defined */
    pgi_wasm_table *tables;
    uint32_t n_memories; /* imported and defined */
    pgi_wasm_limits *memories;
    uint32_t n_memory_imports;
    uint32_t n_globals; /* imported and defined */
    pgi_wasm_global *globals;
    uint32_t n_exports;
    pgi_wasm_export *exports;
    int has_start;
    uint32_t start; /* function index, when has_start */
} pgi_wasm_module_info;

/* Reads the module structure of len bytes at wasm. On success *out is a new info (free with
 * pgi_wasm_module_free); on failure err says "byte N: what is wrong" (PG_EPARSE, or PG_ELIMIT
 * for a count beyond the limits above, or PG_ENOMEM). Borrows wasm. */
int pgi_wasm_module_read(const uint8_t *wasm, size_t len, pgi_wasm_module_info **out,
                         pg_error *err);

/* Frees an info. Accepts NULL. */
void pgi_wasm_module_free(pgi_wasm_module_info *info);

/* The name of a value type ("i32", "funcref", ...); "?" for an unknown byte. */
const char *pgi_wasm_valtype_name(uint8_t t);

/* Writes a function type as "(i32, f64) -> i32" ("() -> ()" when empty; several results as
 * "(i32, i32)") into buf of size bytes (truncated, always NUL-terminated); returns buf. */
char *pgi_wasm_functype_text(const pgi_wasm_functype *t, char *buf, size_t size);

/* The export named name (exact bytes) of the given kind, or NULL. */
const pgi_wasm_export *pgi_wasm_module_export(const pgi_wasm_module_info *info, const char *name,
                                              uint8_t kind);

#endif
