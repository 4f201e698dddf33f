/* Member files (plurigrid-member/1, src/community/member.c): the examples' member files, every key
 * read and its paths resolved from the member file's folder, each kind of mistake refused with
 * the file, line, JSON path and what is wrong (unknown keys, wrong types, negative and huge
 * numbers, a node configuration or a scenario given instead), files that are not member files
 * (missing, a folder, /dev/zero, a FIFO), the member and variant looked up in the scenario with
 * a few names listed when absent, and every allocation failing. */
#include "harness.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plurigrid/community.h"

/* Writes text as the member file name in the temporary folder and reads it. */
static int
read_text(const char *name, const char *text, pg_community_member *m, pg_error *err)
{
    const char *path = pgt_tmp(name);
    pgt_write(path, text);
    pg_error_clear(err);
    return pg_community_member_read(m, path, err);
}

/* The message of err as the command prints it. */
static const char *
message(const pg_error *err)
{
    static char buf[2048];
    return pg_error_format(err, buf, sizeof buf);
}

static void
test_examples(void **state)
{
    (void)state;
    pg_lattice_options def;
    pg_lattice_options_init(&def);
    for (int i = 1; i <= 4; i++) {
        char rel[64], name[32], want[4096];
        snprintf(rel, sizeof rel, "examples/lattice/home%d.json", i);
        snprintf(name, sizeof name, "home-%d", i);
        const char *path = pgt_source_path(rel);
        pg_community_member m;
        pg_error err = {0};
        assert_int_equal(pg_community_member_read(&m, path, &err), PG_OK);
        snprintf(want, sizeof want, "%s", path);
        strcpy(strrchr(want, '/') + 1, "scenario.json");
        assert_string_equal(m.community, want);
        assert_string_equal(m.name, name);
        assert_null(m.variant);
        assert_null(m.market);
        assert_null(m.data_dir);
        /* the community's ledger folder beside the member file (made by plurigrid ledger init) */
        strcpy(strrchr(want, '/') + 1, "ledger");
        assert_string_equal(m.ledger, want);
        assert_string_equal(m.lattice.ledger_dir, want);
        assert_int_equal(m.start_day, 0);
        assert_int_equal(m.days, 0);
        /* form_s and the wall clock are the file's; every other timing the default */
        assert_near(m.lattice.form_s, 60, 0);
        assert_near(m.lattice.heartbeat_s, def.heartbeat_s, 0);
        assert_near(m.lattice.timeout_s, def.timeout_s, 0);
        assert_near(m.lattice.retry_s, def.retry_s, 0);
        assert_near(m.lattice.interval_s, 1, 0);
        assert_true(m.lattice.wall_clock);
        assert_string_equal(m.lattice.transport, def.transport);
        pg_community_member_free(&m);
        assert_null(m.name); /* cleared: a second free does nothing */
        pg_community_member_free(&m);
    }
    pg_community_member_free(NULL);
}

static void
test_every_key(void **state)
{
    (void)state;
    pg_community_member m;
    pg_error err = {0};
    const char *dir = pgt_tmpdir();
    assert_int_equal(read_text("full.json",
                               "{\"format\": \"plurigrid-member/1\",\n"
                               " \"community\": \"sub/scenario.json\", \"name\": \"Building_7\",\n"
                               " \"variant\": \"with-devices\", \"market\": \"pay-as-bid\",\n"
                               " \"data\": \"../data\", \"start_day\": 180, \"days\": 7,\n"
                               " \"lattice\": {\"heartbeat_s\": 0.2, \"timeout_s\": 1.5, "
                               "\"retry_s\": 0.1, \"form_s\": 0,\n"
                               "   \"clock\": \"wall\", \"interval_s\": 2.5}}\n",
                               &m, &err),
                     PG_OK);
    char want[4096];
    snprintf(want, sizeof want, "%s/sub/scenario.json", dir);
    assert_string_equal(m.community, want);
    snprintf(want, sizeof want, "%s/../data", dir);
    assert_string_equal(m.data_dir, want);
    assert_string_equal(m.name, "Building_7");
    assert_string_equal(m.variant, "with-devices");
    assert_string_equal(m.market, "pay-as-bid");
    assert_int_equal(m.start_day, 180);
    assert_int_equal(m.days, 7);
    assert_near(m.lattice.heartbeat_s, 0.2, 0);
    assert_near(m.lattice.timeout_s, 1.5, 0);
    assert_near(m.lattice.retry_s, 0.1, 0);
    assert_near(m.lattice.form_s, 0, 0);
    assert_true(m.lattice.wall_clock);
    assert_near(m.lattice.interval_s, 2.5, 0);
    pg_community_member_free(&m);

    /* absolute paths are kept; "none" is a market; the simulation clock */
    assert_int_equal(read_text("abs.json",
                               "{\"format\": \"plurigrid-member/1\", \"community\": \"/x/s.json\", "
                               "\"name\": \"a\", \"market\": \"none\", \"data\": \"/d\", "
                               "\"lattice\": {\"clock\": \"simulation\"}}",
                               &m, &err),
                     PG_OK);
    assert_string_equal(m.community, "/x/s.json");
    assert_string_equal(m.data_dir, "/d");
    assert_string_equal(m.market, "none");
    assert_false(m.lattice.wall_clock);
    pg_community_member_free(&m);
}

