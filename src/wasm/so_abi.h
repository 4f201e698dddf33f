/* The interface between a strategy's shared object and the runner that loads it: the one table
 * the object exports (PGI_WASM_SO_SYMBOL) and the host table the runner gives it. The glue
 * generator writes these same definitions into every object's glue (PGW_SO_ABI_TEXT is expanded
 * as code here and as a string there), so both sides read one text. One object holds one
 * instance: the wasm2c runtime keeps global state, and a runner process loads one object. */
#ifndef PG_WASM_SO_ABI_H
#define PG_WASM_SO_ABI_H

#include <stdint.h>

#define PGW_SO_ABI_VERSION 1u

/* import()'s answers: carry on, end the call as exited (proc_exit; the code in results[0]), or
 * end it as a trap (the host found the call impossible to honour). */
#define PGW_SO_ABI_TEXT(M)                                                                         \
    M(                                                                                             \
        typedef union pgw_value {                                                                  \
            uint32_t i32;                                                                          \
            uint64_t i64;                                                                          \
            float f32;                                                                             \
            double f64;                                                                            \
        } pgw_value;                                                                               \
        enum {PGW_IMPORT_OK = 0, PGW_IMPORT_EXIT = 1, PGW_IMPORT_TRAP = 2};                        \
        enum {PGW_CALL_OK = 0, PGW_CALL_TRAP = 1, PGW_CALL_EXIT = 2, PGW_CALL_REFUSED = -1};       \
        typedef struct pgw_host_v1 {                                                               \
            void *user;                                                                            \
            int (*import)(void *user, uint32_t k, const pgw_value *args, pgw_value *results,       \
                          uint8_t *mem, uint32_t mem_size);                                        \
        } pgw_host_v1;                                                                             \
        typedef struct pgw_export_v1 {                                                             \
            const char *name;                                                                      \
            uint32_t n_params, n_results;                                                          \
            const char *params;                                                                    \
            const char *results;                                                                   \
        } pgw_export_v1;                                                                           \
        typedef struct pgw_module_v1 {                                                             \
            uint32_t abi;                                                                          \
            uint32_t n_exports;                                                                    \
            const pgw_export_v1 *exports;                                                          \
            uint32_t has_memory, mem_initial, mem_max;                                             \
            int (*instantiate)(const pgw_host_v1 *host, uint32_t max_pages, uint32_t depth,        \
                               uint32_t *trap, int32_t *exit_code);                                \
            int (*invoke)(uint32_t e, const pgw_value *args, pgw_value *results, uint32_t depth,   \
                          uint32_t *trap, int32_t *exit_code);                                     \
            uint8_t *(*memory)(uint32_t * size, uint32_t * pages, uint32_t * max_pages);           \
        } pgw_module_v1;)

#define PGW_EXPAND(...) __VA_ARGS__
PGW_SO_ABI_TEXT(PGW_EXPAND)

#endif
