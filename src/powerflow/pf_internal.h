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

/* The network view of a world: everything that depends on topology (pattern, islands, classes)
 * and, separately, on branch and shunt parameters (admittance values). */
typedef struct pgi_pf_net {
    int nb, nl, ng;

    /* The topology it was built from, to recognise the same topology again. */
    int *key; /* nb bus types, 3 nl (from, to, status), 2 ng (bus, status) */
    int key_len;

    /* Derived topology. */
    unsigned char *br_on; /* nl: in service with both ends live */
    int *bf, *bt;         /* nl: from and to bus of each branch */
    int *yp, *yi;         /* Ybus pattern, compressed columns, rows sorted, all diagonals */
    int ynnz;
    int *ydiag;   /* nb: position of the diagonal entry */
    int *brpos;   /* 4 nl: positions of (f,f) (f,t) (t,f) (t,t); -1 when off */
    int *ytpos;   /* ynnz: position of the transposed entry (the pattern is symmetric) */
    int *gp, *gi; /* thermal units by bus: gi[gp[b] .. gp[b+1]-1], in unit order */
    int *island;  /* nb: island index, -1 for isolated buses */
    int n_islands;
    pg_pf_island *islands;
    int *cls0; /* nb: class of each bus before any Q-limit switching */

    /* Parameters it was built from, to recognise the same values again. */
    double *par; /* 5 nl (r, x, b, tap, shift), 2 nb (gs, bs), base MVA */
    int par_len;
    bool have_values;
    unsigned long version; /* counts the times the values were (re)built */
    double *ytre, *ytim;   /* ynnz: Ybus values, p.u., transposed in the same pattern (the pattern
                              is symmetric): row i of Ybus is column i here, so Ybus V is a gather */
    double *ybr;           /* 8 nl: yff, yft, ytf, ytt (re, im) per branch, p.u. */
    double *shunt;         /* 2 nb: bus shunt gs (MW consumed) and bs (MVAr injected) at 1 p.u. */
    double *chg;           /* 2 nl: line charging at the from end (b / 2 tap^2) and at the to end
                              (b / 2), p.u.: times |V|^2, the reactive power it injects */
    double *bdc;           /* nl: DC series susceptance 1 / (x tap), p.u. */
    double *pfinj;         /* nl: DC phase-shift injection b (-shift), p.u. */
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
/* Rebuilds the topology part of net from w (values are marked stale). */
int pgi_pf_net_topology(pgi_pf_net *net, const pg_world *w, pg_error *err);
/* Fills the admittance values from w's branch and shunt parameters. */
int pgi_pf_net_values(pgi_pf_net *net, const pg_world *w, pg_error *err);
/* snprintf that truncates quietly (messages may be cut, never overflow). */
void pgi_pf_say(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Checks the world's indices and numbers that the power flow uses. */
int pgi_pf_check_world(const pg_world *w, pg_error *err);
/* Checks only what may change between solves of one network: starting voltages, unit setpoints
 * and limits, loads, renewables and storage. For a world whose network net_compare found the
 * same as a checked one. */
int pgi_pf_check_inputs(const pg_world *w, pg_error *err);

/* The AC Newton-Raphson engine: Jacobian pattern and scatter map for one set of bus classes, the
 * KLU objects and the workspaces. */
typedef struct pgi_pf_newton {
    int nb;
    int *cls;       /* nb: the classes the pattern was built for */
    int n;          /* unknowns */
    int *iva, *ivm; /* nb: index of the bus's angle / magnitude unknown, -1 when none */
    int *jp, *ji;   /* Jacobian pattern, compressed columns */
    double *jx;     /* jnnz + 2 values; the last two are the sink */
    int jnnz;
    int *map;  /* 2 ynnz: the scatter map. Position p of the transposed Ybus (column i,
                  row k: the entry Y(i,k)) lands in the Jacobian slots of (P_i, Va_k)
                  and (P_i, Vm_k); for a PQ bus i, (Q_i, .) is the slot after each.
                  Slots jnnz, jnnz + 1 are a sink for pairs that are not unknowns */
    int *dmap; /* 4 nb: the same for the diagonal corrections of bus b */
    klu_common common;
    klu_symbolic *sym;
    klu_numeric *num;    /* factors of the current iteration's Jacobian */
    double rcond_factor; /* min/max |U_ii| after num's last full factorization */
    /* The Jacobian at the starting voltage depends only on that voltage and on Ybus, not on the
     * injections: repeated solves of one network from the same start (a day of hourly steps)
     * keep its factors, and the first Newton step needs no factorization. */
    klu_numeric *num0; /* factors of the Jacobian at the start below */
    double rcond0;
    double *start_vm, *start_va;             /* nb: the start num0 belongs to */
    double *start_vr, *start_vi, *start_inv; /* nb: its complex voltages and 1/|V| */
    unsigned long start_version;             /* net->version num0 belongs to */
    bool have_start;
    /* Workspaces. */
    double *vr, *vi; /* nb: complex voltage (after a solve: the solution's) */
    double *sr, *si; /* nb: computed injection V conj(Ybus V), p.u. */
    double *invvm;   /* nb: 1 / |V| */
    double *f;       /* n: mismatch, then the Newton step */
    /* Counters. */
    int analyses, factorizations, refactorizations;
} pgi_pf_newton;

typedef struct pgi_pf_newton_out {
    bool converged;
    int iterations;
    double max_mismatch;
    char reason[300];
} pgi_pf_newton_out;

void pgi_pf_newton_init(pgi_pf_newton *nr);
void pgi_pf_newton_clear(pgi_pf_newton *nr);
/* Makes the pattern and symbolic analysis fit classes cls (no work when they already do). */
int pgi_pf_newton_prepare(pgi_pf_newton *nr, const pgi_pf_net *net, const int *cls, pg_error *err);
/* Solves for vm (p.u.) and va (radians) given injections sbus (p.u.), starting from their values.
 * Only buses of classes PQ/PV/REF take part. A failed solve is reported in out, not as an error. */
int pgi_pf_newton_solve(pgi_pf_newton *nr, const pgi_pf_net *net, const double *sbus_re,
                        const double *sbus_im, double *vm, double *va, double tol, int max_iter,
                        pgi_pf_newton_out *out, pg_error *err);
/* Sets the complex voltages vr, vi from vm and va (dead buses 0). */
void pgi_pf_newton_set_voltage(pgi_pf_newton *nr, const double *vm, const double *va);
/* Times one KLU refactorization and solve of the last Jacobian, seconds (median of reps). */
double pgi_pf_newton_time_refactor(pgi_pf_newton *nr, int reps);

/* Times one KLU refactorization and solve of the solver's last AC Jacobian, seconds (median of
 * reps); 0 before an AC solve. For the benchmark. */
double pgi_pf_solver_time_refactor(pg_pf_solver *s, int reps);

/* The DC engine: reduced B matrix pattern for one set of reference buses, KLU objects. */
typedef struct pgi_pf_dc {
    int nb;
    int *cls; /* nb: classes the pattern was built for */
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

void pgi_pf_dc_init(pgi_pf_dc *dc);
void pgi_pf_dc_clear(pgi_pf_dc *dc);
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
