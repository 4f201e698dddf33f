"""Helpers of the scheduling, game and bad-input tests: the built ``plurigrid`` command beside
the library the package loaded (its results are what the package must equal), and a fresh
interpreter for risky calls (run_cases), so that a crash fails one test instead of killing the
run.
"""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))
PACKAGE_ROOT = os.path.dirname(HERE)  # python/, holding the plurigrid package


def example(rel):
    return os.path.join(CHECKOUT, "examples", rel)


def cli_path():
    """The command of the build whose library the package loaded (build/plurigrid beside
    build/lib/libplurigrid.so), or PLURIGRID_CLI."""
    env = os.environ.get("PLURIGRID_CLI")
    if env:
        return env
    import plurigrid

    build = os.path.dirname(os.path.dirname(os.path.realpath(plurigrid.lib_path)))
    path = os.path.join(build, "plurigrid")
    if not os.access(path, os.X_OK):
        pytest.fail("the plurigrid command is not at %s (set PLURIGRID_CLI)" % path,
                    pytrace=False)
    return path


def run_cli(*args, expect=(0,)):
    """Runs the command; returns its standard output (failing the test on another exit)."""
    p = subprocess.run([cli_path()] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=300)
    if p.returncode not in expect:
        pytest.fail("plurigrid %s exited %d: %s" % (" ".join(map(str, args)), p.returncode,
                                                    p.stderr))
    return p.stdout


def cli_json(*args, expect=(0,)):
    return json.loads(run_cli(*(list(args) + ["--json", "-"]), expect=expect))


_RUNNER = r"""
import json, sys, traceback
import numpy as np
import plurigrid
from plurigrid._ffi import ffi
cases = json.loads(sys.stdin.read())
for name, code in cases:
    print(json.dumps({"start": name}), flush=True)
    env = {"plurigrid": plurigrid, "np": np, "ffi": ffi}
    try:
        exec(code, env)
    except BaseException as e:
        print(json.dumps({"name": name, "raised": [c.__name__ for c in type(e).__mro__],
                          "message": str(e), "file": getattr(e, "file", None),
                          "path": getattr(e, "path", None)}), flush=True)
    else:
        print(json.dumps({"name": name, "raised": None}), flush=True)
"""


def run_cases(cases, timeout=300):
    """Runs each case's code in one fresh interpreter, in turn, and checks what it raised.

    cases: (name, code, exception class name or None, [message fragments]). A crash of the
    interpreter (a signal), a hang, a missing or wrong exception fails the test and names the
    case."""
    payload = json.dumps([(name, code) for name, code, _, _ in cases])
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + env["PYTHONPATH"]
                                        if env.get("PYTHONPATH") else "")
    try:
        p = subprocess.run([sys.executable, "-c", _RUNNER], input=payload, capture_output=True,
                           text=True, timeout=timeout, env=env, cwd=CHECKOUT)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        started = [json.loads(ln)["start"] for ln in out.split("\n") if '"start"' in ln]
        pytest.fail("hung after %d s in case %r" % (timeout, started[-1] if started else None))
    results, started = {}, None
    for ln in p.stdout.split("\n"):
        if not ln.startswith("{"):
            continue
        d = json.loads(ln)
        if "start" in d:
            started = d["start"]
        else:
            results[d["name"]] = d
    if p.returncode != 0:
        pytest.fail("the interpreter %s in case %r:\n%s" % (
            "crashed (signal %d)" % -p.returncode if p.returncode < 0
            else "exited %d" % p.returncode, started, p.stderr[-4000:]))
    problems = []
    for name, _, exc, fragments in cases:
        d = results.get(name)
        if d is None:
            problems.append("%s: no result" % name)
        elif exc is None:
            if d["raised"] is not None:
                problems.append("%s: raised %s: %s" % (name, d["raised"][0], d["message"]))
        elif d["raised"] is None:
            problems.append("%s: raised nothing, expected %s" % (name, exc))
        elif exc not in d["raised"]:
            problems.append("%s: raised %s (%s), expected %s" % (name, d["raised"][0],
                                                                  d["message"], exc))
        else:
            for f in fragments:
                if f not in d["message"]:
                    problems.append("%s: %r not in the message %r" % (name, f, d["message"]))
    assert not problems, "\n".join(problems)
    return results
