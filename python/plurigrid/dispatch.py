"""Day-ahead scheduling and DC optimal power flow from Python (include/plurigrid/dispatch.h).

``plurigrid.run(world, ...)`` is the job of ``plurigrid run``: unit commitment (a MILP solved by
Cbc), the economic dispatch with that commitment fixed (an LP solved by Clp) and the locational
marginal prices from its duals, over the world's horizon, then an AC power flow of each step's
schedule. ``plurigrid.dcopf(world)`` is ``plurigrid opf --dc``: one period, quadratic costs
solved exactly, prices at every bus. docs/dispatch.md states the formulation.

Results hold numpy arrays (copies: they stay valid after ``close()``), summary tables
(:class:`plurigrid.Table`), the library's own reports (``to_dict()`` is what ``--json`` prints,
``text()`` the report the command prints, ``to_csv()`` the CSV of ``--csv``) and charts
(``svg()``, ``_repr_svg_`` for notebooks). A result keeps its own copy of the world it was
computed from, so closing or changing the world afterwards does not affect it.
"""

import json
import math
import numbers
import os
import threading

import numpy as np

from ._errors import ClosedError, InputError, check, error_from
from ._ffi import ffi, lib, take_string
from .plot import SVG, chart, render, write_text
from .table import Table
from .world import World, as_world, locked

__all__ = ["run", "dcopf", "Schedule", "OPFResult"]

_NETWORKS = {"dc": 1, "copper": 0}
_UC_STATUS = {0: "none", 1: "optimal", 2: "time-limit"}
_PHASES = {0: "build", 1: "commitment", 2: "economic", 3: "ac", 4: "done"}
_CHARTS = {"schedule": 0, "prices": 1}
_SIZE_MAX = (1 << (8 * ffi.sizeof("size_t"))) - 1


# ---------------------------------------------------------------------- options


def _count(name, v, lo=0, hi=_SIZE_MAX):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise InputError("%s must be a whole number, got %r" % (name, v))
    v = int(v)
    if v < lo or v > hi:
        raise InputError("%s must be from %d to %d, got %d" % (name, lo, hi, v))
    return v


