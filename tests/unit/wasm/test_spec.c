/* A subset of the official WebAssembly spec tests, run through the sandbox's own path: each .wast
 * file is converted by wabt's wast2json, every module of it is built by pg_wasm_build (check,
 * wasm-validate, wasm2c, the glue, the C compiler) into a shared object and run in the sandbox
 * (pgi_wasm_sandbox_new, a child process under its limits), and every assertion is checked
 * through the sandbox's typed invoke: assert_return (with canonical and arithmetic NaNs),
 * assert_trap (the trap's kind), assert_exhaustion, and assert_invalid / assert_malformed (the
 * build must refuse the binary module). The files come from the copy of the testsuite in
 * Debian's binaryen source package, which scripts/deps.sh puts in the cache
 * (${XDG_CACHE_HOME:-~/.cache}/plurigrid/wasm-spec, or $PG_WASM_SPEC_DIR); the test fails, never
 * skips, when they are missing. docs/wasm.md says which files are run and why the others are not.
 *
 * That copy predates the spec's change of assert_return_canonical_nan (action) to
 * assert_return (action) (T.const nan:canonical), which wast2json 1.0.32 no longer reads; such
 * assertions are rewritten to the new form before conversion (T is the type named by the
 * export, "f32.demote_f64", or else of its first argument). */
#include "harness.h"

#include <jansson.h>
#include <sys/stat.h>

#include "core/util.h"
#include "plurigrid/wasm.h"
#include "wasm/internal.h"
#include "wasm/tool.h"

/* The files, with why each is here. Sanitized builds run a smaller set (the child processes and
 * compilations are the same; only the time differs). */
typedef struct spec_file {
    const char *name;
    int in_asan; /* also run under the sanitizers */
} spec_file;

static const spec_file FILES[] = {
    {"i32", 1},
    {"i64", 1},
    {"f32", 0},
    {"f64", 0},
    {"f32_cmp", 0},
    {"f64_cmp", 0},
    {"f32_bitwise", 0},
    {"f64_bitwise", 0},
    {"conversions", 1},
    {"float_misc", 0},
    {"br_table", 0},
    {"call", 0},
    {"call_indirect", 1},
    {"address", 0},
    {"memory_grow", 1},
    {"memory_trap", 0},
    {"loop", 0},
    {"block", 0},
    {"if", 0},
    {"fac", 1},
    {"left-to-right", 0},
    {"traps", 1},
    {"stack", 0},
    {"unwind", 0},
    {"skip-stack-guard-page", 1},
    {"br", 0},
    {"br_if", 0},
    {"return", 0},
    {"select", 0},
    {"switch", 0},
    {"endianness", 0},
    {"unreachable", 1},
};

/* Counts of one file. */
typedef struct tally {
    int ret, trap, exhaustion, invalid, action, modules;
    int failed;
    int text_skipped; /* assert_malformed in the text format: wast2json's parser, not ours */
} tally;

static const char *
spec_dir(void)
{
    static char dir[4096];
    const char *env = getenv("PG_WASM_SPEC_DIR");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
    } else {
        const char *xdg = getenv("XDG_CACHE_HOME");
        const char *home = getenv("HOME");
        if (xdg && *xdg)
            snprintf(dir, sizeof dir, "%s/plurigrid/wasm-spec", xdg);
        else
            snprintf(dir, sizeof dir, "%s/.cache/plurigrid/wasm-spec", home ? home : "");
    }
    return dir;
}

static int
sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return 1;
#else
    return 0;
#endif
#else
    return 0;
#endif
}

/* ---------------------------------------------------------------- the old NaN assertions */

