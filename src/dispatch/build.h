/* The multi-period problem builder: from a world, options and (optionally) a fixed commitment, the
 * unit commitment MILP or the economic dispatch LP/QP in the plain form of lp.h, plus the maps
 * from components and steps to columns and rows that turn a solution back into a schedule.
 * docs/dispatch.md states every variable and constraint written here. */
#ifndef PG_DISPATCH_BUILD_H
#define PG_DISPATCH_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "dispatch/lp.h"
#include "model/model_internal.h"
#include "plurigrid/dispatch.h"
#include "plurigrid/model.h"

/* ptr = n zeroed elements (at least one); when memory runs out, rc = PG_ENOMEM (recorded on err)
 * and goto out: for functions with that cleanup path and those two names. */
#define ALLOC(ptr, n)                                                                              \
    do {                                                                                           \
        (ptr) = calloc((n) > 0 ? (n) : 1, sizeof *(ptr));                                          \
        if (!(ptr)) {                                                                              \
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");                                    \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

/* A thermal unit's cost curve over [pmin, pmax] as the problem sees it: the cost at pmin while
 * committed plus convex segments above it; or, for the exact (OPF) form of a quadratic curve,
 * c0 + c1 p + c2 p^2 on the output itself. */
typedef struct pgi_curve {
    double c_min; /* $/h at pmin (segment form) */
    int nseg;
    double *width; /* MW */
    double *slope; /* $/MWh, non-decreasing */
    bool exact_quadratic;
    double c0, c1, c2;
} pgi_curve;

/* A commitment that the LP takes as given. */
typedef struct pgi_commitment {
    unsigned char *on;        /* [t * ng + g] */
    unsigned char *start;     /* [t * ng + g] */
    unsigned char *stop;      /* [t * ng + g] */
    signed char *storage_dir; /* [t * ns + s]: 1 charging only, -1 discharging only, 0 either */
} pgi_commitment;

typedef struct pgi_dmodel {
    const pg_world *w;
    pg_dispatch_options o;
    bool exact;     /* quadratic costs on the output (QP), no segments */
    bool slacks;    /* unserved-energy and spill columns (pgi_dmodel_init sets it) */
    pgi_horizon hz; /* the horizon over the world's series */
    size_t T;       /* steps */
    double dt;      /* hours per step */
    size_t nb, nbr, ng, nr, ns;

    double *demand;     /* [t * nb + b] MW, loads and shunt conductance */
    double *avail;      /* [t * nr + r] MW */
    bool *bus_live;     /* bus takes part (not isolated) */
    bool *thermal_live; /* in service at a live bus */
    bool *renewable_live, *storage_live;
    bool *branch_live; /* in service between live buses (DC network) */
    size_t *island;    /* per bus: island number, PG_NONE for a bus that is not live */
    size_t n_islands;
    size_t *island_ref;   /* per island: the bus whose angle is fixed */
    bool *island_limited; /* per island: a branch in it has a rating or an angle limit, so the
                             network can constrain the schedule */
    /* Cycle basis of the DC network: a spanning tree of each island grown from its reference
     * bus, and one Kirchhoff voltage law row per branch outside the tree (docs/dispatch.md). */
    size_t *tree_branch; /* per bus: the branch to its parent in the tree, PG_NONE at roots */
    size_t *order;       /* live buses, every parent before its children */
    size_t n_order;
    size_t n_cycles;
    size_t *cycle_start; /* n_cycles + 1 offsets into cycle_branch / cycle_coef */
    size_t *cycle_branch;
    double *cycle_coef; /* coefficient of the branch's flow in the cycle's row */
    double *p0;         /* per thermal: output before the first step, MW */
    pgi_curve *curves;  /* per thermal */

    /* columns (-1 = none), filled by pgi_dmodel_build */
    int *c_u, *c_v, *c_w, *c_p;      /* [t * ng + g]; c_p only in exact form */
    int *c_seg0;                     /* [t * ng + g]: first of the unit's nseg segment columns */
    int *c_r;                        /* [t * nr + r] */
    int *c_ch, *c_dis, *c_soc, *c_z; /* [t * ns + s] */
    int *c_us, *c_og; /* [t * nb + b] (DC) or [t] (copper plate: shed fraction, spill MW) */
    int *c_flow;      /* [t * nbr + k]: MW from -> to, bounded by the rating */
    /* rows */
    int *r_bal;       /* [t * nb + b] (DC) or [t] (copper plate) */
    double *branch_b; /* per branch: MW per radian */
    size_t n_int;
} pgi_dmodel;

/* Prepares the per-step data and curves (after pg_dispatch_check). exact selects the OPF form. */
int pgi_dmodel_init(pgi_dmodel *m, const pg_world *w, const pg_dispatch_options *o, bool exact,
                    pg_error *err);
void pgi_dmodel_free(pgi_dmodel *m);

/* Writes the problem into lp (empty on entry). fix NULL: the commitment MILP (binaries);
 * otherwise the dispatch with that commitment. */
int pgi_dmodel_build(pgi_dmodel *m, const pgi_commitment *fix, pgi_lp *lp, pg_error *err);

/* Output of unit g at step t in a solution x, MW. */
double pgi_dmodel_output(const pgi_dmodel *m, const double *x, size_t t, size_t g);
/* Variable cost of unit g at step t in x, $/h (curve incl. constant while committed). */
double pgi_dmodel_curve_cost(const pgi_dmodel *m, const double *x, size_t t, size_t g);

/* Bus voltage angles (degrees) of one step from its branch flows (MW, per branch), by walking
 * the spanning tree out from each island's reference bus. */
void pgi_dmodel_angles(const pgi_dmodel *m, const double *flow, double *angle_deg);

/* Series value of series s averaged over horizon step t (1 for PG_NONE). */
double pgi_dmodel_series(const pgi_dmodel *m, size_t s, size_t t);

/* The horizon the options ask for on this world (the model's resampling of its series). */
int pgi_dispatch_horizon(const pg_world *w, const pg_dispatch_options *o, pgi_horizon *h,
                         pg_error *err);
/* Builds the curve of a thermal unit over [pmin, pmax]; fails (PG_EMODEL or PG_EUNSUPPORTED) on
 * a non-convex curve or, in the exact form, a polynomial of degree > 2. */
int pgi_curve_make(const pg_thermal *t, int segments, bool exact, pgi_curve *c, pg_error *err);
void pgi_curve_free(pgi_curve *c);

#endif
