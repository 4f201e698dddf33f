"""Worlds: a power system held by the C library (a ``pg_world``), read from and written to
plurigrid JSON and MATPOWER files, and converted from and to PYPOWER/MATPOWER ``ppc`` dicts.

A :class:`World` owns its C object: it is freed when the World is garbage collected, or at once by
``close()`` (or a ``with`` block); a closed World refuses every use with :class:`ClosedError`.

``World.from_ppc`` writes the ppc's matrices as MATPOWER case text (every number in the shortest
form that reads back to the same double) and reads it with the library's MATPOWER reader, so a
ppc and the MATPOWER file with the same matrices give equal worlds by construction, and a bad
ppc gets the reader's own messages (naming ``ppc['gen'] row 3, column 2 (PG)``).
``World.to_ppc`` gives the matrices the library's MATPOWER writer writes (and MATPOWER's
``loadcase`` would read back), read straight from the world's arrays.
"""

import functools
import os
import threading

import numpy as np

from . import _errors
from ._errors import ClosedError, InputError, check
from ._ffi import ffi, lib, take_string

__all__ = ["World"]

# MATPOWER's column counts (version 2): the reader needs at least these and keeps at most these.
BUS_COLS = 13
GEN_COLS_MIN, GEN_COLS = 10, 21
BRANCH_COLS_MIN, BRANCH_COLS = 11, 13


def _struct_dtype(ctype, fields):
    """A numpy dtype laid over an array of C structs: the named fields at their offsets."""
    names, formats, offsets = [], [], []
    for name, fmt in fields:
        names.append(name)
        formats.append(fmt)
        offsets.append(ffi.offsetof(ctype, name))
    return np.dtype(
        {"names": names, "formats": formats, "offsets": offsets, "itemsize": ffi.sizeof(ctype)}
    )


_SIZE_T = "u%d" % ffi.sizeof("size_t")
_BOOL = "u1"  # C's bool is one byte holding 0 or 1
DT_BUS = _struct_dtype(
    "pg_bus",
    [
        ("number", "i4"),
        ("type", "i4"),
        ("base_kv", "f8"),
        ("vm", "f8"),
        ("va", "f8"),
        ("vmin", "f8"),
        ("vmax", "f8"),
        ("gs", "f8"),
        ("bs", "f8"),
        ("area", "i4"),
        ("zone", "i4"),
        ("x", "f8"),
        ("y", "f8"),
    ],
)
DT_BRANCH = _struct_dtype(
    "pg_branch",
    [
        ("kind", "i4"),
        ("from", _SIZE_T),
        ("to", _SIZE_T),
        ("r", "f8"),
        ("x", "f8"),
        ("b", "f8"),
        ("rate_a", "f8"),
        ("rate_b", "f8"),
        ("rate_c", "f8"),
        ("tap", "f8"),
        ("shift", "f8"),
        ("angmin", "f8"),
        ("angmax", "f8"),
        ("in_service", _BOOL),
    ],
)
DT_LOAD = _struct_dtype(
    "pg_load",
    [
        ("bus", _SIZE_T),
        ("p", "f8"),
        ("q", "f8"),
        ("p_series", _SIZE_T),
        ("q_series", _SIZE_T),
        ("in_service", _BOOL),
    ],
)
DT_THERMAL = _struct_dtype(
    "pg_thermal",
    [
        ("bus", _SIZE_T),
        ("in_service", _BOOL),
        ("p", "f8"),
        ("q", "f8"),
        ("pmin", "f8"),
        ("pmax", "f8"),
        ("qmin", "f8"),
        ("qmax", "f8"),
        ("vg", "f8"),
        ("mbase", "f8"),
        ("ramp_up", "f8"),
        ("ramp_down", "f8"),
        ("fixed_cost", "f8"),
        ("startup_cost", "f8"),
        ("shutdown_cost", "f8"),
    ],
)
DT_RENEWABLE = _struct_dtype(
    "pg_renewable",
    [
        ("bus", _SIZE_T),
        ("in_service", _BOOL),
        ("rating", "f8"),
        ("cost", "f8"),
        ("p", "f8"),
        ("q", "f8"),
    ],
)
DT_STORAGE = _struct_dtype(
    "pg_storage",
    [
        ("bus", _SIZE_T),
        ("in_service", _BOOL),
        ("charge_mw", "f8"),
        ("discharge_mw", "f8"),
        ("cost", "f8"),
        ("p", "f8"),
        ("q", "f8"),
    ],
)


