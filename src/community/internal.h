/* What the community module's files share: the scenario as read (scenario.c), played by the
 * runner (run.c), measured (metrics.c) and printed (report.c). */
#ifndef PG_COMMUNITY_INTERNAL_H
#define PG_COMMUNITY_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/community.h"
#include "plurigrid/market.h"
#include "plurigrid/model.h"
#include "plurigrid/node.h"

typedef struct cm_series {
    char *name;
    double *v; /* [n] values of the run's intervals */
} cm_series;

typedef struct cm_node {
    char *name;
    pg_node_config **cfg;   /* [n_variants] */
    const double ***inputs; /* [n_variants][n_inputs of that config]: series values */
    size_t bus;             /* feeder bus index (grid-aware clearing) */
} cm_node;

/* A demand-response event as the operator delivers it. */
typedef struct cm_event {
    pg_dr_event e;      /* times in h from the run's start */
    size_t deliver_at;  /* the interval at which it is published */
    uint32_t n_targets; /* UINT32_MAX: every node */
    uint32_t *targets;
    bool effective; /* the highest modification of its ID and not cancelled: counts in
                       the DR metrics */
} cm_event;

typedef struct cm_pack {
    uint32_t owner;
    double capacity_kwh, power_kw, soc0_kwh, cost;
} cm_pack;

struct pg_community {
    char *name;
    char *token; /* the name as a subject token */
    char *mechanism;
    uint64_t seed;
    double step_h;
    size_t data_intervals; /* rows of the data */
    size_t first, n;       /* the run's first interval (of the data) and its length */
    size_t start_day, days;
    int64_t start_civil_day; /* days since 1970-01-01 of the data's first row's date */
    double start_hour;       /* hour of day of the data's first row */
    size_t horizon;
    bool connected;
    double *retail, *feed_in; /* [n] */
    size_t n_series;
    cm_series *series;
    size_t n_variants;
    char **variants;
    size_t n_nodes;
    cm_node *nodes;
    /* feeder */
    pg_world *feeder;
    size_t *node_bus;
    double substation_kw, power_factor;
    /* demand response */
    size_t n_events;
    cm_event *events;
    bool dr_counterfactual;
    /* shared batteries */
    bool sharing;
    size_t n_packs;
    cm_pack *packs;
    double share_hour, share_reserve, share_min_soc;
};

/* What one run needs: which variant, with which mechanism (NULL: the baseline), with or without
 * the DR events, and on which bus. */
typedef struct cm_run_spec {
    size_t variant;
    const pg_market_mechanism *mech; /* NULL: market off */
    bool sharing;                    /* rent packs (the market run of a sharing scenario) */
    bool events;                     /* deliver the DR events */
    uint64_t seed;
    /* For tests: called with the run's bus before the first interval (may be NULL), to publish
     * what a hostile peer would. */
    void (*hook)(struct pg_bus *bus, void *ud);
    void *hook_ud;
    /* NULL: the in-process bus with every member hosted here, deterministic (no clock). Otherwise
     * the lattice: its transport, timers and logging (docs/lattice.md). */
    const pg_lattice_options *lattice;
    const char *session; /* the subjects' session token (NULL: lattice->session) */
    const bool *hosted;  /* [n_nodes]: the members this process hosts (NULL: every one) */
} cm_run_spec;

/* Per-run working record filled by the runner, from which the metrics are made. */
typedef struct cm_trace {
    size_t n_nodes, n;
    double *net; /* [n_nodes * n] metered net import per interval (kWh) */
    pg_community_run run;
    size_t settled; /* intervals recorded (every one when the run is complete) */
    /* Results this process recomputed, those it could not (a bid it did not see), those that
     * differed (each one logged as an error and published as a dispute), and disputes heard. */
    uint64_t verified, unverifiable, mismatches, disputes;
} cm_trace;

/* Plays one run. *out is written on success and, with PG_ECANCELED (spec->lattice's stop flag),
 * with the part played. */
int pgi_community_play(const pg_community *c, const cm_run_spec *spec, cm_trace *out,
                       pg_error *err);
void pgi_community_trace_free(cm_trace *t);
void pgi_community_run_free(pg_community_run *r);

/* The clearing of interval t (clear.c): the book filled from bids[i] (NULL or no points: none),
 * cleared by mech (NULL: the market off, an empty book), or against the feeder when c has one;
 * cleared[i] is node i's net cleared quantity (> 0 bought), paid[i] and vol[i] what its fills
 * cost and their volume (each [c->n_nodes]). The operator, the verification of results and the
 * ledger's checker all clear through these. */
struct pgi_msg_bid;
int pgi_community_fill_book(const pg_community *c, pg_market_book *book,
                            const struct pgi_msg_bid *const *bids, pg_error *err);
int pgi_community_clear(const pg_community *c, const pg_market_mechanism *mech, size_t t,
                        pg_market_book *book, pg_market_result *res, double *cleared, double *paid,
                        double *vol, pg_error *err);
/* The average price of node i's fills ($/kWh; 0 when nothing cleared). */
double pgi_community_award_price(const double *paid, const double *vol, size_t i);

/* The DR metrics of run from its trace (and the counterfactual trace, may be NULL). */
void pgi_community_dr_metrics(const pg_community *c, const cm_trace *t, const cm_trace *cf,
                              pg_community_run *run);
/* The ratios (self-sufficiency, local PV use) and the community's totals from the nodes'. */
void pgi_community_finish_metrics(pg_community_run *run, bool offgrid);
/* Adds one node's interval (its meter and devices, sp; its settlement, s) to its metrics m, the
 * way every runner records an interval (the open runner and the private one). */
void pgi_community_add_step(pg_community_metrics *m, const pg_node_step *sp,
                            const pg_market_settlement *s, bool connected, double hours);
/* Both for a played run: its DR metrics (NaN without events) and then the ratios and totals. */
void pgi_community_finish_run(const pg_community *c, cm_trace *t, const cm_trace *cf);
/* A report of c's name, nodes and run with n_variants variants named from c's variant first on,
 * their runs empty (malloc'd; pg_community_report_free frees it). */
int pgi_community_report_new(const pg_community *c, const char *mechanism, uint64_t seed,
                             size_t first, size_t n_variants, pg_community_report **out,
                             pg_error *err);

/* Day index (from the data's first row's date) and weekday (0 Monday) of run interval t. */
/* Passes a log line of level to o->log when o asks for that level (lattice.c): the one logger of
 * the lattice's runner and of its ledger. */
void pgi_lattice_log(const pg_lattice_options *o, pg_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Passes ev to o->event when there is one (lattice.c): the one way the runner's events leave. */
void pgi_lattice_event(const pg_lattice_options *o, const pg_community_event *ev);

size_t pgi_community_day_of(const pg_community *c, size_t t, int *weekday);

#endif
