/* Power-transfer distribution factors of a world's DC model: how much of a megawatt injected at a
 * bus (and withdrawn at its island's reference bus) flows on each branch. They come from the same
 * network view and the same KLU factors of the reduced B matrix as the DC power flow (dcpf.c), so
 * flows from PTDFs times injections are the DC power flow's flows: column b of the PTDF matrix is
 * the branch flows of the DC solution B theta = e_b with the reference angles at 0. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "powerflow/pf_internal.h"

/* Right-hand sides solved together: one pass of KLU's triangular solves per batch. */
#define BATCH 32

int
pg_pf_ptdf(const pg_world *w, double **ptdf, pg_error *err)
{
    if (!ptdf)
        return pg_error_set(err, PG_EINVAL, "pg_pf_ptdf: ptdf is NULL");
    int rc = pgi_pf_check_world(w, err);
    if (rc)
        return rc;
    size_t nb = w->n_buses, nl = w->n_branches;
    if (nl > 0 && nb > PG_PF_PTDF_MAX / nl)
        return pg_error_set(err, PG_ELIMIT,
                            "PTDF: %zu branches x %zu buses is more than the %zu factors "
                            "(%zu MiB) the PTDF matrix may have",
                            nl, nb, (size_t)PG_PF_PTDF_MAX,
                            (size_t)PG_PF_PTDF_MAX * sizeof(double) >> 20);
    pgi_pf_net net = {0};
    pgi_pf_dc dc;
    pgi_pf_dc_init(&dc, NULL);
    double *out = NULL, *zero = NULL, *x = NULL;
    int *col = NULL; /* the buses of a batch */
    if ((rc = pgi_pf_net_topology(&net, w, false, err)) ||
        (rc = pgi_pf_net_values(&net, w, PGI_VAL_DC, err)))
        goto out;
    for (size_t l = 0; l < nl; l++)
        if (net.br_on[l] && !isfinite(net.bdc[l])) {
            rc = pg_error_set(err, PG_EMODEL,
                              "PTDF: branch '%s' has zero reactance; the DC model needs x != 0",
                              w->branches[l].name ? w->branches[l].name : "?");
            goto out;
        }
    out = calloc(nl * nb > 0 ? nl * nb : 1, sizeof *out);
    zero = calloc(nb ? nb : 1, sizeof *zero);
    x = calloc(nb ? nb : 1, sizeof *x);
    if (!out || !zero || !x) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    /* The DC solve of no injection builds and factorizes the reduced B matrix. */
    bool ok = true;
    char why[200] = "";
    if ((rc = pgi_pf_dc_solve(&dc, &net, net.cls0, true, zero, x, &ok, why, sizeof why, err)))
        goto out;
    if (!ok) {
        rc = pg_error_set(err, PG_EMODEL, "PTDF: %s", why);
        goto out;
    }
    int n = dc.n;
    if (n > 0) {
        free(x);
        x = calloc((size_t)n * BATCH, sizeof *x);
        if (!x) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
    }
    /* the buses with an angle unknown, in index order, BATCH at a time */
    col = malloc(sizeof *col * BATCH);
    if (!col) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    size_t b = 0;
    while (n > 0) {
        int k = 0;
        for (; b < nb && k < BATCH; b++)
            if (dc.idx[b] >= 0)
                col[k++] = (int)b;
        if (k == 0)
            break;
        memset(x, 0, sizeof *x * (size_t)n * (size_t)k);
        for (int j = 0; j < k; j++)
            x[(size_t)j * (size_t)n + (size_t)dc.idx[col[j]]] = 1.0;
        if (!klu_solve(dc.sym, dc.num, n, k, x, &dc.common)) {
            rc = pg_error_set(err, PG_ESOLVER, "PTDF: KLU could not solve the DC system");
            goto out;
        }
        for (int j = 0; j < k; j++) {
            const double *th = x + (size_t)j * (size_t)n;
            for (size_t l = 0; l < nl; l++) {
                if (!net.br_on[l])
                    continue;
                int fi = dc.idx[net.bf[l]], ti = dc.idx[net.bt[l]];
                double d = (fi >= 0 ? th[fi] : 0) - (ti >= 0 ? th[ti] : 0);
                out[l * nb + (size_t)col[j]] = net.bdc[l] * d;
            }
        }
    }
    *ptdf = out;
    out = NULL;
out:
    free(out);
    free(zero);
    free(x);
    free(col);
    pgi_pf_dc_clear(&dc);
    pgi_pf_net_free(&net);
    return rc;
}
