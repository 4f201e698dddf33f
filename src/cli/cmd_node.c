/* plurigrid node: the node daemon. Runs one member of a community on the lattice (NATS): reads
 * its member file (plurigrid-member/1) and the community's scenario, finds its peers by their
 * announcements and trades with them interval by interval until the run is over or it is told to
 * stop (SIGTERM, SIGINT), logging one line per event to standard error; then prints what it did
 * (its bill, what it traded, the intervals it was settled in), or the run's report as JSON.
 * With --http it is also its own dashboard: the HTTP server of lib/plurigrid/http.so (loaded
 * only then, through the one table of src/http/node_api.h) runs beside the run, fed by the run's
 * events, from before the first interval until the node leaves. */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/lattice_opts.h"
#include "http/node_api.h"
#include "plurigrid/community.h"

#define CMD "node"

static void
usage(FILE *f)
{
    fputs("Usage: plurigrid node --config MEMBER.json --nats URL[,URL...] [--log-level LEVEL]\n"
          "                      [--clock simulation|wall] [--interval-s S] [--session TOKEN]\n"
          "                      [--data DIR] [--days N] [--start-day D] [--json FILE|-]\n"
          "                      [--ledger DIR [--ledger-sync-s S]]\n"
          "                      [--http HOST:PORT [--token-file FILE]]\n"
          "\n"
          "The node daemon: runs one member of a community on a NATS server (or a cluster of\n"
          "them) until the community's run is over or it is stopped. The member file names\n"
          "the community's scenario and the member; every process knows the whole scenario,\n"
          "the members find each other by their announcements and heartbeats, and one of them\n"
          "operates the market (another takes over when it falls silent). Each interval the\n"
          "member bids, is awarded its share of the clearing, runs its devices and is settled.\n"
          "\n"
          "A member file (plurigrid-member/1, docs/lattice.md):\n"
          "  {\"format\": \"plurigrid-member/1\", \"community\": \"scenario.json\",\n"
          "   \"name\": \"home-1\", \"lattice\": {\"form_s\": 60}}\n"
          "\"community\" is relative to the member file. Optional: \"variant\", \"market\",\n"
          "\"data\", \"start_day\", \"days\", \"ledger\" (a folder), and in \"lattice\":\n"
          "\"heartbeat_s\", \"timeout_s\", \"retry_s\", \"form_s\", \"clock\", \"interval_s\",\n"
          "\"ledger_sync_s\".\n"
          "\n",
          f);
    fputs("Options (they override the member file's):\n"
          "  --config FILE      the member file\n"
          "  --nats URLS        the NATS servers, comma-separated (nats://127.0.0.1:4222); the\n"
          "                     daemon moves to another when its server goes away\n"
          "  --log-level LEVEL  error, warn, info (default) or debug: what is logged to standard\n"
          "                     error, one line per event (\"plurigrid node NAME: LEVEL: ...\"):\n"
          "                     members joining and dropped, the operator, each interval's\n"
          "                     award, the connection lost and restored; debug adds the\n"
          "                     check of each clearing result (to watch every message, run\n"
          "                     the server with tracing: nats-server -V)\n"
          "  --clock C          simulation (the operator opens each interval as soon as the last\n"
          "                     is settled) or wall (one interval every --interval-s seconds)\n"
          "  --interval-s S     wall clock: seconds per interval (default: the scenario's step)\n"
          "  --session TOKEN    a token in the subjects, to keep runs of one community apart\n"
          "  --data DIR         the scenario's data folder\n"
          "  --days N           days to play\n"
          "  --start-day D      the first day, counted from the data's first row\n"
          "  --ledger DIR       record the member's bids, meter readings, DR events (and, as\n"
          "                     operator, gates, results and settlements) on the community's\n"
          "                     shared ledger: DIR holds genesis.op and NAME.key (made by\n"
          "                     'plurigrid ledger init --scenario S --out DIR'); the member's\n"
          "                     copy is DIR/NAME.db, reconciled with its peers\n"
          "  --ledger-sync-s S  seconds between reconciliations with a peer (default 5)\n"
          "  --http HOST:PORT   also serve the node's dashboard and its JSON API (the members,\n"
          "                     live telemetry, the interval's bids and clearing price, DR\n"
          "                     events, history; /api/live, /api/node, /api/events) on this\n"
          "                     address (127.0.0.1:0: a free port); the address it listens\n"
          "                     on is the first line on standard error\n"
          "  --token-file FILE  the bearer token the API asks for: a private file (chmod 600)\n"
          "                     of one line, 16 or more printable characters; needed when\n"
          "                     --http is not a loopback address\n"
          "  --json FILE|-      also write the run as this process recorded it as JSON\n"
          "                     (plurigrid-community-report/1) to FILE, or to standard output\n"
          "                     for '-' instead of the summary\n"
          "  -h, --help         show this help\n"
          "\n"
          "SIGTERM or SIGINT (Ctrl-C) stops the daemon cleanly: it leaves the community at the\n"
          "next chance and prints what it did so far (a second signal ends it at once).\n"
          "\n"
          "Exit status: 0 the run is over or the daemon was stopped, 2 bad input or usage (the\n"
          "message names the file, line and field), 3 the servers cannot be reached or an\n"
          "internal failure.\n",
          f);
}

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
    if (stopping) { /* asked twice: go now */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stopping = sig;
}

