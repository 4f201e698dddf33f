#!/bin/sh
# Installs libplurigrid into a temporary prefix, builds examples/pf_example.c against it both ways
# a user's program would (pkg-config, and CMake's find_package), and checks what each program
# prints against the MATPOWER reference solution of case9 and against the hello microworld. The
# installed library exports its public API and nothing else: only pg_ symbols.
# Usage: install.sh BUILD_DIR SOURCE_DIR DATA_DIR
set -eu
build=$1 src=$(cd "$2" && pwd) data=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pc=$(find "$tmp/prefix" -name plurigrid.pc)
[ -n "$pc" ] || { echo "FAIL: no plurigrid.pc installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
for h in core.h model.h io.h pf.h; do
    [ -f "$tmp/prefix/include/plurigrid/$h" ] || { echo "FAIL: header $h not installed"; exit 1; }
done
cc -std=c11 -Wall -Werror "$src/examples/pf_example.c" $(pkg-config --cflags --libs plurigrid) \
    -o "$tmp/pf_example"
libdir=$(pkg-config --variable=libdir plurigrid)
export LD_LIBRARY_PATH=$libdir

# The ABI: every exported symbol is a pg_ function, and the public API is there.
lib=$libdir/libplurigrid.so
nm -D --defined-only "$lib" | awk '{ print $3 }' > "$tmp/syms"
bad=$(grep -v '^pg_' "$tmp/syms" || true)
[ -z "$bad" ] || { echo "FAIL: libplurigrid exports non-pg_ symbols:"; echo "$bad" | head -20; exit 1; }
for s in pg_world_read pg_pf_solve pg_dispatch_run pg_version; do
    grep -qx "$s" "$tmp/syms" || { echo "FAIL: $s is not exported"; exit 1; }
done
echo "exports: $(wc -l < "$tmp/syms") symbols, all pg_"
# The library does not link COIN-OR, libnats, libcurl, cmark, libsodium or SQLite: those are
# modules loaded when used.
if readelf -d "$lib" | grep NEEDED | grep -E 'Cbc|Clp|nats|curl|cmark|sodium|sqlite'; then
    echo "FAIL: libplurigrid links a module's library"; exit 1
fi
[ -f "$libdir/plurigrid/coin.so" ] || { echo "FAIL: the COIN-OR module is not installed"; exit 1; }
[ -f "$libdir/plurigrid/nats.so" ] || { echo "FAIL: the NATS module is not installed"; exit 1; }
[ -f "$libdir/plurigrid/ledger.so" ] || { echo "FAIL: the ledger module is not installed"; exit 1; }
[ -x "$libdir/plurigrid/plurigrid-sandbox" ] ||
    { echo "FAIL: the WebAssembly sandbox's runner is not installed"; exit 1; }
readelf -d "$libdir/plurigrid/ledger.so" | grep NEEDED | grep -q sodium ||
    { echo "FAIL: the ledger module does not link libsodium"; exit 1; }
[ -f "$libdir/plurigrid/privacy.so" ] || { echo "FAIL: the privacy module is not installed"; exit 1; }
readelf -d "$libdir/plurigrid/privacy.so" | grep NEEDED | grep -q sodium ||
    { echo "FAIL: the privacy module does not link libsodium"; exit 1; }

# The NATS module is loaded at the first NATS bus, not before; without it, opening one says so.
cat > "$tmp/natsopen.c" <<'C'
#include <plurigrid/lattice.h>
#include <stdio.h>
#include <string.h>
static int
mapped(void)
{
    char line[4096];
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f))
        found |= strstr(line, "libnats") != NULL;
    if (f)
        fclose(f);
    return found;
}
int
main(int argc, char **argv)
{
    pg_bus *b = NULL;
    pg_error err = {0};
    if (argc != 2 || pg_bus_open(&b, "inproc", NULL, &err) != PG_OK || mapped())
        return 10;
    pg_bus_close(b);
    int rc = pg_bus_open(&b, "nats", argv[1], &err);
    printf("rc=%d libnats=%d %s\n", rc, mapped(), err.msg);
    return rc == PG_OK ? 11 : 0;
}
C
cc -std=c11 -Wall -Werror "$tmp/natsopen.c" $(pkg-config --cflags --libs plurigrid) -o "$tmp/natsopen"
closed="nats://127.0.0.1:1?connect_timeout=0.2"
out=$("$tmp/natsopen" "$closed") || { echo "FAIL: natsopen: $out"; exit 1; }
echo "$out" | grep -q "^rc=-9 libnats=1 .*cannot reach NATS server(s) nats://127.0.0.1:1" ||
    { echo "FAIL: NATS bus to a closed port: $out"; exit 1; }
mv "$libdir/plurigrid/nats.so" "$tmp/nats.so.away"
out=$("$tmp/natsopen" "$closed") || { echo "FAIL: natsopen without the module: $out"; exit 1; }
mv "$tmp/nats.so.away" "$libdir/plurigrid/nats.so"
echo "$out" | grep -q "^rc=-8 libnats=0 bus: the NATS module could not be loaded" ||
    { echo "FAIL: NATS bus without its module: $out"; exit 1; }
