/* The metrics of a run (docs/community.md, "Metrics"): the ratios of every node and of the
 * community, and the demand response delivered, measured against two baselines: the CAISO-style
 * 10-of-10 baseline (each event interval's net import against the mean of the same interval of
 * the day on the 10 most recent earlier days of the same kind, weekday or weekend, on which the
 * node had no event) and, when the scenario asks for it, the same run played without the events
 * (the counterfactual). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "community/internal.h"

#define BASELINE_DAYS 10

size_t
pgi_community_day_of(const pg_community *c, size_t t, int *weekday)
{
    double h = c->start_hour + (double)(c->first + t) * c->step_h;
    size_t day = (size_t)floor(h / 24 + 1e-9);
    if (weekday) {
        int64_t d = c->start_civil_day + (int64_t)day;
        *weekday = (int)(((d % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday: 0 Monday */
    }
    return day;
}

static double
ratio_or_nan(double num, double den)
{
    return den > 0 ? num / den : NAN;
}

static void
finish_one(pg_community_metrics *m, bool offgrid)
{
    m->bill += m->rental_paid - m->rental_received;
    m->revenue = m->peer_received + m->grid_received + m->rental_received;
    m->self_sufficiency = offgrid ? 1 - ratio_or_nan(m->unserved_kwh, m->load_kwh)
                                  : 1 - ratio_or_nan(m->grid_import_kwh, m->load_kwh);
    double used = m->pv_kwh - m->pv_spilled_kwh - m->grid_export_kwh;
    double r = ratio_or_nan(used, m->pv_kwh);
    m->local_pv_use = isnan(r) ? r : r < 0 ? 0 : r > 1 ? 1 : r;
}

void
pgi_community_finish_metrics(pg_community_run *run, bool offgrid)
{
    pg_community_metrics *tot = &run->total;
    double peak = tot->peak_import_kw;
    memset(tot, 0, sizeof *tot);
    tot->dr_delivered_kwh = tot->dr_delivered_cf_kwh = tot->dr_event_kwh = NAN;
    for (size_t i = 0; i < run->n_nodes; i++) {
        pg_community_metrics *m = &run->node[i];
        finish_one(m, offgrid);
        tot->load_kwh += m->load_kwh;
        tot->pv_kwh += m->pv_kwh;
        tot->pv_spilled_kwh += m->pv_spilled_kwh;
        tot->import_kwh += m->import_kwh;
        tot->export_kwh += m->export_kwh;
        tot->peer_bought_kwh += m->peer_bought_kwh;
        tot->peer_sold_kwh += m->peer_sold_kwh;
        tot->peer_paid += m->peer_paid;
        tot->peer_received += m->peer_received;
        tot->grid_import_kwh += m->grid_import_kwh;
        tot->grid_export_kwh += m->grid_export_kwh;
        tot->grid_paid += m->grid_paid;
        tot->grid_received += m->grid_received;
        tot->bill += m->bill; /* rentals cancel out in the community */
        tot->battery_in_kwh += m->battery_in_kwh;
        tot->battery_out_kwh += m->battery_out_kwh;
        tot->unserved_kwh += m->unserved_kwh;
        tot->ev_short_kwh += m->ev_short_kwh;
        tot->comfort_dev_ch += m->comfort_dev_ch;
        tot->rental_paid += m->rental_paid;
        tot->rental_received += m->rental_received;
        tot->no_bids += m->no_bids;
        /* DR: the sum over the nodes that have a figure */
        if (!isnan(m->dr_delivered_kwh))
            tot->dr_delivered_kwh =
                (isnan(tot->dr_delivered_kwh) ? 0 : tot->dr_delivered_kwh) + m->dr_delivered_kwh;
        if (!isnan(m->dr_delivered_cf_kwh))
            tot->dr_delivered_cf_kwh =
                (isnan(tot->dr_delivered_cf_kwh) ? 0 : tot->dr_delivered_cf_kwh) +
                m->dr_delivered_cf_kwh;
        if (!isnan(m->dr_event_kwh))
            tot->dr_event_kwh =
                (isnan(tot->dr_event_kwh) ? 0 : tot->dr_event_kwh) + m->dr_event_kwh;
    }
    tot->rentals = run->share_rented;
    /* The community's revenue is what came from outside and from peers, as for a node. */
    tot->revenue = tot->peer_received + tot->grid_received + tot->rental_received;
    tot->self_sufficiency = offgrid ? 1 - ratio_or_nan(tot->unserved_kwh, tot->load_kwh)
                                    : 1 - ratio_or_nan(tot->grid_import_kwh, tot->load_kwh);
    double used = tot->pv_kwh - tot->pv_spilled_kwh - tot->grid_export_kwh;
    double r = ratio_or_nan(used, tot->pv_kwh);
    tot->local_pv_use = isnan(r) ? r : r < 0 ? 0 : r > 1 ? 1 : r;
    tot->peak_import_kw = peak;
}

