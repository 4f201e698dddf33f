/* Mixed equilibria of two-player games against an independent reference: Debian's lrsnash
 * (lrslib, exact arithmetic). Random integer games from a fixed seed, sizes 2x2 to 4x5, are
 * written in lrsnash's input format, solved by it, and its extreme equilibria (mixed ones
 * included) must equal, as sets, what the vertex enumeration here finds. Games with small payoff
 * ranges are often degenerate (equilibrium components, several partners per vertex); games with a
 * wide range are almost surely not, and there support enumeration must agree too. Every
 * equilibrium also passes the open-game check, and lrsnash's stated payoffs are checked. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/game.h"

#define TOL 1e-9

typedef struct eq_set {
    double *v;   /* n x (m + k) */
    double *pay; /* n x 2: lrsnash's payoff to player 1, to player 2 */
    size_t n, cap, w;
    size_t shared; /* blocks where one vertex has several partners: a degenerate game */
} eq_set;

static void
eq_add(eq_set *s, const double *x, size_t m, const double *y, size_t k, double p1, double p2)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->v = realloc(s->v, s->cap * (m + k) * sizeof *s->v);
        s->pay = realloc(s->pay, s->cap * 2 * sizeof *s->pay);
        assert_non_null(s->v);
        assert_non_null(s->pay);
    }
    memcpy(s->v + s->n * (m + k), x, m * sizeof *x);
    memcpy(s->v + s->n * (m + k) + m, y, k * sizeof *y);
    s->pay[2 * s->n] = p1;
    s->pay[2 * s->n + 1] = p2;
    s->n++;
    s->w = m + k;
}

/* Parses "p/q" or "p". */
static double
rational(const char *tok)
{
    char *end;
    double num = strtod(tok, &end);
    if (*end == '/')
        return num / strtod(end + 1, NULL);
    return num;
}

/* Splits a line into numbers; returns how many. */
static size_t
numbers(char *line, double *out, size_t max)
{
    size_t n = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok && n < max; tok = strtok(NULL, " \t\r\n"))
        out[n++] = rational(tok);
    return n;
}

/* Runs lrsnash on A, B (m x k integers) and collects its equilibria. lrsnash prints blocks
 * separated by blank lines: one or more lines "2 y_1 .. y_k payoff-to-player-1", then a line
 * "1 x_1 .. x_m payoff-to-player-2" that forms an equilibrium with each of them. */
static void
run_lrsnash(const int *A, const int *B, size_t m, size_t k, int id, eq_set *out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/game%d.txt", pgt_tmpdir(), id);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%zu %zu\n\n", m, k);
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < k; j++)
            fprintf(f, "%d ", A[i * k + j]);
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < k; j++)
            fprintf(f, "%d ", B[i * k + j]);
        fprintf(f, "\n");
    }
    fclose(f);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "lrsnash '%s' 2>&1", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[4096];
    double ys[64][16], ypay[64];
    size_t ny = 0;
    bool saw_header = false;
    while (fgets(line, sizeof line, p)) {
        if (strstr(line, "lrsnash:lrslib"))
            saw_header = true;
        if (line[0] == '*')
            continue;
        double nums[32];
        size_t n = numbers(line, nums, 32);
        if (n == 0) {
            ny = 0; /* a blank line ends a block */
            continue;
        }
        if (nums[0] == 2) {
            assert_int_equal(n, k + 2);
            assert_true(ny < 64);
            memcpy(ys[ny], nums + 1, k * sizeof *nums);
            ypay[ny++] = nums[k + 1];
        } else if (nums[0] == 1) {
            assert_int_equal(n, m + 2);
            assert_true(ny > 0);
            out->shared += ny > 1;
            for (size_t t = 0; t < ny; t++)
                eq_add(out, nums + 1, m, ys[t], k, ypay[t], nums[m + 1]);
        } else {
            fail_msg("unexpected lrsnash output line: %s", line);
        }
    }
    int status = pclose(p);
    if (!saw_header || status != 0)
        fail_msg("lrsnash did not run (exit status %d). It comes with Debian's lrslib package, "
                 "which scripts/deps.sh installs.",
                 status);
}

/* Is every equilibrium of a in b (within TOL)? */
static bool
subset(const double *a, size_t na, const double *b, size_t nb, size_t w)
{
    for (size_t i = 0; i < na; i++) {
        bool found = false;
        for (size_t j = 0; j < nb && !found; j++) {
            bool same = true;
            for (size_t t = 0; t < w && same; t++)
                same = fabs(a[i * w + t] - b[j * w + t]) <= TOL;
            found = same;
        }
        if (!found)
            return false;
    }
    return true;
}

static pg_nf *
make_game(const int *A, const int *B, size_t m, size_t k)
{
    const char *players[2] = {"row", "col"};
    size_t na[2] = {m, k};
    pg_nf *g = NULL;
    assert_int_equal(pg_nf_new(&g, "random", 2, players, na, NULL), PG_OK);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < k; j++) {
            size_t prof[2] = {i, j};
            double pay[2] = {A[i * k + j], B[i * k + j]};
            assert_int_equal(pg_nf_set_payoffs(g, prof, pay, NULL), PG_OK);
        }
    return g;
}

/* What the comparisons covered. */
static size_t n_mixed, n_degenerate;

