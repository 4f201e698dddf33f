/* The lattice options that `plurigrid node` and `plurigrid community` share (--nats, --session,
 * --transport, --clock, --interval-s, --log-level, --connections, --ledger, --ledger-sync-s):
 * parsed once, with the same messages in both, and applied over the lattice options a command
 * starts from (a member file's, or the defaults). Also the log callback both give the library: one
 * line per event on standard error, "plurigrid CMD[ NAME]: LEVEL: message". */
#ifndef PG_CLI_LATTICE_OPTS_H
#define PG_CLI_LATTICE_OPTS_H

#include <stdbool.h>

#include "plurigrid/community.h"

/* Which options a command takes. */
enum {
    PG_CLI_LAT_CONNECTIONS = 1, /* --connections shared|per-node */
    PG_CLI_LAT_TRANSPORT = 2,   /* --transport nats|inproc */
};

typedef struct pg_cli_lattice {
    const char *cmd;  /* "node", "community" */
    const char *name; /* in log lines after the command (the member's name), or NULL */
    unsigned accepts; /* PG_CLI_LAT_* beyond the common ones */
    /* What the command line gave (NULL / false: not given). */
    const char *nats, *session, *transport, *clock, *interval_s, *log_level, *connections;
    const char *ledger, *ledger_sync_s;
    pg_log_level level; /* the level asked for (default info), for the log callback */
} pg_cli_lattice;

void pg_cli_lattice_init(pg_cli_lattice *l, const char *cmd, unsigned accepts);

/* When argv[*i] is one of the lattice options: checks its value, records it, moves *i past it
 * and returns 1; a bad or missing value is printed and returns -1; any other argument returns
 * 0. */
int pg_cli_lattice_option(pg_cli_lattice *l, int argc, char **argv, int *i);

/* True when the command line asked for the lattice (--nats or --transport). */
bool pg_cli_lattice_wanted(const pg_cli_lattice *l);

/* Applies what the command line gave over o (which holds the file's values or the defaults) and
 * checks the whole: a transport that needs servers has them, --interval-s goes with the wall
 * clock. Sets the log callback (ud: l, which must outlive the run). Prints the problem and
 * returns -1, or 0. */
int pg_cli_lattice_apply(pg_cli_lattice *l, pg_lattice_options *o);

/* The log callback: "plurigrid CMD[ NAME]: LEVEL: message" on standard error, the message's
 * control characters escaped. */
void pg_cli_lattice_log(void *ud, pg_log_level level, const char *msg);

/* With --ledger DIR (or a member file's "ledger"): the folder holds genesis.op and, when member is
 * given, member.key; otherwise prints how to make it (plurigrid ledger init --scenario SCENARIO
 * --out DIR) and returns -1. */
int pg_cli_ledger_ready(const pg_cli_lattice *l, const char *dir, const char *scenario,
                        const char *member);

#endif
