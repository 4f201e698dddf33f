"""ppc dicts: from_ppc gives the same world as reading the MATPOWER file (pg_world_equal, every
field to the bit); dict -> world -> dict is exact in every column plurigrid keeps; the shapes
pandapower's to_ppc and scipy.io.loadmat give are taken; bad ppcs are refused with the place."""

import numpy as np
import pytest

from conftest import CASES, case_path, parse_case

# Columns kept (0-based): bus 0-12; gen 0-9 and 18 (RAMP_30); branch 0-12.
GEN_KEPT = list(range(10)) + [18]


def assert_same_columns(a, b, cols):
    """Bit-equal (NaN equal to NaN, -0.0 not equal to 0.0) in the listed columns."""
    x = np.ascontiguousarray(a[:, cols]).view(np.uint64)
    y = np.ascontiguousarray(b[:, cols]).view(np.uint64)
    assert x.shape == y.shape
    bad = np.argwhere(x != y)
    assert bad.size == 0, "first difference at %s: %r vs %r" % (
        bad[0], a[:, cols][tuple(bad[0])], b[:, cols][tuple(bad[0])])


@pytest.mark.parametrize("name", CASES)
def test_from_ppc_equals_reading_the_file(plurigrid, name):
    w_file = plurigrid.World.read(case_path(name))
    ppc = parse_case(case_path(name))
    w_ppc = plurigrid.World.from_ppc(ppc, name=name, description=w_file.description)
    assert w_ppc.diff(w_file) is None
    assert w_ppc == w_file


@pytest.mark.parametrize("name", CASES)
def test_round_trip_is_exact(plurigrid, name):
    ppc = parse_case(case_path(name))
    back = plurigrid.World.from_ppc(ppc).to_ppc()
    assert back["baseMVA"] == ppc["baseMVA"]
    assert_same_columns(ppc["bus"], back["bus"], list(range(13)))
    assert_same_columns(ppc["branch"], back["branch"], list(range(13)))
    assert_same_columns(ppc["gen"], back["gen"], [c for c in GEN_KEPT if c < ppc["gen"].shape[1]])
    gc, gb = ppc["gencost"], back["gencost"]
    n = min(gc.shape[1], gb.shape[1])
    assert_same_columns(gc[: len(gb)], gb, list(range(n)))
    assert not gc[:, n:].any() and not gb[:, n:].any()
    if "bus_name" in ppc:
        assert back["bus_name"] == ppc["bus_name"]
    else:
        assert "bus_name" not in back
    # And the dict it gives is a ppc again: world -> dict -> world is the same world.
    assert plurigrid.World.from_ppc(back) == plurigrid.World.from_ppc(ppc)


def test_dropped_columns_are_noted_and_zero(plurigrid):
    ppc = parse_case(case_path("case9"))
    ppc["gen"][1, 19] = 7.0  # RAMP_Q
    ppc["gen"][2, 20] = 0.5  # APF
    w = plurigrid.World.from_ppc(ppc)
    notes = " | ".join(w.notes)
    assert "RAMP_Q" in notes and "APF" in notes
    back = w.to_ppc()
    assert back["gen"][1, 19] == 0 and back["gen"][2, 20] == 0


def test_short_and_long_matrices(plurigrid):
    """PYPOWER's shortest form (10 gen columns, 11 branch columns) and pandapower's longer one
    (result columns after the case's) give the world of the full case."""
    full = parse_case(case_path("case14"))
    w_full = plurigrid.World.from_ppc(full)
    short = dict(full)
    short["gen"] = full["gen"][:, :10]
    short["branch"] = full["branch"][:, :11]
    w_short = plurigrid.World.from_ppc(short)
    # ANGMIN/ANGMAX default to -360/360, which case14 states anyway.
    assert w_short.diff(w_full) is None
    long = dict(full)
    long["bus"] = np.hstack([full["bus"], np.ones((len(full["bus"]), 4))])
    long["gen"] = np.hstack([full["gen"], np.ones((len(full["gen"]), 4))])
    long["branch"] = np.hstack([full["branch"], np.ones((len(full["branch"]), 8))])
    long["internal"] = {"anything": 1}
    w_long = plurigrid.World.from_ppc(long)
    assert w_long.diff(w_full) is None
    assert any("internal" in n for n in w_long.notes)


def test_zero_based_bus_numbers(plurigrid):
    """pandapower numbers buses from 0: the world shifts them by one and to_ppc shifts back."""
    ppc = parse_case(case_path("case30"))
    zb = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in ppc.items()}
    zb["bus"][:, 0] -= 1
    zb["gen"][:, 0] -= 1
    zb["branch"][:, 0:2] -= 1
    w = plurigrid.World.from_ppc(zb)
    assert w.array("buses", "number")[0] == 1
    assert w.names("buses")[:3] == ["0", "1", "2"]
    back = w.to_ppc()
    for k in ("bus", "branch"):
        assert np.array_equal(back[k], zb[k])
    assert np.array_equal(back["gen"][:, GEN_KEPT], zb["gen"][:, GEN_KEPT])
    assert "bus_name" not in back
    r0, r1 = plurigrid.pf(zb), plurigrid.pf(ppc)
    assert np.array_equal(r0.vm, r1.vm)


def test_integer_and_float32_matrices(plurigrid):
    ppc = parse_case(case_path("case9"))
    ints = dict(ppc)
    ints["branch"] = ppc["branch"].copy()
    ints["branch"][:, 5:8] = np.round(ints["branch"][:, 5:8])
    ints["branch"] = ints["branch"]
    w1 = plurigrid.World.from_ppc(ints)
    ints2 = dict(ints)
    ints2["baseMVA"] = np.int64(100)
    ints2["bus"] = ppc["bus"]  # float
    w2 = plurigrid.World.from_ppc(ints2)
    assert w1 == w2


