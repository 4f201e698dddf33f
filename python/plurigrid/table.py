"""A small table of named columns, each a one-dimensional numpy array of the same length.

Results of scheduling, optimal power flow and games are offered as tables so that a notebook
shows them readably without pandas: ``repr`` prints an aligned text table, ``_repr_html_`` an
HTML one, ``table['col']`` is the column's array, ``to_dict()`` gives plain Python lists and
``to_csv(path)`` writes a CSV file (through the library's atomic writer, so a failed write
leaves the old file). A pandas user writes ``pandas.DataFrame(table.to_dict())``.
"""

import html
import math
import numbers

import numpy as np

__all__ = ["Table"]

# Rows shown by repr and _repr_html_ before the middle is elided.
_SHOW_ROWS = 40


def _as_column(name, values):
    """A one-dimensional numpy array from values, refusing what is not a column."""
    if isinstance(values, np.ndarray):
        arr = values
    else:
        values = list(values)
        if values and all(isinstance(v, str) for v in values):
            arr = np.array(values, dtype=object)
        else:
            arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(
            "column %r must be one-dimensional, got an array of shape %s" % (name, arr.shape)
        )
    if arr.dtype.kind == "U":
        arr = arr.astype(object)
    return arr


def _cell(v):
    """The text of one cell: numbers at up to 6 significant digits, the rest as str."""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        x = float(v)
        if math.isnan(x):
            return "nan"
        if x == 0:
            return "0"
        return "%.6g" % x
    if v is None:
        return ""
    return str(v)


def _csv_field(v):
    """One CSV field: numbers at round-trip precision, text quoted when it must be."""
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        x = float(v)
        return "" if not math.isfinite(x) else repr(x)
    s = "" if v is None else str(v)
    if any(c in s for c in ',"\n\r'):
        s = '"' + s.replace('"', '""') + '"'
    return s