typedef struct bad_case {
    const char *text;
    int code;
    const char *needles[4];
} bad_case;

#define HEAD "{\"format\": \"plurigrid-member/1\", \"community\": \"s.json\", \"name\": \"home-1\""

static void
test_bad_files(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"", PG_EPARSE, {"bad.json", "not valid JSON"}},
        {"[1]", PG_EPARSE, {"bad.json", "must be a plurigrid-member/1 object"}},
        {"{\"community\": \"s.json\", \"name\": \"a\"}", PG_EPARSE, {"'format' is missing"}},
        {"{\"format\": \"plurigrid-member/2\"}", PG_EPARSE, {"$.format", "plurigrid-member/1"}},
        {"{\"format\": 1}", PG_EPARSE, {"$.format", "must be a string"}},
        {"{\"format\": \"plurigrid-node/1\", \"name\": \"h\", \"devices\": []}",
         PG_EPARSE,
         {"$.format", "node configuration", "needs a member file", "\"community\""}},
        {"{\"format\": \"plurigrid-community/1\", \"name\": \"c\", \"nodes\": []}",
         PG_EPARSE,
         {"$.format", "community scenario", "plurigrid community SCENARIO --nats"}},
        {"{\"format\": \"plurigrid-member/1\", \"name\": \"a\"}", PG_EPARSE, {"'community'"}},
        {"{\"format\": \"plurigrid-member/1\", \"community\": \"s.json\"}", PG_EPARSE, {"'name'"}},
        {HEAD ", \"nmae\": 1}", PG_EPARSE, {"$.nmae", "unknown key 'nmae'"}},
        {HEAD ", \"name\": \"b\"}", PG_EPARSE, {"duplicate"}},
        {"{\"format\": \"plurigrid-member/1\", \"community\": 3, \"name\": \"a\"}",
         PG_EPARSE,
         {"$.community", "string"}},
        {"{\"format\": \"plurigrid-member/1\", \"community\": \"\", \"name\": \"a\"}",
         PG_EPARSE,
         {"$.community"}},
        {"{\"format\": \"plurigrid-member/1\", \"community\": \"s\", \"name\": 7}",
         PG_EPARSE,
         {"$.name", "string"}},
        {"{\"format\": \"plurigrid-member/1\", \"community\": \"s\", \"name\": \"a b\"}",
         PG_EPARSE,
         {"$.name", "1 to 63 letters"}},
        {"{\"format\": \"plurigrid-member/1\", \"community\": \"s\", \"name\": \"a.>\"}",
         PG_EPARSE,
         {"$.name", "1 to 63 letters"}},
        {HEAD ", \"variant\": \"\"}", PG_EPARSE, {"$.variant", "empty"}},
        {HEAD ", \"variant\": [\"a\"]}", PG_EPARSE, {"$.variant", "string"}},
        {HEAD ", \"market\": \"vickrey\"}",
         PG_EPARSE,
         {"$.market", "unknown market mechanism 'vickrey'", "uniform", "none"}},
        {HEAD ", \"data\": \"\"}", PG_EPARSE, {"$.data", "empty"}},
        {HEAD ", \"data\": false}", PG_EPARSE, {"$.data", "string"}},
        {HEAD ", \"start_day\": -1}", PG_EPARSE, {"$.start_day", "from 0 to 100000", "-1"}},
        {HEAD ", \"start_day\": 1.5}", PG_EPARSE, {"$.start_day", "whole number"}},
        {HEAD ", \"start_day\": \"3\"}", PG_EPARSE, {"$.start_day", "whole number"}},
        {HEAD ", \"days\": 0}", PG_EPARSE, {"$.days", "from 1 to 100000"}},
        {HEAD ", \"days\": 1e300}", PG_EPARSE, {"$.days", "from 1 to 100000"}},
        {HEAD ", \"days\": 99999999999999999999999}", PG_EPARSE, {"not valid JSON"}},
        {HEAD ", \"lattice\": 1}", PG_EPARSE, {"$.lattice", "object"}},
        {HEAD ", \"lattice\": {\"heartbeat\": 1}}",
         PG_EPARSE,
         {"$.lattice.heartbeat", "unknown key 'heartbeat'", "heartbeat_s"}},
        {HEAD ", \"lattice\": {\"heartbeat_s\": -1}}",
         PG_EPARSE,
         {"$.lattice.heartbeat_s", "between 0.01 and 86400", "-1"}},
        {HEAD ", \"lattice\": {\"heartbeat_s\": 0}}", PG_EPARSE, {"$.lattice.heartbeat_s"}},
        {HEAD ", \"lattice\": {\"timeout_s\": 1e300}}",
         PG_EPARSE,
         {"$.lattice.timeout_s", "between 0.01 and 86400"}},
        {HEAD ", \"lattice\": {\"retry_s\": \"1\"}}", PG_EPARSE, {"$.lattice.retry_s", "number"}},
        {HEAD ", \"lattice\": {\"form_s\": -0.5}}", PG_EPARSE, {"$.lattice.form_s"}},
        {HEAD ", \"lattice\": {\"interval_s\": 1e9}}", PG_EPARSE, {"$.lattice.interval_s"}},
        {HEAD ", \"lattice\": {\"clock\": \"fast\"}}",
         PG_EPARSE,
         {"$.lattice.clock", "\"simulation\" or \"wall\"", "fast"}},
        {HEAD ", \"lattice\": {\"clock\": true}}", PG_EPARSE, {"$.lattice.clock", "string"}},
        {HEAD ", \"lattice\": {\"heartbeat_s\": 2, \"timeout_s\": 2}}",
         PG_EMODEL,
         {"$.lattice.timeout_s", "longer than the heartbeat"}},
        {HEAD ", \"lattice\": {\"heartbeat_s\": 5}}",
         PG_EMODEL,
         {"$.lattice.heartbeat_s", "longer than the heartbeat"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pg_community_member m;
        memset(&m, 0x5a, sizeof m);
        pg_error err = {0};
        int rc = read_text("bad.json", cases[i].text, &m, &err);
        const char *msg = message(&err);
        if (rc != cases[i].code)
            fail_msg("case %zu (%s): status %d, not %d: %s", i, cases[i].text, rc, cases[i].code,
                     msg);
        assert_non_null(strstr(msg, "bad.json"));
        for (size_t k = 0; k < 4 && cases[i].needles[k]; k++)
            if (!strstr(msg, cases[i].needles[k]))
                fail_msg("case %zu (%s): '%s' is not in: %s", i, cases[i].text, cases[i].needles[k],
                         msg);
        /* nothing written on failure */
        unsigned char *p = (unsigned char *)&m;
        for (size_t k = 0; k < sizeof m; k++)
            assert_int_equal(p[k], 0x5a);
    }
    /* the line of the mistake */
    pg_community_member m;
    pg_error err = {0};
    assert_int_equal(read_text("line.json",
                               "{\n\"format\": \"plurigrid-member/1\",\n\"community\": \"s\",\n"
                               "\"name\": \"a\",\n\"lattice\": {\n  \"clock\": \"fast\"\n}}\n",
                               &m, &err),
                     PG_EPARSE);
    assert_int_equal(err.line, 6);
}

