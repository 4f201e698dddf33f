"""PYPOWER/MATPOWER ``ppc`` dicts to and from worlds (World.from_ppc, World.to_ppc).

From a ppc: the dict is normalised (scipy.io.loadmat's struct arrays, cells and 1x1 matrices
unwrapped; a one-row matrix that loadmat squeezed to one dimension made a row again; numbers
made float64; bus numbers shifted to start at 1 when some are 0 or negative), then written as
MATPOWER case text with every number in the shortest form that reads back to the same double,
and read by the library's MATPOWER reader. One mapping of columns to the model, in C, serves
both .m files and ppc dicts, so both give equal worlds.

To a ppc: the matrices the library's MATPOWER writer (src/model/io/matpower_write.c) writes for
the world, taken from the world's arrays.

Columns plurigrid does not keep (the reader reports them in the world's notes when non-zero):
bus columns 14 on (OPF results: LAM_P, LAM_Q, MU_VMAX, MU_VMIN); gen columns 11-18 and 20-21
(PC1, PC2, QC1MIN, QC1MAX, QC2MIN, QC2MAX, RAMP_AGC, RAMP_10, RAMP_Q, APF: capability curve,
AGC and reserve data no solver here uses) and 22 on (OPF results); branch columns 14 on (power
flow and OPF results: PF, QF, PT, QT, MU_*); gencost rows ng+1..2ng (reactive power costs).
"""

import re
from collections.abc import Mapping

import numpy as np

from ._errors import InputError

_KNOWN = {"version", "baseMVA", "bus", "gen", "branch", "gencost", "bus_name", "areas"}
_LOADMAT_META = {"__header__", "__version__", "__globals__"}
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


# ---------------------------------------------------------------------------- normalising


def _unwrap(v):
    """Unwraps what loadmat wraps: 1-element object arrays (cells) and 0-d arrays."""
    for _ in range(8):
        if isinstance(v, np.ndarray) and v.dtype == object and v.size == 1:
            v = v.reshape(-1)[0]
        elif isinstance(v, np.ndarray) and v.dtype.names is None and v.ndim == 0 and v.dtype != object:
            return v
        else:
            break
    return v


def _struct_to_dict(s):
    """A MATLAB struct as loadmat gives it (a structured array of shape (1, 1) or (), a
    mat_struct) as a dict; anything else is returned unchanged."""
    if isinstance(s, np.ndarray) and s.dtype.names is not None:
        if s.size != 1:
            raise InputError(
                "the ppc is a struct array of %d elements; one case (a 1x1 struct) is expected"
                % s.size
            )
        rec = s.reshape(-1)[0]
        return {k: _unwrap(rec[k]) for k in s.dtype.names}
    if isinstance(s, np.void) and s.dtype.names is not None:
        return {k: _unwrap(s[k]) for k in s.dtype.names}
    if hasattr(s, "_fieldnames"):  # scipy.io.matlab.mat_struct (struct_as_record=False)
        return {k: _unwrap(getattr(s, k)) for k in s._fieldnames}
    return s


def _as_case_dict(ppc):
    ppc = _struct_to_dict(_unwrap(ppc))
    if not isinstance(ppc, Mapping):
        raise InputError(
            "a ppc must be a dict of numpy arrays (baseMVA, bus, gen, branch, ...), got %s"
            % type(ppc).__name__
        )
    if "bus" not in ppc:
        # loadmat's dict of a whole .mat file: the case is its one struct variable (mpc, ppc).
        structs = [
            k
            for k, v in ppc.items()
            if k not in _LOADMAT_META and isinstance(_struct_to_dict(_unwrap(v)), Mapping)
        ]
        if len(structs) == 1:
            return _as_case_dict(ppc[structs[0]])
        raise InputError(
            "the ppc has no 'bus' matrix: a case needs 'baseMVA', 'bus', 'gen' and 'branch' "
            "(keys found: %s)" % (", ".join(sorted(map(str, ppc))) or "none")
        )
    return {k: _unwrap(v) for k, v in ppc.items()}


