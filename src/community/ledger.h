/* The shared ledger of one community run (ledger.c; docs/ledger.md, "A community's ledger"): what
 * the runner (run.c) calls to put its members' market and demand-response activity on each hosted
 * member's copy of the ledger and to keep the copies reconciled. Every call names a hosted member
 * by its node index; a member not hosted here is ignored. */
#ifndef PG_COMMUNITY_LEDGER_H
#define PG_COMMUNITY_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "community/internal.h"
#include "community/msg.h"
#include "plurigrid/ledger.h"

/* Most members of a community with a ledger: a gate names every bid it cleared, each also a
 * predecessor (PG_LEDGER_MAX_PREDS with the operator's other heads). */
#define PGI_CL_MAX_MEMBERS 900

typedef struct cm_ledger cm_ledger;

/* Opens the ledger of every hosted member: keys and genesis from lo->ledger_dir, the database
 * <name>.db there (created when missing), a pg_ledger_net on its bus (buses[k] for nodes[k], the
 * n hosted members) under prefix "SUBJECTS-PREFIX.ledger". mech: the run's market (for the
 * checker). timed: a clock runs (the lattice on a network). Borrows c, lo and the buses. */
int pgi_cl_open(cm_ledger **out, const pg_community *c, const pg_market_mechanism *mech,
                const pg_lattice_options *lo, bool timed, const char *subject_prefix,
                const uint32_t *nodes, pg_bus *const *buses, size_t n, pg_error *err);
void pgi_cl_close(cm_ledger *L);

/* Node side: the bid (appended as a BID record and published before the bid is sent), the meter
 * reading after operating (register "telemetry"), a DR event received (a DR record, once per
 * event and modification). */
int pgi_cl_bid(cm_ledger *L, const pgi_msg_bid *b, pg_error *err);
int pgi_cl_telemetry(cm_ledger *L, const pgi_msg_telemetry *m, pg_error *err);
int pgi_cl_dr_received(cm_ledger *L, uint32_t node, const pgi_msg_dr *d, pg_error *err);

/* Operator side (member me): a DR event published (a DR record); the BID ops of bids[i] for the
 * nodes with want[i] looked up in me's copy (found[i], ids[i]; those found already are kept);
 * the gate naming ids[i] of the nodes with has[i] and the result (body: its awards in node
 * order), appended and published; the settlement's parts (refs: that result). */
int pgi_cl_dr_event(cm_ledger *L, uint32_t me, const pgi_msg_dr *d, pg_error *err);
int pgi_cl_find_bids(cm_ledger *L, uint32_t me, uint32_t t, const pgi_msg_bid *bids,
                     const bool *want, bool *found, pg_ledger_id *ids, pg_error *err);
int pgi_cl_gate_result(cm_ledger *L, uint32_t me, uint32_t t, uint32_t term, const bool *has,
                       const pg_ledger_id *ids, const pgi_msg_result *res, pg_error *err);
int pgi_cl_settle(cm_ledger *L, uint32_t me, const pgi_msg_settle *hdr,
                  const pgi_msg_settle_node *x, size_t count, pg_error *err);

/* Reconciliation: member node with peer (a member's index) now; every hosted member with peer
 * (it joined, rejoined or restarted); the members on bus soon (it reconnected). */
void pgi_cl_reconcile(cm_ledger *L, uint32_t node, uint32_t peer);
void pgi_cl_peer_up(cm_ledger *L, uint32_t peer);
void pgi_cl_bus_back(cm_ledger *L, const pg_bus *bus);
/* Timeouts of the reconciliations running, and every ledger_sync_s a reconciliation of each
 * hosted member with the next live peer (peer[i]: member i is live and not hosted here). */
int pgi_cl_tick(cm_ledger *L, double now, const bool *peer, pg_error *err);
/* At the end: starts a reconciliation of every hosted member with every peer (peer[i]), and
 * among the hosted members through the first of them (round 0 to it, round 1 from it). */
void pgi_cl_final_round(cm_ledger *L, int round, const bool *peer);
/* True when no reconciliation is running. */
bool pgi_cl_idle(const cm_ledger *L);
/* Reconciliations that failed so far (all members). */
uint64_t pgi_cl_failed(const cm_ledger *L);

#endif
