#!/usr/bin/env bash
# The Astro integration and browser tests against the newest published astro@7 and @astrojs/node@11,
# installed into a scratch copy of the repository at test time (the lockfile's versions stay as
# they are for the main run). Users install the newest: this is where drift shows first.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

scratch=${SESSIONKIT_NEWEST_ASTRO_DIR:-$repo/.tmp/newest-astro}
rm -rf "$scratch"
mkdir -p "$scratch"
# Everything but installed or built trees and scratch folders (untracked work included).
tar -C "$repo" -cf - \
  --exclude=./node_modules --exclude=./.git --exclude=./.tmp --exclude=./dist \
  --exclude='./examples/node_modules' --exclude='./test/fixtures/node_modules' --exclude='./test/astro-check/node_modules' \
  --exclude='*/dist' --exclude='*/.astro' --exclude='./bench/.tmp' . | tar -C "$scratch" -xf -
cd "$scratch"
# The locked tree, then the newest astro 7 / node adapter 11 / Cloudflare adapter 14 over it,
# without touching the lock.
npm install --no-audit --no-fund --no-save astro@7 @astrojs/node@11 @astrojs/cloudflare@14 >/dev/null
export PATH="$scratch/node_modules/.bin:$PATH"
versions=$(node -p "['astro','@astrojs/node','@astrojs/cloudflare','vite'].map((name) => name + ' ' + require(name + '/package.json').version).join(', ')")
echo "node $(node --version); newest: $versions (lockfile: $(cd "$repo" && node -p "require('astro/package.json').version"))"
npm run --silent build
# Every suite that builds or serves an Astro app, then the browser tests.
npx vitest run test/astro test/adapters/astro.test.ts test/security test/migration test/runtimes/workerd.test.ts \
  test/docs/getting-started.test.ts
npx vitest run --config vitest.e2e.config.ts
