/* A scenario played with its markets private (plurigrid/privacy.h): the runs of
 * pg_community_run_all, the market runs by secure aggregation (pcommunity.c) and the baselines,
 * which have no market and nothing to hide, by the open runner in process; and the report of what
 * each party saw, as text and as the "privacy" member of the community report's JSON. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "community/internal.h"
#include "core/json_write.h"
#include "core/util.h"
#include "plurigrid/privacy.h"
#include "privacy/pcommunity.h"

void
pg_privacy_report_free(pg_privacy_report *p)
{
    if (!p)
        return;
    free(p->meter_import_kwh);
    free(p->meter_export_kwh);
    free(p->meter_generation_kwh);
    free(p->meter_members);
    memset(p, 0, sizeof *p);
}

int
pg_community_run_private(const pg_community *c, const pg_community_options *o,
                         pg_community_report **out, pg_privacy_report *pv, pg_error *err)
{
    pg_community_options defaults;
    pg_community_options_init(&defaults);
    if (!o)
        o = &defaults;
    if (!c || !out || !pv)
        return pg_error_set(err, PG_EINVAL, "pg_community_run_private: an argument is NULL");
    const char *mname = o->market ? o->market : c->mechanism;
    if (strcmp(mname, "uniform") != 0)
        return pg_error_set(err, PG_EUNSUPPORTED,
                            "a private market clears by the uniform auction; the market asked "
                            "for is '%s' (use --market uniform)",
                            mname);
    if (c->feeder || c->sharing)
        return pg_error_set(err, PG_EUNSUPPORTED,
                            "a private market clears among peers by the uniform auction; "
                            "scenario '%s' has %s, which needs every bid in the clear",
                            c->name,
                            c->feeder ? "a feeder (grid-aware clearing)" : "shared batteries");
    const pg_lattice_options *lo = o->lattice;
    int rc;
    if (lo && (rc = pg_lattice_options_check(lo, err)))
        return rc;
    uint64_t seed = o->set_seed ? o->seed : c->seed;
    int per = c->dr_counterfactual ? 2 : 1;
    size_t nv = c->n_variants, nj = nv * (size_t)per;
    cm_trace *mk = calloc(nj, sizeof *mk), *bl = calloc(nj, sizeof *bl);
    pg_privacy_report v;
    memset(&v, 0, sizeof v);
    pg_community_report *r = NULL;
    double t0 = pgi_now();
    char token[64];
    if (lo && lo->session) {
        snprintf(token, sizeof token, "%.50s", lo->session);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(token, sizeof token, "p%016llx",
                 (unsigned long long)((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec));
    }
    v.n_intervals = c->n;
    if (!mk || !bl || !(v.meter_import_kwh = calloc(c->n + 1, sizeof(double))) ||
        !(v.meter_export_kwh = calloc(c->n + 1, sizeof(double))) ||
        !(v.meter_generation_kwh = calloc(c->n + 1, sizeof(double))) ||
        !(v.meter_members = calloc(c->n + 1, sizeof(uint32_t)))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    double *keep[3] = {v.meter_import_kwh, v.meter_export_kwh, v.meter_generation_kwh};
    uint32_t *keep_m = v.meter_members;
    size_t done = 0;
    for (size_t k = 0; k < nj; k++) {
        size_t var = k / (size_t)per;
        bool events = k % (size_t)per == 0;
        cm_run_spec bs = {.variant = var, .mech = NULL, .events = events, .seed = seed};
        if ((rc = pgi_community_play(c, &bs, &bl[k], err)))
            goto out;
        char session[96];
        snprintf(session, sizeof session, "%s-%zu", token, k);
        pgi_private_spec ps = {.variant = var,
                               .events = events,
                               .seed = seed,
                               .transport = lo ? (lo->transport ? lo->transport : "nats") : NULL,
                               .url = lo ? lo->servers : NULL,
                               .session = session,
                               .round_s =
                                   lo && lo->transport && strcmp(lo->transport, "inproc") == 0 ? 0
                                   : lo ? lo->timeout_s
                                        : 0,
                               .stop = lo ? lo->stop : NULL,
                               .log = lo ? lo->log : NULL,
                               .log_ud = lo ? lo->log_ud : NULL};
        /* the metering totals of the first run only */
        bool first = k == 0;
        v.meter_import_kwh = first ? keep[0] : NULL;
        v.meter_export_kwh = first ? keep[1] : NULL;
        v.meter_generation_kwh = first ? keep[2] : NULL;
        v.meter_members = first ? keep_m : NULL;
        rc = pgi_private_play(c, &ps, &mk[k], &v, err);
        v.meter_import_kwh = keep[0];
        v.meter_export_kwh = keep[1];
        v.meter_generation_kwh = keep[2];
        v.meter_members = keep_m;
        if (rc)
            goto out;
        v.runs++;
        if (o->progress)
            o->progress(++done, nj, o->progress_ud);
    }
    if ((rc = pgi_community_report_new(c, "uniform", seed, 0, nv, &r, err)))
        goto out;
    for (size_t var = 0; var < nv; var++) {
        pg_community_variant *x = &r->variants[var];
        x->has_market = true;
        size_t k = var * (size_t)per;
        cm_trace *cfm = per == 2 ? &mk[k + 1] : NULL, *cfb = per == 2 ? &bl[k + 1] : NULL;
        pgi_community_finish_run(c, &mk[k], cfm);
        pgi_community_finish_run(c, &bl[k], cfb);
        x->market = mk[k].run;
        memset(&mk[k].run, 0, sizeof mk[k].run);
        x->baseline = bl[k].run;
        memset(&bl[k].run, 0, sizeof bl[k].run);
    }
    r->seconds = pgi_now() - t0;
    v.seconds = r->seconds;
