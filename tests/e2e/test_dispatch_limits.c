/* Large finite numbers and out-of-range options through the commands `plurigrid run` and
 * `plurigrid opf --dc`: each is refused with exit 2 and a message naming the component or option,
 * the value and the range the solvers take, never a solver's abort (run under AddressSanitizer
 * too, so a leak on the way out fails as well). Also: a step outside the world's series, and the
 * message for a branch without reactance in opf, which has no --network option. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

static char hello[4096];

static int
setup(void **state)
{
    (void)state;
    snprintf(hello, sizeof hello, "%s", pgt_source_path("examples/hello-microworld.json"));
    return 0;
}

static void
test_large_options(void **state)
{
    (void)state;
    const char *voll[] = {"run", hello, "--no-ac", "--voll", "1e30", NULL};
    PGT_EXPECT_CLI(voll, 2, "value of lost load", "1e+30", "1e+06");
    const char *over[] = {"run", hello, "--no-ac", "--overgen-cost", "1e30", NULL};
    PGT_EXPECT_CLI(over, 2, "over-generation", "1e+30", "1e+06");
    const char *opf_voll[] = {"opf", hello, "--dc", "--voll", "1e30", NULL};
    PGT_EXPECT_CLI(opf_voll, 2, "value of lost load", "1e+30");
    const char *t200[] = {"run", hello, "--no-ac", "--threads", "200", NULL};
    PGT_EXPECT_CLI(t200, 2, "threads must be between 1 and 64", "200");
    const char *t256[] = {"run", hello, "--no-ac", "--threads", "256", NULL};
    PGT_EXPECT_CLI(t256, 2, "threads must be between 1 and 64", "256");
    const char *t0[] = {"run", hello, "--no-ac", "--threads", "0", NULL};
    PGT_EXPECT_CLI(t0, 2, "threads must be between 1 and 64");
}

/* The largest thread count is taken, and --time-limit 0 means no limit. */
static void
test_option_limits_taken(void **state)
{
    (void)state;
    const char *args[] = {"run",          hello, "--no-ac", "--threads", "64",
                          "--time-limit", "0",   "--json",  "-",         NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "\"status\": \"optimal\""));
    free(out);
    free(err);
}

static void
test_large_world_values(void **state)
{
    (void)state;
    const struct {
        const char *file, *from, *to, *needle;
    } cases[] = {
        {"c25.json", "\"coef\": [0, 30]", "\"coef\": [0, 1e25]", "marginal cost at 0 MW of 1e+25"},
        {"q25.json", "\"coef\": [0, 30]", "\"coef\": [0, 30, 1e25]",
         "quadratic cost coefficient of 1e+25"},
        {"fixed.json", "\"fixed_cost\": 50", "\"fixed_cost\": 1e30", "fixed cost 1e+30 $/h"},
        {"startup.json", "\"startup_cost\": 100", "\"startup_cost\": 1e30",
         "start-up cost 1e+30 $"},
        {"pmax.json", "\"pmax\": 50", "\"pmax\": 1e30", "thermal unit 'diesel_gen' has pmax 1e+30"},
        {"load.json", "\"p\": 8, \"q\": 8", "\"p\": 1e30, \"q\": 8", "load 'load_1' has p 1e+30"},
        {"series.json", "\"values\": [1, 1, 1,", "\"values\": [1e30, 1, 1,",
         "time series 'active_load' at step 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *path = pgt_variant(hello, cases[i].file, cases[i].from, cases[i].to);
        const char *run[] = {"run", path, "--no-ac", NULL};
        PGT_EXPECT_CLI(run, 2, cases[i].needle, "outside the range the dispatch takes");
        const char *opf[] = {"opf", path, "--dc", NULL};
        PGT_EXPECT_CLI(opf, 2, cases[i].needle, "outside the range the dispatch takes");
    }
}

static void
test_opf_step_and_messages(void **state)
{
    (void)state;
    const char *step[] = {"opf", hello, "--dc", "--step", "99", NULL};
    PGT_EXPECT_CLI(step, 2, "step 99 does not exist", "0 to 23");
    const char *x0 = pgt_variant(hello, "x0.json", "\"x\": 0.025", "\"x\": 0");
    const char *opf[] = {"opf", x0, "--dc", NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(opf, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "branch 'line13' has zero reactance"));
    assert_null(strstr(err, "--network"));
    assert_null(strstr(err, "copper"));
    free(out);
    free(err);
    /* two steps of the day give two different results */
    const char *s6[] = {"opf", hello, "--dc", "--step", "6", NULL};
    const char *s12[] = {"opf", hello, "--dc", "--step", "12", NULL};
    char *out6, *out12;
    assert_int_equal(pgt_run_cli(s6, NULL, &out6, &err), 0);
    free(err);
    assert_int_equal(pgt_run_cli(s12, NULL, &out12, &err), 0);
    free(err);
    assert_non_null(strstr(out6, "Objective function value"));
    assert_string_not_equal(strstr(out6, "Objective"), strstr(out12, "Objective"));
    free(out6);
    free(out12);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_large_options),
        cmocka_unit_test(test_option_limits_taken),
        cmocka_unit_test(test_large_world_values),
        cmocka_unit_test(test_opf_step_and_messages),
    };
    return cmocka_run_group_tests(tests, setup, pgt_teardown_tmpdir);
}
