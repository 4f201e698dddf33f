/* Communities of nodes: the scenario format plurigrid-community/1 (docs/community.md), the runner
 * that plays a community interval by interval with its nodes and a market operator as actors on a
 * message bus (lattice.h, in-process backend), and the report of a run: energy traded, bills,
 * revenues, self-sufficiency, local use of renewable energy, peak import, demand response
 * delivered, unserved energy, for every node and for the community, each variant run with its
 * market and with the market off (the baseline) side by side.
 *
 * Units: energy kWh, power kW, money $, prices $/kWh, time h. */
#ifndef PLURIGRID_COMMUNITY_H
#define PLURIGRID_COMMUNITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest scenario file read, bytes. */
#define PG_COMMUNITY_INPUT_MAX ((size_t)16 << 20)
/* Most nodes in a community, intervals in a run, variants in a scenario. */
#define PG_COMMUNITY_MAX_NODES 100000
#define PG_COMMUNITY_MAX_INTERVALS 1000000
#define PG_COMMUNITY_MAX_VARIANTS 16
/* Most runs played at once (threads). */
#define PG_COMMUNITY_MAX_THREADS 4

typedef struct pg_community_options {
    const char *data_dir; /* the data folder, overriding the scenario's "data.dir"; NULL: the
                             scenario's */
    size_t start_day;     /* the run's first day, counted from the data's first row (default 0) */
    size_t days;          /* days to run; 0 (default): to the end of the data */
    bool set_seed;        /* use seed instead of the scenario's "seed" */
    uint64_t seed;
    const char *market; /* a mechanism name (pg_market_mechanism_find) or "none" (baseline
                           only); NULL: the scenario's "market.mechanism" */
    size_t threads;     /* runs played at once, 1..PG_COMMUNITY_MAX_THREADS (default 2); the
                           results do not depend on it */
    /* Called after each run is done (from the calling thread; may be NULL). */
    void (*progress)(size_t done, size_t total, void *ud);
    void *progress_ud;
    /* The bus the runs are played on: NULL (default) the in-process bus; otherwise the lattice
     * (e.g. NATS), every node of the community hosted by this process (docs/lattice.md). Its
     * event hook hears one run, the first variant's market run (its baseline with the market
     * off), on the thread that plays it. */
    const struct pg_lattice_options *lattice;
} pg_community_options;

PG_API void pg_community_options_init(pg_community_options *o);

/* A scenario with its series read for the run's intervals. Opaque. */
typedef struct pg_community pg_community;

/* Reads the scenario at path (pg_input_read rules, at most PG_COMMUNITY_INPUT_MAX bytes), its node
 * configurations and its series, for the days o asks. Files the scenario names are relative to the
 * scenario's folder (the data folder too, unless o->data_dir is given). Errors name the file, line
 * and JSON path (PG_EPARSE, PG_EMODEL); a missing data folder is PG_ENOTFOUND naming the dataset
 * and --data. *out is written only on success. Borrows o. */
PG_API int pg_community_read(pg_community **out, const char *path, const pg_community_options *o,
                             pg_error *err);
/* The same from text (len bytes, named file in errors; relative files from base_dir, NULL for
 * the current folder). Borrows everything. */
PG_API int pg_community_parse(pg_community **out, const char *file, const char *text, size_t len,
                              const char *base_dir, const pg_community_options *o, pg_error *err);
PG_API void pg_community_free(pg_community *c);

PG_API const char *pg_community_name(const pg_community *c);
PG_API size_t pg_community_n_nodes(const pg_community *c);
PG_API size_t pg_community_n_intervals(const pg_community *c);
/* The name of node i (NULL when i >= pg_community_n_nodes), borrowed from c. */
PG_API const char *pg_community_node_name(const pg_community *c, size_t i);
/* The length of an interval, h. */
PG_API double pg_community_step_h(const pg_community *c);
/* The name of variant v (NULL when there is no such variant), borrowed from c. */
PG_API const char *pg_community_variant_name(const pg_community *c, size_t v);
/* The scenario's market mechanism ("uniform", ..., or "none"), borrowed from c. */
PG_API const char *pg_community_mechanism(const pg_community *c);

