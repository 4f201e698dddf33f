/* AC Newton-Raphson power flow in polar form with power-balance equations, as MATPOWER's
 * newtonpf: unknowns are the angles of PV and PQ buses and the magnitudes of PQ buses; equations
 * are the P balance at PV and PQ buses and the Q balance at PQ buses. The Jacobian is assembled
 * straight into compressed columns through a scatter map computed once per pattern (each Ybus
 * entry lands in up to four Jacobian slots), and factorized by KLU: one symbolic analysis per
 * pattern, kept across iterations and solves; numeric refactorization with the previous pivot
 * order while it stays sound, a fresh factorization with pivoting otherwise.
 *
 * Unknowns are numbered bus by bus (angle, then magnitude), so the pattern is Ybus's pattern with
 * each entry widened to a 2x2 block, minus the rows and columns that are not unknowns. */
#define _GNU_SOURCE /* sincos: one call for both, as each iteration needs them for every bus */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amd.h>

#include "core/util.h"
#include "powerflow/pf_internal.h"

void
pgi_pf_newton_init(pgi_pf_newton *nr, bool keep_start, pgi_pf_region *rg)
{
    memset(nr, 0, sizeof *nr);
    nr->keep_start = keep_start;
    nr->rg = rg;
    klu_defaults(&nr->common);
    /* AMD ordering of the structurally symmetric Jacobian: less fill than COLAMD (about half
     * the refactorization time on case2383wp). No BTF: a connected network's Jacobian is one
     * strongly connected block (each island is solved together with the others, and BTF would
     * find them, but it costs more time than it saves). No row scaling: Jacobian rows are
     * balanced enough for partial pivoting, and scaling took a fifth of each refactorization;
     * the matrix is built here, so KLU's input check is skipped too (scale < 0). */
    nr->common.btf = 0;
    nr->common.ordering = 0;
    nr->common.scale = -1;
}

static void
outage_base_free(pgi_pf_newton *nr)
{
    pgi_pf_outage_base *ob = nr->ob;
    if (!ob)
        return;
    if (ob->num)
        klu_free_numeric(&ob->num, &nr->common);
    if (ob->work)
        klu_free_numeric(&ob->work, &nr->common);
    free(ob->jx);
    free(ob->vm);
    free(ob->z);
    free(ob);
    nr->ob = NULL;
}

/* Chord steps (with factors of an earlier Jacobian) converge linearly: each multiplies the
 * largest mismatch by about the same rate. They go on while each at least halves it and the rate
 * says that at most PGI_CHORD_AHEAD more reach the tolerance, and at most PGI_CHORD_MAX of them:
 * a chord step costs an evaluation and a solve, a Newton step also a refactorization, about four
 * times as much, and from where chord steps are slow two or three Newton steps finish. */
#define PGI_CHORD_RATE 0.5
#define PGI_CHORD_AHEAD 6.0
#define PGI_CHORD_MAX 16

/* Whether chord steps should go on after one took the largest mismatch from prev to next. */
static bool
chord_worth(double prev, double next, double tol)
{
    if (!(next < PGI_CHORD_RATE * prev))
        return false;
    if (next < tol)
        return true;
    double rate = next / prev;
    return rate <= 0 || log(tol / next) / log(rate) <= PGI_CHORD_AHEAD;
}

/* Drops the pattern and KLU's objects, keeping the block for the next pattern. */
static void
pattern_drop(pgi_pf_newton *nr)
{
    outage_base_free(nr);
    if (nr->num)
        klu_free_numeric(&nr->num, &nr->common);
    if (nr->num0)
        klu_free_numeric(&nr->num0, &nr->common);
    if (nr->sym)
        klu_free_symbolic(&nr->sym, &nr->common);
    nr->have_start = false;
    nr->cls = NULL;
    nr->n = nr->jnnz = nr->nb = 0;
}

void
pgi_pf_newton_release(pgi_pf_newton *nr)
{
    pattern_drop(nr);
}

void
pgi_pf_newton_clear(pgi_pf_newton *nr)
{
    pattern_drop(nr);
    pgi_pf_block_free(nr->rg, nr->block, nr->block_size);
    nr->block = NULL;
    nr->block_size = 0;
}

/* ---------------------------------------------------------------- ordering */

size_t
pgi_pf_analyze_scratch(size_t n, size_t nnz)
{
    /* P, Len, Next, then AMD's Pe, Nv, Head, Elen, Degree, W and its Iw of nnz + nnz / 5 + n
     * (amd_order's sizes, off-diagonal entries bounded by nnz) */
    return 10 * n + nnz + nnz / 5;
}

