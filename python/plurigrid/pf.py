"""Power flow from Python: ``pf()`` for one solve, ``PowerFlow`` for many solves of one network.

``PowerFlow`` keeps a private copy of the world and one C solver (``pg_pf_solver``), which keeps
the symbolic analysis, pivot order and last factors of the Jacobian between solves: changing
loads and generation (``set_loads``, ``set_gen``, written straight into the copy's C arrays) and
solving again is numeric work only, as in a time-series or grid2op-style loop.

Results (:class:`PFResult`) hold the C result and copy its arrays into numpy arrays owned by
Python the first time each is read, so a loop that reads only what it needs pays only for that.
Units: MW, MVAr, degrees; voltage magnitudes in per unit.
"""

import math
import numbers

import numpy as np

from ._errors import ClosedError, InputError, NotConvergedError, StateError, check
from ._ffi import PG_NONE, ffi, lib, take_string
from .world import DT_BUS, DT_LOAD, DT_THERMAL, as_world, locked, struct_view

__all__ = ["pf", "PowerFlow", "PFResult"]

_OPTION_NAMES = ("tol", "max_iter", "q_lim_tol")


def _options(dc, enforce_q_lims, options):
    for k in options:
        if k not in _OPTION_NAMES:
            raise InputError(
                "unknown power-flow option %r; the options are dc, enforce_q_lims, %s"
                % (k, ", ".join(_OPTION_NAMES))
            )
    o = ffi.new("pg_pf_options *")
    lib.pg_pf_options_init(o)
    for name, v in (("dc", dc), ("enforce_q_lims", enforce_q_lims)):
        if not isinstance(v, (bool, np.bool_)):
            raise InputError("%s must be True or False, got %r" % (name, v))
    o.dc = bool(dc)
    o.enforce_q_lims = bool(enforce_q_lims)
    for name in ("tol", "q_lim_tol"):
        if name in options:
            v = options[name]
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (
                math.isfinite(v) and v > 0
            ):
                raise InputError("%s must be a finite number > 0, got %r" % (name, v))
            setattr(o, name, float(v))
    if "max_iter" in options:
        v = options["max_iter"]
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 0 <= v <= 10**6:
            raise InputError("max_iter must be a whole number from 0 to 1000000, got %r" % (v,))
        o.max_iter = int(v)
    return o


class _Topology:
    """What results need of a world that setters never change: bus numbers, branch ends, bus
    shunts (copies)."""

    __slots__ = ("name", "base_mva", "bus_numbers", "f", "t", "gs", "bs", "gen_bus")

    def __init__(self, world):
        self.name = world.name
        self.base_mva = world.base_mva
        self.bus_numbers = world.array("buses", "number")
        self.f = world.array("branches", "from").astype(np.intp)
        self.t = world.array("branches", "to").astype(np.intp)
        self.gs = world.array("buses", "gs")
        self.bs = world.array("buses", "bs")
        self.gen_bus = world.array("thermals", "bus").astype(np.intp)


def _copy_array(ptr, n, ctype, dtype):
    if n == 0:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(ffi.buffer(ptr, n * ffi.sizeof(ctype)), dtype=dtype).copy()


