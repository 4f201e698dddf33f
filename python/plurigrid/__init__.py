"""plurigrid for Python: worlds, power flow, scheduling, OPF, games and plots of libplurigrid.

A thin binding (cffi in ABI mode, no compiled extension) over the C library: every result is
computed by the same code as the ``plurigrid`` command, and returned as numpy arrays and plain
Python objects. Every error of the library is raised as a subclass of :class:`plurigrid.Error`
carrying the file, line and place it names.

>>> import plurigrid
>>> r = plurigrid.pf("case118.m")
>>> r.converged, r.vm.max()

See docs/python.md.
"""

from ._errors import (
    AuthError,
    CanceledError,
    ClosedError,
    Error,
    FileError,
    InputError,
    LimitError,
    ModelError,
    NetworkError,
    NotConvergedError,
    NotFoundError,
    OutOfMemoryError,
    ParseError,
    SolverError,
    StateError,
    UnsupportedError,
)
from ._ffi import ffi as _ffi_ffi
from ._ffi import lib as _ffi_lib
from ._ffi import lib_path
from .pf import PFResult, PowerFlow, pf
from .world import World

__version__ = _ffi_ffi.string(_ffi_lib.pg_version()).decode()

__all__ = [
    "World",
    "pf",
    "PowerFlow",
    "PFResult",
    "Error",
    "InputError",
    "ClosedError",
    "FileError",
    "ParseError",
    "ModelError",
    "SolverError",
    "NotFoundError",
    "UnsupportedError",
    "NetworkError",
    "AuthError",
    "StateError",
    "LimitError",
    "CanceledError",
    "OutOfMemoryError",
    "NotConvergedError",
    "lib_path",
    "__version__",
]

# ---- scheduling and OPF (dispatch.py), games (game.py), tables (table.py), charts (plot.py)
from .dispatch import OPFResult, Schedule, dcopf, run  # noqa: E402
from .game import GameReport, ScenarioReport, game  # noqa: E402
from .plot import SVG, chart  # noqa: E402
from .table import Table  # noqa: E402

__all__ += ["run", "dcopf", "Schedule", "OPFResult", "game", "GameReport", "ScenarioReport",
            "Table", "SVG", "chart"]
