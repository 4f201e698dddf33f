/* Writing JSON through jansson with round-trip numbers (json_write.h). */
#include "core/json_write.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *
pgi_json_num(double x)
{
    if (!isfinite(x))
        return json_null();
    if (x == 0)
        return json_integer(0);
    if (fabs(x) < 9007199254740992.0 && x == floor(x))
        return json_integer((json_int_t)x);
    return json_real(x);
}

json_t *
pgi_json_real(double x)
{
    if (!isfinite(x))
        return json_null();
    return json_real(x == 0 ? 0.0 : x);
}

static bool
reals_exact(const json_t *v, int p)
{
    char buf[64];
    switch (json_typeof(v)) {
    case JSON_REAL:
        snprintf(buf, sizeof buf, "%.*g", p, json_real_value(v));
        return strtod(buf, NULL) == json_real_value(v);
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; i++)
            if (!reals_exact(json_array_get(v, i), p))
                return false;
        return true;
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (!reals_exact(x, p))
                return false;
        }
        return true;
    }
    default: return true;
    }
}

int
pgi_json_real_digits(const json_t *v)
{
    int p = 15;
    while (p < 17 && !reals_exact(v, p))
        p++;
    return p;
}

char *
pgi_json_dumps(const json_t *v, size_t flags)
{
    char *s = json_dumps(v, flags | JSON_ENCODE_ANY | JSON_REAL_PRECISION(pgi_json_real_digits(v)));
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}
