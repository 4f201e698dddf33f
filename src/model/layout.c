/* Automatic drawing of a world's one-line diagram (pg_world_layout): positions for the buses so
 * that buses joined by branches are near each other, branches cross little and no two buses
 * touch.
 *
 * Each island (connected component of the graph of buses and branches, in service or not: a
 * branch out of service is still drawn, so its ends stay near) is drawn on its own by stress
 * majorization (Gansner, Koren, North, "Graph Drawing by Stress Majorization", 2004): the
 * drawing distance of every pair of buses should be IDEAL_EDGE times their distance in hops,
 * pairs weighted by 1/distance^2, minimised by the localized majorization update bus by bus.
 * It starts from pivot MDS (Brandes, Pich, "Eigensolver Methods for Progressive
 * Multidimensional Scaling of Large Data", 2006): classical scaling from the hop distances to a
 * few pivot buses. Up to DENSE_MAX buses an island uses every pair (the hop distances as a
 * matrix of 16-bit counts); larger islands use the sparse stress model (Ortmann, Klimenta,
 * Brandes, "A Sparse Stress Model", 2016): each bus's branches plus its distances to the pivots,
 * a pivot's term weighted by the buses it stands for. Overlaps are then removed by pushing
 * pairs closer than PG_LAYOUT_MIN_GAP apart (neighbours found through a grid of cells sorted by
 * cell), and the islands are set side by side in a row, largest first.
 *
 * Buses already placed (all = false) keep their positions exactly: the majorization updates
 * only the others, which start next to their placed neighbours; islands with no placed bus go
 * in a row to the right of the existing drawing.
 *
 * Deterministic on every machine: no random numbers, every loop in a fixed order, and only
 * +, -, *, / and sqrt (correctly rounded in IEEE arithmetic), no libm functions whose last bits
 * differ between libraries. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/model.h"

#define IDEAL_EDGE 100.0 /* drawing units per hop */
#define DENSE_MAX 3000   /* the most buses of an island drawn with every pair's term */
#define N_PIVOTS 50
#define DENSE_ITERS 300
#define SPARSE_ITERS 200
#define STRESS_TOL 1e-4    /* relative change of the stress between sweeps that ends them */
#define ISLAND_SPACE 200.0 /* between the bounding boxes of islands in the row */
/* Pairs are pushed to a little more than the gap and checked against a hair more than it, so
 * that the gap still holds after the islands are shifted into place (a rounding of their
 * coordinates). */
#define GAP_CHECK (PG_LAYOUT_MIN_GAP * (1.0 + 1e-6))
#define GAP_PUSH (PG_LAYOUT_MIN_GAP * 1.05)
#define OVERLAP_PASSES 100
#define CROSS_MAX 1000 /* the most buses of an island whose crossings are reduced */
#define CROSS_SWEEPS 5

/* Unit directions, for buses that start next to a placed neighbour and for pairs at the same
 * point (0.7071... is 1/sqrt(2), written out so that no library computes it). */
static const double dir_x[8] = {1,
                                0,
                                -1,
                                0,
                                0.70710678118654752,
                                -0.70710678118654752,
                                -0.70710678118654752,
                                0.70710678118654752};
static const double dir_y[8] = {0,
                                1,
                                0,
                                -1,
                                0.70710678118654752,
                                0.70710678118654752,
                                -0.70710678118654752,
                                -0.70710678118654752};

/* The graph of buses and branches in compressed rows: the neighbours of bus b are
 * adj[start[b] .. start[b + 1]), each once, in increasing order. */
typedef struct graph {
    size_t n;
    size_t *start;
    size_t *adj;
} graph;

static int
cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static int
graph_build(graph *g, const pg_world *w, pg_error *err)
{
    size_t n = w->n_buses;
    g->n = n;
    g->start = calloc(n + 1, sizeof *g->start);
    g->adj = malloc((2 * w->n_branches + 1) * sizeof *g->adj);
    if (!g->start || !g->adj)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t k = 0; k < w->n_branches; k++) {
        const pg_branch *br = &w->branches[k];
        if (br->from >= n || br->to >= n)
            return pg_error_set(err, PG_EMODEL, "branch '%s' connects a bus that does not exist",
                                br->name ? br->name : "");
        if (br->from == br->to)
            continue;
        g->start[br->from + 1]++;
        g->start[br->to + 1]++;
    }
    for (size_t b = 0; b < n; b++)
        g->start[b + 1] += g->start[b];
    size_t *fill = malloc((n + 1) * sizeof *fill);
    if (!fill)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    memcpy(fill, g->start, (n + 1) * sizeof *fill);
    for (size_t k = 0; k < w->n_branches; k++) {
        const pg_branch *br = &w->branches[k];
        if (br->from == br->to)
            continue;
        g->adj[fill[br->from]++] = br->to;
        g->adj[fill[br->to]++] = br->from;
    }
    /* Sorted and without parallel branches, so that every later loop has one fixed order. */
    size_t out = 0;
    for (size_t b = 0; b < n; b++) {
        size_t s = g->start[b], e = g->start[b + 1];
        qsort(g->adj + s, e - s, sizeof *g->adj, cmp_size);
        g->start[b] = out;
        for (size_t k = s; k < e; k++)
            if (k == s || g->adj[k] != g->adj[k - 1])
                g->adj[out++] = g->adj[k];
    }
    g->start[n] = out;
    free(fill);
    return PG_OK;
}

