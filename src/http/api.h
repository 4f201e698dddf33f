/* What the JSON API's handlers share (worlds.c, run.c): worlds sent in a request body, checks of a
 * request's keys and values, and error replies made from library errors that point into the
 * request (the JSON path and the line and column of the body). */
#ifndef PG_HTTP_API_H
#define PG_HTTP_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "plurigrid/io.h"
#include "plurigrid/model.h"

/* Returned by the helpers below when they have made the reply (an error for the client): the
 * handler then returns PG_OK. Negative returns are internal failures (err filled). */
#define PGH_REPLIED 1

/* The status of a library error about what a client sent: 413 for PG_ELIMIT, 404 for
 * PG_ENOTFOUND, 500 for PG_ENOMEM, PG_EIO and PG_ESOLVER, 422 otherwise (the input is understood
 * but is not a valid world, case or scenario). */
int pgh_api_status(int code);

/* rp = status with {"error": {"status", "code", "message", "line", "column", "path"}} from e
 * (line, column and path when known). When body is not NULL, e is about the request body
 * (len bytes of JSON text), or about its member prefix ("$.world") when prefix is not NULL: the
 * path is rewritten to start there, and a line and column the error lacks are looked up in the
 * body. Never names a file of the server. Returns PGH_REPLIED. */
int pgh_api_error(pgh_reply *rp, int status, const char *code, const pg_error *e,
                  const char *prefix, const char *body, size_t len);

/* Whether every key of obj is one of keys (NULL-terminated); otherwise rp = 400 "unknown_key"
 * naming the unknown keys and the known ones. */
bool pgh_api_keys_known(const json_t *obj, const char *const *keys, pgh_reply *rp);

/* Reads a boolean option key of obj (absent or null: def) into *out; otherwise rp = 400. */
bool pgh_api_bool(const json_t *obj, const char *key, bool def, bool *out, pgh_reply *rp);

/* Reads a whole-number option key of obj (absent or null: def) in [lo, hi] into *out: 400 when
 * it is not a number, 422 when it is not whole or out of range. */
bool pgh_api_size(const json_t *obj, const char *key, size_t def, size_t lo, size_t hi, size_t *out,
                  pgh_reply *rp);

/* The world at key of the request's body object root: read as a plurigrid-world/1 document and,
 * when validate, checked with pg_world_validate. *out (the caller frees it) is written only on
 * success; notes may be NULL. A missing key or one that is not an object is a 400, a world that
 * is not valid a 422 naming the place ("$.world.buses[2].vmax", line and column of the body).
 * Returns PG_OK, PGH_REPLIED or an internal failure. */
int pgh_api_world(const pgh_request *rq, const json_t *root, const char *key, bool validate,
                  pg_world **out, pg_notes *notes, pgh_reply *rp, pg_error *err);

/* The world w as a JSON value: its plurigrid-world/1 document (pg_world_json_write_buffer).
 * *out (a new reference) is written only on success. */
int pgh_api_world_json(const pg_world *w, json_t **out, pg_error *err);

/* The notes as a JSON array of strings; NULL when out of memory. */
json_t *pgh_api_notes(const pg_notes *notes);

#endif
