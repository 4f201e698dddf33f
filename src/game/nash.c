/* Mixed Nash equilibria of two-player games, two independent ways.
 *
 * Vertex enumeration (von Stengel's labelled best-response polytopes; the method of lrsnash,
 * implemented here by brute force over bases, which suits the small games this is for): with
 * payoffs shifted to be positive, P = {x >= 0 : B'x <= 1} and Q = {y >= 0 : A y <= 1}; a pair of
 * nonzero vertices whose tight constraints cover every label (each pure strategy is either unused
 * or a best response) is an extreme equilibrium after normalising. Degenerate games are handled
 * because each vertex carries every constraint tight at it, not only its basis.
 *
 * Support enumeration: for supports of equal size, solve the indifference equations of each
 * player on the other's support and keep non-negative solutions that are best responses. Complete
 * for nondegenerate games. */
#include "plurigrid/game.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "game/internal.h"

#define EPS 1e-9
#define MAX_BASES 2000000.0

/* Gaussian elimination with partial pivoting, forward then back substitution. */
bool
pgi_solve_dense(double *M, double *R, size_t n, size_t nrhs, double tiny)
{
    for (size_t c = 0; c < n; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(M[r * n + c]) > fabs(M[piv * n + c]))
                piv = r;
        if (fabs(M[piv * n + c]) < tiny)
            return false;
        if (piv != c) {
            for (size_t k = 0; k < n; k++) {
                double t = M[c * n + k];
                M[c * n + k] = M[piv * n + k];
                M[piv * n + k] = t;
            }
            for (size_t k = 0; k < nrhs; k++) {
                double t = R[c * nrhs + k];
                R[c * nrhs + k] = R[piv * nrhs + k];
                R[piv * nrhs + k] = t;
            }
        }
        for (size_t r = c + 1; r < n; r++) {
            double f = M[r * n + c] / M[c * n + c];
            if (f == 0)
                continue;
            for (size_t k = c; k < n; k++)
                M[r * n + k] -= f * M[c * n + k];
            for (size_t k = 0; k < nrhs; k++)
                R[r * nrhs + k] -= f * R[c * nrhs + k];
        }
    }
    for (size_t c = n; c-- > 0;)
        for (size_t k = 0; k < nrhs; k++) {
            double s = R[c * nrhs + k];
            for (size_t j = c + 1; j < n; j++)
                s -= M[c * n + j] * R[j * nrhs + k];
            R[c * nrhs + k] = s / M[c * n + c];
        }
    return true;
}

static double
binomial(size_t n, size_t k)
{
    double r = 1;
    for (size_t i = 1; i <= k; i++)
        r = r * (double)(n - k + i) / (double)i;
    return r;
}

/* Next k-subset of {0..n-1} in lexicographic order; false after the last. */
static bool
next_subset(size_t *c, size_t k, size_t n)
{
    for (size_t i = k; i-- > 0;) {
        if (c[i] < n - k + i) {
            c[i]++;
            for (size_t j = i + 1; j < k; j++)
                c[j] = c[j - 1] + 1;
            return true;
        }
    }
    return false;
}

/* The vertices of {z >= 0 : C z <= 1} (z in R^d, C is r x d): each as d coordinates and a label
 * mask of d + r bits (label t < d: z_t = 0; label d + j: row j tight). The origin is left out. */
typedef struct vertex_set {
    double *z;
    unsigned char *labels;
    size_t n, cap, d, nl;
} vertex_set;

static int
add_vertex(vertex_set *vs, const double *z, const unsigned char *labels)
{
    for (size_t k = 0; k < vs->n; k++) {
        bool same = true;
        for (size_t t = 0; t < vs->d && same; t++)
            same = fabs(vs->z[k * vs->d + t] - z[t]) <= 1e-9;
        if (same)
            return PG_OK;
    }
    if (vs->n == vs->cap) {
        size_t nc = vs->cap ? 2 * vs->cap : 16;
        double *nz = realloc(vs->z, nc * vs->d * sizeof *nz);
        if (!nz)
            return PG_ENOMEM;
        vs->z = nz;
        unsigned char *nl = realloc(vs->labels, nc * vs->nl);
        if (!nl)
            return PG_ENOMEM;
        vs->labels = nl;
        vs->cap = nc;
    }
    memcpy(vs->z + vs->n * vs->d, z, vs->d * sizeof *z);
    memcpy(vs->labels + vs->n * vs->nl, labels, vs->nl);
    vs->n++;
    return PG_OK;
}