echo "nats module: loaded at the first NATS bus; without it: $out"

# The ledger module is loaded at the first ledger call that needs it, not before; without it,
# that call says so.
cat > "$tmp/ledgerkey.c" <<'C'
#include <plurigrid/ledger.h>
#include <stdio.h>
#include <string.h>
static int
mapped(void)
{
    char line[4096];
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f))
        found |= strstr(line, "libsodium") != NULL || strstr(line, "libsqlite3") != NULL;
    if (f)
        fclose(f);
    return found;
}
int
main(void)
{
    pg_ledger_key k;
    pg_error err = {0};
    char hex[65];
    pg_ledger_hex("ab", 2, hex);
    if (mapped() || strcmp(hex, "6162") != 0)
        return 10;
    int rc = pg_ledger_key_generate(&k, &err);
    printf("rc=%d libsodium=%d %s\n", rc, mapped(), err.msg);
    pg_ledger_key_wipe(&k);
    return 0;
}
C
cc -std=c11 -Wall -Werror "$tmp/ledgerkey.c" $(pkg-config --cflags --libs plurigrid) -o "$tmp/ledgerkey"
out=$("$tmp/ledgerkey") || { echo "FAIL: ledgerkey: $out"; exit 1; }
echo "$out" | grep -q "^rc=0 libsodium=1" || { echo "FAIL: a ledger key: $out"; exit 1; }
mv "$libdir/plurigrid/ledger.so" "$tmp/ledger.so.away"
out=$("$tmp/ledgerkey") || { echo "FAIL: ledgerkey without the module: $out"; exit 1; }
mv "$tmp/ledger.so.away" "$libdir/plurigrid/ledger.so"
echo "$out" | grep -q "^rc=-8 libsodium=0 ledger: the ledger module could not be loaded" ||
    { echo "FAIL: a ledger key without its module: $out"; exit 1; }
echo "ledger module: loaded at the first ledger call; without it: $out"

# CMake: find_package(plurigrid) and the imported target plurigrid::plurigrid.
mkdir "$tmp/cm"
cat > "$tmp/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(consumer C)
find_package(plurigrid 0.1 REQUIRED)
add_executable(pf_example_cmake "$src/examples/pf_example.c")
target_link_libraries(pf_example_cmake PRIVATE plurigrid::plurigrid)
CM
cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/cm.log" 2>&1 &&
    cmake --build "$tmp/cm/build" >>"$tmp/cm.log" 2>&1 ||
    { echo "FAIL: building against the CMake package"; cat "$tmp/cm.log"; exit 1; }
out=$("$tmp/cm/build/pf_example_cmake" "$data/matpower/cases/case9.m")
echo "$out" | grep -q "converged in 4 iterations" || { echo "FAIL: CMake-built case9"; exit 1; }

# case9: the reference solution gives bus 5 at 0.975472 p.u. after 4 iterations.
out=$("$tmp/pf_example" "$data/matpower/cases/case9.m")
echo "$out"
echo "$out" | grep -q "converged in 4 iterations" || { echo "FAIL: case9 iterations"; exit 1; }
ref=$(awk -F, '$1 == 5 { printf "%.5f", $2 }' "$data/matpower/reference/case9/pf_bus.csv")
echo "$out" | awk -v ref="$ref" '$1 == "5" { if ($2 != ref) { print "FAIL: bus 5 Vm " $2 " != " ref; exit 1 } found = 1 }
    END { if (!found) { print "FAIL: bus 5 missing"; exit 1 } }'

out=$("$tmp/pf_example" "$src/examples/hello-microworld.json")
echo "$out"
echo "$out" | grep -q "^hello-microworld: converged" || { echo "FAIL: hello microworld"; exit 1; }

# A bad file gives a message naming it and exit status 2.
printf 'not a case' > "$tmp/bad.m"
set +e
"$tmp/pf_example" "$tmp/bad.m" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] || { echo "FAIL: bad input exit $rc"; exit 1; }
grep -q "bad.m" "$tmp/err" || { echo "FAIL: error does not name the file"; cat "$tmp/err"; exit 1; }

"$tmp/prefix/bin/plurigrid" --version | grep -q "^plurigrid " || { echo "FAIL: installed command"; exit 1; }
# The installed command finds its modules: the solver (run) and the kanban command.
unset LD_LIBRARY_PATH
"$tmp/prefix/bin/plurigrid" run "$src/examples/hello-microworld.json" > "$tmp/run.out" ||
    { echo "FAIL: installed plurigrid run"; cat "$tmp/run.out"; exit 1; }
grep -q "AC check: 24 of 24 steps solved" "$tmp/run.out" || { echo "FAIL: installed run output"; exit 1; }
"$tmp/prefix/bin/plurigrid" kanban "$src/examples/roadmap.md" > "$tmp/kanban.out" 2>/dev/null ||
    { echo "FAIL: installed plurigrid kanban"; exit 1; }
grep -q '"title": "Release Laura v0 Alpha"' "$tmp/kanban.out" || { echo "FAIL: installed kanban output"; exit 1; }
echo "install: ok"
