/* Power flow: the bus admittance matrix, AC Newton-Raphson in polar form (sparse Jacobian
 * factorized by KLU, with the symbolic analysis reused across iterations and across solves of the
 * same topology), optional enforcement of generator reactive limits, and the DC (B-theta) power
 * flow. The models and conventions are MATPOWER's (runpf, newtonpf, pfsoln, dcpf), so results
 * match MATPOWER's for the same case. See docs/powerflow.md.
 *
 * A world's components become power-flow injections like this: loads draw (p, q); renewables and
 * storage inject their setpoints (p, q); in-service thermal units at PV and reference buses hold
 * the bus voltage at their setpoint vg and their reactive output follows from the solution (the
 * reference bus's unit also takes up the active-power slack); thermal units at PQ buses inject
 * their (p, q) as given. A PV bus without an in-service thermal unit behaves as a PQ bus.
 *
 * Results are plain structs owned by the caller (pg_pf_result_free). Physical quantities in
 * results are in MW, MVAr, degrees; voltage magnitudes and mismatches in per unit. Solvers never
 * print; the printers at the end of this header return results as text or JSON. */
#ifndef PLURIGRID_PF_H
#define PLURIGRID_PF_H

#include <stdbool.h>
#include <stddef.h>

#include "plurigrid/core.h"
#include "plurigrid/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- admittance matrices */

/* A complex sparse matrix in compressed-column form (as KLU, MATLAB and SciPy's csc_matrix store
 * it): the entries of column j are re[p] + i im[p] at rows rowind[p] for p in
 * colptr[j] .. colptr[j+1]-1, with rows increasing within a column. */
typedef struct pg_pf_sparse {
    int n_rows;
    int n_cols;
    int nnz;
    int *colptr; /* n_cols + 1 */
    int *rowind; /* nnz */
    double *re;  /* nnz */
    double *im;  /* nnz */
} pg_pf_sparse;

/* The admittance matrices of MATPOWER's makeYbus, in per unit on the world's base MVA:
 * I_bus = Ybus V, I_from = Yf V, I_to = Yt V. Every branch is a pi model (series r + jx, total
 * charging b split between the ends) behind an ideal transformer at the from end with complex
 * ratio tap * exp(j shift); bus shunts gs/bs (MW and MVAr at 1 p.u.) sit on Ybus's diagonal.
 * Out-of-service branches and branches touching isolated buses are left out (their Yf/Yt rows are
 * empty). Ybus stores every diagonal entry, zero or not. */
typedef struct pg_pf_admittance {
    pg_pf_sparse ybus; /* n_buses x n_buses */
    pg_pf_sparse yf;   /* n_branches x n_buses: row l is branch l's current into its from end */
    pg_pf_sparse yt;   /* n_branches x n_buses: row l is branch l's current into its to end */
} pg_pf_admittance;

/* Builds the admittance matrices of w. Borrows w; *out is written only on success and belongs to
 * the caller (pg_pf_admittance_free). Fails with PG_EMODEL (naming the branch) for a branch with
 * zero impedance or a non-finite parameter, or a bus index out of range. */
PG_API int pg_pf_admittance_build(pg_pf_admittance **out, const pg_world *w, pg_error *err);

/* Frees the matrices. Accepts NULL. */
PG_API void pg_pf_admittance_free(pg_pf_admittance *y);

/* ---------------------------------------------------------------- options */

typedef struct pg_pf_options {
    bool dc;             /* DC power flow (B-theta) instead of AC Newton-Raphson; default false */
    bool enforce_q_lims; /* AC: hold thermal units within [qmin, qmax] by switching their buses
                            from PV to PQ (MATPOWER pf.enforce_q_lims = 1); default false */
    double tol;          /* AC: stop when the largest P or Q mismatch is below this, p.u.;
                            default 1e-8 */
    int max_iter;        /* AC: most Newton iterations per solve (>= 0); default 10 */
    double q_lim_tol;    /* AC with enforce_q_lims: a unit violates a limit when beyond it by more
                            than this, MVAr; default 5e-6 (MATPOWER opf.violation) */
} pg_pf_options;

/* Fills o with the defaults above. */
PG_API void pg_pf_options_init(pg_pf_options *o);

/* ---------------------------------------------------------------- results */

typedef enum {
    PG_PF_ISLAND_SOLVED = 0,       /* solved (see the result's converged flag) */
    PG_PF_ISLAND_NO_REFERENCE = 1, /* no bus of type REF: nothing fixes the voltage angle */
    PG_PF_ISLAND_NO_GENERATOR = 2, /* a REF bus but no thermal unit in service to be the slack */
} pg_pf_island_status;

/* A connected part of the network (buses joined by in-service branches; isolated buses are in
 * none). Islands that cannot be solved are reported here and left de-energized: their buses get
 * vm = va = 0, their branches and units carry no power. */