/* ---------------------------------------------------------------- results */

/* What a node (or the community, summed) did over a run. */
typedef struct pg_community_metrics {
    double load_kwh;                         /* energy used by its loads */
    double pv_kwh;                           /* PV generated (spilled included) */
    double pv_spilled_kwh;                   /* PV curtailed */
    double import_kwh, export_kwh;           /* metered */
    double peer_bought_kwh, peer_sold_kwh;   /* traded with peers */
    double peer_paid, peer_received;         /* $ */
    double grid_import_kwh, grid_export_kwh; /* traded with the grid (off-grid: unserved and
                                                spilled, at no price) */
    double grid_paid, grid_received;         /* $ */
    double bill;                             /* $: paid - received (peers, grid, rentals) */
    double revenue;                          /* $ received for exports: peers + grid */
    double self_sufficiency;                 /* 1 - grid import / load (NaN without load) */
    double local_pv_use;                     /* PV used within the community / PV generated */
    double peak_import_kw;                   /* largest grid import of an interval / hours */
    double battery_in_kwh, battery_out_kwh;
    double unserved_kwh; /* demand not met */
    double ev_short_kwh;
    double comfort_dev_ch;      /* degree-hours outside the deadband */
    double dr_delivered_kwh;    /* reduction of net import during events against the 10-of-10
                                   baseline (NaN: no event, or no baseline day) */
    double dr_delivered_cf_kwh; /* the same against the run without the events (NaN: none) */
    double dr_event_kwh;        /* net import during the events */
    double rental_paid, rental_received; /* $ for shared batteries */
    size_t rentals;                      /* packs rented in (nodes) or rounds of rentals (all) */
    /* Intervals in which the node's controller gave no bid (a sandboxed strategy that trapped,
       was killed or returned a malformed curve: pg_node_plan.no_bid), and why, the last time
       ("" when it always decided). Counted by the process that hosts the node: in a run on the
       lattice, a process knows this of its own members only. The community's row sums them. */
    size_t no_bids;
    char no_bid_why[160];
} pg_community_metrics;

/* One run of a variant: the market on (mechanism) or off ("none", the baseline). */
typedef struct pg_community_run {
    char *mechanism; /* "none", "uniform", ... */
    bool grid_aware; /* cleared against the feeder */
    size_t n_nodes;
    pg_community_metrics *node; /* [n_nodes] */
    pg_community_metrics total; /* the community */
    /* Per interval (n_intervals each): */
    double *price;      /* peer clearing price, $/kWh (NaN: no trade) */
    double *volume_kwh; /* traded among peers */
    double *load_kwh, *pv_kwh, *grid_import_kwh, *grid_export_kwh, *unserved_kwh;
    /* Feeder (grid-aware runs): worst voltage and loading over the run (NaN otherwise). */
    double vm_min, vm_max, loading_max;
    size_t ac_failed; /* intervals whose AC power flow did not converge */
    /* Shared batteries: rounds held, packs rented, pack utilisation (rented pack-rounds /
     * (packs x rounds); NaN without sharing). */
    size_t share_rounds, share_rented;
    double pack_utilisation;
    /* $ buyers paid for peer trades less what sellers received: the operator's (the spread of
     * pay-as-bid and continuous trades; 0 in a uniform-price run) */
    double operator_surplus;
    /* Messages on the bus during the run. */
    uint64_t published, delivered, dropped;
} pg_community_run;

typedef struct pg_community_variant {
    char *name;
    pg_community_run market;   /* the mechanism's run (mechanism "none" when only the baseline
                                  was asked for, then equal to baseline) */
    pg_community_run baseline; /* the market off */
    bool has_market;           /* false with --market none */
} pg_community_variant;

typedef struct pg_community_report {
    char *scenario;
    char *mechanism;
    uint64_t seed;
    size_t start_day, days, n_intervals;
    double step_h;
    bool grid_connected;
    size_t n_nodes;
    char **node_names; /* [n_nodes] */
    size_t n_variants;
    pg_community_variant *variants;
    double seconds; /* wall time of the runs (not in the JSON, which is deterministic) */
} pg_community_report;