def _matrix(ppc, key, required=True):
    if key not in ppc or ppc[key] is None:
        if required:
            raise InputError(
                "the ppc has no %r matrix: a case needs 'baseMVA', 'bus', 'gen' and 'branch'" % key
            )
        return None
    v = ppc[key]
    if isinstance(v, (list, tuple)):
        try:
            v = np.array(v)
        except ValueError as e:
            raise InputError("ppc[%r] is not a rectangular matrix: %s" % (key, e)) from None
    if not isinstance(v, np.ndarray):
        raise InputError(
            "ppc[%r] must be a numpy array (a matrix of numbers), got %s" % (key, type(v).__name__)
        )
    if v.dtype.kind not in "fiu":
        what = {"b": "booleans", "c": "complex numbers", "O": "Python objects", "U": "strings"}
        raise InputError(
            "ppc[%r] holds %s (dtype %s); it must hold real numbers (float64 or integers)"
            % (key, what.get(v.dtype.kind, "values that are not numbers"), v.dtype)
        )
    if v.ndim == 1:
        # scipy.io.loadmat(squeeze_me=True) gives a one-row matrix as a vector.
        v = v.reshape(1, -1) if v.size else v.reshape(0, 0)
    if v.ndim != 2:
        raise InputError("ppc[%r] must be a two-dimensional matrix, got shape %s" % (key, v.shape))
    a = np.asarray(v, dtype=np.float64)
    if v.dtype.kind in "iu" and not np.array_equal(a.astype(v.dtype), v):
        raise InputError("ppc[%r] holds integers too large to be exact as float64" % key)
    return a


def _scalar(ppc, key):
    if key not in ppc:
        raise InputError("the ppc has no %r: a case needs the system base in MVA" % key)
    v = ppc[key]
    if isinstance(v, np.ndarray):
        if v.size != 1 or v.dtype.kind not in "fiu":
            raise InputError(
                "ppc[%r] must be one number (the system base in MVA), got an array of shape %s "
                "and dtype %s" % (key, v.shape, v.dtype)
            )
        v = v.reshape(-1)[0]
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise InputError(
            "ppc[%r] must be a number (the system base in MVA), got %s" % (key, type(v).__name__)
        )
    return float(v)


def _version(ppc):
    v = ppc.get("version")
    if v is None:
        return None
    if isinstance(v, np.ndarray):
        v = v.reshape(-1)[0] if v.size == 1 else v
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return repr(float(v)) if float(v) != int(v) else str(int(v))
    if isinstance(v, str):
        return "'" + v.replace("'", "''").replace("\n", " ") + "'"
    raise InputError("ppc['version'] must be '2' (a string or the number 2), got %r" % (v,))


def _names(ppc, nb):
    v = ppc.get("bus_name")
    if v is None:
        return None
    if isinstance(v, np.ndarray):
        v = [_unwrap(x) for x in v.reshape(-1)]
        v = [x.reshape(-1)[0] if isinstance(x, np.ndarray) and x.size == 1 else x for x in v]
    if isinstance(v, str) or not hasattr(v, "__len__"):
        raise InputError("ppc['bus_name'] must be a list of strings, one per bus")
    out = []
    for i, s in enumerate(v):
        if isinstance(s, np.str_):
            s = str(s)
        if not isinstance(s, str):
            raise InputError(
                "ppc['bus_name'][%d] must be a string, got %s" % (i, type(s).__name__)
            )
        if "\n" in s or "\r" in s or "\0" in s:
            raise InputError("ppc['bus_name'][%d] holds a line break or NUL: %r" % (i, s))
        out.append(s)
    return out


def _fmt_rows(m):
    rows = m.tolist()
    return "".join("\t" + "\t".join(map(repr, r)) + ";\n" for r in rows)


def ppc_to_matpower(ppc, name, description):
    """(MATPOWER text, bus number offset, notes) for a ppc."""
    if not isinstance(name, str) or not _IDENT.match(name) or len(name) > 120:
        raise InputError(
            "name %r is not usable as a case name: letters, digits and '_', starting with a "
            "letter (as a MATPOWER case function's name)" % (name,)
        )
    if description is not None and not isinstance(description, str):
        raise InputError("description must be a str or None")
    ppc = _as_case_dict(ppc)
    base = _scalar(ppc, "baseMVA")
    bus = _matrix(ppc, "bus")
    gen = _matrix(ppc, "gen")
    branch = _matrix(ppc, "branch")
    gencost = _matrix(ppc, "gencost", required=False)
    names = _names(ppc, bus.shape[0])
    version = _version(ppc)
    notes = []
    ignored = sorted(str(k) for k in ppc if k not in _KNOWN and k not in _LOADMAT_META)
    if ignored:
        notes.append("ppc keys not used by plurigrid were ignored: %s" % ", ".join(ignored))
    if "areas" in ppc and ppc["areas"] is not None and np.size(ppc["areas"]):
        notes.append("ppc['areas'] was ignored (plurigrid has no area interchange)")

    offset = 0
    if bus.shape[0] and bus.shape[1] >= 1:
        nums = bus[:, 0]
        if np.all(np.isfinite(nums)) and np.all(nums == np.floor(nums)):
            lo = nums.min()
            if lo <= 0 and lo > -(2**31):
                offset = int(1 - lo)
                bus = bus.copy()
                bus[:, 0] += offset
                if gen.shape[0] and gen.shape[1] >= 1:
                    gen = gen.copy()
                    gen[:, 0] += offset
                if branch.shape[0] and branch.shape[1] >= 2:
                    branch = branch.copy()
                    branch[:, 0:2] += offset
                if names is None:
                    names = ["%d" % int(x) for x in nums]
                notes.append(
                    "bus numbers start at %d: the world numbers them from 1 (each number + %d); "
                    "to_ppc gives the original numbers back" % (int(lo), offset)
                )

    parts = ["function mpc = %s\n" % name]
    if description:
        for line in description.split("\n"):
            if line.lstrip(" \t").startswith("{") and line.strip(" \t") == "{":
                line = " " + line
            parts.append("%" + line + "\n")
    parts.append("\n")
    if version is not None:
        parts.append("mpc.version = %s;\n" % version)
    parts.append("mpc.baseMVA = %r;\n" % base)
    for key, m in (("bus", bus), ("gen", gen), ("branch", branch), ("gencost", gencost)):
        if m is None or (key == "gencost" and m.size == 0):
            continue
        if m.size == 0:
            parts.append("mpc.%s = [];\n" % key)
            continue
        parts.append("mpc.%s = [\n" % key)
        parts.append(_fmt_rows(m))
        parts.append("];\n")
    if names is not None:
        parts.append("mpc.bus_name = {\n")
        parts.extend("\t'%s';\n" % s.replace("'", "''") for s in names)
        parts.append("};\n")
    return "".join(parts), offset, notes


