/* The report of a community's runs: text (each variant's market and baseline side by side, the
 * three claims of the market answered with numbers, then every node), JSON
 * (plurigrid-community-report/1, deterministic: no timings) and CSV (one row per variant, run and
 * node, the community's row last), and the charts: energy flows, clearing prices and bills per
 * node of each variant. Printers return text; files go through the library's writers. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "community/internal.h"
#include "core/json_write.h"
#include "core/util.h"
#include "plurigrid/plot.h"

/* The metrics in the order of the JSON and the CSV. */
#define METRICS(X)                                                                                 \
    X(load_kwh)                                                                                    \
    X(pv_kwh)                                                                                      \
    X(pv_spilled_kwh)                                                                              \
    X(import_kwh)                                                                                  \
    X(export_kwh)                                                                                  \
    X(peer_bought_kwh)                                                                             \
    X(peer_sold_kwh)                                                                               \
    X(peer_paid)                                                                                   \
    X(peer_received)                                                                               \
    X(grid_import_kwh)                                                                             \
    X(grid_export_kwh)                                                                             \
    X(grid_paid)                                                                                   \
    X(grid_received)                                                                               \
    X(bill)                                                                                        \
    X(revenue)                                                                                     \
    X(self_sufficiency)                                                                            \
    X(local_pv_use)                                                                                \
    X(peak_import_kw)                                                                              \
    X(battery_in_kwh)                                                                              \
    X(battery_out_kwh)                                                                             \
    X(unserved_kwh)                                                                                \
    X(ev_short_kwh)                                                                                \
    X(comfort_dev_ch)                                                                              \
    X(dr_event_kwh)                                                                                \
    X(dr_delivered_kwh)                                                                            \
    X(dr_delivered_cf_kwh)                                                                         \
    X(rental_paid)                                                                                 \
    X(rental_received)

/* ---------------------------------------------------------------- the claims */

/* Sellers are the nodes that sold more to peers than they bought over the market run, buyers the
 * others that traded with peers. */
typedef struct claims {
    size_t n_sellers, n_buyers, sellers_better, buyers_better;
    double seller_rev_market, seller_rev_base, buyer_bill_market, buyer_bill_base;
    double pv_use_market, pv_use_base;
} claims;

static void
make_claims(const pg_community_variant *v, claims *cl)
{
    memset(cl, 0, sizeof *cl);
    const pg_community_run *m = &v->market, *b = &v->baseline;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const pg_community_metrics *a = &m->node[i], *z = &b->node[i];
        if (a->peer_sold_kwh > a->peer_bought_kwh) {
            cl->n_sellers++;
            cl->seller_rev_market += a->revenue;
            cl->seller_rev_base += z->revenue;
            cl->sellers_better += a->revenue > z->revenue;
        } else if (a->peer_bought_kwh > 0) {
            cl->n_buyers++;
            cl->buyer_bill_market += a->bill;
            cl->buyer_bill_base += z->bill;
            cl->buyers_better += a->bill < z->bill;
        }
    }
    cl->pv_use_market = m->total.local_pv_use;
    cl->pv_use_base = b->total.local_pv_use;
}

/* ---------------------------------------------------------------- text */

static void
pct_change(pgi_buf *b, double now, double before)
{
    if (isfinite(now) && isfinite(before) && fabs(before) > 1e-12)
        pgi_buf_printf(b, " (%+.1f%%)", 100 * (now - before) / fabs(before));
}

/* x as printed with two decimals, without "-0.00". */
static double
shown(double x)
{
    return fabs(x) < 0.005 ? 0 : x;
}

static void
row(pgi_buf *b, const char *what, const char *unit, double base, double market, bool has_market)
{
    /* A figure the run has none of (a DR baseline with no earlier days) is "none", not "nan". */
    pgi_buf_printf(b, "  %-34s %-6s", what, unit);
    double cells[3] = {base, market, market - base};
    for (int k = 0; k < (has_market ? 3 : 1); k++) {
        if (isnan(cells[k]))
            pgi_buf_printf(b, " %14s", "none");
        else
            pgi_buf_printf(b, " %14.2f", shown(cells[k]));
    }
    pgi_buf_puts(b, "\n");
}