def loadmat_like(ppc, squeeze):
    """What scipy.io.loadmat gives for `save case.mat mpc` (-v7): a (1, 1) struct array whose
    fields are object cells holding 2-D arrays, '2' as a 1-element string array, baseMVA as a
    1x1 matrix; with squeeze_me=True a 0-d struct whose one-row matrices are vectors."""
    keys = [k for k in ("version", "baseMVA", "bus", "gen", "branch", "gencost") if k in ppc]
    dt = np.dtype([(k, object) for k in keys])
    rec = np.zeros((1, 1) if not squeeze else (), dtype=dt)
    for k in keys:
        v = ppc[k]
        if k == "version":
            v = np.array(["2"]) if not squeeze else "2"
        elif k == "baseMVA":
            v = np.array([[v]]) if not squeeze else float(v)
        elif squeeze and v.shape[0] == 1:
            v = v.reshape(-1)
        rec.reshape(1)[0][k] = v
    return {"__header__": b"MATLAB 5.0 MAT-file", "__version__": "1.0", "__globals__": [],
            "mpc": rec}


@pytest.mark.parametrize("squeeze", [False, True])
def test_loadmat_shapes(plurigrid, squeeze):
    ppc = parse_case(case_path("case9"))
    one_gen = dict(ppc)
    one_gen["gen"] = ppc["gen"][:1]  # one row: loadmat(squeeze_me=True) gives a vector
    one_gen["gencost"] = ppc["gencost"][:1]
    one_gen["bus"] = ppc["bus"].copy()
    one_gen["bus"][1:3, 1] = 1  # the other generators' buses become PQ buses
    want = plurigrid.World.from_ppc(one_gen)
    m = loadmat_like(one_gen, squeeze)
    assert plurigrid.World.from_ppc(m) == want
    assert plurigrid.World.from_ppc(m["mpc"]) == want
    assert plurigrid.pf(m).converged


def test_bad_ppcs_name_the_place(plurigrid):
    ppc = parse_case(case_path("case9"))
    with pytest.raises(plurigrid.InputError, match="'gen'"):
        plurigrid.World.from_ppc({k: v for k, v in ppc.items() if k != "gen"})
    bad = dict(ppc)
    bad["gen"] = ppc["gen"].copy()
    bad["gen"][2, 1] = np.nan
    with pytest.raises(plurigrid.ParseError) as e:
        plurigrid.World.from_ppc(bad)
    assert e.value.path == "ppc['gen'][2, 1] (PG)"
    assert "NaN" in e.value.message and e.value.line == 0
    bad = dict(ppc)
    bad["branch"] = ppc["branch"].copy()
    bad["branch"][0, 1] = 99
    with pytest.raises(plurigrid.ModelError) as e:
        plurigrid.World.from_ppc(bad)
    assert e.value.path == "ppc['branch'][0, 1] (T_BUS)" and "99" in e.value.message
    with pytest.raises(plurigrid.InputError, match="complex"):
        plurigrid.World.from_ppc(dict(ppc, bus=ppc["bus"].astype(complex)))
    with pytest.raises(plurigrid.InputError, match="two-dimensional"):
        plurigrid.World.from_ppc(dict(ppc, bus=ppc["bus"][None]))
    with pytest.raises(plurigrid.InputError, match="baseMVA"):
        plurigrid.World.from_ppc(dict(ppc, baseMVA=np.array([1.0, 2.0])))
    with pytest.raises(plurigrid.ParseError, match="columns"):
        plurigrid.World.from_ppc(dict(ppc, bus=ppc["bus"][:, :12]))
    with pytest.raises(plurigrid.InputError):
        plurigrid.World.from_ppc([1, 2, 3])
    with pytest.raises(plurigrid.InputError, match="case name"):
        plurigrid.World.from_ppc(ppc, name="not a name")


def test_files_round_trip(plurigrid, tmp_path):
    w = plurigrid.World.read(case_path("case118"))
    for ext in ("json", "m"):
        p = tmp_path / ("case118." + ext)
        w.write(p)
        assert plurigrid.World.read(p) == w
    assert plurigrid.World.from_json(w.to_json()) == w
    assert plurigrid.World.from_matpower(w.to_matpower(), name="x.m") == w
    with pytest.raises(plurigrid.FileError) as e:
        w.write(tmp_path / "no" / "such" / "dir.json")
    assert isinstance(e.value, OSError)
    with pytest.raises(plurigrid.UnsupportedError):
        plurigrid.World.read(tmp_path / "c.txt")
    (tmp_path / "bad.json").write_text('{"format": "plurigrid-world/1", "name": "x",\n "nope": 1}')
    with pytest.raises(plurigrid.ParseError) as e:
        plurigrid.World.read(tmp_path / "bad.json")
    assert e.value.file.endswith("bad.json") and e.value.line == 2 and e.value.path
    assert str(e.value).startswith(e.value.file + ":2")


def test_closed_world_is_refused(plurigrid):
    w = plurigrid.World.read(case_path("case9"))
    w2 = w.copy()
    w.close()
    w.close()
    for f in (lambda: w.n_buses, w.to_ppc, lambda: plurigrid.pf(w), lambda: w == w2,
              lambda: plurigrid.PowerFlow(w)):
        with pytest.raises(plurigrid.ClosedError):
            f()
    assert "closed" in repr(w)
    assert plurigrid.pf(w2).converged
