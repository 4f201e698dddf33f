/* Readable reports of dispatch results, returned as text: the day-ahead schedule's hourly tables
 * (schedule, prices, costs, the AC check) and the DC OPF in the layout of MATPOWER's printpf.
 * Worlds with many units or buses get totals and ranges instead of one column each; a number that
 * does not exist (the price of an isolated bus) is shown as "-". */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "plurigrid/dispatch.h"

/* Tables show one column per unit (or bus) up to this many; above it, totals and ranges. */
#define WIDE 8

/* A column header cut to fit 10 characters. */
static void
head(pgi_buf *b, const char *name)
{
    pgi_buf_printf(b, " %10.10s", name ? name : "?");
}

/* A number after one space in a column of width characters, or "-" when it does not exist. */
static void
cell(pgi_buf *b, int width, int prec, double v)
{
    if (isfinite(v))
        pgi_buf_printf(b, " %*.*f", width, prec, v);
    else
        pgi_buf_printf(b, " %*s", width, "-");
}

static void
text_header(pgi_buf *b, const pg_world *w, const pg_dispatch_result *r)
{
    size_t on_units = 0;
    for (size_t g = 0; g < w->n_thermals; g++)
        on_units += w->thermals[g].in_service;
    pgi_buf_printf(b, "%s: %zu steps of %g h from step %zu, %s network\n", w->name, r->n_steps,
                   r->step_h, r->start_step, r->network == PG_NETWORK_DC ? "DC" : "copper-plate");
    pgi_buf_printf(b,
                   "  %zu buses, %zu branches, %zu loads, %zu thermal (%zu in service), %zu "
                   "renewable, %zu storage units\n",
                   w->n_buses, w->n_branches, w->n_loads, w->n_thermals, on_units, w->n_renewables,
                   w->n_storages);
    if (r->uc_status == PG_UC_NONE)
        pgi_buf_printf(b, "Dispatch LP: %zu variables, %zu constraints, solved in %.2f s\n",
                       r->n_variables, r->n_constraints, r->ed_seconds);
    else
        pgi_buf_printf(b,
                       "Unit commitment: %s, gap %.3f%%, %.2f s (%zu variables, %zu integer, %zu "
                       "constraints); dispatch LP %.2f s\n",
                       r->uc_status == PG_UC_OPTIMAL ? "optimal" : "stopped at the time limit",
                       100 * r->uc_gap, r->uc_seconds, r->n_variables, r->n_integers,
                       r->n_constraints, r->ed_seconds);
}

static void
text_schedule(pgi_buf *b, const pg_world *w, const pg_dispatch_result *r)
{
    size_t T = r->n_steps, ng = r->n_thermals, nr = r->n_renewables, ns = r->n_storages;
    bool wide = ng + nr > WIDE || ns > 4;
    pgi_buf_printf(
        b, "\nSchedule (MW; '-' = unit off; storage: net output MW / state of charge MWh)\n");
    pgi_buf_printf(b, "%6s %10s", "hour", "demand");
    if (wide) {
        pgi_buf_printf(b, " %10s %10s %10s", "thermal", "units on", "renewable");
        if (ns)
            pgi_buf_printf(b, " %10s %10s", "storage", "SOC");
    } else {
        for (size_t g = 0; g < ng; g++)
            head(b, w->thermals[g].name);
        for (size_t k = 0; k < nr; k++)
            head(b, w->renewables[k].name);
        for (size_t s = 0; s < ns; s++) {
            head(b, w->storages[s].name);
            pgi_buf_printf(b, " %10s", "SOC");
        }
    }
    pgi_buf_printf(b, " %10s %10s\n", "curtailed", "unserved");
    for (size_t t = 0; t < T; t++) {
        pgi_buf_printf(b, "%6g", (double)t * r->step_h);
        cell(b, 10, 2, pgi_sum(&r->bus_demand[t * r->n_buses], r->n_buses));
        double curt = 0;
        for (size_t k = 0; k < nr; k++)
            curt += r->renewable_avail[t * nr + k] - r->renewable_p[t * nr + k];
        if (wide) {
            size_t on = 0;
            for (size_t g = 0; g < ng; g++)
                on += r->thermal_on[t * ng + g];
            cell(b, 10, 2, pgi_sum(&r->thermal_p[t * ng], ng));
            pgi_buf_printf(b, " %10zu", on);
            cell(b, 10, 2, pgi_sum(&r->renewable_p[t * nr], nr));
            if (ns) {
                double net = 0, soc = 0;
                for (size_t s = 0; s < ns; s++) {
                    net += r->storage_discharge[t * ns + s] - r->storage_charge[t * ns + s];
                    soc += r->storage_soc[t * ns + s];
                }
                cell(b, 10, 2, net);
                cell(b, 10, 2, soc);
            }
        } else {
            for (size_t g = 0; g < ng; g++) {
                if (r->thermal_on[t * ng + g])
                    cell(b, 10, 2, r->thermal_p[t * ng + g]);
                else
                    pgi_buf_printf(b, " %10s", "-");
            }
            for (size_t k = 0; k < nr; k++)
                cell(b, 10, 2, r->renewable_p[t * nr + k]);
            for (size_t s = 0; s < ns; s++) {
                cell(b, 10, 2, r->storage_discharge[t * ns + s] - r->storage_charge[t * ns + s]);
                cell(b, 10, 2, r->storage_soc[t * ns + s]);
            }
        }
        cell(b, 10, 2, fabs(curt) < 5e-9 ? 0.0 : curt);
        cell(b, 10, 2, pgi_sum(&r->bus_unserved[t * r->n_buses], r->n_buses));
        pgi_buf_puts(b, "\n");
    }
}

