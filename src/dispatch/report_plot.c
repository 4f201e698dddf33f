/* Charts of a day-ahead schedule (plot.h): the dispatch by unit as a stack with the load on top,
 * and the locational marginal prices over time. Built here once, rendered to SVG text or written
 * to files by the caller's choice, so that the command and a server show the same pictures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "plurigrid/dispatch.h"

/* Buses with a price line of their own in the prices chart; the rest are in the JSON and CSV. */
#define PRICE_LINES 12

/* Stack: thermal units, storage discharge, renewables, unserved demand; the load (plus storage
 * charging) as a line on top. */
static int
schedule_chart(pg_plot *p, const pg_world *w, const pg_dispatch_result *r, const double *x,
               double *y, pg_error *err)
{
    size_t T = r->n_steps;
    int rc = PG_OK;
    for (size_t g = 0; g < r->n_thermals && !rc; g++) {
        if (!w->thermals[g].in_service)
            continue;
        for (size_t t = 0; t < T; t++)
            y[t] = r->thermal_p[t * r->n_thermals + g];
        rc = pg_plot_add_stack(p, w->thermals[g].name, x, y, T, NULL, err);
    }
    for (size_t s = 0; s < r->n_storages && !rc; s++) {
        for (size_t t = 0; t < T; t++)
            y[t] = r->storage_discharge[t * r->n_storages + s];
        rc = pg_plot_add_stack(p, w->storages[s].name, x, y, T, NULL, err);
    }
    for (size_t k = 0; k < r->n_renewables && !rc; k++) {
        for (size_t t = 0; t < T; t++)
            y[t] = r->renewable_p[t * r->n_renewables + k];
        rc = pg_plot_add_stack(p, w->renewables[k].name, x, y, T, NULL, err);
    }
    if (!rc && r->total_unserved_mwh > 0) {
        for (size_t t = 0; t < T; t++)
            y[t] = pgi_sum(&r->bus_unserved[t * r->n_buses], r->n_buses);
        rc = pg_plot_add_stack(p, "unserved", x, y, T, "#d62728", err);
    }
    if (!rc) {
        for (size_t t = 0; t < T; t++) {
            y[t] = pgi_sum(&r->bus_demand[t * r->n_buses], r->n_buses);
            for (size_t s = 0; s < r->n_storages; s++)
                y[t] += r->storage_charge[t * r->n_storages + s];
        }
        rc = pg_plot_add_line(p, r->n_storages ? "load + charging" : "load", x, y, T, "#000000",
                              err);
    }
    return rc;
}

static int
prices_chart(pg_plot *p, const pg_world *w, const pg_dispatch_result *r, const double *x, double *y,
             pg_error *err)
{
    size_t T = r->n_steps, nb = r->n_buses, shown = 0;
    int rc = PG_OK;
    for (size_t b = 0; b < nb && !rc && shown < PRICE_LINES; b++) {
        if (w->buses[b].type == PG_BUS_ISOLATED)
            continue;
        shown++;
        for (size_t t = 0; t < T; t++)
            y[t] = r->lmp[t * nb + b];
        rc = pg_plot_add_line(p, w->buses[b].name, x, y, T, NULL, err);
    }
    return rc;
}

int
pg_dispatch_plot(pg_plot **out, const pg_world *w, const pg_dispatch_result *r,
                 pg_dispatch_chart chart, pg_error *err)
{
    if (!out || !w || !r)
        return pg_error_set(err, PG_EINVAL, "pg_dispatch_plot: NULL argument");
    if (w->n_buses != r->n_buses || w->n_thermals != r->n_thermals ||
        w->n_renewables != r->n_renewables || w->n_storages != r->n_storages)
        return pg_error_set(err, PG_EINVAL, "the dispatch result is not from this world");
    if (chart != PG_DISPATCH_CHART_SCHEDULE && chart != PG_DISPATCH_CHART_PRICES)
        return pg_error_set(err, PG_EINVAL, "pg_dispatch_plot: no chart %d", (int)chart);
    size_t T = r->n_steps ? r->n_steps : 1;
    double *x = malloc(T * sizeof *x), *y = malloc(T * sizeof *y);
    pg_plot *p = NULL;
    int rc = PG_OK;
    if (!x || !y) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t t = 0; t < r->n_steps; t++)
        x[t] = (double)t * r->step_h;
    pg_plot_options po;
    pg_plot_options_init(&po);
    po.step = 1;
    char title[300];
    bool schedule = chart == PG_DISPATCH_CHART_SCHEDULE;
    snprintf(title, sizeof title, "%s: %s", w->name,
             schedule ? "dispatch by unit" : "locational marginal prices");
    if ((rc = pg_plot_new(&p, title, "hour", schedule ? "MW" : "$/MWh", &po, err)))
        goto out;
    rc = schedule ? schedule_chart(p, w, r, x, y, err) : prices_chart(p, w, r, x, y, err);
    if (rc)
        goto out;
    *out = p;
    p = NULL;
out:
    pg_plot_free(p);
    free(x);
    free(y);
    return rc;
}

int
pg_dispatch_write_plots(const pg_world *w, const pg_dispatch_result *r, const char *dir,
                        pg_error *err)
{
    if (!dir || !dir[0])
        return pg_error_set(err, PG_EINVAL, "pg_dispatch_write_plots: no folder");
    static const struct {
        pg_dispatch_chart chart;
        const char *file;
    } charts[] = {{PG_DISPATCH_CHART_SCHEDULE, "dispatch.svg"},
                  {PG_DISPATCH_CHART_PRICES, "prices.svg"}};
    int rc = PG_OK;
    for (size_t i = 0; i < sizeof charts / sizeof *charts && !rc; i++) {
        pg_plot *p = NULL;
        size_t n = strlen(dir) + strlen(charts[i].file) + 2;
        char *path = malloc(n);
        if (!path)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        snprintf(path, n, "%s/%s", dir, charts[i].file);
        if (!(rc = pg_dispatch_plot(&p, w, r, charts[i].chart, err)))
            rc = pg_plot_write(p, path, err);
        pg_plot_free(p);
        free(path);
    }
    return rc;
}
