/* WebAssembly strategy modules: checking a module against the strategy ABI (docs/wasm.md) and
 * building it into a shared object the sandbox runs.
 *
 * A strategy is a WebAssembly module that a community member or a third party ships. Before the
 * node runs one, pg_wasm_check reads it (pg_input_read, size-limited), has wabt's wasm-validate
 * validate it, lists its imports and exports and names every one the ABI does not allow;
 * pg_wasm_build then translates it to C with wabt's wasm2c, adds the sandbox's glue and compiles
 * it with the system C compiler into a shared object written atomically. The tools run as child
 * processes (never through a shell), each with a time limit; a missing tool is named with the
 * Debian package that provides it. */
#ifndef PLURIGRID_WASM_H
#define PLURIGRID_WASM_H

#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest module file read, bytes (16 MiB). */
#define PG_WASM_MODULE_MAX ((size_t)16 << 20)

/* What an import or export is. */
typedef enum pg_wasm_kind {
    PG_WASM_FUNC = 0,
    PG_WASM_TABLE = 1,
    PG_WASM_MEMORY = 2,
    PG_WASM_GLOBAL = 3,
} pg_wasm_kind;

/* One import or export of a module, as the check saw it. */
typedef struct pg_wasm_extern {
    char *module; /* the import's module name ("env", "wasi_snapshot_preview1"); NULL for exports */
    char *name;   /* the import's or export's name (any bytes, NUL-terminated; see name_len) */
    size_t name_len; /* length of name in bytes (a name may hold a NUL byte) */
    pg_wasm_kind kind;
    char *type;   /* its type in words: "(i32, f64) -> i32", "memory 2..16 pages", ... */
    int allowed;  /* 1 when the ABI allows it */
    char *reason; /* why it is refused (a sentence); NULL when allowed */
} pg_wasm_extern;

/* What pg_wasm_check found. */
typedef struct pg_wasm_check_report {
    size_t n_imports;
    pg_wasm_extern *imports;
    size_t n_exports;
    pg_wasm_extern *exports;
    int has_memory;          /* 1 when the module defines or imports a memory */
    uint64_t memory_initial; /* its initial size, 64 KiB pages */
    uint64_t memory_max;     /* its maximum, pages; meaningful when memory_has_max */
    int memory_has_max;
    uint32_t memory_ceiling; /* the sandbox's ceiling the module was checked against, pages */
    int has_start;           /* 1 when the module has a start function */
    size_t n_problems;       /* 0: the module is accepted */
    char **problems;         /* each a sentence naming the import, export or part and why */
} pg_wasm_check_report;

/* What a module must provide. */
typedef enum pg_wasm_abi {
    PG_WASM_ABI_STRATEGY = 0, /* a strategy: the ABI's imports only, its required exports present */
    PG_WASM_ABI_ANY = 1,      /* any module whose imports the ABI offers, no export required (the
                                 spec tests; the sandbox's generic invoke) */
} pg_wasm_abi;

/* Reads the module at path ("-" for standard input, at most PG_WASM_MODULE_MAX bytes), validates
 * it with wasm-validate and checks it against the strategy ABI. Returns PG_OK with *report filled
 * whenever the module is valid WebAssembly, accepted or not: report->n_problems == 0 means
 * accepted, otherwise report->problems names each refused import, export or limit. A file that
 * cannot be read, is not WebAssembly or fails validation gives PG_EIO, PG_ELIMIT or PG_EPARSE
 * with err naming the file, the byte offset and what is wrong (wasm-validate's own message for
 * validation errors); a missing wasm-validate gives PG_ENOTFOUND naming the Debian package wabt.
 * *report (free with pg_wasm_check_report_free) is written only on PG_OK. Borrows path. */
PG_API int pg_wasm_check(const char *path, pg_wasm_check_report **report, pg_error *err);

/* As pg_wasm_check, with the ABI to check against. */
PG_API int pg_wasm_check_abi(const char *path, pg_wasm_abi abi, pg_wasm_check_report **report,
                             pg_error *err);

/* Frees a report. Accepts NULL. */
PG_API void pg_wasm_check_report_free(pg_wasm_check_report *report);

/* The report as text for people (json 0: the verdict, every import and export with its type and
 * why a refused one is refused, the memory, the problems) or as JSON (json 1:
 * plurigrid-wasm-check/1, docs/wasm.md), naming the module file. *out is malloc'd (free it).
 * Borrows r and file. */
PG_API int pg_wasm_check_report_text(const pg_wasm_check_report *r, const char *file, int json,
                                     char **out, pg_error *err);

/* How pg_wasm_build runs. */
typedef struct pg_wasm_build_options {
    pg_wasm_abi abi;    /* default PG_WASM_ABI_STRATEGY */
    const char *cc;     /* the C compiler; NULL: $CC, else "cc" */
    const char *wasm2c; /* NULL: "wasm2c" found on PATH */
    double timeout_s;   /* the time limit of each tool run, seconds; default 300 */
    const char *opt;    /* optimisation flag for the C compiler; NULL: "-O2" */
} pg_wasm_build_options;

PG_API void pg_wasm_build_options_init(pg_wasm_build_options *o);

/* Checks the module at path (as pg_wasm_check_abi; a refused module fails with PG_EMODEL and err
 * names its first problem, and how many others there are), translates it with wasm2c in a private
 * temporary folder (removed afterwards, whatever the outcome), compiles the C with the sandbox's
 * glue into a shared object and writes it to out_so atomically (a temporary file in out_so's
 * folder renamed into place: a failed build leaves no file behind and an old out_so untouched).
 * A tool that fails gives PG_EIO with its exit status and what it wrote to standard error; one
 * past its time limit is killed (PG_ELIMIT); a missing tool gives PG_ENOTFOUND naming its Debian
 * package. options may be NULL for the defaults. Borrows every argument. */
PG_API int pg_wasm_build(const char *path, const char *out_so, const pg_wasm_build_options *options,
                         pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
