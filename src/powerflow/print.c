/* Printers of power-flow results, kept apart from the solvers: a readable report in the layout of
 * MATPOWER's printpf (system summary, bus data, branch data, and the islands left unsolved) and
 * the "plurigrid-pf/1" JSON object documented in docs/powerflow.md. Both name buses, branches and
 * units as the world does. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "powerflow/pf_internal.h"

static const char *const rule =
    "================================================================================\n";

static void
banner(FILE *f, const char *title)
{
    fprintf(f, "%s|     %-73s|\n%s", rule, title, rule);
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

/* A number in a fixed-width column, or "-" when it is not a result of this model. */
static void
col(FILE *f, int width, int prec, double v, bool show)
{
    if (show)
        fprintf(f, " %*.*f", width, prec, v);
    else
        fprintf(f, " %*s", width, "-");
}

static int
finish(FILE *f, pg_error *err)
{
    if (fflush(f) != 0 || ferror(f))
        return pg_error_set(err, PG_EIO, "could not write the power-flow report");
    return PG_OK;
}

int
pg_pf_write_summary(FILE *f, const pg_world *w, const pg_pf_result *r, pg_error *err)
{
    if (!f || !w || !r || r->n_buses != w->n_buses || r->n_branches != w->n_branches ||
        r->n_thermals != w->n_thermals)
        return pg_error_set(err, PG_EINVAL, "pg_pf_write_summary: the result is not of this world");
    bus_sums s;
    memset(&s, 0, sizeof s);
    if (bus_sums_make(&s, w, r)) {
        bus_sums_free(&s);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    bool ac = !r->dc;
    char title[120];
    snprintf(title, sizeof title, "Power Flow: %s (%s)", w->name ? w->name : "world",
             ac ? "AC, Newton-Raphson" : "DC");
    banner(f, title);
    if (r->converged && ac)
        fprintf(f, "Converged in %d iteration%s (largest mismatch %.2g p.u.)", r->iterations,
                r->iterations == 1 ? "" : "s", r->max_mismatch);
    else if (r->converged)
        fprintf(f, "Solved");
    else
        fprintf(f, "DID NOT CONVERGE after %d iteration%s", r->iterations,
                r->iterations == 1 ? "" : "s");
    if (r->q_lim_rounds > 1)
        fprintf(f, ", %d rounds of Q-limit enforcement", r->q_lim_rounds);
    fprintf(f, " in %.3f ms.\n", (r->time_setup_s + r->time_solve_s) * 1e3);
    if (r->reason[0])
        fprintf(f, "Note: %s.\n", r->reason);
    fprintf(f, "\n");

    /* ------------------------------------------------------------ system summary */
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
    for (size_t b = 0; b < w->n_buses; b++)
        n_shunts += w->buses[b].gs != 0 || w->buses[b].bs != 0;
    for (size_t i = 0; i < w->n_renewables; i++)
        n_inj += w->renewables[i].in_service;
    for (size_t i = 0; i < w->n_storages; i++)
        n_inj += w->storages[i].in_service;

    banner(f, "System Summary");
    fprintf(f, "\nHow many?                How much?              P (MW)            Q (MVAr)\n");
    fprintf(f, "---------------------    -------------------  -------------  -----------------\n");
    fprintf(f, "Buses           %5zu     Total Gen Capacity   %9.1f       %7.1f to %.1f\n",
            w->n_buses, cap_p, cap_qmin, cap_qmax);
    fprintf(f, "Thermal units   %5zu     On-line Capacity     %9.1f       %7.1f to %.1f\n",
            w->n_thermals, on_p, on_qmin, on_qmax);
    fprintf(f, "Committed       %5zu     Generation (actual)  %9.1f     ", n_gen_on, r->gen_p);
    col(f, 13, 1, r->gen_q, ac);
    fprintf(f, "\nRenewable/stor. %5zu     Renewable + storage  %9.1f     ", n_inj, r->inj_p);
    col(f, 13, 1, r->inj_q, ac);
    fprintf(f, "\nLoads           %5zu     Load                 %9.1f     ", n_loads, r->load_p);
    col(f, 13, 1, r->load_q, ac);
    fprintf(f, "\nShunts          %5zu     Shunt (inj)          %9.1f     ", n_shunts,
            0.0 - r->shunt_p + 0.0);
    col(f, 13, 1, r->shunt_q, ac);
    fprintf(f, "\nBranches        %5zu     Losses (I^2 * Z)     %9.2f     ", w->n_branches,
            r->loss_p);
    col(f, 13, 2, r->loss_q, ac);
    fprintf(f, "\nIn service      %5zu     Branch Charging (inj)        -     ", n_br_on);
    col(f, 13, 1, r->charging_q, ac);
    fprintf(f, "\nTransformers    %5zu\nIslands         %5zu\n", n_xf, r->n_islands);

    /* Extremes over solved buses and branches. */
    size_t vmin_b = PG_NONE, vmax_b = PG_NONE, amin_b = PG_NONE, amax_b = PG_NONE;
    size_t pl_br = PG_NONE, ql_br = PG_NONE;
    for (size_t b = 0; b < w->n_buses; b++) {
        if (r->bus_type[b] == PG_BUS_ISOLATED)
            continue;
        if (vmin_b == PG_NONE || r->vm[b] < r->vm[vmin_b])
            vmin_b = b;
        if (vmax_b == PG_NONE || r->vm[b] > r->vm[vmax_b])
            vmax_b = b;
        if (amin_b == PG_NONE || r->va[b] < r->va[amin_b])
            amin_b = b;
        if (amax_b == PG_NONE || r->va[b] > r->va[amax_b])
            amax_b = b;
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
    if (vmin_b != PG_NONE) {
        fprintf(f, "\n                          Minimum                      Maximum\n");
        fprintf(f,
                "                 -------------------------  --------------------------------\n");
        if (ac)
            fprintf(f, "Voltage Magnitude %7.3f p.u. @ bus %-6d     %7.3f p.u. @ bus %d\n",
                    r->vm[vmin_b], w->buses[vmin_b].number, r->vm[vmax_b], w->buses[vmax_b].number);
        fprintf(f, "Voltage Angle     %7.2f deg  @ bus %-6d     %7.2f deg  @ bus %d\n",
                r->va[amin_b], w->buses[amin_b].number, r->va[amax_b], w->buses[amax_b].number);
        if (pl_br != PG_NONE)
            fprintf(f, "P Losses (I^2*R)            -               %8.2f MW    @ line %d-%d\n",
                    plmax, w->buses[w->branches[pl_br].from].number,
                    w->buses[w->branches[pl_br].to].number);
        if (ql_br != PG_NONE)
            fprintf(f, "Q Losses (I^2*X)            -               %8.2f MVAr  @ line %d-%d\n",
                    qlmax, w->buses[w->branches[ql_br].from].number,
                    w->buses[w->branches[ql_br].to].number);
    }

    /* ------------------------------------------------------------ bus data */
    fprintf(f, "\n");
    banner(f, "Bus Data");
    fprintf(f, " Bus      Voltage          Generation             Load\n");
    fprintf(f, "  #   Mag(pu) Ang(deg)   P (MW)   Q (MVAr)   P (MW)   Q (MVAr)\n");
    fprintf(f, "----- ------- --------  --------  --------  --------  --------\n");
    double tgp = 0, tgq = 0, tlp = 0, tlq = 0;
    for (size_t b = 0; b < w->n_buses; b++) {
        bool live = r->bus_type[b] != PG_BUS_ISOLATED;
        fprintf(f, "%5d", w->buses[b].number);
        if (!live) {
            fprintf(f, "       -        -  (not energized)\n");
            continue;
        }
        col(f, 7, 3, r->vm[b], true);
        fprintf(f, " %8.3f%c", r->va[b], r->bus_type[b] == PG_BUS_REF ? '*' : ' ');
        bool gen = s.ngen[b] > 0, load = s.lp[b] != 0 || s.lq[b] != 0;
        col(f, 8, 2, s.gp[b], gen);
        fprintf(f, " ");
        col(f, 8, 2, s.gq[b], gen && ac);
        fprintf(f, " ");
        col(f, 8, 2, s.lp[b], load);
        fprintf(f, " ");
        col(f, 8, 2, s.lq[b], load && ac);
        fprintf(f, "\n");
        tgp += s.gp[b], tgq += s.gq[b], tlp += s.lp[b], tlq += s.lq[b];
    }
    fprintf(f, "                        --------  --------  --------  --------\n");
    fprintf(f, "               Total: ");
    col(f, 9, 2, tgp, true);
    fprintf(f, " ");
    col(f, 8, 2, tgq, ac);
    fprintf(f, " ");
    col(f, 8, 2, tlp, true);
    fprintf(f, " ");
    col(f, 8, 2, tlq, ac);
    fprintf(f, "\n(* reference bus; generation counts thermal, renewable and storage units)\n");

    /* ------------------------------------------------------------ branch data */
    fprintf(f, "\n");
    banner(f, "Branch Data");
    fprintf(f, "Brnch   From   To    From Bus Injection   To Bus Injection     Loss (I^2 * Z)\n");
    fprintf(f, "  #     Bus    Bus    P (MW)   Q (MVAr)   P (MW)   Q (MVAr)   P (MW)   Q (MVAr)\n");
    fprintf(f, "-----  -----  -----  --------  --------  --------  --------  --------  --------\n");
    double tpl = 0, tql = 0;
    for (size_t l = 0; l < w->n_branches; l++) {
        const pg_branch *br = &w->branches[l];
        double pl = r->pf[l] + r->pt[l], ql = r->qf[l] + r->qt[l] + branch_charging(w, r, l);
        fprintf(f, "%5zu  %5d  %5d ", l + 1, w->buses[br->from].number, w->buses[br->to].number);
        if (!br->in_service) {
            fprintf(f, "  (out of service)\n");
            continue;
        }
        col(f, 9, 2, r->pf[l], true);
        fprintf(f, " ");
        col(f, 8, 2, r->qf[l], ac);
        fprintf(f, " ");
        col(f, 8, 2, r->pt[l], true);
        fprintf(f, " ");
        col(f, 8, 2, r->qt[l], ac);
        fprintf(f, " ");
        col(f, 8, 3, pl, true);
        fprintf(f, " ");
        col(f, 8, 2, ql, ac);
        fprintf(f, "\n");
        tpl += pl, tql += ql;
    }
    fprintf(f, "                                                             --------  --------\n");
    fprintf(f, "                                                    Total: ");
    col(f, 9, 3, tpl, true);
    fprintf(f, " ");
    col(f, 8, 2, tql, ac);
    fprintf(f, "\n");

    /* ------------------------------------------------------------ islands left unsolved */
    bool any = false;
    for (size_t i = 0; i < r->n_islands; i++) {
        const pg_pf_island *I = &r->islands[i];
        if (I->status == PG_PF_ISLAND_SOLVED)
            continue;
        if (!any) {
            fprintf(f, "\n");
            banner(f, "Islands Not Solved");
            any = true;
        }
        fprintf(f, "island %zu: %zu bus%s from bus %d, %.2f MW of load not served: %s\n", i + 1,
                I->n_buses, I->n_buses == 1 ? "" : "es", w->buses[I->first_bus].number, I->load_mw,
                I->reason);
    }
    bus_sums_free(&s);
    return finish(f, err);
}

/* ---------------------------------------------------------------- JSON */

static void
json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* A number at full precision; JSON has no NaN or infinity, so those become null. */
static void
json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v == 0 ? 0.0 : v);
    else
        fputs("null", f);
}