class PFResult:
    """One power-flow solution.

    Arrays (numpy, owned by Python): per bus ``vm`` (p.u.), ``va`` (degrees), ``p``, ``q`` (net
    injection into the network, MW, MVAr: units minus loads, from the solved flows),
    ``bus_type``, ``island``; per thermal unit ``pg``, ``qg`` (MW, MVAr), ``q_limited``; per
    branch ``pf``, ``qf`` (into the branch at its from end), ``pt``, ``qt`` (at its to end).
    ``bus_numbers`` are the buses' external numbers. Scalars: ``converged``, ``all_solved``,
    ``iterations``, ``max_mismatch``, ``reason``, ``dc``, totals (``gen_p``, ``load_p``,
    ``loss_p``, ...). ``as_dict()`` gives everything as a dict; ``text()`` the full report the
    command prints; ``check()`` raises NotConvergedError when it did not converge.
    """

    def __init__(self, cres, world, topo, version_of=None, version=None):
        self._r = ffi.gc(cres, lib.pg_pf_result_free)
        self._world = world
        self._topo = topo
        self._version_of = version_of
        self._version = version
        self._cache = {}

    # -- scalars
    converged = property(lambda self: bool(self._r.converged))
    all_solved = property(lambda self: bool(self._r.all_solved))
    dc = property(lambda self: bool(self._r.dc))
    iterations = property(lambda self: int(self._r.iterations))
    q_lim_rounds = property(lambda self: int(self._r.q_lim_rounds))
    max_mismatch = property(lambda self: float(self._r.max_mismatch))
    reason = property(lambda self: ffi.string(self._r.reason).decode("utf-8", "replace"))
    n_buses = property(lambda self: int(self._r.n_buses))
    n_branches = property(lambda self: int(self._r.n_branches))
    n_thermals = property(lambda self: int(self._r.n_thermals))
    time_setup_s = property(lambda self: float(self._r.time_setup_s))
    time_solve_s = property(lambda self: float(self._r.time_solve_s))

    _TOTALS = ("gen_p", "gen_q", "inj_p", "inj_q", "load_p", "load_q", "shunt_p", "shunt_q",
               "charging_q", "loss_p", "loss_q")

    def __getattr__(self, name):
        if name in PFResult._TOTALS:
            return float(getattr(self._r, name))
        raise AttributeError("PFResult has no attribute %r" % name)

    # -- arrays
    def _arr(self, name, n, ctype, dtype):
        a = self._cache.get(name)
        if a is None:
            a = _copy_array(getattr(self._r, name), n, ctype, dtype)
            self._cache[name] = a
        return a

    vm = property(lambda self: self._arr("vm", self._r.n_buses, "double", np.float64))
    va = property(lambda self: self._arr("va", self._r.n_buses, "double", np.float64))
    bus_type = property(lambda self: self._arr("bus_type", self._r.n_buses, "int", np.intc))
    pg = property(lambda self: self._arr("pg", self._r.n_thermals, "double", np.float64))
    qg = property(lambda self: self._arr("qg", self._r.n_thermals, "double", np.float64))
    pf = property(lambda self: self._arr("pf", self._r.n_branches, "double", np.float64))
    qf = property(lambda self: self._arr("qf", self._r.n_branches, "double", np.float64))
    pt = property(lambda self: self._arr("pt", self._r.n_branches, "double", np.float64))
    qt = property(lambda self: self._arr("qt", self._r.n_branches, "double", np.float64))

    @property
    def q_limited(self):
        return self._arr("q_limited", self._r.n_thermals, "bool", np.bool_)

    @property
    def island(self):
        """Per bus: the index of its island in ``islands``, -1 for isolated buses."""
        a = self._cache.get("island")
        if a is None:
            raw = _copy_array(self._r.island, self._r.n_buses, "size_t", np.uintp)
            a = np.where(raw == PG_NONE, -1, raw.astype(np.int64))
            self._cache["island"] = a
        return a

    @property
    def bus_numbers(self):
        return self._topo.bus_numbers.copy()

    def _injections(self):
        a = self._cache.get("p")
        if a is None:
            tp = self._topo
            nb = len(tp.bus_numbers)
            vm2 = self.vm * self.vm
            p = np.bincount(tp.f, self.pf, nb) + np.bincount(tp.t, self.pt, nb) + tp.gs * vm2
            q = np.bincount(tp.f, self.qf, nb) + np.bincount(tp.t, self.qt, nb) - tp.bs * vm2
            self._cache["p"], self._cache["q"] = p, q
        return self._cache["p"], self._cache["q"]

    p = property(lambda self: self._injections()[0])
    q = property(lambda self: self._injections()[1])

    @property
    def islands(self):
        """The network's islands: list of dicts (status, n_buses, first_bus, ref_bus, load_mw,
        reason); status 'solved', 'no reference' or 'no generator'."""
        r = self._r
        names = {0: "solved", 1: "no reference", 2: "no generator"}
        out = []
        for i in range(r.n_islands):
            isl = r.islands[i]
            out.append(
                {
                    "status": names.get(isl.status, str(isl.status)),
                    "n_buses": int(isl.n_buses),
                    "first_bus": int(isl.first_bus),
                    "ref_bus": None if isl.ref_bus == PG_NONE else int(isl.ref_bus),
                    "load_mw": float(isl.load_mw),
                    "reason": ffi.string(isl.reason).decode("utf-8", "replace"),
                }
            )
        return out

    def check(self):
        """Returns self when the power flow converged with every island solved; raises
        NotConvergedError with the reason otherwise."""
        if not self._r.all_solved:
            raise NotConvergedError(self.reason or "the power flow did not converge")
        return self

    def as_dict(self):
        """Everything as a dict: scalars, totals, per-bus/branch/unit numpy arrays (copies)."""
        d = {
            "dc": self.dc,
            "converged": self.converged,
            "all_solved": self.all_solved,
            "iterations": self.iterations,
            "q_lim_rounds": self.q_lim_rounds,
            "max_mismatch": self.max_mismatch,
            "reason": self.reason,
            "bus_numbers": self.bus_numbers,
        }
        for k in ("vm", "va", "p", "q", "bus_type", "island", "pg", "qg", "q_limited", "pf",
                  "qf", "pt", "qt"):
            d[k] = getattr(self, k).copy()
        for k in PFResult._TOTALS:
            d[k] = float(getattr(self._r, k))
        d["islands"] = self.islands
        return d

    def _world_as_solved(self):
        if self._world.closed:
            raise ClosedError("the world this result was computed from was closed")
        if self._version_of is not None and self._version_of._version != self._version:
            raise StateError(
                "the PowerFlow's loads or generation changed after this result was computed; "
                "the report would mix them up (take text() before changing them)"
            )
        return self._world._ptr

    def text(self):
        """The full report (as ``plurigrid pf`` prints it, like MATPOWER's printpf)."""
        out = ffi.new("char **")
        err = ffi.new("pg_error *")
        with self._world._lock:
            w = self._world_as_solved()
            check(lib.pg_pf_result_text(w, self._r, out, err), err)
        return take_string(out[0])

    def to_json(self):
        """The result as the plurigrid-pf/1 JSON document (str) the command writes."""
        out = ffi.new("char **")
        err = ffi.new("pg_error *")
        with self._world._lock:
            w = self._world_as_solved()
            check(lib.pg_pf_result_json(w, self._r, out, err), err)
        return take_string(out[0])

    def __repr__(self):
        r = self._r
        kind = "DC" if r.dc else "AC"
        if r.converged:
            head = "converged in %d iteration%s" % (r.iterations, "" if r.iterations == 1 else "s")
            if not r.dc:
                head += " (largest mismatch %.2g p.u.)" % r.max_mismatch
        else:
            head = "did NOT converge (%d iterations): %s" % (r.iterations, self.reason)
        lines = ["plurigrid power flow of %r (%s): %s" % (self._topo.name, kind, head)]
        if not r.all_solved and r.converged:
            lines.append("  not every island was solved: %s" % self.reason)
        vm, va = self.vm, self.va
        nums = self._topo.bus_numbers
        if len(vm) and r.converged:
            live = vm > 0
            if live.any():
                i_lo = int(np.flatnonzero(live)[np.argmin(vm[live])])
                i_hi = int(np.flatnonzero(live)[np.argmax(vm[live])])
                lines.append(
                    "  %d buses      Vm %.4f .. %.4f p.u. (buses %d, %d), Va %.2f .. %.2f deg"
                    % (len(vm), vm[i_lo], vm[i_hi], nums[i_lo], nums[i_hi], va[live].min(),
                       va[live].max())
                )
        lines.append(
            "  %d units      %.2f MW, %.2f MVAr;  loads %.2f MW, %.2f MVAr"
            % (r.n_thermals, r.gen_p + r.inj_p, r.gen_q + r.inj_q, r.load_p, r.load_q)
        )
        lines.append(
            "  %d branches   losses %.3f MW, %.3f MVAr" % (r.n_branches, r.loss_p, r.loss_q)
        )
        lines.append("  arrays: vm va p q pg qg pf qf pt qt; as_dict(); text() for the full report")
        return "\n".join(lines)


