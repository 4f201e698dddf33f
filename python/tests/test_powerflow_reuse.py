"""A PowerFlow reused over many snapshots gives the same answers as fresh solves, to the bit.

Why to the bit: every solve starts from the world's own starting point (bus voltages, unit
setpoints), whatever was solved before; a reused solver keeps the symbolic analysis, the pivot
order and the factors of the starting Jacobian, which a fresh solver computes again from the
same matrix with the same operations. So the same floating-point operations run in the same
order, and the reuse changes the cost only (the solver's counters show no new analysis). Fresh
solves here are a new PowerFlow for each snapshot and, for every 50th snapshot, pg_pf_solve of a
world built from a ppc dict with the snapshot's loads (which does not use the setters at all)."""

import numpy as np
import pytest

from conftest import case_path, parse_case

FIELDS = ("vm", "va", "pg", "qg", "pf", "qf", "pt", "qt", "p", "q")


def bit_equal(a, b):
    return np.array_equal(np.asarray(a).view(np.uint64), np.asarray(b).view(np.uint64))


def ppc_with_loads(ppc, world, p, q):
    """The ppc of the case with each load's P and Q (loads are one per bus with a load)."""
    out = dict(ppc)
    out["bus"] = ppc["bus"].copy()
    bus = world.array("loads", "bus").astype(int)
    out["bus"][bus, 2] = p
    out["bus"][bus, 3] = q
    return out


@pytest.mark.parametrize("name,snapshots", [("case118", 1000), ("case2383wp", 20)])
def test_reuse_equals_fresh(plurigrid, name, snapshots):
    w = plurigrid.World.read(case_path(name))
    ppc = parse_case(case_path(name))
    rng = np.random.default_rng(16)
    flow = plurigrid.PowerFlow(w)
    p0, q0 = flow.load_p, flow.load_q
    for k in range(snapshots):
        s = rng.uniform(0.8, 1.2, len(p0))
        p, q = p0 * s, q0 * s
        flow.set_loads(p, q)
        r = flow.solve()
        assert r.converged, (k, r.reason)
        with plurigrid.PowerFlow(w) as fresh:
            fresh.set_loads(p, q)
            rf = fresh.solve()
            for f in FIELDS:
                assert bit_equal(getattr(r, f), getattr(rf, f)), (k, f)
            assert r.iterations == rf.iterations
        if k % 50 == 0:
            r2 = plurigrid.pf(ppc_with_loads(ppc, w, p, q))
            for f in FIELDS:
                assert bit_equal(getattr(r, f), getattr(r2, f)), (k, f)
    info = flow.info
    assert info["analyses"] == 1
    assert info["refactorizations"] >= snapshots
    # The caller's world was never changed.
    assert bit_equal(w.array("loads", "p"), p0)


def test_setters_by_index_and_gen(plurigrid):
    w = plurigrid.World.read(case_path("case30"))
    flow = plurigrid.PowerFlow(w)
    p0 = flow.load_p
    flow.set_loads(p_mw=[10.0, 20.0], index=[0, 3])
    p = flow.load_p
    assert p[0] == 10.0 and p[3] == 20.0 and bit_equal(np.delete(p, [0, 3]), np.delete(p0, [0, 3]))
    flow.set_loads(q_mvar=0.0)
    assert not flow.load_q.any() and bit_equal(flow.load_p, p)
    vm = flow.gen_vm
    flow.set_gen(p_mw=np.float32(30), vm=np.array([1.02], dtype=np.float32), index=np.int64(1))
    assert flow.gen_p[1] == 30.0 and flow.gen_vm[1] == np.float64(np.float32(1.02))
    r = flow.solve()
    assert r.converged
    gb = flow.gen_bus[1]
    assert r.vm[gb] == pytest.approx(float(np.float32(1.02)), abs=1e-12)
    # The same world set up from a ppc gives the same answer.
    ppc = parse_case(case_path("case30"))
    ppc = ppc_with_loads(ppc, w, p, np.zeros_like(p))
    ppc["gen"] = ppc["gen"].copy()
    ppc["gen"][1, 1] = 30.0
    ppc["gen"][1, 5] = np.float64(np.float32(1.02))
    r2 = plurigrid.pf(ppc)
    assert bit_equal(r.vm, r2.vm) and bit_equal(r.pg, r2.pg)
    assert vm[0] == flow.gen_vm[0]


def test_results_outlive_changes_and_close(plurigrid):
    flow = plurigrid.PowerFlow(case_path("case9"))
    r1 = flow.solve()
    vm1 = r1.vm.copy()
    text = r1.text()
    flow.set_loads(flow.load_p * 1.1)
    r2 = flow.solve()
    assert not np.array_equal(r2.vm, vm1)
    assert np.array_equal(r1.vm, vm1) and "Bus" in text or text
    with pytest.raises(plurigrid.StateError):
        r1.text()  # the world changed since r1: its report would mix old flows and new loads
    assert r2.text()
    flow.close()
    flow.close()
    assert np.array_equal(r1.vm, vm1)  # results own their arrays
    for f in (flow.solve, lambda: flow.set_loads(1.0), lambda: flow.load_p, lambda: flow.info):
        with pytest.raises(plurigrid.ClosedError):
            f()
    assert "closed" in repr(flow)