/* Compares one game; returns its number of extreme equilibria. */
static size_t
compare(const int *A, const int *B, size_t m, size_t k, int id, bool check_support)
{
    eq_set ref = {0};
    run_lrsnash(A, B, m, k, id, &ref);
    pg_nf *g = make_game(A, B, m, k);
    double *mine = NULL;
    size_t n = 0;
    assert_int_equal(pg_nf_bimatrix_equilibria(g, &mine, &n, NULL), PG_OK);
    size_t w = m + k;
    if (n != ref.n || !subset(ref.v, ref.n, mine, n, w) || !subset(mine, n, ref.v, ref.n, w))
        fail_msg("game %d (%zu x %zu): lrsnash finds %zu extreme equilibria, vertex enumeration "
                 "%zu, and the sets differ",
                 id, m, k, ref.n, n);
    /* lrsnash's payoffs: to player 1 x'Ay, to player 2 x'By. */
    for (size_t e = 0; e < ref.n; e++) {
        double pay[2];
        assert_int_equal(pg_nf_expected(g, ref.v + e * (m + k), pay, NULL), PG_OK);
        assert_near(pay[0], ref.pay[2 * e], 1e-9);
        assert_near(pay[1], ref.pay[2 * e + 1], 1e-9);
    }
    /* Each equilibrium passes the open-game check and has zero gains in the normal form. */
    pg_og *og = NULL;
    assert_int_equal(pg_nf_to_og(g, &og, NULL), PG_OK);
    pg_og_profile *p = NULL;
    assert_int_equal(pg_og_profile_new(&p, og, NULL), PG_OK);
    n_degenerate += ref.shared > 0;
    for (size_t e = 0; e < n; e++) {
        const double *eq = mine + e * (m + k);
        for (size_t t = 0; t < m + k; t++)
            if (eq[t] > TOL && eq[t] < 1 - TOL) {
                n_mixed++;
                break;
            }
        double gains[2];
        assert_int_equal(pg_nf_gains(g, eq, gains, NULL), PG_OK);
        assert_near(gains[0], 0, 1e-9);
        assert_near(gains[1], 0, 1e-9);
        /* Vertex coordinates carry rounding; renormalise before the strict probability check. */
        double x[16], y[16], sx = 0, sy = 0;
        for (size_t i = 0; i < m; i++)
            sx += (x[i] = eq[i]);
        for (size_t j = 0; j < k; j++)
            sy += (y[j] = eq[m + j]);
        for (size_t i = 0; i < m; i++)
            x[i] /= sx;
        for (size_t j = 0; j < k; j++)
            y[j] /= sy;
        assert_int_equal(pg_og_profile_set_mixed(p, pg_og_find(og, "row"), 0, x, NULL), PG_OK);
        assert_int_equal(pg_og_profile_set_mixed(p, pg_og_find(og, "col"), 0, y, NULL), PG_OK);
        pg_og_check c;
        assert_int_equal(pg_og_check_equilibrium(p, 1e-9, &c, NULL), PG_OK);
        if (!c.equilibrium)
            fail_msg("game %d: equilibrium %zu fails the open-game check (gain %g)", id, e,
                     c.max_gain);
        pg_og_check_clear(&c);
    }
    if (check_support) {
        double *se = NULL;
        size_t ns = 0;
        assert_int_equal(pg_nf_support_equilibria(g, &se, &ns, NULL), PG_OK);
        if (ns != ref.n || !subset(ref.v, ref.n, se, ns, m + k))
            fail_msg("game %d (%zu x %zu): lrsnash finds %zu equilibria, support enumeration %zu",
                     id, m, k, ref.n, ns);
        free(se);
    }
    pg_og_profile_free(p);
    pg_og_free(og);
    free(mine);
    free(ref.v);
    free(ref.pay);
    pg_nf_free(g);
    return n;
}

static void
test_known_degenerate_game(void **state)
{
    (void)state;
    /* A 3x3 degenerate game with 4 extreme equilibria (two share the row player's vertex). */
    int A[9] = {-7, -5, 5, 5, 5, 3, 1, -6, 1};
    int B[9] = {-9, 7, 9, 6, -2, -3, -4, 6, -10};
    assert_int_equal(compare(A, B, 3, 3, 0, false), 4);
    /* Matching pennies: one, mixed. */
    int P[4] = {1, -1, -1, 1}, Q[4] = {-1, 1, 1, -1};
    assert_int_equal(compare(P, Q, 2, 2, 1, true), 1);
    /* All payoffs equal: every pure profile is an equilibrium; the extreme ones are the 4
     * vertex pairs. */
    int Z[4] = {1, 1, 1, 1};
    assert_int_equal(compare(Z, Z, 2, 2, 2, false), 4);
}

static void
test_random_games_agree_with_lrsnash(void **state)
{
    (void)state;
    pg_rng rng;
    pg_rng_seed(&rng, 20240601, 0);
    int A[25], B[25];
    size_t total = 0;
    n_mixed = n_degenerate = 0;
    for (int id = 10; id < 70; id++) {
        size_t m = 2 + pg_rng_below(&rng, 3), k = 2 + pg_rng_below(&rng, 4);
        /* Even games: payoffs 0..4 (degenerate ones are common); odd games: -500..500. */
        bool wide = id % 2;
        for (size_t t = 0; t < m * k; t++) {
            A[t] = wide ? (int)pg_rng_below(&rng, 1001) - 500 : (int)pg_rng_below(&rng, 5);
            B[t] = wide ? (int)pg_rng_below(&rng, 1001) - 500 : (int)pg_rng_below(&rng, 5);
        }
        total += compare(A, B, m, k, id, wide);
    }
    /* The comparison covered real work: many equilibria, mixed ones, degenerate games. */
    print_message("60 random games: %zu extreme equilibria, %zu of them mixed, %zu degenerate "
                  "games\n",
                  total, n_mixed, n_degenerate);
    assert_true(total > 60);
    assert_true(n_mixed > 10);
    assert_true(n_degenerate > 3);
}

static int
teardown(void **state)
{
    (void)state;
    pgt_tmpdir_cleanup();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_degenerate_game),
        cmocka_unit_test(test_random_games_agree_with_lrsnash),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
