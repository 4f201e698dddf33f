/* Subjects of the lattice bus: which subjects and patterns are valid, and which subjects a
 * pattern matches (NATS rules: '*' one token, '>' as last token one or more), as tables. */
#include "harness.h"

#include "plurigrid/lattice.h"

static void
test_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool subject, pattern;
    } t[] = {
        {"a", true, true},
        {"pg.c1.market.7.bid", true, true},
        {"_INBOX.12", true, true},
        {"a-b_c~d!#$%&", true, true},
        {"*", false, true},
        {">", false, true},
        {"a.*.c", false, true},
        {"a.>", false, true},
        {"*.>", false, true},
        {"a.>.c", false, false},
        {"a*", false, false},
        {"a.b*.c", false, false},
        {">a", false, false},
        {"a>", false, false},
        {"", false, false},
        {".", false, false},
        {".a", false, false},
        {"a.", false, false},
        {"a..b", false, false},
        {"a b", false, false},
        {"a\tb", false, false},
        {"a\nb", false, false},
        {"caf\xc3\xa9", false, false},
        {"a\x7f", false, false},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        if (pg_bus_subject_valid(t[i].s, false) != t[i].subject ||
            pg_bus_subject_valid(t[i].s, true) != t[i].pattern)
            fail_msg("subject \"%s\": expected subject %d pattern %d", t[i].s, t[i].subject,
                     t[i].pattern);
    }
    assert_false(pg_bus_subject_valid(NULL, false));
    assert_false(pg_bus_subject_valid(NULL, true));
    /* length: at most PG_BUS_MAX_SUBJECT bytes */
    char s[PG_BUS_MAX_SUBJECT + 2];
    memset(s, 'x', sizeof s);
    s[PG_BUS_MAX_SUBJECT] = '\0';
    assert_true(pg_bus_subject_valid(s, false));
    s[PG_BUS_MAX_SUBJECT] = 'x';
    s[PG_BUS_MAX_SUBJECT + 1] = '\0';
    assert_false(pg_bus_subject_valid(s, false));
    assert_false(pg_bus_subject_valid(s, true));
}

static void
test_match(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *subject;
        bool match;
    } t[] = {
        {"a", "a", true},
        {"a", "b", false},
        {"a", "ab", false},
        {"ab", "a", false},
        {"a", "a.b", false},
        {"a.b", "a", false},
        {"a.b", "a.b", true},
        {"a.b", "a.c", false},
        {"*", "a", true},
        {"*", "a.b", false},
        {"a.*", "a.b", true},
        {"a.*", "a", false},
        {"a.*", "a.b.c", false},
        {"*.b", "a.b", true},
        {"*.b", "a.c", false},
        {"a.*.c", "a.x.c", true},
        {"a.*.c", "a.x.d", false},
        {"*.*", "a.b", true},
        {"*.*", "a.b.c", false},
        {">", "a", true},
        {">", "a.b.c", true},
        {"a.>", "a", false},
        {"a.>", "a.b", true},
        {"a.>", "a.b.c.d", true},
        {"a.>", "b.c", false},
        {"*.>", "a.b", true},
        {"*.>", "a", false},
        {"a.*.>", "a.b.c", true},
        {"a.*.>", "a.b", false},
        {"pg.c1.market.*.bid", "pg.c1.market.17.bid", true},
        {"pg.c1.market.*.bid", "pg.c1.market.17.clear", false},
        /* invalid on either side never matches */
        {"a.>.b", "a.x.b", false},
        {"a..b", "a..b", false},
        {"a", "*", false},
        {"a.*", "a.>", false},
        {"", "", false},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (pg_bus_subject_match(t[i].pattern, t[i].subject) != t[i].match)
            fail_msg("pattern \"%s\" subject \"%s\": expected %d", t[i].pattern, t[i].subject,
                     t[i].match);
    assert_false(pg_bus_subject_match(NULL, "a"));
    assert_false(pg_bus_subject_match("a", NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
