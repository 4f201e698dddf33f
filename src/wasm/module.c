/* The WebAssembly binary format's module structure, read from untrusted bytes (module.h). A cursor
 * walks the sections in the order the format requires; each known section is read entry by entry
 * and must end exactly where its size says; code, data, element and custom sections are skipped
 * by their size. Every count is checked against the bytes left in its section (each entry takes
 * at least one byte) and against the reader's limits before an array is allocated, so memory is
 * bounded by the input's size. */
#include "wasm/module.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WASM_MAGIC "\0asm"
#define WASM_VERSION "\x01\x00\x00\x00"

/* Section ids. */
enum {
    SEC_CUSTOM = 0,
    SEC_TYPE = 1,
    SEC_IMPORT = 2,
    SEC_FUNCTION = 3,
    SEC_TABLE = 4,
    SEC_MEMORY = 5,
    SEC_GLOBAL = 6,
    SEC_EXPORT = 7,
    SEC_START = 8,
    SEC_ELEMENT = 9,
    SEC_CODE = 10,
    SEC_DATA = 11,
    SEC_DATACOUNT = 12,
    SEC_TAG = 13,
};

static const char *const section_names[] = {"custom", "type",   "import",    "function", "table",
                                            "memory", "global", "export",    "start",    "element",
                                            "code",   "data",   "datacount", "tag"};

/* The place of each section id in the order the format requires (datacount comes before code,
 * tag between memory and global). */
static int
section_rank(unsigned id)
{
    static const int rank[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};
    return id < sizeof rank / sizeof rank[0] ? rank[id] : -1;
}

typedef struct cursor {
    const uint8_t *p;
    size_t pos; /* offset of the next byte */
    size_t end; /* offset just past the current region */
    pg_error *err;
    const char *what; /* what is being read, for messages */
} cursor;

