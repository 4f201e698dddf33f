/* N-1 contingency analysis and power-flow summaries: every outage of case14, case118 and case300,
 * and a sample of case2383wp, equals the outaged world solved from scratch (pg_pf_solve started
 * from the base-case solution), in voltages and in the summary's numbers; outages that island part
 * of the network are found with the load they cut off (checked against the islands the from-scratch
 * solve reports); an outage whose network cannot carry the load is reported as not converged; each
 * outage's numbers are the same bits whether it is studied alone, in a list or in another order;
 * bad options are refused. Summaries are checked on case9 against values computed by hand from
 * MATPOWER's solution. */
#include "harness.h"

#include "plurigrid/io.h"
#include "plurigrid/pf.h"

static pg_world *
load_case(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "matpower/cases/%s.m", name);
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_matpower_read_file(pgt_data_path(rel), &w, NULL, &err))
        fail_msg("%s: %s", name, err.msg);
    return w;
}

static pg_pf_contingency_result *
run(const pg_world *w, const size_t *branches, size_t n, bool keep)
{
    pg_pf_contingency_options o;
    pg_pf_contingency_options_init(&o);
    o.branches = branches;
    o.n_branches = n;
    o.keep_states = keep;
    pg_pf_contingency_result *r = NULL;
    pg_error err = {0};
    int rc = pg_pf_contingency(w, &o, &r, &err);
    if (rc)
        fail_msg("contingency: %s", err.msg);
    return r;
}

/* w with branch l out, started from base's solution, solved from scratch. */
static pg_pf_result *
solve_outaged(const pg_world *w, const pg_pf_result *base, size_t l, pg_world **outaged)
{
    pg_world *c = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_clone(&c, w, &err), PG_OK);
    for (size_t b = 0; b < w->n_buses; b++)
        if (base->island[b] != PG_NONE && base->vm[b] > 0) {
            c->buses[b].vm = base->vm[b];
            c->buses[b].va = base->va[b];
        }
    c->branches[l].in_service = false;
    pg_pf_result *r = NULL;
    if (pg_pf_solve(c, NULL, &r, &err))
        fail_msg("solve without branch %zu: %s", l, err.msg);
    *outaged = c;
    return r;
}

/* Load (MW) of the islands of r that were not solved. */
static double
unsolved_load(const pg_pf_result *r)
{
    double sum = 0;
    for (size_t i = 0; i < r->n_islands; i++)
        if (r->islands[i].status != PG_PF_ISLAND_SOLVED)
            sum += r->islands[i].load_mw;
    return sum;
}

static size_t
solved_islands(const pg_pf_result *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_islands; i++)
        n += r->islands[i].status == PG_PF_ISLAND_SOLVED;
    return n;
}

/* Every in-service branch of w: the analysis equals the from-scratch solves. */
static void
check_outages(const pg_world *w, const size_t *branches, size_t n, bool may_diverge)
{
    pg_pf_contingency_result *cr = run(w, branches, n, true);
    assert_true(cr->base->converged);
    size_t in_service = 0;
    for (size_t l = 0; l < w->n_branches; l++)
        in_service += w->branches[l].in_service;
    assert_int_equal(cr->n_outages, n ? n : in_service);
    size_t solved = 0, islanding = 0, converged = 0;
    for (size_t k = 0; k < cr->n_outages; k++) {
        const pg_pf_outage *o = &cr->outages[k];
        pg_world *c = NULL;
        pg_pf_result *ref = solve_outaged(w, cr->base, o->branch, &c);
        if (o->status == PG_PF_OUTAGE_ISLANDING) {
            islanding++;
            /* the from-scratch solve leaves the cut-off part unsolved (no reference bus) */
            assert_true(ref->n_islands > cr->base->n_islands);
            assert_int_equal(solved_islands(ref), solved_islands(cr->base));
            assert_near(o->islanded_load_mw, unsolved_load(ref) - unsolved_load(cr->base), 1e-9);
            assert_null(o->vm);
        } else {
            assert_int_equal(o->status, PG_PF_OUTAGE_SOLVED);
            solved++;
            assert_int_equal(ref->n_islands, cr->base->n_islands);
            pg_pf_summary s;
            pg_pf_summarize(c, ref, PG_PF_RATE_A, &s);
            assert_int_equal(o->summary.converged, ref->converged);
            if (!o->summary.converged && may_diverge) {
                pg_pf_result_free(ref);
                pg_world_free(c);
                continue;
            }
            converged++;
            assert_true(o->summary.converged);
            assert_true(o->summary.max_mismatch < 1e-8);
            assert_true(o->summary.iterations >= 1);
            for (size_t b = 0; b < w->n_buses; b++) {
                assert_near(o->vm[b], ref->vm[b], 1e-7);
                assert_near(o->va[b], ref->va[b], 1e-6);
            }
            assert_near(o->summary.load_p, s.load_p, 1e-9);
            assert_near(o->summary.gen_p, s.gen_p, 1e-5);
            assert_near(o->summary.loss_p, s.loss_p, 1e-5);
            assert_near(o->summary.vm_min, s.vm_min, 1e-7);
            assert_near(o->summary.vm_max, s.vm_max, 1e-7);
            assert_near(o->summary.max_loading, s.max_loading, 1e-6);
            assert_int_equal(o->summary.n_overloads, s.n_overloads);
            assert_int_equal(o->summary.n_voltage_violations, s.n_voltage_violations);
            if (s.max_loading_branch != o->summary.max_loading_branch)
                assert_near(o->summary.max_loading, s.max_loading,
                            1e-9); /* a tie between two branches */
        }
        pg_pf_result_free(ref);
        pg_world_free(c);
    }
    assert_int_equal(cr->n_solved, solved);
    assert_int_equal(cr->n_converged, converged);
    assert_int_equal(cr->n_islanding, islanding);
    pg_pf_contingency_result_free(cr);
}