static void
text_prices(pgi_buf *b, const pg_world *w, const pg_dispatch_result *r)
{
    size_t T = r->n_steps, nb = r->n_buses;
    bool wide = nb > WIDE;
    pgi_buf_printf(b, "\nPrices ($/MWh)%s\n", wide ? ": range over the buses" : "");
    pgi_buf_printf(b, "%6s", "hour");
    if (wide) {
        pgi_buf_printf(b, " %10s %10s %10s", "lowest", "mean", "highest");
    } else {
        for (size_t i = 0; i < nb; i++)
            head(b, w->buses[i].name);
    }
    pgi_buf_printf(b, " %10s\n", "energy");
    for (size_t t = 0; t < T; t++) {
        pgi_buf_printf(b, "%6g", (double)t * r->step_h);
        const double *p = &r->lmp[t * nb];
        if (wide) {
            double lo = INFINITY, hi = -INFINITY, s = 0;
            size_t n = 0;
            for (size_t i = 0; i < nb; i++)
                if (isfinite(p[i])) {
                    lo = fmin(lo, p[i]);
                    hi = fmax(hi, p[i]);
                    s += p[i];
                    n++;
                }
            cell(b, 10, 2, lo);
            cell(b, 10, 2, n ? s / (double)n : NAN);
            cell(b, 10, 2, hi);
        } else {
            for (size_t i = 0; i < nb; i++)
                cell(b, 10, 2, p[i]);
        }
        cell(b, 10, 2, r->energy_price[t]);
        pgi_buf_puts(b, "\n");
    }
}

static void
text_costs(pgi_buf *b, const pg_dispatch_result *r)
{
    size_t T = r->n_steps;
    pgi_buf_printf(b, "\nCost ($)\n%6s %12s %12s %12s %12s %12s\n", "hour", "variable", "fixed",
                   "start-up", "penalty", "total");
    double tv = 0, tf = 0, ts = 0, tp = 0;
    for (size_t t = 0; t < T; t++) {
        double v = r->cost_variable[t], f = r->cost_fixed[t], s = r->cost_startup[t],
               p = r->cost_penalty[t];
        pgi_buf_printf(b, "%6g", (double)t * r->step_h);
        cell(b, 12, 2, v);
        cell(b, 12, 2, f);
        cell(b, 12, 2, s);
        cell(b, 12, 2, p);
        cell(b, 12, 2, v + f + s + p);
        pgi_buf_puts(b, "\n");
        tv += v, tf += f, ts += s, tp += p;
    }
    pgi_buf_printf(b, "%6s", "total");
    cell(b, 12, 2, tv);
    cell(b, 12, 2, tf);
    cell(b, 12, 2, ts);
    cell(b, 12, 2, tp);
    cell(b, 12, 2, r->total_cost);
    pgi_buf_printf(b,
                   "\n\nTotal cost %.2f $; unserved energy %.3f MWh; spilled generation %.3f MWh; "
                   "curtailed renewable energy %.3f MWh\n",
                   r->total_cost, r->total_unserved_mwh, r->total_overgen_mwh,
                   r->total_curtailed_mwh);
}