/* ---------------------------------------------------------------- one island */

/* The island being drawn: m buses mem[0..m) (bus indices, in breadth-first order from its
 * lowest bus), loc[bus] its local index, x/y/fixed by local index. */
typedef struct island {
    const graph *g;
    const size_t *mem;
    const size_t *loc;
    size_t m;
    double *x, *y;
    const bool *fixed;
    bool any_fixed;
} island;

/* Hops from local bus src to every bus of the island into d (m entries); q is m entries. */
static void
bfs(const island *is, size_t src, uint16_t *d, size_t *q)
{
    for (size_t i = 0; i < is->m; i++)
        d[i] = UINT16_MAX;
    size_t head = 0, tail = 0;
    d[src] = 0;
    q[tail++] = src;
    while (head < tail) {
        size_t u = q[head++], b = is->mem[u];
        for (size_t k = is->g->start[b]; k < is->g->start[b + 1]; k++) {
            size_t v = is->loc[is->g->adj[k]];
            if (d[v] == UINT16_MAX) {
                d[v] = (uint16_t)(d[u] + 1);
                q[tail++] = v;
            }
        }
    }
}

/* Chooses k pivots by max-min distance, the first the bus farthest from the island's first, and
 * fills P (k rows of m hops). */
static void
choose_pivots(const island *is, size_t k, size_t *piv, uint16_t *P, uint16_t *mind, size_t *q)
{
    size_t m = is->m;
    bfs(is, 0, mind, q);
    size_t next = 0;
    for (size_t i = 1; i < m; i++)
        if (mind[i] > mind[next])
            next = i;
    for (size_t i = 0; i < m; i++)
        mind[i] = UINT16_MAX;
    for (size_t p = 0; p < k; p++) {
        piv[p] = next;
        uint16_t *row = P + p * m;
        bfs(is, next, row, q);
        next = 0;
        for (size_t i = 0; i < m; i++) {
            if (row[i] < mind[i])
                mind[i] = row[i];
            if (mind[i] > mind[next])
                next = i;
        }
    }
}

/* The dominant eigenvector of the symmetric k x k matrix M into v (unit length), orthogonal to
 * against when that is not NULL; by power iteration from a fixed start. */
static void
power_iteration(const double *M, size_t k, const double *against, double *v, double *u)
{
    for (size_t p = 0; p < k; p++)
        v[p] = against ? ((p % 2) ? -1.0 : 1.0) * (double)(p + 1) : 1.0 + (double)p / (double)k;
    for (int it = 0; it < 500; it++) {
        for (size_t p = 0; p < k; p++) {
            double s = 0;
            for (size_t r = 0; r < k; r++)
                s += M[p * k + r] * v[r];
            u[p] = s;
        }
        if (against) {
            double dot = 0;
            for (size_t p = 0; p < k; p++)
                dot += u[p] * against[p];
            for (size_t p = 0; p < k; p++)
                u[p] -= dot * against[p];
        }
        double norm = 0, change = 0;
        for (size_t p = 0; p < k; p++)
            norm += u[p] * u[p];
        norm = sqrt(norm);
        if (!(norm > 0)) {
            for (size_t p = 0; p < k; p++)
                v[p] = 0;
            return;
        }
        for (size_t p = 0; p < k; p++) {
            double nv = u[p] / norm;
            change += (nv - v[p]) * (nv - v[p]);
            v[p] = nv;
        }
        if (change < 1e-20)
            return;
    }
}

/* A deterministic offset in [-0.5, 0.5) for bus i and coordinate c: breaks the ties of buses
 * with the same distances to everything (two leaves on one bus), which majorization alone would
 * keep at one point. */
static double
jitter(size_t i, unsigned c)
{
    uint32_t h = (uint32_t)i * 2654435761u + c * 40503u + 0x9e3779b9u;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    return (double)(h & 0xffffu) / 65536.0 - 0.5;
}

/* Pivot MDS: classical scaling of the squared hop distances to the k pivots, double centred,
 * projected on the two leading eigenvectors; scaled so the mean branch is IDEAL_EDGE long. */
