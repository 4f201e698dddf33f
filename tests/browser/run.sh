#!/bin/sh
# Runs one browser test (a .mjs file beside this script) with node, after checking that node and
# playwright-core are there: a test that cannot run fails with what to do, it is never skipped.
#   run.sh TEST.mjs      (PG_CLI, PG_SOURCE_DIR, PG_DATA_DIR, PG_ARTIFACTS from ctest)
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1; then
    echo "browser test: FAIL: node is not installed: run 'make test' (scripts/deps.sh installs nodejs, npm and chromium)" >&2
    exit 1
fi
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
    echo "browser test: FAIL: tests/browser/node_modules is missing: run 'make test' (scripts/deps.sh runs npm ci in tests/browser)" >&2
    exit 1
fi
exec node "$here/$1"
