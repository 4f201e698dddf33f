"""Helpers of the scheduling, game and bad-input tests: the built ``plurigrid`` command beside
the library the package loaded (its results are what the package must equal), and a fresh
interpreter for a risky call, so that a crash fails one test instead of killing the run.
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


def isolated(code, timeout=120):
    """Runs code in a fresh interpreter with the package importable; returns (exit status,
    stdout, stderr). A negative status is a signal: the interpreter crashed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + env["PYTHONPATH"]
                                        if env.get("PYTHONPATH") else "")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=timeout, env=env, cwd=CHECKOUT)
    return p.returncode, p.stdout, p.stderr


def expect_raises(code, exc_name, *fragments, timeout=120):
    """Runs code (which must raise) in a fresh interpreter: the exception must be exc_name
    (or a subclass of it) and its message must hold every fragment; a crash, a hang or no
    exception fails the test."""
    wrapped = (
        "import plurigrid, sys, traceback\n"
        "try:\n"
        + "".join("    " + line + "\n" for line in code.strip().split("\n"))
        + "except plurigrid.Error as e:\n"
        "    print('RAISED', ' '.join(c.__name__ for c in type(e).__mro__))\n"
        "    print('MESSAGE', str(e))\n"
        "    print('FILE', e.file, 'LINE', e.line, 'PATH', e.path)\n"
        "    sys.exit(0)\n"
        "except Exception as e:\n"
        "    print('RAISED', ' '.join(c.__name__ for c in type(e).__mro__))\n"
        "    print('MESSAGE', str(e))\n"
        "    sys.exit(0)\n"
        "print('NO EXCEPTION')\n"
        "sys.exit(5)\n"
    )
    try:
        rc, out, err = isolated(wrapped, timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("hung (more than %d s): %s" % (timeout, code))
    if rc < 0:
        pytest.fail("the interpreter crashed (signal %d) on:\n%s\n%s" % (-rc, code, err[-3000:]))
    assert rc == 0, "exit %d on:\n%s\nstdout: %s\nstderr: %s" % (rc, code, out, err[-3000:])
    lines = out.split("\n")
    raised = next(ln for ln in lines if ln.startswith("RAISED "))
    assert exc_name in raised.split()[1:], "raised %s, expected %s" % (raised, exc_name)
    message = "\n".join(ln for ln in lines if not ln.startswith("RAISED "))
    for f in fragments:
        assert f in message, "%r not in the message: %s" % (f, message)
    return message