/* Whether run interval t lies (in part) in an effective event that targets node i. */
static bool
in_event(const pg_community *c, size_t i, size_t t)
{
    double a = (double)t * c->step_h, b = a + c->step_h;
    for (size_t k = 0; k < c->n_events; k++) {
        const cm_event *ev = &c->events[k];
        if (!ev->effective)
            continue;
        if (!(ev->e.start_h < b - 1e-9 && ev->e.start_h + ev->e.duration_h > a + 1e-9))
            continue;
        if (ev->n_targets == UINT32_MAX)
            return true;
        for (uint32_t j = 0; j < ev->n_targets; j++)
            if (ev->targets[j] == i)
                return true;
    }
    return false;
}

void
pgi_community_dr_metrics(const pg_community *c, const cm_trace *t, const cm_trace *cf,
                         pg_community_run *run)
{
    size_t n = c->n, nn = c->n_nodes;
    size_t ipd = (size_t)llround(24 / c->step_h);
    size_t n_days = pgi_community_day_of(c, n - 1, NULL) + 1;
    size_t day0 = pgi_community_day_of(c, 0, NULL);
    unsigned char *event_day = calloc(n_days + 1, 1);
    unsigned char *ev = calloc(n + 1, 1);
    for (size_t i = 0; i < nn; i++) {
        pg_community_metrics *m = &run->node[i];
        m->dr_delivered_kwh = m->dr_delivered_cf_kwh = m->dr_event_kwh = NAN;
        if (!event_day || !ev)
            continue;
        memset(event_day, 0, n_days + 1);
        bool any = false;
        for (size_t k = 0; k < n; k++) {
            ev[k] = in_event(c, i, k);
            if (ev[k]) {
                event_day[pgi_community_day_of(c, k, NULL) - day0] = 1;
                any = true;
            }
        }
        if (!any)
            continue;
        const double *net = t->net + i * n;
        double delivered = 0, during = 0, dcf = 0;
        bool have_base = false;
        for (size_t k = 0; k < n; k++) {
            if (!ev[k])
                continue;
            during += net[k];
            if (cf)
                dcf += cf->net[i * n + k] - net[k];
            int wd;
            size_t d = pgi_community_day_of(c, k, &wd) - day0;
            bool weekend = wd >= 5;
            double sum = 0;
            size_t got = 0;
            for (size_t back = 1; back <= d && got < BASELINE_DAYS; back++) {
                if (k < back * ipd)
                    break;
                size_t k2 = k - back * ipd;
                int wd2;
                size_t d2 = pgi_community_day_of(c, k2, &wd2) - day0;
                if (event_day[d2] || (wd2 >= 5) != weekend)
                    continue;
                sum += net[k2];
                got++;
            }
            if (got) {
                delivered += sum / (double)got - net[k];
                have_base = true;
            }
        }
        m->dr_event_kwh = during;
        m->dr_delivered_kwh = have_base ? delivered : NAN;
        m->dr_delivered_cf_kwh = cf ? dcf : NAN;
    }
    free(event_day);
    free(ev);
}

void
pgi_community_finish_run(const pg_community *c, cm_trace *t, const cm_trace *cf)
{
    if (c->n_events)
        pgi_community_dr_metrics(c, t, cf, &t->run);
    else
        for (size_t i = 0; i < c->n_nodes; i++)
            t->run.node[i].dr_delivered_kwh = t->run.node[i].dr_delivered_cf_kwh =
                t->run.node[i].dr_event_kwh = NAN;
    pgi_community_finish_metrics(&t->run, !c->connected);
}
