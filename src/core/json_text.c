/* JSON text for results (json_write.h): strings made from any bytes (names and paths need not be
 * UTF-8, JSON text must be), and a layout that a person can read as well as a program: one member
 * a line, one component a line, as the result formats document them. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_write.h"
#include "core/util.h"

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF), or 0 when the bytes at p are not one. */
static size_t
utf8_len(const unsigned char *p)
{
    unsigned c = p[0], cp;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the terminating NUL */
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

json_t *
pgi_json_str(const char *s)
{
    if (!s)
        s = "";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, k;
    while (i < n && (k = utf8_len(p + i)) > 0)
        i += k;
    if (i == n)
        return json_stringn(s, n);
    /* Each invalid byte becomes the three bytes of U+FFFD. */
    char *t = malloc(3 * n + 1);
    if (!t)
        return NULL;
    size_t m = 0;
    for (i = 0; i < n;) {
        k = utf8_len(p + i);
        if (k) {
            memcpy(t + m, s + i, k);
            m += k;
            i += k;
        } else {
            memcpy(t + m, "\xEF\xBF\xBD", 3);
            m += 3;
            i++;
        }
    }
    json_t *v = json_stringn(t, m);
    free(t);
    return v;
}

/* Appends v dumped on one line (", " and ": " between items). */
static void
put(pgi_buf *b, const json_t *v, size_t flags)
{
    char *s = json_dumps(v, flags);
    if (!s) {
        b->failed = 1;
        return;
    }
    pgi_buf_puts(b, s);
    free(s);
}

static bool
array_of_containers(const json_t *a)
{
    size_t n = json_array_size(a);
    if (!json_is_array(a) || n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_array_get(a, i);
        if (!json_is_object(x) && !json_is_array(x))
            return false;
    }
    return true;
}

char *
pgi_json_dumps_lines(const json_t *v)
{
    if (!json_is_object(v))
        return pgi_json_dumps(v, 0);
    size_t flags = JSON_ENCODE_ANY | JSON_REAL_PRECISION(pgi_json_real_digits(v));
    pgi_buf b = {0};
    pgi_buf_puts(&b, "{");
    bool first = true;
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)v, key, x)
    {
        pgi_buf_puts(&b, first ? "\n  " : ",\n  ");
        first = false;
        json_t *k = json_string(key); /* jansson keeps only valid UTF-8 keys */
        if (!k) {
            b.failed = 1;
            break;
        }
        put(&b, k, flags);
        json_decref(k);
        pgi_buf_puts(&b, ": ");
        if (array_of_containers(x)) {
            size_t n = json_array_size(x);
            pgi_buf_puts(&b, "[");
            for (size_t i = 0; i < n; i++) {
                pgi_buf_puts(&b, i ? ",\n    " : "\n    ");
                put(&b, json_array_get(x, i), flags);
            }
            pgi_buf_puts(&b, "\n  ]");
        } else {
            put(&b, x, flags);
        }
    }
    pgi_buf_puts(&b, first ? "}\n" : "\n}\n");
    if (b.failed) {
        pgi_buf_free(&b);
        return NULL;
    }
    return b.data;
}
