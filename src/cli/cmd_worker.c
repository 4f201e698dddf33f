/* plurigrid worker: a study worker on NATS (pg_study_worker). It joins the queue group of studies
 * run with `plurigrid study ... --nats URL`, runs the jobs it takes on its threads and sends the
 * results back, until SIGTERM or SIGINT stops it: it then takes no new job, stops the running
 * ones (their studies send them to other workers) and exits 0. Events go to standard error, one
 * line each. docs/study.md, "On NATS workers". */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "plurigrid/study.h"

#define CMD "worker"

static void
help(FILE *f)
{
    fputs("Usage: plurigrid worker --nats URL [--threads N] [--queue NAME]\n"
          "                        [--cache-mb MB] [--log-level LEVEL]\n"
          "\n"
          "Runs the jobs of studies started with `plurigrid study ... --nats URL`: joins the\n"
          "queue group of the NATS servers at URL, takes a job whenever one of its threads is\n"
          "free, fetches the job's world from the study (kept in a cache for the next jobs of\n"
          "the same world), runs it and sends the result back. Start as many workers, on as\n"
          "many machines, as you like; a study's results do not depend on which worker ran\n"
          "which job. A worker keeps running when a study ends, when a study's client goes\n"
          "away, and while the NATS server restarts (it reconnects).\n"
          "\n"
          "Options:\n"
          "  --nats URL        the NATS servers, e.g. nats://127.0.0.1:4222 (several\n"
          "                    separated by commas)\n"
          "  --threads N       jobs run at once, 1 to 1024 (default: one per core)\n"
          "  --queue NAME      the queue group, as the study's --queue (default\n"
          "                    plurigrid-study): letters, digits, '-' and '_'\n"
          "  --cache-mb MB     megabytes of world files kept between jobs (default 256)\n"
          "  --log-level LEVEL error (only failures), info (default: start, stop, jobs that\n"
          "                    failed, messages refused) or debug (the same for now)\n"
          "  -h, --help        show this help\n"
          "\n"
          "SIGTERM or SIGINT (Ctrl-C) stops the worker cleanly: it takes no new job, stops the\n"
          "jobs it is running (their studies send them to other workers) and exits 0. A second\n"
          "signal ends it at once.\n"
          "\n"
          "Exit status: 0 stopped by a signal, 2 bad usage or no NATS server at URL, 3 an\n"
          "internal failure.\n",
          f);
}

static volatile sig_atomic_t stopping;
static volatile int stop_flag;

static void
on_signal(int sig)
{
    if (stopping) { /* asked twice: go now */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stopping = sig;
    stop_flag = 1;
}

typedef struct logger {
    int level; /* 0 error, 1 info, 2 debug */
} logger;

static void
log_line(void *user, const char *line)
{
    logger *l = user;
    if (l->level < 1)
        return;
    fputs("plurigrid " CMD ": ", stderr);
    pg_cli_put_safe(stderr, line, false);
    fputc('\n', stderr);
}

int
pg_cmd_worker(int argc, char **argv)
{
    pg_study_worker_options o;
    pg_study_worker_options_init(&o);
    logger lg = {1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long n = 0;
        if (pg_cli_is_help(a)) {
            help(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(a, "--nats") == 0) {
            if (!v || !*v) {
                fprintf(stderr, "plurigrid " CMD ": --nats needs the NATS servers' URL, e.g. "
                                "nats://127.0.0.1:4222\n");
                return PG_EXIT_USAGE;
            }
            o.url = v;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            if (pg_cli_count_option(CMD, "--threads", v, 1, 1024, &n))
                return PG_EXIT_USAGE;
            o.threads = (int)n;
            i++;
        } else if (strcmp(a, "--cache-mb") == 0) {
            if (pg_cli_count_option(CMD, "--cache-mb", v, 1, 1u << 20, &n))
                return PG_EXIT_USAGE;
            o.max_world_cache = (size_t)n << 20;
            i++;
        } else if (strcmp(a, "--queue") == 0) {
            bool ok = v && *v && strlen(v) <= 64;
            for (const char *c = v; ok && *c; c++)
                ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || *c == '-' || *c == '_';
            if (!ok) {
                fprintf(stderr, "plurigrid " CMD ": --queue needs a name of 1 to 64 letters, "
                                "digits, '-' or '_'\n");
                return PG_EXIT_USAGE;
            }
            o.queue = v;
            i++;
        } else if (strcmp(a, "--log-level") == 0) {
            if (v && strcmp(v, "error") == 0)
                lg.level = 0;
            else if (v && strcmp(v, "info") == 0)
                lg.level = 1;
            else if (v && strcmp(v, "debug") == 0)
                lg.level = 2;
            else {
                fprintf(stderr,
                        "plurigrid " CMD ": --log-level needs a level: error, info or debug\n");
                return PG_EXIT_USAGE;
            }
            i++;
        } else {
            fprintf(stderr, "plurigrid " CMD ": unknown option '");
            pg_cli_put_safe(stderr, a, false);
            fprintf(stderr, "' (see plurigrid " CMD " --help)\n");
            return PG_EXIT_USAGE;
        }
    }
    if (!o.url) {
        fprintf(stderr, "plurigrid " CMD ": --nats URL is required (the NATS servers the "
                        "studies use; see plurigrid " CMD " --help)\n");
        return PG_EXIT_USAGE;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
        perror("plurigrid " CMD ": cannot catch SIGTERM and SIGINT");
        return PG_EXIT_INTERNAL;
    }
    o.stop = &stop_flag;
    o.log = log_line;
    o.log_user = &lg;
    pg_error err;
    pg_error_clear(&err);
    int rc = pg_study_worker(&o, &err);
    if (rc != PG_OK) {
        pg_cli_report(CMD, &err);
        return rc == PG_ENET || rc == PG_EINVAL ? PG_EXIT_USAGE : pg_cli_exit_code(rc);
    }
    if (stopping && lg.level >= 1)
        fprintf(stderr, "plurigrid " CMD ": stopped by %s\n",
                stopping == SIGTERM ? "SIGTERM" : "SIGINT");
    return PG_EXIT_OK;
}