static void
rewrite_nan_assertions(const char *src, size_t len, pgi_buf *out)
{
    static const char *const keys[] = {"(assert_return_canonical_nan",
                                       "(assert_return_arithmetic_nan"};
    size_t i = 0;
    for (;;) {
        const char *best = NULL;
        int which = 0;
        for (int k = 0; k < 2; k++) {
            const char *p = strstr(src + i, keys[k]);
            if (p && (!best || p < best)) {
                best = p;
                which = k;
            }
        }
        if (!best) {
            pgi_buf_append(out, src + i, len - i);
            return;
        }
        size_t j = (size_t)(best - src);
        pgi_buf_append(out, src + i, j - i);
        /* the assertion's end: parentheses outside strings */
        size_t p = j;
        int depth = 0;
        for (; p < len; p++) {
            if (src[p] == '"') {
                for (p++; p < len && src[p] != '"'; p++)
                    if (src[p] == '\\')
                        p++;
            } else if (src[p] == '(') {
                depth++;
            } else if (src[p] == ')' && --depth == 0) {
                break;
            }
        }
        if (p >= len)
            fail_msg("an unterminated %s at byte %zu", keys[which] + 1, j);
        size_t a = j + strlen(keys[which]);
        const char *inner = src + a;
        size_t inner_len = p - a;
        /* the result type: the export's prefix, else the first argument's */
        const char *type = NULL;
        const char *q = strstr(inner, "invoke \"");
        if (q && q < inner + inner_len &&
            (!strncmp(q + 8, "f32.", 4) || !strncmp(q + 8, "f64.", 4)))
            type = !strncmp(q + 8, "f32.", 4) ? "f32" : "f64";
        if (!type) {
            const char *c = strstr(inner, ".const");
            if (!c || c > inner + inner_len || c - inner < 3)
                fail_msg("cannot tell the result type of the assertion at byte %zu", j);
            type = !strncmp(c - 3, "f32", 3) ? "f32" : "f64";
        }
        pgi_buf_printf(out, "(assert_return %.*s (%s.const nan:%s))", (int)inner_len, inner, type,
                       which == 0 ? "canonical" : "arithmetic");
        i = p + 1;
    }
}

/* ---------------------------------------------------------------- values */

static uint8_t
type_of(const char *t)
{
    if (!strcmp(t, "i32"))
        return PGI_WASM_I32;
    if (!strcmp(t, "i64"))
        return PGI_WASM_I64;
    if (!strcmp(t, "f32"))
        return PGI_WASM_F32;
    if (!strcmp(t, "f64"))
        return PGI_WASM_F64;
    fail_msg("a value of type %s: not in this subset", t);
    return 0;
}

static void
value_of(json_t *v, pgi_wasm_val *out)
{
    const char *t = json_string_value(json_object_get(v, "type"));
    const char *s = json_string_value(json_object_get(v, "value"));
    assert_non_null(t);
    assert_non_null(s);
    out->type = type_of(t);
    uint64_t bits = strtoull(s, NULL, 10);
    switch (out->type) {
    case PGI_WASM_I32: out->v.i32 = (uint32_t)bits; break;
    case PGI_WASM_I64: out->v.i64 = bits; break;
    case PGI_WASM_F32: {
        uint32_t b = (uint32_t)bits;
        memcpy(&out->v.f32, &b, 4);
        break;
    }
    default: memcpy(&out->v.f64, &bits, 8); break;
    }
}

static uint64_t
bits_of(const pgi_wasm_val *v)
{
    uint32_t b32;
    uint64_t b64;
    switch (v->type) {
    case PGI_WASM_I32: return v->v.i32;
    case PGI_WASM_I64: return v->v.i64;
    case PGI_WASM_F32: memcpy(&b32, &v->v.f32, 4); return b32;
    default: memcpy(&b64, &v->v.f64, 8); return b64;
    }
}

/* Whether got is what expected (a JSON value) says; NaN patterns for nan:canonical and
 * nan:arithmetic, exact bits otherwise. */
static int
value_matches(json_t *expected, const pgi_wasm_val *got, char *why, size_t size)
{
    const char *t = json_string_value(json_object_get(expected, "type"));
    const char *s = json_string_value(json_object_get(expected, "value"));
    uint8_t type = type_of(t);
    if (got->type != type) {
        snprintf(why, size, "a %s where a %s was expected", pgi_wasm_valtype_name(got->type), t);
        return 0;
    }
    uint64_t b = bits_of(got);
    if (!strcmp(s, "nan:canonical") || !strcmp(s, "nan:arithmetic")) {
        int canonical = s[4] == 'c';
        uint64_t mask, quiet, canon;
        if (type == PGI_WASM_F32) {
            mask = 0x7fffffffu;
            quiet = 0x7fc00000u;
            canon = 0x7fc00000u;
        } else {
            mask = 0x7fffffffffffffffull;
            quiet = 0x7ff8000000000000ull;
            canon = 0x7ff8000000000000ull;
        }
        int ok = canonical ? (b & mask) == canon : (b & quiet) == quiet;
        if (!ok)
            snprintf(why, size, "bits 0x%llx are not a %s NaN", (unsigned long long)b, s + 4);
        return ok;
    }
    uint64_t want = strtoull(s, NULL, 10);
    if (b != want) {
        snprintf(why, size, "bits 0x%llx where 0x%llx was expected", (unsigned long long)b,
                 (unsigned long long)want);
        return 0;
    }
    return 1;
}

