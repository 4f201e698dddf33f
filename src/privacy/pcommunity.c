/* A community's market played privately (plurigrid/privacy.h, docs/privacy.md "Private clearing"
 * and "Private metering"): per interval, every member plans and bids as in the open run
 * (pg_node_bid on the same environment: the operator's public prices and DR events), puts its
 * curve on the public grid (pclear.c) and enters it in a secure aggregation (pnet.c) held by the
 * market operator; the operator clears the sum and publishes the price and the rationing of the
 * marginal level; each member derives its own award, runs its devices (pg_node_operate), settles
 * itself and enters its meter reading and settlement in a second aggregation, whose sum gives the
 * coalition's metered totals and must balance. The run's record is what each member recorded of
 * itself: one process hosts every member here, so the report can show them all, but nothing of
 * one member crosses the bus unmasked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "community/internal.h"
#include "core/util.h"
#include "plurigrid/lattice.h"
#include "plurigrid/privacy.h"
#include "privacy/pclear.h"
#include "privacy/pcommunity.h"
#include "privacy/pnet.h"

/* The metering and settlement vector: import, export, generation, bought, sold, paid, received. */
#define MV 7

static uint64_t
mix64(uint64_t x) /* the open runner's (run.c), so each node draws the same stream */
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static double
hour_of_day(const pg_community *c, size_t t)
{
    double h = fmod(c->start_hour + (double)(c->first + t) * c->step_h, 24.0);
    return h < 0 ? h + 24 : h;
}

/* Overwrites secrets before their memory is freed. */
static void
wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

typedef struct pmember {
    pg_node *node;
    size_t n_inputs;
    const double **forecast;
    double *actual;
    pg_dr_event *events;
    size_t n_events;
    uint8_t pk[32], sk[64];
    pgi_pclear_orders orders;
    double vec[2 * PGI_PCLEAR_MAX_LEVELS];
    double fill[PGI_PCLEAR_MAX_ORDERS];
    uint64_t *in; /* encoded input of the aggregation under way */
} pmember;

typedef struct prun {
    const pg_community *c;
    const pgi_private_spec *spec;
    const pgi_privacy_engine *E;
    size_t n;
    pmember *m;
    uint8_t (*roster)[32];
    uint8_t (*sks)[64];
    uint32_t *ids;
    const uint64_t **inputs;
    uint8_t server_pk[32], server_sk[64];
    pg_bus *bus;
    char prefix[PG_BUS_MAX_SUBJECT];
    pgi_secagg_params bid_p, meter_p;
    pgi_secagg_view *views;
    pgi_secagg_client_state *states;
    bool *included;
    uint64_t *sum;
} prun;

static int
merge_event(pmember *a, const pg_dr_event *ev, pg_error *err)
{
    size_t k = 0;
    while (k < a->n_events && strcmp(a->events[k].id, ev->id) != 0)
        k++;
    if (k < a->n_events) {
        if (ev->modification > a->events[k].modification)
            a->events[k] = *ev;
    } else {
        pg_dr_event *e = realloc(a->events, (a->n_events + 1) * sizeof *e);
        if (!e)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        a->events = e;
        a->events[a->n_events++] = *ev;
    }
    size_t j = 0;
    for (size_t q = 0; q < a->n_events; q++)
        if (!a->events[q].cancelled)
            a->events[j++] = a->events[q];
    a->n_events = j;
    return PG_OK;
}

static void
expire_events(pmember *a, double time_h)
{
    size_t k = 0;
    for (size_t i = 0; i < a->n_events; i++)
        if (a->events[i].start_h + a->events[i].duration_h > time_h + 1e-9)
            a->events[k++] = a->events[i];
    a->n_events = k;
}

static void
free_run(prun *x)
{
    for (size_t i = 0; x->m && i < x->n; i++) {
        pg_node_free(x->m[i].node);
        free(x->m[i].forecast);
        free(x->m[i].actual);
        free(x->m[i].events);
        free(x->m[i].in);
        wipe(x->m[i].sk, sizeof x->m[i].sk);
    }
    if (x->sks)
        wipe(x->sks, x->n * sizeof *x->sks);
    wipe(x->server_sk, sizeof x->server_sk);
    free(x->m);
    free(x->roster);
    free(x->sks);
    free(x->ids);
    free(x->inputs);
    free(x->views);
    free(x->states);
    free(x->included);
    free(x->sum);
    pg_bus_close(x->bus);
}

