/* plurigrid worker as a user meets it: --help, the options it refuses and what it says, a server
 * that is not there, and `plurigrid --help` listing it. Its work with studies, and its clean stop
 * on SIGTERM, are tests/integration/test_study_nats.c's. */
#include "harness.h"

#include "nats_fixture.h"

static void
test_help(void **state)
{
    (void)state;
    const char *args[] = {"worker", "--help", NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Usage: plurigrid worker --nats URL"));
    assert_non_null(strstr(out, "--threads N"));
    assert_non_null(strstr(out, "--queue NAME"));
    assert_non_null(strstr(out, "SIGTERM"));
    free(out);
    free(err);
    const char *all[] = {"--help", NULL};
    assert_int_equal(pgt_run_cli(all, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "worker "));
    free(out);
    free(err);
}

static void
test_bad_usage(void **state)
{
    (void)state;
    const char *none[] = {"worker", NULL};
    PGT_EXPECT_CLI(none, 2, "--nats URL is required");
    const char *no_url[] = {"worker", "--nats", NULL};
    PGT_EXPECT_CLI(no_url, 2, "--nats needs");
    const char *threads[] = {"worker", "--nats", "nats://127.0.0.1:4222", "--threads", "0", NULL};
    PGT_EXPECT_CLI(threads, 2, "--threads");
    const char *threads2[] = {"worker", "--nats", "nats://127.0.0.1:4222", "--threads", "x", NULL};
    PGT_EXPECT_CLI(threads2, 2, "--threads");
    const char *queue[] = {"worker", "--nats", "nats://127.0.0.1:4222", "--queue", "a.b", NULL};
    PGT_EXPECT_CLI(queue, 2, "--queue needs a name");
    const char *level[] = {"worker",      "--nats", "nats://127.0.0.1:4222",
                           "--log-level", "loud",   NULL};
    PGT_EXPECT_CLI(level, 2, "--log-level");
    const char *unknown[] = {"worker", "--nats", "nats://127.0.0.1:4222", "--frobnicate", NULL};
    PGT_EXPECT_CLI(unknown, 2, "unknown option '--frobnicate'");
    const char *bad_url[] = {"worker", "--nats", "http://127.0.0.1:4222", NULL};
    PGT_EXPECT_CLI(bad_url, 2, "nats://");
}

static void
test_no_server(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "%s?connect_timeout=0.5", pgt_nats_closed_url());
    const char *args[] = {"worker", "--nats", url, NULL};
    PGT_EXPECT_CLI(args, 2, "cannot reach NATS server", "is nats-server running there?");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_bad_usage),
        cmocka_unit_test(test_no_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
