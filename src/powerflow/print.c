/* Printers of power-flow results, kept apart from the solvers: a readable report in the layout of
 * MATPOWER's printpf (system summary, bus data, branch data, and the islands left unsolved) and
 * the "plurigrid-pf/1" JSON object documented in docs/powerflow.md. Both return text, so that the
 * command, a server and a program of the user's own print the same thing, and both name buses,
 * branches and units as the world does. A power flow that diverged can leave numbers that are not
 * finite: the report shows them as "diverged" and the JSON as null, never as inf or nan. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_write.h"
#include "core/util.h"
#include "plurigrid/pf.h"

static const char *const rule =
    "================================================================================\n";

static void
banner(pgi_buf *b, const char *title)
{
    pgi_buf_printf(b, "%s|     %-73s|\n%s", rule, title, rule);
}

static const char *
type_name(int t)
{
    switch (t) {
    case PG_BUS_PQ: return "PQ";
    case PG_BUS_PV: return "PV";
    case PG_BUS_REF: return "REF";
    default: return "isolated";
    }
}

static bool
matches(const pg_world *w, const pg_pf_result *r)
{
    return r->n_buses == w->n_buses && r->n_branches == w->n_branches &&
           r->n_thermals == w->n_thermals;
}

/* Reactive power produced by a branch's line charging at the solved voltages, MVAr. */
static double
branch_charging(const pg_world *w, const pg_pf_result *r, size_t l)
{
    const pg_branch *br = &w->branches[l];
    if (r->dc || (r->pf[l] == 0 && r->qf[l] == 0 && r->pt[l] == 0 && r->qt[l] == 0))
        return 0;
    double tap = br->tap != 0 ? br->tap : 1.0;
    double vf = r->vm[br->from] / tap, vt = r->vm[br->to];
    return (vf * vf + vt * vt) * br->b / 2 * w->base_mva;
}

/* Active and reactive output of everything that injects at each bus (thermal, renewable and
 * storage units), and the load there. */
typedef struct bus_sums {
    double *gp, *gq, *lp, *lq;
    int *ngen;
} bus_sums;

static int
bus_sums_make(bus_sums *s, const pg_world *w, const pg_pf_result *r)
{
    size_t nb = w->n_buses ? w->n_buses : 1;
    s->gp = calloc(nb, sizeof *s->gp);
    s->gq = calloc(nb, sizeof *s->gq);
    s->lp = calloc(nb, sizeof *s->lp);
    s->lq = calloc(nb, sizeof *s->lq);
    s->ngen = calloc(nb, sizeof *s->ngen);
    if (!s->gp || !s->gq || !s->lp || !s->lq || !s->ngen)
        return PG_ENOMEM;
    for (size_t g = 0; g < w->n_thermals; g++) {
        const pg_thermal *t = &w->thermals[g];
        if (!t->in_service || r->bus_type[t->bus] == PG_BUS_ISOLATED)
            continue;
        s->gp[t->bus] += r->pg[g];
        s->gq[t->bus] += r->qg[g];
        s->ngen[t->bus]++;
    }
    for (size_t i = 0; i < w->n_renewables; i++) {
        const pg_renewable *u = &w->renewables[i];
        if (!u->in_service || r->bus_type[u->bus] == PG_BUS_ISOLATED)
            continue;
        s->gp[u->bus] += u->p;
        s->gq[u->bus] += r->dc ? 0 : u->q;
        s->ngen[u->bus]++;
    }
    for (size_t i = 0; i < w->n_storages; i++) {
        const pg_storage *u = &w->storages[i];
        if (!u->in_service || r->bus_type[u->bus] == PG_BUS_ISOLATED)
            continue;
        s->gp[u->bus] += u->p;
        s->gq[u->bus] += r->dc ? 0 : u->q;
        s->ngen[u->bus]++;
    }
    for (size_t i = 0; i < w->n_loads; i++) {
        const pg_load *l = &w->loads[i];
        if (!l->in_service || r->bus_type[l->bus] == PG_BUS_ISOLATED)
            continue;
        s->lp[l->bus] += l->p;
        s->lq[l->bus] += r->dc ? 0 : l->q;
    }
    return PG_OK;
}