static int
keypair(prun *x, uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];
    x->E->rng_fill(NULL, seed, sizeof seed);
    int rc = x->E->sign_keypair_from_seed(pk, sk, seed);
    wipe(seed, sizeof seed);
    return rc;
}

static int
setup(prun *x, pg_error *err)
{
    const pg_community *c = x->c;
    const pgi_private_spec *sp = x->spec;
    size_t n = c->n_nodes;
    int rc;
    x->n = n;
    if (n < 2 || n > PGI_SECAGG_MAX_MEMBERS)
        return pg_error_set(err, PG_EUNSUPPORTED,
                            "a private market needs 2 to %u members; community '%s' has %zu",
                            PGI_SECAGG_MAX_MEMBERS, c->name, n);
    if (!(x->E = pgi_privacy_engine_get(err)))
        return PG_EUNSUPPORTED;
    if (!(x->m = calloc(n, sizeof *x->m)) || !(x->roster = calloc(n, sizeof *x->roster)) ||
        !(x->sks = calloc(n, sizeof *x->sks)) || !(x->ids = calloc(n, sizeof *x->ids)) ||
        !(x->inputs = calloc(n, sizeof *x->inputs)) || !(x->views = calloc(n, sizeof *x->views)) ||
        !(x->states = calloc(n, sizeof *x->states)) ||
        !(x->included = calloc(n, sizeof *x->included)) ||
        !(x->sum = calloc(2 * PGI_PCLEAR_MAX_LEVELS + MV, sizeof *x->sum)))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    if (keypair(x, x->server_pk, x->server_sk))
        return pg_error_set(err, PG_EAUTH, "cannot make the aggregator's key");
    for (size_t i = 0; i < n; i++) {
        pmember *a = &x->m[i];
        const pg_node_config *cfg = c->nodes[i].cfg[sp->variant];
        a->n_inputs = pg_node_config_n_inputs(cfg);
        if (!(a->forecast = calloc(a->n_inputs + 1, sizeof *a->forecast)) ||
            !(a->actual = calloc(a->n_inputs + 1, sizeof *a->actual)) ||
            !(a->in = calloc(2 * PGI_PCLEAR_MAX_LEVELS + MV, sizeof *a->in)))
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        if ((rc = pg_node_new(&a->node, cfg, (uint32_t)i, mix64(sp->seed ^ mix64(i)), err)))
            return rc;
        if (keypair(x, a->pk, a->sk))
            return pg_error_set(err, PG_EAUTH, "cannot make member keys");
        memcpy(x->roster[i], a->pk, 32);
        memcpy(x->sks[i], a->sk, 64);
        x->ids[i] = (uint32_t)i;
        x->inputs[i] = a->in;
    }
    uint32_t t = sp->threshold ? sp->threshold : pgi_secagg_threshold((uint32_t)n, 0);
    if (t < 2)
        t = 2;
    if (t > n)
        t = (uint32_t)n;
    x->bid_p = (pgi_secagg_params){.n = (uint32_t)n, .t = t, .min_coalition = t};
    x->meter_p = x->bid_p;
    x->meter_p.len = MV;
    if ((rc = pg_bus_open(&x->bus, sp->transport ? sp->transport : "inproc", sp->url, err)))
        return rc;
    if ((rc = pgi_pnet_prefix(x->prefix, sizeof x->prefix, c->token, sp->session, err)))
        return rc;
    if (sp->tap)
        sp->tap(x->bus, sp->tap_ud);
    return PG_OK;
}

