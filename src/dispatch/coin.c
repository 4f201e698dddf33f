/* The COIN-OR adapter: the only file in plurigrid that talks to Clp (LP and QP) and Cbc (MILP).
 * It turns the builder's triplets into the column-major form both solvers load, sets their
 * options, runs them silently unless asked, and copies the answers out into plain arrays. */
#include "dispatch/lp.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coin/Cbc_C_Interface.h>
#include <coin/Clp_C_Interface.h>

#include "core/util.h"

/* Column-major copy of the triplets with duplicates summed. */
typedef struct csc {
    CoinBigIndex *start;
    int *index;
    double *value;
} csc;

static void
csc_free(csc *m)
{
    free(m->start);
    free(m->index);
    free(m->value);
}

static int
csc_build(const pgi_lp *lp, csc *m, pg_error *err)
{
    size_t nc = (size_t)lp->ncols;
    m->start = calloc(nc + 1, sizeof *m->start);
    m->index = malloc((lp->nnz ? lp->nnz : 1) * sizeof *m->index);
    m->value = malloc((lp->nnz ? lp->nnz : 1) * sizeof *m->value);
    int *last = malloc((size_t)(lp->nrows > 0 ? lp->nrows : 1) * sizeof *last);
    if (!m->start || !m->index || !m->value || !last) {
        free(last);
        csc_free(m);
        return pg_error_set(err, PG_ENOMEM, "out of memory while loading the solver");
    }
    for (size_t k = 0; k < lp->nnz; k++)
        m->start[lp->tj[k] + 1]++;
    for (size_t j = 0; j < nc; j++)
        m->start[j + 1] += m->start[j];
    CoinBigIndex *pos = malloc((nc + 1) * sizeof *pos);
    if (!pos) {
        free(last);
        csc_free(m);
        return pg_error_set(err, PG_ENOMEM, "out of memory while loading the solver");
    }
    memcpy(pos, m->start, (nc + 1) * sizeof *pos);
    for (size_t k = 0; k < lp->nnz; k++) {
        CoinBigIndex p = pos[lp->tj[k]]++;
        m->index[p] = lp->ti[k];
        m->value[p] = lp->tv[k];
    }
    /* Sum repeated (row, column) pairs within each column, compacting in place. */
    for (int i = 0; i < lp->nrows; i++)
        last[i] = -1;
    CoinBigIndex out = 0;
    for (size_t j = 0; j < nc; j++) {
        CoinBigIndex from = m->start[j], to = m->start[j + 1];
        CoinBigIndex col_start = out;
        for (CoinBigIndex p = from; p < to; p++) {
            int i = m->index[p];
            if (last[i] >= col_start) {
                m->value[last[i]] += m->value[p];
            } else {
                last[i] = out;
                m->index[out] = i;
                m->value[out] = m->value[p];
                out++;
            }
        }
        m->start[j] = col_start;
    }
    m->start[nc] = out;
    free(pos);
    free(last);
    return PG_OK;
}

static double
clampinf(double v)
{
    if (v >= PGI_INF)
        return DBL_MAX;
    if (v <= -PGI_INF)
        return -DBL_MAX;
    return v;
}

static int
alloc_solution(const pgi_lp *lp, pgi_solution *sol, pg_error *err)
{
    memset(sol, 0, sizeof *sol);
    sol->x = calloc((size_t)(lp->ncols > 0 ? lp->ncols : 1), sizeof(double));
    sol->dual = calloc((size_t)(lp->nrows > 0 ? lp->nrows : 1), sizeof(double));
    sol->act = calloc((size_t)(lp->nrows > 0 ? lp->nrows : 1), sizeof(double));
    if (!sol->x || !sol->dual || !sol->act) {
        pgi_solution_free(sol);
        return pg_error_set(err, PG_ENOMEM, "out of memory for the solution");
    }
    return PG_OK;
}

