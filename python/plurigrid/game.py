"""Games from Python: ``plurigrid.game(file_or_dict, ...)`` does what ``plurigrid game`` does.

A classic game (format ``plurigrid-game/1``, docs/open-games.md) is analysed: the profiles it
names are checked for equilibrium, equilibria are enumerated where the kind allows, learning
dynamics are run. A scenario (format ``plurigrid-scenario/1``, docs/scenarios.md) is run many
times and its resilience report made. The file's ``"format"`` says which.

The report is the library's JSON report parsed into Python objects, so it holds exactly what
``plurigrid game FILE --json -`` prints: :class:`GameReport` and :class:`ScenarioReport` are
dicts of that content, with a few conveniences (tables, the text report, charts as SVG).

A dict input is written as JSON text and read by the library's own parser under the name
``<dict>``, so a mistake in it is reported with the JSON path of the bad value (and the line
of that text, which is ``json.dumps(d, indent=1)``).
"""

import json
import math
import numbers
import os

import numpy as np

from ._errors import InputError, check
from ._ffi import ffi, lib, take_string
from .plot import SVG, enc
from .table import Table

__all__ = ["game", "GameReport", "ScenarioReport"]

# The larger of the two formats' input limits (64 MiB each), as the command reads.
_INPUT_MAX = 64 << 20
_DICT_NAME = "<dict>"
_MAX_ROUNDS = 100000000
_MAX_RUNS = 1000000
_MAX_TURNS = 100000
_U64_MAX = (1 << 64) - 1


def _count(name, v, lo, hi):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise InputError("%s must be a whole number, got %r" % (name, v))
    v = int(v)
    if v < lo or v > hi:
        raise InputError("%s must be from %d to %d, got %d" % (name, lo, hi, v))
    return v


def _read_input(file_or_dict):
    """(bytes text, name): the text of the game, read once through the library's bounded
    reader (files, pipes, FIFOs; folders and devices refused), or a dict written as JSON."""
    if isinstance(file_or_dict, dict):
        try:
            text = json.dumps(file_or_dict, indent=1, allow_nan=False, ensure_ascii=False)
        except ValueError as e:  # NaN or infinity
            raise InputError("the game dict holds a number JSON cannot write: %s" % e) from None
        except TypeError as e:
            raise InputError("the game dict holds a value JSON cannot write: %s" % e) from None
        except RecursionError:
            raise InputError("the game dict is nested too deeply to write as JSON") from None
        data = text.encode("utf-8")
        if len(data) > _INPUT_MAX:
            raise InputError("the game dict is %d bytes as JSON; at most %d are read"
                             % (len(data), _INPUT_MAX))
        return data, _DICT_NAME
    if not isinstance(file_or_dict, (str, bytes, os.PathLike)):
        raise InputError(
            "game() takes a file path or a dict, got %s" % type(file_or_dict).__name__
        )
    path = os.fsencode(file_or_dict)
    if not path or b"\0" in path:
        raise InputError("a file name must be non-empty and cannot contain a NUL character")
    data = ffi.new("char **")
    n = ffi.new("size_t *")
    err = ffi.new("pg_error *")
    check(lib.pg_input_read(path, _INPUT_MAX, data, n, err), err)
    try:
        text = ffi.unpack(data[0], n[0])
    finally:
        lib.free(data[0])
    name = "standard input" if path == b"-" else os.fsdecode(path)
    return text, name


class _Progress:
    """A C progress callback that calls a Python function and keeps its exception, which is
    raised once the C call has returned (an exception cannot cross the C code)."""

    def __init__(self, fn, ctype, adapt):
        self.fn = fn
        self.raised = None
        self.cb = None
        if fn is None:
            return
        if not callable(fn):
            raise InputError("progress must be a callable or None")

        def on_progress(*args):
            if self.raised is not None:
                return
            try:
                fn(*adapt(*args))
            except BaseException as e:  # noqa: B902 - re-raised after the C call returns
                self.raised = e

        self.cb = ffi.callback(ctype, on_progress)

    def pointer(self):
        return self.cb if self.cb is not None else ffi.NULL

    def reraise(self):
        if self.raised is not None:
            raise self.raised


