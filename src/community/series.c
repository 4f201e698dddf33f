/* The series of a community scenario (series.h): a column of a CSV file in the scenario's data
 * folder, a constant, or a model from the table in models.c, turned into the values of the run's
 * intervals. A CSV file is checked whole, not only over the run's window: every data row must hold
 * a finite number in the column, so a file with a missing hour is refused whatever days are run,
 * and the error names the file, the line and the column. Only the window is kept in memory. */
#include "community/series.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- CSV text */

/* One field of a line: where it starts in the text and its bytes without quotes and blanks. */
typedef struct field {
    const char *p; /* the field's bytes (inside quotes for a quoted field) */
    size_t n;
    size_t col;  /* 1-based character column where the field starts */
    bool quoted; /* inner "" pairs are left as they are: a number never holds one */
} field;

static bool
is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Splits off the field starting at *pos in line[0..len) into *f and moves *pos past its comma.
 * Returns NULL, or what is wrong with a quoted field. */
static const char *
next_field(const char *line, size_t len, size_t *pos, field *f)
{
    size_t i = *pos;
    while (i < len && is_blank(line[i]))
        i++;
    f->col = i + 1;
    f->quoted = false;
    if (i < len && line[i] == '"') {
        size_t start = ++i;
        for (;;) {
            if (i >= len)
                return "a quote that is never closed";
            if (line[i] == '"') {
                if (i + 1 < len && line[i + 1] == '"') {
                    i += 2;
                    continue;
                }
                break;
            }
            i++;
        }
        f->p = line + start;
        f->n = i - start;
        f->quoted = true;
        i++;
        while (i < len && is_blank(line[i]))
            i++;
        if (i < len && line[i] != ',')
            return "text after the closing quote of a field";
    } else {
        size_t start = i;
        while (i < len && line[i] != ',')
            i++;
        size_t end = i;
        while (end > start && is_blank(line[end - 1]))
            end--;
        f->p = line + start;
        f->n = end - start;
    }
    *pos = i < len ? i + 1 : len + 1; /* past the comma; len + 1: no more fields */
    return NULL;
}

/* A decimal number as CSV files write them: optional sign, digits with an optional point,
 * optional exponent. strtod alone would also take "inf", "nan" and hexadecimal. */
static bool
parse_number(const char *p, size_t n, double *out)
{
    size_t i = 0, digits = 0;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        i++;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++, digits++;
    if (i < n && p[i] == '.') {
        i++;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++, digits++;
    }
    if (!digits)
        return false;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t ed = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++, ed++;
        if (!ed)
            return false;
    }
    if (i != n || n > 64)
        return false;
    char buf[72];
    memcpy(buf, p, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return true;
}

/* The field's text for a message: at most 40 bytes, control characters as '?'. */
static void
shown(const field *f, char *buf, size_t size)
{
    size_t n = f->n < 40 ? f->n : 40;
    if (n >= size)
        n = size - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)f->p[i];
        buf[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    buf[n] = '\0';
    if (f->n > n && size > 4 && n + 4 < size)
        strcpy(buf + n, "...");
}