static void
bus_sums_free(bus_sums *s)
{
    free(s->gp);
    free(s->gq);
    free(s->lp);
    free(s->lq);
    free(s->ngen);
}

/* ---------------------------------------------------------------- the report */

/* Up to 12 numbers of one line, each formatted by num() into its own slot. */
typedef struct nums {
    char slot[12][48];
    int next;
} nums;

/* v with prec decimals; in exponent form when the fixed form would not fit in width characters;
 * "diverged" when the iterations left no number at all. */
static const char *
num(nums *n, int width, int prec, double v)
{
    if (!isfinite(v))
        return "diverged";
    char *s = n->slot[n->next++ % 12];
    snprintf(s, sizeof n->slot[0], "%.*f", prec, v);
    if ((int)strlen(s) > width)
        snprintf(s, sizeof n->slot[0], "%.*e", width >= 10 ? 2 : 1, v);
    return s;
}

/* A limit summed over units: "unlimited" when a unit has none (MATPOWER's Inf), which is not a
 * result and so never "diverged". */
static const char *
limit(nums *n, int width, double v)
{
    return isinf(v) ? "unlimited" : num(n, width, 1, v);
}

/* A number in a fixed-width column after one space, or "-" when it is not a result of this
 * model. "diverged" is wider than the narrowest columns: it takes their space as well. */
static void
col(pgi_buf *b, int width, int prec, double v, bool show)
{
    nums n = {.next = 0};
    if (!show)
        pgi_buf_printf(b, " %*s", width, "-");
    else if (!isfinite(v) && width < 8)
        pgi_buf_printf(b, "%*s", width + 1, "diverged");
    else
        pgi_buf_printf(b, " %*s", width, num(&n, width, prec, v));
}

static void
report_head(pgi_buf *b, const pg_world *w, const pg_pf_result *r)
{
    bool ac = !r->dc;
    nums n = {.next = 0};
    char title[120];
    snprintf(title, sizeof title, "Power Flow: %s (%s)", w->name ? w->name : "world",
             ac ? "AC, Newton-Raphson" : "DC");
    banner(b, title);
    if (r->converged && ac)
        pgi_buf_printf(b, "Converged in %d iteration%s (largest mismatch %.2g p.u.)", r->iterations,
                       r->iterations == 1 ? "" : "s", r->max_mismatch);
    else if (r->converged)
        pgi_buf_printf(b, "Solved");
    else if (ac && isfinite(r->max_mismatch))
        pgi_buf_printf(b, "DID NOT CONVERGE after %d iteration%s (largest mismatch still %s p.u.)",
                       r->iterations, r->iterations == 1 ? "" : "s",
                       num(&n, 10, 3, r->max_mismatch));
    else if (ac)
        pgi_buf_printf(b,
                       "DID NOT CONVERGE: the iterations diverged (the mismatch grew past any "
                       "number) after %d iteration%s",
                       r->iterations, r->iterations == 1 ? "" : "s");
    else
        pgi_buf_printf(b, "DID NOT SOLVE");
    if (r->q_lim_rounds > 1)
        pgi_buf_printf(b, ", %d rounds of Q-limit enforcement", r->q_lim_rounds);
    pgi_buf_printf(b, " in %.3f ms.\n", (r->time_setup_s + r->time_solve_s) * 1e3);
    if (r->reason[0])
        pgi_buf_printf(b, "Note: %s.\n", r->reason);
    if (!r->converged)
        pgi_buf_printf(b, "The values below are those of the last iteration, not a solution%s.\n",
                       ac ? "; 'diverged' marks values that grew past any number" : "");
    pgi_buf_printf(b, "\n");
}

