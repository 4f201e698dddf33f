/* The resilience report of a scenario result (see scenario.h): metric summaries across runs and
 * per strategy profile, initial-condition group, agent behaviour and shock; effects ranked by how
 * much more resilient a group is than all runs together; findings in sentences; JSON and text
 * renderings (the JSON a jansson tree dumped by pgi_json_dumps: every number reads back exactly,
 * non-finite ones are null); SVG charts through plot.h.
 *
 * Effect of a group on the ranking metric m: (mean of m in the group - mean over all runs) / (sd
 * over all runs), signed so that positive means more resilient. For time to recover, a run that
 * did not recover counts as recovering just after the horizon (a censored value), so that
 * groups that fail to recover rank last rather than vanish from the comparison. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/json_write.h"
#include "core/util.h"
#include "scenario/internal.h"
#include "plurigrid/plot.h"

#define FORMAT "plurigrid-resilience-report/1"

typedef struct stats {
    size_t n;
    double mean, sd, p5, p25, p50, p75, p95;
} stats;

typedef struct group {
    const char *kind; /* "profile", "initial_conditions", "behaviour" */
    char name[160];
    size_t agent; /* behaviour: agent and action */
    size_t action;
    size_t runs;
    size_t measured; /* runs with a positive baseline, whose metrics exist */
    stats m[PGI_N_METRICS];
    double p_recover;
    double mean_level;   /* the indicator averaged over turns and runs (absolute, not a ratio) */
    double effect;       /* standardised, positive = more resilient */
    double ci_lo, ci_hi; /* 95% interval of the group mean of the ranking metric */
} group;