static int
pivot_mds(island *is, size_t k, const uint16_t *P, pg_error *err)
{
    size_t m = is->m;
    double *C = malloc(m * k * sizeof *C), *colmean = calloc(k, sizeof *colmean);
    double *M = calloc(k * k, sizeof *M), *v1 = malloc(k * sizeof *v1),
           *v2 = malloc(k * sizeof *v2);
    double *u = malloc(k * sizeof *u);
    int rc = PG_OK;
    if (!C || !colmean || !M || !v1 || !v2 || !u) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    double grand = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t p = 0; p < k; p++) {
            double d = (double)P[p * m + i];
            C[i * k + p] = d * d;
            colmean[p] += d * d;
        }
    for (size_t p = 0; p < k; p++) {
        grand += colmean[p];
        colmean[p] /= (double)m;
    }
    grand /= (double)(m * k);
    for (size_t i = 0; i < m; i++) {
        double rowmean = 0;
        for (size_t p = 0; p < k; p++)
            rowmean += C[i * k + p];
        rowmean /= (double)k;
        for (size_t p = 0; p < k; p++)
            C[i * k + p] = -0.5 * (C[i * k + p] - rowmean - colmean[p] + grand);
    }
    for (size_t i = 0; i < m; i++)
        for (size_t p = 0; p < k; p++) {
            double c = C[i * k + p];
            for (size_t r = 0; r < k; r++)
                M[p * k + r] += c * C[i * k + r];
        }
    power_iteration(M, k, NULL, v1, u);
    power_iteration(M, k, v1, v2, u);
    for (size_t i = 0; i < m; i++) {
        double a = 0, b = 0;
        for (size_t p = 0; p < k; p++) {
            a += C[i * k + p] * v1[p];
            b += C[i * k + p] * v2[p];
        }
        is->x[i] = a;
        is->y[i] = b;
    }
    double len = 0;
    size_t edges = 0;
    for (size_t i = 0; i < m; i++) {
        size_t b = is->mem[i];
        for (size_t e = is->g->start[b]; e < is->g->start[b + 1]; e++) {
            size_t j = is->loc[is->g->adj[e]];
            double dx = is->x[i] - is->x[j], dy = is->y[i] - is->y[j];
            len += sqrt(dx * dx + dy * dy);
            edges++;
        }
    }
    double scale = len > 0 ? IDEAL_EDGE * (double)edges / len : 0;
    for (size_t i = 0; i < m; i++) {
        is->x[i] = is->x[i] * scale + 0.1 * IDEAL_EDGE * jitter(i, 0);
        is->y[i] = is->y[i] * scale + 0.1 * IDEAL_EDGE * jitter(i, 1);
    }
out:
    free(C);
    free(colmean);
    free(M);
    free(v1);
    free(v2);
    free(u);
    return rc;
}

/* The start of an island with placed buses: the others next to a placed (or already started)
 * neighbour, in breadth-first order from the placed ones. */
static int
start_from_fixed(island *is, pg_error *err)
{
    size_t m = is->m;
    size_t *q = malloc(m * sizeof *q), *kids = calloc(m, sizeof *kids);
    bool *done = calloc(m, sizeof *done);
    if (!q || !kids || !done) {
        free(q);
        free(kids);
        free(done);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < m; i++)
        if (is->fixed[i]) {
            done[i] = true;
            q[tail++] = i;
        }
    while (head < tail) {
        size_t u = q[head++], b = is->mem[u];
        for (size_t e = is->g->start[b]; e < is->g->start[b + 1]; e++) {
            size_t v = is->loc[is->g->adj[e]];
            if (done[v])
                continue;
            size_t c = kids[u]++;
            double r = IDEAL_EDGE * (1.0 + 0.25 * (double)(c / 8));
            is->x[v] = is->x[u] + r * dir_x[c % 8] + 0.1 * IDEAL_EDGE * jitter(v, 0);
            is->y[v] = is->y[u] + r * dir_y[c % 8] + 0.1 * IDEAL_EDGE * jitter(v, 1);
            done[v] = true;
            q[tail++] = v;
        }
    }
    free(q);
    free(kids);
    free(done);
    return PG_OK;
}

/* One localized majorization step for bus i from its terms: the position that minimises the
 * majorant of its stress with the others where they are. Returns i's stress. */
static inline double
term(double xi, double yi, double xj, double yj, double w, double d, double *sw, double *nx,
     double *ny)
{
    double dx = xi - xj, dy = yi - yj, dist = sqrt(dx * dx + dy * dy);
    *sw += w;
    if (dist > 0) {
        double f = w * d / dist;
        *nx += w * xj + f * dx;
        *ny += w * yj + f * dy;
    } else {
        *nx += w * xj;
        *ny += w * yj;
    }
    return w * (dist - d) * (dist - d);
}

/* Stress majorization over every pair of the island (D: m x m hops). The weight 1 / d^2 and
 * 1 / d of each hop count come from tables (wt, wd), so that a pair costs one square root and
 * one division; its stress w (dist - d)^2 is w dist^2 - 2 dist / d + 1. */