static void
check_every_outage(const pg_world *w)
{
    check_outages(w, NULL, 0, false);
}

/* case300: every outage (some do not converge; the analysis says so exactly when the
 * from-scratch solve does). */
static void
test_case300(void **state)
{
    (void)state;
    pg_world *w = load_case("case300");
    check_outages(w, NULL, 0, true);
    pg_world_free(w);
}

/* case2383wp: a sample of outages, among them the two that do not converge (branches 466 and 469
 * in MATPOWER's numbering) and one that islands. */
static void
test_case2383wp_sample(void **state)
{
    (void)state;
    pg_world *w = load_case("case2383wp");
    size_t list[40], n = 0;
    list[n++] = 465;
    list[n++] = 468;
    for (size_t l = 0; l < w->n_branches && n < 40; l += 97)
        list[n++] = l;
    check_outages(w, list, n, true);
    pg_world_free(w);
}

static void
test_case14(void **state)
{
    (void)state;
    pg_world *w = load_case("case14");
    check_every_outage(w);
    /* Branch 7-8 is the only one to bus 8 (a synchronous condenser, no load). */
    pg_pf_contingency_result *cr = run(w, NULL, 0, false);
    size_t found = 0;
    for (size_t k = 0; k < cr->n_outages; k++) {
        const pg_branch *br = &w->branches[cr->outages[k].branch];
        bool radial = w->buses[br->from].number == 7 && w->buses[br->to].number == 8;
        assert_int_equal(cr->outages[k].status == PG_PF_OUTAGE_ISLANDING, radial);
        found += radial;
    }
    assert_int_equal(found, 1);
    assert_int_equal(cr->n_islanding, 1);
    pg_pf_contingency_result_free(cr);
    pg_world_free(w);
}

static void
test_case118(void **state)
{
    (void)state;
    pg_world *w = load_case("case118");
    check_every_outage(w);
    pg_world_free(w);
}

/* case14 with a feeder hung off bus 14: bus 15 (12 MW) behind one branch, bus 16 (7 MW) behind
 * it. Taking either branch out cuts off the load beyond it. */
