#!/usr/bin/env bash
# Runs the type checker, then every test file with Node's test runner (through tsx).
# Pass file paths to run only those.
set -euo pipefail
cd "$(dirname "$0")/.."
# The dashboard's browser test drives Debian's Chromium; install it when we can (it skips, saying
# why, when Chromium is absent).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ]; then
  echo "test: installing chromium for the dashboard browser test" >&2
  (DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1; }) ||
    echo "test: could not install chromium; the browser test will skip" >&2
fi
npx --no-install tsc --noEmit -p .
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
