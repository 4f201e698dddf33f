#!/bin/sh
# Installs libplurigrid into a temporary prefix, builds examples/pf_example.c against it with
# pkg-config alone (as a user's program would), and checks what the program prints against the
# MATPOWER reference solution of case9 and against the hello microworld.
# Usage: install.sh BUILD_DIR SOURCE_DIR DATA_DIR
set -eu
build=$1 src=$2 data=$3
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
echo "install: ok"
