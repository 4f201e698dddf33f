/* The network view a power-flow solver keeps of a world: the admittance pattern (compressed
 * columns, every diagonal present), where each branch lands in it, the islands and the class of
 * each bus (REF, PV, PQ or dead), and the admittance values. Topology and values are built
 * separately and each is remembered with the world data it came from, so that a solver can tell
 * when a new world has the same topology (reuse everything) or the same parameters (reuse the
 * values). The public pg_pf_admittance_build is here too. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"
#include "powerflow/pf_internal.h"

/* ---------------------------------------------------------------- checks */

void
pgi_pf_say(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

static void
bus_label(const pg_world *w, size_t b, char *buf, size_t size)
{
    const pg_bus *bus = &w->buses[b];
    char num[32];
    snprintf(num, sizeof num, "%d", bus->number);
    if (!bus->name || strcmp(bus->name, num) == 0)
        pgi_pf_say(buf, size, "bus %d", bus->number);
    else
        pgi_pf_say(buf, size, "bus %d '%s'", bus->number, bus->name);
}

static bool
finite2(double a, double b)
{
    return isfinite(a) && isfinite(b);
}

/* What a world's network is made of: base MVA, bus types and shunts, branch ends and parameters,
 * where the thermal units are. A solver checks this only for a network it has not seen (what it
 * keeps was checked when it was built). */
static int
check_network(const pg_world *w, pg_error *err)
{
    if (!(w->base_mva > 0) || !isfinite(w->base_mva))
        return pg_error_set(err, PG_EMODEL,
                            "power flow: base MVA must be a positive number, got %g", w->base_mva);
    if (w->n_buses == 0)
        return pg_error_set(err, PG_EMODEL, "power flow: the world has no buses");
    if (w->n_buses > INT32_MAX / 4 || w->n_branches > INT32_MAX / 8 || w->n_thermals > INT32_MAX)
        return pg_error_set(err, PG_ELIMIT, "power flow: the world is too large");
    size_t nb = w->n_buses;
    for (size_t i = 0; i < nb; i++) {
        const pg_bus *b = &w->buses[i];
        if (b->type < PG_BUS_PQ || b->type > PG_BUS_ISOLATED)
            return pg_error_set(err, PG_EMODEL, "power flow: bus '%s' has unknown type %d",
                                b->name ? b->name : "?", (int)b->type);
        if (!finite2(b->gs, b->bs))
            return pg_error_set(
                err, PG_EMODEL,
                "power flow: bus '%s' has a shunt value that is not a finite number",
                b->name ? b->name : "?");
    }
    for (size_t l = 0; l < w->n_branches; l++) {
        const pg_branch *br = &w->branches[l];
        const char *nm = br->name ? br->name : "?";
        if (br->from >= nb || br->to >= nb)
            return pg_error_set(err, PG_EMODEL,
                                "power flow: branch '%s' refers to a bus that "
                                "does not exist",
                                nm);
        if (!finite2(br->r, br->x) || !finite2(br->b, br->tap) || !isfinite(br->shift))
            return pg_error_set(err, PG_EMODEL,
                                "power flow: branch '%s' has a parameter that "
                                "is not a finite number",
                                nm);
        if (br->in_service && br->r == 0 && br->x == 0)
            return pg_error_set(err, PG_EMODEL,
                                "power flow: branch '%s' has zero impedance "
                                "(r = x = 0); give it a small reactance or take it out of "
                                "service",
                                nm);
        if (br->tap < 0)
            return pg_error_set(err, PG_EMODEL,
                                "power flow: branch '%s' has negative tap ratio "
                                "%g",
                                nm, br->tap);
    }
    for (size_t g = 0; g < w->n_thermals; g++) {
        const pg_thermal *t = &w->thermals[g];
        if (t->bus >= nb)
            return pg_error_set(err, PG_EMODEL,
                                "power flow: thermal unit '%s' is at a bus "
                                "that does not exist",
                                t->name ? t->name : "?");
    }
    return PG_OK;
}

int
pgi_pf_check_inputs(const pg_world *w, pg_error *err)
{
    size_t nb = w->n_buses;
    for (size_t i = 0; i < nb; i++) {
        const pg_bus *b = &w->buses[i];
        if (!finite2(b->vm, b->va))
            return pg_error_set(err, PG_EMODEL,
                                "power flow: bus '%s' has a starting voltage that is not a finite "
                                "number",
                                b->name ? b->name : "?");
    }
    for (size_t g = 0; g < w->n_thermals; g++) {
        const pg_thermal *t = &w->thermals[g];
        if (!finite2(t->p, t->q) || !isfinite(t->vg) || isnan(t->qmin) || isnan(t->qmax))
            return pg_error_set(err, PG_EMODEL,
                                "power flow: thermal unit '%s' has a setpoint "
                                "that is not a finite number",
                                t->name ? t->name : "?");
    }
    for (size_t i = 0; i < w->n_loads; i++) {
        const pg_load *l = &w->loads[i];
        if (l->bus >= nb)
            return pg_error_set(err, PG_EMODEL,
                                "power flow: load '%s' is at a bus that does "
                                "not exist",
                                l->name ? l->name : "?");
        if (!finite2(l->p, l->q))
            return pg_error_set(err, PG_EMODEL,
                                "power flow: load '%s' has a value that is not "
                                "a finite number",
                                l->name ? l->name : "?");
    }
    for (size_t i = 0; i < w->n_renewables; i++) {
        const pg_renewable *r = &w->renewables[i];
        if (r->bus >= nb)
            return pg_error_set(err, PG_EMODEL,
                                "power flow: renewable unit '%s' is at a bus "
                                "that does not exist",
                                r->name ? r->name : "?");
        if (!finite2(r->p, r->q))
            return pg_error_set(err, PG_EMODEL,
                                "power flow: renewable unit '%s' has a setpoint "
                                "that is not a finite number",
                                r->name ? r->name : "?");
    }
    for (size_t i = 0; i < w->n_storages; i++) {
        const pg_storage *s = &w->storages[i];
        if (s->bus >= nb)
            return pg_error_set(err, PG_EMODEL,
                                "power flow: storage '%s' is at a bus that "
                                "does not exist",
                                s->name ? s->name : "?");
        if (!finite2(s->p, s->q))
            return pg_error_set(err, PG_EMODEL,
                                "power flow: storage '%s' has a setpoint that "
                                "is not a finite number",
                                s->name ? s->name : "?");
    }
    return PG_OK;
}

int
pgi_pf_check_world(const pg_world *w, pg_error *err)
{
    if (!w)
        return pg_error_set(err, PG_EINVAL, "power flow: the world is NULL");
    int rc = check_network(w, err);
    return rc ? rc : pgi_pf_check_inputs(w, err);
}

/* ---------------------------------------------------------------- topology */

static void
topology_free(pgi_pf_net *net)
{
    free(net->key);
    free(net->br_on);
    free(net->bf);
    free(net->bt);
    free(net->yp);
    free(net->yi);
    free(net->ydiag);
    free(net->brpos);
    free(net->ytpos);
    free(net->gp);
    free(net->gi);
    free(net->island);
    free(net->islands);
    free(net->cls0);
    net->key = NULL;
    net->br_on = NULL;
    net->bf = net->bt = NULL;
    net->yp = net->yi = net->ydiag = net->brpos = net->ytpos = net->gp = net->gi = NULL;
    net->island = net->cls0 = NULL;
    net->islands = NULL;
    net->n_islands = 0;
    net->key_len = 0;
}

static void
values_free(pgi_pf_net *net)
{
    free(net->par);
    free(net->ytre);
    free(net->ytim);
    free(net->ybr);
    free(net->shunt);
    free(net->chg);
    free(net->bdc);
    free(net->pfinj);
    net->par = net->ytre = net->ytim = net->ybr = NULL;
    net->shunt = net->chg = net->bdc = net->pfinj = NULL;
    net->par_len = 0;
    net->have_values = false;
}

void
pgi_pf_net_free(pgi_pf_net *net)
{
    if (!net)
        return;
    topology_free(net);
    values_free(net);
    memset(net, 0, sizeof *net);
}

static int
key_len_of(const pg_world *w)
{
    return (int)(w->n_buses + 3 * w->n_branches + 2 * w->n_thermals);
}

/* Writes the topology key of w; key has key_len_of(w) entries. */
static void
make_key(const pg_world *w, int *key)
{
    int k = 0;
    for (size_t i = 0; i < w->n_buses; i++)
        key[k++] = (int)w->buses[i].type;
    for (size_t l = 0; l < w->n_branches; l++) {
        key[k++] = (int)w->branches[l].from;
        key[k++] = (int)w->branches[l].to;
        key[k++] = w->branches[l].in_service ? 1 : 0;
    }
    for (size_t g = 0; g < w->n_thermals; g++) {
        key[k++] = (int)w->thermals[g].bus;
        key[k++] = w->thermals[g].in_service ? 1 : 0;
    }
}

pgi_pf_net_match
pgi_pf_net_compare(const pgi_pf_net *net, const pg_world *w)
{
    if (!w || !net->key || (size_t)net->nb != w->n_buses || (size_t)net->nl != w->n_branches ||
        (size_t)net->ng != w->n_thermals)
        return PGI_NET_OTHER;
    /* key: nb bus types, then (from, to, status) per branch, then (bus, status) per unit;
     * par: (r, x, b, tap, shift) per branch, then (gs, bs) per bus, then the base. Indices are
     * compared at full width, so that an index out of range never matches a valid one. */
    const int *key = net->key;
    const double *par = net->have_values ? net->par : NULL;
    bool same_values = par != NULL;
    for (size_t i = 0; i < w->n_buses; i++) {
        const pg_bus *bus = &w->buses[i];
        if (key[i] != (int)bus->type)
            return PGI_NET_OTHER;
        if (same_values) {
            const double *p = &par[5 * w->n_branches + 2 * i];
            same_values = p[0] == bus->gs && p[1] == bus->bs;
        }
    }
    key += w->n_buses;
    for (size_t l = 0; l < w->n_branches; l++, key += 3) {
        const pg_branch *br = &w->branches[l];
        if ((size_t)key[0] != br->from || (size_t)key[1] != br->to ||
            key[2] != (br->in_service ? 1 : 0))
            return PGI_NET_OTHER;
        if (same_values) {
            const double *p = &par[5 * l];
            same_values = p[0] == br->r && p[1] == br->x && p[2] == br->b && p[3] == br->tap &&
                          p[4] == br->shift;
        }
    }
    for (size_t g = 0; g < w->n_thermals; g++, key += 2)
        if ((size_t)key[0] != w->thermals[g].bus || key[1] != (w->thermals[g].in_service ? 1 : 0))
            return PGI_NET_OTHER;
    if (same_values)
        same_values = par[5 * w->n_branches + 2 * w->n_buses] == w->base_mva;
    return same_values ? PGI_NET_SAME : PGI_NET_SAME_TOPOLOGY;
}

static int
cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Position of row r in column c of the pattern (binary search; the row is there). */
static int
find_pos(const int *yp, const int *yi, int r, int c)
{
    int lo = yp[c], hi = yp[c + 1] - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (yi[mid] < r)
            lo = mid + 1;
        else if (yi[mid] > r)
            hi = mid - 1;
        else
            return mid;
    }
    return -1;
}

