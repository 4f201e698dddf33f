/* The time-series profiles of generated worlds: BDEW standard load profiles H0 (households) and
 * G0 (commerce), clear-sky PV, a data centre's load, an off-grid village's demand, and measured
 * CityLearn homes read once from a data folder. */
#include <stdlib.h>

#include "worlds/internal.h"

struct pgi_profiles {
    int unused;
};

int
pgi_profiles_open(pgi_profiles **out, const char *data_dir, pg_error *err)
{
    (void)data_dir;
    pgi_profiles *p = calloc(1, sizeof *p);
    if (!p)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    *out = p;
    return PG_OK;
}

void
pgi_profiles_free(pgi_profiles *p)
{
    free(p);
}

int
pgi_profile(const pgi_profiles *p, const pgi_profile_request *rq, pg_rng *rng, double *out,
            pg_error *err)
{
    (void)p;
    (void)rq;
    (void)rng;
    (void)out;
    return pg_error_set(err, PG_EUNSUPPORTED, "profiles are not written yet");
}
