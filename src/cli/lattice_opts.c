/* The lattice options of `plurigrid node` and `plurigrid community` (lattice_opts.h): one parser
 * and one log callback, so both commands take and say the same things. */
#include "cli/lattice_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

void
pg_cli_lattice_init(pg_cli_lattice *l, const char *cmd, unsigned accepts)
{
    memset(l, 0, sizeof *l);
    l->cmd = cmd;
    l->accepts = accepts;
    l->level = PG_LOG_INFO;
}

/* A server list: comma-separated, no empty entry, no spaces or control characters (the NATS
 * client would take "a, b" as a server named " b"). */
static bool
servers_ok(const char *s)
{
    if (!s[0] || s[0] == ',')
        return false;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= 0x20 || ch == 0x7f || (ch == ',' && (p[1] == ',' || p[1] == '\0')))
            return false;
    }
    return true;
}

/* A server list as it may be shown: in each URL, the user and password (or token) between
 * "://" and the last '@' replaced by "***", so that no secret is ever printed. */
static void
servers_shown(const char *v, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = 0;
    for (const char *a = v; k + 1 < cap;) {
        const char *b = strchr(a, ',');
        size_t n = b ? (size_t)(b - a) : strlen(a);
        const char *from = a, *at = NULL;
        for (const char *q = a; q + 3 <= a + n; q++)
            if (memcmp(q, "://", 3) == 0) {
                from = q + 3;
                break;
            }
        for (const char *q = from; q < a + n; q++)
            if (*q == '@')
                at = q;
        int w = at ? snprintf(out + k, cap - k, "%.*s***%.*s%s", (int)(from - a), a,
                              (int)(a + n - at), at, b ? "," : "")
                   : snprintf(out + k, cap - k, "%.*s%s", (int)n, a, b ? "," : "");
        k += w > 0 ? (size_t)w : 0;
        if (!b || k >= cap)
            break;
        a = b + 1;
    }
}

static int
bad_value(const pg_cli_lattice *l, const char *opt, const char *what, const char *got)
{
    fprintf(stderr, "plurigrid %s: %s %s (it is '", l->cmd, opt, what);
    pg_cli_put_safe(stderr, got, false);
    fputs("')\n", stderr);
    return -1;
}

int
pg_cli_lattice_option(pg_cli_lattice *l, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    const char **slot = NULL;
    const char *needs = NULL;
    if (strcmp(a, "--nats") == 0) {
        slot = &l->nats;
        needs = "a NATS server URL, or a comma-separated list of them (nats://HOST:PORT)";
    } else if (strcmp(a, "--session") == 0) {
        slot = &l->session;
        needs = "a session token (letters, digits, '-' or '_')";
    } else if (strcmp(a, "--transport") == 0 && (l->accepts & PG_CLI_LAT_TRANSPORT)) {
        slot = &l->transport;
        needs = "a transport: nats or inproc";
    } else if (strcmp(a, "--clock") == 0) {
        slot = &l->clock;
        needs = "simulation or wall";
    } else if (strcmp(a, "--interval-s") == 0) {
        slot = &l->interval_s;
        needs = "a number of seconds";
    } else if (strcmp(a, "--log-level") == 0) {
        slot = &l->log_level;
        needs = "a level: error, warn, info or debug";
    } else if (strcmp(a, "--connections") == 0 && (l->accepts & PG_CLI_LAT_CONNECTIONS)) {
        slot = &l->connections;
        needs = "shared or per-node";
    } else if (strcmp(a, "--ledger") == 0) {
        slot = &l->ledger;
        needs = "the community's ledger folder (made by 'plurigrid ledger init')";
    } else if (strcmp(a, "--ledger-sync-s") == 0) {
        slot = &l->ledger_sync_s;
        needs = "a number of seconds";
    } else {
        return 0;
    }
    if (!v) {
        pg_cli_missing_value(l->cmd, a, needs);
        return -1;
    }
    double x = 0;
    pg_log_level level = PG_LOG_INFO;
    if (slot == &l->nats && !servers_ok(v)) {
        char shown[1024];
        servers_shown(v, shown, sizeof shown);
        return bad_value(l, a,
                         "must be server URLs separated by commas, without spaces or empty "
                         "entries (nats://127.0.0.1:4222,nats://127.0.0.1:4223)",
                         shown);
    }
    if (slot == &l->transport && strcmp(v, "nats") != 0 && strcmp(v, "inproc") != 0)
        return bad_value(l, a, "must be nats or inproc", v);
    if (slot == &l->clock && strcmp(v, "simulation") != 0 && strcmp(v, "wall") != 0)
        return bad_value(l, a, "must be simulation or wall", v);
    if (slot == &l->interval_s && (!pg_cli_parse_double(v, &x) || !(x > 0) || x > 86400))
        return bad_value(l, a, "must be a number of seconds above 0, at most 86400", v);
    if (slot == &l->log_level) {
        if (pg_log_level_parse(v, &level, NULL) != PG_OK)
            return bad_value(l, a, "must be error, warn, info or debug", v);
        l->level = level;
    }
    if (slot == &l->connections && strcmp(v, "shared") != 0 && strcmp(v, "per-node") != 0)
        return bad_value(l, a, "must be shared or per-node", v);
    if (slot == &l->ledger && !v[0])
        return bad_value(l, a, "must be a folder", v);
    if (slot == &l->ledger_sync_s && (!pg_cli_parse_double(v, &x) || !(x >= 0.01) || x > 86400))
        return bad_value(l, a, "must be a number of seconds from 0.01 to 86400", v);
    *slot = v;
    *i += 1;
    return 1;
}

