/* Internal interfaces of the power-flow module: the network view a solver keeps of a world (the
 * admittance pattern and values, islands, bus classes), the AC Newton-Raphson engine with its KLU
 * state, and the DC solve. Only src/powerflow/ and the benchmark include this. */
#ifndef PG_POWERFLOW_INTERNAL_H
#define PG_POWERFLOW_INTERNAL_H

#include <stdbool.h>

#include <klu.h>

#include "plurigrid/pf.h"

/* Bus classes inside the solver: what is unknown at the bus. */
enum {
    PGI_DEAD = 0, /* isolated, or in an island that cannot be solved: not part of the problem */
    PGI_REF = 1,  /* reference: |V| and angle fixed, P and Q free */
    PGI_PV = 2,   /* voltage controlled: angle unknown, |V| fixed */
    PGI_PQ = 3,   /* angle and |V| unknown */
};

/* ---------------------------------------------------------------- blocks
 * A solve's memory is a few blocks, each holding the arrays that live and die together (the
 * topology, the admittance values, the Newton pattern and workspaces, the solver's workspaces, the
 * result), so that a cold solve touches few fresh pages and a warm one allocates only its result.
 * A layout function names every array of a block twice through PGI_TAKE: first with base NULL,
 * to add up the size, then with the block allocated, to place the arrays in it. Arrays start at
 * multiples of 64 bytes into the block; an array of 0 elements still gets a place (no pointer is
 * NULL). See block.c for why. */
typedef struct pgi_pf_layout {
    char *base;  /* NULL while sizing */
    size_t size; /* bytes so far; SIZE_MAX once it no longer fits in a size_t */
} pgi_pf_layout;

void *pgi_pf_take(pgi_pf_layout *l, size_t n, size_t elem);
#define PGI_TAKE(l, p, n) ((p) = pgi_pf_take((l), (n), sizeof *(p)))

/* A large solver's blocks come from one region, given out in order and taken back in reverse
 * order. The region is mapped in whole huge pages, asking the kernel for transparent huge pages
 * (Linux), so that one page fault maps 2 MiB; it is used from PGI_PF_HUGE_MIN bytes, where the
 * rounding at most doubles the memory. Smaller solvers, and blocks that do not fit, take their
 * blocks from malloc (which also fills the free room of pages the process already has). */
typedef struct pgi_pf_region {
    char *base; /* NULL: no region */
    size_t cap, used;
} pgi_pf_region;
#define PGI_PF_HUGE_MIN ((size_t)1 << 20)

/* Makes rg a region for blocks of size bytes in all, with every block given back (keeps the one it
 * has when that is large enough); no region (base NULL) below PGI_PF_HUGE_MIN, without huge page
 * support, or when the memory cannot be mapped. */
void pgi_pf_region_reserve(pgi_pf_region *rg, size_t size);
void pgi_pf_region_free(pgi_pf_region *rg);
/* A block of size bytes from rg (NULL: on its own); NULL when there is no memory or size is
 * SIZE_MAX. Free with the same rg and size. */
void *pgi_pf_block_alloc(pgi_pf_region *rg, size_t size);
/* What a block of size bytes takes of a region. */
size_t pgi_pf_block_size(size_t size);
void pgi_pf_block_free(pgi_pf_region *rg, void *block, size_t size);

/* The network view of a world: everything that depends on topology (pattern, islands, classes)
 * and, separately, on branch and shunt parameters (admittance values). A solver that solves once
 * (pg_pf_solve) builds only what that solve reads; one that is kept also keeps what it needs to
 * recognise the next world's network and the branch admittances its results read. */
