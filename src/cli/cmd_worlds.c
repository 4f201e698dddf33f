/* plurigrid worlds: the generator of microworlds (docs/worlds.md). `kinds` lists the kinds of
 * world and their sources, `show` a recipe with every parameter written out (or, with --worlds,
 * a generated world rebuilt from its id), `list` the worlds of a generated folder, and `generate`
 * makes worlds from a recipe into a folder with its manifest, with progress on standard error. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "plurigrid/io.h"
#include "plurigrid/worlds.h"

#define CMD "worlds"

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: plurigrid worlds kinds [--json FILE|-]\n"
            "       plurigrid worlds show KIND|RECIPE [--json FILE|-]\n"
            "       plurigrid worlds show ID --worlds DIR [--data DIR] [--out FILE|-]\n"
            "       plurigrid worlds list DIR [--json FILE|-]\n"
            "       plurigrid worlds generate KIND|RECIPE --out DIR [--count N] [--seed S]\n"
            "                                 [--threads N] [--data DIR] [--no-check]\n"
            "                                 [--json FILE|-] [--progress]\n"
            "       plurigrid worlds generate --kind KIND --count N --seed S --out DIR ...\n"
            "       plurigrid worlds generate --recipe FILE --count N --seed S --out DIR ...\n"
            "\n"
            "Realistic small power systems made from recipes (docs/worlds.md). A recipe\n"
            "(plurigrid-recipe/1; examples/worlds/ holds the catalog's) names a kind of world\n"
            "and the distributions its parameters are drawn from; KIND alone (lv-feeder,\n"
            "mv-grid, village, nexus) is the kind's recipe with its documented defaults.\n"
            "World number i of a recipe with seed S has the id RECIPE-S-i and is the same\n"
            "wherever and with whatever else it is made.\n"
            "\n"
            "  kinds      the kinds of world, what each is and where its parameters come from\n"
            "             (--json: also every parameter with its default, unit and source)\n"
            "  show       the recipe with every parameter written out, as JSON; with --worlds\n"
            "             DIR, the world ID of that folder rebuilt from its manifest (a\n"
            "             plurigrid world, JSON) to standard output or --out FILE\n"
            "  list       the worlds of a generated folder: id, buses, branches, peak load,\n"
            "             PV share, feeder length; dropped worlds with the reason\n"
            "  generate   makes worlds 0, 1, 2, ... until COUNT pass the checks (at most\n"
            "             2 COUNT + 100 tried), each written as DIR/ID.json, then\n"
            "             DIR/manifest.json. A world is kept when it validates, its base-case\n"
            "             AC power flow converges and its day-ahead schedule serves all demand\n"
            "\n"
            "Options:\n"
            "  --kind KIND     show, generate: the kind's default recipe (as KIND alone)\n"
            "  --recipe FILE   show, generate: the recipe file (as RECIPE alone; '-' is\n"
            "                  standard input)\n"
            "  --out DIR       generate: the folder (created when missing); show: the file\n"
            "  --count N       worlds to keep, 1 to %d (default 10)\n"
            "  --seed S        0 to 9223372036854775807 (default 1)\n"
            "  --threads N     0 (default: one per core) to 64\n"
            "  --data DIR      the folder holding citylearn-2022-fontana/: households follow\n"
            "                  measured homes (recorded in the manifest)\n"
            "  --no-check      keep every world that validates, without power flow and\n"
            "                  schedule\n"
            "  --json FILE|-   the result as JSON to FILE, or to standard output for '-'\n"
            "                  (kinds: plurigrid-worlds-kinds/1; show: the recipe; list and\n"
            "                  generate: the manifest, plurigrid-worlds/1)\n"
            "  --progress      show progress on standard error even when it is not a terminal\n"
            "  -h, --help      show this help\n"
            "\n"
            "Exit status: 0 done, 1 fewer worlds than COUNT passed the checks, 2 bad input or\n"
            "usage, 3 internal failure (a signal stops generate with 3, keeping the files).\n"
            "\n"
            "Examples:\n"
            "  plurigrid worlds kinds\n"
            "  plurigrid worlds generate lv-feeder --count 1000 --seed 7 --out worlds/\n"
            "  plurigrid worlds generate --kind village --count 100 --seed 3 --out v/\n"
            "  plurigrid worlds generate examples/worlds/mv-ring.json --out mv/\n"
            "  plurigrid worlds list worlds/\n"
            "  plurigrid worlds show lv-feeder-7-12 --worlds worlds/ --out w12.json\n",
            PG_WORLDS_MAX);
}

/* How the recipe was named: positionally (a kind's name or else a file), by --kind or by
 * --recipe. */
