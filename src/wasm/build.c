/* Building a strategy module into the shared object the sandbox runs (pg_wasm_build): the module
 * is checked (check.c), translated to C by wabt's wasm2c, given the sandbox's glue (glue.c) and
 * compiled with the system C compiler against wasm2c's runtime, all in a private temporary
 * folder that is removed afterwards whatever happens. The compiler links with -z defs, so a
 * module that needs a symbol neither the glue nor the C library defines fails to build rather
 * than to load. The shared object is then written to its place through the library's atomic
 * writer, so a failed build leaves no file behind and an old one untouched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "plurigrid/wasm.h"
#include "wasm/check.h"
#include "wasm/internal.h"
#include "wasm/tool.h"

/* Words of $CC ("ccache gcc"): at most this many. */
#define MAX_CC_WORDS 8
/* Largest shared object read back from the compiler, bytes. */
#define MAX_SO ((size_t)256 << 20)

void
pg_wasm_build_options_init(pg_wasm_build_options *o)
{
    memset(o, 0, sizeof *o);
    o->abi = PG_WASM_ABI_STRATEGY;
    o->timeout_s = PGI_WASM_TOOL_TIMEOUT_S;
}

/* The Debian package of a C compiler, for the message when it is missing. */
static const char *
cc_package(const char *cc)
{
    const char *base = strrchr(cc, '/');
    base = base ? base + 1 : cc;
    return strstr(base, "clang") ? "clang" : "gcc";
}

static int
write_text(const char *dir, const char *name, const char *text, pg_error *err)
{
    char *p = pgi_wasm_tmpdir_file(dir, name);
    if (!p)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    int rc = pg_output_write(p, text, strlen(text), err);
    free(p);
    return rc;
}

int
pg_wasm_build(const char *path, const char *out_so, const pg_wasm_build_options *options,
              pg_error *err)
{
    int rc;
    pg_wasm_build_options o;
    char *data = NULL, *tmpdir = NULL, *wasm_file = NULL, *c_file = NULL, *glue_file = NULL;
    char *so_file = NULL, *glue = NULL, *so = NULL, *cc_copy = NULL;
    size_t len = 0, so_len = 0;
    pg_wasm_check_report *report = NULL;
    pgi_wasm_module_info *info = NULL;
    pg_error e = {0};
    const char *argv[64];
    size_t n = 0;

    if (options)
        o = *options;
    else
        pg_wasm_build_options_init(&o);
    if (!path || !out_so)
        return pg_error_set(err, PG_EINVAL, "pg_wasm_build: no module or output path given");
    if (o.abi != PG_WASM_ABI_STRATEGY && o.abi != PG_WASM_ABI_ANY)
        return pg_error_set(err, PG_EINVAL, "pg_wasm_build: unknown ABI %d", (int)o.abi);
    if (o.timeout_s <= 0)
        o.timeout_s = PGI_WASM_TOOL_TIMEOUT_S;
    const char *label = strcmp(path, "-") == 0 ? "standard input" : path;

    if ((rc = pg_input_read(path, PG_WASM_MODULE_MAX, &data, &len, err)) != PG_OK)
        goto out;
    if ((rc = pgi_wasm_tmpdir_make(&tmpdir, err)) != PG_OK)
        goto out;
    if ((rc = pgi_wasm_check_bytes(path, (const uint8_t *)data, len, o.abi, tmpdir, o.timeout_s,
                                   &report, &info, err)) != PG_OK)
        goto out;
    if (report->n_problems > 0) {
        if (report->n_problems == 1)
            rc = pg_error_set(err, PG_EMODEL, "refused by the strategy ABI: %s",
                              report->problems[0]);
        else
            rc = pg_error_set(err, PG_EMODEL,
                              "refused by the strategy ABI: %s (and %zu other problems: a check "
                              "of the module lists them all)",
                              report->problems[0], report->n_problems - 1);
        pg_error_at(err, label, 0, 0, NULL);
        goto out;
    }

    wasm_file = pgi_wasm_tmpdir_file(tmpdir, PGI_WASM_TMP_MODULE);
    c_file = pgi_wasm_tmpdir_file(tmpdir, PGI_WASM_C_MODULE ".c");
    glue_file = pgi_wasm_tmpdir_file(tmpdir, "glue.c");
    so_file = pgi_wasm_tmpdir_file(tmpdir, "strategy.so");
    if (!wasm_file || !c_file || !glue_file || !so_file) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }

    /* wasm2c writes strategy.c and strategy.h beside it */
    const char *w2c[] = {
        o.wasm2c ? o.wasm2c : "wasm2c", wasm_file, "-n", PGI_WASM_C_MODULE, "-o", c_file, NULL};
    if ((rc = pgi_wasm_tool_run(w2c, "wabt", o.timeout_s, NULL, &e)) != PG_OK) {
        rc = pg_error_set(err, rc, "cannot translate %s to C: %s", label, e.msg);
        goto out;
    }
    if ((rc = pgi_wasm_glue_source(info, &glue, &e)) != PG_OK) {
        rc = pg_error_set(err, rc, "cannot make the sandbox's glue for %s: %s", label, e.msg);
        goto out;
    }
    if ((rc = write_text(tmpdir, "glue.c", glue, err)) != PG_OK)
        goto out;

    /* the compiler: $CC may be several words ("ccache gcc") */
    const char *cc = o.cc ? o.cc : getenv("CC");
    if (!cc || !*cc)
        cc = "cc";
    if (!(cc_copy = pgi_strdup(cc))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    char *save = NULL;
    for (char *w = strtok_r(cc_copy, " \t", &save); w && n < MAX_CC_WORDS;
         w = strtok_r(NULL, " \t", &save))
        argv[n++] = w;
    if (n == 0) {
        rc = pg_error_set(err, PG_EINVAL, "the C compiler's name is empty");
        goto out;
    }
    for (size_t i = 0; pgi_wasm_cflags[i] && n < 40; i++)
        argv[n++] = pgi_wasm_cflags[i];
    argv[n++] = o.opt ? o.opt : "-O2";
    argv[n++] = "-shared";
    argv[n++] = "-I";
    argv[n++] = tmpdir;
    argv[n++] = "-o";
    argv[n++] = so_file;
    argv[n++] = c_file;
    argv[n++] = glue_file;
    argv[n++] = PGI_WASM_RT_IMPL;
    argv[n++] = "-Wl,-z,defs";
    argv[n++] = "-lm";
    argv[n] = NULL;
    if ((rc = pgi_wasm_tool_run(argv, cc_package(argv[0]), o.timeout_s, NULL, &e)) != PG_OK) {
        rc = pg_error_set(err, rc, "cannot compile %s: %s", label, e.msg);
        goto out;
    }

    if ((rc = pg_input_read(so_file, MAX_SO, &so, &so_len, &e)) != PG_OK) {
        rc = pg_error_set(err, rc, "cannot read back the compiled module: %s", e.msg);
        goto out;
    }
    rc = pg_output_write(out_so, so, so_len, err);
out:
    pgi_wasm_tmpdir_remove(tmpdir);
    free(tmpdir);
    free(wasm_file);
    free(c_file);
    free(glue_file);
    free(so_file);
    free(glue);
    free(so);
    free(cc_copy);
    free(data);
    pg_wasm_check_report_free(report);
    pgi_wasm_module_free(info);
    return rc;
}