/* Whether a trap's kind is the one the spec's message names. wasm2c traps every failed
 * call_indirect (index out of the table, null entry, wrong type) as CALL_INDIRECT. */
static int
trap_matches(const char *text, pgi_wasm_trap trap)
{
    if (strstr(text, "out of bounds memory access"))
        return trap == PGI_WASM_TRAP_OOB;
    if (strstr(text, "integer divide by zero"))
        return trap == PGI_WASM_TRAP_DIV_BY_ZERO;
    if (strstr(text, "integer overflow"))
        return trap == PGI_WASM_TRAP_INT_OVERFLOW;
    if (strstr(text, "invalid conversion to integer"))
        return trap == PGI_WASM_TRAP_INVALID_CONVERSION;
    if (strstr(text, "unreachable"))
        return trap == PGI_WASM_TRAP_UNREACHABLE;
    if (strstr(text, "indirect call") || strstr(text, "undefined element") ||
        strstr(text, "uninitialized element"))
        return trap == PGI_WASM_TRAP_CALL_INDIRECT || trap == PGI_WASM_TRAP_OOB;
    return 0;
}

/* ---------------------------------------------------------------- one file */

typedef struct runner {
    const char *file;
    const char *jsondir;
    pgi_wasm_sandbox *sb;
    tally *t;
    int module_ok;
} runner;

