/* What the benchmark programs share: each figure they print is the median of several timed runs.
 * A header, since every .c file in bench/ is built as a program of its own. */
#ifndef PG_BENCH_BENCH_H
#define PG_BENCH_BENCH_H

#include <stdlib.h>

static inline int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of t[0..n-1] (n >= 1); sorts t. */
static inline double
bench_median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, bench_cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

#endif
