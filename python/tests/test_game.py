"""plurigrid.game equals ``plurigrid game FILE --json -`` on every example game (classic games
and a scenario), with the same options; a dict gives the same report as its file, and a mistake
in it is named by its JSON path; a scenario's charts are the files ``--plot`` writes.
"""

import glob
import json
import os
import subprocess
import threading

import numpy as np
import pytest

import plurigrid
from pgcli import cli_json, example, run_cli

CLASSIC = sorted(
    p for p in glob.glob(example("games/*.json"))
    if json.load(open(p)).get("format") == "plurigrid-game/1"
)
# Under the sanitizers (slow) a sample of the kinds; the normal build checks every example.
SANITIZED = bool(os.environ.get("PG_SANITIZED"))
CHECKED = [p for p in CLASSIC if not SANITIZED or os.path.basename(p) in (
    "prisoners-dilemma.json", "auction-second-price.json", "cournot-duopoly.json")]
SCENARIO = example("games/georgia.json")


def test_there_are_classic_examples():
    assert len(CLASSIC) >= 8


@pytest.mark.parametrize("path", CHECKED, ids=os.path.basename)
def test_classic_report_equals_command(path, tmp_path):
    r = plurigrid.game(path)
    assert isinstance(r, plurigrid.GameReport) and isinstance(r, dict)
    # One run of the command: the text report on standard output, the JSON into a file.
    text = run_cli("game", path, "--json", tmp_path / "r.json")
    assert dict(r) == json.loads((tmp_path / "r.json").read_text())
    assert r["format"] == "plurigrid-game-report/1"
    assert r.failed == r["failed_expectations"] == 0
    assert r.text() == text
    t = r.profiles_table
    assert t["name"].tolist() == [p["name"] for p in r["profiles"]]
    assert t["equilibrium"].tolist() == [p["equilibrium"] for p in r["profiles"]]


def test_classic_options_equal_command_flags():
    path = example("games/matching-pennies.json")
    r = plurigrid.game(path, seed=7, rounds=300, tolerance=1e-6)
    # 300 rounds are too few for the file's expectations: the command exits 1, the report
    # says so and the call returns it (a negative result is not an exception).
    assert dict(r) == cli_json("game", path, "--seed", "7", "--rounds", "300", "--tol", "1e-6",
                               expect=(1,))
    assert r.failed == 2
    n = plurigrid.game(path, learning=False)
    assert dict(n) == cli_json("game", path, "--no-learning")
    assert all(p["source"] != "learning" for p in n["profiles"])


def test_prisoners_dilemma_closed_form():
    """(D, D) is the only equilibrium; (C, C) is not one, and a player gains 2 by defecting."""
    r = plurigrid.game(example("games/prisoners-dilemma.json"), learning=False)
    assert r["pure_equilibria"] == 1
    by_name = {p["name"]: p for p in r["profiles"]}
    assert by_name["mutual defection"]["equilibrium"] is True
    cc = by_name["mutual cooperation"]
    assert cc["equilibrium"] is False and cc["max_gain"] == 2


def test_dict_equals_file_and_errors_name_the_path():
    path = example("games/prisoners-dilemma.json")
    with open(path) as f:
        d = json.load(f)
    a, b = plurigrid.game(path), plurigrid.game(d)
    assert b["file"] == "<dict>"
    a.pop("file"), b.pop("file")
    assert a == b
    d["players"][1]["actions"] = ["C", "D", "E"]
    with pytest.raises(plurigrid.ParseError) as e:
        plurigrid.game(d)
    assert e.value.file == "<dict>" and e.value.path.startswith("$.payoffs")
    assert e.value.line > 0
    d2 = dict(json.load(open(path)), unknown_key=1)
    with pytest.raises(plurigrid.ParseError) as e:
        plurigrid.game(d2)
    assert "unknown_key" in str(e.value)
    sc = dict(json.load(open(SCENARIO)), turns=-5)
    with pytest.raises(plurigrid.ParseError) as e:
        plurigrid.game(sc)
    assert (e.value.file, e.value.path) == ("<dict>", "$.turns")
    with pytest.raises(plurigrid.ParseError, match="'format' is missing"):
        plurigrid.game({})


def test_scenario_report_equals_command_and_charts_equal_plot_files(tmp_path):
    r = plurigrid.game(SCENARIO, runs=12, turns=30, seed=3, threads=2)
    assert isinstance(r, plurigrid.ScenarioReport)
    assert dict(r) == cli_json("game", SCENARIO, "--runs", "12", "--turns", "30", "--seed", "3")
    run_cli("game", SCENARIO, "--runs", "12", "--turns", "30", "--seed", "3", "--plot",
            tmp_path)
    files = sorted(f for f in os.listdir(tmp_path) if f.endswith(".svg"))
    assert sorted(r.charts) == files and len(files) >= 5
    for name in files:
        assert r.charts[name].text == (tmp_path / name).read_text()
    assert r._repr_svg_() == r.svg("performance") == r.charts["performance.svg"].text
    assert r.performance.shape == (12, 31)
    assert np.all(np.isfinite(r.performance))
    # The report's mean performance per turn is the mean of the runs' indicators.
    np.testing.assert_allclose(r.performance.mean(axis=0), r["performance"]["mean"],
                               rtol=1e-12)
    np.testing.assert_allclose(np.median(r.performance, axis=0), r["performance"]["p50"],
                               rtol=1e-12)
    # A seed gives the same report whatever the number of threads.
    one = plurigrid.game(SCENARIO, runs=12, turns=30, seed=3, threads=1)
    assert dict(one) == dict(r)


def test_progress_and_its_exception():
    seen = []
    plurigrid.game(example("games/matching-pennies.json"), rounds=2000,
                   progress=lambda what, done, total: seen.append((what, done, total)))
    assert seen and seen[-1][1] == seen[-1][2]
    with pytest.raises(ZeroDivisionError):
        plurigrid.game(SCENARIO, runs=4, turns=5, progress=lambda w, d, t: 1 / 0)


def test_options_of_the_other_kind_are_refused():
    with pytest.raises(plurigrid.InputError, match="scenario files"):
        plurigrid.game(example("games/prisoners-dilemma.json"), runs=3)
    with pytest.raises(plurigrid.InputError, match="classic-game files"):
        plurigrid.game(SCENARIO, rounds=3)
    with pytest.raises(plurigrid.InputError, match="classic-game files"):
        plurigrid.game(SCENARIO, learning=False)
    with pytest.raises(plurigrid.LimitError):
        plurigrid.game(SCENARIO, runs=1000000, turns=100000)


def test_fifo_is_read_once(tmp_path):
    fifo = str(tmp_path / "game.fifo")
    os.mkfifo(fifo)
    path = example("games/battle-of-the-sexes.json")
    text = open(path, "rb").read()

    def writer():
        with open(fifo, "wb") as f:
            f.write(text)

    t = threading.Thread(target=writer)
    t.start()
    r = plurigrid.game(fifo)
    t.join()
    assert r["file"] == fifo
    a = plurigrid.game(path)
    r.pop("file"), a.pop("file")
    assert r == a


def test_standard_input_is_read_with_dash():
    code = ("import plurigrid, json; r = plurigrid.game('-', learning=False); "
            "print(json.dumps(r['file'])); print(r['pure_equilibria'])")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    import sys

    with open(example("games/prisoners-dilemma.json"), "rb") as f:
        p = subprocess.run([sys.executable, "-c", code], stdin=f, capture_output=True,
                           text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:2] == ['"standard input"', "1"]
