/* MATPOWER case writer: a pg_world as a MATPOWER version 2 function file that MATPOWER and Octave
 * load, and that pg_matpower_read_buffer() reads back into the same world. Numbers are written
 * in the shortest form that reads back to the same double. What a MATPOWER case cannot hold
 * (time series, renewables and storage as such, unit-commitment data, component names) is
 * written as well as the format allows and reported in notes (see docs/matpower.md). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "model/io/io_internal.h"

void
pgi_format_double(char *buf, size_t size, double x)
{
    if (isnan(x)) {
        snprintf(buf, size, "NaN");
        return;
    }
    if (isinf(x)) {
        snprintf(buf, size, x > 0 ? "Inf" : "-Inf");
        return;
    }
    for (int p = 15; p <= 17; p++) {
        snprintf(buf, size, "%.*g", p, x);
        if (p == 17 || strtod(buf, NULL) == x)
            return;
    }
}

static void
put_num(pgi_buf *b, double x)
{
    char s[40];
    pgi_format_double(s, sizeof s, x);
    pgi_buf_puts(b, "\t");
    pgi_buf_puts(b, s);
}

/* A MATLAB identifier made from the world's name (letters, digits, underscores, starting with a
 * letter), so the file is a valid function file. */
static void
function_name(const char *name, char *buf, size_t size)
{
    size_t n = 0;
    if (!name || !isalpha((unsigned char)name[0]))
        n = (size_t)snprintf(buf, size, "case_");
    for (const char *p = name ? name : ""; *p && n + 1 < size; p++)
        buf[n++] = (isalnum((unsigned char)*p) || *p == '_') ? *p : '_';
    buf[n < size ? n : size - 1] = '\0';
    if (strcmp(buf, "case_") == 0)
        snprintf(buf, size, "case_world");
}

static void
put_description(pgi_buf *b, const char *d)
{
    if (!d || !d[0])
        return;
    const char *p = d;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        pgi_buf_puts(b, "%");
        /* "%{" and blanks alone on a line would open a MATLAB block comment. */
        const char *q = p + 1;
        while (q < p + n && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (n > 0 && p[0] == '{' && q == p + n)
            pgi_buf_puts(b, " ");
        /* Trailing \r would read back as part of the line end. */
        size_t keep = n;
        while (keep > 0 && p[keep - 1] == '\r')
            keep--;
        pgi_buf_append(b, p, keep);
        pgi_buf_puts(b, "\n");
        if (!nl)
            break;
        p = nl + 1;
    }
}

/* A MATLAB single-quoted string: quotes doubled; a line break, which a string cannot hold, becomes
 * a blank. */
static bool
put_matlab_string(pgi_buf *b, const char *s)
{
    bool changed = false;
    pgi_buf_puts(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            pgi_buf_puts(b, "''");
        else if (*p == '\n') {
            pgi_buf_puts(b, " ");
            changed = true;
        } else
            pgi_buf_append(b, p, 1);
    }
    pgi_buf_puts(b, "'");
    return changed;
}

static void
row_range(char *buf, size_t size, size_t first, size_t last)
{
    if (first == last)
        snprintf(buf, size, "row %zu", first);
    else
        snprintf(buf, size, "rows %zu-%zu", first, last);
}

static size_t
bus_thermal_vg(const pg_world *w, size_t bus)
{
    for (size_t i = 0; i < w->n_thermals; i++)
        if (w->thermals[i].bus == bus)
            return i;
    return PG_NONE;
}

/* Writes the case; the function is named after func (the file's base name when writing a file, as
 * MATPOWER's savecase does, since MATLAB calls a function file by its file name), or after the
 * world's name when func is NULL. */
static int
write_case(const pg_world *w, const char *func, char **text, size_t *len, pg_notes *notes_out,
           pg_error *err)
{
    pgi_buf b = {0};
    pg_notes notes = {0};
    double *pd = calloc(w->n_buses ? w->n_buses : 1, sizeof *pd);
    double *qd = calloc(w->n_buses ? w->n_buses : 1, sizeof *qd);
    size_t *nload = calloc(w->n_buses ? w->n_buses : 1, sizeof *nload);
    int rc = PG_OK;
    if (!pd || !qd || !nload) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < w->n_buses; i++)
        if (w->buses[i].number <= 0) {
            rc = pg_error_set(err, PG_EMODEL,
                              "bus '%s' has number %d; MATPOWER needs bus numbers > 0",
                              w->buses[i].name, w->buses[i].number);
            goto out;
        }
