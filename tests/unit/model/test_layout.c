/* Automatic layout of a world's drawing (pg_world_layout) and the bus positions it writes: every
 * bus placed at a finite point, no two closer than PG_LAYOUT_MIN_GAP (all pairs checked) on the
 * MATPOWER cases, the same positions bit for bit on a second run, a readable case118 (few
 * crossing branches: far fewer than a circle's, branches near the ideal length), placed buses
 * kept exactly, islands side by side without overlapping, the size limit, and positions that are
 * NaN, infinite or half given. Also: clone copies positions, equal compares them, validate
 * checks them. */
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "plurigrid/io.h"
#include "plurigrid/model.h"

#define L 100.0 /* the layout's ideal branch length */

static pg_world *
read_case(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "matpower/cases/%s.m", name);
    pg_world *w = NULL;
    pg_error err = {0};
    int rc = pg_matpower_read_file(pgt_data_path(rel), &w, NULL, &err);
    if (rc)
        print_error("%s: %s\n", name, err.msg);
    assert_int_equal(rc, PG_OK);
    return w;
}

static void
add_branch(pg_world *w, size_t from, size_t to)
{
    pg_branch br;
    pg_branch_init(&br);
    char name[48];
    snprintf(name, sizeof name, "%zu-%zu", from, to);
    br.name = name;
    br.from = from;
    br.to = to;
    br.x = 0.1;
    pg_error err = {0};
    assert_int_equal(pg_world_add_branch(w, &br, NULL, &err), PG_OK);
}

/* A world of n buses b1..bn and no branches. */
static pg_world *
buses_only(size_t n)
{
    pg_world *w = NULL;
    assert_int_equal(pg_world_new(&w, "synthetic", 100, NULL), PG_OK);
    /* filled directly: the adder checks names against every other bus (quadratic) */
    w->buses = calloc(n, sizeof *w->buses);
    assert_non_null(w->buses);
    w->cap_buses = n;
    for (size_t i = 0; i < n; i++) {
        pg_bus_init(&w->buses[i]);
        char name[32];
        snprintf(name, sizeof name, "b%zu", i + 1);
        w->buses[i].name = strdup(name);
        w->buses[i].number = (int)(i + 1);
        w->n_buses++;
    }
    return w;
}

/* A meshed grid of rows x cols buses: each joined to its right and lower neighbours, and every
 * fifth row only every third link down, so it is not a perfect lattice. */
static pg_world *
mesh(size_t rows, size_t cols)
{
    pg_world *w = buses_only(rows * cols);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            size_t i = r * cols + c;
            if (c + 1 < cols)
                add_branch(w, i, i + 1);
            if (r + 1 < rows && (r % 5 != 4 || c % 3 == 0))
                add_branch(w, i, i + cols);
        }
    return w;
}

/* Smallest distance between two buses, every pair compared exactly (sorted by x, pairs more
 * than the answer so far apart in x skipped: they cannot be closer). Buses with both flags set
 * in skip_pair (both placed beforehand) are not compared when skip is not NULL. */
static const pg_world *sort_w;

static int
cmp_x(const void *a, const void *b)
{
    double p = sort_w->buses[*(const size_t *)a].x, q = sort_w->buses[*(const size_t *)b].x;
    return (p > q) - (p < q);
}

static double
min_distance(const pg_world *w, const bool *skip)
{
    size_t n = w->n_buses, *o = malloc(n * sizeof *o);
    assert_non_null(o);
    for (size_t i = 0; i < n; i++)
        o[i] = i;
    sort_w = w;
    qsort(o, n, sizeof *o, cmp_x);
    double best = INFINITY;
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++) {
            const pg_bus *p = &w->buses[o[a]], *q = &w->buses[o[b]];
            if (q->x - p->x >= best)
                break;
            if (skip && skip[o[a]] && skip[o[b]])
                continue;
            double dx = p->x - q->x, dy = p->y - q->y, d = sqrt(dx * dx + dy * dy);
            if (d < best)
                best = d;
        }
    free(o);
    return best;
}

static void
check_all_placed(const pg_world *w)
{
    for (size_t i = 0; i < w->n_buses; i++) {
        if (!isfinite(w->buses[i].x) || !isfinite(w->buses[i].y))
            print_error("bus %s at (%g, %g)\n", w->buses[i].name, w->buses[i].x, w->buses[i].y);
        assert_true(isfinite(w->buses[i].x) && isfinite(w->buses[i].y));
    }
}