klu_symbolic *
pgi_pf_analyze(int n, int *ap, int *ai, int *scratch, klu_common *c)
{
    int *perm = scratch, *len = perm + n, *next = len + n, *pe = next + n;
    int *nv = pe + n, *head = nv + n, *elen = head + n, *degree = elen + n, *w = degree + n;
    int *iw = w + n;
    double lnz;
    if (n <= 3) { /* KLU orders blocks this small naturally */
        for (int k = 0; k < n; k++)
            perm[k] = k;
        lnz = n * (n + 1) / 2;
    } else {
        /* A + A' without its diagonal: for a structurally symmetric pattern with sorted
         * columns, the columns themselves, in the order amd_1 would list them. */
        int nz = 0;
        for (int j = 0; j < n; j++) {
            pe[j] = nz;
            for (int p = ap[j]; p < ap[j + 1]; p++)
                if (ai[p] != j)
                    iw[nz++] = ai[p];
            len[j] = nz - pe[j];
        }
        double info[AMD_INFO] = {0};
        amd_2(n, pe, iw, len, nz + nz / 5 + n, nz, nv, next, perm, head, elen, degree, w, NULL,
              info);
        lnz = info[AMD_LNZ] + n;
    }
    klu_symbolic *sym = klu_analyze_given(n, ap, ai, perm, perm, c);
    if (sym) { /* what klu_analyze records of an AMD ordering: the fill estimate, which sizes
                  the first factorization's memory */
        sym->Lnz[0] = lnz;
        sym->lnz = sym->unz = lnz;
    }
    return sym;
}

/* The block: the pattern for nb buses, ynnz Ybus entries, n unknowns and jnnz Jacobian entries,
 * the workspaces, and (keep_start) the start of the last solve. The arrays before cls are written
 * only once the pattern is analysed, so the analysis's workspace (pgi_pf_analyze) is laid over
 * them: the block starts with at least that many bytes. */
static void
newton_layout(pgi_pf_newton *nr, pgi_pf_layout *l, size_t nb, size_t ynnz, size_t n, size_t jnnz)
{
    PGI_TAKE(l, nr->jx, jnnz + 2);
    PGI_TAKE(l, nr->vr, nb);
    PGI_TAKE(l, nr->vi, nb);
    PGI_TAKE(l, nr->sr, nb);
    PGI_TAKE(l, nr->si, nb);
    PGI_TAKE(l, nr->invvm, nb);
    PGI_TAKE(l, nr->f, n);
    if (nr->keep_start) {
        PGI_TAKE(l, nr->start_vm, nb);
        PGI_TAKE(l, nr->start_va, nb);
        PGI_TAKE(l, nr->start_vr, nb);
        PGI_TAKE(l, nr->start_vi, nb);
        PGI_TAKE(l, nr->start_inv, nb);
    }
    size_t scratch = sizeof(int) * pgi_pf_analyze_scratch(n, jnnz);
    if (l->size < scratch)
        l->size = scratch;
    PGI_TAKE(l, nr->cls, nb);
    PGI_TAKE(l, nr->iva, nb);
    PGI_TAKE(l, nr->ivm, nb);
    PGI_TAKE(l, nr->jp, n + 1);
    PGI_TAKE(l, nr->ji, jnnz);
    PGI_TAKE(l, nr->map, 2 * ynnz);
}

size_t
pgi_pf_newton_bound(const pgi_pf_newton *nr, size_t nb, size_t ynnz)
{
    /* at most two unknowns per bus and four Jacobian entries per Ybus entry; and the cursors */
    pgi_pf_newton shape = {.keep_start = nr->keep_start};
    pgi_pf_layout lay = {0}, all = {0};
    newton_layout(&shape, &lay, nb, ynnz, 2 * nb, 4 * ynnz);
    pgi_pf_take(&all, lay.size, 1);
    pgi_pf_take(&all, nb, sizeof(int));
    return pgi_pf_block_size(all.size);
}