/* Plays every variant with the market and with the baseline, each run independent, on up to
 * o->threads threads (the result is the same for any number). o may be NULL (defaults: the
 * scenario's market and seed as read). Borrows c; *out is the caller's
 * (pg_community_report_free). */
PG_API int pg_community_run_all(const pg_community *c, const pg_community_options *o,
                                pg_community_report **out, pg_error *err);
PG_API void pg_community_report_free(pg_community_report *r);

/* ---------------------------------------------------------------- the lattice
 * A community's nodes on a network bus (NATS): each process hosts some of the members, every
 * process knows the whole scenario, the members find each other by their announcements, watch
 * each other's heartbeats, and one of them holds the market-operator role by a deterministic rule;
 * another takes it over when it falls silent. docs/lattice.md gives the subjects, messages and
 * rules. */

/* What happens in a run on the lattice, as it happens: what a dashboard shows. The runner calls
 * pg_lattice_options.event on its own thread with an event whose strings are borrowed for the
 * call. Units as everywhere in this header (kWh, kW, $, $/kWh, h). What this process sees:
 * MEMBER for its own members at the start and for the others as they join and are dropped;
 * OPEN once per interval (when this process first hears it); BID for every bid this process
 * hears (every member's, the first of each member and interval; on the in-process bus every
 * bid); CLEARED then one SETTLED per member settled, as each interval's settlement is applied
 * to this process's record (in interval order, so CLEARED's price is the report's price of the
 * interval); TELEMETRY for the members hosted here, when they run their devices; DR for each
 * event (and each new modification of one) as first heard; DONE once, last. */
typedef enum pg_community_event_kind {
    PG_COMMUNITY_EVENT_MEMBER = 1, /* node joined (up) or was dropped for silence (!up) */
    PG_COMMUNITY_EVENT_OPERATOR,   /* node holds the market-operator role from now, with term */
    PG_COMMUNITY_EVENT_OPEN,       /* the operator opened interval (the bids are being taken) */
    PG_COMMUNITY_EVENT_BID,        /* node's bid for interval: buy_kwh wanted, sell_kwh offered,
                                      price its limit ($/kWh; NaN: none; of a curve, the
                                      highest a buyer pays, else the lowest a seller takes) */
    PG_COMMUNITY_EVENT_CLEARED,    /* interval cleared: price (NaN: no trade), volume_kwh */
    PG_COMMUNITY_EVENT_SETTLED,    /* node's settlement of interval: buy_kwh bought and
                                      sell_kwh sold among peers, import_kwh and export_kwh
                                      metered, amount $ paid (negative: received) */
    PG_COMMUNITY_EVENT_TELEMETRY,  /* node during interval: load_kwh, pv_kwh, soc_kwh (NaN:
                                      no battery), import_kwh, export_kwh */
    PG_COMMUNITY_EVENT_DR,         /* a demand-response event announced: from dr_start_h to
                                      dr_end_h (hours from the run's start), dr_kw asked
                                      (a load-dispatch event's largest kW; NaN: other
                                      signals), node its target (NULL: several or all) */
    PG_COMMUNITY_EVENT_DONE,       /* the run ended (the last interval settled, or stopped) */
    PG_COMMUNITY_EVENT_CONNECTION, /* the bus connected to server (up) or lost it (!up);
                                      network transports only */
} pg_community_event_kind;

