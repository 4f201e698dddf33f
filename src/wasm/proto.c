/* The sandbox protocol's payload readers and writers and the runner's blocking frame I/O
 * (proto.h). The parent's I/O, which runs under a deadline, is in sandbox.c. */
#include "wasm/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
pgw_get(pgw_rd *r, void *dst, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = 1;
        memset(dst, 0, n);
        return -1;
    }
    memcpy(dst, r->p, n);
    r->p += n;
    r->left -= n;
    return 0;
}

uint32_t
pgw_u32(pgw_rd *r)
{
    uint32_t v;
    pgw_get(r, &v, sizeof v);
    return v;
}

uint64_t
pgw_u64(pgw_rd *r)
{
    uint64_t v;
    pgw_get(r, &v, sizeof v);
    return v;
}

const uint8_t *
pgw_bytes(pgw_rd *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

void
pgw_put(pgw_wr *w, const void *src, size_t n)
{
    if (w->failed || n == 0)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *p = realloc(w->p, cap);
        if (!p) {
            w->failed = 1;
            return;
        }
        w->p = p;
        w->cap = cap;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

void
pgw_put_u32(pgw_wr *w, uint32_t v)
{
    pgw_put(w, &v, sizeof v);
}

void
pgw_put_u64(pgw_wr *w, uint64_t v)
{
    pgw_put(w, &v, sizeof v);
}

void
pgw_wr_free(pgw_wr *w)
{
    free(w->p);
    w->p = NULL;
    w->len = w->cap = 0;
}

static int
write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static int
read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        ssize_t k = read(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

int
pgw_send_blocking(int fd, uint32_t type, const void *payload, uint32_t len)
{
    uint32_t h[3] = {PGW_MAGIC, type, len};
    if (len > PGW_FRAME_MAX)
        return -1;
    if (write_all(fd, h, sizeof h))
        return -1;
    return len ? write_all(fd, payload, len) : 0;
}

int
pgw_recv_blocking(int fd, uint32_t *type, uint8_t **payload, uint32_t *len)
{
    uint32_t h[3];
    if (read_all(fd, h, sizeof h) || h[0] != PGW_MAGIC || h[2] > PGW_FRAME_MAX)
        return -1;
    uint8_t *p = malloc(h[2] ? h[2] : 1);
    if (!p)
        return -1;
    if (h[2] && read_all(fd, p, h[2])) {
        free(p);
        return -1;
    }
    *type = h[1];
    *payload = p;
    *len = h[2];
    return 0;
}