int
pgi_pf_newton_prepare(pgi_pf_newton *nr, const pgi_pf_net *net, const int *cls, pg_error *err)
{
    int nb = net->nb, rc = PG_OK;
    int *cur = NULL;
    size_t cur_size = sizeof *cur * (size_t)(nb ? nb : 1);
    if (nr->cls && nr->nb == nb && memcmp(nr->cls, cls, sizeof *cls * (size_t)nb) == 0)
        return PG_OK;
    pattern_drop(nr);
    /* Count the unknowns and the Jacobian's entries: a column per unknown of bus k, with an
     * entry per unknown of every bus in column k of Ybus. */
    int n = 0, nnz = 0;
    for (int k = 0; k < nb; k++) {
        int ncol = (cls[k] == PGI_PV || cls[k] == PGI_PQ) + (cls[k] == PGI_PQ);
        n += ncol;
        if (!ncol)
            continue;
        int per = 0;
        for (int p = net->yp[k]; p < net->yp[k + 1]; p++) {
            int c = cls[net->yi[p]];
            per += (c == PGI_PV || c == PGI_PQ) + (c == PGI_PQ);
        }
        nnz += ncol * per;
    }
    pgi_pf_layout lay = {0};
    newton_layout(nr, &lay, (size_t)nb, (size_t)net->ynnz, (size_t)n, (size_t)nnz);
    if (lay.size > nr->block_size || !nr->block) {
        pgi_pf_block_free(nr->rg, nr->block, nr->block_size);
        nr->block_size = 0;
        nr->block = pgi_pf_block_alloc(nr->rg, lay.size);
        if (!nr->block)
            goto nomem;
        nr->block_size = lay.size;
    }
    cur = pgi_pf_block_alloc(nr->rg, cur_size);
    if (!cur)
        goto nomem;
    lay = (pgi_pf_layout){.base = nr->block};
    newton_layout(nr, &lay, (size_t)nb, (size_t)net->ynnz, (size_t)n, (size_t)nnz);
    nr->nb = nb;
    nr->n = n;
    nr->jnnz = nnz;
    memcpy(nr->cls, cls, sizeof *cls * (size_t)nb);
    n = 0;
    for (int b = 0; b < nb; b++) {
        nr->iva[b] = nr->ivm[b] = -1;
        if (cls[b] == PGI_PV || cls[b] == PGI_PQ)
            nr->iva[b] = n++;
        if (cls[b] == PGI_PQ)
            nr->ivm[b] = n++;
    }
    /* Fill column by column. Slots nnz and nnz + 1 are a sink for the entries that are not in
     * the Jacobian (a reference bus's column, a PV bus's magnitude column). The map is indexed by
     * the transposed layout the evaluation walks (row i of Ybus at a time): the entry of row i in
     * column k is the entry of row k in column i there, found with one cursor per column (the
     * pattern is symmetric with sorted rows, so the columns k of row i come in order). */
    for (int q = 0; q < 2 * net->ynnz; q++)
        nr->map[q] = nnz;
    memcpy(cur, net->yp, sizeof *cur * (size_t)nb);
    int pos = 0, col = 0;
    nr->jp[0] = 0;
    for (int k = 0; k < nb; k++) {
        for (int which = 0; which < 2; which++) { /* 0: angle column, 1: magnitude column */
            int c = which == 0 ? nr->iva[k] : nr->ivm[k];
            for (int p = net->yp[k]; p < net->yp[k + 1]; p++) {
                int i = net->yi[p];
                /* the transposed position: the cursor moves once per entry, in the first pass */
                int tp = which == 0 ? cur[i]++ : cur[i] - 1;
                if (c < 0)
                    continue;
                if (nr->iva[i] >= 0) {
                    nr->ji[pos] = nr->iva[i];
                    nr->map[2 * tp + which] = pos; /* (P_i, Va_k) or (P_i, Vm_k) */
                    pos++;
                }
                if (nr->ivm[i] >= 0) /* (Q_i, .) right after (P_i, .) */
                    nr->ji[pos++] = nr->ivm[i];
            }
            if (c >= 0)
                nr->jp[++col] = pos;
        }
    }
    pgi_pf_block_free(nr->rg, cur, cur_size);
    cur = NULL;
    if (n > 0) {
        nr->sym = pgi_pf_analyze(n, nr->jp, nr->ji, (int *)nr->block, &nr->common);
        if (!nr->sym) {
            int st = nr->common.status;
            pattern_drop(nr);
            rc = pg_error_set(err, st == KLU_OUT_OF_MEMORY ? PG_ENOMEM : PG_ESOLVER,
                              "power flow: KLU could not analyse the Jacobian (status %d)", st);
            goto out;
        }
        nr->analyses++;
    }
    nr->jx[nnz] = nr->jx[nnz + 1] = 0; /* the sink (the analysis used this memory) */
    goto out;
nomem:
    pattern_drop(nr);
    rc = pg_error_set(err, PG_ENOMEM, "out of memory");
out:
    pgi_pf_block_free(nr->rg, cur, cur_size);
    return rc;
}

/* At the voltage (vr, vi), computes S = V conj(Ybus V), the mismatch F = S - Sbus over the
 * equations and, when with_j, the Jacobian, in one pass over the rows of Ybus (the transposed copy
 * makes row i a column), since all need the same products Y_ik V_k. Returns the largest |F|, or
 * NaN when an entry is not finite. The Jacobian:
 *   dS/dVa(i,k) = -j V_i conj(Y_ik V_k)                 (i != k)
 *   dS/dVm(i,k) =  V_i conj(Y_ik V_k) / |V_k|           (i != k)
 *   the diagonals add j S_i to dS/dVa and S_i / |V_i| to dS/dVm.
 * With a = V_i conj(Y_ik V_k): dP/dVa = Im a, dQ/dVa = -Re a, dP/dVm = Re a / |V_k|,
 * dQ/dVm = Im a / |V_k|. Rows that are not equations (reference and dead buses) only get S. */
