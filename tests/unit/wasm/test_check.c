/* Checking and building strategy modules (pg_wasm_check, pg_wasm_build) and the module reader
 * under them: a valid strategy is accepted and listed; what is not WebAssembly (random bytes, a
 * truncated module, /dev/zero, a FIFO, a folder) is refused with a message naming the file and
 * the byte; an import outside the ABI, a memory over the ceiling, a missing export are refused
 * naming them; a good module builds into a shared object, and a failed build leaves no file and
 * no temporary folder behind. Modules are written here in the text format and assembled with
 * wabt's wat2wasm. */
#include "harness.h"

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plurigrid/wasm.h"
#include "wasm/module.h"
#include "wasm/tool.h"

/* A strategy the ABI accepts: one import of the host, its memory, both required exports. */
static const char *const GOOD = "(module\n"
                                "  (import \"pg\" \"log\" (func $log (param i32 i32)))\n"
                                "  (memory (export \"memory\") 2 16)\n"
                                "  (func (export \"pg_init\") (result i32) i32.const 0)\n"
                                "  (func (export \"pg_on_interval\") (result i32)\n"
                                "    i32.const 16 i32.const 2 call $log i32.const 0))\n";

/* Assembles wat into the test folder as name; returns its path (a pgt_tmp slot). */
static const char *
assemble(const char *name, const char *wat, int check)
{
    char watname[128];
    snprintf(watname, sizeof watname, "%s.wat", name);
    const char *watpath = pgt_tmp(watname);
    pgt_write(watpath, wat);
    char watcopy[4200];
    snprintf(watcopy, sizeof watcopy, "%s", watpath);
    const char *out = pgt_tmp(name);
    const char *argv[] = {"wat2wasm", watcopy, "-o", out, check ? NULL : "--no-check", NULL};
    char *output = NULL;
    pg_error err = {0};
    int rc = pgi_wasm_tool_run(argv, "wabt", 60, &output, &err);
    if (rc != PG_OK)
        fail_msg("wat2wasm %s: %s", name, err.msg);
    free(output);
    return out;
}

static void
write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *
read_all(const char *path, size_t *len)
{
    char *data = NULL;
    pg_error err = {0};
    if (pg_input_read(path, 0, &data, len, &err) != PG_OK)
        fail_msg("%s", err.msg);
    return data;
}

static const pg_wasm_extern *
find_extern(const pg_wasm_extern *x, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(x[i].name, name) == 0)
            return &x[i];
    return NULL;
}

/* Whether one of the report's problems holds every needle. */
static int
has_problem(const pg_wasm_check_report *r, const char *a, const char *b)
{
    for (size_t i = 0; i < r->n_problems; i++)
        if (strstr(r->problems[i], a) && (!b || strstr(r->problems[i], b)))
            return 1;
    return 0;
}

static void
print_problems(const pg_wasm_check_report *r)
{
    for (size_t i = 0; i < r->n_problems; i++)
        print_message("problem: %s\n", r->problems[i]);
}

static void
test_valid_strategy(void **state)
{
    (void)state;
    const char *path = assemble("good.wasm", GOOD, 1);
    pg_wasm_check_report *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_wasm_check(path, &r, &err), PG_OK);
    print_problems(r);
    assert_int_equal(r->n_problems, 0);
    assert_int_equal(r->n_imports, 1);
    assert_string_equal(r->imports[0].module, "pg");
    assert_string_equal(r->imports[0].name, "log");
    assert_int_equal(r->imports[0].kind, PG_WASM_FUNC);
    assert_string_equal(r->imports[0].type, "(i32, i32) -> ()");
    assert_true(r->imports[0].allowed);
    assert_null(r->imports[0].reason);
    assert_int_equal(r->n_exports, 3);
    const pg_wasm_extern *x = find_extern(r->exports, r->n_exports, "pg_on_interval");
    assert_non_null(x);
    assert_null(x->module);
    assert_string_equal(x->type, "() -> i32");
    x = find_extern(r->exports, r->n_exports, "memory");
    assert_non_null(x);
    assert_int_equal(x->kind, PG_WASM_MEMORY);
    assert_string_equal(x->type, "memory, 2..16 pages");
    assert_true(r->has_memory);
    assert_int_equal(r->memory_initial, 2);
    assert_true(r->memory_has_max);
    assert_int_equal(r->memory_max, 16);
    assert_true(r->memory_ceiling >= 16);
    assert_false(r->has_start);
    pg_wasm_check_report_free(r);
    pgt_tmpdir_cleanup();
}

