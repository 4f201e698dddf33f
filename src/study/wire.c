/* The header line of the messages of studies on NATS workers: splitting and checking (wire.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "study/wire.h"

int
pgi_wire_parse(const void *data, size_t len, pgi_wire *w, pg_error *err)
{
    const char *p = data;
    if (!p || len == 0)
        return pg_error_set(err, PG_EPARSE, "an empty message");
    const char *nl = memchr(p, '\n', len < PGI_WIRE_MAX_HEADER + 1 ? len : PGI_WIRE_MAX_HEADER + 1);
    size_t hl = nl ? (size_t)(nl - p) : len;
    if (hl > PGI_WIRE_MAX_HEADER)
        return pg_error_set(err, PG_EPARSE, "a message whose first line is longer than %d bytes",
                            PGI_WIRE_MAX_HEADER);
    for (size_t i = 0; i < hl; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c >= 0x7f)
            return pg_error_set(err, PG_EPARSE,
                                "a message whose first line has a byte that is not printable "
                                "ASCII (at %zu)",
                                i);
    }
    memcpy(w->line, p, hl);
    w->line[hl] = '\0';
    w->n_tok = 0;
    char *q = w->line;
    while (*q) {
        if (*q == ' ')
            return pg_error_set(err, PG_EPARSE, "a message whose first line has an empty token");
        if (w->n_tok == PGI_WIRE_MAX_TOKENS)
            return pg_error_set(err, PG_EPARSE, "a message with more than %d tokens",
                                PGI_WIRE_MAX_TOKENS);
        w->tok[w->n_tok++] = q;
        char *sp = strchr(q, ' ');
        if (!sp)
            break;
        *sp = '\0';
        q = sp + 1;
        if (!*q)
            return pg_error_set(err, PG_EPARSE, "a message whose first line ends with a space");
    }
    if (w->n_tok == 0)
        return pg_error_set(err, PG_EPARSE, "a message with an empty first line");
    w->body = nl ? nl + 1 : NULL;
    w->body_len = nl ? len - hl - 1 : 0;
    return PG_OK;
}

bool
pgi_wire_size(const pgi_wire *w, size_t i, size_t *v)
{
    if (i >= w->n_tok)
        return false;
    const char *t = w->tok[i];
    size_t n = strlen(t);
    if (n == 0 || n > 16 || (n > 1 && t[0] == '0'))
        return false;
    uint64_t x = 0;
    for (size_t k = 0; k < n; k++) {
        if (t[k] < '0' || t[k] > '9')
            return false;
        x = x * 10 + (uint64_t)(t[k] - '0');
    }
    if (x > ((uint64_t)1 << 53) || x > SIZE_MAX)
        return false;
    *v = (size_t)x;
    return true;
}

bool
pgi_wire_id(const pgi_wire *w, size_t i)
{
    if (i >= w->n_tok || strlen(w->tok[i]) != 16)
        return false;
    for (const char *c = w->tok[i]; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return false;
    return true;
}

void
pgi_wire_new_id(char out[17])
{
    uint64_t x = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(&x, sizeof x, 1, f) : 0;
    if (f)
        fclose(f);
    if (got != 1) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        x ^= x >> 31;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)x);
}

bool
pgi_wire_queue_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}