static bool
same_positions(const pg_world *a, const pg_world *b)
{
    if (a->n_buses != b->n_buses)
        return false;
    for (size_t i = 0; i < a->n_buses; i++)
        if (memcmp(&a->buses[i].x, &b->buses[i].x, sizeof(double)) != 0 ||
            memcmp(&a->buses[i].y, &b->buses[i].y, sizeof(double)) != 0)
            return false;
    return true;
}

/* Whether segments pq and rs cross at a point inside both (touching ends do not count). */
static bool
cross(double px, double py, double qx, double qy, double rx, double ry, double sx, double sy)
{
    double d1 = (qx - px) * (ry - py) - (qy - py) * (rx - px);
    double d2 = (qx - px) * (sy - py) - (qy - py) * (sx - px);
    double d3 = (sx - rx) * (py - ry) - (sy - ry) * (px - rx);
    double d4 = (sx - rx) * (qy - ry) - (sy - ry) * (qx - rx);
    return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

/* Pairs of branches that cross, branches with a bus in common not counted. */
static size_t
crossings(const pg_world *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->n_branches; i++)
        for (size_t j = i + 1; j < w->n_branches; j++) {
            const pg_branch *a = &w->branches[i], *b = &w->branches[j];
            if (a->from == b->from || a->from == b->to || a->to == b->from || a->to == b->to)
                continue;
            const pg_bus *p = &w->buses[a->from], *q = &w->buses[a->to];
            const pg_bus *r = &w->buses[b->from], *s = &w->buses[b->to];
            n += cross(p->x, p->y, q->x, q->y, r->x, r->y, s->x, s->y);
        }
    return n;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median and largest branch length, in units of L. */
static void
branch_lengths(const pg_world *w, double *median, double *longest)
{
    double *len = malloc(w->n_branches * sizeof *len);
    assert_non_null(len);
    for (size_t k = 0; k < w->n_branches; k++) {
        const pg_bus *p = &w->buses[w->branches[k].from], *q = &w->buses[w->branches[k].to];
        double dx = p->x - q->x, dy = p->y - q->y;
        len[k] = sqrt(dx * dx + dy * dy) / L;
    }
    qsort(len, w->n_branches, sizeof *len, cmp_double);
    size_t n = w->n_branches;
    *median = n % 2 ? len[n / 2] : 0.5 * (len[n / 2 - 1] + len[n / 2]);
    *longest = len[n - 1];
    free(len);
}

static void
layout_ok(pg_world *w, bool all)
{
    pg_error err = {0};
    int rc = pg_world_layout(w, all, &err);
    if (rc)
        print_error("layout: %s\n", err.msg);
    assert_int_equal(rc, PG_OK);
}

static void
test_cases(void **state)
{
    (void)state;
    const char *cases[] = {"case9", "case14", "case30", "case118", "case300"};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        pg_world *w = read_case(cases[c]), *again = NULL;
        pg_error err = {0};
        for (size_t i = 0; i < w->n_buses; i++) /* MATPOWER cases are not placed */
            assert_true(isnan(w->buses[i].x) && isnan(w->buses[i].y));
        assert_int_equal(pg_world_clone(&again, w, &err), PG_OK);
        double t0 = pgi_now();
        layout_ok(w, true);
        double t = pgi_now() - t0;
        check_all_placed(w);
        double gap = min_distance(w, NULL), median, longest;
        if (!(gap >= PG_LAYOUT_MIN_GAP))
            print_error("%s: two buses %.17g apart\n", cases[c], gap);
        assert_true(gap >= PG_LAYOUT_MIN_GAP);
        assert_int_equal(pg_world_validate(w, &err), PG_OK);
        branch_lengths(w, &median, &longest);
        print_message("%s: %.1f ms, %zu crossings, branch length median %.2f L, longest %.2f L, "
                      "closest buses %.1f\n",
                      cases[c], t * 1e3, crossings(w), median, longest, gap);
        assert_true(median <= 2.0);
        /* deterministic: a second run gives the same bits, from scratch and over its own result */
        layout_ok(again, true);
        assert_true(same_positions(w, again));
        layout_ok(again, true);
        assert_true(same_positions(w, again));
        /* all = false with nothing placed is all = true */
        for (size_t i = 0; i < again->n_buses; i++)
            again->buses[i].x = again->buses[i].y = NAN;
        layout_ok(again, false);
        assert_true(same_positions(w, again));
        pg_world_free(again);
        pg_world_free(w);
    }
}

