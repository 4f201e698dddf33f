/* plurigrid ledger: a community's shared ledger from the command line (docs/ledger.md, "The ledger
 * command"). keygen makes a key file and pubkey reads one back; init makes a community's ledger
 * folder (the genesis op and every member's key) from its scenario; show, export and verify look
 * into a ledger database: a summary, every op decoded, and a check from scratch that names each
 * problem with its op (recomputing the clearing results when given the community's scenario).
 * Nothing here ever prints a secret key, and show and export open the database read-only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "plurigrid/community.h"
#include "plurigrid/ledger.h"

#define CMD "ledger"

static void
usage(FILE *f)
{
    fputs("Usage: plurigrid ledger keygen --out KEY\n"
          "       plurigrid ledger pubkey --key KEY\n"
          "       plurigrid ledger init --scenario SCENARIO.json --out DIR [--data DIR]\n"
          "       plurigrid ledger show --db FILE [--json FILE|-]\n"
          "       plurigrid ledger export --db FILE [--json FILE|-]\n"
          "       plurigrid ledger verify --db FILE [--json FILE|-]\n"
          "                        [--scenario SCENARIO.json [--variant V] [--market M]\n"
          "                         [--data DIR]]\n"
          "       plurigrid ledger SUBCOMMAND --help\n"
          "\n"
          "A community's shared ledger: every member's copy of its membership, bids, gate\n"
          "closures, clearing results, settlements and demand-response records, each op\n"
          "signed by its author and named by its hash (docs/ledger.md).\n"
          "\n"
          "Subcommands:\n"
          "  keygen   make a new key file (plurigrid-key/1) and print its public key\n"
          "  pubkey   print the public key of a key file\n"
          "  init     make a community's ledger folder: the genesis op and every member's key\n"
          "  show     a summary of a ledger: members, counts, heads, counters, registers and\n"
          "           the latest gate closures, clearing results and settlements\n"
          "  export   every op in delivery order, decoded, with its signature and encoding\n"
          "  verify   check a ledger from scratch: every op's hash, signature, predecessors\n"
          "           and validity, and the stored state against a recomputation\n"
          "\n"
          "Secret keys are never printed. show and export never change the database.\n"
          "\n"
          "Exit status: 0 success (verify: the ledger verifies), 1 verify found problems,\n"
          "2 bad input or usage (a missing or unreadable file, a file that is not a ledger),\n"
          "3 an internal failure.\n",
          f);
}

static void
usage_keygen(FILE *f)
{
    fputs("Usage: plurigrid ledger keygen --out KEY\n"
          "\n"
          "Makes a new random Ed25519 key and writes it to the key file KEY (plurigrid-key/1,\n"
          "docs/ledger.md \"Key files\"), readable by its owner only (mode 0600); prints the\n"
          "public key (64 hex digits) on standard output. The secret seed is written to KEY\n"
          "and nowhere else. An existing file is never replaced.\n"
          "\n"
          "Options:\n"
          "  --out KEY    the key file to create\n"
          "  -h, --help   show this help\n"
          "\n"
          "Exit status: 0 done, 2 bad usage, KEY exists or cannot be written, 3 an internal\n"
          "failure.\n",
          f);
}

static void
usage_pubkey(FILE *f)
{
    fputs("Usage: plurigrid ledger pubkey --key KEY\n"
          "\n"
          "Prints the public key (64 hex digits) of the key file KEY. A key file others than\n"
          "its owner may read or write is refused (chmod 600 KEY makes it private).\n"
          "\n"
          "Options:\n"
          "  --key KEY    the key file\n"
          "  -h, --help   show this help\n"
          "\n"
          "Exit status: 0 done, 2 bad usage or a key file that cannot be used, 3 an internal\n"
          "failure.\n",
          f);
}

static void
usage_init(FILE *f)
{
    fputs("Usage: plurigrid ledger init --scenario SCENARIO.json --out DIR [--data DIR]\n"
          "\n"
          "Makes the ledger folder of a community (docs/ledger.md, \"A community's ledger\"):\n"
          "genesis.key, the founder's key, which signs the genesis op and nothing else (keep it\n"
          "offline); NAME.key for every member of the scenario; and genesis.op, the genesis op\n"
          "admitting every member under its name. Give the folder to the node daemons\n"
          "(\"ledger\" in their member files, or --ledger DIR): each keeps its copy in NAME.db\n"
          "there. Key files are readable by their owner only; no existing file is replaced.\n"
          "\n"
          "Options:\n"
          "  --scenario FILE  the community's scenario (plurigrid-community/1)\n"
          "  --out DIR        the folder to make (created when missing)\n"
          "  --data DIR       the scenario's data folder (default: the scenario's \"data.dir\")\n"
          "  -h, --help       show this help\n"
          "\n"
          "Exit status: 0 done, 2 bad input or usage, or a file of the folder exists, 3 an\n"
          "internal failure.\n",
          f);
}

static void
usage_show(FILE *f)
{
    fputs("Usage: plurigrid ledger show --db FILE [--json FILE|-]\n"
          "\n"
          "A summary of the ledger in the database FILE: its community and genesis op, the\n"
          "ops by kind and the records by type, its heads and the digests of its heads and\n"
          "state, the members with their names, the counters, the registers, and the latest\n"
          "gate closures, clearing results and settlements. The database is opened read-only.\n"
          "\n"
          "Options:\n"
          "  --db FILE      the ledger database (SQLite)\n"
          "  --json FILE|-  also write the summary as JSON (plurigrid-ledger-show/1) to FILE,\n"
          "                 or to standard output for '-' (the text is then not printed)\n"
          "  -h, --help     show this help\n"
          "\n"
          "Exit status: 0 done, 2 bad usage, or FILE is missing, unreadable or not a ledger,\n"
          "3 an internal failure.\n",
          f);
}

static void
usage_export(FILE *f)
{
    fputs("Usage: plurigrid ledger export --db FILE [--json FILE|-]\n"
          "\n"
          "Every op of the ledger in the database FILE, in delivery order (each after its\n"
          "predecessors), decoded: its position, id, height, author, kind, predecessors and\n"
          "payload, its signature and its whole encoding in hex, from which another program\n"
          "can check every id (BLAKE2b-256 of the encoding) and signature (Ed25519 over the\n"
          "encoding without its last 64 bytes) on its own (docs/ledger.md). The database is\n"
          "opened read-only.\n"
          "\n"
          "Options:\n"
          "  --db FILE      the ledger database (SQLite)\n"
          "  --json FILE|-  write the ops as JSON (plurigrid-ledger-export/1) to FILE, or to\n"
          "                 standard output for '-' (the text is then not printed)\n"
          "  -h, --help     show this help\n"
          "\n"
          "Exit status: 0 done, 2 bad usage, or FILE is missing, unreadable or not a ledger,\n"
          "3 an internal failure.\n",
          f);
}

static void
usage_verify(FILE *f)
{
    fputs("Usage: plurigrid ledger verify --db FILE [--json FILE|-]\n"
          "                        [--scenario SCENARIO.json [--variant V] [--market M]\n"
          "                         [--data DIR]]\n"
          "\n"
          "Checks the ledger in the database FILE from scratch, trusting nothing derived in\n"
          "it: every row's encoding, its id (the hash of the encoding), its signature, its\n"
          "predecessors (present and delivered before it), every op's validity by its\n"
          "ancestors, and the stored heads and state against those recomputed. Each problem\n"
          "is named with the op's position (seq) and id.\n"
          "\n"
          "With the community's scenario, every clearing result is recomputed from the bids\n"
          "its gate closure names, with the market's own clearing; without it, records are\n"
          "checked structurally and the report says how many results were not recomputed.\n"
          "\n"
          "Options:\n"
          "  --db FILE        the ledger database (SQLite)\n"
          "  --json FILE|-    also write the report as JSON (plurigrid-ledger-verify/1) to\n"
          "                   FILE, or to standard output for '-' (the text is then not printed)\n"
          "  --scenario FILE  the community's scenario (plurigrid-community/1)\n"
          "  --variant V      the scenario's variant the community played (default: its first)\n"
          "  --market M       the mechanism it played (default: the scenario's)\n"
          "  --data DIR       the scenario's data folder (default: the scenario's \"data.dir\")\n"
          "  -h, --help       show this help\n"
          "\n"
          "Exit status: 0 the ledger verifies, 1 problems were found, 2 bad usage, or FILE is\n"
          "missing, unreadable or not a ledger, 3 an internal failure.\n",
          f);
}

/* Reports err as "plurigrid ledger SUB: ..." and returns its exit code: a key file that may not
 * be used (EAUTH) or a file that exists (ESTATE) are the user's to fix, like bad input. */