static int
vertices(const double *C, size_t r, size_t d, vertex_set *vs)
{
    size_t nc = d + r; /* constraints: z_t >= 0 (t < d), row j (d + j) */
    vs->d = d;
    vs->nl = nc;
    size_t *basis = malloc(d * sizeof *basis);
    double *M = malloc(d * d * sizeof *M);
    double *rhs = malloc(d * sizeof *rhs);
    double *z = malloc(d * sizeof *z);
    unsigned char *lab = malloc(nc);
    int rc = PG_OK;
    if (!basis || !M || !rhs || !z || !lab) {
        rc = PG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < d; i++)
        basis[i] = i;
    do {
        for (size_t e = 0; e < d; e++) {
            size_t c = basis[e];
            for (size_t t = 0; t < d; t++)
                M[e * d + t] = c < d ? (t == c) : C[(c - d) * d + t];
            rhs[e] = c < d ? 0.0 : 1.0;
        }
        if (!pgi_solve_dense(M, rhs, d, 1, 1e-12))
            continue;
        memcpy(z, rhs, d * sizeof *z);
        bool feasible = true, origin = true;
        for (size_t t = 0; t < d; t++) {
            if (z[t] < -EPS)
                feasible = false;
            if (fabs(z[t]) > EPS)
                origin = false;
            if (fabs(z[t]) <= EPS)
                z[t] = 0;
        }
        for (size_t j = 0; j < r && feasible; j++) {
            double s = 0;
            for (size_t t = 0; t < d; t++)
                s += C[j * d + t] * z[t];
            if (s > 1 + EPS)
                feasible = false;
            lab[d + j] = fabs(s - 1) <= EPS;
        }
        if (!feasible || origin)
            continue;
        for (size_t t = 0; t < d; t++)
            lab[t] = z[t] == 0;
        rc = add_vertex(vs, z, lab);
        if (rc)
            goto out;
    } while (next_subset(basis, d, nc));
out:
    free(basis);
    free(M);
    free(rhs);
    free(z);
    free(lab);
    return rc;
}