static void
circle(pg_world *w)
{
    const double pi = 3.14159265358979323846;
    for (size_t i = 0; i < w->n_buses; i++) {
        double a = 2 * pi * (double)i / (double)w->n_buses;
        w->buses[i].x = 1000 * cos(a);
        w->buses[i].y = 1000 * sin(a);
    }
}

static void
test_case118_readable(void **state)
{
    (void)state;
    pg_world *w = read_case("case118"), *c = NULL;
    assert_int_equal(pg_world_clone(&c, w, NULL), PG_OK);
    layout_ok(w, true);
    circle(c);
    size_t mine = crossings(w), round = crossings(c);
    double median, longest;
    branch_lengths(w, &median, &longest);
    print_message("case118: %zu crossing pairs of branches (a circle in bus order: %zu); branch "
                  "length median %.2f L, longest %.2f L\n",
                  mine, round, median, longest);
    /* measured: 27 crossings against the circle's 204; branch length median 1.11 L, longest
     * 2.22 L (before crossings were reduced: 48 crossings) */
    assert_true(mine <= 30);
    assert_true(mine * 5 <= round);
    assert_true(median >= 0.8 && median <= 1.5);
    assert_true(longest <= 3);
    pg_world_free(c);
    pg_world_free(w);
}

static void
test_keeps_placed(void **state)
{
    (void)state;
    pg_world *w = read_case("case118");
    layout_ok(w, true);
    /* move every third bus somewhere of our own, forget the others' positions */
    size_t n = w->n_buses;
    bool *placed = calloc(n, sizeof *placed);
    double *px = malloc(n * sizeof *px), *py = malloc(n * sizeof *py);
    assert_true(placed && px && py);
    for (size_t i = 0; i < n; i++) {
        placed[i] = i % 3 == 0;
        if (placed[i]) {
            w->buses[i].x = px[i] = 5000.25 + 3 * w->buses[i].x;
            w->buses[i].y = py[i] = -700.5 + 3 * w->buses[i].y;
        } else {
            w->buses[i].x = NAN;
            w->buses[i].y = i % 2 ? NAN : 12.0; /* one coordinate alone: not placed */
        }
    }
    layout_ok(w, false);
    check_all_placed(w);
    for (size_t i = 0; i < n; i++)
        if (placed[i]) {
            assert_memory_equal(&w->buses[i].x, &px[i], sizeof(double));
            assert_memory_equal(&w->buses[i].y, &py[i], sizeof(double));
        }
    double gap = min_distance(w, placed), median, longest;
    branch_lengths(w, &median, &longest);
    print_message("case118, a third placed: closest new bus %.1f, branch length median %.2f L, "
                  "%zu crossings\n",
                  gap, median, crossings(w));
    assert_true(gap >= PG_LAYOUT_MIN_GAP);
    /* the new buses are drawn among their placed neighbours, not far away */
    assert_true(median <= 4.0);
    /* two placed buses closer than the gap stay where they were; the others keep away */
    pg_world *t = buses_only(4);
    add_branch(t, 0, 1);
    add_branch(t, 1, 2);
    add_branch(t, 2, 3);
    t->buses[0].x = 0;
    t->buses[0].y = 0;
    t->buses[1].x = 10;
    t->buses[1].y = 0;
    layout_ok(t, false);
    assert_true(t->buses[0].x == 0 && t->buses[0].y == 0 && t->buses[1].x == 10 &&
                t->buses[1].y == 0);
    bool both[4] = {true, true, false, false};
    assert_true(min_distance(t, both) >= PG_LAYOUT_MIN_GAP);
    pg_world_free(t);
    /* at the edge of the drawing: new buses stay within it, the row of islands goes left */
    pg_world *e = buses_only(3);
    add_branch(e, 0, 1);
    e->buses[0].x = PG_POSITION_MAX;
    e->buses[0].y = -PG_POSITION_MAX;
    layout_ok(e, false);
    check_all_placed(e);
    assert_int_equal(pg_world_validate(e, NULL), PG_OK);
    assert_true(e->buses[0].x == PG_POSITION_MAX && e->buses[0].y == -PG_POSITION_MAX);
    assert_true(e->buses[1].x > PG_POSITION_MAX - 200 && e->buses[1].y < -PG_POSITION_MAX + 200);
    assert_true(e->buses[2].x < PG_POSITION_MAX - 100);
    assert_true(min_distance(e, NULL) >= PG_LAYOUT_MIN_GAP);
    /* placed buses in two opposite corners leave no room for an island: refused, unchanged */
    e->buses[1].x = -PG_POSITION_MAX;
    e->buses[1].y = PG_POSITION_MAX;
    e->branches[0].in_service = false;
    e->buses[2].x = e->buses[2].y = NAN;
    pg_error err = {0};
    assert_int_equal(pg_world_layout(e, false, &err), PG_ELIMIT);
    assert_non_null(strstr(err.msg, "no room"));
    assert_true(isnan(e->buses[2].x));
    pg_world_free(e);
    free(placed);
    free(px);
    free(py);
    pg_world_free(w);
}

