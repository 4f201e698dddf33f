"""Bad inputs raise a clear exception and never crash the interpreter: ppc dicts with missing
keys, wrong shapes, dtypes, NaN, infinities and huge finite numbers; non-contiguous arrays
(taken as they are); options of the wrong type or out of range; objects used after close();
invalid handles; file names that are folders, devices, missing or hold a NUL; FIFOs.

Each group of cases runs in a fresh interpreter (pgcli.run_cases), so that a crash is a failed
test naming the case, not a dead test run.
"""

import json
import os
import threading

import numpy as np
import pytest

import plurigrid
from conftest import case_path
from pgcli import example, run_cases

CASE9 = case_path("case9")
HELLO = example("hello-microworld.json")
PD = example("games/prisoners-dilemma.json")

# Code shared by the ppc cases: a valid ppc of case9 read by the package.
PPC = "ppc = plurigrid.World.read(%r).to_ppc()\n" % CASE9


def case(name, code, exc=None, *fragments):
    return (name, code, exc, list(fragments))


def test_bad_ppcs():
    run_cases([
        case("missing bus", PPC + "del ppc['bus']\nplurigrid.World.from_ppc(ppc)",
             "InputError", "'bus'"),
        case("missing baseMVA", PPC + "del ppc['baseMVA']\nplurigrid.run(ppc)",
             "InputError", "baseMVA"),
        # One row squeezed to one dimension (scipy.io.loadmat's squeeze_me) is a row.
        case("bus one-dimensional", PPC + "ppc['bus'] = ppc['bus'][:, 0]\n"
             "plurigrid.World.from_ppc(ppc)", "ParseError", "ppc['bus']", "13"),
        case("bus three-dimensional", PPC + "ppc['bus'] = ppc['bus'][None]\n"
             "plurigrid.World.from_ppc(ppc)", "InputError", "two-dimensional"),
        case("gen of strings", PPC + "ppc['gen'] = ppc['gen'].astype(str)\n"
             "plurigrid.World.from_ppc(ppc)", "InputError"),
        case("complex branch", PPC + "ppc['branch'] = ppc['branch'] * (1 + 1j)\n"
             "plurigrid.dcopf(ppc)", "InputError", "complex"),
        case("object bus", PPC + "b = ppc['bus'].astype(object); b[0, 2] = None\n"
             "ppc['bus'] = b\nplurigrid.World.from_ppc(ppc)", "InputError"),
        case("NaN load", PPC + "ppc['bus'][1, 2] = np.nan\nplurigrid.run(ppc)",
             "Error", "NaN", "PD"),
        case("infinite reactance", PPC + "ppc['branch'][2, 3] = np.inf\nplurigrid.pf(ppc)",
             "Error", "BR_X"),
        case("huge load in run", PPC + "ppc['bus'][4, 2] = 1e300\nplurigrid.run(ppc)",
             "ModelError", "1e+300", "range"),
        case("huge load in dcopf", PPC + "ppc['bus'][4, 2] = 1e300\nplurigrid.dcopf(ppc)",
             "ModelError", "1e+300"),
        case("huge cost in dcopf", PPC + "ppc['gencost'][0, 4] = 1e250\nplurigrid.dcopf(ppc)",
             "ModelError"),
        case("not a dict", "plurigrid.run([1, 2, 3])", "InputError", "list"),
        # A non-contiguous, Fortran-ordered or read-only ppc gives the same answers.
        case("non-contiguous ppc",
             PPC + "a = plurigrid.dcopf(ppc).objective\n"
             "big = np.zeros((ppc['bus'].shape[0], 2 * ppc['bus'].shape[1]))\n"
             "big[:, ::2] = ppc['bus']\nppc['bus'] = big[:, ::2]\n"
             "assert not ppc['bus'].flags.c_contiguous\n"
             "ppc['gen'] = np.asfortranarray(ppc['gen'])\n"
             "ppc['branch'].setflags(write=False)\n"
             "assert plurigrid.dcopf(ppc).objective == a"),
    ])