/* An error about the CSV file at path: its line and column, no JSON path. */
static int csv_fail(pg_error *err, const char *path, size_t line, size_t col, int code,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
csv_fail(pg_error *err, const char *path, size_t line, size_t col, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pg_error_vset(err, code, fmt, ap);
    va_end(ap);
    pg_error_at(err, path, line > (size_t)INT32_MAX ? 0 : (int)line,
                col > (size_t)INT32_MAX ? 0 : (int)col, "");
    return code;
}

/* Appends text to the list in buf (size bytes), ending it with "..." once it is full. */
static void
list_add(char *buf, size_t size, const char *text)
{
    size_t n = strlen(buf);
    if (n + 4 >= size || (n >= 3 && strcmp(buf + n - 3, "...") == 0))
        return;
    int w = snprintf(buf + n, size - n, "%s%s", n ? ", " : "", text);
    if (w < 0 || (size_t)w >= size - n)
        snprintf(buf + (n + 4 < size ? n : size - 4), 4, "...");
}

/* Finds the column called name in the header line; *index is its 0-based field number. */
static int
find_column(pg_error *err, const char *path, const char *line, size_t len, const char *name,
            size_t *index)
{
    size_t pos = 0, i = 0, found = 0;
    char names[400] = "";
    while (pos <= len) {
        field f;
        const char *bad = next_field(line, len, &pos, &f);
        if (bad)
            return csv_fail(err, path, 1, f.col, PG_EPARSE, "the header row has %s", bad);
        if (f.n == strlen(name) && memcmp(f.p, name, f.n) == 0) {
            /* Two columns of one name: which one is meant cannot be told. */
            if (found)
                return csv_fail(err, path, 1, f.col, PG_EPARSE,
                                "the header row names the column '%s' twice (fields %zu and %zu): "
                                "which one is meant cannot be told",
                                name, found, i + 1);
            *index = i;
            found = i + 1;
        }
        char s[48], q[52];
        shown(&f, s, sizeof s);
        snprintf(q, sizeof q, "'%s'", s);
        list_add(names, sizeof names, q);
        i++;
    }
    if (found)
        return PG_OK;
    return csv_fail(err, path, 1, 0, PG_EPARSE,
                    "no column '%s' in the header row (its columns are: %s)", name, names);
}

typedef struct csv_spec {
    const char *file;
    const char *column;
    double scale;
    size_t rows; /* 0: not checked */
} csv_spec;

/* Reads the column of text (the file at path) and keeps rows first .. first + n - 1, times scale,
 * in v. */
static int
read_column(pg_error *err, const char *path, const char *text, size_t len, const csv_spec *s,
            const pgi_series_ctx *c, double *v)
{
    size_t pos = 0, line_no = 0, rows = 0, index = 0;
    bool header = true;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* a UTF-8 byte-order mark */
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        line_no++;
        if (ll && line[ll - 1] == '\r')
            ll--;
        if (header) {
            if (!ll)
                return csv_fail(err, path, line_no, 0, PG_EPARSE,
                                "the first line is empty: it must be the header row naming the "
                                "columns");
            int rc = find_column(err, path, line, ll, s->column, &index);
            if (rc)
                return rc;
            header = false;
            continue;
        }
        bool blank = true;
        for (size_t k = 0; k < ll && blank; k++)
            blank = is_blank(line[k]);
        if (blank) {
            /* Empty lines at the very end are where an editor stopped, not missing hours. */
            size_t k = pos;
            while (k < len && (text[k] == '\n' || text[k] == '\r' || is_blank(text[k])))
                k++;
            if (k == len)
                break;
            return csv_fail(err, path, line_no, 1, PG_EPARSE,
                            "the line is empty: every hour must have a row (a missing hour?)");
        }
        size_t fpos = 0;
        field f = {0};
        for (size_t i = 0; i <= index; i++) {
            if (fpos > ll)
                return csv_fail(err, path, line_no, ll + 1, PG_EPARSE,
                                "the row has %zu fields, so no value in the column '%s' (field "
                                "%zu): every hour must have a number (a missing hour?)",
                                i, s->column, index + 1);
            const char *bad = next_field(line, ll, &fpos, &f);
            if (bad)
                return csv_fail(err, path, line_no, f.col, PG_EPARSE, "%s (field %zu)", bad, i + 1);
        }
        double x;
        if (!f.n)
            return csv_fail(err, path, line_no, f.col, PG_EPARSE,
                            "the value in the column '%s' (field %zu) is empty: every hour must "
                            "have a number (a missing hour?)",
                            s->column, index + 1);
        if (!parse_number(f.p, f.n, &x)) {
            char t[48];
            shown(&f, t, sizeof t);
            return csv_fail(err, path, line_no, f.col, PG_EPARSE,
                            "the value '%s' in the column '%s' (field %zu) is not a number", t,
                            s->column, index + 1);
        }
        x *= s->scale;
        if (!isfinite(x))
            return csv_fail(err, path, line_no, f.col, PG_EPARSE,
                            "the value in the column '%s' (field %zu) is too large (not a finite "
                            "number%s)",
                            s->column, index + 1, s->scale != 1 ? " once scaled" : "");
        if (rows >= c->first && rows - c->first < c->n)
            v[rows - c->first] = x;
        rows++;
    }
    if (header)
        return csv_fail(err, path, 1, 0, PG_EPARSE,
                        "the file is empty: it must have a header row naming the columns");
    if (s->rows && rows != s->rows)
        return csv_fail(err, path, rows < s->rows ? line_no + 1 : 0, 0, PG_EPARSE,
                        "the file has %zu data rows, but the scenario says it has %zu (\"rows\"): "
                        "%s",
                        rows, s->rows,
                        rows < s->rows ? "the file is short (missing hours?)"
                                       : "is it the right file?");
    if (rows < c->first || rows - c->first < c->n)
        return csv_fail(err, path, line_no + 1, 0, PG_EPARSE,
                        "the file has %zu data rows of '%s', but the run needs rows %zu to %zu "
                        "(the file is short, or the run starts or lasts too long)",
                        rows, s->column, c->first + 1, c->first + c->n);
    return PG_OK;
}

/* A file name inside the data folder: not absolute, no ".." part. */
static bool
inside(const char *file)
{
    if (file[0] == '/')
        return false;
    for (const char *p = file; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += n;
        while (*p == '/')
            p++;
    }
    return true;
}

