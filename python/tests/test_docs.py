"""The walk-through of docs/python.md runs: every ```python block, in order, in one namespace
(as a notebook runs its cells), from a scratch folder, with the page's relative paths pointed at
the checkout's examples and the reference data. Comments that state a value are checked where
the page states one exactly.
"""

import os
import re

from conftest import CHECKOUT, data_dir


def blocks():
    with open(os.path.join(CHECKOUT, "docs", "python.md")) as f:
        text = f.read()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_every_block_runs(tmp_path, monkeypatch, capsys):
    code = blocks()
    assert len(code) >= 15
    monkeypatch.chdir(tmp_path)
    ns = {}
    for i, block in enumerate(code):
        block = block.replace('"../shared/data/matpower/cases/"',
                              repr(os.path.join(data_dir(), "matpower", "cases") + "/"))
        block = block.replace('"examples/', '"%s/examples/' % CHECKOUT)
        try:
            exec(compile(block, "docs/python.md block %d" % (i + 1), "exec"), ns)
        except Exception as e:  # name the block that failed
            raise AssertionError("docs/python.md block %d failed: %r\n%s" % (i + 1, e, block))
    out = capsys.readouterr().out.split("\n")
    # the values the page prints in its comments
    assert "<dict> $.payoffs[0][0]" in out
    assert "hello.json 69 $.thermals[0].pmax" in out
    assert ns["s"].status == "optimal" and round(ns["s"].total_cost, 6) == 2708
    assert ns["g"]["pure_equilibria"] == 1 and ns["g"].failed == 0
    assert (ns["r"].converged, ns["r"].iterations, ns["r"].vm.max()) == (True, 2, 1.09)
    assert os.path.exists(tmp_path / "case14.json")