def test_bad_options():
    w = "w = plurigrid.World.read(%r)\n" % HELLO
    run_cases([
        case("negative horizon", w + "plurigrid.run(w, horizon=-1)", "InputError", "horizon"),
        case("fractional horizon", w + "plurigrid.run(w, horizon=1.5)", "InputError",
             "whole number"),
        case("horizon beyond size_t", w + "plurigrid.run(w, horizon=2**70)", "InputError"),
        case("horizon too long", w + "plurigrid.run(w, horizon=10**9)", "InputError",
             "too long"),
        case("bool as a count", w + "plurigrid.run(w, threads=True)", "InputError"),
        case("threads out of range", w + "plurigrid.run(w, threads=1000)", "InputError",
             "64"),
        case("NaN voll", w + "plurigrid.run(w, voll=float('nan'))", "InputError", "finite"),
        case("huge voll", w + "plurigrid.run(w, voll=1e300)", "InputError", "1e+06"),
        case("infinite time limit", w + "plurigrid.run(w, time_limit_s=float('inf'))",
             "InputError", "finite"),
        case("string gap", w + "plurigrid.run(w, mip_gap='0.1')", "InputError", "number"),
        case("gap of 2", w + "plurigrid.run(w, mip_gap=2)", "InputError", "[0, 1)"),
        case("huge step", w + "plurigrid.run(w, step_h=1e300)", "InputError", "step length"),
        case("negative step", w + "plurigrid.run(w, step_h=-1)", "InputError", "positive"),
        case("unknown network", w + "plurigrid.run(w, network='ac')", "InputError",
             "'dc' or 'copper'"),
        case("commitment not bool", w + "plurigrid.run(w, commitment='yes')", "InputError"),
        case("progress not callable", w + "plurigrid.run(w, progress=5)", "InputError",
             "callable"),
        case("start beyond the series", w + "plurigrid.run(w, start_step=10**6)",
             "ModelError", "1000000"),
        case("segments too many", w + "plurigrid.run(w, pwl_segments=2**31 - 1)",
             "InputError", "1000"),
        case("dcopf step missing", w + "plurigrid.dcopf(w, step=999)", "ModelError", "999"),
        case("unknown keyword", w + "plurigrid.run(w, horizn=3)", "TypeError", "horizn"),
        case("unknown chart", w + "plurigrid.run(w, horizon=2).svg('pie')", "InputError",
             "'schedule' or 'prices'"),
        case("game rounds too many", "plurigrid.game(%r, rounds=10**30)" % PD, "InputError",
             "rounds"),
        case("game negative seed", "plurigrid.game(%r, seed=-1)" % PD, "InputError", "seed"),
        case("game NaN tolerance", "plurigrid.game(%r, tolerance=float('nan'))" % PD,
             "InputError", "tolerance"),
        case("table column 2-D", "plurigrid.Table({'a': np.zeros((2, 2))})", "ValueError",
             "one-dimensional"),
        case("chart NaN x", "plurigrid.chart([0, np.nan], [])", "InputError", "finite"),
    ])


