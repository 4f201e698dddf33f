#!/usr/bin/env bash
# The main job on the embedded default, run by `make demo`: the hello microworld.
set -euo pipefail
pg=${1:-build/plurigrid}
cd "$(dirname "$0")/.."
echo "== plurigrid $("$pg" --version | cut -d' ' -f2)"
"$pg" --help
echo
echo "== the hello microworld's day: unit commitment, dispatch, prices, AC check (plots in out/)"
"$pg" run examples/hello-microworld.json --plot out
