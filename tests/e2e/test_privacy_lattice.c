/* plurigrid community --private --nats URL on a real nats-server: the aggregations carried by
 * NATS give the in-process private run's report byte for byte (the four homes of
 * examples/lattice, two days) (the clearing, the members' figures
 * and what each party saw), with no dropout and no refused message. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "nats_fixture.h"

static void
same_as_in_process(void **state)
{
    (void)state;
    char scen[4096], data[4096];
    snprintf(scen, sizeof scen, "%s", pgt_source_path("examples/lattice/scenario.json"));
    snprintf(data, sizeof data, "%s", pgt_data_path("citylearn-2022-fontana"));
    pgt_nats *s = pgt_nats_start();
    const char *in_args[] = {"community", scen,        "--data", data, "--days",
                             "1",         "--private", "--json", "-",  NULL};
    const char *nats_args[] = {"community", scen,     "--data",           data,     "--days", "1",
                               "--private", "--nats", pgt_nats_url(s, 0), "--json", "-",      NULL};
    char *a = NULL, *b = NULL, *ea = NULL, *eb = NULL;
    assert_int_equal(pgt_run_cli(in_args, NULL, &a, &ea), 0);
    int code = pgt_run_cli(nats_args, NULL, &b, &eb);
    if (code != 0)
        fail_msg("exit %d: %s", code, eb);
    assert_non_null(strstr(b, "\"privacy\""));
    assert_non_null(strstr(b, "\"dropouts\":0"));
    assert_non_null(strstr(b, "\"refused\":0"));
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(ea);
    free(eb);
    pgt_nats_stop(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(same_as_in_process, pgt_nats_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
