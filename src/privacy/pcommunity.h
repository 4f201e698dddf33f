/* The private market run of a community (pcommunity.c), for pg_community_run_private
 * (preport.c) and the tests: one run of one variant with its members' bids and meter readings
 * summed by secure aggregation on a bus. */
#ifndef PG_PRIVACY_PCOMMUNITY_H
#define PG_PRIVACY_PCOMMUNITY_H

#include "community/internal.h"
#include "plurigrid/lattice.h"
#include "plurigrid/privacy.h"
#include "privacy/internal.h"

typedef struct pgi_private_spec {
    size_t variant;
    bool events; /* deliver the DR events */
    uint64_t seed;
    const char *transport; /* NULL: "inproc" */
    const char *url;       /* the transport's servers */
    const char *session;   /* a subject token of this run (NULL: none) */
    double round_s;        /* the aggregator's round deadline on a network bus (0: in process) */
    uint32_t threshold;    /* Shamir threshold (0: pgi_secagg_threshold(n, 0)) */
    const volatile int *stop;
    /* fault injection (tests): see pgi_pnet_round.die */
    bool (*die)(void *ud, uint32_t id, pgi_secagg_msg_type type);
    void *die_ud;
    void (*log)(void *ud, pg_log_level level, const char *msg);
    void *log_ud;
    /* called with the run's bus before the first interval (tests: a listener on every subject) */
    void (*tap)(pg_bus *bus, void *ud);
    void *tap_ud;
} pgi_private_spec;

/* Plays the private market run: *tr as pgi_community_play's (its metrics not yet finished);
 * view accumulates what each party saw (its metering arrays, when allocated, get the run's
 * per-interval totals). *tr is written on success only. */
int pgi_private_play(const pg_community *c, const pgi_private_spec *spec, cm_trace *tr,
                     pg_privacy_report *view, pg_error *err);

#endif
