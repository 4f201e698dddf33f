/* Writing JSON: every module builds its JSON output as a jansson tree and dumps it here, so that
 * escaping is jansson's and every number reads back to exactly the double it was (the fewest
 * digits, 15 to 17, that do so for every number of the document). Non-finite numbers have no JSON
 * form: pgi_json_num gives null for them, so a builder never has to remember. */
#ifndef PG_CORE_JSON_WRITE_H
#define PG_CORE_JSON_WRITE_H

#include <jansson.h>
#include <stddef.h>

/* A JSON number for x (an integer when x is a whole number of magnitude below 2^53, so counts
 * print without ".0"), or null when x is NaN or infinite. New reference; NULL when out of
 * memory. -0 is written as 0. */
json_t *pgi_json_num(double x);

/* A JSON real for x even when it is whole (for fields that are always real), null when not
 * finite. New reference. */
json_t *pgi_json_real(double x);

/* Dumps v with jansson's flags (JSON_INDENT(n), JSON_COMPACT, JSON_PRESERVE_ORDER, ...) and every
 * real at round-trip precision. Returns malloc'd text ending in "\n", or NULL when memory runs
 * out. Borrows v. */
char *pgi_json_dumps(const json_t *v, size_t flags);

/* The fewest digits, 15 to 17, that make every real in v read back exactly. */
int pgi_json_real_digits(const json_t *v);

/* A JSON string of s, which may hold any bytes: a byte that is not part of valid UTF-8 becomes
 * U+FFFD (jansson refuses such strings, and JSON text must be UTF-8). NULL s gives "". New
 * reference; NULL when out of memory. */
json_t *pgi_json_str(const char *s);

/* Dumps v (an object) for reading as well as for machines: each member on its own line, the
 * elements of a member that is an array of objects or arrays one a line, everything else on the
 * line of its member; reals at round-trip precision as pgi_json_dumps. Any other v is dumped on one
 * line. Returns malloc'd text ending in "\n", or NULL when memory runs out. Borrows v. */
char *pgi_json_dumps_lines(const json_t *v);

#endif