static void
report_summary(pgi_buf *b, const pg_world *w, const pg_pf_result *r)
{
    bool ac = !r->dc;
    nums n = {.next = 0};
    size_t n_gen_on = 0, n_xf = 0, n_br_on = 0, n_loads = 0, n_shunts = 0, n_inj = 0;
    double cap_p = 0, cap_qmin = 0, cap_qmax = 0, on_p = 0, on_qmin = 0, on_qmax = 0;
    for (size_t g = 0; g < w->n_thermals; g++) {
        const pg_thermal *t = &w->thermals[g];
        cap_p += t->pmax;
        cap_qmin += t->qmin;
        cap_qmax += t->qmax;
        if (t->in_service && r->bus_type[t->bus] != PG_BUS_ISOLATED) {
            n_gen_on++;
            on_p += t->pmax;
            on_qmin += t->qmin;
            on_qmax += t->qmax;
        }
    }
    for (size_t l = 0; l < w->n_branches; l++) {
        n_xf += w->branches[l].kind == PG_BRANCH_TRANSFORMER;
        n_br_on += w->branches[l].in_service;
    }
    for (size_t i = 0; i < w->n_loads; i++)
        n_loads += w->loads[i].in_service;
    for (size_t i = 0; i < w->n_buses; i++)
        n_shunts += w->buses[i].gs != 0 || w->buses[i].bs != 0;
    for (size_t i = 0; i < w->n_renewables; i++)
        n_inj += w->renewables[i].in_service;
    for (size_t i = 0; i < w->n_storages; i++)
        n_inj += w->storages[i].in_service;

    banner(b, "System Summary");
    pgi_buf_printf(
        b, "\nHow many?                How much?              P (MW)            Q (MVAr)\n");
    pgi_buf_printf(
        b, "---------------------    -------------------  -------------  -----------------\n");
    pgi_buf_printf(b, "Buses           %5zu     Total Gen Capacity   %9s       %7s to %s\n",
                   w->n_buses, num(&n, 9, 1, cap_p), limit(&n, 7, cap_qmin),
                   limit(&n, 9, cap_qmax));
    pgi_buf_printf(b, "Thermal units   %5zu     On-line Capacity     %9s       %7s to %s\n",
                   w->n_thermals, num(&n, 9, 1, on_p), limit(&n, 7, on_qmin),
                   limit(&n, 9, on_qmax));
    pgi_buf_printf(b, "Committed       %5zu     Generation (actual)  %9s     ", n_gen_on,
                   num(&n, 9, 1, r->gen_p));
    col(b, 13, 1, r->gen_q, ac);
    pgi_buf_printf(b, "\nRenewable/stor. %5zu     Renewable + storage  %9s     ", n_inj,
                   num(&n, 9, 1, r->inj_p));
    col(b, 13, 1, r->inj_q, ac);
    pgi_buf_printf(b, "\nLoads           %5zu     Load                 %9s     ", n_loads,
                   num(&n, 9, 1, r->load_p));
    col(b, 13, 1, r->load_q, ac);
    pgi_buf_printf(b, "\nShunts          %5zu     Shunt (inj)          %9s     ", n_shunts,
                   num(&n, 9, 1, 0.0 - r->shunt_p + 0.0));
    col(b, 13, 1, r->shunt_q, ac);
    pgi_buf_printf(b, "\nBranches        %5zu     Losses (I^2 * Z)     %9s     ", w->n_branches,
                   num(&n, 9, 2, r->loss_p));
    col(b, 13, 2, r->loss_q, ac);
    pgi_buf_printf(b, "\nIn service      %5zu     Branch Charging (inj)        -     ", n_br_on);
    col(b, 13, 1, r->charging_q, ac);
    pgi_buf_printf(b, "\nTransformers    %5zu\nIslands         %5zu\n", n_xf, r->n_islands);

    /* Extremes over solved buses and branches. */
    size_t vmin_b = PG_NONE, vmax_b = PG_NONE, amin_b = PG_NONE, amax_b = PG_NONE;
    size_t pl_br = PG_NONE, ql_br = PG_NONE;
    for (size_t i = 0; i < w->n_buses; i++) {
        if (r->bus_type[i] == PG_BUS_ISOLATED)
            continue;
        if (vmin_b == PG_NONE || r->vm[i] < r->vm[vmin_b])
            vmin_b = i;
        if (vmax_b == PG_NONE || r->vm[i] > r->vm[vmax_b])
            vmax_b = i;
        if (amin_b == PG_NONE || r->va[i] < r->va[amin_b])
            amin_b = i;
        if (amax_b == PG_NONE || r->va[i] > r->va[amax_b])
            amax_b = i;
    }
    double plmax = 0, qlmax = 0;
    for (size_t l = 0; l < w->n_branches; l++) {
        double pl = r->pf[l] + r->pt[l];
        double ql = r->qf[l] + r->qt[l] + branch_charging(w, r, l);
        if (pl > plmax)
            plmax = pl, pl_br = l;
        if (ql > qlmax)
            qlmax = ql, ql_br = l;
    }
    if (vmin_b == PG_NONE)
        return;
    pgi_buf_printf(b, "\n                          Minimum                      Maximum\n");
    pgi_buf_printf(
        b, "                 -------------------------  --------------------------------\n");
    if (ac)
        pgi_buf_printf(b, "Voltage Magnitude %7s p.u. @ bus %-6d     %7s p.u. @ bus %d\n",
                       num(&n, 7, 3, r->vm[vmin_b]), w->buses[vmin_b].number,
                       num(&n, 7, 3, r->vm[vmax_b]), w->buses[vmax_b].number);
    pgi_buf_printf(b, "Voltage Angle     %7s deg  @ bus %-6d     %7s deg  @ bus %d\n",
                   num(&n, 7, 2, r->va[amin_b]), w->buses[amin_b].number,
                   num(&n, 7, 2, r->va[amax_b]), w->buses[amax_b].number);
    if (pl_br != PG_NONE)
        pgi_buf_printf(b, "P Losses (I^2*R)            -               %8s MW    @ line %d-%d\n",
                       num(&n, 8, 2, plmax), w->buses[w->branches[pl_br].from].number,
                       w->buses[w->branches[pl_br].to].number);
    if (ql_br != PG_NONE)
        pgi_buf_printf(b, "Q Losses (I^2*X)            -               %8s MVAr  @ line %d-%d\n",
                       num(&n, 8, 2, qlmax), w->buses[w->branches[ql_br].from].number,
                       w->buses[w->branches[ql_br].to].number);
}