static int
fail(const char *cmd, const pg_error *err)
{
    int code = pg_cli_report(cmd, err);
    if (err->code == PG_EAUTH || err->code == PG_ESTATE)
        code = PG_EXIT_USAGE;
    return code;
}

/* A ledger database is a regular file: a folder, a device or a pipe is refused before SQLite
 * opens it (opening a FIFO would wait for a writer forever). */
static int
check_db(const char *cmd, const char *path)
{
    struct stat st;
    const char *why = NULL;
    if (strcmp(path, "-") == 0)
        why = "a ledger is an SQLite database file, not standard input";
    else if (stat(path, &st) != 0)
        why = errno == ENOENT ? "no such file (make a ledger folder with 'plurigrid ledger init'; "
                                "each node keeps its copy in it)"
                              : strerror(errno);
    else if (S_ISDIR(st.st_mode))
        why = "this is a folder, not a ledger database (an SQLite file such as home-1.db)";
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file (a device, a pipe or a socket): a ledger is an SQLite database "
              "file";
    if (!why)
        return PG_EXIT_OK;
    fprintf(stderr, "plurigrid %s: ", cmd);
    pg_cli_put_safe(stderr, path, false);
    fprintf(stderr, ": %s\n", why);
    return PG_EXIT_USAGE;
}