static int
smacof_dense(island *is, const uint16_t *D, pg_error *err)
{
    size_t m = is->m;
    double *wt = malloc((m + 1) * sizeof *wt), *wd = malloc((m + 1) * sizeof *wd);
    if (!wt || !wd) {
        free(wt);
        free(wd);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    wt[0] = wd[0] = 0;
    for (size_t h = 1; h <= m; h++) {
        double d = IDEAL_EDGE * (double)h;
        wt[h] = 1.0 / (d * d);
        wd[h] = 1.0 / d;
    }
    double prev = -1;
    for (int it = 0; it < DENSE_ITERS; it++) {
        double stress = 0;
        for (size_t i = 0; i < m; i++) {
            if (is->fixed[i])
                continue;
            const uint16_t *row = D + i * m;
            double xi = is->x[i], yi = is->y[i], sw = 0, nx = 0, ny = 0;
            for (size_t j = 0; j < m; j++) {
                /* a free bus keeps to its own: of the placed buses only its neighbours pull
                 * it, so that new buses are drawn at the ideal length next to them even when
                 * the placed ones are drawn at another scale */
                size_t h = row[j];
                if (j == i || (is->fixed[j] && h > 1))
                    continue;
                double w = wt[h], xj = is->x[j], yj = is->y[j];
                double dx = xi - xj, dy = yi - yj, d2 = dx * dx + dy * dy, dist = sqrt(d2);
                sw += w;
                nx += w * xj;
                ny += w * yj;
                if (dist > 0) {
                    double f = wd[h] / dist;
                    nx += f * dx;
                    ny += f * dy;
                }
                stress += w * d2 - 2 * wd[h] * dist + 1;
            }
            if (sw > 0) {
                is->x[i] = nx / sw;
                is->y[i] = ny / sw;
            }
        }
        if (prev >= 0 && fabs(prev - stress) <= STRESS_TOL * prev)
            break;
        prev = stress;
    }
    free(wt);
    free(wd);
    return PG_OK;
}

/* The sparse stress model's terms: each bus's neighbours (1 hop) and the pivots, a pivot's term
 * weighted by how many buses of its region (the buses nearest it) are within half the distance. */
typedef struct terms {
    size_t *start;
    uint32_t *j;
    double *d, *w;
} terms;

static int
sparse_terms(const island *is, size_t k, const size_t *piv, const uint16_t *P, terms *t,
             pg_error *err)
{
    size_t m = is->m, maxh = 0;
    for (size_t p = 0; p < k; p++)
        for (size_t i = 0; i < m; i++)
            if (P[p * m + i] > maxh)
                maxh = P[p * m + i];
    size_t n_terms = 0;
    for (size_t i = 0; i < m; i++) {
        size_t b = is->mem[i];
        n_terms += is->g->start[b + 1] - is->g->start[b] + k;
    }
    size_t *cnt = calloc(k * (maxh + 1), sizeof *cnt);
    t->start = malloc((m + 1) * sizeof *t->start);
    t->j = malloc(n_terms * sizeof *t->j);
    t->d = malloc(n_terms * sizeof *t->d);
    t->w = malloc(n_terms * sizeof *t->w);
    if (!cnt || !t->start || !t->j || !t->d || !t->w) {
        free(cnt);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m; i++) {
        size_t best = 0;
        for (size_t p = 1; p < k; p++)
            if (P[p * m + i] < P[best * m + i])
                best = p;
        cnt[best * (maxh + 1) + P[best * m + i]]++;
    }
    for (size_t p = 0; p < k; p++)
        for (size_t h = 1; h <= maxh; h++)
            cnt[p * (maxh + 1) + h] += cnt[p * (maxh + 1) + h - 1];
    size_t at = 0;
    for (size_t i = 0; i < m; i++) {
        t->start[i] = at;
        size_t b = is->mem[i];
        for (size_t e = is->g->start[b]; e < is->g->start[b + 1]; e++) {
            t->j[at] = (uint32_t)is->loc[is->g->adj[e]];
            t->d[at] = IDEAL_EDGE;
            t->w[at] = 1.0 / (IDEAL_EDGE * IDEAL_EDGE);
            at++;
        }
        for (size_t p = 0; p < k; p++) {
            size_t h = P[p * m + i];
            if (piv[p] == i || h <= 1 || is->fixed[piv[p]])
                continue;
            double d = IDEAL_EDGE * (double)h;
            t->j[at] = (uint32_t)piv[p];
            t->d[at] = d;
            t->w[at] = (double)cnt[p * (maxh + 1) + h / 2] / (d * d);
            at++;
        }
    }
    t->start[m] = at;
    free(cnt);
    return PG_OK;
}

static void
smacof_sparse(island *is, const terms *t)
{
    double prev = -1;
    for (int it = 0; it < SPARSE_ITERS; it++) {
        double stress = 0;
        for (size_t i = 0; i < is->m; i++) {
            if (is->fixed[i])
                continue;
            double xi = is->x[i], yi = is->y[i], sw = 0, nx = 0, ny = 0;
            for (size_t e = t->start[i]; e < t->start[i + 1]; e++) {
                size_t j = t->j[e];
                stress += term(xi, yi, is->x[j], is->y[j], t->w[e], t->d[e], &sw, &nx, &ny);
            }
            if (sw > 0) {
                is->x[i] = nx / sw;
                is->y[i] = ny / sw;
            }
        }
        if (prev >= 0 && fabs(prev - stress) <= STRESS_TOL * prev)
            break;
        prev = stress;
    }
}

/* ---------------------------------------------------------------- crossings */

/* Sixteen unit directions, 22.5 degrees apart: cos(k pi / 8), written out. */
#define C1 0.92387953251128674
#define C2 0.70710678118654752
#define C3 0.38268343236508977
static const double ring_x[16] = {1,  C1,  C2,  C3,  0, -C3, -C2, -C1,
                                  -1, -C1, -C2, -C3, 0, C3,  C2,  C1};
static const double ring_y[16] = {0, C3,  C2,  C1,  1,  C1,  C2,  C3,
                                  0, -C3, -C2, -C1, -1, -C1, -C2, -C3};

/* Whether segments pq and rs cross at a point inside both. */
static bool
segments_cross(double px, double py, double qx, double qy, double rx, double ry, double sx,
               double sy)
{
    double d1 = (qx - px) * (ry - py) - (qy - py) * (rx - px);
    double d2 = (qx - px) * (sy - py) - (qy - py) * (sx - px);
    if (!((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)))
        return false;
    double d3 = (sx - rx) * (py - ry) - (sy - ry) * (px - rx);
    double d4 = (sx - rx) * (qy - ry) - (sy - ry) * (qx - rx);
    return (d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0);
}

/* The crossings of the branches of local bus i, were it at (px, py), with the island's other
 * branches (eu[k], ev[k]), k < ne. */
static size_t
bus_crossings(const island *is, const size_t *eu, const size_t *ev, size_t ne, size_t i, double px,
              double py)
{
    size_t n = 0, b = is->mem[i];
    for (size_t e = is->g->start[b]; e < is->g->start[b + 1]; e++) {
        size_t j = is->loc[is->g->adj[e]];
        double qx = is->x[j], qy = is->y[j];
        for (size_t k = 0; k < ne; k++) {
            size_t u = eu[k], v = ev[k];
            if (u == i || v == i || u == j || v == j)
                continue;
            n += segments_cross(px, py, qx, qy, is->x[u], is->y[u], is->x[v], is->y[v]);
        }
    }
    return n;
}

/* Whether (px, py) keeps the gap from every bus of the island but i. */
static bool
spot_clear(const island *is, size_t i, double px, double py)
{
    for (size_t j = 0; j < is->m; j++) {
        double dx = is->x[j] - px, dy = is->y[j] - py;
        if (j != i && dx * dx + dy * dy < GAP_PUSH * GAP_PUSH)
            return false;
    }
    return true;
}

/* Stress does not count crossings: a leaf drawn on the wrong side of its bus, or a bus between
 * two others on the wrong side of a branch, costs little stress and a crossing or two. Each
 * movable bus in turn tries points around its neighbours (16 directions, at the ideal length
 * from a lone neighbour, half of it from the centre of several) and takes the one with the
 * fewest crossings of its own branches, when that is fewer than now and the point is clear of
 * other buses. A few sweeps, until one moves nothing. */
static int
reduce_crossings(island *is, pg_error *err)
{
    size_t m = is->m, ne = 0;
    for (size_t i = 0; i < m; i++)
        ne += is->g->start[is->mem[i] + 1] - is->g->start[is->mem[i]];
    ne /= 2;
    size_t *eu = malloc((ne + 1) * sizeof *eu), *ev = malloc((ne + 1) * sizeof *ev);
    if (!eu || !ev) {
        free(eu);
        free(ev);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    ne = 0;
    for (size_t i = 0; i < m; i++) {
        size_t b = is->mem[i];
        for (size_t e = is->g->start[b]; e < is->g->start[b + 1]; e++) {
            size_t j = is->loc[is->g->adj[e]];
            if (j > i) {
                eu[ne] = i;
                ev[ne++] = j;
            }
        }
    }
    for (int sweep = 0; sweep < CROSS_SWEEPS; sweep++) {
        bool moved = false;
        for (size_t i = 0; i < m; i++) {
            size_t b = is->mem[i], deg = is->g->start[b + 1] - is->g->start[b];
            if (is->fixed[i] || deg == 0)
                continue;
            size_t now = bus_crossings(is, eu, ev, ne, i, is->x[i], is->y[i]);
            if (now == 0)
                continue;
            double cx = 0, cy = 0;
            for (size_t e = is->g->start[b]; e < is->g->start[b + 1]; e++) {
                size_t j = is->loc[is->g->adj[e]];
                cx += is->x[j];
                cy += is->y[j];
            }
            cx /= (double)deg;
            cy /= (double)deg;
            double r = deg == 1 ? IDEAL_EDGE : 0.5 * IDEAL_EDGE, bx = is->x[i], by = is->y[i];
            size_t best = now;
            for (int k = 0; k < 17 && best > 0; k++) {
                double px = k < 16 ? cx + r * ring_x[k] : cx, py = k < 16 ? cy + r * ring_y[k] : cy;
                size_t c = bus_crossings(is, eu, ev, ne, i, px, py);
                if (c < best && spot_clear(is, i, px, py)) {
                    best = c;
                    bx = px;
                    by = py;
                }
            }
            if (best < now) {
                is->x[i] = bx;
                is->y[i] = by;
                moved = true;
            }
        }
        if (!moved)
            break;
    }
    free(eu);
    free(ev);
    return PG_OK;
}

static int
draw_island(island *is, pg_error *err)
{
    size_t m = is->m;
    if (!is->any_fixed && m <= 2) {
        for (size_t i = 0; i < m; i++) {
            is->x[i] = IDEAL_EDGE * (double)i;
            is->y[i] = 0;
        }
        return PG_OK;
    }
    size_t k = m < N_PIVOTS ? m : N_PIVOTS;
    uint16_t *P = malloc(k * m * sizeof *P), *mind = malloc(m * sizeof *mind), *D = NULL;
    size_t *piv = malloc(k * sizeof *piv), *q = malloc(m * sizeof *q);
    terms t = {0};
    int rc = PG_OK;
    if (!P || !mind || !piv || !q) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    choose_pivots(is, k, piv, P, mind, q);
    if ((rc = is->any_fixed ? start_from_fixed(is, err) : pivot_mds(is, k, P, err)))
        goto out;
    if (m <= DENSE_MAX) {
        if (!(D = malloc(m * m * sizeof *D))) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < m; i++)
            bfs(is, i, D + i * m, q);
        if ((rc = smacof_dense(is, D, err)))
            goto out;
        if (m <= CROSS_MAX && (rc = reduce_crossings(is, err)))
            goto out;
    } else {
        if ((rc = sparse_terms(is, k, piv, P, &t, err)))
            goto out;
        smacof_sparse(is, &t);
    }
out:
    free(P);
    free(mind);
    free(D);
    free(piv);
    free(q);
    free(t.start);
    free(t.j);
    free(t.d);
    free(t.w);
    return rc;
}

/* ---------------------------------------------------------------- overlaps */

static double
clamp(double v)
{
    return v > PG_POSITION_MAX ? PG_POSITION_MAX : v < -PG_POSITION_MAX ? -PG_POSITION_MAX : v;
}

typedef struct cell_pt {
    int64_t cx, cy;
    size_t i;
} cell_pt;

static int
cmp_cell(const void *a, const void *b)
{
    const cell_pt *p = a, *q = b;
    if (p->cx != q->cx)
        return (p->cx > q->cx) - (p->cx < q->cx);
    if (p->cy != q->cy)
        return (p->cy > q->cy) - (p->cy < q->cy);
    return (p->i > q->i) - (p->i < q->i);
}

/* The first entry of the sorted grid at or after cell (cx, cy). */
static size_t
cell_lower(const cell_pt *c, size_t n, int64_t cx, int64_t cy)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c[mid].cx < cx || (c[mid].cx == cx && c[mid].cy < cy))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
grid_build(cell_pt *c, const size_t *ids, size_t n, const double *x, const double *y)
{
    for (size_t k = 0; k < n; k++) {
        size_t i = ids[k];
        c[k].cx = (int64_t)floor(x[i] / GAP_PUSH);
        c[k].cy = (int64_t)floor(y[i] / GAP_PUSH);
        c[k].i = i;
    }
    qsort(c, n, sizeof *c, cmp_cell);
}