/* Islands (the model's), then each island's class assignment following MATPOWER's bustypes,
 * island by island. */
static int
build_islands(pgi_pf_net *net, const pg_world *w, pg_error *err)
{
    int nb = net->nb, rc = PG_OK;
    size_t *isl_of = malloc(sizeof *isl_of * (size_t)(nb ? nb : 1));
    int *parent = malloc(sizeof *parent * (size_t)(nb ? nb : 1));
    int *root_island = malloc(sizeof *root_island * (size_t)(nb ? nb : 1));
    net->island = malloc(sizeof *net->island * (size_t)(nb ? nb : 1));
    net->cls0 = malloc(sizeof *net->cls0 * (size_t)(nb ? nb : 1));
    if (!isl_of || !parent || !root_island || !net->island || !net->cls0) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    int n_isl = (int)pgi_world_islands(w, isl_of);
    for (int b = 0; b < nb; b++) {
        net->cls0[b] = PGI_DEAD;
        net->island[b] = isl_of[b] == PG_NONE ? -1 : (int)isl_of[b];
    }
    net->n_islands = n_isl;
    net->islands = calloc((size_t)(n_isl ? n_isl : 1), sizeof *net->islands);
    if (!net->islands) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n_isl; i++) {
        net->islands[i].first_bus = PG_NONE;
        net->islands[i].ref_bus = PG_NONE;
    }
    /* Per island: count buses, find REF buses with a unit, any REF-typed bus, first PV bus with a
     * unit (islands are numbered in order of their lowest bus, so a scan in bus order meets each
     * island's buses in increasing order). */
    int *has_ref_type = root_island; /* reuse: per island flags, reset below */
    int *first_pv = parent;
    for (int i = 0; i < n_isl; i++) {
        has_ref_type[i] = 0;
        first_pv[i] = -1;
    }
    for (int b = 0; b < nb; b++) {
        int isl = net->island[b];
        if (isl < 0)
            continue;
        pg_pf_island *I = &net->islands[isl];
        if (I->first_bus == PG_NONE)
            I->first_bus = (size_t)b;
        I->n_buses++;
        bool has_gen = net->gp[b + 1] > net->gp[b];
        pg_bus_type t = w->buses[b].type;
        if (t == PG_BUS_REF) {
            has_ref_type[isl] = 1;
            if (has_gen && I->ref_bus == PG_NONE)
                I->ref_bus = (size_t)b;
        }
        if (t == PG_BUS_PV && has_gen && first_pv[isl] < 0)
            first_pv[isl] = b;
    }
    for (int i = 0; i < n_isl; i++) {
        pg_pf_island *I = &net->islands[i];
        char lbl[300];
        bus_label(w, I->first_bus, lbl, sizeof lbl);
        I->status = PG_PF_ISLAND_SOLVED;
        if (I->ref_bus == PG_NONE) {
            if (has_ref_type[i] && first_pv[i] >= 0) {
                /* MATPOWER's bustypes: the first PV bus becomes the reference. */
                I->ref_bus = (size_t)first_pv[i];
            } else if (has_ref_type[i]) {
                I->status = PG_PF_ISLAND_NO_GENERATOR;
                pgi_pf_say(I->reason, sizeof I->reason,
                           "the island of %zu bus%s with %s has no thermal unit in service to "
                           "balance it",
                           I->n_buses, I->n_buses == 1 ? "" : "es", lbl);
            } else {
                I->status = PG_PF_ISLAND_NO_REFERENCE;
                pgi_pf_say(I->reason, sizeof I->reason,
                           "the island of %zu bus%s with %s has no reference bus", I->n_buses,
                           I->n_buses == 1 ? "" : "es", lbl);
            }
        }
    }
    for (int b = 0; b < nb; b++) {
        int isl = net->island[b];
        if (isl < 0 || net->islands[isl].status != PG_PF_ISLAND_SOLVED)
            continue;
        bool has_gen = net->gp[b + 1] > net->gp[b];
        pg_bus_type t = w->buses[b].type;
        if ((size_t)b == net->islands[isl].ref_bus || (t == PG_BUS_REF && has_gen))
            net->cls0[b] = PGI_REF;
        else if (t == PG_BUS_PV && has_gen)
            net->cls0[b] = PGI_PV;
        else
            net->cls0[b] = PGI_PQ;
    }
