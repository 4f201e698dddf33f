/* The layout of the game modules (docs/ARCHITECTURE.md, section 6): each is one folder of src/
 * with one public header whose names follow the module, and the modules depend on one another one
 * way only. Read from the source tree, so a file that crosses a boundary fails here:
 *   - every public name (function, type, macro, enum constant) of a module's header starts with
 *     one of that module's prefixes;
 *   - every source file of a module includes only public headers of the modules it may use (its
 *     dependencies, core and itself) and internal headers of its own folder or of core;
 *   - every public header includes only its dependencies' headers;
 *   - the dependency table has no cycle. */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <string.h>
#include <unistd.h>

typedef struct module {
    const char *name;        /* folder of src/ and include/plurigrid/NAME.h */
    const char *prefixes[4]; /* lower case; upper-case forms are for macros and constants */
    const char *deps[8];     /* modules whose public headers it may include (core always) */
} module;

static const module MODULES[] = {
    {"rng", {"pg_rng"}, {NULL}},
    {"learn", {"pg_learn"}, {"rng"}},
    {"opengame", {"pg_og", "pg_dist"}, {"rng", "learn"}},
    {"aif", {"pg_aif"}, {"rng"}},
    {"game", {"pg_game", "pg_nf", "pg_mg"}, {"rng", "learn", "opengame", "aif"}},
    {"resilience", {"pg_resilience"}, {NULL}},
    {"scenario", {"pg_scenario"}, {"rng", "learn", "aif", "resilience", "plot"}},
};
#define N_MODULES (sizeof MODULES / sizeof MODULES[0])

static char *
read_source(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", PG_SOURCE_DIR, rel);
    if (access(path, R_OK) != 0) {
        print_error("%s is missing\n", rel);
        return NULL;
    }
    return pgt_slurp(path, NULL);
}

static bool
has_prefix(const char *name, const module *m)
{
    for (size_t i = 0; i < 4 && m->prefixes[i]; i++) {
        const char *p = m->prefixes[i];
        size_t n = strlen(p);
        char upper[32];
        for (size_t k = 0; k <= n && k < sizeof upper; k++)
            upper[k] = (char)toupper((unsigned char)p[k]);
        if (strncmp(name, p, n) == 0 || strncmp(name, upper, n) == 0)
            return true;
    }
    return false;
}