static void
test_islanding_load(void **state)
{
    (void)state;
    pg_world *w = load_case("case14");
    pg_error err = {0};
    size_t b14 = pg_world_find_bus_number(w, 14), b15, b16, l1, l2;
    pg_bus bus;
    pg_bus_init(&bus);
    bus.name = "feeder 15";
    bus.number = 15;
    bus.base_kv = w->buses[b14].base_kv;
    bus.vm = w->buses[b14].vm; /* the start: bus 14's (Newton from 16 degrees off diverges) */
    bus.va = w->buses[b14].va;
    assert_int_equal(pg_world_add_bus(w, &bus, &b15, &err), PG_OK);
    bus.name = "feeder 16";
    bus.number = 16;
    assert_int_equal(pg_world_add_bus(w, &bus, &b16, &err), PG_OK);
    pg_branch br;
    pg_branch_init(&br);
    br.name = "feeder 14-15";
    br.from = b14;
    br.to = b15;
    br.r = 0.01;
    br.x = 0.03;
    assert_int_equal(pg_world_add_branch(w, &br, &l1, &err), PG_OK);
    br.name = "feeder 15-16";
    br.from = b15;
    br.to = b16;
    assert_int_equal(pg_world_add_branch(w, &br, &l2, &err), PG_OK);
    pg_load ld;
    pg_load_init(&ld);
    ld.name = "load 15";
    ld.bus = b15;
    ld.p = 12;
    ld.q = 3;
    assert_int_equal(pg_world_add_load(w, &ld, NULL, &err), PG_OK);
    ld.name = "load 16";
    ld.bus = b16;
    ld.p = 7;
    ld.q = 1;
    assert_int_equal(pg_world_add_load(w, &ld, NULL, &err), PG_OK);
    assert_int_equal(pg_world_validate(w, &err), PG_OK);

    const size_t list[] = {l1, l2, 0};
    pg_pf_contingency_result *cr = run(w, list, 3, false);
    if (!cr->base->converged)
        fail_msg("base: %s", cr->base->reason);
    assert_int_equal(cr->n_outages, 3);
    assert_int_equal(cr->outages[0].status, PG_PF_OUTAGE_ISLANDING);
    assert_near(cr->outages[0].islanded_load_mw, 19, 1e-12);
    assert_int_equal(cr->outages[1].status, PG_PF_OUTAGE_ISLANDING);
    assert_near(cr->outages[1].islanded_load_mw, 7, 1e-12);
    assert_int_equal(cr->outages[2].status, PG_PF_OUTAGE_SOLVED);
    assert_int_equal(cr->n_islanding, 2);
    assert_int_equal(cr->n_solved, 1);
    pg_pf_contingency_result_free(cr);
    /* and every outage of this world equals its from-scratch solve */
    check_every_outage(w);
    pg_world_free(w);
}

/* case9 with an 80 MW load at a new bus 10 behind two parallel lines (x = 1 p.u. each): together
 * they carry up to about 100 MW to a unity power factor load, one alone about 50 MW. Taking one
 * out leaves a network with no solution: reported as not converged, as the from-scratch solve. A
 * branch already out of service is reported so. */
static void
test_diverging_outage(void **state)
{
    (void)state;
    pg_world *w = load_case("case9");
    pg_error err = {0};
    size_t b5 = pg_world_find_bus_number(w, 5), b10, l1, l2;
    pg_bus bus;
    pg_bus_init(&bus);
    bus.name = "far";
    bus.number = 10;
    bus.base_kv = w->buses[b5].base_kv;
    bus.vm = w->buses[b5].vm;
    bus.va = w->buses[b5].va;
    assert_int_equal(pg_world_add_bus(w, &bus, &b10, &err), PG_OK);
    pg_branch br;
    pg_branch_init(&br);
    br.name = "far a";
    br.from = b5;
    br.to = b10;
    br.x = 1.0;
    assert_int_equal(pg_world_add_branch(w, &br, &l1, &err), PG_OK);
    br.name = "far b";
    assert_int_equal(pg_world_add_branch(w, &br, &l2, &err), PG_OK);
    pg_load ld;
    pg_load_init(&ld);
    ld.name = "far load";
    ld.bus = b10;
    ld.p = 80;
    ld.q = 0;
    assert_int_equal(pg_world_add_load(w, &ld, NULL, &err), PG_OK);
    size_t l3;
    br.name = "far c (out of service)";
    br.in_service = false;
    assert_int_equal(pg_world_add_branch(w, &br, &l3, &err), PG_OK);
    assert_int_equal(pg_world_validate(w, &err), PG_OK);

    const size_t list[] = {l1, l3, l2, 1, 0};
    pg_pf_contingency_result *cr = run(w, list, 5, true);
    if (!cr->base->converged)
        fail_msg("base: %s", cr->base->reason);
    assert_int_equal(cr->outages[0].status, PG_PF_OUTAGE_SOLVED);
    assert_false(cr->outages[0].summary.converged);
    assert_int_equal(cr->outages[1].status, PG_PF_OUTAGE_OUT);
    assert_null(cr->outages[1].vm);
    assert_int_equal(cr->outages[2].status, PG_PF_OUTAGE_SOLVED);
    assert_false(cr->outages[2].summary.converged);
    assert_int_equal(cr->outages[3].status, PG_PF_OUTAGE_SOLVED); /* 4-5 */
    /* 1-4 is the only branch to bus 1, the reference: every load is cut off from it */
    assert_int_equal(cr->outages[4].status, PG_PF_OUTAGE_ISLANDING);
    assert_near(cr->outages[4].islanded_load_mw, 315 + 80, 1e-12);
    assert_int_equal(cr->n_solved, 3);
    assert_int_equal(cr->n_converged, cr->outages[3].summary.converged);
    assert_int_equal(cr->n_islanding, 1);
    /* as the from-scratch solves */
    for (int k = 0; k < 4; k++) {
        if (k == 1)
            continue;
        pg_world *c = NULL;
        pg_pf_result *ref = solve_outaged(w, cr->base, list[k], &c);
        assert_int_equal(cr->outages[k].summary.converged, ref->converged);
        pg_pf_result_free(ref);
        pg_world_free(c);
    }
    pg_pf_contingency_result_free(cr);
    pg_world_free(w);
}

