#!/usr/bin/env bash
# Proves that `make demo` needs nothing beyond `scripts/deps.sh --runtime`, on a machine that has
# the test packages too: with every pkg-config file of a test-only package hidden, it configures a
# fresh folder with the default options (the tests are then left out with a warning) and one with
# the tests off as `make demo` does, builds the second and runs the demo with it.
#   scripts/check-demo.sh [BUILD_DIR]     (default: a temporary folder, removed afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build=${1:-$tmp/build}

# A pkg-config search path with the system's .pc files minus those of the test-only packages.
hidden=()
while read -r p; do
    while read -r f; do hidden+=("$f"); done < <(dpkg -L "$p" 2>/dev/null | grep '\.pc$' || true)
done < <(scripts/deps.sh --list-test)
mkdir "$tmp/pc"
IFS=: read -r -a dirs <<<"$(pkg-config --variable pc_path pkg-config)"
for d in "${dirs[@]}"; do
    [ -d "$d" ] || continue
    for f in "$d"/*.pc; do
        [ -e "$f" ] || continue
        skip=0
        for h in "${hidden[@]+"${hidden[@]}"}"; do [ "$f" = "$h" ] && skip=1; done
        [ "$skip" = 1 ] || [ -e "$tmp/pc/$(basename "$f")" ] || ln -s "$f" "$tmp/pc/"
    done
done
export PKG_CONFIG_LIBDIR=$tmp/pc
if pkg-config --exists cmocka; then
    echo "check-demo: FAIL: cmocka is still visible to pkg-config" >&2
    exit 1
fi
echo "check-demo: hidden from pkg-config: ${hidden[*]:-nothing}"
cmake -S . -B "$tmp/default" -G Ninja >"$tmp/default.log" 2>&1 || {
    echo "check-demo: FAIL: configuring with the default options needs a test-only package" >&2
    tail -20 "$tmp/default.log" >&2
    exit 1
}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPG_TESTS=OFF -DPG_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
scripts/demo.sh "$build/plurigrid" >"$tmp/demo.out"
grep -q "AC check: 24 of 24 steps solved" "$tmp/demo.out" || {
    echo "check-demo: FAIL: the demo did not report its AC check" >&2
    cat "$tmp/demo.out" >&2
    exit 1
}
echo "check-demo: ok (configured and built without the test packages, demo ran)"
