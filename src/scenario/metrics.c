/* The resilience metrics as the scenario report summarises and ranks them: their names in report
 * order, the value of each in a pg_resilience, and which way is better. */
#include <math.h>
#include <string.h>

#include "scenario/internal.h"

const char *const pgi_metric_names[PGI_N_METRICS] = {
    "robustness", "time_to_recover", "loss_area", "recovery_rate", "final_level", "recovered",
};

double
pgi_metric_value(const pg_resilience *m, size_t k)
{
    switch (k) {
    case 0: return m->robustness;
    case 1: return m->time_to_recover;
    case 2: return m->loss_area;
    case 3: return m->recovery_rate;
    case 4: return m->final_level;
    case 5: return isnan(m->baseline) ? NAN : m->recovered ? 1.0 : 0.0; /* unmeasured: none */
    default: return NAN;
    }
}

int
pgi_metric_higher_is_better(size_t k)
{
    return !(k == 1 || k == 2);
}

size_t
pgi_metric_index(const char *name)
{
    for (size_t k = 0; k < PGI_N_METRICS; k++)
        if (strcmp(pgi_metric_names[k], name) == 0)
            return k;
    return PGI_N_METRICS;
}