/* The nodes whose controller gave no bid in some intervals of run (a sandboxed strategy that
 * failed), with the last reason: said, never hidden in the totals. */
static void
no_bid_text(pgi_buf *b, const pg_community_report *r, const pg_community_run *run,
            const char *which)
{
    if (!run->total.no_bids)
        return;
    for (size_t i = 0; i < run->n_nodes; i++) {
        const pg_community_metrics *nm = &run->node[i];
        if (!nm->no_bids)
            continue;
        pgi_buf_printf(b,
                       "  %s run: %s gave no bid in %zu of %zu intervals (its controller: ", which,
                       r->node_names[i], nm->no_bids, r->n_intervals);
        pgi_buf_puts(b, nm->no_bid_why);
        pgi_buf_puts(b, ")\n");
    }
}

static void
text_variant(pgi_buf *b, const pg_community_report *r, const pg_community_variant *v)
{
    const pg_community_run *m = &v->market, *z = &v->baseline;
    bool hm = v->has_market;
    /* One run played on the lattice: the market's run alone, without a baseline to compare with,
     * printed in the baseline's column under its market's name. */
    bool alone = hm && !z->node;
    if (alone) {
        z = m;
        hm = false;
    }
    const pg_community_metrics *A = &m->total, *Z = &z->total;
    pgi_buf_printf(b, "\nVariant %s\n", v->name);
    pgi_buf_printf(b, "  %-34s %-6s %14s", "community", "unit",
                   !hm && strcmp(z->mechanism, "none") != 0 ? z->mechanism : "baseline");
    if (hm) {
        char label[64];
        snprintf(label, sizeof label, "%s%s%s", m->mechanism, m->grid_aware ? "+feeder" : "",
                 m->share_rounds ? "+sharing" : "");
        pgi_buf_printf(b, " %14s %14s", label, "change");
    }
    pgi_buf_puts(b, "\n");
    static const pg_community_metrics zero;
    if (!hm)
        A = &zero;
    row(b, "load", "kWh", Z->load_kwh, A->load_kwh, hm);
    row(b, "PV generated", "kWh", Z->pv_kwh, A->pv_kwh, hm);
    row(b, "energy traded with peers", "kWh", Z->peer_bought_kwh, A->peer_bought_kwh, hm);
    if (r->grid_connected) {
        row(b, "bought from the grid", "kWh", Z->grid_import_kwh, A->grid_import_kwh, hm);
        row(b, "sold to the grid", "kWh", Z->grid_export_kwh, A->grid_export_kwh, hm);
    }
    row(b, "bills, all nodes", "$", Z->bill, A->bill, hm);
    row(b, "revenues (peers + grid)", "$", Z->revenue, A->revenue, hm);
    row(b, r->grid_connected ? "self-sufficiency" : "share of demand served", "%",
        100 * Z->self_sufficiency, 100 * A->self_sufficiency, hm);
    row(b, "local use of PV", "%", 100 * Z->local_pv_use, 100 * A->local_pv_use, hm);
    if (r->grid_connected)
        row(b, "peak import", "kW", Z->peak_import_kw, A->peak_import_kw, hm);
    row(b, "battery discharged", "kWh", Z->battery_out_kwh, A->battery_out_kwh, hm);
    if (Z->unserved_kwh > 0 || A->unserved_kwh > 0 || !r->grid_connected)
        row(b, "unserved energy", "kWh", Z->unserved_kwh, A->unserved_kwh, hm);
    if (Z->ev_short_kwh > 0 || A->ev_short_kwh > 0)
        row(b, "EV energy short at departure", "kWh", Z->ev_short_kwh, A->ev_short_kwh, hm);
    if (!isnan(Z->dr_event_kwh) || !isnan(A->dr_event_kwh)) {
        row(b, "net import during DR events", "kWh", Z->dr_event_kwh, A->dr_event_kwh, hm);
        row(b, "DR delivered (10-of-10 baseline)", "kWh", Z->dr_delivered_kwh, A->dr_delivered_kwh,
            hm);
        row(b, "DR delivered (run without events)", "kWh", Z->dr_delivered_cf_kwh,
            A->dr_delivered_cf_kwh, hm);
    }
    if ((hm || alone) && m->share_rounds) {
        pgi_buf_printf(b,
                       "  shared batteries: %zu rentals in %zu rounds, pack utilisation %.1f%%, "
                       "rent paid $%.2f\n",
                       m->share_rented, m->share_rounds, 100 * m->pack_utilisation, A->rental_paid);
    }
    if ((hm || alone) && m->grid_aware)
        pgi_buf_printf(b,
                       "  feeder: voltage %.4f to %.4f p.u., highest branch loading %.1f%%, %zu "
                       "intervals without an AC solution\n",
                       m->vm_min, m->vm_max, 100 * m->loading_max, m->ac_failed);
    if (hm && (m->share_rounds == 0 || m->n_nodes)) {
        claims cl;
        make_claims(v, &cl);
        if (A->peer_bought_kwh > 0) {
            pgi_buf_printf(b, "  Does the market pay?\n");
            pgi_buf_printf(b,
                           "    sellers' revenue: the %zu net sellers to peers received $%.2f with "
                           "the market, $%.2f without",
                           cl.n_sellers, cl.seller_rev_market, cl.seller_rev_base);
            pct_change(b, cl.seller_rev_market, cl.seller_rev_base);
            pgi_buf_printf(b, "; %zu of %zu more\n", cl.sellers_better, cl.n_sellers);
            pgi_buf_printf(b,
                           "    buyers' bills: the %zu net buyers from peers paid $%.2f with the "
                           "market, $%.2f without",
                           cl.n_buyers, cl.buyer_bill_market, cl.buyer_bill_base);
            pct_change(b, cl.buyer_bill_market, cl.buyer_bill_base);
            pgi_buf_printf(b, "; %zu of %zu less\n", cl.buyers_better, cl.n_buyers);
            pgi_buf_printf(b,
                           "    local solar use: %.1f%% of the PV generated was used in the "
                           "community with the market, %.1f%% without\n",
                           100 * cl.pv_use_market, 100 * cl.pv_use_base);
        } else if (r->grid_connected) {
            pgi_buf_puts(b, "  No energy was traded among peers.\n");
        }
    }
    no_bid_text(b, r, z, "baseline");
    if (hm)
        no_bid_text(b, r, m, "market");
    /* Nodes */
    if (!r->grid_connected) {
        pgi_buf_printf(b, "\n  %-20s %12s %12s %12s %12s %10s %10s\n", "node",
                       alone ? "unserved" : "unserved base", hm ? "unserved mkt" : "",
                       alone ? "bill $" : "bill base $", hm ? "bill mkt $" : "", "rentals",
                       "served");
        for (size_t i = 0; i < z->n_nodes; i++) {
            const pg_community_metrics *nz = &z->node[i], *nm = hm ? &m->node[i] : nz;
            pgi_buf_printf(b, "  %-20.20s %12.2f %12.2f %12.2f %12.2f %10zu %9.1f%%\n",
                           r->node_names[i], shown(nz->unserved_kwh), shown(nm->unserved_kwh),
                           shown(nz->bill), shown(nm->bill), nm->rentals,
                           100 * nm->self_sufficiency);
        }
        return;
    }
    pgi_buf_printf(b, "\n  %-20s %12s %12s %12s %12s %10s %10s\n", "node",
                   alone ? "bill $" : "bill base $", hm ? "bill mkt $" : "",
                   alone ? "revenue $" : "rev base $", hm ? "rev mkt $" : "", "peer kWh",
                   "self-suff");
    for (size_t i = 0; i < z->n_nodes; i++) {
        const pg_community_metrics *nz = &z->node[i], *nm = hm ? &m->node[i] : NULL;
        if (alone) {
            pgi_buf_printf(b, "  %-20.20s %12.2f %12s %12.2f %12s %10.1f %9.1f%%\n",
                           r->node_names[i], shown(nz->bill), "", shown(nz->revenue), "",
                           nz->peer_bought_kwh - nz->peer_sold_kwh, 100 * nz->self_sufficiency);
            continue;
        }
        pgi_buf_printf(b, "  %-20.20s %12.2f ", r->node_names[i], shown(nz->bill));
        if (nm)
            pgi_buf_printf(b, "%12.2f ", shown(nm->bill));
        else
            pgi_buf_printf(b, "%12s ", "");
        pgi_buf_printf(b, "%12.2f ", shown(nz->revenue));
        if (nm)
            pgi_buf_printf(b, "%12.2f %10.1f %9.1f%%\n", shown(nm->revenue),
                           nm->peer_bought_kwh - nm->peer_sold_kwh, 100 * nm->self_sufficiency);
        else
            pgi_buf_printf(b, "%12s %10s %9.1f%%\n", "", "", 100 * nz->self_sufficiency);
    }
}