/* SIGTERM and SIGINT set the stop flag the run polls. SA_RESTART: a read or write of the
 * process's own (a file, standard error) interrupted by the signal goes on rather than failing;
 * the run does not need the interruption, it notices the flag at its next turn (its loop polls
 * the bus every few milliseconds). */
static int
catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    return 0;
}

static const char *
signal_name(int sig)
{
    return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "a signal";
}

/* The member's own figures of the run. */
static void
print_summary(const pg_community_report *r, size_t node, bool stopped)
{
    if (!r->n_variants || node >= r->n_nodes)
        return;
    const pg_community_variant *v = &r->variants[0];
    const pg_community_run *run = v->has_market ? &v->market : &v->baseline;
    const pg_community_metrics *m = &run->node[node];
    fputs("Member ", stdout);
    pg_cli_put_safe(stdout, r->node_names[node], false);
    fputs(" of ", stdout);
    pg_cli_put_safe(stdout, r->scenario, false);
    fputs(" (variant ", stdout);
    pg_cli_put_safe(stdout, v->name, false);
    printf(", market %s)%s\n", run->mechanism, stopped ? ": stopped" : "");
    printf("  the run                   %zu intervals of %g h from day %zu\n", r->n_intervals,
           r->step_h, r->start_day);
    printf("  bill                  $   %10.2f\n", m->bill);
    printf("  revenue               $   %10.2f\n", m->revenue);
    printf("  bought from peers     kWh %10.2f   paid      $ %8.2f\n", m->peer_bought_kwh,
           m->peer_paid);
    printf("  sold to peers         kWh %10.2f   received  $ %8.2f\n", m->peer_sold_kwh,
           m->peer_received);
    printf("  bought from the grid  kWh %10.2f   paid      $ %8.2f\n", m->grid_import_kwh,
           m->grid_paid);
    printf("  sold to the grid      kWh %10.2f   received  $ %8.2f\n", m->grid_export_kwh,
           m->grid_received);
    printf("  load                  kWh %10.2f\n", m->load_kwh);
    printf("  PV generated          kWh %10.2f\n", m->pv_kwh);
    if (m->no_bids) { /* its controller (a sandboxed strategy) failed in some intervals */
        printf("  no bid                    %zu intervals (its controller: ", m->no_bids);
        pg_cli_put_safe(stdout, m->no_bid_why, false);
        fputs(")\n", stdout);
    }
}

/* The server's log lines, as the node's own. */
static void
http_log(void *ud, pg_log_level level, const char *msg)
{
    char line[1200];
    snprintf(line, sizeof line, "http: %s", msg);
    pg_cli_lattice_log(ud, level, line);
}

/* The HTTP server beside the run (--http): the module, its table and the server. */
typedef struct node_http {
    void *module;
    const pg_http_node_table *api;
    void *server;
} node_http;

/* Loads http.so and starts the server of the node; prints the problem and returns an exit code
 * on failure. */