typedef struct pg_pf_island {
    pg_pf_island_status status;
    size_t n_buses;
    size_t first_bus; /* lowest bus index in the island */
    size_t ref_bus;   /* bus index of its reference bus, PG_NONE when none */
    double load_mw;   /* load in the island, MW (not served when the island is not solved) */
    char reason[200]; /* "" when solved, otherwise why not, naming a bus */
} pg_pf_island;

typedef struct pg_pf_result {
    bool dc;             /* the DC model produced this result */
    bool converged;      /* every solvable island converged (DC: the linear solve succeeded) */
    bool all_solved;     /* converged and no island was left unsolved */
    int iterations;      /* Newton iterations, summed over Q-limit rounds; DC: 1 */
    int q_lim_rounds;    /* power flows run while enforcing Q limits (1 when not enforcing) */
    double max_mismatch; /* AC: largest |dP| or |dQ| at the end, p.u.; DC: 0 */
    char reason[400];    /* why it did not converge or what was left unsolved; "" otherwise */

    size_t n_buses, n_branches, n_thermals;
    double *vm;      /* per bus: voltage magnitude, p.u. (DC: 1) */
    double *va;      /* per bus: voltage angle, degrees, in (-180, 180] */
    int *bus_type;   /* per bus: the type used at the end (pg_bus_type; Q-limit enforcement
                        turns PV buses into PQ and may choose another reference bus) */
    size_t *island;  /* per bus: index into islands, PG_NONE for isolated buses */
    double *pg;      /* per thermal unit: active output, MW (0 when out of service) */
    double *qg;      /* per thermal unit: reactive output, MVAr (DC: 0) */
    bool *q_limited; /* per thermal unit: held at a reactive limit by Q-limit enforcement */
    double *pf, *qf; /* per branch: power into the branch at the from end, MW, MVAr */
    double *pt, *qt; /* per branch: power into the branch at the to end, MW, MVAr */

    double gen_p, gen_q;     /* total thermal output, MW, MVAr */
    double inj_p, inj_q;     /* total renewable and storage injection, MW, MVAr */
    double load_p, load_q;   /* total load served, MW, MVAr */
    double shunt_p, shunt_q; /* bus shunts: P consumed, Q injected (MW, MVAr at solved voltage) */
    double charging_q;       /* reactive power injected by line charging, MVAr */
    double loss_p, loss_q;   /* series losses summed over branches (pf + pt, qf + qt), MW, MVAr */

    size_t n_islands;
    pg_pf_island *islands;

    double time_setup_s; /* checks, and topology, admittances and symbolic analysis when they
                            are new (only the checks when a solver reuses them), seconds */
    double time_solve_s; /* Newton iterations (or the DC solve) and the results, seconds */
} pg_pf_result;

/* Frees a result and everything it holds. Accepts NULL. */
PG_API void pg_pf_result_free(pg_pf_result *r);

/* ---------------------------------------------------------------- solving */

/* Solves the power flow of w once. Borrows w and opts (NULL for defaults); *out is written only on
 * success and belongs to the caller. A power flow that does not converge, or an island that cannot
 * be solved, is a result (converged / all_solved false, reason set) and returns PG_OK; errors are
 * for bad worlds (PG_EMODEL, naming the component), bad options (PG_EINVAL) and PG_ENOMEM. */
PG_API int pg_pf_solve(const pg_world *w, const pg_pf_options *opts, pg_pf_result **out,
                       pg_error *err);

/* A solver keeps what depends only on a world's topology — admittance pattern, bus types and
 * islands, Jacobian pattern, KLU's symbolic analysis and pivot order, workspaces — so that solving
 * again a world with the same topology (the same buses, branches and their status, bus types,
 * unit placement and status; injections and branch parameters may differ) costs only numeric
 * work. A world with another topology is analysed afresh automatically. When solves keep starting
 * from the same voltages with the same admittances (hourly steps of one network: only the
 * injections change), the factors of the starting Jacobian are kept too, and the first Newton
 * step needs no factorization. */
typedef struct pg_pf_solver pg_pf_solver;

/* Creates a solver with options opts (copied; NULL for defaults). *out is written only on success
 * and belongs to the caller (pg_pf_solver_free). */
PG_API int pg_pf_solver_new(pg_pf_solver **out, const pg_pf_options *opts, pg_error *err);

/* Frees the solver. Accepts NULL. */
PG_API void pg_pf_solver_free(pg_pf_solver *s);

/* Solves the power flow of w, reusing the analysis of the previous call when the topology is the
 * same. Borrows w (which need not outlive the call); *out is written only on success and belongs to
 * the caller. Results and errors as pg_pf_solve. */
PG_API int pg_pf_solver_solve(pg_pf_solver *s, const pg_world *w, pg_pf_result **out,
                              pg_error *err);

