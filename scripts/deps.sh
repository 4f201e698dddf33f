#!/usr/bin/env bash
# Installs the Debian packages plurigrid builds, tests and runs with, and nothing that is already
# there. Safe to run again and again. Needs root (or sudo) on Debian bookworm when something is
# missing; prints what it installs, and says clearly what went wrong otherwise.
#
#   scripts/deps.sh              build + test dependencies (what `make test` needs)
#   scripts/deps.sh --runtime    only what `make demo` needs (build + run, no test tools)
#   scripts/deps.sh --list       print the package names instead (with --runtime: those only)
#   scripts/deps.sh --list-test  print the packages only the tests need
#   scripts/deps.sh --python     only what the Python package needs to run (make python)
set -euo pipefail

mode=all
for a in "$@"; do
    case "$a" in
        --runtime) mode=runtime ;;
        --python) mode=python ;;
        --list) list=1 ;;
        --list-test) mode=test-only; list=1 ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "deps.sh: unknown option '$a' (try --help)" >&2; exit 2 ;;
    esac
done

# What building and running needs (make demo): the build tools and the libraries the library,
# its modules and the command link against. Nothing else.
runtime=(
    build-essential cmake ninja-build pkg-config
    libsuitesparse-dev          # KLU: sparse LU for the Newton-Raphson Jacobian (powerflow)
    coinor-libcbc-dev coinor-libclp-dev   # MILP (unit commitment), LP/QP (dispatch, OPF)
    zlib1g-dev                  # COIN-OR's pkg-config files link -lz; its -dev packages omit it
    libjansson-dev              # JSON reader and writer
    libcurl4-openssl-dev        # GitHub REST client (the kanban command module)
    libcmark-dev                # CommonMark parser for roadmaps (the kanban command module)
    libnats-dev                 # NATS client, cnats (the lattice's network bus, the module nats.so)
    nats-server                 # the NATS server node daemons talk through (and the NATS tests start)
    libsodium-dev               # Ed25519 signatures and BLAKE2b hashes (the shared ledger, the module ledger.so)
    libsqlite3-dev              # SQLite, the ledger's store (the module ledger.so)
    libmicrohttpd-dev           # the HTTP server of plurigrid serve (the module http.so)
    wabt                        # wasm-validate, wasm2c and its runtime: plurigrid wasm check/build
)
# What only the tests need (make test).
test_only=(
    libcmocka-dev               # unit test framework
    clang libclang-rt-14-dev    # libFuzzer targets and sanitizer runtimes
    lrslib                      # independent Nash equilibrium enumeration for game tests
    octave                      # reads back written MATPOWER cases as MATPOWER's loadcase does
    chromium                    # the browser the designer's and dashboard's tests drive
    python3-cffi python3-numpy python3-pytest   # the Python package and its tests
    curl                        # fetches the WebAssembly spec tests (wasm_spec below)
    wasi-libc libclang-rt-14-dev-wasm32 lld  # clang --target=wasm32-wasi: the example strategies
)
# What the Python package needs to run (make python): Debian's python3 with cffi and numpy.
python=(python3 python3-cffi python3-numpy)
# Node.js runs the browser tests: Debian's (with its npm) only when no npm is on the PATH, since
# the machine may have another Node.js, which Debian's npm conflicts with.
if ! command -v npm >/dev/null 2>&1; then
    test_only+=(nodejs npm)
fi
case "$mode" in
    runtime) pkgs=("${runtime[@]}") ;;
    test-only) pkgs=("${test_only[@]}") ;;
    python) pkgs=("${python[@]}") ;;
    *) pkgs=("${runtime[@]}" "${test_only[@]}") ;;
esac
if [ "${list:-0}" = 1 ]; then
    printf '%s\n' "${pkgs[@]}"
    exit 0
fi

# The browser tests' npm packages (playwright-core, pinned by tests/browser/package-lock.json),
# with everything else (not with --runtime): `npm ci` when node_modules is missing or older than
# the lockfile; no network otherwise.
npm_deps() {
    [ "$mode" = all ] || return 0
    local dir
    dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
    if [ -f "$dir/node_modules/.package-lock.json" ] &&
        [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        return 0
    fi
    echo "deps.sh: installing the browser tests' npm packages (npm ci in tests/browser)"
    (cd "$dir" && npm ci --no-audit --no-fund) || {
        echo "deps.sh: npm ci failed in tests/browser" >&2
        exit 1
    }
}

# The WebAssembly spec tests that tests/unit/wasm/test_spec.c runs through the sandbox's build
# path: the copy of the official testsuite in Debian's binaryen source package (test/spec/),
# checked by its SHA-256, of which only test/spec/*.wast is kept, in a cache folder (never in the
# repository). Not with --runtime. $PG_WASM_SPEC_TARBALL may name a local copy of the tarball.
wasm_spec() {
    [ "$mode" = all ] || return 0
    local cache="${XDG_CACHE_HOME:-$HOME/.cache}/plurigrid/wasm-spec"
    local url=http://deb.debian.org/debian/pool/main/b/binaryen/binaryen_108.orig.tar.gz
    local sha=7fea5013da7f98daeeb6a0a60333e8aa917bcb0b1b418ba8531fe710d09041f2
    [ -f "$cache/.sha256-$sha" ] && return 0
    local tmp
    tmp="$(mktemp -d)"
    local tarball="$tmp/binaryen.tar.gz"
    if [ -n "${PG_WASM_SPEC_TARBALL:-}" ]; then
        cp "$PG_WASM_SPEC_TARBALL" "$tarball"
    else
        echo "deps.sh: fetching the WebAssembly spec tests (binaryen_108.orig.tar.gz, 4 MB)"
        curl -fsSL --retry 2 -o "$tarball" "$url" || {
            echo "deps.sh: could not download $url" >&2
            echo "         (the WebAssembly spec tests need it; set PG_WASM_SPEC_TARBALL to a copy)" >&2
            rm -rf "$tmp"
            exit 1
        }
    fi
    if ! echo "$sha  $tarball" | sha256sum -c --quiet >/dev/null 2>&1; then
        echo "deps.sh: binaryen_108.orig.tar.gz does not have the expected SHA-256 $sha" >&2
        rm -rf "$tmp"
        exit 1
    fi
    mkdir -p "$tmp/spec"
    tar xzf "$tarball" -C "$tmp/spec" --strip-components=3 --wildcards \
        'binaryen-version_108/test/spec/*.wast' || {
        echo "deps.sh: could not extract test/spec/*.wast from binaryen_108.orig.tar.gz" >&2
        rm -rf "$tmp"
        exit 1
    }
    touch "$tmp/spec/.sha256-$sha"
    mkdir -p "$(dirname "$cache")"
    rm -rf "$cache"
    mv "$tmp/spec" "$cache"
    rm -rf "$tmp"
    echo "deps.sh: WebAssembly spec tests in $cache"
}

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "deps.sh: all ${#pkgs[@]} packages already installed"
    npm_deps
    wasm_spec
    exit 0
fi

echo "deps.sh: installing ${#missing[@]} missing package(s): ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps.sh: apt-get not found; plurigrid's installer supports Debian bookworm." >&2
    echo "         Install these packages with your system's package manager: ${missing[*]}" >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "deps.sh: missing packages and not root (and no sudo): ${missing[*]}" >&2
        echo "         Run 'scripts/deps.sh' as root, or install them yourself." >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
    echo "deps.sh: first attempt failed; refreshing the package lists and retrying" >&2
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" || {
        echo "deps.sh: could not install: ${missing[*]}" >&2
        exit 1
    }
fi
npm_deps
wasm_spec
echo "deps.sh: done"