class Table:
    """Named columns of equal length, in the order given.

    ``Table({"bus": names, "lmp": prices})`` or ``Table([("bus", names), ("lmp", prices)])``.
    Columns are numpy arrays (text columns have dtype object); a Table is read-only in the
    sense that its columns are not copied on access: change a column's array and the table
    shows the change.
    """

    def __init__(self, columns=(), title=None):
        items = columns.items() if isinstance(columns, dict) else columns
        self._cols = {}
        n = None
        for name, values in items:
            if not isinstance(name, str):
                raise TypeError("column names must be str, got %r" % (name,))
            if name in self._cols:
                raise ValueError("column %r is given twice" % name)
            arr = _as_column(name, values)
            if n is None:
                n = len(arr)
            elif len(arr) != n:
                raise ValueError(
                    "column %r has %d rows where the columns before it have %d"
                    % (name, len(arr), n)
                )
            self._cols[name] = arr
        self._n = n or 0
        self.title = title

    # ------------------------------------------------------------------ access

    @property
    def columns(self):
        """The column names, in order."""
        return list(self._cols)

    def __len__(self):
        return self._n

    @property
    def shape(self):
        return (self._n, len(self._cols))

    def __contains__(self, name):
        return name in self._cols

    def __iter__(self):
        """Iterates over the rows, each a dict of column name to value."""
        for i in range(self._n):
            yield self.row(i)

    def row(self, i):
        """Row i as a dict of column name to value (negative i counts from the end)."""
        if not isinstance(i, numbers.Integral):
            raise TypeError("a row number must be an int, got %r" % (i,))
        if i < -self._n or i >= self._n:
            raise IndexError("row %d is outside the table's %d rows" % (i, self._n))
        return {k: _py(v[i]) for k, v in self._cols.items()}

    def __getitem__(self, key):
        """table['col'] is a column (a numpy array); table[i] is row i as a dict; table[a:b] is
        a Table of those rows."""
        if isinstance(key, str):
            try:
                return self._cols[key]
            except KeyError:
                raise KeyError(
                    "no column %r; the columns are %s" % (key, ", ".join(self._cols) or "none")
                ) from None
        if isinstance(key, numbers.Integral):
            return self.row(key)
        if isinstance(key, slice):
            return Table([(k, v[key]) for k, v in self._cols.items()], title=self.title)
        raise TypeError("index a Table by a column name (str), a row number (int) or a slice")

    def __eq__(self, other):
        if not isinstance(other, Table):
            return NotImplemented
        if self.columns != other.columns or len(self) != len(other):
            return False
        for k in self._cols:
            a, b = self._cols[k], other._cols[k]
            if a.dtype.kind in "fc" or b.dtype.kind in "fc":
                if not np.array_equal(a, b, equal_nan=True):
                    return False
            elif list(a) != list(b):
                return False
        return True

    __hash__ = None

    def to_dict(self):
        """The columns as plain Python lists: {name: [values]} (non-finite numbers as float)."""
        return {k: [_py(x) for x in v] for k, v in self._cols.items()}

    def to_csv(self, path=None):
        """CSV text (a header, then one line per row); written to path when one is given
        (replaced whole: a failed write leaves the old file). Returns the text."""
        lines = [",".join(_csv_field(k) for k in self._cols)]
        for i in range(self._n):
            lines.append(",".join(_csv_field(v[i]) for v in self._cols.values()))
        text = "\n".join(lines) + "\n"
        if path is not None:
            _write_text(path, text)
        return text

    # ------------------------------------------------------------------ display

    def _rows_shown(self):
        if self._n <= _SHOW_ROWS:
            return list(range(self._n)), None
        half = _SHOW_ROWS // 2
        return list(range(half)) + list(range(self._n - half, self._n)), half

    def __repr__(self):
        rows, cut = self._rows_shown()
        names = list(self._cols)
        if not names:
            return "Table (empty)"
        cells = [[_cell(self._cols[k][i]) for k in names] for i in rows]
        widths = [max([len(k)] + [len(r[j]) for r in cells]) for j, k in enumerate(names)]
        numeric = [self._cols[k].dtype.kind in "biuf" for k in names]

        def line(vals):
            parts = []
            for j, v in enumerate(vals):
                parts.append(v.rjust(widths[j]) if numeric[j] else v.ljust(widths[j]))
            return "  ".join(parts).rstrip()

        out = []
        if self.title:
            out.append(self.title)
        out.append(line(names))
        out.append("  ".join("-" * w for w in widths))
        for n, r in enumerate(cells):
            if cut is not None and n == cut:
                out.append("... %d more rows ..." % (self._n - len(rows)))
            out.append(line(r))
        out.append("(%d rows x %d columns)" % self.shape)
        return "\n".join(out)

    __str__ = __repr__

    def _repr_html_(self):
        rows, cut = self._rows_shown()
        names = list(self._cols)
        numeric = [self._cols[k].dtype.kind in "biuf" for k in names]
        h = ['<table class="plurigrid-table">']
        if self.title:
            h.append("<caption>%s</caption>" % html.escape(str(self.title)))
        h.append("<thead><tr>")
        h.extend("<th>%s</th>" % html.escape(k) for k in names)
        h.append("</tr></thead><tbody>")
        for n, i in enumerate(rows):
            if cut is not None and n == cut:
                h.append(
                    '<tr><td colspan="%d">... %d more rows ...</td></tr>'
                    % (len(names), self._n - len(rows))
                )
            h.append("<tr>")
            for j, k in enumerate(names):
                style = ' style="text-align:right"' if numeric[j] else ""
                h.append("<td%s>%s</td>" % (style, html.escape(_cell(self._cols[k][i]))))
            h.append("</tr>")
        h.append("</tbody></table>")
        h.append("<p>%d rows x %d columns</p>" % self.shape)
        return "".join(h)


def _py(v):
    """A numpy scalar as the plain Python value."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def _write_text(path, text):
    """Writes text to path whole or not at all, through the library's atomic writer."""
    from .plot import write_text

    write_text(path, text)
