/* The glue generator: the C source compiled into every strategy's shared object beside wasm2c's
 * translation (strategy.c, made with `wasm2c --no-debug-names -n strategy`). The glue
 *   - includes the wasm2c runtime (wasm-rt-impl.c) itself, so the object carries its own copy
 *     with hidden symbols, and wraps the runtime's memory allocation so the memory's maximum is
 *     the sandbox's ceiling from the moment it exists (a start function cannot grow past it);
 *   - defines every import of the module that the ABI table offers, each forwarding its typed
 *     arguments, as import number k of the table, to the runner's host table (the WASI and "pg"
 *     host side live in the runner, never in generated code); proc_exit and a host refusal end
 *     the call through the runtime's trap path;
 *   - gives every exported function a typed thunk and a row of the export table, and one
 *     invoke that calls a row under wasm_rt_impl_try with the call-depth counter set for the
 *     sandbox's stack limit, reporting a trap, an exit or the results;
 *   - exports one symbol, the pgw_module_v1 table (so_abi.h, whose text is written in here).
 * Names are mangled as wasm2c 1.0.32 does: letters, digits and '_' stay, every other byte
 * (and 'Z') becomes Z and two hex digits. */
#include "wasm/internal.h"
#include "wasm/so_abi.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define PGW_STRINGIFY(...) #__VA_ARGS__
static const char so_abi_text[] = PGW_SO_ABI_TEXT(PGW_STRINGIFY);

static void
mangle(pgi_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Y') || (c >= '0' && c <= '9') ||
             c == '_'))
            pgi_buf_printf(b, "%c", c);
        else
            pgi_buf_printf(b, "Z%02X", c);
    }
}

/* A C string literal of any bytes. */
static void
literal(pgi_buf *b, const char *s, size_t n)
{
    pgi_buf_puts(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '-' || c == '.' || c == ' ')
            pgi_buf_printf(b, "%c", c);
        else
            pgi_buf_printf(b, "\\%03o", c);
    }
    pgi_buf_puts(b, "\"");
}

static const char *
ctype(char letter)
{
    switch (letter) {
    case 'i': return "u32";
    case 'I': return "u64";
    case 'f': return "f32";
    default: return "f64";
    }
}

static const char *
field(char letter)
{
    switch (letter) {
    case 'i': return "i32";
    case 'I': return "i64";
    case 'f': return "f32";
    default: return "f64";
    }
}

/* wasm2c's letter for a multi-value struct's member. */
static char
multi_letter(char letter)
{
    switch (letter) {
    case 'i': return 'i';
    case 'I': return 'j';
    case 'f': return 'f';
    default: return 'd';
    }
}

/* The signature letters of n value types, or -1 when one is not a number type. */
static int
letters(const uint8_t *types, uint32_t n, char *out, size_t cap)
{
    if ((size_t)n + 1 > cap)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        switch (types[i]) {
        case PGI_WASM_I32: out[i] = 'i'; break;
        case PGI_WASM_I64: out[i] = 'I'; break;
        case PGI_WASM_F32: out[i] = 'f'; break;
        case PGI_WASM_F64: out[i] = 'F'; break;
        default: return -1;
        }
    }
    out[n] = 0;
    return 0;
}

static void
import_fn(pgi_buf *b, size_t k, const pgi_wasm_import *im)
{
    const pgi_wasm_abi_import *a = &pgi_wasm_abi_imports[k];
    size_t np = strlen(a->params);
    pgi_buf_printf(b, "%s ", a->results[0] ? ctype(a->results[0]) : "void");
    pgi_buf_puts(b, "Z_");
    mangle(b, im->module, im->module_len);
    pgi_buf_puts(b, "Z_");
    mangle(b, im->name, im->name_len);
    pgi_buf_puts(b, "(struct Z_");
    mangle(b, im->module, im->module_len);
    pgi_buf_puts(b, "_instance_t *self");
    for (size_t i = 0; i < np; i++)
        pgi_buf_printf(b, ", %s p%zu", ctype(a->params[i]), i);
    pgi_buf_printf(b, ") {\n  pgw_value a[%zu], r[2];\n  (void)self;\n", np + 1);
    pgi_buf_puts(b, "  memset(a, 0, sizeof a);\n  memset(r, 0, sizeof r);\n");
    for (size_t i = 0; i < np; i++)
        pgi_buf_printf(b, "  a[%zu].%s = p%zu;\n", i, field(a->params[i]), i);
    pgi_buf_printf(b, "  pgw_import(%zuu, a, r);\n", k);
    if (a->results[0])
        pgi_buf_printf(b, "  return r[0].%s;\n", field(a->results[0]));
    pgi_buf_puts(b, "}\n\n");
}

