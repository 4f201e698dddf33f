"""plurigrid.run and plurigrid.dcopf equal the command's results (``plurigrid run --json``,
``--csv``, ``--plot``; ``plurigrid opf --dc --json``) on the hello microworld and MATPOWER cases,
and meet closed forms: without congestion every bus has the same price, equal to the marginal
cost of the units inside their limits; with one congested line the two sides are priced at
their own marginal units and the line's shadow price is their difference; every step balances.
"""

import json
import os

import numpy as np
import pytest

import plurigrid
from conftest import case_path, parse_case
from pgcli import cli_json, example, run_cli

HELLO = example("hello-microworld.json")


def drop_timings(d):
    """A dispatch or OPF document without its wall-clock times (the one part that differs
    between two identical solves)."""
    d = json.loads(json.dumps(d))
    d.get("commitment", {}).pop("seconds", None)
    d.get("problem", {}).pop("dispatch_seconds", None)
    d.pop("seconds", None)
    return d


@pytest.fixture(scope="module")
def hello():
    with plurigrid.run(HELLO) as s:
        yield s, s.to_dict()


@pytest.fixture(scope="module")
def command(tmp_path_factory):
    """One run of the command writing everything: its table (standard output), JSON, CSV and
    charts."""
    d = tmp_path_factory.mktemp("run")
    text = run_cli("run", HELLO, "--plot", d, "--json", d / "r.json", "--csv", d / "r.csv")
    return d, text


def test_run_equals_command_json(hello, command):
    s, d = hello
    folder, _ = command
    assert drop_timings(d) == drop_timings(json.loads((folder / "r.json").read_text()))


def test_arrays_are_the_json_numbers(hello):
    s, d = hello
    assert s.n_steps == d["steps"] == 24
    for g, unit in enumerate(d["thermal"]):
        assert s.thermals[g] == unit["name"]
        assert s.thermal_p[:, g].tolist() == unit["p"]
        assert s.thermal_on[:, g].astype(int).tolist() == unit["on"]
        assert s.thermal_start[:, g].astype(int).tolist() == unit["start"]
    for k, unit in enumerate(d["renewable"]):
        assert s.renewable_p[:, k].tolist() == unit["p"]
        assert s.renewable_avail[:, k].tolist() == unit["available"]
    for i, bus in enumerate(d["bus"]):
        assert s.lmp[:, i].tolist() == bus["lmp"]
        assert s.bus_demand[:, i].tolist() == bus["demand"]
    for k, br in enumerate(d["branch"]):
        assert s.branch_flow[:, k].tolist() == br["flow"]
    assert s.energy_price.tolist() == d["step"]["energy_price"]
    assert s.total_cost == d["totals"]["cost"]
    assert s.status == d["commitment"]["status"] == "optimal"
    assert s.ac is not None and s.ac["solved"].tolist() == d["ac"]["solved"]
    assert s.ac["losses_mw"].tolist() == d["ac"]["losses_mw"]
    assert s.thermal_p.dtype == np.float64 and s.thermal_on.dtype == np.bool_
    assert s.thermal_p.shape == (24, 1) and s.lmp.shape == (24, 3)


def test_every_step_balances_and_costs_add_up(hello):
    s, _ = hello
    supply = (s.thermal_p.sum(axis=1) + s.renewable_p.sum(axis=1)
              + s.storage_discharge.sum(axis=1) - s.storage_charge.sum(axis=1))
    demand = (s.bus_demand.sum(axis=1) - s.bus_unserved.sum(axis=1)
              + s.bus_overgen.sum(axis=1))
    np.testing.assert_allclose(supply, demand, atol=1e-6)
    parts = s.cost_variable + s.cost_fixed + s.cost_startup + s.cost_penalty
    assert parts.sum() == pytest.approx(s.total_cost, rel=1e-12)
    assert s.costs["total"].sum() == pytest.approx(s.total_cost, rel=1e-12)
    assert s.all_served and s.total_unserved_mwh == 0
    # The diesel unit runs only while committed, within its limits.
    assert np.all(s.thermal_p[~s.thermal_on] == 0)
    assert np.all(s.thermal_p <= 50 + 1e-9)
    assert s.units["energy_mwh"][0] == pytest.approx(s.thermal_p[:, 0].sum())