/* What the solver has analysed: sizes, for reports and benchmarks. All 0 before the first solve. */
typedef struct pg_pf_solver_info {
    int jacobian_n;       /* unknowns (AC: angles of PV and PQ buses, magnitudes of PQ buses) */
    int jacobian_nnz;     /* nonzeros of the Jacobian (DC: of the reduced B matrix) */
    int lu_nnz;           /* nonzeros of KLU's L and U factors */
    int analyses;         /* symbolic analyses done so far */
    int factorizations;   /* full numeric factorizations (with pivoting) done so far */
    int refactorizations; /* numeric refactorizations reusing the pivots done so far */
} pg_pf_solver_info;

PG_API void pg_pf_solver_get_info(const pg_pf_solver *s, pg_pf_solver_info *info);

/* ---------------------------------------------------------------- sensitivities */

/* Power-transfer distribution factors of w's DC model (the model of pg_pf_solve with dc: series
 * reactances scaled by the tap ratio, resistance and charging ignored): ptdf[l * n_buses + b] is
 * the flow on branch l (MW, from -> to) per MW injected at bus b and withdrawn at the reference
 * bus of b's island (at its reference buses, as the DC power flow shares it, when an island has
 * several). Column b is 0 for a reference bus, an isolated bus and a bus of an island that cannot
 * be solved; row l is 0 for a branch out of service. Phase shifts are not in the factors: they
 * add flows of their own that do not depend on the injections. So the DC power flow's flow on l
 * is sum_b ptdf[l * n_buses + b] * P_b (P_b: the bus's net injection, MW, with its shunt
 * conductance drawn at 1 p.u.) plus the flow the phase shifters drive with no injection.
 * Borrows w; *ptdf is malloc'd (the caller frees it), n_branches * n_buses doubles, written only
 * on success. PG_EMODEL for a world the DC model cannot solve (naming the branch or bus), PG_ELIMIT
 * when the matrix would have more than PG_PF_PTDF_MAX factors. */
#define PG_PF_PTDF_MAX ((size_t)1 << 25)
PG_API int pg_pf_ptdf(const pg_world *w, double **ptdf, pg_error *err);

/* ---------------------------------------------------------------- summaries */

/* Which branch rating limits are checked against: rate_a (long-term, the default), rate_b
 * (short-term) or rate_c (emergency, what post-contingency checks usually use). A rating of 0 is
 * unlimited and that branch is never overloaded. */
typedef enum {
    PG_PF_RATE_A = 0,
    PG_PF_RATE_B = 1,
    PG_PF_RATE_C = 2,
} pg_pf_rating;

/* What a study keeps of one solved power flow: a few numbers instead of the per-bus arrays. */
typedef struct pg_pf_summary {
    bool converged;                /* as pg_pf_result.converged */
    int iterations;                /* Newton iterations (DC: 1); for outages and time-series
                                      steps, chord and Newton steps together */
    double max_mismatch;           /* p.u. */
    double load_p, gen_p, loss_p;  /* MW: load served, thermal output, series losses */
    double vm_min, vm_max;         /* p.u. over energized buses (NaN when none) */
    size_t vm_min_bus, vm_max_bus; /* bus indices, PG_NONE when none */
    size_t n_voltage_violations;   /* energized buses outside their [vmin, vmax] by more than 1e-6
                                      p.u. */
    double max_loading;        /* largest max(|S_from|, |S_to|) / rating over in-service branches
                                  with a rating, as a fraction (1 = at the rating); 0 when none */
    size_t max_loading_branch; /* branch index, PG_NONE when no branch is rated */
    size_t n_overloads;        /* branches with loading above 1 + 1e-6 */
} pg_pf_summary;

/* Summarises r (a result of w) against the rating chosen. Borrows both; never fails. */
PG_API void pg_pf_summarize(const pg_world *w, const pg_pf_result *r, pg_pf_rating rating,
                            pg_pf_summary *s);

/* ---------------------------------------------------------------- contingency analysis (N-1) */

typedef enum {
    PG_PF_OUTAGE_SOLVED = 0,    /* the outaged network was solved; see summary.converged */
    PG_PF_OUTAGE_ISLANDING = 1, /* the outage splits an island in two: not solved; the load cut off
                                   from the reference bus is in islanded_load_mw */
    PG_PF_OUTAGE_OUT = 2,       /* the branch was already out of service (or carries nothing:
                                   it touches an isolated bus, or lies in an island that could
                                   not be solved): nothing to study */
} pg_pf_outage_status;

typedef struct pg_pf_outage {
    size_t branch; /* the branch taken out */
    pg_pf_outage_status status;
    pg_pf_summary summary;   /* SOLVED only (zeros otherwise) */
    double islanded_load_mw; /* ISLANDING only */
    double *vm, *va;         /* keep_states and SOLVED only: per bus, p.u. and degrees as in
                                pg_pf_result; NULL otherwise */
} pg_pf_outage;

