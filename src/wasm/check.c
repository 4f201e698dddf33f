/* Checking a module against the strategy ABI (pg_wasm_check): the module is read once through
 * pg_input_read (size-limited), its structure read by module.c (which refuses what is not
 * WebAssembly with the byte offset), validated by wabt's wasm-validate in a private temporary
 * folder, and held against the ABI's tables (internal.h, abi.c): every import must be a function
 * the ABI offers with its exact signature; a strategy defines one 32-bit memory (not imported,
 * not shared) no larger at the start than the sandbox's ceiling and exports it as "memory", and
 * exports pg_init and pg_on_interval (pg_on_dr_event optionally) with their signatures. Each
 * refusal is a sentence naming the import, export or limit and why; the report lists everything
 * the module imports and exports, accepted or not, so `plurigrid wasm check` can show it. */
#include "wasm/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "wasm/internal.h"
#include "wasm/tool.h"

static const char *
file_label(const char *file)
{
    return strcmp(file, "-") == 0 ? "standard input" : file;
}

/* A name of any bytes as text for a message: printable ASCII kept, the rest as \xNN, cut at 80
 * bytes with "...". */
static void
quote(const char *s, size_t n, char *buf, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 8 < size; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (i == 80) {
            k += (size_t)snprintf(buf + k, size - k, "...");
            break;
        }
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
            buf[k++] = (char)ch;
        else
            k += (size_t)snprintf(buf + k, size - k, "\\x%02x", ch);
    }
    buf[k] = '\0';
}

static void
limits_text(pgi_buf *b, const pgi_wasm_limits *l, const char *unit)
{
    if (l->has_max)
        pgi_buf_printf(b, "%llu..%llu %s", (unsigned long long)l->min, (unsigned long long)l->max,
                       unit);
    else
        pgi_buf_printf(b, "%llu.. %s (no maximum)", (unsigned long long)l->min, unit);
    if (l->is64)
        pgi_buf_puts(b, ", 64-bit");
    if (l->shared)
        pgi_buf_puts(b, ", shared");
}