def test_text_csv_and_charts_equal_the_command(hello, command, tmp_path):
    s, _ = hello
    folder, text = command
    assert s.to_csv() == (folder / "r.csv").read_text()

    # The command's table is the library's report (then the names of the plots); its timing
    # line differs run to run.
    def stable(t):
        return [ln for ln in t.split("\n") if "Unit commitment:" not in ln
                and not ln.startswith("Plots:")]

    assert stable(s.text()) == stable(text)
    assert s.svg() == (folder / "dispatch.svg").read_text()
    assert s.svg("prices") == (folder / "prices.svg").read_text()
    assert s._repr_svg_() == s.svg("schedule")
    assert s.chart("prices")._repr_svg_().startswith("<?xml")
    s.to_json(tmp_path / "mine.json")
    assert drop_timings(json.loads((tmp_path / "mine.json").read_text())) == drop_timings(
        json.loads((folder / "r.json").read_text()))


def test_options_equal_the_command_flags():
    s = plurigrid.run(HELLO, network="copper", commitment=False, voll=5000, horizon=12,
                      start_step=6, ac=False)
    d = cli_json("run", HELLO, "--network", "copper", "--no-commitment", "--voll", "5000",
                 "--horizon", "12", "--start", "6", "--no-ac")
    assert drop_timings(s.to_dict()) == drop_timings(d)
    assert s.status == "none" and s.ac is None and s.n_steps == 12 and s.start_step == 6
    # On a copper plate every bus has the system price at every step.
    for i in range(s.lmp.shape[1]):
        np.testing.assert_array_equal(s.lmp[:, i], s.energy_price)
    assert np.all(s.branch_flow == 0)


def test_progress_is_reported_and_its_exception_raised():
    seen = []
    plurigrid.run(HELLO, horizon=3, progress=lambda ph, k, n: seen.append((ph, k, n)))
    phases = [p for p, _, _ in seen]
    assert phases[:4] == ["build", "commitment", "economic", "done"]
    assert ("ac", 2, 3) in seen

    def boom(ph, k, n):
        raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        plurigrid.run(HELLO, horizon=3, progress=boom)


def test_result_outlives_its_world_and_close():
    w = plurigrid.World.read(HELLO)
    s = plurigrid.run(w, horizon=4)
    w.close()  # the schedule keeps its own copy of the world
    assert "hello-microworld" in s.text()
    p = s.thermal_p.copy()
    s.close()
    s.close()
    assert s.closed and np.array_equal(s.thermal_p, p)  # arrays stay
    with pytest.raises(plurigrid.ClosedError):
        s.text()
    with pytest.raises(plurigrid.ClosedError):
        s.svg()
    assert s._repr_svg_() is None
    with pytest.raises(plurigrid.ClosedError):
        plurigrid.run(w)


@pytest.mark.parametrize("case", ["case9", "case30", "case118"])
def test_dcopf_equals_command_json(case):
    path = case_path(case)
    with plurigrid.dcopf(path) as r:
        mine = r.to_dict()
        assert drop_timings(mine) == drop_timings(cli_json("opf", path, "--dc"))
        assert r.lmp.tolist() == [b["lmp"] for b in mine["bus"]]
        assert r.pg.tolist() == [g["p"] for g in mine["thermal"]]
        assert r.flow.tolist() == [b["flow"] for b in mine["branch"]]
        assert r.objective == mine["objective"]
        assert r.bus_table["lmp"].tolist() == r.lmp.tolist()
        assert r.svg().startswith("<?xml") and r.svg("flows").count("<rect") > len(r.flow)