/* Islands: a mesh, a ring, a star, a pair, two single buses; and a world of case9 with a
 * branch out of service, which still counts for the drawing. */
static void
test_islands(void **state)
{
    (void)state;
    pg_world *w = buses_only(40);
    size_t island[40], k = 0;
    for (size_t i = 0; i < 20; i++) /* 0..19: a 4 x 5 mesh */
        island[i] = 0;
    for (size_t r = 0; r < 4; r++)
        for (size_t c = 0; c < 5; c++) {
            if (c < 4)
                add_branch(w, r * 5 + c, r * 5 + c + 1);
            if (r < 3)
                add_branch(w, r * 5 + c, r * 5 + c + 5);
        }
    for (k = 20; k < 30; k++) { /* a ring of 10, joined in a scrambled order */
        island[k] = 1;
        add_branch(w, k, 20 + (k - 20 + 1) % 10);
    }
    for (k = 30; k < 36; k++) { /* a star of 6 around bus 35 */
        island[k] = 2;
        if (k != 35)
            add_branch(w, k, 35);
    }
    island[36] = island[37] = 3;
    add_branch(w, 37, 36);
    island[38] = 4;
    island[39] = 5;
    w->branches[3].in_service = false;
    layout_ok(w, true);
    check_all_placed(w);
    assert_true(min_distance(w, NULL) >= PG_LAYOUT_MIN_GAP);
    double box[6][4];
    for (size_t s = 0; s < 6; s++)
        box[s][0] = box[s][1] = INFINITY, box[s][2] = box[s][3] = -INFINITY;
    for (size_t i = 0; i < 40; i++) {
        double *b = box[island[i]];
        b[0] = fmin(b[0], w->buses[i].x);
        b[1] = fmin(b[1], w->buses[i].y);
        b[2] = fmax(b[2], w->buses[i].x);
        b[3] = fmax(b[3], w->buses[i].y);
    }
    for (size_t a = 0; a < 6; a++)
        for (size_t b = a + 1; b < 6; b++) {
            bool apart = box[a][2] < box[b][0] || box[b][2] < box[a][0] || box[a][3] < box[b][1] ||
                         box[b][3] < box[a][1];
            if (!apart)
                print_error("islands %zu and %zu overlap\n", a, b);
            assert_true(apart);
        }
    /* in a row, largest first */
    for (size_t a = 0; a + 1 < 6; a++)
        assert_true(box[a][2] < box[a + 1][0]);
    pg_world_free(w);
}

static void
test_small_and_limits(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_world *one = buses_only(1);
    layout_ok(one, true);
    check_all_placed(one);
    pg_world *two = buses_only(2);
    layout_ok(two, false);
    check_all_placed(two);
    assert_true(min_distance(two, NULL) >= PG_LAYOUT_MIN_GAP);
    pg_world *empty = NULL;
    assert_int_equal(pg_world_new(&empty, "empty", 100, NULL), PG_OK);
    assert_int_equal(pg_world_layout(empty, true, &err), PG_OK);
    assert_int_equal(pg_world_layout(NULL, true, &err), PG_EINVAL);
    /* too many buses: refused, nothing written */
    pg_world *big = buses_only(PG_LAYOUT_MAX_BUSES + 1);
    assert_int_equal(pg_world_layout(big, true, &err), PG_ELIMIT);
    assert_non_null(strstr(err.msg, "20001 buses"));
    for (size_t i = 0; i < big->n_buses; i++)
        assert_true(isnan(big->buses[i].x) && isnan(big->buses[i].y));
    pg_world_free(big);
    pg_world_free(empty);
    pg_world_free(two);
    pg_world_free(one);
}