static double
evaluate(pgi_pf_newton *nr, const pgi_pf_net *net, const double *sbr, const double *sbi,
         bool with_j)
{
    double worst = 0;
    bool bad = false;
    int nb = net->nb;
    const int *restrict yp = net->yp, *restrict yi = net->yi, *restrict map = nr->map;
    const double *restrict ytre = net->ytre, *restrict ytim = net->ytim;
    const double *restrict vr = nr->vr, *restrict vi = nr->vi, *restrict inv = nr->invvm;
    double *restrict jx = nr->jx, *restrict sr = nr->sr, *restrict si = nr->si;
    for (int i = 0; i < nb; i++) {
        double vri = vr[i], vii = vi[i], cr = 0, ci = 0;
        if (with_j && nr->ivm[i] >= 0) { /* PQ bus: rows P_i and Q_i */
            for (int p = yp[i]; p < yp[i + 1]; p++) {
                int k = yi[p];
                double yvr = ytre[p] * vr[k] - ytim[p] * vi[k]; /* Y_ik V_k */
                double yvi = ytre[p] * vi[k] + ytim[p] * vr[k];
                cr += yvr;
                ci += yvi;
                double ar = vri * yvr + vii * yvi; /* a = V_i conj(Y_ik V_k) */
                double ai = vii * yvr - vri * yvi;
                const int *m = &map[2 * p];
                jx[m[0]] = ai;              /* dP_i/dVa_k */
                jx[m[0] + 1] = -ar;         /* dQ_i/dVa_k */
                jx[m[1]] = ar * inv[k];     /* dP_i/dVm_k */
                jx[m[1] + 1] = ai * inv[k]; /* dQ_i/dVm_k */
            }
        } else if (with_j && nr->iva[i] >= 0) { /* PV bus: row P_i only */
            for (int p = yp[i]; p < yp[i + 1]; p++) {
                int k = yi[p];
                double yvr = ytre[p] * vr[k] - ytim[p] * vi[k];
                double yvi = ytre[p] * vi[k] + ytim[p] * vr[k];
                cr += yvr;
                ci += yvi;
                const int *m = &map[2 * p];
                jx[m[0]] = vii * yvr - vri * yvi;
                jx[m[1]] = (vri * yvr + vii * yvi) * inv[k];
            }
        } else {
            for (int p = yp[i]; p < yp[i + 1]; p++) {
                int k = yi[p];
                cr += ytre[p] * vr[k] - ytim[p] * vi[k];
                ci += ytre[p] * vi[k] + ytim[p] * vr[k];
            }
        }
        double pi = vri * cr + vii * ci, qi = vii * cr - vri * ci; /* S_i = V_i conj(I_i) */
        sr[i] = pi;
        si[i] = qi;
        int a = nr->iva[i];
        if (a < 0)
            continue;
        double dp = pi - sbr[i];
        nr->f[a] = dp;
        bad |= !isfinite(dp);
        worst = fabs(dp) > worst ? fabs(dp) : worst;
        int m = nr->ivm[i];
        if (m >= 0) {
            double dq = qi - sbi[i];
            nr->f[m] = dq;
            bad |= !isfinite(dq);
            worst = fabs(dq) > worst ? fabs(dq) : worst;
        }
        if (with_j) { /* the diagonal: dS/dVa += j S_i, dS/dVm += S_i / |V_i| */
            const int *d = &map[2 * net->ydiag[i]];
            jx[d[0]] -= qi;
            if (m >= 0) {
                jx[d[0] + 1] += pi;
                jx[d[1]] += pi * inv[i];
                jx[d[1] + 1] += qi * inv[i];
            }
        }
    }
    return bad ? NAN : worst;
}

/* min |U_ii| / max |U_ii| of the current factors: KLU's crude reciprocal condition estimate
 * (klu_rcond), read straight from the diagonal it keeps. It runs after every refactorization;
 * with one running minimum and maximum, the loop would wait on each comparison before the next,
 * so four pairs take every fourth pivot each and are combined at the end. */
static double
pivot_ratio(const klu_numeric *num, int n)
{
    const double *u = num->Udiag;
    double lo[4] = {INFINITY, INFINITY, INFINITY, INFINITY}, hi[4] = {0, 0, 0, 0};
    int i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; j++) {
            double a = fabs(u[i + j]);
            lo[j] = a < lo[j] ? a : lo[j];
            hi[j] = a > hi[j] ? a : hi[j];
        }
    for (; i < n; i++) {
        double a = fabs(u[i]);
        lo[0] = a < lo[0] ? a : lo[0];
        hi[0] = a > hi[0] ? a : hi[0];
    }
    for (int j = 1; j < 4; j++) {
        lo[0] = lo[j] < lo[0] ? lo[j] : lo[0];
        hi[0] = hi[j] > hi[0] ? hi[j] : hi[0];
    }
    return hi[0] > 0 && lo[0] == lo[0] ? lo[0] / hi[0] : 0;
}

/* Numeric factorization of the Jacobian in jx into *num: refactor with the kept pivot order when
 * there is one and it stays sound (no zero pivot, and the ratio of the smallest to the largest
 * pivot not collapsed against the last fresh factorization, kept in *ratio), else a fresh
 * factorization with partial pivoting. Returns false when the Jacobian is singular. */
static bool
factor(pgi_pf_newton *nr, klu_numeric **num, double *ratio)
{
    klu_common *c = &nr->common;
    if (*num) {
        if (klu_refactor(nr->jp, nr->ji, nr->jx, nr->sym, *num, c) && c->status == KLU_OK &&
            pivot_ratio(*num, nr->n) > 1e-6 * *ratio) {
            nr->refactorizations++;
            return true;
        }
        klu_free_numeric(num, c);
    }
    *num = klu_factor(nr->jp, nr->ji, nr->jx, nr->sym, c);
    if (!*num || c->status != KLU_OK) {
        if (*num)
            klu_free_numeric(num, c);
        return false;
    }
    nr->factorizations++;
    *ratio = pivot_ratio(*num, nr->n);
    return true;
}