def test_closed_objects_and_invalid_handles():
    w = "w = plurigrid.World.read(%r)\n" % HELLO
    run_cases([
        case("closed world run", w + "w.close()\nw.close()\nplurigrid.run(w)", "ClosedError",
             "closed"),
        case("closed world dcopf", w + "w.close()\nplurigrid.dcopf(w)", "ClosedError"),
        case("closed world pf", w + "w.close()\nplurigrid.pf(w)", "ClosedError"),
        case("closed world names", w + "w.close()\nw.names('buses')", "ClosedError"),
        case("closed schedule text", w + "s = plurigrid.run(w, horizon=2)\ns.close()\n"
             "s.close()\ns.text()", "ClosedError", "closed"),
        case("closed schedule csv", w + "with plurigrid.run(w, horizon=2) as s:\n    pass\n"
             "s.to_csv()", "ClosedError"),
        case("closed schedule keeps arrays", w + "s = plurigrid.run(w, horizon=2)\n"
             "s.close()\nassert s.thermal_p.shape == (2, 1) and s.costs['total'].size == 2"),
        case("closed opf chart", "r = plurigrid.dcopf(%r)\nr.close()\nr.svg()" % CASE9,
             "ClosedError"),
        case("closed opf json", "r = plurigrid.dcopf(%r)\nr.close()\nr.to_json()" % CASE9,
             "ClosedError"),
        case("closed power flow", "p = plurigrid.PowerFlow(%r)\np.close()\np.close()\n"
             "p.solve()" % CASE9, "ClosedError"),
        # close() in one thread while others use the result: each call either gives its
        # answer or raises ClosedError, never reads freed memory.
        case("close under use from threads",
             w + "import threading\n"
             "for k in range(3):\n"
             "    s = plurigrid.run(w, horizon=2, ac=False)\n"
             "    o = plurigrid.dcopf(%r)\n"
             "    errs = []\n"
             "    def use(f):\n"
             "        for i in range(30):\n"
             "            try:\n"
             "                f()\n"
             "            except plurigrid.ClosedError:\n"
             "                pass\n"
             "            except Exception as e:\n"
             "                errs.append(e)\n"
             "    ts = [threading.Thread(target=use, args=(f,)) for f in\n"
             "          (s.text, s.to_csv, s.svg, o.to_json, o.svg)]\n"
             "    for t in ts: t.start()\n"
             "    s.close(); o.close()\n"
             "    for t in ts: t.join()\n"
             "    assert not errs, errs\n" % CASE9),
        case("NULL world", "plurigrid.World(ffi.NULL)", "InputError"),
        case("NULL typed world", "plurigrid.World(ffi.cast('pg_world *', 0))", "InputError"),
        case("foreign pointer as world", "plurigrid.World(ffi.new('int *'))", "InputError"),
        case("number as world", "plurigrid.World(12345)", "InputError"),
        case("NULL schedule", w + "plurigrid.Schedule(w, ffi.NULL, None)", "InputError"),
        case("foreign schedule",
             w + "plurigrid.Schedule(w, ffi.new('pg_dcopf_result *'), None)", "InputError"),
        case("NULL OPF result", w + "plurigrid.OPFResult(w, ffi.cast('pg_dcopf_result *', 0))",
             "InputError"),
        case("OPF result of no world",
             "plurigrid.OPFResult(None, ffi.new('pg_dcopf_result *'))", "InputError"),
        case("schedule as a world", w + "s = plurigrid.run(w, horizon=1)\nplurigrid.run(s)",
             "InputError", "Schedule"),
        case("None as world", "plurigrid.dcopf(None)", "InputError"),
        case("int as game", "plurigrid.game(42)", "InputError", "int"),
    ])


def test_power_flow_inputs():
    f = "f = plurigrid.PowerFlow(%r)\nn = f.n_loads\n" % CASE9
    run_cases([
        case("NaN loads", f + "f.set_loads(p_mw=np.full(n, np.nan))", "InputError", "finite"),
        case("infinite loads", f + "f.set_loads(q_mvar=np.full(n, -np.inf))", "InputError",
             "finite"),
        case("short vector", f + "f.set_loads(p_mw=np.ones(n - 1))", "InputError", "shape"),
        case("column vector", f + "f.set_loads(p_mw=np.ones((n, 1)))", "InputError", "shape"),
        case("string loads", f + "f.set_loads(p_mw=['1'] * n)", "InputError", "dtype"),
        case("complex loads", f + "f.set_loads(p_mw=np.ones(n) * 1j)", "InputError", "complex"),
        case("object loads", f + "f.set_loads(p_mw=np.array([None] * n))", "InputError"),
        case("index out of range", f + "f.set_loads(p_mw=1.0, index=[n])", "InputError",
             "out of range"),
        case("negative index", f + "f.set_loads(p_mw=1.0, index=[-1])", "InputError"),
        case("fractional index", f + "f.set_loads(p_mw=1.0, index=[0.5])", "InputError"),
        case("zero voltage setpoint", f + "f.set_gen(vm=np.zeros(f.n_gens))", "InputError",
             "> 0"),
        case("non-contiguous loads solve",
             f + "a = f.solve().vm.copy()\nf.set_loads(p_mw=np.repeat(f.load_p, 2)[::2])\n"
             "assert np.array_equal(f.solve().vm, a)"),
        # Huge finite loads: the solve ends (not converged), it does not crash or hang.
        case("huge loads", f + "f.set_loads(p_mw=np.full(n, 1e300))\n"
             "assert not f.solve().converged"),
        case("NaN option", "plurigrid.pf(%r, tol=float('nan'))" % CASE9, "InputError", "tol"),
        case("unknown option", "plurigrid.pf(%r, tolerance=1)" % CASE9, "InputError",
             "tolerance"),
    ])