/* One pass over the pairs among buses ids[0..n) closer than the gap, found through the grid:
 * each pair is pushed apart to GAP_PUSH along the line between them (a fixed bus never moves:
 * the other moves the whole way). *moved_any tells whether any pair was pushed. */
static void
push_pass(cell_pt *c, const size_t *ids, size_t n, double *x, double *y, const bool *fixed,
          bool *moved_any)
{
    grid_build(c, ids, n, x, y);
    *moved_any = false;
    for (size_t k = 0; k < n; k++) {
        size_t a = c[k].i;
        for (int64_t ox = -1; ox <= 1; ox++)
            for (int64_t oy = -1; oy <= 1; oy++) {
                int64_t cx = c[k].cx + ox, cy = c[k].cy + oy;
                for (size_t s = cell_lower(c, n, cx, cy); s < n && c[s].cx == cx && c[s].cy == cy;
                     s++) {
                    size_t b = c[s].i;
                    if (b <= a || (fixed[a] && fixed[b]))
                        continue;
                    double dx = x[b] - x[a], dy = y[b] - y[a], d2 = dx * dx + dy * dy;
                    if (d2 >= GAP_CHECK * GAP_CHECK)
                        continue;
                    double d = sqrt(d2), ux, uy;
                    if (d > 0) {
                        ux = dx / d;
                        uy = dy / d;
                    } else {
                        ux = dir_x[(a + b) % 8];
                        uy = dir_y[(a + b) % 8];
                    }
                    double need = GAP_PUSH - d;
                    double fa = fixed[a] ? 0 : fixed[b] ? 1 : 0.5, fb = 1 - fa;
                    x[a] = clamp(x[a] - ux * need * fa);
                    y[a] = clamp(y[a] - uy * need * fa);
                    x[b] = clamp(x[b] + ux * need * fb);
                    y[b] = clamp(y[b] + uy * need * fb);
                    *moved_any = true;
                }
            }
    }
}

