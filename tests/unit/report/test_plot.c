/* SVG charts: well-formed output, data mapped into the plot box, stacks cumulative, bars, labels
 * escaped, non-finite values tolerated, files written whole. */
#include "harness.h"

#include <string.h>

#include "plurigrid/plot.h"

static int
count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void
test_lines_and_stack(void **state)
{
    (void)state;
    pg_plot *p = NULL;
    pg_error err = {0};
    pg_plot_options o;
    pg_plot_options_init(&o);
    o.step = 1;
    assert_int_equal(pg_plot_new(&p, "Dispatch <day 1>", "hour", "MW", &o, &err), PG_OK);
    double x[] = {0, 1, 2, 3}, a[] = {10, 20, 30, 40}, b[] = {5, 5, 5, 5},
           load[] = {15, 25, 35, 45};
    assert_int_equal(pg_plot_add_stack(p, "diesel & co", x, a, 4, NULL, &err), PG_OK);
    assert_int_equal(pg_plot_add_stack(p, "solar", x, b, 4, "#ffcc00", &err), PG_OK);
    assert_int_equal(pg_plot_add_line(p, "load", x, load, 4, "#000000", &err), PG_OK);
    assert_int_equal(pg_plot_add_line(p, "bad", x, a, 4, "red", &err), PG_EINVAL);
    char *svg = NULL;
    size_t len = 0;
    assert_int_equal(pg_plot_render(p, &svg, &len, &err), PG_OK);
    assert_int_equal(strlen(svg), len);
    assert_non_null(strstr(svg, "<svg"));
    assert_non_null(strstr(svg, "</svg>"));
    assert_non_null(strstr(svg, "Dispatch &lt;day 1&gt;"));
    assert_non_null(strstr(svg, "diesel &amp; co"));
    assert_null(strstr(svg, "diesel & co"));
    assert_int_equal(count(svg, "<path"), 3);
    assert_non_null(strstr(svg, "#ffcc00"));
    /* The y axis reaches the stack top (45) and starts at 0: a tick labelled 0 and one >= 45. */
    assert_non_null(strstr(svg, ">0</text>"));
    assert_true(strstr(svg, ">50</text>") != NULL || strstr(svg, ">45</text>") != NULL);
    free(svg);
    pg_plot_free(p);
}

static void
test_band_gaps_and_write(void **state)
{
    (void)state;
    pg_plot *p = NULL;
    assert_int_equal(pg_plot_new(&p, "Performance", "turn", "index", NULL, NULL), PG_OK);
    double x[] = {0, 1, 2}, lo[] = {0.2, NAN, 0.4}, hi[] = {0.8, 0.9, INFINITY},
           m[] = {0.5, NAN, 0.6};
    assert_int_equal(pg_plot_add_band(p, "p10-p90", x, lo, hi, 3, NULL, NULL), PG_OK);
    assert_int_equal(pg_plot_add_dashed(p, "median", x, m, 3, NULL, NULL), PG_OK);
    char path[4200];
    snprintf(path, sizeof path, "%s/plot.svg", pgt_tmpdir());
    assert_int_equal(pg_plot_write(p, path, NULL), PG_OK);
    char *svg = pgt_slurp(path, NULL);
    assert_non_null(strstr(svg, "stroke-dasharray"));
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    free(svg);
    pg_error err = {0};
    assert_int_equal(pg_plot_write(p, "/nonexistent-dir/x.svg", &err), PG_EIO);
    assert_string_equal(err.file, "/nonexistent-dir/x.svg");
    assert_non_null(strstr(err.msg, "No such file or directory"));
    pg_plot_free(p);
    pgt_tmpdir_cleanup();
}

static void
test_empty_plot(void **state)
{
    (void)state;
    pg_plot *p = NULL;
    assert_int_equal(pg_plot_new(&p, NULL, NULL, NULL, NULL, NULL), PG_OK);
    char *svg = NULL;
    assert_int_equal(pg_plot_render(p, &svg, NULL, NULL), PG_OK);
    assert_non_null(strstr(svg, "</svg>"));
    free(svg);
    pg_plot_free(p);
}

/* Bars: 80 % of the gap between neighbours wide, from the zero line up (or down) to the value. */
static void
test_bars(void **state)
{
    (void)state;
    pg_plot *p = NULL;
    pg_error err = {0};
    assert_int_equal(pg_plot_new(&p, "Histogram", "losses, MW", "items", NULL, &err), PG_OK);
    double x[] = {1, 2, 3}, y[] = {4, 0, -2};
    assert_int_equal(pg_plot_add_bars(p, "items", x, y, 3, "#123456", &err), PG_OK);
    char *svg = NULL;
    assert_int_equal(pg_plot_render(p, &svg, NULL, &err), PG_OK);
    const char *g = strstr(svg, "<g fill=\"#123456\"");
    assert_non_null(g);
    double bx[3], by[3], bw[3], bh[3];
    const char *r = g;
    for (int i = 0; i < 3; i++) {
        r = strstr(r + 1, "<rect");
        assert_non_null(r);
        assert_int_equal(sscanf(r, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"", &bx[i],
                                &by[i], &bw[i], &bh[i]),
                         4);
    }
    double gap = (bx[1] + bw[1] / 2) - (bx[0] + bw[0] / 2);
    assert_near(bw[0], 0.8 * gap, 0.02);
    assert_near(bw[2], bw[0], 0.02);
    assert_near(bh[1], 0, 1e-9);             /* a bar of 0 */
    assert_near(by[2], by[0] + bh[0], 0.02); /* the negative bar hangs from the zero line */
    assert_near(bh[0], 2 * bh[2], 0.05);     /* 4 is twice 2 */
    assert_non_null(strstr(svg, ">items</text>"));
    free(svg);
    pg_plot_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_and_stack),
        cmocka_unit_test(test_band_gaps_and_write),
        cmocka_unit_test(test_empty_plot),
        cmocka_unit_test(test_bars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