_PLACE = re.compile(r"^mpc\.(\w+) row (\d+), column (\d+)(?: \((\w+)\))?$")
_FIELD = re.compile(r"\bmpc\.(\w+)")


def rewrite_place(path):
    """The reader's place in the generated text in the ppc's words (0-based numpy indices):
    'mpc.gen row 3, column 2 (PG)' -> "ppc['gen'][2, 1] (PG)"."""
    m = _PLACE.match(path)
    if m:
        s = "ppc[%r][%d, %d]" % (m.group(1), int(m.group(2)) - 1, int(m.group(3)) - 1)
        return s + (" (%s)" % m.group(4) if m.group(4) else "")
    return _FIELD.sub(lambda mm: "ppc[%r]" % mm.group(1), path)


# ---------------------------------------------------------------------------- world to ppc


def world_to_ppc(world):
    w = world._ptr
    offset = world._ppc_bus_offset
    buses = world._view("buses")
    nb = len(buses)
    numbers = buses["number"].astype(np.float64)
    if nb and numbers.min() <= 0:
        bad = int(np.argmin(numbers))
        raise InputError(
            "bus %d has number %d; a ppc needs bus numbers > 0" % (bad, int(numbers[bad]))
        )
    out_numbers = numbers - offset if offset else numbers

    loads = world._view("loads")
    on = loads["in_service"] != 0
    lb = loads["bus"][on].astype(np.intp)
    pd = np.zeros(nb)
    qd = np.zeros(nb)
    count = np.bincount(lb, minlength=nb) if len(lb) else np.zeros(nb, dtype=np.intp)
    single = count[lb] == 1
    # One load at a bus: its value as it is (no 0.0 + p, which would turn -0.0 into 0.0).
    pd[lb[single]] = loads["p"][on][single]
    qd[lb[single]] = loads["q"][on][single]
    if not single.all():
        np.add.at(pd, lb[~single], loads["p"][on][~single])
        np.add.at(qd, lb[~single], loads["q"][on][~single])

    bus = np.zeros((nb, 13))
    bus[:, 0] = out_numbers
    bus[:, 1] = buses["type"]
    bus[:, 2] = pd
    bus[:, 3] = qd
    bus[:, 4] = buses["gs"]
    bus[:, 5] = buses["bs"]
    bus[:, 6] = buses["area"]
    bus[:, 7] = buses["vm"]
    bus[:, 8] = buses["va"]
    bus[:, 9] = buses["base_kv"]
    bus[:, 10] = buses["zone"]
    bus[:, 11] = buses["vmax"]
    bus[:, 12] = buses["vmin"]

    th = world._view("thermals")
    rn = world._view("renewables")
    st = world._view("storages")
    ng = len(th) + len(rn) + len(st)
    gen = np.zeros((ng, 21))
    k = len(th)
    gen[:k, 0] = out_numbers[th["bus"].astype(np.intp)] if k else 0
    gen[:k, 1] = th["p"]
    gen[:k, 2] = th["q"]
    gen[:k, 3] = th["qmax"]
    gen[:k, 4] = th["qmin"]
    gen[:k, 5] = th["vg"]
    gen[:k, 6] = th["mbase"]
    gen[:k, 7] = th["in_service"] != 0
    gen[:k, 8] = th["pmax"]
    gen[:k, 9] = th["pmin"]
    up, down = th["ramp_up"], th["ramp_down"]
    ramp = np.where(
        up == down, up, np.where(up == 0, down, np.where(down == 0, up, np.fmin(up, down)))
    )
    gen[:k, 18] = ramp / 2.0

    def vg_at(bus_idx):
        # The writer's rule: the voltage setpoint of the first thermal unit at the bus, else the
        # bus's starting voltage.
        for i in range(len(th)):
            if th["bus"][i] == bus_idx:
                return th["vg"][i]
        return buses["vm"][bus_idx]

    for j in range(len(rn)):
        r = rn[j]
        b = int(r["bus"])
        gen[k, :10] = [out_numbers[b], r["p"], r["q"], r["q"], r["q"], vg_at(b), w.base_mva,
                       1 if r["in_service"] else 0, r["rating"], 0]
        k += 1
    for j in range(len(st)):
        s = st[j]
        b = int(s["bus"])
        gen[k, :10] = [out_numbers[b], s["p"], s["q"], s["q"], s["q"], vg_at(b), w.base_mva,
                       1 if s["in_service"] else 0, s["discharge_mw"], -s["charge_mw"]]
        k += 1

    brs = world._view("branches")
    nl = len(brs)
    branch = np.zeros((nl, 13))
    if nl:
        branch[:, 0] = out_numbers[brs["from"].astype(np.intp)]
        branch[:, 1] = out_numbers[brs["to"].astype(np.intp)]
    branch[:, 2] = brs["r"]
    branch[:, 3] = brs["x"]
    branch[:, 4] = brs["b"]
    branch[:, 5] = brs["rate_a"]
    branch[:, 6] = brs["rate_b"]
    branch[:, 7] = brs["rate_c"]
    # TAP 0 is MATPOWER's "a line"; a transformer keeps its ratio, even 1.
    branch[:, 8] = np.where((brs["kind"] == 0) & (brs["tap"] == 1.0), 0.0, brs["tap"])
    branch[:, 9] = brs["shift"]
    branch[:, 10] = brs["in_service"] != 0
    branch[:, 11] = brs["angmin"]
    branch[:, 12] = brs["angmax"]

    ppc = {"version": "2", "baseMVA": float(w.base_mva), "bus": bus, "gen": gen, "branch": branch}
    gencost = _gencost(world, len(rn), len(st))
    if gencost is not None:
        ppc["gencost"] = gencost
    names = world.names("buses")
    expect = ["%d" % int(x) for x in out_numbers]
    if names != expect and names != ["%d" % int(x) for x in numbers]:
        ppc["bus_name"] = names
    return ppc


