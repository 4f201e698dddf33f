/* plurigrid serve: the HTTP server (src/http/, docs/http.md) with the grid designer and the
 * dashboard, until SIGTERM or SIGINT. It lives in the command's module lib/plurigrid/http.so (the
 * only code that links libmicrohttpd). The bearer token is read from a private file, checked,
 * and wiped from memory when the server stops. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "http/http.h"

#define CMD "serve"

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: plurigrid serve [--listen HOST:PORT] [--token-file FILE] [--worlds DIR]\n"
            "                       [--scenarios DIR] [--data DIR] [limits] [--log-level L]\n"
            "\n"
            "Serves the grid designer and the dashboard to a browser, and the JSON API they\n"
            "use (docs/http.md), until it gets SIGTERM or SIGINT (Ctrl-C). The first line on\n"
            "standard error says where: 'plurigrid serve: listening on http://HOST:PORT'.\n"
            "\n"
            "Options:\n"
            "  --listen HOST:PORT   the address to listen on (default %s); IPv4,\n"
            "                       [IPv6]:PORT or localhost:PORT; PORT 0 picks a free port\n"
            "  --token-file FILE    the bearer token every /api/ request must then carry\n"
            "                       ('Authorization: Bearer TOKEN'): one line of %d or more\n"
            "                       printable characters, in a file only its owner can read\n"
            "                       (chmod 600). Required unless HOST is a loopback address\n"
            "  --worlds DIR         the folder of microworlds (NAME.json) to list, load, save\n"
            "                       (made when it does not exist)\n"
            "  --scenarios DIR      the folder of community scenarios that jobs may run\n"
            "  --data DIR           the data folder for the scenarios\n"
            "  --log-level L        error, warn (default), info or debug (one line a request)\n"
            "  -h, --help           show this help\n"
            "\n"
            "Limits:\n"
            "  --max-body BYTES     the largest request body (default %zu; 413 beyond)\n"
            "  --max-connections N  connections at once (default 64)\n"
            "  --max-per-ip N       connections at once from one address (default 32)\n"
            "  --rate N             requests a second per address, on average (default 20;\n"
            "                       0: no limit) ...\n"
            "  --burst N            ... with bursts of N (default 100; 429 beyond)\n"
            "  --timeout S          close a connection idle or slow for S seconds (default 30)\n"
            "  --job-threads N      jobs that run at once (default 2)\n"
            "  --max-jobs N         jobs queued or running at once (default 16; 429 beyond)\n"
            "  --keep-jobs N        finished jobs kept for their results (default 64)\n"
            "\n"
            "Exit status: 0 stopped by SIGTERM or SIGINT; 2 bad options, an unusable token\n"
            "file, or an address that cannot be listened on; 3 an internal failure.\n",
            PGH_DEFAULT_LISTEN, PG_CLI_TOKEN_MIN, PGH_MAX_BODY_DEFAULT);
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void
log_line(void *ud, pg_log_level level, const char *msg)
{
    (void)ud;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    pthread_mutex_lock(&log_mu);
    fprintf(stderr, "plurigrid serve: %s: ", names[level <= PG_LOG_DEBUG ? level : 0]);
    pg_cli_put_safe(stderr, msg, false);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_mu);
}

static int
need_dir(const char *opt, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "plurigrid serve: %s %s: %s\n", opt, dir, strerror(errno));
        return PG_EXIT_USAGE;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "plurigrid serve: %s %s: not a folder\n", opt, dir);
        return PG_EXIT_USAGE;
    }
    return PG_EXIT_OK;
}

static int
parse_level(const char *s, pg_log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (s && strcasecmp(s, names[i]) == 0) {
            *out = (pg_log_level)i;
            return 0;
        }
    return -1;
}

PG_CLI_MODULE_EXPORT int
pg_cmd_serve(int argc, char **argv)
{
    pgh_options o;
    pgh_options_init(&o);
    const char *token_file = NULL;
    char *token = NULL;
    size_t token_len = 0;
    int rc = PG_EXIT_OK;
    pgh_server *s = NULL;
    unsigned long long v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
        }
#define VALUE(what)                                                                                \
    do {                                                                                           \
        if (!val)                                                                                  \
            return pg_cli_missing_value(CMD, a, what);                                             \
        i++;                                                                                       \
    } while (0)
#define COUNT(field, lo, hi)                                                                       \
    do {                                                                                           \
        if (pg_cli_count_option(CMD, a, val, lo, hi, &v) != 0)                                     \
            return PG_EXIT_USAGE;                                                                  \
        i++;                                                                                       \
        field = v;                                                                                 \
    } while (0)
        if (strcmp(a, "--listen") == 0) {
            VALUE("HOST:PORT");
            o.listen = val;
        } else if (strcmp(a, "--token-file") == 0) {
            VALUE("a file name");
            token_file = val;
        } else if (strcmp(a, "--worlds") == 0) {
            VALUE("a folder");
            o.worlds_dir = val;
        } else if (strcmp(a, "--scenarios") == 0) {
            VALUE("a folder");
            o.scenarios_dir = val;
        } else if (strcmp(a, "--data") == 0) {
            VALUE("a folder");
            o.data_dir = val;
        } else if (strcmp(a, "--log-level") == 0) {
            VALUE("error, warn, info or debug");
            if (parse_level(val, &o.log_level) != 0)
                return pg_cli_usage_error(CMD, "--log-level must be error, warn, info or debug",
                                          val);
        } else if (strcmp(a, "--max-body") == 0) {
            COUNT(o.max_body, 1, (unsigned long long)1 << 32);
        } else if (strcmp(a, "--max-connections") == 0) {
            COUNT(o.max_connections, 1, 10000);
        } else if (strcmp(a, "--max-per-ip") == 0) {
            COUNT(o.max_per_ip, 1, 10000);
        } else if (strcmp(a, "--rate") == 0) {
            COUNT(o.rate_per_s, 0, 1000000);
        } else if (strcmp(a, "--burst") == 0) {
            COUNT(o.rate_burst, 1, 1000000);
        } else if (strcmp(a, "--timeout") == 0) {
            COUNT(o.timeout_s, 1, 86400);
        } else if (strcmp(a, "--job-threads") == 0) {
            COUNT(o.job_threads, 1, 64);
        } else if (strcmp(a, "--max-jobs") == 0) {
            COUNT(o.max_jobs, 1, 100000);
        } else if (strcmp(a, "--keep-jobs") == 0) {
            COUNT(o.keep_jobs, 0, 100000);
        } else {
            fprintf(stderr, "plurigrid serve: unknown option '");
            pg_cli_put_safe(stderr, a, false);
            fprintf(stderr, "'. Run 'plurigrid serve --help' for the options.\n");
            return PG_EXIT_USAGE;
        }
#undef VALUE
#undef COUNT
    }
    /* the worlds folder is where the designer saves: made when it does not exist yet (its parent
     * must), so that `plurigrid serve --worlds worlds/` works in a fresh checkout */
    if (o.worlds_dir && mkdir(o.worlds_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "plurigrid serve: --worlds %s: cannot make the folder: %s\n", o.worlds_dir,
                strerror(errno));
        return PG_EXIT_USAGE;
    }
    if (o.worlds_dir && (rc = need_dir("--worlds", o.worlds_dir)))
        return rc;
    if (o.scenarios_dir && (rc = need_dir("--scenarios", o.scenarios_dir)))
        return rc;
    if (o.data_dir && (rc = need_dir("--data", o.data_dir)))
        return rc;
    if (token_file && (rc = pg_cli_read_token("serve", token_file, &token, &token_len)))
        return rc;
    o.token = token;
    o.log = log_line;
    o.log_level = o.log_level;

    /* SIGTERM and SIGINT are taken by sigwait below: blocked before any thread starts, so that
     * every thread of the server inherits the mask. A client that goes away must not kill the
     * server (SIGPIPE). */
    sigset_t stop_set, old_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_set, &old_set);
    signal(SIGPIPE, SIG_IGN);

    pg_error err;
    pg_error_clear(&err);
    if (pgh_server_start(&s, &o, &err) != PG_OK) {
        rc = pg_cli_report(CMD, &err);
        goto out;
    }
    fprintf(stderr, "plurigrid serve: listening on %s\n", pgh_server_url(s));
    fflush(stderr);
    int sig = 0;
    while (sigwait(&stop_set, &sig) != 0) {
    }
    rc = PG_EXIT_OK;
    if (o.log_level >= PG_LOG_INFO)
        log_line(NULL, PG_LOG_INFO, sig == SIGINT ? "interrupted: stopping" : "stopping");
    pgh_server_stop(s);
    pg_cli_forget(token, token_len);
    /* SIGTERM and SIGINT stay blocked: one more while the command ends must not turn its exit
     * into a death by signal. */
    return PG_EXIT_OK;
out:
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    pg_cli_forget(token, token_len);
    return rc;
}
