/* Resilience metrics of a performance curve around a disruption (see resilience.h): robustness,
 * time to recover, loss area (the "resilience triangle" of Bruneau et al. 2003), recovery rate
 * and final level. */
#include <math.h>
#include <string.h>

#include "plurigrid/resilience.h"

void
pg_resilience_options_init(pg_resilience_options *o)
{
    o->recovery_threshold = 0.95;
    o->baseline_window = 1;
}

int
pg_resilience_measure(const double *perf, size_t n, size_t onset, const pg_resilience_options *o,
                      pg_resilience *out, pg_error *err)
{
    if (!perf || !out)
        return pg_error_set(err, PG_EINVAL, "pg_resilience_measure: perf or out is NULL");
    if (onset < 1 || onset >= n)
        return pg_error_set(err, PG_EINVAL,
                            "disruption onset %zu is outside the curve (turns 1 to %zu)", onset,
                            n ? n - 1 : 0);
    pg_resilience_options def;
    if (!o) {
        pg_resilience_options_init(&def);
        o = &def;
    }
    size_t w = o->baseline_window < 1 ? 1 : o->baseline_window;
    if (w > onset)
        w = onset;
    double base = 0;
    for (size_t t = onset - w; t < onset; t++)
        base += perf[t];
    base /= (double)w;
    if (!(base > 0) || !isfinite(base))
        return pg_error_set(err, PG_EINVAL,
                            "the baseline performance before turn %zu is %g; resilience metrics "
                            "are ratios to it and need it positive",
                            onset, base);
    pg_resilience r;
    memset(&r, 0, sizeof r);
    r.baseline = base;
    r.min_level = perf[onset];
    r.min_turn = onset;
    for (size_t t = onset + 1; t < n; t++)
        if (perf[t] < r.min_level) {
            r.min_level = perf[t];
            r.min_turn = t;
        }
    r.robustness = r.min_level / base;
    double level = o->recovery_threshold * base;
    r.disrupted = r.min_level < level;
    /* loss: trapezoid of the shortfall from the last undisturbed point to the end */
    double prev = fmax(0.0, base - perf[onset - 1]);
    for (size_t t = onset; t < n; t++) {
        double g = fmax(0.0, base - perf[t]);
        r.loss_area += 0.5 * (prev + g);
        prev = g;
    }
    r.loss_area /= base;
    r.final_level = perf[n - 1] / base;
    if (!r.disrupted) {
        r.recovered = true;
        r.time_to_recover = 0;
        r.recovery_rate = 0;
    } else {
        size_t back = n;
        for (size_t t = r.min_turn + 1; t < n; t++)
            if (perf[t] >= level) {
                back = t;
                break;
            }
        if (back < n) {
            r.recovered = true;
            r.time_to_recover = (double)(back - onset);
            r.recovery_rate = (perf[back] - r.min_level) / base / (double)(back - r.min_turn);
        } else {
            r.recovered = false;
            r.time_to_recover = NAN;
            r.recovery_rate = (n - 1 > r.min_turn) ? (perf[n - 1] - r.min_level) / base /
                                                         (double)(n - 1 - r.min_turn)
                                                   : 0.0;
        }
    }
    *out = r;
    return PG_OK;
}