static void
report_buses(pgi_buf *b, const pg_world *w, const pg_pf_result *r, const bus_sums *s)
{
    bool ac = !r->dc;
    pgi_buf_printf(b, "\n");
    banner(b, "Bus Data");
    pgi_buf_printf(b, " Bus      Voltage          Generation             Load\n");
    pgi_buf_printf(b, "  #   Mag(pu) Ang(deg)   P (MW)   Q (MVAr)   P (MW)   Q (MVAr)\n");
    pgi_buf_printf(b, "----- ------- --------  --------  --------  --------  --------\n");
    double tgp = 0, tgq = 0, tlp = 0, tlq = 0;
    for (size_t i = 0; i < w->n_buses; i++) {
        pgi_buf_printf(b, "%5d", w->buses[i].number);
        if (r->bus_type[i] == PG_BUS_ISOLATED) {
            pgi_buf_printf(b, "       -        -  (not energized)\n");
            continue;
        }
        col(b, 7, 3, r->vm[i], true);
        col(b, 8, 3, r->va[i], true);
        pgi_buf_printf(b, "%c", r->bus_type[i] == PG_BUS_REF ? '*' : ' ');
        bool gen = s->ngen[i] > 0, load = s->lp[i] != 0 || s->lq[i] != 0;
        col(b, 8, 2, s->gp[i], gen);
        pgi_buf_printf(b, " ");
        col(b, 8, 2, s->gq[i], gen && ac);
        pgi_buf_printf(b, " ");
        col(b, 8, 2, s->lp[i], load);
        pgi_buf_printf(b, " ");
        col(b, 8, 2, s->lq[i], load && ac);
        pgi_buf_printf(b, "\n");
        tgp += s->gp[i], tgq += s->gq[i], tlp += s->lp[i], tlq += s->lq[i];
    }
    pgi_buf_printf(b, "                        --------  --------  --------  --------\n");
    pgi_buf_printf(b, "               Total: ");
    col(b, 9, 2, tgp, true);
    pgi_buf_printf(b, " ");
    col(b, 8, 2, tgq, ac);
    pgi_buf_printf(b, " ");
    col(b, 8, 2, tlp, true);
    pgi_buf_printf(b, " ");
    col(b, 8, 2, tlq, ac);
    pgi_buf_printf(b,
                   "\n(* reference bus; generation counts thermal, renewable and storage units)\n");
}

