#!/usr/bin/env bash
# The unit and integration suite on the lowest Node that package.json's `engines` allows (22.13.0, the first with node:sqlite unflagged),
# next to the Node 24 run of `npm test`. Node comes from the npm registry (the `node` package ships
# the binary through its per-platform packages), installed into .tmp/node22, outside the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

lowest=$(node -p "require('./package.json').engines.node.replace(/^>=\s*/, '')")
prefix=.tmp/node22
if [ "$("$prefix/node_modules/.bin/node" --version 2>/dev/null)" != "v$lowest" ]; then
  rm -rf "$prefix"
  mkdir -p "$prefix"
  echo '{"name":"sessionkit-node22","private":true}' >"$prefix/package.json"
  npm install --prefix "$prefix" --no-audit --no-fund --no-package-lock "node@$lowest" >/dev/null
fi
export PATH="$PWD/$prefix/node_modules/.bin:$PATH"
echo "node $(node --version) from $prefix"
node node_modules/vitest/vitest.mjs run "$@"
