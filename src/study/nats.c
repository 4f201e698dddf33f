/* The "nats" executor of studies: publishes each job to workers in a NATS queue group through the
 * lattice bus (include/plurigrid/lattice.h) and gathers their results, sending a job again when its
 * worker falls silent past the study's job_timeout_s, and keeping exactly one result per job
 * (pgi_study_result_accept). The protocol is in docs/study.md, "On NATS workers". */
#include <stddef.h>

#include "study/internal.h"

static int
nats_run(pg_study *s, pg_error *err)
{
    (void)s;
    return pg_error_set(err, PG_EUNSUPPORTED, "the nats executor is not available yet");
}

const pgi_study_executor pgi_study_nats = {
    {"nats", "NATS workers in a queue group (plurigrid worker --nats URL)"},
    nats_run,
};