void
pgi_pf_newton_set_voltage(pgi_pf_newton *nr, const double *vm, const double *va)
{
    for (int b = 0; b < nr->nb; b++) {
        if (nr->cls[b] == PGI_DEAD) {
            nr->vr[b] = nr->vi[b] = nr->invvm[b] = 0;
            continue;
        }
        double c, sn;
        sincos(va[b], &sn, &c);
        nr->vr[b] = vm[b] * c;
        nr->vi[b] = vm[b] * sn;
        nr->invvm[b] = 1.0 / vm[b];
    }
}

/* Applies the Newton step (in f) to va and vm, and brings the complex voltages along. A small
 * angle step rotates the old voltage by e^{-j d}, with cos d and sin d from their Taylor series
 * (for |d| < 0.1 the first omitted terms are below 3e-21): after the first iterations every step
 * is small, and this saves a sin and a cos per bus. Larger steps recompute from the angle. */
static void
update_voltage(pgi_pf_newton *nr, double *vm, double *va)
{
    for (int b = 0; b < nr->nb; b++) {
        int a = nr->iva[b];
        if (a < 0)
            continue;
        double d = nr->f[a], vm0 = vm[b], k = 1; /* k: new |V| over old |V| */
        va[b] -= d;
        int m = nr->ivm[b];
        if (m >= 0) {
            vm[b] -= nr->f[m];
            if (vm[b] < 0) { /* like MATPOWER's V = Vm e^{jVa}; Vm = abs(V); Va = angle(V) */
                vm[b] = -vm[b];
                va[b] += M_PI;
                d = INFINITY;
            }
            k = vm[b] * nr->invvm[b]; /* invvm still holds 1 / vm0 */
            nr->invvm[b] = 1.0 / vm[b];
        }
        if (fabs(d) < 0.1 && vm0 > 0) {
            double d2 = d * d;
            double c =
                1 + d2 * (-1.0 / 2 +
                          d2 * (1.0 / 24 +
                                d2 * (-1.0 / 720 + d2 * (1.0 / 40320 + d2 * (-1.0 / 3628800)))));
            double sn =
                d *
                (1 + d2 * (-1.0 / 6 +
                           d2 * (1.0 / 120 + d2 * (-1.0 / 5040 +
                                                   d2 * (1.0 / 362880 + d2 * (-1.0 / 39916800))))));
            double vr = nr->vr[b], vi = nr->vi[b];
            nr->vr[b] = k * (vr * c + vi * sn); /* V e^{-jd} */
            nr->vi[b] = k * (vi * c - vr * sn);
        } else {
            double c, sn;
            sincos(va[b], &sn, &c);
            nr->vr[b] = vm[b] * c;
            nr->vi[b] = vm[b] * sn;
        }
    }
}

/* Records how a solve ended: iterations, the last mismatch, and why it did not converge. */
static void
finish(pgi_pf_newton_out *out, int it, double norm, bool converged)
{
    out->iterations = it;
    out->max_mismatch = norm;
    out->converged = converged;
    if (isnan(norm))
        pgi_pf_say(out->reason, sizeof out->reason,
                   "the mismatch became infinite or NaN at iteration %d (the solution diverged)",
                   it);
    else if (!converged)
        pgi_pf_say(out->reason, sizeof out->reason,
                   "did not converge in %d iteration%s: the largest mismatch is still %.3g p.u.",
                   it, it == 1 ? "" : "s", norm);
}

