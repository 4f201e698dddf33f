/* What kanban checks before it sends anything and how it keeps the token out of what it prints:
 * the repository name (only OWNER/NAME as GitHub allows it, so that it stays one repository's
 * path in the API), the token (one word, told without showing it), the hiding of the token in
 * any text a server sent back (whole, and cut short at the end), and JSON numbers written by
 * the project's one round-trip rule. */
#include "harness.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kanban/kanban.h"
#include "kanban/kanban_internal.h"

static void
assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle)) {
        print_error("expected to find \"%s\" in:\n%s\n", needle, hay);
        fail();
    }
}

static void
test_repo_check(void **state)
{
    (void)state;
    const char *ok[] = {
        "o/r",       "octocat/Hello-World",
        "a-b/c_d.e", "org/.github",
        "A1/x",      "abcdefghijabcdefghijabcdefghijabcdefghi/r", /* 39 characters */
        NULL};
    for (size_t k = 0; ok[k]; k++) {
        pg_error err = {0};
        if (pg_kanban_repo_check(ok[k], &err) != PG_OK)
            print_error("'%s' refused: %s\n", ok[k], err.msg);
        assert_int_equal(pg_kanban_repo_check(ok[k], &err), PG_OK);
    }
    char long_name[200];
    memset(long_name, 'n', sizeof long_name);
    memcpy(long_name, "o/", 2);
    long_name[2 + 101] = '\0';
    struct {
        const char *repo, *says;
    } bad[] = {
        {NULL, "no repository given"},
        {"", "no repository given"},
        {"../x", "has '..' in it"},
        {"o/..", "has '..' in it"},
        {"o/a..b", "has '..' in it"},
        {"o/.", "'.' is not one"},
        {".o/r", "an owner that starts with '.'"},
        {"-o/r", "an owner that starts with '-'"},
        {"o", "exactly one '/'"},
        {"o/r/s", "exactly one '/'"},
        {"o//r", "exactly one '/'"},
        {"/r", "the owner before the '/' is missing"},
        {"o/", "the name after the '/' is missing"},
        {"o/r?x", "has '?' in its name"},
        {"o%2F/r", "has '%' in its owner"},
        {"o/r x", "has a space in its name"},
        {"o/r\r\nX: y", "the byte 0x0D in its name"},
        {"o/\xc3\xa9", "the byte 0xC3 in its name"},
        {"abcdefghijabcdefghijabcdefghijabcdefghij/r", "an owner of 40 characters: GitHub allows "
                                                       "at most 39"},
        {long_name, "a name of 101 characters: GitHub allows at most 100"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        pg_error err = {0};
        assert_int_equal(pg_kanban_repo_check(bad[k].repo, &err), PG_EINVAL);
        assert_contains(err.msg, bad[k].says);
        /* What is shown of the name is printable. */
        for (const char *p = err.msg; *p; p++)
            assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7F);
    }
}