/* A file that is not one: missing, a folder, a device, and a FIFO (read once, as it comes). */
static void
test_not_files(void **state)
{
    (void)state;
    pg_community_member m;
    pg_error err = {0};
    assert_int_not_equal(pg_community_member_read(&m, pgt_tmp("missing.json"), &err), PG_OK);
    assert_non_null(strstr(message(&err), "missing.json"));
    pg_error_clear(&err);
    assert_int_not_equal(pg_community_member_read(&m, pgt_tmpdir(), &err), PG_OK);
    pg_error_clear(&err);
    assert_int_not_equal(pg_community_member_read(&m, "/dev/zero", &err), PG_OK);
    assert_non_null(strstr(message(&err), "/dev/zero"));

    const char *fifo = pgt_tmp("member.fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *text = HEAD ", \"days\": 2}";
        int fd = open(fifo, O_WRONLY);
        ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;
        _exit(n == (ssize_t)strlen(text) ? 0 : 1);
    }
    pg_error_clear(&err);
    int rc = pg_community_member_read(&m, fifo, &err);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(rc, PG_OK);
    assert_int_equal(m.days, 2);
    assert_string_equal(m.name, "home-1");
    pg_community_member_free(&m);

    /* a file larger than any member file */
    char *big = malloc((2 << 20) + 64);
    assert_non_null(big);
    memset(big, ' ', (2 << 20) + 63);
    big[0] = '{';
    big[(2 << 20) + 62] = '}';
    big[(2 << 20) + 63] = '\0';
    pg_error_clear(&err);
    assert_int_equal(read_text("big.json", big, &m, &err), PG_ELIMIT);
    free(big);
}