static void
report_branches(pgi_buf *b, const pg_world *w, const pg_pf_result *r)
{
    bool ac = !r->dc;
    pgi_buf_printf(b, "\n");
    banner(b, "Branch Data");
    pgi_buf_printf(
        b, "Brnch   From   To    From Bus Injection   To Bus Injection     Loss (I^2 * Z)\n");
    pgi_buf_printf(
        b, "  #     Bus    Bus    P (MW)   Q (MVAr)   P (MW)   Q (MVAr)   P (MW)   Q (MVAr)\n");
    pgi_buf_printf(
        b, "-----  -----  -----  --------  --------  --------  --------  --------  --------\n");
    double tpl = 0, tql = 0;
    for (size_t l = 0; l < w->n_branches; l++) {
        const pg_branch *br = &w->branches[l];
        double pl = r->pf[l] + r->pt[l], ql = r->qf[l] + r->qt[l] + branch_charging(w, r, l);
        pgi_buf_printf(b, "%5zu  %5d  %5d ", l + 1, w->buses[br->from].number,
                       w->buses[br->to].number);
        if (!br->in_service) {
            pgi_buf_printf(b, "  (out of service)\n");
            continue;
        }
        col(b, 9, 2, r->pf[l], true);
        pgi_buf_printf(b, " ");
        col(b, 8, 2, r->qf[l], ac);
        pgi_buf_printf(b, " ");
        col(b, 8, 2, r->pt[l], true);
        pgi_buf_printf(b, " ");
        col(b, 8, 2, r->qt[l], ac);
        pgi_buf_printf(b, " ");
        col(b, 8, 3, pl, true);
        pgi_buf_printf(b, " ");
        col(b, 8, 2, ql, ac);
        pgi_buf_printf(b, "\n");
        tpl += pl, tql += ql;
    }
    pgi_buf_printf(
        b, "                                                             --------  --------\n");
    pgi_buf_printf(b, "                                                    Total: ");
    col(b, 9, 3, tpl, true);
    pgi_buf_printf(b, " ");
    col(b, 8, 2, tql, ac);
    pgi_buf_printf(b, "\n");
}

static void
report_islands(pgi_buf *b, const pg_world *w, const pg_pf_result *r)
{
    bool any = false;
    nums n = {.next = 0};
    for (size_t i = 0; i < r->n_islands; i++) {
        const pg_pf_island *I = &r->islands[i];
        if (I->status == PG_PF_ISLAND_SOLVED)
            continue;
        if (!any) {
            pgi_buf_printf(b, "\n");
            banner(b, "Islands Not Solved");
            any = true;
        }
        pgi_buf_printf(b, "island %zu: %zu bus%s from bus %d, %s MW of load not served: %s\n",
                       i + 1, I->n_buses, I->n_buses == 1 ? "" : "es",
                       w->buses[I->first_bus].number, num(&n, 12, 2, I->load_mw), I->reason);
    }
}