/* Refused with code, err naming the file and holding needle. */
static void
expect_refused(const char *path, int code, const char *needle)
{
    pg_wasm_check_report *r = NULL;
    pg_error err = {0};
    int rc = pg_wasm_check(path, &r, &err);
    print_message("%s: %s\n", path, err.msg);
    assert_int_equal(rc, code);
    assert_null(r);
    assert_non_null(strstr(err.msg, needle));
    assert_true(strstr(err.msg, path) != NULL || strcmp(err.file, path) == 0);
}

static void
test_not_webassembly(void **state)
{
    (void)state;
    /* random bytes */
    uint8_t junk[4096];
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        s = s * 1103515245u + 12345u;
        junk[i] = (uint8_t)(s >> 16);
    }
    const char *p = pgt_tmp("random.wasm");
    write_bytes(p, junk, sizeof junk);
    expect_refused(p, PG_EPARSE, "byte 0: not a WebAssembly module");
    /* an empty file */
    p = pgt_tmp("empty.wasm");
    write_bytes(p, "", 0);
    expect_refused(p, PG_EPARSE, "too short for the magic number");
    /* a good module cut short: the reader names where it ends */
    const char *good = assemble("good.wasm", GOOD, 1);
    size_t len = 0;
    char *bytes = read_all(good, &len);
    p = pgt_tmp("truncated.wasm");
    write_bytes(p, bytes, len - 7);
    expect_refused(p, PG_EPARSE, "byte ");
    /* the magic number and another version */
    write_bytes(p, "\0asm\x0d\0\x01\0", 8);
    expect_refused(p, PG_EPARSE, "byte 4: binary format version 0d 00 01 00 is not 1");
    free(bytes);
    /* a device that never ends, a folder */
    expect_refused("/dev/zero", PG_EIO, "it is a device, not a file");
    expect_refused(pgt_tmpdir(), PG_EIO, "folder");
    /* a FIFO a program writes text into */
    char fifo[4200];
    snprintf(fifo, sizeof fifo, "%s", pgt_tmp("fifo.wasm"));
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *f = fopen(fifo, "w");
        if (f) {
            fputs("(module)\n", f);
            fclose(f);
        }
        _exit(0);
    }
    expect_refused(fifo, PG_EPARSE, "does not start with the magic number");
    waitpid(pid, NULL, 0);
    /* valid structure, invalid code: wasm-validate's message with its byte */
    p = assemble("invalid.wasm", "(module (func (result i32) i64.const 1))", 0);
    expect_refused(p, PG_EPARSE, "type mismatch");
    expect_refused(p, PG_EPARSE, "not valid WebAssembly (wasm-validate): byte ");
    pgt_tmpdir_cleanup();
}

static void
test_refused_imports(void **state)
{
    (void)state;
    const char *p =
        assemble("imports.wasm",
                 "(module\n"
                 "  (import \"env\" \"open\" (func (param i32) (result i32)))\n"
                 "  (import \"pg\" \"log\" (func (param i32)))\n"
                 "  (import \"wasi_snapshot_preview1\" \"path_open\"\n"
                 "    (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))\n"
                 "  (import \"env\" \"table\" (table 1 funcref))\n"
                 "  (memory (export \"memory\") 1)\n"
                 "  (func (export \"pg_init\") (result i32) i32.const 0)\n"
                 "  (func (export \"pg_on_interval\") (result i32) i32.const 0))\n",
                 1);
    pg_wasm_check_report *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_wasm_check(p, &r, &err), PG_OK);
    print_problems(r);
    assert_int_equal(r->n_imports, 4);
    assert_int_equal(r->n_problems, 4);
    assert_true(has_problem(r, "import \"env\".\"open\" is not offered by the strategy ABI", NULL));
    assert_true(has_problem(r,
                            "import \"pg\".\"log\" has the type (i32) -> (), but the ABI's is "
                            "(i32, i32) -> ()",
                            NULL));
    assert_true(has_problem(r, "\"wasi_snapshot_preview1\".\"path_open\" is not offered", NULL));
    assert_true(has_problem(r, "import \"env\".\"table\" is a table", NULL));
    for (size_t i = 0; i < r->n_imports; i++) {
        assert_false(r->imports[i].allowed);
        assert_non_null(r->imports[i].reason);
    }
    pg_wasm_check_report_free(r);

    /* a build of it is refused before anything is translated, naming the first problem */
    const char *so = pgt_tmp("imports.so");
    char so_copy[4200];
    snprintf(so_copy, sizeof so_copy, "%s", so);
    assert_int_equal(pg_wasm_build(p, so_copy, NULL, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "\"env\".\"open\""));
    assert_non_null(strstr(err.msg, "3 other problems"));
    assert_int_equal(access(so_copy, F_OK), -1);
    pgt_tmpdir_cleanup();
}