def pf(world, dc=False, enforce_q_lims=False, **options):
    """Solves the power flow of a world once.

    world: a :class:`World`, a file path (plurigrid JSON or MATPOWER .m) or a ppc dict.
    dc: DC (B-theta) power flow instead of AC Newton-Raphson. enforce_q_lims: hold thermal
    units within their reactive limits (PV to PQ switching, as MATPOWER's pf.enforce_q_lims).
    options: tol (largest P/Q mismatch, p.u., default 1e-8), max_iter (default 10), q_lim_tol
    (MVAr, default 5e-6). Not converging is a result (``.converged``), not an exception.
    """
    o = _options(dc, enforce_q_lims, options)
    w, _owned = as_world(world)
    out = ffi.new("pg_pf_result **")
    err = ffi.new("pg_error *")
    with w._lock:
        check(lib.pg_pf_solve(w._ptr, o, out, err), err)
        return PFResult(out[0], w, _Topology(w))


def _vector(x, name, n, index):
    """x as a contiguous float64 vector of the length the index (or n) needs, every value finite."""
    if isinstance(x, np.ndarray):
        a = x
    elif isinstance(x, numbers.Real) and not isinstance(x, bool):
        a = np.full(n if index is None else len(index), float(x))
    else:
        try:
            a = np.asarray(x)
        except Exception as e:  # noqa: BLE001 - anything numpy cannot read is bad input
            raise InputError("%s: cannot be read as an array of numbers (%s)" % (name, e)) from None
    if a.dtype.kind not in "fiu":
        raise InputError(
            "%s must hold real numbers (float64, or integers or float32, which are converted), "
            "got dtype %s" % (name, a.dtype)
        )
    want = n if index is None else len(index)
    if a.ndim != 1 or a.shape[0] != want:
        raise InputError(
            "%s must be a vector of %d values (%s), got shape %s"
            % (name, want, "one per index" if index is not None else "one per component", a.shape)
        )
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not np.isfinite(a).all():
        bad = int(np.flatnonzero(~np.isfinite(a))[0])
        raise InputError("%s[%d] is %r: every value must be a finite number" % (name, bad, a[bad]))
    return a