static int fail(cursor *c, size_t at, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(cursor *c, size_t at, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pg_error_set(c->err, code, "byte %zu: %s%s%s", at, c->what ? c->what : "",
                        c->what ? ": " : "", msg);
}

static int
need(cursor *c, size_t n, const char *thing)
{
    if (c->end - c->pos < n)
        return fail(c, c->pos, PG_EPARSE,
                    "%s runs past the end of the %s (needs %zu bytes, %zu left)", thing,
                    c->end == c->pos ? "section" : "section", n, c->end - c->pos);
    return PG_OK;
}

static int
read_byte(cursor *c, uint8_t *out, const char *thing)
{
    *out = 0;
    int rc = need(c, 1, thing);
    if (rc != PG_OK)
        return rc;
    *out = c->p[c->pos++];
    return PG_OK;
}

/* An unsigned LEB128 of at most bits bits (32 or 64): at most ceil(bits / 7) bytes, and the unused
 * bits of the last byte zero, as the format requires. */
static int
read_uleb(cursor *c, unsigned bits, uint64_t *out, const char *thing)
{
    size_t start = c->pos;
    unsigned max_bytes = (bits + 6) / 7;
    uint64_t v = 0;
    *out = 0;
    for (unsigned i = 0;; i++) {
        if (c->pos >= c->end)
            return fail(c, start, PG_EPARSE, "%s (an unsigned LEB128 number) runs past the end",
                        thing);
        uint8_t b = c->p[c->pos++];
        unsigned shift = 7 * i;
        if (i == max_bytes - 1) {
            /* the last byte may hold only the bits that remain */
            unsigned left = bits - shift;
            if ((b & 0x80) || (left < 7 && (b >> left) != 0))
                return fail(c, start, PG_EPARSE, "%s does not fit in %u bits (a malformed LEB128)",
                            thing, bits);
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *out = v;
    return PG_OK;
}

static int
read_u32(cursor *c, uint32_t *out, const char *thing)
{
    uint64_t v = 0;
    *out = 0;
    int rc = read_uleb(c, 32, &v, thing);
    if (rc == PG_OK)
        *out = (uint32_t)v;
    return rc;
}

/* A signed LEB128 of at most bits bits, only skipped (constant expressions). */
static int
skip_sleb(cursor *c, unsigned bits, const char *thing)
{
    size_t start = c->pos;
    unsigned max_bytes = (bits + 6) / 7;
    for (unsigned i = 0;; i++) {
        if (c->pos >= c->end)
            return fail(c, start, PG_EPARSE, "%s (a signed LEB128 number) runs past the end",
                        thing);
        uint8_t b = c->p[c->pos++];
        if (i == max_bytes - 1) {
            if (b & 0x80)
                return fail(c, start, PG_EPARSE, "%s does not fit in %u bits (a malformed LEB128)",
                            thing, bits);
            /* the unused bits must repeat the sign bit */
            unsigned left = bits - 7 * i; /* bits this byte carries */
            if (left < 7) {
                uint8_t sign = (uint8_t)((b >> (left - 1)) & 1);
                uint8_t rest = (uint8_t)((b & 0x7f) >> left);
                uint8_t want = sign ? (uint8_t)(0x7f >> left) : 0;
                if (rest != want)
                    return fail(c, start, PG_EPARSE,
                                "%s does not fit in %u bits (a malformed LEB128)", thing, bits);
            }
            break;
        }
        if (!(b & 0x80))
            break;
    }
    return PG_OK;
}

/* A count of entries each at least min_entry bytes long, at most limit. */
static int
read_count(cursor *c, uint32_t limit, size_t min_entry, uint32_t *out, const char *thing)
{
    size_t at = c->pos;
    uint32_t n = 0;
    int rc = read_u32(c, &n, thing);
    if (rc != PG_OK)
        return rc;
    if (n > limit)
        return fail(c, at, PG_ELIMIT, "%u %s is more than the %u allowed", n, thing, limit);
    if ((uint64_t)n * min_entry > c->end - c->pos)
        return fail(c, at, PG_EPARSE, "%u %s cannot fit in the %zu bytes left of the section", n,
                    thing, c->end - c->pos);
    *out = n;
    return PG_OK;
}

/* A name of any bytes for a message: printable ASCII kept, other bytes as \xNN, at most 60 bytes
 * shown ("..." after), so a hostile name cannot put control characters in a message. */
#define QUOTED_SIZE 256
static const char *
quoted(const char *s, size_t n, char *buf)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 8 < QUOTED_SIZE; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (i == 60) {
            k += (size_t)snprintf(buf + k, QUOTED_SIZE - k, "...");
            break;
        }
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
            buf[k++] = (char)ch;
        else
            k += (size_t)snprintf(buf + k, QUOTED_SIZE - k, "\\x%02x", ch);
    }
    buf[k] = '\0';
    return buf;
}

static int
read_name(cursor *c, char **out, size_t *out_len, const char *thing)
{
    size_t at = c->pos;
    uint32_t n = 0;
    int rc = read_u32(c, &n, thing);
    if (rc != PG_OK)
        return rc;
    if (n > PGI_WASM_MAX_NAME)
        return fail(c, at, PG_ELIMIT, "%s is %u bytes long, more than the %u allowed", thing, n,
                    PGI_WASM_MAX_NAME);
    if ((rc = need(c, n, thing)) != PG_OK)
        return rc;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return pg_error_set(c->err, PG_ENOMEM, "out of memory reading a WebAssembly module");
    memcpy(s, c->p + c->pos, n);
    s[n] = '\0';
    c->pos += n;
    *out = s;
    *out_len = n;
    return PG_OK;
}

static int
is_valtype(uint8_t t)
{
    switch (t) {
    case PGI_WASM_I32:
    case PGI_WASM_I64:
    case PGI_WASM_F32:
    case PGI_WASM_F64:
    case PGI_WASM_V128:
    case PGI_WASM_FUNCREF:
    case PGI_WASM_EXTERNREF: return 1;
    default: return 0;
    }
}

static int
read_valtype(cursor *c, uint8_t *out, const char *thing)
{
    size_t at = c->pos;
    int rc = read_byte(c, out, thing);
    if (rc != PG_OK)
        return rc;
    if (!is_valtype(*out))
        return fail(c, at, PG_EPARSE, "%s: 0x%02x is not a value type", thing, *out);
    return PG_OK;
}

static int
read_limits(cursor *c, int memory, pgi_wasm_limits *l)
{
    size_t at = c->pos;
    uint8_t flags = 0;
    int rc = read_byte(c, &flags, "limits");
    if (rc != PG_OK)
        return rc;
    /* bit 0: a maximum follows; memories only: bit 1 shared, bit 2 64-bit */
    if (flags > (memory ? 7 : 1))
        return fail(c, at, PG_EPARSE, "0x%02x is not a valid limits flag for a %s", flags,
                    memory ? "memory" : "table");
    memset(l, 0, sizeof *l);
    l->has_max = flags & 1;
    l->shared = (flags >> 1) & 1;
    l->is64 = (flags >> 2) & 1;
    unsigned bits = l->is64 ? 64 : 32;
    if ((rc = read_uleb(c, bits, &l->min, "the minimum size")) != PG_OK)
        return rc;
    if (l->has_max && (rc = read_uleb(c, bits, &l->max, "the maximum size")) != PG_OK)
        return rc;
    return PG_OK;
}

static int
read_table(cursor *c, pgi_wasm_table *t)
{
    size_t at = c->pos;
    int rc = read_byte(c, &t->elem, "a table's element type");
    if (rc != PG_OK)
        return rc;
    if (t->elem != PGI_WASM_FUNCREF && t->elem != PGI_WASM_EXTERNREF)
        return fail(c, at, PG_EPARSE, "0x%02x is not a table element type (funcref or externref)",
                    t->elem);
    return read_limits(c, 0, &t->limits);
}

static int
read_global_type(cursor *c, pgi_wasm_global *g)
{
    int rc = read_valtype(c, &g->type, "a global's type");
    if (rc != PG_OK)
        return rc;
    size_t at = c->pos;
    uint8_t m = 0;
    if ((rc = read_byte(c, &m, "a global's mutability")) != PG_OK)
        return rc;
    if (m > 1)
        return fail(c, at, PG_EPARSE, "0x%02x is not a mutability (0 or 1)", m);
    g->mut = m;
    return PG_OK;
}

/* A constant expression (a global's initializer): one instruction of those the format allows,
 * then end. Only skipped: its value is the module's own business. */
static int
skip_const_expr(cursor *c)
{
    int rc;
    for (int n = 0;; n++) {
        size_t at = c->pos;
        uint8_t op = 0;
        uint64_t u = 0;
        if ((rc = read_byte(c, &op, "a constant expression")) != PG_OK)
            return rc;
        if (op == 0x0b)
            return PG_OK;
        if (n >= 1)
            return fail(c, at, PG_EPARSE,
                        "a constant expression holds more than one instruction (0x%02x)", op);
        switch (op) {
        case 0x41: /* i32.const */ rc = skip_sleb(c, 32, "an i32.const"); break;
        case 0x42: /* i64.const */ rc = skip_sleb(c, 64, "an i64.const"); break;
        case 0x43: /* f32.const */
            if ((rc = need(c, 4, "an f32.const")) == PG_OK)
                c->pos += 4;
            break;
        case 0x44: /* f64.const */
            if ((rc = need(c, 8, "an f64.const")) == PG_OK)
                c->pos += 8;
            break;
        case 0x23: /* global.get */
        case 0xd2: /* ref.func */ rc = read_uleb(c, 32, &u, "an index"); break;
        case 0xd0: { /* ref.null */
            uint8_t t = 0;
            rc = read_byte(c, &t, "a reference type");
            break;
        }
        case 0xfd: /* v128.const: opcode 12, then 16 bytes */
            if ((rc = read_uleb(c, 32, &u, "a SIMD opcode")) != PG_OK)
                return rc;
            if (u != 12)
                return fail(c, at, PG_EPARSE,
                            "SIMD instruction %u is not allowed in a constant expression",
                            (unsigned)u);
            if ((rc = need(c, 16, "a v128.const")) == PG_OK)
                c->pos += 16;
            break;
        default:
            return fail(c, at, PG_EPARSE,
                        "instruction 0x%02x is not allowed in a constant expression", op);
        }
        if (rc != PG_OK)
            return rc;
    }
}

static int
grow_array(void **arr, size_t n, size_t size, pg_error *err)
{
    if (n == 0)
        return PG_OK;
    void *p = calloc(n, size);
    if (!p)
        return pg_error_set(err, PG_ENOMEM, "out of memory reading a WebAssembly module");
    *arr = p;
    return PG_OK;
}

/* Appends extra entries to an array of n entries (imports come before definitions). */
static int
extend(void **arr, size_t n, size_t extra, size_t size, pg_error *err)
{
    if (extra == 0)
        return PG_OK;
    void *p = realloc(*arr, (n + extra) * size);
    if (!p)
        return pg_error_set(err, PG_ENOMEM, "out of memory reading a WebAssembly module");
    memset((char *)p + n * size, 0, extra * size);
    *arr = p;
    return PG_OK;
}

static int
read_types(cursor *c, pgi_wasm_module_info *m)
{
    uint32_t n = 0;
    int rc = read_count(c, PGI_WASM_MAX_TYPES, 3, &n, "types");
    if (rc != PG_OK)
        return rc;
    if ((rc = grow_array((void **)&m->types, n, sizeof *m->types, c->err)) != PG_OK)
        return rc;
    m->n_types = n;
    for (uint32_t i = 0; i < n; i++) {
        pgi_wasm_functype *t = &m->types[i];
        size_t at = c->pos;
        uint8_t form = 0;
        if ((rc = read_byte(c, &form, "a type's form")) != PG_OK)
            return rc;
        if (form != 0x60)
            return fail(c, at, PG_EPARSE, "type %u: 0x%02x is not a function type (0x60)", i, form);
        uint32_t np = 0, nr = 0;
        if ((rc = read_count(c, PGI_WASM_MAX_PARAMS, 1, &np, "parameters")) != PG_OK)
            return rc;
        if ((rc = grow_array((void **)&t->params, np, 1, c->err)) != PG_OK)
            return rc;
        t->n_params = np;
        for (uint32_t k = 0; k < np; k++)
            if ((rc = read_valtype(c, &t->params[k], "a parameter")) != PG_OK)
                return rc;
        if ((rc = read_count(c, PGI_WASM_MAX_RESULTS, 1, &nr, "results")) != PG_OK)
            return rc;
        if ((rc = grow_array((void **)&t->results, nr, 1, c->err)) != PG_OK)
            return rc;
        t->n_results = nr;
        for (uint32_t k = 0; k < nr; k++)
            if ((rc = read_valtype(c, &t->results[k], "a result")) != PG_OK)
                return rc;
    }
    return PG_OK;
}

static int
read_imports(cursor *c, pgi_wasm_module_info *m)
{
    char q1[QUOTED_SIZE], q2[QUOTED_SIZE];
    uint32_t n = 0;
    /* module name, name, kind, one byte of description: 4 bytes at least */
    int rc = read_count(c, PGI_WASM_MAX_IMPORTS, 4, &n, "imports");
    if (rc != PG_OK)
        return rc;
    if ((rc = grow_array((void **)&m->imports, n, sizeof *m->imports, c->err)) != PG_OK)
        return rc;
    /* count by kind first pass is not possible without reading: fill, then build index spaces */
    for (uint32_t i = 0; i < n; i++) {
        pgi_wasm_import *im = &m->imports[i];
        im->offset = c->pos;
        m->n_imports = i + 1; /* so that free sees the names read so far */
        if ((rc = read_name(c, &im->module, &im->module_len, "an import's module name")) != PG_OK)
            return rc;
        if ((rc = read_name(c, &im->name, &im->name_len, "an import's name")) != PG_OK)
            return rc;
        size_t at = c->pos;
        if ((rc = read_byte(c, &im->kind, "an import's kind")) != PG_OK)
            return rc;
        switch (im->kind) {
        case PGI_WASM_KIND_FUNC: {
            size_t tat = c->pos;
            if ((rc = read_u32(c, &im->type, "a type index")) != PG_OK)
                return rc;
            if (im->type >= m->n_types)
                return fail(c, tat, PG_EPARSE,
                            "import %u (\"%s\".\"%s\") has type %u, but the module has %u types", i,
                            quoted(im->module, im->module_len, q1),
                            quoted(im->name, im->name_len, q2), im->type, m->n_types);
            if (m->n_funcs >= PGI_WASM_MAX_FUNCS)
                return fail(c, at, PG_ELIMIT, "more than %u functions", PGI_WASM_MAX_FUNCS);
            m->n_funcs++;
            break;
        }
        case PGI_WASM_KIND_TABLE:
            if ((rc = read_table(c, &im->table)) != PG_OK)
                return rc;
            if (m->n_tables >= PGI_WASM_MAX_TABLES)
                return fail(c, at, PG_ELIMIT, "more than %u tables", PGI_WASM_MAX_TABLES);
            m->n_tables++;
            break;
        case PGI_WASM_KIND_MEMORY:
            if ((rc = read_limits(c, 1, &im->memory)) != PG_OK)
                return rc;
            if (m->n_memories >= PGI_WASM_MAX_MEMORIES)
                return fail(c, at, PG_ELIMIT, "more than %u memories", PGI_WASM_MAX_MEMORIES);
            m->n_memories++;
            break;
        case PGI_WASM_KIND_GLOBAL:
            if ((rc = read_global_type(c, &im->global)) != PG_OK)
                return rc;
            if (m->n_globals >= PGI_WASM_MAX_GLOBALS)
                return fail(c, at, PG_ELIMIT, "more than %u globals", PGI_WASM_MAX_GLOBALS);
            m->n_globals++;
            break;
        default:
            return fail(c, at, PG_EPARSE,
                        "import %u (\"%s\".\"%s\"): 0x%02x is not an import kind this reader knows "
                        "(function, table, memory, global)",
                        i, quoted(im->module, im->module_len, q1),
                        quoted(im->name, im->name_len, q2), im->kind);
        }
    }
    /* the index spaces, imports first */
    if ((rc = grow_array((void **)&m->func_types, m->n_funcs, sizeof *m->func_types, c->err)) ||
        (rc = grow_array((void **)&m->tables, m->n_tables, sizeof *m->tables, c->err)) ||
        (rc = grow_array((void **)&m->memories, m->n_memories, sizeof *m->memories, c->err)) ||
        (rc = grow_array((void **)&m->globals, m->n_globals, sizeof *m->globals, c->err)))
        return rc;
    uint32_t f = 0, t = 0, mem = 0, g = 0;
    for (uint32_t i = 0; i < n; i++) {
        const pgi_wasm_import *im = &m->imports[i];
        switch (im->kind) {
        case PGI_WASM_KIND_FUNC: m->func_types[f++] = im->type; break;
        case PGI_WASM_KIND_TABLE: m->tables[t++] = im->table; break;
        case PGI_WASM_KIND_MEMORY: m->memories[mem++] = im->memory; break;
        default: m->globals[g++] = im->global; break;
        }
    }
    m->n_func_imports = f;
    m->n_memory_imports = mem;
    return PG_OK;
}

static int
read_functions(cursor *c, pgi_wasm_module_info *m)
{
    uint32_t n = 0;
    size_t at = c->pos;
    int rc = read_count(c, PGI_WASM_MAX_FUNCS, 1, &n, "functions");
    if (rc != PG_OK)
        return rc;
    if (n > PGI_WASM_MAX_FUNCS - m->n_funcs)
        return fail(c, at, PG_ELIMIT, "%u functions and %u imported are more than the %u allowed",
                    n, m->n_funcs, PGI_WASM_MAX_FUNCS);
    if ((rc = extend((void **)&m->func_types, m->n_funcs, n, sizeof *m->func_types, c->err)) !=
        PG_OK)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        size_t tat = c->pos;
        uint32_t ti = 0;
        if ((rc = read_u32(c, &ti, "a type index")) != PG_OK)
            return rc;
        if (ti >= m->n_types)
            return fail(c, tat, PG_EPARSE, "function %u has type %u, but the module has %u types",
                        m->n_funcs, ti, m->n_types);
        m->func_types[m->n_funcs++] = ti;
    }
    return PG_OK;
}