int
pgi_wasm_glue_source(const pgi_wasm_module_info *info, char **src, pg_error *err)
{
    if (!info || !src)
        return pg_error_set(err, PG_EINVAL, "pgi_wasm_glue_source: info or src is NULL");
    int rc = PG_OK;
    pgi_buf b = {0};
    int import_pg = 0, import_wasi = 0;
    for (uint32_t i = 0; i < info->n_imports; i++) {
        const pgi_wasm_import *im = &info->imports[i];
        if (im->kind != PGI_WASM_KIND_FUNC) {
            rc = pg_error_set(err, PG_EUNSUPPORTED,
                              "import %u (\"%s\" \"%s\") is not a function: the sandbox offers "
                              "functions only (a strategy defines its own memory)",
                              i + 1, im->module, im->name);
            goto out;
        }
        int k = strlen(im->module) == im->module_len && strlen(im->name) == im->name_len
                    ? pgi_wasm_abi_find(im->module, im->name)
                    : -1;
        if (k < 0 || im->type >= info->n_types ||
            !pgi_wasm_abi_type_matches((size_t)k, &info->types[im->type])) {
            rc = pg_error_set(err, PG_EUNSUPPORTED,
                              "import %u (\"%s\" \"%s\") is not offered by the strategy ABI with "
                              "this signature",
                              i + 1, im->module, im->name);
            goto out;
        }
        if (!strcmp(im->module, PGI_WASM_MOD_PG))
            import_pg = 1;
        else
            import_wasi = 1;
    }
    if (info->n_memory_imports || info->n_memories > 1) {
        rc = pg_error_set(err, PG_EUNSUPPORTED,
                          "the module imports a memory or has several: a strategy defines one "
                          "memory of its own");
        goto out;
    }

    pgi_buf_puts(&b, "/* Generated by plurigrid: the sandbox's glue for one module. */\n"
                     "#include <stdint.h>\n#include <string.h>\n"
                     "#include \"wasm-rt.h\"\n#include \"wasm-rt-impl.h\"\n"
                     "#include \"" PGI_WASM_C_HEADER "\"\n\n");
    pgi_buf_puts(&b, so_abi_text);
    pgi_buf_puts(&b, "\n\n#define PGW_EXPORT __attribute__((visibility(\"default\")))\n"
                     "struct Z_pg_instance_t { int unused; };\n"
                     "struct Z_wasi_snapshot_preview1_instance_t { int unused; };\n"
                     "static struct Z_pg_instance_t pgw_pg __attribute__((unused));\n"
                     "static struct Z_wasi_snapshot_preview1_instance_t pgw_wasi "
                     "__attribute__((unused));\n"
                     "static Z_strategy_instance_t pgw_inst;\n"
                     "static const pgw_host_v1 *pgw_host;\n"
                     "static uint32_t pgw_ceiling = 0;\n"
                     "static int pgw_instantiated, pgw_exited;\n"
                     "static int32_t pgw_exit_code;\n\n");

    /* The memory: the runtime's allocation goes through this wrapper (the link's
     * --wrap=wasm_rt_allocate_memory), which records where it is and caps its maximum at the
     * ceiling from the moment it exists, so not even a start function grows past it. */
    int has_memory = info->n_memories == 1;
    pgi_buf_puts(&b, "static wasm_rt_memory_t *pgw_memory_ptr;\n"
                     "static wasm_rt_memory_t *pgw_mem(void) { return pgw_memory_ptr; }\n"
                     "void __real_wasm_rt_allocate_memory(wasm_rt_memory_t *, uint32_t, "
                     "uint32_t);\n"
                     "void __wrap_wasm_rt_allocate_memory(wasm_rt_memory_t *, uint32_t, "
                     "uint32_t);\n"
                     "void __wrap_wasm_rt_allocate_memory(wasm_rt_memory_t *m, uint32_t initial, "
                     "uint32_t max) {\n"
                     "  if (max > pgw_ceiling) max = pgw_ceiling;\n"
                     "  if (initial > max || pgw_memory_ptr) wasm_rt_trap(WASM_RT_TRAP_OOB);\n"
                     "  __real_wasm_rt_allocate_memory(m, initial, max);\n"
                     "  if (initial && !m->data) wasm_rt_trap(WASM_RT_TRAP_OOB);\n"
                     "  pgw_memory_ptr = m;\n"
                     "}\n\n");

    /* The tables: the runtime's allocation does not check calloc, so a table too large for the
     * address space would keep its size with no storage, and table.get/set would reach
     * wherever the guest's index points. The wrappers make that a trap at instantiation. */
    static const char *const refs[] = {"funcref", "externref"};
    for (size_t i = 0; i < 2; i++)
        pgi_buf_printf(&b,
                       "void __real_wasm_rt_allocate_%s_table(wasm_rt_%s_table_t *, uint32_t, "
                       "uint32_t);\n"
                       "void __wrap_wasm_rt_allocate_%s_table(wasm_rt_%s_table_t *, uint32_t, "
                       "uint32_t);\n"
                       "void __wrap_wasm_rt_allocate_%s_table(wasm_rt_%s_table_t *t, uint32_t "
                       "n, uint32_t max) {\n"
                       "  __real_wasm_rt_allocate_%s_table(t, n, max);\n"
                       "  if (n && !t->data) { t->size = 0; t->max_size = 0; "
                       "wasm_rt_trap(WASM_RT_TRAP_OOB); }\n"
                       "}\n\n",
                       refs[i], refs[i], refs[i], refs[i], refs[i], refs[i], refs[i]);

    pgi_buf_puts(&b, "static void pgw_import(uint32_t k, const pgw_value *a, pgw_value *r) {\n"
                     "  wasm_rt_memory_t *m = pgw_mem();\n"
                     "  int rc = pgw_host->import(pgw_host->user, k, a, r, m ? m->data : NULL, "
                     "m ? m->size : 0);\n"
                     "  if (rc == PGW_IMPORT_EXIT) {\n"
                     "    pgw_exited = 1;\n    pgw_exit_code = (int32_t)r[0].i32;\n"
                     "    wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);\n  }\n"
                     "  if (rc != PGW_IMPORT_OK) wasm_rt_trap(WASM_RT_TRAP_OOB);\n"
                     "}\n\n");

    for (uint32_t i = 0; i < info->n_imports; i++) {
        const pgi_wasm_import *im = &info->imports[i];
        import_fn(&b, (size_t)pgi_wasm_abi_find(im->module, im->name), im);
    }

    /* Thunks and the export table. */
    pgi_buf rows = {0}, thunks = {0};
    uint32_t n_rows = 0;
    for (uint32_t i = 0; i < info->n_exports; i++) {
        const pgi_wasm_export *e = &info->exports[i];
        if (e->kind != PGI_WASM_KIND_FUNC || e->type >= info->n_types ||
            strlen(e->name) != e->name_len)
            continue;
        const pgi_wasm_functype *t = &info->types[e->type];
        char ps[PGI_WASM_MAX_PARAMS + 1], rs[PGI_WASM_MAX_RESULTS + 1];
        if (letters(t->params, t->n_params, ps, sizeof ps) ||
            letters(t->results, t->n_results, rs, sizeof rs))
            continue; /* v128 or references: not callable with numbers */
        pgi_buf_printf(&thunks, "static void pgw_call_%u(const pgw_value *a, pgw_value *r) {\n  ",
                       n_rows);
        pgi_buf_puts(&thunks, "(void)a; (void)r;\n  ");
        if (t->n_results == 1)
            pgi_buf_printf(&thunks, "r[0].%s = ", field(rs[0]));
        else if (t->n_results > 1) {
            pgi_buf_puts(&thunks, "struct wasm_multi_");
            for (uint32_t k = 0; k < t->n_results; k++)
                pgi_buf_printf(&thunks, "%c", multi_letter(rs[k]));
            pgi_buf_puts(&thunks, " m = ");
        }
        pgi_buf_puts(&thunks, "Z_strategyZ_");
        mangle(&thunks, e->name, e->name_len);
        pgi_buf_puts(&thunks, "(&pgw_inst");
        for (uint32_t k = 0; k < t->n_params; k++)
            pgi_buf_printf(&thunks, ", a[%u].%s", k, field(ps[k]));
        pgi_buf_puts(&thunks, ");\n");
        for (uint32_t k = 0; t->n_results > 1 && k < t->n_results; k++)
            pgi_buf_printf(&thunks, "  r[%u].%s = m.%c%u;\n", k, field(rs[k]), multi_letter(rs[k]),
                           k);
        pgi_buf_puts(&thunks, "}\n");
        pgi_buf_puts(&rows, "  {");
        literal(&rows, e->name, e->name_len);
        pgi_buf_printf(&rows, ", %uu, %uu, \"%s\", \"%s\"},\n", t->n_params, t->n_results, ps, rs);
        n_rows++;
    }
    pgi_buf_append(&b, thunks.data ? thunks.data : "", thunks.len);
    pgi_buf_printf(&b, "\nstatic const pgw_export_v1 pgw_exports[%u] = {\n", n_rows + 1);
    pgi_buf_append(&b, rows.data ? rows.data : "", rows.len);
    pgi_buf_puts(&b, "  {\"\", 0u, 0u, \"\", \"\"},\n};\n\n");
    pgi_buf_printf(&b, "static void (*const pgw_thunks[%u])(const pgw_value *, pgw_value *) = {\n",
                   n_rows + 1);
    for (uint32_t i = 0; i < n_rows; i++)
        pgi_buf_printf(&b, "  pgw_call_%u,\n", i);
    pgi_buf_puts(&b, "  NULL,\n};\n\n");
    pgi_buf_free(&rows);
    pgi_buf_free(&thunks);

    uint64_t initial = has_memory ? info->memories[0].min : 0;
    uint64_t max = has_memory && info->memories[0].has_max ? info->memories[0].max : 65536;
    pgi_buf_printf(&b,
                   "static void pgw_set_depth(uint32_t depth) {\n"
                   "  if (depth > WASM_RT_MAX_CALL_STACK_DEPTH) depth = "
                   "WASM_RT_MAX_CALL_STACK_DEPTH;\n"
                   "  wasm_rt_call_stack_depth = WASM_RT_MAX_CALL_STACK_DEPTH - depth;\n"
                   "}\n\n"
                   "static int pgw_instantiate(const pgw_host_v1 *host, uint32_t max_pages, "
                   "uint32_t depth, uint32_t *trap, int32_t *exit_code) {\n"
                   "  if (pgw_host || !host) return PGW_CALL_REFUSED;\n"
                   "  if (%lluull > max_pages) return PGW_CALL_REFUSED;\n"
                   "  pgw_host = host;\n"
                   "  pgw_ceiling = max_pages;\n"
                   "  pgw_exited = 0;\n"
                   "  wasm_rt_init();\n"
                   "  Z_strategy_init_module();\n"
                   "  pgw_set_depth(depth);\n"
                   "  int t = wasm_rt_impl_try();\n"
                   "  if (t != 0) {\n"
                   "    if (pgw_exited) { *exit_code = pgw_exit_code; return PGW_CALL_EXIT; }\n"
                   "    *trap = (uint32_t)t;\n    return PGW_CALL_TRAP;\n  }\n"
                   "  Z_strategy_instantiate(&pgw_inst%s%s);\n"
                   "  pgw_instantiated = 1;\n"
                   "  return PGW_CALL_OK;\n"
                   "}\n\n",
                   (unsigned long long)initial, import_pg ? ", &pgw_pg" : "",
                   import_wasi ? ", &pgw_wasi" : "");
    pgi_buf_puts(&b,
                 "static int pgw_invoke(uint32_t e, const pgw_value *a, pgw_value *r, "
                 "uint32_t depth, uint32_t *trap, int32_t *exit_code) {\n"
                 "  if (!pgw_instantiated || e >= sizeof pgw_exports / sizeof pgw_exports[0] - 1)"
                 " return PGW_CALL_REFUSED;\n"
                 "  pgw_exited = 0;\n"
                 "  pgw_set_depth(depth);\n"
                 "  int t = wasm_rt_impl_try();\n"
                 "  if (t != 0) {\n"
                 "    if (pgw_exited) { *exit_code = pgw_exit_code; return PGW_CALL_EXIT; }\n"
                 "    *trap = (uint32_t)t;\n    return PGW_CALL_TRAP;\n  }\n"
                 "  pgw_thunks[e](a, r);\n"
                 "  return PGW_CALL_OK;\n"
                 "}\n\n"
                 "static uint8_t *pgw_memory(uint32_t *size, uint32_t *pages, uint32_t *max) {\n"
                 "  wasm_rt_memory_t *m = pgw_mem();\n"
                 "  *size = m ? m->size : 0;\n  *pages = m ? m->pages : 0;\n"
                 "  *max = m ? m->max_pages : 0;\n"
                 "  return m ? m->data : NULL;\n"
                 "}\n\n");
    pgi_buf_printf(&b,
                   "PGW_EXPORT const pgw_module_v1 " PGI_WASM_SO_SYMBOL ";\n"
                   "PGW_EXPORT const pgw_module_v1 " PGI_WASM_SO_SYMBOL " = {\n"
                   "  %uu, %uu, pgw_exports, %uu, %lluu, %lluu,\n"
                   "  pgw_instantiate, pgw_invoke, pgw_memory,\n"
                   "};\n",
                   PGW_SO_ABI_VERSION, n_rows, has_memory, (unsigned long long)initial,
                   (unsigned long long)max);
    if (b.failed) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory writing the glue");
        goto out;
    }
    *src = b.data;
    b.data = NULL;
out:
    pgi_buf_free(&b);
    return rc;
}
