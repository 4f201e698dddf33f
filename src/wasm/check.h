/* The module check shared by pg_wasm_check and pg_wasm_build: the structure read (module.h),
 * validation by wasm-validate, and the ABI's rules (internal.h's tables), on bytes already read. */
#ifndef PG_WASM_CHECK_H
#define PG_WASM_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "plurigrid/wasm.h"
#include "wasm/module.h"

/* Checks the len bytes of a module that came from file (named in errors; "-" is standard
 * input). tmpdir is a private folder (pgi_wasm_tmpdir_make) where the bytes are written as
 * module.wasm for wasm-validate; the file stays there for the caller. On PG_OK *report and, when
 * info is not NULL, *info (the structure read) are new. */
int pgi_wasm_check_bytes(const char *file, const uint8_t *wasm, size_t len, pg_wasm_abi abi,
                         const char *tmpdir, double timeout_s, pg_wasm_check_report **report,
                         pgi_wasm_module_info **info, pg_error *err);

/* The name module.wasm is written under in tmpdir. */
#define PGI_WASM_TMP_MODULE "module.wasm"

#endif