int
pgi_pf_newton_solve(pgi_pf_newton *nr, const pgi_pf_net *net, const double *sbr, const double *sbi,
                    double *vm, double *va, double tol, int max_iter, pgi_pf_newton_out *out,
                    pg_error *err)
{
    (void)err;
    memset(out, 0, sizeof *out);
    /* A start seen before (same voltages, same Ybus values): its complex voltages are known, and
     * from its second time on, the factors of its Jacobian are kept in num0. */
    size_t bytes = sizeof *vm * (size_t)nr->nb;
    bool same_start = nr->have_start && nr->start_version == net->version &&
                      memcmp(nr->start_vm, vm, bytes) == 0 && memcmp(nr->start_va, va, bytes) == 0;
    if (same_start) {
        memcpy(nr->vr, nr->start_vr, bytes);
        memcpy(nr->vi, nr->start_vi, bytes);
        memcpy(nr->invvm, nr->start_inv, bytes);
    } else {
        pgi_pf_newton_set_voltage(nr, vm, va);
        if (nr->num0)
            klu_free_numeric(&nr->num0, &nr->common);
    }
    if (!same_start && nr->keep_start) {
        nr->have_start = true;
        nr->start_version = net->version;
        memcpy(nr->start_vm, vm, bytes);
        memcpy(nr->start_va, va, bytes);
        memcpy(nr->start_vr, nr->vr, bytes);
        memcpy(nr->start_vi, nr->vi, bytes);
        memcpy(nr->start_inv, nr->invvm, bytes);
    }
    bool kept = same_start && nr->num0; /* the first step's factors are ready */
    /* Chord steps: with the factors of an earlier solve's Jacobian (same pattern), while each
     * step cuts the mismatch fast; then Newton steps from where they got. */
    bool chord = nr->chord && !kept && nr->num && max_iter > 0;
    /* Each evaluation gives S (for the mismatch) and the Jacobian at the same voltage. */
    bool have_j = max_iter > 0 && !kept && !chord;
    double norm = evaluate(nr, net, sbr, sbi, have_j);
    int it = 0;
    bool converged = norm < tol;
    if (chord && !converged && !isnan(norm)) {
        int steps = 0;
        double start_norm = norm;
        while (steps < PGI_CHORD_MAX) {
            klu_solve(nr->sym, nr->num, nr->n, 1, nr->f, &nr->common);
            update_voltage(nr, vm, va);
            steps++;
            double next = evaluate(nr, net, sbr, sbi, false);
            bool fast = chord_worth(norm, next, tol);
            norm = next;
            if (norm < tol || !fast)
                break;
        }
        if (!(norm < start_norm) && nr->keep_start) { /* it went astray: start again */
            memcpy(vm, nr->start_vm, bytes);
            memcpy(va, nr->start_va, bytes);
            memcpy(nr->vr, nr->start_vr, bytes);
            memcpy(nr->vi, nr->start_vi, bytes);
            memcpy(nr->invvm, nr->start_inv, bytes);
            norm = evaluate(nr, net, sbr, sbi, false);
        }
        it = steps;
        max_iter += steps;
        converged = norm < tol;
        have_j = false;
    }
    while (!converged && it < max_iter && !isnan(norm)) {
        it++;
        bool first_kept = it == 1 && same_start; /* this step's factors go to (or are) num0 */
        klu_numeric **num = first_kept ? &nr->num0 : &nr->num;
        bool ok = true;
        if (!(it == 1 && kept)) {
            if (!have_j)
                evaluate(nr, net, sbr, sbi, true);
            ok = factor(nr, num, first_kept ? &nr->rcond0 : &nr->rcond_factor);
        }
        if (!ok) {
            out->iterations = it;
            out->max_mismatch = norm;
            pgi_pf_say(out->reason, sizeof out->reason,
                       "the Jacobian is singular at iteration %d (voltage collapse, or a part of "
                       "the network that nothing holds)",
                       it);
            return PG_OK;
        }
        klu_solve(nr->sym, *num, nr->n, 1, nr->f, &nr->common);
        update_voltage(nr, vm, va);
        /* Newton's method converges quadratically (the next mismatch is about C norm^2, with C
         * well below 10 on real networks): when the next mismatch is expected below tol, its
         * Jacobian would go unused, so it is not filled; if the guess is wrong it is filled at
         * the top of the loop, at the cost of one more pass. */
        have_j = it < max_iter && !(10 * norm * norm < tol);
        norm = evaluate(nr, net, sbr, sbi, have_j);
        converged = norm < tol;
    }
    finish(out, it, norm, converged);
    return PG_OK;
}

double
pgi_pf_newton_time_refactor(pgi_pf_newton *nr, int reps)
{
    if (!nr->sym || !nr->num || reps < 1)
        return 0;
    double *t = malloc(sizeof *t * (size_t)reps);
    double *rhs = malloc(sizeof *rhs * (size_t)(nr->n ? nr->n : 1));
    if (!t || !rhs) {
        free(t);
        free(rhs);
        return 0;
    }
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < nr->n; i++)
            rhs[i] = 1.0;
        double t0 = pgi_now();
        klu_refactor(nr->jp, nr->ji, nr->jx, nr->sym, nr->num, &nr->common);
        klu_solve(nr->sym, nr->num, nr->n, 1, rhs, &nr->common);
        t[r] = pgi_now() - t0;
    }
    /* median by insertion sort (reps is small) */
    for (int i = 1; i < reps; i++) {
        double v = t[i];
        int j = i - 1;
        while (j >= 0 && t[j] > v) {
            t[j + 1] = t[j];
            j--;
        }
        t[j + 1] = v;
    }
    double med = t[reps / 2];
    free(t);
    free(rhs);
    return med;
}

/* ---------------------------------------------------------------- outages */

