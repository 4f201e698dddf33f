/* Bus positions through plurigrid convert: --layout places the buses of a MATPOWER case or of a
 * JSON world (the same positions as the library's pg_world_layout), keeps the buses a world
 * already places, refuses a MATPOWER output (which keeps no positions); a JSON to JSON
 * conversion keeps positions exactly, and a MATPOWER output notes that they are dropped. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/io.h"

static pg_world *
read_world(const char *path)
{
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_world_read(path, NULL, &w, NULL, &err))
        fail_msg("%s: %s", path, err.msg);
    return w;
}

static void
run_ok(const char *const *args, char **out, char **err)
{
    int rc = pgt_run_cli(args, NULL, out, err);
    if (rc != 0)
        print_error("exit %d: %s\n", rc, *err);
    assert_int_equal(rc, 0);
}

static void
test_layout_of_a_case(void **state)
{
    (void)state;
    const char *case118 = pgt_data_path("matpower/cases/case118.m");
    const char *json = pgt_tmp("case118.json");
    char *out = NULL, *err = NULL;
    const char *a[] = {"convert", case118, json, "--layout", NULL};
    run_ok(a, &out, &err);
    assert_non_null(strstr(out, "118 buses"));
    free(out);
    free(err);
    /* the command's positions are the library's */
    pg_world *got = read_world(json), *want = read_world(case118);
    pg_error e = {0};
    assert_int_equal(pg_world_layout(want, true, &e), PG_OK);
    char diff[300];
    bool eq = pg_world_equal(got, want, diff, sizeof diff);
    if (!eq)
        print_error("%s\n", diff);
    assert_true(eq);
    for (size_t i = 0; i < got->n_buses; i++)
        assert_true(isfinite(got->buses[i].x) && isfinite(got->buses[i].y));
    /* to standard output as well */
    const char *b[] = {"convert", case118, "-", "--to", "json", "--layout", NULL};
    run_ok(b, &out, &err);
    size_t len = 0;
    char *file = pgt_slurp(json, &len);
    assert_string_equal(out, file);
    free(file);
    free(out);
    free(err);
    pg_world_free(got);
    pg_world_free(want);
}

static void
test_positions_kept(void **state)
{
    (void)state;
    const char *in = pgt_tmp("placed.json"), *copy = pgt_tmp("copy.json");
    pgt_write(in,
              "{\"format\": \"plurigrid-world/1\", \"buses\": [\n"
              " {\"name\": \"a\", \"type\": \"ref\", \"x\": 0.1, \"y\": -250.125},\n"
              " {\"name\": \"b\", \"x\": 1e6, \"y\": 3},\n"
              " {\"name\": \"c\"}, {\"name\": \"d\"}],\n"
              " \"branches\": [{\"name\": \"ab\", \"from\": \"a\", \"to\": \"b\", \"x\": 0.1},\n"
              "  {\"name\": \"bc\", \"from\": \"b\", \"to\": \"c\", \"x\": 0.1},\n"
              "  {\"name\": \"cd\", \"from\": \"c\", \"to\": \"d\", \"x\": 0.1,\n"
              "   \"in_service\": false}]}\n");
    char *out = NULL, *err = NULL;
    /* JSON to JSON keeps them, unplaced buses stay unplaced */
    const char *a[] = {"convert", in, copy, NULL};
    run_ok(a, &out, &err);
    free(out);
    free(err);
    pg_world *w0 = read_world(in), *w1 = read_world(copy);
    assert_true(pg_world_equal(w0, w1, NULL, 0));
    assert_true(w1->buses[0].x == 0.1 && w1->buses[0].y == -250.125 && w1->buses[1].x == 1e6);
    assert_true(isnan(w1->buses[2].x) && isnan(w1->buses[3].y));
    /* --layout places c and d and leaves a and b where they are */
    const char *b[] = {"convert", in, copy, "--layout", NULL};
    run_ok(b, &out, &err);
    free(out);
    free(err);
    pg_world *w2 = read_world(copy);
    assert_true(w2->buses[0].x == 0.1 && w2->buses[0].y == -250.125);
    assert_true(w2->buses[1].x == 1e6 && w2->buses[1].y == 3);
    for (size_t i = 2; i < 4; i++) {
        assert_true(isfinite(w2->buses[i].x) && isfinite(w2->buses[i].y));
        /* next to b, not far away */
        double dx = w2->buses[i].x - 1e6, dy = w2->buses[i].y - 3;
        assert_true(sqrt(dx * dx + dy * dy) < 1000);
    }
    /* a MATPOWER case keeps no positions: a note says so */
    const char *c[] = {"convert", in, pgt_tmp("placed.m"), NULL};
    run_ok(c, &out, &err);
    assert_non_null(strstr(err, "note: bus positions on the drawing (x, y) are not written"));
    free(out);
    free(err);
    pg_world_free(w0);
    pg_world_free(w1);
    pg_world_free(w2);
}

static void
test_layout_usage(void **state)
{
    (void)state;
    const char *case9 = pgt_data_path("matpower/cases/case9.m");
    const char *a[] = {"convert", case9, pgt_tmp("out.m"), "--layout", NULL};
    PGT_EXPECT_CLI(a, 2, "--layout", "only a JSON world keeps");
    const char *b[] = {"convert", "--help", NULL};
    char *out = NULL, *err = NULL;
    run_ok(b, &out, &err);
    assert_non_null(strstr(out, "--layout"));
    free(out);
    free(err);
    /* a world whose placed bus is out of range: exit 2, naming the bus */
    const char *in = pgt_tmp("far.json");
    pgt_write(in, "{\"format\": \"plurigrid-world/1\", \"buses\": [{\"name\": \"far\", \"x\": 1e9, "
                  "\"y\": -1e9}, {\"name\": \"near\"}]}\n");
    const char *c[] = {"convert", in, pgt_tmp("far2.json"), "--layout", NULL};
    run_ok(c, &out, &err);
    free(out);
    free(err);
    pgt_write(in, "{\"format\": \"plurigrid-world/1\", \"buses\": [{\"name\": \"far\", \"x\": 2e9, "
                  "\"y\": 0}]}\n");
    PGT_EXPECT_CLI(c, 2, "far.json", "$.buses[0].x", "a drawing coordinate must be from");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_layout_of_a_case, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_positions_kept, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_layout_usage, pgt_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