static int
http_start(node_http *h, const char *listen, const char *token, const pg_community *c,
           const pg_community_member *m, pg_cli_lattice *lat)
{
    if (!(h->module = pg_cli_module_open(CMD, "http")))
        return PG_EXIT_INTERNAL;
    void *p = dlsym(h->module, "pg_http_node_api");
    if (!p || ((const pg_http_node_table *)p)->version != PG_HTTP_NODE_API_VERSION) {
        fprintf(stderr,
                "plurigrid " CMD ": the module http does not hold the node's server "
                "(pg_http_node_api, version %d)\n",
                PG_HTTP_NODE_API_VERSION);
        return PG_EXIT_INTERNAL;
    }
    h->api = p;
    size_t n = pg_community_n_nodes(c);
    const char **names = malloc((n ? n : 1) * sizeof *names);
    if (!names) {
        fprintf(stderr, "plurigrid " CMD ": out of memory\n");
        return PG_EXIT_INTERNAL;
    }
    for (size_t i = 0; i < n; i++)
        names[i] = pg_community_node_name(c, i);
    pg_http_node_info info = {
        .listen = listen,
        .token = token,
        .member = m->name,
        .community = pg_community_name(c),
        .scenario = m->community,
        .variant = pg_community_variant_name(c, m->lattice.variant),
        .market = m->market ? m->market : pg_community_mechanism(c),
        .servers = m->lattice.servers,
        .ledger = m->lattice.ledger_dir,
        .members = names,
        .n_members = n,
        .intervals = pg_community_n_intervals(c),
        .step_h = pg_community_step_h(c),
        .log = http_log,
        .log_ud = lat,
    };
    char url[256];
    pg_error err = {0};
    int rc = h->api->start(&h->server, &info, url, sizeof url, &err);
    free(names);
    if (rc != PG_OK) {
        h->server = NULL;
        return pg_cli_report(CMD, &err);
    }
    fprintf(stderr, "plurigrid " CMD ": listening on %s\n", url);
    fflush(stderr);
    return PG_EXIT_OK;
}

