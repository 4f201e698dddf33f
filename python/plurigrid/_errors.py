"""Python exceptions for libplurigrid's errors.

Every failing C call fills a ``pg_error`` (a status code, a message, and for input files the
file, line, column and place: a JSON path such as ``$.thermals[0].pmax`` or a matrix place such as
``mpc.branch row 7, column 4 (BR_X)``). ``raise_for(rc, err)`` turns it into an instance of the
subclass of :class:`Error` that matches the code, carrying the same fields. Each subclass also
derives from the built-in exception a Python user would expect (a parse error is a ValueError, a
file that cannot be read an OSError, ...), so ``except ValueError`` works as well.

Mistakes caught on the Python side before any C call (a wrong dtype, a NaN, a wrong shape, a
missing key of a ppc dict) raise :class:`InputError` (a ValueError and a TypeError); an object
used after ``close()`` raises :class:`ClosedError`.
"""

from ._ffi import ffi, lib


class Error(Exception):
    """Any error reported by plurigrid.

    Attributes: ``code`` (the C status, a negative int; 0 for checks made in Python),
    ``code_name`` (``"PG_EPARSE"``, ...), ``message`` (what went wrong), ``file``, ``line``,
    ``column`` and ``path`` (where, when the error is about an input; "" or 0 when unknown).
    ``str(e)`` is the one line the command prints: ``FILE:LINE:COL: PATH: MESSAGE``.
    """

    code = 0

    def __init__(self, message, code=None, file="", line=0, column=0, path=""):
        if code is not None:
            self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        super().__init__(self._format())

    @property
    def code_name(self):
        return _CODE_NAMES.get(self.code, "PG_OK" if self.code == 0 else str(self.code))

    def _format(self):
        parts = []
        if self.file:
            where = self.file
            if self.line:
                where += ":%d" % self.line
                if self.column:
                    where += ":%d" % self.column
            parts.append(where)
        if self.path:
            parts.append(self.path)
        parts.append(self.message)
        return ": ".join(parts)

    def __reduce__(self):
        return (
            self.__class__,
            (self.message, self.code, self.file, self.line, self.column, self.path),
        )


class InputError(Error, ValueError, TypeError):
    """A bad argument: wrong type, dtype, shape, a NaN, a missing key (PG_EINVAL)."""

    code = -1


class ClosedError(Error, ValueError):
    """An object used after close() (its C object was freed)."""

    code = -11


class OutOfMemoryError(Error, MemoryError):
    code = -2


class FileError(Error, OSError):
    """A file or stream could not be read or written (PG_EIO)."""

    code = -3


class ParseError(Error, ValueError):
    """Malformed input: syntax, types, unknown keys, bad numbers (PG_EPARSE)."""

    code = -4


class ModelError(Error, ValueError):
    """Well-formed input that describes an invalid model (PG_EMODEL)."""

    code = -5


class SolverError(Error, RuntimeError):
    """A numerical solver failed (PG_ESOLVER); not converging is a result, not this."""

    code = -6


class NotFoundError(Error, LookupError):
    code = -7


class UnsupportedError(Error, ValueError):
    """Valid input that this version does not handle (PG_EUNSUPPORTED)."""

    code = -8


class NetworkError(Error, ConnectionError):
    code = -9


class AuthError(Error, PermissionError):
    code = -10


class StateError(Error, RuntimeError):
    """The call is not valid in the object's current state (PG_ESTATE)."""

    code = -11


class LimitError(Error, ValueError):
    """A size or rate limit was exceeded (PG_ELIMIT)."""

    code = -12


class CanceledError(Error):
    code = -13


class NotConvergedError(Error, ArithmeticError):
    """A power flow did not converge (raised by ``PFResult.check()``, not by solving: not
    converging is a result)."""

    code = 1


_BY_CODE = {
    -1: InputError,
    -2: OutOfMemoryError,
    -3: FileError,
    -4: ParseError,
    -5: ModelError,
    -6: SolverError,
    -7: NotFoundError,
    -8: UnsupportedError,
    -9: NetworkError,
    -10: AuthError,
    -11: StateError,
    -12: LimitError,
    -13: CanceledError,
}
_CODE_NAMES = {
    -1: "PG_EINVAL",
    -2: "PG_ENOMEM",
    -3: "PG_EIO",
    -4: "PG_EPARSE",
    -5: "PG_EMODEL",
    -6: "PG_ESOLVER",
    -7: "PG_ENOTFOUND",
    -8: "PG_EUNSUPPORTED",
    -9: "PG_ENET",
    -10: "PG_EAUTH",
    -11: "PG_ESTATE",
    -12: "PG_ELIMIT",
    -13: "PG_ECANCELED",
}


def _text(chars):
    return ffi.string(chars).decode("utf-8", "replace")


def error_from(rc, err, rewrite_path=None):
    """The exception for status rc and the filled ``pg_error *`` err (err may be NULL).
    rewrite_path, when given, maps the C place to the caller's words (used by from_ppc)."""
    if err is None or err == ffi.NULL or not err.msg[0]:
        msg = _text(lib.pg_strerror(rc))
        return _BY_CODE.get(rc, Error)(msg, code=rc)
    path = _text(err.path)
    if rewrite_path is not None:
        path = rewrite_path(path)
    cls = _BY_CODE.get(rc, Error)
    return cls(
        _text(err.msg),
        code=rc,
        file=_text(err.file),
        line=err.line,
        column=err.column,
        path=path,
    )


def raise_for(rc, err, rewrite_path=None):
    """Raises the exception for a failed call (rc != 0)."""
    raise error_from(rc, err, rewrite_path)


def check(rc, err, rewrite_path=None):
    """Returns when rc is PG_OK; raises the matching exception otherwise."""
    if rc != 0:
        raise error_from(rc, err, rewrite_path)