static void report_failure(runner *r, json_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
report_failure(runner *r, json_t *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_message("FAIL %s.wast:%lld: %s\n", r->file,
                  (long long)json_integer_value(json_object_get(cmd, "line")), msg);
    r->t->failed++;
}

static int
build(runner *r, const char *wasm_name, const char *so_name, pg_error *err)
{
    char wasm[4300], so[4300];
    snprintf(wasm, sizeof wasm, "%s/%s", r->jsondir, wasm_name);
    snprintf(so, sizeof so, "%s/%s", r->jsondir, so_name);
    pg_wasm_build_options o;
    pg_wasm_build_options_init(&o);
    o.abi = PG_WASM_ABI_ANY;
    return pg_wasm_build(wasm, so, &o, err);
}

static void
load_module(runner *r, json_t *cmd)
{
    const char *name = json_string_value(json_object_get(cmd, "filename"));
    char so_name[256];
    snprintf(so_name, sizeof so_name, "%s.so", name);
    pgi_wasm_sandbox_free(r->sb);
    r->sb = NULL;
    r->module_ok = 0;
    pg_error err = {0};
    if (build(r, name, so_name, &err) != PG_OK) {
        report_failure(r, cmd, "module %s does not build: %s", name, err.msg);
        return;
    }
    char so[4300];
    snprintf(so, sizeof so, "%s/%s", r->jsondir, so_name);
    pgi_wasm_sandbox_limits lim;
    pgi_wasm_limits_init(&lim);
    lim.memory_pages = 1024; /* memory_grow grows to 803 pages */
    lim.call_ms = 10000;     /* a busy machine and a sanitizer build: the deadline is not tested */
    lim.init_ms = 10000;
    pgi_wasm_host host = {0};
    host.seed = 1;
    if (pgi_wasm_sandbox_new(&r->sb, so, &lim, &host, &err) != PG_OK) {
        report_failure(r, cmd, "module %s does not start: %s", name, err.msg);
        return;
    }
    r->module_ok = 1;
    r->t->modules++;
}

/* Invokes the command's action; PG_OK when the call was made (*o says how it ended). */
static int
invoke(runner *r, json_t *cmd, pgi_wasm_val *res, size_t nres, pgi_wasm_outcome *o)
{
    json_t *action = json_object_get(cmd, "action");
    const char *type = json_string_value(json_object_get(action, "type"));
    const char *field = json_string_value(json_object_get(action, "field"));
    if (!r->module_ok) {
        report_failure(r, cmd, "no module to invoke %s in", field ? field : "?");
        return -1;
    }
    if (!type || strcmp(type, "invoke") != 0 || !field) {
        report_failure(r, cmd, "an action of type %s: not in this subset", type ? type : "?");
        return -1;
    }
    json_t *args = json_object_get(action, "args");
    size_t nargs = json_array_size(args);
    pgi_wasm_val av[64];
    assert_true(nargs <= 64);
    for (size_t i = 0; i < nargs; i++)
        value_of(json_array_get(args, i), &av[i]);
    pg_error err = {0};
    if (pgi_wasm_sandbox_invoke(r->sb, field, av, nargs, res, nres, o, &err) != PG_OK) {
        report_failure(r, cmd, "invoke %s: %s", field, err.msg);
        return -1;
    }
    return PG_OK;
}

static void
run_command(runner *r, json_t *cmd, int index)
{
    const char *type = json_string_value(json_object_get(cmd, "type"));
    pgi_wasm_outcome o;
    pgi_wasm_val res[64];
    if (!strcmp(type, "module")) {
        load_module(r, cmd);
    } else if (!strcmp(type, "assert_return")) {
        json_t *exp = json_object_get(cmd, "expected");
        size_t n = json_array_size(exp);
        assert_true(n <= 64);
        if (invoke(r, cmd, res, n, &o) != PG_OK)
            return;
        if (o.kind != PGI_WASM_OK) {
            report_failure(r, cmd, "%s", o.why);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            char why[200];
            if (!value_matches(json_array_get(exp, i), &res[i], why, sizeof why)) {
                report_failure(r, cmd, "result %zu: %s", i + 1, why);
                return;
            }
        }
        r->t->ret++;
    } else if (!strcmp(type, "action")) {
        json_t *exp = json_object_get(cmd, "expected");
        if (invoke(r, cmd, res, json_array_size(exp), &o) != PG_OK)
            return;
        if (o.kind != PGI_WASM_OK) {
            report_failure(r, cmd, "%s", o.why);
            return;
        }
        r->t->action++;
    } else if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion")) {
        const char *text = json_string_value(json_object_get(cmd, "text"));
        json_t *exp = json_object_get(cmd, "expected");
        if (invoke(r, cmd, res, json_array_size(exp), &o) != PG_OK)
            return;
        int exhaustion = type[7] == 'e';
        if (o.kind != PGI_WASM_TRAPPED) {
            report_failure(r, cmd, "expected a trap (%s), got: %s", text ? text : "", o.why);
            return;
        }
        if (exhaustion ? o.trap != PGI_WASM_TRAP_EXHAUSTION
                       : !trap_matches(text ? text : "", o.trap)) {
            report_failure(r, cmd, "expected the trap \"%s\", got: %s", text ? text : "", o.why);
            return;
        }
        if (exhaustion)
            r->t->exhaustion++;
        else
            r->t->trap++;
    } else if (!strcmp(type, "assert_invalid") || !strcmp(type, "assert_malformed")) {
        const char *mt = json_string_value(json_object_get(cmd, "module_type"));
        if (mt && strcmp(mt, "binary") != 0) {
            r->t->text_skipped++;
            return;
        }
        const char *name = json_string_value(json_object_get(cmd, "filename"));
        char so_name[256];
        snprintf(so_name, sizeof so_name, "refused-%d.so", index);
        pg_error err = {0};
        int rc = build(r, name, so_name, &err);
        char so[4300];
        snprintf(so, sizeof so, "%s/%s", r->jsondir, so_name);
        struct stat st;
        if (rc == PG_OK) {
            report_failure(r, cmd, "%s was built, but it is %s (%s)", name,
                           type[7] == 'i' ? "invalid" : "malformed",
                           json_string_value(json_object_get(cmd, "text")));
            return;
        }
        if (stat(so, &st) == 0) {
            report_failure(r, cmd, "a refused build left %s behind", so);
            return;
        }
        r->t->invalid++;
    } else {
        report_failure(r, cmd, "a command of type %s: not in this subset", type);
    }
}

