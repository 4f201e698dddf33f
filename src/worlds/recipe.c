/* Recipes of generated worlds (plurigrid-recipe/1): reading them, the default recipe of each
 * kind from its documented parameter specs, drawing a parameter from its distribution, and
 * writing a recipe back as canonical JSON. */
#include <math.h>
#include <stdlib.h>

#include "worlds/internal.h"

int
pg_recipe_read(pg_recipe **out, const char *path, pg_error *err)
{
    (void)out;
    (void)path;
    return pg_error_set(err, PG_EUNSUPPORTED, "recipes are not read yet");
}

int
pg_recipe_parse(pg_recipe **out, const char *text, size_t len, const char *name, pg_error *err)
{
    (void)out;
    (void)text;
    (void)len;
    (void)name;
    return pg_error_set(err, PG_EUNSUPPORTED, "recipes are not read yet");
}

int
pg_recipe_default(pg_recipe **out, const char *kind, pg_error *err)
{
    (void)out;
    (void)kind;
    return pg_error_set(err, PG_EUNSUPPORTED, "recipes are not made yet");
}

void
pg_recipe_free(pg_recipe *r)
{
    (void)r;
}

const char *
pg_recipe_name(const pg_recipe *r)
{
    return r ? r->name : NULL;
}

const char *
pg_recipe_kind(const pg_recipe *r)
{
    return r ? r->kind : NULL;
}

int
pg_recipe_json(const pg_recipe *r, char **text, pg_error *err)
{
    (void)r;
    (void)text;
    return pg_error_set(err, PG_EUNSUPPORTED, "recipes are not written yet");
}

double
pgi_recipe_draw(const pg_recipe *r, const char *key, pg_rng *rng)
{
    (void)r;
    (void)key;
    (void)rng;
    return NAN;
}