/* Bound arrays with our infinity mapped to the solvers'. */
static int
bounds(const pgi_lp *lp, double **cl, double **cu, double **rl, double **ru, pg_error *err)
{
    size_t nc = (size_t)(lp->ncols > 0 ? lp->ncols : 1), nr = (size_t)(lp->nrows > 0 ? lp->nrows : 1);
    *cl = malloc(nc * sizeof **cl);
    *cu = malloc(nc * sizeof **cu);
    *rl = malloc(nr * sizeof **rl);
    *ru = malloc(nr * sizeof **ru);
    if (!*cl || !*cu || !*rl || !*ru) {
        free(*cl), free(*cu), free(*rl), free(*ru);
        *cl = *cu = *rl = *ru = NULL;
        return pg_error_set(err, PG_ENOMEM, "out of memory while loading the solver");
    }
    for (int j = 0; j < lp->ncols; j++) {
        (*cl)[j] = clampinf(lp->col_lo[j]);
        (*cu)[j] = clampinf(lp->col_hi[j]);
    }
    for (int i = 0; i < lp->nrows; i++) {
        (*rl)[i] = clampinf(lp->row_lo[i]);
        (*ru)[i] = clampinf(lp->row_hi[i]);
    }
    return PG_OK;
}

int
pgi_solve_lp(const pgi_lp *lp, const pgi_solve_options *o, pgi_solution *sol, pg_error *err)
{
    int rc = pgi_lp_ok(lp, err);
    if (rc)
        return rc;
    csc m = {0};
    double *cl = NULL, *cu = NULL, *rl = NULL, *ru = NULL;
    Clp_Simplex *clp = NULL;
    CoinBigIndex *qstart = NULL;
    int *qcol = NULL;
    double *qval = NULL;
    double t0 = pgi_now();
    if ((rc = csc_build(lp, &m, err)) || (rc = bounds(lp, &cl, &cu, &rl, &ru, err)))
        goto out;
    clp = Clp_newModel();
    if (!clp) {
        rc = pg_error_set(err, PG_ENOMEM, "could not create the LP solver");
        goto out;
    }
    Clp_setLogLevel(clp, o && o->log ? 1 : 0);
    Clp_loadProblem(clp, lp->ncols, lp->nrows, m.start, m.index, m.value, cl, cu, lp->cost, rl,
                    ru);
    if (lp->quadratic) {
        size_t nc = (size_t)lp->ncols;
        qstart = calloc(nc + 1, sizeof *qstart);
        qcol = malloc(nc * sizeof *qcol);
        qval = malloc(nc * sizeof *qval);
        if (!qstart || !qcol || !qval) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory while loading the solver");
            goto out;
        }
        CoinBigIndex k = 0;
        for (size_t j = 0; j < nc; j++) {
            qstart[j] = k;
            if (lp->qcost[j] != 0.0) {
                qcol[k] = (int)j;
                qval[k] = lp->qcost[j];
                k++;
            }
        }
        qstart[nc] = k;
        Clp_loadQuadraticObjective(clp, lp->ncols, qstart, qcol, qval);
        /* Clp's primal method handles a quadratic objective (reduced gradient within the
         * simplex), landing on an exact vertex-or-face optimum with exact multipliers. */
        Clp_primal(clp, 0);
    } else {
        Clp_initialSolve(clp);
    }
    if ((rc = alloc_solution(lp, sol, err)))
        goto out;
    int st = Clp_status(clp);
    if (st == 0 && Clp_isProvenOptimal(clp))
        sol->status = PGI_OPTIMAL;
    else if (st == 1 || Clp_isProvenPrimalInfeasible(clp))
        sol->status = PGI_INFEASIBLE;
    else if (st == 2 || Clp_isProvenDualInfeasible(clp))
        sol->status = PGI_UNBOUNDED;
    else {
        pgi_solution_free(sol);
        rc = pg_error_set(err, PG_ESOLVER, "the LP solver (Clp) stopped without an answer "
                                           "(status %d, secondary status %d)",
                          st, Clp_secondaryStatus(clp));
        goto out;
    }
    memcpy(sol->x, Clp_getColSolution(clp), (size_t)lp->ncols * sizeof(double));
    if (lp->nrows > 0) {
        memcpy(sol->dual, Clp_getRowPrice(clp), (size_t)lp->nrows * sizeof(double));
        memcpy(sol->act, Clp_getRowActivity(clp), (size_t)lp->nrows * sizeof(double));
    }
    sol->obj = Clp_getObjValue(clp) + lp->offset;
    sol->bound = sol->obj;
    sol->seconds = pgi_now() - t0;