static void
run_file(const char *dir, const char *name, tally *t)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s.wast", dir, name);
    char *src = NULL;
    size_t len = 0;
    pg_error err = {0};
    if (pg_input_read(path, 0, &src, &len, &err) != PG_OK)
        fail_msg("%s: %s", path, err.msg);
    pgi_buf text = {0};
    rewrite_nan_assertions(src, len, &text);
    free(src);
    assert_false(text.failed);

    char jsondir[4300], wast[4400], json[4400];
    snprintf(jsondir, sizeof jsondir, "%s/%s", pgt_tmpdir(), name);
    assert_int_equal(mkdir(jsondir, 0700), 0);
    snprintf(wast, sizeof wast, "%s/%s.wast", jsondir, name);
    snprintf(json, sizeof json, "%s/%s.json", jsondir, name);
    assert_int_equal(pg_output_write(wast, text.data, text.len, &err), PG_OK);
    pgi_buf_free(&text);
    const char *argv[] = {"wast2json", wast, "-o", json, NULL};
    char *out = NULL;
    if (pgi_wasm_tool_run(argv, "wabt", 120, &out, &err) != PG_OK)
        fail_msg("wast2json %s: %s", name, err.msg);
    free(out);

    json_error_t je;
    json_t *root = json_load_file(json, 0, &je);
    if (!root)
        fail_msg("%s: %s", json, je.text);
    json_t *cmds = json_object_get(root, "commands");
    runner r = {.file = name, .jsondir = jsondir, .sb = NULL, .t = t, .module_ok = 0};
    for (size_t i = 0; i < json_array_size(cmds); i++)
        run_command(&r, json_array_get(cmds, i), (int)i);
    pgi_wasm_sandbox_free(r.sb);
    json_decref(root);
}

static void
test_spec(void **state)
{
    (void)state;
    const char *dir = spec_dir();
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/i32.wast", dir);
    struct stat st;
    if (stat(probe, &st) != 0)
        fail_msg("the WebAssembly spec tests are not in %s: run scripts/deps.sh (it fetches them "
                 "from Debian's binaryen source package), or set PG_WASM_SPEC_DIR",
                 dir);
    int asan = sanitized();
    tally all = {0};
    int files = 0;
    double t0 = pgi_now();
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
        if (asan && !FILES[i].in_asan)
            continue;
        /* PG_WASM_SPEC_ONLY=i32,fac runs those files only (while working on one) */
        const char *only = getenv("PG_WASM_SPEC_ONLY");
        if (only && *only) {
            char want[64];
            snprintf(want, sizeof want, ",%s,", FILES[i].name);
            char list[1024];
            snprintf(list, sizeof list, ",%s,", only);
            if (!strstr(list, want))
                continue;
        }
        tally t = {0};
        double f0 = pgi_now();
        run_file(dir, FILES[i].name, &t);
        print_message("%-22s %4d assert_return  %3d assert_trap  %2d assert_exhaustion  %3d "
                      "invalid/malformed refused  %2d modules  %.1f s%s%s\n",
                      FILES[i].name, t.ret, t.trap, t.exhaustion, t.invalid, t.modules,
                      pgi_now() - f0, t.failed ? "  FAILED: " : "", t.failed ? "see above" : "");
        all.ret += t.ret;
        all.trap += t.trap;
        all.exhaustion += t.exhaustion;
        all.invalid += t.invalid;
        all.action += t.action;
        all.modules += t.modules;
        all.failed += t.failed;
        all.text_skipped += t.text_skipped;
        files++;
    }
    print_message("%d files%s: %d assertions passed (%d assert_return, %d assert_trap, %d "
                  "assert_exhaustion, %d invalid or malformed binaries refused, %d actions), %d "
                  "modules built and run, %d failed; %d assert_malformed in the text format left "
                  "to wast2json; %.1f s\n",
                  files, asan ? " (the sanitizers' subset)" : "",
                  all.ret + all.trap + all.exhaustion + all.invalid + all.action, all.ret, all.trap,
                  all.exhaustion, all.invalid, all.action, all.modules, all.failed,
                  all.text_skipped, pgi_now() - t0);
    assert_int_equal(all.failed, 0);
    assert_true(all.ret > 0);
    pgt_tmpdir_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
