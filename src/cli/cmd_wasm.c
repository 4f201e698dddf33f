/* plurigrid wasm: strategy modules from the command line (docs/wasm.md). check validates a
 * WebAssembly module, lists its imports and exports and refuses what the strategy ABI does not
 * allow, naming each import or export; build checks it the same way, translates it with wasm2c
 * and compiles it into the shared object a node's wasm controller runs in its sandbox. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "plurigrid/wasm.h"

#define CMD "wasm"

static void
usage(FILE *f)
{
    fputs("Usage: plurigrid wasm check STRATEGY.wasm [--json FILE|-]\n"
          "       plurigrid wasm build STRATEGY.wasm -o STRATEGY.so [--cc CC]\n"
          "       plurigrid wasm SUBCOMMAND --help\n"
          "\n"
          "Strategy modules: WebAssembly programs (for example C compiled with clang\n"
          "--target=wasm32-wasi) that a node runs in a sandbox as its controller (the node\n"
          "config's {\"kind\": \"wasm\", \"strategy\": \"STRATEGY.so\"}; docs/wasm.md gives the\n"
          "strategy ABI).\n"
          "\n"
          "Subcommands:\n"
          "  check    validate a module, list its imports and exports, and name every one\n"
          "           the strategy ABI does not allow\n"
          "  build    check a module, translate it with wasm2c and compile it into the\n"
          "           shared object the sandbox runs\n"
          "\n"
          "Exit status: 0 success, 2 bad usage, a module that is unreadable, not valid\n"
          "WebAssembly or refused by the ABI, or a tool that failed, 3 an internal failure.\n",
          f);
}

static void
usage_check(FILE *f)
{
    fputs("Usage: plurigrid wasm check STRATEGY.wasm [--json FILE|-]\n"
          "\n"
          "Validates the WebAssembly module STRATEGY.wasm (- for standard input) with wabt's\n"
          "wasm-validate, lists its imports and exports with their types and its memory, and\n"
          "checks it against the strategy ABI (docs/wasm.md): every import must be one the host\n"
          "offers, with its exact type; the required exports must be there; the memory must fit\n"
          "under the sandbox's ceiling. Each refused import or export is named, with why.\n"
          "\n"
          "Options:\n"
          "  --json FILE|-  the check as JSON (plurigrid-wasm-check/1) to FILE, or alone on\n"
          "                 standard output with -\n"
          "  -h, --help     show this help\n"
          "\n"
          "Exit status: 0 the module is accepted, 2 bad usage, a file that cannot be read or\n"
          "is not valid WebAssembly, or a module the ABI refuses (the JSON is still written),\n"
          "3 an internal failure.\n",
          f);
}

static void
usage_build(FILE *f)
{
    fputs("Usage: plurigrid wasm build STRATEGY.wasm -o STRATEGY.so [--cc CC]\n"
          "\n"
          "Checks STRATEGY.wasm as `plurigrid wasm check` does (a refused module is not\n"
          "built), translates it to C with wabt's wasm2c, compiles that with the sandbox's\n"
          "glue and the wasm2c runtime into a shared object, and writes it to STRATEGY.so\n"
          "(replaced whole: a failed build leaves no file and an old one untouched). A node\n"
          "config names the shared object as its wasm controller's \"strategy\".\n"
          "\n"
          "Options:\n"
          "  -o, --out FILE  the shared object to write (required)\n"
          "  --cc CC         the C compiler (default: $CC, else cc)\n"
          "  -h, --help      show this help\n"
          "\n"
          "Exit status: 0 built, 2 bad usage, a module that cannot be read, is not valid\n"
          "WebAssembly or is refused by the ABI, a tool (wasm2c, the compiler) that failed,\n"
          "is missing or ran past its time, or an output that cannot be written, 3 an\n"
          "internal failure.\n",
          f);
}

static int
run_check(int argc, char **argv)
{
    const char *cmd = CMD " check";
    const char *path = NULL, *json = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (pg_cli_is_help(a)) {
            usage_check(stdout);
            return PG_EXIT_OK;
        }
        if (strcmp(a, "--json") == 0) {
            if (i + 1 >= argc)
                return pg_cli_missing_value(cmd, a, PG_CLI_OUTPUT_VALUE);
            json = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            return pg_cli_usage(cmd, "unknown option '%s'", a);
        } else if (!path) {
            path = a;
        } else {
            return pg_cli_usage(cmd, "one module at a time (got '%s' and '%s')", path, a);
        }
    }
    if (!path)
        return pg_cli_usage(cmd, "the module to check is missing (plurigrid wasm check "
                                 "STRATEGY.wasm)");
    if (json && pg_cli_same_file(json, path))
        return pg_cli_usage(cmd, "--json would overwrite the module '%s'", path);

    pg_error err = {0};
    pg_wasm_check_report *rep = NULL;
    char *text = NULL, *js = NULL;
    int code = PG_EXIT_OK;
    bool json_std = json && strcmp(json, "-") == 0;
    if (pg_wasm_check(path, &rep, &err) != PG_OK) {
        code = pg_cli_report(cmd, &err);
        goto out;
    }
    if ((!json_std && pg_wasm_check_report_text(rep, path, 0, &text, &err) != PG_OK) ||
        (json && pg_wasm_check_report_text(rep, path, 1, &js, &err) != PG_OK)) {
        code = pg_cli_report(cmd, &err);
        goto out;
    }
    if (text)
        pg_cli_put_safe(stdout, text, true);
    if (js && (code = pg_cli_write(cmd, json, js, strlen(js))) != PG_EXIT_OK)
        goto out;
    if (rep->n_problems) {
        for (size_t i = 0; i < rep->n_problems; i++) {
            fprintf(stderr, "plurigrid %s: ", cmd);
            pg_cli_put_safe(stderr, path, false);
            fputs(": ", stderr);
            pg_cli_put_safe(stderr, rep->problems[i], false);
            fputs("\n", stderr);
        }
        fprintf(stderr, "plurigrid %s: ", cmd);
        pg_cli_put_safe(stderr, path, false);
        fprintf(stderr, " is refused by the strategy ABI (docs/wasm.md): %zu problem%s\n",
                rep->n_problems, rep->n_problems == 1 ? "" : "s");
        code = PG_EXIT_USAGE;
    }
out:
    free(text);
    free(js);
    pg_wasm_check_report_free(rep);
    return code;
}

static int
run_build(int argc, char **argv)
{
    const char *cmd = CMD " build";
    const char *path = NULL, *out = NULL, *cc = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (pg_cli_is_help(a)) {
            usage_build(stdout);
            return PG_EXIT_OK;
        }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) {
            if (i + 1 >= argc)
                return pg_cli_missing_value(cmd, a, "the shared object to write");
            out = argv[++i];
        } else if (strcmp(a, "--cc") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return pg_cli_missing_value(cmd, a, "a C compiler");
            cc = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            return pg_cli_usage(cmd, "unknown option '%s'", a);
        } else if (!path) {
            path = a;
        } else {
            return pg_cli_usage(cmd, "one module at a time (got '%s' and '%s')", path, a);
        }
    }
    if (!path)
        return pg_cli_usage(cmd, "the module to build is missing (plurigrid wasm build "
                                 "STRATEGY.wasm -o STRATEGY.so)");
    if (!out)
        return pg_cli_usage(cmd, "-o STRATEGY.so is needed: where to write the shared object");
    if (strcmp(out, "-") == 0)
        return pg_cli_usage(cmd, "-o needs a file: a shared object is not written to standard "
                                 "output");
    if (pg_cli_same_file(out, path))
        return pg_cli_usage(cmd, "-o would overwrite the module '%s'", path);

    pg_wasm_build_options o;
    pg_wasm_build_options_init(&o);
    o.cc = cc;
    pg_error err = {0};
    if (pg_wasm_build(path, out, &o, &err) != PG_OK)
        return pg_cli_report(cmd, &err);
    fputs("built ", stderr);
    pg_cli_put_safe(stderr, out, false);
    fputs(" from ", stderr);
    pg_cli_put_safe(stderr, path, false);
    fputs("\n", stderr);
    return PG_EXIT_OK;
}

static const pg_cli_subcommand subcommands[] = {
    {"check", run_check, usage_check},
    {"build", run_build, usage_build},
};

int
pg_cmd_wasm(int argc, char **argv)
{
    return pg_cli_subcommands(CMD, subcommands, sizeof subcommands / sizeof *subcommands, usage,
                              "check and build", argc, argv);
}