def test_dc_and_q_lims_reuse_equal_fresh(plurigrid):
    w = plurigrid.World.read(case_path("case118"))
    rng = np.random.default_rng(3)
    for opts in ({"dc": True}, {"enforce_q_lims": True}):
        flow = plurigrid.PowerFlow(w, **opts)
        p0 = flow.load_p
        for k in range(20):
            p = p0 * rng.uniform(0.95, 1.05, len(p0))
            flow.set_loads(p)
            r = flow.solve()
            with plurigrid.PowerFlow(w, **opts) as fresh:
                fresh.set_loads(p)
                rf = fresh.solve()
            assert r.converged and r.dc == bool(opts.get("dc"))
            for f in FIELDS:
                assert bit_equal(getattr(r, f), getattr(rf, f)), (opts, k, f)


def test_setters_refuse_bad_values(plurigrid):
    flow = plurigrid.PowerFlow(case_path("case14"))
    n = flow.n_loads
    p0 = flow.load_p
    bad = [
        (dict(p_mw=np.full(n, np.nan)), "finite"),
        (dict(q_mvar=[np.inf] + [0.0] * (n - 1)), "finite"),
        (dict(p_mw=np.zeros(n + 1)), "vector of %d" % n),
        (dict(p_mw=np.zeros((n, 1))), "vector of %d" % n),
        (dict(p_mw=np.zeros(n, dtype=complex)), "real numbers"),
        (dict(p_mw=["1"] * n), "real numbers"),
        (dict(p_mw=np.zeros(n, dtype=bool)), "real numbers"),
        (dict(p_mw="12"), "real numbers"),
        (dict(p_mw=[1.0], index=[n]), "out of range"),
        (dict(p_mw=[1.0], index=[-1]), "out of range"),
        (dict(p_mw=[1.0], index=[0.0]), "whole numbers"),
        (dict(p_mw=[1.0, 2.0], index=[0]), "vector of 1"),
        (dict(p_mw=object()), "real numbers"),
    ]
    for kwargs, words in bad:
        with pytest.raises(plurigrid.InputError, match=words):
            flow.set_loads(**kwargs)
        assert bit_equal(flow.load_p, p0), kwargs  # nothing was written
    with pytest.raises(plurigrid.InputError, match="> 0"):
        flow.set_gen(vm=0.0)
    with pytest.raises(plurigrid.InputError, match="unknown power-flow option"):
        plurigrid.PowerFlow(case_path("case14"), tolerance=1e-9)
    with pytest.raises(plurigrid.InputError, match="tol"):
        plurigrid.pf(case_path("case14"), tol=float("nan"))
    with pytest.raises(plurigrid.InputError, match="True or False"):
        plurigrid.pf(case_path("case14"), dc="yes")
    # A non-contiguous or integer array is converted, not refused.
    twice = np.repeat(p0, 2)[::2]
    assert not twice.flags["C_CONTIGUOUS"]
    flow.set_loads(twice)
    flow.set_loads(np.arange(n))
    assert bit_equal(flow.load_p, np.arange(n, dtype=np.float64))
    assert flow.solve().converged


def test_threads_and_close_never_crash(plurigrid):
    """Solves and setters in threads while another thread closes the PowerFlow (or its world):
    every call either works or raises ClosedError; nothing reads freed memory."""
    import threading

    for closer in ("flow", "world"):
        flow = plurigrid.PowerFlow(case_path("case300"))
        p0 = flow.load_p
        errors, done = [], []

        def work():
            try:
                for k in range(200):
                    flow.set_loads(p0 * (1 + 0.001 * k))
                    r = flow.solve()
                    assert r.vm.shape == (300,)
            except plurigrid.ClosedError:
                done.append(True)
            except Exception as e:  # noqa: BLE001 - any other failure is the test's failure
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        (flow if closer == "flow" else flow.world).close()
        for t in threads:
            t.join()
        assert not errors, errors
        with pytest.raises(plurigrid.ClosedError):
            flow.solve()


def test_start_from_the_previous_solution(plurigrid):
    """set_start(previous vm, va): the same answers to within the tolerance, fewer iterations."""
    w = plurigrid.World.read(case_path("case2383wp"))
    cold = plurigrid.PowerFlow(w)
    warm = plurigrid.PowerFlow(w)
    p0, q0 = cold.load_p, cold.load_q
    its_cold = its_warm = 0
    for k in range(6):
        x = 0.8 + 0.02 * k
        for f in (cold, warm):
            f.set_loads(p0 * x, q0 * x)
        rc, rw = cold.solve(), warm.solve()
        assert rc.converged and rw.converged
        np.testing.assert_allclose(rw.vm, rc.vm, rtol=0, atol=1e-8)
        np.testing.assert_allclose(rw.va, rc.va, rtol=0, atol=1e-6)
        its_cold += rc.iterations
        its_warm += rw.iterations
        warm.set_start(rw.vm, rw.va)
    assert its_warm < its_cold
    with pytest.raises(plurigrid.InputError, match="> 0"):
        warm.set_start(vm=np.zeros(w.n_buses))
    with pytest.raises(plurigrid.InputError, match="vector of %d" % w.n_buses):
        warm.set_start(va=[0.0])
