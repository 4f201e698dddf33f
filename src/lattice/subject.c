/* Subjects of the lattice bus, as in NATS: dot-separated non-empty tokens of printable ASCII
 * without spaces, at most PG_BUS_MAX_SUBJECT bytes. A subscription's pattern may use '*' as a
 * whole token (any one token) and '>' as its last token (one or more tokens); a subject that is
 * published may not contain '*' or '>' at all, so a message never looks like a pattern. */
#include <stdio.h>
#include <string.h>

#include "lattice/bus_internal.h"

const char *
pgi_bus_subject_problem(const char *subject, bool pattern)
{
    if (!subject)
        return "it is missing (NULL)";
    size_t n = strnlen(subject, PG_BUS_MAX_SUBJECT + 1);
    if (n == 0)
        return "it is empty";
    if (n > PG_BUS_MAX_SUBJECT)
        return "it is longer than " PGI_BUS_STR(PG_BUS_MAX_SUBJECT) " bytes";
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)subject[i];
        if (c != '.' && c != '\0') {
            if (c <= 0x20 || c >= 0x7f)
                return "it has a space, a control character or a byte that is not ASCII";
            if ((c == '*' || c == '>') && !pattern)
                return "it has a wildcard ('*' or '>'), which only subscriptions may use";
            continue;
        }
        size_t len = i - start;
        if (len == 0)
            return "it has an empty token (a leading, trailing or doubled '.')";
        const char *tok = subject + start;
        if (pattern && (memchr(tok, '*', len) || memchr(tok, '>', len))) {
            if (len != 1)
                return "a wildcard ('*' or '>') must be a whole token";
            if (*tok == '>' && c != '\0')
                return "'>' may only be the last token";
        }
        start = i + 1;
    }
    return NULL;
}

bool
pg_bus_subject_valid(const char *subject, bool pattern)
{
    return pgi_bus_subject_problem(subject, pattern) == NULL;
}

/* A subject for an error message: at most 80 bytes, bytes that are not printable as '?'. */
static void
printable(char *out, size_t size, const char *s)
{
    size_t i = 0;
    for (; s && s[i] && i + 4 < size && i < 80; i++)
        out[i] = ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) ? '?' : s[i];
    if (s && s[i])
        memcpy(out + i, "...", 3), i += 3;
    out[i] = '\0';
}

int
pgi_bus_check_subject(const char *subject, bool pattern, const char *what, pg_error *err)
{
    const char *why = pgi_bus_subject_problem(subject, pattern);
    if (!why)
        return PG_OK;
    char shown[96];
    printable(shown, sizeof shown, subject);
    return pg_error_set(err, PG_EINVAL, "bus: %s \"%s\" is not valid: %s", what, shown, why);
}

int
pgi_bus_check_group(const char *group, pg_error *err)
{
    /* NATS takes any token without spaces; the bus asks what it asks of a subject (which also
     * keeps wildcards out, as they would read as patterns in a log). */
    const char *why = pgi_bus_subject_problem(group, false);
    if (!why)
        return PG_OK;
    char shown[96];
    printable(shown, sizeof shown, group);
    return pg_error_set(err, PG_EINVAL, "bus: queue group \"%s\" is not valid: %s", shown, why);
}

int
pgi_bus_check_message(const char *subject, const char *reply, const void *data, size_t len,
                      pg_error *err)
{
    int rc = pgi_bus_check_subject(subject, false, "subject", err);
    if (rc)
        return rc;
    if (reply && (rc = pgi_bus_check_subject(reply, false, "reply subject", err)))
        return rc;
    if (len > 0 && !data)
        return pg_error_set(err, PG_EINVAL, "bus: message on \"%s\" has %zu bytes but no data",
                            subject, len);
    if (len > PG_BUS_MAX_PAYLOAD)
        return pg_error_set(err, PG_EINVAL,
                            "bus: message on \"%s\" has %zu bytes, more than the limit of %u",
                            subject, len, PG_BUS_MAX_PAYLOAD);
    return PG_OK;
}

bool
pgi_bus_match(const char *p, const char *s)
{
    for (;;) {
        const char *pe = strchr(p, '.'), *se = strchr(s, '.');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (pl == 1 && *p == '>')
            return true; /* s has at least this token */
        if (!(pl == 1 && *p == '*') && (pl != sl || memcmp(p, s, pl) != 0))
            return false;
        if (!pe || !se)
            return !pe && !se;
        p = pe + 1;
        s = se + 1;
    }
}

bool
pg_bus_subject_match(const char *pattern, const char *subject)
{
    return pg_bus_subject_valid(pattern, true) && pg_bus_subject_valid(subject, false) &&
           pgi_bus_match(pattern, subject);
}