/* One aggregation of the members' x->m[i].in (len values) under label. */
static int
aggregate(prun *x, pgi_secagg_params *p, const char *label, pgi_pnet_result *res,
          pg_privacy_report *view, pg_error *err)
{
    char id[128];
    snprintf(id, sizeof id, "%s/%s/%s", x->c->token, x->spec->session ? x->spec->session : "-",
             label);
    x->E->round_id(p->round_id, id, strlen(id));
    memset(res, 0, sizeof *res);
    res->sum = x->sum;
    res->included = x->included;
    res->member_view = x->views;
    res->member_state = x->states;
    pgi_pnet_round r = {.bus = x->bus,
                        .prefix = x->prefix,
                        .label = label,
                        .params = p,
                        .roster = (const uint8_t(*)[32])x->roster,
                        .server_pk = x->server_pk,
                        .server_sk = x->server_sk,
                        .n_hosted = x->n,
                        .hosted = x->ids,
                        .member_sk = (const uint8_t(*)[64])x->sks,
                        .inputs = x->inputs,
                        .round_s = x->spec->round_s,
                        .overall_s = x->spec->round_s > 0 ? 10 * x->spec->round_s + 30 : 0,
                        .stop = x->spec->stop,
                        .die = x->spec->die,
                        .die_ud = x->spec->die_ud,
                        .log = x->spec->log,
                        .log_ud = x->spec->log_ud};
    int rc = pgi_pnet_run(&r, res, err);
    if (rc)
        return rc;
    view->aggregations++;
    view->released += res->released;
    view->withheld += !res->released;
    view->dropouts += res->dropped;
    view->refused += res->server.refused + res->members.refused;
    view->agg_masked_vectors += res->server_view.masked_vectors;
    view->agg_seeds += res->server_view.seeds_reconstructed;
    view->agg_keys += res->server_view.keys_reconstructed;
    view->agg_msgs_in += res->server.heard;
    view->agg_bytes_in += res->server.heard_bytes;
    view->agg_msgs_out += res->server.sent;
    view->agg_bytes_out += res->server.sent_bytes;
    view->member_msgs_out += res->members.sent;
    view->member_bytes_out += res->members.sent_bytes;
    for (size_t i = 0; i < x->n; i++)
        view->member_shares_held += x->views[i].shares_held;
    view->wire_msgs += res->server.sent + res->members.sent;
    view->wire_bytes += res->server.sent_bytes + res->members.sent_bytes;
    return PG_OK;
}