bool
pg_cli_lattice_wanted(const pg_cli_lattice *l)
{
    return l->nats || l->transport;
}

int
pg_cli_lattice_apply(pg_cli_lattice *l, pg_lattice_options *o)
{
    if (l->transport)
        o->transport = l->transport;
    bool nats = !o->transport || strcmp(o->transport, "nats") == 0;
    if (nats && !l->nats) {
        fprintf(stderr,
                "plurigrid %s: --nats URL is needed: the NATS servers to connect to, e.g. --nats "
                "nats://127.0.0.1:4222 (start one with 'nats-server -p 4222')\n",
                l->cmd);
        return -1;
    }
    if (!nats && l->nats) {
        fprintf(stderr, "plurigrid %s: --nats is for the nats transport, not '%s'\n", l->cmd,
                o->transport);
        return -1;
    }
    o->servers = l->nats;
    if (l->session)
        o->session = l->session;
    if (l->clock)
        o->wall_clock = strcmp(l->clock, "wall") == 0;
    if (l->interval_s)
        pg_cli_parse_double(l->interval_s, &o->interval_s);
    if (l->interval_s && !o->wall_clock) {
        fprintf(stderr,
                "plurigrid %s: --interval-s paces intervals on the wall clock; add --clock wall "
                "(on the simulation clock the operator opens each interval as soon as the last "
                "one is settled)\n",
                l->cmd);
        return -1;
    }
    if (l->connections)
        o->per_node_connections = strcmp(l->connections, "per-node") == 0;
    if (l->ledger)
        o->ledger_dir = l->ledger;
    if (l->ledger_sync_s)
        pg_cli_parse_double(l->ledger_sync_s, &o->ledger_sync_s);
    if (l->ledger_sync_s && !o->ledger_dir) {
        fprintf(stderr, "plurigrid %s: --ledger-sync-s goes with a ledger: add --ledger DIR\n",
                l->cmd);
        return -1;
    }
    o->log_level = l->level;
    o->log = pg_cli_lattice_log;
    o->log_ud = l;
    pg_error err = {0};
    if (pg_lattice_options_check(o, &err)) {
        fprintf(stderr, "plurigrid %s: %s\n", l->cmd, err.msg);
        return -1;
    }
    return 0;
}

void
pg_cli_lattice_log(void *ud, pg_log_level level, const char *msg)
{
    const pg_cli_lattice *l = ud;
    static const char *const words[] = {"error", "warn", "info", "debug"};
    const char *word = (unsigned)level < 4 ? words[level] : "debug";
    /* Standard error is unbuffered: the line is made first and written at once, so that the
     * lines of daemons sharing a terminal or a log file do not interleave within a line. */
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    FILE *to = f ? f : stderr;
    fprintf(to, "plurigrid %s%s", l->cmd, l->name ? " " : "");
    if (l->name)
        pg_cli_put_safe(to, l->name, false);
    fprintf(to, ": %s: ", word);
    pg_cli_put_safe(to, msg ? msg : "", false);
    fputc('\n', to);
    if (f && fclose(f) == 0 && line)
        fwrite(line, 1, len, stderr);
    free(line);
}

int
pg_cli_ledger_ready(const pg_cli_lattice *l, const char *dir, const char *scenario,
                    const char *member)
{
    const char *missing[2] = {"genesis.op", NULL};
    char key[512];
    if (member) {
        snprintf(key, sizeof key, "%s.key", member);
        missing[1] = key;
    }
    for (int k = 0; k < 2; k++) {
        if (!missing[k])
            continue;
        size_t n = strlen(dir) + strlen(missing[k]) + 2;
        char *path = malloc(n);
        if (!path)
            return -1;
        snprintf(path, n, "%s/%s", dir, missing[k]);
        bool there = access(path, F_OK) == 0;
        free(path);
        if (there)
            continue;
        fprintf(stderr, "plurigrid %s: the ledger folder '", l->cmd);
        pg_cli_put_safe(stderr, dir, false);
        fprintf(stderr,
                "' has no %s: make the community's ledger folder first with 'plurigrid "
                "ledger init --scenario ",
                missing[k]);
        pg_cli_put_safe(stderr, scenario, false);
        fputs(" --out ", stderr);
        pg_cli_put_safe(stderr, dir, false);
        fputs("' (docs/ledger.md)\n", stderr);
        return -1;
    }
    return 0;
}