enum recipe_source { RECIPE_EITHER, RECIPE_KIND, RECIPE_FILE };

/* A kind's name or a recipe file. */
static int
load_recipe(const char *arg, enum recipe_source src, pg_recipe **r)
{
    pg_error err;
    pg_error_clear(&err);
    size_t n = 0;
    const pg_worlds_kind *k = pg_worlds_kinds(&n);
    if (src != RECIPE_FILE)
        for (size_t i = 0; i < n; i++)
            if (strcmp(k[i].name, arg) == 0)
                return pg_recipe_default(r, arg, &err) ? pg_cli_report(CMD, &err) : PG_EXIT_OK;
    if (src == RECIPE_KIND ||
        (src == RECIPE_EITHER && access(arg, F_OK) != 0 && strcmp(arg, "-") != 0 &&
         !strchr(arg, '/') && !strstr(arg, ".json"))) {
        fprintf(stderr, "plurigrid worlds: '");
        pg_cli_put_safe(stderr, arg, false);
        fprintf(stderr, "' is %s (the kinds are:",
                src == RECIPE_KIND ? "not a kind of world"
                                   : "neither a kind of world nor a recipe file");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%s %s", i ? "," : "", k[i].name);
        fprintf(stderr, ")\n");
        return PG_EXIT_USAGE;
    }
    if (pg_recipe_read(r, arg, &err))
        return pg_cli_report(CMD, &err);
    return PG_EXIT_OK;
}

