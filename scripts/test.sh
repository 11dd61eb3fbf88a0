#!/usr/bin/env bash
# Runs the type checker, then every test file with Node's test runner (through tsx).
# Pass file paths to run only those.
set -euo pipefail
cd "$(dirname "$0")/.."
npx --no-install tsc --noEmit -p .
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
