/* Helpers the readers and writers of src/model/io share: error reports with a place, notes
 * collected during a read and handed to the caller only on success, numbers printed so that
 * they read back exactly. */
#ifndef PG_MODEL_IO_INTERNAL_H
#define PG_MODEL_IO_INTERNAL_H

#include <stddef.h>

#include "plurigrid/io.h"

/* Sets err's code, message and place (file may be NULL, line/column 0 when unknown, path may be
 * NULL) and returns code. */
int pgi_io_fail(pg_error *err, int code, const char *file, int line, int column, const char *path,
                const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Moves every message of src to the end of dst (dst may be NULL: they are dropped) and leaves
 * src empty. Returns PG_OK or PG_ENOMEM (src is cleared either way). */
int pgi_notes_move(pg_notes *dst, pg_notes *src);

/* The shortest of %.15g, %.16g, %.17g that reads back (strtod) to exactly x; "Inf", "-Inf",
 * "NaN" for those. size >= 32. */
void pgi_format_double(char *buf, size_t size, double x);

/* Skips a UTF-8 byte order mark (EF BB BF, which some editors write first) at the start of the
 * len bytes at *data: it marks the encoding and is not part of the text. */
void pgi_io_skip_bom(const char **data, size_t *len);

/* Fails (PG_EPARSE) at the line and column of the first NUL byte in the text, which no text
 * format holds (what names the format: "plurigrid world", "MATPOWER case"), saying whether only
 * NUL bytes follow it; PG_OK when there is none. */
int pgi_io_no_nul(const char *data, size_t len, const char *file, const char *what, pg_error *err);

/* Reads the file at path whole and hands its text to a format's buffer reader
 * (pg_world_json_read_buffer, ...), with path as the name its errors give. */
int pgi_read_world_file(const char *path,
                        int (*read)(const char *data, size_t len, const char *name, pg_world **out,
                                    pg_notes *notes, pg_error *err),
                        pg_world **out, pg_notes *notes, pg_error *err);

/* Writes text to path (replacing it). Returns PG_OK or PG_EIO with a message on err. */
int pgi_write_text_file(const char *path, const char *text, size_t len, pg_error *err);

/* The last path component of path without its extension, copied into buf (size > 0). */
void pgi_path_stem(const char *path, char *buf, size_t size);

#endif
