"""The installed package (cmake --install into a fresh prefix) imports with Debian's python3 from
any folder and loads the library of its own install tree, not the build's, with no environment
variable naming it."""

import os
import subprocess
import sys

from conftest import case_path


def build_dir():
    import plurigrid

    lib = os.path.realpath(plurigrid.lib_path)  # <build>/lib/libplurigrid.so.N...
    build = os.path.dirname(os.path.dirname(lib))
    assert os.path.exists(os.path.join(build, "cmake_install.cmake")), build
    return build


def test_installed_package_loads_its_own_library(tmp_path):
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", build_dir(), "--prefix", str(prefix)], check=True,
                   capture_output=True)
    sites = [os.path.join(r, d) for r, ds, _ in os.walk(prefix) for d in ds if d == "plurigrid"
             and os.path.exists(os.path.join(r, d, "__init__.py"))]
    assert len(sites) == 1, sites
    site = os.path.dirname(sites[0])
    assert os.path.exists(os.path.join(sites[0], "_install.py"))
    assert not os.path.exists(os.path.join(sites[0], "__pycache__"))
    env = {k: v for k, v in os.environ.items() if k not in ("PLURIGRID_LIB", "PYTHONPATH")}
    env["PYTHONPATH"] = site
    code = ("import plurigrid, sys; print(plurigrid.lib_path); "
            "print(plurigrid.pf(sys.argv[1]).converged)")
    p = subprocess.run([sys.executable, "-c", code, case_path("case9")], cwd=str(tmp_path),
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    lib, converged = p.stdout.split()
    assert os.path.realpath(lib).startswith(os.path.realpath(str(prefix)) + os.sep), lib
    assert converged == "True"
