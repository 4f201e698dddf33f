"""The package's declarations (_ffi.py, _cdef_more.py) match the C headers: a small C program
compiled against include/ prints the size of every struct the package declares and the offset
and size of each of its fields, and cffi's layout must be the same (ABI mode reads and writes these
structs by the offsets it was told, so a header change not copied to _ffi.py would read the
wrong bytes). Also: every function declared is exported by the library."""

import os
import shutil
import subprocess

import pytest

from conftest import CHECKOUT


def struct_types(ffi):
    out = []
    for name in ffi.list_types()[0]:  # typedef names
        t = ffi.typeof(name)
        if t.kind == "struct" and t.fields is not None:
            out.append((name, t))
    return out


def test_struct_layouts_match_the_headers(tmp_path):
    from plurigrid._ffi import ffi

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("no C compiler (cc) to check the declarations against the headers")
    inc = os.path.join(CHECKOUT, "include")
    structs = struct_types(ffi)
    assert len(structs) >= 10
    lines = [
        "#include <stddef.h>",
        "#include <stdio.h>",
    ]
    for h in sorted(os.listdir(os.path.join(inc, "plurigrid"))):
        lines.append('#include "plurigrid/%s"' % h)
    lines.append("int main(void) {")
    expect = []
    for name, t in structs:
        lines.append('printf("%%zu\\n", sizeof(%s));' % name)
        expect.append(("sizeof", name, ffi.sizeof(name)))
        for fname, f in t.fields:
            lines.append('printf("%%zu\\n", offsetof(%s, %s));' % (name, fname))
            expect.append((name, fname, f.offset))
            lines.append('printf("%%zu\\n", sizeof(((%s *)0)->%s));' % (name, fname))
            expect.append(("sizeof", name + "." + fname, ffi.sizeof(f.type)))
    lines.append("return 0; }")
    src = tmp_path / "abi.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "abi"
    subprocess.run([cc, "-std=c11", "-I", inc, str(src), "-o", str(exe)], check=True)
    got = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split()
    assert len(got) == len(expect)
    bad = [(e, g) for e, g in zip(expect, got) if e[2] != int(g)]
    assert not bad, "declarations differ from the headers: %s" % bad


def test_declared_functions_are_exported():
    from plurigrid._ffi import ffi, lib

    missing = []
    for name in dir(lib):
        if not name.startswith("pg_"):
            continue
        try:
            getattr(lib, name)
        except AttributeError:
            missing.append(name)
    assert not missing, missing
    assert ffi.string(lib.pg_version())
