"""Power flow of every MATPOWER case of the reference data, from Python, equals MATPOWER's own
solution (reference/<case>/pf_*.csv, dcpf_*.csv, summary.csv) to the tolerances of the C tests
(tests/unit/powerflow/test_pf_matpower.c): Vm 1e-6 p.u., Va 1e-5 degrees (modulo 360), unit and
branch powers 1e-4 MW/MVAr, iterations within one of MATPOWER's. Each case is solved through the
file path, and through a ppc dict read from the file by the tests' own parser (conftest.py)."""

import numpy as np
import pytest

from conftest import CASES, case_path, data_path, parse_case, read_csv


def reference(name, pre):
    out = {}
    for part in ("bus", "gen", "branch"):
        h, m = read_csv(data_path("matpower/reference/%s/%s_%s.csv" % (name, pre, part)))
        out[part] = {c: m[:, j] for j, c in enumerate(h)}
    with open(data_path("matpower/reference/%s/summary.csv" % name)) as f:
        for line in f:
            cols = line.strip().split(",")
            if cols[0] == pre:
                assert cols[1] == "1", "MATPOWER's %s of %s did not succeed" % (pre, name)
                out["iterations"] = int(cols[2])
    return out


def angle_diff(a, b):
    d = np.fmod(a - b, 360.0)
    d = np.where(d > 180, d - 360, d)
    return np.where(d < -180, d + 360, d)


def check(r, ref, name):
    assert r.converged, "%s: did not converge: %s" % (name, r.reason)
    assert r.all_solved
    assert np.array_equal(r.bus_numbers, ref["bus"]["bus_i"].astype(int))
    np.testing.assert_allclose(r.vm, ref["bus"]["Vm"], rtol=0, atol=1e-6)
    assert np.abs(angle_diff(r.va, ref["bus"]["Va_deg"])).max() <= 1e-5
    for ours, theirs in (("pg", "Pg"), ("qg", "Qg")):
        np.testing.assert_allclose(getattr(r, ours), ref["gen"][theirs], rtol=0, atol=1e-4)
    for k, c in (("pf", "Pf"), ("qf", "Qf"), ("pt", "Pt"), ("qt", "Qt")):
        np.testing.assert_allclose(getattr(r, k), ref["branch"][c], rtol=0, atol=1e-4)
    assert abs(r.iterations - ref["iterations"]) <= 1, (r.iterations, ref["iterations"])


@pytest.mark.parametrize("dc", [False, True], ids=["ac", "dc"])
@pytest.mark.parametrize("name", CASES)
def test_file_and_ppc_equal_matpower(plurigrid, name, dc):
    ref = reference(name, "dcpf" if dc else "pf")
    r_file = plurigrid.pf(case_path(name), dc=dc)
    check(r_file, ref, name)
    r_ppc = plurigrid.pf(parse_case(case_path(name)), dc=dc)
    check(r_ppc, ref, name + " (ppc)")
    # Same world, same solver: the two routes give the same numbers to the bit.
    for k in ("vm", "va", "pg", "qg", "pf", "qf", "pt", "qt"):
        assert np.array_equal(getattr(r_file, k), getattr(r_ppc, k)), k


def test_injections_are_units_minus_loads(plurigrid):
    """p and q (from the solved flows and shunts) equal what units inject minus what loads
    draw at each bus, to within the solver's mismatch."""
    w = plurigrid.World.read(case_path("case118"))
    r = plurigrid.pf(w)
    nb = w.n_buses
    gen_bus = w.array("thermals", "bus").astype(int)
    load_bus = w.array("loads", "bus").astype(int)
    p = np.bincount(gen_bus, r.pg, nb) - np.bincount(load_bus, w.array("loads", "p"), nb)
    q = np.bincount(gen_bus, r.qg, nb) - np.bincount(load_bus, w.array("loads", "q"), nb)
    np.testing.assert_allclose(r.p, p, rtol=0, atol=1e-6)
    np.testing.assert_allclose(r.q, q, rtol=0, atol=1e-6)
    assert abs(r.p.sum() - r.loss_p) < 1e-6


def test_result_dict_and_report(plurigrid):
    r = plurigrid.pf(case_path("case9"))
    d = r.as_dict()
    assert d["converged"] is True and d["iterations"] == r.iterations
    assert np.array_equal(d["vm"], r.vm) and d["vm"] is not r.vm
    d["vm"][0] = -1  # a copy: the result is untouched
    assert r.vm[0] == pytest.approx(1.04)
    assert d["loss_p"] == pytest.approx(r.pf.sum() + r.pt.sum())
    text = repr(r)
    assert "converged in 4 iterations" in text and "9 buses" in text
    assert "Bus Data" in r.text() or "bus" in r.text().lower()
    assert '"plurigrid-pf/1"' in r.to_json()
    assert r.check() is r


def test_enforce_q_lims_and_options(plurigrid):
    r = plurigrid.pf(case_path("case30"), enforce_q_lims=True)
    assert r.converged and r.q_lim_rounds >= 1
    w = plurigrid.World.read(case_path("case30"))
    qmin, qmax = w.array("thermals", "qmin"), w.array("thermals", "qmax")
    assert np.all(r.qg <= qmax + 1e-4) and np.all(r.qg >= qmin - 1e-4)
    r0 = plurigrid.pf(case_path("case30"), max_iter=1)
    assert not r0.converged and r0.reason
    with pytest.raises(plurigrid.NotConvergedError):
        r0.check()