static int
read_csv(pgi_jr *r, const json_t *spec, const pgi_series_ctx *c, double *v)
{
    static const char *const keys[] = {"file", "column", "scale", "rows", NULL};
    csv_spec s = {.scale = 1.0};
    char *path = NULL, *text = NULL;
    size_t len = 0;
    const char *dataset = c->dataset && c->dataset[0] ? c->dataset : "the scenario's dataset";
    int rc;
    if ((rc = pgi_jr_want(r, spec, JSON_OBJECT, "an object with \"file\" and \"column\"")) ||
        (rc = pgi_jr_check_keys(r, spec, "a CSV series", keys)) ||
        (rc = pgi_jr_get_string(r, spec, "file", true, &s.file)) ||
        (rc = pgi_jr_get_string(r, spec, "column", true, &s.column)) ||
        (rc = pgi_jr_get_number(r, spec, "scale", false, -INFINITY, INFINITY, &s.scale)) ||
        (rc = pgi_jr_get_size(r, spec, "rows", false, 1, (size_t)1 << 40, &s.rows)))
        goto out;
    if (!inside(s.file)) {
        rc = pgi_jr_fail_key(r, PG_EPARSE, "file",
                             "must name a file inside the data folder (no leading '/', no '..')");
        goto out;
    }
    struct stat st;
    if (!c->data_dir || !c->data_dir[0]) {
        rc = pgi_jr_fail_key(r, PG_ENOTFOUND, "file",
                             "the series reads '%s' from %s, but no data folder is given: pass "
                             "--data DIR with the folder that holds it",
                             s.file, dataset);
        goto out;
    }
    if (stat(c->data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        bool missing = stat(c->data_dir, &st) != 0;
        rc = pg_error_set(r->err, PG_ENOTFOUND,
                          "the data folder of %s %s: get the dataset and pass --data DIR with the "
                          "folder that holds its files",
                          dataset, missing ? "does not exist" : "is not a folder");
        pg_error_at(r->err, c->data_dir, 0, 0, "");
        goto out;
    }
    size_t dl = strlen(c->data_dir), fl = strlen(s.file);
    path = malloc(dl + fl + 2);
    if (!path) {
        rc = pgi_jr_nomem(r);
        goto out;
    }
    memcpy(path, c->data_dir, dl);
    path[dl] = '/';
    memcpy(path + dl + 1, s.file, fl + 1);
    if (stat(path, &st) != 0 && errno == ENOENT) {
        rc = pg_error_set(r->err, PG_ENOTFOUND,
                          "no such file in the data folder of %s: is the folder complete? pass "
                          "--data DIR with the folder that holds the dataset's files",
                          dataset);
        pg_error_at(r->err, path, 0, 0, "");
        goto out;
    }
    if ((rc = pg_input_read(path, 0, &text, &len, r->err)))
        goto out;
    rc = read_column(r->err, path, text, len, &s, c, v);
out:
    free(text);
    free(path);
    return rc;
}

/* ---------------------------------------------------------------- the spec */

/* FNV-1a of the series' name: its random stream, so that adding or reordering series leaves the
 * others' numbers as they were. */
static uint64_t
name_stream(const char *name)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p; p++) {
        h ^= *p;
        h *= 0x100000001b3u;
    }
    return h;
}

int
pgi_series_read(pgi_jr *r, const json_t *spec, const pgi_series_ctx *c, double **values)
{
    double *v = NULL;
    json_t *m;
    int rc =
        pgi_jr_want(r, spec, JSON_OBJECT,
                    "an object: {\"csv\": {...}}, {\"model\": NAME, ...} or {\"constant\": X}");
    if (rc)
        return rc;
    if (!(c->step_h > 0) || !isfinite(c->step_h))
        return pg_error_set(r->err, PG_EINVAL,
                            "the run's interval must be a positive number of hours");
    v = malloc((c->n ? c->n : 1) * sizeof *v);
    if (!v)
        return pgi_jr_nomem(r);
    if ((m = json_object_get(spec, "csv"))) {
        static const char *const keys[] = {"csv", NULL};
        size_t mark = 0;
        if ((rc = pgi_jr_check_keys(r, spec, "a CSV series", keys)))
            goto out;
        mark = pgi_jr_push_key(r, "csv");
        rc = read_csv(r, m, c, v);
        pgi_jr_pop(r, mark);
    } else if ((m = json_object_get(spec, "constant"))) {
        static const char *const keys[] = {"constant", NULL};
        double x = 0;
        if ((rc = pgi_jr_check_keys(r, spec, "a constant series", keys)) ||
            (rc = pgi_jr_get_number(r, spec, "constant", true, -INFINITY, INFINITY, &x)))
            goto out;
        for (size_t i = 0; i < c->n; i++)
            v[i] = x;
    } else if ((m = json_object_get(spec, "model"))) {
        const char *name = NULL;
        if ((rc = pgi_jr_get_string(r, spec, "model", true, &name)))
            goto out;
        const pgi_series_model *model = pgi_series_model_find(name);
        if (!model) {
            char list[400] = "";
            const char *const *names = pgi_series_models();
            for (size_t i = 0; names[i]; i++)
                list_add(list, sizeof list, names[i]);
            rc = pgi_jr_fail_key(r, PG_EPARSE, "model", "unknown model '%s' (the models are: %s)",
                                 name, list);
            goto out;
        }
        pg_rng rng;
        pg_rng_seed(&rng, c->seed, name_stream(c->name));
        rc = model->fill(r, spec, c, &rng, v);
    } else {
        rc = pgi_jr_fail(r, PG_EPARSE,
                         "a series needs one of the keys 'csv', 'model' or 'constant'");
    }
out:
    if (rc) {
        free(v);
        return rc;
    }
    *values = v;
    return PG_OK;
}