typedef struct pg_community_event {
    pg_community_event_kind kind;
    size_t interval;  /* the run's interval, from 0 (PG_COMMUNITY_NO_INTERVAL: none) */
    size_t intervals; /* intervals in the run */
    double time_h;    /* the interval's start, hours from the run's start (NaN: none) */
    const char *node; /* the member concerned (NULL: the community) */
    bool up;          /* MEMBER */
    uint64_t term;    /* OPERATOR */
    double price, volume_kwh, buy_kwh, sell_kwh, import_kwh, export_kwh, amount;
    double load_kwh, pv_kwh, soc_kwh;
    double dr_start_h, dr_end_h, dr_kw;
    const char *server; /* CONNECTION: the server's URL (credentials shown as ***) */
    const char *dr_id;  /* DR: the event's id */
} pg_community_event;
#define PG_COMMUNITY_NO_INTERVAL ((size_t)-1)
/* An event of kind with every number NaN, no node, no interval. */
PG_API void pg_community_event_init(pg_community_event *ev, pg_community_event_kind kind);
/* "member", "operator", "open", "bid", "cleared", "settled", "telemetry", "dr", "done",
 * "connection"; "unknown" for any other value. */
PG_API const char *pg_community_event_name(pg_community_event_kind kind);

typedef struct pg_lattice_options {
    const char *transport; /* "nats" (default) or "inproc" */
    const char *servers;   /* the transport's url: comma-separated NATS server URLs */
    const char *session;   /* a subject token separating runs of one community on one server
                              (NULL: none, the community's own subjects) */
    size_t variant;        /* the scenario's variant the members play (pg_community_run_lattice) */
    bool wall_clock;       /* false (default): simulation, the operator opens each interval as
                              soon as the last one is settled; true: on the wall clock */
    double interval_s;     /* wall clock: seconds per interval (0: the scenario's step) */
    double heartbeat_s;    /* between a member's heartbeats (default 0.5) */
    double timeout_s;      /* a member silent this long is dropped (default 3) */
    double retry_s;        /* unanswered messages are sent again after this (default 0.25) */
    double form_s;         /* simulation: how long the operator waits for absent members before
                              the first interval (default 10) */
    bool per_node_connections; /* one connection per hosted node instead of one shared */
    /* Nonzero: leave cleanly at the next chance (set from a signal handler). */
    const volatile int *stop;
    /* Log lines (no newline) at or below log_level; NULL: none. Called on the running thread. */
    void (*log)(void *ud, pg_log_level level, const char *msg);
    void *log_ud;
    pg_log_level log_level;
    /* The shared ledger (docs/ledger.md, "A community's ledger"): NULL (default) none; otherwise
     * a folder holding genesis.op and, for every member hosted here, <name>.key; each hosted
     * member keeps its ledger in <name>.db there (created when missing), records its market and
     * DR activity on it, and reconciles with peers at start, on rejoin, every ledger_sync_s and
     * at the end of the run. */
    const char *ledger_dir;
    double ledger_sync_s; /* between reconciliations with a live peer (default 5) */
    /* Every event of the run as this process sees it (pg_community_event); NULL: none. Called
     * on the running thread; it must return quickly (copy what it keeps). */
    void (*event)(void *ud, const pg_community_event *ev);
    void *event_ud;
} pg_lattice_options;

PG_API void pg_lattice_options_init(pg_lattice_options *o);
/* PG_EINVAL naming the first option out of range: timings (finite, timeout_s > heartbeat_s), the
 * session (1 to 63 letters, digits, '-' or '_'), the log level. */
PG_API int pg_lattice_options_check(const pg_lattice_options *o, pg_error *err);
/* "error", "warn", "info", "debug" → *out; PG_EINVAL otherwise. */
PG_API int pg_log_level_parse(const char *s, pg_log_level *out, pg_error *err);

/* Plays one run (o->variant, the market of mechanism market: a name, "none", or NULL for the
 * scenario's) of community c on the lattice, hosting the members named (NULL, 0: every member)
 * in this process, until the run's last interval is settled or *o->stop. *out is the run as this
 * process saw it: every member's settlement as the operator published it (a member absent from
 * intervals has nothing in them). PG_ENET when the bus cannot be reached; PG_ECANCELED when
 * stopped (with *out the part played). The report has one variant (o->variant): its market is
 * the run played (has_market, the baseline not played: baseline.node is NULL, and the printers
 * show the market's run alone, without claims), or its baseline when market is "none"; without
 * the DR counterfactual. The in-process transport
 * ("inproc") hosts every member and has no clock (no wall clock, no timeouts). A scenario with
 * shared batteries is PG_EUNSUPPORTED on a network transport unless market is "none". */