typedef struct pg_pf_contingency_options {
    pg_pf_options pf;       /* tolerance and iteration limit of every solve (AC only:
                               dc and enforce_q_lims are refused with PG_EINVAL) */
    const size_t *branches; /* the outages to study, in this order (borrowed); NULL: every
                               in-service branch in index order */
    size_t n_branches;
    pg_pf_rating rating; /* default PG_PF_RATE_A */
    bool keep_states;    /* keep each solved outage's vm and va (for checks); default false */
    void (*progress)(void *user, size_t done, size_t total); /* may be NULL; calling thread */
    void *progress_user;
    const volatile int *stop; /* may be NULL; when *stop becomes nonzero the analysis stops
                                 between outages with PG_ECANCELED */
} pg_pf_contingency_options;

PG_API void pg_pf_contingency_options_init(pg_pf_contingency_options *o);

typedef struct pg_pf_contingency_result {
    pg_pf_result *base; /* the base case, solved from the world's own starting point */
    pg_pf_summary base_summary;
    size_t n_outages;      /* 0 when the base case did not converge (base says why) */
    pg_pf_outage *outages; /* in the order of options.branches */
    size_t n_solved, n_converged, n_islanding;
    double time_base_s, time_outages_s;
} pg_pf_contingency_result;

/* N-1 analysis: every outage of opts->branches in turn, each solved by AC Newton-Raphson from the
 * base-case solution to opts->pf.tol, reusing the base case's analysis and factors (an outage is
 * a rank-two change of the network). Each outage's result depends only on w, the options and its
 * branch: not on which other outages are studied, nor in what order, so a study split into
 * batches anywhere gives the same numbers to the bit. It equals solving the outaged world from
 * scratch with pg_pf_solve started from the base-case solution to within the tolerance. Borrows w
 * and opts; *out is written only on success (the caller frees it with
 * pg_pf_contingency_result_free). Errors: as pg_pf_solve, PG_EINVAL for a branch index out of
 * range or unsupported options, PG_ECANCELED when opts->stop was set. */
PG_API int pg_pf_contingency(const pg_world *w, const pg_pf_contingency_options *opts,
                             pg_pf_contingency_result **out, pg_error *err);
PG_API void pg_pf_contingency_result_free(pg_pf_contingency_result *r); /* accepts NULL */

/* ---------------------------------------------------------------- time series */

typedef struct pg_pf_series_options {
    pg_pf_options pf;    /* every step's solve (AC or DC) */
    size_t first;        /* first step of the world's series; default 0 */
    size_t count;        /* steps; 0 (default) = to the end of the series */
    bool scale_thermals; /* thermal units' p scaled by the step's total load over the
                            world's nominal total load (generation follows load, so the
                            reference bus does not take up every change); default true */
    pg_pf_rating rating; /* default PG_PF_RATE_A */
    void (*progress)(void *user, size_t done, size_t total); /* may be NULL */
    void *progress_user;
    const volatile int *stop; /* may be NULL; stops between steps with PG_ECANCELED */
} pg_pf_series_options;

PG_API void pg_pf_series_options_init(pg_pf_series_options *o);

/* Power flow of every step first .. first + count - 1 of w's series (pg_world_at_step), each
 * started from the previous step's solution (the first from the world's own starting point),
 * reusing one solver's analysis and factors throughout. steps[k] summarises step first + k.
 * A step that does not converge is a result (its summary says so) and the next step starts
 * again from the world's starting point. Deterministic: the same world, options and first give
 * the same numbers to the bit. *steps (malloc'd, *n entries) is written only on success. */
PG_API int pg_pf_series(const pg_world *w, const pg_pf_series_options *opts, pg_pf_summary **steps,
                        size_t *n, pg_error *err);

/* ---------------------------------------------------------------- printers */

/* The result as a readable report like MATPOWER's printpf: system summary (counts, totals, losses,
 * extremes), bus data and branch data, and any islands left unsolved; values a diverged power
 * flow left without a number read "diverged". Borrows w and r (w must be the world r was computed
 * from); *text is a new NUL-terminated string the caller frees, written only on success. */
PG_API int pg_pf_result_text(const pg_world *w, const pg_pf_result *r, char **text, pg_error *err);

/* The result as one JSON object (format "plurigrid-pf/1", see docs/powerflow.md), naming buses,
 * branches and units by their names, every number at round-trip precision and null where there
 * is no number. Borrows w and r (w must be the world r was computed from); *text is a new
 * NUL-terminated string the caller frees, written only on success. */
PG_API int pg_pf_result_json(const pg_world *w, const pg_pf_result *r, char **text, pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