int
pg_community_report_text(const pg_community_report *r, char **out, pg_error *err)
{
    pgi_buf b = {0};
    pgi_buf_printf(&b,
                   "Community %s: %zu nodes, %zu days from day %zu (%zu intervals of %g h), "
                   "seed %llu, market %s%s\n",
                   r->scenario, r->n_nodes, r->days, r->start_day, r->n_intervals, r->step_h,
                   (unsigned long long)r->seed, r->mechanism,
                   r->grid_connected ? "" : ", off-grid");
    pgi_buf_puts(&b, "Bills are net: money paid minus money received. \"peer kWh\" > 0: bought "
                     "from peers.\n");
    for (size_t v = 0; v < r->n_variants; v++)
        text_variant(&b, r, &r->variants[v]);
    uint64_t dropped = 0;
    for (size_t v = 0; v < r->n_variants; v++)
        dropped += r->variants[v].market.dropped + r->variants[v].baseline.dropped;
    if (dropped)
        pgi_buf_printf(&b, "\n%llu malformed messages were dropped\n", (unsigned long long)dropped);
    if (b.failed) {
        pgi_buf_free(&b);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    *out = b.data;
    return PG_OK;
}

/* ---------------------------------------------------------------- JSON */

static json_t *
metrics_json(const pg_community_metrics *m)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
#define J(f) bad |= json_object_set_new(o, #f, pgi_json_num(m->f));
    METRICS(J)
#undef J
    /* only when a controller failed, so that the reports of runs without one stay as they were */
    if (m->no_bids) {
        bad |= json_object_set_new(o, "no_bids", json_integer((json_int_t)m->no_bids));
        if (m->no_bid_why[0])
            bad |= json_object_set_new(o, "no_bid_why", pgi_json_str(m->no_bid_why));
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *
run_json(const pg_community_report *r, const pg_community_run *run)
{
    json_t *o = json_object(), *nodes = json_array(), *iv = json_object();
    if (!o || !nodes || !iv)
        goto fail;
    int bad = 0;
    bad |= json_object_set_new(o, "mechanism", pgi_json_str(run->mechanism));
    bad |= json_object_set_new(o, "grid_aware", json_boolean(run->grid_aware));
    bad |= json_object_set_new(o, "community", metrics_json(&run->total));
    for (size_t i = 0; i < run->n_nodes; i++) {
        json_t *m = metrics_json(&run->node[i]);
        if (!m)
            goto fail;
        bad |= json_object_set_new(m, "name", pgi_json_str(r->node_names[i]));
        bad |= json_array_append_new(nodes, m);
    }
    bad |= json_object_set_new(o, "nodes", nodes);
    nodes = NULL;
    if (run->grid_aware) {
        bad |= json_object_set_new(o, "vm_min", pgi_json_num(run->vm_min));
        bad |= json_object_set_new(o, "vm_max", pgi_json_num(run->vm_max));
        bad |= json_object_set_new(o, "loading_max", pgi_json_num(run->loading_max));
        bad |= json_object_set_new(o, "ac_failed", json_integer((json_int_t)run->ac_failed));
    }
    if (run->share_rounds) {
        bad |= json_object_set_new(o, "share_rounds", json_integer((json_int_t)run->share_rounds));
        bad |= json_object_set_new(o, "share_rented", json_integer((json_int_t)run->share_rented));
        bad |= json_object_set_new(o, "pack_utilisation", pgi_json_num(run->pack_utilisation));
    }
    /* No message counts: they depend on the transport (heartbeats, retransmissions), and the
     * report is the same on every bus. */
    bad |= json_object_set_new(o, "operator_surplus", pgi_json_num(run->operator_surplus));
    const struct {
        const char *name;
        const double *v;
    } series[] = {{"price", run->price},
                  {"volume_kwh", run->volume_kwh},
                  {"load_kwh", run->load_kwh},
                  {"pv_kwh", run->pv_kwh},
                  {"grid_import_kwh", run->grid_import_kwh},
                  {"grid_export_kwh", run->grid_export_kwh},
                  {"unserved_kwh", run->unserved_kwh}};
    for (size_t s = 0; s < sizeof series / sizeof *series; s++) {
        json_t *a = json_array();
        if (!a)
            goto fail;
        for (size_t t = 0; t < r->n_intervals; t++)
            bad |= json_array_append_new(a, pgi_json_num(series[s].v[t]));
        bad |= json_object_set_new(iv, series[s].name, a);
    }
    bad |= json_object_set_new(o, "intervals", iv);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
fail:
    json_decref(o);
    json_decref(nodes);
    json_decref(iv);
    return NULL;
}

int
pg_community_report_json(const pg_community_report *r, char **out, pg_error *err)
{
    json_t *root = json_object(), *vars = json_array();
    char *text = NULL;
    int bad = !root || !vars;
    if (!bad) {
        bad |= json_object_set_new(root, "format", json_string("plurigrid-community-report/1"));
        bad |= json_object_set_new(root, "scenario", pgi_json_str(r->scenario));
        bad |= json_object_set_new(root, "mechanism", pgi_json_str(r->mechanism));
        bad |= json_object_set_new(root, "seed", json_integer((json_int_t)r->seed));
        bad |= json_object_set_new(root, "start_day", json_integer((json_int_t)r->start_day));
        bad |= json_object_set_new(root, "days", json_integer((json_int_t)r->days));
        bad |= json_object_set_new(root, "intervals", json_integer((json_int_t)r->n_intervals));
        bad |= json_object_set_new(root, "step_h", pgi_json_num(r->step_h));
        bad |= json_object_set_new(root, "grid_connected", json_boolean(r->grid_connected));
        for (size_t v = 0; v < r->n_variants; v++) {
            const pg_community_variant *var = &r->variants[v];
            json_t *o = json_object();
            if (!o) {
                bad = 1;
                break;
            }
            bad |= json_array_append_new(vars, o);
            bad |= json_object_set_new(o, "name", pgi_json_str(var->name));
            /* a lattice run has its market's run alone (no baseline played, no claims) */
            bool alone = var->has_market && !var->baseline.node;
            if (!alone)
                bad |= json_object_set_new(o, "baseline", run_json(r, &var->baseline));
            if (var->has_market)
                bad |= json_object_set_new(o, "market", run_json(r, &var->market));
            if (var->has_market && !alone) {
                claims cl;
                make_claims(var, &cl);
                json_t *c = json_object();
                if (!c) {
                    bad = 1;
                    break;
                }
                bad |= json_object_set_new(c, "sellers", json_integer((json_int_t)cl.n_sellers));
                bad |= json_object_set_new(c, "sellers_revenue_market",
                                           pgi_json_num(cl.seller_rev_market));
                bad |= json_object_set_new(c, "sellers_revenue_baseline",
                                           pgi_json_num(cl.seller_rev_base));
                bad |= json_object_set_new(c, "sellers_with_more_revenue",
                                           json_integer((json_int_t)cl.sellers_better));
                bad |= json_object_set_new(c, "buyers", json_integer((json_int_t)cl.n_buyers));
                bad |= json_object_set_new(c, "buyers_bill_market",
                                           pgi_json_num(cl.buyer_bill_market));
                bad |= json_object_set_new(c, "buyers_bill_baseline",
                                           pgi_json_num(cl.buyer_bill_base));
                bad |= json_object_set_new(c, "buyers_with_lower_bills",
                                           json_integer((json_int_t)cl.buyers_better));
                bad |=
                    json_object_set_new(c, "local_pv_use_market", pgi_json_num(cl.pv_use_market));
                bad |=
                    json_object_set_new(c, "local_pv_use_baseline", pgi_json_num(cl.pv_use_base));
                bad |= json_object_set_new(o, "claims", c);
            }
        }
        bad |= json_object_set_new(root, "variants", vars);
        vars = NULL;
    }
    if (!bad)
        text = pgi_json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    json_decref(vars);
    if (!text)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    *out = text;
    return PG_OK;
}

/* ---------------------------------------------------------------- CSV */

static void
csv_num(pgi_buf *b, double x)
{
    if (isfinite(x))
        pgi_buf_printf(b, ",%.17g", x);
    else
        pgi_buf_puts(b, ",");
}

/* A name as a CSV field: quoted when it holds a comma, a quote or a line break. */
static void
csv_name(pgi_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        pgi_buf_puts(b, s);
        return;
    }
    pgi_buf_puts(b, "\"");
    for (; *s; s++) {
        pgi_buf_append(b, s, 1);
        if (*s == '"')
            pgi_buf_append(b, s, 1); /* a quote is doubled */
    }
    pgi_buf_puts(b, "\"");
}

static void
csv_run(pgi_buf *b, const pg_community_report *r, const char *variant, const char *which,
        const pg_community_run *run)
{
    for (size_t i = 0; i <= run->n_nodes; i++) {
        const pg_community_metrics *m = i < run->n_nodes ? &run->node[i] : &run->total;
        csv_name(b, variant);
        pgi_buf_printf(b, ",%s,%s,", which, run->mechanism);
        csv_name(b, i < run->n_nodes ? r->node_names[i] : "(community)");
#define C(f) csv_num(b, m->f);
        METRICS(C)
#undef C
        pgi_buf_puts(b, "\n");
    }
}

int
pg_community_report_csv(const pg_community_report *r, char **out, pg_error *err)
{
    pgi_buf b = {0};
    pgi_buf_puts(&b, "variant,run,mechanism,node");
#define H(f) pgi_buf_puts(&b, "," #f);
    METRICS(H)
#undef H
    pgi_buf_puts(&b, "\n");
    for (size_t v = 0; v < r->n_variants; v++) {
        const pg_community_variant *var = &r->variants[v];
        if (var->baseline.node)
            csv_run(&b, r, var->name, "baseline", &var->baseline);
        if (var->has_market)
            csv_run(&b, r, var->name, "market", &var->market);
    }
    if (b.failed) {
        pgi_buf_free(&b);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    *out = b.data;
    return PG_OK;
}

/* ---------------------------------------------------------------- plots */

/* Per interval, or per day when the run is longer than two weeks (sums of energy, means of
 * prices over the intervals that have one). */
typedef struct agg {
    size_t n;
    double *x;
    double per; /* intervals per point */
} agg;

static void
aggregate(const agg *g, const double *v, size_t n, bool mean, double *out)
{
    size_t per = (size_t)g->per;
    for (size_t p = 0; p < g->n; p++) {
        double s = 0;
        size_t k = 0;
        for (size_t t = p * per; t < (p + 1) * per && t < n; t++)
            if (isfinite(v[t])) {
                s += v[t];
                k++;
            }
        out[p] = mean ? (k ? s / (double)k : NAN) : s;
    }
}

static int
write_plot(pg_plot *p, const char *dir, const char *kind, const char *variant, pg_error *err)
{
    pgi_buf path = {0};
    pgi_buf_printf(&path, "%s/%s-%s.svg", dir, kind, variant);
    int rc = path.failed ? pg_error_set(err, PG_ENOMEM, "out of memory")
                         : pg_plot_write(p, path.data, err);
    pgi_buf_free(&path);
    return rc;
}

static int
plots_variant(const pg_community_report *r, const pg_community_variant *var, const agg *g,
              const char *dir, double *y, double *y2, pg_error *err)
{
    const pg_community_run *mk = var->has_market ? &var->market : &var->baseline;
    const pg_community_run *bs = &var->baseline;
    pg_plot *p = NULL;
    pg_plot_options po;
    pg_plot_options_init(&po);
    po.step = 1;
    const char *unit = g->per > 1 ? "kWh per day" : "kWh per interval";
    const char *xl = g->per > 1 ? "day of the run" : "hour of the run";
    int rc;
    char title[256];
    /* Energy flows */
    snprintf(title, sizeof title, "%s, %s: energy flows (%s)", r->scenario, var->name,
             var->has_market || strcmp(mk->mechanism, "none") != 0 ? mk->mechanism : "baseline");
    if ((rc = pg_plot_new(&p, title, xl, unit, &po, err)))
        return rc;
    const struct {
        const char *label;
        const double *v;
    } flows[] = {{"load", mk->load_kwh},
                 {"PV generated", mk->pv_kwh},
                 {"traded among peers", mk->volume_kwh},
                 {"bought from the grid", mk->grid_import_kwh},
                 {"sold to the grid", mk->grid_export_kwh},
                 {"unserved", mk->unserved_kwh}};
    for (size_t s = 0; s < sizeof flows / sizeof *flows; s++) {
        if ((!r->grid_connected && (s == 3 || s == 4)) ||
            (s == 5 && mk->total.unserved_kwh <= 0 && bs->total.unserved_kwh <= 0))
            continue;
        aggregate(g, flows[s].v, r->n_intervals, false, y);
        if ((rc = pg_plot_add_line(p, flows[s].label, g->x, y, g->n, NULL, err)))
            goto out;
    }
    if ((rc = write_plot(p, dir, "flows", var->name, err)))
        goto out;
    pg_plot_free(p);
    p = NULL;
    /* Clearing prices */
    snprintf(title, sizeof title, "%s, %s: peer clearing price", r->scenario, var->name);
    if ((rc = pg_plot_new(&p, title, xl, "$/kWh", &po, err)))
        goto out;
    aggregate(g, mk->price, r->n_intervals, true, y);
    if ((rc = pg_plot_add_line(p, "clearing price", g->x, y, g->n, NULL, err)))
        goto out;
    if ((rc = write_plot(p, dir, "prices", var->name, err)))
        goto out;
    pg_plot_free(p);
    p = NULL;
    /* Bills per node */
    snprintf(title, sizeof title, "%s, %s: bill of each node (net, $)", r->scenario, var->name);
    pg_plot_options bo = po;
    bo.y_from_zero = 1;
    if ((rc = pg_plot_new(&p, title, "node (index, see the report)", "$", &bo, err)))
        goto out;
    for (size_t i = 0; i < r->n_nodes; i++)
        y2[i] = (double)i;
    if (bs->node) {
        for (size_t i = 0; i < r->n_nodes; i++)
            y[i] = bs->node[i].bill;
        if ((rc = pg_plot_add_line(p, "baseline", y2, y, r->n_nodes, NULL, err)))
            goto out;
    }
    if (var->has_market) {
        for (size_t i = 0; i < r->n_nodes; i++)
            y[i] = mk->node[i].bill;
        if ((rc = pg_plot_add_line(p, "with the market", y2, y, r->n_nodes, NULL, err)))
            goto out;
    }
    rc = write_plot(p, dir, "bills", var->name, err);
out:
    pg_plot_free(p);
    return rc;
}

int
pg_community_write_plots(const pg_community_report *r, const char *dir, pg_error *err)
{
    agg g = {0};
    size_t ipd = (size_t)llround(24 / r->step_h);
    g.per = r->n_intervals > 14 * ipd ? (double)ipd : 1;
    g.n = (r->n_intervals + (size_t)g.per - 1) / (size_t)g.per;
    size_t cap = g.n > r->n_nodes ? g.n : r->n_nodes;
    double *y = malloc((cap + 1) * sizeof *y), *y2 = malloc((cap + 1) * sizeof *y2);
    g.x = malloc((g.n + 1) * sizeof *g.x);
    int rc = PG_OK;
    if (!y || !y2 || !g.x) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t p = 0; p < g.n; p++)
        g.x[p] = g.per > 1 ? (double)p : (double)p * r->step_h;
    for (size_t v = 0; v < r->n_variants && !rc; v++)
        rc = plots_variant(r, &r->variants[v], &g, dir, y, y2, err);
out:
    free(y);
    free(y2);
    free(g.x);
    return rc;
}