int
pg_cmd_node(int argc, char **argv)
{
    const char *config = NULL, *json_path = NULL, *data_dir = NULL;
    const char *http_listen = NULL, *token_file = NULL;
    bool set_days = false, set_start = false;
    unsigned long long days = 0, start_day = 0;
    pg_cli_lattice lat;
    pg_cli_lattice_init(&lat, CMD, 0);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        int got = 0;
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
        } else if ((got = pg_cli_lattice_option(&lat, argc, argv, &i)) != 0) {
            if (got < 0)
                return PG_EXIT_USAGE;
        } else if (strcmp(a, "--config") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a, "a member file (plurigrid-member/1)");
            config = argv[++i];
        } else if (strcmp(a, "--json") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a, PG_CLI_OUTPUT_VALUE);
            json_path = argv[++i];
        } else if (strcmp(a, "--http") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a, "an address HOST:PORT (127.0.0.1:8080)");
            http_listen = argv[++i];
        } else if (strcmp(a, "--token-file") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a, "a file holding the bearer token");
            token_file = argv[++i];
        } else if (strcmp(a, "--data") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a, "a folder");
            data_dir = argv[++i];
        } else if (strcmp(a, "--days") == 0) {
            if (pg_cli_count_option(CMD, a, next, 1, 100000, &days))
                return PG_EXIT_USAGE;
            i++;
            set_days = true;
        } else if (strcmp(a, "--start-day") == 0) {
            if (pg_cli_count_option(CMD, a, next, 0, 100000, &start_day))
                return PG_EXIT_USAGE;
            i++;
            set_start = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            return pg_cli_usage_error(CMD, "unknown option; try 'plurigrid node --help'", a);
        } else {
            return pg_cli_usage_error(CMD,
                                      "the member file goes with --config; try 'plurigrid node "
                                      "--help'",
                                      a);
        }
    }
    if (!config) {
        fprintf(stderr, "plurigrid " CMD ": --config MEMBER.json is needed: the member file that "
                        "names the community's scenario and this member; try 'plurigrid node "
                        "--help'\n");
        return PG_EXIT_USAGE;
    }
    if (token_file && !http_listen)
        return pg_cli_usage_error(CMD, "--token-file goes with --http", token_file);
    if (pg_cli_same_file(json_path, config))
        return pg_cli_usage_error(CMD, "--json would replace the member file it reads", json_path);

    pg_error err = {0};
    pg_community_member m;
    pg_community *c = NULL;
    pg_community_report *r = NULL;
    node_http http = {NULL, NULL, NULL};
    char *token = NULL;
    size_t token_len = 0;
    int code = PG_EXIT_OK;
    memset(&m, 0, sizeof m);
    if (pg_community_member_read(&m, config, &err) != PG_OK)
        return pg_cli_report(CMD, &err);
    if (pg_cli_same_file(json_path, m.community)) {
        code =
            pg_cli_usage_error(CMD, "--json would replace the scenario file it reads", json_path);
        goto out;
    }
    lat.name = m.name;
    if (pg_cli_lattice_apply(&lat, &m.lattice) != 0 ||
        (m.lattice.ledger_dir &&
         pg_cli_ledger_ready(&lat, m.lattice.ledger_dir, m.community, m.name) != 0)) {
        code = PG_EXIT_USAGE;
        goto out;
    }
    pg_community_options o;
    pg_community_options_init(&o);
    o.data_dir = data_dir ? data_dir : m.data_dir;
    o.start_day = set_start ? (size_t)start_day : m.start_day;
    o.days = set_days ? (size_t)days : m.days;
    o.market = m.market;
    size_t node = 0;
    if (pg_community_read(&c, m.community, &o, &err) != PG_OK) {
        code = pg_cli_report(CMD, &err);
        goto out;
    }
    if (pg_community_member_find(c, &m, &node, &m.lattice.variant, &err) != PG_OK) {
        pg_error_at(&err, config, 0, 0, NULL);
        code = pg_cli_report(CMD, &err);
        goto out;
    }
    if (catch_signals() != 0) {
        perror("plurigrid " CMD ": cannot catch SIGTERM and SIGINT");
        code = PG_EXIT_INTERNAL;
        goto out;
    }
    m.lattice.stop = &stopping;
    if (http_listen) {
        if (token_file && pg_cli_read_token(CMD, token_file, &token, &token_len) != PG_EXIT_OK) {
            code = PG_EXIT_USAGE;
            goto out;
        }
        if ((code = http_start(&http, http_listen, token, c, &m, &lat)) != PG_EXIT_OK)
            goto out;
        m.lattice.event = http.api->event;
        m.lattice.event_ud = http.server;
    }
    const char *const members[] = {m.name};
    int rc = pg_community_run_lattice(c, members, 1, m.market, &m.lattice, &r, &err);
    bool stopped = rc == PG_ECANCELED;
    if (http.server)
        http.api->end(http.server, rc != PG_OK);
    if (rc != PG_OK && !stopped) {
        if (rc == PG_ENET) {
            pg_cli_report(CMD, &err);
            fprintf(stderr, "plurigrid " CMD ": to start a server: nats-server -p 4222, and give "
                            "--nats nats://127.0.0.1:4222\n");
            code = PG_EXIT_INTERNAL;
        } else {
            code = pg_cli_report(CMD, &err);
        }
        goto out;
    }
    if (stopped && lat.level >= PG_LOG_INFO) {
        char line[64];
        snprintf(line, sizeof line, "stopped by %s", signal_name((int)stopping));
        pg_cli_lattice_log(&lat, PG_LOG_INFO, line);
    }
    if (json_path) {
        char *text = NULL;
        if (pg_community_report_json(r, &text, &err) != PG_OK) {
            code = pg_cli_report(CMD, &err);
            goto out;
        }
        code = pg_cli_write(CMD, json_path, text, strlen(text));
        free(text);
        if (code || strcmp(json_path, "-") == 0)
            goto out;
    }
    /* the node's index in the report: the report names every member of the scenario */
    for (node = 0; node < r->n_nodes && strcmp(r->node_names[node], m.name) != 0; node++)
        ;
    print_summary(r, node, stopped);
out:
    if (http.server)
        http.api->stop(http.server);
    /* the module stays loaded: its threads are gone, but its code may be on a stack no more */
    pg_cli_forget(token, token_len);
    pg_community_report_free(r);
    pg_community_free(c);
    pg_community_member_free(&m);
    return code;
}