static pg_community *
read_scenario(const char *rel)
{
    pg_community *c = NULL;
    pg_community_options o;
    pg_community_options_init(&o);
    o.data_dir = pgt_data_path("citylearn-2022-fontana");
    o.days = 1;
    pg_error err = {0};
    if (pg_community_read(&c, pgt_source_path(rel), &o, &err) != PG_OK)
        fail_msg("%s: %s", rel, message(&err));
    return c;
}

static void
test_find(void **state)
{
    (void)state;
    pg_community *lat = read_scenario("examples/lattice/scenario.json");
    pg_community *s0 = read_scenario("examples/scenario0/scenario.json");
    pg_community_member m = {.community = "examples/lattice/scenario.json", .name = "home-3"};
    size_t node = 99, variant = 99;
    pg_error err = {0};
    assert_int_equal(pg_community_member_find(lat, &m, &node, &variant, &err), PG_OK);
    assert_int_equal(node, 2);
    assert_int_equal(variant, 0);
    assert_int_equal(pg_community_member_find(lat, &m, NULL, NULL, &err), PG_OK);

    /* an unknown member: every member of a small community, the first few of a large one */
    m.name = "home-9";
    node = 99;
    assert_int_equal(pg_community_member_find(lat, &m, &node, &variant, &err), PG_EMODEL);
    assert_int_equal(node, 99);
    assert_non_null(strstr(message(&err), "no member 'home-9'"));
    assert_string_equal(err.path, "$.name");
    assert_non_null(strstr(message(&err), "lattice-demo"));
    assert_non_null(strstr(message(&err), "its members are: home-1, home-2, home-3, home-4"));
    assert_null(strstr(message(&err), "in all"));
    m.community = "examples/scenario0/scenario.json";
    pg_error_clear(&err);
    assert_int_equal(pg_community_member_find(s0, &m, &node, &variant, &err), PG_EMODEL);
    assert_non_null(strstr(message(&err), "Building_1, Building_2, Building_3, Building_4, "
                                          "Building_5, ... (17 in all)"));
    assert_non_null(strstr(message(&err), "examples/scenario0/scenario.json"));

    /* variants */
    m.name = "Building_17";
    m.variant = "with-devices";
    assert_int_equal(pg_community_member_find(s0, &m, &node, &variant, &err), PG_OK);
    assert_int_equal(node, 16);
    assert_int_equal(variant, 1);
    m.variant = "as-measured";
    assert_int_equal(pg_community_member_find(s0, &m, &node, &variant, &err), PG_OK);
    assert_int_equal(variant, 0);
    m.variant = "with-device";
    variant = 99;
    pg_error_clear(&err);
    assert_int_equal(pg_community_member_find(s0, &m, &node, &variant, &err), PG_EMODEL);
    assert_int_equal(variant, 99);
    assert_non_null(strstr(message(&err), "no variant 'with-device'"));
    assert_string_equal(err.path, "$.variant");
    assert_non_null(strstr(message(&err), "as-measured, with-devices"));
    pg_community_free(lat);
    pg_community_free(s0);
}

static void
test_alloc_failures(void **state)
{
    (void)state;
    const char *path = pgt_tmp("alloc.json");
    pgt_write(path, HEAD ", \"variant\": \"v\", \"market\": \"uniform\", \"data\": \"d\", "
                         "\"lattice\": {\"clock\": \"wall\"}}");
    pg_community_member m;
    pg_error err = {0};
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pg_community_member_read(&m, path, &err), PG_OK);
    long n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    pg_community_member_free(&m);
    assert_true(n > 3);
    for (long i = 0; i < n; i++) {
        pgt_alloc_fail_after(i);
        pg_error_clear(&err);
        int rc = pg_community_member_read(&m, path, &err);
        pgt_alloc_fail_after(-1);
        if (rc == PG_OK) /* an allocation whose failure the code can take (jansson's) */
            pg_community_member_free(&m);
        else
            assert_int_equal(rc, PG_ENOMEM);
    }

    pg_community *s0 = read_scenario("examples/scenario0/scenario.json");
    pg_community_member bad = {.community = "s.json", .name = "nobody"};
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pg_community_member_find(s0, &bad, NULL, NULL, &err), PG_EMODEL);
    n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    for (long i = 0; i < n; i++) {
        pgt_alloc_fail_after(i);
        int rc = pg_community_member_find(s0, &bad, NULL, NULL, &err);
        pgt_alloc_fail_after(-1);
        assert_true(rc == PG_EMODEL || rc == PG_ENOMEM);
    }
    pg_community_free(s0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples),  cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_bad_files), cmocka_unit_test(test_not_files),
        cmocka_unit_test(test_find),      cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, pgt_teardown_tmpdir);
}
