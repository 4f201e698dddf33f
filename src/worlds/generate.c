/* The generation driver: world number i of a recipe from (seed, i), the checks that keep or
 * drop it (validation, base-case power flow, day-ahead schedule), the threads that generate many,
 * the manifest, and reproducing a world from its id. */
#include <stdlib.h>

#include "worlds/internal.h"

void
pg_worlds_options_init(pg_worlds_options *o)
{
    if (!o)
        return;
    o->seed = 1;
    o->count = 10;
    o->data_dir = NULL;
    o->check = true;
    o->threads = 0;
    o->progress = NULL;
    o->progress_user = NULL;
    o->stop = NULL;
}

int
pg_worlds_make(pg_world **out, const pg_recipe *r, uint64_t seed, size_t index,
               const char *data_dir, pg_error *err)
{
    (void)out;
    (void)r;
    (void)seed;
    (void)index;
    (void)data_dir;
    return pg_error_set(err, PG_EUNSUPPORTED, "worlds are not generated yet");
}

void
pg_worlds_manifest_free(pg_worlds_manifest *m)
{
    if (!m)
        return;
    free(m->recipe_json);
    free(m->entries);
    free(m);
}

int
pg_worlds_generate(const pg_recipe *r, const char *out_dir, const pg_worlds_options *opts,
                   pg_worlds_manifest **manifest, pg_error *err)
{
    (void)r;
    (void)out_dir;
    (void)opts;
    (void)manifest;
    return pg_error_set(err, PG_EUNSUPPORTED, "worlds are not generated yet");
}

int
pg_worlds_manifest_read(pg_worlds_manifest **out, const char *dir, pg_error *err)
{
    (void)out;
    (void)dir;
    return pg_error_set(err, PG_EUNSUPPORTED, "manifests are not read yet");
}

int
pg_worlds_reproduce(pg_world **out, const pg_worlds_manifest *m, const char *id,
                    const char *data_dir, pg_error *err)
{
    (void)out;
    (void)m;
    (void)id;
    (void)data_dir;
    return pg_error_set(err, PG_EUNSUPPORTED, "worlds are not reproduced yet");
}