def _index(index, n, what):
    if index is None:
        return None
    a = np.asarray(index)
    if a.dtype.kind not in "iu":
        raise InputError(
            "index must hold whole numbers (indices of %s, 0 to %d), got dtype %s"
            % (what, n - 1, a.dtype)
        )
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1:
        raise InputError("index must be a vector of indices, got shape %s" % (a.shape,))
    if len(a) and (a.min() < 0 or a.max() >= n):
        bad = a[(a < 0) | (a >= n)][0]
        raise InputError("index %d is out of range: there are %d %s (0 to %d)" % (bad, n, what, n - 1))
    return a.astype(np.intp)


class PowerFlow:
    """A power flow solved again and again as loads and generation change.

    ``PowerFlow(world_or_path, dc=False, enforce_q_lims=False, **options)`` copies the world (the
    caller's World is never changed) and makes one C solver. ``set_loads`` and ``set_gen`` write
    the copy's values in place; ``solve()`` reuses the solver's symbolic analysis and factors.
    Topology (which branches and units are in service) is fixed by the world given.

    ``close()`` (or a ``with`` block) frees the C objects at once; a closed PowerFlow raises
    ClosedError.
    """

    def __init__(self, world, dc=False, enforce_q_lims=False, **options):
        o = _options(dc, enforce_q_lims, options)
        src, owned = as_world(world)
        try:
            self._world = src.copy()
        finally:
            if owned:
                src.close()
        s = ffi.new("pg_pf_solver **")
        self._err = ffi.new("pg_error *")
        check(lib.pg_pf_solver_new(s, o, self._err), self._err)
        self._solver = ffi.gc(s[0], lib.pg_pf_solver_free)
        # The world copy's lock guards the solver too: a close() (of this PowerFlow or of its
        # world) waits for a solve or a setter running in another thread.
        self._lock = self._world._lock
        self._out = ffi.new("pg_pf_result **")
        self._topo = _Topology(self._world)
        self._version = 0
        w = self._world._ptr
        self._loads = struct_view(w.loads, w.n_loads, DT_LOAD)
        self._thermals = struct_view(w.thermals, w.n_thermals, DT_THERMAL)
        self._buses = struct_view(w.buses, w.n_buses, DT_BUS)

    # -- lifetime
    def close(self):
        """Frees the solver and the world copy. Closing twice is allowed."""
        with self._lock:
            if self._solver is not None:
                s, self._solver = self._solver, None
                self._loads = self._thermals = self._buses = None
                ffi.release(s)
                self._world.close()

    @property
    def closed(self):
        return self._solver is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _live(self):
        if self._solver is None or self._world.closed:
            raise ClosedError("this PowerFlow was closed; its C objects are freed")

    # -- what is set
    @property
    def world(self):
        """The PowerFlow's own World (the copy its setters change)."""
        self._live()
        return self._world

    @property
    def n_loads(self):
        self._live()
        return len(self._loads)

    @property
    def n_gens(self):
        self._live()
        return len(self._thermals)

    @property
    @locked
    def load_bus(self):
        """Per load: the index of its bus."""
        self._live()
        return self._loads["bus"].astype(np.intp)

    @property
    @locked
    def gen_bus(self):
        """Per thermal unit: the index of its bus."""
        self._live()
        return self._thermals["bus"].astype(np.intp)

    @property
    @locked
    def load_p(self):
        self._live()
        return np.array(self._loads["p"])

    @property
    @locked
    def load_q(self):
        self._live()
        return np.array(self._loads["q"])

    @property
    @locked
    def gen_p(self):
        self._live()
        return np.array(self._thermals["p"])

    @property
    @locked
    def gen_vm(self):
        self._live()
        return np.array(self._thermals["vg"])

    @locked
    def set_loads(self, p_mw=None, q_mvar=None, index=None):
        """Sets loads' active (MW) and reactive (MVAr) power: whole vectors (one value per
        load, in the world's load order) or, with ``index`` (load indices), the values of those
        loads. A value of None leaves that quantity as it is; a number sets every selected load.
        Values must be finite real numbers; arrays are converted to contiguous float64."""
        self._live()
        n = len(self._loads)
        idx = _index(index, n, "loads")
        p = None if p_mw is None else _vector(p_mw, "p_mw", n, idx)
        q = None if q_mvar is None else _vector(q_mvar, "q_mvar", n, idx)
        view = self._loads
        if idx is None:
            if p is not None:
                view["p"] = p
            if q is not None:
                view["q"] = q
        else:
            if p is not None:
                view["p"][idx] = p
            if q is not None:
                view["q"][idx] = q
        self._version += 1

    @locked
    def set_start(self, vm=None, va=None):
        """Sets where the next solves start: bus voltage magnitudes (p.u., > 0) and angles
        (degrees), whole vectors in bus order; None leaves one as it is. Starting from the
        previous solution (``flow.set_start(r.vm, r.va)``) takes fewer Newton iterations when
        the snapshots change little; the answer then equals a fresh solve to within the
        tolerance instead of to the bit. Voltage setpoints of units (set_gen's vm) still hold
        at PV and reference buses."""
        self._live()
        n = len(self._buses)
        m = None if vm is None else _vector(vm, "vm", n, None)
        a = None if va is None else _vector(va, "va", n, None)
        if m is not None and len(m) and not (m > 0).all():
            bad = int(np.flatnonzero(~(m > 0))[0])
            raise InputError("vm[%d] is %r: voltage magnitudes must be > 0 p.u." % (bad, m[bad]))
        if m is not None:
            self._buses["vm"] = m
        if a is not None:
            self._buses["va"] = a
        self._version += 1

    @locked
    def set_gen(self, p_mw=None, vm=None, index=None):
        """Sets thermal units' active power setpoints (MW) and voltage setpoints (``vm``, p.u.,
        held at PV and reference buses): whole vectors, or the values of the units ``index``
        names. None leaves a quantity as it is. Values must be finite; vm must be > 0."""
        self._live()
        n = len(self._thermals)
        idx = _index(index, n, "thermal units")
        p = None if p_mw is None else _vector(p_mw, "p_mw", n, idx)
        v = None if vm is None else _vector(vm, "vm", n, idx)
        if v is not None and len(v) and not (v > 0).all():
            bad = int(np.flatnonzero(~(v > 0))[0])
            raise InputError("vm[%d] is %r: voltage setpoints must be > 0 p.u." % (bad, v[bad]))
        view = self._thermals
        if idx is None:
            if p is not None:
                view["p"] = p
            if v is not None:
                view["vg"] = v
        else:
            if p is not None:
                view["p"][idx] = p
            if v is not None:
                view["vg"][idx] = v
        self._version += 1

    def solve(self):
        """Solves the power flow of the current loads and generation, reusing the solver's
        analysis and factors. Returns a PFResult."""
        with self._lock:
            s = self._solver
            if s is None or self._world._cdata is None:
                raise ClosedError("this PowerFlow was closed; its C objects are freed")
            out = self._out
            rc = lib.pg_pf_solver_solve(s, self._world._cdata, out, self._err)
            if rc:
                check(rc, self._err)
            return PFResult(out[0], self._world, self._topo, self, self._version)

    @property
    @locked
    def info(self):
        """What the solver has analysed so far: jacobian_n, jacobian_nnz, lu_nnz, analyses,
        factorizations, refactorizations."""
        self._live()
        i = ffi.new("pg_pf_solver_info *")
        lib.pg_pf_solver_get_info(self._solver, i)
        return {k: getattr(i, k) for k in ("jacobian_n", "jacobian_nnz", "lu_nnz", "analyses",
                                           "factorizations", "refactorizations")}

    def __repr__(self):
        if self.closed:
            return "<plurigrid.PowerFlow (closed)>"
        return "<plurigrid.PowerFlow of %r: %d loads, %d thermal units>" % (
            self._topo.name, len(self._loads), len(self._thermals))
