/* plurigrid convert: reads a world in one format and writes it in another (plurigrid JSON,
 * MATPOWER case), reporting what the target format cannot hold. The world and the JSON summary
 * go through the library's one atomic writer, or to standard output for '-'. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "plurigrid/io.h"

static void
usage(FILE *f)
{
    fprintf(f, "Usage: plurigrid convert IN OUT [--from FMT] [--to FMT] [--step K]\n"
               "                         [--layout] [--json FILE|-]\n"
               "\n"
               "Reads the world in IN and writes it to OUT. The formats are json (a plurigrid\n"
               "world, plurigrid-world/1, docs/world-format.md) and matpower (a MATPOWER case\n"
               "file, format version 2, docs/matpower.md); each is taken from the file's\n"
               "extension (.json, .m) unless named. IN or OUT may be '-' for standard input or\n"
               "output, with --from or --to naming the format.\n"
               "\n"
               "Converting a MATPOWER case to JSON and back keeps it exactly. What a target\n"
               "format cannot hold (time series and renewables in a MATPOWER case, MATPOWER\n"
               "fields plurigrid does not use, bus positions on a drawing) is reported as a\n"
               "note on standard error.\n"
               "\n"
               "Options:\n"
               "  --from FMT   read IN as FMT (json or matpower)\n"
               "  --to FMT     write OUT as FMT (json or matpower)\n"
               "  --step K     write the world as it is at step K (0 = the first) of its time\n"
               "               series: loads scaled, renewables at their availability. A MATPOWER\n"
               "               case of one hour of a day, for example\n"
               "  --layout     place the buses that have no position on a drawing (x, y) before\n"
               "               writing: what the grid designer shows. Placed buses stay where\n"
               "               they are. JSON output only (MATPOWER keeps no positions)\n"
               "  --json FILE|-\n"
               "               write a summary as JSON to FILE, or to standard output for '-'\n"
               "               (instead of the one-line summary; not with OUT '-')\n"
               "  -h, --help   show this help\n"
               "\n"
               "OUT and the --json file are replaced whole: a failed write leaves the old file\n"
               "(docs/cli.md).\n"
               "\n"
               "Exit status: 0 converted, 2 bad input or usage (or a failed write), 3 internal\n"
               "failure.\n"
               "\n"
               "Example:\n"
               "  plurigrid convert case9.m case9.json\n"
               "  plurigrid convert case118.m case118.json --layout\n");
}

static int
check_format(const char *fmt, const char *opt)
{
    if (strcmp(fmt, "json") == 0 || strcmp(fmt, "matpower") == 0)
        return 0;
    fprintf(stderr, "plurigrid convert: %s '%s': the formats are json and matpower\n", opt, fmt);
    return -1;
}

int
pg_cmd_convert(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *from = NULL, *to = NULL, *json_path = NULL;
    long step = -1;
    bool layout = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            if (i + 1 >= argc)
                return pg_cli_missing_value("convert", a, PG_CLI_OUTPUT_VALUE);
            json_path = argv[++i];
        } else if ((strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "plurigrid convert: %s needs a format (json or matpower)\n", a);
                return PG_EXIT_USAGE;
            }
            if (check_format(argv[i + 1], a))
                return PG_EXIT_USAGE;
            if (a[2] == 'f')
                from = argv[++i];
            else
                to = argv[++i];
        } else if (strcmp(a, "--layout") == 0) {
            layout = true;
        } else if (strcmp(a, "--step") == 0) {
            unsigned long long k = 0;
            if (i + 1 >= argc || !pg_cli_parse_count(argv[i + 1], LONG_MAX, &k)) {
                fprintf(stderr, "plurigrid convert: --step needs a step number, 0 or more\n");
                return PG_EXIT_USAGE;
            }
            step = (long)k;
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr,
                    "plurigrid convert: unknown option '%s' (see plurigrid convert --help)\n", a);
            return PG_EXIT_USAGE;
        } else if (!in) {
            in = a;
        } else if (!out) {
            out = a;
        } else {
            fprintf(stderr, "plurigrid convert: too many arguments ('%s'); it takes IN and OUT\n",
                    a);
            return PG_EXIT_USAGE;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "plurigrid convert: it needs an input and an output file\n\n");
        usage(stderr);
        return PG_EXIT_USAGE;
    }
    bool in_std = strcmp(in, "-") == 0, out_std = strcmp(out, "-") == 0;
    if (!from)
        from = in_std ? NULL : pg_world_format_from_path(in);
    if (!to)
        to = out_std ? NULL : pg_world_format_from_path(out);
    if (!from) {
        fprintf(stderr,
                "plurigrid convert: cannot tell the format of '%s' from its name: use a .json or "
                ".m file, or --from json|matpower\n",
                in);
        return PG_EXIT_USAGE;
    }
    if (!to) {
        fprintf(stderr,
                "plurigrid convert: cannot tell the format of '%s' from its name: use a .json or "
                ".m file, or --to json|matpower\n",
                out);
        return PG_EXIT_USAGE;
    }
    if (layout && strcmp(to, "json") != 0) {
        fprintf(stderr, "plurigrid convert: --layout places buses on a drawing, which only a JSON "
                        "world keeps: a MATPOWER case has no bus positions\n");
        return PG_EXIT_USAGE;
    }
    bool json_std = json_path && strcmp(json_path, "-") == 0;
    if (json_std && out_std) {
        fprintf(stderr, "plurigrid convert: --json - and OUT '-' cannot both go to standard "
                        "output; write one of them to a file\n");
        return PG_EXIT_USAGE;
    }
    if (pg_cli_same_file(json_path, in) || pg_cli_same_file(json_path, out))
        return pg_cli_usage_error("convert", "--json names the input or the output file",
                                  json_path);

    pg_error err = {0};
    pg_notes notes = {0};
    pg_world *w = NULL;
    char *text = NULL;
    int code = PG_EXIT_OK, rc;
    bool from_json = strcmp(from, "json") == 0, to_json = strcmp(to, "json") == 0;
    if (in_std) {
        size_t len = 0;
        char *data = NULL;
        if ((rc = pg_input_read("-", 0, &data, &len, &err))) {
            code = pg_cli_report("convert", &err);
            goto out;
        }
        rc = from_json ? pg_world_json_read_buffer(data, len, "<stdin>", &w, &notes, &err)
                       : pg_matpower_read_buffer(data, len, "<stdin>", &w, &notes, &err);
        free(data);
    } else {
        rc = pg_world_read(in, from, &w, &notes, &err);
    }
    if (rc) {
        code = pg_cli_report("convert", &err);
        goto out;
    }
    if (step >= 0) {
        size_t n_steps = 0;
        if ((rc = pg_world_horizon(w, &n_steps, NULL, &err))) {
            code = pg_cli_report("convert", &err);
            goto out;
        }
        if (n_steps == 0) {
            fprintf(stderr,
                    "plurigrid convert: --step %ld: %s has no time series, so there is no step to "
                    "take (--step applies to worlds whose loads or renewables follow series); "
                    "leave it out\n",
                    step, in_std ? "the world on standard input" : in);
            code = PG_EXIT_USAGE;
            goto out;
        }
        if ((size_t)step >= n_steps) {
            fprintf(stderr, "plurigrid convert: --step %ld: %s has %zu step%s (0 to %zu)\n", step,
                    in, n_steps, n_steps == 1 ? "" : "s", n_steps ? n_steps - 1 : 0);
            code = PG_EXIT_USAGE;
            goto out;
        }
        pg_world *at = NULL;
        if ((rc = pg_world_at_step(&at, w, (size_t)step, &err))) {
            code = pg_cli_report("convert", &err);
            goto out;
        }
        pg_world_free(w);
        w = at;
    }
    if (layout && (rc = pg_world_layout(w, false, &err))) {
        code = pg_cli_report("convert", &err);
        goto out;
    }
    size_t n_in_notes = notes.n;
    if (out_std) {
        size_t len = 0;
        rc = to_json ? pg_world_json_write_buffer(w, &text, &len, &err)
                     : pg_matpower_write_buffer(w, &text, &len, &notes, &err);
        if (!rc)
            code = pg_cli_write("convert", "-", text, len);
    } else {
        rc = pg_world_write(w, out, to, &notes, &err);
    }
    if (rc) {
        code = pg_cli_report("convert", &err);
        goto out;
    }
    for (size_t i = 0; i < notes.n; i++)
        fprintf(stderr, "plurigrid convert: note: %s\n", notes.items[i]);
    if (json_path) {
        free(text);
        text = NULL;
        if (pg_world_convert_json(w, in, from, out, to, &notes, n_in_notes, &text, &err)) {
            code = pg_cli_report("convert", &err);
            goto out;
        }
        if ((code = pg_cli_write("convert", json_path, text, strlen(text))))
            goto out;
    }
    if (!out_std && !json_std)
        printf("wrote %s (%s): %zu buses, %zu branches, %zu loads, %zu thermal, %zu renewable and "
               "%zu storage units, %zu time series\n",
               out, to, w->n_buses, w->n_branches, w->n_loads, w->n_thermals, w->n_renewables,
               w->n_storages, w->n_series);
out:
    free(text);
    pg_notes_clear(&notes);
    pg_world_free(w);
    return code;
}