/* The value of option a, or a usage error: *i moves past it. */
static const char *
value(const char *cmd, int argc, char **argv, int *i, const char *what, int *code)
{
    if (*i + 1 >= argc) {
        *code = pg_cli_missing_value(cmd, argv[*i], what);
        return NULL;
    }
    return argv[++*i];
}

/* A required option that was not given: "plurigrid CMD: OPT is needed: WHY; try ..."; returns
 * the usage exit code. */
static int
needed(const char *cmd, const char *opt, const char *why)
{
    fprintf(stderr, "plurigrid %s: %s is needed: %s; try 'plurigrid %s --help'\n", cmd, opt, why,
            cmd);
    return PG_EXIT_USAGE;
}

static int
unknown(const char *cmd, const char *a)
{
    char what[160];
    snprintf(what, sizeof what,
             a[0] == '-' ? "unknown option; try 'plurigrid %s --help'"
                         : "unexpected argument; try 'plurigrid %s --help'",
             cmd);
    return pg_cli_usage_error(cmd, what, a);
}

/* ---------------------------------------------------------------- keys */

static int
run_keygen(int argc, char **argv)
{
    const char *cmd = CMD " keygen", *out = NULL;
    int code = PG_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        if (pg_cli_is_help(argv[i])) {
            usage_keygen(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(argv[i], "--out") == 0) {
            if (!(out = value(cmd, argc, argv, &i, "the key file to create", &code)))
                return code;
        } else {
            return unknown(cmd, argv[i]);
        }
    }
    if (!out)
        return needed(cmd, "--out KEY", "the key file to create");
    if (strcmp(out, "-") == 0) {
        fprintf(stderr,
                "plurigrid %s: --out needs a file: a secret key is never written to "
                "standard output\n",
                cmd);
        return PG_EXIT_USAGE;
    }
    pg_error err = {0};
    pg_ledger_key k;
    if (pg_ledger_key_generate(&k, &err) != PG_OK)
        return fail(cmd, &err);
    int rc = pg_ledger_key_write(out, &k, &err);
    char hex[2 * PG_LEDGER_KEY_BYTES + 1];
    pg_ledger_hex(k.pk.b, sizeof k.pk.b, hex);
    pg_ledger_key_wipe(&k);
    if (rc != PG_OK)
        return fail(cmd, &err);
    printf("%s\n", hex);
    fprintf(stderr, "plurigrid %s: wrote a new key to ", cmd);
    pg_cli_put_safe(stderr, out, false);
    fputs(" (readable by you only); its public key is above\n", stderr);
    return PG_EXIT_OK;
}