static int
interval(prun *x, size_t t, cm_trace *tr, pg_privacy_report *view, pg_error *err)
{
    const pg_community *c = x->c;
    const pgi_private_spec *sp = x->spec;
    pg_community_run *run = &tr->run;
    size_t n = x->n;
    double hours = c->step_h;
    int rc;
    size_t hz = c->horizon < c->n - t ? c->horizon : c->n - t;
    double time_h = (double)t * hours;
    pgi_pclear_grid g;
    if ((rc =
             pgi_pclear_grid_make(c->retail + t, c->feed_in + t, hz, hours, c->connected, &g, err)))
        return rc;
    size_t L = g.n;
    /* 1. every member plans and bids privately */
    for (size_t i = 0; i < n; i++) {
        pmember *a = &x->m[i];
        for (size_t k = 0; sp->events && k < c->n_events; k++) {
            const cm_event *ev = &c->events[k];
            if (ev->deliver_at != t)
                continue;
            bool target = ev->n_targets == UINT32_MAX;
            for (uint32_t q = 0; !target && q < ev->n_targets; q++)
                target = ev->targets[q] == i;
            if (target && (rc = merge_event(a, &ev->e, err)))
                return rc;
        }
        expire_events(a, time_h);
        for (size_t k = 0; k < a->n_inputs; k++) {
            a->forecast[k] = c->nodes[i].inputs[sp->variant][k] + t;
            a->actual[k] = c->nodes[i].inputs[sp->variant][k][t];
        }
    }
    pg_node_env *env = calloc(n, sizeof *env);
    pg_node_plan plan;
    if (!env)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        pmember *a = &x->m[i];
        env[i] = (pg_node_env){.t = t,
                               .hours = hours,
                               .time_h = time_h,
                               .hour_of_day = hour_of_day(c, t),
                               .horizon = hz,
                               .retail = c->retail + t,
                               .feed_in = c->feed_in + t,
                               .grid_connected = c->connected,
                               .forecast = a->forecast,
                               .actual = a->actual,
                               .n_events = a->n_events,
                               .events = a->events};
        if ((rc = pg_node_bid(a->node, &env[i], &plan, err)))
            goto out;
        if ((rc = pgi_pclear_member(&g, plan.curve, plan.n_points, &a->orders, a->vec, err)))
            goto out;
        view->off_grid += a->orders.off_grid;
        if ((rc = pgi_secagg_encode(a->vec, 2 * L, PGI_PCLEAR_SCALE, a->in, err)))
            goto out;
    }
    char label[48];
    snprintf(label, sizeof label, "t%zu-bid", t);
    x->bid_p.len = (uint32_t)(2 * L);
    pgi_pnet_result res;
    if ((rc = aggregate(x, &x->bid_p, label, &res, view, err)))
        goto out;
    /* 2. the operator clears the sum (nothing when it was withheld) */
    pgi_pclear_result pr = {.outcome = PG_MARKET_ONE_SIDED, .price = NAN, .at = {-1, -1}};
    bool *in_bid = calloc(n, sizeof *in_bid);
    if (!in_bid) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if (res.released) {
        double sum[2 * PGI_PCLEAR_MAX_LEVELS];
        pgi_secagg_decode(x->sum, 2 * L, PGI_PCLEAR_SCALE, sum);
        if ((rc = pgi_pclear_clear(&g, sum, &pr, err))) {
            free(in_bid);
            goto out;
        }
        memcpy(in_bid, x->included, n * sizeof *in_bid);
    }
    /* 3. each member its award, its devices, its settlement */
    pg_market_settlement *s = calloc(n, sizeof *s);
    pg_node_step *st = calloc(n, sizeof *st);
    if (!s || !st) {
        free(s);
        free(st);
        free(in_bid);
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        pmember *a = &x->m[i];
        double cleared = 0, paid = 0, vol = 0;
        if (in_bid[i])
            pgi_pclear_fills(&g, &pr, &a->orders, a->fill, &cleared, &paid, &vol);
        else
            memset(a->fill, 0, sizeof a->fill);
        env[i].events = a->events;
        env[i].n_events = a->n_events;
        rc = pg_node_operate(a->node, &env[i], cleared, vol > 0 ? paid / vol : 0, &st[i], err);
        if (rc)
            break;
        pgi_pclear_settle(&g, &pr, &a->orders, a->fill, st[i].import_kwh - st[i].export_kwh, &s[i]);
        double v[MV] = {st[i].import_kwh, st[i].export_kwh, st[i].pv_kwh + st[i].pv_spilled_kwh,
                        s[i].bought,      s[i].sold,        s[i].paid,
                        s[i].received};
        rc = pgi_secagg_encode(v, MV, PGI_PCLEAR_SCALE, a->in, err);
    }
    /* 4. private metering and the settlement check */
    if (!rc) {
        snprintf(label, sizeof label, "t%zu-meter", t);
        rc = aggregate(x, &x->meter_p, label, &res, view, err);
    }
    if (!rc && res.released) {
        double m[MV];
        pgi_secagg_decode(x->sum, MV, PGI_PCLEAR_SCALE, m);
        double de = fabs(m[3] - m[4]), dm = fabs(m[5] - m[6]);
        /* every member rounds each value by at most half a quantum */
        double tol = (double)res.n_included * PGI_PCLEAR_QUANTUM;
        /* The check holds over every member the clearing included: one that dropped out of the
         * metering leaves its purchases or sales out of the totals, which then need not balance. */
        bool whole = true;
        for (size_t i = 0; i < n; i++)
            whole = whole && (!in_bid[i] || x->included[i]);
        if (whole && (de > tol + 1e-9 * (m[3] + m[4]) || dm > tol + 1e-9 * (m[5] + m[6]))) {
            rc = pg_error_set(err, PG_ESTATE,
                              "interval %zu: the private settlement does not balance (peers "
                              "bought %.9g kWh and sold %.9g kWh, paid $%.9g and received $%.9g)",
                              t, m[3], m[4], m[5], m[6]);
        } else if (view->meter_import_kwh && t < view->n_intervals) {
            view->meter_import_kwh[t] = m[0];
            view->meter_export_kwh[t] = m[1];
            view->meter_generation_kwh[t] = m[2];
            view->meter_members[t] = res.n_included;
            if (whole && de > view->check_energy_kwh)
                view->check_energy_kwh = de;
            if (whole && dm > view->check_money)
                view->check_money = dm;
        }
    }
    /* 5. the record: each member's own */
    if (!rc) {
        run->price[t] = pr.volume > 0 ? pr.price : NAN;
        run->volume_kwh[t] = pr.outcome == PG_MARKET_CLEARED ? pr.volume : 0;
        double gi = 0;
        for (size_t i = 0; i < n; i++) {
            run->operator_surplus += s[i].paid - s[i].received;
            pgi_community_add_step(&run->node[i], &st[i], &s[i], c->connected, hours);
            tr->net[i * tr->n + t] = st[i].import_kwh - st[i].export_kwh;
            run->load_kwh[t] += st[i].load_kwh;
            run->pv_kwh[t] += st[i].pv_kwh + st[i].pv_spilled_kwh;
            run->grid_import_kwh[t] += c->connected ? s[i].grid_import : 0;
            run->grid_export_kwh[t] += c->connected ? s[i].grid_export : 0;
            run->unserved_kwh[t] += st[i].unserved_kwh + (c->connected ? 0 : s[i].grid_import);
            gi += c->connected ? s[i].grid_import : 0;
        }
        if (gi / hours > run->total.peak_import_kw)
            run->total.peak_import_kw = gi / hours;
        tr->settled++;
    }
    free(s);
    free(st);
    free(in_bid);
