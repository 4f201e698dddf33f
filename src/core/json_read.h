/* Reading JSON formats with jansson: what every format's reader needs to say where a mistake is
 * and what is wrong with it. A pgi_jr keeps the JSON path of the value being read
 * ("$.agents[2].strategy"), pushed and popped as the reader walks down the document; every error
 * is recorded on the caller's pg_error with the file, the line and column of that path in the text
 * (pgi_json_locate), the path itself and the message. The typed getters check a member's type and
 * range and name it in the error; the words of their messages are the same for every format.
 *
 * Getters for optional members leave *out as it is when the member is absent, so the caller sets
 * the default first. */
#ifndef PG_CORE_JSON_READ_H
#define PG_CORE_JSON_READ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "plurigrid/core.h"

typedef struct pgi_jr {
    pg_error *err;    /* where errors go; may be NULL */
    const char *file; /* the name errors give */
    const char *text; /* the document, to find the line of an error */
    size_t len;
    json_t *root; /* the parsed document (pgi_jr_open), NULL after pgi_jr_init */
    char path[512];
    size_t plen;
} pgi_jr;

/* Starts reading text (len bytes, named file in errors) at the path "$". Borrows all three. */
void pgi_jr_init(pgi_jr *r, const char *file, const char *text, size_t len, pg_error *err);

/* pgi_jr_init, then parses text into r->root (duplicate keys are errors). A syntax error is
 * PG_EPARSE "not valid JSON: ..." with the line and column. pgi_jr_close releases the root. */
int pgi_jr_open(pgi_jr *r, const char *file, const char *text, size_t len, pg_error *err);
void pgi_jr_close(pgi_jr *r);

/* The path: push a member or an element, pop back to the mark a push returned. */
size_t pgi_jr_push_key(pgi_jr *r, const char *key);
size_t pgi_jr_push_index(pgi_jr *r, size_t i);
void pgi_jr_pop(pgi_jr *r, size_t mark);

/* Records code and the message at the current path (or at its member key) and returns code. */
int pgi_jr_fail(pgi_jr *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int pgi_jr_fail_key(pgi_jr *r, int code, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* For an error that code without a place recorded (a model builder's): puts it at the current
 * path, with its line, unless it already names a file. Returns rc; does nothing when rc is 0. */
int pgi_jr_place(pgi_jr *r, int rc);

/* PG_ENOMEM, "out of memory". */
int pgi_jr_nomem(pgi_jr *r);

/* "an object", "an array", "a string", "a number", "a boolean" or "null". */
const char *pgi_jr_type_name(const json_t *v);

/* v (at the current path) must have type t (JSON_REAL also takes whole numbers): otherwise
 * "must be <what>, not <its type>". */
int pgi_jr_want(pgi_jr *r, const json_t *v, json_type t, const char *what);

/* Every member of obj must be one of the NULL-terminated keys: otherwise "unknown key 'k' in
 * <what> (the keys are: ...)" at the member (what may be NULL). */
int pgi_jr_check_keys(pgi_jr *r, const json_t *obj, const char *what, const char *const *keys);

/* The member key of obj in *out (NULL when absent). Absent and required is "the key 'k' is
 * missing (<what>)" at obj. */
int pgi_jr_member(pgi_jr *r, const json_t *obj, const char *key, bool required, const char *what,
                  json_t **out);

/* v (at the current path) as a finite number from lo to hi (either may be infinite). */
int pgi_jr_number(pgi_jr *r, const json_t *v, double lo, double hi, double *out);

/* Typed members of obj; see the top of the file for absent optional members. A required string
 * must not be empty; get_string borrows it from the document, dup_string copies it (free it). An
 * array must have at least min elements. */
int pgi_jr_get_number(pgi_jr *r, const json_t *obj, const char *key, bool required, double lo,
                      double hi, double *out);
int pgi_jr_get_size(pgi_jr *r, const json_t *obj, const char *key, bool required, size_t lo,
                    size_t hi, size_t *out);
int pgi_jr_get_bool(pgi_jr *r, const json_t *obj, const char *key, bool required, bool *out);
int pgi_jr_get_string(pgi_jr *r, const json_t *obj, const char *key, bool required,
                      const char **out);
int pgi_jr_dup_string(pgi_jr *r, const json_t *obj, const char *key, bool required, char **out);
int pgi_jr_get_array(pgi_jr *r, const json_t *obj, const char *key, bool required, size_t min,
                     json_t **out);
int pgi_jr_get_object(pgi_jr *r, const json_t *obj, const char *key, bool required, json_t **out);

#endif