int
pg_pf_result_text(const pg_world *w, const pg_pf_result *r, char **text, pg_error *err)
{
    if (!w || !r || !text)
        return pg_error_set(err, PG_EINVAL, "pg_pf_result_text: NULL argument");
    if (!matches(w, r))
        return pg_error_set(err, PG_EINVAL, "pg_pf_result_text: the result is not of this world");
    bus_sums s;
    memset(&s, 0, sizeof s);
    pgi_buf b = {0};
    int rc = PG_OK;
    if (bus_sums_make(&s, w, r)) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    report_head(&b, w, r);
    report_summary(&b, w, r);
    report_buses(&b, w, r, &s);
    report_branches(&b, w, r);
    report_islands(&b, w, r);
    if (b.failed || !b.data) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory while writing the power-flow report");
        goto out;
    }
    *text = b.data;
    b.data = NULL;
out:
    pgi_buf_free(&b);
    bus_sums_free(&s);
    return rc;
}

/* ---------------------------------------------------------------- JSON */

static const char *
island_status_name(pg_pf_island_status s)
{
    switch (s) {
    case PG_PF_ISLAND_SOLVED: return "solved";
    case PG_PF_ISLAND_NO_REFERENCE: return "no-reference";
    case PG_PF_ISLAND_NO_GENERATOR: return "no-generator";
    }
    return "unknown";
}

/* Sets o[key] = v, taking v; counts a failure (v NULL when memory ran out) in *bad. */
static void
set(json_t *o, const char *key, json_t *v, int *bad)
{
    if (json_object_set_new(o, key, v) != 0)
        *bad = 1;
}

static void
add(json_t *a, json_t *v, int *bad)
{
    if (json_array_append_new(a, v) != 0)
        *bad = 1;
}

static json_t *
bus_name(const pg_world *w, size_t b)
{
    return pgi_json_str(w->buses[b].name);
}

static json_t *
json_totals(const pg_pf_result *r, int *bad)
{
    json_t *t = json_object();
    if (!t) {
        *bad = 1;
        return NULL;
    }
    set(t, "gen_mw", pgi_json_num(r->gen_p), bad);
    set(t, "gen_mvar", pgi_json_num(r->gen_q), bad);
    set(t, "injection_mw", pgi_json_num(r->inj_p), bad);
    set(t, "injection_mvar", pgi_json_num(r->inj_q), bad);
    set(t, "load_mw", pgi_json_num(r->load_p), bad);
    set(t, "load_mvar", pgi_json_num(r->load_q), bad);
    set(t, "shunt_mw", pgi_json_num(r->shunt_p), bad);
    set(t, "shunt_mvar", pgi_json_num(r->shunt_q), bad);
    set(t, "charging_mvar", pgi_json_num(r->charging_q), bad);
    set(t, "loss_mw", pgi_json_num(r->loss_p), bad);
    set(t, "loss_mvar", pgi_json_num(r->loss_q), bad);
    return t;
}

static json_t *
json_buses(const pg_world *w, const pg_pf_result *r, int *bad)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < w->n_buses && !*bad; i++) {
        json_t *o = json_object();
        add(a, o, bad); /* takes o even when it fails */
        if (*bad)
            break;
        set(o, "name", bus_name(w, i), bad);
        set(o, "number", json_integer(w->buses[i].number), bad);
        set(o, "type", json_string(type_name(r->bus_type[i])), bad);
        set(o, "vm_pu", pgi_json_num(r->vm[i]), bad);
        set(o, "va_deg", pgi_json_num(r->va[i]), bad);
        set(o, "island",
            r->island[i] == PG_NONE ? json_null() : json_integer((json_int_t)r->island[i]), bad);
    }
    return a;
}

static json_t *
json_thermals(const pg_world *w, const pg_pf_result *r, int *bad)
{
    json_t *a = json_array();
    for (size_t g = 0; a && g < w->n_thermals && !*bad; g++) {
        json_t *o = json_object();
        add(a, o, bad); /* takes o even when it fails */
        if (*bad)
            break;
        set(o, "name", pgi_json_str(w->thermals[g].name), bad);
        set(o, "bus", bus_name(w, w->thermals[g].bus), bad);
        set(o, "p_mw", pgi_json_num(r->pg[g]), bad);
        set(o, "q_mvar", pgi_json_num(r->qg[g]), bad);
        set(o, "q_limited", json_boolean(r->q_limited[g]), bad);
    }
    return a;
}