static bool
clear_spot(const size_t *ids, size_t n, const double *x, const double *y, size_t self, double px,
           double py)
{
    for (size_t k = 0; k < n; k++) {
        size_t j = ids[k];
        if (j == self)
            continue;
        double dx = x[j] - px, dy = y[j] - py;
        if (dx * dx + dy * dy < GAP_CHECK * GAP_CHECK)
            return false;
    }
    return true;
}

/* Removes the overlaps among buses ids[0..n): passes of pushes, then, for any movable bus still
 * too close to another (a bus wedged between placed ones), the nearest clear point of a square
 * spiral around it. */
static int
remove_overlaps(const size_t *ids, size_t n, double *x, double *y, const bool *fixed, pg_error *err)
{
    if (n < 2)
        return PG_OK;
    cell_pt *c = malloc(n * sizeof *c);
    if (!c)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    bool moved = true;
    for (int pass = 0; pass < OVERLAP_PASSES && moved; pass++)
        push_pass(c, ids, n, x, y, fixed, &moved);
    if (moved) {
        for (size_t k = 0; k < n; k++) {
            size_t a = ids[k];
            if (fixed[a] || clear_spot(ids, n, x, y, a, x[a], y[a]))
                continue;
            /* n buses block fewer than n + 1 rings of points: the search ends */
            double px = x[a], py = y[a];
            bool found = false;
            for (long r = 1; !found; r++)
                for (long s = 0; s < 8 * r && !found; s++) {
                    long side = s / (2 * r), t = s % (2 * r) - r;
                    long gx = side == 0 ? t : side == 1 ? r : side == 2 ? -t : -r;
                    long gy = side == 0 ? -r : side == 1 ? t : side == 2 ? r : -t;
                    px = x[a] + GAP_PUSH * (double)gx;
                    py = y[a] + GAP_PUSH * (double)gy;
                    found = fabs(px) <= PG_POSITION_MAX && fabs(py) <= PG_POSITION_MAX &&
                            clear_spot(ids, n, x, y, a, px, py);
                }
            x[a] = px;
            y[a] = py;
        }
    }
    free(c);
    return PG_OK;
}