static int
read_tables(cursor *c, pgi_wasm_module_info *m)
{
    uint32_t n = 0;
    size_t at = c->pos;
    int rc = read_count(c, PGI_WASM_MAX_TABLES, 3, &n, "tables");
    if (rc != PG_OK)
        return rc;
    if (n > PGI_WASM_MAX_TABLES - m->n_tables)
        return fail(c, at, PG_ELIMIT, "more than %u tables", PGI_WASM_MAX_TABLES);
    if ((rc = extend((void **)&m->tables, m->n_tables, n, sizeof *m->tables, c->err)) != PG_OK)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = read_table(c, &m->tables[m->n_tables])) != PG_OK)
            return rc;
        m->n_tables++;
    }
    return PG_OK;
}

static int
read_memories(cursor *c, pgi_wasm_module_info *m)
{
    uint32_t n = 0;
    size_t at = c->pos;
    int rc = read_count(c, PGI_WASM_MAX_MEMORIES, 2, &n, "memories");
    if (rc != PG_OK)
        return rc;
    if (n > PGI_WASM_MAX_MEMORIES - m->n_memories)
        return fail(c, at, PG_ELIMIT, "more than %u memories", PGI_WASM_MAX_MEMORIES);
    if ((rc = extend((void **)&m->memories, m->n_memories, n, sizeof *m->memories, c->err)) !=
        PG_OK)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = read_limits(c, 1, &m->memories[m->n_memories])) != PG_OK)
            return rc;
        m->n_memories++;
    }
    return PG_OK;
}

