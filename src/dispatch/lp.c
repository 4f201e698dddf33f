/* The plain problem container the dispatch builder fills: growable column, row and triplet
 * arrays. Allocation failures are remembered and reported once, by pgi_lp_ok, so the builder can
 * add thousands of entries without checking each. */
#include "dispatch/lp.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
pgi_lp_free(pgi_lp *lp)
{
    if (!lp)
        return;
    free(lp->col_lo);
    free(lp->col_hi);
    free(lp->cost);
    free(lp->qcost);
    free(lp->is_int);
    free(lp->block);
    free(lp->row_lo);
    free(lp->row_hi);
    free(lp->ti);
    free(lp->tj);
    free(lp->tv);
    memset(lp, 0, sizeof *lp);
}

static bool
grow(void **p, size_t elem, size_t need)
{
    void *q = realloc(*p, need * elem);
    if (!q)
        return false;
    *p = q;
    return true;
}

int
pgi_lp_col(pgi_lp *lp, double lo, double hi, double cost, bool integer)
{
    if (lp->failed)
        return -1;
    if (lp->ncols == lp->cap_cols) {
        if (lp->cap_cols > INT32_MAX / 4) {
            lp->failed = 1;
            return -1;
        }
        int nc = lp->cap_cols ? lp->cap_cols * 2 : 256;
        size_t n = (size_t)nc;
        if (!grow((void **)&lp->col_lo, sizeof(double), n) ||
            !grow((void **)&lp->col_hi, sizeof(double), n) ||
            !grow((void **)&lp->cost, sizeof(double), n) ||
            !grow((void **)&lp->qcost, sizeof(double), n) || !grow((void **)&lp->is_int, 1, n) ||
            !grow((void **)&lp->block, sizeof(int), n)) {
            lp->failed = 1;
            return -1;
        }
        lp->cap_cols = nc;
    }
    int j = lp->ncols++;
    lp->col_lo[j] = lo;
    lp->col_hi[j] = hi;
    lp->cost[j] = cost;
    lp->qcost[j] = 0.0;
    lp->is_int[j] = integer;
    lp->block[j] = lp->cur_block;
    return j;
}

int
pgi_lp_row(pgi_lp *lp, double lo, double hi)
{
    if (lp->failed)
        return -1;
    if (lp->nrows == lp->cap_rows) {
        if (lp->cap_rows > INT32_MAX / 4) {
            lp->failed = 1;
            return -1;
        }
        int nc = lp->cap_rows ? lp->cap_rows * 2 : 256;
        if (!grow((void **)&lp->row_lo, sizeof(double), (size_t)nc) ||
            !grow((void **)&lp->row_hi, sizeof(double), (size_t)nc)) {
            lp->failed = 1;
            return -1;
        }
        lp->cap_rows = nc;
    }
    int i = lp->nrows++;
    lp->row_lo[i] = lo;
    lp->row_hi[i] = hi;
    return i;
}

void
pgi_lp_add(pgi_lp *lp, int i, int j, double v)
{
    if (lp->failed || i < 0 || j < 0 || v == 0.0)
        return;
    if (lp->nnz == lp->cap_nnz) {
        size_t nc = lp->cap_nnz ? lp->cap_nnz * 2 : 1024;
        if (nc > (size_t)INT32_MAX || !grow((void **)&lp->ti, sizeof(int), nc) ||
            !grow((void **)&lp->tj, sizeof(int), nc) ||
            !grow((void **)&lp->tv, sizeof(double), nc)) {
            lp->failed = 1;
            return;
        }
        lp->cap_nnz = nc;
    }
    lp->ti[lp->nnz] = i;
    lp->tj[lp->nnz] = j;
    lp->tv[lp->nnz] = v;
    lp->nnz++;
}

void
pgi_lp_block(pgi_lp *lp, int b)
{
    lp->cur_block = b;
}

void
pgi_lp_qcost(pgi_lp *lp, int j, double q)
{
    if (lp->failed || j < 0 || q == 0.0)
        return;
    lp->qcost[j] += q;
    lp->quadratic = true;
}

int
pgi_lp_ok(const pgi_lp *lp, pg_error *err)
{
    if (lp->failed)
        return pg_error_set(err, PG_ENOMEM,
                            "out of memory while building the optimisation "
                            "problem");
    return PG_OK;
}

/* A lower bound is fine when it is within PGI_LP_MAX or at or below minus the solvers' infinity
 * (no bound); an upper bound likewise, with plus infinity. */
static bool
lower_ok(double v)
{
    return fabs(v) <= PGI_LP_MAX || v <= -PGI_INF;
}

static bool
upper_ok(double v)
{
    return fabs(v) <= PGI_LP_MAX || v >= PGI_INF;
}

int
pgi_lp_check(const pgi_lp *lp, pg_error *err)
{
    int rc = pgi_lp_ok(lp, err);
    if (rc)
        return rc;
    for (int j = 0; j < lp->ncols; j++) {
        if (!(fabs(lp->cost[j]) <= PGI_LP_MAX) || !(fabs(lp->qcost[j]) <= PGI_LP_MAX))
            return pg_error_set(err, PG_EINVAL,
                                "the optimisation problem has a cost of %g (quadratic %g) on "
                                "column %d; the solvers take costs up to %g in size",
                                lp->cost[j], lp->qcost[j], j, PGI_LP_MAX);
        if (!lower_ok(lp->col_lo[j]) || !upper_ok(lp->col_hi[j]))
            return pg_error_set(
                err, PG_EINVAL,
                "the optimisation problem has bounds [%g, %g] on column %d; the "
                "solvers take finite bounds up to %g in size (%g and beyond is no bound)",
                lp->col_lo[j], lp->col_hi[j], j, PGI_LP_MAX, PGI_INF);
    }
    for (int i = 0; i < lp->nrows; i++)
        if (!lower_ok(lp->row_lo[i]) || !upper_ok(lp->row_hi[i]))
            return pg_error_set(
                err, PG_EINVAL,
                "the optimisation problem has bounds [%g, %g] on row %d; the "
                "solvers take finite bounds up to %g in size (%g and beyond is no bound)",
                lp->row_lo[i], lp->row_hi[i], i, PGI_LP_MAX, PGI_INF);
    for (size_t k = 0; k < lp->nnz; k++)
        if (!(fabs(lp->tv[k]) <= PGI_LP_MAX))
            return pg_error_set(err, PG_EINVAL,
                                "the optimisation problem has a coefficient of %g (row %d, column "
                                "%d); the solvers take coefficients up to %g in size",
                                lp->tv[k], lp->ti[k], lp->tj[k], PGI_LP_MAX);
    return PG_OK;
}

void
pgi_solution_free(pgi_solution *s)
{
    if (!s)
        return;
    free(s->x);
    free(s->dual);
    free(s->act);
    free(s->rc);
    s->x = s->dual = s->act = s->rc = NULL;
}