out:
    for (size_t k = 0; k < nj && mk && bl; k++) {
        pgi_community_trace_free(&mk[k]);
        pgi_community_trace_free(&bl[k]);
    }
    free(mk);
    free(bl);
    if (rc) {
        pg_community_report_free(r);
        pg_privacy_report_free(&v);
        return rc;
    }
    *out = r;
    *pv = v;
    return PG_OK;
}

static double
total(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; x && i < n; i++)
        s += x[i];
    return s;
}

int
pg_privacy_report_text(const pg_privacy_report *p, char **out, pg_error *err)
{
    if (!p || !out)
        return pg_error_set(err, PG_EINVAL, "pg_privacy_report_text: an argument is NULL");
    pgi_buf b = {0};
    pgi_buf_printf(&b, "\nPrivacy: the markets played by secure aggregation (docs/privacy.md)\n");
    pgi_buf_printf(&b,
                   "  private market runs %zu; members %zu, Shamir threshold %u of %zu; "
                   "aggregations %zu (%zu released, %zu withheld)\n",
                   p->runs, p->members, p->threshold, p->members, p->aggregations, p->released,
                   p->withheld);
    pgi_buf_printf(&b,
                   "  dropouts: %llu members dropped for silence; refused messages: %llu; bid "
                   "orders off the price grid: %zu\n",
                   (unsigned long long)p->dropouts, (unsigned long long)p->refused, p->off_grid);
    pgi_buf_printf(&b, "  What each party saw:\n");
    pgi_buf_printf(&b,
                   "    the aggregator (the market operator): %llu masked vectors (uniform modulo "
                   "2^64), the sums and the public results; %llu self-mask seeds and %llu mask "
                   "keys reconstructed; %llu messages (%llu bytes) in, %llu (%llu bytes) out\n",
                   (unsigned long long)p->agg_masked_vectors, (unsigned long long)p->agg_seeds,
                   (unsigned long long)p->agg_keys, (unsigned long long)p->agg_msgs_in,
                   (unsigned long long)p->agg_bytes_in, (unsigned long long)p->agg_msgs_out,
                   (unsigned long long)p->agg_bytes_out);
    pgi_buf_printf(&b,
                   "    each member: its own bids, readings and settlement, and the public "
                   "results (prices, the rationing of the marginal level, the coalition's "
                   "totals); %llu encrypted shares held by the members in all\n",
                   (unsigned long long)p->member_shares_held);
    pgi_buf_printf(&b,
                   "    an eavesdropper on every subject: %llu signed messages, %llu bytes: "
                   "public keys, encrypted shares, masked vectors and unmasking shares\n",
                   (unsigned long long)p->wire_msgs, (unsigned long long)p->wire_bytes);
    pgi_buf_printf(&b,
                   "  Private metering (the first variant's market run, %zu intervals): import "
                   "%.1f kWh, export %.1f kWh, generation %.1f kWh; settlement check: largest "
                   "imbalance %.3g kWh, $%.3g\n",
                   p->n_intervals, total(p->meter_import_kwh, p->n_intervals),
                   total(p->meter_export_kwh, p->n_intervals),
                   total(p->meter_generation_kwh, p->n_intervals), p->check_energy_kwh,
                   p->check_money);
    if (b.failed || !b.data) {
        pgi_buf_free(&b);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    *out = b.data;
    return PG_OK;
}

static json_t *
num_array(const double *x, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && x && i < n; i++)
        json_array_append_new(a, pgi_json_num(x[i]));
    return a;
}