static int
run_pubkey(int argc, char **argv)
{
    const char *cmd = CMD " pubkey", *path = NULL;
    int code = PG_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        if (pg_cli_is_help(argv[i])) {
            usage_pubkey(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(argv[i], "--key") == 0) {
            if (!(path = value(cmd, argc, argv, &i, "a key file", &code)))
                return code;
        } else {
            return unknown(cmd, argv[i]);
        }
    }
    if (!path)
        return needed(cmd, "--key KEY", "the key file");
    pg_error err = {0};
    pg_ledger_key k;
    if (pg_ledger_key_read(path, &k, &err) != PG_OK)
        return fail(cmd, &err);
    char hex[2 * PG_LEDGER_KEY_BYTES + 1];
    pg_ledger_hex(k.pk.b, sizeof k.pk.b, hex);
    pg_ledger_key_wipe(&k);
    printf("%s\n", hex);
    return PG_EXIT_OK;
}

/* ---------------------------------------------------------------- init */

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Tells what init made: the genesis op's id and the members it admits. */
static int
print_folder(const char *cmd, const char *dir)
{
    char path[4096];
    char *data = NULL;
    size_t len = 0;
    pg_ledger_op *op = NULL;
    pg_error err = {0};
    int code = PG_EXIT_OK;
    if (snprintf(path, sizeof path, "%s/genesis.op", dir) >= (int)sizeof path) {
        fprintf(stderr, "plurigrid %s: the folder's name is too long\n", cmd);
        return PG_EXIT_USAGE;
    }
    if (pg_input_read(path, PG_LEDGER_MAX_OP, &data, &len, &err) != PG_OK ||
        pg_ledger_op_decode(data, len, &op, &err) != PG_OK) {
        code = fail(cmd, &err);
        goto out;
    }
    char id[2 * PG_LEDGER_HASH_BYTES + 1];
    pg_ledger_hex(op->id.b, sizeof op->id.b, id);
    const pg_ledger_genesis *g = &op->payload.genesis;
    fputs("Ledger folder ", stdout);
    pg_cli_put_safe(stdout, dir, false);
    printf(" of community %s\n", g->community);
    printf("  genesis.op    the genesis op, id %s\n", id);
    printf("  genesis.key   the founder's key: it signed the genesis op; keep it offline\n");
    /* by name, as the scenario's members read (the genesis lists them by key) */
    const char **names = malloc((g->n_members ? g->n_members : 1) * sizeof *names);
    if (!names) {
        fprintf(stderr, "plurigrid %s: out of memory\n", cmd);
        code = PG_EXIT_INTERNAL;
        goto out;
    }
    for (size_t i = 0; i < g->n_members; i++)
        names[i] = g->members[i].name;
    qsort(names, g->n_members, sizeof *names, name_cmp);
    for (size_t i = 0; i < g->n_members; i++) {
        char file[PG_LEDGER_MAX_NAME + 8];
        snprintf(file, sizeof file, "%s.key", names[i]);
        printf("  %-13s the key of member %s\n", file, names[i]);
    }
    free(names);
    printf("Each member's node keeps its copy of the ledger in NAME.db in this folder: give it\n"
           "the folder (\"ledger\" in its member file). Copy only its own key to each member's\n"
           "machine.\n");
out:
    pg_ledger_op_free(op);
    free(data);
    return code;
}

