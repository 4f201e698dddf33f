"""Charts as SVG text, drawn by the library's plotting (include/plurigrid/plot.h), so that a
notebook shows the same pictures as ``plurigrid run --plot`` and ``plurigrid game --plot``.

:class:`SVG` holds the text of one chart: a notebook displays it (``_repr_svg_``), ``str()`` is
the text, ``save(path)`` writes it whole or not at all. :func:`chart` draws lines, stacks, bars
and bands from numpy arrays through the same C code.
"""

import numbers
import os

import numpy as np

from ._errors import InputError, check
from ._ffi import ffi, lib

__all__ = ["SVG", "chart"]


class SVG:
    """One chart's SVG text. ``_repr_svg_`` makes notebooks draw it."""

    def __init__(self, text, name=None):
        if not isinstance(text, str):
            raise InputError("SVG text must be a str")
        self.text = text
        self.name = name

    def _repr_svg_(self):
        return self.text

    def __str__(self):
        return self.text

    def __repr__(self):
        return "<plurigrid.SVG %s(%d characters)>" % (
            "%r " % self.name if self.name else "",
            len(self.text),
        )

    def __eq__(self, other):
        if isinstance(other, SVG):
            return self.text == other.text
        if isinstance(other, str):
            return self.text == other
        return NotImplemented

    __hash__ = None

    def save(self, path):
        """Writes the chart to path (replaced whole: a failed write leaves the old file)."""
        write_text(path, self.text)


def write_text(path, text):
    """Writes text to path through the library's atomic writer ("-" is standard output)."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise InputError("a file name must be a str or os.PathLike, got %r" % (path,))
    p = os.fsencode(path)
    if not p or b"\0" in p:
        raise InputError("a file name must be non-empty and cannot contain a NUL character")
    data = text.encode("utf-8")
    err = ffi.new("pg_error *")
    check(lib.pg_output_write(p, data, len(data), err), err)


def render(plot):
    """The SVG text of a pg_plot * (borrowed)."""
    svg = ffi.new("char **")
    n = ffi.new("size_t *")
    err = ffi.new("pg_error *")
    check(lib.pg_plot_render(plot, svg, n, err), err)
    try:
        return ffi.unpack(svg[0], n[0]).decode("utf-8", "replace")
    finally:
        lib.free(svg[0])


def enc(s, what):
    """A str as NUL-free UTF-8 bytes for C (None stays NULL)."""
    if s is None:
        return ffi.NULL
    if not isinstance(s, str):
        raise InputError("%s must be a str, not %s" % (what, type(s).__name__))
    b = s.encode("utf-8")
    if b"\0" in b:
        raise InputError("%s cannot contain a NUL character" % what)
    return b


def as_series(values, what, n=None):
    """A contiguous float64 copy of a one-dimensional sequence of real numbers."""
    try:
        a = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InputError("%s must be numbers: %s" % (what, e)) from None
    if a.ndim != 1:
        raise InputError("%s must be one-dimensional, got shape %s" % (what, a.shape))
    if n is not None and len(a) != n:
        raise InputError("%s has %d values where x has %d" % (what, len(a), n))
    return np.ascontiguousarray(a)


_KINDS = ("line", "dashed", "stack", "bars", "band")


def chart(x, series, title="", x_label="", y_label="", width=900, height=480,
          y_from_zero=True, step=False):
    """Draws a chart through the library and returns it as :class:`SVG`.

    series is a list of ``(kind, label, y)`` with kind one of "line", "dashed", "stack" and
    "bars", or ``("band", label, (lo, hi))``; every y has one value per x (a NaN leaves a gap).
    Stacks are drawn cumulatively in the order given."""
    xs = as_series(x, "x")
    for v, what in ((width, "width"), (height, "height")):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 50 <= v <= 20000:
            raise InputError("%s must be a whole number of pixels from 50 to 20000" % what)
    if not np.all(np.isfinite(xs)):
        raise InputError("x must be finite numbers")
    opts = ffi.new("pg_plot_options *")
    lib.pg_plot_options_init(opts)
    opts.width, opts.height = int(width), int(height)
    opts.y_from_zero = 1 if y_from_zero else 0
    opts.step = 1 if step else 0
    out = ffi.new("pg_plot **")
    err = ffi.new("pg_error *")
    check(
        lib.pg_plot_new(out, enc(title, "title"), enc(x_label, "x_label"),
                        enc(y_label, "y_label"), opts, err),
        err,
    )
    p = ffi.gc(out[0], lib.pg_plot_free)
    try:
        keep = []
        for item in series:
            if not isinstance(item, (tuple, list)) or len(item) != 3:
                raise InputError("each series is (kind, label, values)")
            kind, label, ys = item
            if kind not in _KINDS:
                raise InputError("a series kind is one of %s, not %r" % (", ".join(_KINDS), kind))
            lab = enc(label, "a series label")
            n = len(xs)
            if kind == "band":
                if not isinstance(ys, (tuple, list)) or len(ys) != 2:
                    raise InputError("a band's values are (lo, hi)")
                lo = as_series(ys[0], "band %r lo" % label, n)
                hi = as_series(ys[1], "band %r hi" % label, n)
                keep += [lo, hi]
                rc = lib.pg_plot_add_band(p, lab, ffi.from_buffer("double[]", xs),
                                          ffi.from_buffer("double[]", lo),
                                          ffi.from_buffer("double[]", hi), n, ffi.NULL, err)
            else:
                y = as_series(ys, "series %r" % label, n)
                keep.append(y)
                fn = {
                    "line": lib.pg_plot_add_line,
                    "dashed": lib.pg_plot_add_dashed,
                    "stack": lib.pg_plot_add_stack,
                    "bars": lib.pg_plot_add_bars,
                }[kind]
                rc = fn(p, lab, ffi.from_buffer("double[]", xs), ffi.from_buffer("double[]", y),
                        n, ffi.NULL, err)
            check(rc, err)
        return SVG(render(p), title or None)
    finally:
        ffi.release(p)