static int
read_globals(cursor *c, pgi_wasm_module_info *m)
{
    uint32_t n = 0;
    size_t at = c->pos;
    /* type, mutability, one instruction, end: 4 bytes at least */
    int rc = read_count(c, PGI_WASM_MAX_GLOBALS, 4, &n, "globals");
    if (rc != PG_OK)
        return rc;
    if (n > PGI_WASM_MAX_GLOBALS - m->n_globals)
        return fail(c, at, PG_ELIMIT, "more than %u globals", PGI_WASM_MAX_GLOBALS);
    if ((rc = extend((void **)&m->globals, m->n_globals, n, sizeof *m->globals, c->err)) != PG_OK)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = read_global_type(c, &m->globals[m->n_globals])) != PG_OK)
            return rc;
        if ((rc = skip_const_expr(c)) != PG_OK)
            return rc;
        m->n_globals++;
    }
    return PG_OK;
}

static int
read_exports(cursor *c, pgi_wasm_module_info *m)
{
    char q1[QUOTED_SIZE];
    uint32_t n = 0;
    /* name, kind, index: 3 bytes at least */
    int rc = read_count(c, PGI_WASM_MAX_EXPORTS, 3, &n, "exports");
    if (rc != PG_OK)
        return rc;
    if ((rc = grow_array((void **)&m->exports, n, sizeof *m->exports, c->err)) != PG_OK)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        pgi_wasm_export *ex = &m->exports[i];
        ex->offset = c->pos;
        m->n_exports = i + 1;
        if ((rc = read_name(c, &ex->name, &ex->name_len, "an export's name")) != PG_OK)
            return rc;
        size_t at = c->pos;
        if ((rc = read_byte(c, &ex->kind, "an export's kind")) != PG_OK)
            return rc;
        if ((rc = read_u32(c, &ex->index, "an export's index")) != PG_OK)
            return rc;
        uint32_t limit;
        const char *what;
        switch (ex->kind) {
        case PGI_WASM_KIND_FUNC:
            limit = m->n_funcs;
            what = "functions";
            break;
        case PGI_WASM_KIND_TABLE:
            limit = m->n_tables;
            what = "tables";
            break;
        case PGI_WASM_KIND_MEMORY:
            limit = m->n_memories;
            what = "memories";
            break;
        case PGI_WASM_KIND_GLOBAL:
            limit = m->n_globals;
            what = "globals";
            break;
        default:
            return fail(c, at, PG_EPARSE,
                        "export %u (\"%s\"): 0x%02x is not an export kind this reader knows "
                        "(function, table, memory, global)",
                        i, quoted(ex->name, ex->name_len, q1), ex->kind);
        }
        if (ex->index >= limit)
            return fail(c, at, PG_EPARSE,
                        "export %u (\"%s\") refers to %s %u, but the module has %u", i,
                        quoted(ex->name, ex->name_len, q1), what, ex->index, limit);
        ex->type = ex->kind == PGI_WASM_KIND_FUNC ? m->func_types[ex->index] : 0;
        for (uint32_t k = 0; k < i; k++)
            if (m->exports[k].name_len == ex->name_len &&
                memcmp(m->exports[k].name, ex->name, ex->name_len) == 0)
                return fail(c, ex->offset, PG_EPARSE,
                            "export %u: the name \"%s\" is exported twice", i,
                            quoted(ex->name, ex->name_len, q1));
    }
    return PG_OK;
}

