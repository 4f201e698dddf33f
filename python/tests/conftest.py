"""Shared fixtures of the package's tests: where the reference data is, and an independent
reader of MATPOWER case files into ppc dicts (plain Python, not the library's reader), so that
tests of from_ppc do not take their input from the code under test.

The reference data (MATPOWER cases and MATPOWER's own solutions) is read from PG_DATA_DIR
(ctest sets it) or ../shared/data beside the checkout; a test that needs it fails, never skips,
when it is missing.
"""

import os
import re

import numpy as np
import pytest

CASES = ["case9", "case14", "case30", "case57", "case118", "case300", "case2383wp"]
HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))


def data_dir():
    d = os.environ.get("PG_DATA_DIR") or os.path.join(CHECKOUT, "..", "shared", "data")
    return os.path.abspath(d)


def data_path(rel):
    p = os.path.join(data_dir(), rel)
    if not os.access(p, os.R_OK):
        pytest.fail(
            "reference data file %s is missing: the tests need ../shared/data beside the "
            "checkout (or PG_DATA_DIR pointing at it)" % p,
            pytrace=False,
        )
    return p


def case_path(name):
    return data_path("matpower/cases/%s.m" % name)


def read_csv(path):
    """(header list, float matrix) of a reference CSV file."""
    with open(path) as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    header = lines[0].split(",")
    rows = [[float(x) if x != "" else np.nan for x in ln.split(",")] for ln in lines[1:]]
    return header, np.array(rows, dtype=np.float64).reshape(len(rows), len(header))


_ASSIGN = re.compile(r"^\s*mpc\.(\w+)\s*=\s*(.*)$")


def parse_case(path):
    """A MATPOWER case file as a ppc dict of float64 matrices: what MATPOWER's loadcase (or
    scipy.io.loadmat of the saved case) gives. Handles the subset real case files use: numeric
    matrices in [ ... ]; with one row per line, '%' comments, the version string, baseMVA, and
    the bus_name cell array."""
    ppc = {}
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].split("%", 1)[0]
        m = _ASSIGN.match(line)
        i += 1
        if not m:
            continue
        key, rest = m.group(1), m.group(2).strip()
        if rest.startswith("["):
            rows = []
            body = rest[1:]
            while True:
                end = "]" in body
                chunk = body.split("]", 1)[0]
                for part in chunk.split(";"):
                    vals = part.replace(",", " ").split()
                    if vals:
                        rows.append([float(v) for v in vals])
                if end:
                    break
                body = lines[i].split("%", 1)[0]
                i += 1
            ppc[key] = np.array(rows, dtype=np.float64)
        elif rest.startswith("{"):
            names = []
            body = rest[1:]
            while True:
                end = "}" in body
                names += re.findall(r"'((?:[^']|'')*)'", body.split("}", 1)[0])
                if end:
                    break
                body = lines[i]
                i += 1
            ppc[key] = [n.replace("''", "'") for n in names]
        elif rest.startswith("'"):
            ppc[key] = rest.split("'")[1]
        else:
            ppc[key] = float(rest.rstrip(";"))
    return ppc


@pytest.fixture(scope="session")
def plurigrid():
    import plurigrid as pg

    return pg