static void
test_token_check(void **state)
{
    (void)state;
    pg_error err = {0};
    assert_int_equal(pg_kanban_token_check("ghp_abcDEF0123456789", &err), PG_OK);
    assert_int_equal(pg_kanban_token_check("github_pat_11AB_cd", &err), PG_OK);
    struct {
        const char *token, *says;
    } bad[] = {
        {"", "empty"},
        {"secret-one\nsecret-two", "a line break inside it"},
        {"secret-one\rsecret-two", "a line break inside it"},
        {"secret-one secret-two", "a space or a tab"},
        {"secret-one\tsecret-two", "a space or a tab"},
        {"secret-one\x1bsecret-two", "a control character (byte 0x1B)"},
        {"secret-one\x7fsecret-two", "a control character (byte 0x7F)"},
        {"secret-one\xc3\xa9secret-two", "not ASCII"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        pg_error e = {0};
        assert_int_equal(pg_kanban_token_check(bad[k].token, &e), PG_EINVAL);
        assert_contains(e.msg, bad[k].says);
        assert_null(strstr(e.msg, "secret"));
    }
    char *huge = malloc(PG_KANBAN_MAX_TOKEN + 2);
    assert_non_null(huge);
    memset(huge, 'a', PG_KANBAN_MAX_TOKEN + 1);
    huge[PG_KANBAN_MAX_TOKEN + 1] = '\0';
    assert_int_equal(pg_kanban_token_check(huge, &err), PG_EINVAL);
    assert_contains(err.msg, "1025 characters long");
    huge[PG_KANBAN_MAX_TOKEN] = '\0';
    assert_int_equal(pg_kanban_token_check(huge, &err), PG_OK);
    free(huge);
}

static void
test_redact(void **state)
{
    (void)state;
    const char *t = "ghp_Zq7XwV3kLm9PbR2t";
    char out[200];
    pgi_kanban_redact("Bad credentials for ghp_Zq7XwV3kLm9PbR2t and ghp_Zq7XwV3kLm9PbR2t!", t, out,
                      sizeof out);
    assert_string_equal(out, "Bad credentials for [token hidden] and [token hidden]!");
    /* Cut short by a fixed buffer before it came here: the start of the token is hidden too. */
    pgi_kanban_redact("message ends in ghp_Zq7X", t, out, sizeof out);
    assert_string_equal(out, "message ends in [token hidden]");
    /* Cut here: a token that does not fit whole is never shown in part. */
    pgi_kanban_redact("0123456789ghp_Zq7XwV3kLm9PbR2t", t, out, 16);
    assert_string_equal(out, "0123456789[toke");
    /* Control characters become spaces; other text is kept as it is. */
    pgi_kanban_redact("a\nb\x1b[31mc\x7f", t, out, sizeof out);
    assert_string_equal(out, "a b [31mc ");
    pgi_kanban_redact("ghp_ is every token's start", t, out, sizeof out);
    assert_string_equal(out, "ghp_ is every token's start");
    /* No secret: only the control characters change. */
    pgi_kanban_redact("plain\ttext", NULL, out, sizeof out);
    assert_string_equal(out, "plain text");
    pgi_kanban_redact("plain", "", out, sizeof out);
    assert_string_equal(out, "plain");
    /* A multi-byte character cut at the end is not left half. */
    pgi_kanban_redact("caf\xc3\xa9", t, out, 5);
    assert_string_equal(out, "caf?");
    pgi_kanban_redact(NULL, t, out, sizeof out);
    assert_string_equal(out, "");
}

/* Numbers in kanban's JSON follow the project's one rule: the fewest digits that read back. */
static void
test_json_numbers(void **state)
{
    (void)state;
    const char *text = "Task 1: a (2 people, 0.1 hours)\nstep\n"
                       "Task 2: b (3 people, 20 hours)\nstep\n";
    pg_kanban_roadmap *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_kanban_parse(&r, text, strlen(text), "t.md", &err), PG_OK);
    char *json = NULL;
    assert_int_equal(pg_kanban_roadmap_json(r, "o/r", &json, &err), PG_OK);
    assert_contains(json, "\"hours\": 0.1,");
    assert_contains(json, "\"hours\": 20.0,");
    assert_contains(json, "\"people\": 3,");
    assert_contains(json, "\"repo\": \"o/r\"");
    assert_true(json[strlen(json) - 1] == '}'); /* no final newline: the caller adds one */
    free(json);
    assert_int_equal(pg_kanban_payloads_json(r, false, &json, &err), PG_OK);
    assert_contains(json, "\"labels\":[\"task\",\"estimate:0.1h\",\"people:2\"]");
    free(json);
    pg_kanban_free(r);
}

/* Every allocation of the JSON writers failing in turn: an error or the full text, never a
 * crash or a leak (the sanitizer build checks leaks). */
static void
test_json_allocation_failures(void **state)
{
    (void)state;
    pg_kanban_roadmap *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_kanban_read(&r, pgt_source_path("examples/roadmap.md"), &err), PG_OK);
    for (int which = 0; which < 2; which++) {
        char *want = NULL;
        pgt_alloc_fail_after(LONG_MAX);
        int rc = which ? pg_kanban_roadmap_json(r, "o/r", &want, &err)
                       : pg_kanban_payloads_json(r, true, &want, &err);
        long n = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        assert_int_equal(rc, PG_OK);
        assert_true(n > 0);
        for (long k = 0; k < n; k++) {
            char *got = NULL;
            pg_error e = {0};
            pgt_alloc_fail_after(k);
            rc = which ? pg_kanban_roadmap_json(r, "o/r", &got, &e)
                       : pg_kanban_payloads_json(r, true, &got, &e);
            pgt_alloc_fail_after(-1);
            if (rc == PG_OK) {
                assert_string_equal(got, want);
            } else {
                assert_int_equal(rc, PG_ENOMEM);
                assert_null(got);
            }
            free(got);
        }
        free(want);
    }
    pg_kanban_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repo_check),
        cmocka_unit_test(test_token_check),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_json_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