static int
read_start(cursor *c, pgi_wasm_module_info *m)
{
    size_t at = c->pos;
    int rc = read_u32(c, &m->start, "the start function's index");
    if (rc != PG_OK)
        return rc;
    if (m->start >= m->n_funcs)
        return fail(c, at, PG_EPARSE, "the start function is %u, but the module has %u functions",
                    m->start, m->n_funcs);
    m->has_start = 1;
    return PG_OK;
}

int
pgi_wasm_module_read(const uint8_t *wasm, size_t len, pgi_wasm_module_info **out, pg_error *err)
{
    int rc = PG_OK;
    pgi_wasm_module_info *m = NULL;
    cursor c = {.p = wasm, .pos = 0, .end = len, .err = err, .what = NULL};
    if (!wasm && len > 0)
        return pg_error_set(err, PG_EINVAL, "no module bytes given");
    if (len < 8 || memcmp(wasm, WASM_MAGIC, 4) != 0) {
        rc = fail(&c, 0, PG_EPARSE,
                  len < 4 ? "not a WebAssembly module: too short for the magic number \\0asm"
                          : "not a WebAssembly module: it does not start with the magic number "
                            "\\0asm");
        goto out;
    }
    if (memcmp(wasm + 4, WASM_VERSION, 4) != 0) {
        rc = fail(&c, 4, PG_EPARSE,
                  "binary format version %02x %02x %02x %02x is not 1 (01 00 00 00); a component "
                  "or a newer format is not a module this reader knows",
                  wasm[4], wasm[5], wasm[6], wasm[7]);
        goto out;
    }
    m = calloc(1, sizeof *m);
    if (!m) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory reading a WebAssembly module");
        goto out;
    }
    c.pos = 8;
    int last_rank = 0;
    char what[64];
    while (c.pos < len) {
        size_t sec_at = c.pos;
        c.end = len;
        c.what = NULL;
        uint8_t id = 0;
        uint32_t size = 0;
        if ((rc = read_byte(&c, &id, "a section id")) != PG_OK)
            goto out;
        int rank = section_rank(id);
        if (rank < 0) {
            rc = fail(&c, sec_at, PG_EPARSE, "0x%02x is not a section id", id);
            goto out;
        }
        if ((rc = read_u32(&c, &size, "a section size")) != PG_OK)
            goto out;
        if (size > len - c.pos) {
            rc = fail(&c, sec_at, PG_EPARSE,
                      "the %s section is %u bytes long, but only %zu bytes of the module follow",
                      section_names[id], size, len - c.pos);
            goto out;
        }
        if (id != SEC_CUSTOM) {
            if (rank <= last_rank) {
                rc = fail(&c, sec_at, PG_EPARSE,
                          "the %s section is out of order or repeated (sections must come in the "
                          "format's order, each at most once)",
                          section_names[id]);
                goto out;
            }
            last_rank = rank;
        }
        c.end = c.pos + size;
        snprintf(what, sizeof what, "the %s section", section_names[id]);
        c.what = what;
        switch (id) {
        case SEC_TYPE: rc = read_types(&c, m); break;
        case SEC_IMPORT: rc = read_imports(&c, m); break;
        case SEC_FUNCTION: rc = read_functions(&c, m); break;
        case SEC_TABLE: rc = read_tables(&c, m); break;
        case SEC_MEMORY: rc = read_memories(&c, m); break;
        case SEC_GLOBAL: rc = read_globals(&c, m); break;
        case SEC_EXPORT: rc = read_exports(&c, m); break;
        case SEC_START: rc = read_start(&c, m); break;
        default: /* custom, element, code, data, datacount, tag: not this reader's business */
            c.pos = c.end;
            break;
        }
        if (rc != PG_OK)
            goto out;
        if (c.pos != c.end) {
            rc = fail(&c, c.pos, PG_EPARSE,
                      "the section ends here, %zu bytes before the end its size gives",
                      c.end - c.pos);
            goto out;
        }
    }
