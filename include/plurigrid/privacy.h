/* Privacy for prosumer coalitions: a community's market played with secure aggregation
 * (docs/privacy.md). Each interval the members' bid curves are summed on a public price grid
 * without anyone seeing a member's curve; the market operator, as aggregator, clears the summed
 * curves by the community's uniform auction and publishes the price and the rationing of the
 * marginal level; each member derives its own quantities; a second aggregation sums the members'
 * meter readings (import, export, generation: private metering) and their settlements, which
 * must balance. What crosses the bus is only signed protocol messages: public keys, encrypted
 * shares, masked vectors and unmasking shares.
 *
 * Units: energy kWh, money $, prices $/kWh. */
#ifndef PLURIGRID_PRIVACY_H
#define PLURIGRID_PRIVACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/community.h"
#include "plurigrid/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What each party saw in the private runs of a scenario (counts and sizes; no member's value). */
typedef struct pg_privacy_report {
    size_t runs;         /* private market runs played (each variant, with and without events) */
    size_t members;      /* the coalition's size */
    size_t aggregations; /* secure aggregations held (two per interval and run) */
    size_t released;     /* of which released a sum */
    size_t withheld;     /* of which released nothing (fewer survivors than the threshold) */
    uint32_t threshold;  /* Shamir threshold t of n */
    uint64_t dropouts;   /* members dropped for silence, summed over aggregations */
    uint64_t refused;    /* messages refused (malformed, forged, misrouted, out of round) */
    size_t off_grid;     /* bid orders whose price was not on the public grid (rounded to it) */
    /* the aggregator (the market operator) */
    uint64_t agg_masked_vectors;  /* masked vectors received: uniform modulo 2^64 each */
    uint64_t agg_seeds, agg_keys; /* self-mask seeds of survivors, mask keys of dropped members
                                     reconstructed (never both of one member) */
    uint64_t agg_msgs_in, agg_bytes_in, agg_msgs_out, agg_bytes_out;
    /* the members, summed */
    uint64_t member_shares_held;
    uint64_t member_msgs_out, member_bytes_out;
    /* an eavesdropper on every subject: every message is signed and carries only public keys,
     * encrypted shares, masked vectors and shares; these are its counts */
    uint64_t wire_msgs, wire_bytes;
    /* private metering and the settlement check, over the first run (the first variant's market
     * run with its events): the coalition's per-interval totals */
    size_t n_intervals;
    double *meter_import_kwh, *meter_export_kwh, *meter_generation_kwh; /* [n_intervals] */
    uint32_t *meter_members;                                            /* [n_intervals] */
    double check_energy_kwh; /* largest |peers' purchases - peers' sales| of an interval */
    double check_money;      /* largest |paid - received| of an interval, $ */
    double seconds;          /* wall time of the private runs */
} pg_privacy_report;

PG_API void pg_privacy_report_free(pg_privacy_report *p); /* frees the arrays; accepts NULL */

/* Like pg_community_run_all with the market of every variant played privately (the uniform
 * mechanism only; a scenario with a feeder or shared batteries is PG_EUNSUPPORTED): the
 * baselines (no market, nothing to hide) are played as usual in process, the market runs on
 * o->lattice's transport (NULL: the in-process bus). *out as pg_community_run_all's, its
 * members' figures each from the member's own record; *pv what each party saw. Borrows c and
 * o; both outputs are written only on success and are the caller's. */
PG_API int pg_community_run_private(const pg_community *c, const pg_community_options *o,
                                    pg_community_report **out, pg_privacy_report *pv,
                                    pg_error *err);

/* The privacy section of a report as text, and the community report's JSON with a "privacy"
 * member added (malloc'd; the caller frees). */
PG_API int pg_privacy_report_text(const pg_privacy_report *p, char **out, pg_error *err);
PG_API int pg_community_report_json_private(const pg_community_report *r,
                                            const pg_privacy_report *p, char **out, pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