/* ---------------------------------------------------------------- the world */

typedef struct comp {
    size_t first; /* into the breadth-first order */
    size_t size;
    bool any_fixed, all_fixed;
} comp;

static int
cmp_comp(const void *a, const void *b)
{
    const comp *p = a, *q = b;
    if (p->size != q->size)
        return p->size < q->size ? 1 : -1;
    return (p->first > q->first) - (p->first < q->first);
}

int
pg_world_layout(pg_world *w, bool all, pg_error *err)
{
    if (!w)
        return pg_error_set(err, PG_EINVAL, "pg_world_layout: NULL world");
    size_t n = w->n_buses;
    if (n > PG_LAYOUT_MAX_BUSES)
        return pg_error_set(err, PG_ELIMIT,
                            "the world has %zu buses; automatic layout draws at most %d (place "
                            "the buses yourself, or draw the world in parts)",
                            n, PG_LAYOUT_MAX_BUSES);
    if (n == 0)
        return PG_OK;
    graph g = {0};
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    bool *fixed = calloc(n, sizeof *fixed), *lfixed = calloc(n, sizeof *lfixed);
    size_t *order = malloc(n * sizeof *order), *loc = malloc(n * sizeof *loc);
    size_t *ids = malloc(n * sizeof *ids);
    double *lx = malloc(n * sizeof *lx), *ly = malloc(n * sizeof *ly);
    comp *comps = malloc(n * sizeof *comps);
    bool *seen = calloc(n, sizeof *seen);
    size_t n_comps = 0, n_fixed = 0;
    int rc = PG_OK;
    if (!x || !y || !fixed || !lfixed || !order || !loc || !ids || !lx || !ly || !comps || !seen) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t b = 0; b < n; b++) {
        const pg_bus *bus = &w->buses[b];
        fixed[b] = !all && !isnan(bus->x) && !isnan(bus->y);
        if (fixed[b] && !(fabs(bus->x) <= PG_POSITION_MAX && fabs(bus->y) <= PG_POSITION_MAX)) {
            rc = pg_error_set(err, PG_EMODEL,
                              "bus '%s' is drawn at (%g, %g); drawing coordinates must be finite "
                              "numbers from %g to %g",
                              bus->name ? bus->name : "", bus->x, bus->y, -PG_POSITION_MAX,
                              PG_POSITION_MAX);
            goto out;
        }
        x[b] = fixed[b] ? bus->x : 0;
        y[b] = fixed[b] ? bus->y : 0;
        n_fixed += fixed[b];
    }
    if ((rc = graph_build(&g, w, err)))
        goto out;
    /* islands in breadth-first order, each from its lowest bus */
    size_t tail = 0;
    for (size_t s = 0; s < n; s++) {
        if (seen[s])
            continue;
        comp *c = &comps[n_comps++];
        c->first = tail;
        c->any_fixed = false;
        c->all_fixed = true;
        size_t head = tail;
        seen[s] = true;
        order[tail++] = s;
        while (head < tail) {
            size_t u = order[head++];
            c->any_fixed |= fixed[u];
            c->all_fixed &= fixed[u];
            for (size_t e = g.start[u]; e < g.start[u + 1]; e++)
                if (!seen[g.adj[e]]) {
                    seen[g.adj[e]] = true;
                    order[tail++] = g.adj[e];
                }
        }
        c->size = tail - c->first;
    }
    qsort(comps, n_comps, sizeof *comps, cmp_comp);
    /* islands with placed buses first, where they are; then the others in a row, largest
     * first, beside everything drawn */
    for (size_t k = 0; k < n; k++)
        seen[k] = fixed[k];
    double row_w = 0, row_h = 0;
    for (int phase = 0; phase < 2 && !rc; phase++)
        for (size_t ci = 0; ci < n_comps && !rc; ci++) {
            comp *c = &comps[ci];
            if (c->all_fixed || c->any_fixed != (phase == 0))
                continue;
            const size_t *mem = order + c->first;
            for (size_t i = 0; i < c->size; i++) {
                loc[mem[i]] = i;
                lfixed[i] = fixed[mem[i]];
                lx[i] = x[mem[i]];
                ly[i] = y[mem[i]];
                ids[i] = i;
            }
            island is = {&g, mem, loc, c->size, lx, ly, lfixed, c->any_fixed};
            if ((rc = draw_island(&is, err)))
                break;
            double minx = 0, miny = 0, maxx = 0, maxy = 0;
            if (phase == 1) {
                if ((rc = remove_overlaps(ids, c->size, lx, ly, lfixed, err)))
                    break;
                minx = maxx = lx[0];
                miny = maxy = ly[0];
                for (size_t i = 1; i < c->size; i++) {
                    minx = lx[i] < minx ? lx[i] : minx;
                    maxx = lx[i] > maxx ? lx[i] : maxx;
                    miny = ly[i] < miny ? ly[i] : miny;
                    maxy = ly[i] > maxy ? ly[i] : maxy;
                }
            }
            for (size_t i = 0; i < c->size; i++) {
                size_t b = mem[i];
                x[b] = phase == 1 ? lx[i] - minx + row_w : clamp(lx[i]);
                y[b] = phase == 1 ? ly[i] - miny : clamp(ly[i]);
                if (phase == 0)
                    seen[b] = true;
            }
            if (phase == 1) {
                row_w += maxx - minx + ISLAND_SPACE;
                row_h = maxy - miny > row_h ? maxy - miny : row_h;
            }
        }
    if (rc)
        goto out;
    /* the row goes to the right of the drawing, or else where it fits: left, below, above */
    double ox = 0, oy = 0, bx0 = 0, by0 = 0, bx1 = 0, by1 = 0;
    bool drawn = false;
    for (size_t b = 0; b < n; b++) {
        if (!seen[b])
            continue;
        bx0 = !drawn || x[b] < bx0 ? x[b] : bx0;
        bx1 = !drawn || x[b] > bx1 ? x[b] : bx1;
        by0 = !drawn || y[b] < by0 ? y[b] : by0;
        by1 = !drawn || y[b] > by1 ? y[b] : by1;
        drawn = true;
    }
    if (drawn && row_w > 0) {
        double w_ = row_w - ISLAND_SPACE, M = PG_POSITION_MAX;
        if (bx1 + ISLAND_SPACE + w_ <= M && by0 + row_h <= M)
            ox = bx1 + ISLAND_SPACE, oy = by0;
        else if (bx0 - ISLAND_SPACE - w_ >= -M && by0 + row_h <= M)
            ox = bx0 - ISLAND_SPACE - w_, oy = by0;
        else if (by1 + ISLAND_SPACE + row_h <= M && bx0 + w_ <= M)
            ox = bx0, oy = by1 + ISLAND_SPACE;
        else if (by0 - ISLAND_SPACE - row_h >= -M && bx0 + w_ <= M)
            ox = bx0, oy = by0 - ISLAND_SPACE - row_h;
        else {
            rc = pg_error_set(err, PG_ELIMIT,
                              "the placed buses leave no room within +-%g for the %g x %g "
                              "drawing units the other islands need",
                              M, w_, row_h);
            goto out;
        }
    }
    for (size_t ci = 0; ci < n_comps; ci++) {
        const comp *c = &comps[ci];
        if (c->any_fixed)
            continue;
        for (size_t i = 0; i < c->size; i++) {
            size_t b = order[c->first + i];
            x[b] += ox;
            y[b] += oy;
        }
    }
    /* the gap between every two buses (placed buses against each other excepted); for worlds
     * without placed buses the islands already keep it and nothing moves */
    for (size_t b = 0; b < n; b++)
        ids[b] = b;
    if (!rc && (rc = remove_overlaps(ids, n, x, y, fixed, err)))
        goto out;
    for (size_t b = 0; b < n && !rc; b++)
        if (!isfinite(x[b]) || !isfinite(y[b]) || fabs(x[b]) > PG_POSITION_MAX ||
            fabs(y[b]) > PG_POSITION_MAX)
            rc = pg_error_set(err, PG_ESOLVER,
                              "the layout put bus '%s' at (%g, %g), outside the drawing",
                              w->buses[b].name, x[b], y[b]);
    if (rc)
        goto out;
    for (size_t b = 0; b < n; b++) {
        w->buses[b].x = x[b];
        w->buses[b].y = y[b];
    }
out:
    free(g.start);
    free(g.adj);
    free(x);
    free(y);
    free(fixed);
    free(lfixed);
    free(order);
    free(loc);
    free(ids);
    free(lx);
    free(ly);
    free(comps);
    free(seen);
    return rc;
}