int
pg_community_report_json_private(const pg_community_report *r, const pg_privacy_report *p,
                                 char **out, pg_error *err)
{
    if (!r || !p || !out)
        return pg_error_set(err, PG_EINVAL,
                            "pg_community_report_json_private: an argument is NULL");
    char *text = NULL;
    int rc = pg_community_report_json(r, &text, err);
    if (rc)
        return rc;
    json_error_t je;
    json_t *doc = json_loads(text, JSON_DECODE_ANY, &je);
    free(text);
    if (!doc)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    json_t *members = json_array();
    for (size_t i = 0; members && p->meter_members && i < p->n_intervals; i++)
        json_array_append_new(members, json_integer(p->meter_members[i]));
    json_t *pj = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
        " s:{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
        " s:{s:s, s:I, s:I, s:I},"
        " s:{s:s, s:I, s:I},"
        " s:{s:o, s:o, s:o, s:o},"
        " s:{s:o, s:o}}",
        "runs", (json_int_t)p->runs, "members", (json_int_t)p->members, "threshold",
        (json_int_t)p->threshold, "aggregations", (json_int_t)p->aggregations, "released",
        (json_int_t)p->released, "withheld", (json_int_t)p->withheld, "dropouts",
        (json_int_t)p->dropouts, "refused", (json_int_t)p->refused, "off_grid_orders",
        (json_int_t)p->off_grid, "aggregator", "saw",
        "masked vectors (uniform modulo 2^64), the sums and the public results", "masked_vectors",
        (json_int_t)p->agg_masked_vectors, "seeds_reconstructed", (json_int_t)p->agg_seeds,
        "keys_reconstructed", (json_int_t)p->agg_keys, "messages_in", (json_int_t)p->agg_msgs_in,
        "bytes_in", (json_int_t)p->agg_bytes_in, "messages_out", (json_int_t)p->agg_msgs_out,
        "bytes_out", (json_int_t)p->agg_bytes_out, "member", "saw",
        "its own values and the public results", "shares_held", (json_int_t)p->member_shares_held,
        "messages_out", (json_int_t)p->member_msgs_out, "bytes_out",
        (json_int_t)p->member_bytes_out, "eavesdropper", "saw",
        "signed messages: public keys, encrypted shares, masked vectors, unmasking shares",
        "messages", (json_int_t)p->wire_msgs, "bytes", (json_int_t)p->wire_bytes, "metering",
        "import_kwh", num_array(p->meter_import_kwh, p->n_intervals), "export_kwh",
        num_array(p->meter_export_kwh, p->n_intervals), "generation_kwh",
        num_array(p->meter_generation_kwh, p->n_intervals), "members", members, "settlement_check",
        "energy_kwh", pgi_json_num(p->check_energy_kwh), "money", pgi_json_num(p->check_money));
    if (!pj || json_object_set_new(doc, "privacy", pj)) {
        json_decref(doc);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    char *s = pgi_json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    *out = s;
    return PG_OK;
}