#define NOTE(...)                                                                                  \
    do {                                                                                           \
        if (pg_notes_add(&notes, __VA_ARGS__)) {                                                   \
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");                                    \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

    /* ------------------------------------------------ what MATPOWER cannot hold */
    bool load_names = false, merged = false, load_series = false, load_off = false;
    for (size_t i = 0; i < w->n_loads; i++) {
        const pg_load *l = &w->loads[i];
        if (l->bus >= w->n_buses) {
            rc = pg_error_set(err, PG_EMODEL, "load '%s' refers to a bus that does not exist",
                              l->name);
            goto out;
        }
        if (!l->in_service) {
            load_off = true;
            continue;
        }
        pd[l->bus] += l->p;
        qd[l->bus] += l->q;
        if (nload[l->bus]++)
            merged = true;
        char dn[40];
        snprintf(dn, sizeof dn, "load %d", w->buses[l->bus].number);
        if (strcmp(dn, l->name) != 0)
            load_names = true;
        if (l->p_series != PG_NONE || l->q_series != PG_NONE)
            load_series = true;
    }
    if (merged)
        NOTE("MATPOWER has one load per bus: loads at the same bus were added together");
    if (load_off)
        NOTE("loads out of service were left out (MATPOWER loads have no status)");
    if (load_series)
        NOTE("time series are not written (MATPOWER cases have none): loads are at their "
             "nominal values");
    else if (w->n_series)
        NOTE("time series are not written (MATPOWER cases have none)");
    bool placed = false;
    for (size_t i = 0; i < w->n_buses && !placed; i++)
        placed = !isnan(w->buses[i].x) || !isnan(w->buses[i].y);
    if (placed)
        NOTE("bus positions on the drawing (x, y) are not written (MATPOWER cases have none)");
    bool comp_names = load_names;
    bool uc = false, fixed = false, ramps = false;
    for (size_t i = 0; i < w->n_thermals; i++) {
        const pg_thermal *t = &w->thermals[i];
        char dn[40];
        snprintf(dn, sizeof dn, "gen %zu", i + 1);
        if (strcmp(dn, t->name) != 0)
            comp_names = true;
        if (t->min_up_h != 0 || t->min_down_h != 0 || t->initial_h != 0 ||
            t->initial_on != t->in_service)
            uc = true;
        if (t->fixed_cost != 0)
            fixed = true;
        if (t->ramp_up != t->ramp_down)
            ramps = true;
        if (t->bus >= w->n_buses) {
            rc = pg_error_set(err, PG_EMODEL,
                              "thermal unit '%s' refers to a bus that does not exist", t->name);
            goto out;
        }
    }
    for (size_t i = 0; i < w->n_branches; i++) {
        char dn[40];
        snprintf(dn, sizeof dn, "branch %zu", i + 1);
        if (strcmp(dn, w->branches[i].name) != 0)
            comp_names = true;
        if (w->branches[i].from >= w->n_buses || w->branches[i].to >= w->n_buses) {
            rc = pg_error_set(err, PG_EMODEL, "branch '%s' connects a bus that does not exist",
                              w->branches[i].name);
            goto out;
        }
    }
    for (size_t i = 0; i < w->n_renewables; i++)
        if (w->renewables[i].bus >= w->n_buses) {
            rc = pg_error_set(err, PG_EMODEL,
                              "renewable unit '%s' refers to a bus that does not exist",
                              w->renewables[i].name);
            goto out;
        }
    for (size_t i = 0; i < w->n_storages; i++)
        if (w->storages[i].bus >= w->n_buses) {
            rc = pg_error_set(err, PG_EMODEL,
                              "storage unit '%s' refers to a bus that does not exist",
                              w->storages[i].name);
            goto out;
        }
    if (comp_names)
        NOTE("MATPOWER keeps only bus names: loads, generators and branches read back as "
             "'load <bus>', 'gen <row>' and 'branch <row>'");
    if (uc)
        NOTE("minimum up/down times and initial commitment states are not written (MATPOWER "
             "cases have no place for them)");
    if (fixed)
        NOTE("fixed (no-load) costs are added to the constant term of each unit's cost curve");
    if (ramps)
        NOTE("MATPOWER has one ramp limit per generator (RAMP_30): the smaller of the up and "
             "down ramp limits was written");
    if (w->n_renewables) {
        char rows[64];
        row_range(rows, sizeof rows, w->n_thermals + 1, w->n_thermals + w->n_renewables);
        NOTE("renewable units are written as generators (%s of mpc.gen) at their power "
             "setpoint; they read back as thermal units",
             rows);
    }
    if (w->n_storages) {
        char rows[64];
        row_range(rows, sizeof rows, w->n_thermals + w->n_renewables + 1,
                  w->n_thermals + w->n_renewables + w->n_storages);
        NOTE("storage units are written as generators (%s of mpc.gen) that can consume down to "
             "their charging limit; state of charge is not written",
             rows);
    }

    /* ------------------------------------------------ header */
    char fname[128];
    const char *wanted = func ? func : (w->name ? w->name : "");
    function_name(wanted, fname, sizeof fname);
    if (strcmp(fname, wanted) != 0)
        NOTE("'%s' is not a MATLAB function name: the case function is called '%s'", wanted, fname);
    pgi_buf_printf(&b, "function mpc = %s\n", fname);
    put_description(&b, w->description);
    pgi_buf_puts(&b, "\n%% MATPOWER Case Format : Version 2\n"
                     "mpc.version = '2';\n\n"
                     "%%-----  Power Flow Data  -----%%\n"
                     "%% system MVA base\n"
                     "mpc.baseMVA = ");
    char s[40];
    pgi_format_double(s, sizeof s, w->base_mva);
    pgi_buf_printf(&b, "%s;\n\n", s);

    /* ------------------------------------------------ buses */
    pgi_buf_puts(&b, "%% bus data\n"
                     "%\tbus_i\ttype\tPd\tQd\tGs\tBs\tarea\tVm\tVa\tbaseKV\tzone\tVmax\tVmin\n"
                     "mpc.bus = [\n");
    for (size_t i = 0; i < w->n_buses; i++) {
        const pg_bus *bu = &w->buses[i];
        pgi_buf_printf(&b, "\t%d\t%d", bu->number, (int)bu->type);
        put_num(&b, pd[i]);
        put_num(&b, qd[i]);
        put_num(&b, bu->gs);
        put_num(&b, bu->bs);
        pgi_buf_printf(&b, "\t%d", bu->area);
        put_num(&b, bu->vm);
        put_num(&b, bu->va);
        put_num(&b, bu->base_kv);
        pgi_buf_printf(&b, "\t%d", bu->zone);
        put_num(&b, bu->vmax);
        put_num(&b, bu->vmin);
        pgi_buf_puts(&b, ";\n");
    }
    pgi_buf_puts(&b, "];\n\n");

    /* ------------------------------------------------ generators */
    pgi_buf_puts(&b, "%% generator data\n"
                     "%\tbus\tPg\tQg\tQmax\tQmin\tVg\tmBase\tstatus\tPmax\tPmin\tPc1\tPc2\t"
                     "Qc1min\tQc1max\tQc2min\tQc2max\tramp_agc\tramp_10\tramp_30\tramp_q\tapf\n"
                     "mpc.gen = [\n");
    for (size_t i = 0; i < w->n_thermals; i++) {
        const pg_thermal *t = &w->thermals[i];
        pgi_buf_printf(&b, "\t%d", w->buses[t->bus].number);
        double ramp = t->ramp_up;
        if (t->ramp_up != t->ramp_down)
            ramp = t->ramp_up == 0     ? t->ramp_down
                   : t->ramp_down == 0 ? t->ramp_up
                                       : fmin(t->ramp_up, t->ramp_down);
        double v[] = {t->p,    t->q,    t->qmax, t->qmin,    t->vg, t->mbase, t->in_service ? 1 : 0,
                      t->pmax, t->pmin, 0,       0,          0,     0,        0,
                      0,       0,       0,       ramp / 2.0, 0,     0};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++)
            put_num(&b, v[k]);
        pgi_buf_puts(&b, ";\n");
    }
    for (size_t i = 0; i < w->n_renewables; i++) {
        const pg_renewable *r = &w->renewables[i];
        size_t th = bus_thermal_vg(w, r->bus);
        double vg = th != PG_NONE ? w->thermals[th].vg : w->buses[r->bus].vm;
        pgi_buf_printf(&b, "\t%d", w->buses[r->bus].number);
        double v[] = {r->p,
                      r->q,
                      r->q,
                      r->q,
                      vg,
                      w->base_mva,
                      r->in_service ? 1 : 0,
                      r->rating,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++)
            put_num(&b, v[k]);
        pgi_buf_puts(&b, ";\n");
    }
    for (size_t i = 0; i < w->n_storages; i++) {
        const pg_storage *st = &w->storages[i];
        size_t th = bus_thermal_vg(w, st->bus);
        double vg = th != PG_NONE ? w->thermals[th].vg : w->buses[st->bus].vm;
        pgi_buf_printf(&b, "\t%d", w->buses[st->bus].number);
        double v[] = {st->p,
                      st->q,
                      st->q,
                      st->q,
                      vg,
                      w->base_mva,
                      st->in_service ? 1 : 0,
                      st->discharge_mw,
                      -st->charge_mw,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++)
            put_num(&b, v[k]);
        pgi_buf_puts(&b, ";\n");
    }
    pgi_buf_puts(&b, "];\n\n");

    /* ------------------------------------------------ branches */
    pgi_buf_puts(&b, "%% branch data\n"
                     "%\tfbus\ttbus\tr\tx\tb\trateA\trateB\trateC\tratio\tangle\tstatus\tangmin\t"
                     "angmax\n"
                     "mpc.branch = [\n");
    for (size_t i = 0; i < w->n_branches; i++) {
        const pg_branch *br = &w->branches[i];
        pgi_buf_printf(&b, "\t%d\t%d", w->buses[br->from].number, w->buses[br->to].number);
        /* TAP 0 is MATPOWER's way of saying "a line"; a transformer keeps its ratio, even 1. */
        double tap = (br->kind == PG_BRANCH_LINE && br->tap == 1.0) ? 0.0 : br->tap;
        double v[] = {br->r,      br->x,      br->b,
                      br->rate_a, br->rate_b, br->rate_c,
                      tap,        br->shift,  br->in_service ? 1 : 0,
                      br->angmin, br->angmax};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++)
            put_num(&b, v[k]);
        pgi_buf_puts(&b, ";\n");
    }
    pgi_buf_puts(&b, "];\n");

    /* ------------------------------------------------ costs */
    bool any_cost = w->n_renewables || w->n_storages;
    size_t width = 1;
    for (size_t i = 0; i < w->n_thermals; i++) {
        const pg_cost *c = &w->thermals[i].cost;
        const pg_thermal *t = &w->thermals[i];
        if (c->model != PG_COST_NONE || t->startup_cost || t->shutdown_cost || t->fixed_cost)
            any_cost = true;
        size_t k = c->model == PG_COST_PIECEWISE ? 2 * c->n : c->n;
        if (k > width)
            width = k;
    }
    if (any_cost) {
        if (width < 2 && (w->n_renewables || w->n_storages))
            width = 2;
        pgi_buf_puts(&b, "\n%%-----  OPF Data  -----%%\n"
                         "%% generator cost data\n"
                         "%\t1\tstartup\tshutdown\tn\tx1\ty1\t...\txn\tyn\n"
                         "%\t2\tstartup\tshutdown\tn\tc(n-1)\t...\tc0\n"
                         "mpc.gencost = [\n");
        double *row = calloc(4 + width, sizeof *row);
        if (!row) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < w->n_thermals + w->n_renewables + w->n_storages; i++) {
            memset(row, 0, (4 + width) * sizeof *row);
            row[0] = 2;
            if (i < w->n_thermals) {
                const pg_thermal *t = &w->thermals[i];
                const pg_cost *c = &t->cost;
                row[1] = t->startup_cost;
                row[2] = t->shutdown_cost;
                if (c->model == PG_COST_PIECEWISE) {
                    row[0] = 1;
                    row[3] = (double)c->n;
                    for (size_t k = 0; k < c->n; k++) {
                        row[4 + 2 * k] = c->px[k];
                        row[5 + 2 * k] = c->py[k] + t->fixed_cost;
                    }
                } else if (c->model == PG_COST_POLYNOMIAL) {
                    row[3] = (double)c->n;
                    for (size_t k = 0; k < c->n; k++)
                        row[4 + k] = c->coef[c->n - 1 - k];
                    if (c->n)
                        row[4 + c->n - 1] += t->fixed_cost;
                    else if (t->fixed_cost) {
                        row[3] = 1;
                        row[4] = t->fixed_cost;
                    }
                } else if (t->fixed_cost) {
                    row[3] = 1;
                    row[4] = t->fixed_cost;
                }
            } else {
                size_t j = i - w->n_thermals;
                double lin = j < w->n_renewables ? w->renewables[j].cost
                                                 : w->storages[j - w->n_renewables].cost;
                row[3] = 2;
                row[4] = lin;
                row[5] = 0;
            }
            for (size_t k = 0; k < 4 + width; k++) {
                if (k == 0) {
                    pgi_buf_printf(&b, "\t%d", (int)row[0]);
                    continue;
                }
                put_num(&b, row[k]);
            }
            pgi_buf_puts(&b, ";\n");
        }
        free(row);
        pgi_buf_puts(&b, "];\n");
    }

    /* ------------------------------------------------ bus names */
    bool names = false;
    for (size_t i = 0; i < w->n_buses && !names; i++) {
        char num[24];
        snprintf(num, sizeof num, "%d", w->buses[i].number);
        names = strcmp(num, w->buses[i].name) != 0;
    }
    if (names) {
        bool changed = false;
        pgi_buf_puts(&b, "\n%% bus names\nmpc.bus_name = {\n");
        for (size_t i = 0; i < w->n_buses; i++) {
            pgi_buf_puts(&b, "\t");
            changed |= put_matlab_string(&b, w->buses[i].name);
            pgi_buf_puts(&b, ";\n");
        }
        pgi_buf_puts(&b, "};\n");
        if (changed)
            NOTE("line breaks in bus names were replaced by blanks");
    }
