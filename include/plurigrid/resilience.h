/* Resilience metrics of a performance curve around a disruption: robustness, time to recover, loss
 * area (the "resilience triangle" of Bruneau et al. 2003), recovery rate and final level. The
 * scenario simulator (scenario.h) measures them on every run; any curve of a performance
 * indicator over time can be measured the same way. docs/scenarios.md defines each metric. */
#ifndef PLURIGRID_RESILIENCE_H
#define PLURIGRID_RESILIENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "plurigrid/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pg_resilience_options {
    double recovery_threshold; /* recovered when performance >= threshold * baseline (default
                                  0.95) */
    size_t baseline_window;    /* the baseline is the mean performance over this many turns
                                  before the disruption (default 1) */
} pg_resilience_options;

PG_API void pg_resilience_options_init(pg_resilience_options *o);

/* Resilience of one performance curve perf[0..n-1] (perf[t] after turn t, perf[0] the initial
 * state) to a disruption that acts first on turn `onset` (1 <= onset < n). */
typedef struct pg_resilience {
    double baseline;        /* mean of perf over the baseline window before onset */
    double min_level;       /* lowest performance from onset on */
    size_t min_turn;        /* first turn it was reached */
    double robustness;      /* min_level / baseline */
    bool disrupted;         /* min_level fell below threshold * baseline */
    bool recovered;         /* not disrupted, or back at threshold * baseline by the last turn */
    double time_to_recover; /* turns from onset to the first turn back at the threshold after
                               the minimum (0 when not disrupted; NAN when not recovered) */
    double loss_area;       /* the resilience triangle: integral of max(0, baseline - perf) from
                               onset - 1 to the last turn (trapezoid rule), in baseline x turns */
    double recovery_rate;   /* (level at recovery - min_level) / baseline / turns from the minimum
                               to recovery; to the last turn when not recovered; 0 when the
                               minimum is the last turn or not disrupted */
    double final_level;     /* perf[n-1] / baseline (adaptation: above 1 is better than before) */
} pg_resilience;

/* Measures the metrics above. Borrows perf. PG_EINVAL for onset out of range or a baseline that
 * is not positive (the metrics are ratios to it). */
PG_API int pg_resilience_measure(const double *perf, size_t n, size_t onset,
                                 const pg_resilience_options *o, pg_resilience *out, pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