out:
    free(env);
    return rc;
}

int
pgi_private_play(const pg_community *c, const pgi_private_spec *spec, cm_trace *tr,
                 pg_privacy_report *view, pg_error *err)
{
    prun x;
    memset(&x, 0, sizeof x);
    x.c = c;
    x.spec = spec;
    memset(tr, 0, sizeof *tr);
    size_t n = c->n_nodes, T = c->n;
    pg_community_run *run = &tr->run;
    int rc;
    if (c->feeder || c->sharing)
        return pg_error_set(err, PG_EUNSUPPORTED,
                            "--private plays the uniform market among peers; a scenario with %s "
                            "is not supported",
                            c->feeder ? "a feeder (grid-aware clearing)" : "shared batteries");
    tr->n_nodes = n;
    tr->n = T;
    if (!(tr->net = calloc(n * T + 1, sizeof *tr->net)) ||
        !(run->node = calloc(n, sizeof *run->node)) || !(run->price = calloc(T, sizeof(double))) ||
        !(run->volume_kwh = calloc(T, sizeof(double))) ||
        !(run->load_kwh = calloc(T, sizeof(double))) ||
        !(run->pv_kwh = calloc(T, sizeof(double))) ||
        !(run->grid_import_kwh = calloc(T, sizeof(double))) ||
        !(run->grid_export_kwh = calloc(T, sizeof(double))) ||
        !(run->unserved_kwh = calloc(T, sizeof(double))) ||
        !(run->mechanism = pgi_strdup("uniform"))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t t = 0; t < T; t++)
        run->price[t] = NAN;
    run->n_nodes = n;
    run->vm_min = run->vm_max = run->loading_max = NAN;
    run->pack_utilisation = NAN;
    if ((rc = setup(&x, err)))
        goto out;
    view->members = n;
    view->threshold = x.bid_p.t;
    for (size_t t = 0; t < T; t++)
        if ((rc = interval(&x, t, tr, view, err)))
            goto out;
    pg_bus_stats bs;
    pg_bus_get_stats(x.bus, &bs);
    run->published = bs.published;
    run->delivered = bs.delivered;
    run->dropped = bs.dropped;
out:
    free_run(&x);
    if (rc)
        pgi_community_trace_free(tr);
    return rc;
}
