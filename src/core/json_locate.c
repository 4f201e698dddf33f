/* Finding where a JSON path ("$.buses[3].vm") stands in the text of a JSON document, so that
 * readers can name the line of an error in well-formed JSON (jansson reports lines only for syntax
 * errors). It walks the text skipping values; it never checks them, since the text has already
 * been parsed. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static const char *
skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at '"': returns the position after the closing quote (or e). */
static const char *
skip_string(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return e;
}

static const char *
skip_value(const char *p, const char *e)
{
    p = skip_ws(p, e);
    if (p >= e)
        return e;
    if (*p == '"')
        return skip_string(p, e);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < e) {
            if (*p == '"') {
                p = skip_string(p, e);
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return e;
    }
    while (p < e && !strchr(",]} \t\r\n", *p))
        p++;
    return p;
}

/* Walks text along path ("$.buses[3].vm") and returns the line and column of the deepest part of
 * the path that exists. The text is well-formed JSON (jansson read it), so this only has to skip
 * values, never to check them. */
void
pgi_json_locate(const char *text, size_t len, const char *path, int *line, int *col)
{
    const char *p = text, *e = text + len, *found = NULL;
    const char *q = path && path[0] == '$' ? path + 1 : "";
    p = skip_ws(p, e);
    found = p;
    while (*q && p < e) {
        if (*q == '.') {
            q++;
            size_t kl = strcspn(q, ".[");
            if (*p != '{')
                break;
            p = skip_ws(p + 1, e);
            const char *val = NULL;
            while (p < e && *p == '"') {
                const char *ks = p + 1, *ke = skip_string(p, e) - 1;
                p = skip_ws(ke + 1, e);
                if (p < e && *p == ':')
                    p = skip_ws(p + 1, e);
                if ((size_t)(ke - ks) == kl && memcmp(ks, q, kl) == 0) {
                    val = p;
                    break;
                }
                p = skip_ws(skip_value(p, e), e);
                if (p < e && *p == ',')
                    p = skip_ws(p + 1, e);
                else
                    break;
            }
            if (!val)
                break;
            p = found = val;
            q += kl;
        } else if (*q == '[') {
            char *end = NULL;
            unsigned long idx = strtoul(q + 1, &end, 10);
            if (!end || *end != ']' || *p != '[')
                break;
            q = end + 1;
            p = skip_ws(p + 1, e);
            unsigned long i = 0;
            for (; i < idx && p < e && *p != ']'; i++) {
                p = skip_ws(skip_value(p, e), e);
                if (p < e && *p == ',')
                    p = skip_ws(p + 1, e);
            }
            if (i < idx || p >= e || *p == ']')
                break;
            found = p;
        } else {
            break;
        }
    }
    int l = 1;
    const char *ls = text;
    for (const char *r = text; r < found && r < e; r++)
        if (*r == '\n') {
            l++;
            ls = r + 1;
        }
    *line = l;
    *col = (int)(found - ls) + 1;
}
