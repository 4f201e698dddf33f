/* DC power flow, as MATPOWER's makeBdc and dcpf: B theta = P with B built from series reactances
 * (scaled by the tap ratio), resistance and charging ignored, phase shifters and shunt
 * conductance moved to the right-hand side as fixed injections. The reduced B matrix (reference
 * buses and dead islands removed) is analysed by KLU once per pattern and factorized once per set
 * of branch parameters, so repeated solves of the same network are one triangular solve each. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "powerflow/pf_internal.h"

void
pgi_pf_dc_init(pgi_pf_dc *dc)
{
    memset(dc, 0, sizeof *dc);
    klu_defaults(&dc->common);
    dc->common.btf = 0;
}

void
pgi_pf_dc_clear(pgi_pf_dc *dc)
{
    if (dc->num)
        klu_free_numeric(&dc->num, &dc->common);
    if (dc->sym)
        klu_free_symbolic(&dc->sym, &dc->common);
    free(dc->cls);
    free(dc->idx);
    free(dc->bp);
    free(dc->bi);
    free(dc->bx);
    free(dc->map);
    free(dc->rhs);
    dc->cls = dc->idx = dc->bp = dc->bi = dc->map = NULL;
    dc->bx = dc->rhs = NULL;
    dc->n = dc->bnnz = dc->nb = 0;
}

static int
prepare(pgi_pf_dc *dc, const pgi_pf_net *net, const int *cls, pg_error *err)
{
    int nb = net->nb;
    if (dc->cls && dc->nb == nb && memcmp(dc->cls, cls, sizeof *cls * (size_t)nb) == 0)
        return PG_OK;
    int analyses = dc->analyses, factorizations = dc->factorizations;
    pgi_pf_dc_clear(dc);
    dc->analyses = analyses;
    dc->factorizations = factorizations;
    size_t nbs = nb ? (size_t)nb : 1, ys = net->ynnz ? (size_t)net->ynnz : 1;
    dc->nb = nb;
    dc->cls = malloc(sizeof *dc->cls * nbs);
    dc->idx = malloc(sizeof *dc->idx * nbs);
    dc->bp = calloc(nbs + 1, sizeof *dc->bp);
    dc->bi = malloc(sizeof *dc->bi * ys);
    dc->bx = malloc(sizeof *dc->bx * ys);
    dc->map = malloc(sizeof *dc->map * ys);
    dc->rhs = malloc(sizeof *dc->rhs * nbs);
    if (!dc->cls || !dc->idx || !dc->bp || !dc->bi || !dc->bx || !dc->map || !dc->rhs) {
        pgi_pf_dc_clear(dc);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    memcpy(dc->cls, cls, sizeof *cls * (size_t)nb);
    int n = 0;
    for (int b = 0; b < nb; b++)
        dc->idx[b] = (cls[b] == PGI_PV || cls[b] == PGI_PQ) ? n++ : -1;
    dc->n = n;
    int nnz = 0;
    for (int k = 0; k < nb; k++) {
        for (int p = net->yp[k]; p < net->yp[k + 1]; p++)
            dc->map[p] = -1;
        if (dc->idx[k] < 0)
            continue;
        for (int p = net->yp[k]; p < net->yp[k + 1]; p++) {
            int i = net->yi[p];
            if (dc->idx[i] >= 0) {
                dc->bi[nnz] = dc->idx[i];
                dc->map[p] = nnz++;
            }
        }
        dc->bp[dc->idx[k] + 1] = nnz;
    }
    dc->bnnz = nnz;
    if (n > 0) {
        dc->sym = klu_analyze(n, dc->bp, dc->bi, &dc->common);
        if (!dc->sym) {
            int st = dc->common.status;
            pgi_pf_dc_clear(dc);
            return pg_error_set(err, st == KLU_OUT_OF_MEMORY ? PG_ENOMEM : PG_ESOLVER,
                                "power flow: KLU could not analyse the B matrix (status %d)", st);
        }
        dc->analyses++;
    }
    return PG_OK;
}

double
pgi_pf_dc_row_times(const pgi_pf_net *net, int b, const double *va)
{
    /* Row b of B times va is the sum over the branches at b of b_l (va_b - va_other); this runs
     * once per reference bus, so a scan of the branches is enough. */
    double s = 0;
    for (int l = 0; l < net->nl; l++) {
        if (!net->br_on[l])
            continue;
        if (net->bf[l] == b)
            s += net->bdc[l] * (va[b] - va[net->bt[l]]);
        if (net->bt[l] == b)
            s += net->bdc[l] * (va[b] - va[net->bf[l]]);
    }
    return s;
}

int
pgi_pf_dc_solve(pgi_pf_dc *dc, const pgi_pf_net *net, const int *cls, bool values_changed,
                const double *pbus, double *va, bool *ok, char *reason, size_t reason_size,
                pg_error *err)
{
    *ok = true;
    int rc = prepare(dc, net, cls, err);
    if (rc)
        return rc;
    if (dc->n == 0)
        return PG_OK;
    if (values_changed || !dc->num) {
        memset(dc->bx, 0, sizeof *dc->bx * (size_t)(dc->bnnz ? dc->bnnz : 1));
        for (int l = 0; l < net->nl; l++) {
            if (!net->br_on[l])
                continue;
            const int *pos = &net->brpos[4 * l];
            double b = net->bdc[l];
            double v[4] = {b, -b, -b, b};
            for (int q = 0; q < 4; q++)
                if (dc->map[pos[q]] >= 0)
                    dc->bx[dc->map[pos[q]]] += v[q];
        }
        if (dc->num)
            klu_free_numeric(&dc->num, &dc->common);
        dc->num = klu_factor(dc->bp, dc->bi, dc->bx, dc->sym, &dc->common);
        if (!dc->num || dc->common.status != KLU_OK) {
            if (dc->num)
                klu_free_numeric(&dc->num, &dc->common);
            *ok = false;
            pgi_pf_say(reason, reason_size, "the B matrix of the DC power flow is singular");
            return PG_OK;
        }
        dc->factorizations++;
    }
    for (int b = 0; b < net->nb; b++)
        if (dc->idx[b] >= 0)
            dc->rhs[dc->idx[b]] = pbus[b];
    /* Reference angles go to the right-hand side: B_ij = -b_l for a branch l between i and j. */
    for (int l = 0; l < net->nl; l++) {
        if (!net->br_on[l])
            continue;
        int f = net->bf[l], t = net->bt[l];
        if (dc->idx[f] >= 0 && dc->idx[t] < 0)
            dc->rhs[dc->idx[f]] += net->bdc[l] * va[t];
        if (dc->idx[t] >= 0 && dc->idx[f] < 0)
            dc->rhs[dc->idx[t]] += net->bdc[l] * va[f];
    }
    if (!klu_solve(dc->sym, dc->num, dc->n, 1, dc->rhs, &dc->common))
        return pg_error_set(err, PG_ESOLVER, "power flow: KLU could not solve the DC system");
    for (int b = 0; b < net->nb; b++)
        if (dc->idx[b] >= 0)
            va[b] = dc->rhs[dc->idx[b]];
    return PG_OK;
}