static void
test_memory_and_exports(void **state)
{
    (void)state;
    pg_wasm_check_report *r = NULL;
    pg_error err = {0};
    /* a memory that starts over the ceiling */
    const char *p = assemble("big.wasm",
                             "(module (memory (export \"memory\") 1000)\n"
                             "  (func (export \"pg_init\") (result i32) i32.const 0)\n"
                             "  (func (export \"pg_on_interval\") (result i32) i32.const 0))\n",
                             1);
    assert_int_equal(pg_wasm_check(p, &r, &err), PG_OK);
    print_problems(r);
    assert_int_equal(r->n_problems, 1);
    assert_true(has_problem(r, "the memory starts at 1000 pages (64000 KiB)",
                            "over the sandbox's ceiling"));
    pg_wasm_check_report_free(r);
    /* a maximum over the ceiling is allowed: growing past the ceiling fails at run time */
    p = assemble("maxbig.wasm",
                 "(module (memory (export \"memory\") 1 65536)\n"
                 "  (func (export \"pg_init\") (result i32) i32.const 0)\n"
                 "  (func (export \"pg_on_interval\") (result i32) i32.const 0))\n",
                 1);
    assert_int_equal(pg_wasm_check(p, &r, &err), PG_OK);
    print_problems(r);
    assert_int_equal(r->n_problems, 0);
    pg_wasm_check_report_free(r);
    /* a missing export, an export of the wrong type, a command's _start, an unexported memory */
    p = assemble("exports.wasm",
                 "(module (memory 1)\n"
                 "  (func (export \"pg_init\") (param i32) (result i32) i32.const 0)\n"
                 "  (func (export \"_start\")))\n",
                 1);
    assert_int_equal(pg_wasm_check(p, &r, &err), PG_OK);
    print_problems(r);
    assert_true(has_problem(r, "the required export \"pg_on_interval\"", "is missing"));
    assert_true(has_problem(r,
                            "export \"pg_init\" is (i32) -> i32, but the ABI's is a function "
                            "() -> i32",
                            NULL));
    assert_true(has_problem(r, "export \"_start\"", "reactor"));
    assert_true(has_problem(r, "memory is not exported as \"memory\"", NULL));
    assert_int_equal(r->n_problems, 4);
    pg_wasm_check_report_free(r);
    /* the same module passes the generic ABI (no exports required) */
    assert_int_equal(pg_wasm_check_abi(p, PG_WASM_ABI_ANY, &r, &err), PG_OK);
    assert_int_equal(r->n_problems, 0);
    pg_wasm_check_report_free(r);
    /* no memory at all */
    p = assemble("nomem.wasm",
                 "(module (func (export \"pg_init\") (result i32) i32.const 0)\n"
                 "  (func (export \"pg_on_interval\") (result i32) i32.const 0))\n",
                 1);
    assert_int_equal(pg_wasm_check(p, &r, &err), PG_OK);
    assert_int_equal(r->n_problems, 1);
    assert_true(has_problem(r, "the module has no memory", NULL));
    pg_wasm_check_report_free(r);
    pgt_tmpdir_cleanup();
}