static void
json_kv(FILE *f, const char *key, double v, bool comma)
{
    fprintf(f, "\"%s\": ", key);
    json_num(f, v);
    if (comma)
        fputs(", ", f);
}

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

int
pg_pf_write_json(FILE *f, const pg_world *w, const pg_pf_result *r, pg_error *err)
{
    if (!f || !w || !r || r->n_buses != w->n_buses || r->n_branches != w->n_branches ||
        r->n_thermals != w->n_thermals)
        return pg_error_set(err, PG_EINVAL, "pg_pf_write_json: the result is not of this world");
    fputs("{\n  \"format\": \"plurigrid-pf/1\",\n  \"world\": ", f);
    json_string(f, w->name);
    fprintf(f, ",\n  \"model\": \"%s\",\n", r->dc ? "dc" : "ac");
    fprintf(f, "  \"converged\": %s,\n  \"all_solved\": %s,\n", r->converged ? "true" : "false",
            r->all_solved ? "true" : "false");
    fprintf(f, "  \"iterations\": %d,\n  \"q_lim_rounds\": %d,\n  ", r->iterations,
            r->q_lim_rounds);
    json_kv(f, "max_mismatch_pu", r->max_mismatch, false);
    fputs(",\n  \"reason\": ", f);
    json_string(f, r->reason);
    fputs(",\n  \"time_ms\": {", f);
    json_kv(f, "setup", r->time_setup_s * 1e3, true);
    json_kv(f, "solve", r->time_solve_s * 1e3, false);
    fputs("},\n  \"totals\": {", f);
    json_kv(f, "gen_mw", r->gen_p, true);
    json_kv(f, "gen_mvar", r->gen_q, true);
    json_kv(f, "injection_mw", r->inj_p, true);
    json_kv(f, "injection_mvar", r->inj_q, true);
    json_kv(f, "load_mw", r->load_p, true);
    json_kv(f, "load_mvar", r->load_q, true);
    json_kv(f, "shunt_mw", r->shunt_p, true);
    json_kv(f, "shunt_mvar", r->shunt_q, true);
    json_kv(f, "charging_mvar", r->charging_q, true);
    json_kv(f, "loss_mw", r->loss_p, true);
    json_kv(f, "loss_mvar", r->loss_q, false);
    fputs("},\n  \"buses\": [", f);
    for (size_t b = 0; b < w->n_buses; b++) {
        fputs(b ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        json_string(f, w->buses[b].name);
        fprintf(f, ", \"number\": %d, \"type\": \"%s\", ", w->buses[b].number,
                type_name(r->bus_type[b]));
        json_kv(f, "vm_pu", r->vm[b], true);
        json_kv(f, "va_deg", r->va[b], true);
        if (r->island[b] == PG_NONE)
            fputs("\"island\": null}", f);
        else
            fprintf(f, "\"island\": %zu}", r->island[b]);
    }
    fputs(w->n_buses ? "\n  ],\n  \"thermals\": [" : "],\n  \"thermals\": [", f);
    for (size_t g = 0; g < w->n_thermals; g++) {
        fputs(g ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        json_string(f, w->thermals[g].name);
        fputs(", \"bus\": ", f);
        json_string(f, w->buses[w->thermals[g].bus].name);
        fputs(", ", f);
        json_kv(f, "p_mw", r->pg[g], true);
        json_kv(f, "q_mvar", r->qg[g], true);
        fprintf(f, "\"q_limited\": %s}", r->q_limited[g] ? "true" : "false");
    }
    fputs(w->n_thermals ? "\n  ],\n  \"branches\": [" : "],\n  \"branches\": [", f);
    for (size_t l = 0; l < w->n_branches; l++) {
        const pg_branch *br = &w->branches[l];
        fputs(l ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        json_string(f, br->name);
        fputs(", \"from\": ", f);
        json_string(f, w->buses[br->from].name);
        fputs(", \"to\": ", f);
        json_string(f, w->buses[br->to].name);
        fprintf(f, ", \"in_service\": %s, ", br->in_service ? "true" : "false");
        json_kv(f, "pf_mw", r->pf[l], true);
        json_kv(f, "qf_mvar", r->qf[l], true);
        json_kv(f, "pt_mw", r->pt[l], true);
        json_kv(f, "qt_mvar", r->qt[l], true);
        json_kv(f, "loss_mw", r->pf[l] + r->pt[l], true);
        json_kv(f, "loss_mvar", r->qf[l] + r->qt[l] + branch_charging(w, r, l), false);
        fputs("}", f);
    }
    fputs(w->n_branches ? "\n  ],\n  \"islands\": [" : "],\n  \"islands\": [", f);
    for (size_t i = 0; i < r->n_islands; i++) {
        const pg_pf_island *I = &r->islands[i];
        fprintf(f,
                "%s{\"status\": \"%s\", \"buses\": %zu, \"first_bus\": ", i ? ",\n    " : "\n    ",
                island_status_name(I->status), I->n_buses);
        json_string(f, w->buses[I->first_bus].name);
        fputs(", \"reference\": ", f);
        if (I->ref_bus == PG_NONE)
            fputs("null", f);
        else
            json_string(f, w->buses[I->ref_bus].name);
        fputs(", ", f);
        json_kv(f, "load_mw", I->load_mw, false);
        fputs(", \"reason\": ", f);
        json_string(f, I->reason);
        fputs("}", f);
    }
    fputs(r->n_islands ? "\n  ]\n}\n" : "]\n}\n", f);
    return finish(f, err);
}