def struct_view(array_ptr, n, dtype):
    """A numpy structured array viewing n C structs at array_ptr (no copy). The view is valid
    while the C array is: its owner must be kept alive and must not grow the array."""
    if n == 0 or array_ptr == ffi.NULL:
        return np.zeros(0, dtype=dtype)
    buf = ffi.buffer(array_ptr, n * dtype.itemsize)
    return np.frombuffer(buf, dtype=dtype, count=n)


def _notes_list(notes):
    out = [ffi.string(notes.items[i]).decode("utf-8", "replace") for i in range(notes.n)]
    lib.pg_notes_clear(notes)
    return out


def _text(p):
    return None if p == ffi.NULL else ffi.string(p).decode("utf-8", "replace")


def locked(method):
    """Runs a method holding the object's lock (``self._lock``), so that close() in one thread
    waits for a C call using the object in another instead of freeing memory under it."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return run


class World:
    """A power system (buses, branches, loads, thermal units, renewables, storage, series).

    Make one with :meth:`read`, :meth:`from_ppc`, :meth:`from_json` or :meth:`from_matpower`.
    ``notes`` lists what the reader reported without failing (MATPOWER columns it ignored, ...).
    """

    def __init__(self, _cdata, notes=None):
        # Internal: takes ownership of a pg_world * made by the library.
        if (
            not isinstance(_cdata, ffi.CData)
            or ffi.typeof(_cdata) is not ffi.typeof("pg_world *")
            or _cdata == ffi.NULL
        ):
            raise InputError(
                "World() is not called directly: use World.read(path), World.from_ppc(ppc), "
                "World.from_json(text) or World.from_matpower(text)"
            )
        self._cdata = ffi.gc(_cdata, lib.pg_world_free)
        # Held by close() and by every call that hands the C world to the library (here, pf(),
        # PowerFlow), so that a world closed in one thread is never freed under a call in another.
        self._lock = threading.RLock()
        self.notes = list(notes or [])
        self._ppc_bus_offset = 0

    # ------------------------------------------------------------------ lifetime
    @property
    def _ptr(self):
        p = self._cdata
        if p is None:
            raise ClosedError("this World was closed; its C object is freed")
        return p

    @locked
    def close(self):
        """Frees the C world now (the World is unusable afterwards). Closing twice is allowed."""
        if self._cdata is not None:
            p, self._cdata = self._cdata, None
            ffi.release(p)

    @property
    def closed(self):
        return self._cdata is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ------------------------------------------------------------------ reading and writing
    @classmethod
    def read(cls, path, format=None):
        """Reads a world file: plurigrid JSON (``.json``) or MATPOWER (``.m``); ``format``
        ("json" or "matpower") overrides the extension. Raises ParseError, ModelError,
        FileError, UnsupportedError with the file, line and place."""
        path = _fspath(path)
        fmt = ffi.NULL if format is None else _enc(format, "format")
        out = ffi.new("pg_world **")
        notes = ffi.new("pg_notes *")
        err = ffi.new("pg_error *")
        check(lib.pg_world_read(path, fmt, out, notes, err), err)
        return cls(out[0], _notes_list(notes))

    @classmethod
    def from_json(cls, text, name=None):
        """A world from a plurigrid-world/1 JSON document (str or bytes). name is what errors
        call the input."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        out = ffi.new("pg_world **")
        notes = ffi.new("pg_notes *")
        err = ffi.new("pg_error *")
        nm = ffi.NULL if name is None else _enc(name, "name")
        check(lib.pg_world_json_read_buffer(data, len(data), nm, out, notes, err), err)
        return cls(out[0], _notes_list(notes))

    @classmethod
    def from_matpower(cls, text, name=None):
        """A world from the text of a MATPOWER case (str or bytes)."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        out = ffi.new("pg_world **")
        notes = ffi.new("pg_notes *")
        err = ffi.new("pg_error *")
        nm = ffi.NULL if name is None else _enc(name, "name")
        check(lib.pg_matpower_read_buffer(data, len(data), nm, out, notes, err), err)
        return cls(out[0], _notes_list(notes))

    @locked
    def write(self, path, format=None):
        """Writes the world to path (atomically: a failed write leaves the old file) as JSON or
        MATPOWER by its extension or ``format``. Returns the writer's notes (what the format
        could not hold)."""
        p = _fspath(path)
        fmt = ffi.NULL if format is None else _enc(format, "format")
        notes = ffi.new("pg_notes *")
        err = ffi.new("pg_error *")
        check(lib.pg_world_write(self._ptr, p, fmt, notes, err), err)
        return _notes_list(notes)

    @locked
    def to_json(self):
        """The world as a plurigrid-world/1 JSON document (str)."""
        text = ffi.new("char **")
        err = ffi.new("pg_error *")
        check(lib.pg_world_json_write_buffer(self._ptr, text, ffi.NULL, err), err)
        return take_string(text[0])

    @locked
    def to_matpower(self):
        """The world as the text of a MATPOWER case file."""
        text = ffi.new("char **")
        err = ffi.new("pg_error *")
        check(lib.pg_matpower_write_buffer(self._ptr, text, ffi.NULL, ffi.NULL, err), err)
        return take_string(text[0])

    # ------------------------------------------------------------------ basics
    @locked
    def copy(self):
        """A deep copy (a new C world)."""
        out = ffi.new("pg_world **")
        err = ffi.new("pg_error *")
        check(lib.pg_world_clone(out, self._ptr, err), err)
        w = World(out[0], self.notes)
        w._ppc_bus_offset = self._ppc_bus_offset
        return w

    @locked
    def validate(self):
        """Checks the whole world; raises ModelError naming the first bad component."""
        err = ffi.new("pg_error *")
        check(lib.pg_world_validate(self._ptr, err), err)

    def diff(self, other):
        """The first difference from other ("thermals[3].pmax: 250 vs 251"), or None when the
        worlds are equal field by field (numbers exactly)."""
        if not isinstance(other, World):
            raise InputError("diff() compares two Worlds, not a World and %s" % type(other).__name__)
        buf = ffi.new("char[]", 512)
        first, second = sorted((self, other), key=id)  # one order: no deadlock
        with first._lock, second._lock:
            if lib.pg_world_equal(self._ptr, other._ptr, buf, 512):
                return None
        return ffi.string(buf).decode("utf-8", "replace")

    def __eq__(self, other):
        if not isinstance(other, World):
            return NotImplemented
        return self.diff(other) is None

    __hash__ = None

    @property
    def name(self):
        return _text(self._ptr.name)

    @property
    def description(self):
        return _text(self._ptr.description)

    @property
    def base_mva(self):
        return self._ptr.base_mva

    n_buses = property(lambda self: self._ptr.n_buses)
    n_branches = property(lambda self: self._ptr.n_branches)
    n_loads = property(lambda self: self._ptr.n_loads)
    n_thermals = property(lambda self: self._ptr.n_thermals)
    n_renewables = property(lambda self: self._ptr.n_renewables)
    n_storages = property(lambda self: self._ptr.n_storages)
    n_series = property(lambda self: self._ptr.n_series)

    def __repr__(self):
        if self.closed:
            return "<plurigrid.World (closed)>"
        w = self._ptr
        parts = ["%d buses" % w.n_buses, "%d branches" % w.n_branches, "%d loads" % w.n_loads]
        parts.append("%d thermal units" % w.n_thermals)
        if w.n_renewables:
            parts.append("%d renewables" % w.n_renewables)
        if w.n_storages:
            parts.append("%d storage units" % w.n_storages)
        if w.n_series:
            parts.append("%d series" % w.n_series)
        return "<plurigrid.World %r: %s, base %g MVA>" % (self.name, ", ".join(parts), w.base_mva)

    # ------------------------------------------------------------------ arrays (copies)
    def _view(self, what):
        w = self._ptr
        if what == "buses":
            return struct_view(w.buses, w.n_buses, DT_BUS)
        if what == "branches":
            return struct_view(w.branches, w.n_branches, DT_BRANCH)
        if what == "loads":
            return struct_view(w.loads, w.n_loads, DT_LOAD)
        if what == "thermals":
            return struct_view(w.thermals, w.n_thermals, DT_THERMAL)
        if what == "renewables":
            return struct_view(w.renewables, w.n_renewables, DT_RENEWABLE)
        if what == "storages":
            return struct_view(w.storages, w.n_storages, DT_STORAGE)
        raise InputError("no component %r" % what)

    @locked
    def array(self, component, field):
        """A copy of one field of every component, e.g. ``w.array('loads', 'p')`` (MW) or
        ``w.array('buses', 'number')``. Components: buses, branches, loads, thermals,
        renewables, storages; fields as in include/plurigrid/model.h."""
        v = self._view(component)
        if field not in v.dtype.names:
            raise InputError(
                "%s have no field %r here; fields: %s" % (component, field, ", ".join(v.dtype.names))
            )
        a = np.array(v[field])
        if a.dtype == np.uint8 and field == "in_service":
            a = a.astype(bool)
        return a

    @locked
    def names(self, component):
        """The names of every component of a kind (list of str)."""
        w = self._ptr
        arr, n = {
            "buses": (w.buses, w.n_buses),
            "branches": (w.branches, w.n_branches),
            "loads": (w.loads, w.n_loads),
            "thermals": (w.thermals, w.n_thermals),
            "renewables": (w.renewables, w.n_renewables),
            "storages": (w.storages, w.n_storages),
            "series": (w.series, w.n_series),
        }.get(component, (None, None))
        if arr is None:
            raise InputError("no component %r" % component)
        return [_text(arr[i].name) for i in range(n)]

    # ------------------------------------------------------------------ ppc
    @classmethod
    def from_ppc(cls, ppc, name="ppc", description=None):
        """A world from a PYPOWER/MATPOWER case dict (``baseMVA``, ``bus``, ``gen``,
        ``branch``, optional ``gencost``, ``bus_name``, ``version``, ``areas``), as
        ``pandapower.converter.to_ppc`` gives it, or what ``scipy.io.loadmat`` gives for a
        MATPOWER case saved as a .mat file (the file's dict, or its ``mpc`` entry).

        Columns follow MATPOWER's case format version 2 (see docs/python.md for which are kept).
        Bus numbers may be any integers: when some are 0 or negative (pandapower numbers buses
        from 0), every number is shifted by the same amount to start at 1 and to_ppc shifts them
        back; buses are then named by their original numbers."""
        from ._ppc import ppc_to_matpower

        text, offset, extra_notes = ppc_to_matpower(ppc, name, description)
        err = ffi.new("pg_error *")
        out = ffi.new("pg_world **")
        notes = ffi.new("pg_notes *")
        data = text.encode("utf-8")
        rc = lib.pg_matpower_read_buffer(data, len(data), b"ppc", out, notes, err)
        if rc:
            from ._ppc import rewrite_place

            e = _errors.error_from(rc, err, rewrite_place)
            # The line and column are of the generated text, which the caller never sees.
            e.file, e.line, e.column = "", 0, 0
            e.args = (e._format(),)
            raise e
        notes_l = [n.replace("mpc.", "ppc.") for n in _notes_list(notes)]
        w = cls(out[0], extra_notes + notes_l)
        w._ppc_bus_offset = offset
        return w

    @locked
    def to_ppc(self):
        """The world as a ppc dict of numpy float64 arrays (``version``, ``baseMVA``, ``bus``
        (13 columns), ``gen`` (21), ``branch`` (13), ``gencost`` when any unit has a cost,
        ``bus_name`` when buses are named otherwise than by their numbers): the matrices the
        MATPOWER writer writes for this world. A world made by from_ppc gives its ppc back
        exactly in every column plurigrid keeps (docs/python.md lists the others)."""
        from ._ppc import world_to_ppc

        return world_to_ppc(self)


def _fspath(path):
    """A file name as bytes for C, refusing what C would read as another name (a NUL ends a C
    string: "a.m\0b" would open a.m)."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise InputError("a file name must be a str or os.PathLike, got %r" % (path,))
    p = os.fsencode(os.fspath(path))
    if not p or b"\0" in p:
        raise InputError("a file name must be non-empty and cannot contain a NUL character")
    return p


def _enc(s, what):
    if not isinstance(s, (str, bytes)):
        raise InputError("%s must be a str, not %s" % (what, type(s).__name__))
    b = s if isinstance(s, bytes) else s.encode("utf-8")
    if b"\0" in b:
        raise InputError("%s cannot contain a NUL character" % what)
    return b


def as_world(world_or_path, format=None):
    """(World, owned): a World given as such, or read from a path (owned: the caller may close
    it). Anything else is refused with InputError."""
    if isinstance(world_or_path, World):
        world_or_path._ptr  # raises ClosedError when closed
        return world_or_path, False
    if isinstance(world_or_path, (str, bytes, os.PathLike)):
        return World.read(world_or_path, format), True
    if isinstance(world_or_path, dict):
        return World.from_ppc(world_or_path), True
    raise InputError(
        "expected a World, a file path or a ppc dict, got %s" % type(world_or_path).__name__
    )
