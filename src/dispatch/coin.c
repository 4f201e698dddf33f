/* The COIN-OR adapter: the only file in plurigrid that talks to Clp (LP and QP) and Cbc (MILP).
 * It turns the builder's triplets into the column-major form both solvers load, sets their
 * options, runs them silently unless asked, and copies the answers out into plain arrays. It is
 * reached through one table, pgi_coin_backend: built into the static library, and in the shared
 * library loaded from the module lib/plurigrid/coin.so at the first solve (backend_module.c). */
#include "dispatch/lp.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coin/Cbc_C_Interface.h>
#include <coin/Clp_C_Interface.h>

#include "core/util.h"

/* One Cbc solve at a time in the process (solve_milp). */
static pthread_mutex_t cbc_mu = PTHREAD_MUTEX_INITIALIZER;

/* Column-major copy of the triplets with duplicates summed. */
typedef struct csc {
    CoinBigIndex *start;
    int *index;
    double *value;
} csc;

/* Frees the arrays and clears them, so that freeing again (a caller's cleanup path after
 * csc_build failed) does nothing. */
static void
csc_free(csc *m)
{
    free(m->start);
    free(m->index);
    free(m->value);
    m->start = NULL;
    m->index = NULL;
    m->value = NULL;
}

/* On failure m is left empty (every array freed and NULL). */
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
    sol->rc = calloc((size_t)(lp->ncols > 0 ? lp->ncols : 1), sizeof(double));
    if (!sol->x || !sol->dual || !sol->act || !sol->rc) {
        pgi_solution_free(sol);
        return pg_error_set(err, PG_ENOMEM, "out of memory for the solution");
    }
    return PG_OK;
}