static void
test_largest(void **state)
{
    (void)state;
    /* the most buses allowed, in one island: the sparse model, in seconds */
    pg_world *w = mesh(100, 200);
    assert_int_equal(w->n_buses, PG_LAYOUT_MAX_BUSES);
    double t0 = pgi_now();
    layout_ok(w, true);
    double t = pgi_now() - t0;
    check_all_placed(w);
    double gap = min_distance(w, NULL), median, longest;
    branch_lengths(w, &median, &longest);
    print_message("mesh of 20000 buses: %.2f s, branch length median %.2f L, closest %.1f\n", t,
                  median, gap);
    assert_true(gap >= PG_LAYOUT_MIN_GAP);
    assert_true(median <= 2.0);
    pg_world_free(w);
}

static void
test_nan_safety(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_world *w = read_case("case9");
    /* infinite or huge positions of placed buses are refused, naming the bus; w unchanged */
    w->buses[2].x = INFINITY;
    w->buses[2].y = 0;
    assert_int_equal(pg_world_layout(w, false, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "bus '3'"));
    assert_true(isnan(w->buses[0].x));
    w->buses[2].x = 1e300;
    assert_int_equal(pg_world_layout(w, false, &err), PG_EMODEL);
    assert_int_equal(pg_world_validate(w, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "bus '3'"));
    /* all = true draws over them */
    layout_ok(w, true);
    check_all_placed(w);
    assert_int_equal(pg_world_validate(w, &err), PG_OK);
    /* validate: both coordinates or neither */
    w->buses[4].y = NAN;
    assert_int_equal(pg_world_validate(w, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "bus '5' has only one drawing coordinate"));
    w->buses[4].y = -PG_POSITION_MAX;
    assert_int_equal(pg_world_validate(w, &err), PG_OK);
    w->buses[4].y = -2 * PG_POSITION_MAX;
    assert_int_equal(pg_world_validate(w, &err), PG_EMODEL);
    w->buses[4].y = 0;
    /* a branch to a bus that does not exist */
    w->branches[1].to = 99;
    assert_int_equal(pg_world_layout(w, true, &err), PG_EMODEL);
    pg_world_free(w);
}

static void
test_positions_in_the_model(void **state)
{
    (void)state;
    pg_bus b;
    memset(&b, 0, sizeof b);
    pg_bus_init(&b);
    assert_true(isnan(b.x) && isnan(b.y));
    pg_world *w = read_case("case14"), *c = NULL;
    layout_ok(w, true);
    assert_int_equal(pg_world_clone(&c, w, NULL), PG_OK);
    assert_true(same_positions(w, c));
    char diff[200];
    assert_true(pg_world_equal(w, c, diff, sizeof diff));
    c->buses[3].y += 1;
    assert_false(pg_world_equal(w, c, diff, sizeof diff));
    assert_non_null(strstr(diff, "buses[3].y"));
    c->buses[3].y = NAN;
    c->buses[3].x = NAN;
    w->buses[3].y = NAN;
    w->buses[3].x = NAN;
    assert_true(pg_world_equal(w, c, diff, sizeof diff)); /* NaN equals NaN */
    /* at one step of the series (a clone inside) positions are kept */
    pg_world *s = NULL;
    assert_int_equal(pg_world_at_step(&s, c, 0, NULL), PG_OK);
    assert_true(same_positions(s, c));
    pg_world_free(s);
    pg_world_free(c);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions_in_the_model),
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_case118_readable),
        cmocka_unit_test(test_keeps_placed),
        cmocka_unit_test(test_islands),
        cmocka_unit_test(test_small_and_limits),
        cmocka_unit_test(test_nan_safety),
        cmocka_unit_test(test_largest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