class GameReport(dict):
    """The analysis of a classic game: a dict equal to ``plurigrid game FILE --json``'s
    output (format ``plurigrid-game-report/1``): name, kind, description, file,
    pure_equilibria, extreme_equilibria (None when not computed), failed_expectations,
    profiles (each with its equilibrium check), notes.

    ``profiles_table`` lists the profiles as a :class:`plurigrid.Table`, ``text()`` is the
    report the command prints, ``failed`` the number of expectations that did not hold."""

    def __init__(self, data, text):
        super().__init__(data)
        self._text = text

    def text(self):
        """The report ``plurigrid game FILE`` prints for people."""
        return self._text

    @property
    def failed(self):
        return int(self.get("failed_expectations") or 0)

    @property
    def profiles_table(self):
        ps = self.get("profiles") or []

        def num(v):
            return float("nan") if v is None else float(v)

        return Table(
            [
                ("name", [p["name"] for p in ps]),
                ("source", [p["source"] for p in ps]),
                ("profile", [p["profile"] for p in ps]),
                ("equilibrium", np.array([bool(p["equilibrium"]) for p in ps], dtype=bool)),
                ("max_gain", np.array([num(p["max_gain"]) for p in ps])),
                ("expect", [p["expect"] or "" for p in ps]),
                ("expectation_met", [
                    "" if p["expectation_met"] is None else
                    ("yes" if p["expectation_met"] else "NO") for p in ps]),
            ],
            title="%s: profiles" % self.get("name", "game"),
        )

    def __repr__(self):
        return "<plurigrid.GameReport %r (%s): %d profiles, %s pure equilibria, %d failed>" % (
            self.get("name"), self.get("kind"), len(self.get("profiles") or []),
            self.get("pure_equilibria"), self.failed)

    def _repr_html_(self):
        return self.profiles_table._repr_html_()


class ScenarioReport(dict):
    """The resilience report of a scenario: a dict equal to ``plurigrid game FILE --json``'s
    output (format ``plurigrid-resilience-report/1``).

    ``performance``: the indicator of every run after every turn (numpy, runs x (turns + 1));
    ``charts``: the charts ``plurigrid game FILE --plot DIR`` writes, a dict of file name to
    :class:`plurigrid.SVG`; ``svg(name)`` one chart's text ("performance" by default, which
    notebooks show); ``text()`` the report the command prints."""

    def __init__(self, data, text, charts, performance):
        super().__init__(data)
        self._text = text
        self.charts = charts
        self.performance = performance

    def text(self):
        return self._text

    def svg(self, name="performance"):
        key = name if name.endswith(".svg") else name + ".svg"
        if key not in self.charts:
            raise InputError("no chart %r; the charts are %s" % (name, ", ".join(self.charts)))
        return self.charts[key].text

    def _repr_svg_(self):
        return self.svg() if "performance.svg" in self.charts else None

    def __repr__(self):
        return "<plurigrid.ScenarioReport %r: %d runs x %d turns, %d charts>" % (
            self.get("scenario"),
            self.performance.shape[0], max(self.performance.shape[1] - 1, 0), len(self.charts))


def _classic(text, name, seed, rounds, tolerance, learning, max_profiles, progress):
    o = ffi.new("pg_game_options *")
    lib.pg_game_options_init(o)
    if seed is not None:
        o.seed = _count("seed", seed, 0, _U64_MAX)
    if rounds is not None:
        o.rounds = _count("rounds", rounds, 1, _MAX_ROUNDS)
    if tolerance is not None:
        if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) or not (
            math.isfinite(float(tolerance)) and float(tolerance) >= 0
        ):
            raise InputError("tolerance must be a finite number >= 0, got %r" % (tolerance,))
        o.tolerance = float(tolerance)
    if not isinstance(learning, (bool, np.bool_)):
        raise InputError("learning must be True or False, got %r" % (learning,))
    o.learning = bool(learning)
    if max_profiles is not None:
        o.max_profiles = _count("max_profiles", max_profiles, 1, (1 << 62))
    pr = _Progress(progress, "pg_game_progress_fn",
                   lambda what, done, total, ud: (ffi.string(what).decode("utf-8", "replace"),
                                                  int(done), int(total)))
    o.progress = pr.pointer()
    out = ffi.new("pg_game_report **")
    err = ffi.new("pg_error *")
    check(lib.pg_game_text_analyze(text, len(text), enc(name, "name"), o, out, err), err)
    rep = ffi.gc(out[0], lib.pg_game_report_free)
    try:
        pr.reraise()
        js = ffi.new("char **")
        check(lib.pg_game_report_json(rep, js, err), err)
        data = json.loads(take_string(js[0]))
        tx = ffi.new("char **")
        check(lib.pg_game_report_text(rep, tx, err), err)
        return GameReport(data, take_string(tx[0]))
    finally:
        ffi.release(rep)