out:
    free(isl_of);
    free(parent);
    free(root_island);
    return rc;
}

int
pgi_pf_net_topology(pgi_pf_net *net, const pg_world *w, pg_error *err)
{
    int rc = PG_OK;
    int *deg = NULL, *adj = NULL, *mark = NULL;
    topology_free(net);
    values_free(net);
    int nb = (int)w->n_buses, nl = (int)w->n_branches, ng = (int)w->n_thermals;
    net->nb = nb;
    net->nl = nl;
    net->ng = ng;
    size_t nb1 = (size_t)nb + 1;
    net->key_len = key_len_of(w);
    net->key = malloc(sizeof *net->key * (size_t)(net->key_len ? net->key_len : 1));
    net->br_on = calloc((size_t)(nl ? nl : 1), 1);
    net->bf = malloc(sizeof *net->bf * (nl ? (size_t)nl : 1));
    net->bt = malloc(sizeof *net->bt * (nl ? (size_t)nl : 1));
    net->ydiag = malloc(sizeof *net->ydiag * (nb ? (size_t)nb : 1));
    net->brpos = malloc(sizeof *net->brpos * 4 * (nl ? (size_t)nl : 1));
    net->yp = calloc(nb1, sizeof *net->yp);
    net->gp = calloc(nb1 + 1, sizeof *net->gp);
    net->gi = malloc(sizeof *net->gi * (ng ? (size_t)ng : 1));
    deg = calloc(nb1, sizeof *deg);
    adj = malloc(sizeof *adj * 2 * (nl ? (size_t)nl : 1));
    mark = malloc(sizeof *mark * (nb ? (size_t)nb : 1));
    if (!net->key || !net->br_on || !net->bf || !net->bt || !net->ydiag || !net->brpos ||
        !net->yp || !net->gp || !net->gi || !deg || !adj || !mark) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    make_key(w, net->key);

    /* Branches in service whose both ends are live. */
    for (int l = 0; l < nl; l++) {
        const pg_branch *br = &w->branches[l];
        net->bf[l] = (int)br->from;
        net->bt[l] = (int)br->to;
        net->br_on[l] = br->in_service && w->buses[br->from].type != PG_BUS_ISOLATED &&
                        w->buses[br->to].type != PG_BUS_ISOLATED;
    }
    /* Thermal units in service at live buses, grouped by bus. */
    for (int g = 0; g < ng; g++) {
        const pg_thermal *t = &w->thermals[g];
        if (t->in_service && w->buses[t->bus].type != PG_BUS_ISOLATED)
            net->gp[t->bus + 1]++;
    }
    for (int b = 0; b < nb; b++)
        net->gp[b + 1] += net->gp[b];
    for (int b = 0; b < nb; b++)
        mark[b] = net->gp[b];
    for (int g = 0; g < ng; g++) {
        const pg_thermal *t = &w->thermals[g];
        if (t->in_service && w->buses[t->bus].type != PG_BUS_ISOLATED)
            net->gi[mark[t->bus]++] = g;
    }

    /* Adjacency (bus -> neighbour through an in-service branch), then the Ybus pattern: column
     * c holds c itself and its neighbours, sorted, without repeats. */
    for (int l = 0; l < nl; l++) {
        if (!net->br_on[l])
            continue;
        deg[w->branches[l].from + 1]++;
        deg[w->branches[l].to + 1]++;
    }
    for (int b = 0; b < nb; b++)
        deg[b + 1] += deg[b];
    for (int b = 0; b < nb; b++)
        mark[b] = deg[b];
    for (int l = 0; l < nl; l++) {
        if (!net->br_on[l])
            continue;
        int f = (int)w->branches[l].from, t = (int)w->branches[l].to;
        adj[mark[f]++] = t;
        adj[mark[t]++] = f;
    }
    int cap = nb + deg[nb];
    net->yi = malloc(sizeof *net->yi * (size_t)(cap ? cap : 1));
    if (!net->yi) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (int b = 0; b < nb; b++)
        mark[b] = -1;
    int nnz = 0;
    for (int c = 0; c < nb; c++) {
        int start = nnz;
        net->yi[nnz++] = c;
        mark[c] = c;
        for (int q = deg[c]; q < deg[c + 1]; q++) {
            int r = adj[q];
            if (mark[r] != c) {
                mark[r] = c;
                net->yi[nnz++] = r;
            }
        }
        qsort(net->yi + start, (size_t)(nnz - start), sizeof *net->yi, cmp_int);
        net->yp[c + 1] = nnz;
        net->ydiag[c] = find_pos(net->yp, net->yi, c, c);
    }
    net->ynnz = nnz;
    net->ytpos = malloc(sizeof *net->ytpos * (size_t)(nnz ? nnz : 1));
    if (!net->ytpos) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    /* The pattern is symmetric and rows are sorted, so walking the columns in order meets the
     * rows of each column in order too: one cursor per column finds every transposed entry. */
    for (int c = 0; c < nb; c++)
        mark[c] = net->yp[c];
    for (int c = 0; c < nb; c++)
        for (int p = net->yp[c]; p < net->yp[c + 1]; p++)
            net->ytpos[p] = mark[net->yi[p]]++;
    for (int l = 0; l < nl; l++) {
        int *p = &net->brpos[4 * l];
        if (!net->br_on[l]) {
            p[0] = p[1] = p[2] = p[3] = -1;
            continue;
        }
        int f = (int)w->branches[l].from, t = (int)w->branches[l].to;
        p[0] = net->ydiag[f];
        p[1] = find_pos(net->yp, net->yi, f, t); /* row f, column t */
        p[2] = find_pos(net->yp, net->yi, t, f);
        p[3] = net->ydiag[t];
    }
    rc = build_islands(net, w, err);
out:
    free(deg);
    free(adj);
    free(mark);
    if (rc)
        topology_free(net);
    return rc;
}