def _gencost(world, n_ren, n_sto):
    w = world._ptr
    nt = w.n_thermals
    any_cost = bool(n_ren or n_sto)
    width = 1
    costs = []
    for i in range(nt):
        t = w.thermals[i]
        c = t.cost
        model, n = c.model, c.n
        if model == 1:
            pts = ([c.px[j] for j in range(n)], [c.py[j] for j in range(n)])
        elif model == 2:
            pts = [c.coef[j] for j in range(n)]
        else:
            pts = None
        costs.append((model, n, pts, t.fixed_cost, t.startup_cost, t.shutdown_cost))
        if model != 0 or t.startup_cost or t.shutdown_cost or t.fixed_cost:
            any_cost = True
        width = max(width, 2 * n if model == 1 else n)
    if not any_cost:
        return None
    if width < 2 and (n_ren or n_sto):
        width = 2
    g = np.zeros((nt + n_ren + n_sto, 4 + width))
    for i, (model, n, pts, fixed, su, sd) in enumerate(costs):
        row = g[i]
        row[0] = 2
        row[1] = su
        row[2] = sd
        if model == 1:
            row[0] = 1
            row[3] = n
            for j in range(n):
                row[4 + 2 * j] = pts[0][j]
                row[5 + 2 * j] = pts[1][j] + fixed if fixed else pts[1][j]
        elif model == 2:
            row[3] = n
            for j in range(n):
                row[4 + j] = pts[n - 1 - j]
            if n:
                if fixed:
                    row[4 + n - 1] += fixed
            elif fixed:
                row[3] = 1
                row[4] = fixed
        elif fixed:
            row[3] = 1
            row[4] = fixed
    for j in range(n_ren + n_sto):
        row = g[nt + j]
        row[0] = 2
        row[3] = 2
        row[4] = w.renewables[j].cost if j < n_ren else w.storages[j - n_ren].cost
    return g