static int
run_init(int argc, char **argv)
{
    const char *cmd = CMD " init", *scenario = NULL, *out = NULL, *data = NULL;
    int code = PG_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (pg_cli_is_help(a)) {
            usage_init(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(a, "--scenario") == 0) {
            if (!(scenario = value(cmd, argc, argv, &i, "a scenario file", &code)))
                return code;
        } else if (strcmp(a, "--out") == 0) {
            if (!(out = value(cmd, argc, argv, &i, "a folder", &code)))
                return code;
        } else if (strcmp(a, "--data") == 0) {
            if (!(data = value(cmd, argc, argv, &i, "a folder", &code)))
                return code;
        } else {
            return unknown(cmd, a);
        }
    }
    if (!scenario || !out)
        return !scenario ? needed(cmd, "--scenario SCENARIO.json", "the community's scenario")
                         : needed(cmd, "--out DIR", "the ledger folder to make");
    if (strcmp(out, "-") == 0)
        return pg_cli_usage_error(cmd, "--out needs a folder", out);
    pg_error err = {0};
    pg_community *c = NULL;
    pg_community_options o;
    pg_community_options_init(&o);
    o.data_dir = data;
    code = PG_EXIT_OK;
    if (pg_community_read(&c, scenario, &o, &err) != PG_OK ||
        pg_community_ledger_init(c, out, &err) != PG_OK) {
        code = fail(cmd, &err);
        goto out;
    }
    code = print_folder(cmd, out);
out:
    pg_community_free(c);
    return code;
}

/* ---------------------------------------------------------------- show, export, verify */

typedef struct db_args {
    const char *db, *json, *scenario, *variant, *market, *data;
} db_args;

/* Parses the options of show, export (scenario false) and verify. Returns -1 when the help was
 * shown (exit 0), else an exit code (0: go on). */
static int
parse_db(const char *cmd, int argc, char **argv, bool scenario, void (*help)(FILE *), db_args *a)
{
    int code = PG_EXIT_USAGE;
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (pg_cli_is_help(s)) {
            help(stdout);
            return -1;
        } else if (strcmp(s, "--db") == 0) {
            if (!(a->db = value(cmd, argc, argv, &i, "a ledger database file", &code)))
                return code;
        } else if (strcmp(s, "--json") == 0) {
            if (!(a->json = value(cmd, argc, argv, &i, PG_CLI_OUTPUT_VALUE, &code)))
                return code;
        } else if (scenario && strcmp(s, "--scenario") == 0) {
            if (!(a->scenario = value(cmd, argc, argv, &i, "a scenario file", &code)))
                return code;
        } else if (scenario && strcmp(s, "--variant") == 0) {
            if (!(a->variant = value(cmd, argc, argv, &i, "a variant's name", &code)))
                return code;
        } else if (scenario && strcmp(s, "--market") == 0) {
            if (!(a->market = value(cmd, argc, argv, &i,
                                    "a mechanism: uniform, pay-as-bid or continuous", &code)))
                return code;
        } else if (scenario && strcmp(s, "--data") == 0) {
            if (!(a->data = value(cmd, argc, argv, &i, "a folder", &code)))
                return code;
        } else if (!scenario && (strcmp(s, "--scenario") == 0 || strcmp(s, "--variant") == 0 ||
                                 strcmp(s, "--market") == 0 || strcmp(s, "--data") == 0)) {
            return pg_cli_usage_error(cmd, "this option is for 'plurigrid ledger verify'", s);
        } else {
            return unknown(cmd, s);
        }
    }
    if (!a->db)
        return needed(cmd, "--db FILE", "the ledger database");
    if (!a->scenario && (a->variant || a->market || a->data)) {
        fprintf(stderr,
                "plurigrid %s: --variant, --market and --data go with --scenario "
                "SCENARIO.json\n",
                cmd);
        return PG_EXIT_USAGE;
    }
    if (pg_cli_same_file(a->json, a->db))
        return pg_cli_usage_error(cmd, "--json would replace the database it reads", a->json);
    if (pg_cli_same_file(a->json, a->scenario))
        return pg_cli_usage_error(cmd, "--json would replace the scenario file it reads", a->json);
    return check_db(cmd, a->db);
}

