/* Each power-system concept has one place, in the model: the sources are read and the marks of
 * each concept -- reactive power from a power factor, a union-find over the branches, the mean of
 * a series over a step -- are found in src/model/ only; and the problem builder of dispatch does
 * not call back into its checks (the two used to call each other). A second copy of one of these
 * in a solver fails here, before its results can drift from the first. */
#include "harness.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct hit {
    char where[8][700];
    size_t n;
} hit;

/* Records every .c file under dir (relative to the source tree) whose text holds mark. */
static void
scan(const char *dir, const char *mark, hit *h)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", pgt_source_path(dir));
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char rel[700], full[1800];
        snprintf(rel, sizeof rel, "%s/%s", dir, e->d_name);
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        struct stat st;
        assert_int_equal(stat(full, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            scan(rel, mark, h);
            continue;
        }
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0)
            continue;
        char *text = pgt_slurp(full, NULL);
        if (strstr(text, mark) && h->n < 8)
            snprintf(h->where[h->n++], sizeof h->where[0], "%s", rel);
        free(text);
    }
    closedir(d);
}

static void
only_in(const char *mark, const char *file)
{
    hit h = {0};
    scan("src", mark, &h);
    for (size_t i = 0; i < h.n; i++)
        if (strcmp(h.where[i], file) != 0)
            fail_msg("'%s' is in %s as well as in %s: use the model's", mark, h.where[i], file);
    assert_int_equal(h.n, 1);
}

static void
test_concepts_have_one_place(void **state)
{
    (void)state;
    only_in("tan(acos(", "src/model/steps.c");                           /* Q of a renewable */
    only_in("parent[parent[", "src/model/islands.c");                    /* union-find: islands */
    only_in("Mean of a piecewise-constant series", "src/model/steps.c"); /* resampling */
}

static void
test_builder_does_not_call_checks(void **state)
{
    (void)state;
    char *text = pgt_slurp(pgt_source_path("src/dispatch/build.c"), NULL);
    const char *in_check[] = {"pg_dispatch_options_init", "pg_dispatch_check", "check_options"};
    for (size_t i = 0; i < sizeof in_check / sizeof *in_check; i++)
        if (strstr(text, in_check[i]))
            fail_msg("src/dispatch/build.c calls %s, from check.c", in_check[i]);
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concepts_have_one_place),
        cmocka_unit_test(test_builder_does_not_call_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