#undef NOTE
    if (b.failed) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
out:
    free(pd);
    free(qd);
    free(nload);
    if (rc) {
        pgi_buf_free(&b);
        pg_notes_clear(&notes);
        return rc;
    }
    if (pgi_notes_move(notes_out, &notes)) {
        pgi_buf_free(&b);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    *text = b.data;
    if (len)
        *len = b.len;
    return PG_OK;
}

int
pg_matpower_write_buffer(const pg_world *w, char **text, size_t *len, pg_notes *notes_out,
                         pg_error *err)
{
    if (!w || !text)
        return pg_error_set(err, PG_EINVAL, "pg_matpower_write_buffer: NULL argument");
    return write_case(w, NULL, text, len, notes_out, err);
}

int
pg_matpower_write_file(const pg_world *w, const char *path, pg_notes *notes, pg_error *err)
{
    if (!w || !path)
        return pg_error_set(err, PG_EINVAL, "pg_matpower_write_file: NULL argument");
    char *text = NULL;
    size_t len = 0;
    pg_notes local = {0};
    /* The function name is the file's base name without ".m". */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char func[128];
    snprintf(func, sizeof func, "%s", base);
    size_t fl = strlen(func);
    if (fl > 2 && strcmp(func + fl - 2, ".m") == 0)
        func[fl - 2] = '\0';
    int rc = write_case(w, func[0] ? func : NULL, &text, &len, &local, err);
    if (rc)
        return rc;
    rc = pgi_write_text_file(path, text, len, err);
    free(text);
    if (rc) {
        pg_notes_clear(&local);
        return rc;
    }
    if (pgi_notes_move(notes, &local))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    return PG_OK;
}
