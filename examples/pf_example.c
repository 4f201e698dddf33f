/* Solve the AC power flow of a microworld with libplurigrid, from a program of your own:
 *   cc pf_example.c $(pkg-config --cflags --libs plurigrid) -o pf_example
 *   ./pf_example examples/hello-microworld.json        (or any MATPOWER case, e.g. case9.m) */
#include <stdio.h>

#include <plurigrid/io.h>
#include <plurigrid/model.h>
#include <plurigrid/pf.h>

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s WORLD.json|CASE.m\n", argv[0]);
        return 2;
    }
    pg_error err = {0};
    pg_world *world = NULL;
    pg_pf_result *res = NULL;
    char msg[1400];
    if (pg_world_read(argv[1], NULL, &world, NULL, &err) != PG_OK ||
        pg_pf_solve(world, NULL, &res, &err) != PG_OK) {
        fprintf(stderr, "%s\n", pg_error_format(&err, msg, sizeof msg));
        pg_world_free(world);
        return 2;
    }
    printf("%s: %s in %d iterations, losses %.3f MW\n", world->name,
           res->converged ? "converged" : "did not converge", res->iterations, res->loss_p);
    for (size_t i = 0; i < world->n_buses; i++)
        printf("  %-8s %8.5f p.u. %9.4f deg\n", world->buses[i].name, res->vm[i], res->va[i]);
    int rc = res->converged ? 0 : 1;
    pg_pf_result_free(res);
    pg_world_free(world);
    return rc;
}
