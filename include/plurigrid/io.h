/* Reading and writing microworlds: the plurigrid JSON format ("plurigrid-world/1", see
 * docs/world-format.md) and MATPOWER case files (version 2, see docs/matpower.md).
 *
 * Readers build a complete pg_world or fail with a pg_error that names the file, the line and
 * the place in the input (a JSON path such as "$.thermals[0].pmax", or a matrix place such as
 * "mpc.branch row 7, column 4 (BR_X)"). Readers check what the input format itself requires
 * (syntax, types, known keys, references to buses and series, finite numbers); the physical
 * consistency of the result is pg_world_validate()'s job.
 *
 * Readers and writers also report notes: things that are not errors but that a user should know,
 * such as MATPOWER fields that were ignored or world parts a MATPOWER file cannot hold. */
#ifndef PLURIGRID_IO_H
#define PLURIGRID_IO_H

#include <stddef.h>

#include "plurigrid/core.h"
#include "plurigrid/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A plain list of messages ("mpc.areas: ignored (plurigrid has no area interchange)"). Zero-
 * initialise it; pg_notes_clear() frees the messages. Functions that take a pg_notes * accept
 * NULL (notes are then dropped) and append to the list only when they succeed. */
typedef struct pg_notes {
    char **items;
    size_t n;
    size_t cap;
} pg_notes;

/* Frees every message and leaves an empty list. Accepts NULL. */
PG_API void pg_notes_clear(pg_notes *notes);

/* Appends a printf-style message (copied). Returns PG_OK or PG_ENOMEM. */
PG_API int pg_notes_add(pg_notes *notes, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- MATPOWER */

/* Reads a MATPOWER case file (format version 2). Borrows path; *out (a new world the caller
 * frees with pg_world_free) is written only on success. */
PG_API int pg_matpower_read_file(const char *path, pg_world **out, pg_notes *notes, pg_error *err);

/* Reads a MATPOWER case from len bytes of text (need not be NUL-terminated). name is what errors
 * call the input (a file name, or NULL for "<input>"). Borrows data and name; *out is written only
 * on success. */
PG_API int pg_matpower_read_buffer(const char *data, size_t len, const char *name, pg_world **out,
                                   pg_notes *notes, pg_error *err);

/* Writes w as a MATPOWER version 2 function file that MATPOWER and Octave can load, with every
 * number at full precision so that reading it back gives the same world. Parts MATPOWER cannot
 * hold (time series, renewables and storage as such, unit-commitment data) are written as well as
 * the format allows and reported as notes. Borrows w; *text (NUL-terminated, the caller frees it)
 * and *len (may be NULL) are written only on success. */
PG_API int pg_matpower_write_buffer(const pg_world *w, char **text, size_t *len, pg_notes *notes,
                                    pg_error *err);

/* Like pg_matpower_write_buffer, to a file (replaced if it exists). Borrows w and path. */
PG_API int pg_matpower_write_file(const pg_world *w, const char *path, pg_notes *notes,
                                  pg_error *err);

/* ---------------------------------------------------------------- JSON (plurigrid-world/1) */

/* Reads a plurigrid-world/1 JSON document. Borrows path; *out is written only on success. */
PG_API int pg_world_json_read_file(const char *path, pg_world **out, pg_notes *notes,
                                   pg_error *err);

/* Reads a JSON document from len bytes of text. name is what errors call the input (NULL for
 * "<input>"). Borrows data and name; *out is written only on success. */
PG_API int pg_world_json_read_buffer(const char *data, size_t len, const char *name, pg_world **out,
                                     pg_notes *notes, pg_error *err);

/* Writes w as a plurigrid-world/1 JSON document (two-space indentation, keys in documented order,
 * numbers with 17 significant digits, ending in a newline). Reading it back gives a world equal
 * to w field by field. Borrows w; *text (the caller frees it) and *len (may be NULL) are written
 * only on success. */
PG_API int pg_world_json_write_buffer(const pg_world *w, char **text, size_t *len, pg_error *err);

/* Like pg_world_json_write_buffer, to a file (replaced if it exists). Borrows w and path. */
PG_API int pg_world_json_write_file(const pg_world *w, const char *path, pg_error *err);

/* ---------------------------------------------------------------- any format */

/* Format names: "json" (plurigrid-world/1) and "matpower". pg_world_format_from_path() picks one
 * from a file name's extension (".json", ".m", any case); NULL when the extension says nothing.
 * Borrows path; returns a static string. */
PG_API const char *pg_world_format_from_path(const char *path);

/* Reads a world in the named format, or (format NULL) the format its extension names. Borrows
 * path and format; *out is written only on success. Fails with PG_EUNSUPPORTED for an unknown
 * format name or an extension that names none. */
PG_API int pg_world_read(const char *path, const char *format, pg_world **out, pg_notes *notes,
                         pg_error *err);

/* Writes w in the named format, or (format NULL) the format the extension of path names.
 * Borrows w, path and format. */
PG_API int pg_world_write(const pg_world *w, const char *path, const char *format, pg_notes *notes,
                          pg_error *err);

/* ---------------------------------------------------------------- conversion summary */

/* What a conversion did, as one JSON object (docs/io.md): the input and output names and formats,
 * the world's name and component counts, the notes of reading (the first n_read items of notes)
 * and of writing (the rest). Borrows everything (notes may be NULL); *text is a new
 * NUL-terminated string the caller frees, written only on success. */
PG_API int pg_world_convert_json(const pg_world *w, const char *input, const char *from,
                                 const char *output, const char *to, const pg_notes *notes,
                                 size_t n_read, char **text, pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