/* Number of entries in a folder besides . and .. */
static int
folder_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void
test_build(void **state)
{
    (void)state;
    /* the build's temporary folders go to a folder of the test's own, to see none is left */
    char tmp[4200], outdir[4200], so[4300], old[4300];
    snprintf(tmp, sizeof tmp, "%s", pgt_tmp("tmp"));
    snprintf(outdir, sizeof outdir, "%s", pgt_tmp("out"));
    assert_int_equal(mkdir(tmp, 0700), 0);
    assert_int_equal(mkdir(outdir, 0700), 0);
    char *saved = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", tmp, 1);
    const char *good = assemble("good.wasm", GOOD, 1);
    snprintf(so, sizeof so, "%s/good.so", outdir);
    pg_error err = {0};
    int rc = pg_wasm_build(good, so, NULL, &err);
    if (rc != PG_OK)
        fail_msg("build: %s", err.msg);
    size_t len = 0;
    char *bytes = read_all(so, &len);
    assert_true(len > 1000);
    assert_memory_equal(bytes,
                        "\x7f"
                        "ELF",
                        4);
    free(bytes);
    assert_int_equal(folder_entries(tmp), 0);

    /* failed builds: refused, the compiler failing, a tool missing; none leaves a file */
    snprintf(old, sizeof old, "%s/old.so", outdir);
    pgt_write(old, "the old module");
    const char *bad =
        assemble("nomem.wasm", "(module (func (export \"pg_init\") (result i32) i32.const 0))", 1);
    assert_int_equal(pg_wasm_build(bad, old, NULL, &err), PG_EMODEL);
    pg_wasm_build_options o;
    pg_wasm_build_options_init(&o);
    o.cc = "false";
    assert_int_equal(pg_wasm_build(good, old, &o, &err), PG_EIO);
    print_message("%s\n", err.msg);
    assert_non_null(strstr(err.msg, "cannot compile"));
    assert_non_null(strstr(err.msg, "false failed (exit status 1)"));
    o.cc = NULL;
    o.wasm2c = "plurigrid-no-such-wasm2c";
    assert_int_equal(pg_wasm_build(good, old, &o, &err), PG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "install Debian's package wabt"));
    o.wasm2c = NULL;
    o.cc = "plurigrid-no-such-cc";
    assert_int_equal(pg_wasm_build(good, old, &o, &err), PG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "package gcc"));
    /* no wabt at all: the check names the package */
    char *path = strdup(getenv("PATH"));
    setenv("PATH", tmp, 1);
    pg_wasm_check_report *r = NULL;
    assert_int_equal(pg_wasm_check(good, &r, &err), PG_ENOTFOUND);
    assert_null(r);
    setenv("PATH", path, 1);
    free(path);
    print_message("%s\n", err.msg);
    assert_non_null(strstr(err.msg, "wasm-validate was not found on PATH: install Debian's "
                                    "package wabt"));
    bytes = read_all(old, &len);
    assert_string_equal(bytes, "the old module");
    free(bytes);
    assert_int_equal(folder_entries(tmp), 0);
    assert_int_equal(folder_entries(outdir), 2); /* good.so, old.so */
    if (saved) {
        setenv("TMPDIR", saved, 1);
        free(saved);
    } else {
        unsetenv("TMPDIR");
    }
    pgt_tmpdir_cleanup();
}

static void
test_tool_deadline(void **state)
{
    (void)state;
    const char *argv[] = {"sleep", "30", NULL};
    pg_error err = {0};
    assert_int_equal(pgi_wasm_tool_run(argv, "coreutils", 0.3, NULL, &err), PG_ELIMIT);
    assert_non_null(strstr(err.msg, "sleep did not finish within 0.3 s"));
    const char *argv2[] = {"sh", "-c", "echo to stderr >&2; exit 3", NULL};
    char *out = NULL;
    assert_int_equal(pgi_wasm_tool_run(argv2, "dash", 10, &out, &err), PG_EIO);
    assert_string_equal(out, "to stderr\n");
    assert_non_null(strstr(err.msg, "sh failed (exit status 3): to stderr"));
    free(out);
}

/* ---------------------------------------------------------------- the reader on crafted bytes */

static int
read_bytes(const char *bytes, size_t len, pg_error *err)
{
    pgi_wasm_module_info *m = NULL;
    int rc = pgi_wasm_module_read((const uint8_t *)bytes, len, &m, err);
    print_message("%s\n", rc == PG_OK ? "ok" : err->msg);
    if (rc == PG_OK)
        assert_non_null(m);
    else
        assert_null(m);
    pgi_wasm_module_free(m);
    return rc;
}