static int
write_file_text(const char *out, const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    char *path = malloc(dl + strlen(name) + 2);
    if (!path) {
        fprintf(stderr, "plurigrid worlds: out of memory\n");
        return PG_EXIT_INTERNAL;
    }
    sprintf(path, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
    char *data = NULL;
    size_t len = 0;
    pg_error err;
    pg_error_clear(&err);
    int rc = PG_EXIT_OK;
    if (pg_input_read(path, PG_INPUT_MAX, &data, &len, &err))
        rc = pg_cli_report(CMD, &err);
    else
        rc = pg_cli_write(CMD, out, data, len);
    free(data);
    free(path);
    return rc;
}

static int
cmd_kinds(const char *json)
{
    if (json) {
        char *text = NULL;
        pg_error err;
        pg_error_clear(&err);
        if (pg_worlds_kinds_json(&text, &err))
            return pg_cli_report(CMD, &err);
        int rc = pg_cli_write(CMD, json, text, strlen(text));
        free(text);
        if (rc || strcmp(json, "-") == 0)
            return rc;
    }
    size_t n = 0;
    const pg_worlds_kind *k = pg_worlds_kinds(&n);
    for (size_t i = 0; i < n; i++)
        printf("%-10s %s\n%-10s source: %s\n", k[i].name, k[i].summary, "", k[i].source);
    printf("\nLoad profiles: households and businesses follow hourly curves shaped after BDEW H0\n"
           "and G0 (VDEW 1999), not the published tables; PV is Haurwitz clear sky times a\n"
           "drawn daily clearness; --data DIR uses measured CityLearn homes instead.\n");
    printf("\n`plurigrid worlds show KIND` writes a kind's recipe with every parameter.\n");
    return PG_EXIT_OK;
}

static int
cmd_show_recipe(const char *arg, enum recipe_source src, const char *json)
{
    pg_recipe *r = NULL;
    int rc = load_recipe(arg, src, &r);
    if (rc)
        return rc;
    char *text = NULL;
    pg_error err;
    pg_error_clear(&err);
    if (pg_recipe_json(r, &text, &err))
        rc = pg_cli_report(CMD, &err);
    else
        rc = pg_cli_write(CMD, json ? json : "-", text, strlen(text));
    free(text);
    pg_recipe_free(r);
    return rc;
}

static int
cmd_show_world(const char *id, const char *dir, const char *data, const char *out)
{
    pg_worlds_manifest *m = NULL;
    pg_world *w = NULL;
    char *text = NULL;
    size_t len = 0;
    pg_error err;
    pg_error_clear(&err);
    int rc = PG_EXIT_OK;
    if (pg_worlds_manifest_read(&m, dir, &err) || pg_worlds_reproduce(&w, m, id, data, &err) ||
        pg_world_json_write_buffer(w, &text, &len, &err))
        rc = pg_cli_report(CMD, &err);
    else
        rc = pg_cli_write(CMD, out ? out : "-", text, len);
    free(text);
    pg_world_free(w);
    pg_worlds_manifest_free(m);
    return rc;
}

static void
print_manifest(const pg_worlds_manifest *m)
{
    printf("recipe %s (kind %s), seed %llu%s: %zu kept, %zu dropped\n", m->recipe_name, m->kind,
           (unsigned long long)m->seed, m->data ? ", measured households" : "", m->n_kept,
           m->n_dropped);
    printf("%-28s %6s %8s %9s %8s %9s\n", "id", "buses", "branches", "peak MW", "PV share",
           "lines km");
    for (size_t i = 0; i < m->n_entries; i++) {
        const pg_worlds_entry *e = &m->entries[i];
        pg_cli_put_safe(stdout, e->id, false);
        int pad = 28 - (int)strlen(e->id);
        printf("%*s", pad > 0 ? pad : 0, "");
        if (e->dropped) {
            printf(" dropped: ");
            pg_cli_put_safe(stdout, e->reason, false);
            printf("\n");
        } else {
            printf(" %6zu %8zu %9.4f %8.3f %9.3f\n", e->n_buses, e->n_branches, e->load_mw,
                   e->pv_share, e->feeder_km);
        }
    }
}

static int
cmd_list(const char *dir, const char *json)
{
    pg_worlds_manifest *m = NULL;
    pg_error err;
    pg_error_clear(&err);
    if (pg_worlds_manifest_read(&m, dir, &err))
        return pg_cli_report(CMD, &err);
    int rc = PG_EXIT_OK;
    if (json)
        rc = write_file_text(json, dir, "manifest.json");
    if (!rc && (!json || strcmp(json, "-") != 0))
        print_manifest(m);
    pg_worlds_manifest_free(m);
    return rc;
}

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void
progress(void *user, size_t done, size_t total)
{
    (void)user;
    fprintf(stderr, "\rplurigrid worlds: %zu of %zu worlds", done, total);
    if (done == total)
        fprintf(stderr, "\n");
}

static int
cmd_generate(const char *arg, enum recipe_source src, const char *out, const pg_worlds_options *o,
             bool show_progress, const char *json)
{
    pg_recipe *r = NULL;
    int rc = load_recipe(arg, src, &r);
    if (rc)
        return rc;
    pg_worlds_options opts = *o;
    if (show_progress)
        opts.progress = progress;
    opts.stop = &stop_flag;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    pg_worlds_manifest *m = NULL;
    pg_error err;
    pg_error_clear(&err);
    int st = pg_worlds_generate(r, out, &opts, &m, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (show_progress && st)
        fprintf(stderr, "\n");
    if (st) {
        rc = st == PG_ECANCELED
                 ? (fprintf(stderr, "plurigrid worlds: %s\n", err.msg), PG_EXIT_INTERNAL)
                 : pg_cli_report(CMD, &err);
        goto out;
    }
    if (json)
        rc = write_file_text(json, out, "manifest.json");
    if (!rc && (!json || strcmp(json, "-") != 0)) {
        printf("%zu world%s of the recipe %s (kind %s, seed %llu) in ", m->n_kept,
               m->n_kept == 1 ? "" : "s", m->recipe_name, m->kind, (unsigned long long)m->seed);
        pg_cli_put_safe(stdout, out, false);
        printf("; %zu dropped", m->n_dropped);
        /* The first reason, as an example of why. */
        for (size_t i = 0; i < m->n_entries; i++) {
            if (m->entries[i].dropped) {
                printf(" (e.g. %s: ", m->entries[i].id);
                pg_cli_put_safe(stdout, m->entries[i].reason, false);
                printf(")");
                break;
            }
        }
        printf("\n");
    }
    if (!rc && m->n_kept < opts.count) {
        fprintf(stderr,
                "plurigrid worlds: only %zu of %zu worlds passed the checks after %zu tries; "
                "the manifest says why each was dropped\n",
                m->n_kept, opts.count, m->n_entries);
        rc = PG_EXIT_FAIL;
    }
out:
    pg_worlds_manifest_free(m);
    pg_recipe_free(r);
    return rc;
}

int
pg_cmd_worlds(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "plurigrid worlds: it needs a subcommand: kinds, show, list or "
                        "generate\n\n");
        usage(stderr);
        return PG_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (pg_cli_is_help(sub) || strcmp(sub, "help") == 0) {
        usage(stdout);
        return PG_EXIT_OK;
    }
    if (strcmp(sub, "kinds") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "list") != 0 &&
        strcmp(sub, "generate") != 0)
        return pg_cli_usage_error(CMD, "the subcommands are kinds, show, list and generate", sub);
    const char *json = NULL, *out = NULL, *worlds = NULL, *data = NULL, *arg = NULL;
    enum recipe_source src = RECIPE_EITHER;
    bool show_progress = isatty(STDERR_FILENO);
    pg_worlds_options o;
    pg_worlds_options_init(&o);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long v = 0;
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a, PG_CLI_OUTPUT_VALUE);
            json = argv[++i];
        } else if (strcmp(a, "--out") == 0) {
            if (!next)
                return pg_cli_missing_value(
                    CMD, a, strcmp(sub, "generate") == 0 ? "a folder" : PG_CLI_OUTPUT_VALUE);
            out = argv[++i];
        } else if (strcmp(a, "--kind") == 0 || strcmp(a, "--recipe") == 0) {
            bool kind = strcmp(a, "--kind") == 0;
            if (!next)
                return pg_cli_missing_value(CMD, a,
                                            kind ? "a kind of world (lv-feeder, mv-grid, "
                                                   "village, nexus)"
                                                 : "a recipe file");
            if (arg)
                return pg_cli_usage_error(CMD,
                                          "give the recipe once: KIND|RECIPE, --kind KIND or "
                                          "--recipe FILE",
                                          a);
            arg = argv[++i];
            src = kind ? RECIPE_KIND : RECIPE_FILE;
        } else if (strcmp(a, "--worlds") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a, "a folder of generated worlds");
            worlds = argv[++i];
        } else if (strcmp(a, "--data") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a, "a folder");
            data = argv[++i];
        } else if (strcmp(a, "--count") == 0) {
            if (pg_cli_count_option(CMD, a, next, 1, PG_WORLDS_MAX, &v))
                return PG_EXIT_USAGE;
            o.count = (size_t)v;
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            if (pg_cli_count_option(CMD, a, next, 0, INT64_MAX, &v))
                return PG_EXIT_USAGE;
            o.seed = v;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            if (pg_cli_count_option(CMD, a, next, 0, 64, &v))
                return PG_EXIT_USAGE;
            o.threads = (int)v;
            i++;
        } else if (strcmp(a, "--no-check") == 0) {
            o.check = false;
        } else if (strcmp(a, "--progress") == 0) {
            show_progress = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "plurigrid worlds: unknown option '%s' (see plurigrid worlds --help)\n",
                    a);
            return PG_EXIT_USAGE;
        } else if (!arg) {
            arg = a;
        } else if (src != RECIPE_EITHER) {
            return pg_cli_usage_error(CMD,
                                      "give the recipe once: KIND|RECIPE, --kind KIND or "
                                      "--recipe FILE",
                                      a);
        } else {
            return pg_cli_usage_error(CMD, "too many arguments", a);
        }
    }
    bool gen = strcmp(sub, "generate") == 0;
    /* Options that the subcommand does not take are mistakes, not silently ignored. */
    if (!gen && (o.count != 10 || o.seed != 1 || o.threads || !o.check))
        return pg_cli_usage_error(CMD,
                                  "--count, --seed, --threads and --no-check are options of "
                                  "generate",
                                  sub);
    if (strcmp(sub, "kinds") == 0) {
        if (arg || out || worlds || data)
            return pg_cli_usage_error(CMD, "kinds takes only --json", arg ? arg : "an option");
        return cmd_kinds(json);
    }
    if (!arg) {
        fprintf(stderr, "plurigrid worlds %s: it needs %s (see plurigrid worlds --help)\n", sub,
                strcmp(sub, "list") == 0 ? "a folder of generated worlds"
                : worlds                 ? "the id of a world"
                                         : "a kind or a recipe file");
        return PG_EXIT_USAGE;
    }
    if (src != RECIPE_EITHER && (strcmp(sub, "list") == 0 || worlds))
        return pg_cli_usage_error(CMD, "--kind and --recipe name the recipe of show and generate",
                                  src == RECIPE_KIND ? "--kind" : "--recipe");
    if (strcmp(sub, "list") == 0) {
        if (out || worlds || data)
            return pg_cli_usage_error(CMD, "list takes a folder and --json", "an option");
        return cmd_list(arg, json);
    }
    if (strcmp(sub, "show") == 0) {
        if (worlds) {
            if (json)
                return pg_cli_usage_error(CMD, "show ID --worlds DIR writes the world with --out",
                                          "--json");
            return cmd_show_world(arg, worlds, data, out);
        }
        if (out || data)
            return pg_cli_usage_error(CMD, "show KIND|RECIPE takes --json", "--out or --data");
        return cmd_show_recipe(arg, src, json);
    }
    if (!out) {
        fprintf(stderr, "plurigrid worlds generate: it needs --out DIR, the folder to write the "
                        "worlds to\n");
        return PG_EXIT_USAGE;
    }
    if (worlds)
        return pg_cli_usage_error(CMD, "--worlds is an option of show", "--worlds");
    o.data_dir = data;
    return cmd_generate(arg, src, out, &o, show_progress, json);
}