def _scenario(text, name, seed, runs, turns, threads, progress):
    o = ffi.new("pg_scenario_options *")
    lib.pg_scenario_options_init(o)
    if seed is not None:
        o.set_seed = True
        o.seed = _count("seed", seed, 0, _U64_MAX)
    if runs is not None:
        o.runs = _count("runs", runs, 1, _MAX_RUNS)
    if turns is not None:
        o.turns = _count("turns", turns, 1, _MAX_TURNS)
    if threads is None:
        threads = min(os.cpu_count() or 1, 64)
    o.threads = _count("threads", threads, 1, 256)
    pr = _Progress(progress, "pg_scenario_progress_fn",
                   lambda done, total, ud: ("runs", int(done), int(total)))
    o.progress = pr.pointer()
    out = ffi.new("pg_scenario **")
    err = ffi.new("pg_error *")
    check(lib.pg_scenario_parse(text, len(text), enc(name, "name"), out, err), err)
    sc = ffi.gc(out[0], lib.pg_scenario_free)
    res = None
    try:
        rout = ffi.new("pg_scenario_result **")
        check(lib.pg_scenario_run(sc, o, rout, err), err)
        res = ffi.gc(rout[0], lib.pg_scenario_result_free)
        pr.reraise()
        js = ffi.new("char **")
        check(lib.pg_scenario_report_json(res, js, err), err)
        data = json.loads(take_string(js[0]))
        tx = ffi.new("char **")
        check(lib.pg_scenario_report_text(res, tx, err), err)
        words = take_string(tx[0])
        names = ffi.new("char ***")
        svgs = ffi.new("char ***")
        n = ffi.new("size_t *")
        check(lib.pg_scenario_plots_svg(res, names, svgs, n, err), err)
        charts = {}
        try:
            for i in range(n[0]):
                nm = ffi.string(names[0][i]).decode("utf-8", "replace")
                charts[nm] = SVG(ffi.string(svgs[0][i]).decode("utf-8", "replace"), nm)
        finally:
            lib.pg_scenario_plots_free(names[0], svgs[0], n[0])
        R = lib.pg_scenario_result_runs(res)
        T1 = lib.pg_scenario_result_turns(res) + 1
        perf = np.empty((R, T1))
        for r in range(R):
            p = lib.pg_scenario_result_performance(res, r)
            perf[r] = np.frombuffer(ffi.buffer(p, T1 * 8), dtype=np.float64)
        return ScenarioReport(data, words, charts, perf)
    finally:
        if res is not None:
            ffi.release(res)  # the result borrows the scenario: freed first
        ffi.release(sc)


def game(file_or_dict, *, seed=None, rounds=None, tolerance=None, learning=True,
         max_profiles=None, runs=None, turns=None, threads=None, progress=None):
    """Analyses a classic game or runs a scenario, as ``plurigrid game`` does.

    file_or_dict: a file path (a pipe or FIFO too; "-" is standard input) or a dict of the
    file's content. Classic games (``plurigrid-game/1``) take ``seed`` (learning runs, default
    1), ``rounds`` (learning rounds of every run), ``tolerance`` (equilibrium check, default
    1e-9), ``learning`` (default True) and ``max_profiles``; scenarios
    (``plurigrid-scenario/1``) take ``seed``, ``runs``, ``turns`` and ``threads`` (default: the
    processors, at most 64). ``progress(what, done, total)`` is called as the work goes.

    Returns a :class:`GameReport` or a :class:`ScenarioReport`. Raises ParseError (with the
    file, line and JSON path), FileError, LimitError, InputError for options that do not apply
    to the file's kind.
    """
    text, name = _read_input(file_or_dict)
    classic = bool(lib.pg_game_text_is_classic(text, len(text)))
    if classic:
        for opt, v in (("runs", runs), ("turns", turns), ("threads", threads)):
            if v is not None:
                raise InputError("%s applies to scenario files; %s is a classic game"
                                 % (opt, name))
        return _classic(text, name, seed, rounds, tolerance, learning, max_profiles, progress)
    for opt, v in (("rounds", rounds), ("tolerance", tolerance), ("max_profiles", max_profiles)):
        if v is not None:
            raise InputError("%s applies to classic-game files (plurigrid-game/1)" % opt)
    if learning is not True:
        raise InputError("learning applies to classic-game files (plurigrid-game/1)")
    return _scenario(text, name, seed, runs, turns, threads, progress)