PG_API int pg_community_run_lattice(const pg_community *c, const char *const *members,
                                    size_t n_members, const char *market,
                                    const pg_lattice_options *o, pg_community_report **out,
                                    pg_error *err);

/* A member file (plurigrid-member/1, docs/lattice.md): which community (a scenario file, relative
 * to the member file), which member of it, and how it runs on the lattice. */
typedef struct pg_community_member {
    char *community; /* the scenario's path, resolved */
    char *name;      /* the member's name in it */
    char *variant;   /* NULL: the scenario's first */
    char *market;    /* NULL: the scenario's */
    char *data_dir;  /* NULL: the scenario's */
    size_t start_day, days;
    pg_lattice_options lattice; /* from "lattice": heartbeat_s, timeout_s, clock, interval_s */
    char *ledger;               /* "ledger": the ledger folder, resolved; NULL: none */
} pg_community_member;

/* Reads the member file at path (pg_input_read rules, "-" standard input; its relative paths are
 * from its folder). Strict: unknown keys, wrong types and numbers out of range are PG_EPARSE or
 * PG_EMODEL naming the file, line and JSON path; a node configuration or a scenario given instead
 * is told apart with a way forward. *out is written only on success (the lattice options start
 * from pg_lattice_options_init); free it with pg_community_member_free. */
PG_API int pg_community_member_read(pg_community_member *out, const char *path, pg_error *err);
/* Frees what m holds (not m itself) and clears it; accepts NULL. */
PG_API void pg_community_member_free(pg_community_member *m);
/* Finds m's member and variant in the scenario c: *node its index among c's nodes, *variant the
 * variant's (0 when m names none); either may be NULL. PG_EMODEL naming a few of c's members (or
 * variants) when m's is not there, at the member file's path "$.name" (or "$.variant"; the caller
 * adds the file, pg_error_at). Borrows c and m. */
PG_API int pg_community_member_find(const pg_community *c, const pg_community_member *m,
                                    size_t *node, size_t *variant, pg_error *err);

/* ---------------------------------------------------------------- the shared ledger */

struct pg_ledger_checker;
struct pg_ledger;

/* Creates the ledger folder of community c (docs/ledger.md, "A community's ledger") in dir
 * (made when missing): genesis.key (the founder's key, which signs the genesis op and nothing
 * else: keep it offline), <name>.key for every member of c, and genesis.op admitting every member
 * under its name, every member an operator. Refuses to replace an existing file (PG_ESTATE naming
 * it). Borrows c. */
PG_API int pg_community_ledger_init(const pg_community *c, const char *dir, pg_error *err);
/* The checker of c's market records (variant and market as for pg_community_run_lattice):
 * recomputes every clearing result from its gate's bids, for pg_ledger_open and
 * pg_ledger_verify_file. *out is malloc'd and borrows c; free with
 * pg_community_ledger_checker_free. */
PG_API int pg_community_ledger_checker(const pg_community *c, size_t variant, const char *market,
                                       struct pg_ledger_checker **out, pg_error *err);
PG_API void pg_community_ledger_checker_free(struct pg_ledger_checker *ch);
/* Whether the ledger l is community c's: its genesis op names c and c's members as
 * pg_community_ledger_init makes it (PG_OK), else PG_EMODEL naming both communities. Borrows
 * both. */
PG_API int pg_community_ledger_match(const pg_community *c, struct pg_ledger *l, pg_error *err);

/* Printers: malloc'd text the caller frees. The JSON is deterministic (no timings). */
PG_API int pg_community_report_text(const pg_community_report *r, char **out, pg_error *err);
PG_API int pg_community_report_json(const pg_community_report *r, char **out, pg_error *err);
PG_API int pg_community_report_csv(const pg_community_report *r, char **out, pg_error *err);
/* Writes flows-VARIANT.svg, prices-VARIANT.svg and bills-VARIANT.svg into dir (which must
 * exist). */
PG_API int pg_community_write_plots(const pg_community_report *r, const char *dir, pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