def test_files_that_are_not_files(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    run_cases([
        case("folder as world", "plurigrid.run(%r, format='json')" % str(tmp_path),
             "FileError", str(tmp_path), "folder"),
        case("folder as case", "plurigrid.dcopf(%r)" % str(tmp_path), "Error"),
        case("folder as game", "plurigrid.game(%r)" % str(tmp_path), "FileError", "folder"),
        case("/dev/zero as world", "plurigrid.run('/dev/zero', format='json')", "FileError",
             "/dev/zero", "device"),
        case("/dev/zero as game", "plurigrid.game('/dev/zero')", "FileError", "device"),
        case("missing world", "plurigrid.run('/nonexistent/w.json')", "FileError",
             "/nonexistent/w.json"),
        case("missing game", "plurigrid.game('/nonexistent/g.json')", "FileError",
             "No such file"),
        case("NUL in a world name", "plurigrid.run(%r + '\\0.m')" % HELLO, "InputError",
             "NUL"),
        case("NUL in a game name", "plurigrid.game(%r + '\\0x')" % PD, "InputError", "NUL"),
        case("NUL in a format", "plurigrid.run(%r, format='json\\0m')" % HELLO, "InputError",
             "NUL"),
        case("empty file name", "plurigrid.game('')", "InputError", "non-empty"),
        case("deeply nested game file", "plurigrid.game(%r)" % str(deep), "ParseError"),
        case("deeply nested game dict",
             "d = {}\nc = d\nfor i in range(100000):\n    c['a'] = {}\n    c = c['a']\n"
             "plurigrid.game(d)", "InputError", "nested"),
        case("NaN in a game dict",
             "plurigrid.game({'format': 'plurigrid-game/1', 'x': float('nan')})",
             "InputError", "JSON"),
        case("object in a game dict",
             "plurigrid.game({'format': 'plurigrid-game/1', 'x': object()})", "InputError"),
        case("huge payoff", "import json\nd = json.load(open(%r))\n"
             "d['payoffs'][0][0][0] = 1e308\nplurigrid.game(d)" % PD, "ParseError",
             "$.payoffs[0][0][0]", "1e+300"),
        case("huge integer payoff", "import json\nd = json.load(open(%r))\n"
             "d['payoffs'][0][0][0] = 10**400\nplurigrid.game(d)" % PD, "ParseError",
             "<dict>"),
        case("a world that is not JSON", "plurigrid.run(%r, format='json')" % CASE9,
             "ParseError", CASE9),
        case("unwritable output", "plurigrid.dcopf(%r).to_json('/nonexistent/dir/x.json')"
             % CASE9, "FileError", "/nonexistent/dir"),
    ])


def test_fifo_world(tmp_path):
    """A world from a FIFO is read once, as the command reads it."""
    fifo = str(tmp_path / "world.json")
    os.mkfifo(fifo)
    text = open(HELLO, "rb").read()

    def writer():
        with open(fifo, "wb") as f:
            f.write(text)

    t = threading.Thread(target=writer)
    t.start()
    s = plurigrid.run(fifo, horizon=4, ac=False)
    t.join()
    assert s.n_steps == 4 and s.world_name == "hello-microworld"


def test_exceptions_carry_file_line_and_path(tmp_path):
    bad = json.load(open(HELLO))
    bad["thermals"][0]["pmax"] = "fifty"
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(bad, indent=1))
    with pytest.raises(plurigrid.ParseError) as e:
        plurigrid.run(str(p))
    assert e.value.file == str(p) and e.value.line > 1
    assert e.value.path == "$.thermals[0].pmax"
    assert isinstance(e.value, ValueError)
    assert str(e.value).startswith("%s:%d" % (p, e.value.line))
    with pytest.raises(plurigrid.InputError):
        plurigrid.run(HELLO, horizon=-2)
    try:
        plurigrid.run(HELLO, horizon=-2)
    except ValueError:  # InputError is a ValueError and a TypeError
        pass
    try:
        plurigrid.game("/nonexistent.json")
    except OSError as e:  # FileError is an OSError
        assert "/nonexistent.json" in str(e)


def test_arrays_given_back_are_copies():
    s = plurigrid.run(HELLO, horizon=3, ac=False)
    a = s.lmp
    assert a.flags.owndata or a.base is not None
    a[:] = -1  # the caller's to change: nothing in C sees it
    assert s.to_dict()["bus"][0]["lmp"] != [-1, -1, -1]
    r = plurigrid.dcopf(CASE9)
    assert np.all(np.isfinite(r.lmp)) and r.lmp.flags.writeable
