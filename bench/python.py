#!/usr/bin/python3
"""Benchmark of the Python package against the same work in C, measured in the same run.

1. Per-call overhead of a warm power flow: N solves of the same case with one solver, timed call
   by call, in C (build/bench/python_ref warm: pg_pf_solver_solve + pg_pf_result_free) and in
   Python (PowerFlow.solve(), the result dropped; and the bare cffi call, to split the overhead
   into cffi's and the package's). Overhead = median(Python) - median(C). Calls are timed in
   the CPU time of the thread (CLOCK_THREAD_CPUTIME_ID on both sides), so that other jobs of a
   busy machine do not add to them.
2. A year of hourly snapshots (8760) of case2383wp through one reused solver, every load set at
   each step, in C (python_ref series) and in Python (PowerFlow.set_loads + solve): CPU and wall
   time of the loop, the ratio Python / C, and a check that both did the same work (iterations, steps
   converged, the sum of the losses to the bit).

Each measurement runs in a fresh process; C and Python processes alternate, --rounds times, and
each figure is the median over the rounds.

    /usr/bin/python3 bench/python.py [--build build] [--data ../shared/data] [--rounds 5]
        [--steps 8760] [--calls 2000]

(`make bench-python` runs it on the build folder.)
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)


def child_warm(case, n, dc):
    import plurigrid
    from plurigrid._ffi import ffi, lib

    flow = plurigrid.PowerFlow(case, dc=dc)
    flow.solve()
    out = ffi.new("pg_pf_result **")
    err = ffi.new("pg_error *")
    s, w = flow._solver, flow._world._cdata
    solve, free = lib.pg_pf_solver_solve, lib.pg_pf_result_free
    clock = time.thread_time  # CPU time of this thread, as python_ref measures
    t, tb = [], []
    # Blocks of the two kinds of call alternate, so that a change of the machine's load between
    # them shows in both.
    block = 50
    for _ in range(max(n // block, 1)):
        for _ in range(block):
            t0 = clock()
            flow.solve()
            t.append(clock() - t0)
        for _ in range(block):
            t0 = clock()
            solve(s, w, out, err)
            free(out[0])
            tb.append(clock() - t0)
    print("%.3f %.3f" % (1e6 * statistics.median(t), 1e6 * statistics.median(tb)))


def child_series(case, steps, factors):
    import numpy as np

    import plurigrid

    f = np.fromfile(factors, dtype=np.float64)
    h = f[steps:]
    f = f[:steps]
    flow = plurigrid.PowerFlow(case)
    p0, q0 = flow.load_p, flow.load_q
    idx = np.arange(len(p0))
    its = conv = 0
    losses = 0.0
    t0, c0 = time.perf_counter(), time.thread_time()
    for k in range(steps):
        x = f[k] * h[(idx + k) % 24]
        flow.set_loads(p0 * x, q0 * x)
        r = flow.solve()
        its += r.iterations
        conv += r.converged
        losses += r.loss_p
    t1, c1 = time.perf_counter(), time.thread_time()
    print("%.6f %d %d %r %.6f" % (t1 - t0, its, conv, losses, c1 - c0))


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit("bench/python.py: %s failed: %s" % (" ".join(cmd), p.stderr.strip()))
    return p.stdout.split()


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return "%d CPUs of %s, %s, Python %s; load average %.2f" % (
        os.cpu_count() or 0, cpu, platform.platform(), platform.python_version(), load)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(CHECKOUT, "build"))
    ap.add_argument("--data", default=os.environ.get("PG_DATA_DIR",
                                                     os.path.join(CHECKOUT, "..", "shared", "data")))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=8760)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--only", choices=["warm", "series"], help="run one of the two parts")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        if a.child[0] == "warm":
            return child_warm(a.child[1], int(a.child[2]), a.child[3] == "dc")
        return child_series(a.child[1], int(a.child[2]), a.child[3])

    build = os.path.abspath(a.build)
    ref = os.path.join(build, "bench", "python_ref")
    lib = os.path.join(build, "lib", "libplurigrid.so")
    for p in (ref, lib):
        if not os.path.exists(p):
            sys.exit("bench/python.py: %s is missing: build first (make build)" % p)
    cases = os.path.join(os.path.abspath(a.data), "matpower", "cases")
    env = dict(os.environ, PLURIGRID_LIB=lib,
               PYTHONPATH=os.path.join(CHECKOUT, "python") + os.pathsep
               + os.environ.get("PYTHONPATH", ""))
    me = [sys.executable, os.path.abspath(__file__)]
    print("machine: %s" % machine())
    print("library: %s" % lib)

    if a.only != "series":
        warm_part(a, ref, cases, me, env)
    if a.only != "warm":
        series_part(a, ref, cases, me, env)
    print("machine at the end: %s" % machine())


def warm_part(a, ref, cases, me, env):
    print("\nwarm solve, per call (us of the thread's CPU time): median over %d rounds of each "
          "process's median of %d calls" % (a.rounds, a.calls))
    print("| case | C | Python PowerFlow.solve() | bare cffi call | overhead (Python - C) | "
          "of which cffi |")
    print("|---|---:|---:|---:|---:|---:|")
    for case, kind in (("case118", "ac"), ("case2383wp", "ac"), ("case118", "dc"),
                       ("case2383wp", "dc")):
        path = os.path.join(cases, case + ".m")
        n = a.calls if (case == "case118" or kind == "dc") else max(a.calls // 4, 50)
        c, py, bare = [], [], []
        for _ in range(a.rounds):
            c.append(float(run([ref, "warm", path, str(n), kind])[0]))
            x = run(me + ["--child", "warm", path, str(n), kind], env)
            py.append(float(x[0]))
            bare.append(float(x[1]))
        mc, mp, mb = (statistics.median(v) for v in (c, py, bare))
        print("| %s %s | %.2f | %.2f | %.2f | %.2f | %.2f |"
              % (case, kind.upper(), mc, mp, mb, mp - mc, mb - mc))
        sys.stdout.flush()


def series_part(a, ref, cases, me, env):
    print("\n%d snapshots of case2383wp, every load set at each step, one reused solver "
          "(seconds; median over %d rounds)" % (a.steps, a.rounds))
    path = os.path.join(cases, "case2383wp.m")
    import numpy as np

    rng = np.random.default_rng(8760)
    hours = np.arange(a.steps)
    f = 0.75 + 0.2 * np.sin(2 * np.pi * hours / 24.0) + 0.02 * rng.standard_normal(a.steps)
    h = rng.uniform(0.95, 1.05, 24)
    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as tmp:
        np.concatenate([f, h]).astype(np.float64).tofile(tmp)
    try:
        c, py, cc, cp = [], [], [], []
        for _ in range(a.rounds):
            xc = run([ref, "series", path, str(a.steps), tmp.name])
            xp = run(me + ["--child", "series", path, str(a.steps), tmp.name], env)
            if xc[1:3] != xp[1:3] or float(xc[3]) != float(xp[3]):
                sys.exit("bench/python.py: the C and Python loops differ: %s vs %s" % (xc, xp))
            c.append(float(xc[0]))
            py.append(float(xp[0]))
            cc.append(float(xc[4]))
            cp.append(float(xp[4]))
        print("| loop (%d steps, %s iterations, %s converged) | C | Python | Python / C | "
              "per step, Python - C (us) |" % (a.steps, xc[1], xc[2]))
        print("|---|---:|---:|---:|---:|")
        for what, vc, vp in (("CPU time of the thread", cc, cp), ("wall time", c, py)):
            mc, mp = statistics.median(vc), statistics.median(vp)
            print("| %s | %.3f | %.3f | %.3f | %.1f |"
                  % (what, mc, mp, mp / mc, 1e6 * (mp - mc) / a.steps))
        print("rounds, CPU: C %s; Python %s" % (["%.3f" % x for x in cc], ["%.3f" % x for x in cp]))
        print("rounds, wall: C %s; Python %s" % (["%.3f" % x for x in c], ["%.3f" % x for x in py]))
    finally:
        os.unlink(tmp.name)


if __name__ == "__main__":
    main()
