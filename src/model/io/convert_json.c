/* The summary of a conversion (plurigrid convert --json) as JSON, built as a jansson tree and
 * dumped by core like every JSON output (json_write.h), so that names and paths of any bytes are
 * escaped the same way everywhere. */
#include "core/json_write.h"
#include "plurigrid/io.h"

static void
set(json_t *o, const char *key, json_t *v, int *bad)
{
    if (json_object_set_new(o, key, v) != 0) /* takes v even when it fails */
        *bad = 1;
}

static json_t *
note_list(const pg_notes *notes, size_t from, size_t to, int *bad)
{
    json_t *a = json_array();
    for (size_t i = from; a && i < to; i++)
        if (json_array_append_new(a, pgi_json_str(notes->items[i])) != 0)
            *bad = 1;
    return a;
}

int
pg_world_convert_json(const pg_world *w, const char *input, const char *from, const char *output,
                      const char *to, const pg_notes *notes, size_t n_read, char **text,
                      pg_error *err)
{
    if (!w || !text)
        return pg_error_set(err, PG_EINVAL, "pg_world_convert_json: NULL argument");
    size_t n = notes ? notes->n : 0;
    if (n_read > n)
        n_read = n;
    int bad = 0;
    json_t *o = json_object();
    set(o, "input", pgi_json_str(input), &bad);
    set(o, "from", pgi_json_str(from), &bad);
    set(o, "output", pgi_json_str(output), &bad);
    set(o, "to", pgi_json_str(to), &bad);
    set(o, "name", pgi_json_str(w->name), &bad);
    set(o, "buses", json_integer((json_int_t)w->n_buses), &bad);
    set(o, "branches", json_integer((json_int_t)w->n_branches), &bad);
    set(o, "loads", json_integer((json_int_t)w->n_loads), &bad);
    set(o, "thermals", json_integer((json_int_t)w->n_thermals), &bad);
    set(o, "renewables", json_integer((json_int_t)w->n_renewables), &bad);
    set(o, "storages", json_integer((json_int_t)w->n_storages), &bad);
    set(o, "series", json_integer((json_int_t)w->n_series), &bad);
    set(o, "read_notes", note_list(notes, 0, n_read, &bad), &bad);
    set(o, "write_notes", note_list(notes, n_read, n, &bad), &bad);
    char *s = bad || !o ? NULL : pgi_json_dumps(o, 0);
    json_decref(o);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory while writing the summary");
    *text = s;
    return PG_OK;
}