typedef struct pgi_pf_net {
    int nb, nl, ng;
    pgi_pf_region *rg; /* where its blocks come from (NULL: on their own) */

    /* Derived topology (one block). */
    void *topo;
    size_t topo_size;
    unsigned char *br_on; /* nl: in service with both ends live */
    int *bf, *bt;         /* nl: from and to bus of each branch */
    int *yp, *yi;         /* Ybus pattern, compressed columns, rows sorted, all diagonals */
    int ynnz;
    int *ydiag;   /* nb: position of the diagonal entry (the same in the transposed layout) */
    int *brpos;   /* 2 nl: where Y(f,t) and Y(t,f) of a branch in service sit in the transposed
                     layout (-1 when off); Y(f,f) and Y(t,t) are at ydiag */
    int *gp, *gi; /* thermal units by bus: gi[gp[b] .. gp[b+1]-1], in unit order */
    /* The topology it was built from, to recognise the same topology again (a kept solver only;
     * NULL otherwise): with bf and bt, the bus types, branch status, and units' bus and status. */
    unsigned char *key_type, *key_br_on, *key_unit_on;
    int *key_unit_bus;
    /* Islands (their own allocations). */
    int *island; /* nb: island index, -1 for isolated buses */
    int n_islands;
    pg_pf_island *islands;
    int *cls0; /* nb: class of each bus before any Q-limit switching */

    /* Admittance values (one block; which arrays it has depends on PGI_VAL_* below). */
    void *vals;
    size_t vals_size;
    bool have_values;
    unsigned long version; /* counts the times the values were (re)built */
    double *ytre, *ytim;   /* AC: ynnz: Ybus values, p.u., transposed in the same pattern (the
                              pattern is symmetric): row i of Ybus is column i here, so Ybus V is a
                              gather */
    double *bdc;           /* DC: nl: series susceptance 1 / (x tap), p.u. */
    double *pfinj;         /* DC: nl: phase-shift injection b (-shift), p.u. */
    double *ybr;           /* AC, kept: 8 nl: yff, yft, ytf, ytt (re, im) per branch, p.u. */
    double *chg;           /* AC, kept: 2 nl: line charging at the from end (b / 2 tap^2) and at
                              the to end (b / 2), p.u.: times |V|^2, the reactive power injected */
    double *shunt;         /* kept: 2 nb: bus shunt gs (MW consumed) and bs (MVAr injected) at
                              1 p.u. */
    double *par;           /* kept: 5 nl (r, x, b, tap, shift), to recognise the values again */
    double base_mva;
} pgi_pf_net;

void pgi_pf_net_free(pgi_pf_net *net);
/* How a world's network compares with the one net was built from. */
typedef enum {
    PGI_NET_OTHER,         /* another topology (or net is empty) */
    PGI_NET_SAME_TOPOLOGY, /* the same topology, other branch or shunt parameters */
    PGI_NET_SAME,          /* the same topology and parameters */
} pgi_pf_net_match;
/* Compares w (any world, checked or not; NULL is OTHER) with what net was built from, in one pass
 * over its buses, branches and units. */
pgi_pf_net_match pgi_pf_net_compare(const pgi_pf_net *net, const pg_world *w);
/* Rebuilds the topology part of net from w (values are marked stale); with keep, also what
 * pgi_pf_net_compare needs to recognise it. */
int pgi_pf_net_topology(pgi_pf_net *net, const pg_world *w, bool keep, pg_error *err);
/* What pgi_pf_net_values builds. */
enum {
    PGI_VAL_AC = 1,     /* Ybus values */
    PGI_VAL_DC = 2,     /* DC susceptances and phase-shift injections */
    PGI_VAL_BRANCH = 4, /* branch admittances and charging (with AC) and bus shunts, for results */
    PGI_VAL_PARAMS = 8, /* branch parameters and the base, to recognise them again */
};
/* Fills the admittance values from w's branch and shunt parameters (what is a PGI_VAL_* mask). */
int pgi_pf_net_values(pgi_pf_net *net, const pg_world *w, unsigned what, pg_error *err);
/* Bytes of region the topology and values of w take at most (with keep and what as above). */
size_t pgi_pf_net_bound(const pg_world *w, bool keep, unsigned what);
/* The admittances of branch br in per unit (MATPOWER's makeYbus): y holds yff, yft, ytf, ytt as
 * (re, im) pairs; chg the charging at the from end (b / 2 tap^2) and at the to end (b / 2). The
 * one place they are computed, so that the matrices and the results get the same bits. */