static void
text_ac(pgi_buf *b, const pg_dispatch_ac *ac, const pg_dispatch_result *r)
{
    pgi_buf_printf(
        b, "\nAC power flow of each step's schedule (violations are reported, not enforced)\n");
    pgi_buf_printf(b, "%6s %6s %5s %10s %10s %8s %8s %7s %10s %8s %5s\n", "hour", "solved", "iter",
                   "losses MW", "slack MW", "Vmin", "Vmax", "V out", "overloads", "max load",
                   "Q lim");
    bool held = false;
    for (size_t t = 0; t < ac->n_steps; t++) {
        const pg_dispatch_ac_step *s = &ac->steps[t];
        held = held || s->ref_held;
        pgi_buf_printf(b, "%6g %6s %5d", (double)t * r->step_h, s->solved ? "yes" : "NO",
                       s->iterations);
        cell(b, 10, 3, s->losses_mw);
        cell(b, 10, 3, s->slack_mw);
        cell(b, 8, 4, s->vm_min);
        cell(b, 8, 4, s->vm_max);
        pgi_buf_printf(b, " %7zu %10zu", s->n_voltage, s->n_overload);
        if (isfinite(s->max_loading))
            pgi_buf_printf(b, " %7.1f%%", 100 * s->max_loading);
        else
            pgi_buf_printf(b, " %8s", "-");
        pgi_buf_printf(b, " %5zu%s\n", s->n_q_limit, s->ref_held ? " *" : "");
    }
    for (size_t t = 0; t < ac->n_steps; t++)
        if (!ac->steps[t].solved)
            pgi_buf_printf(b, "  hour %g: %s\n", (double)t * r->step_h, ac->steps[t].reason);
    if (held)
        pgi_buf_printf(b,
                       "  * the reference bus's unit is off in the schedule; the power flow kept "
                       "it connected at 0 MW to hold the voltage and take up the losses\n");
    pgi_buf_printf(b,
                   "AC check: %zu of %zu steps solved; %zu with voltage, flow or reactive-limit "
                   "violations\n",
                   ac->n_steps - ac->n_unsolved, ac->n_steps, ac->n_with_violations);
}

static int
finish(pgi_buf *b, char **text, pg_error *err)
{
    if (b->failed || !b->data) {
        pgi_buf_free(b);
        return pg_error_set(err, PG_ENOMEM, "out of memory while writing the report");
    }
    *text = b->data;
    return PG_OK;
}

int
pg_dispatch_result_text(const pg_world *w, const pg_dispatch_result *r, const pg_dispatch_ac *ac,
                        char **text, pg_error *err)
{
    if (!w || !r || !text)
        return pg_error_set(err, PG_EINVAL, "pg_dispatch_result_text: NULL argument");
    if (w->n_buses != r->n_buses || w->n_branches != r->n_branches ||
        w->n_thermals != r->n_thermals || w->n_renewables != r->n_renewables ||
        w->n_storages != r->n_storages || (ac && ac->n_steps != r->n_steps))
        return pg_error_set(err, PG_EINVAL, "the dispatch result is not from this world");
    pgi_buf b = {0};
    text_header(&b, w, r);
    text_schedule(&b, w, r);
    text_prices(&b, w, r);
    text_costs(&b, r);
    if (ac)
        text_ac(&b, ac, r);
    return finish(&b, text, err);
}

/* ------------------------------------------------------------------ DC OPF */