static void
ident_before(const char *text, const char *at, char *out, size_t size)
{
    const char *e = at;
    while (e > text && isspace((unsigned char)e[-1]))
        e--;
    const char *s = e;
    while (s > text && (isalnum((unsigned char)s[-1]) || s[-1] == '_'))
        s--;
    size_t n = (size_t)(e - s) < size - 1 ? (size_t)(e - s) : size - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

static void
ident_at(const char *s, char *out, size_t size)
{
    while (*s == ' ' || *s == '\t' || *s == '*' || *s == '(')
        s++;
    size_t n = 0;
    while ((isalnum((unsigned char)s[n]) || s[n] == '_') && n + 1 < size) {
        out[n] = s[n];
        n++;
    }
    out[n] = '\0';
}

/* Public names of a header: PG_API functions, typedefs, macros and enum constants. */
static int
check_names(const module *m, const char *text)
{
    int bad = 0;
    char name[128];
    for (const char *p = strstr(text, "PG_API "); p; p = strstr(p + 1, "PG_API ")) {
        const char *paren = strchr(p, '(');
        ident_before(text, paren, name, sizeof name);
        if (!has_prefix(name, m)) {
            print_error("%s.h: function %s does not follow the module\n", m->name, name);
            bad++;
        }
    }
    for (const char *p = strstr(text, "typedef "); p; p = strstr(p + 1, "typedef ")) {
        const char *fp = strstr(p, "(*"), *semi = strchr(p, ';'), *brace = strchr(p, '{');
        if (brace && brace < semi) {
            /* typedef struct/enum { ... } NAME; find the matching close */
            int depth = 0;
            const char *q = brace;
            for (; *q; q++) {
                depth += *q == '{';
                depth -= *q == '}';
                if (!depth)
                    break;
            }
            ident_at(q + 1, name, sizeof name);
            /* enum constants inside */
            if (strncmp(p, "typedef enum", 12) == 0)
                for (const char *c = brace; c < q; c++)
                    if ((c[-1] == ' ' || c[-1] == '\n') && strncmp(c, "PG_", 3) == 0) {
                        char k[128];
                        ident_at(c, k, sizeof k);
                        if (!has_prefix(k, m)) {
                            print_error("%s.h: constant %s does not follow the module\n", m->name,
                                        k);
                            bad++;
                        }
                        while (*c && *c != '\n')
                            c++;
                    }
        } else if (fp && fp < semi) {
            ident_at(fp + 2, name, sizeof name);
        } else {
            ident_before(text, semi, name, sizeof name);
        }
        if (!has_prefix(name, m)) {
            print_error("%s.h: type %s does not follow the module\n", m->name, name);
            bad++;
        }
    }
    /* anonymous enums of constants and macros */
    for (const char *p = strstr(text, "\nenum {"); p; p = strstr(p + 1, "\nenum {")) {
        const char *end = strstr(p, "};");
        for (const char *c = p + 7; c < end; c++)
            if ((c[-1] == ' ' || c[-1] == '\n' || c[-1] == '{') && strncmp(c, "PG_", 3) == 0) {
                char k[128];
                ident_at(c, k, sizeof k);
                if (!has_prefix(k, m)) {
                    print_error("%s.h: constant %s does not follow the module\n", m->name, k);
                    bad++;
                }
                c += strlen(k);
            }
    }
    for (const char *p = strstr(text, "#define "); p; p = strstr(p + 1, "#define ")) {
        ident_at(p + 8, name, sizeof name);
        if (strncmp(name, "PLURIGRID_", 10) == 0)
            continue; /* the include guard */
        if (!has_prefix(name, m)) {
            print_error("%s.h: macro %s does not follow the module\n", m->name, name);
            bad++;
        }
    }
    return bad;
}

static const module *
find(const char *name)
{
    for (size_t i = 0; i < N_MODULES; i++)
        if (strcmp(MODULES[i].name, name) == 0)
            return &MODULES[i];
    return NULL;
}

static bool
may_use(const module *m, const char *other)
{
    if (strcmp(other, "core") == 0 || strcmp(other, m->name) == 0)
        return true;
    for (size_t i = 0; i < 8 && m->deps[i]; i++)
        if (strcmp(m->deps[i], other) == 0)
            return true;
    return false;
}

/* Every #include "X/Y" of a file: public headers of allowed modules, internal headers of its own
 * folder or core. */
static int
check_includes(const module *m, const char *file, const char *text, bool is_public)
{
    int bad = 0;
    for (const char *p = strstr(text, "#include \""); p; p = strstr(p + 1, "#include \"")) {
        char inc[256];
        size_t n = 0;
        for (const char *q = p + 10; *q && *q != '"' && n + 1 < sizeof inc; q++)
            inc[n++] = *q;
        inc[n] = '\0';
        char dir[64] = "", base[192] = "";
        const char *slash = strchr(inc, '/');
        if (slash) {
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - inc), inc);
            snprintf(base, sizeof base, "%s", slash + 1);
        }
        char *dot = strrchr(base, '.');
        if (dot)
            *dot = '\0';
        bool ok;
        if (strcmp(dir, "plurigrid") == 0)
            ok = may_use(m, base);
        else
            ok = !is_public && (strcmp(dir, m->name) == 0 || strcmp(dir, "core") == 0);
        if (!ok) {
            print_error("%s includes \"%s\", outside what module %s may use\n", file, inc, m->name);
            bad++;
        }
    }
    return bad;
}

static void
test_headers_follow_their_module(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < N_MODULES; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "include/plurigrid/%s.h", MODULES[i].name);
        char *text = read_source(rel);
        if (!text) {
            bad++;
            continue;
        }
        bad += check_names(&MODULES[i], text);
        bad += check_includes(&MODULES[i], rel, text, true);
        free(text);
    }
    assert_int_equal(bad, 0);
}

static void
test_sources_depend_one_way(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < N_MODULES; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/src/%s", PG_SOURCE_DIR, MODULES[i].name);
        DIR *d = opendir(dir);
        if (!d) {
            print_error("src/%s/ is missing\n", MODULES[i].name);
            bad++;
            continue;
        }
        size_t files = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t n = strlen(e->d_name);
            if (n < 3 || (strcmp(e->d_name + n - 2, ".c") && strcmp(e->d_name + n - 2, ".h")))
                continue;
            char rel[512];
            snprintf(rel, sizeof rel, "src/%s/%s", MODULES[i].name, e->d_name);
            char *text = read_source(rel);
            assert_non_null(text);
            bad += check_includes(&MODULES[i], rel, text, false);
            free(text);
            files++;
        }
        closedir(d);
        assert_true(files > 0);
    }
    assert_int_equal(bad, 0);
}

/* Depth-first search for a cycle in the dependency table (modules outside it, plot, are
 * leaves). */
static bool
cycle_from(const module *m, int *mark)
{
    size_t i = (size_t)(m - MODULES);
    if (mark[i] == 1)
        return true;
    if (mark[i] == 2)
        return false;
    mark[i] = 1;
    for (size_t k = 0; k < 8 && m->deps[k]; k++) {
        const module *d = find(m->deps[k]);
        if (d && cycle_from(d, mark))
            return true;
    }
    mark[i] = 2;
    return false;
}

static void
test_no_cycles(void **state)
{
    (void)state;
    int mark[N_MODULES] = {0};
    for (size_t i = 0; i < N_MODULES; i++)
        assert_false(cycle_from(&MODULES[i], mark));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers_follow_their_module),
        cmocka_unit_test(test_sources_depend_one_way),
        cmocka_unit_test(test_no_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