/* Writes text to standard output unless the JSON goes there, then json to its file. */
static int
emit(const char *cmd, const db_args *a, const char *text, const char *json)
{
    int code = PG_EXIT_OK;
    bool json_std = a->json && strcmp(a->json, "-") == 0;
    if (!json_std && (code = pg_cli_write(cmd, "-", text, strlen(text))) != PG_EXIT_OK)
        return code;
    if (a->json)
        code = pg_cli_write(cmd, a->json, json, strlen(json));
    return code;
}

static int
run_describe(int argc, char **argv, bool export_)
{
    const char *cmd = export_ ? CMD " export" : CMD " show";
    db_args a;
    int code = parse_db(cmd, argc, argv, false, export_ ? usage_export : usage_show, &a);
    if (code)
        return code < 0 ? PG_EXIT_OK : code;
    int (*describe)(pg_ledger *, bool, char **, pg_error *) =
        export_ ? pg_ledger_export : pg_ledger_show;
    pg_error err = {0};
    pg_ledger *l = NULL;
    char *text = NULL, *json = NULL;
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.read_only = true;
    bool json_std = a.json && strcmp(a.json, "-") == 0;
    if (pg_ledger_open(&l, a.db, NULL, 0, &o, &err) != PG_OK ||
        (!json_std && describe(l, false, &text, &err) != PG_OK) ||
        (a.json && describe(l, true, &json, &err) != PG_OK)) {
        code = fail(cmd, &err);
        goto out;
    }
    code = emit(cmd, &a, text, json);
out:
    free(text);
    free(json);
    pg_ledger_close(l);
    return code;
}

/* Checks that the ledger is the scenario's community's (another community's would fail every
 * record, a false accusation) when it opens, then finds the index of the variant named --variant.
 * The library finds a variant with a member of the community; every member of a community's ledger
 * is one, and its genesis op names them. */
static int
find_variant(const char *cmd, const pg_community *c, const db_args *a, size_t *out)
{
    pg_error err = {0};
    pg_ledger *l = NULL;
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.read_only = true;
    pg_ledger_member m[1];
    int code = PG_EXIT_OK;
    if (pg_ledger_open(&l, a->db, NULL, 0, &o, &err) != PG_OK) {
        /* a damaged copy is verify's to report, op by op; only a variant needs its members */
        if (a->variant)
            code = fail(cmd, &err);
        goto out;
    }
    if (pg_community_ledger_match(c, l, &err) != PG_OK) {
        pg_error_at(&err, a->db, 0, 0, "");
        code = fail(cmd, &err);
        goto out;
    }
    if (!a->variant)
        goto out;
    if (pg_ledger_members(l, m, 1) == 0) {
        fprintf(stderr,
                "plurigrid %s: the ledger has no members, so --variant cannot be matched "
                "with the scenario's members; leave it out\n",
                cmd);
        code = PG_EXIT_USAGE;
        goto out;
    }
    pg_community_member mem;
    memset(&mem, 0, sizeof mem);
    mem.community = (char *)a->scenario;
    mem.name = (char *)m[0].name;
    mem.variant = (char *)a->variant;
    if (pg_community_member_find(c, &mem, NULL, out, &err) != PG_OK) {
        pg_error_at(&err, a->scenario, 0, 0, "");
        code = fail(cmd, &err);
    }
out:
    pg_ledger_close(l);
    return code;
}