int
pgi_pf_newton_outage_base(pgi_pf_newton *nr, const pgi_pf_net *net, const double *sbr,
                          const double *sbi, const double *vm, const double *va, pg_error *err)
{
    outage_base_free(nr);
    int n = nr->n, nb = nr->nb;
    pgi_pf_outage_base *ob = calloc(1, sizeof *ob);
    if (!ob)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    nr->ob = ob;
    ob->n = n;
    ob->nb = nb;
    ob->jnnz = nr->jnnz;
    size_t nbs = (size_t)(nb ? nb : 1);
    ob->jx = malloc(sizeof *ob->jx * (size_t)(nr->jnnz + 2));
    ob->vm = malloc(sizeof *ob->vm * 5 * nbs);
    ob->z = malloc(sizeof *ob->z * 4 * (size_t)(n ? n : 1));
    if (!ob->jx || !ob->vm || !ob->z)
        goto nomem;
    ob->va = ob->vm + nbs;
    ob->vr = ob->va + nbs;
    ob->vi = ob->vr + nbs;
    ob->inv = ob->vi + nbs;
    memcpy(ob->vm, vm, sizeof *vm * (size_t)nb);
    memcpy(ob->va, va, sizeof *va * (size_t)nb);
    pgi_pf_newton_set_voltage(nr, vm, va);
    memcpy(ob->vr, nr->vr, sizeof *vm * (size_t)nb);
    memcpy(ob->vi, nr->vi, sizeof *vm * (size_t)nb);
    memcpy(ob->inv, nr->invvm, sizeof *vm * (size_t)nb);
    evaluate(nr, net, sbr, sbi, true);
    memcpy(ob->jx, nr->jx, sizeof *ob->jx * (size_t)(nr->jnnz + 2));
    if (n == 0)
        return PG_OK;
    klu_common *c = &nr->common;
    ob->num = klu_factor(nr->jp, nr->ji, nr->jx, nr->sym, c);
    if (ob->num && c->status == KLU_OK)
        ob->work = klu_factor(nr->jp, nr->ji, nr->jx, nr->sym, c);
    if (!ob->num || !ob->work || c->status != KLU_OK) {
        int st = c->status;
        outage_base_free(nr);
        if (st == KLU_OUT_OF_MEMORY)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        return pg_error_set(err, PG_ESOLVER,
                            "power flow: the base case's Jacobian is singular at its solution "
                            "(KLU status %d)",
                            st);
    }
    nr->factorizations += 2;
    ob->ratio = pivot_ratio(ob->num, n);
    return PG_OK;
nomem:
    outage_base_free(nr);
    return pg_error_set(err, PG_ENOMEM, "out of memory");
}

/* The position of entry (row r, column c) of the Jacobian's pattern, -1 when not there. */
static int
jac_pos(const pgi_pf_newton *nr, int r, int c)
{
    for (int p = nr->jp[c]; p < nr->jp[c + 1]; p++)
        if (nr->ji[p] == r)
            return p;
    return -1;
}

/* Solves the m x m system a x = b in place (b becomes x) by Gaussian elimination with partial
 * pivoting; false when a pivot is negligible against the matrix's largest entry. */
static bool
dense_solve(int m, double a[4][4], double b[4])
{
    double big = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++)
            big = fabs(a[i][j]) > big ? fabs(a[i][j]) : big;
    for (int k = 0; k < m; k++) {
        int p = k;
        for (int i = k + 1; i < m; i++)
            if (fabs(a[i][k]) > fabs(a[p][k]))
                p = i;
        if (!(fabs(a[p][k]) > 1e-12 * big))
            return false;
        if (p != k) {
            for (int j = 0; j < m; j++) {
                double tmp = a[k][j];
                a[k][j] = a[p][j];
                a[p][j] = tmp;
            }
            double tmp = b[k];
            b[k] = b[p];
            b[p] = tmp;
        }
        for (int i = k + 1; i < m; i++) {
            double l = a[i][k] / a[k][k];
            for (int j = k; j < m; j++)
                a[i][j] -= l * a[k][j];
            b[i] -= l * b[k];
        }
    }
    for (int k = m - 1; k >= 0; k--) {
        double x = b[k];
        for (int j = k + 1; j < m; j++)
            x -= a[k][j] * b[j];
        b[k] = x / a[k][k];
    }
    return true;
}

/* Factors of the Jacobian in jx for an outage's Newton step: the base pivot order refactorized
 * (ob->work) while its pivots stay sound, else a factorization with pivoting of the outage's own
 * (*own, with its pivot ratio in *own_ratio, kept for its next steps and freed by the caller).
 * NULL when the Jacobian is singular. */
static klu_numeric *
outage_factor(pgi_pf_newton *nr, klu_numeric **own, double *own_ratio)
{
    pgi_pf_outage_base *ob = nr->ob;
    klu_common *c = &nr->common;
    klu_numeric **num = *own ? own : &ob->work;
    double ratio = *own ? *own_ratio : ob->ratio;
    if (klu_refactor(nr->jp, nr->ji, nr->jx, nr->sym, *num, c) && c->status == KLU_OK &&
        pivot_ratio(*num, nr->n) > 1e-6 * ratio) {
        nr->refactorizations++;
        return *num;
    }
    if (*own)
        klu_free_numeric(own, c);
    *own = klu_factor(nr->jp, nr->ji, nr->jx, nr->sym, c);
    if (!*own || c->status != KLU_OK) {
        if (*own)
            klu_free_numeric(own, c);
        return NULL;
    }
    nr->factorizations++;
    *own_ratio = pivot_ratio(*own, nr->n);
    return *own;
}

/* Puts the base solution back into vm, va and the complex voltages. */
static void
outage_restart(pgi_pf_newton *nr, double *vm, double *va)
{
    const pgi_pf_outage_base *ob = nr->ob;
    size_t bytes = sizeof *vm * (size_t)nr->nb;
    memcpy(vm, ob->vm, bytes);
    memcpy(va, ob->va, bytes);
    memcpy(nr->vr, ob->vr, bytes);
    memcpy(nr->vi, ob->vi, bytes);
    memcpy(nr->invvm, ob->inv, bytes);
}