out:
    if (clp)
        Clp_deleteModel(clp);
    free(qstart);
    free(qcol);
    free(qval);
    free(cl), free(cu), free(rl), free(ru);
    csc_free(&m);
    return rc;
}

int
pgi_solve_mip(const pgi_lp *lp, const pgi_solve_options *o, pgi_solution *sol, pg_error *err)
{
    int rc = pgi_lp_ok(lp, err);
    if (rc)
        return rc;
    if (lp->quadratic)
        return pg_error_set(err, PG_EUNSUPPORTED, "the MILP solver takes linear costs only");
    csc m = {0};
    double *cl = NULL, *cu = NULL, *rl = NULL, *ru = NULL;
    Cbc_Model *cbc = NULL;
    double t0 = pgi_now();
    char buf[64];
    if ((rc = csc_build(lp, &m, err)) || (rc = bounds(lp, &cl, &cu, &rl, &ru, err)))
        goto out;
    cbc = Cbc_newModel();
    if (!cbc) {
        rc = pg_error_set(err, PG_ENOMEM, "could not create the MILP solver");
        goto out;
    }
    Cbc_loadProblem(cbc, lp->ncols, lp->nrows, m.start, m.index, m.value, cl, cu, lp->cost, rl,
                    ru);
    for (int j = 0; j < lp->ncols; j++)
        if (lp->is_int[j])
            Cbc_setInteger(cbc, j);
    Cbc_setLogLevel(cbc, o && o->log ? 1 : 0);
    if (o) {
        snprintf(buf, sizeof buf, "%.17g", o->mip_gap);
        Cbc_setParameter(cbc, "ratioGap", buf);
        if (o->time_limit_s > 0) {
            snprintf(buf, sizeof buf, "%.17g", o->time_limit_s);
            Cbc_setParameter(cbc, "seconds", buf);
        }
        if (o->threads > 1) {
            snprintf(buf, sizeof buf, "%d", o->threads);
            Cbc_setParameter(cbc, "threads", buf);
        }
    }
    Cbc_solve(cbc);
    if ((rc = alloc_solution(lp, sol, err)))
        goto out;
    const double *best = Cbc_bestSolution(cbc);
    if (Cbc_isProvenInfeasible(cbc) && !best) {
        sol->status = PGI_INFEASIBLE;
    } else if (Cbc_isContinuousUnbounded(cbc) && !best) {
        sol->status = PGI_UNBOUNDED;
    } else if (!best) {
        if (Cbc_isSecondsLimitReached(cbc) || Cbc_isNodeLimitReached(cbc) ||
            Cbc_isSolutionLimitReached(cbc)) {
            sol->status = PGI_LIMIT_NOSOLUTION;
        } else {
            pgi_solution_free(sol);
            rc = pg_error_set(err, PG_ESOLVER, "the MILP solver (Cbc) stopped without an answer "
                                               "(status %d, secondary status %d)",
                              Cbc_status(cbc), Cbc_secondaryStatus(cbc));
            goto out;
        }
    } else {
        memcpy(sol->x, best, (size_t)lp->ncols * sizeof(double));
        sol->obj = Cbc_getObjValue(cbc) + lp->offset;
        sol->bound = Cbc_getBestPossibleObjValue(cbc) + lp->offset;
        if (sol->bound > sol->obj)
            sol->bound = sol->obj;
        sol->status = Cbc_isProvenOptimal(cbc) ? PGI_OPTIMAL : PGI_LIMIT_FEASIBLE;
        /* Row activities from the solution itself: Cbc's own are those of the last node. */
        for (size_t k = 0; k < lp->nnz; k++)
            sol->act[lp->ti[k]] += lp->tv[k] * sol->x[lp->tj[k]];
    }
    sol->seconds = pgi_now() - t0;
out:
    if (cbc)
        Cbc_deleteModel(cbc);
    free(cl), free(cu), free(rl), free(ru);
    csc_free(&m);
    return rc;
}

const char *
pgi_solver_versions(void)
{
    static char buf[96];
    snprintf(buf, sizeof buf, "Clp %s, Cbc %s", Clp_Version(), Cbc_getVersion());
    return buf;
}