static json_t *
json_branches(const pg_world *w, const pg_pf_result *r, int *bad)
{
    json_t *a = json_array();
    for (size_t l = 0; a && l < w->n_branches && !*bad; l++) {
        const pg_branch *br = &w->branches[l];
        json_t *o = json_object();
        add(a, o, bad); /* takes o even when it fails */
        if (*bad)
            break;
        set(o, "name", pgi_json_str(br->name), bad);
        set(o, "from", bus_name(w, br->from), bad);
        set(o, "to", bus_name(w, br->to), bad);
        set(o, "in_service", json_boolean(br->in_service), bad);
        set(o, "pf_mw", pgi_json_num(r->pf[l]), bad);
        set(o, "qf_mvar", pgi_json_num(r->qf[l]), bad);
        set(o, "pt_mw", pgi_json_num(r->pt[l]), bad);
        set(o, "qt_mvar", pgi_json_num(r->qt[l]), bad);
        set(o, "loss_mw", pgi_json_num(r->pf[l] + r->pt[l]), bad);
        set(o, "loss_mvar", pgi_json_num(r->qf[l] + r->qt[l] + branch_charging(w, r, l)), bad);
    }
    return a;
}

static json_t *
json_islands(const pg_world *w, const pg_pf_result *r, int *bad)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < r->n_islands && !*bad; i++) {
        const pg_pf_island *I = &r->islands[i];
        json_t *o = json_object();
        add(a, o, bad); /* takes o even when it fails */
        if (*bad)
            break;
        set(o, "status", json_string(island_status_name(I->status)), bad);
        set(o, "buses", json_integer((json_int_t)I->n_buses), bad);
        set(o, "first_bus", bus_name(w, I->first_bus), bad);
        set(o, "reference", I->ref_bus == PG_NONE ? json_null() : bus_name(w, I->ref_bus), bad);
        set(o, "load_mw", pgi_json_num(I->load_mw), bad);
        set(o, "reason", pgi_json_str(I->reason), bad);
    }
    return a;
}

int
pg_pf_result_json(const pg_world *w, const pg_pf_result *r, char **text, pg_error *err)
{
    if (!w || !r || !text)
        return pg_error_set(err, PG_EINVAL, "pg_pf_result_json: NULL argument");
    if (!matches(w, r))
        return pg_error_set(err, PG_EINVAL, "pg_pf_result_json: the result is not of this world");
    int bad = 0;
    json_t *o = json_object();
    if (!o)
        return pg_error_set(err, PG_ENOMEM, "out of memory while writing the power-flow result");
    set(o, "format", json_string("plurigrid-pf/1"), &bad);
    set(o, "world", pgi_json_str(w->name), &bad);
    set(o, "model", json_string(r->dc ? "dc" : "ac"), &bad);
    set(o, "converged", json_boolean(r->converged), &bad);
    set(o, "all_solved", json_boolean(r->all_solved), &bad);
    set(o, "iterations", json_integer(r->iterations), &bad);
    set(o, "q_lim_rounds", json_integer(r->q_lim_rounds), &bad);
    set(o, "max_mismatch_pu", pgi_json_num(r->max_mismatch), &bad);
    set(o, "reason", pgi_json_str(r->reason), &bad);
    json_t *t = json_object();
    set(o, "time_ms", t, &bad);
    if (t) {
        set(t, "setup", pgi_json_num(r->time_setup_s * 1e3), &bad);
        set(t, "solve", pgi_json_num(r->time_solve_s * 1e3), &bad);
    }
    set(o, "totals", json_totals(r, &bad), &bad);
    set(o, "buses", json_buses(w, r, &bad), &bad);
    set(o, "thermals", json_thermals(w, r, &bad), &bad);
    set(o, "branches", json_branches(w, r, &bad), &bad);
    set(o, "islands", json_islands(w, r, &bad), &bad);
    char *s = bad ? NULL : pgi_json_dumps_lines(o);
    json_decref(o);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory while writing the power-flow result");
    *text = s;
    return PG_OK;
}
