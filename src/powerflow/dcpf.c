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
pgi_pf_dc_init(pgi_pf_dc *dc, pgi_pf_region *rg)
{
    memset(dc, 0, sizeof *dc);
    dc->rg = rg;
    klu_defaults(&dc->common);
    dc->common.btf = 0;
}

/* Drops the pattern and KLU's objects, keeping the block for the next pattern. */
static void
pattern_drop(pgi_pf_dc *dc)
{
    if (dc->num)
        klu_free_numeric(&dc->num, &dc->common);
    if (dc->sym)
        klu_free_symbolic(&dc->sym, &dc->common);
    dc->cls = NULL;
    dc->n = dc->bnnz = dc->nb = 0;
}

void
pgi_pf_dc_clear(pgi_pf_dc *dc)
{
    pattern_drop(dc);
    pgi_pf_block_free(dc->rg, dc->block, dc->block_size);
    dc->block = NULL;
    dc->block_size = 0;
}

/* The block; the analysis's workspace is laid over bx and rhs, which are written after it. */
static void
dc_layout(pgi_pf_dc *dc, pgi_pf_layout *l, size_t nb, size_t ynnz, size_t n, size_t bnnz)
{
    PGI_TAKE(l, dc->bx, bnnz);
    PGI_TAKE(l, dc->rhs, n);
    size_t scratch = sizeof(int) * pgi_pf_analyze_scratch(n, bnnz);
    if (l->size < scratch)
        l->size = scratch;
    PGI_TAKE(l, dc->cls, nb);
    PGI_TAKE(l, dc->idx, nb);
    PGI_TAKE(l, dc->bp, n + 1);
    PGI_TAKE(l, dc->bi, bnnz);
    PGI_TAKE(l, dc->map, ynnz);
}

size_t
pgi_pf_dc_bound(size_t nb, size_t ynnz)
{
    pgi_pf_dc shape = {0};
    pgi_pf_layout lay = {0};
    dc_layout(&shape, &lay, nb, ynnz, nb, ynnz);
    return pgi_pf_block_size(lay.size);
}

static int
prepare(pgi_pf_dc *dc, const pgi_pf_net *net, const int *cls, pg_error *err)
{
    int nb = net->nb;
    if (dc->cls && dc->nb == nb && memcmp(dc->cls, cls, sizeof *cls * (size_t)nb) == 0)
        return PG_OK;
    pattern_drop(dc);
    int n = 0, nnz = 0;
    for (int k = 0; k < nb; k++) {
        if (cls[k] != PGI_PV && cls[k] != PGI_PQ)
            continue;
        n++;
        for (int p = net->yp[k]; p < net->yp[k + 1]; p++)
            nnz += cls[net->yi[p]] == PGI_PV || cls[net->yi[p]] == PGI_PQ;
    }
    pgi_pf_layout lay = {0};
    dc_layout(dc, &lay, (size_t)nb, (size_t)net->ynnz, (size_t)n, (size_t)nnz);
    if (lay.size > dc->block_size || !dc->block) {
        pgi_pf_block_free(dc->rg, dc->block, dc->block_size);
        dc->block_size = 0;
        dc->block = pgi_pf_block_alloc(dc->rg, lay.size);
        if (!dc->block)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        dc->block_size = lay.size;
    }
    lay = (pgi_pf_layout){.base = dc->block};
    dc_layout(dc, &lay, (size_t)nb, (size_t)net->ynnz, (size_t)n, (size_t)nnz);
    dc->nb = nb;
    dc->n = n;
    dc->bnnz = nnz;
    memcpy(dc->cls, cls, sizeof *cls * (size_t)nb);
    n = 0;
    for (int b = 0; b < nb; b++)
        dc->idx[b] = (cls[b] == PGI_PV || cls[b] == PGI_PQ) ? n++ : -1;
    nnz = 0;
    dc->bp[0] = 0;
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
    if (n > 0) {
        dc->sym = pgi_pf_analyze(n, dc->bp, dc->bi, (int *)dc->block, &dc->common);
        if (!dc->sym) {
            int st = dc->common.status;
            pattern_drop(dc);
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
        memset(dc->bx, 0, sizeof *dc->bx * (size_t)dc->bnnz);
        for (int l = 0; l < net->nl; l++) {
            if (!net->br_on[l])
                continue;
            /* B(f,f) += b, B(f,t) -= b, B(t,f) -= b, B(t,t) += b (B is symmetric, so the
             * transposed positions of the net serve) */
            const int pos[4] = {net->ydiag[net->bf[l]], net->brpos[2 * l + 1], net->brpos[2 * l],
                                net->ydiag[net->bt[l]]};
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
