"""plurigrid.Table (named numpy columns: access, aligned text, HTML, dicts, CSV) and charts as SVG
(plurigrid.chart and plurigrid.SVG, drawn by the library's plotting).
"""

import csv
import io
import math

import numpy as np
import pytest

import plurigrid
from plurigrid import SVG, Table


def small():
    return Table([("bus", ["a", "bb", "c<&>"]), ("lmp", np.array([10.0, 20.5, np.nan])),
                  ("n", np.array([1, 2, 3]))], title="prices")


def test_columns_rows_and_access():
    t = small()
    assert t.columns == ["bus", "lmp", "n"]
    assert len(t) == 3 and t.shape == (3, 3)
    assert isinstance(t["lmp"], np.ndarray) and t["lmp"][1] == 20.5
    assert t[1] == {"bus": "bb", "lmp": 20.5, "n": 2}
    assert t[-1]["bus"] == "c<&>"
    assert list(t)[0] == {"bus": "a", "lmp": 10.0, "n": 1}
    assert "lmp" in t and "x" not in t
    head = t[:2]
    assert isinstance(head, Table) and head.columns == t.columns and len(head) == 2
    assert head["bus"].tolist() == ["a", "bb"] and len(t[::2]) == 2
    with pytest.raises(KeyError, match="the columns are bus, lmp, n"):
        t["x"]
    with pytest.raises(IndexError):
        t[3]
    with pytest.raises(TypeError):
        t[1.5]
    d = t.to_dict()
    assert d["bus"] == ["a", "bb", "c<&>"] and d["n"] == [1, 2, 3]
    assert type(d["n"][0]) is int and type(d["lmp"][0]) is float and math.isnan(d["lmp"][2])
    assert Table(d) == Table(t.to_dict())
    assert Table({"x": [1.0]}) != Table({"x": [2.0]})


def test_refuses_what_is_not_a_table():
    with pytest.raises(ValueError, match="has 2 rows where the columns before it have 3"):
        Table([("a", [1, 2, 3]), ("b", [1, 2])])
    with pytest.raises(ValueError, match="one-dimensional"):
        Table({"m": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="given twice"):
        Table([("a", [1]), ("a", [2])])
    with pytest.raises(TypeError):
        Table([(1, [1])])
    empty = Table()
    assert len(empty) == 0 and empty.columns == [] and "empty" in repr(empty)


def test_repr_is_aligned():
    lines = repr(small()).split("\n")
    assert lines[0] == "prices"
    header, rule, *rows, foot = lines[1:]
    assert header.split() == ["bus", "lmp", "n"]
    assert rule == "----  ----  -"
    # text columns left-aligned, numbers right-aligned, to the same width in every row
    assert rows[0] == "a       10  1"
    assert rows[1] == "bb    20.5  2"
    assert rows[2] == "c<&>   nan  3"
    assert foot == "(3 rows x 3 columns)"
    long = Table({"i": np.arange(1000)})
    text = repr(long)
    assert "... 960 more rows ..." in text and "999" in text and text.count("\n") < 50


def test_html_escapes_and_elides():
    h = small()._repr_html_()
    assert h.startswith('<table class="plurigrid-table">')
    assert "c&lt;&amp;&gt;" in h and "c<&>" not in h
    assert "<caption>prices</caption>" in h and h.count("<tr>") == 4
    assert "more rows" in Table({"i": np.arange(100)})._repr_html_()


def test_csv_round_trips(tmp_path):
    t = Table([("name", ["x,y", 'say "hi"', "plain"]), ("v", np.array([0.1, 1e300, -2.5])),
               ("ok", np.array([True, False, True]))])
    p = tmp_path / "t.csv"
    text = t.to_csv(p)
    assert p.read_text() == text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["name", "v", "ok"]
    assert rows[1] == ["x,y", "0.1", "1"] and rows[2][0] == 'say "hi"'
    assert float(rows[2][1]) == 1e300  # round-trip precision
    assert t.to_csv() == text
    # a failed write leaves the old file and raises
    with pytest.raises(plurigrid.FileError):
        t.to_csv(tmp_path / "no" / "such" / "folder.csv")
    with pytest.raises(plurigrid.InputError):
        t.to_csv(42)


def test_chart_draws_through_the_library():
    x = np.arange(24.0)
    s = plurigrid.chart(x, [("stack", "solar", np.sin(x / 4) ** 2),
                            ("line", "load <peak>", np.full(24, 2.0)),
                            ("band", "range", (np.zeros(24), np.ones(24))),
                            ("bars", "bars", np.ones(24)),
                            ("dashed", "nan gap", np.where(x > 12, np.nan, 1.0))],
                        title="a & b", x_label="hour", y_label="MW", step=True)
    assert isinstance(s, SVG)
    t = s._repr_svg_()
    assert t.startswith("<?xml") and t.rstrip().endswith("</svg>")
    assert "a &amp; b" in t and "load &lt;peak&gt;" in t
    assert str(s) == t and s == t and s == SVG(t)
    assert "SVG" in repr(s)


def test_chart_refuses_bad_series():
    x = [0.0, 1.0]
    for series, match in (
        ([("pie", "p", [1, 2])], "kind"),
        ([("line", "p", [1, 2, 3])], "has 3 values where x has 2"),
        ([("line", "p", [[1, 2], [3, 4]])], "one-dimensional"),
        ([("line", "p", ["a", "b"])], "numbers"),
        ([("band", "b", [1, 2, 3])], r"\(lo, hi\)"),
        ([("band", "b", (1, 2))], "one-dimensional"),
        ([("line", 5, [1, 2])], "label"),
        ([("line", "nul\0", [1, 2])], "NUL"),
        (["line"], "kind, label, values"),
    ):
        with pytest.raises(plurigrid.InputError, match=match):
            plurigrid.chart(x, series)
    with pytest.raises(plurigrid.InputError, match="finite"):
        plurigrid.chart([0.0, math.inf], [])
    with pytest.raises(plurigrid.InputError, match="pixels"):
        plurigrid.chart(x, [], width=10**9)


def test_svg_save(tmp_path):
    s = plurigrid.chart([0.0, 1.0], [("line", "l", [1.0, 2.0])])
    p = tmp_path / "c.svg"
    s.save(p)
    assert p.read_text() == s.text
    p.write_text("old")
    with pytest.raises(plurigrid.FileError):
        s.save(tmp_path)  # a folder
    assert p.read_text() == "old"