#define HDR "\0asm\1\0\0\0"

static void
test_reader(void **state)
{
    (void)state;
    pg_error err = {0};
    /* an empty module */
    assert_int_equal(read_bytes(HDR, 8, &err), PG_OK);
    /* a section longer than the module */
    assert_int_equal(read_bytes(HDR "\x01\x10\x00", 11, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "byte 8: the type section is 16 bytes long, but only 1"));
    /* a LEB128 of six bytes */
    assert_int_equal(read_bytes(HDR "\x01\x80\x80\x80\x80\x80\x00", 15, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "byte 9: a section size does not fit in 32 bits"));
    /* a LEB128 whose fifth byte sets bits past 32 */
    assert_int_equal(read_bytes(HDR "\x01\xff\xff\xff\xff\x7f", 14, &err), PG_EPARSE);
    /* a count that cannot fit the section: refused before allocating */
    assert_int_equal(read_bytes(HDR "\x01\x05\xff\xff\xff\xff\x0f", 15, &err), PG_ELIMIT);
    assert_non_null(strstr(err.msg, "4294967295 types is more than the 1000000 allowed"));
    assert_int_equal(read_bytes(HDR "\x01\x04\x80\x80\x04\x60", 14, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "65536 types cannot fit in the 1 bytes left"));
    /* sections out of order, repeated, unknown */
    assert_int_equal(read_bytes(HDR "\x03\x01\x00\x01\x01\x00", 14, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "byte 11: the type section is out of order or repeated"));
    assert_int_equal(read_bytes(HDR "\x01\x01\x00\x01\x01\x00", 14, &err), PG_EPARSE);
    assert_int_equal(read_bytes(HDR "\x2a\x00", 10, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "byte 8: 0x2a is not a section id"));
    /* a section whose entries end before its size */
    assert_int_equal(read_bytes(HDR "\x01\x05\x01\x60\x00\x00\x00", 15, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "byte 14: the type section: the section ends here, 1 bytes"));
    /* an import of a type that does not exist, an export of a function that does not exist */
    assert_int_equal(read_bytes(HDR "\x02\x07\x01\x01m\x01n\x00\x00", 17, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "has type 0, but the module has 0 types"));
    assert_int_equal(read_bytes(HDR "\x07\x05\x01\x01x\x00\x00", 15, &err), PG_EPARSE);
    assert_non_null(
        strstr(err.msg, "export 0 (\"x\") refers to functions 0, but the module has 0"));
    /* a name with control characters is shown escaped */
    assert_int_equal(read_bytes(HDR "\x07\x09\x01\x05\x1b[31m\x00\x00", 19, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "export 0 (\"\\x1b[31m\") refers to functions 0"));
    /* a name running past the section */
    assert_int_equal(read_bytes(HDR "\x07\x04\x01\x7f\x61\x62", 14, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "an export's name runs past the end"));
    /* memory64 limits are read with 64-bit numbers */
    pgi_wasm_module_info *m = NULL;
    assert_int_equal(
        pgi_wasm_module_read((const uint8_t *)HDR "\x05\x04\x01\x05\x01\x02", 14, &m, &err), PG_OK);
    assert_int_equal(m->n_memories, 1);
    assert_true(m->memories[0].is64);
    assert_true(m->memories[0].has_max);
    assert_int_equal(m->memories[0].min, 1);
    assert_int_equal(m->memories[0].max, 2);
    pgi_wasm_module_free(m);
}

/* A module with every section the reader reads (tests/fuzz/corpus/wasm_module/all_sections.wasm,
 * from all_sections.wat beside it): imports of each kind, globals initialised by every constant
 * instruction, exports of each kind (one named by a NUL byte), a start function. */
