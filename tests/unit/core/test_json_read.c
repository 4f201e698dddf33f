/* The JSON reading helper every format's reader uses: errors name the file, the line and column
 * of the offending value, its JSON path and what is wrong; typed getters check types and ranges
 * and leave optional absent members alone. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "core/json_read.h"

static const char *doc = "{\"name\": \"grid\",\n"
                         " \"empty\": \"\",\n"
                         " \"limits\": {\"low\": 0.5,\n"
                         "            \"high\": \"lots\"},\n"
                         " \"steps\": [1, 2,\n"
                         "           2.5],\n"
                         " \"on\": true}\n";

static void
expect_place(const pg_error *err, int code, int line, int column, const char *path,
             const char *words)
{
    if (err->code != code || err->line != line || err->column != column ||
        strcmp(err->path, path) != 0 || !strstr(err->msg, words) ||
        strcmp(err->file, "doc.json") != 0)
        fail_msg("got %d %s:%d:%d %s '%s'; want %d line %d column %d %s '%s'", err->code, err->file,
                 err->line, err->column, err->path, err->msg, code, line, column, path, words);
}

static void
test_syntax_error(void **state)
{
    (void)state;
    pgi_jr r;
    pg_error err = {0};
    assert_int_equal(pgi_jr_open(&r, "doc.json", "{\"a\": 1,\n \"a\": 2}", 17, &err), PG_EPARSE);
    assert_null(r.root);
    assert_non_null(strstr(err.msg, "not valid JSON"));
    assert_string_equal(err.file, "doc.json");
    assert_int_equal(err.line, 2);
    assert_string_equal(err.path, "");
}

static void
test_getters(void **state)
{
    (void)state;
    pgi_jr r;
    pg_error err = {0};
    assert_int_equal(pgi_jr_open(&r, "doc.json", doc, strlen(doc), &err), PG_OK);
    json_t *root = r.root, *limits = NULL, *steps = NULL;

    const char *s = NULL;
    char *copy = NULL;
    assert_int_equal(pgi_jr_get_string(&r, root, "name", true, &s), PG_OK);
    assert_string_equal(s, "grid");
    assert_int_equal(pgi_jr_dup_string(&r, root, "name", true, &copy), PG_OK);
    assert_string_equal(copy, "grid");
    assert_ptr_not_equal(copy, s);
    free(copy);
    /* an empty string is an answer when optional, a mistake when required */
    assert_int_equal(pgi_jr_get_string(&r, root, "empty", false, &s), PG_OK);
    assert_string_equal(s, "");
    assert_int_equal(pgi_jr_get_string(&r, root, "empty", true, &s), PG_EPARSE);
    expect_place(&err, PG_EPARSE, 2, 11, "$.empty", "must not be empty");
    /* absent and optional: the default stays */
    double x = 7;
    size_t n = 3;
    bool on = false;
    assert_int_equal(pgi_jr_get_number(&r, root, "nothing", false, 0, 1, &x), PG_OK);
    assert_near(x, 7, 0);
    assert_int_equal(pgi_jr_get_number(&r, root, "nothing", true, 0, 1, &x), PG_EPARSE);
    expect_place(&err, PG_EPARSE, 1, 1, "$", "the key 'nothing' is missing (a number)");
    assert_int_equal(pgi_jr_get_bool(&r, root, "on", false, &on), PG_OK);
    assert_true(on);
    assert_int_equal(pgi_jr_get_bool(&r, root, "name", false, &on), PG_EPARSE);
    expect_place(&err, PG_EPARSE, 1, 10, "$.name", "must be true or false, not a string");

    /* nested members: the path and the line of the value */
    assert_int_equal(pgi_jr_get_object(&r, root, "limits", true, &limits), PG_OK);
    size_t mark = pgi_jr_push_key(&r, "limits");
    assert_int_equal(pgi_jr_get_number(&r, limits, "low", true, 0, 1, &x), PG_OK);
    assert_near(x, 0.5, 0);
    assert_int_equal(pgi_jr_get_number(&r, limits, "low", true, 0.6, INFINITY, &x), PG_EPARSE);
    expect_place(&err, PG_EPARSE, 3, 20, "$.limits.low", "must be at least 0.6 (it is 0.5)");
    assert_int_equal(pgi_jr_get_number(&r, limits, "low", true, 0, 0.4, &x), PG_EPARSE);
    expect_place(&err, PG_EPARSE, 3, 20, "$.limits.low", "must be between 0 and 0.4");
    assert_int_equal(pgi_jr_get_number(&r, limits, "high", true, 0, 1, &x), PG_EPARSE);
    expect_place(&err, PG_EPARSE, 4, 21, "$.limits.high", "must be a number, not a string");
    assert_int_equal(pgi_jr_get_size(&r, limits, "low", true, 0, 9, &n), PG_EPARSE);
    expect_place(&err, PG_EPARSE, 3, 20, "$.limits.low",
                 "must be a whole number from 0 to 9 (it is 0.5)");
    pgi_jr_pop(&r, mark);
    assert_string_equal(r.path, "$");

    /* arrays: minimum length, elements by index */
    assert_int_equal(pgi_jr_get_array(&r, root, "steps", true, 4, &steps), PG_EPARSE);
    expect_place(&err, PG_EPARSE, 5, 11, "$.steps", "needs at least 4 elements");
    assert_int_equal(pgi_jr_get_array(&r, root, "steps", true, 3, &steps), PG_OK);
    assert_int_equal(pgi_jr_get_array(&r, root, "limits", true, 0, &steps), PG_EPARSE);
    expect_place(&err, PG_EPARSE, 3, 12, "$.limits", "must be an array, not an object");
    assert_int_equal(pgi_jr_get_size(&r, root, "steps", false, 0, 9, &n), PG_EPARSE);
    expect_place(&err, PG_EPARSE, 5, 11, "$.steps", "must be a whole number, not an array");
    assert_int_equal(n, 3);

    mark = pgi_jr_push_key(&r, "steps");
    pgi_jr_push_index(&r, 2);
    assert_int_equal(pgi_jr_fail(&r, PG_EMODEL, "step %d is odd", 3), PG_EMODEL);
    expect_place(&err, PG_EMODEL, 6, 12, "$.steps[2]", "step 3 is odd");
    pgi_jr_pop(&r, mark);
    pgi_jr_close(&r);
    assert_null(r.root);
}