/* ---------------------------------------------------------------- values */

static int
par_len_of(const pg_world *w)
{
    return (int)(5 * w->n_branches + 2 * w->n_buses + 1);
}

int
pgi_pf_net_values(pgi_pf_net *net, const pg_world *w, pg_error *err)
{
    values_free(net);
    int nl = net->nl, nb = net->nb;
    net->par_len = par_len_of(w);
    net->par = malloc(sizeof *net->par * (size_t)net->par_len);
    net->ytre = calloc((size_t)(net->ynnz ? net->ynnz : 1), sizeof *net->ytre);
    net->ytim = calloc((size_t)(net->ynnz ? net->ynnz : 1), sizeof *net->ytim);
    net->ybr = calloc(8 * (size_t)(nl ? nl : 1), sizeof *net->ybr);
    net->shunt = malloc(sizeof *net->shunt * 2 * (size_t)(nb ? nb : 1));
    net->chg = calloc(2 * (size_t)(nl ? nl : 1), sizeof *net->chg);
    net->bdc = calloc((size_t)(nl ? nl : 1), sizeof *net->bdc);
    net->pfinj = calloc((size_t)(nl ? nl : 1), sizeof *net->pfinj);
    if (!net->par || !net->ytre || !net->ytim || !net->ybr || !net->shunt || !net->chg ||
        !net->bdc || !net->pfinj) {
        values_free(net);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    double *p = net->par;
    for (int l = 0; l < nl; l++, p += 5) {
        const pg_branch *br = &w->branches[l];
        p[0] = br->r;
        p[1] = br->x;
        p[2] = br->b;
        p[3] = br->tap;
        p[4] = br->shift;
    }
    for (int b = 0; b < nb; b++, p += 2) {
        p[0] = w->buses[b].gs;
        p[1] = w->buses[b].bs;
    }
    p[0] = w->base_mva;

    const double deg = M_PI / 180.0;
    for (int l = 0; l < nl; l++) {
        if (!net->br_on[l])
            continue;
        const pg_branch *br = &w->branches[l];
        /* Series admittance ys = 1 / (r + jx). */
        double den = br->r * br->r + br->x * br->x;
        double ysr = br->r / den, ysi = -br->x / den;
        /* Complex ratio t = tap e^{j shift} (a tap of 0 means 1, as in MATPOWER). */
        double tap = br->tap != 0 ? br->tap : 1.0;
        double tr = tap * cos(br->shift * deg), ti = tap * sin(br->shift * deg);
        double t2 = tr * tr + ti * ti;
        /* ytt = ys + j b/2; yff = ytt / |t|^2; yft = -ys / conj(t); ytf = -ys / t. */
        double yttr = ysr, ytti = ysi + br->b / 2;
        double yffr = yttr / t2, yffi = ytti / t2;
        /* -ys / conj(t) = -ys t / |t|^2 */
        double yftr = -(ysr * tr - ysi * ti) / t2, yfti = -(ysr * ti + ysi * tr) / t2;
        /* -ys / t = -ys conj(t) / |t|^2 */
        double ytfr = -(ysr * tr + ysi * ti) / t2, ytfi = -(ysi * tr - ysr * ti) / t2;
        double *y = &net->ybr[8 * l];
        y[0] = yffr, y[1] = yffi, y[2] = yftr, y[3] = yfti;
        y[4] = ytfr, y[5] = ytfi, y[6] = yttr, y[7] = ytti;
        const int *pos = &net->brpos[4 * l];
        for (int k = 0; k < 4; k++) {
            net->ytre[net->ytpos[pos[k]]] += y[2 * k];
            net->ytim[net->ytpos[pos[k]]] += y[2 * k + 1];
        }
        net->chg[2 * l] = br->b / 2 / (tap * tap);
        net->chg[2 * l + 1] = br->b / 2;
        /* DC model: b = 1 / (x tap), phase shift as an injection. */
        net->bdc[l] = 1.0 / (br->x * tap);
        net->pfinj[l] = net->bdc[l] * (-br->shift * deg);
    }
    for (int b = 0; b < nb; b++) {
        net->shunt[2 * b] = w->buses[b].gs;
        net->shunt[2 * b + 1] = w->buses[b].bs;
        net->ytre[net->ydiag[b]] += w->buses[b].gs / w->base_mva;
        net->ytim[net->ydiag[b]] += w->buses[b].bs / w->base_mva;
    }
    net->have_values = true;
    net->version++;
    return PG_OK;
}

/* ---------------------------------------------------------------- public matrices */

static void
sparse_free(pg_pf_sparse *s)
{
    free(s->colptr);
    free(s->rowind);
    free(s->re);
    free(s->im);
    memset(s, 0, sizeof *s);
}

void
pg_pf_admittance_free(pg_pf_admittance *y)
{
    if (!y)
        return;
    sparse_free(&y->ybus);
    sparse_free(&y->yf);
    sparse_free(&y->yt);
    free(y);
}

static int
sparse_alloc(pg_pf_sparse *s, int nr, int nc, int nnz)
{
    s->n_rows = nr;
    s->n_cols = nc;
    s->nnz = nnz;
    s->colptr = calloc((size_t)nc + 1, sizeof *s->colptr);
    s->rowind = malloc(sizeof *s->rowind * (size_t)(nnz ? nnz : 1));
    s->re = malloc(sizeof *s->re * (size_t)(nnz ? nnz : 1));
    s->im = malloc(sizeof *s->im * (size_t)(nnz ? nnz : 1));
    return s->colptr && s->rowind && s->re && s->im ? PG_OK : PG_ENOMEM;
}

/* Yf (end 0) or Yt (end 1): row l has the two entries of branch l's end current, at columns
 * from and to. Built column by column so that rows come out sorted. */
static int
branch_matrix(pg_pf_sparse *s, const pgi_pf_net *net, const pg_world *w, int end)
{
    int nl = net->nl, nb = net->nb, nnz = 0;
    for (int l = 0; l < nl; l++)
        if (net->br_on[l])
            nnz += w->branches[l].from == w->branches[l].to ? 1 : 2;
    if (sparse_alloc(s, nl, nb, nnz))
        return PG_ENOMEM;
    for (int l = 0; l < nl; l++) {
        if (!net->br_on[l])
            continue;
        s->colptr[w->branches[l].from + 1]++;
        if (w->branches[l].from != w->branches[l].to)
            s->colptr[w->branches[l].to + 1]++;
    }
    for (int c = 0; c < nb; c++)
        s->colptr[c + 1] += s->colptr[c];
    int *next = malloc(sizeof *next * (size_t)(nb ? nb : 1));
    if (!next)
        return PG_ENOMEM;
    memcpy(next, s->colptr, sizeof *next * (size_t)nb);
    for (int l = 0; l < nl; l++) {
        if (!net->br_on[l])
            continue;
        const double *y = &net->ybr[8 * l + 4 * end]; /* (yff, yft) or (ytf, ytt) */
        int f = (int)w->branches[l].from, t = (int)w->branches[l].to;
        if (f == t) {
            int q = next[f]++;
            s->rowind[q] = l;
            s->re[q] = y[0] + y[2];
            s->im[q] = y[1] + y[3];
            continue;
        }
        int q = next[f]++;
        s->rowind[q] = l;
        s->re[q] = y[0];
        s->im[q] = y[1];
        q = next[t]++;
        s->rowind[q] = l;
        s->re[q] = y[2];
        s->im[q] = y[3];
    }
    free(next);
    return PG_OK;
}

int
pg_pf_admittance_build(pg_pf_admittance **out, const pg_world *w, pg_error *err)
{
    pgi_pf_net net;
    memset(&net, 0, sizeof net);
    pg_pf_admittance *y = NULL;
    int rc;
    if (!out)
        return pg_error_set(err, PG_EINVAL, "pg_pf_admittance_build: out is NULL");
    if ((rc = pgi_pf_check_world(w, err)) || (rc = pgi_pf_net_topology(&net, w, err)) ||
        (rc = pgi_pf_net_values(&net, w, err)))
        goto out;
    y = calloc(1, sizeof *y);
    if (!y || sparse_alloc(&y->ybus, net.nb, net.nb, net.ynnz) ||
        branch_matrix(&y->yf, &net, w, 0) || branch_matrix(&y->yt, &net, w, 1)) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(y->ybus.colptr, net.yp, sizeof *net.yp * ((size_t)net.nb + 1));
    memcpy(y->ybus.rowind, net.yi, sizeof *net.yi * (size_t)net.ynnz);
    for (int p = 0; p < net.ynnz; p++) { /* the net keeps the transpose */
        y->ybus.re[p] = net.ytre[net.ytpos[p]];
        y->ybus.im[p] = net.ytim[net.ytpos[p]];
    }
    *out = y;
    y = NULL;
out:
    pg_pf_admittance_free(y);
    pgi_pf_net_free(&net);
    return rc;
}
