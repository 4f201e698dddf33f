/* The table of kinds of generated worlds: each row is a builder with its documented parameters
 * (internal.h). A new kind is one row here and one file of its own. Also the kinds and their
 * parameters as JSON (`plurigrid worlds kinds --json`). */
#include <jansson.h>
#include <pthread.h>
#include <string.h>

#include "core/json_write.h"
#include "worlds/internal.h"

static const pgi_kind *const kinds[] = {&pgi_kind_lv_feeder, &pgi_kind_mv_grid, &pgi_kind_village,
                                        &pgi_kind_nexus};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static pg_worlds_kind pub[N_KINDS];
static pthread_once_t pub_once = PTHREAD_ONCE_INIT;

/* The public rows are copies of each kind's own, made once. */
static void
pub_init(void)
{
    for (size_t i = 0; i < N_KINDS; i++)
        pub[i] = kinds[i]->pub;
}

const pg_worlds_kind *
pg_worlds_kinds(size_t *n)
{
    pthread_once(&pub_once, pub_init);
    if (n)
        *n = N_KINDS;
    return pub;
}

const pgi_kind *
pgi_kind_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(kinds[i]->pub.name, name) == 0)
            return kinds[i];
    return NULL;
}

int
pg_worlds_kinds_json(char **text, pg_error *err)
{
    if (!text)
        return pg_error_set(err, PG_EINVAL, "pg_worlds_kinds_json needs an output");
    json_t *root = json_object(), *arr = json_array();
    int rc = PG_OK;
    if (!root || !arr) {
        json_decref(arr);
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    json_object_set_new(root, "format", json_string("plurigrid-worlds-kinds/1"));
    json_object_set_new(root, "kinds", arr);
    for (size_t i = 0; i < N_KINDS; i++) {
        const pgi_kind *k = kinds[i];
        json_t *o = json_object(), *ps = json_array();
        if (!o || !ps) {
            json_decref(o);
            json_decref(ps);
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        json_array_append_new(arr, o);
        json_object_set_new(o, "name", pgi_json_str(k->pub.name));
        json_object_set_new(o, "summary", pgi_json_str(k->pub.summary));
        json_object_set_new(o, "source", pgi_json_str(k->pub.source));
        json_object_set_new(o, "parameters", ps);
        for (size_t j = 0; j < k->n_specs; j++) {
            const pgi_param_spec *sp = &k->specs[j];
            json_t *p = json_object();
            if (!p) {
                rc = pg_error_set(err, PG_ENOMEM, "out of memory");
                goto out;
            }
            json_array_append_new(ps, p);
            json_object_set_new(p, "key", pgi_json_str(sp->key));
            json_t *d = json_loads(sp->dist_json, JSON_DECODE_ANY, NULL);
            json_object_set_new(p, "default", d ? d : json_null());
            json_object_set_new(p, "unit", pgi_json_str(sp->unit));
            json_object_set_new(p, "source", pgi_json_str(sp->source));
            json_object_set_new(p, "meaning", pgi_json_str(sp->doc));
            if (k->ranges) {
                json_object_set_new(p, "min", pgi_json_num(k->ranges[j].lo));
                json_object_set_new(p, "max", pgi_json_num(k->ranges[j].hi));
            }
        }
    }
    if (!(*text = pgi_json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
out:
    json_decref(root);
    return rc;
}
