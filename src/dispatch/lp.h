/* An optimisation problem as the dispatch builder writes it and the COIN-OR adapter reads it:
 * columns with bounds, linear and (diagonal) quadratic costs and an integer flag, rows with lower
 * and upper bounds, and the matrix as triplets. Only coin.c knows the solvers; everything else in
 * the module sees this plain form, so a second solver would change one file. */
#ifndef PG_DISPATCH_LP_H
#define PG_DISPATCH_LP_H

#include <stdbool.h>
#include <stddef.h>

#include "plurigrid/core.h"

/* Solver infinity: bounds at or beyond it are no bounds. */
#define PGI_INF 1e30

typedef struct pgi_lp {
    int ncols, nrows;
    int cap_cols, cap_rows;
    double *col_lo, *col_hi, *cost, *qcost; /* qcost: objective has 1/2 qcost[j] x_j^2 */
    unsigned char *is_int;
    double *row_lo, *row_hi;
    size_t nnz, cap_nnz;
    int *ti, *tj;
    double *tv;
    double offset; /* constant added to the objective */
    int *block;    /* per column: the block (step) it belongs to, or -1 */
    int cur_block; /* block given to the columns added next (pgi_lp_block) */
    bool quadratic;
    int failed; /* an allocation failed: every later add is ignored, pgi_lp_ok says so */
} pgi_lp;

void pgi_lp_free(pgi_lp *lp);
/* New column; returns its index (or -1 after an allocation failure). */
int pgi_lp_col(pgi_lp *lp, double lo, double hi, double cost, bool integer);
/* New row lo <= a x <= hi; returns its index (or -1). */
int pgi_lp_row(pgi_lp *lp, double lo, double hi);
/* Adds v to the coefficient of column j in row i (repeated pairs add up). */
void pgi_lp_add(pgi_lp *lp, int i, int j, double v);
void pgi_lp_qcost(pgi_lp *lp, int j, double q);
/* Columns added from now on belong to block b (a step of the horizon; -1 for none). Blocks let
 * the LP solver warm-start large problems from their blocks solved one by one. */
void pgi_lp_block(pgi_lp *lp, int b);
int pgi_lp_ok(const pgi_lp *lp, pg_error *err);

/* The largest finite magnitude of a cost, coefficient or bound the solvers are given; bounds at or
 * beyond PGI_INF are no bounds. COIN-OR's Clp aborts on objective coefficients of 1e25 and more. */
#define PGI_LP_MAX 1e20
/* Checks that every number of lp is finite and within PGI_LP_MAX (bounds may also be infinite):
 * the last guard before a solver, which callers' own range checks
 * (docs/dispatch.md) should make unreachable. PG_EINVAL naming the column or row otherwise. */
int pgi_lp_check(const pgi_lp *lp, pg_error *err);

typedef struct pgi_solve_options {
    double mip_gap;
    double time_limit_s;
    int threads;
    bool log;
    int block_min_cols; /* LP: warm-start from the blocks when there are at least this many
                           columns; 0 = the default (20000), < 0 = never */
} pgi_solve_options;

typedef enum {
    PGI_OPTIMAL = 0,
    PGI_INFEASIBLE = 1,
    PGI_UNBOUNDED = 2,
    PGI_LIMIT_FEASIBLE = 3,   /* a limit stopped the search with a feasible solution */
    PGI_LIMIT_NOSOLUTION = 4, /* a limit stopped the search before any feasible solution */
} pgi_status;

typedef struct pgi_solution {
    pgi_status status;
    double obj;   /* objective including the offset */
    double bound; /* MILP: best bound (with offset); LP: obj */
    double *x;    /* ncols */
    double *dual; /* nrows, LP only: d obj / d row bound (minimisation) */
    double *rc;   /* ncols, LP only: reduced costs, d obj / d column bound */
    double *act;  /* nrows: row activity */
    double seconds;
    bool warm_started; /* LP: the answer came from the block warm start */
} pgi_solution;

void pgi_solution_free(pgi_solution *s);

/* Solves the continuous problem (integer flags ignored) with Clp: dual simplex for LPs, the
 * primal (reduced-gradient) method for QPs. Fills sol (arrays malloc'd) when a status is known. */
int pgi_solve_lp(const pgi_lp *lp, const pgi_solve_options *o, pgi_solution *sol, pg_error *err);
/* Solves the mixed-integer problem with Cbc. Fills sol.x, sol.act, sol.obj and sol.bound. */
int pgi_solve_mip(const pgi_lp *lp, const pgi_solve_options *o, pgi_solution *sol, pg_error *err);

/* "Clp 1.17.6, Cbc 2.10.8" for version reports; "unavailable (REASON)" when the solver module
 * cannot be loaded. */
const char *pgi_solver_versions(void);

/* A solver backend: one table of functions. coin.c defines the only one, pgi_coin_backend. */
typedef struct pgi_lp_backend {
    const char *name;
    int (*solve_lp)(const pgi_lp *lp, const pgi_solve_options *o, pgi_solution *sol, pg_error *err);
    int (*solve_mip)(const pgi_lp *lp, const pgi_solve_options *o, pgi_solution *sol,
                     pg_error *err);
    const char *(*versions)(void);
} pgi_lp_backend;

/* The backend, built in (backend_builtin.c) or loaded once from the COIN-OR module
 * (backend_module.c). NULL with err filled (PG_EUNSUPPORTED) when the module cannot be loaded.
 * Thread-safe. */
const pgi_lp_backend *pgi_lp_backend_get(pg_error *err);

/* The symbol the module exports: visible even in a build with hidden visibility. */
#if defined(__GNUC__)
#define PGI_BACKEND_EXPORT __attribute__((visibility("default")))
#else
#define PGI_BACKEND_EXPORT
#endif
extern PGI_BACKEND_EXPORT const pgi_lp_backend pgi_coin_backend;

#endif