static char *
type_text(const pgi_wasm_module_info *m, uint8_t kind, uint32_t type, const pgi_wasm_table *t,
          const pgi_wasm_limits *mem, const pgi_wasm_global *g)
{
    pgi_buf b = {0};
    char tb[512];
    switch (kind) {
    case PGI_WASM_KIND_FUNC:
        pgi_buf_puts(&b, type < m->n_types ? pgi_wasm_functype_text(&m->types[type], tb, sizeof tb)
                                           : "?");
        break;
    case PGI_WASM_KIND_TABLE:
        pgi_buf_printf(&b, "table of %s, ", pgi_wasm_valtype_name(t->elem));
        limits_text(&b, &t->limits, "elements");
        break;
    case PGI_WASM_KIND_MEMORY:
        pgi_buf_puts(&b, "memory, ");
        limits_text(&b, mem, "pages");
        break;
    default:
        pgi_buf_printf(&b, "global %s%s", g->mut ? "mutable " : "", pgi_wasm_valtype_name(g->type));
        break;
    }
    if (b.failed) {
        pgi_buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* "(i32, i64) -> i32" from the ABI's letters. */
static void
sig_text(const char *params, const char *results, char *buf, size_t size)
{
    uint8_t p[16], r[16];
    pgi_wasm_functype t = {0, 0, p, r};
    for (const char *s = params; *s && t.n_params < 16; s++)
        p[t.n_params++] = *s == 'i'   ? PGI_WASM_I32
                          : *s == 'I' ? PGI_WASM_I64
                          : *s == 'f' ? PGI_WASM_F32
                                      : PGI_WASM_F64;
    for (const char *s = results; *s && t.n_results < 16; s++)
        r[t.n_results++] = *s == 'i'   ? PGI_WASM_I32
                           : *s == 'I' ? PGI_WASM_I64
                           : *s == 'f' ? PGI_WASM_F32
                                       : PGI_WASM_F64;
    pgi_wasm_functype_text(&t, buf, size);
}

/* Whether t is the signature the ABI writes as letters (both printed by the same printer). */
static int
sig_matches(const char *params, const char *results, const pgi_wasm_functype *t)
{
    char want[256], have[256];
    sig_text(params, results, want, sizeof want);
    pgi_wasm_functype_text(t, have, sizeof have);
    return strcmp(want, have) == 0;
}

typedef struct problems {
    pgi_buf list; /* problems separated by NUL bytes */
    size_t n;
    int failed;
} problems;

static int problem(problems *ps, char **keep, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a problem; *keep (when keep is not NULL) receives a copy of its text (the refused
 * entry's reason). Returns 0 when out of memory. */
static int
problem(problems *ps, char **keep, const char *fmt, ...)
{
    pgi_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    pgi_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (b.failed) {
        ps->failed = 1;
        pgi_buf_free(&b);
        return 0;
    }
    pgi_buf_append(&ps->list, b.data, b.len + 1);
    ps->n++;
    if (keep)
        *keep = b.data;
    else
        pgi_buf_free(&b);
    return 1;
}

static int
copy_name(pg_wasm_extern *x, const char *name, size_t len)
{
    x->name = malloc(len + 1);
    if (!x->name)
        return 0;
    memcpy(x->name, name, len + 1);
    x->name_len = len;
    return 1;
}

static int
build_report(const pgi_wasm_module_info *m, pg_wasm_abi abi, pg_wasm_check_report **out,
             pg_error *err)
{
    int rc = PG_OK;
    problems ps = {0};
    char q1[400], q2[400], tb[512], want[256];
    pg_wasm_check_report *r = calloc(1, sizeof *r);
    pgi_wasm_sandbox_limits lim;
    pgi_wasm_limits_init(&lim);
    if (!r)
        goto nomem;
    r->memory_ceiling = lim.memory_pages;
    r->has_start = m->has_start;
    if (m->n_imports && !(r->imports = calloc(m->n_imports, sizeof *r->imports)))
        goto nomem;
    for (uint32_t i = 0; i < m->n_imports; i++) {
        const pgi_wasm_import *im = &m->imports[i];
        pg_wasm_extern *x = &r->imports[i];
        r->n_imports = i + 1;
        x->kind = (pg_wasm_kind)im->kind;
        x->module = malloc(im->module_len + 1);
        if (!x->module || !copy_name(x, im->name, im->name_len))
            goto nomem;
        memcpy(x->module, im->module, im->module_len + 1);
        if (!(x->type = type_text(m, im->kind, im->type, &im->table, &im->memory, &im->global)))
            goto nomem;
        quote(im->module, im->module_len, q1, sizeof q1);
        quote(im->name, im->name_len, q2, sizeof q2);
        int k = (im->module_len == strlen(im->module) && im->name_len == strlen(im->name))
                    ? pgi_wasm_abi_find(im->module, im->name)
                    : -1;
        x->allowed = 0;
        if (im->kind != PGI_WASM_KIND_FUNC) {
            static const char *const kinds[] = {"function", "table", "memory", "global"};
            problem(&ps, &x->reason,
                    "import \"%s\".\"%s\" is a %s: the ABI offers only functions "
                    "(a strategy defines its own memory and tables)",
                    q1, q2, kinds[im->kind & 3]);
        } else if (k < 0) {
            problem(&ps, &x->reason,
                    "import \"%s\".\"%s\" is not offered by the strategy ABI (the "
                    "host gives a module only the imports docs/wasm.md lists: no "
                    "files, no network)",
                    q1, q2);
        } else if (!pgi_wasm_abi_type_matches((size_t)k, &m->types[im->type])) {
            sig_text(pgi_wasm_abi_imports[k].params, pgi_wasm_abi_imports[k].results, want,
                     sizeof want);
            problem(&ps, &x->reason, "import \"%s\".\"%s\" has the type %s, but the ABI's is %s",
                    q1, q2, pgi_wasm_functype_text(&m->types[im->type], tb, sizeof tb), want);
        } else {
            x->allowed = 1;
        }
        if (!x->allowed && !x->reason)
            goto nomem;
    }

    if (m->n_exports && !(r->exports = calloc(m->n_exports, sizeof *r->exports)))
        goto nomem;
    for (uint32_t i = 0; i < m->n_exports; i++) {
        const pgi_wasm_export *ex = &m->exports[i];
        pg_wasm_extern *x = &r->exports[i];
        r->n_exports = i + 1;
        x->kind = (pg_wasm_kind)ex->kind;
        if (!copy_name(x, ex->name, ex->name_len))
            goto nomem;
        const pgi_wasm_table *t = ex->kind == PGI_WASM_KIND_TABLE ? &m->tables[ex->index] : NULL;
        const pgi_wasm_limits *mem =
            ex->kind == PGI_WASM_KIND_MEMORY ? &m->memories[ex->index] : NULL;
        const pgi_wasm_global *g = ex->kind == PGI_WASM_KIND_GLOBAL ? &m->globals[ex->index] : NULL;
        if (!(x->type = type_text(m, ex->kind, ex->type, t, mem, g)))
            goto nomem;
        x->allowed = 1;
        if (abi != PG_WASM_ABI_STRATEGY)
            continue;
        quote(ex->name, ex->name_len, q1, sizeof q1);
        int named = ex->name_len == strlen(ex->name);
        if (named && strcmp(ex->name, PGI_WASM_EXPORT_START) == 0) {
            x->allowed = 0;
            problem(&ps, &x->reason,
                    "export \"%s\": the module is a WASI command, whose _start runs "
                    "main once and exits; a strategy is a reactor (build it with "
                    "-mexec-model=reactor)",
                    q1);
        } else if (named && strcmp(ex->name, PGI_WASM_EXPORT_INITIALIZE) == 0 &&
                   (ex->kind != PGI_WASM_KIND_FUNC || !sig_matches("", "", &m->types[ex->type]))) {
            x->allowed = 0;
            problem(&ps, &x->reason, "export \"%s\" must be a function of type () -> ()", q1);
        } else if (named && strcmp(ex->name, PGI_WASM_EXPORT_MEMORY) == 0 &&
                   ex->kind != PGI_WASM_KIND_MEMORY) {
            x->allowed = 0;
            problem(&ps, &x->reason, "export \"%s\" must be the module's memory", q1);
        } else if (named) {
            for (size_t k = 0; k < pgi_wasm_abi_n_exports; k++) {
                const pgi_wasm_abi_export *ae = &pgi_wasm_abi_exports[k];
                if (strcmp(ae->name, ex->name) != 0)
                    continue;
                if (ex->kind != PGI_WASM_KIND_FUNC ||
                    !sig_matches(ae->params, ae->results, &m->types[ex->type])) {
                    sig_text(ae->params, ae->results, want, sizeof want);
                    x->allowed = 0;
                    problem(&ps, &x->reason, "export \"%s\" is %s, but the ABI's is a function %s",
                            q1, x->type, want);
                }
            }
        }
        if (!x->allowed && !x->reason)
            goto nomem;
    }

    /* the memory */
    if (m->n_memories > 0) {
        const pgi_wasm_limits *l = &m->memories[0];
        r->has_memory = 1;
        r->memory_initial = l->min;
        r->memory_max = l->max;
        r->memory_has_max = l->has_max;
        if (m->n_memories > 1 && !problem(&ps, NULL,
                                          "the module has %u memories; the sandbox gives a "
                                          "module one",
                                          m->n_memories))
            goto nomem;
        if (l->is64 && !problem(&ps, NULL,
                                "the memory is 64-bit (memory64); the sandbox runs 32-bit "
                                "memories only"))
            goto nomem;
        if (l->shared && !problem(&ps, NULL,
                                  "the memory is shared (threads); the sandbox runs a module "
                                  "on one thread with an unshared memory"))
            goto nomem;
        if (l->min > lim.memory_pages &&
            !problem(&ps, NULL,
                     "the memory starts at %llu pages (%llu KiB), over the sandbox's ceiling of "
                     "%u pages (%u KiB)",
                     (unsigned long long)l->min, (unsigned long long)l->min * 64, lim.memory_pages,
                     lim.memory_pages * 64))
            goto nomem;
    }
    if (abi == PG_WASM_ABI_STRATEGY) {
        const pgi_wasm_export *me =
            pgi_wasm_module_export(m, PGI_WASM_EXPORT_MEMORY, PGI_WASM_KIND_MEMORY);
        if (m->n_memories == 0) {
            if (!problem(&ps, NULL,
                         "the module has no memory; a strategy defines one and exports it as "
                         "\"memory\""))
                goto nomem;
        } else if (!me && !problem(&ps, NULL,
                                   "the module's memory is not exported as \"memory\" (the "
                                   "host reads the strategy's plan from it)"))
            goto nomem;
        for (size_t k = 0; k < pgi_wasm_abi_n_exports; k++) {
            const pgi_wasm_abi_export *ae = &pgi_wasm_abi_exports[k];
            if (!ae->required)
                continue;
            int found = 0;
            for (uint32_t i = 0; i < m->n_exports; i++)
                if (m->exports[i].name_len == strlen(ae->name) &&
                    strcmp(m->exports[i].name, ae->name) == 0)
                    found = 1;
            if (found)
                continue;
            sig_text(ae->params, ae->results, want, sizeof want);
            if (!problem(&ps, NULL, "the required export \"%s\" (a function %s) is missing",
                         ae->name, want))
                goto nomem;
        }
    }
    if (ps.failed || ps.list.failed)
        goto nomem;

    /* the problems, in the order found */
    if (ps.n) {
        r->problems = calloc(ps.n, sizeof *r->problems);
        if (!r->problems)
            goto nomem;
        const char *s = ps.list.data;
        for (size_t i = 0; i < ps.n; i++) {
            if (!(r->problems[i] = pgi_strdup(s)))
                goto nomem;
            r->n_problems = i + 1;
            s += strlen(s) + 1;
        }
    }
    pgi_buf_free(&ps.list);
    *out = r;
    return PG_OK;
nomem:
    rc = pg_error_set(err, PG_ENOMEM, "out of memory checking a WebAssembly module");
    pgi_buf_free(&ps.list);
    pg_wasm_check_report_free(r);
    return rc;
}

/* wasm-validate's message with the temporary file's name taken out and its hexadecimal offsets
 * ("module.wasm:000001a: error: ...") given as bytes. */
static void
validate_message(const char *out, const char *tmpfile, char *buf, size_t size)
{
    size_t k = 0;
    size_t tl = strlen(tmpfile);
    buf[0] = '\0';
    for (const char *s = out; *s && k + 1 < size;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        const char *line = s;
        s += n + (nl ? 1 : 0);
        if (n == 0)
            continue;
        if (n > tl && strncmp(line, tmpfile, tl) == 0 && line[tl] == ':') {
            line += tl + 1;
            n -= tl + 1;
        }
        char *end;
        unsigned long off = strtoul(line, &end, 16);
        if (end != line && *end == ':' && strncmp(end, ": error: ", 9) == 0) {
            size_t rest = n - (size_t)(end + 9 - line);
            k += (size_t)snprintf(buf + k, size - k, "%sbyte %lu: %.*s", k ? "; " : "", off,
                                  (int)rest, end + 9);
        } else {
            k += (size_t)snprintf(buf + k, size - k, "%s%.*s", k ? "; " : "", (int)n, line);
        }
        if (k >= size)
            k = size - 1;
    }
}

int
pgi_wasm_check_bytes(const char *file, const uint8_t *wasm, size_t len, pg_wasm_abi abi,
                     const char *tmpdir, double timeout_s, pg_wasm_check_report **report,
                     pgi_wasm_module_info **info, pg_error *err)
{
    int rc;
    pgi_wasm_module_info *m = NULL;
    pg_wasm_check_report *r = NULL;
    char *tmpfile = NULL, *output = NULL;
    pg_error e = {0};
    const char *label = file_label(file);

    if ((rc = pgi_wasm_module_read(wasm, len, &m, &e)) != PG_OK) {
        rc = pg_error_set(err, rc, "%s", e.msg);
        pg_error_at(err, label, 0, 0, NULL);
        goto out;
    }
    if (!(tmpfile = pgi_wasm_tmpdir_file(tmpdir, PGI_WASM_TMP_MODULE))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pg_output_write(tmpfile, wasm, len, err)) != PG_OK)
        goto out;
    const char *argv[] = {"wasm-validate", tmpfile, NULL};
    rc = pgi_wasm_tool_run(argv, "wabt", timeout_s, &output, &e);
    if (rc == PG_EIO && output) {
        char msg[600];
        validate_message(output, tmpfile, msg, sizeof msg);
        rc = pg_error_set(err, PG_EPARSE, "not valid WebAssembly (wasm-validate): %s",
                          msg[0] ? msg : e.msg);
        pg_error_at(err, label, 0, 0, NULL);
        goto out;
    }
    if (rc != PG_OK) {
        rc = pg_error_set(err, rc, "cannot validate %s: %s", label, e.msg);
        goto out;
    }
    if ((rc = build_report(m, abi, &r, err)) != PG_OK)
        goto out;
    *report = r;
    r = NULL;
    if (info) {
        *info = m;
        m = NULL;
    }
out:
    pgi_wasm_module_free(m);
    pg_wasm_check_report_free(r);
    free(tmpfile);
    free(output);
    return rc;
}

int
pg_wasm_check_abi(const char *path, pg_wasm_abi abi, pg_wasm_check_report **report, pg_error *err)
{
    int rc;
    char *data = NULL, *tmpdir = NULL;
    size_t len = 0;
    if (!path || !report)
        return pg_error_set(err, PG_EINVAL, "pg_wasm_check: no path or report given");
    if (abi != PG_WASM_ABI_STRATEGY && abi != PG_WASM_ABI_ANY)
        return pg_error_set(err, PG_EINVAL, "pg_wasm_check: unknown ABI %d", (int)abi);
    if ((rc = pg_input_read(path, PG_WASM_MODULE_MAX, &data, &len, err)) != PG_OK)
        goto out;
    if ((rc = pgi_wasm_tmpdir_make(&tmpdir, err)) != PG_OK)
        goto out;
    rc = pgi_wasm_check_bytes(path, (const uint8_t *)data, len, abi, tmpdir, 0, report, NULL, err);
out:
    pgi_wasm_tmpdir_remove(tmpdir);
    free(tmpdir);
    free(data);
    return rc;
}

int
pg_wasm_check(const char *path, pg_wasm_check_report **report, pg_error *err)
{
    return pg_wasm_check_abi(path, PG_WASM_ABI_STRATEGY, report, err);
}

static void
free_externs(pg_wasm_extern *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(x[i].module);
        free(x[i].name);
        free(x[i].type);
        free(x[i].reason);
    }
    free(x);
}

void
pg_wasm_check_report_free(pg_wasm_check_report *r)
{
    if (!r)
        return;
    free_externs(r->imports, r->n_imports);
    free_externs(r->exports, r->n_exports);
    for (size_t i = 0; i < r->n_problems; i++)
        free(r->problems[i]);
    free(r->problems);
    free(r);
}
