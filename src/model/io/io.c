/* Reading and writing worlds in any supported format: picks the reader or writer from a format
 * name or from the file name's extension. */
#include <string.h>
#include <strings.h>

#include "model/io/io_internal.h"

const char *
pg_world_format_from_path(const char *path)
{
    if (!path)
        return NULL;
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (!dot)
        return NULL;
    if (strcasecmp(dot, ".m") == 0)
        return "matpower";
    if (strcasecmp(dot, ".json") == 0)
        return "json";
    return NULL;
}

typedef enum { FMT_UNKNOWN, FMT_JSON, FMT_MATPOWER } fmt;

static fmt
parse_format(const char *name)
{
    if (!name)
        return FMT_UNKNOWN;
    if (strcasecmp(name, "json") == 0 || strcmp(name, "plurigrid-world/1") == 0)
        return FMT_JSON;
    if (strcasecmp(name, "matpower") == 0 || strcasecmp(name, "m") == 0)
        return FMT_MATPOWER;
    return FMT_UNKNOWN;
}

static int
choose(const char *path, const char *format, fmt *out, pg_error *err)
{
    if (format) {
        *out = parse_format(format);
        if (*out == FMT_UNKNOWN)
            return pgi_io_fail(err, PG_EUNSUPPORTED, path, 0, 0, "",
                               "unknown format '%s': the formats are json and matpower", format);
        return PG_OK;
    }
    *out = parse_format(pg_world_format_from_path(path));
    if (*out == FMT_UNKNOWN)
        return pgi_io_fail(err, PG_EUNSUPPORTED, path, 0, 0, "",
                           "cannot tell the format from the file name: use a .json (plurigrid "
                           "world) or .m (MATPOWER case) file, or name the format");
    return PG_OK;
}

int
pg_world_read(const char *path, const char *format, pg_world **out, pg_notes *notes, pg_error *err)
{
    if (!path || !out)
        return pg_error_set(err, PG_EINVAL, "pg_world_read: NULL argument");
    fmt f;
    int rc = choose(path, format, &f, err);
    if (rc)
        return rc;
    if (f == FMT_JSON)
        return pg_world_json_read_file(path, out, notes, err);
    return pg_matpower_read_file(path, out, notes, err);
}

int
pg_world_write(const pg_world *w, const char *path, const char *format, pg_notes *notes,
               pg_error *err)
{
    if (!w || !path)
        return pg_error_set(err, PG_EINVAL, "pg_world_write: NULL argument");
    fmt f;
    int rc = choose(path, format, &f, err);
    if (rc)
        return rc;
    if (f == FMT_JSON)
        return pg_world_json_write_file(w, path, err);
    return pg_matpower_write_file(w, path, notes, err);
}