int
pgi_pf_newton_outage(pgi_pf_newton *nr, const pgi_pf_net *net, int f, int t, const double *sbr,
                     const double *sbi, double *vm, double *va, double tol, int max_iter,
                     pgi_pf_newton_out *out, pg_error *err)
{
    memset(out, 0, sizeof *out);
    pgi_pf_outage_base *ob = nr->ob;
    if (!ob || ob->n != nr->n || ob->nb != nr->nb || ob->jnnz != nr->jnnz)
        return pg_error_set(err, PG_EINVAL, "power flow: no base case for the outage");
    int n = nr->n;
    outage_restart(nr, vm, va);
    /* The mismatch and the Jacobian of the outaged network at the base solution. */
    double norm = evaluate(nr, net, sbr, sbi, max_iter > 0);
    int it = 0, newton = 0;
    bool converged = norm < tol;
    klu_numeric *own = NULL;
    double own_ratio = 0;
    if (converged || isnan(norm) || max_iter == 0 || n == 0)
        goto done;

    /* The unknowns (and equations, paired with them) of buses f and t. */
    int idx[4], m = 0;
    int buses[2] = {f, t};
    for (int k = 0; k < (f == t ? 1 : 2); k++) {
        if (nr->iva[buses[k]] >= 0)
            idx[m++] = nr->iva[buses[k]];
        if (nr->ivm[buses[k]] >= 0)
            idx[m++] = nr->ivm[buses[k]];
    }
    /* D: the change of those rows (only their columns change); Z = J0^-1 E; M = I + D Z. */
    double d[4][4] = {{0}}, mm[4][4] = {{0}};
    for (int j = 0; j < m; j++)
        for (int i = 0; i < m; i++) {
            int p = jac_pos(nr, idx[i], idx[j]);
            d[i][j] = p < 0 ? 0 : nr->jx[p] - ob->jx[p];
        }
    double *z = ob->z;
    memset(z, 0, sizeof *z * (size_t)n * (size_t)m);
    for (int j = 0; j < m; j++)
        z[(size_t)j * (size_t)n + (size_t)idx[j]] = 1.0;
    bool smw = true;
    if (m > 0) {
        klu_solve(nr->sym, ob->num, n, m, z, &nr->common);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) {
                double s = i == j ? 1.0 : 0.0;
                for (int k = 0; k < m; k++)
                    s += d[i][k] * z[(size_t)j * (size_t)n + (size_t)idx[k]];
                mm[i][j] = s;
            }
        /* A trial solve with a copy tells whether M is invertible. */
        double a[4][4], b[4] = {0};
        memcpy(a, mm, sizeof a);
        smw = dense_solve(m, a, b);
    }

    /* Chord steps with the Jacobian at the base solution. */
    double start = norm;
    int chord = 0;
    while (smw && chord < PGI_CHORD_MAX) {
        double *x = nr->f;
        klu_solve(nr->sym, ob->num, n, 1, x, &nr->common); /* y = J0^-1 F */
        if (m > 0) {                                       /* x = y - Z M^-1 D y */
            double g[4], a[4][4];
            for (int i = 0; i < m; i++) {
                double s = 0;
                for (int k = 0; k < m; k++)
                    s += d[i][k] * x[idx[k]];
                g[i] = s;
            }
            memcpy(a, mm, sizeof a);
            dense_solve(m, a, g);
            for (int j = 0; j < m; j++) {
                const double *zj = z + (size_t)j * (size_t)n;
                double gj = g[j];
                for (int i = 0; i < n; i++)
                    x[i] -= zj[i] * gj;
            }
        }
        update_voltage(nr, vm, va);
        chord++;
        double next = evaluate(nr, net, sbr, sbi, false);
        /* the first step is a Newton step (its rate says nothing of the chord's) */
        bool fast = chord == 1 ? next < norm : chord_worth(norm, next, tol);
        norm = next;
        if (norm < tol || !fast)
            break;
    }
    it = chord;
    converged = norm < tol;
    if (converged)
        goto done;
    /* Newton steps: from where the chord got when it was still converging, else from the base. */
    bool restart = !smw || !(norm < start);
    if (restart) {
        outage_restart(nr, vm, va);
        norm = start;
    }
    bool have_j = false;
    if (restart && smw == false)
        have_j = true; /* evaluate() at the base solution above filled the Jacobian */
    while (!converged && newton < max_iter && !isnan(norm)) {
        newton++;
        it++;
        if (!have_j)
            norm = evaluate(nr, net, sbr, sbi, true);
        klu_numeric *num = outage_factor(nr, &own, &own_ratio);
        if (!num) {
            out->iterations = it;
            out->max_mismatch = norm;
            pgi_pf_say(out->reason, sizeof out->reason,
                       "the Jacobian is singular at iteration %d (voltage collapse, or a part of "
                       "the network that nothing holds)",
                       it);
            goto free;
        }
        klu_solve(nr->sym, num, n, 1, nr->f, &nr->common);
        update_voltage(nr, vm, va);
        have_j = newton < max_iter && !(10 * norm * norm < tol);
        norm = evaluate(nr, net, sbr, sbi, have_j);
        converged = norm < tol;
    }
done:
    finish(out, it, norm, converged);
free:
    if (own)
        klu_free_numeric(&own, &nr->common);
    return PG_OK;
}
