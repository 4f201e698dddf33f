/* The report of a module check (pg_wasm_check) as text for people and as JSON
 * (plurigrid-wasm-check/1, docs/wasm.md), for `plurigrid wasm check`. Names in a module are any
 * bytes: the text keeps them as they are (the command escapes control characters when it
 * prints), the JSON makes them valid UTF-8 strings. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_write.h"
#include "core/util.h"
#include "plurigrid/wasm.h"

static const char *
kind_name(pg_wasm_kind k)
{
    switch (k) {
    case PG_WASM_FUNC: return "func";
    case PG_WASM_TABLE: return "table";
    case PG_WASM_MEMORY: return "memory";
    case PG_WASM_GLOBAL: return "global";
    }
    return "?";
}

static void
text_externs(pgi_buf *b, const char *what, const pg_wasm_extern *x, size_t n)
{
    pgi_buf_printf(b, "%s (%zu):\n", what, n);
    for (size_t i = 0; i < n; i++) {
        pgi_buf_puts(b, "  ");
        if (x[i].module) {
            pgi_buf_puts(b, x[i].module);
            pgi_buf_puts(b, ".");
        }
        pgi_buf_puts(b, x[i].name ? x[i].name : "");
        /* a function's type is its signature; the others' type text names their kind */
        if (x[i].kind == PG_WASM_FUNC)
            pgi_buf_puts(b, "  func");
        pgi_buf_puts(b, "  ");
        pgi_buf_puts(b, x[i].type ? x[i].type : kind_name(x[i].kind));
        if (!x[i].allowed) {
            pgi_buf_puts(b, "  REFUSED: ");
            pgi_buf_puts(b, x[i].reason ? x[i].reason : "not allowed by the strategy ABI");
        }
        pgi_buf_puts(b, "\n");
    }
}

static char *
check_text(const pg_wasm_check_report *r, const char *file)
{
    pgi_buf b = {0};
    pgi_buf_puts(&b, file);
    if (r->n_problems)
        pgi_buf_printf(&b, ": refused by the strategy ABI (%zu problem%s)\n", r->n_problems,
                       r->n_problems == 1 ? "" : "s");
    else
        pgi_buf_puts(&b, ": accepted by the strategy ABI\n");
    text_externs(&b, "imports", r->imports, r->n_imports);
    text_externs(&b, "exports", r->exports, r->n_exports);
    if (r->has_memory) {
        pgi_buf_printf(&b, "memory: %llu pages initially, ", (unsigned long long)r->memory_initial);
        if (r->memory_has_max)
            pgi_buf_printf(&b, "at most %llu", (unsigned long long)r->memory_max);
        else
            pgi_buf_puts(&b, "no maximum declared");
        pgi_buf_printf(&b, " (the sandbox's ceiling: %u pages of 64 KiB)\n", r->memory_ceiling);
    } else {
        pgi_buf_puts(&b, "memory: none\n");
    }
    if (r->has_start)
        pgi_buf_puts(&b, "start function: yes\n");
    for (size_t i = 0; i < r->n_problems; i++) {
        pgi_buf_puts(&b, "problem: ");
        pgi_buf_puts(&b, r->problems[i]);
        pgi_buf_puts(&b, "\n");
    }
    if (b.failed) {
        pgi_buf_free(&b);
        return NULL;
    }
    return b.data ? b.data : pgi_strdup("");
}

static json_t *
json_externs(const pg_wasm_extern *x, size_t n)
{
    json_t *a = json_array();
    int bad = !a;
    for (size_t i = 0; !bad && i < n; i++) {
        json_t *o = json_object();
        if (!o || json_array_append_new(a, o)) {
            bad = 1;
            break;
        }
        if (x[i].module)
            bad |= json_object_set_new(o, "module", pgi_json_str(x[i].module));
        bad |= json_object_set_new(o, "name", pgi_json_str(x[i].name));
        bad |= json_object_set_new(o, "kind", json_string(kind_name(x[i].kind)));
        bad |= json_object_set_new(o, "type", pgi_json_str(x[i].type));
        bad |= json_object_set_new(o, "allowed", json_boolean(x[i].allowed));
        if (!x[i].allowed)
            bad |= json_object_set_new(o, "reason", pgi_json_str(x[i].reason));
    }
    if (bad) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static char *
check_json(const pg_wasm_check_report *r, const char *file)
{
    json_t *o = json_object(), *probs = json_array(), *mem = NULL;
    char *text = NULL;
    int bad = !o || !probs;
    if (!bad) {
        bad |= json_object_set_new(o, "format", json_string("plurigrid-wasm-check/1"));
        bad |= json_object_set_new(o, "file", pgi_json_str(file));
        bad |= json_object_set_new(o, "accepted", json_boolean(r->n_problems == 0));
        bad |= json_object_set_new(o, "imports", json_externs(r->imports, r->n_imports));
        bad |= json_object_set_new(o, "exports", json_externs(r->exports, r->n_exports));
        if (r->has_memory) {
            mem = json_object();
            bad |= !mem;
            if (mem) {
                bad |= json_object_set_new(mem, "initial_pages",
                                           json_integer((json_int_t)r->memory_initial));
                bad |= json_object_set_new(
                    mem, "max_pages",
                    r->memory_has_max ? json_integer((json_int_t)r->memory_max) : json_null());
                bad |= json_object_set_new(mem, "ceiling_pages",
                                           json_integer((json_int_t)r->memory_ceiling));
            }
            bad |= json_object_set_new(o, "memory", mem);
        } else {
            bad |= json_object_set_new(o, "memory", json_null());
        }
        bad |= json_object_set_new(o, "start", json_boolean(r->has_start));
        for (size_t i = 0; i < r->n_problems; i++)
            bad |= json_array_append_new(probs, pgi_json_str(r->problems[i]));
        bad |= json_object_set_new(o, "problems", probs);
        probs = NULL;
    }
    if (!bad)
        text = pgi_json_dumps_lines(o);
    json_decref(o);
    json_decref(probs);
    return text;
}

int
pg_wasm_check_report_text(const pg_wasm_check_report *r, const char *file, int json, char **out,
                          pg_error *err)
{
    if (!r || !out)
        return pg_error_set(err, PG_EINVAL, "pg_wasm_check_report_text: no report");
    char *t = json ? check_json(r, file ? file : "") : check_text(r, file ? file : "");
    if (!t)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    *out = t;
    return PG_OK;
}