out:
    if (rc != PG_OK) {
        pgi_wasm_module_free(m);
        return rc;
    }
    *out = m;
    return PG_OK;
}

void
pgi_wasm_module_free(pgi_wasm_module_info *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->n_types; i++) {
        free(m->types[i].params);
        free(m->types[i].results);
    }
    free(m->types);
    for (uint32_t i = 0; i < m->n_imports; i++) {
        free(m->imports[i].module);
        free(m->imports[i].name);
    }
    free(m->imports);
    for (uint32_t i = 0; i < m->n_exports; i++)
        free(m->exports[i].name);
    free(m->exports);
    free(m->func_types);
    free(m->tables);
    free(m->memories);
    free(m->globals);
    free(m);
}

const char *
pgi_wasm_valtype_name(uint8_t t)
{
    switch (t) {
    case PGI_WASM_I32: return "i32";
    case PGI_WASM_I64: return "i64";
    case PGI_WASM_F32: return "f32";
    case PGI_WASM_F64: return "f64";
    case PGI_WASM_V128: return "v128";
    case PGI_WASM_FUNCREF: return "funcref";
    case PGI_WASM_EXTERNREF: return "externref";
    default: return "?";
    }
}

static void
list_types(char *buf, size_t size, size_t *used, const uint8_t *t, uint32_t n, int paren)
{
    if (paren)
        *used += (size_t)snprintf(buf + *used, *used < size ? size - *used : 0, "(");
    for (uint32_t i = 0; i < n && *used < size; i++)
        *used += (size_t)snprintf(buf + *used, size - *used, "%s%s", i ? ", " : "",
                                  pgi_wasm_valtype_name(t[i]));
    if (paren && *used < size)
        *used += (size_t)snprintf(buf + *used, size - *used, ")");
}

char *
pgi_wasm_functype_text(const pgi_wasm_functype *t, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    buf[0] = '\0';
    size_t used = 0;
    list_types(buf, size, &used, t->params, t->n_params, 1);
    if (used < size)
        used += (size_t)snprintf(buf + used, size - used, " -> ");
    if (used < size)
        list_types(buf, size, &used, t->results, t->n_results, t->n_results != 1);
    buf[size - 1] = '\0';
    return buf;
}

const pgi_wasm_export *
pgi_wasm_module_export(const pgi_wasm_module_info *m, const char *name, uint8_t kind)
{
    size_t n = strlen(name);
    for (uint32_t i = 0; i < m->n_exports; i++)
        if (m->exports[i].kind == kind && m->exports[i].name_len == n &&
            memcmp(m->exports[i].name, name, n) == 0)
            return &m->exports[i];
    return NULL;
}
