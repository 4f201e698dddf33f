/* Pieces every reader and writer uses: notes, placed errors, writing a whole file, file stems. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "model/io/io_internal.h"

void
pg_notes_clear(pg_notes *notes)
{
    if (!notes)
        return;
    for (size_t i = 0; i < notes->n; i++)
        free(notes->items[i]);
    free(notes->items);
    notes->items = NULL;
    notes->n = notes->cap = 0;
}

static int
notes_push(pg_notes *notes, char *msg)
{
    if (notes->n == notes->cap) {
        size_t nc = notes->cap ? notes->cap * 2 : 8;
        char **p = realloc(notes->items, nc * sizeof *p);
        if (!p)
            return PG_ENOMEM;
        notes->items = p;
        notes->cap = nc;
    }
    notes->items[notes->n++] = msg;
    return PG_OK;
}

int
pg_notes_add(pg_notes *notes, const char *fmt, ...)
{
    if (!notes)
        return PG_OK;
    pgi_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    pgi_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (b.failed || !b.data) {
        pgi_buf_free(&b);
        return PG_ENOMEM;
    }
    if (notes_push(notes, b.data)) {
        pgi_buf_free(&b);
        return PG_ENOMEM;
    }
    return PG_OK;
}

int
pgi_notes_move(pg_notes *dst, pg_notes *src)
{
    int rc = PG_OK;
    size_t i = 0;
    for (; dst && i < src->n && rc == PG_OK; i++) {
        rc = notes_push(dst, src->items[i]);
        if (rc == PG_OK)
            src->items[i] = NULL;
    }
    pg_notes_clear(src);
    return rc;
}

int
pgi_io_fail(pg_error *err, int code, const char *file, int line, int column, const char *path,
            const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    pg_error_vset(err, code, fmt, ap);
    va_end(ap);
    pg_error_at(err, file, line, column, path);
    return code;
}

void
pgi_io_skip_bom(const char **data, size_t *len)
{
    if (*len >= 3 && memcmp(*data, "\xef\xbb\xbf", 3) == 0) {
        *data += 3;
        *len -= 3;
    }
}

int
pgi_io_no_nul(const char *data, size_t len, const char *file, const char *what, pg_error *err)
{
    const char *nul = len ? memchr(data, '\0', len) : NULL;
    if (!nul)
        return PG_OK;
    int line = 1;
    const char *line_start = data;
    for (const char *q = data; q < nul; q++)
        if (*q == '\n') {
            line++;
            line_start = q + 1;
        }
    int col = (int)(nul - line_start) + 1;
    size_t rest = len - (size_t)(nul - data), zeros = 0;
    while (zeros < rest && nul[zeros] == '\0')
        zeros++;
    if (zeros == rest)
        return pgi_io_fail(err, PG_EPARSE, file, line, col, "",
                           "from here to the end the file holds %zu NUL byte%s (zero bytes), "
                           "not text: a %s is plain text; remove them",
                           zeros, zeros == 1 ? "" : "s", what);
    return pgi_io_fail(err, PG_EPARSE, file, line, col, "",
                       "a NUL byte (a zero byte) is not text: a %s is plain text, and this looks "
                       "like binary data",
                       what);
}

int
pgi_read_world_file(const char *path,
                    int (*read)(const char *data, size_t len, const char *name, pg_world **out,
                                pg_notes *notes, pg_error *err),
                    pg_world **out, pg_notes *notes, pg_error *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc = pg_input_read(path, PG_INPUT_MAX, &data, &len, err);
    if (rc)
        return rc;
    rc = read(data, len, path, out, notes, err);
    free(data);
    return rc;
}

int
pgi_write_text_file(const char *path, const char *text, size_t len, pg_error *err)
{
    return pg_output_write(path, text, len, err);
}

void
pgi_path_stem(const char *path, char *buf, size_t size)
{
    const char *base = path ? strrchr(path, '/') : NULL;
    base = base ? base + 1 : (path ? path : "");
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n >= size)
        n = size - 1;
    memcpy(buf, base, n);
    buf[n] = '\0';
}