static void
assert_same_outage(const pg_pf_outage *a, const pg_pf_outage *b, size_t nb)
{
    assert_int_equal(a->branch, b->branch);
    assert_int_equal(a->status, b->status);
    assert_memory_equal(&a->summary, &b->summary, sizeof a->summary);
    assert_memory_equal(&a->islanded_load_mw, &b->islanded_load_mw, sizeof(double));
    assert_int_equal(a->vm == NULL, b->vm == NULL);
    if (a->vm) {
        assert_memory_equal(a->vm, b->vm, nb * sizeof(double));
        assert_memory_equal(a->va, b->va, nb * sizeof(double));
    }
}

/* Each outage's numbers do not depend on the others studied nor on their order. */
static void
test_order_independence(void **state)
{
    (void)state;
    pg_world *w = load_case("case118");
    pg_pf_contingency_result *all = run(w, NULL, 0, true);
    size_t n = all->n_outages;
    size_t *rev = malloc(n * sizeof *rev);
    for (size_t k = 0; k < n; k++)
        rev[k] = all->outages[n - 1 - k].branch;
    pg_pf_contingency_result *back = run(w, rev, n, true);
    for (size_t k = 0; k < n; k++)
        assert_same_outage(&all->outages[k], &back->outages[n - 1 - k], w->n_buses);
    /* alone, and in a short list after another outage, and repeated */
    for (size_t k = 0; k < n; k += 17) {
        size_t one = all->outages[k].branch;
        pg_pf_contingency_result *alone = run(w, &one, 1, true);
        assert_same_outage(&all->outages[k], &alone->outages[0], w->n_buses);
        size_t pair[3] = {all->outages[(k * 7 + 3) % n].branch, one, one};
        pg_pf_contingency_result *after = run(w, pair, 3, true);
        assert_same_outage(&all->outages[k], &after->outages[1], w->n_buses);
        assert_same_outage(&all->outages[k], &after->outages[2], w->n_buses);
        pg_pf_contingency_result_free(alone);
        pg_pf_contingency_result_free(after);
    }
    free(rev);
    pg_pf_contingency_result_free(back);
    pg_pf_contingency_result_free(all);
    pg_world_free(w);
}

static void
count_progress(void *user, size_t done, size_t total)
{
    size_t *calls = user;
    assert_int_equal(done, calls[0] + 1);
    calls[0] = done;
    calls[1] = total;
}

static void
test_options(void **state)
{
    (void)state;
    pg_world *w = load_case("case14");
    pg_pf_contingency_options o;
    pg_pf_contingency_result *r = NULL;
    pg_error err = {0};
    pg_pf_contingency_options_init(&o);
    assert_int_equal(o.rating, PG_PF_RATE_A);
    assert_near(o.pf.tol, 1e-8, 0);
    o.pf.dc = true;
    assert_int_equal(pg_pf_contingency(w, &o, &r, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "dc"));
    pg_pf_contingency_options_init(&o);
    o.pf.enforce_q_lims = true;
    assert_int_equal(pg_pf_contingency(w, &o, &r, &err), PG_EINVAL);
    pg_pf_contingency_options_init(&o);
    size_t bad = w->n_branches;
    o.branches = &bad;
    o.n_branches = 1;
    assert_int_equal(pg_pf_contingency(w, &o, &r, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "out of range"));
    assert_null(r);
    /* stopped at once */
    pg_pf_contingency_options_init(&o);
    volatile int stop = 1;
    o.stop = &stop;
    assert_int_equal(pg_pf_contingency(w, &o, &r, &err), PG_ECANCELED);
    assert_null(r);
    /* progress: once per outage, in order */
    pg_pf_contingency_options_init(&o);
    size_t calls[2] = {0, 0};
    o.progress = count_progress;
    o.progress_user = calls;
    assert_int_equal(pg_pf_contingency(w, &o, &r, &err), PG_OK);
    assert_int_equal(calls[0], r->n_outages);
    assert_int_equal(calls[1], r->n_outages);
    pg_pf_contingency_result_free(r);
    r = NULL;
    /* a base case that does not converge: no outages, the base says why */
    pg_pf_contingency_options_init(&o);
    o.pf.max_iter = 1;
    assert_int_equal(pg_pf_contingency(w, &o, &r, &err), PG_OK);
    assert_false(r->base->converged);
    assert_int_equal(r->n_outages, 0);
    assert_false(r->base_summary.converged);
    pg_pf_contingency_result_free(r);
    pg_world_free(w);
}