def _real(name, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise InputError("%s must be a number, got %r" % (name, v))
    v = float(v)
    if not math.isfinite(v):
        raise InputError("%s must be a finite number, got %r" % (name, v))
    return v


def _options(start_step=0, horizon=None, step_h=None, network="dc", commitment=True,
             intertemporal=True, voll=None, overgen_cost=None, pwl_segments=None, mip_gap=None,
             time_limit_s=None, threads=None, solver_log=False):
    """A filled pg_dispatch_options *: the library's defaults with the given values, each checked
    for its type here (ranges are the library's to check, with its messages)."""
    o = ffi.new("pg_dispatch_options *")
    lib.pg_dispatch_options_init(o)
    o.start_step = _count("start_step", start_step)
    if horizon is not None:
        o.horizon = _count("horizon", horizon, 1)
    if step_h is not None:
        o.step_h = _real("step_h", step_h)
        if not o.step_h > 0:
            raise InputError("step_h must be a positive number of hours, got %r" % step_h)
    if network not in _NETWORKS:
        raise InputError("network must be 'dc' or 'copper', got %r" % (network,))
    o.network = _NETWORKS[network]
    for name, v in (("commitment", commitment), ("intertemporal", intertemporal),
                    ("solver_log", solver_log)):
        if not isinstance(v, (bool, np.bool_)):
            raise InputError("%s must be True or False, got %r" % (name, v))
    o.commitment = bool(commitment)
    o.intertemporal = bool(intertemporal)
    o.solver_log = bool(solver_log)
    if voll is not None:
        o.voll = _real("voll", voll)
    if overgen_cost is not None:
        o.overgen_cost = _real("overgen_cost", overgen_cost)
    if pwl_segments is not None:
        o.pwl_segments = _count("pwl_segments", pwl_segments, 1, 2**31 - 1)
    if mip_gap is not None:
        o.mip_gap = _real("mip_gap", mip_gap)
    if time_limit_s is not None:
        o.time_limit_s = _real("time_limit_s", time_limit_s)
    if threads is not None:
        o.threads = _count("threads", threads, 1, 2**31 - 1)
    return o


def _world_of(world, format):
    """(World, path or None): the caller's World, or one read from a path or made from a ppc."""
    w, owned = as_world(world, format)
    path = os.fsdecode(world) if owned and not isinstance(world, dict) else None
    return w, owned, path


def _raise_with_file(rc, err, path):
    """The library's error, naming the world file when the error is about it and names none
    (as the command does)."""
    e = error_from(rc, err)
    if path and not e.file and rc != -1:
        e.file = path
        e.args = (e._format(),)
    raise e


def _arr(ptr, shape, dtype=np.float64):
    """A numpy copy of a C array of prod(shape) elements."""
    n = int(np.prod(shape)) if shape else 1
    if n == 0 or ptr == ffi.NULL:
        return np.zeros(shape, dtype=dtype)
    a = np.frombuffer(ffi.buffer(ptr, n * np.dtype(dtype).itemsize), dtype=dtype)
    return a.reshape(shape).copy()


def _handle(c, ctype, who, how):
    """Refuses anything but a non-NULL C pointer of type ctype (a NULL or foreign pointer
    would crash the interpreter at first use)."""
    if not isinstance(c, ffi.CData) or ffi.typeof(c) is not ffi.typeof(ctype) or c == ffi.NULL:
        raise InputError("%s() is not called directly: use %s" % (who, how))


def _text_of(fn, *args):
    out = ffi.new("char **")
    err = ffi.new("pg_error *")
    check(fn(*args, out, err), err)
    return take_string(out[0])


class _Result:
    """What Schedule and OPFResult share: the copy of the world, close() and the context
    manager, and writing reports."""

    _kind = "result"
    # Held by close() and by every method that hands the C result to the library, so that a
    # result closed in one thread is never freed under a call in another.
    _lock = None

    def _live(self):
        if self._c is None:
            raise ClosedError(
                "this %s was closed; its arrays and tables are still here, but its reports "
                "and charts need the C result" % self._kind
            )
        return self._c

    @locked
    def close(self):
        """Frees the C result and the copy of the world now. The arrays and tables stay;
        reports and charts then raise ClosedError. Closing twice is allowed."""
        for name in ("_c", "_ac"):
            p = getattr(self, name, None)
            if p is not None:
                setattr(self, name, None)
                ffi.release(p)
        if getattr(self, "_world", None) is not None:
            self._world.close()
            self._world = None

    @property
    def closed(self):
        return self._c is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def to_dict(self):
        """The result as the command's ``--json`` prints it, parsed (dicts, lists, numbers;
        None where a number does not exist)."""
        return json.loads(self.to_json())

    def _repr_svg_(self):
        try:
            return self.svg()
        except ClosedError:
            return None


# ---------------------------------------------------------------------- scheduling


class Schedule(_Result):
    """A day-ahead schedule (``plurigrid.run``).

    Arrays indexed ``[step, component]`` (MW, MWh, $/MWh, degrees): ``thermal_p``,
    ``thermal_on``, ``thermal_start``, ``thermal_stop`` (bool), ``renewable_p``,
    ``renewable_avail``, ``storage_charge``, ``storage_discharge``, ``storage_soc``,
    ``bus_demand``, ``bus_unserved``, ``bus_overgen``, ``lmp``, ``bus_angle``,
    ``branch_flow``, ``branch_price``; per step: ``hour``, ``energy_price``,
    ``cost_variable``, ``cost_fixed``, ``cost_startup``, ``cost_penalty``. Names of the
    components: ``thermals``, ``renewables``, ``storages``, ``buses``, ``branches``.
    Totals: ``total_cost`` ($), ``total_unserved_mwh``, ``total_overgen_mwh``,
    ``total_curtailed_mwh``. The commitment: ``status`` ("optimal", "time-limit" or "none"),
    ``uc_objective``, ``uc_bound``, ``uc_gap``, ``uc_seconds``, ``ed_seconds``. ``ac``: the AC
    check of every step as a Table (None when run with ``ac=False``).
    """

    _kind = "Schedule"

    def __init__(self, world, c, ac):
        # Internal: takes the World copy and the C result and AC check.
        self._lock = threading.RLock()
        _handle(c, "pg_dispatch_result *", "Schedule", "plurigrid.run(world)")
        if ac is not None:
            _handle(ac, "pg_dispatch_ac *", "Schedule", "plurigrid.run(world)")
        if not isinstance(world, World):
            raise InputError("Schedule() is not called directly: use plurigrid.run(world)")
        self._world = world
        self._c = ffi.gc(c, lib.pg_dispatch_result_free)
        self._ac = ffi.gc(ac, lib.pg_dispatch_ac_free) if ac is not None else None
        r = c
        T = r.n_steps
        self.n_steps = T
        self.step_h = r.step_h
        self.start_step = r.start_step
        self.network = "dc" if r.network == 1 else "copper"
        self.status = _UC_STATUS.get(r.uc_status, str(r.uc_status))
        for k in ("uc_objective", "uc_bound", "uc_gap", "uc_seconds", "ed_seconds",
                  "total_cost", "total_unserved_mwh", "total_overgen_mwh",
                  "total_curtailed_mwh"):
            setattr(self, k, float(getattr(r, k)))
        for k in ("n_variables", "n_integers", "n_constraints"):
            setattr(self, k, int(getattr(r, k)))
        self.hour = np.arange(T, dtype=np.float64) * r.step_h
        sizes = {"thermal": r.n_thermals, "renewable": r.n_renewables,
                 "storage": r.n_storages, "bus": r.n_buses, "branch": r.n_branches}
        for name, kind in (("thermal_p", "thermal"), ("renewable_p", "renewable"),
                           ("renewable_avail", "renewable"), ("storage_charge", "storage"),
                           ("storage_discharge", "storage"), ("storage_soc", "storage"),
                           ("bus_demand", "bus"), ("bus_unserved", "bus"),
                           ("bus_overgen", "bus"), ("lmp", "bus"), ("bus_angle", "bus"),
                           ("branch_flow", "branch"), ("branch_price", "branch")):
            setattr(self, name, _arr(getattr(r, name), (T, sizes[kind])))
        for name in ("thermal_on", "thermal_start", "thermal_stop"):
            setattr(self, name, _arr(getattr(r, name), (T, r.n_thermals), np.uint8) != 0)
        for name in ("energy_price", "cost_variable", "cost_fixed", "cost_startup",
                     "cost_penalty"):
            setattr(self, name, _arr(getattr(r, name), (T,)))
        self.thermals = world.names("thermals")
        self.renewables = world.names("renewables")
        self.storages = world.names("storages")
        self.buses = world.names("buses")
        self.branches = world.names("branches")
        self.world_name = world.name
        self.ac = None
        if ac is not None:
            steps = [ac.steps[t] for t in range(ac.n_steps)]
            self.ac = Table(
                [
                    ("hour", self.hour),
                    ("solved", np.array([s.solved for s in steps], dtype=bool)),
                    ("iterations", np.array([s.iterations for s in steps], dtype=np.int64)),
                    ("losses_mw", np.array([s.losses_mw for s in steps])),
                    ("slack_mw", np.array([s.slack_mw for s in steps])),
                    ("vm_min", np.array([s.vm_min for s in steps])),
                    ("vm_max", np.array([s.vm_max for s in steps])),
                    ("voltage_violations", np.array([s.n_voltage for s in steps], np.int64)),
                    ("overloads", np.array([s.n_overload for s in steps], np.int64)),
                    ("max_loading", np.array([s.max_loading for s in steps])),
                    ("q_limit_violations", np.array([s.n_q_limit for s in steps], np.int64)),
                    ("reference_held", np.array([s.ref_held for s in steps], dtype=bool)),
                    ("reason", [ffi.string(s.reason).decode("utf-8", "replace")
                                for s in steps]),
                ],
                title="AC power flow of each step",
            )

    # -------------------------------------------------------------- summaries
    @property
    def all_served(self):
        """True when every MWh of demand was served (the command exits 0)."""
        return self.total_unserved_mwh <= 1e-6

    @property
    def costs(self):
        """Per step: the hour, the system energy price and the cost parts ($)."""
        total = self.cost_variable + self.cost_fixed + self.cost_startup + self.cost_penalty
        return Table(
            [("hour", self.hour), ("energy_price", self.energy_price),
             ("variable", self.cost_variable), ("fixed", self.cost_fixed),
             ("startup", self.cost_startup), ("penalty", self.cost_penalty), ("total", total)],
            title="Costs by step ($; energy price $/MWh)",
        )

    @property
    def units(self):
        """Per unit over the horizon: kind, energy (MWh), hours on, starts, and for renewables
        the energy curtailed."""
        h = self.step_h
        names, kinds, energy, on_h, starts, curtailed = [], [], [], [], [], []
        for g, n in enumerate(self.thermals):
            names.append(n)
            kinds.append("thermal")
            energy.append(float(self.thermal_p[:, g].sum() * h))
            on_h.append(float(self.thermal_on[:, g].sum() * h))
            starts.append(int(self.thermal_start[:, g].sum()))
            curtailed.append(0.0)
        for k, n in enumerate(self.renewables):
            names.append(n)
            kinds.append("renewable")
            energy.append(float(self.renewable_p[:, k].sum() * h))
            on_h.append(float("nan"))
            starts.append(0)
            curtailed.append(float((self.renewable_avail[:, k] - self.renewable_p[:, k]).sum()
                                   * h))
        for s, n in enumerate(self.storages):
            names.append(n)
            kinds.append("storage")
            energy.append(float((self.storage_discharge[:, s] - self.storage_charge[:, s]).sum()
                                * h))
            on_h.append(float("nan"))
            starts.append(0)
            curtailed.append(0.0)
        return Table(
            [("name", names), ("kind", kinds), ("energy_mwh", np.array(energy)),
             ("hours_on", np.array(on_h)), ("starts", np.array(starts, dtype=np.int64)),
             ("curtailed_mwh", np.array(curtailed))],
            title="Units over the horizon (storage: energy given less energy taken)",
        )

    @property
    def prices(self):
        """Per bus: the mean, lowest and highest LMP ($/MWh) and the unserved energy (MWh)."""
        lmp = self.lmp
        empty = lmp.shape[0] == 0
        return Table(
            [("bus", self.buses),
             ("lmp_mean", lmp.mean(axis=0) if not empty else np.zeros(len(self.buses))),
             ("lmp_min", lmp.min(axis=0) if not empty else np.zeros(len(self.buses))),
             ("lmp_max", lmp.max(axis=0) if not empty else np.zeros(len(self.buses))),
             ("unserved_mwh", self.bus_unserved.sum(axis=0) * self.step_h)],
            title="Prices by bus ($/MWh)",
        )

    # -------------------------------------------------------------- the library's reports
    def _args(self):
        c = self._live()
        return self._world._ptr, c, self._ac if self._ac is not None else ffi.NULL

    @locked
    def text(self):
        """The readable report ``plurigrid run`` prints."""
        return _text_of(lib.pg_dispatch_result_text, *self._args())

    @locked
    def to_json(self, path=None):
        """The JSON of ``plurigrid run --json`` (format plurigrid-dispatch/1); written to path
        (whole or not at all) when one is given. Returns the text."""
        text = _text_of(lib.pg_dispatch_result_json, *self._args())
        if path is not None:
            write_text(path, text)
        return text

    @locked
    def to_csv(self, path=None):
        """The CSV of ``plurigrid run --csv`` (step,hour,component,name,quantity,value); written
        to path when one is given. Returns the text."""
        text = _text_of(lib.pg_dispatch_result_csv, *self._args())
        if path is not None:
            write_text(path, text)
        return text

    @locked
    def chart(self, chart="schedule"):
        """One chart of ``plurigrid run --plot`` as :class:`plurigrid.SVG`: "schedule" (output by
        unit, stacked, with the load on top) or "prices" (the LMP of each bus)."""
        if chart not in _CHARTS:
            raise InputError("chart must be 'schedule' or 'prices', got %r" % (chart,))
        c = self._live()
        out = ffi.new("pg_plot **")
        err = ffi.new("pg_error *")
        check(lib.pg_dispatch_plot(out, self._world._ptr, c, _CHARTS[chart], err), err)
        p = ffi.gc(out[0], lib.pg_plot_free)
        try:
            return SVG(render(p), chart)
        finally:
            ffi.release(p)

    def svg(self, chart="schedule"):
        """The SVG text of one chart ("schedule" or "prices"); the same as the file
        ``plurigrid run --plot`` writes."""
        return self.chart(chart).text

    def __repr__(self):
        return ("<plurigrid.Schedule of %r: %d steps of %g h, %s network, commitment %s, "
                "cost %.2f $, unserved %.3g MWh%s>"
                % (self.world_name, self.n_steps, self.step_h, self.network, self.status,
                   self.total_cost, self.total_unserved_mwh, ", closed" if self.closed else ""))


def run(world, *, start_step=0, horizon=None, step_h=None, network="dc", commitment=True,
        intertemporal=True, voll=None, overgen_cost=None, pwl_segments=None, mip_gap=None,
        time_limit_s=None, threads=None, solver_log=False, ac=True, progress=None, format=None):
    """Schedules a world over its horizon, as ``plurigrid run`` does, and returns a
    :class:`Schedule`.

    world: a :class:`plurigrid.World`, a file path (plurigrid JSON or MATPOWER; ``format``
    overrides the extension) or a ppc dict. The options are those of ``pg_dispatch_options``
    (include/plurigrid/dispatch.h), defaults in brackets: ``start_step`` [0], ``horizon``
    [as many steps as the series cover], ``step_h`` hours [the series' own], ``network``
    "dc" or "copper" ["dc"], ``commitment`` [True; False keeps every unit on and solves the LP
    only], ``intertemporal`` [True], ``voll`` $/MWh [10000], ``overgen_cost`` $/MWh [1000],
    ``pwl_segments`` [4], ``mip_gap`` [1e-3], ``time_limit_s`` [300; 0 for none], ``threads``
    [1], ``solver_log`` [False]. ``ac`` [True] runs the AC power flow of every step.
    ``progress``, when given, is called as ``progress(phase, step, n_steps)`` with phase one
    of "build", "commitment", "economic", "ac", "done".

    Unserved demand is a result (``all_served`` is False), not an error. Raises ModelError
    for a world or options the scheduler cannot take (naming the component and the value),
    LimitError when the time limit passed before any commitment was found, SolverError when
    a solver failed, InputError for arguments of the wrong type.
    """
    if not isinstance(ac, (bool, np.bool_)):
        raise InputError("ac must be True or False, got %r" % (ac,))
    if progress is not None and not callable(progress):
        raise InputError("progress must be a callable or None")
    o = _options(start_step, horizon, step_h, network, commitment, intertemporal, voll,
                 overgen_cost, pwl_segments, mip_gap, time_limit_s, threads, solver_log)
    w, owned, path = _world_of(world, format)
    raised = []
    cb = None
    if progress is not None:
        def on_progress(user, phase, step, n):
            if raised:
                return
            try:
                progress(_PHASES.get(phase, str(phase)), int(step), int(n))
            except BaseException as e:  # noqa: B902 - re-raised after the C call returns
                raised.append(e)

        cb = ffi.callback("pg_dispatch_progress_fn", on_progress)
        o.progress = cb
    copy = None
    try:
        copy = w.copy()
        out = ffi.new("pg_dispatch_result **")
        err = ffi.new("pg_error *")
        rc = lib.pg_dispatch_run(copy._ptr, o, out, err)
        if rc:
            _raise_with_file(rc, err, path)
        c = out[0]
        ac_c = None
        if ac and not raised:  # a progress function that raised stops the work here
            aout = ffi.new("pg_dispatch_ac **")
            rc = lib.pg_dispatch_ac_check(copy._ptr, c, o, aout, err)
            if rc:
                lib.pg_dispatch_result_free(c)
                check(rc, err)
            ac_c = aout[0]
        if raised:
            lib.pg_dispatch_ac_free(ac_c if ac_c is not None else ffi.NULL)
            lib.pg_dispatch_result_free(c)
            raise raised[0]
        result = Schedule(copy, c, ac_c)
        copy = None
        return result
    finally:
        if copy is not None:
            copy.close()
        if owned:
            w.close()
        o.progress = ffi.NULL


# ---------------------------------------------------------------------- DC OPF


class OPFResult(_Result):
    """A DC optimal power flow (``plurigrid.dcopf``).

    ``objective`` ($/h), ``pg`` (MW per thermal unit), ``va`` (degrees per bus), ``lmp``
    ($/MWh per bus), ``flow`` (MW per branch, from -> to), ``branch_price`` ($/MWh: the
    shadow price of the branch's rating, 0 when not binding), ``unserved_mw``, ``overgen_mw``,
    ``seconds``; names ``thermals``, ``buses``, ``branches``; tables ``bus_table``,
    ``thermal_table``, ``branch_table``.
    """

    _kind = "OPFResult"

    def __init__(self, world, c):
        # Internal: takes the World copy and the C result.
        self._lock = threading.RLock()
        _handle(c, "pg_dcopf_result *", "OPFResult", "plurigrid.dcopf(world)")
        if not isinstance(world, World):
            raise InputError("OPFResult() is not called directly: use plurigrid.dcopf(world)")
        self._world = world
        self._c = ffi.gc(c, lib.pg_dcopf_result_free)
        self.objective = float(c.objective)
        self.unserved_mw = float(c.unserved_mw)
        self.overgen_mw = float(c.overgen_mw)
        self.seconds = float(c.seconds)
        self.pg = _arr(c.pg, (c.n_thermals,))
        self.va = _arr(c.va, (c.n_buses,))
        self.lmp = _arr(c.lmp, (c.n_buses,))
        self.flow = _arr(c.flow, (c.n_branches,))
        self.branch_price = _arr(c.branch_price, (c.n_branches,))
        self.thermals = world.names("thermals")
        self.buses = world.names("buses")
        self.branches = world.names("branches")
        self.bus_numbers = world.array("buses", "number").astype(np.int64)
        self._thermal_bus = world.array("thermals", "bus").astype(np.int64)
        self._from = world.array("branches", "from").astype(np.int64)
        self._to = world.array("branches", "to").astype(np.int64)
        self.world_name = world.name

    @property
    def all_served(self):
        return self.unserved_mw <= 1e-6

    @property
    def bus_table(self):
        return Table([("bus", self.buses), ("number", self.bus_numbers),
                      ("angle_deg", self.va), ("lmp", self.lmp)],
                     title="Buses: voltage angle (degrees) and LMP ($/MWh)")

    @property
    def thermal_table(self):
        return Table([("unit", self.thermals),
                      ("bus", [self.buses[i] for i in self._thermal_bus]), ("p_mw", self.pg)],
                     title="Thermal units: output (MW)")

    @property
    def branch_table(self):
        return Table([("branch", self.branches),
                      ("from", [self.buses[i] for i in self._from]),
                      ("to", [self.buses[i] for i in self._to]),
                      ("flow_mw", self.flow), ("price", self.branch_price)],
                     title="Branches: flow (MW) and shadow price of the rating ($/MWh)")

    @locked
    def text(self):
        """The report ``plurigrid opf --dc`` prints (MATPOWER's printpf layout)."""
        c = self._live()
        return _text_of(lib.pg_dcopf_result_text, self._world._ptr, c)

    @locked
    def to_json(self, path=None):
        """The JSON of ``plurigrid opf --dc --json`` (format plurigrid-dcopf/1); written to path
        when one is given. Returns the text."""
        c = self._live()
        text = _text_of(lib.pg_dcopf_result_json, self._world._ptr, c)
        if path is not None:
            write_text(path, text)
        return text

    @locked
    def chart(self, chart="prices"):
        """A chart as :class:`plurigrid.SVG`: "prices" (the LMP of every bus, as bars by bus
        number) or "flows" (every branch's flow, MW, as bars by branch number)."""
        self._live()
        if chart == "prices":
            return chart_bars(self.bus_numbers.astype(np.float64), self.lmp,
                              "%s: locational marginal prices" % self.world_name, "bus",
                              "$/MWh", "LMP")
        if chart == "flows":
            return chart_bars(np.arange(1, len(self.flow) + 1, dtype=np.float64), self.flow,
                              "%s: branch flows" % self.world_name, "branch", "MW", "flow")
        raise InputError("chart must be 'prices' or 'flows', got %r" % (chart,))

    def svg(self, chart="prices"):
        """The SVG text of a chart ("prices" or "flows")."""
        return self.chart(chart).text

    def __repr__(self):
        return ("<plurigrid.OPFResult of %r: objective %.2f $/h, LMP %.4g to %.4g $/MWh%s>"
                % (self.world_name, self.objective,
                   self.lmp.min() if len(self.lmp) else float("nan"),
                   self.lmp.max() if len(self.lmp) else float("nan"),
                   ", closed" if self.closed else ""))


def chart_bars(x, y, title, x_label, y_label, label):
    return chart(x, [("bars", label, y)], title=title, x_label=x_label, y_label=y_label,
                 y_from_zero=True)


def dcopf(world, *, step=0, voll=None, solver_log=False, format=None):
    """The DC optimal power flow of a world at step ``step`` of its series, as
    ``plurigrid opf --dc`` solves it (MATPOWER's rundcopf: B-theta network, rateA limits,
    angle-difference limits, quadratic costs exactly); returns an :class:`OPFResult`.

    world: a World, a file path or a ppc dict. ``voll`` ($/MWh, default 10000) prices load
    that cannot be served. Raises ModelError, SolverError, InputError as :func:`run`.
    """
    o = _options(start_step=step, voll=voll, solver_log=solver_log)
    w, owned, path = _world_of(world, format)
    copy = None
    try:
        copy = w.copy()
        out = ffi.new("pg_dcopf_result **")
        err = ffi.new("pg_error *")
        rc = lib.pg_dcopf_solve(copy._ptr, o, out, err)
        if rc:
            _raise_with_file(rc, err, path)
        result = OPFResult(copy, out[0])
        copy = None
        return result
    finally:
        if copy is not None:
            copy.close()
        if owned:
            w.close()

