/* Internal helpers: string duplication, growable buffers, whole-file reads, a monotonic clock. */
#include "core/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *
pgi_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int
buf_reserve(pgi_buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->len + extra + 1) {
        if (nc > SIZE_MAX / 2) {
            b->failed = 1;
            return -1;
        }
        nc *= 2;
    }
    char *p = realloc(b->data, nc);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = nc;
    return 0;
}

void
pgi_buf_append(pgi_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
pgi_buf_puts(pgi_buf *b, const char *s)
{
    pgi_buf_append(b, s, strlen(s));
}

void
pgi_buf_vprintf(pgi_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || buf_reserve(b, (size_t)n))
        return;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void
pgi_buf_printf(pgi_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pgi_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void
pgi_buf_free(pgi_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

double
pgi_sum(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

double
pgi_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

char *
pgi_path_dir(const char *path)
{
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] != '/')
        n--;
    if (n == 0)
        return pgi_strdup(".");
    if (n == 1)
        return pgi_strdup("/");
    char *d = malloc(n);
    if (!d)
        return NULL;
    memcpy(d, path, n - 1);
    d[n - 1] = '\0';
    return d;
}

char *
pgi_path_join(const char *dir, const char *rel)
{
    if (!rel)
        return NULL;
    if (rel[0] == '/' || !dir || !*dir || strcmp(dir, ".") == 0)
        return pgi_strdup(rel);
    pgi_buf b = {0};
    pgi_buf_printf(&b, "%s/%s", dir, rel);
    if (b.failed) {
        pgi_buf_free(&b);
        return NULL;
    }
    return b.data;
}

bool
pgi_token_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return false;
    }
    return true;
}