/* case9's summary against MATPOWER's solution (reference/case9/pf_*.csv), by hand: load 315 MW,
 * generation 71.641 + 163 + 85 MW, losses the sum of Pf + Pt; voltages from 0.99563 (bus 9) to
 * 1.04 (bus 1); the most loaded branch 8-2 at |163 + j9.178| / 250 MVA. Then with limits moved so
 * that bus 9 and branch 8-2 violate them, against each rating. */
static void
test_summary_case9(void **state)
{
    (void)state;
    pg_world *w = load_case("case9");
    pg_pf_result *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_solve(w, NULL, &r, &err), PG_OK);
    pg_pf_summary s;
    pg_pf_summarize(w, r, PG_PF_RATE_A, &s);
    assert_true(s.converged);
    assert_int_equal(s.iterations, 4);
    assert_true(s.max_mismatch < 1e-8);
    assert_near(s.load_p, 315, 1e-9);
    assert_near(s.gen_p, 71.6410214745 + 163 + 85, 1e-6);
    double loss = 0;
    const double pft[9][2] = {{71.6410214745, -71.6410214745},
                              {30.7036697623, -30.5372628741},
                              {-59.4627371259, 60.8165859771},
                              {85, -85},
                              {24.1834140229, -24.0954174574},
                              {-75.9045825426, 76.3798661668},
                              {-163, 163},
                              {86.6201338332, -84.3201625184},
                              {-40.6798374816, 40.9373517122}};
    for (int l = 0; l < 9; l++)
        loss += pft[l][0] + pft[l][1];
    assert_near(s.loss_p, loss, 1e-6);
    assert_near(s.vm_min, 0.995630858048, 1e-9);
    assert_int_equal(s.vm_min_bus, 8);
    assert_near(s.vm_max, 1.04, 1e-12);
    assert_int_equal(s.vm_max_bus, 0);
    assert_int_equal(s.n_voltage_violations, 0);
    assert_near(s.max_loading, hypot(163, 9.17814884019) / 250, 1e-8);
    assert_int_equal(s.max_loading_branch, 6);
    assert_int_equal(s.n_overloads, 0);

    /* bus 9 below a raised vmin, bus 1 above a lowered vmax; branch 8-2 rated 150 MVA long term,
     * unlimited short term; 5-6 rated 50 MVA in emergencies (|60.8166 + j18.0748| = 63.45) */
    w->buses[8].vmin = 1.0;
    w->buses[0].vmax = 1.03;
    w->branches[6].rate_a = 150;
    w->branches[6].rate_b = 0;
    w->branches[2].rate_c = 50;
    pg_pf_summarize(w, r, PG_PF_RATE_A, &s);
    assert_int_equal(s.n_voltage_violations, 2);
    assert_near(s.max_loading, hypot(163, 9.17814884019) / 150, 1e-8);
    assert_int_equal(s.max_loading_branch, 6);
    assert_int_equal(s.n_overloads, 1);
    pg_pf_summarize(w, r, PG_PF_RATE_B, &s);
    assert_int_equal(s.max_loading_branch, 2); /* 5-6: |60.817 + j18.075| / 150 */
    assert_near(s.max_loading, hypot(60.8165859771, 18.0748357189) / 150, 1e-8);
    assert_int_equal(s.n_overloads, 0);
    pg_pf_summarize(w, r, PG_PF_RATE_C, &s);
    assert_int_equal(s.max_loading_branch, 2);
    assert_near(s.max_loading, hypot(60.8165859771, 18.0748357189) / 50, 1e-8);
    assert_int_equal(s.n_overloads, 1);
    /* no rated branch at all */
    for (size_t l = 0; l < w->n_branches; l++)
        w->branches[l].rate_a = 0;
    pg_pf_summarize(w, r, PG_PF_RATE_A, &s);
    assert_int_equal(s.max_loading_branch, PG_NONE);
    assert_near(s.max_loading, 0, 0);
    pg_pf_result_free(r);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_case9),    cmocka_unit_test(test_case14),
        cmocka_unit_test(test_case118),          cmocka_unit_test(test_islanding_load),
        cmocka_unit_test(test_case300),          cmocka_unit_test(test_case2383wp_sample),
        cmocka_unit_test(test_diverging_outage), cmocka_unit_test(test_order_independence),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
