/* Small internal helpers shared by every module: string duplication, growable byte buffers. */
#ifndef PG_CORE_UTIL_H
#define PG_CORE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* strdup that returns NULL for a NULL argument (and on allocation failure). */
char *pgi_strdup(const char *s);

/* The folder of path (malloc'd): "." when it has none, "/" for a file at the root; NULL when out
 * of memory. */
char *pgi_path_dir(const char *path);

/* rel relative to the folder dir (malloc'd): rel itself when it is absolute or dir is NULL, empty
 * or "."; NULL for a NULL rel and when out of memory. */
char *pgi_path_join(const char *dir, const char *rel);

/* Whether s is a name usable as one subject token: 1 to 63 letters, digits, '-' or '_' (a
 * community's and its nodes' names, sessions). */
bool pgi_token_ok(const char *s);

/* A growable, always NUL-terminated byte buffer. Zero-initialise it; pgi_buf_free releases it. */
typedef struct pgi_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* set once an allocation failed; later appends are ignored */
} pgi_buf;

void pgi_buf_append(pgi_buf *b, const char *s, size_t n);
void pgi_buf_puts(pgi_buf *b, const char *s);
void pgi_buf_printf(pgi_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pgi_buf_vprintf(pgi_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void pgi_buf_free(pgi_buf *b);

/* Line and column (1-based) of the deepest part of a JSON path ("$.buses[3].vm", "$.a.b[0]") that
 * exists in text, a JSON document that has already been parsed successfully. For error messages
 * about well-formed JSON. */
void pgi_json_locate(const char *text, size_t len, const char *path, int *line, int *col);

/* v[0] + ... + v[n-1], in order. */
double pgi_sum(const double *v, size_t n);

/* Monotonic clock in seconds. */
double pgi_now(void);

#endif