/* A and B (m x n, row-major) of a two-player game, shifted so every entry is >= 1. */
static int
bimatrix(const pg_nf *g, double **A, double **B, size_t *m, size_t *n, pg_error *err)
{
    if (!g || pg_nf_n_players(g) != 2)
        return pg_error_set(err, PG_EUNSUPPORTED,
                            "mixed equilibria are enumerated for two-player games only");
    *m = pg_nf_n_actions(g, 0);
    *n = pg_nf_n_actions(g, 1);
    *A = malloc(*m * *n * sizeof **A);
    *B = malloc(*m * *n * sizeof **B);
    if (!*A || !*B) {
        free(*A);
        free(*B);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    double amin = INFINITY, bmin = INFINITY;
    for (size_t i = 0; i < *m; i++)
        for (size_t j = 0; j < *n; j++) {
            size_t prof[2] = {i, j};
            (*A)[i * *n + j] = pg_nf_payoff(g, prof, 0);
            (*B)[i * *n + j] = pg_nf_payoff(g, prof, 1);
            amin = fmin(amin, (*A)[i * *n + j]);
            bmin = fmin(bmin, (*B)[i * *n + j]);
        }
    for (size_t k = 0; k < *m * *n; k++) {
        (*A)[k] += 1 - amin;
        (*B)[k] += 1 - bmin;
    }
    return PG_OK;
}

static int
append_eq(double **list, size_t *count, size_t *cap, const double *x, size_t m, const double *y,
          size_t n)
{
    if (*count == *cap) {
        size_t nc = *cap ? 2 * *cap : 8;
        double *nl = realloc(*list, nc * (m + n) * sizeof *nl);
        if (!nl)
            return PG_ENOMEM;
        *list = nl;
        *cap = nc;
    }
    double *e = *list + *count * (m + n);
    double sx = 0, sy = 0;
    for (size_t i = 0; i < m; i++)
        sx += x[i];
    for (size_t j = 0; j < n; j++)
        sy += y[j];
    for (size_t i = 0; i < m; i++)
        e[i] = x[i] / sx;
    for (size_t j = 0; j < n; j++)
        e[m + j] = y[j] / sy;
    (*count)++;
    return PG_OK;
}

int
pg_nf_bimatrix_equilibria(const pg_nf *g, double **equilibria, size_t *n_eq, pg_error *err)
{
    if (!equilibria || !n_eq)
        return pg_error_set(err, PG_EINVAL, "pg_nf_bimatrix_equilibria: argument is NULL");
    double *A, *B;
    size_t m, n;
    int rc = bimatrix(g, &A, &B, &m, &n, err);
    if (rc)
        return rc;
    if (binomial(m + n, m) > MAX_BASES) {
        free(A);
        free(B);
        return pg_error_set(err, PG_ELIMIT,
                            "a %zu x %zu game has too many bases to enumerate here (use lrsnash)",
                            m, n);
    }
    /* P: x in R^m with B^T x <= 1 (rows j of B^T); Q: y in R^n with A y <= 1. */
    double *BT = malloc(n * m * sizeof *BT);
    vertex_set P = {0}, Q = {0};
    double *list = NULL;
    size_t count = 0, cap = 0;
    if (!BT) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            BT[j * m + i] = B[i * n + j];
    if (vertices(BT, n, m, &P) || vertices(A, m, n, &Q)) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    /* Labels: P's x_i = 0 is label i, its row j is label m + j; Q's row i is label i, its
     * y_j = 0 is label m + j. */
    for (size_t a = 0; a < P.n; a++)
        for (size_t b = 0; b < Q.n; b++) {
            const unsigned char *lp = P.labels + a * P.nl, *lq = Q.labels + b * Q.nl;
            bool complete = true;
            for (size_t i = 0; i < m && complete; i++)
                complete = lp[i] || lq[n + i];
            for (size_t j = 0; j < n && complete; j++)
                complete = lp[m + j] || lq[j];
            if (complete && append_eq(&list, &count, &cap, P.z + a * m, m, Q.z + b * n, n)) {
                rc = pg_error_set(err, PG_ENOMEM, "out of memory");
                goto out;
            }
        }
    *equilibria = list;
    *n_eq = count;
    list = NULL;
out:
    free(list);
    free(BT);
    free(P.z);
    free(P.labels);
    free(Q.z);
    free(Q.labels);
    free(A);
    free(B);
    return rc;
}

/* Solves for the mixed strategy z on support S (size k) of the player whose payoffs against it
 * are rows R (size k) of the matrix M (rows x cols, row-major, z indexes columns): every row in R
 * earns the same value v and z sums to 1. */
static bool
indifference(const double *M, size_t cols, const size_t *R, const size_t *S, size_t k, double *z,
             double *v, double *work)
{
    size_t d = k + 1;
    double *A = work, *sol = work + d * d;
    for (size_t e = 0; e < k; e++) {
        for (size_t t = 0; t < k; t++)
            A[e * d + t] = M[R[e] * cols + S[t]];
        A[e * d + k] = -1;
        sol[e] = 0;
    }
    for (size_t t = 0; t < k; t++)
        A[k * d + t] = 1;
    A[k * d + k] = 0;
    sol[k] = 1;
    if (!pgi_solve_dense(A, sol, d, 1, 1e-12))
        return false;
    for (size_t t = 0; t < k; t++) {
        if (sol[t] < EPS)
            return false; /* zero on the support: found at a smaller support */
        z[t] = sol[t];
    }
    *v = sol[k];
    return true;
}

int
pg_nf_support_equilibria(const pg_nf *g, double **equilibria, size_t *n_eq, pg_error *err)
{
    if (!equilibria || !n_eq)
        return pg_error_set(err, PG_EINVAL, "pg_nf_support_equilibria: argument is NULL");
    double *A, *B;
    size_t m, n;
    int rc = bimatrix(g, &A, &B, &m, &n, err);
    if (rc)
        return rc;
    size_t kmax = m < n ? m : n;
    double bases = 0;
    for (size_t k = 1; k <= kmax; k++)
        bases += binomial(m, k) * binomial(n, k);
    double *BT = malloc(n * m * sizeof *BT);
    size_t *I = malloc(kmax * sizeof *I), *J = malloc(kmax * sizeof *J);
    double *xs = malloc(kmax * sizeof *xs), *ys = malloc(kmax * sizeof *ys);
    double *x = malloc(m * sizeof *x), *y = malloc(n * sizeof *y);
    double *work = malloc((kmax + 1) * (kmax + 2) * sizeof *work);
    double *list = NULL;
    size_t count = 0, cap = 0;
    if (bases > MAX_BASES) {
        rc = pg_error_set(err, PG_ELIMIT, "a %zu x %zu game has too many supports to enumerate", m,
                          n);
        goto out;
    }
    if (!BT || !I || !J || !xs || !ys || !x || !y || !work) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            BT[j * m + i] = B[i * n + j];
    for (size_t k = 1; k <= kmax; k++) {
        for (size_t t = 0; t < k; t++)
            I[t] = t;
        do {
            for (size_t t = 0; t < k; t++)
                J[t] = t;
            do {
                double v, u;
                /* y on J makes the row player indifferent over I; x on I does it for the column
                 * player over J. */
                if (!indifference(A, n, I, J, k, ys, &v, work) ||
                    !indifference(BT, m, J, I, k, xs, &u, work))
                    continue;
                memset(x, 0, m * sizeof *x);
                memset(y, 0, n * sizeof *y);
                for (size_t t = 0; t < k; t++) {
                    x[I[t]] = xs[t];
                    y[J[t]] = ys[t];
                }
                bool best = true;
                for (size_t i = 0; i < m && best; i++) {
                    double s = 0;
                    for (size_t j = 0; j < n; j++)
                        s += A[i * n + j] * y[j];
                    best = s <= v + EPS;
                }
                for (size_t j = 0; j < n && best; j++) {
                    double s = 0;
                    for (size_t i = 0; i < m; i++)
                        s += B[i * n + j] * x[i];
                    best = s <= u + EPS;
                }
                if (best && append_eq(&list, &count, &cap, x, m, y, n)) {
                    rc = pg_error_set(err, PG_ENOMEM, "out of memory");
                    goto out;
                }
            } while (next_subset(J, k, n));
        } while (next_subset(I, k, m));
    }
    *equilibria = list;
    *n_eq = count;
    list = NULL;
out:
    free(list);
    free(BT);
    free(I);
    free(J);
    free(xs);
    free(ys);
    free(x);
    free(y);
    free(work);
    free(A);
    free(B);
    return rc;
}