int
pg_dcopf_result_text(const pg_world *w, const pg_dcopf_result *r, char **text, pg_error *err)
{
    if (!w || !r || !text)
        return pg_error_set(err, PG_EINVAL, "pg_dcopf_result_text: NULL argument");
    if (w->n_buses != r->n_buses || w->n_branches != r->n_branches ||
        w->n_thermals != r->n_thermals)
        return pg_error_set(err, PG_EINVAL, "the OPF result is not from this world");
    const char *rule = "================================================================"
                       "================";
    size_t nb = w->n_buses ? w->n_buses : 1;
    double *load = calloc(nb, sizeof *load), *gen = calloc(nb, sizeof *gen);
    pgi_buf b = {0};
    if (!load || !gen) {
        free(load);
        free(gen);
        return pg_error_set(err, PG_ENOMEM, "out of memory while writing the report");
    }
    double pg = 0;
    size_t on = 0;
    for (size_t g = 0; g < r->n_thermals; g++) {
        pg += r->pg[g];
        on += w->thermals[g].in_service;
    }
    pgi_buf_printf(&b,
                   "DC optimal power flow of %s: %zu buses, %zu generators (%zu in service), %zu "
                   "branches\n",
                   w->name, w->n_buses, w->n_thermals, on, w->n_branches);
    pgi_buf_printf(&b, "Objective function value: %.2f $/hr (solved in %.1f ms)\n", r->objective,
                   r->seconds * 1e3);
    pgi_buf_printf(&b, "Total generation %.2f MW, load %.2f MW", pg, pg_world_load_mw(w, PG_NONE));
    if (r->unserved_mw > 0)
        pgi_buf_printf(&b, ", NOT SERVED %.2f MW", r->unserved_mw);
    if (r->overgen_mw > 0)
        pgi_buf_printf(&b, ", spilled %.2f MW", r->overgen_mw);
    pgi_buf_printf(&b, "\n\n%s\n|     Generator Data%*s|\n%s\n", rule, 59, "", rule);
    pgi_buf_printf(&b, " Gen   Bus   Status     Pg (MW)   Lambda ($/MWh)\n");
    pgi_buf_printf(&b, "-----  -----  ------  ----------  --------------\n");
    for (size_t g = 0; g < r->n_thermals; g++) {
        const pg_thermal *t = &w->thermals[g];
        pgi_buf_printf(&b, "%5zu  %5d  %6d ", g + 1, w->buses[t->bus].number,
                       t->in_service ? 1 : 0);
        cell(&b, 10, 2, r->pg[g]);
        pgi_buf_puts(&b, " ");
        cell(&b, 14, 2, r->lmp[t->bus]);
        pgi_buf_puts(&b, "\n");
    }
    pgi_buf_printf(&b, "\n%s\n|     Bus Data%*s|\n%s\n", rule, 65, "", rule);
    pgi_buf_printf(&b, "  Bus    Va (deg)   Load (MW)   Gen (MW)   Lambda P ($/MWh)\n");
    pgi_buf_printf(&b, "------  ---------  ----------  ---------  ----------------\n");
    for (size_t i = 0; i < w->n_loads; i++)
        if (w->loads[i].in_service)
            load[w->loads[i].bus] += w->loads[i].p;
    for (size_t g = 0; g < r->n_thermals; g++)
        gen[w->thermals[g].bus] += r->pg[g];
    for (size_t i = 0; i < r->n_buses; i++) {
        pgi_buf_printf(&b, "%6d ", w->buses[i].number);
        cell(&b, 9, 3, r->va[i]);
        pgi_buf_puts(&b, " ");
        cell(&b, 10, 2, load[i]);
        pgi_buf_puts(&b, " ");
        cell(&b, 9, 2, gen[i]);
        pgi_buf_puts(&b, " ");
        cell(&b, 16, 3, r->lmp[i]);
        pgi_buf_puts(&b, "\n");
    }
    free(load);
    free(gen);
    size_t binding = 0;
    for (size_t k = 0; k < r->n_branches; k++)
        binding += r->branch_price[k] != 0;
    pgi_buf_printf(&b, "\n%s\n|     Branch Flow Constraints%*s|\n%s\n", rule, 50, "", rule);
    if (!binding) {
        pgi_buf_printf(&b, "No branch limit binds.\n");
        return finish(&b, text, err);
    }
    pgi_buf_printf(&b, "Brnch   From     To   Flow (MW)  Limit (MW)  mu ($/MWh)\n");
    pgi_buf_printf(&b, "-----  -----  -----  ----------  ----------  ----------\n");
    for (size_t k = 0; k < r->n_branches; k++) {
        if (r->branch_price[k] == 0)
            continue;
        const pg_branch *br = &w->branches[k];
        pgi_buf_printf(&b, "%5zu  %5d  %5d ", k + 1, w->buses[br->from].number,
                       w->buses[br->to].number);
        cell(&b, 10, 2, r->flow[k]);
        pgi_buf_puts(&b, " ");
        cell(&b, 10, 2, br->rate_a);
        pgi_buf_puts(&b, " ");
        cell(&b, 10, 3, fabs(r->branch_price[k]));
        pgi_buf_puts(&b, "\n");
    }
    return finish(&b, text, err);
}
