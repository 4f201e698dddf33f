/* The solver entry points the dispatch builder calls (lp.h). They check the problem's numbers
 * (pgi_lp_check: a solver must never see a number it aborts on) and reach the backend through its
 * table, so that the shared library does not load COIN-OR until a problem is solved. */
#include "dispatch/lp.h"

int
pgi_solve_lp(const pgi_lp *lp, const pgi_solve_options *o, pgi_solution *sol, pg_error *err)
{
    int rc = pgi_lp_check(lp, err);
    if (rc)
        return rc;
    const pgi_lp_backend *b = pgi_lp_backend_get(err);
    if (!b)
        return err ? err->code : PG_EUNSUPPORTED;
    return b->solve_lp(lp, o, sol, err);
}

int
pgi_solve_mip(const pgi_lp *lp, const pgi_solve_options *o, pgi_solution *sol, pg_error *err)
{
    int rc = pgi_lp_check(lp, err);
    if (rc)
        return rc;
    const pgi_lp_backend *b = pgi_lp_backend_get(err);
    if (!b)
        return err ? err->code : PG_EUNSUPPORTED;
    return b->solve_mip(lp, o, sol, err);
}

const char *
pgi_solver_versions(void)
{
    pg_error e = {0};
    const pgi_lp_backend *b = pgi_lp_backend_get(&e);
    return b ? b->versions() : "unavailable (the COIN-OR solver module could not be loaded)";
}
