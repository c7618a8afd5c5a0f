#!/usr/bin/env bash
# The whole test suite: build, static checks, package checks, then every test.
# Run through `npm test` so Node 24 (devDependency `node`) is on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "node $(node --version)"
step build
npm run --silent build
step typecheck
npm run --silent typecheck
step lint
npm run --silent lint
step "package (publint, attw)"
npm run --silent check:package
step "unit and integration tests"
npx vitest run
step "browser end-to-end tests (demo app in Chromium; two instances on one Redis)"
bash scripts/ensure-chromium.sh
npx vitest run --config vitest.e2e.config.ts
step "unit and integration tests on the lowest Node in engines"
# test/runtimes drives workerd, Deno and Bun, whose behaviour does not depend on the Node that
# runs the test; the main run covers it. So does the registry test (test/package/astro-add), whose
# ~25 s go to npm installing packages.
bash scripts/test-node22.sh --exclude 'test/runtimes/**' --exclude 'test/package/astro-add.test.ts'
step "integration and browser tests on the newest published astro@7 and @astrojs/node@11"
bash scripts/test-newest-astro.sh