static int
run_verify(int argc, char **argv)
{
    const char *cmd = CMD " verify";
    db_args a;
    int code = parse_db(cmd, argc, argv, true, usage_verify, &a);
    if (code)
        return code < 0 ? PG_EXIT_OK : code;
    pg_error err = {0};
    pg_community *c = NULL;
    pg_ledger_checker *ch = NULL;
    pg_ledger_verify_report rep;
    memset(&rep, 0, sizeof rep);
    bool have_rep = false;
    char *text = NULL, *json = NULL;
    bool json_std = a.json && strcmp(a.json, "-") == 0;
    if (a.scenario) {
        pg_community_options co;
        pg_community_options_init(&co);
        co.data_dir = a.data;
        co.market = a.market;
        size_t variant = 0;
        if (pg_community_read(&c, a.scenario, &co, &err) != PG_OK) {
            code = fail(cmd, &err);
            goto out;
        }
        if ((code = find_variant(cmd, c, &a, &variant)) != PG_EXIT_OK)
            goto out;
        if (pg_community_ledger_checker(c, variant, a.market, &ch, &err) != PG_OK) {
            code = fail(cmd, &err);
            goto out;
        }
    }
    if (pg_ledger_verify_file(a.db, ch, &rep, &err) != PG_OK) {
        code = fail(cmd, &err);
        goto out;
    }
    have_rep = true;
    if ((!json_std && pg_ledger_verify_report_text(&rep, false, &text, &err) != PG_OK) ||
        (a.json && pg_ledger_verify_report_text(&rep, true, &json, &err) != PG_OK)) {
        code = fail(cmd, &err);
        goto out;
    }
    if (!json_std) {
        fputs("Ledger ", stdout);
        pg_cli_put_safe(stdout, a.db, false);
        if (ch) {
            fputs(", clearing results recomputed by ", stdout);
            pg_cli_put_safe(stdout, ch->name ? ch->name : "the scenario's market", false);
        } else {
            fputs(", records checked structurally", stdout);
        }
        fputs("\n", stdout);
    }
    if ((code = emit(cmd, &a, text, json)) != PG_EXIT_OK)
        goto out;
    if (rep.n_problems) {
        fprintf(stderr, "plurigrid %s: ", cmd);
        pg_cli_put_safe(stderr, a.db, false);
        fprintf(stderr, " does not verify: %zu problem%s, each named with its op in the report\n",
                rep.n_problems, rep.n_problems == 1 ? "" : "s");
        code = PG_EXIT_FAIL;
    } else if (!ch && rep.results_unchecked) {
        fprintf(stderr,
                "plurigrid %s: %zu clearing result%s not recomputed: give the "
                "community's scenario (--scenario) to recompute them\n",
                cmd, rep.results_unchecked, rep.results_unchecked == 1 ? " was" : "s were");
    }
out:
    free(text);
    free(json);
    if (have_rep)
        pg_ledger_verify_report_free(&rep);
    pg_community_ledger_checker_free(ch);
    pg_community_free(c);
    return code;
}

/* ---------------------------------------------------------------- the command */

static int
run_show(int argc, char **argv)
{
    return run_describe(argc, argv, false);
}

static int
run_export(int argc, char **argv)
{
    return run_describe(argc, argv, true);
}

static const pg_cli_subcommand subcommands[] = {
    {"keygen", run_keygen, usage_keygen}, {"pubkey", run_pubkey, usage_pubkey},
    {"init", run_init, usage_init},       {"show", run_show, usage_show},
    {"export", run_export, usage_export}, {"verify", run_verify, usage_verify},
};

int
pg_cmd_ledger(int argc, char **argv)
{
    return pg_cli_subcommands(CMD, subcommands, sizeof subcommands / sizeof *subcommands, usage,
                              "keygen, pubkey, init, show, export and verify", argc, argv);
}