static void
test_unknown_keys(void **state)
{
    (void)state;
    pgi_jr r;
    pg_error err = {0};
    assert_int_equal(pgi_jr_open(&r, "doc.json", doc, strlen(doc), &err), PG_OK);
    static const char *const keys[] = {"name", "empty", "limits", "steps", "on", NULL};
    static const char *const fewer[] = {"name", "empty", "limits", NULL};
    assert_int_equal(pgi_jr_check_keys(&r, r.root, "a grid", keys), PG_OK);
    assert_int_equal(pgi_jr_check_keys(&r, r.root, "a grid", fewer), PG_EPARSE);
    expect_place(&err, PG_EPARSE, 5, 11, "$.steps",
                 "unknown key 'steps' in a grid (the keys are: name, empty, limits)");
    assert_int_equal(pgi_jr_check_keys(&r, r.root, NULL, fewer), PG_EPARSE);
    expect_place(&err, PG_EPARSE, 5, 11, "$.steps",
                 "unknown key 'steps' (the keys are: name, empty, limits)");
    assert_string_equal(r.path, "$");
    pgi_jr_close(&r);
}

static void
test_place(void **state)
{
    (void)state;
    pgi_jr r;
    pg_error err = {0};
    assert_int_equal(pgi_jr_open(&r, "doc.json", doc, strlen(doc), &err), PG_OK);
    /* an error recorded without a place (by a model builder) gets the reader's place */
    size_t mark = pgi_jr_push_key(&r, "limits");
    pg_error_set(&err, PG_EMODEL, "low is above high");
    assert_int_equal(pgi_jr_place(&r, PG_EMODEL), PG_EMODEL);
    expect_place(&err, PG_EMODEL, 3, 12, "$.limits", "low is above high");
    /* one that has its place keeps it */
    pgi_jr_push_key(&r, "low");
    assert_int_equal(pgi_jr_place(&r, PG_EMODEL), PG_EMODEL);
    assert_string_equal(err.path, "$.limits");
    assert_int_equal(pgi_jr_place(&r, PG_OK), PG_OK);
    /* out of memory names the file only */
    pg_error_clear(&err);
    assert_int_equal(pgi_jr_nomem(&r), PG_ENOMEM);
    assert_int_equal(pgi_jr_place(&r, PG_ENOMEM), PG_ENOMEM);
    assert_string_equal(err.file, "doc.json");
    assert_int_equal(err.line, 0);
    assert_string_equal(err.path, "");
    pgi_jr_pop(&r, mark);
    /* a path longer than the buffer is cut, never overrun */
    char key[200];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    for (int i = 0; i < 10; i++)
        pgi_jr_push_key(&r, key);
    assert_true(strlen(r.path) < sizeof r.path);
    pgi_jr_pop(&r, mark);
    assert_string_equal(r.path, "$");
    /* no error object: the status alone */
    pgi_jr_close(&r);
    assert_int_equal(pgi_jr_open(&r, "doc.json", doc, strlen(doc), NULL), PG_OK);
    assert_int_equal(pgi_jr_fail_key(&r, PG_EPARSE, "x", "nothing to say"), PG_EPARSE);
    pgi_jr_close(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