def test_dcopf_from_ppc_equals_from_file():
    path = case_path("case30")
    a = plurigrid.dcopf(path)
    b = plurigrid.dcopf(parse_case(path))
    assert b.objective == pytest.approx(a.objective, rel=1e-12)
    np.testing.assert_allclose(b.lmp, a.lmp, rtol=1e-9)
    np.testing.assert_allclose(b.pg, a.pg, rtol=1e-9, atol=1e-9)


def test_uncongested_prices_are_the_marginal_cost():
    """case9 has no binding limit: one price everywhere, equal to 2 c2 p + c1 of every unit
    strictly inside its limits (MATPOWER's gencost model 2)."""
    path = case_path("case9")
    ppc = parse_case(path)
    r = plurigrid.dcopf(path)
    assert np.all(np.abs(r.branch_price) < 1e-4)
    np.testing.assert_allclose(r.lmp, r.lmp[0], atol=1e-5)  # the QP solver's tolerance
    inside = 0
    for g, row in enumerate(ppc["gencost"]):
        assert row[0] == 2 and row[3] == 3
        c2, c1 = row[4], row[5]
        pmin, pmax = ppc["gen"][g, 9], ppc["gen"][g, 8]
        if pmin + 1e-6 < r.pg[g] < pmax - 1e-6:
            inside += 1
            assert 2 * c2 * r.pg[g] + c1 == pytest.approx(r.lmp[0], rel=1e-6)
    assert inside == 3
    # Power balance of the lossless network: generation equals the load.
    assert r.pg.sum() == pytest.approx(ppc["bus"][:, 2].sum() + ppc["bus"][:, 4].sum() / 1.0,
                                       rel=1e-9)


TWO_BUS = {
    "format": "plurigrid-world/1",
    "name": "two-bus",
    "base_mva": 100,
    "buses": [{"name": "a", "type": "ref"}, {"name": "b"}],
    "branches": [{"name": "ab", "from": "a", "to": "b", "x": 0.1, "rate_a": 60}],
    "loads": [{"name": "load", "bus": "b", "p": 100}],
    "thermals": [
        {"name": "cheap", "bus": "a", "pmax": 200, "cost": {"model": "polynomial",
                                                            "coef": [0, 10]}},
        {"name": "dear", "bus": "b", "pmax": 200, "cost": {"model": "polynomial",
                                                           "coef": [0, 50]}},
    ],
}


def test_congested_line_splits_the_prices():
    """The 60 MW line holds the cheap unit to 60 MW: bus a is priced at 10 $/MWh, bus b at
    50, and the line's shadow price is the difference."""
    w = plurigrid.World.from_json(json.dumps(TWO_BUS))
    r = plurigrid.dcopf(w)
    assert r.flow[0] == pytest.approx(60, abs=1e-6)
    assert r.pg.tolist() == pytest.approx([60, 40], abs=1e-6)
    assert r.lmp.tolist() == pytest.approx([10, 50], abs=1e-6)
    assert abs(r.branch_price[0]) == pytest.approx(40, abs=1e-6)
    assert r.objective == pytest.approx(60 * 10 + 40 * 50, rel=1e-9)
    s = plurigrid.run(w, commitment=False)
    assert s.n_steps == 1
    assert s.lmp[0].tolist() == pytest.approx([10, 50], abs=1e-6)
    assert s.branch_flow[0, 0] == pytest.approx(60, abs=1e-6)
    c = plurigrid.run(w, network="copper", commitment=False)
    assert c.lmp[0].tolist() == pytest.approx([10, 10], abs=1e-6)
    assert c.thermal_p[0].tolist() == pytest.approx([100, 0], abs=1e-6)


def test_world_file_named_in_model_errors(tmp_path):
    bad = dict(TWO_BUS)
    bad["thermals"] = [dict(TWO_BUS["thermals"][0], pmax=1e200)]
    p = tmp_path / "huge.json"
    p.write_text(json.dumps(bad))
    with pytest.raises(plurigrid.ModelError) as e:
        plurigrid.run(str(p))
    assert e.value.file == str(p)
    assert "1e+200" in str(e.value) or "1e200" in str(e.value)
    assert os.path.exists(p)