void pgi_pf_branch_y(const pg_branch *br, double y[8], double chg[2]);
/* snprintf that truncates quietly (messages may be cut, never overflow). */
void pgi_pf_say(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Checks the world's indices and numbers that the power flow uses. */
int pgi_pf_check_world(const pg_world *w, pg_error *err);
/* Checks only what may change between solves of one network: starting voltages, unit setpoints
 * and limits, loads, renewables and storage. For a world whose network net_compare found the
 * same as a checked one. */
int pgi_pf_check_inputs(const pg_world *w, pg_error *err);

/* The AC Newton-Raphson engine: Jacobian pattern and scatter map for one set of bus classes, the
 * KLU objects and the workspaces, all in one block (kept, and reused when a new pattern fits). */
typedef struct pgi_pf_newton {
    int nb;
    bool keep_start;   /* keep the start and its factors for the next solve (a kept solver) */
    pgi_pf_region *rg; /* where its block comes from (NULL: on its own) */
    void *block;
    size_t block_size;
    int *cls;       /* nb: the classes the pattern was built for; NULL when there is none */
    int n;          /* unknowns */
    int *iva, *ivm; /* nb: index of the bus's angle / magnitude unknown, -1 when none */
    int *jp, *ji;   /* Jacobian pattern, compressed columns */
    double *jx;     /* jnnz + 2 values; the last two are the sink */
    int jnnz;
    int *map; /* 2 ynnz: the scatter map. Position p of the transposed Ybus (column i,
                 row k: the entry Y(i,k)) lands in the Jacobian slots of (P_i, Va_k)
                 and (P_i, Vm_k); for a PQ bus i, (Q_i, .) is the slot after each.
                 Slots jnnz, jnnz + 1 are a sink for pairs that are not unknowns. The
                 diagonal of bus i is at p = ydiag[i] */
    klu_common common;
    klu_symbolic *sym;
    klu_numeric *num;    /* factors of the current iteration's Jacobian */
    double rcond_factor; /* min/max |U_ii| after num's last full factorization */
    /* The Jacobian at the starting voltage depends only on that voltage and on Ybus, not on the
     * injections: repeated solves of one network from the same start (a day of hourly steps)
     * keep its factors, and the first Newton step needs no factorization (keep_start only). */
    klu_numeric *num0; /* factors of the Jacobian at the start below */
    double rcond0;
    double *start_vm, *start_va;             /* nb: the start num0 belongs to */
    double *start_vr, *start_vi, *start_inv; /* nb: its complex voltages and 1/|V| */
    unsigned long start_version;             /* net->version num0 belongs to */
    bool have_start;
    /* Workspaces. */
    double *vr, *vi; /* nb: complex voltage (after a solve: the solution's) */
    double *sr, *si; /* nb: computed injection V conj(Ybus V), p.u. */
    double *invvm;   /* nb: 1 / |V| (0 at dead buses) */
    double *f;       /* n: mismatch, then the Newton step */
    /* Chord steps (see pgi_pf_newton_solve): the factors in num, of a Jacobian of an earlier
     * solve of the same pattern, serve the first steps of the next solve while they converge. */
    bool chord;
    /* The base of outage solves (pgi_pf_newton_outage_base); NULL when there is none. */
    struct pgi_pf_outage_base *ob;
    /* Counters. */
    int analyses, factorizations, refactorizations;
} pgi_pf_newton;

typedef struct pgi_pf_newton_out {
    bool converged;
    int iterations;
    double max_mismatch;
    char reason[300];
} pgi_pf_newton_out;

/* keep_start: the solver is kept for more solves (see pgi_pf_newton.keep_start). */
void pgi_pf_newton_init(pgi_pf_newton *nr, bool keep_start, pgi_pf_region *rg);
void pgi_pf_newton_clear(pgi_pf_newton *nr);
/* Bytes of region the engine takes at most for nb buses and ynnz Ybus entries. */
size_t pgi_pf_newton_bound(const pgi_pf_newton *nr, size_t nb, size_t ynnz);
/* Frees KLU's analysis and factors (a solver that solves once, when its solve is done); the
 * block, with the solution's voltages, stays. */
void pgi_pf_newton_release(pgi_pf_newton *nr);
/* Makes the pattern and symbolic analysis fit classes cls (no work when they already do). */
int pgi_pf_newton_prepare(pgi_pf_newton *nr, const pgi_pf_net *net, const int *cls, pg_error *err);
/* Solves for vm (p.u.) and va (radians) given injections sbus (p.u.), starting from their values.
 * Only buses of classes PQ/PV/REF take part. A failed solve is reported in out, not as an error. */
int pgi_pf_newton_solve(pgi_pf_newton *nr, const pgi_pf_net *net, const double *sbus_re,
                        const double *sbus_im, double *vm, double *va, double tol, int max_iter,
                        pgi_pf_newton_out *out, pg_error *err);
/* Outage (N-1) analysis. The base is the Jacobian of the intact network at its solution, with
 * its factors; an outage of the branch between buses f and t changes only the rows of f and t
 * (at most four), so the outaged network's Jacobian at the base solution is the base one plus a
 * rank-four correction, solved by the Sherman-Morrison-Woodbury formula with the base factors.
 * Chord steps with that Jacobian run while they converge fast; then Newton steps with fresh
 * Jacobians, refactorized with the base pivot order while the pivots stay sound. Every outage
 * starts from the base and leaves it as it was: its numbers depend on nothing else. */
typedef struct pgi_pf_outage_base {
    klu_numeric *num;  /* factors of the base Jacobian at the base solution (only read) */
    klu_numeric *work; /* the same pivot order, refactorized by outages that take Newton steps */
    double ratio;      /* pivot ratio of num */
    int n, nb, jnnz;
    double *jx;                      /* jnnz: the base Jacobian */
    double *vm, *va, *vr, *vi, *inv; /* nb: the base solution */
    double *z;                       /* 4 n: J^-1 times the unit vectors of the outaged rows */
} pgi_pf_outage_base;

/* Makes the base of outage solves: the Jacobian of net (as it is now) at the solution vm, va (of
 * injections sbr, sbi) and its factors. The pattern must have been prepared. */
int pgi_pf_newton_outage_base(pgi_pf_newton *nr, const pgi_pf_net *net, const double *sbr,
                              const double *sbi, const double *vm, const double *va, pg_error *err);
/* Solves the outage of a branch between buses f and t, whose admittances net's Ybus values no
 * longer hold, from the base solution, which vm and va hold on entry. As pgi_pf_newton_solve;
 * max_iter bounds the Newton steps (chord steps are cheap and bounded on their own; none when
 * max_iter is 0); out->iterations counts both. */
int pgi_pf_newton_outage(pgi_pf_newton *nr, const pgi_pf_net *net, int f, int t, const double *sbr,
                         const double *sbi, double *vm, double *va, double tol, int max_iter,
                         pgi_pf_newton_out *out, pg_error *err);

/* Sets the complex voltages vr, vi from vm and va (dead buses 0). */
void pgi_pf_newton_set_voltage(pgi_pf_newton *nr, const double *vm, const double *va);
/* KLU's symbolic analysis of the structurally symmetric n x n pattern (ap, ai; rows sorted in each
 * column), n > 0: what klu_analyze does without BTF and with AMD (the same ordering, so the same
 * factors), with AMD's workspace in scratch, pgi_pf_analyze_scratch(n, nnz of the pattern) ints,
 * instead of memory of its own. NULL on failure (c->status says why). */
size_t pgi_pf_analyze_scratch(size_t n, size_t nnz);
klu_symbolic *pgi_pf_analyze(int n, int *ap, int *ai, int *scratch, klu_common *c);
/* Times one KLU refactorization and solve of the last Jacobian, seconds (median of reps). */
double pgi_pf_newton_time_refactor(pgi_pf_newton *nr, int reps);

/* Contingency analysis on a kept AC solver (see contingency.c). outage_begin: the solver has
 * just solved w (converged, without Q limits); makes that solution the base of outages.
 * outage: solves w with branch l (in service, with both ends live) out, from the base, and
 * returns the result as pg_pf_solver_solve would; the solver's network is left as it was. */
int pgi_pf_solver_outage_begin(pg_pf_solver *s, const pg_world *w, pg_error *err);
int pgi_pf_solver_outage(pg_pf_solver *s, const pg_world *w, size_t l, pg_pf_result **out,
                         pg_error *err);
/* pg_pf_summarize of w with branch skip taken out of service (PG_NONE: none). */
void pgi_pf_summarize_without(const pg_world *w, const pg_pf_result *r, pg_pf_rating rating,
                              size_t skip, pg_pf_summary *s);
/* Chord steps on or off for the solver's next solves (time series: the factors of the previous
 * step serve the first steps of the next). */
void pgi_pf_solver_set_chord(pg_pf_solver *s, bool on);

/* Times one KLU refactorization and solve of the solver's last AC Jacobian, seconds (median of
 * reps); 0 before an AC solve. For the benchmark. */
double pgi_pf_solver_time_refactor(pg_pf_solver *s, int reps);

/* The DC engine: reduced B matrix pattern for one set of reference buses (one block), KLU
 * objects. */
typedef struct pgi_pf_dc {
    int nb;
    pgi_pf_region *rg; /* where its block comes from (NULL: on its own) */
    void *block;
    size_t block_size;
    int *cls; /* nb: classes the pattern was built for; NULL when there is none */
    int n;
    int *idx; /* nb: unknown index of the bus angle, -1 for reference and dead */
    int *bp, *bi;
    double *bx;
    int bnnz;
    int *map; /* ynnz: position of Ybus entry p in bx, or -1 */
    klu_common common;
    klu_symbolic *sym;
    klu_numeric *num; /* kept while the values do not change */
    double *rhs;
    int analyses, factorizations;
} pgi_pf_dc;

void pgi_pf_dc_init(pgi_pf_dc *dc, pgi_pf_region *rg);
void pgi_pf_dc_clear(pgi_pf_dc *dc);
/* Bytes of region the engine takes at most for nb buses and ynnz Ybus entries. */
size_t pgi_pf_dc_bound(size_t nb, size_t ynnz);
/* Solves the DC power flow for va (radians) given net active injections pbus (p.u., already
 * corrected for phase shifters and shunt conductance); va holds reference angles on entry.
 * values_changed says the branch parameters changed since the last call. Sets *ok false and
 * reason when the B matrix is singular. */
int pgi_pf_dc_solve(pgi_pf_dc *dc, const pgi_pf_net *net, const int *cls, bool values_changed,
                    const double *pbus, double *va, bool *ok, char *reason, size_t reason_size,
                    pg_error *err);
/* Row b of the full B matrix times va (p.u.), for the slack. */
double pgi_pf_dc_row_times(const pgi_pf_net *net, int b, const double *va);

#endif