typedef struct report {
    const pg_scenario_result *r;
    const pg_scenario *sc;
    size_t rank;
    stats all[PGI_N_METRICS];
    double p_recover, p_disrupted;
    size_t measured; /* runs whose metrics could be measured */
    group *groups;
    size_t n_groups;
    double *band; /* 7 x (turns + 1): p5 p25 p50 p75 p95 mean, and turn */
} report;

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
quantile(const double *sorted, size_t n, double p)
{
    if (!n)
        return NAN;
    double h = p * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

/* Statistics of v[0..n-1], skipping NaN; v is sorted in place. */
static stats
describe(double *v, size_t n)
{
    stats s;
    memset(&s, 0, sizeof s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            v[k++] = v[i];
    s.n = k;
    if (!k) {
        s.mean = s.sd = s.p5 = s.p25 = s.p50 = s.p75 = s.p95 = NAN;
        return s;
    }
    double sum = 0;
    for (size_t i = 0; i < k; i++)
        sum += v[i];
    s.mean = sum / (double)k;
    double ss = 0;
    for (size_t i = 0; i < k; i++)
        ss += (v[i] - s.mean) * (v[i] - s.mean);
    s.sd = k > 1 ? sqrt(ss / (double)(k - 1)) : 0;
    qsort(v, k, sizeof *v, cmp_double);
    s.p5 = quantile(v, k, 0.05);
    s.p25 = quantile(v, k, 0.25);
    s.p50 = quantile(v, k, 0.50);
    s.p75 = quantile(v, k, 0.75);
    s.p95 = quantile(v, k, 0.95);
    return s;
}

/* The metric value used for ranking: time to recover is censored at the horizon. */
static double
rank_value(const pg_scenario_result *r, size_t run, size_t k)
{
    const pg_resilience *m = &r->metrics[run];
    double v = pgi_metric_value(m, k);
    if (k == 1 && isnan(v) && !isnan(m->baseline))
        v = (double)(r->turns + 1 - r->onset[run]);
    return v;
}

typedef int (*member_fn)(const report *rp, const group *g, size_t run);

static int
in_profile(const report *rp, const group *g, size_t run)
{
    return run % rp->sc->n_profiles == g->agent;
}

static int
in_group(const report *rp, const group *g, size_t run)
{
    return (run / rp->sc->n_profiles) % rp->sc->n_groups == g->agent;
}

static size_t
dominant_action(const pg_scenario_result *r, size_t run, size_t agent)
{
    const size_t *c = r->action_counts + run * r->total_actions + r->action_offset[agent];
    size_t best = 0;
    for (size_t a = 1; a < r->sc->agents[agent].n_actions; a++)
        if (c[a] > c[best])
            best = a;
    return best;
}

static int
in_behaviour(const report *rp, const group *g, size_t run)
{
    return dominant_action(rp->r, run, g->agent) == g->action;
}

static int
fill_group(report *rp, group *g, member_fn member, double *buf)
{
    const pg_scenario_result *r = rp->r;
    size_t n = 0, rec = 0, meas = 0;
    for (size_t k = 0; k < PGI_N_METRICS; k++) {
        n = 0;
        for (size_t run = 0; run < r->runs; run++)
            if (member(rp, g, run))
                buf[n++] = pgi_metric_value(&r->metrics[run], k);
        g->m[k] = describe(buf, n);
    }
    g->runs = n;
    for (size_t run = 0; run < r->runs; run++)
        if (member(rp, g, run) && !isnan(r->metrics[run].baseline)) {
            meas++;
            rec += r->metrics[run].recovered;
        }
    g->measured = meas;
    g->p_recover = meas ? (double)rec / (double)meas : NAN;
    double level = 0;
    const size_t T1 = r->turns + 1;
    for (size_t run = 0; run < r->runs; run++)
        if (member(rp, g, run))
            for (size_t t = 0; t < T1; t++)
                level += r->perf[run * T1 + t];
    g->mean_level = n ? level / (double)n / (double)T1 : NAN;
    /* effect on the ranking metric (censored time to recover) */
    size_t m = 0;
    for (size_t run = 0; run < r->runs; run++)
        if (member(rp, g, run))
            buf[m++] = rank_value(r, run, rp->rank);
    stats s = describe(buf, m);
    double all_n = 0, all_sum = 0, all_ss = 0;
    for (size_t run = 0; run < r->runs; run++) {
        double v = rank_value(r, run, rp->rank);
        if (!isnan(v)) {
            all_n++;
            all_sum += v;
        }
    }
    double all_mean = all_n ? all_sum / all_n : NAN;
    for (size_t run = 0; run < r->runs; run++) {
        double v = rank_value(r, run, rp->rank);
        if (!isnan(v))
            all_ss += (v - all_mean) * (v - all_mean);
    }
    double all_sd = all_n > 1 ? sqrt(all_ss / (all_n - 1)) : 0;
    double sign = pgi_metric_higher_is_better(rp->rank) ? 1.0 : -1.0;
    g->effect = (s.n && all_sd > 0) ? sign * (s.mean - all_mean) / all_sd : 0.0;
    double half = s.n > 1 ? 1.96 * s.sd / sqrt((double)s.n) : 0.0;
    g->ci_lo = s.mean - half;
    g->ci_hi = s.mean + half;
    return PG_OK;
}

static void
report_clear(report *rp)
{
    free(rp->groups);
    free(rp->band);
}

static int
report_build(report *rp, const pg_scenario_result *r, pg_error *err)
{
    memset(rp, 0, sizeof *rp);
    rp->r = r;
    rp->sc = r->sc;
    const pg_scenario *sc = r->sc;
    rp->rank = pgi_metric_index(sc->rank_by);
    if (rp->rank >= PGI_N_METRICS)
        rp->rank = 2;
    size_t nb = 0;
    for (size_t a = 0; a < sc->n_agents; a++)
        nb += sc->agents[a].n_actions;
    size_t ng = sc->n_profiles + sc->n_groups + nb;
    double *buf = malloc((r->runs ? r->runs : 1) * sizeof(double));
    rp->groups = calloc(ng, sizeof *rp->groups);
    rp->band = malloc(7 * (r->turns + 1) * sizeof(double));
    if (!buf || !rp->groups || !rp->band) {
        free(buf);
        report_clear(rp);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < PGI_N_METRICS; k++) {
        for (size_t run = 0; run < r->runs; run++)
            buf[run] = pgi_metric_value(&r->metrics[run], k);
        rp->all[k] = describe(buf, r->runs);
    }
    size_t rec = 0, dis = 0;
    for (size_t run = 0; run < r->runs; run++)
        if (!isnan(r->metrics[run].baseline)) {
            rp->measured++;
            rec += r->metrics[run].recovered;
            dis += r->metrics[run].disrupted;
        }
    rp->p_recover = rp->measured ? (double)rec / (double)rp->measured : NAN;
    rp->p_disrupted = rp->measured ? (double)dis / (double)rp->measured : NAN;
    for (size_t p = 0; p < sc->n_profiles; p++) {
        group *g = &rp->groups[rp->n_groups++];
        g->kind = "profile";
        g->agent = p;
        snprintf(g->name, sizeof g->name, "%s", sc->profiles[p].name);
        fill_group(rp, g, in_profile, buf);
    }
    for (size_t i = 0; i < sc->n_groups; i++) {
        group *g = &rp->groups[rp->n_groups++];
        g->kind = "initial_conditions";
        g->agent = i;
        snprintf(g->name, sizeof g->name, "%s", sc->groups[i].name);
        fill_group(rp, g, in_group, buf);
    }
    for (size_t a = 0; a < sc->n_agents; a++)
        for (size_t k = 0; k < sc->agents[a].n_actions; k++) {
            group g;
            memset(&g, 0, sizeof g);
            g.kind = "behaviour";
            g.agent = a;
            g.action = k;
            snprintf(g.name, sizeof g.name, "%s mostly %s", sc->agents[a].name,
                     sc->agents[a].actions[k].name);
            fill_group(rp, &g, in_behaviour, buf);
            if (g.runs)
                rp->groups[rp->n_groups++] = g;
        }
    /* percentile bands of performance per turn */
    const size_t T1 = r->turns + 1;
    for (size_t t = 0; t < T1; t++) {
        for (size_t run = 0; run < r->runs; run++)
            buf[run] = r->perf[run * T1 + t];
        stats s = describe(buf, r->runs);
        double *b = rp->band;
        b[0 * T1 + t] = s.p5;
        b[1 * T1 + t] = s.p25;
        b[2 * T1 + t] = s.p50;
        b[3 * T1 + t] = s.p75;
        b[4 * T1 + t] = s.p95;
        b[5 * T1 + t] = s.mean;
        b[6 * T1 + t] = (double)t;
    }
    free(buf);
    return PG_OK;
}

/* Groups of one kind, best first (stable on ties: file order). */
static size_t
ranked(const report *rp, const char *kind, const group **out)
{
    size_t n = 0;
    for (size_t i = 0; i < rp->n_groups; i++)
        if (strcmp(rp->groups[i].kind, kind) == 0)
            out[n++] = &rp->groups[i];
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && out[j]->effect > out[j - 1]->effect; j--) {
            const group *t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

/* Share of agent a's turns spent on action k in the runs of profile p. */
static double
profile_share(const pg_scenario_result *r, size_t p, size_t a, size_t k)
{
    const pg_scenario *sc = r->sc;
    size_t num = 0, den = 0;
    for (size_t run = p; run < r->runs; run += sc->n_profiles) {
        const size_t *c = r->action_counts + run * r->total_actions + r->action_offset[a];
        for (size_t j = 0; j < sc->agents[a].n_actions; j++)
            den += c[j];
        num += c[k];
    }
    return den ? (double)num / (double)den : 0.0;
}

/* A number for a table cell, or what its absence means: "never" for a time to recover when no
 * run recovered, "-" where nothing was measured. */
static const char *
cell(char *buf, size_t size, double v, int decimals, const char *unit, const char *missing)
{
    if (isnan(v))
        snprintf(buf, size, "%s", missing);
    else
        snprintf(buf, size, "%.*f%s", decimals, v, unit);
    return buf;
}

/* ---------------------------------------------------------------- findings */

/* Sentences that name what makes the system resilient, as a JSON array of strings (the text
 * report lists the same sentences). NULL when memory runs out. */
static json_t *
findings(const report *rp)
{
    const pg_scenario *sc = rp->sc;
    const pg_scenario_result *r = rp->r;
    const char *rank = pgi_metric_names[rp->rank];
    const char *ind = pgi_sc_quantity_name(sc, sc->perf_q);
    json_t *list = json_array();
    const group **g = malloc((rp->n_groups ? rp->n_groups : 1) * sizeof *g);
    pgi_buf s = {0};
    bool ok = list && g;
#define EMIT()                                                                                     \
    do {                                                                                           \
        ok = ok && !s.failed && s.data && json_array_append_new(list, json_string(s.data)) == 0;   \
        s.len = 0;                                                                                 \
        if (s.data)                                                                                \
            s.data[0] = 0;                                                                         \
    } while (0)
    if (!ok)
        goto out;
    if (!rp->measured) {
        pgi_buf_printf(&s,
                       "No run could be measured: %s was not positive before the disruption in "
                       "any of the %zu runs, and the resilience metrics are ratios to that "
                       "baseline (give the indicator an offset that makes it positive).",
                       ind, r->runs);
        EMIT();
        goto out;
    }
    pgi_buf_printf(&s,
                   "Over %zu runs of %zu turns, %s fell below %.0f%% of its baseline in %.1f%% of "
                   "runs and was back within the horizon in %.1f%% of all runs; mean robustness "
                   "%.3f, mean loss area %.3f, ",
                   rp->measured, r->turns, ind, 100 * sc->res.recovery_threshold,
                   100 * rp->p_disrupted, 100 * rp->p_recover, rp->all[0].mean, rp->all[2].mean);
    if (rp->all[1].n)
        pgi_buf_printf(&s, "median time to recover %.1f turns over the %zu run%s that recovered.",
                       rp->all[1].p50, rp->all[1].n, rp->all[1].n == 1 ? "" : "s");
    else
        pgi_buf_puts(&s, "no run recovered.");
    EMIT();
    if (rp->measured < r->runs) {
        pgi_buf_printf(&s,
                       "%zu of the %zu runs could not be measured: %s was not positive before "
                       "the disruption, and the resilience metrics are ratios to that baseline.",
                       r->runs - rp->measured, r->runs, ind);
        EMIT();
    }
    static const char *const kinds[2][2] = {{"profile", "strategy profile"},
                                            {"initial_conditions", "initial conditions"}};
    for (int k = 0; k < 2; k++) {
        /* groups with measured runs only: an empty group has nothing to compare */
        size_t n = ranked(rp, kinds[k][0], g), kept = 0;
        for (size_t i = 0; i < n; i++)
            if (g[i]->measured)
                g[kept++] = g[i];
        if (kept > 1) {
            char best[32], worst[32];
            pgi_buf_printf(&s,
                           "Most resilient %s: %s (mean %s %s, recovered %.1f%%); least: %s "
                           "(mean %s %s, recovered %.1f%%).",
                           kinds[k][1], g[0]->name, rank,
                           cell(best, sizeof best, g[0]->m[rp->rank].mean, 3, "",
                                rp->rank == 1 ? "never" : "-"),
                           100 * g[0]->p_recover, g[kept - 1]->name, rank,
                           cell(worst, sizeof worst, g[kept - 1]->m[rp->rank].mean, 3, "",
                                rp->rank == 1 ? "never" : "-"),
                           100 * g[kept - 1]->p_recover);
            EMIT();
        }
    }
    size_t n;
    n = ranked(rp, "behaviour", g);
    /* behaviours shared by fewer than 2% of runs say little */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (g[i]->runs * 50 >= r->runs)
            g[kept++] = g[i];
    if (kept > 1) {
        pgi_buf_printf(&s,
                       "Agent behaviour most associated with resilience: %s (%zu runs, effect "
                       "%+.2f sd on %s); least: %s (%zu runs, effect %+.2f sd).",
                       g[0]->name, g[0]->runs, g[0]->effect, rank, g[kept - 1]->name,
                       g[kept - 1]->runs, g[kept - 1]->effect);
        EMIT();
    }
    for (size_t k = 0; k < sc->n_shocks; k++) {
        double sum_hit = 0, sum_miss = 0;
        size_t hit = 0, miss = 0;
        for (size_t run = 0; run < r->runs; run++) {
            double v = rank_value(r, run, rp->rank);
            if (isnan(v))
                continue;
            if (r->shocked[run * sc->n_shocks + k]) {
                sum_hit += v;
                hit++;
            } else {
                sum_miss += v;
                miss++;
            }
        }
        if (hit && miss) {
            pgi_buf_printf(&s,
                           "Shock %s struck in %zu runs: mean %s %.3f when it struck, %.3f "
                           "when it did not.",
                           sc->shocks[k].name, hit, rank, sum_hit / (double)hit,
                           sum_miss / (double)miss);
            EMIT();
        } else if (hit) {
            pgi_buf_printf(&s, "Shock %s struck in every run.", sc->shocks[k].name);
            EMIT();
        }
    }
#undef EMIT
out:
    pgi_buf_free(&s);
    free(g);
    if (!ok) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* ---------------------------------------------------------------- JSON */

/* Sets obj[key] = v, taking v. False when either is NULL (out of memory), so that a report
 * fails as a whole rather than with a member missing. */
static bool
put(json_t *obj, const char *key, json_t *v)
{
    if (!obj || !v) {
        json_decref(v);
        return false;
    }
    return json_object_set_new(obj, key, v) == 0;
}

static json_t *
str(const char *s)
{
    return json_string(s ? s : "");
}

static json_t *
json_stats(const stats *s)
{
    json_t *o = json_object();
    bool ok = put(o, "n", json_integer((json_int_t)s->n)) &&
              put(o, "mean", pgi_json_num(s->mean)) && put(o, "sd", pgi_json_num(s->sd)) &&
              put(o, "p5", pgi_json_num(s->p5)) && put(o, "p25", pgi_json_num(s->p25)) &&
              put(o, "p50", pgi_json_num(s->p50)) && put(o, "p75", pgi_json_num(s->p75)) &&
              put(o, "p95", pgi_json_num(s->p95));
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *
json_metrics(const stats *m)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    for (size_t k = 0; k < PGI_N_METRICS && ok; k++)
        ok = put(o, pgi_metric_names[k], json_stats(&m[k]));
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *
json_groups(const report *rp, const char *kind)
{
    const group **g = malloc((rp->n_groups ? rp->n_groups : 1) * sizeof *g);
    json_t *arr = json_array();
    bool ok = g && arr;
    size_t n = ok ? ranked(rp, kind, g) : 0;
    char ci[64];
    snprintf(ci, sizeof ci, "%s_ci95", pgi_metric_names[rp->rank]);
    for (size_t i = 0; i < n && ok; i++) {
        json_t *o = json_object();
        ok = put(o, "rank", json_integer((json_int_t)(i + 1))) && put(o, "name", str(g[i]->name));
        if (ok && strcmp(kind, "behaviour") == 0) {
            const sc_agent *ag = &rp->sc->agents[g[i]->agent];
            ok = put(o, "agent", str(ag->name)) &&
                 put(o, "action", str(ag->actions[g[i]->action].name));
        }
        ok =
            ok && put(o, "runs", json_integer((json_int_t)g[i]->runs)) &&
            put(o, "effect", pgi_json_num(g[i]->effect)) &&
            put(o, ci, json_pack("[o, o]", pgi_json_num(g[i]->ci_lo), pgi_json_num(g[i]->ci_hi))) &&
            put(o, "p_recover", pgi_json_num(g[i]->p_recover)) &&
            put(o, "mean_indicator", pgi_json_num(g[i]->mean_level)) &&
            put(o, "metrics", json_metrics(g[i]->m));
        ok = ok && json_array_append_new(arr, o) == 0;
        if (!ok)
            json_decref(o);
    }
    free(g);
    if (!ok) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static json_t *
json_actions(const report *rp)
{
    const pg_scenario *sc = rp->sc;
    const pg_scenario_result *r = rp->r;
    json_t *arr = json_array();
    bool ok = arr != NULL;
    for (size_t a = 0; a < sc->n_agents && ok; a++) {
        const sc_agent *ag = &sc->agents[a];
        json_t *o = json_object(), *shares = json_object(), *by = json_object();
        double total = 0;
        for (size_t k = 0; k < ag->n_actions; k++)
            for (size_t t = 0; t < r->turns; t++)
                total += r->action_share[t * r->total_actions + r->action_offset[a] + k];
        ok = o && shares && by;
        for (size_t k = 0; k < ag->n_actions && ok; k++) {
            double sum = 0;
            for (size_t t = 0; t < r->turns; t++)
                sum += r->action_share[t * r->total_actions + r->action_offset[a] + k];
            ok = put(shares, ag->actions[k].name, pgi_json_num(total > 0 ? sum / total : 0));
        }
        for (size_t p = 0; p < sc->n_profiles && ok; p++) {
            json_t *one = json_object();
            ok = one != NULL;
            for (size_t k = 0; k < ag->n_actions && ok; k++)
                ok = put(one, ag->actions[k].name, pgi_json_num(profile_share(r, p, a, k)));
            ok = ok ? put(by, sc->profiles[p].name, one) : (json_decref(one), false);
        }
        ok = ok && put(o, "agent", str(ag->name)) && put(o, "shares", json_incref(shares)) &&
             put(o, "by_profile", json_incref(by)) && json_array_append_new(arr, o) == 0;
        json_decref(shares);
        json_decref(by);
        if (!ok)
            json_decref(o);
    }
    if (!ok) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static json_t *
report_tree(const report *rp)
{
    const pg_scenario_result *r = rp->r;
    const pg_scenario *sc = rp->sc;
    json_t *root = json_object();
    bool ok = put(root, "format", json_string(FORMAT)) && put(root, "scenario", str(sc->name)) &&
              put(root, "description", str(sc->description)) &&
              put(root, "runs", json_integer((json_int_t)r->runs)) &&
              put(root, "turns", json_integer((json_int_t)r->turns)) &&
              put(root, "seed", json_integer((json_int_t)r->seed)) &&
              put(root, "indicator", str(pgi_sc_quantity_name(sc, sc->perf_q))) &&
              put(root, "recovery_threshold", pgi_json_num(sc->res.recovery_threshold)) &&
              put(root, "baseline_window", json_integer((json_int_t)sc->res.baseline_window)) &&
              put(root, "rank_by", json_string(pgi_metric_names[rp->rank]));
    json_t *as = json_array();
    ok = ok && as;
    for (size_t i = 0; i < sc->n_assumptions && ok; i++)
        ok = json_array_append_new(as, str(sc->assumptions[i])) == 0;
    ok = ok ? put(root, "assumptions", as) : (json_decref(as), false);
    ok = ok && put(root, "findings", findings(rp));
    json_t *sum = json_object();
    ok = ok && put(sum, "runs_measured", json_integer((json_int_t)rp->measured)) &&
         put(sum, "p_disrupted", pgi_json_num(rp->p_disrupted)) &&
         put(sum, "p_recover", pgi_json_num(rp->p_recover)) &&
         put(sum, "metrics", json_metrics(rp->all));
    ok = ok ? put(root, "summary", sum) : (json_decref(sum), false);
    ok = ok && put(root, "profiles", json_groups(rp, "profile")) &&
         put(root, "initial_conditions", json_groups(rp, "initial_conditions")) &&
         put(root, "behaviours", json_groups(rp, "behaviour"));
    json_t *shocks = json_array();
    ok = ok && shocks;
    for (size_t k = 0; k < sc->n_shocks && ok; k++) {
        size_t hit = 0;
        for (size_t run = 0; run < r->runs; run++)
            hit += r->shocked[run * sc->n_shocks + k];
        ok = json_array_append_new(shocks, json_pack("{s:o, s:I}", "name", str(sc->shocks[k].name),
                                                     "runs_struck", (json_int_t)hit)) == 0;
    }
    ok = ok ? put(root, "shocks", shocks) : (json_decref(shocks), false);
    json_t *negs = json_array();
    ok = ok && negs;
    for (size_t i = 0; i < sc->n_negs && ok; i++) {
        size_t prop = 0, agr = 0;
        for (size_t run = 0; run < r->runs; run++) {
            prop += r->proposals[run * sc->n_negs + i];
            agr += r->agreements[run * sc->n_negs + i];
        }
        ok = json_array_append_new(
                 negs,
                 json_pack("{s:o, s:o, s:o}", "name", str(sc->negs[i].name), "proposals_per_run",
                           pgi_json_num((double)prop / (double)r->runs), "agreement_rate",
                           pgi_json_num(prop ? (double)agr / (double)prop : NAN))) == 0;
    }
    ok = ok ? put(root, "negotiations", negs) : (json_decref(negs), false);
    ok = ok && put(root, "actions", json_actions(rp));
    json_t *perf = json_object();
    ok = ok && perf;
    static const char *const bn[6] = {"p5", "p25", "p50", "p75", "p95", "mean"};
    const size_t T1 = r->turns + 1;
    for (int i = 0; i < 6 && ok; i++) {
        json_t *a = json_array();
        ok = a != NULL;
        for (size_t t = 0; t < T1 && ok; t++)
            ok = json_array_append_new(a, pgi_json_num(rp->band[i * T1 + t])) == 0;
        ok = ok ? put(perf, bn[i], a) : (json_decref(a), false);
    }
    ok = ok ? put(root, "performance", perf) : (json_decref(perf), false);
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int
pg_scenario_report_json(const pg_scenario_result *r, char **out, pg_error *err)
{
    if (!r || !out)
        return pg_error_set(err, PG_EINVAL, "pg_scenario_report_json: result or out is NULL");
    report rp;
    int rc = report_build(&rp, r, err);
    if (rc)
        return rc;
    json_t *root = report_tree(&rp);
    char *text = root ? pgi_json_dumps(root, JSON_INDENT(2)) : NULL;
    json_decref(root);
    report_clear(&rp);
    if (!text)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    *out = text;
    return PG_OK;
}

/* ---------------------------------------------------------------- text */

static void
text_groups(pgi_buf *b, const report *rp, const char *kind, const char *title)
{
    const group **g = malloc((rp->n_groups ? rp->n_groups : 1) * sizeof *g);
    if (!g) {
        b->failed = 1;
        return;
    }
    size_t n = ranked(rp, kind, g);
    if (n) {
        pgi_buf_printf(b, "\n%s (best first, by %s)\n", title, pgi_metric_names[rp->rank]);
        pgi_buf_printf(b, "  %-4s %-34s %6s %8s %10s %10s %9s %10s %10s\n", "rank", "name", "runs",
                       "effect", "robustness", "loss_area", "recovered", "ttr_median",
                       "mean_level");
        for (size_t i = 0; i < n; i++) {
            char c[5][32];
            cell(c[0], sizeof c[0], g[i]->m[0].mean, 3, "", "-");
            cell(c[1], sizeof c[1], g[i]->m[2].mean, 3, "", "-");
            cell(c[2], sizeof c[2], 100 * g[i]->p_recover, 1, "%", "-");
            cell(c[3], sizeof c[3], g[i]->m[1].p50, 1, "", g[i]->measured ? "never" : "-");
            cell(c[4], sizeof c[4], g[i]->mean_level, 3, "", "-");
            pgi_buf_printf(b, "  %-4zu %-34.34s %6zu %+8.2f %10s %10s %9s %10s %10s\n", i + 1,
                           g[i]->name, g[i]->runs, g[i]->effect, c[0], c[1], c[2], c[3], c[4]);
        }
    }
    free(g);
}

int
pg_scenario_report_text(const pg_scenario_result *r, char **out, pg_error *err)
{
    if (!r || !out)
        return pg_error_set(err, PG_EINVAL, "pg_scenario_report_text: result or out is NULL");
    report rp;
    int rc = report_build(&rp, r, err);
    if (rc)
        return rc;
    const pg_scenario *sc = r->sc;
    pgi_buf b = {0};
    pgi_buf_printf(&b, "Resilience report: %s\n", sc->name);
    pgi_buf_printf(&b,
                   "%zu runs x %zu turns, seed %llu; indicator %s, recovery at %.0f%% of "
                   "the baseline\n",
                   r->runs, r->turns, (unsigned long long)r->seed,
                   pgi_sc_quantity_name(sc, sc->perf_q), 100 * sc->res.recovery_threshold);
    pgi_buf_puts(&b, "\nFindings\n");
    json_t *f = findings(&rp);
    if (!f)
        b.failed = 1;
    for (size_t i = 0; i < json_array_size(f); i++)
        pgi_buf_printf(&b, "- %s\n", json_string_value(json_array_get(f, i)));
    json_decref(f);
    pgi_buf_puts(&b, "\nMetrics over all runs\n");
    pgi_buf_printf(&b, "  %-16s %10s %10s %10s %10s %10s %8s\n", "metric", "mean", "p5", "p50",
                   "p95", "sd", "n");
    for (size_t k = 0; k < PGI_N_METRICS; k++) {
        const stats *s = &rp.all[k];
        /* no value of a time to recover among measured runs: none recovered */
        const char *none = (k == 1 && rp.measured) ? "never" : "-";
        char c[5][32];
        pgi_buf_printf(&b, "  %-16s %10s %10s %10s %10s %10s %8zu\n", pgi_metric_names[k],
                       cell(c[0], sizeof c[0], s->mean, 4, "", none),
                       cell(c[1], sizeof c[1], s->p5, 4, "", none),
                       cell(c[2], sizeof c[2], s->p50, 4, "", none),
                       cell(c[3], sizeof c[3], s->p95, 4, "", none),
                       cell(c[4], sizeof c[4], s->sd, 4, "", none), s->n);
    }
    text_groups(&b, &rp, "profile", "Strategy profiles");
    text_groups(&b, &rp, "initial_conditions", "Initial conditions");
    text_groups(&b, &rp, "behaviour", "Agent behaviours (the action an agent took most in a run)");
    pgi_buf_puts(&b, "\nActions by strategy profile (share of turns)\n");
    for (size_t p = 0; p < sc->n_profiles; p++) {
        pgi_buf_printf(&b, "  %s\n", sc->profiles[p].name);
        for (size_t a = 0; a < sc->n_agents; a++) {
            pgi_buf_printf(&b, "    %-8s %-17s", sc->agents[a].name,
                           pgi_sc_strategy_kind_name(sc->profiles[p].strategy[a].kind));
            for (size_t k = 0; k < sc->agents[a].n_actions; k++)
                pgi_buf_printf(&b, " %s %.2f", sc->agents[a].actions[k].name,
                               profile_share(r, p, a, k));
            pgi_buf_puts(&b, "\n");
        }
    }
    if (sc->n_negs) {
        pgi_buf_puts(&b, "\nNegotiations\n");
        for (size_t i = 0; i < sc->n_negs; i++) {
            size_t prop = 0, agr = 0;
            for (size_t run = 0; run < r->runs; run++) {
                prop += r->proposals[run * sc->n_negs + i];
                agr += r->agreements[run * sc->n_negs + i];
            }
            pgi_buf_printf(&b, "  %-30s %.2f proposals per run, %.1f%% agreed\n", sc->negs[i].name,
                           (double)prop / (double)r->runs,
                           prop ? 100.0 * (double)agr / (double)prop : 0.0);
        }
    }
    if (sc->n_assumptions) {
        pgi_buf_puts(&b, "\nAssumptions of the scenario\n");
        for (size_t i = 0; i < sc->n_assumptions; i++)
            pgi_buf_printf(&b, "- %s\n", sc->assumptions[i]);
    }
    report_clear(&rp);
    if (b.failed) {
        pgi_buf_free(&b);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    *out = b.data;
    return PG_OK;
}

/* ---------------------------------------------------------------- plots */

static void
safe_name(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < size; i++) {
        char c = src[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_';
        dst[i] = ok ? c : '_';
    }
    dst[i] = '\0';
}

/* Where the charts go: files in a folder (pg_scenario_write_plots) or SVG texts in memory
 * (pg_scenario_plots_svg). emit takes the plot p, named by its file name, and frees it. */
typedef struct plot_sink {
    int (*emit)(struct plot_sink *s, pg_plot *p, const char *name, pg_error *err);
    const char *dir; /* files */
    char **names;    /* memory: n charts so far, room for cap */
    char **svgs;
    size_t n, cap;
} plot_sink;

static int
write_plot(plot_sink *s, pg_plot *p, const char *name, pg_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    int rc = pg_plot_write(p, path, err);
    pg_plot_free(p);
    return rc;
}

static int
keep_plot(plot_sink *s, pg_plot *p, const char *name, pg_error *err)
{
    char *svg = NULL, *copy = NULL;
    size_t len = 0;
    int rc = pg_plot_render(p, &svg, &len, err);
    pg_plot_free(p);
    if (rc)
        return rc;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        char **a = realloc(s->names, cap * sizeof *a);
        if (a)
            s->names = a;
        char **b = a ? realloc(s->svgs, cap * sizeof *b) : NULL;
        if (b)
            s->svgs = b;
        if (!a || !b) {
            free(svg);
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        }
        s->cap = cap;
    }
    if (!(copy = pgi_strdup(name))) {
        free(svg);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    s->names[s->n] = copy;
    s->svgs[s->n++] = svg;
    return PG_OK;
}

/* Median performance per turn of the runs that member() selects. */
static int
median_line(const report *rp, member_fn member, const group *g, double *out, double *buf)
{
    const pg_scenario_result *r = rp->r;
    const size_t T1 = r->turns + 1;
    for (size_t t = 0; t < T1; t++) {
        size_t n = 0;
        for (size_t run = 0; run < r->runs; run++)
            if (member(rp, g, run))
                buf[n++] = r->perf[run * T1 + t];
        stats s = describe(buf, n);
        out[t] = s.p50;
    }
    return PG_OK;
}

/* Builds every chart of r and hands each to sink, in the order pg_scenario_write_plots lists. */
static int
make_plots(const pg_scenario_result *r, plot_sink *sink, pg_error *err)
{
    report rp;
    int rc = report_build(&rp, r, err);
    if (rc)
        return rc;
    const pg_scenario *sc = r->sc;
    const size_t T1 = r->turns + 1;
    const double *x = rp.band + 6 * T1;
    const char *ind = pgi_sc_quantity_name(sc, sc->perf_q);
    double *line = malloc(T1 * sizeof(double)), *buf = malloc((r->runs + 1) * sizeof(double));
    pg_plot *p = NULL;
    char title[512];
    if (!line || !buf) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    pg_plot_options po;
    pg_plot_options_init(&po);
    po.y_from_zero = 0;

    snprintf(title, sizeof title, "%s: %s over %zu runs", sc->name, ind, r->runs);
    if ((rc = pg_plot_new(&p, title, "turn", ind, &po, err)) ||
        (rc = pg_plot_add_band(p, "5-95th percentile", x, rp.band, rp.band + 4 * T1, T1, "#c6dbef",
                               err)) ||
        (rc = pg_plot_add_band(p, "25-75th percentile", x, rp.band + T1, rp.band + 3 * T1, T1,
                               "#6baed6", err)) ||
        (rc = pg_plot_add_line(p, "median", x, rp.band + 2 * T1, T1, "#08306b", err)) ||
        (rc = pg_plot_add_dashed(p, "mean", x, rp.band + 5 * T1, T1, "#e15759", err)))
        goto out;
    rc = sink->emit(sink, p, "performance.svg", err);
    p = NULL;
    if (rc)
        goto out;

    /* the median of each strategy profile, then of each group of initial conditions */
    static const struct {
        const char *kind, *by, *file;
        member_fn member;
    } splits[] = {
        {"profile", "strategy profile", "performance_by_profile.svg", in_profile},
        {"initial_conditions", "initial conditions", "performance_by_group.svg", in_group},
    };
    for (size_t k = 0; k < 2; k++) {
        snprintf(title, sizeof title, "%s: median %s by %s", sc->name, ind, splits[k].by);
        if ((rc = pg_plot_new(&p, title, "turn", ind, &po, err)))
            goto out;
        for (size_t i = 0; i < rp.n_groups; i++) {
            const group *g = &rp.groups[i];
            if (strcmp(g->kind, splits[k].kind) != 0)
                continue;
            median_line(&rp, splits[k].member, g, line, buf);
            if ((rc = pg_plot_add_line(p, g->name, x, line, T1, NULL, err)))
                goto out;
        }
        rc = sink->emit(sink, p, splits[k].file, err);
        p = NULL;
        if (rc)
            goto out;
    }

    snprintf(title, sizeof title, "%s: mean of each state variable", sc->name);
    if ((rc = pg_plot_new(&p, title, "turn", "value", &po, err)))
        goto out;
    for (size_t v = 0; v < sc->n_vars; v++) {
        for (size_t t = 0; t < T1; t++)
            line[t] = r->var_sum[t * sc->n_vars + v] / (double)r->runs;
        if ((rc = pg_plot_add_line(p, sc->vars[v].name, x, line, T1, NULL, err)))
            goto out;
    }
    rc = sink->emit(sink, p, "variables.svg", err);
    p = NULL;
    if (rc)
        goto out;

    pg_plot_options so;
    pg_plot_options_init(&so);
    so.step = 1;
    for (size_t a = 0; a < sc->n_agents; a++) {
        snprintf(title, sizeof title, "%s: actions of %s (share of runs)", sc->name,
                 sc->agents[a].name);
        if ((rc = pg_plot_new(&p, title, "turn", "share of runs", &so, err)))
            goto out;
        for (size_t k = 0; k < sc->agents[a].n_actions; k++) {
            for (size_t t = 0; t < r->turns; t++)
                line[t] = r->action_share[t * r->total_actions + r->action_offset[a] + k];
            if ((rc = pg_plot_add_stack(p, sc->agents[a].actions[k].name, x + 1, line, r->turns,
                                        NULL, err)))
                goto out;
        }
        char name[200], file[220];
        safe_name(name, sizeof name, sc->agents[a].name);
        snprintf(file, sizeof file, "actions_%s.svg", name);
        rc = sink->emit(sink, p, file, err);
        p = NULL;
        if (rc)
            goto out;
    }
out:
    pg_plot_free(p);
    free(line);
    free(buf);
    report_clear(&rp);
    return rc;
}

int
pg_scenario_write_plots(const pg_scenario_result *r, const char *dir, pg_error *err)
{
    if (!r || !dir)
        return pg_error_set(err, PG_EINVAL, "pg_scenario_write_plots: result or dir is NULL");
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return pg_error_set(err, PG_EIO, "'%s' is not a directory", dir);
    plot_sink sink = {.emit = write_plot, .dir = dir};
    return make_plots(r, &sink, err);
}

int
pg_scenario_plots_svg(const pg_scenario_result *r, char ***names, char ***svgs, size_t *n,
                      pg_error *err)
{
    if (!r || !names || !svgs || !n)
        return pg_error_set(err, PG_EINVAL, "pg_scenario_plots_svg: NULL argument");
    plot_sink sink = {.emit = keep_plot};
    int rc = make_plots(r, &sink, err);
    if (rc) {
        pg_scenario_plots_free(sink.names, sink.svgs, sink.n);
        return rc;
    }
    *names = sink.names;
    *svgs = sink.svgs;
    *n = sink.n;
    return PG_OK;
}

void
pg_scenario_plots_free(char **names, char **svgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names ? names[i] : NULL);
        free(svgs ? svgs[i] : NULL);
    }
    free(names);
    free(svgs);
}