/* Bound arrays with our infinity mapped to the solvers'. */
static int
bounds(const pgi_lp *lp, double **cl, double **cu, double **rl, double **ru, pg_error *err)
{
    size_t nc = (size_t)(lp->ncols > 0 ? lp->ncols : 1),
           nr = (size_t)(lp->nrows > 0 ? lp->nrows : 1);
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

/* A new Clp model holding lp (with its quadratic objective), or NULL on allocation failure. */
static Clp_Simplex *
clp_load(const pgi_lp *lp, bool log, pg_error *err)
{
    csc m = {0};
    double *cl = NULL, *cu = NULL, *rl = NULL, *ru = NULL;
    CoinBigIndex *qstart = NULL;
    int *qcol = NULL;
    double *qval = NULL;
    Clp_Simplex *clp = NULL;
    if (csc_build(lp, &m, err) || bounds(lp, &cl, &cu, &rl, &ru, err))
        goto out;
    clp = Clp_newModel();
    if (!clp) {
        pg_error_set(err, PG_ENOMEM, "could not create the LP solver");
        goto out;
    }
    Clp_setLogLevel(clp, log ? 1 : 0);
    Clp_loadProblem(clp, lp->ncols, lp->nrows, m.start, m.index, m.value, cl, cu, lp->cost, rl, ru);
    if (lp->quadratic) {
        size_t nc = (size_t)lp->ncols;
        qstart = calloc(nc + 1, sizeof *qstart);
        qcol = malloc((nc ? nc : 1) * sizeof *qcol);
        qval = malloc((nc ? nc : 1) * sizeof *qval);
        if (!qstart || !qcol || !qval) {
            pg_error_set(err, PG_ENOMEM, "out of memory while loading the solver");
            Clp_deleteModel(clp);
            clp = NULL;
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
    }
out:
    free(qstart);
    free(qcol);
    free(qval);
    free(cl), free(cu), free(rl), free(ru);
    csc_free(&m);
    return clp;
}

/* Clp's initial solve (presolve, then the method it picks). The implied-free presolve action is
 * off: in CoinUtils 2.11 it leaks a work array on some problems (found under LeakSanitizer on a
 * schedule with unserved energy), and it gains nothing measurable on dispatch LPs. */
static void
clp_initial_solve(Clp_Simplex *clp)
{
    Clp_Solve *opts = ClpSolve_new();
    if (!opts) {
        Clp_initialSolve(clp);
        return;
    }
    ClpSolve_setDoImpliedFree(opts, 0);
    Clp_initialSolveWithOptions(clp, opts);
    ClpSolve_delete(opts);
}

/* The outcome of a Clp solve, or -1 when Clp stopped without one. */
static int
clp_outcome(Clp_Simplex *clp)
{
    int st = Clp_status(clp);
    if (st == 0 && Clp_isProvenOptimal(clp))
        return PGI_OPTIMAL;
    if (st == 1 || Clp_isProvenPrimalInfeasible(clp))
        return PGI_INFEASIBLE;
    if (st == 2 || Clp_isProvenDualInfeasible(clp))
        return PGI_UNBOUNDED;
    return -1;
}

/* One block of lp: the columns tagged b and the rows whose entries all lie in them. */
static int
block_lp(const pgi_lp *lp, const int *row_block, const int *col_local, const int *row_local,
         const size_t *tri, size_t tri_from, size_t tri_to, int b, pgi_lp *sub)
{
    memset(sub, 0, sizeof *sub);
    for (int j = 0; j < lp->ncols; j++)
        if (lp->block[j] == b)
            pgi_lp_col(sub, lp->col_lo[j], lp->col_hi[j], lp->cost[j], false);
    for (int i = 0; i < lp->nrows; i++)
        if (row_block[i] == b)
            pgi_lp_row(sub, lp->row_lo[i], lp->row_hi[i]);
    for (size_t p = tri_from; p < tri_to; p++) {
        size_t k = tri[p];
        pgi_lp_add(sub, row_local[lp->ti[k]], col_local[lp->tj[k]], lp->tv[k]);
    }
    sub->offset = 0;
    return sub->failed ? PG_ENOMEM : PG_OK;
}

/* A starting basis for lp from its blocks (one per step) solved one by one without the rows
 * that couple them: each column and block row keeps its block's status, coupling rows are
 * basic. The basis is dual feasible for lp (the coupling rows' duals are zero and every reduced
 * cost is its block's), so the dual simplex only has to repair the coupling rows the blocks
 * violate. Returns the status array (columns, then rows) and writes block values into x, or
 * NULL when the blocks do not give one (*infeasible set when a block has no solution, which
 * makes lp infeasible too). */
static unsigned char *
block_basis(const pgi_lp *lp, const pgi_solve_options *o, double *x, bool *infeasible)
{
    int nb = 0;
    for (int j = 0; j < lp->ncols; j++) {
        if (lp->block[j] < 0)
            return NULL; /* a column outside every block: no block structure */
        if (lp->block[j] + 1 > nb)
            nb = lp->block[j] + 1;
    }
    if (nb < 2)
        return NULL;
    size_t nc = (size_t)lp->ncols, nr = (size_t)lp->nrows;
    unsigned char *status = malloc(nc + nr);
    int *row_block = malloc((nr ? nr : 1) * sizeof *row_block);
    int *col_local = malloc(nc * sizeof *col_local);
    int *row_local = malloc((nr ? nr : 1) * sizeof *row_local);
    int *count = calloc((size_t)nb + 1, sizeof *count);
    size_t *tri_start = calloc((size_t)nb + 2, sizeof *tri_start);
    size_t *tri = malloc((lp->nnz ? lp->nnz : 1) * sizeof *tri);
    bool ok = status && row_block && col_local && row_local && count && tri_start && tri;
    for (size_t i = 0; ok && i < nr; i++)
        row_block[i] = -1;
    for (size_t k = 0; ok && k < lp->nnz; k++) {
        int i = lp->ti[k], b = lp->block[lp->tj[k]];
        if (row_block[i] == -1)
            row_block[i] = b;
        else if (row_block[i] != b)
            row_block[i] = -2; /* couples blocks */
    }
    for (size_t j = 0; ok && j < nc; j++)
        col_local[j] = count[lp->block[j]]++;
    for (int b = 0; ok && b <= nb; b++)
        count[b] = 0;
    for (size_t i = 0; ok && i < nr; i++)
        if (row_block[i] >= 0)
            row_local[i] = count[row_block[i]]++;
    /* triplets of block rows, bucketed by block */
    for (size_t k = 0; ok && k < lp->nnz; k++)
        if (row_block[lp->ti[k]] >= 0)
            tri_start[row_block[lp->ti[k]] + 2]++;
    for (int b = 0; ok && b < nb; b++)
        tri_start[b + 2] += tri_start[b + 1];
    for (size_t k = 0; ok && k < lp->nnz; k++)
        if (row_block[lp->ti[k]] >= 0)
            tri[tri_start[row_block[lp->ti[k]] + 1]++] = k;
    for (size_t i = 0; ok && i < nr; i++)
        if (row_block[i] < 0)
            status[nc + i] = 1; /* basic */
    for (int b = 0; ok && b < nb; b++) {
        pgi_lp sub;
        if (block_lp(lp, row_block, col_local, row_local, tri, tri_start[b], tri_start[b + 1], b,
                     &sub)) {
            pgi_lp_free(&sub);
            ok = false;
            break;
        }
        Clp_Simplex *clp = clp_load(&sub, o && o->log, NULL);
        if (!clp) {
            pgi_lp_free(&sub);
            ok = false;
            break;
        }
        clp_initial_solve(clp);
        int outcome = clp_outcome(clp);
        if (outcome == PGI_OPTIMAL) {
            const double *xs = Clp_getColSolution(clp);
            for (size_t j = 0; j < nc; j++)
                if (lp->block[j] == b) {
                    status[j] = (unsigned char)(Clp_getColumnStatus(clp, col_local[j]) & 7);
                    x[j] = xs[col_local[j]];
                }
            for (size_t i = 0; i < nr; i++)
                if (row_block[i] == b)
                    status[nc + i] = (unsigned char)(Clp_getRowStatus(clp, row_local[i]) & 7);
        } else {
            if (outcome == PGI_INFEASIBLE)
                *infeasible = true;
            ok = false;
        }
        Clp_deleteModel(clp);
        pgi_lp_free(&sub);
    }
    free(row_block);
    free(col_local);
    free(row_local);
    free(count);
    free(tri_start);
    free(tri);
    if (!ok) {
        free(status);
        return NULL;
    }
    return status;
}

/* Problems smaller than this are solved in one piece: the warm start would not pay. */
#define BLOCK_MIN_COLS 20000

static int
coin_solve_lp(const pgi_lp *lp, const pgi_solve_options *o, pgi_solution *sol, pg_error *err)
{
    int rc = pgi_lp_ok(lp, err);
    if (rc)
        return rc;
    double t0 = pgi_now();
    bool log = o && o->log;
    Clp_Simplex *clp = NULL;
    unsigned char *basis = NULL;
    if ((rc = alloc_solution(lp, sol, err)))
        return rc;
    int outcome = -1;
    int min_cols = o && o->block_min_cols ? o->block_min_cols : BLOCK_MIN_COLS;
    if (!lp->quadratic && lp->block && min_cols > 0 && lp->ncols >= min_cols) {
        bool infeasible = false;
        basis = block_basis(lp, o, sol->x, &infeasible);
        if (infeasible) {
            sol->status = PGI_INFEASIBLE;
            sol->seconds = pgi_now() - t0;
            return PG_OK;
        }
    }
    if (basis) {
        if (!(clp = clp_load(lp, log, err))) {
            rc = err && err->code ? err->code : PG_ENOMEM;
            goto out;
        }
        Clp_copyinStatus(clp, basis);
        Clp_setColSolution(clp, sol->x);
        Clp_dual(clp, 0);
        outcome = clp_outcome(clp);
        sol->warm_started = outcome == PGI_OPTIMAL;
        if (outcome != PGI_OPTIMAL) { /* fall back to a solve from scratch */
            Clp_deleteModel(clp);
            clp = NULL;
        }
    }
    if (!clp) {
        if (!(clp = clp_load(lp, log, err))) {
            rc = err && err->code ? err->code : PG_ENOMEM;
            goto out;
        }
        /* For a quadratic objective Clp picks its primal method (reduced gradient within the
         * simplex), which ends at an exact optimum with exact multipliers. Presolve matters most
         * there: without it the primal simplex of a DC OPF takes work growing as the square of
         * the buses (19 s for a 50000-bus radial feeder; 0.2 s with it). */
        clp_initial_solve(clp);
        outcome = clp_outcome(clp);
    }
    if (outcome < 0) {
        rc = pg_error_set(err, PG_ESOLVER,
                          "the LP solver (Clp) stopped without an answer "
                          "(status %d, secondary status %d)",
                          Clp_status(clp), Clp_secondaryStatus(clp));
        goto out;
    }
    sol->status = (pgi_status)outcome;
    memcpy(sol->x, Clp_getColSolution(clp), (size_t)lp->ncols * sizeof(double));
    memcpy(sol->rc, Clp_getReducedCost(clp), (size_t)lp->ncols * sizeof(double));
    if (lp->nrows > 0) {
        memcpy(sol->dual, Clp_getRowPrice(clp), (size_t)lp->nrows * sizeof(double));
        memcpy(sol->act, Clp_getRowActivity(clp), (size_t)lp->nrows * sizeof(double));
    }
    sol->obj = Clp_getObjValue(clp) + lp->offset;
    sol->bound = sol->obj;
    sol->seconds = pgi_now() - t0;
out:
    if (rc)
        pgi_solution_free(sol);
    if (clp)
        Clp_deleteModel(clp);
    free(basis);
    return rc;
}

static int
coin_solve_mip(const pgi_lp *lp, const pgi_solve_options *o, pgi_solution *sol, pg_error *err)
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
    Cbc_loadProblem(cbc, lp->ncols, lp->nrows, m.start, m.index, m.value, cl, cu, lp->cost, rl, ru);
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
            Cbc_setParameter(cbc, "timeMode", "elapsed"); /* wall clock, whatever the threads */
        }
        if (o->threads > 1) {
            snprintf(buf, sizeof buf, "%d", o->threads);
            Cbc_setParameter(cbc, "threads", buf);
        }
    }
    /* Cbc's preprocessing gains little on the tight commitment formulation, and undoing it
     * re-solves the original LP without presolve, which on a network takes longer than the
     * search (7.6 s after a 2 s time limit on case2383wp). */
    Cbc_setParameter(cbc, "preprocess", "off");
    /* Cbc's solve keeps state of its own between calls (its driver's parameters), so two solves
     * at once in one process fail ("stopped without an answer", status -1): the process's MILP
     * solves take turns. Clp's LP and QP solves keep everything in their model and run at once. */
    pthread_mutex_lock(&cbc_mu);
    Cbc_solve(cbc);
    pthread_mutex_unlock(&cbc_mu);
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
            rc = pg_error_set(err, PG_ESOLVER,
                              "the MILP solver (Cbc) stopped without an answer "
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
        double gap = fabs(sol->obj) > 0 ? (sol->obj - sol->bound) / fabs(sol->obj) : 0.0;
        bool within = o && gap <= o->mip_gap + 1e-12;
        sol->status = Cbc_isProvenOptimal(cbc) || within ? PGI_OPTIMAL : PGI_LIMIT_FEASIBLE;
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

static const char *
coin_versions(void)
{
    static char buf[96];
    snprintf(buf, sizeof buf, "Clp %s, Cbc %s", Clp_Version(), Cbc_getVersion());
    return buf;
}

PGI_BACKEND_EXPORT const pgi_lp_backend pgi_coin_backend = {
    .name = "COIN-OR",
    .solve_lp = coin_solve_lp,
    .solve_mip = coin_solve_mip,
    .versions = coin_versions,
};