static void
test_reader_all_sections(void **state)
{
    (void)state;
    size_t len = 0;
    char *bytes =
        read_all(pgt_source_path("tests/fuzz/corpus/wasm_module/all_sections.wasm"), &len);
    pgi_wasm_module_info *m = NULL;
    pg_error err = {0};
    assert_int_equal(pgi_wasm_module_read((const uint8_t *)bytes, len, &m, &err), PG_OK);
    assert_int_equal(m->n_types, 3);
    assert_int_equal(m->types[0].n_params, 4);
    char t[128];
    assert_string_equal(pgi_wasm_functype_text(&m->types[0], t, sizeof t),
                        "(i32, i64, f32, f64) -> i32");
    assert_string_equal(pgi_wasm_functype_text(&m->types[1], t, sizeof t), "() -> ()");
    assert_int_equal(m->n_imports, 4);
    assert_string_equal(m->imports[1].module, "env");
    assert_string_equal(m->imports[1].name, "tab");
    assert_int_equal(m->imports[1].kind, PGI_WASM_KIND_TABLE);
    assert_int_equal(m->imports[1].table.limits.max, 10);
    assert_int_equal(m->imports[3].kind, PGI_WASM_KIND_GLOBAL);
    assert_true(m->imports[3].global.mut);
    assert_int_equal(m->imports[3].global.type, PGI_WASM_I64);
    assert_int_equal(m->n_funcs, 3);
    assert_int_equal(m->n_func_imports, 1);
    assert_int_equal(m->func_types[0], 2);
    assert_int_equal(m->func_types[1], 0);
    assert_int_equal(m->n_tables, 2);
    assert_int_equal(m->tables[1].elem, PGI_WASM_EXTERNREF);
    assert_int_equal(m->n_memories, 1);
    assert_int_equal(m->memories[0].min, 1);
    assert_int_equal(m->memories[0].max, 4);
    assert_int_equal(m->n_globals, 10);
    assert_int_equal(m->globals[9].type, PGI_WASM_V128);
    assert_int_equal(m->n_exports, 5);
    const pgi_wasm_export *f = pgi_wasm_module_export(m, "f", PGI_WASM_KIND_FUNC);
    assert_non_null(f);
    assert_int_equal(f->index, 1);
    assert_int_equal(f->type, 0);
    assert_null(pgi_wasm_module_export(m, "f", PGI_WASM_KIND_MEMORY));
    assert_int_equal(m->exports[4].name_len, 4); /* "\0nul" */
    assert_true(m->has_start);
    assert_int_equal(m->start, 2);
    pgi_wasm_module_free(m);
    free(bytes);
}

/* Every allocation of a check failed in turn: an error or a report, never a leak or a crash. */
static void
test_check_allocation_failures(void **state)
{
    (void)state;
    const char *path = assemble("good.wasm", GOOD, 1);
    pg_wasm_check_report *r = NULL;
    pg_error err = {0};
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pg_wasm_check(path, &r, &err), PG_OK);
    long n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    pg_wasm_check_report_free(r);
    assert_true(n > 10);
    for (long i = 0; i < n; i++) {
        r = NULL;
        pgt_alloc_fail_after(i);
        int rc = pg_wasm_check(path, &r, &err);
        pgt_alloc_fail_after(-1);
        if (rc == PG_OK)
            pg_wasm_check_report_free(r);
        else
            assert_null(r);
    }
    pgt_tmpdir_cleanup();
}

/* A relative TMPDIR starting with '-': the tools must still be given file names, not options
 * (wasm-validate read "-t/plurigrid-wasm-.../module.wasm" as an option and the module was
 * called "not valid WebAssembly"). */
static void
test_tmpdir_like_an_option(void **state)
{
    (void)state;
    char path[4200], cwd[4200], dir[4200];
    snprintf(path, sizeof path, "%s", assemble("good_dash.wasm", GOOD, 1));
    snprintf(dir, sizeof dir, "%s", pgt_tmp("-t"));
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_non_null(getcwd(cwd, sizeof cwd));
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    assert_int_equal(chdir(pgt_tmpdir()), 0);
    setenv("TMPDIR", "-t", 1);
    pg_wasm_check_report *r = NULL;
    pg_error err = {0};
    int rc = pg_wasm_check(path, &r, &err);
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
    assert_int_equal(chdir(cwd), 0);
    if (rc != PG_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(r->n_problems, 0);
    pg_wasm_check_report_free(r);
    assert_int_equal(rmdir(dir), 0); /* the temporary folder inside was removed */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_strategy),
        cmocka_unit_test(test_not_webassembly),
        cmocka_unit_test(test_refused_imports),
        cmocka_unit_test(test_memory_and_exports),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_tool_deadline),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_reader_all_sections),
        cmocka_unit_test(test_check_allocation_failures),
        cmocka_unit_test(test_tmpdir_like_an_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
